//! Indexing and masks: embedding lookup, gather, argmax, triangular masks.

use super::{axis, require_float, RuleResult, TensorType};
use strata_tensor::DType;

pub(crate) mod reference;

fn require_indices(t: &TensorType, what: &str) -> Result<(), String> {
    if t.dtype == DType::I64 {
        Ok(())
    } else {
        Err(format!("{what} must be i64, got {}", t.dtype))
    }
}

/// F.embedding: i64 `indices [*]`, float `weight [V, D]` → `[*, D]` in the weight's dtype.
pub(super) fn embedding(indices: &TensorType, weight: &TensorType) -> RuleResult {
    require_indices(indices, "the indices")?;
    require_float(weight.dtype, "the weight")?;
    let [_, dim] = weight.dims() else {
        return Err(format!("the weight must be [V, D], got {}", weight.shape));
    };
    let mut dims = indices.dims().to_vec();
    dims.push(*dim);
    Ok(TensorType::new(dims, weight.dtype))
}

/// torch.gather: `index` (i64) has `x`'s rank and fits in `x` on every axis but `axis`;
/// the output has `index`'s shape and `x`'s dtype.
pub(super) fn gather(along: isize, x: &TensorType, index: &TensorType) -> RuleResult {
    require_indices(index, "the index")?;
    if index.rank() != x.rank() {
        return Err(format!(
            "the index {} must have the input's rank {}",
            index.shape,
            x.rank()
        ));
    }
    let a = axis(along, x.rank().max(1))?;
    let fits = (index.dims().iter().zip(x.dims()).enumerate()).all(|(d, (i, n))| d == a || i <= n);
    if !fits {
        return Err(format!(
            "the index {} exceeds the input {} off axis {a}",
            index.shape, x.shape
        ));
    }
    Ok(TensorType::new(index.shape.clone(), x.dtype))
}

/// torch.tril / torch.triu: at least two axes; the type is kept.
pub(super) fn trilu(x: &TensorType) -> RuleResult {
    if x.rank() < 2 {
        return Err(format!("needs at least two axes, got {}", x.shape));
    }
    Ok(x.clone())
}

/// torch.argmax along one axis (which must not be empty) → i64.
pub(super) fn arg_max(along: isize, keepdim: bool, x: &TensorType) -> RuleResult {
    if x.dtype == DType::Bool {
        return Err("needs a numeric dtype, got bool".into());
    }
    let a = axis(along, x.rank().max(1))?;
    let mut dims = x.dims().to_vec();
    if x.rank() == 0 {
        return Ok(TensorType::new(dims, DType::I64));
    }
    if dims[a] == 0 {
        return Err(format!(
            "the argmax over an empty axis of {} is undefined",
            x.shape
        ));
    }
    if keepdim {
        dims[a] = 1;
    } else {
        dims.remove(a);
    }
    Ok(TensorType::new(dims, DType::I64))
}
