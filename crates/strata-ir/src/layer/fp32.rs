//! The rounded-real model ([`Fp32`]): each operation's exact rational result rounded once to
//! the binary32 grid. A scalar is `Option<Fp32>`: `None` once a value leaves the finite path
//! (an overflow, a division by zero, a square root of a negative, a NaN or infinite datum), and
//! every operation on `None` gives `None` (the total forms, TorchLean's `toReal?`).

use super::{ordered, Arith, Exported, NumericLayer, Transcendental};
use crate::op::Comparison;
use num_bigint::BigInt;
use num_rational::BigRational;
use strata_float::{Fp32, Ieee32, Rounded, RoundingMode};
use strata_tensor::{DType, Shape, Tensor};

type S = Option<Fp32>;

/// `Fp32` arithmetic in one rounding mode; data and constants enter rounded to nearest even.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fp32Layer {
    mode: RoundingMode,
}

impl Fp32Layer {
    pub fn new(mode: RoundingMode) -> Self {
        Fp32Layer { mode }
    }
    pub fn mode(&self) -> RoundingMode {
        self.mode
    }
    /// An exact rational rounded in `mode`; `None` on overflow.
    fn round(q: &BigRational, mode: RoundingMode) -> S {
        Fp32::round(q, mode).finite()
    }
    fn exact(&self, a: &S, f: impl FnOnce(&BigRational) -> BigRational) -> S {
        a.as_ref()
            .and_then(|x| Fp32Layer::round(&f(x.value()), self.mode))
    }
    /// PyTorch's min/max on reals: `b` when it compares `wanted` against `a`, else `a`.
    fn extremum(a: &S, b: &S, wanted: std::cmp::Ordering) -> S {
        let (x, y) = (a.as_ref()?, b.as_ref()?);
        Some(if y.cmp(x) == wanted { y } else { x }.clone())
    }
}

fn to_f32(x: &Fp32) -> f32 {
    f32::from_bits(x.to_ieee().to_bits())
}

impl Arith for Fp32Layer {
    type Scalar = S;

    fn name(&self) -> &'static str {
        "fp32"
    }
    fn int(&self, v: i64) -> S {
        Fp32Layer::round(&BigRational::from_integer(BigInt::from(v)), self.mode)
    }
    fn add(&self, a: &S, b: &S) -> S {
        Fp32::total_add(a.as_ref(), b.as_ref(), self.mode)
    }
    fn sub(&self, a: &S, b: &S) -> S {
        Fp32::total_sub(a.as_ref(), b.as_ref(), self.mode)
    }
    fn mul(&self, a: &S, b: &S) -> S {
        Fp32::total_mul(a.as_ref(), b.as_ref(), self.mode)
    }
    fn neg(&self, a: &S) -> S {
        self.exact(a, |q| -q)
    }
    fn abs(&self, a: &S) -> S {
        self.exact(a, |q| {
            if q < &BigRational::default() {
                -q
            } else {
                q.clone()
            }
        })
    }
    fn maximum(&self, a: &S, b: &S) -> S {
        Fp32Layer::extremum(a, b, std::cmp::Ordering::Greater)
    }
    fn minimum(&self, a: &S, b: &S) -> S {
        Fp32Layer::extremum(a, b, std::cmp::Ordering::Less)
    }
    fn compare(&self, a: &S, b: &S, cmp: Comparison) -> Option<bool> {
        Some(ordered(a.as_ref()?, b.as_ref()?, cmp))
    }
    fn is_nan(&self, a: &S) -> Option<bool> {
        a.as_ref().map(|_| false)
    }
    /// An integer exponent gives the exact power rounded once; other exponents have no
    /// rational value.
    fn pow(&self, a: &S, b: &S) -> Result<S, String> {
        let (Some(x), Some(y)) = (a, b) else {
            return Ok(None);
        };
        let y = y.value();
        if !y.is_integer() {
            return Err(
                "pow with a non-integer exponent has no exact value in the fp32 layer \
                        (strata-float has no correctly rounded pow)"
                    .into(),
            );
        }
        let Ok(n) = i32::try_from(y.to_integer()) else {
            return Err("pow: the exponent is too large for exact evaluation".into());
        };
        let q = x.value();
        if n < 0 && q == &BigRational::default() {
            return Ok(None);
        }
        Ok(Fp32Layer::round(&num_traits::Pow::pow(q, n), self.mode))
    }
    fn join(&self, a: S, b: S) -> S {
        (a == b).then_some(a).flatten()
    }
}

impl NumericLayer for Fp32Layer {
    fn of_f32(&self, v: f32) -> S {
        Fp32::from_ieee(Ieee32::from_bits(v.to_bits()))
    }
    fn of_f64(&self, v: f64) -> S {
        BigRational::from_float(v).and_then(|q| Fp32Layer::round(&q, RoundingMode::NearestEven))
    }
    fn real(&self, nearest: f64) -> S {
        self.of_f64(nearest)
    }
    fn div(&self, a: &S, b: &S) -> S {
        Fp32::total_div(a.as_ref(), b.as_ref(), self.mode)
    }
    fn sqrt(&self, a: &S) -> S {
        Fp32::total_sqrt(a.as_ref(), self.mode)
    }
    fn floor(&self, a: &S) -> S {
        self.exact(a, BigRational::floor)
    }
    /// strata-float's correctly rounded functions (`None` outside their domain or on overflow).
    fn transcendental(&self, f: Transcendental, a: &S) -> Result<S, String> {
        let (Some(x), m) = (a, self.mode) else {
            return Ok(None);
        };
        Ok(match f {
            Transcendental::Exp => x.exp(m).finite(),
            Transcendental::Ln => x.log(m).and_then(Rounded::finite),
            Transcendental::Ln1p => x.log1p(m).and_then(Rounded::finite),
            Transcendental::Tanh => x.tanh(m).finite(),
            Transcendental::Erf => x.erf(m).finite(),
            Transcendental::Sin => x.sin(m).finite(),
            Transcendental::Cos => x.cos(m).finite(),
        })
    }
    fn bounds(&self, a: &S) -> Option<(f64, f64)> {
        let v = f64::from(to_f32(a.as_ref()?));
        Some((v, v))
    }
    fn export(&self, data: &[S], shape: &Shape, _dtype: DType) -> Result<Exported, String> {
        let values = (data.iter().enumerate())
            .map(|(i, x)| {
                x.as_ref()
                    .map(to_f32)
                    .ok_or_else(|| format!("element {i} is off the finite path"))
            })
            .collect::<Result<Vec<f32>, _>>()?;
        Tensor::from_vec(values, shape.clone())
            .map(Exported::Point)
            .map_err(|e| e.to_string())
    }
}
