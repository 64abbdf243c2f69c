//! Margin transfer (TorchLean §6.4.9): a real-valued verdict "spec(y) ≥ margin > 0 for every
//! input in the box" also holds for the native float32 execution when the margin exceeds the
//! runtime error budget of the spec, `Σ_k |c_k|·err_k` for a linear spec `Σ_k c_k·y_k`.

use crate::bounds::{forward_bounds, Analysis};
use crate::region::Region;
use crate::ApproxError;
use strata_ir::{Graph, ParamStore};
use strata_tensor::Tensor;

/// A verified real margin and the float32 error budget it has to dominate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MarginTransfer {
    /// The verified lower bound of the spec over the reals.
    pub margin: f64,
    /// The largest |native − real| of the spec's value over the region.
    pub budget: f64,
}

impl MarginTransfer {
    /// Whether the verdict holds for the native execution: margin − budget > 0.
    pub fn holds(&self) -> bool {
        self.margin - self.budget > 0.0
    }
}

/// The budget of the linear spec `Σ_k c_k·y_k` given per-output error bounds `err`
/// (`spec = None`: the difference of any two outputs, 2·max err).
pub fn spec_budget(err: &[f64], spec: Option<&[f64]>) -> Result<f64, ApproxError> {
    let budget = match spec {
        None => 2.0 * err.iter().fold(0.0, |m: f64, &e| m.max(e)),
        Some(c) if c.len() == err.len() => (c.iter().zip(err)).map(|(c, e)| c.abs() * e).sum(),
        Some(c) => {
            return Err(ApproxError::Input(format!(
                "the spec has {} coefficients for {} outputs",
                c.len(),
                err.len()
            )))
        }
    };
    // The sum's own f64 rounding, and one step up.
    Ok((budget * (1.0 + 2f64.powi(-40))).next_up())
}

/// One call for `strata verify --float32` and the demo: bounds the native float32 execution of
/// `graph` (output 0) over the box `[lo, hi]` and compares the budget of `spec` with `margin`.
pub fn float32_margin(
    graph: &Graph,
    params: &ParamStore,
    lo: &Tensor,
    hi: &Tensor,
    margin: f64,
    spec: Option<&[f64]>,
) -> Result<MarginTransfer, ApproxError> {
    let region = Region::Box {
        lo: vec![lo.clone()],
        hi: vec![hi.clone()],
    };
    let bounds = forward_bounds(graph, params, &region, &Analysis::default())?;
    let err = bounds.output_err(0)?.to_vec_f64();
    Ok(MarginTransfer {
        margin,
        budget: spec_budget(&err, spec)?,
    })
}
