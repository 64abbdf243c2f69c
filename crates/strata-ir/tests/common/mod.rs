//! A graph that uses every op of the vocabulary, with valid shapes throughout.

use strata_ir::{
    AttentionMask, Comparison, GeluApproximation, Graph, GraphBuilder, Literal, NodeId, Op,
    Reduction,
};
use strata_tensor::{AvgPool2dParams, Conv1dParams, Conv2dParams, ConvTranspose2dParams};
use strata_tensor::{DType, MaxPool2dParams, Shape, Tensor};

pub const F32: DType = DType::F32;

pub struct Builder(pub GraphBuilder);

impl Builder {
    pub fn new() -> Self {
        Builder(GraphBuilder::new())
    }
    pub fn op(&mut self, op: Op, inputs: &[NodeId]) -> NodeId {
        match self.0.push(op, inputs) {
            Ok(id) => id,
            Err(e) => panic!("{e}"),
        }
    }
    pub fn input(&mut self, name: &str, dims: &[usize], dtype: DType) -> NodeId {
        let op = Op::Input {
            shape: Shape::from(dims),
            dtype,
        };
        self.0.push_named(name, op, &[]).unwrap()
    }
    pub fn param(&mut self, name: &str, dims: &[usize]) -> NodeId {
        let op = Op::Parameter {
            name: name.into(),
            shape: Shape::from(dims),
            dtype: F32,
        };
        self.op(op, &[])
    }
    pub fn constant(&mut self, t: Tensor) -> NodeId {
        self.op(Op::Constant { value: Literal(t) }, &[])
    }
}

/// Every op at least once, with valid shapes.
pub fn every_op_graph() -> Graph {
    let mut b = Builder::new();
    let x = b.input("x", &[2, 3, 8, 8], F32);
    let w = b.param("conv.weight", &[4, 3, 3, 3]);
    let bias = b.param("conv.bias", &[4]);
    let conv = Conv2dParams {
        padding: [1, 1],
        ..Conv2dParams::default()
    };
    let c = b.op(
        Op::Conv2d {
            params: conv,
            bias: true,
        },
        &[x, w, bias],
    );
    let wt = b.param("up.weight", &[4, 2, 2, 2]);
    let up = ConvTranspose2dParams {
        stride: [2, 2],
        padding: [0, 0],
        output_padding: [0, 0],
        dilation: [1, 1],
        groups: 1,
    };
    b.op(
        Op::ConvTranspose2d {
            params: up,
            bias: false,
        },
        &[c, wt],
    );
    b.op(
        Op::MaxPool2d {
            params: MaxPool2dParams::new([2, 2]),
        },
        &[c],
    );
    b.op(
        Op::AvgPool2d {
            params: AvgPool2dParams::new([2, 2]),
        },
        &[c],
    );
    b.op(
        Op::AdaptiveAvgPool2d {
            output_size: [1, 1],
        },
        &[c],
    );
    let stats: Vec<NodeId> = ["mean", "var", "weight", "bias"]
        .iter()
        .map(|r| b.param(&format!("bn.{r}"), &[4]))
        .collect();
    let bn = b.op(
        Op::BatchNorm {
            eps: 1e-5,
            affine: true,
        },
        &[c, stats[0], stats[1], stats[2], stats[3]],
    );
    let gn = b.op(
        Op::GroupNorm {
            num_groups: 2,
            eps: 1e-5,
            affine: true,
        },
        &[bn, stats[2], stats[3]],
    );
    let ln = b.op(
        Op::LayerNorm {
            normalized_shape: vec![8],
            eps: 1e-6,
            affine: false,
        },
        &[gn],
    );
    let rms_w = b.param("rms.weight", &[8, 8]);
    let rms = b.op(
        Op::RmsNorm {
            normalized_shape: vec![8, 8],
            eps: None,
            affine: true,
        },
        &[ln, rms_w],
    );
    let seq = b.input("seq", &[2, 3, 10], F32);
    let w1 = b.param("conv1.weight", &[5, 3, 3]);
    b.op(
        Op::Conv1d {
            params: Conv1dParams::default(),
            bias: false,
        },
        &[seq, w1],
    );
    let flat = b.op(
        Op::Flatten {
            start_axis: 1,
            end_axis: -1,
        },
        &[rms],
    );
    let fw = b.param("fc.weight", &[10, 256]);
    let fb = b.param("fc.bias", &[10]);
    let fc = b.op(Op::Linear { bias: true }, &[flat, fw, fb]);
    let m = b.param("proj", &[10, 6]);
    let mut h = b.op(Op::Matmul, &[fc, m]);
    let unary = [
        Op::Neg,
        Op::Abs,
        Op::Sqrt,
        Op::Reciprocal,
        Op::Square,
        Op::Exp,
        Op::Log,
        Op::Sin,
        Op::Cos,
        Op::Tanh,
        Op::Sigmoid,
        Op::Relu,
        Op::LeakyRelu {
            negative_slope: 0.01,
        },
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
        Op::Detach,
        Op::Erf,
        Op::Sign,
        Op::Floor,
    ];
    for op in unary {
        h = b.op(op, &[h]);
    }
    let row =
        b.constant(Tensor::from_vec(vec![1.0f32, -0.0, 2.5, 1e-30, 3.0, 0.125], [6]).unwrap());
    for op in [
        Op::Add,
        Op::Sub,
        Op::Mul,
        Op::Div,
        Op::Pow,
        Op::Minimum,
        Op::Maximum,
    ] {
        h = b.op(op, &[h, row]);
    }
    let positive = b.op(
        Op::Compare {
            cmp: Comparison::Gt,
        },
        &[h, row],
    );
    let negative = b.op(Op::LogicalNot, &[positive]);
    let both = b.op(Op::LogicalAnd, &[positive, negative]);
    let either = b.op(Op::LogicalOr, &[positive, both]);
    h = b.op(Op::Where, &[either, h, row]);
    let as_f64 = b.op(Op::Cast { dtype: DType::F64 }, &[h]);
    b.op(Op::Cast { dtype: F32 }, &[as_f64]);
    b.op(
        Op::Trilu {
            upper: true,
            diagonal: -1,
        },
        &[h],
    );
    b.op(
        Op::ArgMax {
            axis: -1,
            keepdim: false,
        },
        &[h],
    );
    b.op(
        Op::Tile {
            repeats: vec![2, 1],
        },
        &[h],
    );
    b.op(
        Op::Einsum {
            equation: "ij,kj->ik".into(),
        },
        &[h, h],
    );
    let sm = b.op(Op::Softmax { axis: -1 }, &[h]);
    let lsm = b.op(Op::LogSoftmax { axis: 1 }, &[sm]);
    let mask =
        b.constant(Tensor::from_vec(vec![true, true, false, true, true, true], [1, 6]).unwrap());
    b.op(Op::MaskedSoftmax { axis: -1 }, &[h, mask]);
    let q = b.input("q", &[2, 4, 8], F32);
    let k = b.input("k", &[2, 5, 8], F32);
    let v = b.input("v", &[2, 5, 3], F32);
    let amask = b.constant(Tensor::from_vec(vec![true; 20], [4, 5]).unwrap());
    b.op(
        Op::ScaledDotProductAttention {
            mask: AttentionMask::Explicit,
            scale: Some(0.5),
        },
        &[q, k, v, amask],
    );
    b.op(
        Op::ScaledDotProductAttention {
            mask: AttentionMask::Causal,
            scale: None,
        },
        &[q, k, v],
    );
    let tokens = b.input("tokens", &[2, 7], DType::I64);
    let table = b.param("embed", &[11, 6]);
    b.op(Op::Embedding, &[tokens, table]);
    let index = b.constant(Tensor::from_vec(vec![0i64, 5, 2, 2], [2, 2]).unwrap());
    b.op(Op::Gather { axis: 1 }, &[h, index]);
    let r = b.op(Op::Reshape { shape: vec![3, -1] }, &[h]);
    let p = b.op(Op::Permute { perm: vec![1, 0] }, &[r]);
    let t = b.op(
        Op::Transpose {
            axis0: 0,
            axis1: -1,
        },
        &[p],
    );
    b.op(
        Op::BroadcastTo {
            shape: Shape::from([5, 3, 4]),
        },
        &[t],
    );
    let cat = b.op(Op::Concat { axis: 0 }, &[t, r]);
    let piece = b.op(
        Op::Split {
            axis: 0,
            sizes: vec![2, 4],
            index: 1,
        },
        &[cat],
    );
    let sl = b.op(
        Op::Slice {
            axis: 1,
            start: -3,
            end: 100,
            step: 2,
        },
        &[piece],
    );
    let pad = b.op(
        Op::Pad {
            pads: vec![[1, 2]],
            value: f64::NEG_INFINITY,
        },
        &[sl],
    );
    b.op(
        Op::ReduceSum {
            axes: vec![1],
            keepdim: true,
        },
        &[pad],
    );
    b.op(
        Op::ReduceMean {
            axes: vec![0],
            keepdim: false,
        },
        &[pad],
    );
    b.op(
        Op::ReduceMax {
            axes: vec![-1, 0],
            keepdim: false,
        },
        &[pad],
    );
    let target = b.input("target", &[2, 6], F32);
    let mse = b.op(
        Op::MseLoss {
            reduction: Reduction::Mean,
        },
        &[h, target],
    );
    let labels = b.input("labels", &[2], DType::I64);
    let ce = b.op(
        Op::CrossEntropy {
            reduction: Reduction::Mean,
        },
        &[h, labels],
    );
    b.op(
        Op::NllLoss {
            reduction: Reduction::Sum,
        },
        &[lsm, labels],
    );
    b.op(
        Op::BceWithLogits {
            reduction: Reduction::None,
        },
        &[h, target],
    );
    b.op(Op::Dropout { p: 0.1, seed: 7 }, &[h]);
    b.op(
        Op::RandUniform {
            shape: Shape::from([2, 6]),
            dtype: F32,
            low: -1.0,
            high: 1.0,
            seed: 3,
        },
        &[],
    );
    let half = b.constant(Tensor::scalar(0.5f32));
    b.op(
        Op::BernoulliMask {
            shape: Shape::from([2, 6]),
            seed: 9,
        },
        &[half],
    );
    b.0.finish(&[mse, ce]).unwrap()
}

// Shared by several test crates, not all of which use it.
#[allow(dead_code)]
/// The derivative-kernel ops (`vjp`, `jvp`), which model graphs never contain but compiled
/// backward graphs do: max pooling's VJP and JVP on one image.
pub fn derivative_op_graph() -> Graph {
    let mut b = Builder::new();
    let x = b.input("x", &[1, 2, 4, 4], F32);
    let pool = Op::MaxPool2d {
        params: MaxPool2dParams::new([2, 2]),
    };
    let g = b.input("g", &[1, 2, 2, 2], F32);
    let t = b.input("t", &[1, 2, 4, 4], F32);
    let vjp = b.op(
        Op::Vjp {
            of: Box::new(pool.clone()),
            input: 0,
        },
        &[x, g],
    );
    let jvp = b.op(Op::Jvp { of: Box::new(pool) }, &[x, t]);
    b.0.finish(&[vjp, jvp]).unwrap()
}
