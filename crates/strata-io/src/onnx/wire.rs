//! The protobuf wire format, by hand: a decoder that never panics, never allocates more than
//! the bytes present, and names the byte offset and field path of every error; and an
//! encoder.
//!
//! Decoding follows protobuf's merge rules: a repeated singular scalar keeps its last value, a
//! repeated singular message merges, repeated scalar fields are read packed or unpacked.
//! Unknown fields are kept (as [`UnknownField`]) and written back. Group wire types (3, 4) are
//! refused. Messages nest at most [`MAX_DEPTH`] deep.

use crate::IoError;

/// How deep messages may nest (protobuf's own default limit is 100).
pub const MAX_DEPTH: usize = 100;

/// A field this crate does not model, kept so that encoding writes it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownField {
    pub number: u32,
    pub value: WireValue,
}

/// A field's value as the wire carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireValue {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    LengthDelimited(Vec<u8>),
}

/// One field read off the wire: its number, the offset of its tag, and its value (a
/// length-delimited value as the range of its bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field {
    pub number: u32,
    pub at: usize,
    value: Value,
}

#[derive(Clone, Copy, Debug)]
enum Value {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Len(usize, usize),
}

impl Value {
    fn wire_name(self) -> &'static str {
        match self {
            Value::Varint(_) => "varint (0)",
            Value::Fixed64(_) => "64-bit (1)",
            Value::Len(..) => "length-delimited (2)",
            Value::Fixed32(_) => "32-bit (5)",
        }
    }
}

/// A message type: how to merge one field into it, and how to write it.
pub(crate) trait Proto: Default {
    /// The protobuf type name, which starts error paths.
    const NAME: &'static str;
    fn merge_field(&mut self, d: &mut Decoder, field: Field) -> Result<(), IoError>;
    fn encode_fields(&self, e: &mut Encoder);
}

impl<M: Proto> Proto for Box<M> {
    const NAME: &'static str = M::NAME;
    fn merge_field(&mut self, d: &mut Decoder, field: Field) -> Result<(), IoError> {
        (**self).merge_field(d, field)
    }
    fn encode_fields(&self, e: &mut Encoder) {
        (**self).encode_fields(e)
    }
}

#[derive(Clone, Copy, Debug)]
struct Segment {
    name: &'static str,
    index: Option<usize>,
}

pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
    file: &'a str,
    root: &'static str,
    path: Vec<Segment>,
}

impl<'a> Decoder<'a> {
    /// Decodes the whole of `bytes` as one `M`; `file` names it in errors.
    pub(crate) fn decode<M: Proto>(bytes: &'a [u8], file: &'a str) -> Result<M, IoError> {
        let mut d = Decoder {
            bytes,
            file,
            root: M::NAME,
            path: Vec::new(),
        };
        let mut message = M::default();
        d.merge(&mut message, 0, bytes.len())?;
        Ok(message)
    }

    fn merge<M: Proto>(
        &mut self,
        message: &mut M,
        start: usize,
        end: usize,
    ) -> Result<(), IoError> {
        let mut pos = start;
        while pos < end {
            let field = self.read_field(&mut pos, end)?;
            message.merge_field(self, field)?;
        }
        Ok(())
    }

    /// The error path: `ModelProto.graph.node[3].attribute[0]` plus `.field` when given.
    fn place(&self, at: usize, field: Option<&str>) -> String {
        let mut path = self.root.to_owned();
        for s in &self.path {
            path.push('.');
            path.push_str(s.name);
            if let Some(i) = s.index {
                path.push_str(&format!("[{i}]"));
            }
        }
        if let Some(field) = field {
            path.push('.');
            path.push_str(field);
        }
        format!("byte {at} ({path})")
    }

    pub(crate) fn error(
        &self,
        at: usize,
        field: Option<&str>,
        problem: impl Into<String>,
    ) -> IoError {
        IoError::malformed(self.file, self.place(at, field), problem)
    }

    fn varint(&self, pos: &mut usize, end: usize, field: Option<&str>) -> Result<u64, IoError> {
        let start = *pos;
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let Some(&byte) = self.bytes.get(*pos).filter(|_| *pos < end) else {
                return Err(self.error(start, field, "truncated varint"));
            };
            *pos += 1;
            if shift == 63 && byte > 1 {
                return Err(self.error(start, field, "varint overflows 64 bits"));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error(start, field, "varint longer than 10 bytes"))
    }

    fn fixed<const N: usize>(
        &self,
        pos: &mut usize,
        end: usize,
        at: usize,
    ) -> Result<[u8; N], IoError> {
        let bytes = pos
            .checked_add(N)
            .filter(|&e| e <= end)
            .and_then(|e| self.bytes.get(*pos..e))
            .ok_or_else(|| self.error(at, None, format!("truncated {}-byte value", N)))?;
        *pos += N;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn read_field(&self, pos: &mut usize, end: usize) -> Result<Field, IoError> {
        let at = *pos;
        let key = self.varint(pos, end, None)?;
        let number = key >> 3;
        if number == 0 || number > (1 << 29) - 1 {
            return Err(self.error(at, None, format!("invalid field number {number}")));
        }
        let number = number as u32;
        let value = match key & 7 {
            0 => Value::Varint(self.varint(pos, end, None)?),
            1 => Value::Fixed64(u64::from_le_bytes(self.fixed(pos, end, at)?)),
            5 => Value::Fixed32(u32::from_le_bytes(self.fixed(pos, end, at)?)),
            2 => {
                let len = self.varint(pos, end, None)?;
                let start = *pos;
                let stop = usize::try_from(len)
                    .ok()
                    .and_then(|len| start.checked_add(len))
                    .filter(|&stop| stop <= end)
                    .ok_or_else(|| {
                        self.error(
                            at,
                            None,
                            format!(
                                "field {number}: length {len} runs past the end of its enclosing message ({} bytes left)",
                                end - start
                            ),
                        )
                    })?;
                *pos = stop;
                Value::Len(start, stop)
            }
            3 | 4 => {
                return Err(self.error(
                    at,
                    None,
                    format!("field {number}: group wire types (3, 4) are not supported"),
                ))
            }
            other => {
                return Err(self.error(
                    at,
                    None,
                    format!("field {number}: invalid wire type {other}"),
                ))
            }
        };
        Ok(Field { number, at, value })
    }

    fn wrong_wire(&self, f: Field, name: &str, expected: &str) -> IoError {
        self.error(
            f.at,
            Some(name),
            format!(
                "field {} has wire type {}, expected {expected}",
                f.number,
                f.value.wire_name()
            ),
        )
    }

    pub(crate) fn int64(&self, f: Field, name: &str) -> Result<i64, IoError> {
        match f.value {
            Value::Varint(v) => Ok(v as i64),
            _ => Err(self.wrong_wire(f, name, "varint (0)")),
        }
    }

    pub(crate) fn int32(&self, f: Field, name: &str) -> Result<i32, IoError> {
        let v = self.int64(f, name)?;
        i32::try_from(v)
            .map_err(|_| self.error(f.at, Some(name), format!("{v} is out of int32 range")))
    }

    pub(crate) fn float(&self, f: Field, name: &str) -> Result<f32, IoError> {
        match f.value {
            Value::Fixed32(v) => Ok(f32::from_bits(v)),
            _ => Err(self.wrong_wire(f, name, "32-bit (5)")),
        }
    }

    pub(crate) fn bytes(&self, f: Field, name: &str) -> Result<Vec<u8>, IoError> {
        match f.value {
            Value::Len(start, end) => Ok(self.bytes[start..end].to_vec()),
            _ => Err(self.wrong_wire(f, name, "length-delimited (2)")),
        }
    }

    pub(crate) fn string(&self, f: Field, name: &str) -> Result<String, IoError> {
        match f.value {
            Value::Len(start, end) => std::str::from_utf8(&self.bytes[start..end])
                .map(str::to_owned)
                .map_err(|e| {
                    self.error(
                        start + e.valid_up_to(),
                        Some(name),
                        "string is not valid UTF-8",
                    )
                }),
            _ => Err(self.wrong_wire(f, name, "length-delimited (2)")),
        }
    }

    /// Merges a length-delimited field into `message` (a new element of a repeated field when
    /// `index` is given).
    pub(crate) fn message<M: Proto>(
        &mut self,
        f: Field,
        name: &'static str,
        index: Option<usize>,
        message: &mut M,
    ) -> Result<(), IoError> {
        let Value::Len(start, end) = f.value else {
            return Err(self.wrong_wire(f, name, "length-delimited (2)"));
        };
        if self.path.len() >= MAX_DEPTH {
            return Err(self.error(
                f.at,
                Some(name),
                format!("messages nest deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.path.push(Segment { name, index });
        let merged = self.merge(message, start, end);
        self.path.pop();
        merged
    }

    /// Appends a new element to the repeated message field `list`.
    pub(crate) fn push<M: Proto>(
        &mut self,
        f: Field,
        name: &'static str,
        list: &mut Vec<M>,
    ) -> Result<(), IoError> {
        let mut element = M::default();
        self.message(f, name, Some(list.len()), &mut element)?;
        list.push(element);
        Ok(())
    }

    /// A repeated varint field, packed or not; `convert` checks each value's range.
    pub(crate) fn varints<T>(
        &self,
        f: Field,
        name: &str,
        out: &mut Vec<T>,
        convert: impl Fn(u64) -> Option<T>,
    ) -> Result<(), IoError> {
        let range_error = |at: usize, v: u64| {
            self.error(
                at,
                Some(name),
                format!("value {} is out of range", v as i64),
            )
        };
        match f.value {
            Value::Varint(v) => out.push(convert(v).ok_or_else(|| range_error(f.at, v))?),
            Value::Len(start, end) => {
                let mut pos = start;
                while pos < end {
                    let at = pos;
                    let v = self.varint(&mut pos, end, Some(name))?;
                    out.push(convert(v).ok_or_else(|| range_error(at, v))?);
                }
            }
            _ => return Err(self.wrong_wire(f, name, "varint (0) or packed")),
        }
        Ok(())
    }

    /// A repeated fixed-width field (32-bit when `N` is 4, 64-bit when 8), packed or not.
    pub(crate) fn fixeds<const N: usize, T>(
        &self,
        f: Field,
        name: &str,
        out: &mut Vec<T>,
        convert: impl Fn([u8; N]) -> T,
    ) -> Result<(), IoError> {
        match f.value {
            Value::Fixed32(v) if N == 4 => {
                let mut b = [0u8; N];
                b.copy_from_slice(&v.to_le_bytes()[..N]);
                out.push(convert(b));
            }
            Value::Fixed64(v) if N == 8 => {
                let mut b = [0u8; N];
                b.copy_from_slice(&v.to_le_bytes()[..N]);
                out.push(convert(b));
            }
            Value::Len(start, end) => {
                if (end - start) % N != 0 {
                    return Err(self.error(
                        f.at,
                        Some(name),
                        format!("packed length {} is not a multiple of {N}", end - start),
                    ));
                }
                // The element count is exactly the bytes present divided by the width.
                out.reserve((end - start) / N);
                out.extend(self.bytes[start..end].chunks_exact(N).map(|c| {
                    let mut b = [0u8; N];
                    b.copy_from_slice(c);
                    convert(b)
                }));
            }
            _ => {
                let expected = if N == 4 {
                    "32-bit (5) or packed"
                } else {
                    "64-bit (1) or packed"
                };
                return Err(self.wrong_wire(f, name, expected));
            }
        }
        Ok(())
    }

    /// The field as an [`UnknownField`], its bytes copied.
    pub(crate) fn unknown(&self, f: Field) -> UnknownField {
        let value = match f.value {
            Value::Varint(v) => WireValue::Varint(v),
            Value::Fixed64(v) => WireValue::Fixed64(v),
            Value::Fixed32(v) => WireValue::Fixed32(v),
            Value::Len(start, end) => WireValue::LengthDelimited(self.bytes[start..end].to_vec()),
        };
        UnknownField {
            number: f.number,
            value,
        }
    }
}

/// Writes fields in the order called; scalar fields at their default value are skipped.
#[derive(Default)]
pub(crate) struct Encoder {
    pub buf: Vec<u8>,
}

impl Encoder {
    pub(crate) fn encode<M: Proto>(message: &M) -> Vec<u8> {
        let mut e = Encoder::default();
        message.encode_fields(&mut e);
        e.buf
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn tag(&mut self, number: u32, wire: u8) {
        self.varint(u64::from(number) << 3 | u64::from(wire));
    }

    pub(crate) fn int64(&mut self, number: u32, v: i64) {
        if v != 0 {
            self.tag(number, 0);
            self.varint(v as u64);
        }
    }

    /// Written even when 0 (a field whose presence is kept).
    pub(crate) fn float_always(&mut self, number: u32, v: f32) {
        self.tag(number, 5);
        self.buf.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    /// Written even when 0 (a oneof member).
    pub(crate) fn int64_always(&mut self, number: u32, v: i64) {
        self.tag(number, 0);
        self.varint(v as u64);
    }

    /// Written even when empty (a oneof member).
    pub(crate) fn bytes_always(&mut self, number: u32, v: &[u8]) {
        self.len_field(number, v);
    }

    /// Negative int32 values are sign-extended to ten bytes, as protobuf does.
    pub(crate) fn int32(&mut self, number: u32, v: i32) {
        self.int64(number, i64::from(v));
    }

    pub(crate) fn bytes(&mut self, number: u32, v: &[u8]) {
        if !v.is_empty() {
            self.len_field(number, v);
        }
    }

    pub(crate) fn string(&mut self, number: u32, v: &str) {
        self.bytes(number, v.as_bytes());
    }

    fn len_field(&mut self, number: u32, v: &[u8]) {
        self.tag(number, 2);
        self.varint(v.len() as u64);
        self.buf.extend_from_slice(v);
    }

    /// Each element as its own field (repeated strings and bytes).
    pub(crate) fn repeated_bytes<T: AsRef<[u8]>>(&mut self, number: u32, list: &[T]) {
        for v in list {
            self.len_field(number, v.as_ref());
        }
    }

    /// A present message field, written even when empty.
    pub(crate) fn message<M: Proto>(&mut self, number: u32, message: &M) {
        let inner = Encoder::encode(message);
        self.len_field(number, &inner);
    }

    pub(crate) fn messages<M: Proto>(&mut self, number: u32, list: &[M]) {
        for m in list {
            self.message(number, m);
        }
    }

    /// A repeated varint field, unpacked (one tag per element).
    pub(crate) fn unpacked_varints(&mut self, number: u32, list: impl IntoIterator<Item = u64>) {
        for v in list {
            self.tag(number, 0);
            self.varint(v);
        }
    }

    /// A repeated 32-bit field, unpacked.
    pub(crate) fn unpacked_fixed32(&mut self, number: u32, list: impl IntoIterator<Item = u32>) {
        for v in list {
            self.tag(number, 5);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// A repeated varint field, packed; nothing when empty.
    pub(crate) fn packed_varints(&mut self, number: u32, list: impl IntoIterator<Item = u64>) {
        let mut inner = Encoder::default();
        for v in list {
            inner.varint(v);
        }
        self.bytes(number, &inner.buf);
    }

    /// A repeated fixed-width field, packed from little-endian element bytes; nothing when empty.
    pub(crate) fn packed_fixed<const N: usize>(
        &mut self,
        number: u32,
        list: impl IntoIterator<Item = [u8; N]>,
    ) {
        let bytes: Vec<u8> = list.into_iter().flatten().collect();
        self.bytes(number, &bytes);
    }

    pub(crate) fn unknown(&mut self, fields: &[UnknownField]) {
        for f in fields {
            match &f.value {
                WireValue::Varint(v) => {
                    self.tag(f.number, 0);
                    self.varint(*v);
                }
                WireValue::Fixed64(v) => {
                    self.tag(f.number, 1);
                    self.buf.extend_from_slice(&v.to_le_bytes());
                }
                WireValue::Fixed32(v) => {
                    self.tag(f.number, 5);
                    self.buf.extend_from_slice(&v.to_le_bytes());
                }
                WireValue::LengthDelimited(v) => self.len_field(f.number, v),
            }
        }
    }
}
