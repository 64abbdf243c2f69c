//! `TensorProto` ↔ [`Tensor`].
//!
//! Read: FLOAT, DOUBLE, INT64, BOOL, FLOAT16 and BFLOAT16 become f32, f64, i64, bool, f16 and
//! bf16; INT8, UINT8, INT16, UINT16, INT32 and UINT32 widen exactly into i64. The values come
//! from `raw_data` (little-endian) or from the one typed field onnx.proto assigns the type
//! (`float_data`, `double_data`, `int64_data`, `int32_data` — which also carries the narrow
//! integers, bools and the bit patterns of FLOAT16/BFLOAT16 — or `uint64_data` for UINT32);
//! each typed value is range-checked against its type. Refused with an error naming the tensor:
//! UINT64 (values need not fit i64), STRING, the complex, 8-bit, 4-bit and 2-bit types, external
//! data, segments, values in two fields at once, and a value count that differs from the dims.
//!
//! Write: `raw_data`, as `onnx.numpy_helper.from_array` does.

use super::proto::TensorProto;
use crate::element::{checked_numel, le_bytes, ByteOrder, FileElement};
use crate::IoError;
use half::{bf16, f16};
use strata_tensor::{DType, Tensor};

/// `TensorProto.DataType` values.
pub mod data_type {
    pub const UNDEFINED: i32 = 0;
    pub const FLOAT: i32 = 1;
    pub const UINT8: i32 = 2;
    pub const INT8: i32 = 3;
    pub const UINT16: i32 = 4;
    pub const INT16: i32 = 5;
    pub const INT32: i32 = 6;
    pub const INT64: i32 = 7;
    pub const STRING: i32 = 8;
    pub const BOOL: i32 = 9;
    pub const FLOAT16: i32 = 10;
    pub const DOUBLE: i32 = 11;
    pub const UINT32: i32 = 12;
    pub const UINT64: i32 = 13;
    pub const COMPLEX64: i32 = 14;
    pub const COMPLEX128: i32 = 15;
    pub const BFLOAT16: i32 = 16;
    pub const FLOAT8E4M3FN: i32 = 17;
    pub const FLOAT8E4M3FNUZ: i32 = 18;
    pub const FLOAT8E5M2: i32 = 19;
    pub const FLOAT8E5M2FNUZ: i32 = 20;
    pub const UINT4: i32 = 21;
    pub const INT4: i32 = 22;
    pub const FLOAT4E2M1: i32 = 23;
    pub const FLOAT8E8M0: i32 = 24;
    pub const UINT2: i32 = 25;
    pub const INT2: i32 = 26;

    /// The type's name in onnx.proto, or `None` for a value it does not define.
    pub fn name(t: i32) -> Option<&'static str> {
        const NAMES: [&str; 27] = [
            "UNDEFINED",
            "FLOAT",
            "UINT8",
            "INT8",
            "UINT16",
            "INT16",
            "INT32",
            "INT64",
            "STRING",
            "BOOL",
            "FLOAT16",
            "DOUBLE",
            "UINT32",
            "UINT64",
            "COMPLEX64",
            "COMPLEX128",
            "BFLOAT16",
            "FLOAT8E4M3FN",
            "FLOAT8E4M3FNUZ",
            "FLOAT8E5M2",
            "FLOAT8E5M2FNUZ",
            "UINT4",
            "INT4",
            "FLOAT4E2M1",
            "FLOAT8E8M0",
            "UINT2",
            "INT2",
        ];
        usize::try_from(t).ok().and_then(|i| NAMES.get(i).copied())
    }

    /// The Strata dtype a tensor of this type reads as, or `None` when it cannot be read.
    pub fn to_dtype(t: i32) -> Option<strata_tensor::DType> {
        use strata_tensor::DType;
        Some(match t {
            FLOAT => DType::F32,
            DOUBLE => DType::F64,
            INT64 | INT32 | INT16 | INT8 | UINT32 | UINT16 | UINT8 => DType::I64,
            BOOL => DType::Bool,
            FLOAT16 => DType::F16,
            BFLOAT16 => DType::BF16,
            _ => return None,
        })
    }

    /// The data type Strata writes a tensor of `dtype` as.
    pub fn from_dtype(dtype: strata_tensor::DType) -> i32 {
        use strata_tensor::DType;
        match dtype {
            DType::F32 => FLOAT,
            DType::F64 => DOUBLE,
            DType::I64 => INT64,
            DType::Bool => BOOL,
            DType::F16 => FLOAT16,
            DType::BF16 => BFLOAT16,
        }
    }
}

use data_type as dt;

fn type_name(t: i32) -> String {
    dt::name(t).map_or_else(|| format!("{t} (not an ONNX data type)"), str::to_owned)
}

/// Converts `proto` to a tensor; errors name `file` and the tensor.
pub fn tensor_from_proto(proto: &TensorProto, file: &str) -> Result<Tensor, IoError> {
    let place = format!("tensor {:?}", proto.name);
    let malformed = |problem: String| IoError::malformed(file, &place, problem);
    let unsupported = |problem: String| IoError::unsupported(file, format!("{place}: {problem}"));
    if proto.data_location == 1 || !proto.external_data.is_empty() {
        let location = proto
            .external_data
            .iter()
            .find(|e| e.key == "location")
            .map_or(String::new(), |e| format!(" (in {:?})", e.value));
        return Err(unsupported(format!(
            "its values are stored as external data{location}, which is not supported; \
             save the model with onnx.save_model(model, path, save_as_external_data=False)"
        )));
    }
    if proto.data_location != 0 {
        return Err(malformed(format!(
            "data_location {} is neither DEFAULT (0) nor EXTERNAL (1)",
            proto.data_location
        )));
    }
    if proto.segment.is_some() {
        return Err(unsupported(
            "segmented tensors are not supported".to_owned(),
        ));
    }
    let dims = proto
        .dims
        .iter()
        .map(|&d| {
            usize::try_from(d)
                .map_err(|_| malformed(format!("dims {:?}: dimension {d} is negative", proto.dims)))
        })
        .collect::<Result<Vec<usize>, _>>()?;
    let numel = checked_numel(&dims).ok_or_else(|| {
        malformed(format!(
            "dims {dims:?} have more elements than memory can address"
        ))
    })?;
    let t = proto.data_type;
    let element = match t {
        dt::FLOAT => FileElement::F32,
        dt::DOUBLE => FileElement::F64,
        dt::INT64 => FileElement::I64,
        dt::INT32 => FileElement::I32,
        dt::INT16 => FileElement::I16,
        dt::INT8 => FileElement::I8,
        dt::UINT32 => FileElement::U32,
        dt::UINT16 => FileElement::U16,
        dt::UINT8 => FileElement::U8,
        dt::BOOL => FileElement::Bool,
        dt::FLOAT16 => FileElement::F16,
        dt::BFLOAT16 => FileElement::BF16,
        dt::UNDEFINED => return Err(malformed("data_type is UNDEFINED (0)".to_owned())),
        dt::UINT64 => {
            return Err(unsupported(
                "data type UINT64 is not supported (its values need not fit i64)".to_owned(),
            ))
        }
        t if dt::name(t).is_some() => {
            return Err(unsupported(format!(
                "data type {} is not supported (Strata reads FLOAT, DOUBLE, FLOAT16, BFLOAT16, BOOL and integers up to 64 bits)",
                type_name(t)
            )))
        }
        t => return Err(malformed(format!("data_type {t} is not an ONNX data type"))),
    };
    // Which fields hold values; exactly one may (none for an empty tensor).
    let present: Vec<&str> = [
        ("raw_data", proto.raw_data.is_empty()),
        ("float_data", proto.float_data.is_empty()),
        ("int32_data", proto.int32_data.is_empty()),
        ("string_data", proto.string_data.is_empty()),
        ("int64_data", proto.int64_data.is_empty()),
        ("double_data", proto.double_data.is_empty()),
        ("uint64_data", proto.uint64_data.is_empty()),
    ]
    .into_iter()
    .filter(|&(_, empty)| !empty)
    .map(|(name, _)| name)
    .collect();
    let typed_field = match t {
        dt::FLOAT => "float_data",
        dt::DOUBLE => "double_data",
        dt::INT64 => "int64_data",
        dt::UINT32 => "uint64_data",
        _ => "int32_data",
    };
    let field = match present.as_slice() {
        [] if numel == 0 => typed_field,
        [] => {
            return Err(malformed(format!(
                "holds no values, but dims {dims:?} need {numel}"
            )))
        }
        [one] => *one,
        several => {
            return Err(malformed(format!(
                "holds values in both {} and {}",
                several[0], several[1]
            )))
        }
    };
    let count_error = |count: usize| {
        malformed(format!(
            "{field} holds {count} values, but dims {dims:?} need {numel}"
        ))
    };
    if field == "raw_data" {
        let needed = numel.checked_mul(element.size_in_bytes()).ok_or_else(|| {
            malformed(format!(
                "dims {dims:?} need more bytes than memory can address"
            ))
        })?;
        if proto.raw_data.len() != needed {
            return Err(malformed(format!(
                "raw_data holds {} bytes, but dims {dims:?} of {} need {needed}",
                proto.raw_data.len(),
                type_name(t)
            )));
        }
        return element
            .decode(
                &proto.raw_data,
                ByteOrder::Little,
                dims,
                element.natural_dtype(),
            )
            .map_err(|(at, problem)| malformed(format!("raw_data byte {at}: {problem}")));
    }
    if field != typed_field {
        return Err(malformed(format!(
            "data type {} stores its values in {typed_field} or raw_data, not {field}",
            type_name(t)
        )));
    }
    let tensor_error = |e: strata_tensor::TensorError| malformed(e.to_string());
    let out_of_range = |i: usize, v: i64| {
        malformed(format!(
            "{field}[{i}] is {v}, out of range for {}",
            type_name(t)
        ))
    };
    match t {
        dt::FLOAT => {
            check_count(proto.float_data.len(), numel).map_err(count_error)?;
            Tensor::from_vec(proto.float_data.clone(), dims).map_err(tensor_error)
        }
        dt::DOUBLE => {
            check_count(proto.double_data.len(), numel).map_err(count_error)?;
            Tensor::from_vec(proto.double_data.clone(), dims).map_err(tensor_error)
        }
        dt::INT64 => {
            check_count(proto.int64_data.len(), numel).map_err(count_error)?;
            Tensor::from_vec(proto.int64_data.clone(), dims).map_err(tensor_error)
        }
        dt::UINT32 => {
            check_count(proto.uint64_data.len(), numel).map_err(count_error)?;
            let values = proto
                .uint64_data
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    u32::try_from(v).map(i64::from).map_err(|_| {
                        malformed(format!("{field}[{i}] is {v}, out of range for UINT32"))
                    })
                })
                .collect::<Result<Vec<i64>, _>>()?;
            Tensor::from_vec(values, dims).map_err(tensor_error)
        }
        _ => {
            check_count(proto.int32_data.len(), numel).map_err(count_error)?;
            let (low, high) = match t {
                dt::INT32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
                dt::INT16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
                dt::INT8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
                dt::UINT16 | dt::FLOAT16 | dt::BFLOAT16 => (0, i64::from(u16::MAX)),
                dt::UINT8 => (0, i64::from(u8::MAX)),
                _ => (0, 1), // BOOL
            };
            let values = proto
                .int32_data
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let v = i64::from(v);
                    if (low..=high).contains(&v) {
                        Ok(v)
                    } else {
                        Err(out_of_range(i, v))
                    }
                })
                .collect::<Result<Vec<i64>, _>>()?;
            match t {
                dt::BOOL => Tensor::from_vec(values.iter().map(|&v| v == 1).collect(), dims),
                dt::FLOAT16 => Tensor::from_vec(
                    values.iter().map(|&v| f16::from_bits(v as u16)).collect(),
                    dims,
                ),
                dt::BFLOAT16 => Tensor::from_vec(
                    values.iter().map(|&v| bf16::from_bits(v as u16)).collect(),
                    dims,
                ),
                _ => Tensor::from_vec(values, dims),
            }
            .map_err(tensor_error)
        }
    }
}

fn check_count(count: usize, numel: usize) -> Result<(), usize> {
    if count == numel {
        Ok(())
    } else {
        Err(count)
    }
}

/// A `TensorProto` named `name` holding `tensor` in `raw_data` (row-major, little-endian).
pub fn tensor_to_proto(name: &str, tensor: &Tensor) -> Result<TensorProto, IoError> {
    let dims = tensor
        .dims()
        .iter()
        .map(|&d| i64::try_from(d))
        .collect::<Result<Vec<i64>, _>>()
        .map_err(|_| IoError::unsupported(name, "a dimension exceeds i64"))?;
    let raw_data = le_bytes(tensor).map_err(|e| IoError::unsupported(name, e.to_string()))?;
    Ok(TensorProto {
        dims,
        data_type: dt::from_dtype(tensor.dtype()),
        name: name.to_owned(),
        raw_data,
        ..TensorProto::default()
    })
}

/// The dtype `proto` reads as, for callers that only need to know (inspection).
pub fn proto_dtype(proto: &TensorProto) -> Option<DType> {
    dt::to_dtype(proto.data_type)
}
