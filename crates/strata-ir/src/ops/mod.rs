//! Each op's local rules, grouped by family: one folder per family (`elementwise`, `conv`,
//! `norm`, …) holding, per op or per group of ops that share a rule:
//!
//! - `mod.rs`: the **shape rule** (output shape and dtype from the input types and the
//!   attributes); the arity is declared in [`Op::arity`] below, next to the dispatch;
//! - `reference.rs`: the **reference forward rule**, generic over the numeric layer (the
//!   interpreter of [`crate::interpret`]: f32, f64, Ieee32, Fp32, intervals);
//! - `native.rs` (where an op needs more than one tensor call): the **native kernels**;
//! - `error.rs`: the **local error rule** (|native − exact| of the result from its operands'
//!   enclosures and errors), where the family needs one beyond its reference rule run in the
//!   error layer ([`crate::error_bound`]).
//!
//! Two rules are written once for all ops, against [`crate::OpSink`], because they compose
//! other ops: [`Op::decompose`] (`decompose.rs`: composite ops such as linear, the norms,
//! attention and the losses as compositions of primitives) and the **VJP and JVP** of every op
//! (`grad.rs`: one derivative factor per elementwise op, adjoints of the linear ops,
//! derivatives through decompositions, and `vjp`/`jvp` derivative kernels). Interval (IBP),
//! linear-relaxation (CROWN) and error-bound rules go into the family folders as they land.
//! Graph-level algorithms that compose these rules live in their own crates.
//!
//! A rule returns a message saying what it expected; the graph wraps it with the node, the op
//! tag and the input types.

use crate::op::{Arity, AttentionMask, Op};
use std::fmt;
use strata_tensor::{resolve_axis, DType, Shape};

pub(crate) mod attention;
pub(crate) mod conv;
mod decompose;
pub(crate) mod elementwise;
pub mod grad;
pub(crate) mod index;
pub(crate) mod linalg;
pub(crate) mod loss;
pub(crate) mod norm;
pub(crate) mod random;
pub(crate) mod reduce;
pub(crate) mod shape;
pub(crate) mod source;

/// The static type of a value: shape and dtype.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TensorType {
    pub shape: Shape,
    pub dtype: DType,
}

impl TensorType {
    pub fn new(shape: impl Into<Shape>, dtype: DType) -> Self {
        TensorType {
            shape: shape.into(),
            dtype,
        }
    }
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }
    pub fn rank(&self) -> usize {
        self.shape.rank()
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.dtype, self.shape)
    }
}

/// What a shape rule returns: the output type, or what it expected instead.
pub(crate) type RuleResult = Result<TensorType, String>;

impl Op {
    /// How many inputs the op takes (optional inputs are switched on by attributes).
    pub fn arity(&self) -> Arity {
        use Arity::Exactly;
        let plus_optional = |base: usize, optional: bool| Exactly(base + usize::from(optional));
        match self {
            Op::Input { .. }
            | Op::Constant { .. }
            | Op::Parameter { .. }
            | Op::RandUniform { .. } => Exactly(0),
            Op::Neg
            | Op::Abs
            | Op::Sqrt
            | Op::Reciprocal
            | Op::Square
            | Op::Exp
            | Op::Log
            | Op::Sin
            | Op::Cos
            | Op::Tanh
            | Op::Sigmoid
            | Op::Relu
            | Op::LeakyRelu { .. }
            | Op::Gelu { .. }
            | Op::Silu
            | Op::Softplus { .. }
            | Op::Detach
            | Op::Erf
            | Op::Sign
            | Op::Floor
            | Op::LogicalNot
            | Op::Cast { .. }
            | Op::Trilu { .. }
            | Op::ArgMax { .. }
            | Op::Tile { .. }
            | Op::MaxPool2d { .. }
            | Op::AvgPool2d { .. }
            | Op::AdaptiveAvgPool2d { .. }
            | Op::Softmax { .. }
            | Op::LogSoftmax { .. }
            | Op::Reshape { .. }
            | Op::Flatten { .. }
            | Op::Permute { .. }
            | Op::Transpose { .. }
            | Op::BroadcastTo { .. }
            | Op::Split { .. }
            | Op::Slice { .. }
            | Op::Pad { .. }
            | Op::ReduceSum { .. }
            | Op::ReduceMean { .. }
            | Op::ReduceMax { .. }
            | Op::Dropout { .. }
            | Op::BernoulliMask { .. } => Exactly(1),
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Pow
            | Op::Minimum
            | Op::Maximum
            | Op::Compare { .. }
            | Op::LogicalAnd
            | Op::LogicalOr
            | Op::Matmul
            | Op::MaskedSoftmax { .. }
            | Op::Embedding
            | Op::Gather { .. }
            | Op::MseLoss { .. }
            | Op::CrossEntropy { .. }
            | Op::NllLoss { .. }
            | Op::BceWithLogits { .. } => Exactly(2),
            Op::Linear { bias }
            | Op::Conv1d { bias, .. }
            | Op::Conv2d { bias, .. }
            | Op::ConvTranspose2d { bias, .. } => plus_optional(2, *bias),
            Op::BatchNorm { affine, .. } => Exactly(if *affine { 5 } else { 3 }),
            Op::LayerNorm { affine, .. } | Op::GroupNorm { affine, .. } => {
                Exactly(if *affine { 3 } else { 1 })
            }
            Op::RmsNorm { affine, .. } => plus_optional(1, *affine),
            Op::ScaledDotProductAttention { mask, .. } => {
                plus_optional(3, *mask == AttentionMask::Explicit)
            }
            Op::Where => Exactly(3),
            Op::Concat { .. } | Op::Einsum { .. } => Arity::AtLeast(1),
            Op::Vjp { of, .. } | Op::Jvp { of } => match of.arity() {
                Exactly(k) => Exactly(k + 1),
                Arity::AtLeast(k) => Arity::AtLeast(k + 1),
            },
        }
    }

    /// The output type of this op applied to inputs of the given types, or what the op
    /// expected instead (the caller names the node).
    pub fn infer(&self, inputs: &[TensorType]) -> Result<TensorType, String> {
        if !self.arity().admits(inputs.len()) {
            return Err(format!(
                "takes {} inputs, got {}",
                self.arity(),
                inputs.len()
            ));
        }
        let out = match self {
            Op::Input { shape, dtype } | Op::Parameter { shape, dtype, .. } => {
                Ok(source::declared(shape, *dtype))
            }
            Op::Constant { value } => Ok(source::constant(value)),
            Op::Neg
            | Op::Abs
            | Op::Sqrt
            | Op::Reciprocal
            | Op::Square
            | Op::Exp
            | Op::Log
            | Op::Sin
            | Op::Cos
            | Op::Tanh
            | Op::Sigmoid
            | Op::Relu
            | Op::LeakyRelu { .. }
            | Op::Gelu { .. }
            | Op::Silu
            | Op::Softplus { .. }
            | Op::Detach
            | Op::Erf
            | Op::Sign
            | Op::Floor
            | Op::LogicalNot => elementwise::unary(self, &inputs[0]),
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Pow
            | Op::Minimum
            | Op::Maximum
            | Op::Compare { .. }
            | Op::LogicalAnd
            | Op::LogicalOr => elementwise::binary(self, &inputs[0], &inputs[1]),
            Op::Where => elementwise::where_(&inputs[0], &inputs[1], &inputs[2]),
            Op::Cast { dtype } => Ok(TensorType::new(inputs[0].shape.clone(), *dtype)),
            Op::Einsum { equation } => linalg::einsum(equation, inputs),
            Op::Trilu { .. } => index::trilu(&inputs[0]),
            Op::ArgMax { axis, keepdim } => index::arg_max(*axis, *keepdim, &inputs[0]),
            Op::Tile { repeats } => shape::tile(repeats, &inputs[0]),
            Op::Matmul => linalg::matmul(&inputs[0], &inputs[1]),
            Op::Linear { .. } => linalg::linear(inputs),
            Op::Conv1d { params, .. } => conv::conv1d(params, inputs),
            Op::Conv2d { params, .. } => conv::conv2d(params, inputs),
            Op::ConvTranspose2d { params, .. } => conv::conv_transpose2d(params, inputs),
            Op::MaxPool2d { params } => conv::max_pool2d(params, &inputs[0]),
            Op::AvgPool2d { params } => conv::avg_pool2d(params, &inputs[0]),
            Op::AdaptiveAvgPool2d { output_size } => {
                conv::adaptive_avg_pool2d(*output_size, &inputs[0])
            }
            Op::BatchNorm { eps, .. } => norm::batch_norm(*eps, inputs),
            Op::LayerNorm {
                normalized_shape,
                eps,
                ..
            } => norm::trailing_norm(normalized_shape, Some(*eps), inputs),
            Op::RmsNorm {
                normalized_shape,
                eps,
                ..
            } => norm::trailing_norm(normalized_shape, *eps, inputs),
            Op::GroupNorm {
                num_groups, eps, ..
            } => norm::group_norm(*num_groups, *eps, inputs),
            Op::Softmax { axis } | Op::LogSoftmax { axis } => attention::softmax(*axis, &inputs[0]),
            Op::MaskedSoftmax { axis } => attention::masked_softmax(*axis, &inputs[0], &inputs[1]),
            Op::ScaledDotProductAttention { scale, .. } => {
                attention::scaled_dot_product_attention(*scale, inputs)
            }
            Op::Embedding => index::embedding(&inputs[0], &inputs[1]),
            Op::Gather { axis } => index::gather(*axis, &inputs[0], &inputs[1]),
            Op::Reshape { shape } => shape::reshape(shape, &inputs[0]),
            Op::Flatten {
                start_axis,
                end_axis,
            } => shape::flatten(*start_axis, *end_axis, &inputs[0]),
            Op::Permute { perm } => shape::permute(perm, &inputs[0]),
            Op::Transpose { axis0, axis1 } => shape::transpose(*axis0, *axis1, &inputs[0]),
            Op::BroadcastTo { shape } => shape::broadcast_to(shape, &inputs[0]),
            Op::Concat { axis } => shape::concat(*axis, inputs),
            Op::Split { axis, sizes, index } => shape::split(*axis, sizes, *index, &inputs[0]),
            Op::Slice {
                axis,
                start,
                end,
                step,
            } => shape::slice(*axis, *start, *end, *step, &inputs[0]),
            Op::Pad { pads, .. } => shape::pad(pads, &inputs[0]),
            Op::ReduceSum { axes, keepdim }
            | Op::ReduceMean { axes, keepdim }
            | Op::ReduceMax { axes, keepdim } => reduce::reduce(self, axes, *keepdim, &inputs[0]),
            Op::MseLoss { reduction } | Op::BceWithLogits { reduction } => {
                loss::same_shape_loss(*reduction, &inputs[0], &inputs[1])
            }
            Op::CrossEntropy { reduction } => {
                loss::class_loss(*reduction, true, &inputs[0], &inputs[1])
            }
            Op::NllLoss { reduction } => {
                loss::class_loss(*reduction, false, &inputs[0], &inputs[1])
            }
            Op::Dropout { p, .. } => random::dropout(*p, &inputs[0]),
            Op::RandUniform {
                shape,
                dtype,
                low,
                high,
                ..
            } => random::rand_uniform(shape, *dtype, *low, *high),
            Op::BernoulliMask { shape, .. } => random::bernoulli_mask(shape, &inputs[0]),
            Op::Vjp { of, input } => derivative_type(of, Some(*input), inputs),
            Op::Jvp { of } => derivative_type(of, None, inputs),
        }?;
        if out.shape.checked_numel().is_none() {
            return Err(format!("the output shape {} overflows", out.shape));
        }
        Ok(out)
    }
}

/// `vjp`: the type of `of`'s input `input`; `jvp`: `of`'s output type. The last input (the
/// cotangent or tangent) must have the type it pairs with.
fn derivative_type(of: &Op, input: Option<usize>, inputs: &[TensorType]) -> RuleResult {
    let (forward, last) = inputs.split_at(inputs.len() - 1);
    let out = of.infer(forward)?;
    let (paired, result) = match input {
        Some(i) => {
            let ty = forward
                .get(i)
                .ok_or_else(|| format!("{} has no input {i}", of.tag()))?;
            (out, ty.clone())
        }
        None => (forward[0].clone(), out),
    };
    if last[0] != paired {
        return Err(format!(
            "the last input must be {paired} for {}, got {}",
            of.tag(),
            last[0]
        ));
    }
    Ok(result)
}

// ----- helpers the families share -----

/// A PyTorch-style axis resolved against `rank`.
pub(crate) fn axis(axis: isize, rank: usize) -> Result<usize, String> {
    resolve_axis("", axis, rank).map_err(|_| format!("axis {axis} is out of range for rank {rank}"))
}

/// The common dtype of `types`, which must all agree (no implicit promotion).
pub(crate) fn common_dtype(types: &[&TensorType]) -> Result<DType, String> {
    let first = types.first().map_or(DType::F32, |t| t.dtype);
    match types.iter().find(|t| t.dtype != first) {
        Some(t) => Err(format!(
            "operands must share one dtype, got {first} and {}",
            t.dtype
        )),
        None => Ok(first),
    }
}

/// Checks that `dtype` is a float type.
pub(crate) fn require_float(dtype: DType, what: &str) -> Result<(), String> {
    if dtype.is_float() {
        Ok(())
    } else {
        Err(format!("{what} must be a float tensor, got {dtype}"))
    }
}

/// Checks that `t` has exactly the dims `expected`.
pub(crate) fn require_dims(t: &TensorType, expected: &[usize], what: &str) -> Result<(), String> {
    if t.dims() == expected {
        Ok(())
    } else {
        Err(format!(
            "{what} must have shape {}, got {}",
            Shape::from(expected),
            t.shape
        ))
    }
}
