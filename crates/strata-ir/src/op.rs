//! The op vocabulary: one enum variant per op, its attributes typed, its tag stable.
//!
//! Attribute meanings follow PyTorch (the functional form named in each variant's doc) unless
//! the doc says otherwise. Axes are PyTorch-style (`-1` is the last). Dtypes never promote
//! implicitly: operands of an arithmetic op share one dtype. The local rules of each op live in
//! [`crate::ops`], grouped by family.

use crate::serde_impls::{self, AvgPool2dParamsDef, Conv1dParamsDef, Conv2dParamsDef};
use crate::serde_impls::{ConvTranspose2dParamsDef, MaxPool2dParamsDef};
use serde::{Deserialize, Serialize};
use std::fmt;
use strata_tensor::{AvgPool2dParams, Conv1dParams, Conv2dParams, ConvTranspose2dParams};
use strata_tensor::{DType, MaxPool2dParams, Shape, Tensor};

/// How many inputs an op takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    Exactly(usize),
    AtLeast(usize),
}

impl Arity {
    pub fn admits(self, n: usize) -> bool {
        match self {
            Arity::Exactly(k) => n == k,
            Arity::AtLeast(k) => n >= k,
        }
    }
}

impl fmt::Display for Arity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arity::Exactly(k) => write!(f, "exactly {k}"),
            Arity::AtLeast(k) => write!(f, "at least {k}"),
        }
    }
}

/// A constant tensor with bitwise equality (so graphs compare structurally, NaNs included).
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Literal(#[serde(with = "serde_impls::tensor")] pub Tensor);

impl PartialEq for Literal {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.0, &other.0);
        a.dtype() == b.dtype()
            && a.shape() == b.shape()
            && match a.dtype() {
                DType::Bool => a.to_vec::<bool>().ok() == b.to_vec::<bool>().ok(),
                DType::I64 => a.to_vec::<i64>().ok() == b.to_vec::<i64>().ok(),
                // Every float dtype widens to f64 exactly (NaN payloads aside).
                _ => {
                    let bits = |t: &Tensor| -> Vec<u64> {
                        t.to_vec_f64().into_iter().map(f64::to_bits).collect()
                    };
                    bits(a) == bits(b)
                }
            }
    }
}

impl fmt::Debug for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// `gelu`'s form: the exact `x·Φ(x)` (PyTorch `approximate='none'`) or the tanh approximation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeluApproximation {
    Erf,
    Tanh,
}

/// How a loss combines its per-element values (PyTorch's `reduction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    None,
    Mean,
    Sum,
}

/// An elementwise comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    /// The tensor library's comparison.
    pub fn cmp_op(self) -> strata_tensor::CmpOp {
        use strata_tensor::CmpOp;
        match self {
            Comparison::Eq => CmpOp::Eq,
            Comparison::Ne => CmpOp::Ne,
            Comparison::Lt => CmpOp::Lt,
            Comparison::Le => CmpOp::Le,
            Comparison::Gt => CmpOp::Gt,
            Comparison::Ge => CmpOp::Ge,
        }
    }
}

/// Which positions attention may look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionMask {
    /// Every key.
    None,
    /// Query `i` sees keys `j ≤ i` (PyTorch `is_causal=True`, upper-left aligned).
    Causal,
    /// A fourth input, bool, broadcastable to `[*, L, S]`; `true` = may attend.
    Explicit,
}

/// An op: its tag (the snake_case variant name) and typed attributes. Inputs are listed in the
/// variant docs in order; optional inputs are switched on by an attribute, so the arity is
/// always a function of the attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    // ----- sources (ops/source.rs) -----
    /// A graph input, fed at run time.
    Input {
        #[serde(with = "serde_impls::shape")]
        shape: Shape,
        #[serde(with = "serde_impls::dtype")]
        dtype: DType,
    },
    /// A tensor stored in the graph.
    Constant {
        value: Literal,
    },
    /// A tensor looked up by `name` in the parameter store at run time; its shape and dtype
    /// are declared here so that shapes are known before any data flows.
    Parameter {
        name: String,
        #[serde(with = "serde_impls::shape")]
        shape: Shape,
        #[serde(with = "serde_impls::dtype")]
        dtype: DType,
    },

    // ----- elementwise (ops/elementwise.rs): inputs broadcast (NumPy rules) -----
    Neg,
    Abs,
    Sqrt,
    /// `1 / x`.
    Reciprocal,
    /// `x · x`.
    Square,
    Exp,
    /// Natural logarithm.
    Log,
    Sin,
    Cos,
    Tanh,
    Sigmoid,
    Relu,
    /// `x` for `x ≥ 0`, `negative_slope · x` otherwise.
    LeakyRelu {
        #[serde(with = "serde_impls::float")]
        negative_slope: f64,
    },
    Gelu {
        approximate: GeluApproximation,
    },
    /// `x · sigmoid(x)`.
    Silu,
    /// `log(1 + exp(beta·x)) / beta`, and `x` where `beta·x > threshold` (F.softplus).
    Softplus {
        #[serde(with = "serde_impls::float")]
        beta: f64,
        #[serde(with = "serde_impls::float")]
        threshold: f64,
    },
    /// The identity on values; gradients do not flow through it.
    Detach,
    Add,
    Sub,
    Mul,
    Div,
    /// `x ^ y` (torch.pow with a tensor exponent).
    Pow,
    /// Elementwise minimum, NaN-propagating (torch.minimum).
    Minimum,
    /// Elementwise maximum, NaN-propagating (torch.maximum).
    Maximum,
    /// The Gauss error function (torch.erf).
    Erf,
    /// −1, 0 or +1 by the sign of `x` (zeros keep their sign, NaN stays NaN; torch.sign).
    Sign,
    /// Round toward −∞ (torch.floor); the identity on integers.
    Floor,
    /// torch.where(cond, x, y): a bool `cond`, then `x` and `y` of one dtype, all three
    /// broadcast together.
    Where,
    /// An elementwise comparison of two broadcast operands of one dtype → bool. NaN compares
    /// unequal and unordered (IEEE 754).
    Compare {
        cmp: Comparison,
    },
    /// Logical not of a bool tensor.
    LogicalNot,
    /// Logical and of two broadcast bool tensors.
    LogicalAnd,
    /// Logical or of two broadcast bool tensors.
    LogicalOr,
    /// `x.to(dtype)`: floats round to nearest even, float → integer truncates toward zero
    /// (NaN and out-of-range values are errors at run time), bool ↔ number is 0/1.
    Cast {
        #[serde(with = "serde_impls::dtype")]
        dtype: DType,
    },

    // ----- linear algebra (ops/linalg.rs) -----
    /// torch.matmul: 1-D operands promoted and squeezed back, batch dimensions broadcast.
    Matmul,
    /// F.linear: inputs `x [*, in]`, `weight [out, in]`, and `bias [out]` when `bias`.
    Linear {
        bias: bool,
    },
    /// torch.einsum: lowercase letters, no ellipsis, no letter twice within one operand or the
    /// output (`"bij,bjk->bik"`); without `->`, the output is the letters that occur once, in
    /// alphabetical order. Float operands of one dtype.
    Einsum {
        equation: String,
    },

    // ----- convolution and pooling (ops/conv.rs): batched `[N, C, …]` or unbatched `[C, …]` -----
    /// F.conv1d: `x [N, C, L]`, `weight [O, C/groups, k]`, `bias [O]` when `bias`.
    Conv1d {
        #[serde(flatten, with = "Conv1dParamsDef")]
        params: Conv1dParams,
        bias: bool,
    },
    /// F.conv2d: `x [N, C, H, W]`, `weight [O, C/groups, kh, kw]`, `bias [O]` when `bias`.
    Conv2d {
        #[serde(flatten, with = "Conv2dParamsDef")]
        params: Conv2dParams,
        bias: bool,
    },
    /// F.conv_transpose2d: `x [N, C, H, W]`, `weight [C, O/groups, kh, kw]`, `bias [O]`.
    ConvTranspose2d {
        #[serde(flatten, with = "ConvTranspose2dParamsDef")]
        params: ConvTranspose2dParams,
        bias: bool,
    },
    MaxPool2d {
        #[serde(flatten, with = "MaxPool2dParamsDef")]
        params: MaxPool2dParams,
    },
    AvgPool2d {
        #[serde(flatten, with = "AvgPool2dParamsDef")]
        params: AvgPool2dParams,
    },
    /// F.adaptive_avg_pool2d to `[out_h, out_w]`.
    AdaptiveAvgPool2d {
        output_size: [usize; 2],
    },

    // ----- normalization (ops/norm.rs) -----
    /// F.batch_norm in eval mode: `x [N, C, *]`, `running_mean [C]`, `running_var [C]`, then
    /// `weight [C]`, `bias [C]` when `affine`.
    BatchNorm {
        #[serde(with = "serde_impls::float")]
        eps: f64,
        affine: bool,
    },
    /// F.layer_norm over the trailing `normalized_shape`; `weight`, `bias` of that shape when
    /// `affine`.
    LayerNorm {
        normalized_shape: Vec<usize>,
        #[serde(with = "serde_impls::float")]
        eps: f64,
        affine: bool,
    },
    /// F.rms_norm over the trailing `normalized_shape`; `weight` when `affine`. `eps: None` is
    /// PyTorch's default, the machine epsilon of the input dtype.
    RmsNorm {
        normalized_shape: Vec<usize>,
        #[serde(with = "serde_impls::option_float")]
        eps: Option<f64>,
        affine: bool,
    },
    /// F.group_norm: `x [N, C, *]`; `weight [C]`, `bias [C]` when `affine`.
    GroupNorm {
        num_groups: usize,
        #[serde(with = "serde_impls::float")]
        eps: f64,
        affine: bool,
    },

    // ----- softmax and attention (ops/attention.rs) -----
    Softmax {
        axis: isize,
    },
    LogSoftmax {
        axis: isize,
    },
    /// Softmax of `x` along `axis` over the positions where the second input, a bool mask
    /// broadcastable to `x`, is `true` (masked positions get probability 0).
    MaskedSoftmax {
        axis: isize,
    },
    /// F.scaled_dot_product_attention without dropout: `q [*, L, E]`, `k [*, S, E]`,
    /// `v [*, S, Ev]` (and the mask when explicit) → `[*, L, Ev]`. `scale: None` is
    /// `1/sqrt(E)`.
    ScaledDotProductAttention {
        mask: AttentionMask,
        #[serde(with = "serde_impls::option_float")]
        scale: Option<f64>,
    },

    // ----- indexing and masks (ops/index.rs) -----
    /// F.embedding: i64 `indices [*]` and `weight [V, D]` → `[*, D]`.
    Embedding,
    /// torch.gather: `x` and i64 `index` of the same rank → `index`'s shape.
    Gather {
        axis: isize,
    },

    /// torch.tril (`upper: false`: keep `j − i ≤ diagonal`) or torch.triu (`upper: true`: keep
    /// `j − i ≥ diagonal`) on the last two axes; the rest become zero.
    Trilu {
        upper: bool,
        diagonal: i64,
    },
    /// torch.argmax along `axis`: the first index of the maximum (a NaN counts as the
    /// maximum), i64.
    ArgMax {
        axis: isize,
        keepdim: bool,
    },

    // ----- shape (ops/shape.rs) -----
    /// torch.reshape; one entry may be `-1` (inferred).
    Reshape {
        shape: Vec<i64>,
    },
    /// torch.flatten of axes `start_axis..=end_axis`.
    Flatten {
        start_axis: isize,
        end_axis: isize,
    },
    /// torch.permute: output axis `i` is input axis `perm[i]`.
    Permute {
        perm: Vec<usize>,
    },
    Transpose {
        axis0: isize,
        axis1: isize,
    },
    /// torch.broadcast_to (NumPy rules).
    BroadcastTo {
        #[serde(with = "serde_impls::shape")]
        shape: Shape,
    },
    /// torch.cat along `axis`.
    Concat {
        axis: isize,
    },
    /// torch.tile with one repeat count per axis (ONNX Tile).
    Tile {
        repeats: Vec<usize>,
    },
    /// Piece `index` of torch.split(x, sizes, axis): the sizes must add up to the axis
    /// extent. One node is one piece; a split into k pieces is k nodes on the same input.
    Split {
        axis: isize,
        sizes: Vec<usize>,
        index: usize,
    },
    /// `x[start:end:step]` along `axis`, Python slice rules: negative bounds count from the
    /// end, out-of-range bounds clamp; `step ≥ 1`.
    Slice {
        axis: isize,
        start: i64,
        end: i64,
        step: usize,
    },
    /// F.pad with mode "constant": `(before, after)` pairs from the **last** axis backwards.
    Pad {
        pads: Vec<[usize; 2]>,
        #[serde(with = "serde_impls::float")]
        value: f64,
    },

    // ----- reductions (ops/reduce.rs): exactly the listed axes; none listed = identity -----
    ReduceSum {
        axes: Vec<isize>,
        keepdim: bool,
    },
    ReduceMean {
        axes: Vec<isize>,
        keepdim: bool,
    },
    ReduceMax {
        axes: Vec<isize>,
        keepdim: bool,
    },

    // ----- losses (ops/loss.rs) -----
    /// F.mse_loss(input, target), equal shapes.
    MseLoss {
        reduction: Reduction,
    },
    /// F.cross_entropy(logits, target): logits `[N, C, d…]` or `[C]`; target i64 class
    /// indices `[N, d…]` (or `[]`), or probabilities of the logits' shape.
    CrossEntropy {
        reduction: Reduction,
    },
    /// F.nll_loss(log_probs, target) with the shapes of [`Op::CrossEntropy`]'s index form.
    NllLoss {
        reduction: Reduction,
    },
    /// F.binary_cross_entropy_with_logits(logits, target), equal shapes.
    BceWithLogits {
        reduction: Reduction,
    },

    // ----- randomness (ops/random.rs): seeded, so a graph is a deterministic function -----
    /// Training-mode F.dropout: zero with probability `p`, else scale by `1/(1−p)`; the mask
    /// is drawn from the Philox stream of `seed`.
    Dropout {
        #[serde(with = "serde_impls::float")]
        p: f64,
        seed: u64,
    },
    /// Uniform samples in `[low, high)` from the Philox stream of `seed`.
    RandUniform {
        #[serde(with = "serde_impls::shape")]
        shape: Shape,
        #[serde(with = "serde_impls::dtype")]
        dtype: DType,
        #[serde(with = "serde_impls::float")]
        low: f64,
        #[serde(with = "serde_impls::float")]
        high: f64,
        seed: u64,
    },
    /// A 0/1 mask of `shape` (torch.bernoulli): each entry 1 with the probability given by
    /// the input (a float tensor broadcastable to `shape`), drawn from the stream of `seed`.
    BernoulliMask {
        #[serde(with = "serde_impls::shape")]
        shape: Shape,
        seed: u64,
    },

    // ----- derivative kernels (ops/grad.rs): emitted by gradient rules, never by models -----
    /// The cotangent of input `input` of the op `of`, from a native kernel: inputs are `of`'s
    /// inputs, then the cotangent of its output. Used where a VJP is not a composition of
    /// other ops (convolution weights, pooling, scatters).
    Vjp {
        of: Box<Op>,
        input: usize,
    },
    /// The tangent of the op `of`'s output for a tangent of its first input, from a native
    /// kernel: inputs are `of`'s inputs, then that tangent (max pooling's selection).
    Jvp {
        of: Box<Op>,
    },
}

impl Op {
    /// Every op tag, in declaration order.
    pub const TAGS: [&'static str; 79] = [
        "input",
        "constant",
        "parameter",
        "neg",
        "abs",
        "sqrt",
        "reciprocal",
        "square",
        "exp",
        "log",
        "sin",
        "cos",
        "tanh",
        "sigmoid",
        "relu",
        "leaky_relu",
        "gelu",
        "silu",
        "softplus",
        "detach",
        "add",
        "sub",
        "mul",
        "div",
        "pow",
        "minimum",
        "maximum",
        "erf",
        "sign",
        "floor",
        "where",
        "compare",
        "logical_not",
        "logical_and",
        "logical_or",
        "cast",
        "matmul",
        "linear",
        "einsum",
        "conv1d",
        "conv2d",
        "conv_transpose2d",
        "max_pool2d",
        "avg_pool2d",
        "adaptive_avg_pool2d",
        "batch_norm",
        "layer_norm",
        "rms_norm",
        "group_norm",
        "softmax",
        "log_softmax",
        "masked_softmax",
        "scaled_dot_product_attention",
        "embedding",
        "gather",
        "trilu",
        "arg_max",
        "reshape",
        "flatten",
        "permute",
        "transpose",
        "broadcast_to",
        "concat",
        "tile",
        "split",
        "slice",
        "pad",
        "reduce_sum",
        "reduce_mean",
        "reduce_max",
        "mse_loss",
        "cross_entropy",
        "nll_loss",
        "bce_with_logits",
        "dropout",
        "rand_uniform",
        "bernoulli_mask",
        "vjp",
        "jvp",
    ];

    /// The op's stable snake_case tag (also its serde tag).
    pub fn tag(&self) -> &'static str {
        match self {
            Op::Input { .. } => "input",
            Op::Constant { .. } => "constant",
            Op::Parameter { .. } => "parameter",
            Op::Neg => "neg",
            Op::Abs => "abs",
            Op::Sqrt => "sqrt",
            Op::Reciprocal => "reciprocal",
            Op::Square => "square",
            Op::Exp => "exp",
            Op::Log => "log",
            Op::Sin => "sin",
            Op::Cos => "cos",
            Op::Tanh => "tanh",
            Op::Sigmoid => "sigmoid",
            Op::Relu => "relu",
            Op::LeakyRelu { .. } => "leaky_relu",
            Op::Gelu { .. } => "gelu",
            Op::Silu => "silu",
            Op::Softplus { .. } => "softplus",
            Op::Detach => "detach",
            Op::Add => "add",
            Op::Sub => "sub",
            Op::Mul => "mul",
            Op::Div => "div",
            Op::Pow => "pow",
            Op::Minimum => "minimum",
            Op::Maximum => "maximum",
            Op::Erf => "erf",
            Op::Sign => "sign",
            Op::Floor => "floor",
            Op::Where => "where",
            Op::Compare { .. } => "compare",
            Op::LogicalNot => "logical_not",
            Op::LogicalAnd => "logical_and",
            Op::LogicalOr => "logical_or",
            Op::Cast { .. } => "cast",
            Op::Matmul => "matmul",
            Op::Linear { .. } => "linear",
            Op::Conv1d { .. } => "conv1d",
            Op::Conv2d { .. } => "conv2d",
            Op::ConvTranspose2d { .. } => "conv_transpose2d",
            Op::MaxPool2d { .. } => "max_pool2d",
            Op::AvgPool2d { .. } => "avg_pool2d",
            Op::AdaptiveAvgPool2d { .. } => "adaptive_avg_pool2d",
            Op::BatchNorm { .. } => "batch_norm",
            Op::LayerNorm { .. } => "layer_norm",
            Op::RmsNorm { .. } => "rms_norm",
            Op::GroupNorm { .. } => "group_norm",
            Op::Softmax { .. } => "softmax",
            Op::LogSoftmax { .. } => "log_softmax",
            Op::MaskedSoftmax { .. } => "masked_softmax",
            Op::ScaledDotProductAttention { .. } => "scaled_dot_product_attention",
            Op::Embedding => "embedding",
            Op::Gather { .. } => "gather",
            Op::Trilu { .. } => "trilu",
            Op::ArgMax { .. } => "arg_max",
            Op::Einsum { .. } => "einsum",
            Op::Reshape { .. } => "reshape",
            Op::Flatten { .. } => "flatten",
            Op::Permute { .. } => "permute",
            Op::Transpose { .. } => "transpose",
            Op::BroadcastTo { .. } => "broadcast_to",
            Op::Concat { .. } => "concat",
            Op::Tile { .. } => "tile",
            Op::Split { .. } => "split",
            Op::Slice { .. } => "slice",
            Op::Pad { .. } => "pad",
            Op::ReduceSum { .. } => "reduce_sum",
            Op::ReduceMean { .. } => "reduce_mean",
            Op::ReduceMax { .. } => "reduce_max",
            Op::MseLoss { .. } => "mse_loss",
            Op::CrossEntropy { .. } => "cross_entropy",
            Op::NllLoss { .. } => "nll_loss",
            Op::BceWithLogits { .. } => "bce_with_logits",
            Op::Dropout { .. } => "dropout",
            Op::RandUniform { .. } => "rand_uniform",
            Op::BernoulliMask { .. } => "bernoulli_mask",
            Op::Vjp { .. } => "vjp",
            Op::Jvp { .. } => "jvp",
        }
    }
}

/// An op's attributes as a JSON object (its tag left out).
pub type Attributes = serde_json::Map<String, serde_json::Value>;

impl Op {
    /// The attributes as a JSON object, as the text and JSON forms write them.
    pub fn attributes(&self) -> Result<Attributes, String> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => {
                map.remove("op");
                Ok(map)
            }
            Ok(other) => Err(format!("{} serialized as {other}", self.tag())),
            Err(e) => Err(format!("{}: {e}", self.tag())),
        }
    }

    /// The op with this tag and these attributes: all required, none unknown.
    pub fn from_parts(tag: &str, attributes: Attributes) -> Result<Op, String> {
        if !Op::TAGS.contains(&tag) {
            return Err(format!("unknown op `{tag}`"));
        }
        let given: Vec<String> = attributes.keys().cloned().collect();
        let mut map = attributes;
        map.insert("op".into(), serde_json::Value::String(tag.into()));
        let op =
            Op::deserialize(serde_json::Value::Object(map)).map_err(|e| format!("{tag}: {e}"))?;
        // Serde ignores unknown fields of internally tagged enums; a misspelled attribute
        // must not silently take a default, so compare with what the op writes back.
        let known = op.attributes()?;
        match given.iter().find(|k| !known.contains_key(*k)) {
            Some(k) => Err(format!("{tag}: unknown attribute `{k}`")),
            None => Ok(op),
        }
    }
}
