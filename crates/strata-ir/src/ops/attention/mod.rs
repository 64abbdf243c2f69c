//! Softmax, log-softmax, masked softmax and scaled dot-product attention.

use super::{axis, common_dtype, require_float, RuleResult, TensorType};
use strata_tensor::{broadcast_shapes, DType, Shape};

pub(crate) mod error;
pub(crate) mod reference;

/// softmax and log_softmax along `axis`: the input's type.
pub(super) fn softmax(along: isize, x: &TensorType) -> RuleResult {
    require_float(x.dtype, "the input")?;
    axis(along, x.rank())?;
    Ok(x.clone())
}

/// Checks that a bool `mask` broadcasts to exactly `target`.
fn check_mask(mask: &TensorType, target: &Shape) -> Result<(), String> {
    if mask.dtype != DType::Bool {
        return Err(format!("the mask must be bool, got {}", mask.dtype));
    }
    match broadcast_shapes("mask", &mask.shape, target) {
        Ok(shape) if &shape == target => Ok(()),
        _ => Err(format!(
            "the mask {} does not broadcast to {target}",
            mask.shape
        )),
    }
}

/// masked_softmax: `x`'s type; the mask broadcasts to `x`.
pub(super) fn masked_softmax(along: isize, x: &TensorType, mask: &TensorType) -> RuleResult {
    softmax(along, x)?;
    check_mask(mask, &x.shape)?;
    Ok(x.clone())
}

/// F.scaled_dot_product_attention: `q [*, L, E]`, `k [*, S, E]`, `v [*, S, Ev]`, batch dims
/// broadcast; an explicit mask broadcasts to `[*, L, S]`. Output `[*, L, Ev]`.
pub(super) fn scaled_dot_product_attention(
    scale: Option<f64>,
    inputs: &[TensorType],
) -> RuleResult {
    if let Some(s) = scale.filter(|s| !s.is_finite()) {
        return Err(format!("the scale must be finite, got {s}"));
    }
    let (q, k, v) = (&inputs[0], &inputs[1], &inputs[2]);
    let dtype = common_dtype(&[q, k, v])?;
    require_float(dtype, "q, k and v")?;
    let split = |t: &TensorType, what: &str| match t.dims() {
        [batch @ .., rows, cols] => Ok((Shape::from(batch), *rows, *cols)),
        _ => Err(format!("{what} needs rank ≥ 2, got {}", t.shape)),
    };
    let (qb, l, e) = split(q, "q")?;
    let (kb, s, ek) = split(k, "k")?;
    let (vb, sv, ev) = split(v, "v")?;
    if ek != e || sv != s {
        return Err(format!(
            "expected q [*, L, E], k [*, S, E], v [*, S, Ev]; got {}, {}, {}",
            q.shape, k.shape, v.shape
        ));
    }
    let batch = broadcast_shapes("attention", &qb, &kb)
        .and_then(|b| broadcast_shapes("attention", &b, &vb))
        .map_err(|_| format!("batch dims {qb}, {kb}, {vb} do not broadcast"))?
        .into_vec();
    if let Some(mask) = inputs.get(3) {
        check_mask(mask, &Shape::new([batch.as_slice(), &[l, s]].concat()))?;
    }
    Ok(TensorType::new(
        [batch.as_slice(), &[l, ev]].concat(),
        dtype,
    ))
}
