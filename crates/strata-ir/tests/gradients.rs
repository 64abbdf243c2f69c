//! Every differentiable op's VJP and JVP, in f64, against two oracles: central finite
//! differences of the forward (relative error ≤ 1e-6 at well-conditioned points) and the
//! adjoint identity ⟨v, J u⟩ = ⟨Jᵀ v, u⟩ (relative error ≤ 1e-12). Then the same for the
//! second-order rules (a VJP's own VJP), and eager-style evaluation of derivative nodes.
//! Every case also emits its VJP into a graph (what compiled plans run) and checks that the
//! graph gives the eager cotangents bit for bit.

use strata_ir::eval::{run, ExecConfig, Native};
use strata_ir::{AttentionMask, Comparison, GeluApproximation, GraphBuilder, Op, OpSink};
use strata_ir::{ParamStore, Reduction};
use strata_tensor::{AvgPool2dParams, Conv1dParams, Conv2dParams, ConvTranspose2dParams};
use strata_tensor::{DType, MaxPool2dParams, Rng, Tensor};

/// How a test input is drawn.
#[derive(Clone, Copy)]
enum Kind {
    /// Normal samples.
    Normal,
    /// In [0.5, 2): away from the singularities of log, sqrt, reciprocal, pow's base.
    Positive,
    /// Normal samples pushed at least 0.1 away from 0 (kinks of relu, abs, leaky_relu).
    AwayFromZero,
    /// Distinct values (max pooling and reduce_max without ties).
    Distinct,
    /// i64 indices in 0..n.
    Index(i64),
    /// A bool mask (true with probability 3/4, the first entry of each row true).
    Mask,
    /// Probabilities along the last axis (rows sum to 1).
    Simplex,
}

struct Case {
    op: Op,
    inputs: Vec<(Vec<usize>, Kind)>,
}

fn case(op: Op, inputs: &[(&[usize], Kind)]) -> Case {
    Case {
        op,
        inputs: inputs.iter().map(|(d, k)| (d.to_vec(), *k)).collect(),
    }
}

fn draw(dims: &[usize], kind: Kind, rng: &mut Rng) -> Tensor {
    let n: usize = dims.iter().product();
    let normal = Tensor::randn(dims.to_vec(), DType::F64, rng).unwrap();
    let v = normal.to_vec::<f64>().unwrap();
    let data: Vec<f64> = match kind {
        Kind::Normal => v,
        Kind::Positive => v
            .iter()
            .map(|x| 0.5 + 1.5 * (0.5 + 0.5 * x.tanh()))
            .collect(),
        Kind::AwayFromZero => v.iter().map(|x| x + 0.1 * x.signum()).collect(),
        Kind::Distinct => {
            let perm = rng.permutation(n);
            perm.iter()
                .map(|&p| p as f64 * 0.37 - n as f64 * 0.1)
                .collect()
        }
        Kind::Index(max) => {
            let idx: Vec<i64> = (0..n)
                .map(|_| rng.below(std::num::NonZeroU64::new(max as u64).unwrap()) as i64)
                .collect();
            return Tensor::from_vec(idx, dims.to_vec()).unwrap();
        }
        Kind::Mask => {
            let last = *dims.last().unwrap_or(&1);
            let m: Vec<bool> = (0..n).map(|i| i % last == 0 || v[i] > -0.6).collect();
            return Tensor::from_vec(m, dims.to_vec()).unwrap();
        }
        Kind::Simplex => {
            let t = Tensor::from_vec(v, dims.to_vec()).unwrap();
            return t.softmax(-1).unwrap();
        }
    };
    Tensor::from_vec(data, dims.to_vec()).unwrap()
}

fn dot(a: &Tensor, b: &Tensor) -> f64 {
    let (a, b) = (a.to_vec_f64(), b.to_vec_f64());
    assert_eq!(a.len(), b.len());
    a.iter().zip(&b).map(|(x, y)| x * y).sum()
}

fn is_diff(t: &Tensor) -> bool {
    t.dtype().is_float()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-12)
}

fn cases() -> Vec<Case> {
    use Kind::*;
    let x34: &[usize] = &[3, 4];
    let mut v = Vec::new();
    for op in [
        Op::Neg,
        Op::Square,
        Op::Exp,
        Op::Sin,
        Op::Cos,
        Op::Tanh,
        Op::Sigmoid,
        Op::Erf,
        Op::Gelu {
            approximate: GeluApproximation::Erf,
        },
        Op::Gelu {
            approximate: GeluApproximation::Tanh,
        },
        Op::Silu,
        Op::Softplus {
            beta: 1.0,
            threshold: 20.0,
        },
        Op::Softplus {
            beta: 2.0,
            threshold: 1.0,
        },
        Op::Softmax { axis: -1 },
        Op::LogSoftmax { axis: 0 },
        Op::Cast { dtype: DType::F32 },
    ] {
        v.push(case(op, &[(x34, Normal)]));
    }
    for op in [
        Op::Abs,
        Op::Relu,
        Op::LeakyRelu {
            negative_slope: 0.1,
        },
    ] {
        v.push(case(op, &[(x34, AwayFromZero)]));
    }
    for op in [Op::Sqrt, Op::Log, Op::Reciprocal] {
        v.push(case(op, &[(x34, Positive)]));
    }
    for op in [Op::Add, Op::Sub, Op::Mul, Op::Minimum, Op::Maximum] {
        v.push(case(op.clone(), &[(x34, Distinct), (&[4], Normal)]));
        v.push(case(op, &[(&[2, 1, 4], Normal), (&[3, 1], Distinct)]));
    }
    v.push(case(Op::Div, &[(x34, Normal), (&[3, 1], Positive)]));
    v.push(case(Op::Pow, &[(x34, Positive), (x34, Normal)]));
    v.push(case(
        Op::Where,
        &[(x34, Mask), (x34, Normal), (&[4], Normal)],
    ));
    v.push(case(Op::Matmul, &[(&[2, 3, 4], Normal), (&[4, 5], Normal)]));
    v.push(case(Op::Matmul, &[(&[4], Normal), (&[2, 4, 3], Normal)]));
    v.push(case(Op::Matmul, &[(&[3, 4], Normal), (&[4], Normal)]));
    v.push(case(Op::Matmul, &[(&[4], Normal), (&[4], Normal)]));
    v.push(case(
        Op::Linear { bias: true },
        &[(&[2, 3, 4], Normal), (&[5, 4], Normal), (&[5], Normal)],
    ));
    v.push(case(
        Op::Einsum {
            equation: "bij,bjk->bik".into(),
        },
        &[(&[2, 3, 4], Normal), (&[2, 4, 2], Normal)],
    ));
    v.push(case(
        Op::Einsum {
            equation: "ij,j".into(),
        },
        &[(x34, Normal), (&[4], Normal)],
    ));
    let conv2 = Conv2dParams {
        stride: [2, 1],
        padding: [1, 1],
        dilation: [1, 2],
        groups: 2,
    };
    v.push(case(
        Op::Conv2d {
            params: conv2,
            bias: true,
        },
        &[
            (&[2, 4, 5, 6], Normal),
            (&[6, 2, 3, 2], Normal),
            (&[6], Normal),
        ],
    ));
    v.push(case(
        Op::Conv2d {
            params: Conv2dParams::default(),
            bias: false,
        },
        &[(&[2, 5, 4], Normal), (&[3, 2, 2, 2], Normal)],
    ));
    v.push(case(
        Op::Conv1d {
            params: Conv1dParams {
                stride: 2,
                padding: 1,
                dilation: 1,
                groups: 1,
            },
            bias: true,
        },
        &[(&[2, 3, 7], Normal), (&[4, 3, 3], Normal), (&[4], Normal)],
    ));
    v.push(case(
        Op::ConvTranspose2d {
            params: ConvTranspose2dParams {
                stride: [2, 2],
                padding: [1, 0],
                output_padding: [1, 0],
                dilation: [1, 1],
                groups: 1,
            },
            bias: true,
        },
        &[
            (&[2, 3, 3, 4], Normal),
            (&[3, 2, 3, 3], Normal),
            (&[2], Normal),
        ],
    ));
    let pool = MaxPool2dParams {
        padding: [1, 0],
        stride: [2, 2],
        ..MaxPool2dParams::new([3, 2])
    };
    v.push(case(
        Op::MaxPool2d { params: pool },
        &[(&[2, 2, 5, 6], Distinct)],
    ));
    v.push(case(
        Op::AvgPool2d {
            params: AvgPool2dParams {
                padding: [1, 1],
                ..AvgPool2dParams::new([3, 3])
            },
        },
        &[(&[2, 6, 5], Normal)],
    ));
    v.push(case(
        Op::AdaptiveAvgPool2d {
            output_size: [2, 3],
        },
        &[(&[1, 2, 5, 7], Normal)],
    ));
    v.push(case(
        Op::BatchNorm {
            eps: 1e-5,
            affine: true,
        },
        &[
            (&[2, 3, 4], Normal),
            (&[3], Normal),
            (&[3], Positive),
            (&[3], Normal),
            (&[3], Normal),
        ],
    ));
    v.push(case(
        Op::LayerNorm {
            normalized_shape: vec![4],
            eps: 1e-5,
            affine: true,
        },
        &[(&[2, 3, 4], Normal), (&[4], Normal), (&[4], Normal)],
    ));
    v.push(case(
        Op::RmsNorm {
            normalized_shape: vec![3, 4],
            eps: None,
            affine: true,
        },
        &[(&[2, 3, 4], Normal), (&[3, 4], Normal)],
    ));
    v.push(case(
        Op::GroupNorm {
            num_groups: 2,
            eps: 1e-5,
            affine: true,
        },
        &[(&[2, 4, 3], Normal), (&[4], Normal), (&[4], Normal)],
    ));
    v.push(case(
        Op::MaskedSoftmax { axis: -1 },
        &[(x34, Normal), (x34, Mask)],
    ));
    for mask in [AttentionMask::None, AttentionMask::Causal] {
        v.push(case(
            Op::ScaledDotProductAttention { mask, scale: None },
            &[
                (&[2, 3, 4], Normal),
                (&[2, 5, 4], Normal),
                (&[2, 5, 3], Normal),
            ],
        ));
    }
    v.push(case(
        Op::ScaledDotProductAttention {
            mask: AttentionMask::Explicit,
            scale: Some(0.3),
        },
        &[
            (&[3, 4], Normal),
            (&[5, 4], Normal),
            (&[5, 2], Normal),
            (&[3, 5], Mask),
        ],
    ));
    v.push(case(
        Op::Embedding,
        &[(&[2, 3], Index(5)), (&[5, 4], Normal)],
    ));
    v.push(case(
        Op::Gather { axis: 1 },
        &[(x34, Normal), (&[3, 6], Index(4))],
    ));
    v.push(case(Op::Reshape { shape: vec![2, -1] }, &[(x34, Normal)]));
    v.push(case(
        Op::Flatten {
            start_axis: 0,
            end_axis: 1,
        },
        &[(&[2, 3, 2], Normal)],
    ));
    v.push(case(
        Op::Permute {
            perm: vec![2, 0, 1],
        },
        &[(&[2, 3, 4], Normal)],
    ));
    v.push(case(
        Op::Transpose { axis0: 0, axis1: 2 },
        &[(&[2, 3, 4], Normal)],
    ));
    v.push(case(
        Op::BroadcastTo {
            shape: [2, 3, 4].into(),
        },
        &[(&[3, 1], Normal)],
    ));
    v.push(case(
        Op::Concat { axis: 1 },
        &[(&[2, 1], Normal), (&[2, 3], Normal), (&[2, 2], Normal)],
    ));
    v.push(case(
        Op::Split {
            axis: 1,
            sizes: vec![1, 2, 1],
            index: 1,
        },
        &[(x34, Normal)],
    ));
    for step in [1, 2] {
        v.push(case(
            Op::Slice {
                axis: -1,
                start: 1,
                end: 100,
                step,
            },
            &[(&[3, 6], Normal)],
        ));
    }
    v.push(case(
        Op::Pad {
            pads: vec![[1, 0], [2, 1]],
            value: 7.0,
        },
        &[(x34, Normal)],
    ));
    v.push(case(
        Op::Tile {
            repeats: vec![2, 1, 3],
        },
        &[(&[2, 3, 1], Normal)],
    ));
    v.push(case(
        Op::Trilu {
            upper: false,
            diagonal: 1,
        },
        &[(&[2, 3, 4], Normal)],
    ));
    for keepdim in [false, true] {
        v.push(case(
            Op::ReduceSum {
                axes: vec![0, 2],
                keepdim,
            },
            &[(&[2, 3, 4], Normal)],
        ));
        v.push(case(
            Op::ReduceMean {
                axes: vec![-1],
                keepdim,
            },
            &[(&[2, 3, 4], Normal)],
        ));
        v.push(case(
            Op::ReduceMax {
                axes: vec![1],
                keepdim,
            },
            &[(&[2, 3, 4], Distinct)],
        ));
    }
    for reduction in [Reduction::None, Reduction::Mean, Reduction::Sum] {
        v.push(case(
            Op::MseLoss { reduction },
            &[(x34, Normal), (x34, Normal)],
        ));
        v.push(case(
            Op::BceWithLogits { reduction },
            &[(x34, Normal), (x34, Positive)],
        ));
        v.push(case(
            Op::CrossEntropy { reduction },
            &[(&[3, 4, 2], Normal), (&[3, 2], Index(4))],
        ));
        v.push(case(
            Op::NllLoss { reduction },
            &[(x34, Normal), (&[3], Index(4))],
        ));
    }
    v.push(case(
        Op::CrossEntropy {
            reduction: Reduction::Mean,
        },
        &[(x34, Normal), (x34, Simplex)],
    ));
    v.push(case(
        Op::CrossEntropy {
            reduction: Reduction::Sum,
        },
        &[(&[5], Normal), (&[], Index(5))],
    ));
    v.push(case(Op::Dropout { p: 0.3, seed: 11 }, &[(x34, Normal)]));
    v.push(case(
        Op::Compare {
            cmp: Comparison::Lt,
        },
        &[(x34, Normal), (x34, Normal)],
    ));
    v
}

fn native() -> Native {
    Native {
        config: ExecConfig::default(),
    }
}

/// The same rule emitted into a graph (what compiled plans run) and evaluated natively gives
/// the eager cotangents bit for bit.
fn compiled_matches_eager(
    op: &Op,
    x: &[Tensor],
    v: &Tensor,
    eager: &[Option<Tensor>],
) -> Result<(), String> {
    let mut b = GraphBuilder::new();
    let feed = |b: &mut GraphBuilder, t: &Tensor| {
        let input = Op::Input {
            shape: t.shape().clone(),
            dtype: t.dtype(),
        };
        b.push(input, &[]).map_err(|e| e.to_string())
    };
    let xs = x
        .iter()
        .map(|t| feed(&mut b, t))
        .collect::<Result<Vec<_>, _>>()?;
    let y = b.apply(op.clone(), &xs)?;
    let g = feed(&mut b, v)?;
    let grads = op.vjp(&mut b, &xs, &y, &g)?;
    let outputs: Vec<usize> = grads.iter().flatten().copied().collect();
    let graph = b.finish(&outputs).map_err(|e| e.to_string())?;
    let feeds: Vec<Tensor> = x.iter().chain([v]).cloned().collect();
    let compiled = run(&graph, &ParamStore::new(), &feeds, &ExecConfig::default())
        .map_err(|e| e.to_string())?;
    let eager: Vec<&Tensor> = eager.iter().flatten().collect();
    let bits = |t: &Tensor| {
        t.to_vec_f64()
            .iter()
            .map(|v| v.to_bits())
            .collect::<Vec<_>>()
    };
    if eager.len() != compiled.len() || eager.iter().zip(&compiled).any(|(a, b)| bits(a) != bits(b))
    {
        return Err("the compiled VJP differs from the eager one".into());
    }
    Ok(())
}

/// Finite-difference, adjoint and JVP checks of one op at one point.
fn check(op: &Op, x: &[Tensor], rng: &mut Rng) -> Result<(), String> {
    let mut s = native();
    let y = s.apply(op.clone(), x)?;
    if !is_diff(&y) {
        // No float output: the rules must say so rather than invent gradients.
        let g = Tensor::zeros(y.shape().clone(), y.dtype()).unwrap();
        let gx = op.vjp(&mut s, x, &y, &g)?;
        return match gx.iter().all(Option::is_none) {
            true => Ok(()),
            false => Err("a gradient through a non-float output".into()),
        };
    }
    let v = draw(y.dims(), Kind::Normal, rng)
        .to_dtype(y.dtype())
        .unwrap();
    let gx = op.vjp(&mut s, x, &y, &v)?;
    compiled_matches_eager(op, x, &v, &gx)?;
    let u: Vec<Option<Tensor>> = x
        .iter()
        .map(|t| is_diff(t).then(|| draw(t.dims(), Kind::Normal, rng)))
        .collect();
    let ju = op.jvp(&mut s, x, &y, &u)?;
    // Adjoint identity.
    let lhs = ju.as_ref().map_or(0.0, |j| dot(&v, j));
    let mut rhs = 0.0;
    for (g, u) in gx.iter().zip(&u) {
        if let (Some(g), Some(u)) = (g, u) {
            assert_eq!(g.shape(), u.shape(), "cotangent shape");
            rhs += dot(g, u);
        }
    }
    // An f32 output (the cast case) rounds J u: the identity holds to f32's precision there.
    let tol = if y.dtype() == DType::F64 { 1e-12 } else { 1e-6 };
    if rel(lhs, rhs) > tol && (lhs - rhs).abs() > tol * 0.1 {
        return Err(format!("adjoint: <v, Ju> = {lhs}, <J^T v, u> = {rhs}"));
    }
    // Central differences of <v, f(x)> along every coordinate of every float input (f64
    // outputs: a rounded f32 output has no useful difference quotient).
    let h = 1e-6;
    for (k, xk) in x.iter().enumerate() {
        if !is_diff(xk) || xk.dtype() != DType::F64 || y.dtype() != DType::F64 {
            continue;
        }
        let base = xk.to_vec::<f64>().unwrap();
        let analytic = gx[k].as_ref().map(|g| g.to_vec_f64());
        for i in 0..base.len() {
            let mut f = |delta: f64| -> Result<f64, String> {
                let mut moved = base.clone();
                moved[i] += delta;
                let mut args = x.to_vec();
                args[k] = Tensor::from_vec(moved, xk.dims().to_vec()).unwrap();
                Ok(dot(&v, &s.apply(op.clone(), &args)?))
            };
            let fd = (f(h)? - f(-h)?) / (2.0 * h);
            let an = analytic.as_ref().map_or(0.0, |a| a[i]);
            if (fd - an).abs() > 1e-6 * fd.abs().max(an.abs()).max(1.0) {
                return Err(format!(
                    "input {k}, element {i}: finite difference {fd}, VJP {an}"
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn every_rule_matches_finite_differences_and_the_adjoint_identity() {
    let mut rng = Rng::new(2024);
    let mut failures = Vec::new();
    let all = cases();
    for c in &all {
        let x: Vec<Tensor> = c
            .inputs
            .iter()
            .map(|(d, k)| draw(d, *k, &mut rng))
            .collect();
        // The f32 cast case starts from f64 and compares in f64 terms.
        if let Err(e) = check(&c.op, &x, &mut rng) {
            failures.push(format!("{}: {e}", c.op.tag()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn derivative_kernels_have_their_own_adjoints() {
    // The VJP of a `vjp` node with respect to its cotangent, checked by the adjoint identity
    // in the cotangent argument (the map g ↦ Jᵀg is linear).
    let mut rng = Rng::new(7);
    let ops = [
        (
            Op::MaxPool2d {
                params: MaxPool2dParams::new([2, 2]),
            },
            vec![(vec![1, 2, 4, 6], Kind::Distinct)],
            0,
        ),
        (
            Op::AvgPool2d {
                params: AvgPool2dParams::new([2, 3]),
            },
            vec![(vec![1, 2, 4, 6], Kind::Normal)],
            0,
        ),
        (
            Op::Embedding,
            vec![(vec![5], Kind::Index(3)), (vec![3, 2], Kind::Normal)],
            1,
        ),
        (
            Op::Slice {
                axis: 0,
                start: 0,
                end: 5,
                step: 2,
            },
            vec![(vec![5, 2], Kind::Normal)],
            0,
        ),
    ];
    let mut s = native();
    for (of, inputs, input) in ops {
        let x: Vec<Tensor> = inputs.iter().map(|(d, k)| draw(d, *k, &mut rng)).collect();
        let y = s.apply(of.clone(), &x).unwrap();
        let g = draw(y.dims(), Kind::Normal, &mut rng);
        let vjp = Op::Vjp {
            of: Box::new(of.clone()),
            input,
        };
        let mut args = x.clone();
        args.push(g.clone());
        let dx = s.apply(vjp.clone(), &args).unwrap();
        let w = draw(dx.dims(), Kind::Normal, &mut rng);
        let back = vjp.vjp(&mut s, &args, &dx, &w).unwrap();
        let gg = back.last().unwrap().as_ref().unwrap();
        // <w, Jᵀ g> = <J w, g>
        let lhs = dot(&w, &dx);
        let rhs = dot(gg, &g);
        assert!(rel(lhs, rhs) < 1e-12, "{}: {lhs} vs {rhs}", of.tag());
    }
}
