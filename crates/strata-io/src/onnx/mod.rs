//! ONNX model files: the protobuf messages of onnx.proto as Rust structs, decoded and encoded by
//! a hand-written wire codec, and the conversion between `TensorProto` and [`Tensor`].
//!
//! Decoding never panics and never allocates more than the bytes present: every length is
//! checked against its enclosing message before use, packed arrays are sized by the bytes they
//! occupy, and messages nest at most [`MAX_DEPTH`] deep. An error names the file, the byte
//! offset and the field path, as in
//! `model.onnx: byte 1234 (ModelProto.graph.node[3].attribute[0].t.raw_data): ...`.
//!
//! ```
//! use strata_io::onnx::{tensor_from_proto, tensor_to_proto, ModelProto, GraphProto};
//! use strata_tensor::Tensor;
//! # fn main() -> Result<(), strata_io::IoError> {
//! let weight = Tensor::from_vec(vec![1.0f32, -2.0], [1, 2]).unwrap();
//! let model = ModelProto {
//!     ir_version: 8,
//!     graph: Some(GraphProto {
//!         initializer: vec![tensor_to_proto("w", &weight)?],
//!         ..GraphProto::default()
//!     }),
//!     ..ModelProto::default()
//! };
//! let bytes = model.encode();
//! let back = ModelProto::decode(&bytes, "in-memory.onnx")?;
//! let w = tensor_from_proto(&back.graph.unwrap().initializer[0], "in-memory.onnx")?;
//! assert_eq!(w.to_vec::<f32>().unwrap(), [1.0, -2.0]);
//! # Ok(())
//! # }
//! ```

mod export;
mod import;
mod proto;
mod tensor;
mod wire;

pub use export::{export_form, export_model, write_model, DEFAULT_EXPORT_OPSET, EXPORT_OPSETS};
pub use import::{import_model, ImportOptions, Imported, MIN_OPSET};
pub use proto::{
    attribute_type, AttributeProto, DimValue, Dimension, ElemTypeProto, GraphProto, MapTypeProto,
    ModelProto, NodeProto, OperatorSetIdProto, Segment, StringStringEntryProto, TensorProto,
    TensorShapeProto, TensorTypeProto, TypeProto, TypeValue, ValueInfoProto,
};
pub use tensor::{data_type, proto_dtype, tensor_from_proto, tensor_to_proto};
pub use wire::{UnknownField, WireValue, MAX_DEPTH};

use crate::file::{display_name, write_atomically};
use crate::IoError;
use std::path::Path;
use wire::{Decoder, Encoder};

macro_rules! codec {
    ($($message:ty),*) => {$(
        impl $message {
            /// Decodes `bytes` (one serialized message); `name` identifies them in errors.
            pub fn decode(bytes: &[u8], name: &str) -> Result<Self, IoError> {
                Decoder::decode(bytes, name)
            }

            /// The serialized message.
            pub fn encode(&self) -> Vec<u8> {
                Encoder::encode(self)
            }
        }
    )*};
}

codec!(
    ModelProto,
    GraphProto,
    NodeProto,
    AttributeProto,
    TensorProto,
    ValueInfoProto,
    TypeProto,
    TensorShapeProto,
    OperatorSetIdProto
);

/// Reads the ONNX model at `path` (memory-mapped while it is decoded).
pub fn read_onnx(path: impl AsRef<Path>) -> Result<ModelProto, IoError> {
    let path = path.as_ref();
    crate::mmap::with_mapped_file(path, |bytes| ModelProto::decode(bytes, &display_name(path)))
}

/// Reads a serialized `TensorProto` file (the `.pb` inputs and outputs of ONNX's test data).
pub fn read_onnx_tensor(path: impl AsRef<Path>) -> Result<TensorProto, IoError> {
    let path = path.as_ref();
    crate::mmap::with_mapped_file(path, |bytes| {
        TensorProto::decode(bytes, &display_name(path))
    })
}

/// Writes `model` to `path`, atomically.
pub fn write_onnx(path: impl AsRef<Path>, model: &ModelProto) -> Result<(), IoError> {
    write_atomically(path.as_ref(), &model.encode())
}
