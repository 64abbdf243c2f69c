//! Composite ops as compositions of other ops. The decomposition is the op's forward rule on
//! every sink (native tensors, tapes, graph builders) and its VJP and JVP are those of the
//! composition, so one definition gives all three.

use super::linalg::EinsumSpec;
use crate::op::{AttentionMask, Comparison, GeluApproximation, Op, Reduction};
use crate::sink::{Emit, OpSink};
use strata_tensor::{DType, Shape, Tensor};

type R<V> = Result<V, String>;

impl Op {
    /// The decomposition of a composite op applied to `x`, or `None` for a primitive op.
    /// `Gelu`, `Silu` and `LayerNorm` keep a native kernel for their forward (see
    /// [`Op::has_kernel`]) and use this only for derivatives.
    pub fn decompose<S: OpSink>(&self, e: &mut Emit<S>, x: &[S::Value]) -> Option<R<S::Value>> {
        if self.has_kernel() {
            return None;
        }
        self.decomposition(e, x)
    }

    /// The decomposition used for derivatives (also for ops with a forward kernel).
    pub(crate) fn decomposition<S: OpSink>(
        &self,
        e: &mut Emit<S>,
        x: &[S::Value],
    ) -> Option<R<S::Value>> {
        Some(match self {
            Op::Linear { .. } => linear(e, x),
            Op::Einsum { equation } => einsum(e, equation, x),
            Op::Trilu { upper, diagonal } => trilu(e, *upper, *diagonal, &x[0]),
            Op::Tile { repeats } => tile(e, repeats, &x[0]),
            Op::BatchNorm { eps, .. } => batch_norm(e, *eps, x),
            Op::LayerNorm {
                normalized_shape,
                eps,
                ..
            } => trailing_norm(e, normalized_shape.len(), Some(*eps), true, x),
            Op::RmsNorm {
                normalized_shape,
                eps,
                ..
            } => trailing_norm(e, normalized_shape.len(), *eps, false, x),
            Op::GroupNorm {
                num_groups, eps, ..
            } => group_norm(e, *num_groups, *eps, x),
            Op::MaskedSoftmax { axis } => masked_softmax(e, *axis, &x[0], &x[1]),
            Op::ScaledDotProductAttention { mask, scale } => attention(e, *mask, *scale, x),
            Op::MseLoss { reduction } => mse(e, *reduction, &x[0], &x[1]),
            Op::BceWithLogits { reduction } => bce_with_logits(e, *reduction, &x[0], &x[1]),
            Op::CrossEntropy { reduction } => cross_entropy(e, *reduction, &x[0], &x[1]),
            Op::NllLoss { reduction } => nll(e, *reduction, &x[0], &x[1]),
            Op::Gelu { approximate } => gelu(e, *approximate, &x[0]),
            Op::Silu => silu(e, &x[0]),
            _ => return None,
        })
    }

    /// Ops whose forward runs a dedicated native kernel even though they decompose.
    fn has_kernel(&self) -> bool {
        matches!(self, Op::Gelu { .. } | Op::Silu | Op::LayerNorm { .. })
    }
}

fn linear<S: OpSink>(e: &mut Emit<S>, x: &[S::Value]) -> R<S::Value> {
    let wt = e.transpose_last(&x[1])?;
    let y = e.matmul(&x[0], &wt)?;
    match x.get(2) {
        Some(b) => e.add(&y, b),
        None => Ok(y),
    }
}

/// Each operand is laid out over all letters (alphabetical, extent 1 where absent), the
/// product taken by broadcasting, the letters not in the output summed, the rest permuted.
fn einsum<S: OpSink>(e: &mut Emit<S>, equation: &str, x: &[S::Value]) -> R<S::Value> {
    let spec = EinsumSpec::parse(equation, x.len())?;
    let shapes: Vec<Vec<usize>> = x.iter().map(|v| e.dims(v)).collect();
    let refs: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
    let extent = spec.extents(&refs)?;
    let letters: Vec<u8> = (b'a'..=b'z')
        .filter(|&c| extent[usize::from(c - b'a')].is_some())
        .collect();
    let mut product: Option<S::Value> = None;
    for (term, v) in spec.operands.iter().zip(x) {
        let mut perm: Vec<usize> = (0..term.len()).collect();
        perm.sort_by_key(|&i| term[i]);
        let sorted = e.permute(v, &perm)?;
        let full: Vec<usize> = (letters.iter())
            .map(|c| match term.contains(c) {
                true => extent[usize::from(c - b'a')].unwrap_or(1),
                false => 1,
            })
            .collect();
        let laid = e.reshape(&sorted, &full)?;
        product = Some(match product {
            Some(p) => e.mul(&p, &laid)?,
            None => laid,
        });
    }
    let product = product.ok_or("einsum needs an operand")?;
    let summed_axes: Vec<usize> = (0..letters.len())
        .filter(|&i| !spec.output.contains(&letters[i]))
        .collect();
    // A letter of every operand's extent 1 would broadcast to nothing: materialize the
    // full shape before summing so that sums over letters present in one operand only work.
    let full_shape: Vec<usize> = (letters.iter())
        .map(|c| extent[usize::from(c - b'a')].unwrap_or(1))
        .collect();
    let product = e.broadcast_to(&product, &Shape::from(full_shape.as_slice()))?;
    let reduced = e.sum(&product, &summed_axes, false)?;
    let kept: Vec<u8> = letters
        .iter()
        .copied()
        .filter(|c| spec.output.contains(c))
        .collect();
    let perm: Vec<usize> = (spec.output.iter())
        .map(|c| kept.iter().position(|k| k == c).unwrap_or(0))
        .collect();
    e.permute(&reduced, &perm)
}

fn trilu<S: OpSink>(e: &mut Emit<S>, upper: bool, diagonal: i64, x: &S::Value) -> R<S::Value> {
    let dims = e.dims(x);
    let (rows, cols) = (dims[dims.len() - 2], dims[dims.len() - 1]);
    let keep: Vec<bool> = (0..rows * cols)
        .map(|k| {
            let offset = (k % cols) as i64 - (k / cols) as i64;
            if upper {
                offset >= diagonal
            } else {
                offset <= diagonal
            }
        })
        .collect();
    let mask = e.constant(Tensor::from_vec(keep, [rows, cols]).map_err(|e| e.to_string())?)?;
    let zero = e.scalar_like(0.0, x)?;
    e.select(&mask, x, &zero)
}

/// `[d0, d1, …]` → `[1, d0, 1, d1, …]` → broadcast `[r0, d0, r1, d1, …]` → `[r0·d0, …]`.
fn tile<S: OpSink>(e: &mut Emit<S>, repeats: &[usize], x: &S::Value) -> R<S::Value> {
    let dims = e.dims(x);
    let interleaved: Vec<usize> = dims.iter().flat_map(|&d| [1, d]).collect();
    let spread: Vec<usize> = (dims.iter().zip(repeats))
        .flat_map(|(&d, &r)| [r, d])
        .collect();
    let out: Vec<usize> = (dims.iter().zip(repeats)).map(|(&d, &r)| d * r).collect();
    let laid = e.reshape(x, &interleaved)?;
    let wide = e.broadcast_to(&laid, &Shape::from(spread.as_slice()))?;
    e.reshape(&wide, &out)
}

/// `[C]` as `[1, C, 1, …]` for an input of `rank`.
fn per_channel<S: OpSink>(e: &mut Emit<S>, v: &S::Value, rank: usize) -> R<S::Value> {
    let c = e.dims(v)[0];
    let mut dims = vec![1; rank];
    dims[1] = c;
    e.reshape(v, &dims)
}

/// Eval-mode batch norm, in the order strata-tensor's kernel computes it:
/// `(x − mean) / sqrt(var + eps) · weight + bias`.
fn batch_norm<S: OpSink>(e: &mut Emit<S>, eps: f64, x: &[S::Value]) -> R<S::Value> {
    let rank = e.dims(&x[0]).len();
    let mean = per_channel(e, &x[1], rank)?;
    let var = per_channel(e, &x[2], rank)?;
    let shifted = e.shift(&var, eps)?;
    let std = e.unary(Op::Sqrt, &shifted)?;
    let centered = e.sub(&x[0], &mean)?;
    let mut y = e.div(&centered, &std)?;
    if let Some(w) = x.get(3) {
        let w = per_channel(e, w, rank)?;
        y = e.mul(&y, &w)?;
    }
    if let Some(b) = x.get(4) {
        let b = per_channel(e, b, rank)?;
        y = e.add(&y, &b)?;
    }
    Ok(y)
}

/// The machine epsilon of a float dtype (PyTorch's default rms_norm eps).
fn machine_eps(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => f64::EPSILON,
        _ => f64::from(f32::EPSILON),
    }
}

/// layer_norm (`center`) and rms_norm over the trailing `k` axes, then the affine terms.
fn trailing_norm<S: OpSink>(
    e: &mut Emit<S>,
    k: usize,
    eps: Option<f64>,
    center: bool,
    x: &[S::Value],
) -> R<S::Value> {
    let ty = e.ty(&x[0]);
    let axes: Vec<usize> = (ty.rank() - k..ty.rank()).collect();
    let eps = eps.unwrap_or_else(|| machine_eps(ty.dtype));
    let centered = if center {
        let mean = e.mean(&x[0], &axes, true)?;
        e.sub(&x[0], &mean)?
    } else {
        x[0].clone()
    };
    let sq = e.unary(Op::Square, &centered)?;
    let var = e.mean(&sq, &axes, true)?;
    // `x · (1/√(var + eps))`: the form of the layer-norm kernel and of PyTorch's rms_norm.
    let shifted = e.shift(&var, eps)?;
    let std = e.unary(Op::Sqrt, &shifted)?;
    let inv = e.unary(Op::Reciprocal, &std)?;
    let mut y = e.mul(&centered, &inv)?;
    if let Some(w) = x.get(1) {
        y = e.mul(&y, w)?;
    }
    if let Some(b) = x.get(2) {
        y = e.add(&y, b)?;
    }
    Ok(y)
}

fn group_norm<S: OpSink>(e: &mut Emit<S>, groups: usize, eps: f64, x: &[S::Value]) -> R<S::Value> {
    let dims = e.dims(&x[0]);
    let n = dims[0];
    let per_group = dims[1..].iter().product::<usize>() / groups.max(1);
    let grouped = e.reshape(&x[0], &[n, groups, per_group])?;
    let normed = trailing_norm(e, 1, Some(eps), true, std::slice::from_ref(&grouped))?;
    let mut y = e.reshape(&normed, &dims)?;
    let rank = dims.len();
    if let Some(w) = x.get(1) {
        let w = per_channel(e, w, rank)?;
        y = e.mul(&y, &w)?;
    }
    if let Some(b) = x.get(2) {
        let b = per_channel(e, b, rank)?;
        y = e.add(&y, &b)?;
    }
    Ok(y)
}

/// Softmax over the unmasked positions; masked positions (and rows with none unmasked) are 0.
fn masked_softmax<S: OpSink>(
    e: &mut Emit<S>,
    axis: isize,
    x: &S::Value,
    mask: &S::Value,
) -> R<S::Value> {
    let neg_inf = e.scalar_like(f64::NEG_INFINITY, x)?;
    let filled = e.select(mask, x, &neg_inf)?;
    let p = e.unary(Op::Softmax { axis }, &filled)?;
    let zero = e.scalar_like(0.0, x)?;
    e.select(mask, &p, &zero)
}

/// `softmax(q kᵀ · scale) v`, masked positions excluded from the softmax.
fn attention<S: OpSink>(
    e: &mut Emit<S>,
    mask: AttentionMask,
    scale: Option<f64>,
    x: &[S::Value],
) -> R<S::Value> {
    let (q, k, v) = (&x[0], &x[1], &x[2]);
    let qd = e.dims(q);
    let (l, dim) = (qd[qd.len() - 2], qd[qd.len() - 1]);
    let s = e.dims(k)[e.dims(k).len() - 2];
    let scale = scale.unwrap_or(1.0 / (dim as f64).sqrt());
    let kt = e.transpose_last(k)?;
    let scores = e.matmul(q, &kt)?;
    let scores = e.scale(&scores, scale)?;
    let p = match mask {
        AttentionMask::None => e.unary(Op::Softmax { axis: -1 }, &scores)?,
        AttentionMask::Causal => {
            let keep: Vec<bool> = (0..l * s).map(|i| i % s <= i / s).collect();
            let m = e.constant(Tensor::from_vec(keep, [l, s]).map_err(|e| e.to_string())?)?;
            masked_softmax(e, -1, &scores, &m)?
        }
        AttentionMask::Explicit => masked_softmax(e, -1, &scores, &x[3])?,
    };
    e.matmul(&p, v)
}

fn reduce_loss<S: OpSink>(e: &mut Emit<S>, reduction: Reduction, per: &S::Value) -> R<S::Value> {
    let axes: Vec<usize> = (0..e.dims(per).len()).collect();
    match reduction {
        Reduction::None => Ok(per.clone()),
        Reduction::Sum => e.sum(per, &axes, false),
        Reduction::Mean if axes.is_empty() => Ok(per.clone()),
        Reduction::Mean => e.mean(per, &axes, false),
    }
}

fn mse<S: OpSink>(e: &mut Emit<S>, r: Reduction, x: &S::Value, t: &S::Value) -> R<S::Value> {
    let d = e.sub(x, t)?;
    let sq = e.unary(Op::Square, &d)?;
    reduce_loss(e, r, &sq)
}

/// PyTorch's stable form: `(1 − t)·x + m + log(exp(−m) + exp(−x − m))`, `m = max(−x, 0)`.
fn bce_with_logits<S: OpSink>(
    e: &mut Emit<S>,
    r: Reduction,
    x: &S::Value,
    t: &S::Value,
) -> R<S::Value> {
    let neg_x = e.neg(x)?;
    let m = e.unary(Op::Relu, &neg_x)?;
    let one = e.scalar_like(1.0, x)?;
    let one_minus_t = e.sub(&one, t)?;
    let linear = e.mul(&one_minus_t, x)?;
    let neg_m = e.neg(&m)?;
    let a = e.unary(Op::Exp, &neg_m)?;
    let shifted = e.sub(&neg_x, &m)?;
    let b = e.unary(Op::Exp, &shifted)?;
    let sum = e.add(&a, &b)?;
    let log = e.unary(Op::Log, &sum)?;
    let tail = e.add(&m, &log)?;
    let per = e.add(&linear, &tail)?;
    reduce_loss(e, r, &per)
}

fn class_axis(rank: usize) -> usize {
    usize::from(rank > 1)
}

fn cross_entropy<S: OpSink>(
    e: &mut Emit<S>,
    r: Reduction,
    x: &S::Value,
    t: &S::Value,
) -> R<S::Value> {
    let axis = class_axis(e.dims(x).len());
    let logp = e.unary(
        Op::LogSoftmax {
            axis: axis as isize,
        },
        x,
    )?;
    if e.ty(t).dtype == DType::I64 {
        return nll(e, r, &logp, t);
    }
    let weighted = e.mul(t, &logp)?;
    let summed = e.sum(&weighted, &[axis], false)?;
    let per = e.neg(&summed)?;
    reduce_loss(e, r, &per)
}

/// `−logp[target]` per element, picked by a one-hot mask (NaN-safe: other classes are
/// replaced, not multiplied by zero).
fn nll<S: OpSink>(e: &mut Emit<S>, r: Reduction, logp: &S::Value, t: &S::Value) -> R<S::Value> {
    let dims = e.dims(logp);
    let axis = class_axis(dims.len());
    let classes = dims[axis];
    let mut iota_dims = vec![1; dims.len()];
    iota_dims[axis] = classes;
    let iota = (0..classes as i64).collect::<Vec<i64>>();
    let iota = e.constant(Tensor::from_vec(iota, iota_dims).map_err(|e| e.to_string())?)?;
    let mut t_dims = e.dims(t);
    t_dims.insert(axis, 1);
    let target = e.reshape(t, &t_dims)?;
    let hot = e.compare(Comparison::Eq, &target, &iota)?;
    let zero = e.scalar_like(0.0, logp)?;
    let picked = e.select(&hot, logp, &zero)?;
    let summed = e.sum(&picked, &[axis], false)?;
    let per = e.neg(&summed)?;
    reduce_loss(e, r, &per)
}

fn gelu<S: OpSink>(e: &mut Emit<S>, form: GeluApproximation, x: &S::Value) -> R<S::Value> {
    let inner = match form {
        GeluApproximation::Erf => {
            let scaled = e.scale(x, std::f64::consts::FRAC_1_SQRT_2)?;
            e.unary(Op::Erf, &scaled)?
        }
        GeluApproximation::Tanh => {
            let cube = e.unary(Op::Square, x)?;
            let cube = e.mul(&cube, x)?;
            let cube = e.scale(&cube, 0.044715)?;
            let sum = e.add(x, &cube)?;
            let scaled = e.scale(&sum, (2.0 / std::f64::consts::PI).sqrt())?;
            e.unary(Op::Tanh, &scaled)?
        }
    };
    let one_plus = e.shift(&inner, 1.0)?;
    let half_x = e.scale(x, 0.5)?;
    e.mul(&half_x, &one_plus)
}

fn silu<S: OpSink>(e: &mut Emit<S>, x: &S::Value) -> R<S::Value> {
    let s = e.unary(Op::Sigmoid, x)?;
    e.mul(x, &s)
}
