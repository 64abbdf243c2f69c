//! Sources: `input`, `constant`, `parameter` (no inputs; the type is in the attributes).

use super::TensorType;
use crate::op::Literal;
use strata_tensor::{DType, Shape};

pub(crate) mod reference;

/// `input` and `parameter`: the declared type.
pub(super) fn declared(shape: &Shape, dtype: DType) -> TensorType {
    TensorType::new(shape.clone(), dtype)
}

/// `constant`: the stored tensor's type.
pub(super) fn constant(value: &Literal) -> TensorType {
    TensorType::new(value.0.shape().clone(), value.0.dtype())
}
