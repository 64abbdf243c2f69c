//! Elementwise ops: unary maps (same type out) and broadcasting binary ops.

use super::{common_dtype, RuleResult, TensorType};
use crate::op::Op;
use strata_tensor::{broadcast_shapes, DType};

/// Which dtypes an elementwise op accepts.
#[derive(Clone, Copy, PartialEq)]
enum Domain {
    /// Every dtype (value-preserving ops).
    Any,
    /// Numbers: every dtype but bool.
    Numeric,
    /// Floats only (transcendental ops, true division).
    Float,
}

fn domain(op: &Op) -> Domain {
    match op {
        Op::Detach => Domain::Any,
        Op::Neg
        | Op::Abs
        | Op::Square
        | Op::Relu
        | Op::Add
        | Op::Sub
        | Op::Mul
        | Op::Pow
        | Op::Minimum
        | Op::Maximum => Domain::Numeric,
        _ => Domain::Float,
    }
}

fn check_domain(op: &Op, dtype: DType) -> Result<(), String> {
    let ok = match domain(op) {
        Domain::Any => true,
        Domain::Numeric => dtype != DType::Bool,
        Domain::Float => dtype.is_float(),
    };
    if ok {
        Ok(())
    } else {
        let expected = if domain(op) == Domain::Float {
            "a float dtype"
        } else {
            "a numeric dtype"
        };
        Err(format!("needs {expected}, got {dtype}"))
    }
}

/// Shape rule of every unary elementwise op: the input's type.
pub(super) fn unary(op: &Op, x: &TensorType) -> RuleResult {
    check_domain(op, x.dtype)?;
    Ok(x.clone())
}

/// Shape rule of every binary elementwise op: NumPy broadcasting, one shared dtype.
pub(super) fn binary(op: &Op, a: &TensorType, b: &TensorType) -> RuleResult {
    let dtype = common_dtype(&[a, b])?;
    check_domain(op, dtype)?;
    let shape = broadcast_shapes(op.tag(), &a.shape, &b.shape)
        .map_err(|_| format!("shapes {} and {} do not broadcast", a.shape, b.shape))?;
    Ok(TensorType::new(shape, dtype))
}
