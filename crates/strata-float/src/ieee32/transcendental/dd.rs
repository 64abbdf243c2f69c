//! Double-double arithmetic (a value is an unevaluated sum `hi + lo` of two binary64 numbers with
//! |lo| ≤ ulp(hi)/2), for the slow path of the transcendentals.
//!
//! Only IEEE binary64 `+ − × ÷` in round-to-nearest are used (no FMA, no libm), so results are the
//! same on every platform. The error-free transformations are Knuth's TwoSum, Dekker's
//! Fast2Sum and Dekker's TwoProduct with Veltkamp splitting; the compound operations are the
//! "accurate" double-double algorithms (relative error a few units of 2^-104, see Joldes, Muller
//! and Popescu, "Tight and rigorous error bounds for basic building blocks of double-word
//! arithmetic", 2017). Arguments stay far from the binary64 overflow and underflow thresholds.

/// A double-double number `hi + lo`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Dd {
    pub hi: f64,
    pub lo: f64,
}

/// `a + b` as an exact sum `s + e` (any magnitudes).
#[inline]
pub(super) const fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// `a + b` as an exact sum `s + e`, for |a| ≥ |b| (or a = 0).
#[inline]
pub(super) const fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// Veltkamp's split of `a` into two halves of at most 26 bits each.
#[inline]
const fn split(a: f64) -> (f64, f64) {
    let c = 134_217_729.0 * a; // 2^27 + 1
    let hi = c - (c - a);
    (hi, a - hi)
}

/// `a · b` as an exact sum `p + e` (no overflow or underflow).
#[inline]
pub(super) const fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}

impl Dd {
    pub const fn new(hi: f64, lo: f64) -> Dd {
        Dd { hi, lo }
    }

    pub const fn from_f64(x: f64) -> Dd {
        Dd { hi: x, lo: 0.0 }
    }

    /// From raw binary64 bits of the two parts.
    pub const fn from_bits(hi: u64, lo: u64) -> Dd {
        Dd {
            hi: f64::from_bits(hi),
            lo: f64::from_bits(lo),
        }
    }

    #[inline]
    pub const fn add(self, b: Dd) -> Dd {
        let (s, e) = two_sum(self.hi, b.hi);
        let (t, f) = two_sum(self.lo, b.lo);
        let (s, e) = fast_two_sum(s, e + t);
        let (hi, lo) = fast_two_sum(s, e + f);
        Dd { hi, lo }
    }

    #[inline]
    pub const fn neg(self) -> Dd {
        Dd {
            hi: -self.hi,
            lo: -self.lo,
        }
    }

    #[inline]
    pub const fn sub(self, b: Dd) -> Dd {
        self.add(b.neg())
    }

    #[inline]
    pub const fn mul(self, b: Dd) -> Dd {
        let (p, e) = two_prod(self.hi, b.hi);
        let e = e + (self.hi * b.lo + self.lo * b.hi);
        let (hi, lo) = fast_two_sum(p, e);
        Dd { hi, lo }
    }

    #[inline]
    pub const fn mul_f64(self, b: f64) -> Dd {
        let (p, e) = two_prod(self.hi, b);
        let (hi, lo) = fast_two_sum(p, e + self.lo * b);
        Dd { hi, lo }
    }

    /// Long division: three quotient digits.
    #[inline]
    pub const fn div(self, b: Dd) -> Dd {
        let q1 = self.hi / b.hi;
        let r = self.sub(b.mul_f64(q1));
        let q2 = r.hi / b.hi;
        let r = r.sub(b.mul_f64(q2));
        let q3 = r.hi / b.hi;
        let (hi, lo) = fast_two_sum(q1, q2);
        Dd { hi, lo }.add(Dd::from_f64(q3))
    }

    /// Division by a small exact integer (for the coefficient tables).
    pub const fn div_int(self, n: f64) -> Dd {
        let q1 = self.hi / n;
        let (p, e) = two_prod(q1, n);
        let r = ((self.hi - p) - e) + self.lo;
        let (hi, lo) = fast_two_sum(q1, r / n);
        Dd { hi, lo }
    }

    /// Multiplication by 2^k (exact away from underflow and overflow).
    #[inline]
    pub fn mul_pow2(self, k: i32) -> Dd {
        let s = pow2(k);
        Dd {
            hi: self.hi * s,
            lo: self.lo * s,
        }
    }
}

/// 2^k as a binary64 for −1022 ≤ k ≤ 1023.
#[inline]
pub(super) fn pow2(k: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&k));
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// `[1/0!, 1/1!, …, 1/(N−1)!]` in double-double.
pub(super) const fn inverse_factorials<const N: usize>() -> [Dd; N] {
    let mut table = [Dd::from_f64(0.0); N];
    let mut value = Dd::from_f64(1.0);
    let mut n = 0;
    while n < N {
        if n > 0 {
            value = value.div_int(n as f64);
        }
        table[n] = value;
        n += 1;
    }
    table
}

/// `[1/1, 1/3, 1/5, …]` in double-double.
pub(super) const fn inverse_odds<const N: usize>() -> [Dd; N] {
    let mut table = [Dd::from_f64(0.0); N];
    let mut n = 0;
    while n < N {
        table[n] = Dd::from_f64(1.0).div_int((2 * n + 1) as f64);
        n += 1;
    }
    table
}

/// `[1, 2/3, 4/15, …]`: 2^n / (1·3·5···(2n+1)), the coefficients of erf's positive series.
pub(super) const fn erf_positive_coefficients<const N: usize>() -> [Dd; N] {
    let mut table = [Dd::from_f64(0.0); N];
    let mut value = Dd::from_f64(1.0);
    let mut n = 0;
    while n < N {
        if n > 0 {
            value = value.mul_f64(2.0).div_int((2 * n + 1) as f64);
        }
        table[n] = value;
        n += 1;
    }
    table
}

/// `[1/(0!·1), −1/(1!·3), 1/(2!·5), …]`: the coefficients of erf's Taylor series (without 2/√π).
pub(super) const fn erf_taylor_coefficients<const N: usize>() -> [Dd; N] {
    let mut table = [Dd::from_f64(0.0); N];
    let mut value = Dd::from_f64(1.0);
    let mut n = 0;
    while n < N {
        if n > 0 {
            value = value.div_int(n as f64);
        }
        let term = value.div_int((2 * n + 1) as f64);
        table[n] = if n % 2 == 1 { term.neg() } else { term };
        n += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TwoProduct and TwoSum are exact: checked in integer arithmetic on 26-bit operands.
    #[test]
    fn error_free_transformations_are_exact() {
        let mut state = 7u64;
        for _ in 0..100_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = (state >> 11) as f64; // 53-bit integers
            let b = ((state.rotate_left(17)) >> 11) as f64;
            let (p, e) = two_prod(a, b);
            assert_eq!(p as i128 + e as i128, a as i128 * b as i128);
            let (s, t) = two_sum(a, -b);
            assert_eq!(s as i128 + t as i128, a as i128 - b as i128);
        }
    }

    /// Double-double division and the coefficient tables to 2^-100.
    #[test]
    fn division_and_tables() {
        let third = Dd::from_f64(1.0).div(Dd::from_f64(3.0));
        let back = third.mul(Dd::from_f64(3.0)).sub(Dd::from_f64(1.0));
        assert!(back.hi.abs() < 2f64.powi(-100));
        let inv: [Dd; 30] = inverse_factorials();
        // 1/29! · 29! = 1 (29! is not a binary64, so multiply step by step).
        let mut x = inv[29];
        for k in 1..=29 {
            x = x.mul_f64(k as f64);
        }
        assert!((x.hi - 1.0 + x.lo).abs() < 2f64.powi(-98));
    }
}
