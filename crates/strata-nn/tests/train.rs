//! The training loop: eager and compiled backends agree bit for bit, a resumed run continues
//! with exactly the losses of the uninterrupted one, checkpoints reject other architectures,
//! and a short MNIST run learns (skipped, with the reason printed, when MNIST is missing).

use std::path::PathBuf;
use strata_nn::data::{Batch, DataLoader, TensorDataset};
use strata_nn::modules::{BasicBlock, Dropout, Flatten, Linear, Model, Module, Sequential};
use strata_nn::train::{
    build_trainer, evaluate, load_weights, make_optimizer, train_with_data, Backend, EvalConfig,
    TrainConfig, Trainer,
};
use strata_nn::zoo::{self, OptimizerKind};
use strata_tensor::{DType, Rng, Tensor};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-nn-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `n` random "images" `[n, 1, 28, 28]` whose label is a function of the pixels (so there is
/// something to learn).
fn synthetic(n: usize, seed: u64) -> TensorDataset {
    let mut rng = Rng::new(seed);
    let x = Tensor::randn([n, 1, 28, 28], DType::F32, &mut rng).unwrap();
    let v = x.to_vec::<f32>().unwrap();
    let y: Vec<i64> = (0..n)
        .map(|i| {
            let s: f32 = v[i * 784..i * 784 + 10].iter().sum();
            ((s.abs() * 3.0) as i64).min(9)
        })
        .collect();
    TensorDataset::new(x, Tensor::from_vec(y, [n]).unwrap()).unwrap()
}

fn bits(t: &Tensor) -> Vec<u64> {
    t.to_vec_f64().into_iter().map(f64::to_bits).collect()
}

/// Steps `model` through `steps` batches of `ds` on `backend`; returns the losses' bits and the
/// final parameters and buffers.
fn run(
    net: impl Module + 'static,
    backend: Backend,
    ds: &TensorDataset,
    batch: usize,
    steps: usize,
) -> (Vec<u64>, Vec<(String, Vec<u64>)>) {
    let model = Model::new(net, DType::F32, &mut Rng::new(11)).unwrap();
    let opt = make_optimizer(OptimizerKind::Adam, 1e-3, 0.0, 0.0).unwrap();
    let mut t = Trainer::new(model, "test", opt, "adam", backend, 5, batch);
    let loader = DataLoader::new(ds, batch).unwrap().shuffle(1);
    let mut losses = Vec::new();
    let mut epoch = 0;
    while losses.len() < steps {
        for b in loader.epoch(epoch) {
            if losses.len() == steps {
                break;
            }
            losses.push(bits(&t.train_step(&b.unwrap()).unwrap().loss)[0]);
        }
        epoch += 1;
    }
    let state = t
        .model
        .state_dict()
        .into_iter()
        .map(|(k, v)| (k, bits(&v)))
        .collect();
    (losses, state)
}

#[test]
fn eager_and_compiled_agree_bit_for_bit() {
    // The MNIST CNN, with a short last batch (20 = 8 + 8 + 4) that gets its own plan.
    let ds = synthetic(20, 1);
    let eager = run(zoo::cnn(), Backend::Eager, &ds, 8, 5);
    let compiled = run(zoo::cnn(), Backend::Compiled, &ds, 8, 5);
    assert_eq!(eager.0, compiled.0, "losses");
    assert_eq!(eager.1, compiled.1, "parameters");
    // Losses move (the model trains) and are finite.
    assert!(eager.0.iter().all(|&b| f64::from_bits(b).is_finite()));
    assert_ne!(eager.0[0], eager.0[4]);

    // Batch norm in training mode (running statistics from plan outputs) and dropout (masks
    // fed as plan inputs).
    let net = || {
        Sequential::new()
            .append(BasicBlock::new(1, 4, 2))
            .append(Dropout::new(0.3))
            .append(Flatten::new())
            .append(Linear::new(4 * 14 * 14, 10))
    };
    let eager = run(net(), Backend::Eager, &ds, 8, 4);
    let compiled = run(net(), Backend::Compiled, &ds, 8, 4);
    assert_eq!(eager.0, compiled.0, "losses with batch norm and dropout");
    assert_eq!(eager.1, compiled.1, "parameters and running statistics");
    let nbt = eager
        .1
        .iter()
        .find(|(k, _)| k == "0.bn1.num_batches_tracked")
        .unwrap();
    assert_eq!(f64::from_bits(nbt.1[0]), 4.0);
}

fn config(backend: Backend) -> TrainConfig {
    TrainConfig {
        backend,
        batch_size: Some(8),
        eval_batch_size: 16,
        log_every: 1,
        ..TrainConfig::new("mlp")
    }
}

#[test]
fn resume_continues_with_the_same_losses_bit_for_bit() {
    let (train, test) = (synthetic(44, 2), synthetic(16, 3)); // 6 batches per epoch, last of 4
    for backend in [Backend::Eager, Backend::Compiled] {
        let ckpt = tmp(&format!("resume-{}.safetensors", backend.name()));
        let log = tmp(&format!("resume-{}.jsonl", backend.name()));
        let full = train_with_data(
            &TrainConfig {
                steps: Some(15),
                seed: Some(9),
                ..config(backend)
            },
            &train,
            &test,
        )
        .unwrap();
        assert_eq!(full.losses.len(), 15);
        // Stop mid-epoch (step 8 = epoch 1, batch 2), then resume on one thread.
        let first = train_with_data(
            &TrainConfig {
                steps: Some(15),
                stop_at: Some(8),
                seed: Some(9),
                checkpoint: Some(ckpt.clone()),
                log: Some(log.clone()),
                ..config(backend)
            },
            &train,
            &test,
        )
        .unwrap();
        assert_eq!(first.losses, full.losses[..8]);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let rest = pool
            .install(|| {
                train_with_data(
                    &TrainConfig {
                        steps: Some(15),
                        resume: Some(ckpt.clone()),
                        log: Some(log.clone()),
                        ..config(backend)
                    },
                    &train,
                    &test,
                )
            })
            .unwrap();
        assert_eq!(rest.steps, 15);
        assert_eq!(rest.steps_this_run, 7);
        let want: Vec<u64> = full.losses[8..].iter().map(|l| l.to_bits()).collect();
        let got: Vec<u64> = rest.losses.iter().map(|l| l.to_bits()).collect();
        assert_eq!(got, want, "{backend:?}");
        assert_eq!(rest.test_loss.to_bits(), full.test_loss.to_bits());
        // The log holds both runs, one JSON object per line.
        let text = std::fs::read_to_string(&log).unwrap();
        let events: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let starts = events.iter().filter(|e| e["event"] == "start").count();
        assert_eq!(starts, 2);
        let steps: Vec<u64> = events
            .iter()
            .filter(|e| e["event"] == "step")
            .map(|e| e["step"].as_u64().unwrap())
            .collect();
        assert_eq!(steps, (1..=15).collect::<Vec<_>>());
        assert_eq!(events.last().unwrap()["event"], "end");
    }
}

#[test]
fn checkpoints_for_another_model_or_seed_are_rejected() {
    let (train, test) = (synthetic(16, 4), synthetic(8, 5));
    let ckpt = tmp("mlp.safetensors");
    train_with_data(
        &TrainConfig {
            steps: Some(2),
            checkpoint: Some(ckpt.clone()),
            ..config(Backend::Eager)
        },
        &train,
        &test,
    )
    .unwrap();
    let e = build_trainer(&TrainConfig {
        resume: Some(ckpt.clone()),
        ..TrainConfig::new("cnn")
    })
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("mlp.safetensors") && e.contains("`mlp`") && e.contains("`cnn`"),
        "{e}"
    );
    let e = build_trainer(&TrainConfig {
        resume: Some(ckpt.clone()),
        seed: Some(1),
        ..config(Backend::Eager)
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("seed 0") && e.contains("seed 1"), "{e}");
    let e = build_trainer(&TrainConfig {
        resume: Some(ckpt.clone()),
        batch_size: Some(4),
        ..config(Backend::Eager)
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("batch size 8") && e.contains("4"), "{e}");
    let e = build_trainer(&TrainConfig {
        resume: Some(ckpt.clone()),
        dtype: DType::F64,
        ..config(Backend::Eager)
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("f32") && e.contains("f64"), "{e}");
    let e = train_with_data(
        &TrainConfig {
            resume: Some(ckpt.clone()),
            steps: Some(5),
            ..config(Backend::Eager)
        },
        &train,
        &test,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("`cosine:2`") && e.contains("`cosine:5`"), "{e}");
    // A truncated file.
    let bytes = std::fs::read(&ckpt).unwrap();
    let cut = tmp("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = build_trainer(&TrainConfig {
        resume: Some(cut),
        ..config(Backend::Eager)
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("cut.safetensors"), "{e}");
    // A weights file for the MLP loaded as the CNN.
    let e = load_weights("cnn", &ckpt).unwrap_err().to_string();
    assert!(e.contains("`mlp`"), "{e}");
    // A bad label is an error naming the loss, not a panic.
    let bad = TensorDataset::new(
        Tensor::zeros([2, 1, 28, 28], DType::F32).unwrap(),
        Tensor::from_vec(vec![0i64, 12], [2]).unwrap(),
    )
    .unwrap();
    let mut t = build_trainer(&config(Backend::Eager)).unwrap();
    let b = Batch {
        inputs: bad.inputs().clone(),
        targets: bad.targets().clone(),
    };
    let before = t.model.params.clone();
    let e = t.train_step(&b).unwrap_err().to_string();
    assert!(
        e.contains("label 12 at position 1") && e.contains("0..10"),
        "{e}"
    );
    assert_eq!(t.step, 0);
    for (k, v) in before {
        assert_eq!(bits(&v), bits(&t.model.params[&k]), "{k} changed");
    }
}

/// The MNIST directory: `$STRATA_DATA`, else the shared data next to the workspace.
fn mnist_root() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("STRATA_DATA").map(PathBuf::from),
        Some(PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data"
        ))),
    ];
    candidates.into_iter().flatten().find(|d| {
        d.join("mnist/train-images-idx3-ubyte.gz").is_file()
            || d.join("mnist/train-images-idx3-ubyte").is_file()
    })
}

#[test]
fn short_mnist_run_learns() {
    let Some(root) = mnist_root() else {
        println!("skipped: MNIST not found (set STRATA_DATA to a directory holding mnist/)");
        return;
    };
    let export = tmp("mnist-mlp.safetensors");
    let report = strata_nn::train::train(&TrainConfig {
        data: Some(root.clone()),
        steps: Some(200),
        train_limit: Some(12_800),
        test_limit: Some(2_000),
        export: Some(export.clone()),
        ..TrainConfig::new("mlp")
    })
    .unwrap();
    println!(
        "mlp, 200 steps on 12,800 images: test accuracy {:.2}% on 2,000, {:.0} samples/s",
        100.0 * report.test_accuracy,
        report.samples_per_s
    );
    assert_eq!(report.steps, 200);
    assert!(report.test_accuracy > 0.85, "{}", report.test_accuracy);
    assert!(report.test_loss < 0.6, "{}", report.test_loss);
    // The exported weights evaluate to the same numbers.
    let eval = evaluate(&EvalConfig {
        model: "mlp".into(),
        weights: export,
        data: Some(root),
        batch_size: 500,
        test_limit: Some(2_000),
    })
    .unwrap();
    assert_eq!(eval.test_accuracy, report.test_accuracy);
    assert!((eval.test_loss - report.test_loss).abs() < 1e-12);
}

#[test]
fn missing_data_is_a_clear_error() {
    let e = strata_nn::train::train(&TrainConfig {
        data: Some(PathBuf::from("/nonexistent-strata-data")),
        ..TrainConfig::new("mlp")
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("/nonexistent-strata-data"), "{e}");
    let e = strata_nn::train::train(&TrainConfig::new("resnet9000"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("resnet9000") && e.contains("mlp"), "{e}");
}
