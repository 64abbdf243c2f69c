//! Native kernels of the random family, all drawn through the shared streams of `mod.rs`.

use crate::eval::Str;
use strata_tensor::{DType, Rng, Shape, Tensor};

/// Training-mode dropout as PyTorch computes it: `(x · keep) · (1/(1−p))` with the keep mask
/// as 0/1 in x's dtype (all zero at p = 1).
pub(crate) fn dropout(x: &Tensor, p: f64, seed: u64) -> Result<Tensor, String> {
    let keep = super::dropout_keep(x.shape(), p, seed)?
        .to_dtype(x.dtype())
        .s()?;
    let scale = if p < 1.0 { 1.0 / (1.0 - p) } else { 0.0 };
    x.mul(&keep).s()?.mul_scalar(scale).s()
}

pub(crate) fn rand_uniform(
    shape: &Shape,
    dtype: DType,
    low: f64,
    high: f64,
    seed: u64,
) -> Result<Tensor, String> {
    Tensor::rand_uniform(shape.clone(), low, high, dtype, &mut Rng::new(seed)).s()
}

/// A 0/1 mask in the probabilities' dtype.
pub(crate) fn bernoulli_mask(shape: &Shape, p: &Tensor, seed: u64) -> Result<Tensor, String> {
    super::bernoulli_true(shape, p, seed)?
        .to_dtype(p.dtype())
        .s()
}
