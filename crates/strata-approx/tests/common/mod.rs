//! Shared by the checks: zoo-like models with random weights, the native runs (fast kernels
//! and the sequential reference order), the binary64 reference run, and the comparison of
//! the observed errors with the bounds.
#![allow(dead_code)]

use strata_approx::{forward_bounds, reverse_pass, Analysis, Format, Region};
use strata_ir::eval::{self, ExecConfig, Native};
use strata_ir::{Graph, GraphBuilder, Op, OpSink, ParamStore};
use strata_tensor::{Conv2dParams, DType, MaxPool2dParams, Rng, Tensor};

pub fn randn(dims: &[usize], scale: f64, rng: &mut Rng) -> Tensor {
    Tensor::randn(dims.to_vec(), DType::F64, rng)
        .unwrap()
        .affine(scale, 0.0)
        .unwrap()
        .to_dtype(DType::F32)
        .unwrap()
}

pub fn param(b: &mut GraphBuilder, params: &mut ParamStore, name: &str, t: Tensor) -> usize {
    let id = b
        .push(
            Op::Parameter {
                name: name.into(),
                shape: t.shape().clone(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    params.insert(name.into(), t);
    id
}

/// A linear layer with PyTorch-like initialization scale.
fn linear(
    b: &mut GraphBuilder,
    params: &mut ParamStore,
    rng: &mut Rng,
    x: usize,
    name: &str,
    fan_in: usize,
    fan_out: usize,
) -> usize {
    let s = 1.0 / (fan_in as f64).sqrt();
    let w = param(
        b,
        params,
        &format!("{name}.weight"),
        randn(&[fan_out, fan_in], s, rng),
    );
    let bias = param(
        b,
        params,
        &format!("{name}.bias"),
        randn(&[fan_out], s, rng),
    );
    b.push(Op::Linear { bias: true }, &[x, w, bias]).unwrap()
}

/// An MLP `widths[0] → … → widths[last]` with `activation` between layers, on a batch.
pub fn mlp(batch: usize, widths: &[usize], activation: Op, seed: u64) -> (Graph, ParamStore) {
    let mut rng = Rng::new(seed);
    let mut params = ParamStore::new();
    let mut b = GraphBuilder::new();
    let mut h = b
        .push_named(
            "x",
            Op::Input {
                shape: [batch, widths[0]].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    for (i, pair) in widths.windows(2).enumerate() {
        h = linear(
            &mut b,
            &mut params,
            &mut rng,
            h,
            &format!("fc{i}"),
            pair[0],
            pair[1],
        );
        if i + 2 < widths.len() {
            h = b.push(activation.clone(), &[h]).unwrap();
        }
    }
    (b.finish(&[h]).unwrap(), params)
}

/// A small CNN: conv 3×3 (pad 1) → relu → max pool 2 (average pool when `avg_only`) →
/// conv 3×3 → relu → avg pool 2 → flatten → linear, then softmax when `softmax`.
pub fn cnn(
    batch: usize,
    side: usize,
    softmax: bool,
    avg_only: bool,
    seed: u64,
) -> (Graph, ParamStore) {
    let mut rng = Rng::new(seed);
    let mut params = ParamStore::new();
    let mut b = GraphBuilder::new();
    let x = b
        .push_named(
            "x",
            Op::Input {
                shape: [batch, 1, side, side].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let conv = |b: &mut GraphBuilder,
                params: &mut ParamStore,
                rng: &mut Rng,
                x,
                name: &str,
                cin,
                cout,
                pad| {
        let s = 1.0 / ((cin * 9) as f64).sqrt();
        let w = param(
            b,
            params,
            &format!("{name}.weight"),
            randn(&[cout, cin, 3, 3], s, rng),
        );
        let bias = param(b, params, &format!("{name}.bias"), randn(&[cout], s, rng));
        let p = Conv2dParams {
            padding: [pad, pad],
            ..Conv2dParams::default()
        };
        b.push(
            Op::Conv2d {
                params: p,
                bias: true,
            },
            &[x, w, bias],
        )
        .unwrap()
    };
    let c1 = conv(&mut b, &mut params, &mut rng, x, "conv1", 1, 4, 1);
    let r1 = b.push(Op::Relu, &[c1]).unwrap();
    let pool = match avg_only {
        true => Op::AvgPool2d {
            params: strata_tensor::AvgPool2dParams::new([2, 2]),
        },
        false => Op::MaxPool2d {
            params: MaxPool2dParams::new([2, 2]),
        },
    };
    let p1 = b.push(pool, &[r1]).unwrap();
    let c2 = conv(&mut b, &mut params, &mut rng, p1, "conv2", 4, 8, 0);
    let r2 = b.push(Op::Relu, &[c2]).unwrap();
    let p2 = b
        .push(
            Op::AvgPool2d {
                params: strata_tensor::AvgPool2dParams::new([2, 2]),
            },
            &[r2],
        )
        .unwrap();
    let flat = b
        .push(
            Op::Flatten {
                start_axis: 1,
                end_axis: -1,
            },
            &[p2],
        )
        .unwrap();
    let after = (side / 2 - 2) / 2;
    let features = 8 * after * after;
    let mut out = linear(&mut b, &mut params, &mut rng, flat, "fc", features, 10);
    if softmax {
        out = b.push(Op::Softmax { axis: -1 }, &[out]).unwrap();
    }
    (b.finish(&[out]).unwrap(), params)
}

/// Every node's value in binary64: the native f64 kernels on the f32 data widened exactly.
pub fn run_f64(graph: &Graph, params: &ParamStore, input: &Tensor) -> Vec<Tensor> {
    let mut sink = Native {
        config: ExecConfig::sequential(),
    };
    let wide = |t: &Tensor| {
        if t.dtype().is_float() {
            t.to_dtype(DType::F64).unwrap()
        } else {
            t.clone()
        }
    };
    let mut values: Vec<Tensor> = Vec::new();
    for node in &graph.nodes {
        let v = match &node.op {
            Op::Input { .. } => wide(input),
            Op::Parameter { name, .. } => wide(&params[name]),
            Op::Constant { value } => wide(&value.0),
            op => {
                let args: Vec<Tensor> = node.inputs.iter().map(|&i| values[i].clone()).collect();
                sink.apply(op.clone(), &args).unwrap()
            }
        };
        values.push(v);
    }
    values
}

/// What one model's check found.
#[derive(Debug)]
pub struct Check {
    pub elements: usize,
    pub violations: usize,
    /// max bound / max observed error (binary32 output 0).
    pub tightness: f64,
    pub max_bound: f64,
    pub max_observed: f64,
}

impl Check {
    /// The check of several runs as one.
    pub fn merge(checks: &[Check]) -> Check {
        let max_bound = checks.iter().fold(0.0, |m: f64, c| m.max(c.max_bound));
        let max_observed = checks.iter().fold(0.0, |m: f64, c| m.max(c.max_observed));
        Check {
            elements: checks.iter().map(|c| c.elements).sum(),
            violations: checks.iter().map(|c| c.violations).sum(),
            tightness: max_bound / max_observed,
            max_bound,
            max_observed,
        }
    }
}

/// |native32 − ref64| ≤ bound32 + bound64 per element, for the fast kernels and the sequential
/// reference order; `format` is the binary32 analysis (possibly mutated).
pub fn check_forward(graph: &Graph, params: &ParamStore, x: &Tensor, format: &Format) -> Check {
    let region = Region::Point(vec![x.clone()]);
    let analysis = Analysis {
        format: format.clone(),
        config: ExecConfig::default(),
    };
    let b32 = forward_bounds(graph, params, &region, &analysis)
        .unwrap()
        .output_err(0)
        .unwrap()
        .to_vec_f64();
    let analysis64 = Analysis {
        format: Format::binary64(),
        config: ExecConfig::default(),
    };
    let b64 = forward_bounds(graph, params, &region, &analysis64)
        .unwrap()
        .output_err(0)
        .unwrap()
        .to_vec_f64();
    let out = graph.outputs[0];
    let reference = run_f64(graph, params, x)[out].to_vec_f64();
    let mut check = Check {
        elements: 0,
        violations: 0,
        tightness: 0.0,
        max_bound: b32.iter().fold(0.0, |m: f64, &v| m.max(v)),
        max_observed: 0.0,
    };
    for config in [ExecConfig::default(), ExecConfig::sequential()] {
        let native =
            eval::run(graph, params, std::slice::from_ref(x), &config).unwrap()[0].to_vec_f64();
        for i in 0..native.len() {
            let observed = (native[i] - reference[i]).abs();
            check.elements += 1;
            check.max_observed = check.max_observed.max(observed);
            if observed.is_nan() || observed > b32[i] + b64[i] {
                check.violations += 1;
            }
        }
    }
    check.tightness = check.max_bound / check.max_observed;
    check
}

/// The same for the gradients of every parameter, seeding output 0 with `seed`.
pub fn check_backward(graph: &Graph, params: &ParamStore, x: &Tensor, seed: &Tensor) -> Check {
    let region = Region::Point(vec![x.clone()]);
    let out = graph.outputs[0];
    let bound = |format: Format| {
        let analysis = Analysis {
            format,
            config: ExecConfig::default(),
        };
        let fwd = forward_bounds(graph, params, &region, &analysis).unwrap();
        strata_approx::backward_bounds(graph, &fwd, &analysis, 0, seed).unwrap()
    };
    let (b32, b64) = (bound(Format::binary32()), bound(Format::binary64()));
    let values64 = run_f64(graph, params, x);
    let mut sink64 = Native {
        config: ExecConfig::sequential(),
    };
    let seed64 = seed.to_dtype(DType::F64).unwrap();
    let ref_grads = reverse_pass(&mut sink64, graph, &values64, out, seed64).unwrap();
    let mut check = Check {
        elements: 0,
        violations: 0,
        tightness: 0.0,
        max_bound: 0.0,
        max_observed: 0.0,
    };
    for config in [ExecConfig::default(), ExecConfig::sequential()] {
        let values = eval::run_all(graph, params, std::slice::from_ref(x), &config).unwrap();
        let mut sink = Native { config };
        let grads = reverse_pass(&mut sink, graph, &values, out, seed.clone()).unwrap();
        for node in graph
            .nodes
            .iter()
            .filter(|n| matches!(n.op, Op::Parameter { .. }))
        {
            let (Some(g), Some(r)) = (&grads[node.id], &ref_grads[node.id]) else {
                continue;
            };
            let e32 = b32[node.id]
                .as_ref()
                .unwrap()
                .err_tensor()
                .unwrap()
                .to_vec_f64();
            let e64 = b64[node.id]
                .as_ref()
                .unwrap()
                .err_tensor()
                .unwrap()
                .to_vec_f64();
            let (g, r) = (g.to_vec_f64(), r.to_vec_f64());
            for i in 0..g.len() {
                let observed = (g[i] - r[i]).abs();
                check.elements += 1;
                check.max_observed = check.max_observed.max(observed);
                check.max_bound = check.max_bound.max(e32[i]);
                if observed.is_nan() || observed > e32[i] + e64[i] {
                    check.violations += 1;
                }
            }
        }
    }
    check.tightness = check.max_bound / check.max_observed;
    check
}
