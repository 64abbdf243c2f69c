//! Gradient clipping (PyTorch's `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`) on
//! named gradients.
//!
//! The total norm is computed as PyTorch does, in two levels: each gradient's norm, rounded to
//! its dtype, then the norm of those norms. Each level sums in f64, sequentially in the
//! gradients' name order (PyTorch's f32 kernel sums in f32 in a vectorized order, so f32 norms
//! may differ from PyTorch's by an ulp). The scale is PyTorch's
//! `min(max_norm · 1/(total + 1e-6), 1)` in the norm's dtype, applied by one multiplication per
//! element.
//!
//! ```
//! use std::collections::BTreeMap;
//! use strata_nn::clip::{clip_grad_norm_, NormType};
//! use strata_tensor::Tensor;
//! # fn main() -> strata_nn::Result<()> {
//! let mut grads = BTreeMap::from([("w".to_string(), Tensor::from_vec(vec![3.0f64, 4.0], [2])?)]);
//! let total = clip_grad_norm_(&mut grads, 1.0, NormType::Two, false)?;
//! assert_eq!(total, 5.0);
//! let g = grads["w"].to_vec::<f64>()?;
//! assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
//! # Ok(())
//! # }
//! ```

use crate::{NnError, Result};
use std::collections::BTreeMap;
use strata_tensor::{DType, Tensor};

/// The norm of the gradients as one vector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NormType {
    /// The Euclidean norm (PyTorch's default `norm_type=2.0`).
    Two,
    /// The largest absolute value (`norm_type=inf`).
    Inf,
    /// `(Σ|x|^p)^(1/p)` for `p > 0`.
    P(f64),
}

impl std::fmt::Display for NormType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NormType::Two => write!(f, "2.0"),
            NormType::Inf => write!(f, "inf"),
            NormType::P(p) => write!(f, "{p:?}"),
        }
    }
}

const CONTEXT: &str = "clip_grad_norm_";

fn check_float(name: &str, g: &Tensor, context: &str) -> Result<()> {
    if matches!(g.dtype(), DType::F32 | DType::F64) {
        Ok(())
    } else {
        Err(NnError::invalid(
            context,
            format!(
                "gradient '{name}' has dtype {}; expected f32 or f64",
                g.dtype()
            ),
        ))
    }
}

/// Rounds `v` to `dtype` (f32 or f64) and back.
fn round_to(v: f64, dtype: DType) -> f64 {
    if dtype == DType::F32 {
        f64::from(v as f32)
    } else {
        v
    }
}

/// The norm of `values` (already f64) in f64, sequentially.
fn norm_of(values: impl Iterator<Item = f64>, norm_type: NormType) -> f64 {
    match norm_type {
        NormType::Two => values.map(|x| x * x).sum::<f64>().sqrt(),
        NormType::Inf => values.fold(0.0, |m: f64, x| {
            let a = x.abs();
            if m.is_nan() || a.is_nan() {
                f64::NAN
            } else {
                m.max(a)
            }
        }),
        NormType::P(p) => values.map(|x| x.abs().powf(p)).sum::<f64>().powf(1.0 / p),
    }
}

/// The total norm of all gradients, as [`clip_grad_norm_`] computes it, rounded to the
/// gradients' dtype (f64 if any gradient is f64) and returned as f64.
pub fn total_norm(
    grads: &BTreeMap<String, Tensor>,
    norm_type: NormType,
    error_if_nonfinite: bool,
) -> Result<f64> {
    if let NormType::P(p) = norm_type {
        if !(p > 0.0 && p.is_finite()) {
            return Err(NnError::invalid(
                CONTEXT,
                format!("norm_type {p} is not a positive finite number (use NormType::Inf)"),
            ));
        }
    }
    let mut norms = Vec::with_capacity(grads.len());
    let mut dtype = DType::F32;
    for (name, g) in grads {
        check_float(name, g, CONTEXT)?;
        if g.dtype() == DType::F64 {
            dtype = DType::F64;
        }
        let n = norm_of(g.to_vec_f64().into_iter(), norm_type);
        norms.push(round_to(n, g.dtype()));
    }
    let total = round_to(norm_of(norms.into_iter(), norm_type), dtype);
    if error_if_nonfinite && !total.is_finite() {
        return Err(NnError::invalid(
            CONTEXT,
            format!(
                "the total norm of order {norm_type} for the gradients is non-finite ({total}), \
                 so it cannot be clipped; pass error_if_nonfinite = false to scale the gradients \
                 by the non-finite norm anyway"
            ),
        ));
    }
    Ok(total)
}

/// Scales all gradients together so that their total norm is at most `max_norm`; returns the
/// total norm before clipping. A non-finite norm is an error when `error_if_nonfinite`, and
/// otherwise (as in PyTorch) scales the gradients by NaN.
pub fn clip_grad_norm_(
    grads: &mut BTreeMap<String, Tensor>,
    max_norm: f64,
    norm_type: NormType,
    error_if_nonfinite: bool,
) -> Result<f64> {
    let total = total_norm(grads, norm_type, error_if_nonfinite)?;
    if grads.is_empty() {
        return Ok(total);
    }
    let total_dtype = if grads.values().any(|g| g.dtype() == DType::F64) {
        DType::F64
    } else {
        DType::F32
    };
    // PyTorch: clip_coef = max_norm / (total_norm + 1e-6), a Python float over a tensor,
    // which is `reciprocal(t) * max_norm`; then clamp(max = 1.0), NaN staying NaN.
    let coef = if total_dtype == DType::F32 {
        let t = total as f32 + 1e-6f32;
        f64::from((1.0 / t) * max_norm as f32)
    } else {
        (1.0 / (total + 1e-6)) * max_norm
    };
    let clamped = if coef.is_nan() { coef } else { coef.min(1.0) };
    for g in grads.values_mut() {
        let scaled = match g.dtype() {
            DType::F32 => {
                let c = clamped as f32;
                let v: Vec<f32> = g.data::<f32>()?.iter().map(|x| x * c).collect();
                Tensor::from_vec(v, g.shape().clone())?
            }
            _ => {
                let v: Vec<f64> = g.data::<f64>()?.iter().map(|x| x * clamped).collect();
                Tensor::from_vec(v, g.shape().clone())?
            }
        };
        *g = scaled;
    }
    Ok(total)
}

/// Clamps every gradient element to `[-clip_value, clip_value]` (NaN stays NaN).
pub fn clip_grad_value_(grads: &mut BTreeMap<String, Tensor>, clip_value: f64) -> Result<()> {
    if clip_value.is_nan() {
        return Err(NnError::invalid("clip_grad_value_", "clip_value is NaN"));
    }
    for (name, g) in grads.iter() {
        check_float(name, g, "clip_grad_value_")?;
    }
    for g in grads.values_mut() {
        // Tensor::clamp rounds the bounds to the dtype and propagates NaN, as torch.clamp_.
        *g = g.clamp(-clip_value, clip_value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grads(v: &[(&str, Vec<f64>)]) -> BTreeMap<String, Tensor> {
        v.iter()
            .map(|(n, x)| {
                (
                    n.to_string(),
                    Tensor::from_vec(x.clone(), [x.len()]).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn two_norm_of_a_3_4_12_vector_is_13() {
        // 3² + 4² + 12² = 169: the per-tensor norms 5 and 12 give sqrt(25 + 144) = 13.
        let mut g = grads(&[("a", vec![3.0, 4.0]), ("b", vec![12.0])]);
        let total = clip_grad_norm_(&mut g, 6.5, NormType::Two, false).unwrap();
        assert_eq!(total, 13.0);
        let scale = (1.0 / (13.0 + 1e-6)) * 6.5;
        assert_eq!(g["a"].to_vec::<f64>().unwrap(), [3.0 * scale, 4.0 * scale]);
        assert_eq!(g["b"].to_vec::<f64>().unwrap(), [12.0 * scale]);
    }

    #[test]
    fn small_norms_are_left_alone_and_inf_norm_is_the_max() {
        let mut g = grads(&[("a", vec![0.1, -0.7]), ("b", vec![0.2])]);
        assert_eq!(
            clip_grad_norm_(&mut g, 1.0, NormType::Inf, false).unwrap(),
            0.7
        );
        assert_eq!(g["a"].to_vec::<f64>().unwrap(), [0.1, -0.7]);
        assert_eq!(g["b"].to_vec::<f64>().unwrap(), [0.2]);
        assert_eq!(
            total_norm(&g, NormType::P(1.0), false).unwrap(),
            0.1 + 0.7 + 0.2
        );
    }

    #[test]
    fn non_finite_norm_errors_or_poisons() {
        let mut g = grads(&[("a", vec![f64::INFINITY, 1.0])]);
        let e = clip_grad_norm_(&mut g, 1.0, NormType::Two, true).unwrap_err();
        assert!(e.to_string().contains("non-finite"), "{e}");
        let mut g = grads(&[("a", vec![f64::NAN, 1.0])]);
        let t = clip_grad_norm_(&mut g, 1.0, NormType::Two, false).unwrap();
        assert!(t.is_nan());
        assert!(g["a"].to_vec::<f64>().unwrap().iter().all(|x| x.is_nan()));
    }

    #[test]
    fn value_clipping_clamps_and_keeps_nan() {
        let mut g = grads(&[("a", vec![-2.0, 0.1, 5.0, f64::NAN])]);
        clip_grad_value_(&mut g, 0.5).unwrap();
        let v = g["a"].to_vec::<f64>().unwrap();
        assert_eq!(&v[..3], [-0.5, 0.1, 0.5]);
        assert!(v[3].is_nan());
    }

    #[test]
    fn integer_gradients_are_an_error_naming_them() {
        let mut g = BTreeMap::from([(
            "idx".to_string(),
            Tensor::from_vec(vec![1i64], [1]).unwrap(),
        )]);
        let e = clip_grad_norm_(&mut g, 1.0, NormType::Two, false).unwrap_err();
        assert!(e.to_string().contains("'idx'"), "{e}");
        assert!(clip_grad_value_(&mut g, 1.0).is_err());
    }
}
