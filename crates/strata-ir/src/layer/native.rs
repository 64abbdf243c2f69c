//! Native binary32 and binary64 arithmetic, one scalar at a time, through the same
//! [`strata_tensor::Float`] methods the native kernels call (libm for the transcendentals).

use super::{ordered, Arith, Exported, NumericLayer, Transcendental};
use crate::op::Comparison;
use std::marker::PhantomData;
use strata_tensor::{DType, Float, Shape, Tensor};

/// Native arithmetic in `T` (`f32` or `f64`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Native<T>(PhantomData<T>);

impl<T> Native<T> {
    pub fn new() -> Self {
        Native(PhantomData)
    }
}

/// Native binary32: the scalar reference of the `f32` kernels.
pub type F32Layer = Native<f32>;
/// Native binary64.
pub type F64Layer = Native<f64>;

/// The layer's name for each native type.
pub trait NativeFloat: Float {
    const NAME: &'static str;
}

impl NativeFloat for f32 {
    const NAME: &'static str = "f32";
}

impl NativeFloat for f64 {
    const NAME: &'static str = "f64";
}

impl<T: NativeFloat> Arith for Native<T> {
    type Scalar = T;

    fn name(&self) -> &'static str {
        T::NAME
    }
    fn int(&self, v: i64) -> T {
        T::from_i64(v)
    }
    fn add(&self, a: &T, b: &T) -> T {
        *a + *b
    }
    fn sub(&self, a: &T, b: &T) -> T {
        *a - *b
    }
    fn mul(&self, a: &T, b: &T) -> T {
        *a * *b
    }
    fn neg(&self, a: &T) -> T {
        -*a
    }
    fn abs(&self, a: &T) -> T {
        a.abs()
    }
    fn maximum(&self, a: &T, b: &T) -> T {
        a.max_nan(*b)
    }
    fn minimum(&self, a: &T, b: &T) -> T {
        a.min_nan(*b)
    }
    fn compare(&self, a: &T, b: &T, cmp: Comparison) -> Option<bool> {
        Some(ordered(*a, *b, cmp))
    }
    fn is_nan(&self, a: &T) -> Option<bool> {
        Some(a.is_nan())
    }
    fn pow(&self, a: &T, b: &T) -> Result<T, String> {
        Ok(a.powf(*b))
    }
}

impl<T: NativeFloat> NumericLayer for Native<T> {
    fn of_f32(&self, v: f32) -> T {
        T::from_f64(f64::from(v))
    }
    fn of_f64(&self, v: f64) -> T {
        T::from_f64(v)
    }
    fn real(&self, nearest: f64) -> T {
        T::from_f64(nearest)
    }
    fn div(&self, a: &T, b: &T) -> T {
        *a / *b
    }
    fn sqrt(&self, a: &T) -> T {
        a.sqrt()
    }
    fn floor(&self, a: &T) -> T {
        a.floor()
    }
    fn transcendental(&self, f: Transcendental, a: &T) -> Result<T, String> {
        Ok(match f {
            Transcendental::Exp => a.exp(),
            Transcendental::Ln => a.ln(),
            Transcendental::Ln1p => a.ln_1p(),
            Transcendental::Tanh => a.tanh(),
            Transcendental::Erf => a.erf(),
            Transcendental::Sin => a.sin(),
            Transcendental::Cos => a.cos(),
        })
    }
    fn bounds(&self, a: &T) -> Option<(f64, f64)> {
        Some((a.to_f64(), a.to_f64()))
    }
    fn export(&self, data: &[T], shape: &Shape, _dtype: DType) -> Result<Exported, String> {
        Tensor::from_vec(data.to_vec(), shape.clone())
            .map(Exported::Point)
            .map_err(|e| e.to_string())
    }
}
