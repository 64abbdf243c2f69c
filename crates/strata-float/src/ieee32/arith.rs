//! Arithmetic: add, sub, mul, div, fma, sqrt, remainder, round to integral.
//!
//! Each operation first settles NaN, infinity and zero operands, then computes the exact result
//! (or a jammed one, see `round.rs`) as an integer significand and exponent, and rounds once.

use super::round::{round_pack, round_pack_or_zero, round_shift, shift_right_jam};
use super::Ieee32;
use crate::env::{Flagged, Flags, FpEnv, RoundingMode};

/// The sign of an exact zero sum of operands with opposite signs: +0, except −0 when rounding down.
fn exact_zero_sum(env: FpEnv) -> Ieee32 {
    Ieee32::zero(env.mode == RoundingMode::TowardNeg)
}

/// How far an addend may sit below the other before it is jammed: 24 + 39 bits fit a `u64`.
const ADD_WINDOW: i32 = 39;

impl Ieee32 {
    /// IEEE `addition`.
    pub fn add(self, rhs: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        self.add_signed(rhs, false, env)
    }

    /// IEEE `subtraction` (a NaN `rhs` propagates with its own sign, as on x86).
    pub fn sub(self, rhs: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        self.add_signed(rhs, true, env)
    }

    fn add_signed(self, rhs: Ieee32, negate_rhs: bool, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() || rhs.is_nan() {
            return Ieee32::propagate_nan(env, &[self, rhs]);
        }
        let b = if negate_rhs { rhs.neg() } else { rhs };
        let a = self;
        let (a_neg, b_neg) = (a.is_sign_negative(), b.is_sign_negative());
        if a.is_infinite() {
            return if b.is_infinite() && a_neg != b_neg {
                Ieee32::invalid(env)
            } else {
                Flagged::exact(a)
            };
        }
        if b.is_infinite() {
            return Flagged::exact(b);
        }
        if b.is_zero() {
            return Flagged::exact(if a.is_zero() && a_neg != b_neg {
                exact_zero_sum(env)
            } else {
                a
            });
        }
        if a.is_zero() {
            return Flagged::exact(b);
        }
        let ((a_exp, a_sig), (b_exp, b_sig)) = (a.unpack(), b.unpack());
        // Order by exponent so that `big` is exact and only `small` may be jammed.
        let ((big_neg, big_exp, big_sig), (small_neg, small_exp, small_sig)) = if a_exp >= b_exp {
            ((a_neg, a_exp, a_sig), (b_neg, b_exp, b_sig))
        } else {
            ((b_neg, b_exp, b_sig), (a_neg, a_exp, a_sig))
        };
        let gap = big_exp - small_exp;
        // Beyond the window `big` is normal and ≥ 2^62 after the shift while the jammed `small` is
        // below 2^24, so the sum keeps ≥ 61 bits and the jam is far below the rounding position.
        let (exp, big, small) = if gap <= ADD_WINDOW {
            (small_exp, big_sig << gap, small_sig)
        } else {
            let small = shift_right_jam(small_sig, (gap - ADD_WINDOW) as u32);
            (big_exp - ADD_WINDOW, big_sig << ADD_WINDOW, small)
        };
        add_aligned((big_neg, big), (small_neg, small), exp, env)
    }

    /// IEEE `multiplication`.
    pub fn mul(self, rhs: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() || rhs.is_nan() {
            return Ieee32::propagate_nan(env, &[self, rhs]);
        }
        let negative = self.is_sign_negative() != rhs.is_sign_negative();
        if self.is_infinite() || rhs.is_infinite() {
            return if self.is_zero() || rhs.is_zero() {
                Ieee32::invalid(env)
            } else {
                Flagged::exact(Ieee32::infinity(negative))
            };
        }
        if self.is_zero() || rhs.is_zero() {
            return Flagged::exact(Ieee32::zero(negative));
        }
        let ((a_exp, a_sig), (b_exp, b_sig)) = (self.unpack(), rhs.unpack());
        round_pack(negative, a_exp + b_exp, a_sig * b_sig, env)
    }

    /// IEEE `division`.
    pub fn div(self, rhs: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() || rhs.is_nan() {
            return Ieee32::propagate_nan(env, &[self, rhs]);
        }
        let negative = self.is_sign_negative() != rhs.is_sign_negative();
        if self.is_infinite() {
            return if rhs.is_infinite() {
                Ieee32::invalid(env)
            } else {
                Flagged::exact(Ieee32::infinity(negative))
            };
        }
        if rhs.is_infinite() {
            return Flagged::exact(Ieee32::zero(negative));
        }
        if rhs.is_zero() {
            return if self.is_zero() {
                Ieee32::invalid(env)
            } else {
                Flagged::new(Ieee32::infinity(negative), Flags::DIV_BY_ZERO)
            };
        }
        if self.is_zero() {
            return Flagged::exact(Ieee32::zero(negative));
        }
        // Both significands in [2^23, 2^24): the quotient of `a << 40` has 40 or 41 bits.
        const QUOTIENT_SHIFT: i32 = 40;
        let ((a_exp, a_sig), (b_exp, b_sig)) = (self.unpack_normalized(), rhs.unpack_normalized());
        let numerator = a_sig << QUOTIENT_SHIFT;
        let quotient = numerator / b_sig;
        let sticky = !numerator.is_multiple_of(b_sig) as u64;
        round_pack(
            negative,
            a_exp - b_exp - QUOTIENT_SHIFT,
            quotient | sticky,
            env,
        )
    }

    /// IEEE `squareRoot`.
    pub fn sqrt(self, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        if self.is_zero() {
            return Flagged::exact(self);
        }
        if self.is_sign_negative() {
            return Ieee32::invalid(env);
        }
        if self.is_infinite() {
            return Flagged::exact(self);
        }
        // Make the exponent even so that it halves exactly: the radicand is then in [2^23, 2^25).
        let (exp, sig) = self.unpack_normalized();
        let odd = exp & 1;
        let (root, exact) = sqrt_widened(sig << odd);
        let root_exp = (exp - odd - SQRT_WIDEN) / 2;
        round_pack(false, root_exp, root | !exact as u64, env)
    }

    /// IEEE `fusedMultiplyAdd`: `self · b + c` rounded once.
    ///
    /// NaN rules follow SoftFloat's 8086-SSE `mulAdd`: a NaN among `self`, `b` propagates first
    /// (then `c`); `0 · ∞ + c` is invalid and gives the default NaN even when `c` is a quiet NaN.
    pub fn fma(self, b: Ieee32, c: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        let a = self;
        if !(a.is_finite_nonzero() && b.is_finite_nonzero() && c.is_finite_nonzero()) {
            return a.fma_special(b, c, env);
        }
        let ((a_exp, a_sig), (b_exp, b_sig), (c_exp, c_sig)) = (a.unpack(), b.unpack(), c.unpack());
        // Both terms exact with their leading one at bit 62; bit 63 is room for the carry of a sum.
        let product_neg = a.is_sign_negative() != b.is_sign_negative();
        let (product_exp, product_sig) = with_leading_bit_62(a_exp + b_exp, a_sig * b_sig);
        let (c_exp, c_sig) = with_leading_bit_62(c_exp, c_sig);
        let product = (product_neg, product_exp, product_sig);
        let addend = (c.is_sign_negative(), c_exp, c_sig);
        let ((big_neg, exp, big), (small_neg, small_exp, small)) = if product_exp >= c_exp {
            (product, addend)
        } else {
            (addend, product)
        };
        // The product has at most 48 bits and `c` 24, so `small` loses bits to the jam only when
        // the gap exceeds 15; then `big` ≥ 2^62 dwarfs it and the sum keeps ≥ 62 bits.
        let small = shift_right_jam(small, (exp - small_exp) as u32);
        add_aligned((big_neg, big), (small_neg, small), exp, env)
    }

    /// [`Ieee32::fma`] when some operand is a NaN, an infinity or a zero.
    fn fma_special(self, b: Ieee32, c: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        let a = self;
        if a.is_nan() || b.is_nan() {
            return Ieee32::propagate_nan(env, &[a, b, c]);
        }
        let product_neg = a.is_sign_negative() != b.is_sign_negative();
        let c_neg = c.is_sign_negative();
        if a.is_infinite() || b.is_infinite() {
            if a.is_zero() || b.is_zero() {
                return Ieee32::invalid(env);
            }
            if c.is_nan() {
                return Ieee32::propagate_nan(env, &[c]);
            }
            return if c.is_infinite() && c_neg != product_neg {
                Ieee32::invalid(env)
            } else {
                Flagged::exact(Ieee32::infinity(product_neg))
            };
        }
        if c.is_nan() {
            return Ieee32::propagate_nan(env, &[c]);
        }
        if c.is_infinite() {
            return Flagged::exact(c);
        }
        if a.is_zero() || b.is_zero() {
            return Flagged::exact(if !c.is_zero() || c_neg == product_neg {
                c
            } else {
                exact_zero_sum(env)
            });
        }
        // Only `c` is zero: the result is the product, rounded.
        let ((a_exp, a_sig), (b_exp, b_sig)) = (a.unpack(), b.unpack());
        round_pack(product_neg, a_exp + b_exp, a_sig * b_sig, env)
    }

    /// IEEE `remainder`: `self − n·rhs` with `n` the integer nearest `self/rhs` (ties to even).
    /// Always exact, so the rounding mode does not matter; a zero result has the sign of `self`.
    pub fn rem(self, rhs: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() || rhs.is_nan() {
            return Ieee32::propagate_nan(env, &[self, rhs]);
        }
        if self.is_infinite() || rhs.is_zero() {
            return Ieee32::invalid(env);
        }
        if rhs.is_infinite() || self.is_zero() {
            return Flagged::exact(self);
        }
        let negative = self.is_sign_negative();
        let ((a_exp, a_sig), (b_exp, b_sig)) = (self.unpack_normalized(), rhs.unpack_normalized());
        if a_exp < b_exp - 1 {
            // |self| < 2^(a_exp+24) ≤ 2^(b_exp+22) ≤ |rhs|/2: the nearest integer quotient is 0.
            return Flagged::exact(self);
        }
        // Reduce `a_sig · 2^(a_exp−exp)` modulo `divisor`, both on the grid of 2^exp.
        let (exp, divisor, mut remainder, mut quotient_low) = if a_exp < b_exp {
            (a_exp, b_sig << 1, a_sig, 0)
        } else {
            (b_exp, b_sig, a_sig % b_sig, a_sig / b_sig)
        };
        // Shift in at most 38 bits at a time: remainder < 2^25, so the dividend stays < 2^63.
        let mut pending = (a_exp - b_exp).max(0);
        while pending > 0 {
            let step = pending.min(38);
            let dividend = remainder << step;
            quotient_low = dividend / divisor;
            remainder = dividend % divisor;
            pending -= step;
        }
        // Round the quotient to nearest, ties to even: past the half, the remainder becomes
        // `remainder − divisor`, which flips the sign.
        let twice = remainder << 1;
        let round_up = twice > divisor || (twice == divisor && quotient_low & 1 == 1);
        let (negative, magnitude) = if round_up {
            (!negative, divisor - remainder)
        } else {
            (negative, remainder)
        };
        let zero_sign = self.is_sign_negative();
        if magnitude == 0 {
            return Flagged::exact(Ieee32::zero(zero_sign));
        }
        round_pack(negative, exp, magnitude, env)
    }

    /// IEEE `roundToIntegralExact` in the environment's mode: like
    /// [`Ieee32::round_to_integral`], and raises inexact when the value changes.
    pub fn round_to_integral_exact(self, env: FpEnv) -> Flagged<Ieee32> {
        self.round_to_integral_flagging(env, true)
    }

    /// IEEE `roundToIntegral` in the environment's mode (no inexact flag).
    pub fn round_to_integral(self, env: FpEnv) -> Flagged<Ieee32> {
        self.round_to_integral_flagging(env, false)
    }

    fn round_to_integral_flagging(self, env: FpEnv, signal_inexact: bool) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        if self.is_infinite() || self.is_zero() {
            return Flagged::exact(self);
        }
        let (exp, sig) = self.unpack();
        if exp >= 0 {
            return Flagged::exact(self);
        }
        let negative = self.is_sign_negative();
        let (integer, inexact) = round_shift(sig, -exp, negative, env.mode);
        let result = round_pack_or_zero(negative, 0, integer, env).value;
        let flags = if inexact && signal_inexact {
            Flags::INEXACT
        } else {
            Flags::NONE
        };
        Flagged::new(result, flags)
    }
}

/// Adds two terms given as `(negative, significand)` on the grid of 2^exp: `big`, exact, comes from
/// the operand with the larger exponent (so it is the larger term unless the exponents are equal),
/// and `small` may be jammed.
fn add_aligned(
    (big_neg, big): (bool, u64),
    (small_neg, small): (bool, u64),
    exp: i32,
    env: FpEnv,
) -> Flagged<Ieee32> {
    if big_neg == small_neg {
        return round_pack(big_neg, exp, big + small, env);
    }
    match big.cmp(&small) {
        std::cmp::Ordering::Equal => Flagged::exact(exact_zero_sum(env)),
        std::cmp::Ordering::Greater => round_pack(big_neg, exp, big - small, env),
        std::cmp::Ordering::Less => round_pack(small_neg, exp, small - big, env),
    }
}

/// `sig · 2^exp` (with `0 < sig < 2^63`) rewritten so that the leading one of the significand is
/// bit 62.
fn with_leading_bit_62(exp: i32, sig: u64) -> (i32, u64) {
    let shift = sig.leading_zeros() as i32 - 1;
    (exp - shift, sig << shift)
}

/// The radicand is widened by 2^28 so that its square root has 26 or 27 bits: enough to jam.
const SQRT_WIDEN: i32 = 28;

/// The seed index `radicand >> 16` lies in [2^7, 2^9): intervals of width 2^-8 in a = radicand/2^24.
const SEED_SHIFT: u32 = 16;
const SEED_FIRST: usize = 128;

/// Seeds y ≈ 1/√a in Q1.15 for a = radicand/2^24 at the middle of each index interval,
/// a = (i + ½)/256: y · 2^15 = 2^19/√(i + ½) = √(2^39 / (2i + 1)). Built at compile time with
/// integer square roots.
const RSQRT_SEEDS: [u16; 384] = {
    let mut seeds = [0u16; 384];
    let mut k = 0;
    while k < seeds.len() {
        let i = (k + SEED_FIRST) as u64;
        seeds[k] = ((1u64 << 39) / (2 * i + 1)).isqrt() as u16;
        k += 1;
    }
    seeds
};

/// ⌊√(radicand · 2^28)⌋ and whether it is exact, for a radicand in [2^23, 2^25).
///
/// With a = radicand/2^24 in [½, 2): a table seed y ≈ 1/√a good to about 2^-9, then two Newton
/// steps y ← y(3 − a·y²)/2 in `u64` fixed point. Newton's steps approach 1/√a from below and
/// truncation keeps them there, to within about 2^-30 after the second, so r = a·y·2^26 is the root
/// or one less (`sqrt_widened_exact` checks every radicand); comparing squares settles which
/// without a data-dependent branch.
#[inline]
fn sqrt_widened(radicand: u64) -> (u64, bool) {
    debug_assert!((1 << 23..1 << 25).contains(&radicand));
    // First step: the seed is in Q1.15, 3 − a·y² in Q.54 (the radicand has 24 fraction bits), and
    // y(3 − a·y²)/2 is kept in Q1.19.
    let seed = RSQRT_SEEDS[(radicand >> SEED_SHIFT) as usize - SEED_FIRST] as u64;
    let three_less = (3 << 54) - radicand * seed * seed;
    let y = (seed * (three_less >> 32)) >> 19;
    // Second step, applied to g = a·y (Q.43) rather than to y: a·y(3 − a·y²)/2 = g + g(1 − g·y)/2,
    // where 0 ≤ 1 − g·y < 2^-15 in Q.62 leaves `u64` room for the product. The root a·y·2^26 is
    // then g/2^17.
    let g = radicand * y;
    let shortfall = (1 << 62) - g * y;
    let root = (g + ((g * (shortfall >> 30)) >> 33)) >> 17;
    let n = radicand << SQRT_WIDEN;
    let remainder = n - root * root;
    // (root + 1)² ≤ n exactly when the remainder n − root² reaches 2·root + 1.
    let too_small = remainder > 2 * root;
    let exact = (remainder == 0) | (remainder == 2 * root + 1);
    (root + too_small as u64, exact)
}

#[cfg(test)]
mod tests {
    use super::{sqrt_widened, SQRT_WIDEN};

    /// Every radicand against `u64::isqrt`.
    #[test]
    fn sqrt_widened_exact() {
        for radicand in 1u64 << 23..1 << 25 {
            let n = radicand << SQRT_WIDEN;
            let root = n.isqrt();
            assert_eq!(
                sqrt_widened(radicand),
                (root, root * root == n),
                "{radicand}"
            );
        }
    }
}
