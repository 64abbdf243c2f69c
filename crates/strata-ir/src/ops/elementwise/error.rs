//! Local error rules of the elementwise family (DESIGN.md §4), one per scalar step: given the
//! operands' exact enclosures and error bounds, the result's. Each bound is
//! `propagated + rounding`: |f(x̂) − f(x)| from the operands' errors (a Lipschitz or
//! mean-value bound over the native range), plus |fl(f(x̂)) − f(x̂)| over the native range
//! (u·|result| + η for a correctly rounded op; the libm assumption for transcendentals).

use crate::error_bound::{mag, mig, up, Approx, ErrorSink, Format};
use crate::interpret::{Array, Value};
use crate::layer::{IntervalLayer, NumericLayer, Transcendental};
use crate::op::Op;
use strata_float::interval::Interval;

type I = Interval<f64>;

/// `Some` bound when the native result's range stays finite in the format.
fn finish(f: &Format, exact: I, err: f64, native_result: &I) -> Option<Approx> {
    let err = up(err);
    let finite = err.is_finite() && exact.lo().is_finite() && exact.hi().is_finite();
    (finite && mag(native_result) * (1.0 + f.unit_roundoff) + err < f.max_finite)
        .then_some(Approx { exact, err })
}

pub(crate) fn neg(a: &Approx) -> Approx {
    Approx {
        exact: a.exact.neg(),
        err: a.err,
    }
}

/// a + b: the errors add, plus u·|â + b̂| (a sum never underflows inexactly).
pub(crate) fn add(f: &Format, a: &Approx, b: &Approx) -> Option<Approx> {
    let native = a.native().add(&b.native());
    let rounding = f.unit_roundoff * mag(&native);
    let err = f.rule_bound("add", a.err + b.err + rounding);
    finish(f, a.exact.add(&b.exact), err, &native)
}

/// a · b: |â·b̂ − a·b| ≤ |a|·e_b + |b|·e_a + e_a·e_b, plus u·|â·b̂| + η.
pub(crate) fn mul(f: &Format, a: &Approx, b: &Approx) -> Option<Approx> {
    let native = a.native().mul(&b.native());
    let propagated = mag(&a.exact) * b.err + mag(&b.exact) * a.err + a.err * b.err;
    let rounding = f.unit_roundoff * mag(&native) + f.underflow;
    let err = f.rule_bound("mul", propagated + rounding);
    finish(f, a.exact.mul(&b.exact), err, &native)
}

/// a / b, guarded: no bound unless every exact and native divisor is away from 0. Then
/// |â/b̂ − a/b| ≤ (e_a + |a/b|·e_b) / |b̂|, plus u·|â/b̂| + η.
pub(crate) fn div(f: &Format, a: &Approx, b: &Approx) -> Option<Approx> {
    let below = mig(&b.native());
    if below <= 0.0 {
        return None;
    }
    let exact = a.exact.div(&b.exact);
    let native = a.native().div(&b.native());
    let propagated = (a.err + mag(&exact) * b.err) / below;
    let rounding = f.unit_roundoff * mag(&native) + f.underflow;
    finish(
        f,
        exact,
        f.rule_bound("div", propagated + rounding),
        &native,
    )
}

/// √a, guarded: no bound if a native operand may be negative. |√x̂ − √x| ≤ min(√e,
/// e / (2√min x)), plus u·|√x̂| (a square root never underflows).
pub(crate) fn sqrt(f: &Format, a: &Approx) -> Option<Approx> {
    let range = a.native();
    if range.lo() < 0.0 {
        return None;
    }
    let exact = a.exact.sqrt().ok()?;
    let native = range.sqrt().ok()?;
    let holder = a.err.sqrt().next_up();
    let propagated = match range.lo() > 0.0 {
        true => holder.min(a.err / (2.0 * range.lo().sqrt()).next_down()),
        false => holder,
    };
    let rounding = f.unit_roundoff * mag(&native);
    finish(
        f,
        exact,
        f.rule_bound("sqrt", propagated + rounding),
        &native,
    )
}

/// A bound on |f′| over `h`, with the domain guards of log and log1p.
fn derivative_bound(t: Transcendental, h: &I) -> Result<f64, String> {
    let at_least_magnitude = mig(h);
    Ok(match t {
        // Mean value bound: exp′ = exp, largest at the top of the range.
        Transcendental::Exp => h.exp().hi(),
        Transcendental::Ln | Transcendental::Ln1p => {
            let shift = if t == Transcendental::Ln { 0.0 } else { 1.0 };
            let lowest = (h.lo() + shift).next_down();
            if lowest <= 0.0 {
                return Err(format!(
                    "{}: the argument may reach {} within its error bound (domain guard)",
                    t.name(),
                    -shift
                ));
            }
            (1.0 / lowest).next_up()
        }
        // tanh′ = 1 − tanh², largest nearest 0.
        Transcendental::Tanh => {
            let t_lo = I::point(at_least_magnitude)
                .map(|p| p.tanh().lo())
                .unwrap_or(0.0)
                .max(0.0);
            (1.0 - t_lo * t_lo).next_up().min(1.0)
        }
        // erf′ = (2/√π)·exp(−x²).
        Transcendental::Erf => {
            let gauss = (-(at_least_magnitude * at_least_magnitude).next_down())
                .exp()
                .next_up();
            up(1.128_379_167_095_512_7 * gauss).min(1.2)
        }
        Transcendental::Sin | Transcendental::Cos => 1.0,
    })
}

/// A native libm function: |f(x̂) − f(x)| ≤ max|f′|·e over the native range (mean value), plus
/// the libm assumption k ulps of |f(x̂)| (the measured table for binary32).
pub(crate) fn transcendental(
    f: &Format,
    t: Transcendental,
    a: &Approx,
) -> Result<Option<Approx>, String> {
    let range = a.native();
    let slope = derivative_bound(t, &range)?;
    let (Some(exact), Some(native)) = (
        IntervalLayer.transcendental(t, &Some(a.exact))?,
        IntervalLayer.transcendental(t, &Some(range))?,
    ) else {
        return Err(format!("{}: the argument is outside the domain", t.name()));
    };
    let ulps = f.libm_ulps(t)?;
    let rounding = ulps * f.ulp_bound(mag(&native));
    let err = f.rule_bound(t.name(), slope * a.err + rounding);
    Ok(finish(f, exact, err, &native))
}

/// relu and leaky relu, as one rule: both are Lipschitz (constant max(1, |slope|)) and
/// continuous, so the error stays bounded even where the sign is undecided (a box across 0);
/// relu is exact (and its error vanishes where every value is negative), leaky relu rounds
/// its product (and its slope to the format).
pub(crate) fn piecewise_linear(
    sink: &ErrorSink,
    op: &Op,
    x: &[&Value<Option<Approx>>],
) -> Result<Value<Option<Approx>>, String> {
    let f = sink.format();
    let a = x.first().ok_or("expected one input")?.float()?;
    let slope = match op {
        Op::LeakyRelu { negative_slope } => Some(*negative_slope),
        _ => None,
    };
    let rule = |v: &Option<Approx>| -> Option<Approx> {
        let v = v.as_ref()?;
        // Where every native and exact value is negative, relu gives exactly 0 on both.
        let dead = v.native().hi() <= 0.0;
        let Some(s) = slope else {
            return Some(Approx {
                exact: v.exact.relu(),
                err: if dead { 0.0 } else { v.err },
            });
        };
        let si = I::point(s).ok()?;
        let negative = I::new(v.exact.lo().min(0.0), v.exact.hi().min(0.0)).ok()?;
        let positive = I::new(v.exact.lo().max(0.0), v.exact.hi().max(0.0)).ok()?;
        let scaled = negative.mul(&si);
        let exact = crate::error_bound::hull(&scaled, &positive);
        let stored = f.round(s);
        let native_neg = mag(&v.native()) * stored.abs().max(s.abs());
        let propagated = s.abs().max(1.0) * v.err + (stored - s).abs() * mag(&v.native());
        let rounding = f.unit_roundoff * native_neg + f.underflow;
        let err = f.rule_bound("leaky_relu", propagated + rounding);
        let native = crate::error_bound::widen(&exact, err);
        finish(f, exact, err, &native)
    };
    Ok(Value::Float(Array::new(
        a.shape.clone(),
        a.data.iter().map(rule).collect(),
    )))
}
