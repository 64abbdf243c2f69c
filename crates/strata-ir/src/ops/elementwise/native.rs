//! Native kernels of the elementwise family that are more than one tensor call.

use crate::eval::Str;
use strata_tensor::{DType, Tensor};

/// F.softplus with `beta` and `threshold`: `x` where `beta·x > threshold`, else
/// `log1p(exp(beta·x)) / beta`.
pub(crate) fn softplus(x: &Tensor, beta: f64, threshold: f64) -> Result<Tensor, String> {
    if beta == 1.0 && threshold == 20.0 {
        return x.softplus().s();
    }
    let bx = x.mul_scalar(beta).s()?;
    // The kernel's own threshold (20) only matters where `threshold` is above it, and there
    // log1p(exp(z)) rounds to z in both float types.
    let smooth = bx.softplus().s()?.div_scalar(beta).s()?;
    let linear = bx.gt(&Tensor::scalar_f64(threshold, x.dtype())).s()?;
    Tensor::where_cond(&linear, x, &smooth).s()
}

/// `x.to(dtype)`; a float → i64 cast of a NaN, an infinity or a value out of i64's range is
/// an error rather than a silent saturation.
pub(crate) fn cast(x: &Tensor, dtype: DType) -> Result<Tensor, String> {
    if dtype == DType::I64 && x.dtype().is_float() {
        let limit = 2f64.powi(63);
        if let Some(v) = x
            .to_vec_f64()
            .into_iter()
            .find(|v| !(v.is_finite() && v.abs() < limit))
        {
            return Err(format!("{v} does not convert to i64"));
        }
    }
    x.to_dtype(dtype).s()
}
