//! The reference interpreter across numeric layers, op by op (a small graph per op):
//! - native `f32` ≡ `Ieee32` bit for bit (NaNs compared as NaN) in the sequential order, on data
//!   with ±0, subnormals, ±∞ and NaN, for every op built from + − × ÷ √, comparisons and data
//!   movement; ops with transcendentals agree within `TRANSCENDENTAL_ULPS` once the `Ieee32`
//!   layer has them, and until then that layer must say so by name;
//! - `Fp32` ≡ `Ieee32` on every finite result, in every rounding mode (transcendentals
//!   included: both are correctly rounded);
//! - interval enclosures contain the `f64` results and (within the `f32` rounding error) the
//!   `f32` results, and stay narrow (the widths are printed with `--nocapture`);
//! - every op at once: `every_op_graph` with every node an output.

mod common;

use common::{derivative_op_graph, every_op_graph, Builder, F32};
use strata_float::{FpEnv, Ieee32, RoundingMode};
use strata_ir::interpret::{interpret, Value};
use strata_ir::layer::{F32Layer, F64Layer, Fp32Layer, Ieee32Layer, IntervalLayer, NumericLayer};
use strata_ir::{
    AttentionMask, Comparison, GeluApproximation, Graph, NodeId, Op, ParamStore, Reduction,
};
use strata_tensor::{AvgPool2dParams, Conv1dParams, Conv2dParams, ConvTranspose2dParams};
use strata_tensor::{DType, MaxPool2dParams, ReduceOrder, Rng, Shape, Tensor};

/// The agreement bound for ops with transcendentals (libm's `f32` functions are not all
/// correctly rounded, and composite formulas amplify a one-ulp difference a little).
const TRANSCENDENTAL_ULPS: u32 = 8;

const SEQ: ReduceOrder = ReduceOrder::Sequential;

/// A graph of one op: its inputs, and whether it is built from + − × ÷ √, comparisons and
/// data movement only.
struct Case {
    name: String,
    graph: Graph,
    inputs: Vec<Tensor>,
    exact: bool,
}

fn case(
    name: &str,
    exact: bool,
    inputs: Vec<Tensor>,
    f: impl FnOnce(&mut Builder, &[NodeId]) -> Vec<NodeId>,
) -> Case {
    let mut b = Builder::new();
    let ids: Vec<NodeId> = (inputs.iter().enumerate())
        .map(|(i, t)| b.input(&format!("x{i}"), t.dims(), t.dtype()))
        .collect();
    let outputs = f(&mut b, &ids);
    Case {
        name: name.into(),
        graph: b.0.finish(&outputs).unwrap(),
        inputs,
        exact,
    }
}

const SPECIALS: [f32; 14] = [
    0.0,
    -0.0,
    1e-45,
    -1e-45,
    1e-40,
    -2.5e-39,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    1e30,
    -1e30,
    1.0,
    -1.0,
    0.5,
];

/// f32 data: normal values around ±3, and with `special` a quarter of the entries drawn from
/// [`SPECIALS`].
fn data(rng: &mut Rng, dims: &[usize], special: bool) -> Tensor {
    let n = dims.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| {
            let u = rng.next_f64();
            if special && u < 0.25 {
                SPECIALS[(rng.next_f64() * SPECIALS.len() as f64) as usize % SPECIALS.len()]
            } else {
                (rng.next_f64() * 6.0 - 3.0) as f32
            }
        })
        .collect();
    Tensor::from_vec(v, dims.to_vec()).unwrap()
}

fn positive(rng: &mut Rng, dims: &[usize]) -> Tensor {
    let n = dims.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| (rng.next_f64() * 2.0 + 0.1) as f32)
        .collect();
    Tensor::from_vec(v, dims.to_vec()).unwrap()
}

fn ints(rng: &mut Rng, dims: &[usize], below: usize) -> Tensor {
    let n = dims.iter().product();
    let v: Vec<i64> = (0..n)
        .map(|_| (rng.next_f64() * below as f64) as i64)
        .collect();
    Tensor::from_vec(v, dims.to_vec()).unwrap()
}

fn bools(rng: &mut Rng, dims: &[usize]) -> Tensor {
    let n = dims.iter().product();
    let v: Vec<bool> = (0..n).map(|_| rng.next_f64() < 0.6).collect();
    Tensor::from_vec(v, dims.to_vec()).unwrap()
}

/// Every op of the vocabulary in a small graph of its own (sources appear in all of them).
fn cases(rng: &mut Rng, special: bool) -> Vec<Case> {
    let mut out = Vec::new();
    let x = |rng: &mut Rng, dims: &[usize]| data(rng, dims, special);
    let unary_exact = [
        Op::Neg,
        Op::Abs,
        Op::Sqrt,
        Op::Reciprocal,
        Op::Square,
        Op::Relu,
        Op::LeakyRelu {
            negative_slope: 0.01,
        },
        Op::Detach,
        Op::Sign,
        Op::Floor,
    ];
    let unary_transcendental = [
        Op::Exp,
        Op::Log,
        Op::Sin,
        Op::Cos,
        Op::Tanh,
        Op::Sigmoid,
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
            threshold: 5.0,
        },
        Op::Erf,
    ];
    for (ops, exact) in [(&unary_exact[..], true), (&unary_transcendental[..], false)] {
        for op in ops {
            let t = x(rng, &[3, 7]);
            out.push(case(op.tag(), exact, vec![t], |b, i| {
                vec![b.op(op.clone(), &[i[0]])]
            }));
        }
    }
    for op in [
        Op::Add,
        Op::Sub,
        Op::Mul,
        Op::Div,
        Op::Minimum,
        Op::Maximum,
        Op::Pow,
    ] {
        let exact = op != Op::Pow;
        let (a, c) = (x(rng, &[3, 7]), x(rng, &[7]));
        out.push(case(op.tag(), exact, vec![a, c], |b, i| {
            vec![b.op(op.clone(), &[i[0], i[1]])]
        }));
    }
    for cmp in [
        Comparison::Eq,
        Comparison::Ne,
        Comparison::Lt,
        Comparison::Le,
        Comparison::Gt,
        Comparison::Ge,
    ] {
        let (a, c) = (x(rng, &[4, 5]), x(rng, &[4, 1]));
        out.push(case("compare", true, vec![a, c], |b, i| {
            vec![b.op(Op::Compare { cmp }, &[i[0], i[1]])]
        }));
    }
    let (m, a, c) = (bools(rng, &[4, 1]), x(rng, &[4, 5]), x(rng, &[5]));
    out.push(case("where", true, vec![m, a, c], |b, i| {
        vec![b.op(Op::Where, &[i[0], i[1], i[2]])]
    }));
    let (p, q) = (bools(rng, &[3, 4]), bools(rng, &[4]));
    out.push(case("logical", true, vec![p, q], |b, i| {
        let not = b.op(Op::LogicalNot, &[i[0]]);
        let and = b.op(Op::LogicalAnd, &[not, i[1]]);
        vec![not, and, b.op(Op::LogicalOr, &[i[0], i[1]])]
    }));
    let finite = data(rng, &[12], false);
    out.push(case(
        "cast",
        true,
        vec![finite, ints(rng, &[5], 100)],
        |b, i| {
            let wide = b.op(Op::Cast { dtype: DType::F64 }, &[i[0]]);
            let back = b.op(Op::Cast { dtype: F32 }, &[wide]);
            let int = b.op(Op::Cast { dtype: DType::I64 }, &[i[0]]);
            let flag = b.op(Op::Cast { dtype: DType::Bool }, &[i[0]]);
            let float = b.op(Op::Cast { dtype: F32 }, &[i[1]]);
            vec![
                back,
                int,
                flag,
                float,
                b.op(Op::Cast { dtype: F32 }, &[flag]),
            ]
        },
    ));
    out.push(case(
        "cast_bool_of_specials",
        true,
        vec![x(rng, &[12])],
        |b, i| vec![b.op(Op::Cast { dtype: DType::Bool }, &[i[0]])],
    ));
    // Integer arithmetic, reductions and argmax on i64.
    out.push(case(
        "i64",
        true,
        vec![ints(rng, &[3, 4], 20), ints(rng, &[4], 5)],
        |b, i| {
            let s = b.op(Op::Sub, &[i[0], i[1]]);
            let p = b.op(Op::Pow, &[s, i[1]]);
            let r = b.op(Op::Relu, &[s]);
            let m = b.op(Op::Matmul, &[s, i[1]]);
            let sum = b.op(
                Op::ReduceSum {
                    axes: vec![0],
                    keepdim: false,
                },
                &[p],
            );
            let arg = b.op(
                Op::ArgMax {
                    axis: 1,
                    keepdim: true,
                },
                &[s],
            );
            vec![p, r, m, sum, arg, b.op(Op::Sign, &[s])]
        },
    ));
    // Linear algebra.
    out.push(case(
        "matmul",
        true,
        vec![x(rng, &[2, 1, 3, 5]), x(rng, &[4, 5, 2])],
        |b, i| vec![b.op(Op::Matmul, &[i[0], i[1]])],
    ));
    out.push(case(
        "matmul_vectors",
        true,
        vec![x(rng, &[5]), x(rng, &[5, 3]), x(rng, &[5])],
        |b, i| {
            let row = b.op(Op::Matmul, &[i[0], i[1]]);
            vec![row, b.op(Op::Matmul, &[i[0], i[2]])]
        },
    ));
    out.push(case(
        "linear",
        true,
        vec![x(rng, &[2, 3, 6]), x(rng, &[4, 6]), x(rng, &[4])],
        |b, i| vec![b.op(Op::Linear { bias: true }, &[i[0], i[1], i[2]])],
    ));
    out.push(case(
        "einsum",
        true,
        vec![x(rng, &[2, 3, 4]), x(rng, &[2, 4, 5])],
        |b, i| {
            let bmm = b.op(
                Op::Einsum {
                    equation: "bij,bjk->bik".into(),
                },
                &[i[0], i[1]],
            );
            let t = b.op(
                Op::Einsum {
                    equation: "bij->jib".into(),
                },
                &[i[0]],
            );
            vec![
                bmm,
                t,
                b.op(
                    Op::Einsum {
                        equation: "bij,bjk".into(),
                    },
                    &[i[0], i[1]],
                ),
            ]
        },
    ));
    // Convolution and pooling.
    let conv = Conv2dParams {
        stride: [2, 1],
        padding: [1, 2],
        dilation: [1, 2],
        groups: 2,
    };
    out.push(case(
        "conv2d",
        true,
        vec![x(rng, &[2, 4, 6, 7]), x(rng, &[6, 2, 3, 2]), x(rng, &[6])],
        |b, i| {
            vec![b.op(
                Op::Conv2d {
                    params: conv,
                    bias: true,
                },
                &[i[0], i[1], i[2]],
            )]
        },
    ));
    let c1 = Conv1dParams {
        stride: 2,
        padding: 1,
        dilation: 1,
        groups: 1,
    };
    out.push(case(
        "conv1d",
        true,
        vec![x(rng, &[3, 9]), x(rng, &[4, 3, 3])],
        |b, i| {
            vec![b.op(
                Op::Conv1d {
                    params: c1,
                    bias: false,
                },
                &[i[0], i[1]],
            )]
        },
    ));
    let up = ConvTranspose2dParams {
        stride: [2, 3],
        padding: [1, 0],
        output_padding: [1, 2],
        dilation: [1, 1],
        groups: 2,
    };
    out.push(case(
        "conv_transpose2d",
        true,
        vec![x(rng, &[1, 4, 3, 3]), x(rng, &[4, 3, 3, 2]), x(rng, &[6])],
        |b, i| {
            vec![b.op(
                Op::ConvTranspose2d {
                    params: up,
                    bias: true,
                },
                &[i[0], i[1], i[2]],
            )]
        },
    ));
    let maxp = MaxPool2dParams {
        kernel: [3, 2],
        stride: [2, 2],
        padding: [1, 1],
        dilation: [1, 2],
        ceil_mode: true,
    };
    let avgp = AvgPool2dParams {
        kernel: [3, 3],
        stride: [2, 2],
        padding: [1, 1],
        ceil_mode: true,
        count_include_pad: false,
        divisor_override: None,
    };
    out.push(case(
        "pooling",
        true,
        vec![x(rng, &[2, 3, 7, 8])],
        |b, i| {
            let m = b.op(Op::MaxPool2d { params: maxp }, &[i[0]]);
            let a = b.op(Op::AvgPool2d { params: avgp }, &[i[0]]);
            let p = b.op(
                Op::AvgPool2d {
                    params: AvgPool2dParams::new([2, 3]),
                },
                &[i[0]],
            );
            vec![
                m,
                a,
                p,
                b.op(
                    Op::AdaptiveAvgPool2d {
                        output_size: [3, 5],
                    },
                    &[i[0]],
                ),
            ]
        },
    ));
    // Normalization.
    let stats = |rng: &mut Rng| {
        vec![
            x(rng, &[2, 4, 3, 3]),
            x(rng, &[4]),
            positive(rng, &[4]),
            x(rng, &[4]),
            x(rng, &[4]),
        ]
    };
    out.push(case("norms", true, stats(rng), |b, i| {
        let bn = b.op(
            Op::BatchNorm {
                eps: 1e-5,
                affine: true,
            },
            &[i[0], i[1], i[2], i[3], i[4]],
        );
        let gn = b.op(
            Op::GroupNorm {
                num_groups: 2,
                eps: 1e-5,
                affine: true,
            },
            &[i[0], i[3], i[4]],
        );
        let ln = b.op(
            Op::LayerNorm {
                normalized_shape: vec![3, 3],
                eps: 1e-6,
                affine: false,
            },
            &[i[0]],
        );
        let rms = b.op(
            Op::RmsNorm {
                normalized_shape: vec![3],
                eps: None,
                affine: false,
            },
            &[i[0]],
        );
        vec![bn, gn, ln, rms]
    }));
    // Softmax and attention.
    out.push(case(
        "softmax",
        false,
        vec![x(rng, &[3, 5]), bools(rng, &[1, 5])],
        |b, i| {
            let s = b.op(Op::Softmax { axis: 0 }, &[i[0]]);
            let l = b.op(Op::LogSoftmax { axis: -1 }, &[i[0]]);
            vec![s, l, b.op(Op::MaskedSoftmax { axis: -1 }, &[i[0], i[1]])]
        },
    ));
    out.push(case(
        "attention",
        false,
        vec![
            x(rng, &[2, 3, 4]),
            x(rng, &[2, 5, 4]),
            x(rng, &[5, 2]),
            bools(rng, &[3, 5]),
        ],
        |b, i| {
            let causal = b.op(
                Op::ScaledDotProductAttention {
                    mask: AttentionMask::Causal,
                    scale: None,
                },
                &[i[0], i[1], i[2]],
            );
            let explicit = b.op(
                Op::ScaledDotProductAttention {
                    mask: AttentionMask::Explicit,
                    scale: Some(0.3),
                },
                &[i[0], i[1], i[2], i[3]],
            );
            vec![causal, explicit]
        },
    ));
    // Indexing and masks.
    out.push(case(
        "index",
        true,
        vec![
            ints(rng, &[2, 3], 5),
            x(rng, &[5, 4]),
            ints(rng, &[2, 4], 4),
        ],
        |b, i| {
            let e = b.op(Op::Embedding, &[i[0], i[1]]);
            let g = b.op(Op::Gather { axis: 1 }, &[i[1], i[2]]);
            let t = b.op(
                Op::Trilu {
                    upper: false,
                    diagonal: 1,
                },
                &[e],
            );
            let u = b.op(
                Op::Trilu {
                    upper: true,
                    diagonal: -1,
                },
                &[i[0]],
            );
            vec![
                e,
                g,
                t,
                u,
                b.op(
                    Op::ArgMax {
                        axis: 0,
                        keepdim: false,
                    },
                    &[i[1]],
                ),
            ]
        },
    ));
    // Shapes.
    out.push(case(
        "shape",
        true,
        vec![x(rng, &[2, 3, 4]), x(rng, &[2, 2, 4])],
        |b, i| {
            let r = b.op(Op::Reshape { shape: vec![4, -1] }, &[i[0]]);
            let f = b.op(
                Op::Flatten {
                    start_axis: 0,
                    end_axis: 1,
                },
                &[i[0]],
            );
            let p = b.op(
                Op::Permute {
                    perm: vec![2, 0, 1],
                },
                &[i[0]],
            );
            let t = b.op(
                Op::Transpose {
                    axis0: 0,
                    axis1: -1,
                },
                &[i[0]],
            );
            let bc = b.op(
                Op::BroadcastTo {
                    shape: Shape::from([3, 2, 3, 4]),
                },
                &[i[0]],
            );
            let c = b.op(Op::Concat { axis: 1 }, &[i[0], i[1], i[0]]);
            let tl = b.op(
                Op::Tile {
                    repeats: vec![2, 1, 3],
                },
                &[i[1]],
            );
            let s = b.op(
                Op::Split {
                    axis: 1,
                    sizes: vec![1, 2],
                    index: 1,
                },
                &[i[0]],
            );
            let sl = b.op(
                Op::Slice {
                    axis: -1,
                    start: -3,
                    end: 100,
                    step: 2,
                },
                &[i[0]],
            );
            let pad = b.op(
                Op::Pad {
                    pads: vec![[1, 0], [2, 1]],
                    value: -2.5,
                },
                &[i[0]],
            );
            vec![r, f, p, t, bc, c, tl, s, sl, pad]
        },
    ));
    // Reductions.
    out.push(case("reduce", true, vec![x(rng, &[3, 40, 2])], |b, i| {
        let s = b.op(
            Op::ReduceSum {
                axes: vec![1],
                keepdim: false,
            },
            &[i[0]],
        );
        let a = b.op(
            Op::ReduceSum {
                axes: vec![0, 2],
                keepdim: true,
            },
            &[i[0]],
        );
        let m = b.op(
            Op::ReduceMean {
                axes: vec![-2],
                keepdim: false,
            },
            &[i[0]],
        );
        let none = b.op(
            Op::ReduceSum {
                axes: vec![],
                keepdim: false,
            },
            &[i[0]],
        );
        vec![
            s,
            a,
            m,
            none,
            b.op(
                Op::ReduceMax {
                    axes: vec![1, 0],
                    keepdim: false,
                },
                &[i[0]],
            ),
        ]
    }));
    // Losses.
    out.push(case(
        "mse_nll",
        true,
        vec![x(rng, &[3, 4]), x(rng, &[3, 4]), ints(rng, &[3], 4)],
        |b, i| {
            let mse = b.op(
                Op::MseLoss {
                    reduction: Reduction::Mean,
                },
                &[i[0], i[1]],
            );
            let each = b.op(
                Op::MseLoss {
                    reduction: Reduction::None,
                },
                &[i[0], i[1]],
            );
            vec![
                mse,
                each,
                b.op(
                    Op::NllLoss {
                        reduction: Reduction::Sum,
                    },
                    &[i[0], i[2]],
                ),
            ]
        },
    ));
    out.push(case(
        "losses",
        false,
        vec![
            x(rng, &[3, 4, 2]),
            ints(rng, &[3, 2], 4),
            x(rng, &[3, 4, 2]),
        ],
        |b, i| {
            let ce = b.op(
                Op::CrossEntropy {
                    reduction: Reduction::Mean,
                },
                &[i[0], i[1]],
            );
            let soft = b.op(Op::Softmax { axis: 1 }, &[i[2]]);
            let cep = b.op(
                Op::CrossEntropy {
                    reduction: Reduction::None,
                },
                &[i[0], soft],
            );
            vec![
                ce,
                cep,
                b.op(
                    Op::BceWithLogits {
                        reduction: Reduction::Sum,
                    },
                    &[i[0], i[2]],
                ),
            ]
        },
    ));
    // Randomness (seeded).
    out.push(case(
        "random",
        true,
        vec![
            x(rng, &[4, 6]),
            positive(rng, &[6]).mul_scalar(0.4).unwrap(),
        ],
        |b, i| {
            let d = b.op(Op::Dropout { p: 0.3, seed: 5 }, &[i[0]]);
            let u = b.op(
                Op::RandUniform {
                    shape: Shape::from([3, 2]),
                    dtype: F32,
                    low: -1.0,
                    high: 2.0,
                    seed: 4,
                },
                &[],
            );
            vec![
                d,
                u,
                b.op(
                    Op::BernoulliMask {
                        shape: Shape::from([4, 6]),
                        seed: 9,
                    },
                    &[i[1]],
                ),
            ]
        },
    ));
    out
}

fn run<L: NumericLayer>(c: &Case, layer: &L) -> Result<Vec<Value<L::Scalar>>, strata_ir::IrError> {
    interpret(&c.graph, &ParamStore::new(), &c.inputs, layer, SEQ)
}

fn ulps(a: f32, b: f32) -> u32 {
    let key = |x: f32| {
        let bits = x.to_bits() as i64;
        if bits & 0x8000_0000 != 0 {
            0x8000_0000 - bits
        } else {
            bits + 0x8000_0000
        }
    };
    (key(a) - key(b)).unsigned_abs().min(u32::MAX as u64) as u32
}

/// The largest ulp distance between the f32 and Ieee32 results (NaNs equal each other, a NaN
/// against a number is `u32::MAX`); i64/bool outputs must be equal.
fn distance(a: &[Value<f32>], b: &[Value<Ieee32>]) -> u32 {
    let mut worst = 0;
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (Value::Float(x), Value::Float(y)) => {
                assert_eq!(x.shape, y.shape);
                for (&u, v) in x.data.iter().zip(&y.data) {
                    let v = f32::from_bits(v.to_bits());
                    let d = match (u.is_nan(), v.is_nan()) {
                        (true, true) => 0,
                        (false, false) if u.to_bits() == v.to_bits() => 0,
                        (false, false) if u == 0.0 && v == 0.0 => u32::MAX, // signed zeros differ
                        (false, false) => ulps(u, v),
                        _ => u32::MAX,
                    };
                    worst = worst.max(d);
                }
            }
            (Value::Tensor(x), Value::Tensor(y)) => {
                assert_eq!(x.shape(), y.shape());
                assert_eq!(x.to_vec_f64(), y.to_vec_f64());
            }
            _ => panic!("value kinds differ"),
        }
    }
    worst
}

#[test]
fn native_f32_and_ieee32_agree_bit_for_bit_on_every_op() {
    let mut rng = Rng::new(1);
    let mut pending = Vec::new();
    for special in [true, false] {
        for c in cases(&mut rng, special) {
            let native = run(&c, &F32Layer::new()).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            let soft = Ieee32Layer::new(FpEnv::DEFAULT);
            match run(&c, &soft) {
                Ok(bits) => {
                    let d = distance(&native, &bits);
                    let bound = if c.exact { 0 } else { TRANSCENDENTAL_ULPS };
                    assert!(
                        d <= bound,
                        "{} (specials: {special}): {d} ulps apart",
                        c.name
                    );
                    if !c.exact {
                        println!("{:<24} f32 vs ieee32: {d} ulps", c.name);
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    assert!(
                        !c.exact && msg.contains("not available"),
                        "{}: {msg}",
                        c.name
                    );
                    pending.push(c.name.clone());
                }
            }
        }
    }
    println!("not computable in the ieee32 layer (no correctly rounded pow): {pending:?}");
}

/// `Fp32` gives `Ieee32`'s value wherever it stays on the finite path, in every mode.
#[test]
fn fp32_matches_ieee32_on_finite_results() {
    let mut rng = Rng::new(2);
    // pow has no correctly rounded form in either soft-float layer.
    for c in cases(&mut rng, false)
        .into_iter()
        .filter(|c| c.name != "pow")
    {
        for mode in RoundingMode::ALL {
            let soft = Ieee32Layer::new(FpEnv::with_mode(mode));
            let bits = run(&c, &soft).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            let exact =
                run(&c, &Fp32Layer::new(mode)).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            let mut finite = 0;
            for (x, y) in exact.iter().zip(&bits) {
                let (Value::Float(x), Value::Float(y)) = (x, y) else {
                    continue;
                };
                for (u, v) in x.data.iter().zip(&y.data) {
                    if let Some(u) = u {
                        let v = f32::from_bits(v.to_bits());
                        let u = f32::from_bits(u.to_ieee().to_bits());
                        assert!(
                            v.is_finite() && u == v,
                            "{} ({mode}): fp32 {u}, ieee32 {v}",
                            c.name
                        );
                        finite += 1;
                    }
                }
            }
            assert!(
                finite > 0
                    || c.name == "logical"
                    || c.name.starts_with("cast_bool")
                    || c.name == "compare"
                    || c.name == "i64",
                "{}: no finite results",
                c.name
            );
        }
    }
}

/// Interval enclosures contain the f64 results exactly and the f32 results up to the f32
/// rounding error, and are narrow.
#[test]
fn intervals_enclose_the_point_layers() {
    let mut rng = Rng::new(3);
    for c in cases(&mut rng, false) {
        let wide = run(&c, &F64Layer::new()).unwrap();
        let narrow = run(&c, &F32Layer::new()).unwrap();
        let boxes = match run(&c, &IntervalLayer) {
            Ok(b) => b,
            Err(e) => {
                // Comparisons and argmax of overlapping enclosures cannot be decided.
                assert!(e.to_string().contains("cannot decide"), "{}: {e}", c.name);
                println!("{:<24} interval: {e}", c.name);
                continue;
            }
        };
        let mut width: f64 = 0.0;
        for ((b, w), n) in boxes.iter().zip(&wide).zip(&narrow) {
            let (Value::Float(b), Value::Float(w), Value::Float(n)) = (b, w, n) else {
                continue;
            };
            for ((b, &w), &n) in b.data.iter().zip(&w.data).zip(&n.data) {
                // Where f64 leaves the reals (√−1, 1/0, …) the enclosure may say "no real value".
                if !w.is_finite() {
                    continue;
                }
                let b =
                    b.unwrap_or_else(|| panic!("{}: no enclosure of the f64 result {w}", c.name));
                assert!(
                    b.contains(w),
                    "{}: {b} does not contain the f64 result {w}",
                    c.name
                );
                let n = f64::from(n);
                let slack = 1e-5 * (1.0 + n.abs());
                assert!(
                    b.lo() - slack <= n && n <= b.hi() + slack,
                    "{}: {b} is far from the f32 result {n}",
                    c.name
                );
                width = width.max((b.hi() - b.lo()) / b.lo().abs().max(b.hi().abs()).max(1.0));
            }
        }
        println!("{:<24} interval relative width ≤ {width:.1e}", c.name);
        assert!(width < 1e-9, "{}: enclosures as wide as {width}", c.name);
    }
}

/// Parameters and inputs for `every_op_graph`: random floats, valid token and label indices.
fn every_op_bindings(graph: &Graph, rng: &mut Rng) -> (ParamStore, Vec<Tensor>) {
    let params = (graph.parameter_types().unwrap().into_iter())
        .map(|(name, ty)| {
            let t = if name.ends_with("var") {
                positive(rng, ty.dims())
            } else {
                data(rng, ty.dims(), false)
            };
            (name.to_string(), t)
        })
        .collect();
    let inputs = (graph.inputs())
        .map(|n| match (n.name.as_deref(), n.dtype) {
            (Some("tokens"), _) => ints(rng, n.shape.dims(), 11),
            (_, DType::I64) => ints(rng, n.shape.dims(), 6),
            _ => data(rng, n.shape.dims(), false),
        })
        .collect();
    (params, inputs)
}

#[test]
fn every_op_graph_runs_in_every_layer() {
    let mut graph = every_op_graph();
    graph.outputs = (0..graph.nodes.len()).collect();
    let (params, inputs) = every_op_bindings(&graph, &mut Rng::new(4));
    let go = |layer: &dyn Fn() -> Result<usize, strata_ir::IrError>| layer();
    let f32s = go(&|| interpret(&graph, &params, &inputs, &F32Layer::new(), SEQ).map(|v| v.len()))
        .unwrap();
    let f64s = go(&|| {
        interpret(
            &graph,
            &params,
            &inputs,
            &F64Layer::new(),
            ReduceOrder::default(),
        )
        .map(|v| v.len())
    })
    .unwrap();
    assert_eq!((f32s, f64s), (graph.nodes.len(), graph.nodes.len()));
    // The soft-float layers stop, naming the node, at the first op they cannot compute.
    for result in [
        interpret(&graph, &params, &inputs, &Ieee32Layer::default(), SEQ).map(|v| v.len()),
        interpret(&graph, &params, &inputs, &Fp32Layer::default(), SEQ).map(|v| v.len()),
        interpret(&graph, &params, &inputs, &IntervalLayer, SEQ).map(|v| v.len()),
    ] {
        match result {
            Ok(n) => assert_eq!(n, graph.nodes.len()),
            Err(e) => {
                let msg = e.to_string();
                println!("{msg}");
                assert!(
                    msg.starts_with("node %")
                        && (msg.contains("not available")
                            || msg.contains("cannot decide")
                            || msg.contains("no exact value")),
                    "{msg}"
                );
            }
        }
    }
}

/// The native evaluator (strata-tensor kernels, sequential order, reference matmul) against
/// the f32 reference layer on `every_op_graph`, node by node: bit for bit on every op whose
/// kernel follows a declared order, wherever the op's inputs already agree. Convolutions
/// (gemm, unspecified order) and softmax/layer norm rows longer than the kernels' pairwise
/// block are the documented exceptions.
#[test]
fn native_evaluator_matches_the_f32_layer_bit_for_bit() {
    use strata_ir::eval::{run_all, ExecConfig};
    use strata_ir::layer::Exported;
    let mut graph = every_op_graph();
    graph.outputs = (0..graph.nodes.len()).collect();
    let (params, inputs) = every_op_bindings(&graph, &mut Rng::new(4));
    let native = run_all(&graph, &params, &inputs, &ExecConfig::sequential()).unwrap();
    let reference =
        strata_ir::interpret::run(&graph, &params, &inputs, &F32Layer::new(), SEQ).unwrap();
    let bits = |t: &Tensor| -> Vec<u64> { t.to_vec_f64().iter().map(|v| v.to_bits()).collect() };
    let mut agree = vec![false; graph.nodes.len()];
    let mut compared = 0;
    for node in &graph.nodes {
        let Exported::Point(r) = &reference[node.id] else {
            panic!("the f32 layer exports points");
        };
        let same = bits(&native[node.id]) == bits(r);
        agree[node.id] = same;
        let exact_op = !matches!(
            node.op,
            Op::Conv1d { .. } | Op::Conv2d { .. } | Op::ConvTranspose2d { .. }
        );
        if exact_op && node.inputs.iter().all(|&i| agree[i]) {
            compared += 1;
            assert!(
                same,
                "{} ({}) differs from the f32 layer",
                node.node_ref(),
                node.op.tag()
            );
        }
    }
    assert!(
        compared > graph.nodes.len() / 2,
        "only {compared} nodes compared"
    );
}

/// Derivative kernels (`vjp`, `jvp`) run natively; the reference layers refuse them with an
/// error naming the node rather than computing something else.
#[test]
fn derivative_kernels_are_native_only() {
    let graph = derivative_op_graph();
    let mut rng = Rng::new(8);
    let inputs: Vec<Tensor> = graph
        .inputs()
        .map(|n| data(&mut rng, n.shape.dims(), false))
        .collect();
    let native = strata_ir::eval::run(&graph, &ParamStore::new(), &inputs, &Default::default());
    assert_eq!(native.unwrap().len(), 2);
    let err = interpret(&graph, &ParamStore::new(), &inputs, &F32Layer::new(), SEQ).unwrap_err();
    assert!(
        err.to_string().starts_with("node %") && err.to_string().contains("vjp"),
        "{err}"
    );
}
