//! Seeded randomness: dropout, uniform samples, Bernoulli masks.

use super::{require_float, RuleResult, TensorType};
use strata_tensor::{broadcast_shapes, DType, Rng, Shape, Tensor};

pub(crate) mod native;
pub(crate) mod reference;

fn check_probability(p: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!("the probability {p} is not in [0, 1]"))
    }
}

/// Dropout: the input's type.
pub(super) fn dropout(p: f64, x: &TensorType) -> RuleResult {
    check_probability(p)?;
    require_float(x.dtype, "the input")?;
    Ok(x.clone())
}

/// Uniform samples: the declared float type; `low ≤ high`, both finite.
pub(super) fn rand_uniform(shape: &Shape, dtype: DType, low: f64, high: f64) -> RuleResult {
    require_float(dtype, "the samples")?;
    if !(low.is_finite() && high.is_finite() && low <= high) {
        return Err(format!("[{low}, {high}) is not a finite interval"));
    }
    Ok(TensorType::new(shape.clone(), dtype))
}

/// Bernoulli mask: the declared shape in the probabilities' (float) dtype; the
/// probabilities broadcast to it.
pub(super) fn bernoulli_mask(shape: &Shape, probabilities: &TensorType) -> RuleResult {
    require_float(probabilities.dtype, "the probabilities")?;
    match broadcast_shapes("bernoulli_mask", &probabilities.shape, shape) {
        Ok(s) if &s == shape => Ok(TensorType::new(shape.clone(), probabilities.dtype)),
        _ => Err(format!(
            "the probabilities {} do not broadcast to {shape}",
            probabilities.shape
        )),
    }
}

/// One uniform draw in `[0, 1)` per element of `shape` (f64) from the Philox stream of `seed`:
/// the single source of randomness of `dropout` and `bernoulli_mask`, so every interpreter
/// and every backend draws the same masks.
pub(crate) fn uniform_draws(shape: &Shape, seed: u64) -> Result<Tensor, String> {
    Tensor::rand(shape.clone(), DType::F64, &mut Rng::new(seed)).map_err(|e| e.to_string())
}

/// Dropout's keep mask (bool): kept where the draw is `≥ p`, so with probability `1 − p`.
pub(crate) fn dropout_keep(shape: &Shape, p: f64, seed: u64) -> Result<Tensor, String> {
    let draws = uniform_draws(shape, seed)?;
    draws.ge(&Tensor::scalar(p)).map_err(|e| e.to_string())
}

/// Bernoulli mask (bool): `true` where the draw is `<` the (broadcast) probability.
pub(crate) fn bernoulli_true(
    shape: &Shape,
    probabilities: &Tensor,
    seed: u64,
) -> Result<Tensor, String> {
    let p = probabilities
        .to_dtype(DType::F64)
        .map_err(|e| e.to_string())?;
    uniform_draws(shape, seed)?
        .lt(&p)
        .map_err(|e| e.to_string())
}
