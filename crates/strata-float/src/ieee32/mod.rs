//! `Ieee32`: binary32 as raw bits, with every operation done in integer arithmetic.
//!
//! The arithmetic, conversions and comparisons use no hardware floating point, so the model is a
//! second implementation that the native `f32` can be checked against (and Berkeley SoftFloat
//! checks it in turn). The correctly rounded transcendentals (`exp`, `log`, `sin`, … in
//! `transcendental/`) compute in binary64 `+ − × ÷` (deterministic on every IEEE platform, no
//! libm) with a rounding test, and are checked against an independent exact oracle.
//!
//! Conventions, all selectable through [`FpEnv`]:
//! - rounding: the five IEEE 754 modes;
//! - tininess: after rounding (x86 SSE) by default, before rounding on request;
//! - NaN results: x86 SSE by default (the first NaN operand, quieted, keeps its sign and payload; an
//!   invalid operation without NaN operands gives the default NaN 0xFFC00000), or always the
//!   canonical NaN 0x7FC00000;
//! - float → integer conversions that are invalid (NaN, out of range) give the x86 "integer
//!   indefinite" value (`i32::MIN`, `i64::MIN`, `u32::MAX`, `u64::MAX`) under either NaN policy.

mod arith;
mod compare;
mod convert;
mod decimal;
mod round;
mod transcendental;

pub use decimal::{ParseFloatError, ShortestDecimal};
pub use transcendental::slow_path_calls;

use crate::env::{Flagged, Flags, FpEnv, NanPolicy};
use std::fmt;

/// A binary32 datum as its 32 bits. `==` is bit equality (so `+0 != -0` and a NaN equals itself);
/// IEEE comparisons are [`Ieee32::compare_quiet`] and friends.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Ieee32(u32);

/// The ten classes of IEEE 754 `class()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FloatClass {
    SignalingNan,
    QuietNan,
    NegativeInfinity,
    NegativeNormal,
    NegativeSubnormal,
    NegativeZero,
    PositiveZero,
    PositiveSubnormal,
    PositiveNormal,
    PositiveInfinity,
}

impl fmt::Display for FloatClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            FloatClass::SignalingNan => "signaling NaN",
            FloatClass::QuietNan => "quiet NaN",
            FloatClass::NegativeInfinity => "negative infinity",
            FloatClass::NegativeNormal => "negative normal",
            FloatClass::NegativeSubnormal => "negative subnormal",
            FloatClass::NegativeZero => "negative zero",
            FloatClass::PositiveZero => "positive zero",
            FloatClass::PositiveSubnormal => "positive subnormal",
            FloatClass::PositiveNormal => "positive normal",
            FloatClass::PositiveInfinity => "positive infinity",
        };
        f.write_str(name)
    }
}

pub(crate) const SIGN_BIT: u32 = 0x8000_0000;
pub(crate) const EXP_MASK: u32 = 0x7f80_0000;
pub(crate) const FRAC_MASK: u32 = 0x007f_ffff;
pub(crate) const QUIET_BIT: u32 = 0x0040_0000;
/// Fraction bits (the significand has one more, implicit, bit).
pub(crate) const FRAC_BITS: u32 = 23;
/// The exponent of the least significant bit of a subnormal: the smallest subnormal is 2^-149.
pub(crate) const MIN_QUANTUM_EXP: i32 = -149;
/// Exponent bias plus fraction width: a normal value is `(2^23 | frac) · 2^(biased - 150)`.
pub(crate) const BIAS_PLUS_FRAC: i32 = 150;

impl Ieee32 {
    pub const POS_ZERO: Ieee32 = Ieee32(0);
    pub const NEG_ZERO: Ieee32 = Ieee32(SIGN_BIT);
    pub const ONE: Ieee32 = Ieee32(0x3f80_0000);
    pub const INFINITY: Ieee32 = Ieee32(EXP_MASK);
    pub const NEG_INFINITY: Ieee32 = Ieee32(SIGN_BIT | EXP_MASK);
    /// The largest finite value, (2 − 2^-23)·2^127.
    pub const MAX: Ieee32 = Ieee32(0x7f7f_ffff);
    /// The smallest positive normal value, 2^-126.
    pub const MIN_POSITIVE_NORMAL: Ieee32 = Ieee32(0x0080_0000);
    /// The smallest positive subnormal value, 2^-149.
    pub const MIN_POSITIVE_SUBNORMAL: Ieee32 = Ieee32(1);
    /// The x86 default NaN, produced by invalid operations under [`NanPolicy::X86Sse`].
    pub const X86_DEFAULT_NAN: Ieee32 = Ieee32(0xffc0_0000);
    /// The canonical quiet NaN of [`NanPolicy::Canonical`].
    pub const CANONICAL_NAN: Ieee32 = Ieee32(0x7fc0_0000);

    pub const fn from_bits(bits: u32) -> Ieee32 {
        Ieee32(bits)
    }

    pub const fn to_bits(self) -> u32 {
        self.0
    }

    pub const fn is_sign_negative(self) -> bool {
        self.0 & SIGN_BIT != 0
    }

    /// The 8-bit biased exponent field.
    pub const fn exponent_field(self) -> u32 {
        (self.0 & EXP_MASK) >> FRAC_BITS
    }

    /// The 23-bit fraction field.
    pub const fn fraction_field(self) -> u32 {
        self.0 & FRAC_MASK
    }

    pub const fn is_nan(self) -> bool {
        self.0 & !SIGN_BIT > EXP_MASK
    }

    pub const fn is_signaling_nan(self) -> bool {
        self.is_nan() && self.0 & QUIET_BIT == 0
    }

    pub const fn is_infinite(self) -> bool {
        self.0 & !SIGN_BIT == EXP_MASK
    }

    pub const fn is_finite(self) -> bool {
        self.0 & EXP_MASK != EXP_MASK
    }

    pub const fn is_zero(self) -> bool {
        self.0 & !SIGN_BIT == 0
    }

    /// Normal or subnormal: neither zero, infinite nor NaN.
    pub(crate) const fn is_finite_nonzero(self) -> bool {
        (self.0 & !SIGN_BIT).wrapping_sub(1) < EXP_MASK - 1
    }

    pub const fn is_subnormal(self) -> bool {
        self.0 & EXP_MASK == 0 && !self.is_zero()
    }

    pub const fn class(self) -> FloatClass {
        let negative = self.is_sign_negative();
        match (self.exponent_field(), self.fraction_field()) {
            (0xff, 0) if negative => FloatClass::NegativeInfinity,
            (0xff, 0) => FloatClass::PositiveInfinity,
            (0xff, frac) if frac & QUIET_BIT != 0 => FloatClass::QuietNan,
            (0xff, _) => FloatClass::SignalingNan,
            (0, 0) if negative => FloatClass::NegativeZero,
            (0, 0) => FloatClass::PositiveZero,
            (0, _) if negative => FloatClass::NegativeSubnormal,
            (0, _) => FloatClass::PositiveSubnormal,
            _ if negative => FloatClass::NegativeNormal,
            _ => FloatClass::PositiveNormal,
        }
    }

    /// Flips the sign bit (IEEE `negate`: quiet-computational, no flags, NaNs included).
    pub const fn neg(self) -> Ieee32 {
        Ieee32(self.0 ^ SIGN_BIT)
    }

    /// Clears the sign bit (IEEE `abs`).
    pub const fn abs(self) -> Ieee32 {
        Ieee32(self.0 & !SIGN_BIT)
    }

    /// This magnitude with the sign of `sign` (IEEE `copySign`).
    pub const fn copysign(self, sign: Ieee32) -> Ieee32 {
        Ieee32((self.0 & !SIGN_BIT) | (sign.0 & SIGN_BIT))
    }

    pub(crate) const fn zero(negative: bool) -> Ieee32 {
        Ieee32(if negative { SIGN_BIT } else { 0 })
    }

    pub(crate) const fn infinity(negative: bool) -> Ieee32 {
        Ieee32(if negative { SIGN_BIT } else { 0 } | EXP_MASK)
    }

    /// A finite nonzero value as `(exponent, significand)` with value `significand · 2^exponent`;
    /// the significand is not normalized for subnormals.
    pub(crate) const fn unpack(self) -> (i32, u64) {
        let field = self.exponent_field();
        if field == 0 {
            (MIN_QUANTUM_EXP, self.fraction_field() as u64)
        } else {
            (
                field as i32 - BIAS_PLUS_FRAC,
                (self.fraction_field() | (1 << FRAC_BITS)) as u64,
            )
        }
    }

    /// Like [`Ieee32::unpack`], with the significand shifted so that its leading one is bit 23.
    pub(crate) const fn unpack_normalized(self) -> (i32, u64) {
        let (exp, sig) = self.unpack();
        // Normal significands are already normalized; the branch keeps `leading_zeros` off their path.
        if self.exponent_field() != 0 {
            return (exp, sig);
        }
        let shift = sig.leading_zeros() as i32 - (63 - FRAC_BITS as i32);
        (exp - shift, sig << shift)
    }

    /// ulp(x): the gap between |x| and the next larger magnitude on the grid, as an exponent of two
    /// (the gap is 2^result). `None` for NaN and infinities.
    pub fn ulp_exponent(self) -> Option<i32> {
        if !self.is_finite() {
            return None;
        }
        Some(match self.exponent_field() {
            0 => MIN_QUANTUM_EXP,
            field => field as i32 - BIAS_PLUS_FRAC,
        })
    }
}

/// NaN results under a [`NanPolicy`].
impl Ieee32 {
    /// The same NaN with the quiet bit set.
    pub(crate) const fn quieted(self) -> Ieee32 {
        Ieee32(self.0 | QUIET_BIT)
    }

    /// The result of an operation with at least one NaN operand: the first NaN operand quieted (x86)
    /// or the canonical NaN; invalid if any operand is a signaling NaN.
    pub(crate) fn propagate_nan(env: FpEnv, operands: &[Ieee32]) -> Flagged<Ieee32> {
        let flags = if operands.iter().any(|x| x.is_signaling_nan()) {
            Flags::INVALID
        } else {
            Flags::NONE
        };
        let value = match env.nan {
            NanPolicy::Canonical => Ieee32::CANONICAL_NAN,
            NanPolicy::X86Sse => operands
                .iter()
                .find(|x| x.is_nan())
                .map_or(Ieee32::X86_DEFAULT_NAN, |x| x.quieted()),
        };
        Flagged::new(value, flags)
    }

    /// The result of an invalid operation on non-NaN operands (0·∞, ∞−∞, √−1, …).
    pub(crate) fn invalid(env: FpEnv) -> Flagged<Ieee32> {
        let value = match env.nan {
            NanPolicy::X86Sse => Ieee32::X86_DEFAULT_NAN,
            NanPolicy::Canonical => Ieee32::CANONICAL_NAN,
        };
        Flagged::new(value, Flags::INVALID)
    }
}

impl fmt::Debug for Ieee32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ieee32(0x{:08x})", self.0)
    }
}

/// Hex bits, `0x` and 8 digits.
impl fmt::LowerHex for Ieee32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08x}", self.0)
    }
}
