//! `strata bench`: throughput of the tensor kernels, as one JSON object per result with
//! `--json` (name, params, value, unit) so that scripts such as `benches/torch_compare.py`
//! can put Strata and PyTorch side by side in one run.

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::time::Instant;
use strata_tensor::kernels::conv::conv2d_flops;
use strata_tensor::kernels::peak::single_core_fma_peak_gflops;
use strata_tensor::{Conv2dParams, DType, Rng, Tensor};

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: BenchKind,
    /// Print one JSON object per result instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Thread counts to run with (comma-separated).
    #[arg(long, global = true, value_delimiter = ',', default_values_t = [1usize, 2])]
    threads: Vec<usize>,
    /// Minimum measuring time per case, in seconds.
    #[arg(long, global = true, default_value_t = 1.0)]
    min_time: f64,
}

#[derive(Subcommand)]
enum BenchKind {
    /// f32 matrix product n×n×n: GFLOP/s and fraction of the measured FMA peak.
    Gemm {
        /// Matrix sizes (comma-separated).
        #[arg(long, value_delimiter = ',', default_values_t = [256usize, 1024, 2048])]
        n: Vec<usize>,
    },
    /// conv2d forward + backward (input, weight and bias gradients) for the MNIST CNN layers.
    Conv,
    /// The measured single-core f32 FMA peak.
    Peak,
    /// Autograd: eager per-op overhead on tiny tensors, and one MLP training step
    /// (784-256-128-10, batch 64, forward + backward) eager vs compiled.
    Autograd,
    /// Everything above.
    Tensor,
    /// Training steps/s of the MNIST MLP (zoo `mlp`, Adam, batch 64, compiled backend).
    TrainMlp,
    /// Training steps/s of the MNIST CNN (zoo `cnn`, Adam, batch 64, compiled backend).
    TrainCnn,
    /// Training steps/s and tokens/s of the character GPT (zoo `chargpt`, AdamW, batch 64 ×
    /// 64 characters, compiled backend).
    TrainChargpt,
}

/// One measured figure.
pub struct Record {
    name: String,
    params: Value,
    value: f64,
    unit: &'static str,
}

impl Record {
    fn print(&self, as_json: bool) {
        if as_json {
            let obj = json!({"name": self.name, "parameters": self.params, "value": self.value, "unit": self.unit});
            outln!("{obj}");
        } else {
            outln!(
                "{:<14} {:<60} {:>12.3} {}",
                self.name,
                self.params.to_string(),
                self.value,
                self.unit
            );
        }
    }
}

/// Best time of repeated runs of `f` (after one warm-up run), measuring for at least
/// `min_time` seconds and 3 runs. The minimum is the figure least disturbed by other load.
pub fn best_time(min_time: f64, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut best = f64::INFINITY;
    let mut runs = 0;
    while runs < 3 || start.elapsed().as_secs_f64() < min_time {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64());
        runs += 1;
    }
    best
}

fn pool(threads: usize) -> Result<rayon::ThreadPool, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| e.to_string())
}

fn peak_record() -> Option<(f64, Record)> {
    let (peak, isa) = single_core_fma_peak_gflops()?;
    let rec = Record {
        name: "fma_peak".into(),
        params: json!({"threads": 1, "isa": isa}),
        value: peak,
        unit: "GFLOP/s",
    };
    Some((peak, rec))
}

fn gemm_records(
    sizes: &[usize],
    threads: &[usize],
    min_time: f64,
    peak: Option<f64>,
) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    let mut rng = Rng::new(0);
    for &n in sizes {
        let a = Tensor::randn([n, n], DType::F32, &mut rng).map_err(|e| e.to_string())?;
        let b = Tensor::randn([n, n], DType::F32, &mut rng).map_err(|e| e.to_string())?;
        for &t in threads {
            let secs = pool(t)?.install(|| best_time(min_time, || drop(a.matmul(&b))));
            let gflops = 2.0 * (n as f64).powi(3) / secs / 1e9;
            let mut params = json!({"n": n, "threads": t});
            if let Some(p) = peak {
                params["fraction_of_peak"] = json!(gflops / (p * t as f64));
            }
            out.push(Record {
                name: "gemm_f32".into(),
                params,
                value: gflops,
                unit: "GFLOP/s",
            });
        }
    }
    Ok(out)
}

/// The conv layers of the MNIST CNN of the training issue, at batch 64:
/// (name, input [N, C, H, W], weight [O, C, kh, kw]), all 3×3 with padding 1.
pub const CNN_LAYERS: [(&str, [usize; 4], [usize; 4]); 2] = [
    ("conv1", [64, 1, 28, 28], [32, 1, 3, 3]),
    ("conv2", [64, 32, 14, 14], [64, 32, 3, 3]),
];

fn conv_records(threads: &[usize], min_time: f64) -> Result<Vec<Record>, String> {
    let e = |e: strata_tensor::TensorError| e.to_string();
    let params = Conv2dParams {
        padding: [1, 1],
        ..Default::default()
    };
    let mut rng = Rng::new(1);
    let mut out = Vec::new();
    for (layer, xs, ws) in CNN_LAYERS {
        let x = Tensor::randn(xs, DType::F32, &mut rng).map_err(e)?;
        let w = Tensor::randn(ws, DType::F32, &mut rng).map_err(e)?;
        let b = Tensor::randn([ws[0]], DType::F32, &mut rng).map_err(e)?;
        let y = x.conv2d(&w, Some(&b), &params).map_err(e)?;
        let gy = Tensor::randn(y.shape().clone(), DType::F32, &mut rng).map_err(e)?;
        // Forward, input gradient and weight gradient each cost one forward's flops.
        let flops = 3.0 * conv2d_flops(xs, ws, &params).map_err(e)?;
        for &t in threads {
            let secs = pool(t)?.install(|| {
                best_time(min_time, || {
                    drop(x.conv2d(&w, Some(&b), &params));
                    drop(x.conv2d_backward(&w, &gy, &params));
                })
            });
            let p = json!({"layer": layer, "input": xs, "weight": ws, "padding": 1, "threads": t});
            out.push(Record {
                name: "conv2d_fwd_bwd_f32".into(),
                params: p.clone(),
                value: secs * 1e3,
                unit: "ms",
            });
            out.push(Record {
                name: "conv2d_fwd_bwd_f32_gflops".into(),
                params: p,
                value: flops / secs / 1e9,
                unit: "GFLOP/s",
            });
        }
    }
    Ok(out)
}

pub fn run(args: &BenchArgs) -> Result<(), String> {
    let emit = |recs: Vec<Record>| recs.iter().for_each(|r| r.print(args.json));
    let peak = || {
        let p = peak_record();
        let value = p.as_ref().map(|(v, _)| *v);
        if let Some((_, r)) = p {
            r.print(args.json);
        }
        value
    };
    match &args.what {
        BenchKind::Peak => {
            peak();
        }
        BenchKind::Gemm { n } => {
            let p = peak();
            emit(gemm_records(n, &args.threads, args.min_time, p)?);
        }
        BenchKind::Conv => emit(conv_records(&args.threads, args.min_time)?),
        BenchKind::Autograd => emit(autograd_records(&args.threads, args.min_time)?),
        BenchKind::TrainMlp => emit(train_records("mlp", &args.threads, args.min_time)?),
        BenchKind::TrainCnn => emit(train_records("cnn", &args.threads, args.min_time)?),
        BenchKind::TrainChargpt => emit(train_records("chargpt", &args.threads, args.min_time)?),
        BenchKind::Tensor => {
            let p = peak();
            emit(gemm_records(
                &[256, 1024, 2048],
                &args.threads,
                args.min_time,
                p,
            )?);
            emit(conv_records(&args.threads, args.min_time)?);
        }
    }
    Ok(())
}

/// The MLP of the training issue: 784-256-128-10 with ReLU, batch 64, cross-entropy.
pub const MLP_SIZES: [usize; 4] = [784, 256, 128, 10];
pub const MLP_BATCH: usize = 64;

fn mlp_loss(
    tape: &strata_autograd::Tape,
    params: &[(String, Tensor)],
    x: &Tensor,
    labels: &Tensor,
) -> Result<strata_autograd::Var, strata_autograd::AutogradError> {
    let mut h = tape.input(x.clone(), false);
    for (layer, pair) in params.chunks(2).enumerate() {
        let w = tape.parameter(pair[0].0.clone(), pair[0].1.clone());
        let b = tape.parameter(pair[1].0.clone(), pair[1].1.clone());
        h = h.linear(&w, Some(&b))?;
        if layer + 1 < params.len() / 2 {
            h = h.relu()?;
        }
    }
    let y = tape.input(labels.clone(), false);
    h.cross_entropy(&y, strata_ir::Reduction::Mean)
}

fn autograd_records(threads: &[usize], min_time: f64) -> Result<Vec<Record>, String> {
    use strata_autograd::{Plan, Tape, Wrt};
    let err = |e: strata_autograd::AutogradError| e.to_string();
    let mut out = Vec::new();
    // Per-op overhead: a chain of adds on a one-element tensor that requires a gradient.
    const OPS: usize = 1000;
    let one = Tensor::from_vec(vec![1.0f32], [1]).map_err(|e| e.to_string())?;
    let mut failure = None;
    let per_op = best_time(min_time, || {
        let tape = Tape::new();
        let mut y = tape.input(one.clone(), true);
        let c = tape.constant(one.clone());
        for _ in 0..OPS {
            match y.add(&c) {
                Ok(v) => y = v,
                Err(e) => failure = Some(e),
            }
        }
    }) / OPS as f64;
    if let Some(e) = failure {
        return Err(err(e));
    }
    out.push(Record {
        name: "eager_op_overhead".into(),
        params: json!({"op": "add", "numel": 1, "threads": 1}),
        value: per_op * 1e9,
        unit: "ns/op",
    });
    let mut rng = Rng::new(0);
    let mut params = Vec::new();
    for (k, w) in MLP_SIZES.windows(2).enumerate() {
        let shape = strata_tensor::Shape::from([w[1], w[0]]);
        let weight = strata_tensor::init::torch_default_weight(&shape, DType::F32, &mut rng)
            .map_err(|e| e.to_string())?;
        let bias = strata_tensor::init::torch_default_bias(&shape, DType::F32, &mut rng)
            .map_err(|e| e.to_string())?;
        params.push((format!("{}.weight", 2 * k), weight));
        params.push((format!("{}.bias", 2 * k), bias));
    }
    let x = Tensor::randn([MLP_BATCH, MLP_SIZES[0]], DType::F32, &mut rng)
        .map_err(|e| e.to_string())?;
    let labels: Vec<i64> = (0..MLP_BATCH as i64).map(|i| i % 10).collect();
    let labels = Tensor::from_vec(labels, [MLP_BATCH]).map_err(|e| e.to_string())?;
    let tracer = Tape::tracing();
    let loss = mlp_loss(&tracer, &params, &x, &labels).map_err(err)?;
    let (graph, store) = tracer.trace(&[&loss]).map_err(err)?;
    let plan =
        Plan::compile(&graph, Wrt::Params, strata_ir::eval::ExecConfig::default()).map_err(err)?;
    let seed = Tensor::ones([], DType::F32).map_err(|e| e.to_string())?;
    for &t in threads {
        let pool = pool(t)?;
        let (eager, compiled) = pool.install(|| -> Result<(f64, f64), String> {
            let mut failure = None;
            let eager = best_time(min_time, || {
                let tape = Tape::new();
                let result = mlp_loss(&tape, &params, &x, &labels).and_then(|l| tape.backward(&l));
                if let Err(e) = result {
                    failure = Some(e.to_string());
                }
            });
            let compiled = best_time(min_time, || {
                if let Err(e) = plan.run(
                    &store,
                    &[x.clone(), labels.clone()],
                    std::slice::from_ref(&seed),
                ) {
                    failure = Some(e.to_string());
                }
            });
            match failure {
                Some(e) => Err(e),
                None => Ok((eager, compiled)),
            }
        })?;
        for (mode, secs) in [("eager", eager), ("compiled", compiled)] {
            out.push(Record {
                name: "mlp_step".into(),
                params: json!({"mode": mode, "sizes": MLP_SIZES, "batch": MLP_BATCH, "threads": t}),
                value: secs * 1e3,
                unit: "ms",
            });
        }
    }
    Ok(out)
}

/// The batch size of the training benchmarks.
pub const TRAIN_BATCH: usize = 64;

/// Training throughput of zoo model `name` on a fixed random batch of [`TRAIN_BATCH`]
/// examples: whole optimizer steps (forward, backward, optimizer update) of the compiled
/// backend, best of repeated steps after the first (which traces and compiles).
fn train_records(name: &str, threads: &[usize], min_time: f64) -> Result<Vec<Record>, String> {
    use strata_nn::data::Batch;
    use strata_nn::modules::Model;
    use strata_nn::train::{make_optimizer, Backend, Trainer};
    use strata_nn::zoo::{self, Task};
    let err = |e: strata_nn::NnError| e.to_string();
    let entry = zoo::lookup(name).map_err(err)?;
    let mut rng = Rng::new(0);
    let mut shape = vec![TRAIN_BATCH];
    shape.extend_from_slice(entry.input_shape);
    let classes = entry.num_classes as u64;
    let (batch, tokens_per_step) = match entry.task {
        Task::Image => {
            let inputs = Tensor::randn(shape, DType::F32, &mut rng).map_err(|e| e.to_string())?;
            let labels: Vec<i64> = (0..TRAIN_BATCH as u64)
                .map(|i| (i % classes) as i64)
                .collect();
            let targets = Tensor::from_vec(labels, [TRAIN_BATCH]).map_err(|e| e.to_string())?;
            (Batch { inputs, targets }, None)
        }
        Task::Text { block_size } => {
            let n = TRAIN_BATCH * block_size;
            let classes = std::num::NonZeroU64::new(classes).ok_or("empty vocabulary")?;
            let ids: Vec<i64> = (0..n + 1).map(|_| rng.below(classes) as i64).collect();
            let window =
                |s: usize| Tensor::from_vec(ids[s..s + n].to_vec(), [TRAIN_BATCH, block_size]);
            let inputs = window(0).map_err(|e| e.to_string())?;
            let targets = window(1).map_err(|e| e.to_string())?;
            (Batch { inputs, targets }, Some(n))
        }
    };
    let mut out = Vec::new();
    for &t in threads {
        let secs = pool(t)?.install(|| -> Result<f64, String> {
            let model =
                Model::from_boxed(entry.build(), DType::F32, &mut Rng::new(1)).map_err(err)?;
            let weight_decay = if entry.optimizer == zoo::OptimizerKind::Adamw {
                1e-2
            } else {
                0.0
            };
            let opt = make_optimizer(entry.optimizer, entry.lr, 0.0, weight_decay).map_err(err)?;
            let mut trainer = Trainer::new(
                model,
                name,
                opt,
                entry.optimizer.name(),
                Backend::Compiled,
                0,
                TRAIN_BATCH,
            );
            let mut failure = None;
            let secs = best_time(min_time, || {
                if let Err(e) = trainer.train_step(&batch) {
                    failure = Some(e.to_string());
                }
            });
            failure.map_or(Ok(secs), Err)
        })?;
        let params =
            json!({"model": name, "batch": TRAIN_BATCH, "backend": "compiled", "threads": t});
        out.push(Record {
            name: format!("train_{name}"),
            params: params.clone(),
            value: 1.0 / secs,
            unit: "steps/s",
        });
        if let Some(tokens) = tokens_per_step {
            out.push(Record {
                name: format!("train_{name}"),
                params,
                value: tokens as f64 / secs,
                unit: "tokens/s",
            });
        }
    }
    Ok(out)
}
