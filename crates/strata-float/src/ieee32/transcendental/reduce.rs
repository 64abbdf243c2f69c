//! Exact argument reduction for sin and cos (Payne–Hanek): x·(2/π) modulo 4 from a window of the
//! bits of 2/π, in integer arithmetic.
//!
//! For x = m·2^e (m < 2^24 an integer) and 2/π = Σ b_i 2^-i, the bits b_i with i ≤ e − 2 only add
//! multiples of 4 to x·2/π (m is an integer), so a window of W = 192 bits starting at i = e − 1
//! gives x·2/π mod 4 as a 192-bit fixed-point number with 190 fraction bits. The bits after the
//! window add less than m·2^(2−W) < 2^-166, and the conversion to double-double keeps 2^-128
//! absolute, so the reduced argument is good to about 2^-100 relative unless it is below 2^-28;
//! no binary32 comes that close to a multiple of π/2 (the exhaustive check runs every input).

use super::dd::{pow2, Dd};

/// 2/π = 0.a2f9836e… in hex: the first 512 fraction bits, most significant word first.
const TWO_OVER_PI: [u64; 8] = [
    0xa2f9_836e_4e44_1529,
    0xfc27_57d1_f534_ddc0,
    0xdb62_9599_3c43_9041,
    0xfe51_63ab_debb_c561,
    0xb724_6e3a_424d_d2e0,
    0x0649_2eea_09d1_921c,
    0xfe1d_eb1c_b129_a73e,
    0xe882_35f5_2ebb_4484,
];

/// π/2 in double-double.
const HALF_PI: Dd = Dd::from_bits(0x3ff9_21fb_5444_2d18, 0x3c91_a626_3314_5c07);

/// The 64 bits b_start … b_(start+63) of 2/π (b_i = 0 for i ≤ 0).
fn window64(start: i32) -> u64 {
    if start < 1 {
        let shift = 1 - start;
        return if shift >= 64 { 0 } else { window64(1) >> shift };
    }
    let index = (start - 1) as usize;
    let (word, offset) = (index / 64, index % 64);
    let at = |w: usize| TWO_OVER_PI.get(w).copied().unwrap_or(0);
    if offset == 0 {
        at(word)
    } else {
        (at(word) << offset) | (at(word + 1) >> (64 - offset))
    }
}

/// For x = m·2^e (m < 2^24, e ≤ 104): the quadrant n = round(x·2/π) mod 4 and the reduced
/// argument r = x − n·π/2 (up to multiples of 2π), |r| ≤ π/4, as a double-double.
pub(super) fn reduce_half_pi(m: u64, e: i32) -> (u32, Dd) {
    debug_assert!(m < 1 << 24 && e <= 104);
    let start = e - 1;
    let c = [window64(start), window64(start + 64), window64(start + 128)];
    // y = m·C mod 2^192, limbs most significant first.
    let mut y = [0u64; 3];
    let mut carry = 0u128;
    for i in (0..3).rev() {
        let product = m as u128 * c[i] as u128 + carry;
        y[i] = product as u64;
        carry = product >> 64;
    }
    // The integer part is the top 2 bits; the fraction's top 128 bits, read as a signed number,
    // are the fraction minus 1 when it is at least ½, which is what rounding to nearest wants.
    let integer = (y[0] >> 62) as u32;
    let fraction_top = ((((y[0] as u128) << 64) | y[1] as u128) << 2) | (y[2] >> 62) as u128;
    let signed = fraction_top as i128;
    let quadrant = (integer + (signed < 0) as u32) & 3;
    // Fraction f in units of 2^-128, then the 62 bits below them.
    let hi = signed as f64;
    let rest = signed - hi as i128;
    let below = (y[2] & ((1 << 62) - 1)) as f64 * pow2(-62);
    let lo = rest as f64 + below;
    let scale = pow2(-128);
    let f = Dd::new(hi * scale, lo * scale).add(Dd::from_f64(0.0));
    (quadrant, f.mul(HALF_PI))
}

/// The fast path's reduction: the quadrant and r = x − n·π/2 in binary64 with a relative error
/// of a few units of 2^-53 (plus 2^-90 absolute), for x = m·2^e (m < 2^24).
///
/// Below 2^22: Cody–Waite with π/2 = P1 + P2 + P3 (P1, P2 of 30 bits, so n·P1 and n·P2 are exact
/// for n < 2^23, and x − n·P1 is exact by Sterbenz's lemma). Above: 128 bits of 2/π from the
/// window at e − 1, x·2/π mod 4 to 2^-102 absolute, all 126 fraction bits converted to binary64,
/// then f·π/2.
#[inline]
pub(super) fn reduce_half_pi_fast(m: u64, e: i32) -> (u32, f64) {
    if e < -1 {
        const TWO_OVER_PI: f64 = f64::from_bits(0x3fe4_5f30_6dc9_c883);
        const P1: f64 = f64::from_bits(0x3ff9_21fb_5400_0000);
        const P2: f64 = f64::from_bits(0x3e11_0b46_1180_0000);
        const P3: f64 = f64::from_bits(0x3c23_1319_8a2e_0370);
        const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5·2^52
        let x = m as f64 * pow2(e);
        let t = x * TWO_OVER_PI + SHIFT;
        let n = t - SHIFT;
        let r = ((x - n * P1) - n * P2) - n * P3;
        return ((t.to_bits() as u32) & 3, r);
    }
    let start = e - 1;
    let (c0, c1) = (window64(start), window64(start + 64));
    let c = ((c0 as u128) << 64) | c1 as u128;
    let y = c.wrapping_mul(m as u128);
    let integer = (y >> 126) as u32;
    // The 126 fraction bits, read as a signed fraction in [−½, ½) (units 2^-128): converting all
    // of them keeps r's relative error at 2^-53 however close x is to a multiple of π/2.
    let fraction = (y << 2) as i128;
    let quadrant = (integer + (fraction < 0) as u32) & 3;
    let f = fraction as f64 * pow2(-128);
    (quadrant, f * HALF_PI.hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigInt;
    use num_traits::{One, Zero};

    /// atan(1/n)·2^q by the alternating series in integers (error below 2 units per term).
    fn arctan_inv(n: u64, q: usize) -> BigInt {
        let n2 = BigInt::from(n * n);
        let mut power = (BigInt::one() << q) / n;
        let (mut sum, mut k) = (BigInt::zero(), 0u64);
        while !power.is_zero() {
            let term = &power / (2 * k + 1);
            sum = if k % 2 == 0 { sum + term } else { sum - term };
            power /= &n2;
            k += 1;
        }
        sum
    }

    /// The table's 512 bits are those of 2/π (π from Machin's formula with 700 bits).
    #[test]
    fn two_over_pi_table_matches_machin() {
        let q = 700usize;
        let pi = arctan_inv(5, q) * 16 - arctan_inv(239, q) * 4;
        // ⌊2/π·2^512⌋, with 188 guard bits against the series' error.
        let two_over_pi = (BigInt::one() << (q + 513)) / pi;
        let expected: BigInt = TWO_OVER_PI
            .iter()
            .fold(BigInt::zero(), |acc, &w| (acc << 64) + w);
        assert_eq!(two_over_pi, expected);
        assert_eq!(window64(1), TWO_OVER_PI[0]);
        assert_eq!(window64(-3), TWO_OVER_PI[0] >> 4);
        assert_eq!(window64(65), TWO_OVER_PI[1]);
    }

    /// The fast reduction against the exact one (quadrant equal, r within 2^-50 relative).
    #[test]
    fn fast_and_exact_reductions_agree() {
        let mut state = 1u64;
        for _ in 0..100_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let m = (state >> 40) | (1 << 23);
            let e = (state % 128) as i32 - 24;
            let (q_fast, r_fast) = reduce_half_pi_fast(m, e);
            let (q, r) = reduce_half_pi(m, e);
            assert_eq!(q_fast, q, "m={m} e={e}");
            assert!(
                (r_fast - r.hi).abs() <= r.hi.abs() * 2f64.powi(-50),
                "m={m} e={e}: {r_fast} vs {}",
                r.hi
            );
        }
    }
}
