//! Shape rules against PyTorch's documented formulas, with worked examples.

use strata_ir::{AttentionMask, Op, Reduction, TensorType};
use strata_tensor::{AvgPool2dParams, Conv1dParams, Conv2dParams, ConvTranspose2dParams};
use strata_tensor::{DType, MaxPool2dParams};

fn f32t(dims: &[usize]) -> TensorType {
    TensorType::new(dims, DType::F32)
}
fn typed(dims: &[usize], dtype: DType) -> TensorType {
    TensorType::new(dims, dtype)
}

/// The inferred dims, or the rule's message.
fn infer<const N: usize>(op: Op, inputs: [TensorType; N]) -> Result<Vec<usize>, String> {
    op.infer(&inputs).map(|t| t.shape.dims().to_vec())
}

fn fails<const N: usize>(op: Op, inputs: [TensorType; N], needle: &str) {
    match op.infer(&inputs) {
        Err(msg) => assert!(msg.contains(needle), "`{msg}` lacks `{needle}`"),
        Ok(t) => panic!("expected an error containing `{needle}`, got {t}"),
    }
}

#[test]
fn conv2d_follows_the_pytorch_formula() {
    // Ho = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1 = ⌊(32 + 2 − 8 − 1)/2⌋ + 1 = 13.
    let params = Conv2dParams {
        stride: [2, 2],
        padding: [1, 1],
        dilation: [2, 2],
        groups: 1,
    };
    let conv = Op::Conv2d { params, bias: true };
    let (x, w, b) = (f32t(&[1, 3, 32, 32]), f32t(&[16, 3, 5, 5]), f32t(&[16]));
    assert_eq!(
        infer(conv.clone(), [x, w.clone(), b.clone()]),
        Ok(vec![1, 16, 13, 13])
    );
    // Unbatched input, as PyTorch accepts it.
    assert_eq!(
        infer(conv.clone(), [f32t(&[3, 32, 32]), w.clone(), b]),
        Ok(vec![16, 13, 13])
    );
    fails(
        conv.clone(),
        [f32t(&[1, 3, 32, 32]), w, f32t(&[15])],
        "the bias must have shape [16]",
    );
    // Groups: weight [O, C/groups, kh, kw].
    let grouped = Op::Conv2d {
        params: Conv2dParams {
            groups: 2,
            ..Conv2dParams::default()
        },
        bias: false,
    };
    assert_eq!(
        infer(
            grouped.clone(),
            [f32t(&[1, 4, 10, 10]), f32t(&[6, 2, 3, 3])]
        ),
        Ok(vec![1, 6, 8, 8])
    );
    assert!(infer(grouped, [f32t(&[1, 4, 10, 10]), f32t(&[6, 3, 3, 3])]).is_err());
    fails(
        conv,
        [f32t(&[3, 32]), f32t(&[16, 3, 5, 5]), f32t(&[16])],
        "rank 4 (batched) or 3",
    );
}

#[test]
fn conv1d_and_conv_transpose2d_follow_the_pytorch_formulas() {
    // Lo = ⌊(50 + 4 − 4 − 1)/3⌋ + 1 = 17.
    let params = Conv1dParams {
        stride: 3,
        padding: 2,
        dilation: 1,
        groups: 1,
    };
    let conv1 = Op::Conv1d {
        params,
        bias: false,
    };
    assert_eq!(
        infer(conv1, [f32t(&[4, 3, 50]), f32t(&[8, 3, 5])]),
        Ok(vec![4, 8, 17])
    );
    // Ho = (H − 1)s − 2p + d(k − 1) + output_padding + 1 = 8 − 2 + 2 + 1 + 1 = 10.
    let params = ConvTranspose2dParams {
        stride: [2, 2],
        padding: [1, 1],
        output_padding: [1, 1],
        dilation: [1, 1],
        groups: 1,
    };
    let up = Op::ConvTranspose2d { params, bias: true };
    let out = infer(up, [f32t(&[1, 4, 5, 5]), f32t(&[4, 3, 3, 3]), f32t(&[3])]);
    assert_eq!(out, Ok(vec![1, 3, 10, 10]));
}

#[test]
fn pools_follow_the_pytorch_formulas() {
    // ⌊(7 + 2 − 2 − 1)/2⌋ + 1 = 4.
    let params = MaxPool2dParams {
        stride: [2, 2],
        padding: [1, 1],
        ..MaxPool2dParams::new([3, 3])
    };
    assert_eq!(
        infer(Op::MaxPool2d { params }, [f32t(&[1, 1, 7, 7])]),
        Ok(vec![1, 1, 4, 4])
    );
    // Floor mode: ⌊(6 − 3)/2⌋ + 1 = 2; ceil mode: ⌈3/2⌉ + 1 = 3 (the last window starts inside).
    let floor = MaxPool2dParams {
        stride: [2, 2],
        ..MaxPool2dParams::new([3, 3])
    };
    let ceil = MaxPool2dParams {
        ceil_mode: true,
        ..floor
    };
    assert_eq!(
        infer(Op::MaxPool2d { params: floor }, [f32t(&[1, 1, 6, 6])]),
        Ok(vec![1, 1, 2, 2])
    );
    assert_eq!(
        infer(Op::MaxPool2d { params: ceil }, [f32t(&[1, 1, 6, 6])]),
        Ok(vec![1, 1, 3, 3])
    );
    let avg = AvgPool2dParams::new([3, 3]);
    assert_eq!(
        infer(Op::AvgPool2d { params: avg }, [f32t(&[3, 9, 9])]),
        Ok(vec![3, 3, 3])
    );
    // PyTorch: padding must be at most half the kernel.
    let too_padded = AvgPool2dParams {
        padding: [2, 2],
        ..AvgPool2dParams::new([2, 2])
    };
    assert!(infer(Op::AvgPool2d { params: too_padded }, [f32t(&[1, 1, 8, 8])]).is_err());
    let adaptive = Op::AdaptiveAvgPool2d {
        output_size: [3, 3],
    };
    assert_eq!(
        infer(adaptive.clone(), [f32t(&[1, 2, 7, 9])]),
        Ok(vec![1, 2, 3, 3])
    );
    fails(adaptive, [f32t(&[1, 2, 0, 9])], "empty");
}

#[test]
fn matmul_follows_torch_matmul() {
    let cases: [(&[usize], &[usize], &[usize]); 5] = [
        (&[3], &[3], &[]),
        (&[2, 3], &[3], &[2]),
        (&[3], &[3, 4], &[4]),
        (&[2, 3], &[3, 4], &[2, 4]),
        (&[10, 1, 2, 3], &[5, 3, 4], &[10, 5, 2, 4]),
    ];
    for (a, b, out) in cases {
        assert_eq!(
            infer(Op::Matmul, [f32t(a), f32t(b)]),
            Ok(out.to_vec()),
            "{a:?}·{b:?}"
        );
    }
    fails(
        Op::Matmul,
        [f32t(&[2, 3]), f32t(&[4, 5])],
        "contracted dimensions differ",
    );
    fails(
        Op::Matmul,
        [f32t(&[2, 2, 3]), f32t(&[3, 3, 4])],
        "batch dimensions [2] and [3]",
    );
    fails(
        Op::Matmul,
        [f32t(&[]), f32t(&[3])],
        "at least one dimension",
    );
    let linear = Op::Linear { bias: true };
    let out = infer(
        linear.clone(),
        [f32t(&[5, 7, 3]), f32t(&[4, 3]), f32t(&[4])],
    );
    assert_eq!(out, Ok(vec![5, 7, 4]));
    fails(
        linear,
        [f32t(&[5, 2]), f32t(&[4, 3]), f32t(&[4])],
        "weight's 3 input features",
    );
}

#[test]
fn elementwise_ops_broadcast_and_never_promote() {
    assert_eq!(infer(Op::Add, [f32t(&[3, 1]), f32t(&[4])]), Ok(vec![3, 4]));
    assert_eq!(
        infer(Op::Maximum, [f32t(&[]), f32t(&[2, 5])]),
        Ok(vec![2, 5])
    );
    fails(Op::Add, [f32t(&[2, 3]), f32t(&[3, 2])], "do not broadcast");
    fails(
        Op::Mul,
        [f32t(&[2]), typed(&[2], DType::F64)],
        "share one dtype, got f32 and f64",
    );
    let ints = typed(&[2], DType::I64);
    assert_eq!(
        Op::Add.infer(&[ints.clone(), ints.clone()]),
        Ok(ints.clone())
    );
    fails(
        Op::Div,
        [ints.clone(), ints.clone()],
        "needs a float dtype, got i64",
    );
    fails(Op::Exp, [ints.clone()], "float");
    assert_eq!(
        Op::Detach.infer(&[typed(&[2], DType::Bool)]),
        Ok(typed(&[2], DType::Bool))
    );
    fails(Op::Neg, [typed(&[2], DType::Bool)], "numeric");
    fails(Op::Relu, [], "takes exactly 1 inputs, got 0");
}

#[test]
fn reductions_reduce_exactly_the_listed_axes() {
    let x = f32t(&[2, 3, 4]);
    let sum = |axes: Vec<isize>, keepdim| Op::ReduceSum { axes, keepdim };
    assert_eq!(infer(sum(vec![0, 2], true), [x.clone()]), Ok(vec![1, 3, 1]));
    assert_eq!(infer(sum(vec![0, -1], false), [x.clone()]), Ok(vec![3]));
    assert_eq!(infer(sum(vec![], false), [x.clone()]), Ok(vec![2, 3, 4]));
    fails(sum(vec![1, -2], false), [x.clone()], "listed twice");
    fails(
        sum(vec![3], false),
        [x.clone()],
        "axis 3 is out of range for rank 3",
    );
    let max = Op::ReduceMax {
        axes: vec![1],
        keepdim: false,
    };
    fails(max, [f32t(&[2, 0])], "empty axis");
    let mean = Op::ReduceMean {
        axes: vec![0],
        keepdim: false,
    };
    fails(mean, [typed(&[2], DType::I64)], "float");
}

#[test]
fn shape_ops_follow_pytorch() {
    let x = f32t(&[2, 3, 4]);
    assert_eq!(
        infer(Op::Reshape { shape: vec![4, -1] }, [x.clone()]),
        Ok(vec![4, 6])
    );
    fails(
        Op::Reshape {
            shape: vec![-1, -1],
        },
        [x.clone()],
        "one -1 at most",
    );
    fails(
        Op::Reshape { shape: vec![5, 5] },
        [x.clone()],
        "does not hold 24 elements",
    );
    fails(
        Op::Reshape { shape: vec![0, -1] },
        [f32t(&[0, 3])],
        "cannot infer",
    );
    let flatten = |start_axis, end_axis| Op::Flatten {
        start_axis,
        end_axis,
    };
    assert_eq!(
        infer(flatten(1, 2), [f32t(&[2, 3, 4, 5])]),
        Ok(vec![2, 12, 5])
    );
    assert_eq!(infer(flatten(0, -1), [f32t(&[])]), Ok(vec![1]));
    fails(flatten(2, 1), [x.clone()], "comes after");
    assert_eq!(
        infer(
            Op::Permute {
                perm: vec![2, 0, 1]
            },
            [x.clone()]
        ),
        Ok(vec![4, 2, 3])
    );
    fails(
        Op::Permute {
            perm: vec![0, 0, 1],
        },
        [x.clone()],
        "not a permutation",
    );
    fails(
        Op::Permute { perm: vec![0, 1] },
        [x.clone()],
        "not a permutation",
    );
    assert_eq!(
        infer(
            Op::Transpose {
                axis0: 0,
                axis1: -1
            },
            [x.clone()]
        ),
        Ok(vec![4, 3, 2])
    );
    let to = |dims: &[usize]| Op::BroadcastTo { shape: dims.into() };
    assert_eq!(infer(to(&[5, 2, 3, 4]), [x.clone()]), Ok(vec![5, 2, 3, 4]));
    fails(to(&[3, 4]), [x.clone()], "does not broadcast to [3, 4]");
    let cat = Op::Concat { axis: 0 };
    assert_eq!(
        infer(cat.clone(), [f32t(&[2, 3]), f32t(&[4, 3])]),
        Ok(vec![6, 3])
    );
    fails(cat, [f32t(&[2, 3]), f32t(&[2, 4])], "differ off axis 0");
    let split = |sizes: Vec<usize>, index| Op::Split {
        axis: 0,
        sizes,
        index,
    };
    assert_eq!(
        infer(split(vec![3, 7], 1), [f32t(&[10, 4])]),
        Ok(vec![7, 4])
    );
    fails(split(vec![3, 3], 0), [f32t(&[10, 4])], "do not add up");
    fails(split(vec![3, 7], 2), [f32t(&[10, 4])], "piece 2 of 2");
    // Python slices: x[2:-1:3] of 10 takes 2, 5, 8; bounds clamp; an empty range is empty.
    let slice = |start, end, step| Op::Slice {
        axis: -1,
        start,
        end,
        step,
    };
    let ten = f32t(&[10]);
    assert_eq!(infer(slice(2, -1, 3), [ten.clone()]), Ok(vec![3]));
    assert_eq!(infer(slice(-100, 100, 1), [ten.clone()]), Ok(vec![10]));
    assert_eq!(infer(slice(8, 2, 1), [ten.clone()]), Ok(vec![0]));
    fails(slice(0, 1, 0), [ten], "step");
    // F.pad pairs start from the last axis.
    let pad = Op::Pad {
        pads: vec![[1, 1], [2, 0]],
        value: 0.0,
    };
    assert_eq!(infer(pad, [x.clone()]), Ok(vec![2, 5, 6]));
}

#[test]
fn normalization_checks_its_parameters() {
    let x = f32t(&[8, 16, 4, 4]);
    let c = f32t(&[16]);
    let bn = Op::BatchNorm {
        eps: 1e-5,
        affine: true,
    };
    let ok = bn.infer(&[x.clone(), c.clone(), c.clone(), c.clone(), c.clone()]);
    assert_eq!(ok, Ok(x.clone()));
    fails(
        bn,
        [x.clone(), c.clone(), f32t(&[15]), c.clone(), c.clone()],
        "running_var must have shape [16]",
    );
    let gn = Op::GroupNorm {
        num_groups: 5,
        eps: 1e-5,
        affine: false,
    };
    fails(gn, [x.clone()], "16 channels do not split into 5 groups");
    let ln = |normalized_shape: Vec<usize>| Op::LayerNorm {
        normalized_shape,
        eps: 1e-5,
        affine: false,
    };
    assert_eq!(
        ln(vec![4, 4]).infer(std::slice::from_ref(&x)),
        Ok(x.clone())
    );
    fails(ln(vec![16]), [x.clone()], "trailing dims");
    let rms = Op::RmsNorm {
        normalized_shape: vec![4],
        eps: None,
        affine: true,
    };
    fails(rms, [x, f32t(&[5])], "weight must have shape [4]");
}

#[test]
fn attention_and_softmax_shapes() {
    let sdpa = |mask| Op::ScaledDotProductAttention { mask, scale: None };
    let (q, k, v) = (
        f32t(&[2, 8, 4, 16]),
        f32t(&[2, 8, 6, 16]),
        f32t(&[2, 8, 6, 32]),
    );
    let qkv = [q.clone(), k.clone(), v.clone()];
    assert_eq!(
        infer(sdpa(AttentionMask::Causal), qkv),
        Ok(vec![2, 8, 4, 32])
    );
    let mask = typed(&[4, 6], DType::Bool);
    let with_mask = [q.clone(), k.clone(), v.clone(), mask];
    assert_eq!(
        infer(sdpa(AttentionMask::Explicit), with_mask),
        Ok(vec![2, 8, 4, 32])
    );
    let bad_mask = [q.clone(), k.clone(), v.clone(), typed(&[4, 5], DType::Bool)];
    fails(
        sdpa(AttentionMask::Explicit),
        bad_mask,
        "does not broadcast to [2, 8, 4, 6]",
    );
    let float_mask = [q.clone(), k.clone(), v, f32t(&[4, 6])];
    fails(sdpa(AttentionMask::Explicit), float_mask, "must be bool");
    fails(
        sdpa(AttentionMask::None),
        [q, k.clone(), k.clone(), k],
        "takes exactly 3 inputs",
    );
    fails(Op::Softmax { axis: 2 }, [f32t(&[2, 3])], "out of range");
    fails(
        Op::MaskedSoftmax { axis: -1 },
        [f32t(&[2, 3]), typed(&[2, 1, 3], DType::Bool)],
        "does not broadcast",
    );
}

#[test]
fn indexing_shapes() {
    let idx = typed(&[3, 5], DType::I64);
    assert_eq!(
        infer(Op::Embedding, [idx.clone(), f32t(&[100, 16])]),
        Ok(vec![3, 5, 16])
    );
    fails(
        Op::Embedding,
        [f32t(&[3]), f32t(&[100, 16])],
        "indices must be i64",
    );
    let gather = Op::Gather { axis: 1 };
    assert_eq!(
        infer(gather.clone(), [f32t(&[3, 4]), typed(&[3, 2], DType::I64)]),
        Ok(vec![3, 2])
    );
    assert_eq!(
        infer(gather.clone(), [f32t(&[3, 4]), typed(&[2, 9], DType::I64)]),
        Ok(vec![2, 9])
    );
    fails(
        gather,
        [f32t(&[3, 4]), typed(&[4, 2], DType::I64)],
        "exceeds",
    );
}

#[test]
fn loss_shapes() {
    let ce = |reduction| Op::CrossEntropy { reduction };
    let labels = typed(&[4], DType::I64);
    assert_eq!(
        infer(ce(Reduction::None), [f32t(&[4, 10]), labels.clone()]),
        Ok(vec![4])
    );
    assert_eq!(
        infer(ce(Reduction::Mean), [f32t(&[4, 10]), labels.clone()]),
        Ok(vec![])
    );
    let spatial = [f32t(&[4, 10, 5, 5]), typed(&[4, 5, 5], DType::I64)];
    assert_eq!(infer(ce(Reduction::None), spatial), Ok(vec![4, 5, 5]));
    assert_eq!(
        infer(ce(Reduction::Sum), [f32t(&[10]), typed(&[], DType::I64)]),
        Ok(vec![])
    );
    assert_eq!(
        infer(ce(Reduction::None), [f32t(&[4, 10]), f32t(&[4, 10])]),
        Ok(vec![4])
    );
    let nll = Op::NllLoss {
        reduction: Reduction::Mean,
    };
    fails(
        nll,
        [f32t(&[4, 10]), f32t(&[4, 10])],
        "i64 class indices [4]",
    );
    let mse = Op::MseLoss {
        reduction: Reduction::None,
    };
    assert_eq!(
        infer(mse.clone(), [f32t(&[2, 3]), f32t(&[2, 3])]),
        Ok(vec![2, 3])
    );
    fails(mse, [f32t(&[2, 3]), f32t(&[3])], "equal shapes");
}

#[test]
fn random_ops_check_their_parameters() {
    let mask = |dims: &[usize]| Op::BernoulliMask {
        shape: dims.into(),
        seed: 1,
    };
    assert_eq!(infer(mask(&[2, 3]), [f32t(&[])]), Ok(vec![2, 3]));
    assert_eq!(infer(mask(&[2, 3]), [f32t(&[2, 1])]), Ok(vec![2, 3]));
    fails(mask(&[2, 3]), [f32t(&[2])], "do not broadcast");
    fails(
        Op::Dropout { p: 1.5, seed: 0 },
        [f32t(&[2])],
        "not in [0, 1]",
    );
    let uniform = |low, high| Op::RandUniform {
        shape: [2].into(),
        dtype: DType::F32,
        low,
        high,
        seed: 0,
    };
    assert_eq!(infer(uniform(-1.0, 1.0), []), Ok(vec![2]));
    fails(uniform(1.0, -1.0), [], "not a finite interval");
}
