//! One error type for every tensor operation: it always names the operation and the offending
//! shapes or dtypes, so a caller sees *where* a program went wrong without a backtrace.

use crate::{DType, Shape};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TensorError {
    #[error("{op}: shape mismatch between {lhs} and {rhs}")]
    ShapeMismatch {
        op: &'static str,
        lhs: Shape,
        rhs: Shape,
    },
    #[error("{op}: dtype mismatch between {lhs} and {rhs}")]
    DTypeMismatch {
        op: &'static str,
        lhs: DType,
        rhs: DType,
    },
    #[error("{op}: dtype {got} is not supported (expected {expected})")]
    UnsupportedDType {
        op: &'static str,
        got: DType,
        expected: &'static str,
    },
    #[error("{op}: dimension {dim} is out of range for a tensor of rank {rank}")]
    DimOutOfRange {
        op: &'static str,
        dim: isize,
        rank: usize,
    },
    #[error("{op}: index {index} is out of range for size {size}")]
    IndexOutOfRange {
        op: &'static str,
        index: i64,
        size: usize,
    },
    #[error("{op}: {shape}: {msg}")]
    InvalidShape {
        op: &'static str,
        shape: Shape,
        msg: String,
    },
    #[error("{op}: {msg}")]
    InvalidArgument { op: &'static str, msg: String },
}

pub type Result<T, E = TensorError> = std::result::Result<T, E>;

impl TensorError {
    /// The same error attributed to `op`: an operation built from other operations reports
    /// failures under its own name.
    pub(crate) fn in_op(mut self, name: &'static str) -> TensorError {
        match &mut self {
            TensorError::ShapeMismatch { op, .. }
            | TensorError::DTypeMismatch { op, .. }
            | TensorError::UnsupportedDType { op, .. }
            | TensorError::DimOutOfRange { op, .. }
            | TensorError::IndexOutOfRange { op, .. }
            | TensorError::InvalidShape { op, .. }
            | TensorError::InvalidArgument { op, .. } => *op = name,
        }
        self
    }
}

/// The error for a float-only operation given another dtype.
pub(crate) fn float_only(op: &'static str, got: crate::DType) -> TensorError {
    TensorError::UnsupportedDType {
        op,
        got,
        expected: "f32 or f64",
    }
}

/// Shorthand for an `InvalidArgument` error.
pub(crate) fn invalid(op: &'static str, msg: impl Into<String>) -> TensorError {
    TensorError::InvalidArgument {
        op,
        msg: msg.into(),
    }
}
