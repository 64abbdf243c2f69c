//! The safetensors format (Hugging Face), as written by the `safetensors` Python package and
//! `torch`'s `save_file`.
//!
//! A file is an 8-byte little-endian header length `N`, `N` bytes of UTF-8 JSON, then the data
//! section. The JSON object maps each tensor name to
//! `{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}` (offsets relative to the
//! data section) and may hold `"__metadata__"`, an object of string values.
//!
//! The reader is strict. The header length must fit the file (and safetensors' 100 MB limit);
//! the JSON must start with `{` (trailing spaces, which writers use as padding, are allowed); no
//! key may appear twice at any level and no entry may hold other keys; every shape times its
//! dtype's size must equal its byte range; sorted by offset, the ranges must start at 0, follow
//! each other without gap or overlap, and end exactly at the end of the file.
//!
//! dtypes: `F32 F64 I64 BOOL F16 BF16` read as themselves; `U8 I8 U16 I16 U32 I32` widen exactly
//! into i64. `U64` (values need not fit i64), the 8-, 6- and 4-bit floats and `C64` are
//! recognised, validated, listed by [`read_safetensors_header`], and refused by the tensor
//! readers with an error that names the tensor and the dtype.
//!
//! Write: tensors in name order (a `BTreeMap`), offsets consecutive from 0, `__metadata__`
//! first when non-empty, the header padded with spaces so the data starts 8-byte aligned, as
//! the Python package does; atomically.

use crate::element::{checked_numel, le_bytes, ByteOrder, FileElement};
use crate::file::{display_name, write_atomically};
use crate::json::{self, Json};
use crate::IoError;
use std::collections::BTreeMap;
use std::path::Path;
use strata_tensor::{DType, Tensor};

/// safetensors' own limit on the header length (`MAX_HEADER_SIZE` in the Rust crate).
pub const MAX_HEADER_LEN: usize = 100_000_000;
const METADATA_KEY: &str = "__metadata__";

/// The tensors of a safetensors file by name, and its `__metadata__` (empty when absent).
#[derive(Clone, Debug, Default)]
pub struct Safetensors {
    pub tensors: BTreeMap<String, Tensor>,
    pub metadata: BTreeMap<String, String>,
}

/// An element type named in a safetensors header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SafetensorsDType {
    Bool,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    U64,
    I64,
    F16,
    BF16,
    F32,
    F64,
    F8E5M2,
    F8E4M3,
    F8E8M0,
    F6E2M3,
    F6E3M2,
    F4,
    C64,
}

impl SafetensorsDType {
    const ALL: [SafetensorsDType; 20] = [
        SafetensorsDType::Bool,
        SafetensorsDType::U8,
        SafetensorsDType::I8,
        SafetensorsDType::U16,
        SafetensorsDType::I16,
        SafetensorsDType::U32,
        SafetensorsDType::I32,
        SafetensorsDType::U64,
        SafetensorsDType::I64,
        SafetensorsDType::F16,
        SafetensorsDType::BF16,
        SafetensorsDType::F32,
        SafetensorsDType::F64,
        SafetensorsDType::F8E5M2,
        SafetensorsDType::F8E4M3,
        SafetensorsDType::F8E8M0,
        SafetensorsDType::F6E2M3,
        SafetensorsDType::F6E3M2,
        SafetensorsDType::F4,
        SafetensorsDType::C64,
    ];

    /// The name as the header spells it.
    pub fn name(self) -> &'static str {
        match self {
            SafetensorsDType::Bool => "BOOL",
            SafetensorsDType::U8 => "U8",
            SafetensorsDType::I8 => "I8",
            SafetensorsDType::U16 => "U16",
            SafetensorsDType::I16 => "I16",
            SafetensorsDType::U32 => "U32",
            SafetensorsDType::I32 => "I32",
            SafetensorsDType::U64 => "U64",
            SafetensorsDType::I64 => "I64",
            SafetensorsDType::F16 => "F16",
            SafetensorsDType::BF16 => "BF16",
            SafetensorsDType::F32 => "F32",
            SafetensorsDType::F64 => "F64",
            SafetensorsDType::F8E5M2 => "F8_E5M2",
            SafetensorsDType::F8E4M3 => "F8_E4M3",
            SafetensorsDType::F8E8M0 => "F8_E8M0",
            SafetensorsDType::F6E2M3 => "F6_E2M3",
            SafetensorsDType::F6E3M2 => "F6_E3M2",
            SafetensorsDType::F4 => "F4",
            SafetensorsDType::C64 => "C64",
        }
    }

    pub fn from_name(name: &str) -> Option<SafetensorsDType> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Bits per element (the sub-byte floats pack several elements per byte).
    pub fn size_in_bits(self) -> usize {
        match self {
            SafetensorsDType::F4 => 4,
            SafetensorsDType::F6E2M3 | SafetensorsDType::F6E3M2 => 6,
            SafetensorsDType::Bool
            | SafetensorsDType::U8
            | SafetensorsDType::I8
            | SafetensorsDType::F8E5M2
            | SafetensorsDType::F8E4M3
            | SafetensorsDType::F8E8M0 => 8,
            SafetensorsDType::U16
            | SafetensorsDType::I16
            | SafetensorsDType::F16
            | SafetensorsDType::BF16 => 16,
            SafetensorsDType::U32 | SafetensorsDType::I32 | SafetensorsDType::F32 => 32,
            SafetensorsDType::U64
            | SafetensorsDType::I64
            | SafetensorsDType::F64
            | SafetensorsDType::C64 => 64,
        }
    }

    /// The element type Strata reads this dtype as, or `None` when it cannot.
    fn file_element(self) -> Option<FileElement> {
        Some(match self {
            SafetensorsDType::Bool => FileElement::Bool,
            SafetensorsDType::U8 => FileElement::U8,
            SafetensorsDType::I8 => FileElement::I8,
            SafetensorsDType::U16 => FileElement::U16,
            SafetensorsDType::I16 => FileElement::I16,
            SafetensorsDType::U32 => FileElement::U32,
            SafetensorsDType::I32 => FileElement::I32,
            SafetensorsDType::I64 => FileElement::I64,
            SafetensorsDType::F16 => FileElement::F16,
            SafetensorsDType::BF16 => FileElement::BF16,
            SafetensorsDType::F32 => FileElement::F32,
            SafetensorsDType::F64 => FileElement::F64,
            _ => return None,
        })
    }

    /// The dtype Strata writes a tensor of `dtype` as.
    pub fn for_dtype(dtype: DType) -> SafetensorsDType {
        match dtype {
            DType::F32 => SafetensorsDType::F32,
            DType::F64 => SafetensorsDType::F64,
            DType::I64 => SafetensorsDType::I64,
            DType::Bool => SafetensorsDType::Bool,
            DType::F16 => SafetensorsDType::F16,
            DType::BF16 => SafetensorsDType::BF16,
        }
    }

    fn unsupported_reason(self) -> &'static str {
        match self {
            SafetensorsDType::U64 => "u64 values need not fit i64",
            SafetensorsDType::C64 => "Strata has no complex dtype",
            _ => "Strata has no 8-, 6- or 4-bit float dtype",
        }
    }
}

/// One tensor's entry in a safetensors header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    pub dtype: SafetensorsDType,
    pub shape: Vec<usize>,
    /// `[begin, end)` relative to the start of the data section.
    pub data_offsets: (usize, usize),
}

/// A validated safetensors header: every entry's byte range was checked against the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafetensorsHeader {
    pub tensors: BTreeMap<String, TensorInfo>,
    pub metadata: BTreeMap<String, String>,
    /// File offset of the data section (8 + the header length).
    pub data_start: usize,
}

/// Reads the safetensors file at `path` through a memory map: only the tensors' own buffers are
/// allocated, never a copy of the whole file.
pub fn read_safetensors(path: impl AsRef<Path>) -> Result<Safetensors, IoError> {
    let path = path.as_ref();
    crate::mmap::with_mapped_file(path, |bytes| {
        read_safetensors_bytes(bytes, &display_name(path))
    })
}

/// Reads safetensors content held in memory; `name` identifies it in error messages.
pub fn read_safetensors_bytes(bytes: &[u8], name: &str) -> Result<Safetensors, IoError> {
    let header = read_safetensors_header(bytes, name)?;
    let mut tensors = BTreeMap::new();
    for (tensor_name, info) in header.tensors {
        let element = info.dtype.file_element().ok_or_else(|| {
            IoError::unsupported(
                name,
                format!(
                    "tensor {}: dtype {} is not supported ({})",
                    json::quote(&tensor_name),
                    info.dtype.name(),
                    info.dtype.unsupported_reason()
                ),
            )
        })?;
        let start = header.data_start + info.data_offsets.0;
        let data = &bytes[start..header.data_start + info.data_offsets.1];
        let tensor = element
            .decode(data, ByteOrder::Little, info.shape, element.natural_dtype())
            .map_err(|(at, problem)| {
                IoError::malformed(
                    name,
                    format!(
                        "byte {} (tensor {} data)",
                        start + at,
                        json::quote(&tensor_name)
                    ),
                    problem,
                )
            })?;
        tensors.insert(tensor_name, tensor);
    }
    Ok(Safetensors {
        tensors,
        metadata: header.metadata,
    })
}

/// Parses and validates the header of the safetensors content `bytes` (the whole file: offsets
/// are checked against its length) without decoding any tensor.
pub fn read_safetensors_header(bytes: &[u8], name: &str) -> Result<SafetensorsHeader, IoError> {
    let Some(len_bytes) = bytes.first_chunk::<8>() else {
        return Err(IoError::malformed(
            name,
            "byte 0 (header length)",
            format!(
                "file ends after {} bytes; a safetensors file starts with an 8-byte header length",
                bytes.len()
            ),
        ));
    };
    let header_len = u64::from_le_bytes(*len_bytes);
    let available = bytes.len() - 8;
    let header_len = usize::try_from(header_len)
        .ok()
        .filter(|&n| n <= available && n <= MAX_HEADER_LEN)
        .ok_or_else(|| {
            let problem = if header_len > MAX_HEADER_LEN as u64 {
                format!("header length {header_len} exceeds safetensors' limit of {MAX_HEADER_LEN} bytes")
            } else {
                format!(
                    "header length {header_len} runs past the end of the {}-byte file",
                    bytes.len()
                )
            };
            IoError::malformed(name, "byte 0 (header length)", problem)
        })?;
    let data_start = 8 + header_len;
    let text = &bytes[8..data_start];
    if text.first() != Some(&b'{') {
        return Err(IoError::malformed(
            name,
            "byte 8 (header)",
            "the header is not a JSON object (does not start with '{')",
        ));
    }
    let entries = match json::parse(text) {
        Ok(Json::Object(entries)) => entries,
        Ok(other) => {
            return Err(IoError::malformed(
                name,
                "byte 8 (header)",
                format!("the header is {}, not a JSON object", other.kind()),
            ))
        }
        Err((at, problem)) => {
            return Err(IoError::malformed(
                name,
                format!("byte {} (header)", 8 + at),
                format!("invalid JSON: {problem}"),
            ))
        }
    };
    let field = |key: &str, sub: &str| {
        let key = json::quote(key);
        match sub {
            "" => format!("header entry {key}"),
            _ => format!("header entry {key}, field '{sub}'"),
        }
    };
    let mut header = SafetensorsHeader {
        data_start,
        ..SafetensorsHeader::default()
    };
    let mut seen_metadata = false;
    for (key, value) in entries {
        if key == METADATA_KEY {
            if std::mem::replace(&mut seen_metadata, true) {
                return Err(IoError::malformed(name, field(&key, ""), "appears twice"));
            }
            header.metadata = parse_metadata(value)
                .map_err(|(sub, problem)| IoError::malformed(name, field(&key, &sub), problem))?;
            continue;
        }
        if header.tensors.contains_key(&key) {
            return Err(IoError::malformed(name, field(&key, ""), "appears twice"));
        }
        let info = parse_info(value)
            .map_err(|(sub, problem)| IoError::malformed(name, field(&key, sub), problem))?;
        header.tensors.insert(key, info);
    }
    check_coverage(&header, bytes.len() - data_start, name)?;
    Ok(header)
}

/// One tensor entry; the error is the field ("" for the entry itself) and the problem.
fn parse_info(value: Json) -> Result<TensorInfo, (&'static str, String)> {
    let Json::Object(fields) = value else {
        return Err((
            "",
            format!(
                "is {}, not an object with dtype, shape and data_offsets",
                value.kind()
            ),
        ));
    };
    let (mut dtype, mut shape, mut offsets) = (None, None, None);
    for (key, value) in fields {
        let (slot, field): (&mut Option<Json>, &'static str) = match key.as_str() {
            "dtype" => (&mut dtype, "dtype"),
            "shape" => (&mut shape, "shape"),
            "data_offsets" => (&mut offsets, "data_offsets"),
            _ => {
                return Err((
                    "",
                    format!(
                        "unexpected key {} (an entry holds only dtype, shape and data_offsets)",
                        json::quote(&key)
                    ),
                ))
            }
        };
        if slot.replace(value).is_some() {
            return Err((field, "appears twice".to_owned()));
        }
    }
    let missing = |field: &'static str| (field, "is missing".to_owned());
    let dtype = match dtype.ok_or_else(|| missing("dtype"))? {
        Json::String(s) => SafetensorsDType::from_name(&s)
            .ok_or_else(|| ("dtype", format!("unknown dtype {}", json::quote(&s))))?,
        other => return Err(("dtype", format!("is {}, not a string", other.kind()))),
    };
    let shape = usize_array(shape.ok_or_else(|| missing("shape"))?)
        .map_err(|problem| ("shape", problem))?;
    let offsets = usize_array(offsets.ok_or_else(|| missing("data_offsets"))?)
        .map_err(|problem| ("data_offsets", problem))?;
    let &[begin, end] = offsets.as_slice() else {
        return Err((
            "data_offsets",
            format!("has {} entries, not 2 ([begin, end])", offsets.len()),
        ));
    };
    if end < begin {
        return Err((
            "data_offsets",
            format!("[{begin}, {end}] ends before it begins"),
        ));
    }
    let byte_len = checked_numel(&shape)
        .and_then(|n| n.checked_mul(dtype.size_in_bits()))
        .filter(|bits| bits % 8 == 0)
        .map(|bits| bits / 8);
    match byte_len {
        Some(len) if len == end - begin => {}
        Some(len) => {
            return Err((
                "data_offsets",
                format!(
                    "[{begin}, {end}] spans {} bytes, but shape {shape:?} of {} needs {len}",
                    end - begin,
                    dtype.name()
                ),
            ))
        }
        None => {
            return Err((
                "shape",
                format!(
                    "{shape:?} of {} is not a whole number of bytes that memory can address",
                    dtype.name()
                ),
            ))
        }
    }
    Ok(TensorInfo {
        dtype,
        shape,
        data_offsets: (begin, end),
    })
}

fn usize_array(value: Json) -> Result<Vec<usize>, String> {
    let Json::Array(items) = value else {
        return Err(format!("is {}, not an array of integers", value.kind()));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_usize().ok_or_else(|| match item {
                Json::Number(n) => {
                    format!("entry {i} ({n}) is not a non-negative integer that fits usize")
                }
                other => format!("entry {i} is {}, not an integer", other.kind()),
            })
        })
        .collect()
}

fn parse_metadata(value: Json) -> Result<BTreeMap<String, String>, (String, String)> {
    let Json::Object(entries) = value else {
        return Err((
            String::new(),
            format!("is {}, not an object of strings", value.kind()),
        ));
    };
    let mut metadata = BTreeMap::new();
    for (key, value) in entries {
        let Json::String(text) = value else {
            return Err((key, format!("is {}, not a string", value.kind())));
        };
        if metadata.insert(key.clone(), text).is_some() {
            return Err((key, "appears twice".to_owned()));
        }
    }
    Ok(metadata)
}

/// Sorted by offset, the tensors' byte ranges tile the data section exactly.
fn check_coverage(header: &SafetensorsHeader, data_len: usize, name: &str) -> Result<(), IoError> {
    let mut ranges: Vec<(usize, usize, &str)> = header
        .tensors
        .iter()
        .map(|(k, info)| (info.data_offsets.0, info.data_offsets.1, k.as_str()))
        .collect();
    ranges.sort_unstable();
    let mut covered = 0usize;
    let mut previous: Option<&str> = None;
    for &(begin, end, tensor) in &ranges {
        let place = format!("header entry {}, field 'data_offsets'", json::quote(tensor));
        let after = match previous {
            Some(p) => format!("the end of tensor {} ({covered})", json::quote(p)),
            None => "the start of the data (0)".to_owned(),
        };
        if begin > covered {
            return Err(IoError::malformed(
                name,
                place,
                format!("[{begin}, {end}] leaves a gap: the data from {after} to {begin} belongs to no tensor"),
            ));
        }
        if begin < covered {
            return Err(IoError::malformed(
                name,
                place,
                format!("[{begin}, {end}] overlaps the data before {after}"),
            ));
        }
        covered = end;
        previous = Some(tensor);
    }
    if covered != data_len {
        let place = format!("byte {} (data)", header.data_start + covered.min(data_len));
        let problem = if covered < data_len {
            format!(
                "{} bytes of trailing data belong to no tensor (the tensors cover {covered} of {data_len} data bytes)",
                data_len - covered
            )
        } else {
            format!("truncated: the tensors need {covered} data bytes, the file holds {data_len}")
        };
        return Err(IoError::malformed(name, place, problem));
    }
    Ok(())
}

/// Writes `tensors` and `metadata` to `path` as a safetensors file, atomically.
pub fn write_safetensors(
    path: impl AsRef<Path>,
    tensors: &BTreeMap<String, Tensor>,
    metadata: &BTreeMap<String, String>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = safetensors_bytes(tensors, metadata, &display_name(path))?;
    write_atomically(path, &bytes)
}

/// The file [`write_safetensors`] writes, in memory; `name` identifies it in error messages.
pub fn safetensors_bytes(
    tensors: &BTreeMap<String, Tensor>,
    metadata: &BTreeMap<String, String>,
    name: &str,
) -> Result<Vec<u8>, IoError> {
    if tensors.contains_key(METADATA_KEY) {
        return Err(IoError::unsupported(
            name,
            "a tensor cannot be named \"__metadata__\" (the key is reserved)",
        ));
    }
    let mut entries: Vec<String> = Vec::with_capacity(tensors.len() + 1);
    if !metadata.is_empty() {
        let pairs: Vec<String> = metadata
            .iter()
            .map(|(k, v)| format!("{}:{}", json::quote(k), json::quote(v)))
            .collect();
        entries.push(format!(
            "{}:{{{}}}",
            json::quote(METADATA_KEY),
            pairs.join(",")
        ));
    }
    let mut data = Vec::new();
    for (tensor_name, tensor) in tensors {
        let begin = data.len();
        let bytes = le_bytes(tensor).map_err(|e| {
            IoError::unsupported(name, format!("tensor {}: {e}", json::quote(tensor_name)))
        })?;
        data.extend_from_slice(&bytes);
        let shape: Vec<String> = tensor.dims().iter().map(usize::to_string).collect();
        entries.push(format!(
            "{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{begin},{}]}}",
            json::quote(tensor_name),
            SafetensorsDType::for_dtype(tensor.dtype()).name(),
            shape.join(","),
            data.len()
        ));
    }
    let mut header = format!("{{{}}}", entries.join(",")).into_bytes();
    // Spaces after the JSON align the data section to 8 bytes, as the Python package does.
    header.resize(header.len().next_multiple_of(8), b' ');
    if header.len() > MAX_HEADER_LEN {
        return Err(IoError::unsupported(
            name,
            format!(
                "the header needs {} bytes, over safetensors' limit of {MAX_HEADER_LEN}",
                header.len()
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(8 + header.len() + data.len());
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    bytes.extend_from_slice(&data);
    Ok(bytes)
}
