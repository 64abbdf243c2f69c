//! Derivative rules: each op's VJP and JVP, written against [`OpSink`] so that the eager
//! tape, compiled plans (a graph builder) and higher-order derivatives run the same rules.
//!
//! - Composite ops differentiate through their decomposition ([`Op::decomposition`]).
//! - Elementwise ops share one derivative factor for both directions: VJP = `g · f′`,
//!   JVP = `t · f′` (binary ops have one factor per operand).
//! - Linear ops (reshapes, slices, reductions, …) map tangents by the op itself and
//!   cotangents by its adjoint.
//! - Where the adjoint is not a composition of ops (convolution weights, pooling, scatters)
//!   the rule emits a `vjp`/`jvp` node whose native kernel is below.
//!
//! `None` is a zero (co)tangent: inputs that are not differentiable (indices, masks) get
//! `None`, and a rule given only zeros returns `None`.

use crate::eval::Str;
use crate::op::{Comparison, Op};
use crate::sink::{Emit, OpSink, Recorder};
use strata_tensor::Tensor;

type R<V> = Result<V, String>;

/// One recorded application: op, input value indices, output value index.
pub type Step = (Op, Vec<usize>, usize);

impl Op {
    /// The cotangent of each input, given the inputs `x`, the output `y` and its cotangent `g`.
    pub fn vjp<S: OpSink>(
        &self,
        s: &mut S,
        x: &[S::Value],
        y: &S::Value,
        g: &S::Value,
    ) -> R<Vec<Option<S::Value>>> {
        let mut rec = Recorder::new(s);
        let ids: Vec<usize> = x.iter().map(|v| rec.leaf(v.clone())).collect();
        if let Some(out) = self.differentiated_decomposition(&mut rec, &ids) {
            let out = out?;
            let Recorder {
                inner,
                steps,
                values,
            } = rec;
            let cot = reverse_accumulate(inner, &steps, &values, vec![(out, g.clone())])?;
            return Ok(ids.iter().map(|&i| cot[i].clone()).collect());
        }
        primitive_vjp(self, &mut Emit(s), x, y, g)
    }

    /// The tangent of the output, given the inputs `x`, the output `y` and the inputs'
    /// tangents `t` (`None`: zero).
    pub fn jvp<S: OpSink>(
        &self,
        s: &mut S,
        x: &[S::Value],
        y: &S::Value,
        t: &[Option<S::Value>],
    ) -> R<Option<S::Value>> {
        if t.iter().all(Option::is_none) {
            return Ok(None);
        }
        let mut rec = Recorder::new(s);
        let ids: Vec<usize> = x.iter().map(|v| rec.leaf(v.clone())).collect();
        if let Some(out) = self.differentiated_decomposition(&mut rec, &ids) {
            let out = out?;
            let Recorder {
                inner,
                steps,
                values,
            } = rec;
            let mut tan: Vec<Option<S::Value>> = vec![None; values.len()];
            for (&i, ti) in ids.iter().zip(t) {
                tan[i] = ti.clone();
            }
            for (op, ins, o) in &steps {
                let xs: Vec<S::Value> = ins.iter().map(|&i| values[i].clone()).collect();
                let ts: Vec<Option<S::Value>> = ins.iter().map(|&i| tan[i].clone()).collect();
                tan[*o] = op.jvp(inner, &xs, &values[*o], &ts)?;
            }
            return Ok(tan[out].clone());
        }
        primitive_jvp(self, &mut Emit(s), x, y, t)
    }
}

impl Op {
    /// The decomposition derivatives go through, or `None` where the op has a rule of its
    /// own: `linear` does, so that its VJP does not recompute the forward product eagerly.
    fn differentiated_decomposition<S: OpSink>(
        &self,
        rec: &mut Recorder<S>,
        ids: &[usize],
    ) -> Option<R<usize>> {
        match self {
            Op::Linear { .. } => None,
            _ => self.decomposition(&mut Emit(rec), ids),
        }
    }
}

/// Reverse accumulation over recorded steps: seeds the given cotangents, then visits the
/// steps last to first, sending each output's cotangent through its op's VJP and summing
/// fan-out contributions. Every contribution must go to a smaller index than the step's
/// output (the tape invariant), or this is an error. Returns every value's cotangent.
pub fn reverse_accumulate<S: OpSink>(
    s: &mut S,
    steps: &[Step],
    values: &[S::Value],
    seeds: Vec<(usize, S::Value)>,
) -> R<Vec<Option<S::Value>>> {
    let mut cot: Vec<Option<S::Value>> = vec![None; values.len()];
    for (i, g) in seeds {
        accumulate(s, &mut cot[i], g)?;
    }
    for (op, ins, out) in steps.iter().rev() {
        let Some(g) = cot[*out].clone() else {
            continue;
        };
        if let Some(bad) = ins.iter().find(|&&i| i >= *out) {
            return Err(format!(
                "tape invariant violated: {} at #{out} reads #{bad}, not an earlier value",
                op.tag()
            ));
        }
        let xs: Vec<S::Value> = ins.iter().map(|&i| values[i].clone()).collect();
        let gs = op.vjp(s, &xs, &values[*out], &g)?;
        for (&i, gi) in ins.iter().zip(gs) {
            if let Some(gi) = gi {
                accumulate(s, &mut cot[i], gi)?;
            }
        }
    }
    Ok(cot)
}

/// `slot += g` (a first contribution is stored as is).
pub fn accumulate<S: OpSink>(s: &mut S, slot: &mut Option<S::Value>, g: S::Value) -> R<()> {
    *slot = Some(match slot.take() {
        Some(acc) => s.apply(Op::Add, &[acc, g])?,
        None => g,
    });
    Ok(())
}

/// The derivative factor `f′(x)` of a unary elementwise op (given `y = f(x)`), or `None` for
/// ops that are piecewise constant (zero derivative) or not differentiable.
fn unary_factor<S: OpSink>(
    op: &Op,
    e: &mut Emit<S>,
    x: &S::Value,
    y: &S::Value,
) -> R<Option<S::Value>> {
    let dtype = e.ty(x).dtype;
    let positive = |e: &mut Emit<S>| -> R<S::Value> {
        let zero = e.scalar(0.0, dtype)?;
        e.compare(Comparison::Gt, x, &zero)
    };
    Ok(Some(match op {
        Op::Abs => e.unary(Op::Sign, x)?,
        Op::Sqrt => {
            let half = e.scalar(0.5, dtype)?;
            e.div(&half, y)?
        }
        Op::Reciprocal => {
            let sq = e.unary(Op::Square, y)?;
            e.neg(&sq)?
        }
        Op::Square => e.scale(x, 2.0)?,
        Op::Exp => y.clone(),
        Op::Log => e.unary(Op::Reciprocal, x)?,
        Op::Sin => e.unary(Op::Cos, x)?,
        Op::Cos => {
            let s = e.unary(Op::Sin, x)?;
            e.neg(&s)?
        }
        Op::Tanh => {
            let sq = e.unary(Op::Square, y)?;
            let one = e.scalar(1.0, dtype)?;
            e.sub(&one, &sq)?
        }
        Op::Sigmoid => {
            let one = e.scalar(1.0, dtype)?;
            let rest = e.sub(&one, y)?;
            e.mul(y, &rest)?
        }
        Op::Relu => {
            let p = positive(e)?;
            e.cast(&p, dtype)?
        }
        Op::LeakyRelu { negative_slope } => {
            let p = positive(e)?;
            let one = e.scalar(1.0, dtype)?;
            let slope = e.scalar(*negative_slope, dtype)?;
            e.select(&p, &one, &slope)?
        }
        Op::Erf => {
            let sq = e.unary(Op::Square, x)?;
            let neg = e.neg(&sq)?;
            let ex = e.unary(Op::Exp, &neg)?;
            e.scale(&ex, std::f64::consts::FRAC_2_SQRT_PI)?
        }
        Op::Softplus { beta, threshold } => {
            let bx = e.scale(x, *beta)?;
            let thr = e.scalar(*threshold, dtype)?;
            let linear = e.compare(Comparison::Gt, &bx, &thr)?;
            let one = e.scalar(1.0, dtype)?;
            let sig = e.unary(Op::Sigmoid, &bx)?;
            e.select(&linear, &one, &sig)?
        }
        _ => return Ok(None),
    }))
}

/// The factors `∂y/∂a`, `∂y/∂b` of a binary elementwise op (before broadcasting back).
fn binary_factors<S: OpSink>(
    op: &Op,
    e: &mut Emit<S>,
    a: &S::Value,
    b: &S::Value,
    y: &S::Value,
) -> R<[S::Value; 2]> {
    let dtype = e.ty(y).dtype;
    let one = e.scalar(1.0, dtype)?;
    Ok(match op {
        Op::Add => [one.clone(), one],
        Op::Sub => {
            let m = e.scalar(-1.0, dtype)?;
            [one, m]
        }
        Op::Mul => [b.clone(), a.clone()],
        Op::Div => {
            let inv = e.unary(Op::Reciprocal, b)?;
            let q = e.div(y, b)?;
            [inv, e.neg(&q)?]
        }
        Op::Pow => {
            // PyTorch's masks: no exponent gradient where a = 0 and b ≥ 0, no base gradient
            // where b = 0.
            let zero = e.scalar(0.0, dtype)?;
            let b1 = e.sub(b, &one)?;
            let p = e.op(Op::Pow, &[a, &b1])?;
            let da = e.mul(b, &p)?;
            let b_zero = e.compare(Comparison::Eq, b, &zero)?;
            let da = e.select(&b_zero, &zero, &da)?;
            let log_a = e.unary(Op::Log, a)?;
            let db = e.mul(y, &log_a)?;
            let a_zero = e.compare(Comparison::Eq, a, &zero)?;
            let b_nonneg = e.compare(Comparison::Ge, b, &zero)?;
            let masked = e.op(Op::LogicalAnd, &[&a_zero, &b_nonneg])?;
            [da, e.select(&masked, &zero, &db)?]
        }
        Op::Minimum | Op::Maximum => {
            // The winner takes the gradient; a tie splits it evenly (PyTorch).
            let cmp = match op {
                Op::Maximum => Comparison::Gt,
                _ => Comparison::Lt,
            };
            let zero = e.scalar(0.0, dtype)?;
            let half = e.scalar(0.5, dtype)?;
            let tie = e.compare(Comparison::Eq, a, b)?;
            let tie_or_zero = e.select(&tie, &half, &zero)?;
            let a_wins = e.compare(cmp, a, b)?;
            let b_wins = e.compare(cmp, b, a)?;
            [
                e.select(&a_wins, &one, &tie_or_zero)?,
                e.select(&b_wins, &one, &tie_or_zero)?,
            ]
        }
        other => return Err(format!("{} is not a binary elementwise op", other.tag())),
    })
}

fn is_binary_elementwise(op: &Op) -> bool {
    matches!(
        op,
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Pow | Op::Minimum | Op::Maximum
    )
}

/// `op` with its bias input switched off (for the bilinear part of a convolution's JVP).
fn without_bias(op: &Op) -> Op {
    let mut op = op.clone();
    match &mut op {
        Op::Linear { bias }
        | Op::Conv1d { bias, .. }
        | Op::Conv2d { bias, .. }
        | Op::ConvTranspose2d { bias, .. } => *bias = false,
        _ => {}
    }
    op
}

/// The rank of a convolution's batched input (and output).
fn batched_rank(op: &Op) -> usize {
    match op {
        Op::Conv1d { .. } => 3,
        _ => 4,
    }
}

/// The axes of a convolution's output other than its channel axis.
fn non_channel_axes(rank: usize, unbatched: bool) -> Vec<usize> {
    let channel = usize::from(!unbatched);
    (0..rank).filter(|&a| a != channel).collect()
}

/// The pads that put `before`/`after` zeros around axis `a` of a rank-`rank` value.
fn pads_for(a: usize, rank: usize, before: usize, after: usize) -> Vec<[usize; 2]> {
    let mut pads = vec![[0, 0]; rank - a];
    pads[rank - 1 - a] = [before, after];
    pads
}

fn primitive_vjp<S: OpSink>(
    op: &Op,
    e: &mut Emit<S>,
    x: &[S::Value],
    y: &S::Value,
    g: &S::Value,
) -> R<Vec<Option<S::Value>>> {
    let n = x.len();
    if carries_no_derivative(op) {
        return Ok(vec![None; n]);
    }
    let none = || vec![None; n];
    let dims = |e: &Emit<S>, v: &S::Value| e.dims(v);
    let one = |v: S::Value| {
        let mut out = vec![None; n];
        out[0] = Some(v);
        out
    };
    if let Some(f) = unary_factor(op, e, &x[0], y)? {
        return Ok(one(e.mul(g, &f)?));
    }
    if is_binary_elementwise(op) {
        let [fa, fb] = binary_factors(op, e, &x[0], &x[1], y)?;
        let (da, db) = (dims(e, &x[0]), dims(e, &x[1]));
        let ga = e.mul(g, &fa)?;
        let gb = e.mul(g, &fb)?;
        return Ok(vec![Some(e.sum_to(&ga, &da)?), Some(e.sum_to(&gb, &db)?)]);
    }
    Ok(match op {
        Op::Neg => one(e.neg(g)?),
        Op::Cast { .. } => {
            let from = e.ty(&x[0]).dtype;
            if from.is_float() && e.ty(y).dtype.is_float() {
                one(e.cast(g, from)?)
            } else {
                none()
            }
        }
        Op::Where => {
            let zero = e.scalar_like(0.0, g)?;
            let gx = e.select(&x[0], g, &zero)?;
            let gy = e.select(&x[0], &zero, g)?;
            let (dx, dy) = (dims(e, &x[1]), dims(e, &x[2]));
            vec![None, Some(e.sum_to(&gx, &dx)?), Some(e.sum_to(&gy, &dy)?)]
        }
        Op::Matmul => matmul_vjp(e, &x[0], &x[1], g)?,
        Op::Linear { bias } => {
            // x [*, in], W [out, in], g [*, out]: dx = g W, dW = gᵀ x over the flattened
            // leading axes, db = Σ g.
            let (dx_dims, dw) = (dims(e, &x[0]), dims(e, &x[1]));
            let dx = e.matmul(g, &x[1])?;
            let dx = e.reshape(&dx, &dx_dims)?;
            let rows = dx_dims[..dx_dims.len() - 1].iter().product::<usize>();
            let g2 = e.reshape(g, &[rows, dw[0]])?;
            let x2 = e.reshape(&x[0], &[rows, dw[1]])?;
            let gt = e.transpose_last(&g2)?;
            let mut out = vec![Some(dx), Some(e.matmul(&gt, &x2)?)];
            if *bias {
                let lead: Vec<usize> = (0..dims(e, g).len() - 1).collect();
                out.push(Some(e.sum(g, &lead, false)?));
            }
            out
        }
        Op::Conv1d { bias, .. } | Op::Conv2d { bias, .. } | Op::ConvTranspose2d { bias, .. } => {
            let mut inputs: Vec<&S::Value> = x.iter().collect();
            inputs.push(g);
            let vjp = |input| Op::Vjp {
                of: Box::new(op.clone()),
                input,
            };
            let dx = e.op(vjp(0), &inputs)?;
            let dw = e.op(vjp(1), &inputs)?;
            let mut out = vec![Some(dx), Some(dw)];
            if *bias {
                let rank = dims(e, g).len();
                let unbatched = rank < batched_rank(op);
                let summed = e.sum(g, &non_channel_axes(rank, unbatched), false)?;
                out.push(Some(summed));
            }
            out
        }
        Op::MaxPool2d { .. } | Op::AvgPool2d { .. } | Op::AdaptiveAvgPool2d { .. } => {
            let vjp = Op::Vjp {
                of: Box::new(op.clone()),
                input: 0,
            };
            one(e.op(vjp, &[&x[0], g])?)
        }
        Op::Softmax { axis } => {
            let a = axis_of(e, y, *axis)?;
            let gy = e.mul(g, y)?;
            let s = e.sum(&gy, &[a], true)?;
            let d = e.sub(g, &s)?;
            one(e.mul(y, &d)?)
        }
        Op::LogSoftmax { axis } => {
            let a = axis_of(e, y, *axis)?;
            let p = e.unary(Op::Exp, y)?;
            let s = e.sum(g, &[a], true)?;
            let ps = e.mul(&p, &s)?;
            one(e.sub(g, &ps)?)
        }
        Op::Embedding => {
            let vjp = Op::Vjp {
                of: Box::new(Op::Embedding),
                input: 1,
            };
            vec![None, Some(e.op(vjp, &[&x[0], &x[1], g])?)]
        }
        Op::Gather { .. } => {
            let vjp = Op::Vjp {
                of: Box::new(op.clone()),
                input: 0,
            };
            vec![Some(e.op(vjp, &[&x[0], &x[1], g])?), None]
        }
        Op::Reshape { .. } | Op::Flatten { .. } => {
            let d = dims(e, &x[0]);
            one(e.reshape(g, &d)?)
        }
        Op::Permute { perm } => {
            let mut inverse = vec![0; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inverse[p] = i;
            }
            one(e.permute(g, &inverse)?)
        }
        Op::Transpose { .. } => one(e.op(op.clone(), &[g])?),
        Op::BroadcastTo { .. } => {
            let d = dims(e, &x[0]);
            one(e.sum_to(g, &d)?)
        }
        Op::Concat { axis } => {
            let a = axis_of(e, y, *axis)?;
            let sizes: Vec<usize> = x.iter().map(|v| e.dims(v)[a]).collect();
            let mut out = Vec::with_capacity(n);
            for index in 0..n {
                let piece = Op::Split {
                    axis: a as isize,
                    sizes: sizes.clone(),
                    index,
                };
                out.push(Some(e.op(piece, &[g])?));
            }
            out
        }
        Op::Split { axis, sizes, index } => {
            let rank = dims(e, &x[0]).len();
            let a = axis_of(e, &x[0], *axis)?;
            let before: usize = sizes[..*index].iter().sum();
            let after: usize = sizes[index + 1..].iter().sum();
            let pad = Op::Pad {
                pads: pads_for(a, rank, before, after),
                value: 0.0,
            };
            one(e.op(pad, &[g])?)
        }
        Op::Slice {
            axis,
            start,
            end,
            step,
        } => {
            let d = dims(e, &x[0]);
            let a = axis_of(e, &x[0], *axis)?;
            let (from, _) = super::shape::slice_bounds(&d, *axis, *start, *end)?;
            let taken = dims(e, g)[a];
            if *step == 1 || taken == 0 {
                let pad = Op::Pad {
                    pads: pads_for(a, d.len(), from.min(d[a]), d[a] - from.min(d[a]) - taken),
                    value: 0.0,
                };
                one(e.op(pad, &[g])?)
            } else {
                let vjp = Op::Vjp {
                    of: Box::new(op.clone()),
                    input: 0,
                };
                one(e.op(vjp, &[&x[0], g])?)
            }
        }
        Op::Pad { pads, .. } => {
            let d = dims(e, &x[0]);
            let mut acc = g.clone();
            for (k, [before, _]) in pads.iter().enumerate() {
                let a = d.len() - 1 - k;
                let slice = Op::Slice {
                    axis: a as isize,
                    start: *before as i64,
                    end: (before + d[a]) as i64,
                    step: 1,
                };
                acc = e.op(slice, &[&acc])?;
            }
            one(acc)
        }
        Op::ReduceSum { axes, keepdim } | Op::ReduceMean { axes, keepdim } => {
            let d = dims(e, &x[0]);
            let kept = keep_dims(&d, axes)?;
            let gk = if *keepdim {
                g.clone()
            } else {
                e.reshape(g, &kept)?
            };
            let spread = e.broadcast_to(&gk, &d.as_slice().into())?;
            if matches!(op, Op::ReduceMean { .. }) {
                let count = reduced_count(&d, &kept);
                one(e.scale(&spread, 1.0 / count as f64)?)
            } else {
                one(spread)
            }
        }
        Op::ReduceMax { axes, keepdim } => {
            let d = dims(e, &x[0]);
            let (mask, count) = max_mask(e, &x[0], y, axes, *keepdim)?;
            let kept = keep_dims(&d, axes)?;
            let gk = if *keepdim {
                g.clone()
            } else {
                e.reshape(g, &kept)?
            };
            let share = e.div(&gk, &count)?;
            one(e.mul(&mask, &share)?)
        }
        Op::Dropout { .. } => one(e.op(op.clone(), &[g])?),
        Op::Vjp { of, input } => derivative_vjp(e, of, *input, x, g)?,
        Op::Jvp { of } => match of.as_ref() {
            Op::MaxPool2d { .. } => {
                let vjp = Op::Vjp {
                    of: of.clone(),
                    input: 0,
                };
                vec![None, Some(e.op(vjp, &[&x[0], g])?)]
            }
            other => return Err(no_second_order(other)),
        },
        other => return Err(format!("internal: no VJP rule reaches {}", other.tag())),
    })
}

/// Ops no derivative passes through: sources, samples, indices, masks, comparisons, and
/// the piecewise-constant `sign` and `floor` (zero almost everywhere, as in PyTorch).
fn carries_no_derivative(op: &Op) -> bool {
    matches!(
        op,
        Op::Input { .. }
            | Op::Constant { .. }
            | Op::Parameter { .. }
            | Op::Detach
            | Op::Sign
            | Op::Floor
            | Op::Compare { .. }
            | Op::LogicalNot
            | Op::LogicalAnd
            | Op::LogicalOr
            | Op::ArgMax { .. }
            | Op::RandUniform { .. }
            | Op::BernoulliMask { .. }
    )
}

fn no_second_order(of: &Op) -> String {
    format!(
        "the derivative kernel of {} has no derivative of its own",
        of.tag()
    )
}

/// The VJP of a `vjp` node: its output is linear in the cotangent (its last input), whose
/// cotangent is then the tangent map of `of`; other inputs get none where `of` is piecewise
/// linear in them.
fn derivative_vjp<S: OpSink>(
    e: &mut Emit<S>,
    of: &Op,
    input: usize,
    x: &[S::Value],
    gg: &S::Value,
) -> R<Vec<Option<S::Value>>> {
    let mut out = vec![None; x.len()];
    let last = x.len() - 1;
    out[last] = Some(match (of, input) {
        (Op::MaxPool2d { .. }, 0) => e.op(
            Op::Jvp {
                of: Box::new(of.clone()),
            },
            &[&x[0], gg],
        )?,
        (Op::AvgPool2d { .. } | Op::AdaptiveAvgPool2d { .. }, 0) => e.op(of.clone(), &[gg])?,
        (Op::Embedding, 1) => e.op(Op::Embedding, &[&x[0], gg])?,
        (Op::Gather { .. }, 0) => e.op(of.clone(), &[gg, &x[1]])?,
        (Op::Slice { .. }, 0) => e.op(of.clone(), &[gg])?,
        _ => return Err(no_second_order(of)),
    });
    Ok(out)
}

fn axis_of<S: OpSink>(e: &Emit<S>, v: &S::Value, axis: isize) -> R<usize> {
    super::axis(axis, e.dims(v).len().max(1))
}

/// The input dims with the reduced axes set to 1.
fn keep_dims(dims: &[usize], axes: &[isize]) -> R<Vec<usize>> {
    let mut kept = dims.to_vec();
    for &a in axes {
        kept[super::axis(a, dims.len())?] = 1;
    }
    Ok(kept)
}

fn reduced_count(dims: &[usize], kept: &[usize]) -> usize {
    dims.iter().product::<usize>() / kept.iter().product::<usize>().max(1)
}

/// The positions that attain a max (as 0/1 in the input's dtype) and, per reduced group,
/// how many do (keepdim shape), so ties share the gradient evenly.
fn max_mask<S: OpSink>(
    e: &mut Emit<S>,
    x: &S::Value,
    y: &S::Value,
    axes: &[isize],
    keepdim: bool,
) -> R<(S::Value, S::Value)> {
    let d = e.dims(x);
    let kept = keep_dims(&d, axes)?;
    let yk = if keepdim {
        y.clone()
    } else {
        e.reshape(y, &kept)?
    };
    let hit = e.compare(Comparison::Eq, x, &yk)?;
    let dtype = e.ty(x).dtype;
    let mask = e.cast(&hit, dtype)?;
    let reduced: Vec<usize> = (0..d.len())
        .filter(|&a| kept[a] != d[a] || d[a] == 1)
        .collect();
    let count = e.sum(&mask, &reduced, true)?;
    Ok((mask, count))
}

/// torch.matmul's VJP, 1-D operands promoted as in the forward and batch axes summed back.
fn matmul_vjp<S: OpSink>(
    e: &mut Emit<S>,
    a: &S::Value,
    b: &S::Value,
    g: &S::Value,
) -> R<Vec<Option<S::Value>>> {
    let (da, db) = (e.dims(a), e.dims(b));
    let a2 = if da.len() == 1 {
        e.reshape(a, &[1, da[0]])?
    } else {
        a.clone()
    };
    let b2 = if db.len() == 1 {
        e.reshape(b, &[db[0], 1])?
    } else {
        b.clone()
    };
    let (ea, eb) = (e.dims(&a2), e.dims(&b2));
    let mut gd = e.dims(g);
    if da.len() == 1 {
        gd.insert(gd.len() - usize::from(db.len() != 1), 1);
    }
    if db.len() == 1 {
        gd.push(1);
    }
    let g2 = e.reshape(g, &gd)?;
    let bt = e.transpose_last(&b2)?;
    let ga = e.matmul(&g2, &bt)?;
    let at = e.transpose_last(&a2)?;
    let gb = e.matmul(&at, &g2)?;
    let ga = e.sum_to(&ga, &ea)?;
    let gb = e.sum_to(&gb, &eb)?;
    Ok(vec![Some(e.reshape(&ga, &da)?), Some(e.reshape(&gb, &db)?)])
}

/// A zero-filled tangent of `like`'s type where none is given.
fn or_zero<S: OpSink>(e: &mut Emit<S>, t: &Option<S::Value>, like: &S::Value) -> R<S::Value> {
    match t {
        Some(t) => Ok(t.clone()),
        None => e.zeros_like(like),
    }
}

fn primitive_jvp<S: OpSink>(
    op: &Op,
    e: &mut Emit<S>,
    x: &[S::Value],
    y: &S::Value,
    t: &[Option<S::Value>],
) -> R<Option<S::Value>> {
    if carries_no_derivative(op) {
        return Ok(None);
    }
    let out_shape = e.ty(y).shape;
    if let Some(f) = unary_factor(op, e, &x[0], y)? {
        return match &t[0] {
            Some(t0) => Ok(Some(e.mul(t0, &f)?)),
            None => Ok(None),
        };
    }
    if is_binary_elementwise(op) {
        let [fa, fb] = binary_factors(op, e, &x[0], &x[1], y)?;
        let mut acc = None;
        for (ti, f) in t.iter().zip([fa, fb]) {
            if let Some(ti) = ti {
                let term = e.mul(ti, &f)?;
                let term = e.broadcast_to(&term, &out_shape)?;
                crate::ops::grad::accumulate(e.0, &mut acc, term)?;
            }
        }
        return Ok(acc);
    }
    // Ops linear in all their differentiable inputs: the op applied to the tangents.
    let linear = |e: &mut Emit<S>, t: &[Option<S::Value>]| -> R<Option<S::Value>> {
        let mut args = Vec::with_capacity(x.len());
        for (ti, xi) in t.iter().zip(x) {
            args.push(or_zero(e, ti, xi)?);
        }
        let refs: Vec<&S::Value> = args.iter().collect();
        Ok(Some(e.op(op.clone(), &refs)?))
    };
    Ok(match op {
        Op::Neg
        | Op::Reshape { .. }
        | Op::Flatten { .. }
        | Op::Permute { .. }
        | Op::Transpose { .. }
        | Op::BroadcastTo { .. }
        | Op::Concat { .. }
        | Op::Split { .. }
        | Op::Slice { .. }
        | Op::ReduceSum { .. }
        | Op::ReduceMean { .. }
        | Op::AvgPool2d { .. }
        | Op::AdaptiveAvgPool2d { .. }
        | Op::Dropout { .. } => linear(e, t)?,
        Op::Pad { pads, .. } => {
            let t0 = or_zero(e, &t[0], &x[0])?;
            let pad = Op::Pad {
                pads: pads.clone(),
                value: 0.0,
            };
            Some(e.op(pad, &[&t0])?)
        }
        Op::Cast { dtype } => match &t[0] {
            Some(t0) if e.ty(t0).dtype.is_float() && dtype.is_float() => Some(e.cast(t0, *dtype)?),
            _ => None,
        },
        Op::Where => {
            let tx = or_zero(e, &t[1], &x[1])?;
            let ty = or_zero(e, &t[2], &x[2])?;
            Some(e.select(&x[0], &tx, &ty)?)
        }
        Op::Matmul
        | Op::Linear { .. }
        | Op::Conv1d { .. }
        | Op::Conv2d { .. }
        | Op::ConvTranspose2d { .. } => {
            // Bilinear in (input, weight), plus the bias tangent broadcast per channel.
            let core = without_bias(op);
            let mut acc = None;
            if let Some(tx) = &t[0] {
                let term = e.op(core.clone(), &[tx, &x[1]])?;
                accumulate(e.0, &mut acc, term)?;
            }
            if let Some(tw) = &t[1] {
                let term = e.op(core.clone(), &[&x[0], tw])?;
                accumulate(e.0, &mut acc, term)?;
            }
            if let Some(Some(tb)) = t.get(2) {
                // Linear's bias runs along the last axis, a convolution's along channels.
                let laid = if matches!(op, Op::Linear { .. }) {
                    tb.clone()
                } else {
                    let rank = out_shape.rank();
                    let mut bd = vec![1; rank];
                    bd[usize::from(rank == batched_rank(op))] = e.dims(tb)[0];
                    e.reshape(tb, &bd)?
                };
                let term = e.broadcast_to(&laid, &out_shape)?;
                accumulate(e.0, &mut acc, term)?;
            }
            acc
        }
        Op::MaxPool2d { .. } => match &t[0] {
            Some(t0) => Some(e.op(
                Op::Jvp {
                    of: Box::new(op.clone()),
                },
                &[&x[0], t0],
            )?),
            None => None,
        },
        Op::Softmax { axis } => match &t[0] {
            Some(t0) => {
                let a = axis_of(e, y, *axis)?;
                let ty = e.mul(t0, y)?;
                let s = e.sum(&ty, &[a], true)?;
                let d = e.sub(t0, &s)?;
                Some(e.mul(y, &d)?)
            }
            None => None,
        },
        Op::LogSoftmax { axis } => match &t[0] {
            Some(t0) => {
                let a = axis_of(e, y, *axis)?;
                let p = e.unary(Op::Exp, y)?;
                let pt = e.mul(&p, t0)?;
                let s = e.sum(&pt, &[a], true)?;
                Some(e.sub(t0, &s)?)
            }
            None => None,
        },
        Op::Embedding => match &t[1] {
            Some(tw) => Some(e.op(Op::Embedding, &[&x[0], tw])?),
            None => None,
        },
        Op::Gather { .. } => match &t[0] {
            Some(tx) => Some(e.op(op.clone(), &[tx, &x[1]])?),
            None => None,
        },
        Op::ReduceMax { axes, keepdim } => match &t[0] {
            Some(t0) => {
                let (mask, count) = max_mask(e, &x[0], y, axes, *keepdim)?;
                let picked = e.mul(t0, &mask)?;
                let reduce = Op::ReduceSum {
                    axes: axes.clone(),
                    keepdim: true,
                };
                let s = e.op(reduce, &[&picked])?;
                let share = e.div(&s, &count)?;
                Some(e.reshape(&share, out_shape.dims())?)
            }
            None => None,
        },
        // Linear in the cotangent (last input); other inputs' tangents are not supported.
        Op::Vjp { .. } | Op::Jvp { .. } => {
            let last = x.len() - 1;
            if t[..last].iter().any(Option::is_some) {
                return Err(no_second_order(op));
            }
            linear(e, t)?
        }
        other => return Err(format!("internal: no JVP rule reaches {}", other.tag())),
    })
}

/// The native kernel of a `vjp` node: `x` holds `of`'s inputs, then the cotangent.
pub(crate) fn native_vjp(of: &Op, input: usize, x: &[Tensor]) -> R<Tensor> {
    let g = &x[x.len() - 1];
    match of {
        Op::Conv1d { .. }
        | Op::Conv2d { .. }
        | Op::ConvTranspose2d { .. }
        | Op::MaxPool2d { .. }
        | Op::AvgPool2d { .. }
        | Op::AdaptiveAvgPool2d { .. } => super::conv::native::vjp(of, input, x),
        Op::Embedding => {
            // Rows of the table gather; their cotangents scatter-add back.
            let (indices, table) = (&x[0], &x[1]);
            let d = table.dims()[1];
            let n = indices.numel();
            let rows = indices.reshape([n, 1]).s()?.broadcast_to([n, d]).s()?;
            let zeros = Tensor::zeros(table.shape().clone(), table.dtype()).s()?;
            zeros
                .scatter_add(0, &rows.contiguous(), &g.reshape([n, d]).s()?)
                .s()
        }
        Op::Gather { axis } => {
            let zeros = Tensor::zeros(x[0].shape().clone(), x[0].dtype()).s()?;
            zeros.scatter_add(*axis, &x[1], g).s()
        }
        Op::Slice {
            axis,
            start,
            end,
            step,
        } => {
            let dims = x[0].dims();
            let a = super::axis(*axis, dims.len())?;
            let (from, _) = super::shape::slice_bounds(dims, *axis, *start, *end)?;
            let taken = g.dims()[a];
            let positions: Vec<i64> = (0..taken).map(|i| (from + i * step) as i64).collect();
            let mut laid = vec![1; dims.len()];
            laid[a] = taken;
            let index = Tensor::from_vec(positions, laid)
                .s()?
                .broadcast_to(g.shape().clone())
                .s()?
                .contiguous();
            let zeros = Tensor::zeros(x[0].shape().clone(), x[0].dtype()).s()?;
            zeros.scatter_add(*axis, &index, g).s()
        }
        other => Err(format!("no derivative kernel for {}", other.tag())),
    }
}

/// The native kernel of a `jvp` node.
pub(crate) fn native_jvp(of: &Op, x: &[Tensor]) -> R<Tensor> {
    super::conv::native::max_pool_jvp(of, x)
}
