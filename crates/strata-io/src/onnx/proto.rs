//! The ONNX protobuf messages (onnx.proto, IR version 3 to 11) that model files use, with
//! their field numbers. Fields this crate does not model (training info, functions, sparse
//! tensors, quantization annotations, device configurations, opaque types) are kept as
//! [`UnknownField`]s and written back unchanged.
//!
//! Scalar fields hold protobuf's default when absent, and are written only when they differ
//! from it; message fields are `Option`s (present or not), repeated fields `Vec`s. The
//! encoder writes fields in field-number order, repeated numeric fields packed where
//! onnx.proto declares them `[packed = true]` (the `*_data` fields of `TensorProto`) and
//! unpacked elsewhere, as the reference implementation does.

use super::wire::{Decoder, Encoder, Field, Proto, UnknownField};
use crate::IoError;

/// `ModelProto`: a model, its opsets, and its main graph.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelProto {
    pub ir_version: i64,
    pub producer_name: String,
    pub producer_version: String,
    pub domain: String,
    pub model_version: i64,
    pub doc_string: String,
    pub graph: Option<GraphProto>,
    pub opset_import: Vec<OperatorSetIdProto>,
    pub metadata_props: Vec<StringStringEntryProto>,
    pub unknown: Vec<UnknownField>,
}

/// `OperatorSetIdProto`: an operator set (`""` or `"ai.onnx"` is the default domain) and version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorSetIdProto {
    pub domain: String,
    pub version: i64,
    pub unknown: Vec<UnknownField>,
}

/// `StringStringEntryProto`: one key-value pair.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StringStringEntryProto {
    pub key: String,
    pub value: String,
    pub unknown: Vec<UnknownField>,
}

/// `GraphProto`: nodes in topological order, initializers, inputs and outputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphProto {
    pub node: Vec<NodeProto>,
    pub name: String,
    pub initializer: Vec<TensorProto>,
    pub doc_string: String,
    pub input: Vec<ValueInfoProto>,
    pub output: Vec<ValueInfoProto>,
    pub value_info: Vec<ValueInfoProto>,
    pub metadata_props: Vec<StringStringEntryProto>,
    pub unknown: Vec<UnknownField>,
}

/// `NodeProto`: one operator application.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeProto {
    pub input: Vec<String>,
    pub output: Vec<String>,
    pub name: String,
    pub op_type: String,
    pub attribute: Vec<AttributeProto>,
    pub doc_string: String,
    pub domain: String,
    pub overload: String,
    pub metadata_props: Vec<StringStringEntryProto>,
    pub unknown: Vec<UnknownField>,
}

/// `AttributeProto.AttributeType` values.
pub mod attribute_type {
    pub const UNDEFINED: i32 = 0;
    pub const FLOAT: i32 = 1;
    pub const INT: i32 = 2;
    pub const STRING: i32 = 3;
    pub const TENSOR: i32 = 4;
    pub const GRAPH: i32 = 5;
    pub const FLOATS: i32 = 6;
    pub const INTS: i32 = 7;
    pub const STRINGS: i32 = 8;
    pub const TENSORS: i32 = 9;
    pub const GRAPHS: i32 = 10;
    pub const SPARSE_TENSOR: i32 = 11;
    pub const SPARSE_TENSORS: i32 = 12;
    pub const TYPE_PROTO: i32 = 13;
    pub const TYPE_PROTOS: i32 = 14;

    /// The type's name, or `None` for a value onnx.proto does not define.
    pub fn name(t: i32) -> Option<&'static str> {
        Some(match t {
            UNDEFINED => "UNDEFINED",
            FLOAT => "FLOAT",
            INT => "INT",
            STRING => "STRING",
            TENSOR => "TENSOR",
            GRAPH => "GRAPH",
            FLOATS => "FLOATS",
            INTS => "INTS",
            STRINGS => "STRINGS",
            TENSORS => "TENSORS",
            GRAPHS => "GRAPHS",
            SPARSE_TENSOR => "SPARSE_TENSOR",
            SPARSE_TENSORS => "SPARSE_TENSORS",
            TYPE_PROTO => "TYPE_PROTO",
            TYPE_PROTOS => "TYPE_PROTOS",
            _ => return None,
        })
    }
}

/// `AttributeProto`: a named attribute; `type` says which value field holds the value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AttributeProto {
    pub name: String,
    pub ref_attr_name: String,
    pub doc_string: String,
    /// One of [`attribute_type`].
    pub r#type: i32,
    /// `f`, `i` and `s` keep their presence: writers such as `onnx.helper` and PyTorch state
    /// a zero value explicitly, and re-encoding writes it back.
    pub f: Option<f32>,
    pub i: Option<i64>,
    pub s: Option<Vec<u8>>,
    pub t: Option<TensorProto>,
    pub g: Option<GraphProto>,
    pub tp: Option<TypeProto>,
    pub floats: Vec<f32>,
    pub ints: Vec<i64>,
    pub strings: Vec<Vec<u8>>,
    pub tensors: Vec<TensorProto>,
    pub graphs: Vec<GraphProto>,
    pub type_protos: Vec<TypeProto>,
    pub unknown: Vec<UnknownField>,
}

/// `ValueInfoProto`: a named value and its type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValueInfoProto {
    pub name: String,
    pub r#type: Option<TypeProto>,
    pub doc_string: String,
    pub metadata_props: Vec<StringStringEntryProto>,
    pub unknown: Vec<UnknownField>,
}

/// `TypeProto`: the type of a value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TypeProto {
    /// The `value` oneof; `None` when absent (or an opaque type, kept in `unknown`).
    pub value: Option<TypeValue>,
    pub denotation: String,
    pub unknown: Vec<UnknownField>,
}

/// The cases of `TypeProto`'s `value` oneof.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeValue {
    /// `tensor_type` (field 1).
    Tensor(TensorTypeProto),
    /// `sequence_type` (field 4).
    Sequence(Box<ElemTypeProto>),
    /// `map_type` (field 5).
    Map(Box<MapTypeProto>),
    /// `sparse_tensor_type` (field 8).
    SparseTensor(TensorTypeProto),
    /// `optional_type` (field 9).
    Optional(Box<ElemTypeProto>),
}

/// `TypeProto.Tensor` (and `TypeProto.SparseTensor`, which has the same fields).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TensorTypeProto {
    /// One of [`data_type`](super::data_type).
    pub elem_type: i32,
    /// `None`: the rank is unknown; `Some` with no dims: a scalar.
    pub shape: Option<TensorShapeProto>,
    pub unknown: Vec<UnknownField>,
}

/// `TypeProto.Sequence` and `TypeProto.Optional`, which both hold only an element type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ElemTypeProto {
    pub elem_type: Option<TypeProto>,
    pub unknown: Vec<UnknownField>,
}

/// `TypeProto.Map`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MapTypeProto {
    pub key_type: i32,
    pub value_type: Option<TypeProto>,
    pub unknown: Vec<UnknownField>,
}

/// `TensorShapeProto`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TensorShapeProto {
    pub dim: Vec<Dimension>,
    pub unknown: Vec<UnknownField>,
}

/// `TensorShapeProto.Dimension`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dimension {
    pub value: DimValue,
    pub denotation: String,
    pub unknown: Vec<UnknownField>,
}

/// The `value` oneof of a dimension.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DimValue {
    /// Neither field present: an unknown dimension.
    #[default]
    Unknown,
    /// `dim_value` (field 1), which may be 0.
    Value(i64),
    /// `dim_param` (field 2): a symbolic dimension such as `"batch"`.
    Param(String),
}

/// `TensorProto`: a tensor value, its elements in `raw_data` (little-endian) or in the typed
/// field its `data_type` selects.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TensorProto {
    pub dims: Vec<i64>,
    /// One of [`data_type`](super::data_type).
    pub data_type: i32,
    pub segment: Option<Segment>,
    pub float_data: Vec<f32>,
    pub int32_data: Vec<i32>,
    pub string_data: Vec<Vec<u8>>,
    pub int64_data: Vec<i64>,
    pub name: String,
    pub doc_string: String,
    pub raw_data: Vec<u8>,
    pub double_data: Vec<f64>,
    pub uint64_data: Vec<u64>,
    pub external_data: Vec<StringStringEntryProto>,
    /// 0: DEFAULT (the data is in this message); 1: EXTERNAL.
    pub data_location: i32,
    pub metadata_props: Vec<StringStringEntryProto>,
    pub unknown: Vec<UnknownField>,
}

/// `TensorProto.Segment`: a chunk of a tensor split over several protos.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    pub begin: i64,
    pub end: i64,
    pub unknown: Vec<UnknownField>,
}

fn to_i32(v: u64) -> Option<i32> {
    i32::try_from(v as i64).ok()
}

impl Proto for ModelProto {
    const NAME: &'static str = "ModelProto";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => self.ir_version = d.int64(f, "ir_version")?,
            2 => self.producer_name = d.string(f, "producer_name")?,
            3 => self.producer_version = d.string(f, "producer_version")?,
            4 => self.domain = d.string(f, "domain")?,
            5 => self.model_version = d.int64(f, "model_version")?,
            6 => self.doc_string = d.string(f, "doc_string")?,
            7 => d.message(
                f,
                "graph",
                None,
                self.graph.get_or_insert_with(Default::default),
            )?,
            8 => d.push(f, "opset_import", &mut self.opset_import)?,
            14 => d.push(f, "metadata_props", &mut self.metadata_props)?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        e.int64(1, self.ir_version);
        e.string(2, &self.producer_name);
        e.string(3, &self.producer_version);
        e.string(4, &self.domain);
        e.int64(5, self.model_version);
        e.string(6, &self.doc_string);
        if let Some(g) = &self.graph {
            e.message(7, g);
        }
        e.messages(8, &self.opset_import);
        e.messages(14, &self.metadata_props);
        e.unknown(&self.unknown);
    }
}

impl Proto for OperatorSetIdProto {
    const NAME: &'static str = "OperatorSetIdProto";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => self.domain = d.string(f, "domain")?,
            2 => self.version = d.int64(f, "version")?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        e.string(1, &self.domain);
        e.int64(2, self.version);
        e.unknown(&self.unknown);
    }
}

impl Proto for StringStringEntryProto {
    const NAME: &'static str = "StringStringEntryProto";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => self.key = d.string(f, "key")?,
            2 => self.value = d.string(f, "value")?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        e.string(1, &self.key);
        e.string(2, &self.value);
        e.unknown(&self.unknown);
    }
}

impl Proto for GraphProto {
    const NAME: &'static str = "GraphProto";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => d.push(f, "node", &mut self.node)?,
            2 => self.name = d.string(f, "name")?,
            5 => d.push(f, "initializer", &mut self.initializer)?,
            10 => self.doc_string = d.string(f, "doc_string")?,
            11 => d.push(f, "input", &mut self.input)?,
            12 => d.push(f, "output", &mut self.output)?,
            13 => d.push(f, "value_info", &mut self.value_info)?,
            16 => d.push(f, "metadata_props", &mut self.metadata_props)?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        e.messages(1, &self.node);
        e.string(2, &self.name);
        e.messages(5, &self.initializer);
        e.string(10, &self.doc_string);
        e.messages(11, &self.input);
        e.messages(12, &self.output);
        e.messages(13, &self.value_info);
        e.messages(16, &self.metadata_props);
        e.unknown(&self.unknown);
    }
}

impl Proto for NodeProto {
    const NAME: &'static str = "NodeProto";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => self.input.push(d.string(f, "input")?),
            2 => self.output.push(d.string(f, "output")?),
            3 => self.name = d.string(f, "name")?,
            4 => self.op_type = d.string(f, "op_type")?,
            5 => d.push(f, "attribute", &mut self.attribute)?,
            6 => self.doc_string = d.string(f, "doc_string")?,
            7 => self.domain = d.string(f, "domain")?,
            8 => self.overload = d.string(f, "overload")?,
            9 => d.push(f, "metadata_props", &mut self.metadata_props)?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        e.repeated_bytes(1, &self.input);
        e.repeated_bytes(2, &self.output);
        e.string(3, &self.name);
        e.string(4, &self.op_type);
        e.messages(5, &self.attribute);
        e.string(6, &self.doc_string);
        e.string(7, &self.domain);
        e.string(8, &self.overload);
        e.messages(9, &self.metadata_props);
        e.unknown(&self.unknown);
    }
}

impl Proto for AttributeProto {
    const NAME: &'static str = "AttributeProto";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => self.name = d.string(f, "name")?,
            2 => self.f = Some(d.float(f, "f")?),
            3 => self.i = Some(d.int64(f, "i")?),
            4 => self.s = Some(d.bytes(f, "s")?),
            5 => d.message(f, "t", None, self.t.get_or_insert_with(Default::default))?,
            6 => d.message(f, "g", None, self.g.get_or_insert_with(Default::default))?,
            7 => d.fixeds(f, "floats", &mut self.floats, f32::from_le_bytes)?,
            8 => d.varints(f, "ints", &mut self.ints, |v| Some(v as i64))?,
            9 => self.strings.push(d.bytes(f, "strings")?),
            10 => d.push(f, "tensors", &mut self.tensors)?,
            11 => d.push(f, "graphs", &mut self.graphs)?,
            13 => self.doc_string = d.string(f, "doc_string")?,
            14 => d.message(f, "tp", None, self.tp.get_or_insert_with(Default::default))?,
            15 => d.push(f, "type_protos", &mut self.type_protos)?,
            20 => self.r#type = d.int32(f, "type")?,
            21 => self.ref_attr_name = d.string(f, "ref_attr_name")?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        e.string(1, &self.name);
        if let Some(v) = self.f {
            e.float_always(2, v);
        }
        if let Some(v) = self.i {
            e.int64_always(3, v);
        }
        if let Some(v) = &self.s {
            e.bytes_always(4, v);
        }
        if let Some(t) = &self.t {
            e.message(5, t);
        }
        if let Some(g) = &self.g {
            e.message(6, g);
        }
        e.unpacked_fixed32(7, self.floats.iter().map(|v| v.to_bits()));
        e.unpacked_varints(8, self.ints.iter().map(|&v| v as u64));
        e.repeated_bytes(9, &self.strings);
        e.messages(10, &self.tensors);
        e.messages(11, &self.graphs);
        e.string(13, &self.doc_string);
        if let Some(tp) = &self.tp {
            e.message(14, tp);
        }
        e.messages(15, &self.type_protos);
        e.int32(20, self.r#type);
        e.string(21, &self.ref_attr_name);
        e.unknown(&self.unknown);
    }
}

impl Proto for ValueInfoProto {
    const NAME: &'static str = "ValueInfoProto";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => self.name = d.string(f, "name")?,
            2 => d.message(
                f,
                "type",
                None,
                self.r#type.get_or_insert_with(Default::default),
            )?,
            3 => self.doc_string = d.string(f, "doc_string")?,
            4 => d.push(f, "metadata_props", &mut self.metadata_props)?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        e.string(1, &self.name);
        if let Some(t) = &self.r#type {
            e.message(2, t);
        }
        e.string(3, &self.doc_string);
        e.messages(4, &self.metadata_props);
        e.unknown(&self.unknown);
    }
}

impl Proto for TypeProto {
    const NAME: &'static str = "TypeProto";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        // The `value` oneof: a repeated case merges into the value, another case replaces it
        // (protobuf's rule).
        macro_rules! case {
            ($variant:ident, $name:literal, $fresh:expr) => {{
                let mut inner = match self.value.take() {
                    Some(TypeValue::$variant(inner)) => inner,
                    _ => $fresh,
                };
                d.message(f, $name, None, &mut inner)?;
                self.value = Some(TypeValue::$variant(inner));
            }};
        }
        match f.number {
            1 => case!(Tensor, "tensor_type", TensorTypeProto::default()),
            4 => case!(Sequence, "sequence_type", Box::default()),
            5 => case!(Map, "map_type", Box::default()),
            8 => case!(
                SparseTensor,
                "sparse_tensor_type",
                TensorTypeProto::default()
            ),
            9 => case!(Optional, "optional_type", Box::default()),
            6 => self.denotation = d.string(f, "denotation")?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        match &self.value {
            Some(TypeValue::Tensor(t)) => e.message(1, t),
            Some(TypeValue::Sequence(t)) => e.message(4, &**t),
            Some(TypeValue::Map(m)) => e.message(5, &**m),
            _ => {}
        }
        e.string(6, &self.denotation);
        match &self.value {
            Some(TypeValue::SparseTensor(t)) => e.message(8, t),
            Some(TypeValue::Optional(t)) => e.message(9, &**t),
            _ => {}
        }
        e.unknown(&self.unknown);
    }
}

impl Proto for TensorTypeProto {
    const NAME: &'static str = "TypeProto.Tensor";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => self.elem_type = d.int32(f, "elem_type")?,
            2 => d.message(
                f,
                "shape",
                None,
                self.shape.get_or_insert_with(Default::default),
            )?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        e.int32(1, self.elem_type);
        if let Some(shape) = &self.shape {
            e.message(2, shape);
        }
        e.unknown(&self.unknown);
    }
}

impl Proto for ElemTypeProto {
    const NAME: &'static str = "TypeProto.Sequence";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => d.message(
                f,
                "elem_type",
                None,
                self.elem_type.get_or_insert_with(Default::default),
            )?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        if let Some(t) = &self.elem_type {
            e.message(1, t);
        }
        e.unknown(&self.unknown);
    }
}

impl Proto for MapTypeProto {
    const NAME: &'static str = "TypeProto.Map";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => self.key_type = d.int32(f, "key_type")?,
            2 => d.message(
                f,
                "value_type",
                None,
                self.value_type.get_or_insert_with(Default::default),
            )?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        e.int32(1, self.key_type);
        if let Some(t) = &self.value_type {
            e.message(2, t);
        }
        e.unknown(&self.unknown);
    }
}

impl Proto for TensorShapeProto {
    const NAME: &'static str = "TensorShapeProto";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => d.push(f, "dim", &mut self.dim)?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        e.messages(1, &self.dim);
        e.unknown(&self.unknown);
    }
}

impl Proto for Dimension {
    const NAME: &'static str = "TensorShapeProto.Dimension";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => self.value = DimValue::Value(d.int64(f, "dim_value")?),
            2 => self.value = DimValue::Param(d.string(f, "dim_param")?),
            3 => self.denotation = d.string(f, "denotation")?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        // A oneof member is written even at its default value: 0 is a known dimension.
        match &self.value {
            DimValue::Unknown => {}
            DimValue::Value(v) => e.int64_always(1, *v),
            DimValue::Param(p) => e.bytes_always(2, p.as_bytes()),
        }
        e.string(3, &self.denotation);
        e.unknown(&self.unknown);
    }
}

impl Proto for TensorProto {
    const NAME: &'static str = "TensorProto";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => d.varints(f, "dims", &mut self.dims, |v| Some(v as i64))?,
            2 => self.data_type = d.int32(f, "data_type")?,
            3 => d.message(
                f,
                "segment",
                None,
                self.segment.get_or_insert_with(Default::default),
            )?,
            4 => d.fixeds(f, "float_data", &mut self.float_data, f32::from_le_bytes)?,
            5 => d.varints(f, "int32_data", &mut self.int32_data, to_i32)?,
            6 => self.string_data.push(d.bytes(f, "string_data")?),
            7 => d.varints(f, "int64_data", &mut self.int64_data, |v| Some(v as i64))?,
            8 => self.name = d.string(f, "name")?,
            9 => self.raw_data = d.bytes(f, "raw_data")?,
            10 => d.fixeds(f, "double_data", &mut self.double_data, f64::from_le_bytes)?,
            11 => d.varints(f, "uint64_data", &mut self.uint64_data, Some)?,
            12 => self.doc_string = d.string(f, "doc_string")?,
            13 => d.push(f, "external_data", &mut self.external_data)?,
            14 => self.data_location = d.int32(f, "data_location")?,
            16 => d.push(f, "metadata_props", &mut self.metadata_props)?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        e.unpacked_varints(1, self.dims.iter().map(|&v| v as u64));
        e.int32(2, self.data_type);
        if let Some(segment) = &self.segment {
            e.message(3, segment);
        }
        e.packed_fixed(4, self.float_data.iter().map(|v| v.to_le_bytes()));
        e.packed_varints(5, self.int32_data.iter().map(|&v| i64::from(v) as u64));
        e.repeated_bytes(6, &self.string_data);
        e.packed_varints(7, self.int64_data.iter().map(|&v| v as u64));
        e.string(8, &self.name);
        e.bytes(9, &self.raw_data);
        e.packed_fixed(10, self.double_data.iter().map(|v| v.to_le_bytes()));
        e.packed_varints(11, self.uint64_data.iter().copied());
        e.string(12, &self.doc_string);
        e.messages(13, &self.external_data);
        e.int32(14, self.data_location);
        e.messages(16, &self.metadata_props);
        e.unknown(&self.unknown);
    }
}

impl Proto for Segment {
    const NAME: &'static str = "TensorProto.Segment";
    fn merge_field(&mut self, d: &mut Decoder, f: Field) -> Result<(), IoError> {
        match f.number {
            1 => self.begin = d.int64(f, "begin")?,
            2 => self.end = d.int64(f, "end")?,
            _ => self.unknown.push(d.unknown(f)),
        }
        Ok(())
    }
    fn encode_fields(&self, e: &mut Encoder) {
        e.int64(1, self.begin);
        e.int64(2, self.end);
        e.unknown(&self.unknown);
    }
}
