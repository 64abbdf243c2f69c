//! The real-number specification as outward-rounded enclosures ([`Interval<f64>`]): every
//! result contains the exact real result of the op for every real choice of its operands inside
//! their enclosures. A scalar is `Option<Interval<f64>>`: `None` where the real value does not
//! exist (an infinite or NaN datum, `ln` or `sqrt` of a wholly negative enclosure, a negative
//! base to a non-integer power); every operation on `None` gives `None`.
//!
//! Rules from `strata_float::interval` (+ − × ÷ √, exp, ln, tanh, sigmoid, min, max, abs), and
//! here: `ln(1 + x)` composed; erf from monotonicity; sin and cos from monotonicity between
//! their extrema (an extremum counts as inside whenever it may be, given the rounding of π);
//! endpoint values of erf, sin and cos are libm's widened by
//! [`LIBM_F64_ULPS`](strata_float::interval::LIBM_F64_ULPS) + 1 ulps each way, the interval
//! module's named libm assumption.

use super::{Arith, Exported, NumericLayer, Transcendental};
use crate::op::Comparison;
use std::f64::consts::{FRAC_PI_2, PI};
use strata_float::interval::{Interval, LIBM_F64_ULPS};
use strata_tensor::{DType, Float, Shape, Tensor};

type I = Interval<f64>;
type S = Option<I>;

/// Outward-rounded `f64` intervals enclosing the real-number semantics.
#[derive(Clone, Copy, Debug, Default)]
pub struct IntervalLayer;

/// `[lo, hi]`, or the whole line if rounding produced bounds `Interval::new` rejects.
fn hull(lo: f64, hi: f64) -> I {
    Interval::new(lo, hi).unwrap_or_else(|_| Interval::entire())
}

/// Bounds on a libm value under the named assumption.
fn widened(value: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (value, value);
    for _ in 0..=LIBM_F64_ULPS {
        lo = lo.next_down();
        hi = hi.next_up();
    }
    (lo, hi)
}

fn point(v: f64) -> S {
    Interval::point(v).ok()
}

/// `x^n` for a non-negative enclosure and `n ≥ 1` (increasing there), by outward products.
fn pow_nonneg(x: &I, n: u32) -> I {
    (1..n).fold(*x, |acc, _| acc.mul(x))
}

/// Whether some `c + k·2π` (k an integer) may lie in `[lo, hi]`, allowing for the rounding of
/// π and of the division (the answer errs towards yes).
fn may_contain_period_point(x: &I, c: f64) -> bool {
    let (lo, hi) = (x.lo(), x.hi());
    let slack = 1e-9 + (lo.abs().max(hi.abs())) * 1e-14;
    let k_lo = ((lo - c) / (2.0 * PI) - slack).ceil();
    let k_hi = ((hi - c) / (2.0 * PI) + slack).floor();
    k_lo <= k_hi
}

/// An enclosure of sin (`phase = 0`) or cos (`phase = π/2`, cos x = sin(x + π/2), used only
/// to place the extrema) over `x`.
fn periodic(x: &I, f: fn(f64) -> f64, phase: f64) -> I {
    let unit = hull(-1.0, 1.0);
    let (lo, hi) = (x.lo(), x.hi());
    // Beyond 2^50 libm's argument reduction is not assumed; a period-wide interval has both
    // extrema.
    if !(lo.abs() < 1e15 && hi.abs() < 1e15) || hi - lo >= 2.0 * PI {
        return unit;
    }
    let (a, b) = (widened(f(lo)), widened(f(hi)));
    let mut low = a.0.min(b.0);
    let mut high = a.1.max(b.1);
    // sin peaks at π/2 + 2kπ and bottoms at −π/2 + 2kπ; cos x = sin(x + π/2) shifts them.
    if may_contain_period_point(x, FRAC_PI_2 - phase) {
        high = 1.0;
    }
    if may_contain_period_point(x, -FRAC_PI_2 - phase) {
        low = -1.0;
    }
    hull(low.max(-1.0), high.min(1.0))
}

fn erf(x: &I) -> I {
    let lo = widened(<f64 as Float>::erf(x.lo())).0;
    let hi = widened(<f64 as Float>::erf(x.hi())).1;
    hull(lo.max(-1.0), hi.min(1.0))
}

impl Arith for IntervalLayer {
    type Scalar = S;

    fn name(&self) -> &'static str {
        "interval"
    }
    fn int(&self, v: i64) -> S {
        let f = v as f64;
        if f.abs() <= 9_007_199_254_740_992.0 {
            point(f)
        } else {
            Some(hull(f.next_down(), f.next_up()))
        }
    }
    fn add(&self, a: &S, b: &S) -> S {
        Some(a.as_ref()?.add(b.as_ref()?))
    }
    fn sub(&self, a: &S, b: &S) -> S {
        Some(a.as_ref()?.sub(b.as_ref()?))
    }
    fn mul(&self, a: &S, b: &S) -> S {
        Some(a.as_ref()?.mul(b.as_ref()?))
    }
    fn neg(&self, a: &S) -> S {
        Some(a.as_ref()?.neg())
    }
    fn abs(&self, a: &S) -> S {
        Some(a.as_ref()?.abs())
    }
    fn maximum(&self, a: &S, b: &S) -> S {
        Some(a.as_ref()?.max(b.as_ref()?))
    }
    fn minimum(&self, a: &S, b: &S) -> S {
        Some(a.as_ref()?.min(b.as_ref()?))
    }
    /// Decided when every pair of reals in the two enclosures gives the same answer.
    fn compare(&self, a: &S, b: &S, cmp: Comparison) -> Option<bool> {
        let (a, b) = (a.as_ref()?, b.as_ref()?);
        let lt = |x: &I, y: &I| {
            if x.hi() < y.lo() {
                Some(true)
            } else if x.lo() >= y.hi() {
                Some(false)
            } else {
                None
            }
        };
        let le = |x: &I, y: &I| lt(y, x).map(|gt| !gt);
        let eq = if a.lo() == a.hi() && b.lo() == b.hi() {
            Some(a.lo() == b.lo())
        } else if a.hi() < b.lo() || b.hi() < a.lo() {
            Some(false)
        } else {
            None
        };
        match cmp {
            Comparison::Lt => lt(a, b),
            Comparison::Le => le(a, b),
            Comparison::Gt => lt(b, a),
            Comparison::Ge => le(b, a),
            Comparison::Eq => eq,
            Comparison::Ne => eq.map(|e| !e),
        }
    }
    fn is_nan(&self, a: &S) -> Option<bool> {
        a.as_ref().map(|_| false)
    }
    /// A point integer exponent uses the monotone pieces of `x^n` (n = 0 gives 1); any other
    /// exponent `exp(y · ln x)` over the part of `x` where `x > 0` (the real power of a
    /// negative base is undefined there).
    fn pow(&self, a: &S, b: &S) -> Result<S, String> {
        let (Some(x), Some(y)) = (a, b) else {
            return Ok(None);
        };
        let integer = (y.lo() == y.hi() && y.lo().fract() == 0.0 && y.lo().abs() <= 1024.0)
            .then_some(y.lo() as i32);
        let Some(n) = integer else {
            return Ok(x.ln().ok().map(|l| l.mul(y).exp()));
        };
        let magnitude = n.unsigned_abs();
        let power = if magnitude == 0 {
            hull(1.0, 1.0)
        } else if x.lo() >= 0.0 {
            pow_nonneg(x, magnitude)
        } else if magnitude % 2 == 0 {
            pow_nonneg(&x.abs(), magnitude)
        } else if x.hi() <= 0.0 {
            pow_nonneg(&x.neg(), magnitude).neg()
        } else {
            let below = pow_nonneg(&hull(0.0, -x.lo()), magnitude).neg();
            let above = pow_nonneg(&hull(0.0, x.hi()), magnitude);
            hull(below.lo(), above.hi())
        };
        Ok(Some(if n < 0 {
            hull(1.0, 1.0).div(&power)
        } else {
            power
        }))
    }
    fn restrict(&self, x: &S, cmp: Comparison, bound: &S) -> S {
        let (v, t) = (x.as_ref()?, bound.as_ref()?);
        let (lo, hi) = match cmp {
            Comparison::Lt | Comparison::Le => (v.lo(), v.hi().min(t.hi())),
            Comparison::Gt | Comparison::Ge => (v.lo().max(t.lo()), v.hi()),
            Comparison::Eq => (v.lo().max(t.lo()), v.hi().min(t.hi())),
            Comparison::Ne => (v.lo(), v.hi()),
        };
        Some(Interval::new(lo, hi).unwrap_or(*v))
    }
    fn join(&self, a: S, b: S) -> S {
        let (a, b) = (a?, b?);
        Some(hull(a.lo().min(b.lo()), a.hi().max(b.hi())))
    }
}

impl NumericLayer for IntervalLayer {
    fn of_f32(&self, v: f32) -> S {
        point(f64::from(v))
    }
    fn of_f64(&self, v: f64) -> S {
        point(v)
    }
    /// Two ulps each way: the constants are f64 expressions within two ulps of their reals.
    fn real(&self, nearest: f64) -> S {
        Some(hull(
            nearest.next_down().next_down(),
            nearest.next_up().next_up(),
        ))
    }
    fn div(&self, a: &S, b: &S) -> S {
        Some(a.as_ref()?.div(b.as_ref()?))
    }
    fn sqrt(&self, a: &S) -> S {
        a.as_ref()?.sqrt().ok()
    }
    fn floor(&self, a: &S) -> S {
        let x = a.as_ref()?;
        Some(hull(x.lo().floor(), x.hi().floor()))
    }
    fn transcendental(&self, f: Transcendental, a: &S) -> Result<S, String> {
        let Some(x) = a else {
            return Ok(None);
        };
        Ok(match f {
            Transcendental::Exp => Some(x.exp()),
            Transcendental::Ln => x.ln().ok(),
            Transcendental::Ln1p => x.add(&hull(1.0, 1.0)).ln().ok(),
            Transcendental::Tanh => Some(x.tanh()),
            Transcendental::Erf => Some(erf(x)),
            Transcendental::Sin => Some(periodic(x, f64::sin, 0.0)),
            Transcendental::Cos => Some(periodic(x, f64::cos, FRAC_PI_2)),
        })
    }
    fn bounds(&self, a: &S) -> Option<(f64, f64)> {
        a.as_ref().map(|x| (x.lo(), x.hi()))
    }
    fn export(&self, data: &[S], shape: &Shape, _dtype: DType) -> Result<Exported, String> {
        let mut lo = Vec::with_capacity(data.len());
        let mut hi = Vec::with_capacity(data.len());
        for (i, x) in data.iter().enumerate() {
            let Some(x) = x else {
                return Err(format!("element {i} has no real value"));
            };
            lo.push(x.lo());
            hi.push(x.hi());
        }
        let tensor = |v| Tensor::from_vec(v, shape.clone()).map_err(|e| e.to_string());
        Ok(Exported::Interval {
            lo: tensor(lo)?,
            hi: tensor(hi)?,
        })
    }
}
