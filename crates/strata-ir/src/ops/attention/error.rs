//! Local error rules of the softmax family. The native kernel computes, along the axis,
//! `m = max x̂`, `e_i = exp(x̂_i − m)`, `s = Σ e_i` (its own order), then `e_i / s` (softmax)
//! or `x̂_i − (m + ln s)` (log-softmax). Softmax is shift-invariant, so the spec is taken with
//! the same shift `m` as the native run: a real number with no error of its own, somewhere in
//! the range of the native maximum. Each step then takes its scalar rule (exp by the mean
//! value bound and the libm assumption, the sum by the any-order rule, the division guarded).
//! Masked softmax has its own rule (masked positions are exact zeros), and attention goes
//! through its decomposition with that rule.

use crate::error_bound::{Approx, Bounded, ErrorSink, Format};
use crate::interpret::{along_axis, Array, Value};
use crate::layer::Transcendental;
use crate::op::{AttentionMask, Op};
use crate::ops::elementwise::error as scalar;
use crate::ops::reduce::error::sum_rule;
use crate::sink::Emit;
use strata_float::interval::Interval;
use strata_tensor::Tensor;

type V = Value<Option<Approx>>;

pub(crate) fn softmax(sink: &ErrorSink, axis: isize, x: &[&V], log: bool) -> Result<V, String> {
    let f = sink.format();
    let a = x.first().ok_or("softmax takes one input")?.float()?;
    let row = |row: &[Option<Approx>]| -> Result<Vec<Option<Approx>>, String> {
        match row.iter().copied().collect::<Option<Vec<Approx>>>() {
            Some(row) => softmax_row(f, &row, log),
            None => Ok(vec![None; row.len()]),
        }
    };
    Ok(Value::Float(along_axis(a, axis, row)?))
}

/// Masked softmax as the native decomposition runs it: masked positions are −∞ before the
/// softmax, so they contribute exactly 0 to the sum and come out exactly 0; the rest take the
/// softmax rule. The mask must be decided (a bool input or a decided comparison).
pub(crate) fn masked_softmax(sink: &ErrorSink, axis: isize, x: &[&V]) -> Result<V, String> {
    let f = sink.format();
    let [Value::Float(a), Value::Tensor(mask)] = x else {
        return Err("masked softmax takes a float input and a bool mask".into());
    };
    let mask = mask
        .broadcast_to(a.shape.clone())
        .and_then(|m| m.contiguous().to_vec::<bool>())
        .map_err(|e| e.to_string())?;
    let paired = Array::new(
        a.shape.clone(),
        a.data.iter().copied().zip(mask).collect::<Vec<_>>(),
    );
    let row = |row: &[(Option<Approx>, bool)]| -> Result<Vec<(Option<Approx>, bool)>, String> {
        let kept: Option<Vec<Approx>> = row.iter().filter(|p| p.1).map(|p| p.0).collect();
        let Some(kept) = kept else {
            return Ok(row.iter().map(|&(_, m)| (None, m)).collect());
        };
        let mut probs = match kept.is_empty() {
            true => Vec::new(),
            false => softmax_row(f, &kept, false)?,
        }
        .into_iter();
        Ok(row
            .iter()
            .map(|&(_, m)| match m {
                true => (probs.next().flatten(), m),
                false => (Approx::point(0.0), m),
            })
            .collect())
    };
    let out = along_axis(&paired, axis, row)?;
    Ok(Value::Float(out.map(|p| p.0)))
}

fn softmax_row(f: &Format, row: &[Approx], log: bool) -> Result<Vec<Option<Approx>>, String> {
    let natives: Vec<Interval<f64>> = row.iter().map(Approx::native).collect();
    let top = |pick: fn(&Interval<f64>) -> f64| {
        natives.iter().map(pick).fold(f64::NEG_INFINITY, f64::max)
    };
    let Ok(shift) = Interval::new(top(Interval::lo), top(Interval::hi)) else {
        return Ok(vec![None; row.len()]);
    };
    let shift = Approx {
        exact: shift,
        err: 0.0,
    };
    let mut exps = Vec::with_capacity(row.len());
    for v in row {
        exps.push(match scalar::add(f, v, &scalar::neg(&shift)) {
            Some(d) => scalar::transcendental(f, Transcendental::Exp, &d)?,
            None => None,
        });
    }
    let total = sum_rule(f, &exps);
    if !log {
        return Ok(exps
            .iter()
            .map(|e| scalar::div(f, e.as_ref()?, total.as_ref()?))
            .collect());
    }
    let Some(total) = total else {
        return Ok(vec![None; row.len()]);
    };
    let lse = scalar::transcendental(f, Transcendental::Ln, &total)?
        .and_then(|l| scalar::add(f, &shift, &l));
    Ok(row
        .iter()
        .map(|v| scalar::add(f, v, &scalar::neg(lse.as_ref()?)))
        .collect())
}

/// Attention as its decomposition runs natively (`softmax(q kᵀ · scale) v`), with the masked
/// softmax taken as one op: the decomposition writes masked scores as −∞, which has no
/// error bound, while the masked-softmax rule knows those positions are exact zeros.
pub(crate) fn attention(
    sink: &mut ErrorSink,
    mask: AttentionMask,
    scale: Option<f64>,
    x: &[Bounded],
) -> Result<V, String> {
    let mut e = Emit(sink);
    let (q, k, v) = (&x[0], &x[1], &x[2]);
    let qd = e.dims(q);
    let (l, dim) = (qd[qd.len() - 2], qd[qd.len() - 1]);
    let s = e.dims(k)[e.dims(k).len() - 2];
    let kt = e.transpose_last(k)?;
    let scores = e.matmul(q, &kt)?;
    let scores = e.scale(&scores, scale.unwrap_or(1.0 / (dim as f64).sqrt()))?;
    let masked = Op::MaskedSoftmax { axis: -1 };
    let p = match mask {
        AttentionMask::None => e.unary(Op::Softmax { axis: -1 }, &scores)?,
        AttentionMask::Causal => {
            let keep: Vec<bool> = (0..l * s).map(|i| i % s <= i / s).collect();
            let m = e.constant(Tensor::from_vec(keep, [l, s]).map_err(|e| e.to_string())?)?;
            e.op(masked, &[&scores, &m])?
        }
        AttentionMask::Explicit => e.op(masked, &[&scores, &x[3]])?,
    };
    Ok(e.matmul(&p, v)?.value)
}
