//! Seeded randomness: dropout, uniform samples, Bernoulli masks.

use super::{require_float, RuleResult, TensorType};
use strata_tensor::{broadcast_shapes, DType, Shape};

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
