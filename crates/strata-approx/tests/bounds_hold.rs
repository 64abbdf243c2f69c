//! The bounds against observed errors: for zoo-like models with random weights on 1000
//! sampled inputs each, the native float32 output (fast kernels and the sequential reference
//! order) never differs from the binary64 reference by more than the binary32 bound plus the
//! reference's own binary64 bound; a deliberately scaled-down local rule is caught.
//!
//! Tightness targets: ≤ 100 for the MLPs and CNNs (measured in the README); the asserted
//! limits are regression guards a little above the measured figures.
//! The tightness figures (max bound / max observed error) print with `--nocapture`; the larger
//! sweep is `cargo test --release -p strata-approx --test bounds_hold -- --ignored --nocapture`.

mod common;

use common::{check_backward, check_forward, cnn, mlp, randn, Check};
use strata_approx::Format;
use strata_ir::Op;
use strata_tensor::{DType, Rng, Tensor};

const SAMPLES: usize = 1000;

fn inputs(dims: &[usize], seed: u64) -> Tensor {
    randn(dims, 1.0, &mut Rng::new(seed))
}

fn report(name: &str, c: &Check) {
    println!(
        "{name}: {} elements, {} violations, max bound {:.3e}, max observed {:.3e}, tightness {:.1}",
        c.elements, c.violations, c.max_bound, c.max_observed, c.tightness
    );
}

fn holds(name: &str, c: &Check, max_tightness: f64) {
    report(name, c);
    assert_eq!(c.violations, 0, "{name}: the bound was exceeded");
    assert!(c.max_observed > 0.0, "{name}: no rounding error observed");
    assert!(
        c.tightness <= max_tightness,
        "{name}: tightness {}",
        c.tightness
    );
}

#[test]
fn mlp_relu_forward_bound_holds_and_is_tight() {
    let (g, p) = mlp(SAMPLES, &[16, 32, 32, 10], Op::Relu, 1);
    let c = check_forward(&g, &p, &inputs(&[SAMPLES, 16], 2), &Format::binary32());
    holds("mlp relu", &c, 150.0);
}

#[test]
fn mlp_smooth_activations_forward_bound_holds() {
    for (name, act) in [
        ("tanh", Op::Tanh),
        ("sigmoid", Op::Sigmoid),
        (
            "softplus",
            Op::Softplus {
                beta: 1.0,
                threshold: 20.0,
            },
        ),
    ] {
        let (g, p) = mlp(SAMPLES, &[12, 24, 10], act, 3);
        let c = check_forward(&g, &p, &inputs(&[SAMPLES, 12], 4), &Format::binary32());
        holds(&format!("mlp {name}"), &c, 100.0);
    }
}

#[test]
fn cnn_forward_bound_holds_and_is_tight() {
    let (g, p) = cnn(SAMPLES, 10, false, false, 5);
    let c = check_forward(
        &g,
        &p,
        &inputs(&[SAMPLES, 1, 10, 10], 6),
        &Format::binary32(),
    );
    holds("cnn", &c, 150.0);
}

#[test]
fn cnn_softmax_forward_bound_holds() {
    let (g, p) = cnn(SAMPLES, 10, true, false, 7);
    let c = check_forward(
        &g,
        &p,
        &inputs(&[SAMPLES, 1, 10, 10], 8),
        &Format::binary32(),
    );
    holds("cnn softmax", &c, 300.0);
}

#[test]
fn a_scaled_down_rule_is_caught() {
    let (g, p) = mlp(SAMPLES, &[16, 32, 32, 10], Op::Relu, 1);
    let x = inputs(&[SAMPLES, 16], 2);
    let wrong = Format::binary32().with_mutation("matmul", 0.01);
    let c = check_forward(&g, &p, &x, &wrong);
    report("mlp relu, matmul rule × 0.01", &c);
    assert!(c.violations > 0, "the mutated matmul rule went unnoticed");
}

#[test]
fn mlp_backward_bound_holds() {
    let (g, p) = mlp(SAMPLES, &[12, 24, 10], Op::Tanh, 9);
    let x = inputs(&[SAMPLES, 12], 10);
    let seed = randn(&[SAMPLES, 10], 1.0, &mut Rng::new(11));
    let c = check_backward(&g, &p, &x, &seed);
    holds("mlp tanh backward", &c, 1000.0);
}

#[test]
fn cnn_backward_bound_holds() {
    // Max pooling's VJP routes by an argmax and has no rule: average pooling here.
    let (g, p) = cnn(200, 10, false, true, 12);
    let x = inputs(&[200, 1, 10, 10], 13);
    let seed = Tensor::ones([200, 10], DType::F32).unwrap();
    let c = check_backward(&g, &p, &x, &seed);
    holds("cnn backward", &c, 300.0);
}
