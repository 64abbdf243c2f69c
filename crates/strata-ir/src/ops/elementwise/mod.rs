//! Elementwise ops: unary maps (same type out) and broadcasting binary ops.

use super::{common_dtype, RuleResult, TensorType};
use crate::op::Op;
use strata_tensor::{broadcast_shapes, DType};

pub(crate) mod error;
pub(crate) mod native;
pub(crate) mod reference;

/// Which dtypes an elementwise op accepts.
#[derive(Clone, Copy, PartialEq)]
enum Domain {
    /// Every dtype (value-preserving ops).
    Any,
    /// Numbers: every dtype but bool.
    Numeric,
    /// Floats only (transcendental ops, true division).
    Float,
    /// Bool only (logical ops).
    Bool,
}

fn domain(op: &Op) -> Domain {
    match op {
        Op::Detach | Op::Compare { .. } => Domain::Any,
        Op::LogicalNot | Op::LogicalAnd | Op::LogicalOr => Domain::Bool,
        Op::Neg
        | Op::Abs
        | Op::Square
        | Op::Relu
        | Op::Add
        | Op::Sub
        | Op::Mul
        | Op::Pow
        | Op::Minimum
        | Op::Maximum
        | Op::Sign => Domain::Numeric,
        _ => Domain::Float,
    }
}

fn check_domain(op: &Op, dtype: DType) -> Result<(), String> {
    let (ok, expected) = match domain(op) {
        Domain::Any => (true, ""),
        Domain::Numeric => (dtype != DType::Bool, "a numeric dtype"),
        Domain::Float => (dtype.is_float(), "a float dtype"),
        Domain::Bool => (dtype == DType::Bool, "bool"),
    };
    if ok {
        Ok(())
    } else {
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
    let dtype = if matches!(op, Op::Compare { .. }) {
        DType::Bool
    } else {
        dtype
    };
    Ok(TensorType::new(shape, dtype))
}

/// Shape rule of `where`: a bool condition; the values share one dtype; all three broadcast.
pub(super) fn where_(cond: &TensorType, x: &TensorType, y: &TensorType) -> RuleResult {
    if cond.dtype != DType::Bool {
        return Err(format!("the condition must be bool, got {}", cond.dtype));
    }
    let dtype = common_dtype(&[x, y])?;
    let shape = broadcast_shapes("where", &x.shape, &y.shape)
        .and_then(|s| broadcast_shapes("where", &cond.shape, &s))
        .map_err(|_| {
            format!(
                "shapes {}, {} and {} do not broadcast",
                cond.shape, x.shape, y.shape
            )
        })?;
    Ok(TensorType::new(shape, dtype))
}
