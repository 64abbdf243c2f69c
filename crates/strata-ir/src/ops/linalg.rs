//! Linear algebra: `matmul` (torch.matmul) and `linear` (F.linear).

use super::{common_dtype, require_dims, require_float, RuleResult, TensorType};
use strata_tensor::{broadcast_shapes, DType, Shape};

/// torch.matmul: `[n]·[n] → []`; `[m, k]·[k, n] → [m, n]`; a 1-D left operand is a row
/// (prepended 1, removed after), a 1-D right operand a column (appended 1, removed after);
/// batch dimensions (all but the last two) broadcast.
pub(super) fn matmul(a: &TensorType, b: &TensorType) -> RuleResult {
    let dtype = common_dtype(&[a, b])?;
    if dtype == DType::Bool {
        return Err("needs a numeric dtype, got bool".into());
    }
    if a.rank() == 0 || b.rank() == 0 {
        return Err("both operands need at least one dimension".into());
    }
    let mut lhs = a.dims().to_vec();
    let mut rhs = b.dims().to_vec();
    let (row, col) = (lhs.len() == 1, rhs.len() == 1);
    if row {
        lhs.insert(0, 1);
    }
    if col {
        rhs.push(1);
    }
    let (m, k) = (lhs[lhs.len() - 2], lhs[lhs.len() - 1]);
    let (k2, n) = (rhs[rhs.len() - 2], rhs[rhs.len() - 1]);
    if k != k2 {
        return Err(format!(
            "the contracted dimensions differ: {} has {k} columns, {} has {k2} rows",
            a.shape, b.shape
        ));
    }
    let batch_a = Shape::from(&lhs[..lhs.len() - 2]);
    let batch_b = Shape::from(&rhs[..rhs.len() - 2]);
    let batch = broadcast_shapes("matmul", &batch_a, &batch_b)
        .map_err(|_| format!("batch dimensions {batch_a} and {batch_b} do not broadcast"))?;
    let mut dims = batch.into_vec();
    if !row {
        dims.push(m);
    }
    if !col {
        dims.push(n);
    }
    Ok(TensorType::new(dims, dtype))
}

/// F.linear: `x [*, in]`, `weight [out, in]`, optional `bias [out]` → `[*, out]`.
pub(super) fn linear(inputs: &[TensorType]) -> RuleResult {
    let (x, weight) = (&inputs[0], &inputs[1]);
    let dtype = common_dtype(&inputs.iter().collect::<Vec<_>>())?;
    require_float(dtype, "linear's operands")?;
    let [out_features, in_features] = weight.dims() else {
        return Err(format!(
            "the weight must be [out, in], got {}",
            weight.shape
        ));
    };
    if x.dims().last() != Some(in_features) {
        return Err(format!(
            "the input's last dimension must be the weight's {in_features} input features"
        ));
    }
    if let Some(bias) = inputs.get(2) {
        require_dims(bias, &[*out_features], "the bias")?;
    }
    let mut dims = x.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = *out_features;
    }
    Ok(TensorType::new(dims, dtype))
}
