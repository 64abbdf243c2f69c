//! Conversions to and from binary64 bits and the integer types.

use super::round::{round_pack_or_zero, round_shift};
use super::{Ieee32, FRAC_BITS, FRAC_MASK};
use crate::env::{Flagged, Flags, FpEnv, NanPolicy};

const F64_SIGN: u64 = 1 << 63;
const F64_EXP_MASK: u64 = 0x7ff0_0000_0000_0000;
const F64_FRAC_MASK: u64 = 0x000f_ffff_ffff_ffff;
const F64_QUIET_BIT: u64 = 1 << 51;
const F64_FRAC_BITS: u32 = 52;
const F64_BIAS_PLUS_FRAC: i32 = 1075;
/// binary64 keeps 29 more fraction bits than binary32; NaN payloads shift by this much.
const PAYLOAD_SHIFT: u32 = F64_FRAC_BITS - FRAC_BITS;

impl Ieee32 {
    /// IEEE `convertFormat` from binary64 (given as bits), correctly rounded.
    /// A NaN keeps its sign and the top 22 payload bits (x86 `cvtsd2ss`), quieted.
    pub fn from_f64_bits(bits: u64, env: FpEnv) -> Flagged<Ieee32> {
        let negative = bits & F64_SIGN != 0;
        let exp_field = ((bits & F64_EXP_MASK) >> F64_FRAC_BITS) as i32;
        let frac = bits & F64_FRAC_MASK;
        if exp_field == 0x7ff {
            if frac == 0 {
                return Flagged::exact(Ieee32::infinity(negative));
            }
            let signaling = frac & F64_QUIET_BIT == 0;
            let value = match env.nan {
                NanPolicy::Canonical => Ieee32::CANONICAL_NAN,
                NanPolicy::X86Sse => Ieee32::infinity(negative)
                    .with_fraction((frac >> PAYLOAD_SHIFT) as u32)
                    .quieted(),
            };
            let flags = if signaling {
                Flags::INVALID
            } else {
                Flags::NONE
            };
            return Flagged::new(value, flags);
        }
        let (exp, sig) = if exp_field == 0 {
            (1 - F64_BIAS_PLUS_FRAC, frac)
        } else {
            (exp_field - F64_BIAS_PLUS_FRAC, frac | (1 << F64_FRAC_BITS))
        };
        round_pack_or_zero(negative, exp, sig, env)
    }

    /// IEEE `convertFormat` to binary64 bits: always exact. A NaN keeps sign and payload, quieted
    /// (the canonical policy gives the canonical binary64 NaN); a signaling NaN raises invalid.
    pub fn to_f64_bits(self, env: FpEnv) -> Flagged<u64> {
        let sign = if self.is_sign_negative() { F64_SIGN } else { 0 };
        if self.is_nan() {
            let value = match env.nan {
                NanPolicy::Canonical => F64_EXP_MASK | F64_QUIET_BIT,
                NanPolicy::X86Sse => {
                    sign | F64_EXP_MASK
                        | F64_QUIET_BIT
                        | ((self.fraction_field() as u64) << PAYLOAD_SHIFT)
                }
            };
            let flags = if self.is_signaling_nan() {
                Flags::INVALID
            } else {
                Flags::NONE
            };
            return Flagged::new(value, flags);
        }
        if self.is_infinite() {
            return Flagged::exact(sign | F64_EXP_MASK);
        }
        if self.is_zero() {
            return Flagged::exact(sign);
        }
        // Every binary32 value is normal in binary64.
        let (exp, sig) = self.unpack_normalized();
        let field = (exp + FRAC_BITS as i32 + F64_BIAS_PLUS_FRAC - F64_FRAC_BITS as i32) as u64;
        let frac = (sig & FRAC_MASK as u64) << PAYLOAD_SHIFT;
        Flagged::exact(sign | (field << F64_FRAC_BITS) | frac)
    }

    /// This infinity's bits with the given fraction field (used to build NaNs).
    const fn with_fraction(self, fraction: u32) -> Ieee32 {
        Ieee32(self.0 | (fraction & FRAC_MASK))
    }

    /// Rounds an integer of magnitude `magnitude` to binary32 (zero is +0).
    fn from_integer(negative: bool, magnitude: u64, env: FpEnv) -> Flagged<Ieee32> {
        round_pack_or_zero(negative && magnitude != 0, 0, magnitude, env)
    }

    /// Rounds to an integer in the environment's mode: `(negative, magnitude, inexact)`, or
    /// `None` for NaN and infinities. The magnitude of any finite binary32 fits `u128`.
    fn to_integer_parts(self, env: FpEnv) -> Option<(bool, u128, bool)> {
        if !self.is_finite() {
            return None;
        }
        let negative = self.is_sign_negative();
        if self.is_zero() {
            return Some((negative, 0, false));
        }
        let (exp, sig) = self.unpack();
        if exp >= 0 {
            return Some((negative, (sig as u128) << exp, false));
        }
        let (magnitude, inexact) = round_shift(sig, -exp, negative, env.mode);
        Some((negative, magnitude as u128, inexact))
    }
}

/// Generates `from_<int>` (IEEE `convertFromInt`) and `to_<int>` (IEEE `convertToIntegerExact` in
/// the environment's mode: inexact when rounding changed the value; invalid with the x86
/// "integer indefinite" value for NaN, ±∞ and out-of-range results).
macro_rules! integer_conversions {
    ($($int:ty: $from:ident, $to:ident, $indefinite:expr;)*) => {
        impl Ieee32 {
            $(
                #[doc = concat!("IEEE `convertFromInt` from `", stringify!($int), "`.")]
                pub fn $from(value: $int, env: FpEnv) -> Flagged<Ieee32> {
                    let (negative, magnitude) = value.sign_and_magnitude();
                    Ieee32::from_integer(negative, magnitude, env)
                }

                #[doc = concat!("IEEE `convertToIntegerExact` to `", stringify!($int), "`; invalid gives `", stringify!($indefinite), "`.")]
                pub fn $to(self, env: FpEnv) -> Flagged<$int> {
                    let converted = self.to_integer_parts(env).and_then(|(negative, magnitude, inexact)| {
                        let magnitude = i128::try_from(magnitude).ok()?;
                        let signed = if negative { -magnitude } else { magnitude };
                        let value = <$int>::try_from(signed).ok()?;
                        Some(Flagged::new(value, if inexact { Flags::INEXACT } else { Flags::NONE }))
                    });
                    converted.unwrap_or(Flagged::new($indefinite, Flags::INVALID))
                }
            )*
        }
    };
}

/// The sign and magnitude of every integer type the conversions take.
trait SignAndMagnitude {
    fn sign_and_magnitude(self) -> (bool, u64);
}

macro_rules! sign_and_magnitude {
    (signed: $($s:ty),*; unsigned: $($u:ty),*) => {
        $(impl SignAndMagnitude for $s {
            fn sign_and_magnitude(self) -> (bool, u64) { (self < 0, self.unsigned_abs() as u64) }
        })*
        $(impl SignAndMagnitude for $u {
            fn sign_and_magnitude(self) -> (bool, u64) { (false, self as u64) }
        })*
    };
}

sign_and_magnitude!(signed: i32, i64; unsigned: u32, u64);

integer_conversions! {
    i32: from_i32, to_i32, i32::MIN;
    u32: from_u32, to_u32, u32::MAX;
    i64: from_i64, to_i64, i64::MIN;
    u64: from_u64, to_u64, u64::MAX;
}
