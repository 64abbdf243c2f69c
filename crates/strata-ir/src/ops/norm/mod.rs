//! Normalization: batch_norm (eval), layer_norm, rms_norm, group_norm. Each returns the
//! input's type; the rules check the statistics' and affine parameters' shapes.

use super::{common_dtype, require_dims, require_float, RuleResult, TensorType};

pub(crate) mod error;
pub(crate) mod reference;

/// Float operands of one dtype, an input `[N, C, *]`; returns `C`.
fn channels(inputs: &[TensorType]) -> Result<usize, String> {
    let dtype = common_dtype(&inputs.iter().collect::<Vec<_>>())?;
    require_float(dtype, "a normalization's operands")?;
    match inputs[0].dims() {
        [_, c, ..] => Ok(*c),
        _ => Err(format!(
            "the input must be [N, C, *], got {}",
            inputs[0].shape
        )),
    }
}

fn check_eps(eps: f64) -> Result<(), String> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(())
    } else {
        Err(format!("eps must be finite and non-negative, got {eps}"))
    }
}

/// F.batch_norm (eval): `running_mean`, `running_var` (and `weight`, `bias`) are `[C]`.
pub(super) fn batch_norm(eps: f64, inputs: &[TensorType]) -> RuleResult {
    check_eps(eps)?;
    let c = channels(inputs)?;
    for (p, what) in inputs[1..]
        .iter()
        .zip(["running_mean", "running_var", "weight", "bias"])
    {
        require_dims(p, &[c], what)?;
    }
    Ok(inputs[0].clone())
}

/// F.layer_norm and F.rms_norm: the input's trailing dims equal `normalized_shape` (not
/// empty); `weight` (and `bias`) have that shape.
pub(super) fn trailing_norm(
    normalized_shape: &[usize],
    eps: Option<f64>,
    inputs: &[TensorType],
) -> RuleResult {
    if let Some(eps) = eps {
        check_eps(eps)?;
    }
    let dtype = common_dtype(&inputs.iter().collect::<Vec<_>>())?;
    require_float(dtype, "a normalization's operands")?;
    let x = &inputs[0];
    if normalized_shape.is_empty() || !x.dims().ends_with(normalized_shape) {
        return Err(format!(
            "the input's trailing dims must be normalized_shape {:?}",
            normalized_shape
        ));
    }
    for (p, what) in inputs[1..].iter().zip(["weight", "bias"]) {
        require_dims(p, normalized_shape, what)?;
    }
    Ok(x.clone())
}

/// F.group_norm: `C` divisible by `num_groups > 0`; `weight`, `bias` are `[C]`.
pub(super) fn group_norm(num_groups: usize, eps: f64, inputs: &[TensorType]) -> RuleResult {
    check_eps(eps)?;
    let c = channels(inputs)?;
    if num_groups == 0 || !c.is_multiple_of(num_groups) {
        return Err(format!(
            "{c} channels do not split into {num_groups} groups"
        ));
    }
    for (p, what) in inputs[1..].iter().zip(["weight", "bias"]) {
        require_dims(p, &[c], what)?;
    }
    Ok(inputs[0].clone())
}
