//! The API around the bounds: tolerances and L∞ norms, box regions (every sampled point's
//! native output lies in the exact enclosure widened by the bound), composite ops through
//! their decompositions (layer norm, attention), margin transfer, and an SGD step.

mod common;

use common::{check_forward, randn};
use strata_approx::{
    approx_with, float32_margin, forward_bounds, linf_distance, linf_norm, sgd_step_bound,
    spec_budget, Analysis, ApproxTol, Format, MarginTransfer, Region,
};
use strata_ir::eval::{self, ExecConfig};
use strata_ir::{AttentionMask, GraphBuilder, Op, ParamStore};
use strata_tensor::{DType, Rng, Tensor};

fn t(v: &[f64]) -> Tensor {
    Tensor::from_vec(v.to_vec(), [v.len()]).unwrap()
}

#[test]
fn tolerance_relation_and_norms() {
    let spec = t(&[1.0, -2.0, 100.0]);
    // Differences that are powers of two, so that they are exact in f64.
    let (small, large) = (2f64.powi(-20), 2f64.powi(-13));
    let run = t(&[1.0 + small, -2.0, 100.0 + large]);
    assert_eq!(linf_norm(&spec), 100.0);
    assert_eq!(linf_distance(&run, &spec).unwrap(), large);
    // Absolute 1e-5 fails on the large element; relative 2e-6 covers both.
    assert!(!ApproxTol::abs_only(1e-5).approximates(&run, &spec).unwrap());
    let rel = ApproxTol {
        absolute: 0.0,
        relative: 2e-6,
        slack: 1e-6,
    };
    assert!(rel.approximates(&run, &spec).unwrap());
    assert!(ApproxTol::from_eps_scale(2e-6, 100.0)
        .approximates(&run, &spec)
        .unwrap());
    assert!(approx_with(&run, &spec, &t(&[small, 0.0, large])).unwrap());
    assert!(!approx_with(&run, &spec, &t(&[small / 2.0, 0.0, large])).unwrap());
    assert!(ApproxTol::abs_only(1.0)
        .approximates(&run, &t(&[1.0]))
        .is_err());
}

/// A box around a point: the native outputs at sampled points lie in the enclosure ± bound.
#[test]
fn box_bounds_enclose_sampled_native_outputs() {
    let (g, p) = common::mlp(1, &[6, 16, 4], Op::Relu, 21);
    let mut rng = Rng::new(22);
    let center = randn(&[1, 6], 1.0, &mut rng);
    let lo = center.affine(1.0, -0.05).unwrap();
    let hi = center.affine(1.0, 0.05).unwrap();
    let region = Region::Box {
        lo: vec![lo.clone()],
        hi: vec![hi.clone()],
    };
    let b = forward_bounds(&g, &p, &region, &Analysis::default()).unwrap();
    let out = b.output(0).unwrap().elements().unwrap();
    for _ in 0..500 {
        let u = Tensor::rand_uniform([1, 6], 0.0, 1.0, DType::F64, &mut rng).unwrap();
        let x: Vec<f32> = (lo
            .to_vec_f64()
            .iter()
            .zip(hi.to_vec_f64())
            .zip(u.to_vec_f64()))
        .map(|((l, h), u)| (l + (h - l) * u) as f32)
        .collect();
        let x = Tensor::from_vec(x, [1, 6]).unwrap();
        for config in [ExecConfig::default(), ExecConfig::sequential()] {
            let y = eval::run(&g, &p, std::slice::from_ref(&x), &config).unwrap()[0].to_vec_f64();
            for (v, a) in y.iter().zip(&out) {
                assert!(a.native().contains(*v), "{v} outside {:?}", a);
            }
        }
    }
}

#[test]
fn layer_norm_and_attention_bounds_hold() {
    let mut rng = Rng::new(31);
    let (n, l, e) = (200, 4, 16);
    let mut b = GraphBuilder::new();
    let x = b
        .push(
            Op::Input {
                shape: [n, l, e].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let mut params = ParamStore::new();
    let w = common::param(&mut b, &mut params, "ln.weight", randn(&[e], 1.0, &mut rng));
    let bias = common::param(&mut b, &mut params, "ln.bias", randn(&[e], 1.0, &mut rng));
    // eps = 2^-16 and the default scale 1/√16 are exact in binary32 and binary64 alike, so the
    // binary64 reference computes the same real function.
    let ln = b
        .push(
            Op::LayerNorm {
                normalized_shape: vec![e],
                eps: 2f64.powi(-16),
                affine: true,
            },
            &[x, w, bias],
        )
        .unwrap();
    let att = b
        .push(
            Op::ScaledDotProductAttention {
                mask: AttentionMask::Causal,
                scale: None,
            },
            &[ln, ln, ln],
        )
        .unwrap();
    let g = b.finish(&[att]).unwrap();
    let c = check_forward(
        &g,
        &params,
        &randn(&[n, l, e], 2.0, &mut rng),
        &Format::binary32(),
    );
    println!("layer norm + causal attention: {c:?}");
    assert_eq!(c.violations, 0);
    assert!(c.max_observed > 0.0 && c.tightness < 1000.0);
}

#[test]
fn margin_transfer_compares_margin_with_budget() {
    assert!(MarginTransfer {
        margin: 0.05,
        budget: 0.02
    }
    .holds());
    assert!(!MarginTransfer {
        margin: 0.01,
        budget: 0.02
    }
    .holds());
    // TorchLean's worked example: two logit errors of 0.01 against a margin of 0.05.
    let budget = spec_budget(&[0.01, 0.01, 0.0], Some(&[1.0, -1.0, 0.0])).unwrap();
    assert!((budget - 0.02).abs() < 1e-12);
    assert!(spec_budget(&[0.01], Some(&[1.0, 2.0])).is_err());
    let any_pair = spec_budget(&[0.01, 0.03], None).unwrap();
    assert!((0.06..0.06 + 1e-12).contains(&any_pair));

    let (g, p) = common::mlp(1, &[5, 8, 3], Op::Relu, 41);
    let lo = Tensor::full([1, 5], -0.1, DType::F32).unwrap();
    let hi = Tensor::full([1, 5], 0.1, DType::F32).unwrap();
    let spec = [1.0, -1.0, 0.0];
    let m = float32_margin(&g, &p, &lo, &hi, 0.5, Some(&spec)).unwrap();
    let region = Region::Box {
        lo: vec![lo.clone()],
        hi: vec![hi.clone()],
    };
    let err = forward_bounds(&g, &p, &region, &Analysis::default())
        .unwrap()
        .output_err(0)
        .unwrap()
        .to_vec_f64();
    assert!(m.budget >= err[0] + err[1] && m.budget < 1e-4, "{m:?}");
    assert!(m.holds());
    assert!(
        !float32_margin(&g, &p, &lo, &hi, m.budget / 2.0, Some(&spec))
            .unwrap()
            .holds()
    );
}

#[test]
fn sgd_step_bound_covers_the_native_step() {
    let param = t(&[0.5, -1.25, 3.0]).to_dtype(DType::F32).unwrap();
    let grad = t(&[0.1, 0.2, -0.3]).to_dtype(DType::F32).unwrap();
    let bounded = strata_approx::Bounded::exact(&grad).unwrap();
    let lr = 0.1;
    let step = sgd_step_bound(&param, &bounded, lr, &Format::binary32()).unwrap();
    let native: Vec<f32> = (param
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .zip(grad.to_vec::<f32>().unwrap()))
    .map(|(p, g)| p - (lr as f32) * g)
    .collect();
    for (a, v) in step.elements().unwrap().iter().zip(native) {
        assert!(a.native().contains(f64::from(v)));
        assert!(a.err > 0.0 && a.err < 1e-6);
    }
}
