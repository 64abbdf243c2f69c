//! Enclosures of the nine functions at one precision level, by interval arithmetic
//! (`fixed.rs`), Taylor series with explicit remainder bounds, and, in the asymptotic ranges,
//! elementary inequalities (stated at each rule).

use super::fixed::{Iv, Level};
use super::Function;

/// |f(x)| ∈ 2^k·[lo, hi]·2^-P (ends excluded where `*_open`), with f(x) negative when `neg`.
#[derive(Clone, Debug)]
pub(crate) struct Encl<V> {
    pub neg: bool,
    pub k: i64,
    pub lo: V,
    pub hi: V,
    pub lo_open: bool,
    pub hi_open: bool,
}

/// What one level found.
pub(crate) enum Found<V> {
    Encl(Encl<V>),
    /// 0 < f(x) < 2^-151.
    TinyPositive,
    /// |f(x)| ≥ 2^128.
    Overflow {
        neg: bool,
    },
}

/// A finite nonzero input: |x| = 2^k·Y with Y = m·2^-23 in [1, 2) (m normalized to 24 bits),
/// and the raw significand and exponent (|x| = raw_m·2^raw_e).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Arg {
    pub neg: bool,
    pub k: i64,
    pub m: u64,
    pub raw_m: u64,
    pub raw_e: i32,
    pub abs_bits: u32,
}

impl Arg {
    pub fn new(bits: u32) -> Arg {
        let abs_bits = bits & 0x7fff_ffff;
        let field = abs_bits >> 23;
        let (raw_m, raw_e) = if field == 0 {
            ((abs_bits & 0x7f_ffff) as u64, -149)
        } else {
            (
                ((abs_bits & 0x7f_ffff) | 0x80_0000) as u64,
                field as i32 - 150,
            )
        };
        let shift = raw_m.leading_zeros() as i64 - 40;
        Arg {
            neg: bits >> 31 == 1,
            k: raw_e as i64 - shift + 23,
            m: raw_m << shift,
            raw_m,
            raw_e,
            abs_bits,
        }
    }
}

/// Thresholds on |x| as binary32 bits.
pub(crate) const TWO_M40: u32 = 0x2b80_0000;
const TWO_M8: u32 = 0x3b80_0000;
const TWO_M13: u32 = 0x3900_0000;
const HALF: u32 = 0x3f00_0000;
const ONE: u32 = 0x3f80_0000;
const FOUR_HALF: u32 = 0x4090_0000;
const TEN: u32 = 0x4120_0000;
const TWENTY: u32 = 0x41a0_0000;
const FORTY: u32 = 0x4220_0000;
const EIGHTY_NINE: u32 = 0x42b2_0000;
const ONE_TEN: u32 = 0x42dc_0000;

// ---------------------------------------------------------------------------------------------
// Interval helpers.

fn point<V: Clone>(v: V) -> Iv<V> {
    Iv {
        lo: v.clone(),
        hi: v,
    }
}

fn add<L: Level>(l: &L, a: &Iv<L::V>, b: &Iv<L::V>) -> Iv<L::V> {
    Iv {
        lo: l.add(&a.lo, &b.lo),
        hi: l.add(&a.hi, &b.hi),
    }
}

fn sub<L: Level>(l: &L, a: &Iv<L::V>, b: &Iv<L::V>) -> Iv<L::V> {
    Iv {
        lo: l.sub(&a.lo, &b.hi),
        hi: l.sub(&a.hi, &b.lo),
    }
}

fn neg<L: Level>(l: &L, a: &Iv<L::V>) -> Iv<L::V> {
    Iv {
        lo: l.neg(&a.hi),
        hi: l.neg(&a.lo),
    }
}

/// [a.lo − r, a.hi + r].
fn widen<L: Level>(l: &L, a: &Iv<L::V>, r: &L::V) -> Iv<L::V> {
    Iv {
        lo: l.sub(&a.lo, r),
        hi: l.add(&a.hi, r),
    }
}

/// Product when both intervals are ≥ 0.
fn mul_pos<L: Level>(l: &L, a: &Iv<L::V>, b: &Iv<L::V>) -> Iv<L::V> {
    Iv {
        lo: l.mul(&a.lo, &b.lo, false),
        hi: l.mul(&a.hi, &b.hi, true),
    }
}

/// Product when `b` ≥ 0 (a of any sign).
fn mul_by_nonneg<L: Level>(l: &L, a: &Iv<L::V>, b: &Iv<L::V>) -> Iv<L::V> {
    let lo = if l.is_negative(&a.lo) {
        l.mul(&a.lo, &b.hi, false)
    } else {
        l.mul(&a.lo, &b.lo, false)
    };
    let hi = if l.is_negative(&a.hi) {
        l.mul(&a.hi, &b.lo, true)
    } else {
        l.mul(&a.hi, &b.hi, true)
    };
    Iv { lo, hi }
}

/// General product: the extremes of the four corner products.
fn mul<L: Level>(l: &L, a: &Iv<L::V>, b: &Iv<L::V>) -> Iv<L::V> {
    if !l.is_negative(&b.lo) {
        return mul_by_nonneg(l, a, b);
    }
    if !l.is_negative(&a.lo) {
        return mul_by_nonneg(l, b, a);
    }
    let corners = [
        (&a.lo, &b.lo),
        (&a.lo, &b.hi),
        (&a.hi, &b.lo),
        (&a.hi, &b.hi),
    ];
    let lo = corners
        .iter()
        .map(|(x, y)| l.mul(x, y, false))
        .min()
        .expect("four corners");
    let hi = corners
        .iter()
        .map(|(x, y)| l.mul(x, y, true))
        .max()
        .expect("four corners");
    Iv { lo, hi }
}

/// a² (tighter than `mul(a, a)` when a contains 0).
fn square<L: Level>(l: &L, a: &Iv<L::V>) -> Iv<L::V> {
    if !l.is_negative(&a.lo) {
        return mul_pos(l, a, a);
    }
    if l.is_negative(&a.hi) {
        let m = neg(l, a);
        return mul_pos(l, &m, &m);
    }
    let big = if l.neg(&a.lo) > a.hi {
        l.neg(&a.lo)
    } else {
        a.hi.clone()
    };
    Iv {
        lo: l.int(0),
        hi: l.mul(&big, &big, true),
    }
}

/// a / b for b > 0.
fn div_pos<L: Level>(l: &L, a: &Iv<L::V>, b: &Iv<L::V>) -> Option<Iv<L::V>> {
    if !l.is_positive(&b.lo) {
        return None;
    }
    let lo = if l.is_negative(&a.lo) {
        l.div(&a.lo, &b.lo, false)
    } else {
        l.div(&a.lo, &b.hi, false)
    };
    let hi = if l.is_negative(&a.hi) {
        l.div(&a.hi, &b.hi, true)
    } else {
        l.div(&a.hi, &b.lo, true)
    };
    Some(Iv { lo, hi })
}

/// a·2^-s.
fn shift<L: Level>(l: &L, a: &Iv<L::V>, s: i64) -> Iv<L::V> {
    Iv {
        lo: l.shift(&a.lo, s, false),
        hi: l.shift(&a.hi, s, true),
    }
}

fn int<L: Level>(l: &L, n: i64) -> Iv<L::V> {
    point(l.int(n))
}

/// Horner's rule Σ c_i z^i over coefficient intervals, for z ≥ 0 (coefficients of any sign), or
/// any z with the general product.
fn horner<L: Level>(l: &L, z: &Iv<L::V>, coeffs: &[Iv<L::V>], z_nonneg: bool) -> Iv<L::V> {
    let (last, rest) = coeffs.split_last().expect("nonempty coefficients");
    let mut acc = last.clone();
    for c in rest.iter().rev() {
        let product = if z_nonneg {
            mul_by_nonneg(l, &acc, z)
        } else {
            mul(l, &acc, z)
        };
        acc = add(l, &product, c);
    }
    acc
}

fn negated<L: Level>(l: &L, c: &Iv<L::V>, negate: bool) -> Iv<L::V> {
    if negate {
        neg(l, c)
    } else {
        c.clone()
    }
}

// ---------------------------------------------------------------------------------------------
// Building blocks.

/// e^r for 0 ≤ r ≤ 7/10: Σ_{n<N} r^n/n! + [0, 3·0.7^N/N!].
fn exp_taylor<L: Level>(l: &L, r: &Iv<L::V>) -> Iv<L::V> {
    let c = l.consts();
    let sum = horner(l, r, &c.inv_fact[..c.exp_terms], true);
    Iv {
        lo: sum.lo,
        hi: l.add(&sum.hi, &c.exp_rem),
    }
}

/// e^x = 2^j·E with E in [1, 2.02]: j = ⌊x/ln2⌋ (corrected until 0 ≤ x − j·ln2 ≤ 0.7).
fn exp_scaled<L: Level>(l: &L, x: &Iv<L::V>) -> Option<(i64, Iv<L::V>)> {
    let c = l.consts();
    let mut j = (l.to_f64(&x.lo) / std::f64::consts::LN_2).floor() as i64;
    let seven_tenths = l.div(&l.int(7), &l.int(10), false);
    for _ in 0..4 {
        let j_ln2 = if j >= 0 {
            Iv {
                lo: l.mul_int(&c.ln2.lo, j),
                hi: l.mul_int(&c.ln2.hi, j),
            }
        } else {
            Iv {
                lo: l.mul_int(&c.ln2.hi, j),
                hi: l.mul_int(&c.ln2.lo, j),
            }
        };
        let r = sub(l, x, &j_ln2);
        if l.is_negative(&r.lo) {
            j -= 1;
        } else if r.hi > seven_tenths {
            j += 1;
        } else {
            return Some((j, exp_taylor(l, &r)));
        }
    }
    None
}

/// S(z) = (e^z − 1)/z = Σ z^n/(n+1)! for |z| ≤ 1 (so that Horner's rule does not amplify the
/// coefficients' rounding), with its remainder (bounded for |z| ≤ 2).
fn s_series<L: Level>(l: &L, z: &Iv<L::V>, z_nonneg: bool) -> Iv<L::V> {
    let c = l.consts();
    let sum = horner(l, z, &c.inv_fact[1..c.s_terms + 1], z_nonneg);
    widen(l, &sum, &c.s_rem)
}

/// Σ (−1)^n t^n/(n+1) for |t| within the series' bound (log1p(t)/t).
fn log1p_over_t<L: Level>(l: &L, t: &Iv<L::V>, terms: usize, rem: &L::V) -> Iv<L::V> {
    let c = l.consts();
    widen(l, &horner(l, t, &c.log_coeffs[..terms], false), rem)
}

/// ln(2^j·u) for u > 0 (a signed interval). u is brought into [1, 2), then to [0.75, 1.5]; with
/// a guess g ≈ ln u (any g with 50 fraction bits works; binary64 `ln` is only a guess),
/// ln u = g + ln(1 + t), t = u·e^(−g) − 1, |t| ≤ 2^-20 (else this level gives up).
fn log_scaled<L: Level>(l: &L, mut j: i64, mut u: Iv<L::V>) -> Option<Iv<L::V>> {
    let c = l.consts();
    if !l.is_positive(&u.lo) {
        return None;
    }
    let p = l.prec() as i64;
    let s = l.ilog2(&u.lo) - p;
    if s != 0 {
        u = shift(l, &u, s);
        j += s;
    }
    if u.lo > l.dyadic(3, -1).lo {
        u = shift(l, &u, 1);
        j += 1;
    }
    let guess = l.to_f64(&u.lo).ln();
    let g = (guess * (1u64 << 50) as f64).round() as i64;
    let g_iv = l.dyadic(g.abs(), -50);
    let e = exp_taylor(l, &g_iv);
    let scaled = if g >= 0 {
        div_pos(l, &u, &e)?
    } else {
        mul_pos(l, &u, &e)
    };
    let t = sub(l, &scaled, &int(l, 1));
    let bound = l.dyadic(1, -20).lo;
    if t.hi > bound || l.neg(&t.lo) > bound {
        return None;
    }
    let q = log1p_over_t(l, &t, c.logt_terms, &c.logt_rem);
    let log_u = add(l, &negated(l, &g_iv, g < 0), &mul(l, &t, &q));
    let j_ln2 = if j >= 0 {
        Iv {
            lo: l.mul_int(&c.ln2.lo, j),
            hi: l.mul_int(&c.ln2.hi, j),
        }
    } else {
        Iv {
            lo: l.mul_int(&c.ln2.hi, j),
            hi: l.mul_int(&c.ln2.lo, j),
        }
    };
    Some(add(l, &j_ln2, &log_u))
}

/// A signed interval as an enclosure of a magnitude with a sign (`flip` negates it); `None`
/// when it contains 0.
fn signed<L: Level>(l: &L, flip: bool, k: i64, v: Iv<L::V>) -> Option<Found<L::V>> {
    let (neg, lo, hi) = if l.is_positive(&v.lo) {
        (false, v.lo, v.hi)
    } else if l.is_negative(&v.hi) {
        (true, l.neg(&v.hi), l.neg(&v.lo))
    } else {
        return None;
    };
    Some(Found::Encl(Encl {
        neg: neg != flip,
        k,
        lo,
        hi,
        lo_open: false,
        hi_open: false,
    }))
}

/// 2^k·[lo, hi] of the given sign, closed.
fn closed<V>(neg: bool, k: i64, v: Iv<V>) -> Option<Found<V>> {
    Some(Found::Encl(Encl {
        neg,
        k,
        lo: v.lo,
        hi: v.hi,
        lo_open: false,
        hi_open: false,
    }))
}

/// The magnitude lies in (a, a + 2^-d] (`above`) or [a − 2^-d, a) (below), a = anchor·2^-P.
fn beside<L: Level>(
    l: &L,
    neg: bool,
    k: i64,
    anchor: L::V,
    d: i64,
    above: bool,
) -> Option<Found<L::V>> {
    let step = l.dyadic(1, -d);
    let (lo, hi) = if above {
        (anchor.clone(), l.add(&anchor, &step.hi))
    } else {
        (l.sub(&anchor, &step.hi), anchor)
    };
    Some(Found::Encl(Encl {
        neg,
        k,
        lo,
        hi,
        lo_open: above,
        hi_open: !above,
    }))
}

// ---------------------------------------------------------------------------------------------
// The functions.

/// The enclosure of f(x) for a finite nonzero x in f's domain (the caller settles specials and
/// the domain), or `None` when this level's precision does not suffice.
pub(crate) fn enclose<L: Level>(l: &L, f: Function, x: Arg) -> Option<Found<L::V>> {
    let a = x.abs_bits;
    let y = l.dyadic(x.m as i64, -23); // Y in [1, 2), exact
    let tiny = a < TWO_M40;
    // |x| as a fixed-point interval (exact unless very small).
    let abs_x = || l.dyadic(x.m as i64, x.k - 23);
    let signed_x = || negated(l, &abs_x(), x.neg);
    let one = || l.int(1);
    match f {
        Function::Exp => {
            if tiny {
                // |e^x − 1| ≤ 2|x| < 2^-39.
                return beside(l, false, 0, one(), 39, !x.neg);
            }
            if !x.neg && a >= EIGHTY_NINE {
                return Some(Found::Overflow { neg: false }); // e^89 > 2^128
            }
            if x.neg && a >= ONE_TEN {
                return Some(Found::TinyPositive); // e^-110 < 2^-158
            }
            let (j, e) = exp_scaled(l, &signed_x())?;
            closed(false, j, e)
        }
        Function::Expm1 => {
            if tiny {
                // x < expm1(x) < x + x² (x > 0); x < expm1(x) < x + x²/2 (x < 0); x² < 2^-40·|x|.
                return beside(l, x.neg, x.k, y.lo, 39, !x.neg);
            }
            if !x.neg && a >= EIGHTY_NINE {
                return Some(Found::Overflow { neg: false });
            }
            if x.neg && a >= FORTY {
                // −1 < expm1(x) < −1 + e^-40, e^-40 < 2^-57.
                return beside(l, true, 0, one(), 57, false);
            }
            if a < ONE {
                let s = s_series(l, &signed_x(), !x.neg);
                return closed(x.neg, x.k, mul_pos(l, &y, &s));
            }
            let (j, e) = exp_scaled(l, &signed_x())?;
            if !x.neg {
                // e^x − 1 = 2^j·(E − 2^-j).
                closed(false, j, sub(l, &e, &l.dyadic(1, -j)))
            } else {
                // 1 − 2^j·E.
                closed(true, 0, sub(l, &int(l, 1), &shift(l, &e, -j)))
            }
        }
        Function::Log => signed(l, false, 0, log_scaled(l, x.k, y)?),
        Function::Log1p => {
            if tiny {
                // x > 0: x − x²/2 < log1p x < x; x < 0: |x| < |log1p x| < |x| + x².
                return beside(l, x.neg, x.k, y.lo, 39, x.neg);
            }
            if a < TWO_M8 {
                let c = l.consts();
                let q = log1p_over_t(l, &signed_x(), c.log1p_terms, &c.log1p_rem);
                return closed(x.neg, x.k, mul_pos(l, &y, &q));
            }
            let u = if x.neg {
                sub(l, &int(l, 1), &abs_x())
            } else if x.k >= 1 {
                // 1 + x = 2^k·(Y + 2^-k).
                return signed(
                    l,
                    false,
                    0,
                    log_scaled(l, x.k, add(l, &y, &l.dyadic(1, -x.k)))?,
                );
            } else {
                add(l, &int(l, 1), &abs_x())
            };
            signed(l, false, 0, log_scaled(l, 0, u)?)
        }
        Function::Tanh => {
            if a < TWO_M13 {
                // |x| − |x|³/3 < |tanh x| < |x|, and Y·x²/3 < 2^-26.
                return beside(l, x.neg, x.k, y.lo, 26, false);
            }
            if a >= TEN {
                // 1 − |tanh x| = 2/(e^(2|x|) + 1) < 2e^-20 < 2^-27.
                return beside(l, x.neg, 0, one(), 27, false);
            }
            if a < HALF {
                // tanh|x| = |x|S/(|x|S + 1) with S = S(2|x|): expm1(2|x|) = 2|x|·S (2|x| < 1, so
                // Horner's rule does not amplify the coefficients' rounding).
                let two_x = l.dyadic(x.m as i64, x.k - 22);
                let s = s_series(l, &two_x, true);
                let num = mul_pos(l, &y, &s);
                let den = add(l, &int(l, 1), &mul_pos(l, &abs_x(), &s));
                return closed(x.neg, x.k, div_pos(l, &num, &den)?);
            }
            // 1 − 2^(1−j)/(E + 2^-j) with e^(2|x|) = 2^j·E.
            let (j, e) = exp_scaled(l, &l.dyadic(x.m as i64, x.k - 22))?;
            let den = add(l, &e, &l.dyadic(1, -j));
            let q = div_pos(l, &l.dyadic(1, 1 - j), &den)?;
            closed(x.neg, 0, sub(l, &int(l, 1), &q))
        }
        Function::Sigmoid => {
            if tiny {
                // |σ(x) − ½| ≤ |x|/4 < 2^-42.
                return beside(l, false, 0, l.dyadic(1, -1).lo, 42, !x.neg);
            }
            if !x.neg && a >= TWENTY {
                // 1 − σ(x) < e^-x ≤ e^-20 < 2^-28.
                return beside(l, false, 0, one(), 28, false);
            }
            if x.neg && a >= ONE_TEN {
                return Some(Found::TinyPositive); // σ(x) < e^x < 2^-158
            }
            let (j, e) = exp_scaled(l, &signed_x())?;
            if !x.neg {
                // σ(x) = 1/(1 + e^-x), e^-x = 2^-j/E.
                let inv = div_pos(l, &l.dyadic(1, -j), &e)?;
                let den = add(l, &int(l, 1), &inv);
                closed(false, 0, div_pos(l, &int(l, 1), &den)?)
            } else {
                // σ(x) = e^x/(1 + e^x), e^x = 2^j·E with j < 0.
                let den = add(l, &int(l, 1), &shift(l, &e, -j));
                closed(false, j, div_pos(l, &e, &den)?)
            }
        }
        Function::Erf => {
            if a >= FOUR_HALF {
                // 1 − |erf x| = erfc|x| < e^(−x²)/(|x|√π) < 2^-32.
                return beside(l, x.neg, 0, one(), 30, false);
            }
            let c = l.consts();
            let ax = abs_x();
            let x2 = mul_pos(l, &ax, &ax);
            if a < ONE {
                let q = horner(l, &x2, &c.erf_taylor, true);
                let q = widen(l, &q, &c.erf_taylor_rem);
                let v = mul_pos(l, &mul_pos(l, &c.two_over_sqrt_pi, &y), &q);
                return closed(x.neg, x.k, v);
            }
            // Taylor expansion at the nearest center c = 1 + i/8: erf(c) + Σ b_n h^n, |h| ≤ 1/16.
            let i = ((l.to_f64(&ax.lo) - 1.0) * 8.0).round().clamp(0.0, 28.0) as i64;
            let h = sub(l, &ax, &l.dyadic(8 + i, -3));
            let (value, coeffs) = &c.erf_centers[i as usize];
            let series = widen(
                l,
                &mul(l, &h, &horner(l, &h, coeffs, false)),
                &c.erf_center_rem,
            );
            closed(x.neg, 0, add(l, value, &series))
        }
        Function::Sin | Function::Cos => {
            let is_sin = f == Function::Sin;
            let c = l.consts();
            if a < TWO_M13 {
                // |x| − |x|³/6 < |sin x| < |x| with Y·x²/6 < 2^-26;  1 − x²/2 < cos x < 1 with
                // x²/2 < 2^-27.
                return if is_sin {
                    beside(l, x.neg, x.k, y.lo, 26, false)
                } else {
                    beside(l, false, 0, one(), 27, false)
                };
            }
            // sin r = r·Σ(−1)^n r^(2n)/(2n+1)!, cos r = Σ(−1)^n r^(2n)/(2n)!, |r| ≤ 1.
            let sin_over =
                |r2: &Iv<L::V>| widen(l, &horner(l, r2, &c.sin_coeffs, true), &c.sin_rem);
            let cos_of = |r2: &Iv<L::V>| widen(l, &horner(l, r2, &c.cos_coeffs, true), &c.cos_rem);
            if a < ONE {
                let ax = abs_x();
                let x2 = mul_pos(l, &ax, &ax);
                return if is_sin {
                    closed(x.neg, x.k, mul_by_nonneg(l, &sin_over(&x2), &y))
                } else {
                    signed(l, false, 0, cos_of(&x2))
                };
            }
            let reduced = l.reduce_two_pi(x.raw_m, x.raw_e);
            let q = (l.to_f64(&reduced.lo) / std::f64::consts::FRAC_PI_2).round() as i64;
            let q_half_pi = Iv {
                lo: l.mul_int(&c.half_pi.lo, q),
                hi: l.mul_int(&c.half_pi.hi, q),
            };
            let r = sub(l, &reduced, &q_half_pi);
            let r2 = square(l, &r);
            let quadrant = q.rem_euclid(4);
            // Only the one of sin r, cos r that the quadrant needs.
            let use_sin = matches!((is_sin, quadrant), (true, 0 | 2) | (false, 1 | 3));
            let v = if use_sin {
                mul(l, &r, &sin_over(&r2))
            } else {
                cos_of(&r2)
            };
            let v = match (is_sin, quadrant) {
                (true, 0 | 1) | (false, 0 | 3) => v,
                _ => neg(l, &v),
            };
            signed(l, is_sin && x.neg, 0, v)
        }
    }
}
