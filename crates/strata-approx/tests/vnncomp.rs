//! The bounds on the VNN-COMP networks in /work/shared/data/vnncomp (skipped with a message
//! when the data is absent): ACAS Xu (5-50×6-5, ReLU) and mnist_fc 256×2, native float32
//! against the binary64 reference on sampled inputs. CI runs a few samples; the 1000-sample
//! sweep is `cargo test -p strata-approx --test vnncomp -- --ignored --nocapture`.

mod common;

use common::{check_forward, Check};
use std::path::Path;
use strata_approx::Format;
use strata_io::onnx::{import_model, read_onnx, ImportOptions};
use strata_ir::{Graph, ParamStore};
use strata_tensor::{DType, Rng, Tensor};

const DATA: &str = "../../../shared/data/vnncomp";

fn load(relative: &str) -> Option<(Graph, ParamStore)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(DATA)
        .join(relative);
    if !path.exists() {
        println!("skipped: {} is not present", path.display());
        return None;
    }
    let model = read_onnx(&path).unwrap();
    let imported = import_model(&model, relative, &ImportOptions::default()).unwrap();
    Some((imported.graph, imported.params))
}

/// Uniform samples in `[lo, hi)` of the graph's (single) input shape.
fn sample(graph: &Graph, lo: f64, hi: f64, rng: &mut Rng) -> Tensor {
    let shape = graph.inputs().next().unwrap().shape.clone();
    Tensor::rand_uniform(shape, lo, hi, DType::F32, rng).unwrap()
}

fn sweep(relative: &str, samples: usize, lo: f64, hi: f64) -> Option<Check> {
    let (graph, params) = load(relative)?;
    let mut rng = Rng::new(17);
    let checks: Vec<Check> = (0..samples)
        .map(|_| {
            let x = sample(&graph, lo, hi, &mut rng);
            check_forward(&graph, &params, &x, &Format::binary32())
        })
        .collect();
    let c = Check::merge(&checks);
    println!(
        "{relative}: {samples} inputs, {} elements, {} violations, max bound {:.3e}, max observed {:.3e}, tightness {:.1}",
        c.elements, c.violations, c.max_bound, c.max_observed, c.tightness
    );
    Some(c)
}

fn assert_holds(c: Option<Check>) {
    if let Some(c) = c {
        assert_eq!(c.violations, 0);
        assert!(c.max_observed > 0.0);
    }
}

const ACAS: &str = "acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx";
const MNIST: &str = "mnist_fc/onnx/mnist-net_256x2.onnx";

#[test]
fn acasxu_bound_holds() {
    assert_holds(sweep(ACAS, 100, -0.5, 0.5));
}

#[test]
fn mnist_fc_bound_holds() {
    assert_holds(sweep(MNIST, 10, 0.0, 1.0));
}

#[test]
#[ignore = "1000 inputs per network: a few minutes"]
fn vnncomp_sweep_1000() {
    assert_holds(sweep(ACAS, 1000, -0.5, 0.5));
    assert_holds(sweep(MNIST, 1000, 0.0, 1.0));
}
