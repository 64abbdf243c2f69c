//! Reductions along axes: sum, mean, max. Exactly the listed axes are reduced (an empty
//! list reduces none, unlike PyTorch's `dim=[]`, which reduces all); duplicates are errors.

use super::{axis, RuleResult, TensorType};
use crate::op::Op;
use strata_tensor::DType;

pub(crate) mod error;
pub(crate) mod reference;

pub(super) fn reduce(op: &Op, axes: &[isize], keepdim: bool, x: &TensorType) -> RuleResult {
    match (op, x.dtype) {
        (_, DType::Bool) => return Err("needs a numeric dtype, got bool".into()),
        (Op::ReduceMean { .. }, d) if !d.is_float() => {
            return Err(format!("a mean needs a float dtype, got {d}"))
        }
        _ => {}
    }
    let mut reduced = vec![false; x.rank()];
    for &a in axes {
        let r = axis(a, x.rank())?;
        if std::mem::replace(&mut reduced[r], true) {
            return Err(format!("axis {a} is listed twice in {axes:?}"));
        }
    }
    let empty_max = matches!(op, Op::ReduceMax { .. })
        && (x.dims().iter().zip(&reduced)).any(|(&d, &r)| r && d == 0);
    if empty_max {
        return Err(format!(
            "the maximum over an empty axis of {} is undefined",
            x.shape
        ));
    }
    let dims: Vec<usize> = (x.dims().iter().zip(&reduced))
        .filter_map(|(&d, &r)| match (r, keepdim) {
            (false, _) => Some(d),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect();
    Ok(TensorType::new(dims, x.dtype))
}
