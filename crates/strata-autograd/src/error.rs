//! Autograd errors: an op's own message (which names the op and the shapes), or a misuse of
//! the tape.

use strata_ir::{IrError, TensorType};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AutogradError {
    #[error("{0}")]
    Op(String),
    #[error(transparent)]
    Ir(#[from] IrError),
    #[error("backward needs a scalar output (or an explicit cotangent), got {0}")]
    NotScalar(TensorType),
    #[error("the cotangent must be {output}, got {got}")]
    Cotangent { output: TensorType, got: TensorType },
    #[error("{0}")]
    Usage(String),
}
