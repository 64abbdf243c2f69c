//! `strata-io`: reading and writing tensors in external file formats.
//!
//! Every reader is strict: a malformed file (wrong magic, unknown dtype, a size field that
//! lies, truncated data, trailing bytes, a corrupt gzip stream) gives an [`IoError`] whose
//! message names the file, the place (byte offset or header field) and the problem. Declared
//! sizes are checked against the bytes actually present before any buffer of that size is
//! allocated, so a lying header cannot exhaust memory.
//!
//! Formats:
//! - [safetensors](safetensors) (memory-mapped, every dtype incl. f16/bf16):
//!   [`read_safetensors`], [`read_safetensors_bytes`], [`read_safetensors_header`],
//!   [`write_safetensors`].
//! - [NPY](npy) (NumPy `.npy`, format versions 1.0, 2.0 and 3.0): [`read_npy`],
//!   [`read_npy_bytes`], [`write_npy`].
//! - [NPZ](npz) (`numpy.savez` and `savez_compressed` archives): [`read_npz`],
//!   [`read_npz_bytes`], [`write_npz`].
//! - [CSV](csv) (numeric tables, optional header and label column): [`read_csv`],
//!   [`read_csv_bytes`], [`write_csv`].
//! - [ONNX](onnx) (the onnx.proto messages, decoded and encoded; `TensorProto` ↔ tensor;
//!   graphs lowered into strata-ir): [`onnx::read_onnx`], [`onnx::ModelProto::decode`],
//!   [`onnx::tensor_from_proto`], [`onnx::import_model`].
//! - [IDX](idx) (the MNIST format, optionally gzip-compressed): [`read_idx`],
//!   [`read_idx_as`], [`read_idx_bytes`], [`write_idx`].
//! - [ONNX export](onnx::export_model): an IR graph and its parameters as an ONNX model
//!   ([`onnx::write_model`]).
//! - Checkpoints: [`read_checkpoint`] and [`check_checkpoint`] bind a safetensors or NPZ
//!   `state_dict` to a graph's declared parameters.
//! - [`inspect`]: a model file's summary and which numeric layers and analyses support its ops.
//! - [VNN-LIB](vnnlib) (VNN-COMP properties: input boxes and an unsafe output set, decimals
//!   kept as exact enclosures): [`vnnlib::read_property`], [`vnnlib::parse_property`].
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
//!
//! The one `unsafe` operation, memory-mapping a file, lives in a registered trust boundary
//! (see [`trust`]).
#![deny(unsafe_code)]

mod checkpoint;
pub mod csv;
mod element;
mod error;
mod file;
pub mod idx;
pub mod inspect;
mod json;
mod mmap;
pub mod npy;
pub mod npz;
pub mod onnx;
pub mod safetensors;
pub mod trust;
pub mod vnnlib;
mod zip;

pub use checkpoint::{check_checkpoint, read_checkpoint};
pub use csv::{read_csv, read_csv_bytes, write_csv, CsvOptions, CsvTable, LabelColumn};
pub use error::IoError;
pub use idx::{read_idx, read_idx_as, read_idx_bytes, write_idx};
pub use npy::{npy_bytes, read_npy, read_npy_bytes, write_npy};
pub use npz::{npz_bytes, read_npz, read_npz_bytes, write_npz, NpzCompression};
pub use safetensors::{
    read_safetensors, read_safetensors_bytes, read_safetensors_header, safetensors_bytes,
    write_safetensors, Safetensors, SafetensorsDType, SafetensorsHeader, TensorInfo,
};
