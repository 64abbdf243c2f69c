//! Closed real intervals with `f32` or `f64` endpoints and outward rounding: every operation's
//! result contains the exact real result for every choice of real operands inside the operands.
//!
//! Directed rounding on stable Rust: each endpoint is computed in round-to-nearest and then moved one
//! step outward with `next_down`/`next_up`. For + − × ÷ √, round-to-nearest is within half an ulp
//! of the exact value, so one step covers it (results are at most one ulp wider than with true
//! directed rounding). Endpoints may be infinite (an unbounded side); products use 0 · ∞ = 0, the
//! limit rule of IEEE 1788.
//!
//! Transcendentals lean on libm, which is not correctly rounded and whose accuracy Rust does not
//! specify. The assumption, named here and in the trust registry: binary64 `exp`, `ln` and `tanh`
//! are within [`LIBM_F64_ULPS`] ulps, and each endpoint is widened by that many ulps plus one.
//! The `f32` versions evaluate in binary64 and round the widened binary64 bounds outward to `f32`.
//!
//! The assumption is measured, not proved: `docs/libm_accuracy.md` has the errors of this
//! platform's libm against the exact oracle of `crate::oracle` — binary64 `exp`, `ln`, `tanh` at
//! 10^6 sampled binary32 inputs (the inputs `Interval<f32>` hands them) stay within 2.1 ulps
//! (glibc documents < 1 ulp for exp/log and ≤ 2 for tanh), and the binary32 functions over all
//! 2^32 inputs within 2.2 ulps (tanhf the worst; the composite `1/(1+(-x).exp())` aside, which
//! underflows to 0 below x ≈ −88.7) — so 8 ulps keeps a margin of more than 3× and needs no
//! widening. On
//! another platform, rerun `cargo run --release -p strata-float --example libm_f64_sample` and
//! `strata float check-exhaustive`. Where a proof rather than a measurement is wanted, the
//! correctly rounded `Ieee32::exp`, `log`, `tanh` (checked exhaustively against the oracle) give
//! endpoints within half an ulp.

use std::fmt;

/// The libm accuracy assumed for binary64 `exp`, `ln`, `tanh`, in ulps (see the module comment;
/// the measurement is in `docs/libm_accuracy.md`).
pub const LIBM_F64_ULPS: u32 = 8;

/// Why an interval could not be built or an operation has no enclosure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IntervalError {
    #[error("invalid interval bounds [{lo}, {hi}]: need lo ≤ hi, no NaN, lo < +∞ and hi > −∞")]
    InvalidBounds { lo: String, hi: String },
    #[error("{operation} is undefined on all of [{lo}, {hi}]")]
    OutsideDomain {
        operation: &'static str,
        lo: String,
        hi: String,
    },
    #[error("dot product of vectors of lengths {0} and {1}")]
    LengthMismatch(usize, usize),
}

/// An endpoint type: `f32` or `f64`.
pub trait Endpoint:
    Copy
    + PartialOrd
    + fmt::Display
    + fmt::Debug
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    const INFINITY: Self;
    fn is_nan(self) -> bool;
    fn next_up(self) -> Self;
    fn next_down(self) -> Self;
    fn sqrt(self) -> Self;
    fn max(self, other: Self) -> Self;
    fn min(self, other: Self) -> Self;
    /// Lower and upper bounds on e^x, ln x, tanh x under the libm assumption.
    fn exp_bounds(self) -> (Self, Self);
    fn ln_bounds(self) -> (Self, Self);
    fn tanh_bounds(self) -> (Self, Self);
}

/// Bounds on `f(x)` from a binary64 libm value widened by `LIBM_F64_ULPS + 1` ulps each way.
fn widened_f64(value: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (value, value);
    for _ in 0..=LIBM_F64_ULPS {
        lo = lo.next_down();
        hi = hi.next_up();
    }
    (lo, hi)
}

/// The largest `f32` ≤ `x` and the smallest `f32` ≥ `y`.
fn outward_to_f32((x, y): (f64, f64)) -> (f32, f32) {
    let (mut lo, mut hi) = (x as f32, y as f32);
    if lo as f64 > x {
        lo = lo.next_down();
    }
    if (hi as f64) < y {
        hi = hi.next_up();
    }
    (lo, hi)
}

impl Endpoint for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
    const INFINITY: f64 = f64::INFINITY;
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn next_up(self) -> f64 {
        f64::next_up(self)
    }
    fn next_down(self) -> f64 {
        f64::next_down(self)
    }
    fn sqrt(self) -> f64 {
        f64::sqrt(self)
    }
    fn max(self, other: f64) -> f64 {
        f64::max(self, other)
    }
    fn min(self, other: f64) -> f64 {
        f64::min(self, other)
    }
    fn exp_bounds(self) -> (f64, f64) {
        widened_f64(self.exp())
    }
    fn ln_bounds(self) -> (f64, f64) {
        widened_f64(self.ln())
    }
    fn tanh_bounds(self) -> (f64, f64) {
        widened_f64(self.tanh())
    }
}

impl Endpoint for f32 {
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;
    const INFINITY: f32 = f32::INFINITY;
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn next_up(self) -> f32 {
        f32::next_up(self)
    }
    fn next_down(self) -> f32 {
        f32::next_down(self)
    }
    fn sqrt(self) -> f32 {
        f32::sqrt(self)
    }
    fn max(self, other: f32) -> f32 {
        f32::max(self, other)
    }
    fn min(self, other: f32) -> f32 {
        f32::min(self, other)
    }
    fn exp_bounds(self) -> (f32, f32) {
        outward_to_f32((self as f64).exp_bounds())
    }
    fn ln_bounds(self) -> (f32, f32) {
        outward_to_f32((self as f64).ln_bounds())
    }
    fn tanh_bounds(self) -> (f32, f32) {
        outward_to_f32((self as f64).tanh_bounds())
    }
}

/// A nonempty closed interval `[lo, hi]` of reals (with possibly infinite ends).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval<T> {
    lo: T,
    hi: T,
}

pub type Interval32 = Interval<f32>;
pub type Interval64 = Interval<f64>;

impl<T: Endpoint> fmt::Display for Interval<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}]", self.lo, self.hi)
    }
}

/// A lower (`down`) or upper (`up`) bound on an exact result whose round-to-nearest value is `x`.
fn down<T: Endpoint>(x: T) -> T {
    x.next_down()
}

fn up<T: Endpoint>(x: T) -> T {
    x.next_up()
}

/// An endpoint product with 0 · ∞ = 0.
fn product<T: Endpoint>(a: T, b: T) -> T {
    if a == T::ZERO || b == T::ZERO {
        T::ZERO
    } else {
        a * b
    }
}

impl<T: Endpoint> Interval<T> {
    /// `[lo, hi]`; rejects NaN, `lo > hi`, `lo = +∞` and `hi = −∞`.
    pub fn new(lo: T, hi: T) -> Result<Interval<T>, IntervalError> {
        if lo.is_nan() || hi.is_nan() || lo > hi || lo == T::INFINITY || hi == -T::INFINITY {
            return Err(IntervalError::InvalidBounds {
                lo: lo.to_string(),
                hi: hi.to_string(),
            });
        }
        Ok(Interval { lo, hi })
    }

    /// `[x, x]` for a finite `x`.
    pub fn point(x: T) -> Result<Interval<T>, IntervalError> {
        if x == T::INFINITY || x == -T::INFINITY {
            return Err(IntervalError::InvalidBounds {
                lo: x.to_string(),
                hi: x.to_string(),
            });
        }
        Interval::new(x, x)
    }

    /// The whole real line.
    pub fn entire() -> Interval<T> {
        Interval {
            lo: -T::INFINITY,
            hi: T::INFINITY,
        }
    }

    pub fn lo(&self) -> T {
        self.lo
    }

    pub fn hi(&self) -> T {
        self.hi
    }

    pub fn contains(&self, x: T) -> bool {
        self.lo <= x && x <= self.hi
    }

    /// Outward-rounded bounds, repaired if rounding produced NaN (never for valid inputs) by
    /// giving up to the whole line, which is always an enclosure.
    fn outward(lo: T, hi: T) -> Interval<T> {
        Interval::new(down(lo), up(hi)).unwrap_or_else(|_| Interval::entire())
    }

    fn domain_error(&self, operation: &'static str) -> IntervalError {
        IntervalError::OutsideDomain {
            operation,
            lo: self.lo.to_string(),
            hi: self.hi.to_string(),
        }
    }

    pub fn add(&self, other: &Interval<T>) -> Interval<T> {
        Interval::outward(self.lo + other.lo, self.hi + other.hi)
    }

    pub fn sub(&self, other: &Interval<T>) -> Interval<T> {
        Interval::outward(self.lo - other.hi, self.hi - other.lo)
    }

    /// Exact: negation is exact in floating point.
    pub fn neg(&self) -> Interval<T> {
        Interval {
            lo: -self.hi,
            hi: -self.lo,
        }
    }

    pub fn mul(&self, other: &Interval<T>) -> Interval<T> {
        let corners = [
            product(self.lo, other.lo),
            product(self.lo, other.hi),
            product(self.hi, other.lo),
            product(self.hi, other.hi),
        ];
        let lo = corners.into_iter().fold(T::INFINITY, T::min);
        let hi = corners.into_iter().fold(-T::INFINITY, T::max);
        Interval::outward(lo, hi)
    }

    /// `[1/hi, 1/lo]` outward for a divisor that excludes zero; the whole line otherwise (the real
    /// reciprocal is unbounded near zero, so that is the only enclosure).
    pub fn recip(&self) -> Interval<T> {
        if self.contains(T::ZERO) {
            return Interval::entire();
        }
        Interval::outward(T::ONE / self.hi, T::ONE / self.lo)
    }

    /// `self × (1 / other)`: the whole line when `other` contains zero.
    pub fn div(&self, other: &Interval<T>) -> Interval<T> {
        if other.contains(T::ZERO) {
            return Interval::entire();
        }
        self.mul(&other.recip())
    }

    /// x², tighter than `self.mul(self)` because both factors are the same real.
    pub fn square(&self) -> Interval<T> {
        let magnitude = self.abs();
        let lo = product(magnitude.lo, magnitude.lo);
        let hi = product(magnitude.hi, magnitude.hi);
        let squared = Interval::outward(lo, hi);
        Interval {
            lo: squared.lo.max(T::ZERO),
            hi: squared.hi,
        }
    }

    /// √x over the part of the interval where it is defined; an error when that part is empty.
    pub fn sqrt(&self) -> Result<Interval<T>, IntervalError> {
        if self.hi < T::ZERO {
            return Err(self.domain_error("sqrt"));
        }
        let rounded = Interval::outward(self.lo.max(T::ZERO).sqrt(), self.hi.sqrt());
        Ok(Interval {
            lo: rounded.lo.max(T::ZERO),
            hi: rounded.hi,
        })
    }

    /// e^x (increasing; the lower end is clamped at 0 because e^x > 0).
    pub fn exp(&self) -> Interval<T> {
        Interval {
            lo: self.lo.exp_bounds().0.max(T::ZERO),
            hi: self.hi.exp_bounds().1,
        }
    }

    /// ln x over the part where x > 0 (with −∞ when it reaches 0); an error when x ≤ 0 throughout.
    pub fn ln(&self) -> Result<Interval<T>, IntervalError> {
        if self.hi <= T::ZERO {
            return Err(self.domain_error("ln"));
        }
        let lo = if self.lo <= T::ZERO {
            -T::INFINITY
        } else {
            self.lo.ln_bounds().0
        };
        Ok(Interval {
            lo,
            hi: self.hi.ln_bounds().1,
        })
    }

    /// tanh x (increasing, clamped to [−1, 1]).
    pub fn tanh(&self) -> Interval<T> {
        Interval {
            lo: self.lo.tanh_bounds().0.max(-T::ONE),
            hi: self.hi.tanh_bounds().1.min(T::ONE),
        }
    }

    /// σ(x) = 1 / (1 + e^−x), composed from the outward operations and clamped to [0, 1].
    pub fn sigmoid(&self) -> Interval<T> {
        let one = Interval {
            lo: T::ONE,
            hi: T::ONE,
        };
        let sigma = one.div(&one.add(&self.neg().exp()));
        Interval {
            lo: sigma.lo.max(T::ZERO),
            hi: sigma.hi.min(T::ONE),
        }
    }

    /// max(x, 0): exact.
    pub fn relu(&self) -> Interval<T> {
        Interval {
            lo: self.lo.max(T::ZERO),
            hi: self.hi.max(T::ZERO),
        }
    }

    /// |x|: exact.
    pub fn abs(&self) -> Interval<T> {
        if self.lo >= T::ZERO {
            *self
        } else if self.hi <= T::ZERO {
            self.neg()
        } else {
            Interval {
                lo: T::ZERO,
                hi: (-self.lo).max(self.hi),
            }
        }
    }

    /// Pointwise minimum of the two reals: exact.
    pub fn min(&self, other: &Interval<T>) -> Interval<T> {
        Interval {
            lo: self.lo.min(other.lo),
            hi: self.hi.min(other.hi),
        }
    }

    /// Pointwise maximum of the two reals: exact.
    pub fn max(&self, other: &Interval<T>) -> Interval<T> {
        Interval {
            lo: self.lo.max(other.lo),
            hi: self.hi.max(other.hi),
        }
    }

    /// Σ x_i·y_i, accumulated left to right with outward rounding at each step.
    pub fn dot(xs: &[Interval<T>], ys: &[Interval<T>]) -> Result<Interval<T>, IntervalError> {
        if xs.len() != ys.len() {
            return Err(IntervalError::LengthMismatch(xs.len(), ys.len()));
        }
        let zero = Interval {
            lo: T::ZERO,
            hi: T::ZERO,
        };
        Ok(xs
            .iter()
            .zip(ys)
            .fold(zero, |sum, (x, y)| sum.add(&x.mul(y))))
    }
}
