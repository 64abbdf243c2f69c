//! Shared helpers for the integration tests: a tiny deterministic generator, row-major index
//! arithmetic, tensors in several memory layouts with the same logical values, comparison
//! helpers and independent f64 implementations of the transcendental functions.
//!
//! Nothing here calls into the crate's kernels: references are written from the definitions.
#![allow(dead_code)]

use strata_tensor::{DType, Tensor};

/// Unit roundoff of binary32 and binary64.
pub const U32: f64 = 1.0 / (1u64 << 24) as f64;
pub const U64: f64 = f64::EPSILON / 2.0;

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast and good enough for test data.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Uniform integer in `0..n` (n > 0; the modulo bias is irrelevant for test data).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn range(&mut self, lo: usize, hi_inclusive: usize) -> usize {
        lo + self.below(hi_inclusive - lo + 1)
    }
    pub fn coin(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// A value that is exactly representable in `dtype` (f32 rounds the draw once).
    pub fn value(&mut self, lo: f64, hi: f64, dtype: DType) -> f64 {
        round_to(self.uniform(lo, hi), dtype)
    }
    pub fn values(&mut self, n: usize, lo: f64, hi: f64, dtype: DType) -> Vec<f64> {
        (0..n).map(|_| self.value(lo, hi, dtype)).collect()
    }
    /// A random shape of rank `rank` with sizes in `lo..=hi`.
    pub fn shape(&mut self, rank: usize, lo: usize, hi: usize) -> Vec<usize> {
        (0..rank).map(|_| self.range(lo, hi)).collect()
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Rounds an f64 to the nearest value of a dtype (f64 stays, f32 rounds once)
/// (i64 rounds to an integer, bool to 0 or 1).
pub fn round_to(v: f64, dtype: DType) -> f64 {
    match dtype {
        DType::F32 => v as f32 as f64,
        DType::I64 => v.round() + 0.0, // (no negative zero)
        DType::Bool => (v != 0.0) as u8 as f64,
        _ => v,
    }
}

pub fn numel(dims: &[usize]) -> usize {
    dims.iter().product()
}

/// Row-major multi-index of linear position `lin`.
pub fn unravel(mut lin: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for a in (0..dims.len()).rev() {
        idx[a] = lin % dims[a];
        lin /= dims[a];
    }
    idx
}

/// Row-major linear position of a multi-index.
pub fn ravel(idx: &[usize], dims: &[usize]) -> usize {
    let mut lin = 0;
    for (i, d) in idx.iter().zip(dims) {
        assert!(i < d, "index {idx:?} outside {dims:?}");
        lin = lin * d + i;
    }
    lin
}

/// A tensor of `dtype` from f64 values in row-major order (f16/bf16: exactly representable
/// values only).
pub fn tensor(values: &[f64], dims: &[usize], dtype: DType) -> Tensor {
    match dtype {
        DType::F32 => {
            let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
            Tensor::from_vec(v, dims.to_vec()).unwrap()
        }
        DType::F64 => Tensor::from_vec(values.to_vec(), dims.to_vec()).unwrap(),
        DType::I64 => {
            let v: Vec<i64> = values.iter().map(|&x| x as i64).collect();
            Tensor::from_vec(v, dims.to_vec()).unwrap()
        }
        DType::Bool => {
            let v: Vec<bool> = values.iter().map(|&x| x != 0.0).collect();
            Tensor::from_vec(v, dims.to_vec()).unwrap()
        }
        // Storage types: the helper only takes values they hold exactly.
        DType::F16 => {
            let v: Vec<half::f16> = values.iter().map(|&x| half::f16::from_f64(x)).collect();
            for (h, &x) in v.iter().zip(values) {
                assert!(same_f64(h.to_f64(), x), "{x} is not an f16 value");
            }
            Tensor::from_vec(v, dims.to_vec()).unwrap()
        }
        DType::BF16 => {
            let v: Vec<half::bf16> = values.iter().map(|&x| half::bf16::from_f64(x)).collect();
            for (h, &x) in v.iter().zip(values) {
                assert!(same_f64(h.to_f64(), x), "{x} is not a bf16 value");
            }
            Tensor::from_vec(v, dims.to_vec()).unwrap()
        }
    }
}

pub fn f32s(t: &Tensor) -> Vec<f32> {
    t.to_vec::<f32>().unwrap()
}
pub fn f64s(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap()
}

/// The memory layouts every op is exercised on. All of them hold the same logical values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// A fresh row-major buffer.
    Contiguous,
    /// Stored with the axes reversed and viewed through `permute` (a transposed view).
    Transposed,
    /// Every axis sliced with step 2 and offset 1 out of a larger buffer full of garbage.
    Strided,
}

pub const LAYOUTS: [Layout; 3] = [Layout::Contiguous, Layout::Transposed, Layout::Strided];

/// Garbage stored between the elements of strided views: reading it gives a wrong answer.
pub const GARBAGE: f64 = -7680.0; // exact in every dtype

/// A view with the logical `values` (row-major, shape `dims`) in the given memory layout.
pub fn layout(values: &[f64], dims: &[usize], dtype: DType, layout: Layout) -> Tensor {
    assert_eq!(values.len(), numel(dims));
    let r = dims.len();
    let t = match layout {
        Layout::Contiguous => tensor(values, dims, dtype),
        Layout::Transposed => {
            let rev: Vec<usize> = dims.iter().rev().copied().collect();
            let mut storage = vec![0.0; values.len()];
            for (lin, &v) in values.iter().enumerate() {
                let idx: Vec<usize> = unravel(lin, dims).into_iter().rev().collect();
                storage[ravel(&idx, &rev)] = v;
            }
            let perm: Vec<usize> = (0..r).rev().collect();
            tensor(&storage, &rev, dtype).permute(&perm).unwrap()
        }
        Layout::Strided => {
            if r == 0 {
                let base = tensor(&[GARBAGE, values[0], GARBAGE], &[3], dtype);
                return base.narrow(0, 1, 1).unwrap().squeeze(0).unwrap();
            }
            let big: Vec<usize> = dims.iter().map(|&d| 2 * d + 1).collect();
            let mut storage = vec![GARBAGE; numel(&big)];
            for (lin, &v) in values.iter().enumerate() {
                let idx: Vec<usize> = unravel(lin, dims).iter().map(|&i| 2 * i + 1).collect();
                storage[ravel(&idx, &big)] = v;
            }
            let mut t = tensor(&storage, &big, dtype);
            for (a, &b) in big.iter().enumerate() {
                t = t.slice(a as isize, 1, b, 2).unwrap();
            }
            t
        }
    };
    assert_eq!(t.dims(), dims);
    // The non-contiguous layouts really are non-contiguous (where the shape allows it).
    if layout == Layout::Strided && numel(dims) > 0 {
        assert!(t.offset() > 0, "strided view has an offset");
    }
    if layout == Layout::Transposed && dims.iter().filter(|&&d| d > 1).count() >= 2 {
        assert!(
            !t.is_contiguous(),
            "transposed view of {dims:?} is not contiguous"
        );
    }
    t
}

/// Input kinds: the three layouts of [`LAYOUTS`] and, as kind 3, a broadcast view.
pub const KINDS: usize = 4;

/// An input of shape `dims` in memory layout `kind` (0..KINDS) with values drawn by `gen`
/// (rounded to the dtype): `(name, tensor, logical values in row-major order)`.
///
/// Kind 3 is a broadcast view: the first axis of size > 1 comes from a size-1 source axis
/// (zero stride) and the logical values are the source repeated explicitly by index
/// arithmetic. Shapes without such an axis fall back to the strided layout.
pub fn make(
    rng: &mut SplitMix64,
    dims: &[usize],
    dtype: DType,
    kind: usize,
    gen: &mut dyn FnMut(&mut SplitMix64) -> f64,
) -> (String, Tensor, Vec<f64>) {
    let expand = dims.iter().position(|&d| d > 1);
    match (kind, expand) {
        (3, Some(axis)) => {
            let mut src_dims = dims.to_vec();
            src_dims[axis] = 1;
            let src: Vec<f64> = (0..numel(&src_dims))
                .map(|_| round_to(gen(rng), dtype))
                .collect();
            let view = tensor(&src, &src_dims, dtype)
                .broadcast_to(dims.to_vec())
                .unwrap();
            let values = (0..numel(dims))
                .map(|lin| {
                    let mut idx = unravel(lin, dims);
                    idx[axis] = 0;
                    src[ravel(&idx, &src_dims)]
                })
                .collect();
            (format!("Broadcast(axis {axis})"), view, values)
        }
        _ => {
            let l = LAYOUTS[kind.min(2)];
            let values: Vec<f64> = (0..numel(dims))
                .map(|_| round_to(gen(rng), dtype))
                .collect();
            (format!("{l:?}"), layout(&values, dims, dtype, l), values)
        }
    }
}

/// Every kind of input with uniform random values in `[lo, hi)`.
pub fn inputs(
    rng: &mut SplitMix64,
    dims: &[usize],
    dtype: DType,
    lo: f64,
    hi: f64,
) -> Vec<(String, Tensor, Vec<f64>)> {
    (0..KINDS)
        .map(|k| make(rng, dims, dtype, k, &mut |r| r.uniform(lo, hi)))
        .collect()
}

/// Bitwise equality where every NaN equals every NaN.
pub fn same_f64(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}
pub fn same_f32(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

pub fn assert_bits_f32(got: &[f32], want: &[f32], ctx: &str) {
    assert_eq!(got.len(), want.len(), "{ctx}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            same_f32(g, w),
            "{ctx}: element {i}: got {g:e} ({:#x}), want {w:e} ({:#x})",
            g.to_bits(),
            w.to_bits()
        );
    }
}

pub fn assert_bits_f64(got: &[f64], want: &[f64], ctx: &str) {
    assert_eq!(got.len(), want.len(), "{ctx}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(same_f64(g, w), "{ctx}: element {i}: got {g:e}, want {w:e}");
    }
}

/// `|got − want| ≤ tol[i]`, where non-finite references must be matched exactly (NaN by NaN,
/// infinities by the same infinity).
pub fn assert_close(got: &[f64], want: &[f64], tol: impl Fn(usize) -> f64, ctx: &str) {
    assert_eq!(got.len(), want.len(), "{ctx}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        if !w.is_finite() {
            assert!(same_f64(g, w), "{ctx}: element {i}: got {g:e}, want {w:e}");
            continue;
        }
        let t = tol(i);
        assert!(
            (g - w).abs() <= t,
            "{ctx}: element {i}: got {g:e}, want {w:e}, |error| {:e} > tolerance {t:e}",
            (g - w).abs()
        );
    }
}

/// Neumaier's compensated sum: accurate to about one ulp of the result for test-sized inputs.
pub fn accurate_sum(x: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for v in x {
        let t = s + v;
        if s.abs() >= v.abs() {
            c += (s - t) + v;
        } else {
            c += (v - t) + s;
        }
        s = t;
    }
    s + c
}

// ---------- independent f64 elementary functions (test oracles) ----------
// Written from textbook series so that they share nothing with the platform libm or the
// `libm` crate the kernels call; accurate to a few units of 1e-16 relative on the ranges used.

// fdlibm's split of ln 2: LN2_HI has 32 significant bits, so k·LN2_HI is exact for |k| < 2^20.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);

/// 2^k for any integer k in the f64 range (including subnormal results).
fn pow2(k: i64) -> f64 {
    if k > 1023 {
        return f64::INFINITY;
    }
    if k >= -1022 {
        return f64::from_bits(((k + 1023) as u64) << 52);
    }
    if k >= -1074 {
        return f64::from_bits(1u64 << (k + 1074));
    }
    0.0
}

/// e^r − 1 for |r| ≤ 0.5 by its Taylor series (no cancellation).
fn expm1_small(r: f64) -> f64 {
    let (mut term, mut sum) = (r, r);
    for n in 2..40 {
        term *= r / n as f64;
        sum += term;
        if term.abs() < 1e-18 * sum.abs() {
            break;
        }
    }
    sum
}

pub fn ref_exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.8 {
        return f64::INFINITY;
    }
    if x < -745.2 {
        return 0.0;
    }
    let k = (x / std::f64::consts::LN_2).round();
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let m = 1.0 + expm1_small(r);
    // Scale in two steps so that neither factor overflows or underflows early.
    let k = k as i64;
    let h = k / 2;
    m * pow2(h) * pow2(k - h)
}

pub fn ref_expm1(x: f64) -> f64 {
    if x.abs() <= 0.5 {
        expm1_small(x)
    } else {
        ref_exp(x) - 1.0
    }
}

pub fn ref_ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    // x = m·2^e with m in [√½, √2).
    let (mut m, mut e) = (x, 0i64);
    while m >= std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    while m < std::f64::consts::FRAC_1_SQRT_2 {
        m *= 2.0;
        e -= 1;
    }
    // ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| < 0.172.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let (mut term, mut sum) = (s, s);
    for n in 1..30 {
        term *= s2;
        sum += term / (2 * n + 1) as f64;
    }
    e as f64 * LN2_HI + (2.0 * sum + e as f64 * LN2_LO)
}

pub fn ref_ln_1p(y: f64) -> f64 {
    if y.abs() < 0.1 {
        // y − y²/2 + y³/3 − …
        let (mut p, mut sum) = (y, 0.0);
        for n in 1..40 {
            sum += p / n as f64 * if n % 2 == 1 { 1.0 } else { -1.0 };
            p *= y;
        }
        sum
    } else {
        // ln(1+y) with the rounding of 1+y corrected (Goldberg): s = fl(1+y) is the exact
        // 1 + (s − 1), and ln s / (s − 1) varies slowly, so ln s · y/(s − 1) ≈ ln(1+y).
        let s = 1.0 + y;
        ref_ln(s) * (y / (s - 1.0))
    }
}

pub fn ref_tanh(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x.abs() > 40.0 {
        return x.signum();
    }
    // tanh |x| = −expm1(−2|x|) / (2 + expm1(−2|x|)).
    let e = ref_expm1(-2.0 * x.abs());
    let t = -e / (2.0 + e);
    if x < 0.0 {
        -t
    } else {
        t
    }
}

pub fn ref_sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + ref_exp(-x))
}

/// erf by the everywhere-convergent series with positive terms:
/// erf x = 2/√π · e^{−x²} · Σ_n 2^n x^{2n+1} / (1·3·…·(2n+1)).
pub fn ref_erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x.abs() >= 6.0 {
        return x.signum();
    }
    let x2 = x * x;
    let (mut term, mut sum) = (x, x);
    let mut n = 0;
    loop {
        n += 1;
        term *= 2.0 * x2 / (2 * n + 1) as f64;
        sum += term;
        if term.abs() < 1e-18 * sum.abs() || n > 400 {
            break;
        }
    }
    std::f64::consts::FRAC_2_SQRT_PI * ref_exp(-x2) * sum
}

/// a^b for a > 0 as e^{b·ln a}.
pub fn ref_pow_pos(a: f64, b: f64) -> f64 {
    ref_exp(b * ref_ln(a))
}
