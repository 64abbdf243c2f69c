//! The error type of `strata-nn`: every variant says where the problem is (the optimizer and
//! parameter, the file and line, the URL) and what it is.

use std::path::PathBuf;
use strata_autograd::AutogradError;
use strata_io::IoError;
use strata_tensor::TensorError;

/// A failure in an optimizer, scheduler, dataset or download.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// A tensor operation failed (the message names the operation and the shapes).
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// Reading a tensor file failed (the message names the file, the place and the problem).
    #[error(transparent)]
    Io(#[from] IoError),
    /// An autograd or graph operation failed (the message names the op and the shapes).
    #[error(transparent)]
    Autograd(#[from] AutogradError),
    /// A bad argument or an inconsistent input: `context` names the component (`"SGD"`,
    /// `"StepLR"`, `"DataLoader"`, …) and, where there is one, the parameter or key.
    #[error("{context}: {msg}")]
    Invalid { context: String, msg: String },
    /// A file that cannot be read or is malformed; `place` is a line, a byte offset or empty.
    #[error("{}: {place}{}{msg}", path.display(), if place.is_empty() { "" } else { ": " })]
    File {
        path: PathBuf,
        place: String,
        msg: String,
    },
    /// A download that failed or whose content did not match its published checksum.
    #[error("{url}: {msg}")]
    Fetch { url: String, msg: String },
}

/// `Result` with [`NnError`].
pub type Result<T, E = NnError> = std::result::Result<T, E>;

impl NnError {
    pub(crate) fn invalid(context: impl Into<String>, msg: impl Into<String>) -> NnError {
        NnError::Invalid {
            context: context.into(),
            msg: msg.into(),
        }
    }
    pub(crate) fn file(
        path: impl Into<PathBuf>,
        place: impl Into<String>,
        msg: impl Into<String>,
    ) -> NnError {
        NnError::File {
            path: path.into(),
            place: place.into(),
            msg: msg.into(),
        }
    }
    pub(crate) fn fetch(url: impl Into<String>, msg: impl Into<String>) -> NnError {
        NnError::Fetch {
            url: url.into(),
            msg: msg.into(),
        }
    }
}

impl From<strata_ir::IrError> for NnError {
    fn from(e: strata_ir::IrError) -> NnError {
        NnError::Autograd(AutogradError::Ir(e))
    }
}
