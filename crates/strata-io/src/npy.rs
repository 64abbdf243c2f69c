//! NumPy's `.npy` format, versions 1.0, 2.0 and 3.0.
//!
//! A file is the magic `\x93NUMPY`, a major and a minor version byte, a little-endian header
//! length (u16 for 1.0, u32 for 2.0 and 3.0), a header that is a Python dict literal
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, then the raw elements.
//!
//! Read: `f2 f4 f8 i8 b1` into f16, f32, f64, i64, bool; `i1 i2 i4 u1 u2 u4` widen exactly into
//! i64. Both byte orders (`<`, `>`; `|` for one-byte types) and `fortran_order: True` (the
//! result is row-major) are read. `u8` is refused (its values need not fit i64), as are
//! structured dtypes. The header must be ASCII and hold exactly the three keys above.
//!
//! Write: version 1.0 (2.0 when the header needs more than 65535 bytes), little-endian, C
//! order, atomically. bf16 has no NPY type code and is refused.

use crate::element::{checked_numel, le_bytes, ByteOrder, FileElement};
use crate::file::{display_name, read_file, write_atomically};
use crate::IoError;
use std::path::Path;
use strata_tensor::{DType, Tensor};

const MAGIC: &[u8] = b"\x93NUMPY";
/// NumPy pads the preamble plus header to a multiple of this, so the data is aligned.
const ALIGNMENT: usize = 64;

/// Reads the `.npy` file at `path`.
pub fn read_npy(path: impl AsRef<Path>) -> Result<Tensor, IoError> {
    let path = path.as_ref();
    read_npy_bytes(&read_file(path)?, &display_name(path))
}

/// Reads `.npy` content held in memory; `name` identifies it in error messages.
pub fn read_npy_bytes(bytes: &[u8], name: &str) -> Result<Tensor, IoError> {
    if !bytes.starts_with(MAGIC) {
        return Err(IoError::malformed(
            name,
            "byte 0",
            "not an NPY file (magic is not \\x93NUMPY)",
        ));
    }
    let ends_early = |place: &str| {
        IoError::malformed(
            name,
            place,
            format!("file ends after {} bytes", bytes.len()),
        )
    };
    let header_len_size = match bytes
        .get(6..8)
        .ok_or_else(|| ends_early("byte 6 (version)"))?
    {
        [1, 0] => 2,
        [2 | 3, 0] => 4,
        version => {
            return Err(IoError::malformed(
                name,
                "byte 6 (version)",
                format!("unsupported format version {}.{}", version[0], version[1]),
            ))
        }
    };
    let header_start = 8 + header_len_size;
    let header_len = bytes
        .get(8..header_start)
        .ok_or_else(|| ends_early("byte 8 (header length)"))?
        .iter()
        .rev()
        .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
    let data_start = header_start
        .checked_add(header_len)
        .filter(|&end| end <= bytes.len())
        .ok_or_else(|| {
            IoError::malformed(
                name,
                "byte 8 (header length)",
                format!(
                    "header length {header_len} runs past the end of the {}-byte file",
                    bytes.len()
                ),
            )
        })?;
    let header = Header::parse(&bytes[header_start..data_start], header_start)
        .map_err(|(place, problem)| IoError::malformed(name, place, problem))?;
    let field_error =
        |field: &str, problem: String| IoError::malformed(name, in_field(field), problem);
    let (element, order) = parse_descr(&header.descr).map_err(|p| field_error("descr", p))?;
    let numel = checked_numel(&header.shape);
    let data_len = numel.and_then(|n| n.checked_mul(element.size_in_bytes()));
    let data_len = data_len.ok_or_else(|| {
        field_error(
            "shape",
            format!(
                "{:?} has more elements than memory can address",
                header.shape
            ),
        )
    })?;
    let present = bytes.len() - data_start;
    if present < data_len {
        return Err(IoError::malformed(
            name,
            format!("byte {data_start} (data)"),
            format!(
                "truncated: shape {:?} of {} needs {data_len} bytes, only {present} present",
                header.shape, header.descr
            ),
        ));
    }
    if present > data_len {
        return Err(IoError::malformed(
            name,
            format!("byte {} (after data)", data_start + data_len),
            format!("{} bytes of trailing garbage", present - data_len),
        ));
    }
    // A Fortran-order array is the C-order array of the reversed shape, transposed.
    let mut dims = header.shape;
    if header.fortran_order {
        dims.reverse();
    }
    let rank = dims.len();
    let tensor = element
        .decode(&bytes[data_start..], order, dims, element.natural_dtype())
        .map_err(|(at, problem)| {
            IoError::malformed(name, format!("byte {} (data)", data_start + at), problem)
        })?;
    if !header.fortran_order {
        return Ok(tensor);
    }
    let reversed_axes: Vec<usize> = (0..rank).rev().collect();
    let transposed = tensor
        .permute(&reversed_axes)
        .map_err(|e| field_error("fortran_order", e.to_string()))?;
    Ok(transposed.contiguous())
}

/// Writes `tensor` to `path` as a little-endian, C-order `.npy` file, atomically.
pub fn write_npy(path: impl AsRef<Path>, tensor: &Tensor) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = npy_bytes(tensor, &display_name(path))?;
    write_atomically(path, &bytes)
}

/// The `.npy` file [`write_npy`] writes for `tensor`, in memory; `name` identifies it in
/// error messages.
pub fn npy_bytes(tensor: &Tensor, name: &str) -> Result<Vec<u8>, IoError> {
    let descr = match tensor.dtype() {
        DType::F32 => "<f4",
        DType::F64 => "<f8",
        DType::I64 => "<i8",
        DType::Bool => "|b1",
        DType::F16 => "<f2",
        DType::BF16 => {
            return Err(IoError::unsupported(
                name,
                "dtype bf16 has no NPY type code (convert to f32 first)",
            ))
        }
    };
    let data = le_bytes(tensor).map_err(|e| IoError::unsupported(name, e.to_string()))?;
    let shape: String = match tensor.dims() {
        [single] => format!("({single},)"),
        dims => {
            let entries: Vec<String> = dims.iter().map(usize::to_string).collect();
            format!("({})", entries.join(", "))
        }
    };
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Padding with spaces and a final newline aligns the data; version 2.0 only when the
    // header length does not fit version 1.0's u16.
    let padded_len = |preamble: usize| (preamble + dict.len() + 1).next_multiple_of(ALIGNMENT);
    let (version, preamble) = if padded_len(10) - 10 <= usize::from(u16::MAX) {
        (1, 10)
    } else {
        (2, 12)
    };
    let header_len = padded_len(preamble) - preamble;
    let mut bytes = Vec::with_capacity(preamble + header_len + data.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&[version, 0]);
    let header_len_le = u32::try_from(header_len)
        .map_err(|_| IoError::unsupported(name, "header longer than NPY's 4 GiB limit"))?
        .to_le_bytes();
    bytes.extend_from_slice(&header_len_le[..preamble - 8]);
    bytes.extend_from_slice(dict.as_bytes());
    bytes.resize(preamble + header_len - 1, b' ');
    bytes.push(b'\n');
    bytes.extend_from_slice(&data);
    Ok(bytes)
}

fn parse_descr(descr: &str) -> Result<(FileElement, ByteOrder), String> {
    let mut chars = descr.chars();
    let order = chars.next();
    let element = match chars.as_str() {
        "b1" => FileElement::Bool,
        "u1" => FileElement::U8,
        "i1" => FileElement::I8,
        "u2" => FileElement::U16,
        "i2" => FileElement::I16,
        "u4" => FileElement::U32,
        "i4" => FileElement::I32,
        "i8" => FileElement::I64,
        "f2" => FileElement::F16,
        "f4" => FileElement::F32,
        "f8" => FileElement::F64,
        "u8" => {
            return Err(format!(
                "{descr:?}: u8 values need not fit i64; not supported"
            ))
        }
        _ => return Err(format!("{descr:?} is not a supported dtype")),
    };
    let single_byte = element.size_in_bytes() == 1;
    let order = match order {
        Some('<') => ByteOrder::Little,
        Some('>') => ByteOrder::Big,
        Some('|') if single_byte => ByteOrder::Little,
        _ => {
            return Err(format!(
                "{descr:?} has no valid byte order ('<', '>', or '|')"
            ))
        }
    };
    Ok((element, order))
}

/// The three fields of an NPY header.
struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// A Python literal as it may appear in an NPY header.
enum Literal {
    Str(String),
    Bool(bool),
    /// The literal's text: converted (and range-checked) where a field needs a number.
    Int(String),
    Tuple(Vec<Literal>),
}

/// A header error: the place (a file offset or a header field) and the problem.
type HeaderError = (String, String);

fn at_byte(offset: usize) -> String {
    format!("byte {offset} (header)")
}

fn in_field(key: &str) -> String {
    format!("header field '{key}'")
}

impl Header {
    /// Parses `text` (the header, which starts at file offset `base`).
    fn parse(text: &[u8], base: usize) -> Result<Header, HeaderError> {
        if let Some(at) = text.iter().position(|b| !b.is_ascii()) {
            return Err((at_byte(base + at), "non-ASCII byte in header".into()));
        }
        let mut parser = Parser { text, pos: 0, base };
        let fields = parser.dict()?;
        parser.skip_whitespace();
        if parser.pos != text.len() {
            return Err(parser.error("unexpected text after the header dict"));
        }
        let mut descr = None;
        let mut fortran_order = None;
        let mut shape = None;
        for (key, value) in fields {
            let problem = |p: &str| Err((in_field(&key), p.to_owned()));
            let taken = match key.as_str() {
                "descr" => descr.is_some(),
                "fortran_order" => fortran_order.is_some(),
                "shape" => shape.is_some(),
                _ => return problem("is not an NPY header key"),
            };
            if taken {
                return problem("appears twice");
            }
            match (key.as_str(), value) {
                ("descr", Literal::Str(s)) => descr = Some(s),
                ("fortran_order", Literal::Bool(b)) => fortran_order = Some(b),
                ("shape", Literal::Tuple(entries)) => {
                    shape = Some(shape_dims(entries).map_err(|p| (in_field(&key), p))?)
                }
                ("descr", _) => {
                    return problem("must be a string (structured dtypes are not supported)")
                }
                ("fortran_order", _) => return problem("must be True or False"),
                _ => return problem("must be a tuple of non-negative integers"),
            }
        }
        let missing = |key: &str| (in_field(key), "is missing".to_owned());
        Ok(Header {
            descr: descr.ok_or_else(|| missing("descr"))?,
            fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
            shape: shape.ok_or_else(|| missing("shape"))?,
        })
    }
}

fn shape_dims(entries: Vec<Literal>) -> Result<Vec<usize>, String> {
    entries
        .into_iter()
        .map(|entry| match entry {
            Literal::Int(text) => text.parse::<usize>().map_err(|_| {
                let why = if text.starts_with('-') {
                    "negative"
                } else {
                    "too large"
                };
                format!("entry {text} is {why}")
            }),
            _ => Err("entries must be non-negative integers".to_owned()),
        })
        .collect()
}

/// A recursive-descent parser for the subset of Python literals NPY headers use.
struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    base: usize,
}

impl Parser<'_> {
    fn error(&self, problem: &str) -> HeaderError {
        let found = match self.text.get(self.pos) {
            Some(&b) => format!("{:?}", char::from(b)),
            None => "the end of the header".into(),
        };
        (
            at_byte(self.base + self.pos),
            format!("{problem}, found {found}"),
        )
    }

    fn skip_whitespace(&mut self) {
        while self.text.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    /// Skips whitespace, then consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let found = self.text.get(self.pos) == Some(&byte);
        self.pos += usize::from(found);
        found
    }

    fn expect(&mut self, byte: u8) -> Result<(), HeaderError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.error(&format!("expected {:?}", char::from(byte))))
        }
    }

    /// `{key: value, ...}` with string keys and an optional trailing comma.
    fn dict(&mut self) -> Result<Vec<(String, Literal)>, HeaderError> {
        self.expect(b'{')?;
        let mut fields = Vec::new();
        while !self.eat(b'}') {
            self.skip_whitespace();
            let key = match self.value()? {
                Literal::Str(key) => key,
                _ => return Err(self.error("expected a string key")),
            };
            self.expect(b':')?;
            fields.push((key, self.value()?));
            if !self.eat(b',') {
                self.expect(b'}')?;
                break;
            }
        }
        Ok(fields)
    }

    fn value(&mut self) -> Result<Literal, HeaderError> {
        self.skip_whitespace();
        let rest = &self.text[self.pos..];
        match rest.first() {
            Some(&quote @ (b'\'' | b'"')) => {
                let len = rest[1..].iter().position(|&b| b == quote || b == b'\\');
                match len.map(|len| (len, rest[1 + len])) {
                    Some((len, b)) if b == quote => {
                        let s = String::from_utf8_lossy(&rest[1..1 + len]).into_owned();
                        self.pos += len + 2;
                        Ok(Literal::Str(s))
                    }
                    Some((len, _)) => {
                        self.pos += 1 + len;
                        Err(self.error("escapes in strings are not supported"))
                    }
                    None => Err(self.error("unterminated string")),
                }
            }
            Some(b'(') => self.tuple(),
            Some(b'-' | b'0'..=b'9') => {
                let sign = usize::from(rest[0] == b'-');
                let digits = rest[sign..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                if digits == 0 {
                    self.pos += sign;
                    return Err(self.error("expected a digit"));
                }
                let text = String::from_utf8_lossy(&rest[..sign + digits]).into_owned();
                self.pos += sign + digits;
                // Python 2 era NumPy wrote long integers as `3L`.
                self.pos += usize::from(self.text.get(self.pos) == Some(&b'L'));
                Ok(Literal::Int(text))
            }
            _ if rest.starts_with(b"True") => {
                self.pos += 4;
                Ok(Literal::Bool(true))
            }
            _ if rest.starts_with(b"False") => {
                self.pos += 5;
                Ok(Literal::Bool(false))
            }
            _ => Err(self.error("expected a string, integer, tuple, True or False")),
        }
    }

    /// `()`, `(a,)`, `(a, b)`, `(a, b,)`; as in Python, `(a)` is just `a`.
    fn tuple(&mut self) -> Result<Literal, HeaderError> {
        self.expect(b'(')?;
        let mut entries = Vec::new();
        let mut trailing_comma = false;
        while !self.eat(b')') {
            entries.push(self.value()?);
            trailing_comma = self.eat(b',');
            if !trailing_comma {
                self.expect(b')')?;
                break;
            }
        }
        Ok(match entries.len() {
            1 if !trailing_comma => entries.pop().expect("one entry"),
            _ => Literal::Tuple(entries),
        })
    }
}
