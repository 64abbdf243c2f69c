//! Local error rules of the reduction family. A sum of n terms in any order (sequential,
//! pairwise, column-wise, threaded) errs by at most (n − 1)·u·Σ|x̂_i| (Rump 2012) plus the
//! terms' own errors; a mean divides that sum once more. A maximum selects: its error is the
//! largest of its terms' (the reference rule in the error layer already says so).

use crate::error_bound::{mag, up, Approx, ErrorSink, Format};
use crate::interpret::{grouped, Array, Value};
use crate::layer::{Arith, NumericLayer};
use crate::op::Op;
use crate::ops::TensorType;
use strata_float::interval::Interval;
use strata_tensor::resolve_axis;

type V = Value<Option<Approx>>;

/// Σ `terms` in any order.
pub(crate) fn sum_rule(f: &Format, terms: &[Option<Approx>]) -> Option<Approx> {
    let mut exact = Interval::point(0.0).ok()?;
    let (mut errs, mut mags) = (0.0, 0.0);
    for t in terms {
        let t = t.as_ref()?;
        exact = exact.add(&t.exact);
        errs += t.err;
        mags += t.native_mag();
    }
    let slack = 1.0 + 2.0 * (terms.len() as f64 + 2.0) * 2f64.powi(-53);
    let rounding = f.sum_constant(terms.len()) * mags * slack;
    let err = up(f.rule_bound("sum", errs * slack + rounding));
    (err.is_finite() && mags * slack + err < f.max_finite && mag(&exact).is_finite())
        .then_some(Approx { exact, err })
}

/// reduce_sum and reduce_mean (reduce_max takes the reference rule).
pub(crate) fn forward(sink: &ErrorSink, op: &Op, x: &[&V]) -> Option<Result<V, String>> {
    let (Op::ReduceSum { axes, .. } | Op::ReduceMean { axes, .. }) = op else {
        return None;
    };
    let [Value::Float(a)] = x else {
        return None;
    };
    Some(sum_or_mean(sink, op, a, axes))
}

fn sum_or_mean(
    sink: &ErrorSink,
    op: &Op,
    a: &Array<Option<Approx>>,
    axes: &[isize],
) -> Result<V, String> {
    if axes.is_empty() {
        return Ok(Value::Float(a.clone()));
    }
    let rank = a.dims().len();
    let mut reduced = vec![false; rank];
    for &axis in axes {
        reduced[resolve_axis(op.tag(), axis, rank).map_err(|e| e.to_string())?] = true;
    }
    let (moved, n) = grouped(a, &reduced)?;
    let out = op.infer(&[TensorType::new(a.shape.clone(), strata_tensor::DType::F64)])?;
    let f = sink.format();
    let layer = &sink.layer;
    let count = layer.int(i64::try_from(n).map_err(|_| "too many elements")?);
    let data: Vec<Option<Approx>> = match n {
        0 => vec![Approx::point(0.0); out.shape.numel()],
        _ => moved.data.chunks(n).map(|g| sum_rule(f, g)).collect(),
    };
    let data = match op {
        Op::ReduceMean { .. } => data.iter().map(|s| layer.div(s, &count)).collect(),
        _ => data,
    };
    Ok(Value::Float(Array::new(out.shape, data)))
}
