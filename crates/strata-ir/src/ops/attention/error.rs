//! Local error rules of the softmax family. The native kernel computes, along the axis,
//! `m = max x̂`, `e_i = exp(x̂_i − m)`, `s = Σ e_i` (its own order), then `e_i / s` (softmax)
//! or `x̂_i − (m + ln s)` (log-softmax). Softmax is shift-invariant, so the spec is taken with
//! the same shift `m` as the native run: a real number with no error of its own, somewhere in
//! the range of the native maximum. Each step then takes its scalar rule (exp by the mean
//! value bound and the libm assumption, the sum by the any-order rule, the division guarded).
//! Masked softmax and attention are bounded through their decompositions.

use crate::error_bound::{Approx, ErrorSink};
use crate::interpret::{along_axis, Value};
use crate::layer::Transcendental;
use crate::ops::elementwise::error as scalar;
use crate::ops::reduce::error::sum_rule;
use strata_float::interval::Interval;

type V = Value<Option<Approx>>;

pub(crate) fn softmax(sink: &ErrorSink, axis: isize, x: &[&V], log: bool) -> Result<V, String> {
    let f = sink.format();
    let a = x.first().ok_or("softmax takes one input")?.float()?;
    let row = |row: &[Option<Approx>]| -> Result<Vec<Option<Approx>>, String> {
        let Some(row) = row.iter().copied().collect::<Option<Vec<Approx>>>() else {
            return Ok(vec![None; row.len()]);
        };
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
        for v in &row {
            let d = scalar::add(f, v, &scalar::neg(&shift));
            exps.push(match d {
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
    };
    Ok(Value::Float(along_axis(a, axis, row)?))
}
