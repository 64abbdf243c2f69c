//! Per-kernel timings of the MNIST CNN's convolution and max-pool layers (batch 64, f32), the
//! way a compiled training step calls them, for `benches/torch_compare.py` to set beside
//! PyTorch's:
//!
//!     cargo run --release -p strata-tensor --example cnn_kernels -- [--threads 1,2] [--min-time 1]
//!
//! One JSON object per line: `{"layer", "kernel", "threads", "ms"}`, the best of repeated calls
//! after a warm-up (at least 3 calls and `--min-time` seconds).

use std::time::Instant;
use strata_tensor::{Conv2dParams, DType, MaxPool2dParams, Rng, Tensor};

/// The CNN's convolutions `(name, input, weight, input needs a gradient)`: conv1 reads the
/// data, so its backward pass computes only the weight and bias gradients.
const CONVS: [(&str, [usize; 4], [usize; 4], bool); 2] = [
    ("conv1", [64, 1, 28, 28], [32, 1, 3, 3], false),
    ("conv2", [64, 32, 14, 14], [64, 32, 3, 3], true),
];
/// The CNN's 2×2 max pools: `(name, input)`.
const POOLS: [(&str, [usize; 4]); 2] = [("pool1", [64, 32, 28, 28]), ("pool2", [64, 64, 14, 14])];

fn best_ms(
    min_time: f64,
    mut f: impl FnMut() -> strata_tensor::Result<()>,
) -> strata_tensor::Result<f64> {
    f()?;
    let (start, mut best, mut runs) = (Instant::now(), f64::INFINITY, 0);
    while runs < 3 || start.elapsed().as_secs_f64() < min_time {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64());
        runs += 1;
    }
    Ok(best * 1e3)
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).map(String::as_str)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let threads: Vec<usize> = arg(&args, "--threads")
        .unwrap_or("1,2")
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let min_time: f64 = arg(&args, "--min-time").unwrap_or("1").parse()?;
    let mut rng = Rng::new(0);
    let conv = Conv2dParams {
        padding: [1, 1],
        ..Default::default()
    };
    let pool = MaxPool2dParams::new([2, 2]);
    for t in threads {
        let workers = rayon::ThreadPoolBuilder::new().num_threads(t).build()?;
        let emit = |layer: &str, kernel: &str, ms: f64| {
            println!(r#"{{"layer": "{layer}", "kernel": "{kernel}", "threads": {t}, "ms": {ms}}}"#);
        };
        for (layer, xs, ws, input_grad) in CONVS {
            let x = Tensor::randn(xs, DType::F32, &mut rng)?;
            let w = Tensor::randn(ws, DType::F32, &mut rng)?;
            let b = Tensor::randn([ws[0]], DType::F32, &mut rng)?;
            let gy = Tensor::randn(
                x.conv2d(&w, Some(&b), &conv)?.shape().clone(),
                DType::F32,
                &mut rng,
            )?;
            let forward = workers
                .install(|| best_ms(min_time, || x.conv2d(&w, Some(&b), &conv).map(drop)))?;
            emit(layer, "forward", forward);
            let backward = workers.install(|| {
                best_ms(min_time, || {
                    if input_grad {
                        x.conv2d_backward_input(&w, &gy, &conv)?;
                    }
                    x.conv2d_backward_weight(&w, &gy, &conv)?;
                    gy.sum(&[0, 2, 3], false).map(drop)
                })
            })?;
            emit(layer, "backward", backward);
        }
        for (layer, xs) in POOLS {
            let x = Tensor::randn(xs, DType::F32, &mut rng)?;
            let gy = Tensor::randn(x.max_pool2d(&pool)?.shape().clone(), DType::F32, &mut rng)?;
            let forward =
                workers.install(|| best_ms(min_time, || x.max_pool2d(&pool).map(drop)))?;
            emit(layer, "forward", forward);
            // The backward pass finds the argmax again from the input, as strata-ir's VJP does.
            let backward = workers
                .install(|| best_ms(min_time, || x.max_pool2d_input_grad(&gy, &pool).map(drop)))?;
            emit(layer, "backward", backward);
        }
    }
    Ok(())
}
