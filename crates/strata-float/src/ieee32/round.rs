//! The one rounding routine every `Ieee32` operation ends in.
//!
//! Operations hand over an intermediate `sig · 2^exp` (a `u64` significand of any width). When the
//! exact result did not fit, the caller ORs a *sticky* 1 into bit 0 of `sig` ("jamming"): the jammed
//! value then lies strictly between the same two even integers as the exact value, so, as long as the
//! rounding position is at least two bits above bit 0, both round the same way and both are inexact.
//! Every caller keeps at least 26 significant bits when it jams, which guarantees that distance.

use super::{Ieee32, EXP_MASK, FRAC_BITS, MIN_QUANTUM_EXP, SIGN_BIT};
use crate::env::{Flagged, Flags, FpEnv, HalfCmp, RoundingMode, Tininess};

/// The largest unbounded exponent of a finite binary32 value (2^127 ≤ |x| < 2^128).
const MAX_EXP: i32 = 127;
/// The smallest exponent of a normal value.
const MIN_NORMAL_EXP: i32 = -126;

/// Splits `sig` at bit `shift`: returns `sig >> shift` and how the discarded low bits compare with
/// half of `2^shift` (`None` when nothing nonzero was discarded). A negative `shift` shifts left.
#[inline]
pub(crate) fn split(sig: u64, shift: i32) -> (u64, Option<HalfCmp>) {
    if shift <= 0 {
        return (sig << -shift, None);
    }
    if shift >= 64 {
        // Everything is discarded; it reaches half of 2^shift only when shift is 64.
        let half_cmp = match sig.cmp(&(1 << 63)) {
            _ if sig == 0 => None,
            std::cmp::Ordering::Greater if shift == 64 => Some(HalfCmp::Above),
            std::cmp::Ordering::Equal if shift == 64 => Some(HalfCmp::Equal),
            _ => Some(HalfCmp::Below),
        };
        return (0, half_cmp);
    }
    let rem = sig & ((1 << shift) - 1);
    let half = 1 << (shift - 1);
    let half_cmp = if rem == 0 {
        None
    } else if rem < half {
        Some(HalfCmp::Below)
    } else if rem == half {
        Some(HalfCmp::Equal)
    } else {
        Some(HalfCmp::Above)
    };
    (sig >> shift, half_cmp)
}

/// Rounds `sig` to a multiple of `2^shift` in `mode`, returning the rounded `sig >> shift` and
/// whether it was inexact.
#[inline]
pub(crate) fn round_shift(sig: u64, shift: i32, negative: bool, mode: RoundingMode) -> (u64, bool) {
    let (truncated, discarded) = split(sig, shift);
    match discarded {
        None => (truncated, false),
        Some(half) => {
            let away = mode.rounds_away(negative, half, truncated & 1 == 1);
            (truncated + away as u64, true)
        }
    }
}

/// Shifts right by `shift`, ORing any discarded nonzero bits into bit 0.
#[inline]
pub(crate) fn shift_right_jam(sig: u64, shift: u32) -> u64 {
    if shift >= 64 {
        (sig != 0) as u64
    } else {
        (sig >> shift) | ((sig & ((1 << shift) - 1)) != 0) as u64
    }
}

/// The result of an overflow in `mode`: ±∞ or ±MAX, with overflow and inexact raised.
pub(crate) fn overflow(negative: bool, mode: RoundingMode) -> Flagged<Ieee32> {
    let magnitude = if mode.overflows_to_infinity(negative) {
        Ieee32::INFINITY
    } else {
        Ieee32::MAX
    };
    let value = if negative { magnitude.neg() } else { magnitude };
    Flagged::new(value, Flags::OVERFLOW | Flags::INEXACT)
}

/// Rounds `(−1)^negative · sig · 2^exp` (with `sig` nonzero, possibly jammed) to binary32.
#[inline]
pub(crate) fn round_pack(negative: bool, exp: i32, sig: u64, env: FpEnv) -> Flagged<Ieee32> {
    debug_assert!(sig != 0);
    let msb = 63 - sig.leading_zeros() as i32;
    let unbounded_exp = exp + msb;
    if unbounded_exp > MAX_EXP {
        return overflow(negative, env.mode);
    }
    let quantum_exp = (unbounded_exp - FRAC_BITS as i32).max(MIN_QUANTUM_EXP);
    let (magnitude, inexact) = round_shift(sig, quantum_exp - exp, negative, env.mode);
    // `(quantum_exp + 149) << 23` plus a magnitude in [0, 2^24] encodes subnormals, normals and
    // a carry into the next binade alike, because the hidden bit lands in the exponent field.
    let bits = (((quantum_exp - MIN_QUANTUM_EXP) as u32) << FRAC_BITS) + magnitude as u32;
    if bits >= EXP_MASK {
        return overflow(negative, env.mode);
    }
    let value = Ieee32(if negative { bits | SIGN_BIT } else { bits });
    if !inexact {
        return Flagged::exact(value);
    }
    let tiny = unbounded_exp < MIN_NORMAL_EXP
        && match env.tininess {
            Tininess::BeforeRounding => true,
            // Rounded to 24 bits with an unbounded exponent, only a value in [2^-127, 2^-126) can
            // reach 2^-126 and so not count as tiny.
            Tininess::AfterRounding => {
                unbounded_exp < MIN_NORMAL_EXP - 1 || {
                    let unbounded_quantum = unbounded_exp - FRAC_BITS as i32;
                    round_shift(sig, unbounded_quantum - exp, negative, env.mode).0 < 1 << 24
                }
            }
        };
    let flags = if tiny {
        Flags::INEXACT | Flags::UNDERFLOW
    } else {
        Flags::INEXACT
    };
    Flagged::new(value, flags)
}

/// [`round_pack`], or a zero of the given sign when `sig` is 0.
#[inline]
pub(crate) fn round_pack_or_zero(
    negative: bool,
    exp: i32,
    sig: u64,
    env: FpEnv,
) -> Flagged<Ieee32> {
    if sig == 0 {
        Flagged::exact(Ieee32::zero(negative))
    } else {
        round_pack(negative, exp, sig, env)
    }
}
