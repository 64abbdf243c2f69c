//! The IDX format of MNIST and Fashion-MNIST, optionally gzip-compressed (detected by the gzip
//! magic `1f 8b`, not by the file name).
//!
//! A file is two zero bytes, a type code, a dimension count `n`, `n` big-endian u32 dimension
//! sizes, then the elements, big-endian, in row-major order. Type codes: 0x08 u8, 0x09 i8,
//! 0x0B i16, 0x0C i32 (all read by exact widening into i64), 0x0D f32, 0x0E f64.
//! [`read_idx_as`] converts to another dtype where every value of the file's type converts
//! exactly (u8 pixels as f32 0..=255, for example).
//!
//! Offsets in errors count decompressed bytes for a gzip file. A gzip file must hold exactly
//! one gzip member.

use crate::element::{checked_numel, ByteOrder, FileElement};
use crate::file::{display_name, read_file, write_atomically};
use crate::IoError;
use flate2::bufread::GzDecoder;
use std::io::{ErrorKind, Read, Write};
use std::path::Path;
use strata_tensor::{DType, Tensor};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const U8_TYPE_CODE: u8 = 0x08;

/// Reads the IDX file at `path`: integer types as i64, f32 as f32, f64 as f64.
pub fn read_idx(path: impl AsRef<Path>) -> Result<Tensor, IoError> {
    let path = path.as_ref();
    read_idx_bytes(&read_file(path)?, &display_name(path))
}

/// Reads the IDX file at `path` as `dtype`; an error when some value of the file's element type
/// would not convert exactly (i32 as f32, say).
pub fn read_idx_as(path: impl AsRef<Path>, dtype: DType) -> Result<Tensor, IoError> {
    let path = path.as_ref();
    let name = display_name(path);
    let exact_dtype = |element: FileElement| {
        if element.converts_exactly_to(dtype) {
            Ok(dtype)
        } else {
            Err(IoError::unsupported(
                &name,
                format!(
                    "IDX element type {} does not convert exactly to {dtype}",
                    element.name()
                ),
            ))
        }
    };
    decode(&read_file(path)?, &name, exact_dtype)
}

/// Reads IDX content (plain or gzip) held in memory; `name` identifies it in error messages.
pub fn read_idx_bytes(bytes: &[u8], name: &str) -> Result<Tensor, IoError> {
    decode(bytes, name, |element| Ok(element.natural_dtype()))
}

/// Writes `tensor` (i64, or f32 holding integers) as an IDX u8 file, gzip-compressed when the
/// path ends in `.gz`, atomically. Every value must be an integer in 0..=255.
pub fn write_idx(path: impl AsRef<Path>, tensor: &Tensor) -> Result<(), IoError> {
    let path = path.as_ref();
    let name = display_name(path);
    if !matches!(tensor.dtype(), DType::I64 | DType::F32) {
        return Err(IoError::unsupported(
            &name,
            format!("IDX u8 is written from i64 or f32, not {}", tensor.dtype()),
        ));
    }
    let rank = u8::try_from(tensor.rank()).map_err(|_| {
        IoError::unsupported(&name, format!("rank {} exceeds IDX's 255", tensor.rank()))
    })?;
    let mut bytes = vec![0, 0, U8_TYPE_CODE, rank];
    for &d in tensor.dims() {
        let d = u32::try_from(d).map_err(|_| {
            IoError::unsupported(&name, format!("dimension {d} exceeds IDX's u32 sizes"))
        })?;
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    // i64 and f32 values in 0..=255 convert to f64 exactly; anything else fails the check.
    for (i, v) in tensor.to_vec_f64().into_iter().enumerate() {
        if !(v.fract() == 0.0 && (0.0..=255.0).contains(&v)) {
            return Err(IoError::unsupported(
                &name,
                format!("element {i} is {v}, not an integer in 0..=255 (IDX u8)"),
            ));
        }
        bytes.push(v as u8);
    }
    if path.extension().is_some_and(|e| e == "gz") {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        bytes = encoder
            .write_all(&bytes)
            .and_then(|()| encoder.finish())
            .map_err(|source| IoError::Os {
                file: name.clone(),
                action: "compress",
                source,
            })?;
    }
    write_atomically(path, &bytes)
}

/// The tensor in `bytes`, read as the dtype `choose_dtype` picks for the file's element type.
fn decode(
    bytes: &[u8],
    name: &str,
    choose_dtype: impl Fn(FileElement) -> Result<DType, IoError>,
) -> Result<Tensor, IoError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return parse(&mut &bytes[..], name, "byte", choose_dtype);
    }
    let mut decoder = GzDecoder::new(bytes);
    let decoded = parse(&mut decoder, name, "decompressed byte", choose_dtype)?;
    let rest = decoder.into_inner();
    if !rest.is_empty() {
        return Err(IoError::malformed(
            name,
            format!("byte {} (after the gzip stream)", bytes.len() - rest.len()),
            format!("{} bytes of trailing garbage", rest.len()),
        ));
    }
    Ok(decoded)
}

/// Parses an IDX stream; `unit` says what offsets count in error messages.
fn parse(
    reader: &mut impl Read,
    name: &str,
    unit: &str,
    choose_dtype: impl Fn(FileElement) -> Result<DType, IoError>,
) -> Result<Tensor, IoError> {
    let place = |offset: usize, what: &str| format!("{unit} {offset} ({what})");
    let read_error = |offset: usize, what: &str, e: std::io::Error| {
        let problem = match e.kind() {
            ErrorKind::UnexpectedEof => "truncated: the data ends here".to_owned(),
            _ => format!("corrupt data: {e}"),
        };
        IoError::malformed(name, place(offset, what), problem)
    };
    let mut magic = [0u8; 4];
    reader
        .read_exact(&mut magic)
        .map_err(|e| read_error(0, "magic", e))?;
    if magic[..2] != [0, 0] {
        return Err(IoError::malformed(
            name,
            place(0, "magic"),
            format!("magic {magic:02x?} is not an IDX magic (two zero bytes first)"),
        ));
    }
    let element = match magic[2] {
        U8_TYPE_CODE => FileElement::U8,
        0x09 => FileElement::I8,
        0x0B => FileElement::I16,
        0x0C => FileElement::I32,
        0x0D => FileElement::F32,
        0x0E => FileElement::F64,
        code => {
            return Err(IoError::malformed(
                name,
                place(2, "type code"),
                format!("unknown type code 0x{code:02x}"),
            ))
        }
    };
    let dtype = choose_dtype(element)?;
    let rank = usize::from(magic[3]);
    let mut dims = Vec::with_capacity(rank);
    for axis in 0..rank {
        let mut size = [0u8; 4];
        reader
            .read_exact(&mut size)
            .map_err(|e| read_error(4 + 4 * axis, &format!("dimension {axis}"), e))?;
        dims.push(u32::from_be_bytes(size) as usize);
    }
    let data_start = 4 + 4 * rank;
    let data_len = checked_numel(&dims)
        .and_then(|n| n.checked_mul(element.size_in_bytes()))
        .ok_or_else(|| {
            IoError::malformed(
                name,
                place(4, "dimensions"),
                format!("{dims:?} has more elements than memory can address"),
            )
        })?;
    // Reading at most one byte past the declared length bounds memory by the data actually
    // present, however large the dimensions claim to be.
    let mut data = Vec::new();
    if let Err(e) = reader
        .take((data_len as u64).saturating_add(1))
        .read_to_end(&mut data)
    {
        return Err(read_error(data_start + data.len(), "data", e));
    }
    if data.len() < data_len {
        return Err(IoError::malformed(
            name,
            place(data_start, "data"),
            format!(
                "truncated: dimensions {dims:?} of {} need {data_len} bytes, only {} present",
                element.name(),
                data.len()
            ),
        ));
    }
    if data.len() > data_len {
        return Err(IoError::malformed(
            name,
            place(data_start + data_len, "after data"),
            format!("trailing garbage after the {data_len} declared data bytes"),
        ));
    }
    element
        .decode(&data, ByteOrder::Big, dims, dtype)
        .map_err(|(at, problem)| IoError::malformed(name, place(data_start + at, "data"), problem))
}
