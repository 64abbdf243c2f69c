//! The error model of one binary32 operation, and the constants built on it.
//!
//! For a result that does not overflow, Flocq's `error_N_FLT` gives, in round-to-nearest,
//! `fl(x) = x(1 + δ) + η` with |δ| ≤ u = 2^-24, |η| ≤ 2^-150 and δ·η = 0, so
//! |fl(x) − x| ≤ max(u·|x|, 2^-150) (which implies the common form u·|x| + 2^-150). In the directed
//! modes the constants double: |δ| < 2u, |η| < 2^-149. Additions and subtractions never have η ≠ 0
//! (a sum that lands among the subnormals is exact) and neither does sqrt (it never underflows).

use crate::env::RoundingMode;
use crate::fp32::pow2;
use num_rational::BigRational;
use num_traits::{One, Signed};

/// The unit roundoff of binary32 round-to-nearest, u = 2^-24.
pub const UNIT_ROUNDOFF: f64 = 1.0 / 16_777_216.0;

/// The unit roundoff u = 2^-24 as an exact rational.
pub fn unit_roundoff() -> BigRational {
    pow2(-24)
}

/// Higham's γ_n = n·u / (1 − n·u), exactly; `None` when n·u ≥ 1.
pub fn gamma(n: u64) -> Option<BigRational> {
    let nu = BigRational::from_integer(n.into()) * unit_roundoff();
    let one = BigRational::one();
    (nu < one).then(|| &nu / (one - &nu))
}

/// An `f64` upper bound on γ_n; `None` when n·u ≥ 1.
pub fn gamma_upper_f64(n: u64) -> Option<f64> {
    if n >= 1 << 24 {
        return None;
    }
    // n·u and 1 − n·u are exact in f64 (multiples of 2^-24 below 1); only the quotient rounds,
    // and one step up covers it.
    let nu = n as f64 * UNIT_ROUNDOFF;
    Some((nu / (1.0 - nu)).next_up())
}

/// The operations a local bound is stated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    Add,
    Sub,
    Mul,
    Div,
    Fma,
    Sqrt,
}

/// |fl(x) − x| ≤ max(relative · |x|, absolute) for one operation in one mode, when the result
/// does not overflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalErrorBound {
    pub relative: BigRational,
    /// The underflow term η (zero for add, sub and sqrt).
    pub absolute: BigRational,
}

impl LocalErrorBound {
    pub fn new(op: Operation, mode: RoundingMode) -> LocalErrorBound {
        let directed = mode != RoundingMode::NearestEven && mode != RoundingMode::NearestAway;
        let scale = if directed { 1 } else { 0 };
        let relative = pow2(-24 + scale);
        let absolute = match op {
            Operation::Add | Operation::Sub | Operation::Sqrt => {
                BigRational::from_integer(0.into())
            }
            Operation::Mul | Operation::Div | Operation::Fma => pow2(-150 + scale),
        };
        LocalErrorBound { relative, absolute }
    }

    /// The bound on |fl(x) − x| for the exact result `exact`.
    pub fn bound(&self, exact: &BigRational) -> BigRational {
        (&self.relative * exact.abs()).max(self.absolute.clone())
    }

    /// Whether `rounded` is within the bound of `exact`.
    pub fn holds(&self, exact: &BigRational, rounded: &BigRational) -> bool {
        (rounded - exact).abs() <= self.bound(exact)
    }
}

/// The measured accuracy of the native binary32 transcendentals a Rust program calls, in ulps of
/// the exact value: the largest error over all 2^32 inputs against the exact oracle
/// (`strata float check-exhaustive`, x86-64 Linux, glibc 2.36, `libm` crate 0.2.16; the table and
/// method are in `docs/libm_accuracy.md`). Entries are (function, native call, max ulps). This is
/// the libm trust boundary's documented accuracy, for runtime error bounds of native kernels; on
/// another platform it is an assumption until the check is rerun there. The naive sigmoid's
/// figure is its total underflow below x ≈ −88.72 (an absolute error below 2^-126); above that
/// its sampled maximum is 2.27 ulps.
pub const NATIVE_F32_MAX_ULPS: &[(&str, &str, f64)] = &[
    ("exp", "f32::exp", 0.5016),
    ("expm1", "f32::exp_m1", 0.8128),
    ("log", "f32::ln", 0.8177),
    ("log1p", "f32::ln_1p", 1.2933),
    ("tanh", "f32::tanh", 2.1886),
    ("sigmoid", "1/(1+(-x).exp())", 2_097_151.488_7),
    ("erf", "libm::erff", 0.9679),
    ("sin", "f32::sin", 0.5607),
    ("cos", "f32::cos", 0.5607),
];
