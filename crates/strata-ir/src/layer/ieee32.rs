//! The bit-level binary32 soft-float ([`Ieee32`]) in an environment, with the exception flags
//! of every operation accumulated.

use super::{Arith, Exported, NumericLayer, Transcendental};
use crate::op::Comparison;
use std::cell::Cell;
use std::cmp::Ordering;
use strata_float::{Flagged, Flags, FpEnv, Ieee32, RoundingMode};
use strata_tensor::{DType, Shape, Tensor};

/// `Ieee32` arithmetic in `env`. Data and constants enter rounded to nearest even (as the
/// native kernels round their `f64` constants), without flags; every operation runs in `env`
/// and its flags accumulate in [`Ieee32Layer::flags`].
#[derive(Clone, Debug, Default)]
pub struct Ieee32Layer {
    env: FpEnv,
    flags: Cell<Flags>,
}

impl Ieee32Layer {
    pub fn new(env: FpEnv) -> Self {
        Ieee32Layer {
            env,
            flags: Cell::new(Flags::NONE),
        }
    }
    pub fn env(&self) -> FpEnv {
        self.env
    }
    /// The flags raised so far.
    pub fn flags(&self) -> Flags {
        self.flags.get()
    }
    /// The flags raised so far, cleared.
    pub fn take_flags(&self) -> Flags {
        self.flags.replace(Flags::NONE)
    }
    fn raise<T>(&self, r: Flagged<T>) -> T {
        self.flags.set(self.flags.get() | r.flags);
        r.value
    }
    fn ordering(&self, a: Ieee32, b: Ieee32) -> Option<Ordering> {
        self.raise(a.compare_quiet(b))
    }
    /// PyTorch's NaN-propagating min/max: the canonical NaN (as `f32::NAN`), else `b` when it
    /// compares `wanted` against `a`, else `a`.
    fn extremum(&self, a: Ieee32, b: Ieee32, wanted: Ordering) -> Ieee32 {
        if a.is_nan() || b.is_nan() {
            Ieee32::CANONICAL_NAN
        } else if self.ordering(b, a) == Some(wanted) {
            b
        } else {
            a
        }
    }
}

fn to_f32(x: Ieee32) -> f32 {
    f32::from_bits(x.to_bits())
}

impl Arith for Ieee32Layer {
    type Scalar = Ieee32;

    fn name(&self) -> &'static str {
        "ieee32"
    }
    fn int(&self, v: i64) -> Ieee32 {
        self.raise(Ieee32::from_i64(v, self.env))
    }
    fn add(&self, a: &Ieee32, b: &Ieee32) -> Ieee32 {
        self.raise(a.add(*b, self.env))
    }
    fn sub(&self, a: &Ieee32, b: &Ieee32) -> Ieee32 {
        self.raise(a.sub(*b, self.env))
    }
    fn mul(&self, a: &Ieee32, b: &Ieee32) -> Ieee32 {
        self.raise(a.mul(*b, self.env))
    }
    fn neg(&self, a: &Ieee32) -> Ieee32 {
        a.neg()
    }
    fn abs(&self, a: &Ieee32) -> Ieee32 {
        a.abs()
    }
    fn maximum(&self, a: &Ieee32, b: &Ieee32) -> Ieee32 {
        self.extremum(*a, *b, Ordering::Greater)
    }
    fn minimum(&self, a: &Ieee32, b: &Ieee32) -> Ieee32 {
        self.extremum(*a, *b, Ordering::Less)
    }
    fn compare(&self, a: &Ieee32, b: &Ieee32, cmp: Comparison) -> Option<bool> {
        let ord = self.ordering(*a, *b);
        Some(match cmp {
            Comparison::Eq => ord == Some(Ordering::Equal),
            Comparison::Ne => ord != Some(Ordering::Equal),
            Comparison::Lt => ord == Some(Ordering::Less),
            Comparison::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
            Comparison::Gt => ord == Some(Ordering::Greater),
            Comparison::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        })
    }
    fn is_nan(&self, a: &Ieee32) -> Option<bool> {
        Some(a.is_nan())
    }
    fn pow(&self, _a: &Ieee32, _b: &Ieee32) -> Result<Ieee32, String> {
        Err(
            "pow is not available in the ieee32 layer (strata-float has no correctly rounded pow)"
                .into(),
        )
    }
}

impl NumericLayer for Ieee32Layer {
    fn of_f32(&self, v: f32) -> Ieee32 {
        Ieee32::from_bits(v.to_bits())
    }
    fn of_f64(&self, v: f64) -> Ieee32 {
        Ieee32::from_f64_bits(v.to_bits(), FpEnv::DEFAULT).value
    }
    fn real(&self, nearest: f64) -> Ieee32 {
        self.of_f64(nearest)
    }
    fn div(&self, a: &Ieee32, b: &Ieee32) -> Ieee32 {
        self.raise(a.div(*b, self.env))
    }
    fn sqrt(&self, a: &Ieee32) -> Ieee32 {
        self.raise(a.sqrt(self.env))
    }
    fn floor(&self, a: &Ieee32) -> Ieee32 {
        let down = FpEnv {
            mode: RoundingMode::TowardNeg,
            ..self.env
        };
        self.raise(a.round_to_integral(down))
    }
    /// strata-float's correctly rounded functions.
    fn transcendental(&self, f: Transcendental, a: &Ieee32) -> Result<Ieee32, String> {
        let env = self.env;
        Ok(self.raise(match f {
            Transcendental::Exp => a.exp(env),
            Transcendental::Ln => a.log(env),
            Transcendental::Ln1p => a.log1p(env),
            Transcendental::Tanh => a.tanh(env),
            Transcendental::Erf => a.erf(env),
            Transcendental::Sin => a.sin(env),
            Transcendental::Cos => a.cos(env),
        }))
    }
    fn bounds(&self, a: &Ieee32) -> Option<(f64, f64)> {
        let v = f64::from(to_f32(*a));
        Some((v, v))
    }
    fn export(&self, data: &[Ieee32], shape: &Shape, _dtype: DType) -> Result<Exported, String> {
        let values: Vec<f32> = data.iter().map(|&x| to_f32(x)).collect();
        Tensor::from_vec(values, shape.clone())
            .map(Exported::Point)
            .map_err(|e| e.to_string())
    }
}
