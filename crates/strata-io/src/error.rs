//! The one error type of this crate: every variant names the file it concerns.

/// A failure to read or write a tensor file.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The operating system refused to read or write the file.
    #[error("{file}: cannot {action}: {source}")]
    Os {
        file: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The bytes do not form a valid file of the format; `place` is a byte offset or a header
    /// field.
    #[error("{file}: {place}: {problem}")]
    Malformed {
        file: String,
        place: String,
        problem: String,
    },
    /// A valid request the format cannot represent (a dtype without a code, values out of range).
    #[error("{file}: {problem}")]
    Unsupported { file: String, problem: String },
}

impl IoError {
    pub(crate) fn malformed(
        file: &str,
        place: impl Into<String>,
        problem: impl Into<String>,
    ) -> IoError {
        IoError::Malformed {
            file: file.to_owned(),
            place: place.into(),
            problem: problem.into(),
        }
    }
    pub(crate) fn unsupported(file: &str, problem: impl Into<String>) -> IoError {
        IoError::Unsupported {
            file: file.to_owned(),
            problem: problem.into(),
        }
    }
}
