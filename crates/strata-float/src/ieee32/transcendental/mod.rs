//! Correctly rounded elementary functions on `Ieee32`: exp, expm1, log, log1p, tanh, sigmoid, erf,
//! sin, cos. Each result is the exact real function value rounded once in the environment's mode,
//! with the IEEE flags that rounding implies (inexact always, as no finite nonzero input has a
//! representable image except the exact cases named below; underflow and overflow as for any
//! rounded result; invalid and divide-by-zero at the poles and outside the domain).
//!
//! Method (Ziv's strategy, as in CRlibm and CORE-MATH):
//! 1. special inputs and the *asymptotic* ranges, where the exact value is known to lie strictly
//!    between a representable number `M` and the next rounding boundary (e.g. e^x for |x| < 2^-30
//!    lies strictly between 1 and 1 ± 2^-25): the result is rounded from `M` jammed one tiny step
//!    to the correct side;
//! 2. a fast path in hardware binary64 (`+ − × ÷` only, no libm, no FMA: the same bits on every
//!    platform) whose relative error is below 2^-45; if the approximation widened by that bound
//!    lies inside one half-ulp cell of the binary32 grid (the *rounding test*), it rounds like the
//!    exact value in every mode, and is rounded (with a sticky bit) through the same `round_pack`
//!    as the arithmetic;
//! 3. otherwise the same formulas in double-double (relative error below 2^-90), with the same
//!    rounding test.
//!
//! The error bounds come from the truncation bounds of the series (stated at each kernel) and
//! the rounding errors of binary64 / double-double arithmetic; they are not machine-checked
//! proofs. What proves the results is the independent oracle (`crate::oracle`, exact interval
//! arithmetic over integers): `strata float check-exhaustive` compares every one of the 2^32
//! inputs in all five modes, and the tests compare ≥ 10^5 inputs per function and mode.
//!
//! Exact cases: exp(0) = 1, expm1(±0) = ±0, log(1) = +0, log1p(±0) = ±0, tanh(±0) = ±0,
//! sigmoid(±0) = ½, erf(±0) = ±0, sin(±0) = ±0, cos(±0) = 1, and the limits at ±∞ (e.g.
//! exp(−∞) = +0, tanh(±∞) = ±1); every other finite input gives an irrational value
//! (Lindemann–Weierstrass for exp, log, sin, cos, tanh, sigmoid; for erf the exhaustive check
//! shows no binary32 image is exactly representable).

mod dd;
mod reduce;

use super::round::{overflow, round_pack};
use super::Ieee32;
use crate::env::{Flagged, Flags, FpEnv};
use dd::{pow2, Dd};

/// Where the exact value lies relative to a representable magnitude it is known to be close to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Above,
    Below,
}

/// The rounded result for a value whose magnitude lies strictly beside `sig·2^exp`, closer than a
/// quarter of an ulp (so inside the half-ulp cell adjacent to it, on the grid with unbounded
/// exponent too): the magnitude jammed by one unit far below the rounding position.
fn beside(negative: bool, exp: i32, sig: u64, side: Side, env: FpEnv) -> Flagged<Ieee32> {
    let shift = sig.leading_zeros() as i32 - 1;
    let (exp, sig) = (exp - shift, sig << shift);
    let jammed = match side {
        Side::Above => sig | 1,
        Side::Below => sig - 1,
    };
    round_pack(negative, exp, jammed, env)
}

/// `beside` for the value 1 (as `2^62 · 2^-62`), and for ½.
fn beside_one(negative: bool, side: Side, env: FpEnv) -> Flagged<Ieee32> {
    beside(negative, -62, 1 << 62, side, env)
}

/// A positive value far below the smallest subnormal's half (but not zero).
fn tiny_positive(env: FpEnv) -> Flagged<Ieee32> {
    beside(false, -220, 1, Side::Above, env)
}

/// The exact binary64 value of a finite binary32.
fn to_f64(x: Ieee32) -> f64 {
    if x.is_zero() {
        return if x.is_sign_negative() { -0.0 } else { 0.0 };
    }
    let (exp, sig) = x.unpack();
    let magnitude = sig as f64 * pow2(exp);
    if x.is_sign_negative() {
        -magnitude
    } else {
        magnitude
    }
}

/// The numbers the kernels compute with: binary64 (fast path) or double-double (slow path).
trait Real: Copy {
    /// The kernels' results are within 2^-EPS_BITS of the exact value, relatively.
    const EPS_BITS: u32;
    /// Series lengths (see the kernels for the truncation bounds they give).
    const EXPM1_SMALL: f64;
    const EXPM1_TERMS: usize;
    const LOG_TERMS: usize;
    const SIN_TERMS: usize;
    const COS_TERMS: usize;
    const ERF_TAYLOR_TERMS: usize;
    /// Terms of erf's positive series for |x| below 1, 2, 3, 4.
    const ERF_POSITIVE_TERMS: [usize; 4];

    fn from_f64(x: f64) -> Self;
    fn coef(c: Dd) -> Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn div(self, o: Self) -> Self;
    fn neg(self) -> Self;
    fn mul_pow2(self, k: i32) -> Self;
    fn hi(self) -> f64;
    /// A positive normal value as `(e, sig)` with value sig·2^e, sig's leading one at bit 127.
    fn to_sig(self) -> (i32, u128);
    /// e^x = 2^k·y for an exact binary64 x with |x| ≤ 160.
    fn exp_reduced(x: f64) -> (i32, Self);
    /// The quadrant and reduced argument of `m·2^e` (see `reduce.rs`).
    fn reduce(m: u64, e: i32) -> (u32, Self);
}

const LN2: Dd = Dd::from_bits(0x3fe6_2e42_fefa_39ef, 0x3c7a_bc9e_3b39_803f);
const TWO_OVER_SQRT_PI: Dd = Dd::from_bits(0x3ff2_0dd7_5042_9b6d, 0x3c71_ae3a_914f_ed80);
const SQRT2: f64 = std::f64::consts::SQRT_2;

static INV_FACT: [Dd; 40] = dd::inverse_factorials();
static INV_ODD: [Dd; 24] = dd::inverse_odds();
static ERF_POSITIVE: [Dd; 90] = dd::erf_positive_coefficients();
static ERF_TAYLOR: [Dd; 24] = dd::erf_taylor_coefficients();
/// (−1)^n/(2n+1)! and (−1)^n/(2n)!.
static SIN_COEF: [Dd; 18] = alternate_factorials(1);
static COS_COEF: [Dd; 18] = alternate_factorials(0);

const fn alternate_factorials<const N: usize>(offset: usize) -> [Dd; N] {
    let all: [Dd; 40] = dd::inverse_factorials();
    let mut table = [Dd::from_f64(0.0); N];
    let mut n = 0;
    while n < N {
        let c = all[2 * n + offset];
        table[n] = if n % 2 == 1 { c.neg() } else { c };
        n += 1;
    }
    table
}

/// Σ c_i x^i by Horner's rule.
#[inline(always)]
fn poly<R: Real>(x: R, coeffs: &[Dd]) -> R {
    let (last, rest) = coeffs.split_last().expect("a nonempty coefficient list");
    let mut acc = R::coef(*last);
    for &c in rest.iter().rev() {
        acc = acc.mul(x).add(R::coef(c));
    }
    acc
}

/// 2^(j/32), j = 0..31, correctly rounded to binary64.
const EXP2_TABLE: [u64; 32] = [
    0x3ff0000000000000,
    0x3ff059b0d3158574,
    0x3ff0b5586cf9890f,
    0x3ff11301d0125b51,
    0x3ff172b83c7d517b,
    0x3ff1d4873168b9aa,
    0x3ff2387a6e756238,
    0x3ff29e9df51fdee1,
    0x3ff306fe0a31b715,
    0x3ff371a7373aa9cb,
    0x3ff3dea64c123422,
    0x3ff44e086061892d,
    0x3ff4bfdad5362a27,
    0x3ff5342b569d4f82,
    0x3ff5ab07dd485429,
    0x3ff6247eb03a5585,
    0x3ff6a09e667f3bcd,
    0x3ff71f75e8ec5f74,
    0x3ff7a11473eb0187,
    0x3ff82589994cce13,
    0x3ff8ace5422aa0db,
    0x3ff93737b0cdc5e5,
    0x3ff9c49182a3f090,
    0x3ffa5503b23e255d,
    0x3ffae89f995ad3ad,
    0x3ffb7f76f2fb5e47,
    0x3ffc199bdd85529c,
    0x3ffcb720dcef9069,
    0x3ffd5818dcfba487,
    0x3ffdfc97337b9b5f,
    0x3ffea4afa2a490da,
    0x3fff50765b6e4540,
];

impl Real for f64 {
    const EPS_BITS: u32 = 45;
    // (1/16)^10/11! < 2^-60.
    const EXPM1_SMALL: f64 = 0.0625;
    const EXPM1_TERMS: usize = 10;
    // s² ≤ 0.0295: 0.0295^11/23 < 2^-60.
    const LOG_TERMS: usize = 11;
    // (π/4)^16/17! < 2^-54 and (π/4)^18/18! < 2^-58 (relative to sin r ≥ 0.63·r, cos r ≥ 0.7).
    const SIN_TERMS: usize = 8;
    const COS_TERMS: usize = 9;
    // ¼^12/(12!·25) < 2^-57.
    const ERF_TAYLOR_TERMS: usize = 12;
    const ERF_POSITIVE_TERMS: [usize; 4] = [24, 36, 50, 66];

    #[inline(always)]
    fn from_f64(x: f64) -> f64 {
        x
    }
    #[inline(always)]
    fn coef(c: Dd) -> f64 {
        c.hi
    }
    #[inline(always)]
    fn add(self, o: f64) -> f64 {
        self + o
    }
    #[inline(always)]
    fn sub(self, o: f64) -> f64 {
        self - o
    }
    #[inline(always)]
    fn mul(self, o: f64) -> f64 {
        self * o
    }
    #[inline(always)]
    fn div(self, o: f64) -> f64 {
        self / o
    }
    #[inline(always)]
    fn neg(self) -> f64 {
        -self
    }
    #[inline(always)]
    fn mul_pow2(self, k: i32) -> f64 {
        // Two steps keep each factor a normal binary64 for |k| ≤ 1600.
        let half = k / 2;
        self * pow2(half) * pow2(k - half)
    }
    #[inline(always)]
    fn hi(self) -> f64 {
        self
    }
    #[inline(always)]
    fn to_sig(self) -> (i32, u128) {
        let bits = self.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32 - 1075;
        let m = (bits & ((1 << 52) - 1)) | (1 << 52);
        (exp - 75, (m as u128) << 75)
    }
    /// x = (32k + j)·ln2/32 + r with |r| ≤ ln2/64 (Cody–Waite: N·L_HI is exact, and so is
    /// x − N·L_HI by Sterbenz's lemma); e^x = 2^k · 2^(j/32) · e^r with a degree-6 Taylor
    /// polynomial (truncation < (ln2/64)^7/7! < 2^-58).
    #[inline(always)]
    fn exp_reduced(x: f64) -> (i32, f64) {
        const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5·2^52: adding it rounds to an integer
        const INV_L: f64 = f64::from_bits(0x4047_1547_652b_82fe); // 32/ln2
        const L_HI: f64 = f64::from_bits(0x3f96_2e42_fefa_2000); // ln2/32, 40 bits
        const L_LO: f64 = f64::from_bits(0x3d19_ef35_793c_7673);
        let t = x * INV_L + SHIFT;
        let n = t.to_bits() as u32 as i32;
        let nf = t - SHIFT;
        let r = (x - nf * L_HI) - nf * L_LO;
        let p = poly(r, &INV_FACT[..7]);
        (n >> 5, f64::from_bits(EXP2_TABLE[(n & 31) as usize]) * p)
    }
    #[inline(always)]
    fn reduce(m: u64, e: i32) -> (u32, f64) {
        reduce::reduce_half_pi_fast(m, e)
    }
}

impl Real for Dd {
    const EPS_BITS: u32 = 90;
    // ¼^21/22! < 2^-100.
    const EXPM1_SMALL: f64 = 0.25;
    const EXPM1_TERMS: usize = 22;
    // 0.0295^21/43 < 2^-111.
    const LOG_TERMS: usize = 22;
    // (π/4)^32/33! < 2^-130.
    const SIN_TERMS: usize = 16;
    const COS_TERMS: usize = 16;
    // ¼^22/(22!·45) < 2^-110.
    const ERF_TAYLOR_TERMS: usize = 22;
    const ERF_POSITIVE_TERMS: [usize; 4] = [32, 48, 66, 88];

    fn from_f64(x: f64) -> Dd {
        Dd::from_f64(x)
    }
    fn coef(c: Dd) -> Dd {
        c
    }
    fn add(self, o: Dd) -> Dd {
        Dd::add(self, o)
    }
    fn sub(self, o: Dd) -> Dd {
        Dd::sub(self, o)
    }
    fn mul(self, o: Dd) -> Dd {
        Dd::mul(self, o)
    }
    fn div(self, o: Dd) -> Dd {
        Dd::div(self, o)
    }
    fn neg(self) -> Dd {
        Dd::neg(self)
    }
    fn mul_pow2(self, k: i32) -> Dd {
        let half = k / 2;
        Dd::mul_pow2(Dd::mul_pow2(self, half), k - half)
    }
    fn hi(self) -> f64 {
        self.hi
    }
    fn to_sig(self) -> (i32, u128) {
        let (exp, sig) = self.hi.to_sig();
        // lo in units of 2^exp: |lo| ≤ 2^-53·hi, so it is below 2^75 and fits.
        let lo_units = (self.lo * pow2(-exp)) as i128;
        let sig = (sig as i128 + lo_units) as u128;
        if sig < 1 << 127 {
            (exp - 1, sig << 1)
        } else {
            (exp, sig)
        }
    }
    /// k = round(x/ln2), r = x − k·ln2 in double-double (|r| ≤ 0.35), Taylor to degree 23
    /// (truncation < 0.35^24/24! < 2^-115).
    fn exp_reduced(x: f64) -> (i32, Dd) {
        const SHIFT: f64 = 6_755_399_441_055_744.0;
        let t = x * std::f64::consts::LOG2_E + SHIFT;
        let k = t.to_bits() as u32 as i32;
        let kf = t - SHIFT;
        let r = Dd::from_f64(x).sub(LN2.mul_f64(kf));
        (k, poly(r, &INV_FACT[..24]))
    }
    fn reduce(m: u64, e: i32) -> (u32, Dd) {
        reduce::reduce_half_pi(m, e)
    }
}

/// Rounds `±2^k · y` (y nonzero) once; `None` when the rounding test fails, i.e. when y widened by
/// its error bound reaches a boundary of the half-ulp cells of the binary32 grid (with unbounded
/// exponent, which is finer than the subnormal grid, so the test covers tininess too).
fn round_approx<R: Real>(
    negative: bool,
    k: i32,
    y: R,
    test: bool,
    env: FpEnv,
) -> Option<Flagged<Ieee32>> {
    /// Bits below the 25 that pick a half-ulp cell.
    const LOW: u32 = 103;
    let (negative, y) = if y.hi() < 0.0 {
        (!negative, y.neg())
    } else {
        (negative, y)
    };
    let (exp, sig) = y.to_sig();
    if test {
        let low = sig & ((1 << LOW) - 1);
        // |error| ≤ 2^-EPS_BITS · y < 2^(128−EPS_BITS) units, plus the truncations of `to_sig`.
        let err = (1u128 << (128 - R::EPS_BITS)) + 4;
        if low <= err || (1 << LOW) - low <= err {
            return None;
        }
    }
    let cell = (sig >> LOW) as u64;
    Some(round_pack(
        negative,
        k + exp + LOW as i32 - 2,
        (cell << 2) | 1,
        env,
    ))
}

/// A kernel: for a finite input in the function's general range, `(k, y)` with f(x) ≈ 2^k·y.
type Kernel<R> = fn(Ieee32) -> (i32, R);

/// The fast path, then the slow path, each with its rounding test. Should the slow path's test
/// ever fail (the exhaustive check shows it does not), its own rounding is returned.
#[inline]
fn evaluate(x: Ieee32, fast: Kernel<f64>, slow: Kernel<Dd>, env: FpEnv) -> Flagged<Ieee32> {
    let (k, y) = fast(x);
    if let Some(result) = round_approx(false, k, y, true, env) {
        return result;
    }
    evaluate_slow(x, slow, env)
}

thread_local! {
    /// How many times this thread took the slow path (for tests and statistics).
    static SLOW_PATH_CALLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The number of times the calling thread's transcendental calls took the double-double path
/// because the binary64 rounding test failed (tests use it to make sure that hard cases
/// exercise that path).
pub fn slow_path_calls() -> u64 {
    SLOW_PATH_CALLS.with(|c| c.get())
}

#[cold]
#[inline(never)]
fn evaluate_slow(x: Ieee32, slow: Kernel<Dd>, env: FpEnv) -> Flagged<Ieee32> {
    SLOW_PATH_CALLS.with(|c| c.set(c.get() + 1));
    let (k, y) = slow(x);
    round_approx(false, k, y, true, env)
        .or_else(|| round_approx(false, k, y, false, env))
        .unwrap_or_else(|| Ieee32::invalid(env))
}

// ---------------------------------------------------------------------------------------------
// Kernels. Each takes a finite nonzero input inside the function's general range and returns a
// signed approximation 2^k·y.

fn exp_kernel<R: Real>(x: Ieee32) -> (i32, R) {
    R::exp_reduced(to_f64(x))
}

/// (e^x − 1)/x·x for |x| < EXPM1_SMALL (Taylor), e^x − 1 from `exp_reduced` otherwise, where
/// |e^x − 1| ≥ 0.06 keeps the cancellation below 5 bits.
fn expm1_value<R: Real>(x: f64) -> R {
    if x.abs() < R::EXPM1_SMALL {
        let s = poly(R::from_f64(x), &INV_FACT[1..1 + R::EXPM1_TERMS]);
        R::from_f64(x).mul(s)
    } else {
        let (k, p) = R::exp_reduced(x);
        p.mul_pow2(k).sub(R::from_f64(1.0))
    }
}

fn expm1_kernel<R: Real>(x: Ieee32) -> (i32, R) {
    (0, expm1_value(to_f64(x)))
}

/// log s-series: log((1+s)/(1−s)) = 2s·Σ s^(2n)/(2n+1).
fn atanh2<R: Real>(s: R) -> R {
    let s2 = s.mul(s);
    s.mul(poly(s2, &INV_ODD[..R::LOG_TERMS])).mul_pow2(1)
}

/// log u for a positive normal u: u = 2^e·m with m in [√½, √2), log u = e·ln2 + 2·atanh((m−1)/(m+1)).
fn log_value<R: Real>(u: R) -> R {
    let bits = u.hi().to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mut m = u.mul_pow2(-e);
    if m.hi() > SQRT2 {
        m = m.mul_pow2(-1);
        e += 1;
    }
    let one = R::from_f64(1.0);
    let s = m.sub(one).div(m.add(one));
    R::coef(LN2).mul(R::from_f64(e as f64)).add(atanh2(s))
}

fn log_kernel<R: Real>(x: Ieee32) -> (i32, R) {
    (0, log_value(R::from_f64(to_f64(x))))
}

fn log1p_kernel<R: Real>(x: Ieee32) -> (i32, R) {
    let x = to_f64(x);
    // 1 + x in [√½, √2): log1p x = 2·atanh(x/(2+x)), no cancellation.
    if (SQRT2 / 2.0 - 1.0..SQRT2 - 1.0).contains(&x) {
        let xr = R::from_f64(x);
        return (0, atanh2(xr.div(R::from_f64(2.0).add(xr))));
    }
    (0, log_value(R::from_f64(1.0).add(R::from_f64(x))))
}

/// tanh|x| = t/(t+2) with t = expm1(2|x|), for |x| < 9.25.
fn tanh_kernel<R: Real>(x: Ieee32) -> (i32, R) {
    let t = expm1_value::<R>(2.0 * to_f64(x.abs()));
    let y = t.div(t.add(R::from_f64(2.0)));
    (0, if x.is_sign_negative() { y.neg() } else { y })
}

/// σ(x) = 1/(1 + e^-x) for x ≥ 0, e^x/(1 + e^x) for x < 0 (−104 ≤ x < 18).
fn sigmoid_kernel<R: Real>(x: Ieee32) -> (i32, R) {
    let v = to_f64(x);
    let one = R::from_f64(1.0);
    if v >= 0.0 {
        let (k, p) = R::exp_reduced(-v);
        (0, one.div(one.add(p.mul_pow2(k))))
    } else {
        let (k, p) = R::exp_reduced(v);
        (k, p.div(one.add(p.mul_pow2(k))))
    }
}

/// erf x for 0 < |x| < 4: (2/√π)·x·Σ (−1)^n x^(2n)/(n!(2n+1)) below ½, and
/// (2/√π)·e^(−x²)·x·Σ 2^n x^(2n)/(1·3···(2n+1)) (all terms positive) above; x² is exact in binary64.
fn erf_kernel<R: Real>(x: Ieee32) -> (i32, R) {
    let a = to_f64(x.abs());
    let a2 = a * a;
    let series = if a < 0.5 {
        poly(R::from_f64(a2), &ERF_TAYLOR[..R::ERF_TAYLOR_TERMS])
    } else {
        let terms = R::ERF_POSITIVE_TERMS[(a as usize).min(3)];
        let (k, p) = R::exp_reduced(-a2);
        poly(R::from_f64(a2), &ERF_POSITIVE[..terms]).mul(p.mul_pow2(k))
    };
    let y = R::coef(TWO_OVER_SQRT_PI).mul(R::from_f64(a)).mul(series);
    (0, if x.is_sign_negative() { y.neg() } else { y })
}

/// sin r and cos r for |r| ≤ π/4 by Taylor series.
fn sin_poly<R: Real>(r: R) -> R {
    r.mul(poly(r.mul(r), &SIN_COEF[..R::SIN_TERMS]))
}

fn cos_poly<R: Real>(r: R) -> R {
    poly(r.mul(r), &COS_COEF[..R::COS_TERMS])
}

/// The quadrant and reduced argument of |x| (no reduction below 25/32 < π/4).
fn sincos_reduce<R: Real>(x: Ieee32) -> (u32, R) {
    let a = x.abs();
    if a.to_bits() < 0x3f48_0000 {
        return (0, R::from_f64(to_f64(a)));
    }
    let (exp, sig) = a.unpack();
    R::reduce(sig, exp)
}

fn sin_kernel<R: Real>(x: Ieee32) -> (i32, R) {
    let (quadrant, r) = sincos_reduce::<R>(x);
    let y = match quadrant {
        0 => sin_poly(r),
        1 => cos_poly(r),
        2 => sin_poly(r).neg(),
        _ => cos_poly(r).neg(),
    };
    (0, if x.is_sign_negative() { y.neg() } else { y })
}

fn cos_kernel<R: Real>(x: Ieee32) -> (i32, R) {
    let (quadrant, r) = sincos_reduce::<R>(x);
    let y = match quadrant {
        0 => cos_poly(r),
        1 => sin_poly(r).neg(),
        2 => cos_poly(r).neg(),
        _ => sin_poly(r),
    };
    (0, y)
}

/// |x| < 2^-30 (biased exponent below 97).
fn is_tiny(x: Ieee32) -> bool {
    x.exponent_field() < 97
}

/// The magnitude of a finite nonzero x as (exp, sig), for `beside`.
fn magnitude(x: Ieee32) -> (i32, u64) {
    x.unpack()
}

impl Ieee32 {
    /// e^x, correctly rounded. exp(±0) = 1 exactly, exp(+∞) = +∞, exp(−∞) = +0.
    pub fn exp(self, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        let negative = self.is_sign_negative();
        if self.is_infinite() {
            return Flagged::exact(if negative { Ieee32::POS_ZERO } else { self });
        }
        if self.is_zero() {
            return Flagged::exact(Ieee32::ONE);
        }
        if is_tiny(self) {
            // |e^x − 1| < 2|x| < 2^-29.
            return beside_one(false, if negative { Side::Below } else { Side::Above }, env);
        }
        // x ≥ 89 > ln(2^128); x ≤ −104: e^x < 2^-150.
        if !negative && self.to_bits() >= 0x42b2_0000 {
            return overflow(false, env.mode);
        }
        if negative && self.to_bits() >= 0xc2d0_0000 {
            return tiny_positive(env);
        }
        evaluate(self, exp_kernel::<f64>, exp_kernel::<Dd>, env)
    }

    /// e^x − 1, correctly rounded. expm1(±0) = ±0, expm1(+∞) = +∞, expm1(−∞) = −1 exactly.
    pub fn expm1(self, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        let negative = self.is_sign_negative();
        if self.is_infinite() {
            return Flagged::exact(if negative { Ieee32::ONE.neg() } else { self });
        }
        if self.is_zero() {
            return Flagged::exact(self);
        }
        if is_tiny(self) {
            // x < expm1(x) < x + x²: magnitude above |x| for x > 0, below for x < 0.
            let (exp, sig) = magnitude(self);
            let side = if negative { Side::Below } else { Side::Above };
            return beside(negative, exp, sig, side, env);
        }
        if !negative && self.to_bits() >= 0x42b2_0000 {
            return overflow(false, env.mode);
        }
        // x ≤ −18: −1 < expm1(x) < −1 + 2^-25.
        if negative && self.to_bits() >= 0xc190_0000 {
            return beside_one(true, Side::Below, env);
        }
        evaluate(self, expm1_kernel::<f64>, expm1_kernel::<Dd>, env)
    }

    /// ln x, correctly rounded. ln(±0) = −∞ (divide-by-zero), ln(1) = +0, ln(+∞) = +∞, and
    /// x < 0 (−∞ included) is invalid.
    pub fn log(self, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        if self.is_zero() {
            return Flagged::new(Ieee32::NEG_INFINITY, Flags::DIV_BY_ZERO);
        }
        if self.is_sign_negative() {
            return Ieee32::invalid(env);
        }
        if self.is_infinite() {
            return Flagged::exact(self);
        }
        if self == Ieee32::ONE {
            return Flagged::exact(Ieee32::POS_ZERO);
        }
        evaluate(self, log_kernel::<f64>, log_kernel::<Dd>, env)
    }

    /// ln(1 + x), correctly rounded. log1p(±0) = ±0, log1p(−1) = −∞ (divide-by-zero),
    /// log1p(+∞) = +∞, and x < −1 is invalid.
    pub fn log1p(self, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        let negative = self.is_sign_negative();
        if self.is_zero() {
            return Flagged::exact(self);
        }
        if negative && self.to_bits() > 0xbf80_0000 {
            return Ieee32::invalid(env);
        }
        if self.to_bits() == 0xbf80_0000 {
            return Flagged::new(Ieee32::NEG_INFINITY, Flags::DIV_BY_ZERO);
        }
        if self.is_infinite() {
            return Flagged::exact(self);
        }
        if is_tiny(self) {
            // x − x²/2 < log1p(x) < x: magnitude below |x| for x > 0, above for x < 0.
            let (exp, sig) = magnitude(self);
            let side = if negative { Side::Above } else { Side::Below };
            return beside(negative, exp, sig, side, env);
        }
        evaluate(self, log1p_kernel::<f64>, log1p_kernel::<Dd>, env)
    }

    /// tanh x, correctly rounded. tanh(±0) = ±0, tanh(±∞) = ±1 exactly.
    pub fn tanh(self, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        let negative = self.is_sign_negative();
        if self.is_infinite() {
            return Flagged::exact(Ieee32::ONE.copysign(self));
        }
        if self.is_zero() {
            return Flagged::exact(self);
        }
        if self.exponent_field() < 114 {
            // |x| < 2^-13: |x| − |x|³/3 < |tanh x| < |x| and x²/3 < 2^-27.
            let (exp, sig) = magnitude(self);
            return beside(negative, exp, sig, Side::Below, env);
        }
        // |x| ≥ 9.25: 1 − |tanh x| < 2e^(−2|x|) < 2^-25.
        if self.abs().to_bits() >= 0x4114_0000 {
            return beside_one(negative, Side::Below, env);
        }
        evaluate(self, tanh_kernel::<f64>, tanh_kernel::<Dd>, env)
    }

    /// σ(x) = 1/(1 + e^−x), correctly rounded. σ(±0) = ½, σ(+∞) = 1, σ(−∞) = +0 exactly.
    pub fn sigmoid(self, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        let negative = self.is_sign_negative();
        if self.is_infinite() {
            return Flagged::exact(if negative {
                Ieee32::POS_ZERO
            } else {
                Ieee32::ONE
            });
        }
        if self.is_zero() {
            return Flagged::exact(Ieee32::from_bits(0x3f00_0000));
        }
        if is_tiny(self) {
            // |σ(x) − ½| < |x|/4 < 2^-32.
            let side = if negative { Side::Below } else { Side::Above };
            return beside(false, -63, 1 << 62, side, env);
        }
        // x ≥ 18: 1 − σ(x) < e^-18 < 2^-25. x ≤ −104: σ(x) < e^x < 2^-150.
        if !negative && self.to_bits() >= 0x4190_0000 {
            return beside_one(false, Side::Below, env);
        }
        if negative && self.to_bits() >= 0xc2d0_0000 {
            return tiny_positive(env);
        }
        evaluate(self, sigmoid_kernel::<f64>, sigmoid_kernel::<Dd>, env)
    }

    /// erf x = (2/√π)∫₀ˣ e^(−t²) dt, correctly rounded. erf(±0) = ±0, erf(±∞) = ±1 exactly.
    pub fn erf(self, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        let negative = self.is_sign_negative();
        if self.is_infinite() {
            return Flagged::exact(Ieee32::ONE.copysign(self));
        }
        if self.is_zero() {
            return Flagged::exact(self);
        }
        // |x| ≥ 4: 1 − |erf x| = erfc|x| < e^(−x²)/(|x|√π) < 2^-25.
        if self.abs().to_bits() >= 0x4080_0000 {
            return beside_one(negative, Side::Below, env);
        }
        evaluate(self, erf_kernel::<f64>, erf_kernel::<Dd>, env)
    }

    /// sin x, correctly rounded, with exact argument reduction for every finite x.
    /// sin(±0) = ±0; sin(±∞) is invalid.
    pub fn sin(self, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        if self.is_infinite() {
            return Ieee32::invalid(env);
        }
        if self.is_zero() {
            return Flagged::exact(self);
        }
        // |x| < 2^-12: |x| − |x|³/6 < |sin x| < |x|, and |x|²/6 < 2^-26.
        if self.exponent_field() < 115 {
            let (exp, sig) = magnitude(self);
            return beside(self.is_sign_negative(), exp, sig, Side::Below, env);
        }
        evaluate(self, sin_kernel::<f64>, sin_kernel::<Dd>, env)
    }

    /// cos x, correctly rounded, with exact argument reduction for every finite x.
    /// cos(±0) = 1; cos(±∞) is invalid.
    pub fn cos(self, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        if self.is_infinite() {
            return Ieee32::invalid(env);
        }
        if self.is_zero() {
            return Flagged::exact(Ieee32::ONE);
        }
        // |x| < 2^-12: 1 − x²/2 < cos x < 1 and x²/2 < 2^-25.
        if self.exponent_field() < 115 {
            return beside_one(false, Side::Below, env);
        }
        evaluate(self, cos_kernel::<f64>, cos_kernel::<Dd>, env)
    }
}
