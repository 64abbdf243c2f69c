//! Arithmetic: add, sub, mul, div, fma, sqrt, remainder, round to integral.
//!
//! Each operation first settles NaN, infinity and zero operands, then computes the exact result
//! (or a jammed one, see `round.rs`) as an integer significand and exponent, and rounds once.

use super::round::{
    round_pack, round_pack_or_zero, round_shift, shift_right_jam, shift_right_jam_128,
};
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
        if big_neg == small_neg {
            return round_pack(big_neg, exp, big + small, env);
        }
        match big.cmp(&small) {
            std::cmp::Ordering::Equal => Flagged::exact(exact_zero_sum(env)),
            std::cmp::Ordering::Greater => round_pack(big_neg, exp, big - small, env),
            std::cmp::Ordering::Less => round_pack(small_neg, exp, small - big, env),
        }
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
        // Make the exponent even, then widen the significand (< 2^25) by 2^38 so that the integer
        // square root has ≥ 31 bits.
        const WIDEN: i32 = 38;
        let (exp, sig) = self.unpack_normalized();
        let (exp, sig) = if exp % 2 != 0 {
            (exp - 1, sig << 1)
        } else {
            (exp, sig)
        };
        let (root, exact) = sqrt_floor(sig << WIDEN);
        round_pack(false, (exp - WIDEN) / 2, root | !exact as u64, env)
    }

    /// IEEE `fusedMultiplyAdd`: `self · b + c` rounded once.
    ///
    /// NaN rules follow SoftFloat's 8086-SSE `mulAdd`: a NaN among `self`, `b` propagates first
    /// (then `c`); `0 · ∞ + c` is invalid and gives the default NaN even when `c` is a quiet NaN.
    pub fn fma(self, b: Ieee32, c: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
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
        let ((a_exp, a_sig), (b_exp, b_sig)) = (a.unpack(), b.unpack());
        let (product_exp, product_sig) = (a_exp + b_exp, a_sig * b_sig);
        if c.is_zero() {
            return round_pack(product_neg, product_exp, product_sig, env);
        }
        let (c_exp, c_sig) = c.unpack();
        fma_sum(
            (product_neg, product_exp, product_sig),
            (c_neg, c_exp, c_sig),
            env,
        )
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

/// Adds the exact product `p` (< 2^48) to `c` (< 2^24), both as `(negative, exp, sig)`.
fn fma_sum(p: (bool, i32, u64), c: (bool, i32, u64), env: FpEnv) -> Flagged<Ieee32> {
    // Place the operand whose leading bit is higher with that bit at position 125 (exact: its
    // significand has ≤ 48 bits). The other one is exact or jammed; when it is jammed it lies
    // below 2^48 while the first is ≥ 2^125, so the rounding position stays far above the jam.
    const TOP_BIT: i32 = 125;
    let leading = |(_, exp, sig): (bool, i32, u64)| exp + 63 - sig.leading_zeros() as i32;
    let base = leading(p).max(leading(c)) - TOP_BIT;
    let place = |(_, exp, sig): (bool, i32, u64)| {
        if exp >= base {
            (sig as u128) << (exp - base)
        } else {
            shift_right_jam_128(sig as u128, (base - exp) as u32)
        }
    };
    let (p_wide, c_wide) = (place(p), place(c));
    let (negative, sum) = if p.0 == c.0 {
        (p.0, p_wide + c_wide)
    } else if p_wide >= c_wide {
        (p.0, p_wide - c_wide)
    } else {
        (c.0, c_wide - p_wide)
    };
    if sum == 0 {
        return Flagged::exact(exact_zero_sum(env));
    }
    // Narrow to 62 bits for `round_pack`, jamming what falls off.
    let width = 128 - sum.leading_zeros() as i32;
    let excess = (width - 62).max(0);
    let narrow = shift_right_jam_128(sum, excess as u32) as u64;
    round_pack(negative, base + excess, narrow, env)
}

/// Index bits of the reciprocal-square-root seed: the top 10 bits of a radicand in [2^61, 2^63),
/// so indices run over [2^7, 2^9).
const SEED_SHIFT: u32 = 54;
const SEED_FIRST: usize = 128;

/// Seeds y ≈ 1/√a in Q1.31 for a = n/2^62 at the middle of each index interval,
/// a = (i + ½)/256: y · 2^31 = 2^35/√(i + ½) = √(2^72 / (4i + 2)). Built at compile time with
/// integer square roots.
const RSQRT_SEEDS: [u32; 384] = {
    let mut seeds = [0u32; 384];
    let mut k = 0;
    while k < seeds.len() {
        let i = (k + SEED_FIRST) as u128;
        seeds[k] = ((1u128 << 72) / (4 * i + 2)).isqrt() as u32;
        k += 1;
    }
    seeds
};

/// ⌊√n⌋ and whether it is exact, for n in [2^61, 2^63): a table seed good to about 2^-9, two
/// Newton steps y ← y(3 − a·y²)/2 in fixed point (good to about 2^-30), r = a·y·2^31, and a final
/// correction by comparing squares (r is then within a few units of the answer).
#[inline]
fn sqrt_floor(n: u64) -> (u64, bool) {
    debug_assert!((1 << 61..1 << 63).contains(&n));
    let mut y = RSQRT_SEEDS[(n >> SEED_SHIFT) as usize - SEED_FIRST] as u64;
    for _ in 0..2 {
        // a·y² in Q2.62, then y·(3 − a·y²)/2 back in Q1.31.
        let a_y2 = ((n as u128 * (y * y) as u128) >> 62) as u64;
        y = ((y as u128 * ((3u64 << 62) - a_y2) as u128) >> 63) as u64;
    }
    let mut root = ((n as u128 * y as u128) >> 62) as u64;
    while root * root > n {
        root -= 1;
    }
    while (root + 1) * (root + 1) <= n {
        root += 1;
    }
    (root, root * root == n)
}

#[cfg(test)]
mod tests {
    use super::sqrt_floor;

    /// Oracle: `u64::isqrt`, on the range ends, on squares and their neighbours, and spread
    /// through the range.
    #[test]
    fn sqrt_floor_matches_isqrt() {
        let mut inputs = vec![1 << 61, (1 << 63) - 1];
        for k in 0..200_000u64 {
            let root = (1u64 << 30) * 3 / 2 + k * 7_919;
            inputs.extend([root * root - 1, root * root, root * root + 1]);
            inputs.push((1 << 61) + k.wrapping_mul(0x9e37_79b9_7f4a_7c15) % (3 << 61));
        }
        for n in inputs
            .into_iter()
            .filter(|n| (1 << 61..1 << 63).contains(n))
        {
            assert_eq!(
                sqrt_floor(n),
                (n.isqrt(), n.isqrt() * n.isqrt() == n),
                "{n}"
            );
        }
    }
}
