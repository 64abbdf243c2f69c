//! Losses: mse, cross-entropy, nll, bce-with-logits. `reduction: none` keeps the
//! per-element shape; `mean` and `sum` give a scalar.

use super::{common_dtype, require_float, RuleResult, TensorType};
use crate::op::Reduction;
use strata_tensor::{DType, Shape};

pub(crate) mod reference;

fn reduced(reduction: Reduction, per_element: Shape, dtype: DType) -> TensorType {
    match reduction {
        Reduction::None => TensorType::new(per_element, dtype),
        Reduction::Mean | Reduction::Sum => TensorType::new(Shape::scalar(), dtype),
    }
}

/// F.mse_loss and F.binary_cross_entropy_with_logits: float operands of equal shapes.
pub(super) fn same_shape_loss(
    reduction: Reduction,
    input: &TensorType,
    target: &TensorType,
) -> RuleResult {
    let dtype = common_dtype(&[input, target])?;
    require_float(dtype, "the operands")?;
    if input.shape != target.shape {
        return Err(format!(
            "input {} and target {} must have equal shapes",
            input.shape, target.shape
        ));
    }
    Ok(reduced(reduction, input.shape.clone(), dtype))
}

/// F.cross_entropy (`probabilities_allowed`) and F.nll_loss: scores `[N, C, d…]` or `[C]`;
/// the target holds i64 class indices `[N, d…]` (`[]` for `[C]`) or, for cross-entropy only,
/// probabilities of the scores' shape and dtype. Per element: the scores without the class axis.
pub(super) fn class_loss(
    reduction: Reduction,
    probabilities_allowed: bool,
    scores: &TensorType,
    target: &TensorType,
) -> RuleResult {
    require_float(scores.dtype, "the scores")?;
    let class_axis = match scores.rank() {
        0 => return Err("the scores need a class axis".into()),
        1 => 0,
        _ => 1,
    };
    let mut per_element = scores.dims().to_vec();
    per_element.remove(class_axis);
    match target.dtype {
        DType::I64 if target.dims() == per_element => {}
        dtype if probabilities_allowed && dtype == scores.dtype && target.shape == scores.shape => {
        }
        _ => {
            let expected = format!("i64 class indices {}", Shape::from(per_element.as_slice()));
            let alternative = if probabilities_allowed {
                format!(" or {} probabilities {}", scores.dtype, scores.shape)
            } else {
                String::new()
            };
            return Err(format!("the target must be {expected}{alternative}"));
        }
    }
    Ok(reduced(reduction, per_element.into(), scores.dtype))
}
