//! `strata-io`: reading and writing tensors in external file formats.
//!
//! Every reader is strict: a malformed file (wrong magic, unknown dtype, a size field that
//! lies, truncated data, trailing bytes, a corrupt gzip stream) gives an [`IoError`] whose
//! message names the file, the place (byte offset or header field) and the problem. Declared
//! sizes are checked against the bytes actually present before any buffer of that size is
//! allocated, so a lying header cannot exhaust memory.
//!
//! Formats:
//! - [NPY](npy) (NumPy `.npy`, format versions 1.0, 2.0 and 3.0): [`read_npy`],
//!   [`read_npy_bytes`], [`write_npy`].
//! - [IDX](idx) (the MNIST format, optionally gzip-compressed): [`read_idx`],
//!   [`read_idx_as`], [`read_idx_bytes`], [`write_idx`].
//!
//! ```
//! use strata_tensor::Tensor;
//! # fn main() -> Result<(), strata_io::IoError> {
//! let path = std::env::temp_dir().join(format!("strata-io-doc-{}.npy", std::process::id()));
//! let weights = Tensor::from_vec(vec![0.5f32, -1.0, 2.0, 0.0], [2, 2]).unwrap();
//! strata_io::write_npy(&path, &weights)?;
//! let back = strata_io::read_npy(&path)?;
//! assert_eq!(back.to_vec::<f32>().unwrap(), [0.5, -1.0, 2.0, 0.0]);
//! # std::fs::remove_file(&path).unwrap();
//! # Ok(())
//! # }
//! ```
//!
//! Integer element types narrower than 64 bits (`u8`, `i8`, `i16`, `u16`, `i32`, `u32`) are
//! read by exact widening into [`DType::I64`](strata_tensor::DType::I64).
#![forbid(unsafe_code)]

mod element;
mod error;
mod file;
pub mod idx;
pub mod npy;

pub use error::IoError;
pub use idx::{read_idx, read_idx_as, read_idx_bytes, write_idx};
pub use npy::{read_npy, read_npy_bytes, write_npy};
