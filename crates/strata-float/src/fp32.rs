//! `Fp32`: the rounded-real proof model of binary32, over exact rationals.
//!
//! A value is a rational on the binary32 grid (`m · 2^e`, |m| < 2^24, e ≥ −149, below 2^128); an
//! operation is its exact real result rounded once (`round(x ∘ y, mode)`). No signed zeros, no NaN:
//! an overflow is reported as [`Rounded::Infinite`], a real operation that is undefined (division by
//! zero, square root of a negative) as `None`, and the *total* forms (`total_add`, …) take and give
//! `Option<Fp32>` so that anything off the finite path is `None` (TorchLean's `toReal?`).
//!
//! This module rounds by rational comparisons, independently of `Ieee32`'s integer rounding; the
//! bridge test `bridge_ieee32_fp32` checks that the two agree. The transcendentals (`exp`, `log`,
//! `sin`, …) are rounded from the oracle's exact enclosures.

use crate::env::RoundingMode;
use crate::ieee32::Ieee32;
use crate::oracle::{self, Function};
use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use std::cmp::Ordering;

/// Exponent of the smallest subnormal (the grid's finest quantum is 2^-149).
const MIN_QUANTUM_EXP: i64 = -149;
/// Significand precision in bits.
const PRECISION: i64 = 24;
/// Results at or above 2^128 overflow.
const OVERFLOW_EXP: i64 = 128;

/// A finite binary32 value as an exact rational.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fp32(BigRational);

/// A rounded result: a grid value, or an overflow to ±∞ (modes that overflow to the largest finite
/// value give `Finite`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rounded {
    Finite(Fp32),
    Infinite { negative: bool },
}

impl Rounded {
    /// The finite value, or `None` after an overflow to infinity.
    pub fn finite(self) -> Option<Fp32> {
        match self {
            Rounded::Finite(value) => Some(value),
            Rounded::Infinite { .. } => None,
        }
    }
}

/// 2^exp as a rational.
pub(crate) fn pow2(exp: i64) -> BigRational {
    let power = BigInt::one() << exp.unsigned_abs() as usize;
    if exp >= 0 {
        BigRational::from_integer(power)
    } else {
        BigRational::new(BigInt::one(), power)
    }
}

/// ⌊log2(n/d)⌋ for positive integers.
fn floor_log2(n: &BigUint, d: &BigUint) -> i64 {
    let estimate = n.bits() as i64 - d.bits() as i64;
    // n/d lies in [2^(estimate−1), 2^(estimate+1)).
    let at_least = if estimate >= 0 {
        n >= &(d << estimate as usize)
    } else {
        &(n << (-estimate) as usize) >= d
    };
    if at_least {
        estimate
    } else {
        estimate - 1
    }
}

/// `(n · 2^shift, d)` or `(n, d · 2^-shift)`: the fraction n/d scaled by 2^shift, still integers.
fn scale_pow2(n: &BigUint, d: &BigUint, shift: i64) -> (BigUint, BigUint) {
    if shift >= 0 {
        (n << shift as usize, d.clone())
    } else {
        (n.clone(), d << (-shift) as usize)
    }
}

/// `±m · 2^exp` as a rational in lowest terms, built without a gcd.
fn dyadic(negative: bool, m: BigUint, exp: i64) -> BigRational {
    let Some(zeros) = m.trailing_zeros() else {
        return BigRational::zero();
    };
    let (odd, exp) = (m >> zeros as usize, exp + zeros as i64);
    let (numer, denom) = scale_pow2(&odd, &BigUint::one(), exp);
    let sign = if negative { Sign::Minus } else { Sign::Plus };
    BigRational::new_raw(BigInt::from_biguint(sign, numer), BigInt::from(denom))
}

/// Where an exact magnitude lies relative to its truncation `m · 2^quantum_exp`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Position {
    Exact,
    /// Strictly between `m` and `m + 1` quanta: how it compares with `m + ½`.
    Between(Ordering),
}

/// The magnitude `m · 2^quantum_exp`, rounded up to `(m+1) · 2^quantum_exp` when `mode` says so,
/// as a signed grid value (or an overflow).
fn finish(
    negative: bool,
    quantum_exp: i64,
    m: BigUint,
    position: Position,
    mode: RoundingMode,
) -> Rounded {
    let up = match position {
        Position::Exact => false,
        Position::Between(vs_half) => match mode {
            RoundingMode::NearestEven => {
                vs_half == Ordering::Greater || (vs_half == Ordering::Equal && m.bit(0))
            }
            RoundingMode::NearestAway => vs_half != Ordering::Less,
            RoundingMode::TowardZero => false,
            RoundingMode::TowardPos => !negative,
            RoundingMode::TowardNeg => negative,
        },
    };
    let m = if up { m + 1u32 } else { m };
    // m · 2^quantum_exp ≥ 2^128 exactly when m has more than 128 − quantum_exp bits.
    if m.bits() as i64 + quantum_exp > OVERFLOW_EXP {
        return overflow(negative, mode);
    }
    Rounded::Finite(Fp32(dyadic(negative, m, quantum_exp)))
}

fn overflow(negative: bool, mode: RoundingMode) -> Rounded {
    let to_infinity = match mode {
        RoundingMode::NearestEven | RoundingMode::NearestAway => true,
        RoundingMode::TowardZero => false,
        RoundingMode::TowardPos => !negative,
        RoundingMode::TowardNeg => negative,
    };
    if to_infinity {
        Rounded::Infinite { negative }
    } else {
        let max = Fp32::max_finite().0;
        Rounded::Finite(Fp32(if negative { -max } else { max }))
    }
}

/// The quantum exponent of the grid in the binade 2^e ≤ |x| < 2^(e+1).
fn quantum_exp(binade: i64) -> i64 {
    (binade - (PRECISION - 1)).max(MIN_QUANTUM_EXP)
}

/// The numerator and denominator of a nonzero rational's magnitude.
fn magnitude_parts(q: &BigRational) -> (&BigUint, &BigUint) {
    (q.numer().magnitude(), q.denom().magnitude())
}

impl Fp32 {
    pub fn zero() -> Fp32 {
        Fp32(BigRational::zero())
    }

    /// The largest finite binary32 value, (2 − 2^-23) · 2^127.
    pub fn max_finite() -> Fp32 {
        Fp32((pow2(PRECISION) - BigRational::one()) * pow2(OVERFLOW_EXP - PRECISION))
    }

    /// The exact rational value.
    pub fn value(&self) -> &BigRational {
        &self.0
    }

    /// Rounds an exact rational to the binary32 grid (IEEE `round`, Flocq's `round_flt`).
    pub fn round(q: &BigRational, mode: RoundingMode) -> Rounded {
        if q.is_zero() {
            return Rounded::Finite(Fp32::zero());
        }
        let negative = q.is_negative();
        let (n, d) = magnitude_parts(q);
        let binade = floor_log2(n, d);
        if binade >= OVERFLOW_EXP {
            return overflow(negative, mode);
        }
        let quantum = quantum_exp(binade);
        let (scaled_n, scaled_d) = scale_pow2(n, d, -quantum);
        let (m, remainder) = scaled_n.div_rem(&scaled_d);
        let position = if remainder.is_zero() {
            Position::Exact
        } else {
            Position::Between((remainder << 1usize).cmp(&scaled_d))
        };
        finish(negative, quantum, m, position, mode)
    }

    /// The binary32 datum with this value (+0 for zero).
    pub fn to_ieee(&self) -> Ieee32 {
        let negative = self.0.is_negative();
        let bits = if self.0.is_zero() {
            0
        } else {
            let (n, d) = magnitude_parts(&self.0);
            let quantum = quantum_exp(floor_log2(n, d));
            let (scaled_n, scaled_d) = scale_pow2(n, d, -quantum);
            let m =
                u32::try_from(scaled_n / scaled_d).expect("an Fp32 value is on the binary32 grid");
            (((quantum - MIN_QUANTUM_EXP) as u32) << 23) + m
        };
        Ieee32::from_bits(if negative { bits | 0x8000_0000 } else { bits })
    }

    /// The exact value of a finite binary32 datum (both zeros give 0); `None` for ±∞ and NaN.
    pub fn from_ieee(x: Ieee32) -> Option<Fp32> {
        if !x.is_finite() {
            return None;
        }
        if x.is_zero() {
            return Some(Fp32::zero());
        }
        let (exp, sig) = x.unpack();
        Some(Fp32(dyadic(
            x.is_sign_negative(),
            BigUint::from(sig),
            exp as i64,
        )))
    }

    pub fn add(&self, other: &Fp32, mode: RoundingMode) -> Rounded {
        Fp32::round(&(&self.0 + &other.0), mode)
    }

    pub fn sub(&self, other: &Fp32, mode: RoundingMode) -> Rounded {
        Fp32::round(&(&self.0 - &other.0), mode)
    }

    pub fn mul(&self, other: &Fp32, mode: RoundingMode) -> Rounded {
        Fp32::round(&(&self.0 * &other.0), mode)
    }

    /// `None` when `other` is zero (the real quotient does not exist).
    pub fn div(&self, other: &Fp32, mode: RoundingMode) -> Option<Rounded> {
        (!other.0.is_zero()).then(|| Fp32::round(&(&self.0 / &other.0), mode))
    }

    /// `self · b + c` rounded once.
    pub fn fma(&self, b: &Fp32, c: &Fp32, mode: RoundingMode) -> Rounded {
        Fp32::round(&(&self.0 * &b.0 + &c.0), mode)
    }

    /// The exact square root rounded once; `None` for negative values.
    pub fn sqrt(&self, mode: RoundingMode) -> Option<Rounded> {
        Fp32::round_sqrt(&self.0, mode)
    }

    /// `round(√q)` for any non-negative rational, decided by exact comparisons of squares.
    pub fn round_sqrt(q: &BigRational, mode: RoundingMode) -> Option<Rounded> {
        if q.is_negative() {
            return None;
        }
        if q.is_zero() {
            return Some(Rounded::Finite(Fp32::zero()));
        }
        let (n, d) = magnitude_parts(q);
        // ⌊log2 √q⌋ = ⌊⌊log2 q⌋ / 2⌋.
        let quantum = quantum_exp(floor_log2(n, d).div_euclid(2));
        // With s = q · 4^-quantum = N/D: m = ⌊√s⌋ = ⌊√⌊s⌋⌋.
        let (scaled_n, scaled_d) = scale_pow2(n, d, -2 * quantum);
        let m = (&scaled_n / &scaled_d).sqrt();
        let m_squared_d = &m * &m * &scaled_d;
        let position = if m_squared_d == scaled_n {
            Position::Exact
        } else {
            // √s vs m + ½  ⇔  4N vs (2m + 1)² D.
            let twice_plus_one: BigUint = (&m << 1usize) + 1u32;
            Position::Between(
                (scaled_n << 2usize).cmp(&(&twice_plus_one * &twice_plus_one * &scaled_d)),
            )
        };
        Some(finish(false, quantum, m, position, mode))
    }
}

/// The correctly rounded transcendentals: the exact real value rounded once, decided by the
/// oracle's rigorous enclosures (`crate::oracle`, exact integer interval arithmetic), which share no
/// code with `Ieee32`'s implementation; the bridge test `bridge_transcendental` checks that the two
/// agree. `None` where the real function is undefined (log of x ≤ 0, log1p of x ≤ −1).
impl Fp32 {
    fn transcendental(&self, f: Function, mode: RoundingMode) -> Rounded {
        let bits = self.to_ieee().to_bits();
        // Every finite input is decided (see `oracle::decide`); the fallback is unreachable.
        let (result, _) = oracle::decide(f, bits)
            .map(|d| d.in_mode(mode))
            .unwrap_or((0x7fc0_0000, crate::Flags::INVALID));
        let result = Ieee32::from_bits(result);
        match Fp32::from_ieee(result) {
            Some(value) => Rounded::Finite(value),
            None => Rounded::Infinite {
                negative: result.is_sign_negative(),
            },
        }
    }

    /// e^x rounded once.
    pub fn exp(&self, mode: RoundingMode) -> Rounded {
        self.transcendental(Function::Exp, mode)
    }

    /// e^x − 1 rounded once.
    pub fn expm1(&self, mode: RoundingMode) -> Rounded {
        self.transcendental(Function::Expm1, mode)
    }

    /// ln x rounded once; `None` for x ≤ 0.
    pub fn log(&self, mode: RoundingMode) -> Option<Rounded> {
        self.0
            .is_positive()
            .then(|| self.transcendental(Function::Log, mode))
    }

    /// ln(1 + x) rounded once; `None` for x ≤ −1.
    pub fn log1p(&self, mode: RoundingMode) -> Option<Rounded> {
        (self.0 > -BigRational::one()).then(|| self.transcendental(Function::Log1p, mode))
    }

    /// tanh x rounded once.
    pub fn tanh(&self, mode: RoundingMode) -> Rounded {
        self.transcendental(Function::Tanh, mode)
    }

    /// 1/(1 + e^−x) rounded once.
    pub fn sigmoid(&self, mode: RoundingMode) -> Rounded {
        self.transcendental(Function::Sigmoid, mode)
    }

    /// erf x rounded once.
    pub fn erf(&self, mode: RoundingMode) -> Rounded {
        self.transcendental(Function::Erf, mode)
    }

    /// sin x rounded once.
    pub fn sin(&self, mode: RoundingMode) -> Rounded {
        self.transcendental(Function::Sin, mode)
    }

    /// cos x rounded once.
    pub fn cos(&self, mode: RoundingMode) -> Rounded {
        self.transcendental(Function::Cos, mode)
    }
}

/// The total forms: `None` in, or a result off the finite path (overflow to ±∞, an undefined real
/// operation), gives `None`.
macro_rules! total_forms {
    ($($total:ident => |$($arg:ident),+; $mode:ident| $body:expr;)*) => {
        impl Fp32 {
            $(
                #[doc = concat!("Total form of `", stringify!($total), "` over `Option<Fp32>`.")]
                pub fn $total($($arg: Option<&Fp32>,)+ $mode: RoundingMode) -> Option<Fp32> {
                    $(let $arg = $arg?;)+
                    $body
                }
            )*
        }
    };
}

total_forms! {
    total_add => |x, y; mode| x.add(y, mode).finite();
    total_sub => |x, y; mode| x.sub(y, mode).finite();
    total_mul => |x, y; mode| x.mul(y, mode).finite();
    total_div => |x, y; mode| x.div(y, mode)?.finite();
    total_fma => |x, y, z; mode| x.fma(y, z, mode).finite();
    total_sqrt => |x; mode| x.sqrt(mode)?.finite();
    total_exp => |x; mode| x.exp(mode).finite();
    total_expm1 => |x; mode| x.expm1(mode).finite();
    total_log => |x; mode| x.log(mode)?.finite();
    total_log1p => |x; mode| x.log1p(mode)?.finite();
    total_tanh => |x; mode| x.tanh(mode).finite();
    total_sigmoid => |x; mode| x.sigmoid(mode).finite();
    total_erf => |x; mode| x.erf(mode).finite();
    total_sin => |x; mode| x.sin(mode).finite();
    total_cos => |x; mode| x.cos(mode).finite();
}
