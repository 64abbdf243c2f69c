//! The model zoo against its PyTorch twins (`scripts/torch_zoo.py --state-dicts` wrote
//! `tests/fixtures/zoo_state_dicts.json`), and short runs of the new models on tiny data.

use serde_json::Value;
use strata_autograd::Tape;
use strata_nn::data::Batch;
use strata_nn::modules::{specs, Kind, Model};
use strata_nn::train::{make_optimizer, Backend, Trainer};
use strata_nn::zoo::{self, OptimizerKind};
use strata_tensor::{DType, Rng, Tensor};

#[test]
fn state_dict_names_and_shapes_match_pytorch() {
    let path = format!(
        "{}/tests/fixtures/zoo_state_dicts.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let torch: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let torch = torch.as_object().unwrap();
    let entries = zoo::entries();
    assert_eq!(entries.len(), torch.len());
    for entry in entries {
        let want = torch[entry.name].as_object().unwrap();
        let got = specs(&*entry.build(), DType::F32).unwrap();
        let got_names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        let mut want_names: Vec<&str> = want.keys().map(String::as_str).collect();
        want_names.sort();
        assert_eq!(got_names, want_names, "{}", entry.name);
        for s in &got {
            let shape: Vec<usize> = want[&s.name]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(
                s.shape.dims(),
                shape.as_slice(),
                "{} {}",
                entry.name,
                s.name
            );
            if s.name.ends_with("num_batches_tracked") {
                assert_eq!((s.kind, s.dtype), (Kind::Buffer, DType::I64));
            }
        }
    }
}

/// A batch of `b` windows of `t` character ids cycling through a short pattern.
fn text_batch(b: usize, t: usize) -> Batch {
    let ids = |shift: usize| -> Tensor {
        let v: Vec<i64> = (0..b * t)
            .map(|i| ((i % t + i / t + shift) % 7) as i64)
            .collect();
        Tensor::from_vec(v, [b, t]).unwrap()
    };
    Batch {
        inputs: ids(0),
        targets: ids(1),
    }
}

/// A few Adam steps on one repeated batch: the eager and compiled backends agree bit for bit
/// and the loss falls.
fn fit(name: &str, batch: &Batch, steps: usize) -> Vec<f64> {
    let entry = zoo::lookup(name).unwrap();
    let mut losses = Vec::new();
    for backend in [Backend::Eager, Backend::Compiled] {
        let model = Model::from_boxed(entry.build(), DType::F32, &mut Rng::new(1)).unwrap();
        let opt = make_optimizer(OptimizerKind::Adam, 3e-3, 0.0, 0.0).unwrap();
        let mut trainer = Trainer::new(model, name, opt, "adam", backend, 0, 4);
        let run: Vec<f64> = (0..steps)
            .map(|_| trainer.train_step(batch).unwrap().loss_f64())
            .collect();
        losses.push(run);
    }
    assert_eq!(losses[0], losses[1], "{name}: eager and compiled differ");
    let run = losses.swap_remove(0);
    assert!(run[steps - 1] < run[0] * 0.9, "{name}: {run:?}");
    run
}

#[test]
fn language_models_train_on_tiny_text() {
    let batch = text_batch(4, 16);
    let gpt = fit("chargpt", &batch, 6);
    // An untrained model's loss is near ln 65.
    assert!((gpt[0] - 65f64.ln()).abs() < 1.5, "{gpt:?}");
    fit("lstm", &batch, 6);
    // Longer than the context: a clear error.
    let entry = zoo::lookup("chargpt").unwrap();
    let model = Model::from_boxed(entry.build(), DType::F32, &mut Rng::new(0)).unwrap();
    let tape = Tape::new();
    let x = tape.input(Tensor::zeros([1, 65], DType::I64).unwrap(), false);
    let e = model.forward_eval(&tape, &x).unwrap_err().to_string();
    assert!(e.contains("chargpt") && e.contains("T ≤ 64"), "{e}");
}

#[test]
fn resnet_trains_on_tiny_images() {
    let mut rng = Rng::new(5);
    let inputs = Tensor::randn([4, 1, 28, 28], DType::F32, &mut rng).unwrap();
    let targets = Tensor::from_vec(vec![0i64, 3, 7, 9], [4]).unwrap();
    fit("resnet", &Batch { inputs, targets }, 4);
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("strata-nn-zoo-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// An uncompressed IDX file of u8 values: `dims` in the header, `data` after it.
fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

#[test]
fn bad_inputs_are_clear_errors_naming_the_file() {
    use strata_nn::train::{load_weights, predict_cli, train, PredictArgs, TrainConfig};
    let root = temp_dir("bad");
    // A truncated Fashion-MNIST image file: the header promises 4 images, 2 are there.
    let fm = root.join("fashion-mnist");
    std::fs::create_dir_all(&fm).unwrap();
    for split in ["train", "t10k"] {
        let images = idx_bytes(&[4, 28, 28], &[0u8; 2 * 784]);
        std::fs::write(fm.join(format!("{split}-images-idx3-ubyte")), images).unwrap();
        let labels = idx_bytes(&[4], &[0, 1, 2, 3]);
        std::fs::write(fm.join(format!("{split}-labels-idx1-ubyte")), labels).unwrap();
    }
    let e = train(&TrainConfig {
        data: Some(root.clone()),
        ..TrainConfig::new("resnet")
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("train-images-idx3-ubyte"), "{e}");
    // Text outside the models' vocabulary, and too little text.
    let ts = root.join("tinyshakespeare");
    std::fs::create_dir_all(&ts).unwrap();
    std::fs::write(ts.join("input.txt"), "To be, or not to bé").unwrap();
    let e = train(&TrainConfig {
        data: Some(root.clone()),
        ..TrainConfig::new("chargpt")
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("input.txt") && e.contains("'é'"), "{e}");
    std::fs::write(ts.join("input.txt"), "To be, or not to be").unwrap();
    let e = train(&TrainConfig {
        data: Some(root.clone()),
        ..TrainConfig::new("lstm")
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("block size 64"), "{e}");
    // A bare state dict (no Strata metadata, as PyTorch saves it) for another architecture.
    let gpt = Model::from_boxed(
        zoo::lookup("chargpt").unwrap().build(),
        DType::F32,
        &mut Rng::new(0),
    )
    .unwrap();
    let weights = root.join("gpt.safetensors");
    strata_io::write_safetensors(&weights, &gpt.state_dict(), &Default::default()).unwrap();
    let e = load_weights("lstm", &weights).unwrap_err().to_string();
    assert!(
        e.contains("gpt.safetensors") && e.contains("`lstm`") && e.contains("missing"),
        "{e}"
    );
    // predict: a wrong image size, a character outside the vocabulary.
    let predict = |model: &str, image: Option<std::path::PathBuf>, prompt: Option<&str>| {
        predict_cli(&PredictArgs {
            checkpoint: weights.clone(),
            model: model.into(),
            input: None,
            image,
            prompt: prompt.map(String::from),
            max_new_chars: 5,
            temperature: 1.0,
            top_k: None,
            seed: 0,
            top: 3,
            threads: Some(1),
            json: true,
        })
        .unwrap_err()
        .to_string()
    };
    let e = predict("chargpt", None, Some("naïve"));
    assert!(e.contains("'ï'"), "{e}");
    let e = predict("chargpt", None, None);
    assert!(e.contains("--prompt"), "{e}");
    let res = Model::from_boxed(
        zoo::lookup("resnet").unwrap().build(),
        DType::F32,
        &mut Rng::new(0),
    )
    .unwrap();
    let res_weights = root.join("res.safetensors");
    strata_io::write_safetensors(&res_weights, &res.state_dict(), &Default::default()).unwrap();
    let png = strata_nn::png::encode_rgb(20, 20, &[128; 20 * 20 * 3]).unwrap();
    let img = root.join("small.png");
    std::fs::write(&img, png).unwrap();
    let e = predict_cli(&PredictArgs {
        checkpoint: res_weights,
        model: "resnet".into(),
        input: None,
        image: Some(img),
        prompt: None,
        max_new_chars: 0,
        temperature: 1.0,
        top_k: None,
        seed: 0,
        top: 3,
        threads: Some(1),
        json: true,
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("small.png") && e.contains("[20, 20]"), "{e}");
    let _ = std::fs::remove_dir_all(&root);
}
