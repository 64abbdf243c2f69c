//! Fixed-point interval arithmetic for the oracle, at two levels of precision.
//!
//! A value `v` of a level with `P` fraction bits stands for the real v·2^-P. Every operation of
//! an [`Iv`] rounds its lower end down and its upper end up (floor and ceiling of exact integer
//! results), so an interval always contains the real result of the same operations on any reals
//! inside its operands. Level [`Fast`] is `i64` with P = 56 (values below 128 in magnitude) and
//! `i128` products; level [`Big`] is `num_bigint::BigInt` with any P. The constants (π, ln 2,
//! 2/√π, series coefficients, remainder bounds) are computed once per level from integer series
//! with stated truncation bounds.

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::fmt::Debug;

/// A closed interval `[lo, hi]` of fixed-point values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Iv<V> {
    pub lo: V,
    pub hi: V,
}

/// Fixed-point integers with directed rounding.
pub(crate) trait Level {
    type V: Clone + Ord + Debug;
    /// Fraction bits.
    fn prec(&self) -> u32;
    fn consts(&self) -> &Consts<Self::V>;
    /// n·2^P.
    fn int(&self, n: i64) -> Self::V;
    /// ⌊m·2^(e+P)⌋ and ⌈m·2^(e+P)⌉.
    fn dyadic(&self, m: i64, e: i64) -> Iv<Self::V>;
    fn add(&self, a: &Self::V, b: &Self::V) -> Self::V;
    fn sub(&self, a: &Self::V, b: &Self::V) -> Self::V;
    fn neg(&self, a: &Self::V) -> Self::V;
    fn mul_int(&self, a: &Self::V, n: i64) -> Self::V;
    /// ⌊a·b/2^P⌋ and ⌈a·b/2^P⌉.
    fn mul(&self, a: &Self::V, b: &Self::V, up: bool) -> Self::V;
    /// ⌊a·2^P/b⌋ and ⌈a·2^P/b⌉ for b > 0.
    fn div(&self, a: &Self::V, b: &Self::V, up: bool) -> Self::V;
    /// ⌊a/2^s⌋ or ⌈a/2^s⌉ (s ≥ 0), or a·2^-s exactly for s < 0.
    fn shift(&self, a: &Self::V, s: i64, up: bool) -> Self::V;
    fn is_negative(&self, a: &Self::V) -> bool;
    fn is_positive(&self, a: &Self::V) -> bool;
    /// ⌊log2 a⌋ for a > 0 (of the integer a, not of the real a·2^-P).
    fn ilog2(&self, a: &Self::V) -> i64;
    /// ⌊a/2^s⌋ for a > 0, s ≥ 0, when it fits in 64 bits, and whether the division is exact.
    fn floor_shift(&self, a: &Self::V, s: i64) -> Option<(u64, bool)>;
    fn to_f64(&self, a: &Self::V) -> f64;
    /// |x| mod 2π for |x| = m·2^e, as an interval in [0, 2π] (roughly).
    fn reduce_two_pi(&self, m: u64, e: i32) -> Iv<Self::V>;
}

/// erf(c) and the Taylor coefficients b_1, b_2, … at a center c.
pub(crate) type ErfCenter<V> = (Iv<V>, Vec<Iv<V>>);

/// Per-level constants: enclosures, series coefficients and their remainder bounds.
#[derive(Clone, Debug)]
pub(crate) struct Consts<V> {
    pub ln2: Iv<V>,
    pub half_pi: Iv<V>,
    pub two_over_sqrt_pi: Iv<V>,
    /// 1/n!, n < `inv_fact.len()`.
    pub inv_fact: Vec<Iv<V>>,
    /// Terms of e^r for 0 ≤ r ≤ 7/10 and the bound on the rest: 3·(7/10)^N/N! (e^0.7 < 3).
    pub exp_terms: usize,
    pub exp_rem: V,
    /// Terms of S(z) = Σ z^n/(n+1)! for |z| ≤ 2, rest bound 2·2^N/(N+1)!.
    pub s_terms: usize,
    pub s_rem: V,
    /// Terms of Σ (−1)^n t^n/(n+1) for |t| ≤ 2^-8, rest bound 2·2^(-8N).
    pub log1p_terms: usize,
    pub log1p_rem: V,
    /// Terms of the same series for |t| ≤ 2^-20, rest bound 2·2^(-20N).
    pub logt_terms: usize,
    pub logt_rem: V,
    /// (−1)^n/(n+1) for the two series above.
    pub log_coeffs: Vec<Iv<V>>,
    /// sin: Σ (−1)^n r^(2n)/(2n+1)! for |r| ≤ 1, rest ≤ 1/(2N+1)!; cos: rest ≤ 1/(2N)!.
    pub sin_terms: usize,
    pub sin_rem: V,
    pub cos_terms: usize,
    pub cos_rem: V,
    /// (−1)^n/(2n+1)! and (−1)^n/(2n)!.
    pub sin_coeffs: Vec<Iv<V>>,
    pub cos_coeffs: Vec<Iv<V>>,
    /// erf Taylor: (−1)^n/(n!(2n+1)) for |x| < 1, rest ≤ 1/(N!(2N+1)).
    pub erf_taylor: Vec<Iv<V>>,
    pub erf_taylor_rem: V,
    /// erf on [1, 4.5): Taylor expansions at the centers c_i = 1 + i/8 (i = 0..=28), used for
    /// |x − c_i| ≤ 1/16: erf(c_i) and b_n = (2/√π)e^(−c²)(−1)^(n−1)H_(n−1)(c)/n!, n = 1..N, and
    /// the bound on the rest (see `erf_centers`).
    pub erf_centers: Vec<ErfCenter<V>>,
    pub erf_center_rem: V,
}

// ---------------------------------------------------------------------------------------------
// Exact integer series for the constants, at Q fraction bits, each with an error bound in units.

/// atan(1/n)·2^Q or atanh(1/n)·2^Q (by `hyperbolic`) within ±(terms + 1) units.
fn arctan_inv(n: u64, q: u32, hyperbolic: bool) -> (BigInt, BigInt) {
    let n2 = BigInt::from(n * n);
    let mut power = (BigInt::one() << q as usize) / n; // ⌊2^Q/n^(2k+1)⌋
    let mut sum = BigInt::zero();
    let mut k = 0u64;
    while !power.is_zero() {
        let term = &power / (2 * k + 1);
        if !hyperbolic && k % 2 == 1 {
            sum -= term;
        } else {
            sum += term;
        }
        power /= &n2;
        k += 1;
    }
    // Each truncated division errs by less than one unit (two per term), and the omitted tail
    // is below the last (zero) power: |error| ≤ 2k + 2.
    (sum, BigInt::from(2 * k + 2))
}

/// Enclosures of π, ln 2 and 2/√π at Q fraction bits, as (lo, hi) big integers.
fn base_constants(q: u32) -> [(BigInt, BigInt); 3] {
    // π = 16·atan(1/5) − 4·atan(1/239).
    let (a5, e5) = arctan_inv(5, q, false);
    let (a239, e239) = arctan_inv(239, q, false);
    let pi = a5 * 16 - a239 * 4;
    let pi_err = e5 * 16 + e239 * 4;
    let pi_iv = (&pi - &pi_err, &pi + &pi_err);
    // ln 2 = 2·atanh(1/3).
    let (t3, e3) = arctan_inv(3, q, true);
    let ln2 = (&t3 * 2 - &e3 * 2, &t3 * 2 + &e3 * 2);
    // 2/√π = 2·√(2^(2Q)/π) (in units 2^-Q): bounds from integer square roots.
    let four_q = BigInt::one() << (3 * q as usize);
    let lo_square: BigInt = &four_q / &pi_iv.1;
    let hi_square: BigInt = &four_q / &pi_iv.0 + 1u32;
    let lo: BigInt = lo_square.sqrt() * 2;
    let hi: BigInt = hi_square.sqrt() * 2 + 2u32;
    [pi_iv, ln2, (lo, hi)]
}

/// The enclosure of a positive rational n/d at P bits.
fn rational(n: &BigInt, d: &BigInt, p: u32) -> (BigInt, BigInt) {
    let scaled = n << p as usize;
    let (q, r) = scaled.div_rem(d);
    if r.is_zero() {
        (q.clone(), q)
    } else {
        (q.clone(), q + 1u32)
    }
}

/// The smallest N ≥ 1 with bound(N) < 2^-(p+4), and ⌈bound(N)·2^p⌉, for bound(N) = num(N)/den(N).
fn series_length(p: u32, bound: impl Fn(u64) -> (BigInt, BigInt)) -> (usize, BigInt) {
    let mut n = 1u64;
    loop {
        let (num, den) = bound(n);
        // num/den < 2^-(p+4)  ⇔  num·2^(p+4) < den
        if (&num << (p as usize + 4)) < den {
            let (_, hi) = rational(&num, &den, p);
            return (n as usize, hi);
        }
        n += 1;
    }
}

fn factorial(n: u64) -> BigInt {
    (1..=n).fold(BigInt::one(), |acc, k| acc * k)
}

/// All constants at P fraction bits, as big-integer intervals.
fn big_consts(p: u32) -> Consts<BigInt> {
    let q = p + 64;
    let [pi, ln2, tsp] = base_constants(q);
    let down = |v: &BigInt| v >> 64usize;
    let up = |v: &BigInt| -((-v) >> 64usize);
    let iv = |(lo, hi): &(BigInt, BigInt)| Iv {
        lo: down(lo),
        hi: up(hi),
    };
    let pi_iv = iv(&pi);
    let half_pi = Iv {
        lo: &pi_iv.lo >> 1usize,
        hi: -((-&pi_iv.hi) >> 1usize),
    };
    let one = BigInt::one();
    let rat = |n: &BigInt, d: &BigInt| {
        let (lo, hi) = rational(n, d, p);
        Iv { lo, hi }
    };
    let (exp_terms, exp_rem) = series_length(p, |n| {
        (
            BigInt::from(3) * BigInt::from(7).pow(n as u32),
            BigInt::from(10).pow(n as u32) * factorial(n),
        )
    });
    let (s_terms, s_rem) = series_length(p, |n| (BigInt::from(2) << n as usize, factorial(n + 1)));
    let (log1p_terms, log1p_rem) =
        series_length(p, |n| (BigInt::from(2), BigInt::one() << (8 * n) as usize));
    let (logt_terms, logt_rem) =
        series_length(p, |n| (BigInt::from(2), BigInt::one() << (20 * n) as usize));
    let (sin_terms, sin_rem) = series_length(p, |n| (BigInt::one(), factorial(2 * n + 1)));
    let (cos_terms, cos_rem) = series_length(p, |n| (BigInt::one(), factorial(2 * n)));
    let (erf_taylor_terms, erf_taylor_rem) =
        series_length(p, |n| (BigInt::one(), factorial(n) * (2 * n + 1)));
    let (erf_centers, erf_center_rem) = erf_centers(p);
    let max_fact = exp_terms
        .max(s_terms + 2)
        .max(2 * sin_terms + 2)
        .max(2 * cos_terms + 2)
        .max(erf_taylor_terms + 1)
        + 2;
    let inv_fact = (0..max_fact as u64)
        .map(|n| rat(&one, &factorial(n)))
        .collect();
    let signed = |c: Iv<BigInt>, negative: bool| {
        if negative {
            Iv {
                lo: -c.hi,
                hi: -c.lo,
            }
        } else {
            c
        }
    };
    let log_coeffs = (0..log1p_terms.max(logt_terms) as u64 + 1)
        .map(|n| signed(rat(&one, &BigInt::from(n + 1)), n % 2 == 1))
        .collect();
    let sin_coeffs = (0..sin_terms as u64)
        .map(|n| signed(rat(&one, &factorial(2 * n + 1)), n % 2 == 1))
        .collect();
    let cos_coeffs = (0..cos_terms as u64)
        .map(|n| signed(rat(&one, &factorial(2 * n)), n % 2 == 1))
        .collect();
    let erf_taylor = (0..erf_taylor_terms as u64)
        .map(|n| {
            let c = rat(&one, &(factorial(n) * (2 * n + 1)));
            if n % 2 == 1 {
                Iv {
                    lo: -c.hi,
                    hi: -c.lo,
                }
            } else {
                c
            }
        })
        .collect();
    Consts {
        ln2: iv(&ln2),
        half_pi,
        two_over_sqrt_pi: iv(&tsp),
        inv_fact,
        exp_terms,
        exp_rem,
        s_terms,
        s_rem,
        log1p_terms,
        log1p_rem,
        logt_terms,
        logt_rem,
        log_coeffs,
        sin_terms,
        sin_rem,
        cos_terms,
        cos_rem,
        sin_coeffs,
        cos_coeffs,
        erf_taylor,
        erf_taylor_rem,
        erf_centers,
        erf_center_rem,
    }
}

/// An interval [lo, hi] of big integers at some fixed number of fraction bits.
type BigIv = (BigInt, BigInt);

fn big_mul(a: &BigIv, b: &BigIv, bits: u32) -> BigIv {
    // Both positive.
    let lo = (&a.0 * &b.0) >> bits as usize;
    let hi = -((-(&a.1 * &b.1)) >> bits as usize);
    (lo, hi)
}

/// The Taylor expansions of erf at c = 1 + i/8, i = 0..=28, at P fraction bits.
///
/// erf(c) = (2/√π)·c·Σ (−1)^n c^(2n)/(n!(2n+1)) and e^(c²) = Σ c^(2n)/n! are summed forward at
/// W = P + 96 bits (terms u_n = u_(n−1)·c²/n rounded down and up, so each end errs by at most one
/// unit per term; once the terms fall below a unit and decrease, the alternating rest is below
/// one unit and the positive rest below twice the last term). The derivatives are
/// erf^(n)(c) = (2/√π)(−1)^(n−1)H_(n−1)(c)e^(−c²) with the Hermite polynomials computed exactly
/// (G_n = 8^n·H_n(c): G_0 = 1, G_1 = 2a, G_(n+1) = 2a·G_n − 128n·G_(n−1) for c = a/8).
/// The rest after N terms, for |h| ≤ 1/16, is at most |erf^(N)(ξ)|·|h|^N/N! ≤
/// 1.25·√(2^(N−1)(N−1)!)/(16^N·N!) by Cramér's inequality |H_n(x)| ≤ 1.0865·√(2^n n!)·e^(x²/2)
/// (and (2/√π)·1.0865 < 1.25).
fn erf_centers(p: u32) -> (Vec<ErfCenter<BigInt>>, BigInt) {
    let w = p + 96;
    let unit = BigInt::one() << w as usize;
    let [_, _, tsp] = base_constants(w);
    // N: 25·2^(N−1)(N−1)!·2^(2p+8) < 16·256^N·(N!)²  ⇔  rest < 2^-(p+4).
    let mut terms = 1u64;
    while (BigInt::from(25) * (BigInt::one() << (terms - 1) as usize) * factorial(terms - 1))
        << (2 * p as usize + 8)
        >= BigInt::from(16) * BigInt::from(256).pow(terms as u32) * factorial(terms).pow(2)
    {
        terms += 1;
    }
    let rest_num =
        BigInt::from(25) * (BigInt::one() << (terms - 1) as usize) * factorial(terms - 1);
    let rest_den = BigInt::from(16) * BigInt::from(256).pow(terms as u32) * factorial(terms).pow(2);
    // rest ≤ √(rest_num/rest_den); an upper bound at P bits from the integer square root.
    let rest = (&(&rest_num << (2 * p as usize)) / &rest_den + 1u32).sqrt() + 1u32;
    let to_p = |v: &BigIv| Iv {
        lo: &v.0 >> 96usize,
        hi: -((-&v.1) >> 96usize),
    };
    let centers = (0..=28u64)
        .map(|i| {
            let a = 8 + i; // c = a/8, c² = a²/64
            let a2 = BigInt::from(a * a);
            // Σ (−1)^n c^(2n)/(n!(2n+1)) and Σ c^(2n)/n!.
            let (mut u_lo, mut u_hi) = (unit.clone(), unit.clone());
            let (mut s_lo, mut s_hi) = (unit.clone(), unit.clone());
            let (mut e_lo, mut e_hi) = (unit.clone(), unit.clone());
            let mut n = 1u64;
            loop {
                u_lo = (&u_lo * &a2) / (64 * n);
                u_hi = -((-(&u_hi * &a2)).div_floor(&BigInt::from(64 * n)));
                let t_lo = &u_lo / (2 * n + 1);
                let t_hi = -((-&u_hi).div_floor(&BigInt::from(2 * n + 1)));
                if n % 2 == 1 {
                    s_lo -= &t_hi;
                    s_hi -= &t_lo;
                } else {
                    s_lo += &t_lo;
                    s_hi += &t_hi;
                }
                e_lo += &u_lo;
                e_hi += &u_hi;
                n += 1;
                if u_hi < BigInt::from(2) && n * 64 > 2 * a * a {
                    break;
                }
            }
            let slack = BigInt::from(2 * n + 4);
            let sum = (&s_lo - &slack, &s_hi + &slack);
            let exp_c2 = (e_lo, &e_hi + &slack + &u_hi * 2);
            // e^(−c²) = 1/e^(c²).
            let unit2 = BigInt::one() << (2 * w as usize);
            let inv_exp = (&unit2 / &exp_c2.1, -((-&unit2).div_floor(&exp_c2.0)));
            let c_iv = (
                BigInt::from(a) << (w as usize - 3),
                BigInt::from(a) << (w as usize - 3),
            );
            let value = big_mul(&big_mul(&tsp, &c_iv, w), &sum, w);
            let scale = big_mul(&tsp, &inv_exp, w);
            // b_n = scale·(−1)^(n−1)·G_(n−1)/(8^(n−1)·n!).
            let mut g = (BigInt::one(), BigInt::from(2 * a)); // (G_(n−1), G_n) starting at n = 1
            let coeffs = (1..=terms)
                .map(|n| {
                    let g_prev = g.0.clone();
                    let next = BigInt::from(2 * a) * &g.1 - BigInt::from(128 * n) * &g.0;
                    g = (g.1.clone(), next);
                    let den = (BigInt::one() << (3 * (n - 1)) as usize) * factorial(n);
                    let magnitude = g_prev.abs();
                    let lo = (&scale.0 * &magnitude) / &den;
                    let hi = -((-(&scale.1 * &magnitude)).div_floor(&den));
                    let negative = (g_prev.is_negative()) != (n % 2 == 0);
                    let b = if negative { (-hi, -lo) } else { (lo, hi) };
                    to_p(&b)
                })
                .collect();
            (to_p(&value), coeffs)
        })
        .collect();
    (centers, rest)
}

/// 2^e mod 2π for 0 ≤ e ≤ 104 at Q fraction bits, from an enclosure of 2π at Q + 110 bits.
fn powers_mod_two_pi(q: u32) -> (Vec<(BigInt, BigInt)>, (BigInt, BigInt)) {
    let wide = q + 120;
    let [pi, _, _] = base_constants(wide);
    let two_pi = (&pi.0 << 1usize, &pi.1 << 1usize);
    let table = (0..=104usize)
        .map(|e| {
            let power = BigInt::one() << (e + wide as usize);
            // k = ⌊2^e/2π⌋ from the midpoint; then 2^e − k·2π lies in [power − k·hi, power − k·lo].
            let k = &power / &two_pi.0;
            let lo = (&power - &k * &two_pi.1) >> 120usize;
            let hi = -((-(&power - &k * &two_pi.0)) >> 120usize);
            (lo, hi)
        })
        .collect();
    let two_pi_q = (&two_pi.0 >> 120usize, -((-&two_pi.1) >> 120usize));
    (table, two_pi_q)
}

// ---------------------------------------------------------------------------------------------
// Level Fast: i64, P = 56.

pub(crate) struct Fast {
    consts: Consts<i64>,
    /// 2^e mod 2π (e = 0..=104) and 2π, as u128 intervals with 100 fraction bits.
    mod_table: Vec<(u128, u128)>,
    two_pi: (u128, u128),
}

const FAST_P: u32 = 56;
const REDUCE_P: u32 = 100;

fn to_i64(v: &BigInt) -> i64 {
    v.to_i64().expect("a fast-level constant fits in i64")
}

fn to_u128(v: &BigInt) -> u128 {
    v.to_u128().expect("a reduction constant fits in u128")
}

impl Fast {
    pub fn new() -> Fast {
        let big = big_consts(FAST_P);
        let iv = |v: &Iv<BigInt>| Iv {
            lo: to_i64(&v.lo),
            hi: to_i64(&v.hi),
        };
        let ivs = |v: &Vec<Iv<BigInt>>| v.iter().map(iv).collect::<Vec<_>>();
        let consts = Consts {
            ln2: iv(&big.ln2),
            half_pi: iv(&big.half_pi),
            two_over_sqrt_pi: iv(&big.two_over_sqrt_pi),
            inv_fact: ivs(&big.inv_fact),
            exp_terms: big.exp_terms,
            exp_rem: to_i64(&big.exp_rem),
            s_terms: big.s_terms,
            s_rem: to_i64(&big.s_rem),
            log1p_terms: big.log1p_terms,
            log1p_rem: to_i64(&big.log1p_rem),
            logt_terms: big.logt_terms,
            logt_rem: to_i64(&big.logt_rem),
            log_coeffs: ivs(&big.log_coeffs),
            sin_coeffs: ivs(&big.sin_coeffs),
            cos_coeffs: ivs(&big.cos_coeffs),
            sin_terms: big.sin_terms,
            sin_rem: to_i64(&big.sin_rem),
            cos_terms: big.cos_terms,
            cos_rem: to_i64(&big.cos_rem),
            erf_taylor: ivs(&big.erf_taylor),
            erf_taylor_rem: to_i64(&big.erf_taylor_rem),
            erf_centers: big
                .erf_centers
                .iter()
                .map(|(value, coeffs)| (iv(value), ivs(coeffs)))
                .collect(),
            erf_center_rem: to_i64(&big.erf_center_rem),
        };
        let (table, two_pi) = powers_mod_two_pi(REDUCE_P);
        Fast {
            consts,
            mod_table: table
                .iter()
                .map(|(lo, hi)| (to_u128(lo), to_u128(hi)))
                .collect(),
            two_pi: (to_u128(&two_pi.0), to_u128(&two_pi.1)),
        }
    }
}

/// ⌊n/2^s⌋ or ⌈n/2^s⌉ for an i128 and 0 ≤ s < 128.
#[inline]
fn shift_i128(n: i128, s: u32, up: bool) -> i128 {
    if up {
        -((-n) >> s)
    } else {
        n >> s
    }
}

impl Level for Fast {
    type V = i64;
    fn prec(&self) -> u32 {
        FAST_P
    }
    fn consts(&self) -> &Consts<i64> {
        &self.consts
    }
    fn int(&self, n: i64) -> i64 {
        n << FAST_P
    }
    fn dyadic(&self, m: i64, e: i64) -> Iv<i64> {
        let s = e + FAST_P as i64;
        if s >= 0 {
            let v = m << s;
            return Iv { lo: v, hi: v };
        }
        if s <= -64 {
            return if m >= 0 {
                Iv { lo: 0, hi: 1 }
            } else {
                Iv { lo: -1, hi: 0 }
            };
        }
        let lo = m >> (-s);
        let hi = -((-m) >> (-s));
        Iv { lo, hi }
    }
    #[inline]
    fn add(&self, a: &i64, b: &i64) -> i64 {
        a + b
    }
    #[inline]
    fn sub(&self, a: &i64, b: &i64) -> i64 {
        a - b
    }
    #[inline]
    fn neg(&self, a: &i64) -> i64 {
        -a
    }
    #[inline]
    fn mul_int(&self, a: &i64, n: i64) -> i64 {
        a * n
    }
    #[inline]
    fn mul(&self, a: &i64, b: &i64, up: bool) -> i64 {
        shift_i128(*a as i128 * *b as i128, FAST_P, up) as i64
    }
    #[inline]
    fn div(&self, a: &i64, b: &i64, up: bool) -> i64 {
        let n = (*a as i128) << FAST_P;
        let d = *b as i128;
        if up {
            -((-n).div_euclid(d)) as i64
        } else {
            n.div_euclid(d) as i64
        }
    }
    #[inline]
    fn shift(&self, a: &i64, s: i64, up: bool) -> i64 {
        if s < 0 {
            return a << (-s);
        }
        if s >= 63 {
            return if up {
                (*a > 0) as i64
            } else {
                -((*a < 0) as i64)
            };
        }
        if up {
            -((-a) >> s)
        } else {
            a >> s
        }
    }
    #[inline]
    fn is_negative(&self, a: &i64) -> bool {
        *a < 0
    }
    #[inline]
    fn is_positive(&self, a: &i64) -> bool {
        *a > 0
    }
    #[inline]
    fn ilog2(&self, a: &i64) -> i64 {
        63 - a.leading_zeros() as i64
    }
    #[inline]
    fn floor_shift(&self, a: &i64, s: i64) -> Option<(u64, bool)> {
        if s >= 63 {
            return Some((0, false));
        }
        let q = a >> s;
        Some((q as u64, q << s == *a))
    }
    fn to_f64(&self, a: &i64) -> f64 {
        *a as f64 / (1u64 << FAST_P) as f64
    }
    fn reduce_two_pi(&self, m: u64, e: i32) -> Iv<i64> {
        // |x|·2^100 as an interval: exact for e ≥ −100; m·(2^e mod 2π) for e ≥ 0.
        let (lo, hi) = if e >= 0 {
            let (t_lo, t_hi) = self.mod_table[e as usize];
            (m as u128 * t_lo, m as u128 * t_hi)
        } else {
            let v = (m as u128) << (REDUCE_P as i32 + e);
            (v, v)
        };
        // q = ⌊lo/2π_hi⌋ from a binary64 estimate (off by at most one, then corrected).
        let mut q = (lo as f64 / self.two_pi.1 as f64) as u128;
        while q * self.two_pi.1 > lo {
            q -= 1;
        }
        while (q + 1) * self.two_pi.1 <= lo {
            q += 1;
        }
        let y_lo = lo - q * self.two_pi.1;
        let y_hi = hi - q * self.two_pi.0;
        let s = REDUCE_P - FAST_P;
        Iv {
            lo: (y_lo >> s) as i64,
            hi: ((y_hi >> s) + (y_hi & ((1 << s) - 1) != 0) as u128) as i64,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Level Big: BigInt, any P.

pub(crate) struct Big {
    p: u32,
    consts: Consts<BigInt>,
    mod_table: Vec<(BigInt, BigInt)>,
    two_pi: (BigInt, BigInt),
}

impl Big {
    pub fn new(p: u32) -> Big {
        let (mod_table, two_pi) = powers_mod_two_pi(p + 64);
        Big {
            p,
            consts: big_consts(p),
            mod_table,
            two_pi,
        }
    }
}

fn floor_shift_big(a: &BigInt, s: i64) -> BigInt {
    if s >= 0 {
        a >> s as usize
    } else {
        a << (-s) as usize
    }
}

impl Level for Big {
    type V = BigInt;
    fn prec(&self) -> u32 {
        self.p
    }
    fn consts(&self) -> &Consts<BigInt> {
        &self.consts
    }
    fn int(&self, n: i64) -> BigInt {
        BigInt::from(n) << self.p as usize
    }
    fn dyadic(&self, m: i64, e: i64) -> Iv<BigInt> {
        let s = e + self.p as i64;
        let m = BigInt::from(m);
        if s >= 0 {
            let v = m << s as usize;
            return Iv {
                lo: v.clone(),
                hi: v,
            };
        }
        Iv {
            lo: floor_shift_big(&m, -s),
            hi: -floor_shift_big(&-m, -s),
        }
    }
    fn add(&self, a: &BigInt, b: &BigInt) -> BigInt {
        a + b
    }
    fn sub(&self, a: &BigInt, b: &BigInt) -> BigInt {
        a - b
    }
    fn neg(&self, a: &BigInt) -> BigInt {
        -a
    }
    fn mul_int(&self, a: &BigInt, n: i64) -> BigInt {
        a * n
    }
    fn mul(&self, a: &BigInt, b: &BigInt, up: bool) -> BigInt {
        let product = a * b;
        if up {
            -((-product) >> self.p as usize)
        } else {
            product >> self.p as usize
        }
    }
    fn div(&self, a: &BigInt, b: &BigInt, up: bool) -> BigInt {
        let n = a << self.p as usize;
        if up {
            -((-n).div_floor(b))
        } else {
            n.div_floor(b)
        }
    }
    fn shift(&self, a: &BigInt, s: i64, up: bool) -> BigInt {
        if s < 0 {
            return a << (-s) as usize;
        }
        if up {
            -floor_shift_big(&-a, s)
        } else {
            floor_shift_big(a, s)
        }
    }
    fn is_negative(&self, a: &BigInt) -> bool {
        a.is_negative()
    }
    fn is_positive(&self, a: &BigInt) -> bool {
        a.is_positive()
    }
    fn ilog2(&self, a: &BigInt) -> i64 {
        a.bits() as i64 - 1
    }
    fn floor_shift(&self, a: &BigInt, s: i64) -> Option<(u64, bool)> {
        let q = floor_shift_big(a, s);
        let exact = floor_shift_big(&q, -s) == *a;
        q.to_u64().map(|q| (q, exact))
    }
    fn to_f64(&self, a: &BigInt) -> f64 {
        let bits = a.bits() as i64;
        let drop = (bits - 60).max(0);
        let top = floor_shift_big(a, drop).to_f64().unwrap_or(0.0);
        top * 2f64.powi((drop - self.p as i64) as i32)
    }
    fn reduce_two_pi(&self, m: u64, e: i32) -> Iv<BigInt> {
        let q_bits = self.p as i64 + 64;
        let m = BigInt::from(m);
        let (lo, hi) = if e >= 0 {
            let (t_lo, t_hi) = &self.mod_table[e as usize];
            (&m * t_lo, &m * t_hi)
        } else {
            let v = floor_shift_big(&m, -(q_bits + e as i64));
            (v.clone(), v)
        };
        let k = &lo / &self.two_pi.1;
        let y_lo = &lo - &k * &self.two_pi.1;
        let y_hi = &hi - &k * &self.two_pi.0;
        Iv {
            lo: y_lo >> 64usize,
            hi: -((-y_hi) >> 64usize),
        }
    }
}
