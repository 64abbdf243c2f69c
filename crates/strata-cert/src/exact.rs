//! Exact dyadic arithmetic: scalars `m·2^e` with big-integer mantissas, and blocks (vectors and
//! matrices) of dyadics that share one exponent, with `i128` mantissas while a bit-count bound
//! proves no overflow and `BigInt` mantissas past that.

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};
use std::cmp::Ordering;

/// An exact dyadic rational `mant · 2^exp`.
#[derive(Clone, Debug)]
pub struct Dyadic {
    pub mant: BigInt,
    pub exp: i64,
}

/// `v = m · 2^e` exactly, with `m` odd (or zero).
pub fn decompose(v: f64) -> (i64, i64) {
    if v == 0.0 {
        return (0, 0);
    }
    let bits = v.to_bits();
    let sign = if bits >> 63 == 1 { -1 } else { 1 };
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let frac = (bits & ((1u64 << 52) - 1)) as i64;
    let (mut m, mut e) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), biased - 1075)
    };
    let tz = m.trailing_zeros();
    m >>= tz;
    e += i64::from(tz);
    (sign * m, e)
}

impl Dyadic {
    pub fn zero() -> Self {
        Dyadic {
            mant: BigInt::zero(),
            exp: 0,
        }
    }

    /// The exact value of a finite `f64`.
    pub fn from_f64(v: f64) -> Self {
        debug_assert!(v.is_finite());
        let (m, e) = decompose(v);
        Dyadic {
            mant: BigInt::from(m),
            exp: e,
        }
    }

    pub fn from_int(v: i64) -> Self {
        Dyadic {
            mant: BigInt::from(v),
            exp: 0,
        }
    }

    pub fn is_negative(&self) -> bool {
        self.mant.is_negative()
    }

    pub fn neg(&self) -> Self {
        Dyadic {
            mant: -&self.mant,
            exp: self.exp,
        }
    }

    pub fn add(&self, o: &Self) -> Self {
        if self.mant.is_zero() {
            return o.clone();
        }
        if o.mant.is_zero() {
            return self.clone();
        }
        let exp = self.exp.min(o.exp);
        Dyadic {
            mant: (&self.mant << (self.exp - exp) as usize) + (&o.mant << (o.exp - exp) as usize),
            exp,
        }
    }

    pub fn sub(&self, o: &Self) -> Self {
        self.add(&o.neg())
    }

    pub fn mul(&self, o: &Self) -> Self {
        Dyadic {
            mant: &self.mant * &o.mant,
            exp: self.exp + o.exp,
        }
    }

    /// The nearest `f64` (for messages only; saturates to ±inf).
    pub fn approx(&self) -> f64 {
        if self.mant.is_zero() {
            return 0.0;
        }
        // Keep the top 64 bits of the mantissa so the conversion cannot overflow.
        let bits = self.mant.bits();
        let drop = bits.saturating_sub(64);
        let m = (&self.mant >> drop as usize).to_f64().unwrap_or(f64::NAN);
        let e = self.exp + drop as i64;
        m * 2f64.powi(e.clamp(-1100, 1100) as i32)
    }
}

impl PartialEq for Dyadic {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for Dyadic {}

impl PartialOrd for Dyadic {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Dyadic {
    /// Exact comparison.
    fn cmp(&self, o: &Self) -> Ordering {
        let d = self.sub(o);
        if d.mant.is_zero() {
            Ordering::Equal
        } else if d.mant.is_negative() {
            Ordering::Less
        } else {
            Ordering::Greater
        }
    }
}

/// Integer mantissas a block can hold: `i128` (fast) or `BigInt` (any size).
pub trait Mant: Clone + std::fmt::Debug + Send + Sync {
    fn nil() -> Self;
    fn is_nil(&self) -> bool;
    fn is_neg(&self) -> bool;
    /// `acc += a · b`.
    fn mul_add(acc: &mut Self, a: &Self, b: &Self);
    fn negated(&self) -> Self;
    fn shifted_left(&self, s: u64) -> Self;
    fn shifted_right(&self, s: u64) -> Self;
    fn low_zeros(&self) -> Option<u64>;
    /// Number of significant bits of the magnitude.
    fn nbits(&self) -> u64;
    fn to_big(&self) -> BigInt;
}

impl Mant for i128 {
    fn nil() -> Self {
        0
    }
    fn is_nil(&self) -> bool {
        *self == 0
    }
    fn is_neg(&self) -> bool {
        *self < 0
    }
    fn mul_add(acc: &mut Self, a: &Self, b: &Self) {
        *acc += a * b;
    }
    fn negated(&self) -> Self {
        -self
    }
    fn shifted_left(&self, s: u64) -> Self {
        self << s
    }
    fn shifted_right(&self, s: u64) -> Self {
        self >> s
    }
    fn low_zeros(&self) -> Option<u64> {
        (*self != 0).then(|| u64::from(i128::trailing_zeros(*self)))
    }
    fn nbits(&self) -> u64 {
        u64::from(128 - self.unsigned_abs().leading_zeros())
    }
    fn to_big(&self) -> BigInt {
        BigInt::from(*self)
    }
}

impl Mant for BigInt {
    fn nil() -> Self {
        Zero::zero()
    }
    fn is_nil(&self) -> bool {
        Zero::is_zero(self)
    }
    fn is_neg(&self) -> bool {
        self.is_negative()
    }
    fn mul_add(acc: &mut Self, a: &Self, b: &Self) {
        *acc += a * b;
    }
    fn negated(&self) -> Self {
        -self
    }
    fn shifted_left(&self, s: u64) -> Self {
        self << s as usize
    }
    fn shifted_right(&self, s: u64) -> Self {
        self >> s as usize
    }
    fn low_zeros(&self) -> Option<u64> {
        BigInt::trailing_zeros(self)
    }
    fn nbits(&self) -> u64 {
        BigInt::bits(self)
    }
    fn to_big(&self) -> BigInt {
        self.clone()
    }
}

/// The most bits an `i128` block may use so that the sums in one product cannot overflow.
const SMALL_BITS: u64 = 126;

/// `ceil(log2(n)) + 1`: the bits a sum of `n` terms can add.
pub fn sum_bits(n: usize) -> u64 {
    u64::from(usize::BITS - n.leading_zeros()) + 1
}

/// A vector of dyadics `mants[i] · 2^exp`.
#[derive(Clone, Debug)]
pub struct Block<T> {
    pub mants: Vec<T>,
    pub exp: i64,
}

impl<T: Mant> Block<T> {
    pub fn zeros(n: usize, exp: i64) -> Self {
        Block {
            mants: vec![T::nil(); n],
            exp,
        }
    }

    pub fn max_bits(&self) -> u64 {
        self.mants.iter().map(Mant::nbits).max().unwrap_or(0)
    }

    /// Moves common trailing zero bits into the exponent (keeps mantissas small).
    pub fn normalize(&mut self) {
        let tz = self.mants.iter().filter_map(Mant::low_zeros).min();
        match tz {
            None => self.exp = 0,
            Some(0) => {}
            Some(s) => {
                for m in &mut self.mants {
                    *m = m.shifted_right(s);
                }
                self.exp += s as i64;
            }
        }
    }

    /// The same values with exponent `exp ≤ self.exp`.
    pub fn with_exp(&self, exp: i64) -> Self {
        debug_assert!(exp <= self.exp);
        let s = (self.exp - exp) as u64;
        Block {
            mants: self.mants.iter().map(|m| m.shifted_left(s)).collect(),
            exp,
        }
    }

    pub fn to_big(&self) -> Block<BigInt> {
        Block {
            mants: self.mants.iter().map(Mant::to_big).collect(),
            exp: self.exp,
        }
    }

    pub fn get(&self, i: usize) -> Dyadic {
        Dyadic {
            mant: self.mants[i].to_big(),
            exp: self.exp,
        }
    }

    /// `Σ self[i] · other[i]` exactly.
    pub fn dot(&self, other: &Block<T>) -> Dyadic {
        let mut acc = T::nil();
        for (a, b) in self.mants.iter().zip(&other.mants) {
            if !a.is_nil() {
                T::mul_add(&mut acc, a, b);
            }
        }
        Dyadic {
            mant: acc.to_big(),
            exp: self.exp + other.exp,
        }
    }
}

impl Block<BigInt> {
    /// Exact block of `values` (one shared exponent: the smallest of the values').
    pub fn from_dyadics(values: &[Dyadic]) -> Self {
        let exp = values
            .iter()
            .filter(|d| !d.mant.is_zero())
            .map(|d| d.exp)
            .min()
            .unwrap_or(0);
        Block {
            mants: values
                .iter()
                .map(|d| {
                    if d.mant.is_zero() {
                        BigInt::zero()
                    } else {
                        &d.mant << (d.exp - exp) as usize
                    }
                })
                .collect(),
            exp,
        }
    }

    pub fn from_f64s(values: &[f64]) -> Self {
        let d: Vec<Dyadic> = values.iter().map(|&v| Dyadic::from_f64(v)).collect();
        Self::from_dyadics(&d)
    }

    /// The `i128` form when every mantissa has at most `SMALL_BITS` bits.
    pub fn to_small(&self) -> Option<Block<i128>> {
        (self.max_bits() <= SMALL_BITS).then(|| Block {
            mants: self
                .mants
                .iter()
                .map(|m| m.to_i128().unwrap_or(0))
                .collect(),
            exp: self.exp,
        })
    }
}

/// A dense row-major `rows × cols` matrix of dyadics with one exponent, kept in both
/// mantissa forms (`small` when it fits).
#[derive(Clone, Debug)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub big: Block<BigInt>,
    pub small: Option<Block<i128>>,
    pub bits: u64,
}

impl Matrix {
    pub fn new(rows: usize, cols: usize, values: &[Dyadic]) -> Self {
        debug_assert_eq!(values.len(), rows * cols);
        let mut big = Block::from_dyadics(values);
        big.normalize();
        let small = big.to_small();
        let bits = big.max_bits();
        Matrix {
            rows,
            cols,
            big,
            small,
            bits,
        }
    }

    /// Row `r` as a row vector.
    pub fn row(&self, r: usize) -> Row {
        let range = r * self.cols..(r + 1) * self.cols;
        match &self.small {
            Some(s) => Row::Small(Block {
                mants: s.mants[range].to_vec(),
                exp: s.exp,
            }),
            None => Row::Big(Block {
                mants: self.big.mants[range].to_vec(),
                exp: self.big.exp,
            }),
        }
    }
}

/// A row vector of dyadics in whichever mantissa form its size allows.
#[derive(Clone, Debug)]
pub enum Row {
    Small(Block<i128>),
    Big(Block<BigInt>),
}

/// `v · M` (v over the rows of `M`) for one mantissa type.
fn vec_mat<T: Mant>(v: &Block<T>, m: &Block<T>, rows: usize, cols: usize) -> Block<T> {
    let mut out = Block::zeros(cols, v.exp + m.exp);
    for (r, a) in v.mants.iter().enumerate().take(rows) {
        if a.is_nil() {
            continue;
        }
        let row = &m.mants[r * cols..(r + 1) * cols];
        for (acc, w) in out.mants.iter_mut().zip(row) {
            if !w.is_nil() {
                T::mul_add(acc, a, w);
            }
        }
    }
    out.normalize();
    out
}

impl Row {
    /// The unit row `±e_i` of length `n`.
    pub fn unit(n: usize, i: usize, negative: bool) -> Row {
        let mut b = Block::zeros(n, 0);
        b.mants[i] = if negative { -1 } else { 1 };
        Row::Small(b)
    }

    pub fn from_dyadics(values: &[Dyadic]) -> Row {
        let mut b = Block::from_dyadics(values);
        b.normalize();
        match b.to_small() {
            Some(s) => Row::Small(s),
            None => Row::Big(b),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Row::Small(b) => b.mants.len(),
            Row::Big(b) => b.mants.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn max_bits(&self) -> u64 {
        match self {
            Row::Small(b) => b.max_bits(),
            Row::Big(b) => b.max_bits(),
        }
    }

    pub fn to_big(&self) -> Block<BigInt> {
        match self {
            Row::Small(b) => b.to_big(),
            Row::Big(b) => b.clone(),
        }
    }

    pub fn get(&self, i: usize) -> Dyadic {
        match self {
            Row::Small(b) => b.get(i),
            Row::Big(b) => b.get(i),
        }
    }

    /// Signs of the entries: `Some(true)` negative, `Some(false)` positive, `None` zero.
    pub fn sign(&self, i: usize) -> Option<bool> {
        let (z, n) = match self {
            Row::Small(b) => (b.mants[i] == 0, b.mants[i] < 0),
            Row::Big(b) => (Zero::is_zero(&b.mants[i]), b.mants[i].is_negative()),
        };
        (!z).then_some(n)
    }

    /// `self · M`, in `i128` when the bit bound allows it.
    pub fn times(&self, m: &Matrix) -> Row {
        let need = self.max_bits() + m.bits + sum_bits(m.rows);
        match (self, &m.small) {
            (Row::Small(v), Some(ms)) if need <= SMALL_BITS => {
                Row::Small(vec_mat(v, ms, m.rows, m.cols))
            }
            _ => Row::Big(vec_mat(&self.to_big(), &m.big, m.rows, m.cols)),
        }
    }

    /// `Σ self[i] · b[i]` exactly.
    pub fn dot(&self, b: &Block<BigInt>, b_small: Option<&Block<i128>>) -> Dyadic {
        let need = self.max_bits() + b.max_bits() + sum_bits(self.len());
        match (self, b_small) {
            (Row::Small(v), Some(bs)) if need <= SMALL_BITS => v.dot(bs),
            _ => self.to_big().dot(b),
        }
    }

    /// Entrywise `self[i] · m[i]`, where `pick(i, negative)` chooses which of the given
    /// multiplier blocks (sharing one exponent) applies to entry `i`, or `None` for zero.
    pub fn scale(
        &self,
        blocks: &[&Block<BigInt>],
        pick: impl Fn(usize, bool) -> Option<usize>,
    ) -> Row {
        let big = self.to_big();
        let exp = big.exp + blocks.first().map_or(0, |b| b.exp);
        let mants = big
            .mants
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if Zero::is_zero(a) {
                    return BigInt::zero();
                }
                match pick(i, a.is_negative()) {
                    Some(k) => a * &blocks[k].mants[i],
                    None => BigInt::zero(),
                }
            })
            .collect();
        let mut out = Block { mants, exp };
        out.normalize();
        match out.to_small() {
            Some(s) => Row::Small(s),
            None => Row::Big(out),
        }
    }

    /// `Σ self[i]` exactly.
    pub fn sum(&self) -> Dyadic {
        let big = self.to_big();
        Dyadic {
            mant: big.mants.iter().sum(),
            exp: big.exp,
        }
    }

    /// `self + other` exactly.
    pub fn add(&self, other: &Block<BigInt>) -> Row {
        let a = self.to_big();
        let exp = a.exp.min(other.exp);
        let (a, b) = (a.with_exp(exp), other.with_exp(exp));
        let mut out = Block {
            mants: a.mants.iter().zip(&b.mants).map(|(x, y)| x + y).collect(),
            exp,
        };
        out.normalize();
        match out.to_small() {
            Some(s) => Row::Small(s),
            None => Row::Big(out),
        }
    }

    /// `min over lo ≤ x ≤ hi of self · x`: each entry takes `lo` where positive, `hi` where
    /// negative.
    pub fn min_over_box(&self, lo: &Block<BigInt>, hi: &Block<BigInt>) -> Dyadic {
        let big = self.to_big();
        let exp = lo.exp.min(hi.exp);
        let (lo, hi) = (lo.with_exp(exp), hi.with_exp(exp));
        let mut acc = BigInt::zero();
        for (i, a) in big.mants.iter().enumerate() {
            if Zero::is_zero(a) {
                continue;
            }
            let x = if a.is_negative() {
                &hi.mants[i]
            } else {
                &lo.mants[i]
            };
            acc += a * x;
        }
        Dyadic {
            mant: acc,
            exp: big.exp + exp,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decompose_is_exact() {
        for v in [1.0, -0.75, 0.1, 5e-324, f64::MAX, -3.0e-310, 123456.789] {
            let (m, e) = decompose(v);
            assert_eq!((m as f64) * 2f64.powi(e as i32), v, "{v}");
            assert!(m % 2 != 0, "{v}: mantissa {m} not odd");
        }
        assert_eq!(decompose(0.0), (0, 0));
    }

    #[test]
    fn dyadic_arithmetic_matches_f64_when_exact() {
        let a = Dyadic::from_f64(0.375);
        let b = Dyadic::from_f64(-2.5);
        assert_eq!(a.add(&b).approx(), -2.125);
        assert_eq!(a.mul(&b).approx(), -0.9375);
        assert_eq!(a.cmp(&b), Ordering::Greater);
        // 0.1 + 0.2 is not 0.3 in f64, and the exact sum says so.
        let s = Dyadic::from_f64(0.1).add(&Dyadic::from_f64(0.2));
        assert_ne!(s.cmp(&Dyadic::from_f64(0.3)), Ordering::Equal);
        assert_eq!(s.approx(), 0.1 + 0.2);
    }

    #[test]
    fn small_and_big_products_agree() {
        // A matrix whose entries need many bits forces the BigInt path; compare with i128.
        let vals: Vec<Dyadic> = [1.5, -2.0, 1e-30, 3.25, 0.0, 7.0]
            .iter()
            .map(|&v| Dyadic::from_f64(v))
            .collect();
        let m = Matrix::new(2, 3, &vals);
        let v = Row::from_dyadics(&[Dyadic::from_f64(0.5), Dyadic::from_f64(-4.0)]);
        let out = v.times(&m);
        let expect = [0.5 * 1.5 - 4.0 * 3.25, -1.0, 0.5e-30 - 28.0];
        for (i, e) in expect.iter().enumerate() {
            assert_eq!(out.get(i).approx(), *e, "entry {i}");
        }
        let lo = Block::from_f64s(&[-1.0, 2.0, 0.0]);
        let hi = Block::from_f64s(&[1.0, 3.0, 0.5]);
        // min of out·x over the box: take lo where out ≥ 0, hi where out < 0.
        let want = (-12.25) * 1.0 - 3.0 + (0.5e-30 - 28.0) * 0.5;
        assert_eq!(out.min_over_box(&lo, &hi).approx(), want);
    }
}
