//! A small strict ZIP reader and writer: what NumPy's `savez` and `savez_compressed` write
//! (stored and deflated members, ZIP64 size fields), nothing more.
//!
//! The central directory is the authority; each local header must agree with it (signature,
//! name, method, and CRC and sizes where the local header states them). Members may not
//! overlap each other or the central directory, which must end exactly where the end record
//! begins. Encrypted members, methods other than stored (0) and deflate (8), multi-disk
//! archives and non-UTF-8 names are refused. A deflated member is inflated into a buffer that
//! grows with the output actually produced, never past its declared size; its CRC-32 and both
//! sizes are checked.

use crate::IoError;
use flate2::bufread::DeflateDecoder;
use std::borrow::Cow;
use std::io::{Read, Write};

const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const END_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_END_SIGNATURE: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const ZIP64_EXTRA_ID: u16 = 0x0001;
const END_LEN: usize = 22;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;
const ZIP64_LOCATOR_LEN: usize = 20;
const ZIP64_END_LEN: usize = 56;
const STORED: u16 = 0;
const DEFLATED: u16 = 8;

/// A member as the central directory describes it.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub name: String,
    method: u16,
    crc32: u32,
    compressed_size: u64,
    uncompressed_size: u64,
    local_offset: u64,
    /// Offset of this member's central directory entry, for error messages.
    central_offset: usize,
    /// `[start, end)` of the compressed data, found from the local header.
    data: (usize, usize),
}

/// An opened archive: the members in central-directory order.
pub(crate) struct Archive<'a> {
    bytes: &'a [u8],
    name: &'a str,
    pub members: Vec<Member>,
}

/// Little-endian reads at absolute offsets, each an error naming `what` when out of bounds.
struct Reader<'a> {
    bytes: &'a [u8],
    name: &'a str,
}

impl Reader<'_> {
    fn slice(&self, at: usize, len: usize, what: &str) -> Result<&[u8], IoError> {
        at.checked_add(len)
            .and_then(|end| self.bytes.get(at..end))
            .ok_or_else(|| {
                IoError::malformed(
                    self.name,
                    format!("byte {at} ({what})"),
                    format!(
                        "truncated: {len} bytes needed, the {}-byte file ends first",
                        self.bytes.len()
                    ),
                )
            })
    }
    fn u16(&self, at: usize, what: &str) -> Result<u16, IoError> {
        let b = self.slice(at, 2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&self, at: usize, what: &str) -> Result<u32, IoError> {
        let b = self.slice(at, 4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&self, at: usize, what: &str) -> Result<u64, IoError> {
        let b = self.slice(at, 8, what)?;
        let mut le = [0u8; 8];
        le.copy_from_slice(b);
        Ok(u64::from_le_bytes(le))
    }
}

fn malformed(name: &str, at: usize, what: &str, problem: impl Into<String>) -> IoError {
    IoError::malformed(name, format!("byte {at} ({what})"), problem)
}

/// A file offset or size from the archive as `usize`, or an error when it exceeds the file.
fn offset(name: &str, value: u64, limit: usize, at: usize, what: &str) -> Result<usize, IoError> {
    usize::try_from(value)
        .ok()
        .filter(|&v| v <= limit)
        .ok_or_else(|| {
            malformed(
                name,
                at,
                what,
                format!("{value} lies beyond the end of the {limit}-byte region it points into"),
            )
        })
}

impl<'a> Archive<'a> {
    /// Reads the end record and central directory of `bytes`; `name` names the file in errors.
    pub(crate) fn open(bytes: &'a [u8], name: &'a str) -> Result<Archive<'a>, IoError> {
        let r = Reader { bytes, name };
        let end_at = find_end_record(bytes).ok_or_else(|| {
            let problem = if bytes.starts_with(&LOCAL_SIGNATURE.to_le_bytes()) {
                "truncated or corrupt: no end-of-central-directory record at the end of the file"
            } else {
                "not a ZIP archive (no end-of-central-directory record)"
            };
            malformed(name, bytes.len(), "end of file", problem)
        })?;
        let what = "end of central directory";
        let disk = r.u16(end_at + 4, what)?;
        let cd_disk = r.u16(end_at + 6, what)?;
        let mut count = u64::from(r.u16(end_at + 10, what)?);
        let mut cd_size = u64::from(r.u32(end_at + 12, what)?);
        let mut cd_offset = u64::from(r.u32(end_at + 16, what)?);
        let mut cd_end = end_at;
        if disk != 0 || cd_disk != 0 || r.u16(end_at + 8, what)? != r.u16(end_at + 10, what)? {
            return Err(malformed(
                name,
                end_at,
                what,
                "multi-disk archives are not supported",
            ));
        }
        // A ZIP64 locator just before the end record points to the ZIP64 end record.
        let locator_at = end_at.checked_sub(ZIP64_LOCATOR_LEN);
        if let Some(locator_at) = locator_at
            .filter(|&at| r.u32(at, "ZIP64 locator").ok() == Some(ZIP64_LOCATOR_SIGNATURE))
        {
            let what = "ZIP64 end of central directory";
            let zip64_at = r.u64(locator_at + 8, "ZIP64 locator")?;
            let zip64_at = offset(name, zip64_at, locator_at, locator_at + 8, "ZIP64 locator")?;
            if r.u32(zip64_at, what)? != ZIP64_END_SIGNATURE {
                return Err(malformed(name, zip64_at, what, "bad signature"));
            }
            let record_len = r.u64(zip64_at + 4, what)?;
            if record_len.checked_add(12) != Some((locator_at - zip64_at) as u64)
                || record_len < (ZIP64_END_LEN - 12) as u64
            {
                return Err(malformed(
                    name,
                    zip64_at + 4,
                    what,
                    format!("record size {record_len} does not reach the ZIP64 locator"),
                ));
            }
            if r.u32(zip64_at + 16, what)? != 0 || r.u32(zip64_at + 20, what)? != 0 {
                return Err(malformed(
                    name,
                    zip64_at,
                    what,
                    "multi-disk archives are not supported",
                ));
            }
            count = r.u64(zip64_at + 32, what)?;
            cd_size = r.u64(zip64_at + 40, what)?;
            cd_offset = r.u64(zip64_at + 48, what)?;
            cd_end = zip64_at;
        }
        let cd_start = offset(
            name,
            cd_offset,
            cd_end,
            end_at + 16,
            "central directory offset",
        )?;
        if cd_start.checked_add(offset(
            name,
            cd_size,
            cd_end,
            end_at + 12,
            "central directory size",
        )?) != Some(cd_end)
        {
            return Err(malformed(
                name,
                end_at + 12,
                "central directory size",
                format!(
                    "the central directory at {cd_start} of {cd_size} bytes does not end where the end record begins ({cd_end})"
                ),
            ));
        }
        // Each entry takes at least 46 bytes, which bounds the declared count by the bytes present.
        if count > ((cd_end - cd_start) / CENTRAL_LEN) as u64 {
            return Err(malformed(
                name,
                end_at + 10,
                "member count",
                format!(
                    "{count} members cannot fit a {}-byte central directory",
                    cd_end - cd_start
                ),
            ));
        }
        let mut members = Vec::new();
        let mut at = cd_start;
        for _ in 0..count {
            let (member, next) = central_entry(&r, at, cd_start, cd_end)?;
            members.push(member);
            at = next;
        }
        if at != cd_end {
            return Err(malformed(
                name,
                at,
                "central directory",
                format!("{} bytes after the {count} declared entries", cd_end - at),
            ));
        }
        let mut archive = Archive {
            bytes,
            name,
            members,
        };
        archive.locate_data(cd_start)?;
        Ok(archive)
    }

    /// Checks every local header against the central directory and records where each
    /// member's data lies; the members' regions may not overlap.
    fn locate_data(&mut self, cd_start: usize) -> Result<(), IoError> {
        let r = Reader {
            bytes: self.bytes,
            name: self.name,
        };
        let name = self.name;
        let mut regions: Vec<(usize, usize, &str)> = Vec::with_capacity(self.members.len());
        for m in &mut self.members {
            let at = offset(
                name,
                m.local_offset,
                cd_start,
                m.central_offset + 42,
                "local header offset",
            )?;
            let what = format!("local header of {:?}", m.name);
            if r.u32(at, &what)? != LOCAL_SIGNATURE {
                return Err(malformed(name, at, &what, "bad signature"));
            }
            let flags = r.u16(at + 6, &what)?;
            let method = r.u16(at + 8, &what)?;
            let crc32 = r.u32(at + 14, &what)?;
            let compressed = r.u32(at + 18, &what)?;
            let uncompressed = r.u32(at + 22, &what)?;
            let name_len = usize::from(r.u16(at + 26, &what)?);
            let extra_len = usize::from(r.u16(at + 28, &what)?);
            let local_name = r.slice(at + LOCAL_LEN, name_len, &what)?;
            if local_name != m.name.as_bytes() {
                return Err(malformed(
                    name,
                    at + LOCAL_LEN,
                    &what,
                    format!(
                        "the local name {:?} differs from the central directory's",
                        String::from_utf8_lossy(local_name)
                    ),
                ));
            }
            if method != m.method {
                return Err(malformed(
                    name,
                    at + 8,
                    &what,
                    format!(
                        "method {method} differs from the central directory's {}",
                        m.method
                    ),
                ));
            }
            let extra = r.slice(at + LOCAL_LEN + name_len, extra_len, &what)?;
            // With a data descriptor (flag bit 3) the local CRC and sizes may be zero.
            let descriptor = flags & 0x8 != 0;
            if !(descriptor && crc32 == 0) && crc32 != m.crc32 {
                return Err(malformed(
                    name,
                    at + 14,
                    &what,
                    format!(
                        "CRC-32 {crc32:08x} differs from the central directory's {:08x}",
                        m.crc32
                    ),
                ));
            }
            let zip64 = zip64_fields(
                extra,
                [uncompressed, compressed, 0],
                name,
                at + LOCAL_LEN + name_len,
            )?;
            for (local, wide, central, field, field_at) in [
                (
                    uncompressed,
                    zip64[0],
                    m.uncompressed_size,
                    "uncompressed size",
                    at + 22,
                ),
                (
                    compressed,
                    zip64[1],
                    m.compressed_size,
                    "compressed size",
                    at + 18,
                ),
            ] {
                let stated = if local == u32::MAX {
                    wide
                } else {
                    Some(u64::from(local))
                };
                match stated {
                    Some(0) if descriptor => {}
                    Some(size) if size != central => {
                        return Err(malformed(
                            name,
                            field_at,
                            &what,
                            format!(
                                "{field} {size} differs from the central directory's {central}"
                            ),
                        ));
                    }
                    _ => {}
                }
            }
            let start = at + LOCAL_LEN + name_len + extra_len;
            let end = usize::try_from(m.compressed_size)
                .ok()
                .and_then(|len| start.checked_add(len))
                .filter(|&end| end <= cd_start)
                .ok_or_else(|| {
                    malformed(
                        name,
                        start,
                        &format!("data of {:?}", m.name),
                        format!(
                            "truncated: {} compressed bytes declared, only {} before the central directory",
                            m.compressed_size,
                            cd_start.saturating_sub(start)
                        ),
                    )
                })?;
            m.data = (start, end);
            regions.push((at, end, &m.name));
        }
        regions.sort_unstable();
        for pair in regions.windows(2) {
            if pair[1].0 < pair[0].1 {
                return Err(malformed(
                    name,
                    pair[1].0,
                    &format!("local header of {:?}", pair[1].2),
                    format!(
                        "overlaps member {:?}, which ends at {}",
                        pair[0].2, pair[0].1
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The uncompressed bytes of `member`, CRC-checked.
    pub(crate) fn read(&self, member: &Member) -> Result<Cow<'a, [u8]>, IoError> {
        let (start, end) = member.data;
        let compressed = &self.bytes[start..end];
        let what = format!("data of {:?}", member.name);
        let data: Cow<'a, [u8]> = match member.method {
            STORED => {
                if member.compressed_size != member.uncompressed_size {
                    return Err(malformed(
                        self.name,
                        member.central_offset + 20,
                        &format!("central directory entry of {:?}", member.name),
                        format!(
                            "a stored member's sizes differ: {} compressed, {} uncompressed",
                            member.compressed_size, member.uncompressed_size
                        ),
                    ));
                }
                Cow::Borrowed(compressed)
            }
            _ => {
                let mut decoder = DeflateDecoder::new(compressed);
                let mut out = Vec::new();
                decoder
                    .by_ref()
                    .take(member.uncompressed_size.saturating_add(1))
                    .read_to_end(&mut out)
                    .map_err(|e| {
                        malformed(
                            self.name,
                            start,
                            &what,
                            format!("corrupt deflate stream: {e}"),
                        )
                    })?;
                if out.len() as u64 != member.uncompressed_size {
                    return Err(malformed(
                        self.name,
                        start,
                        &what,
                        format!(
                            "inflates to {}{} bytes, the central directory declares {}",
                            if out.len() as u64 > member.uncompressed_size {
                                "more than "
                            } else {
                                ""
                            },
                            out.len().min(member.uncompressed_size as usize),
                            member.uncompressed_size
                        ),
                    ));
                }
                let consumed = decoder.total_in();
                if consumed != compressed.len() as u64 {
                    return Err(malformed(
                        self.name,
                        start,
                        &what,
                        format!(
                            "the deflate stream ends after {consumed} of {} compressed bytes",
                            compressed.len()
                        ),
                    ));
                }
                Cow::Owned(out)
            }
        };
        let mut crc = flate2::Crc::new();
        crc.update(&data);
        if crc.sum() != member.crc32 {
            return Err(malformed(
                self.name,
                start,
                &what,
                format!(
                    "CRC-32 mismatch: the data gives {:08x}, the archive declares {:08x}",
                    crc.sum(),
                    member.crc32
                ),
            ));
        }
        Ok(data)
    }
}

/// The end record's offset: the last signature whose comment reaches exactly the end of the file.
fn find_end_record(bytes: &[u8]) -> Option<usize> {
    let last = bytes.len().checked_sub(END_LEN)?;
    let first = last.saturating_sub(usize::from(u16::MAX));
    (first..=last).rev().find(|&at| {
        bytes[at..at + 4] == END_SIGNATURE.to_le_bytes()
            && at + END_LEN + usize::from(u16::from_le_bytes([bytes[at + 20], bytes[at + 21]]))
                == bytes.len()
    })
}

/// The ZIP64 extra field's values for the 32-bit fields in `fields` that hold 0xFFFFFFFF (in
/// order: uncompressed size, compressed size, local header offset); `None` where the field is
/// not in ZIP64 form. `extra` starts at file offset `at`.
fn zip64_fields(
    extra: &[u8],
    fields: [u32; 3],
    name: &str,
    at: usize,
) -> Result<[Option<u64>; 3], IoError> {
    let mut values = [None; 3];
    let mut rest = extra;
    let mut pos = at;
    while !rest.is_empty() {
        let (Some(id), Some(len)) = (
            rest.get(0..2).map(|b| u16::from_le_bytes([b[0], b[1]])),
            rest.get(2..4)
                .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]]))),
        ) else {
            return Err(malformed(
                name,
                pos,
                "extra field",
                "truncated extra field header",
            ));
        };
        let Some(body) = rest.get(4..4 + len) else {
            return Err(malformed(
                name,
                pos,
                "extra field",
                format!("extra field of {len} bytes runs past the extra area"),
            ));
        };
        if id == ZIP64_EXTRA_ID {
            let mut field = body;
            for (slot, &value) in values.iter_mut().zip(&fields) {
                if value == u32::MAX {
                    let Some(wide) = field.first_chunk::<8>() else {
                        return Err(malformed(
                            name,
                            pos,
                            "ZIP64 extra field",
                            "too short for the sizes marked 0xFFFFFFFF",
                        ));
                    };
                    *slot = Some(u64::from_le_bytes(*wide));
                    field = &field[8..];
                }
            }
        }
        rest = &rest[4 + len..];
        pos += 4 + len;
    }
    Ok(values)
}

/// One central directory entry at `at`; returns it and the offset of the next.
fn central_entry(
    r: &Reader,
    at: usize,
    cd_start: usize,
    cd_end: usize,
) -> Result<(Member, usize), IoError> {
    let name = r.name;
    let what = "central directory entry";
    let past_end = |len: usize| {
        malformed(
            name,
            at,
            what,
            format!("the {len}-byte entry runs past the end of the central directory ({cd_end})"),
        )
    };
    if at + CENTRAL_LEN > cd_end {
        return Err(past_end(CENTRAL_LEN));
    }
    if r.u32(at, what)? != CENTRAL_SIGNATURE {
        return Err(malformed(name, at, what, "bad signature"));
    }
    let flags = r.u16(at + 8, what)?;
    let method = r.u16(at + 10, what)?;
    let crc32 = r.u32(at + 16, what)?;
    let compressed = r.u32(at + 20, what)?;
    let uncompressed = r.u32(at + 24, what)?;
    let name_len = usize::from(r.u16(at + 28, what)?);
    let extra_len = usize::from(r.u16(at + 30, what)?);
    let comment_len = usize::from(r.u16(at + 32, what)?);
    let disk = r.u16(at + 34, what)?;
    let local = r.u32(at + 42, what)?;
    let raw_name = r.slice(at + CENTRAL_LEN, name_len, what)?;
    let member_name = std::str::from_utf8(raw_name)
        .map_err(|_| malformed(name, at + CENTRAL_LEN, what, "the member name is not UTF-8"))?;
    let entry = format!("central directory entry of {member_name:?}");
    if flags & 0x1 != 0 {
        return Err(IoError::unsupported(
            name,
            format!("member {member_name:?} is encrypted"),
        ));
    }
    if method != STORED && method != DEFLATED {
        return Err(IoError::unsupported(
            name,
            format!(
                "member {member_name:?} uses compression method {method} (only stored (0) and deflate (8) are supported)"
            ),
        ));
    }
    let extra_at = at + CENTRAL_LEN + name_len;
    let extra = r.slice(extra_at, extra_len, &entry)?;
    let wide = zip64_fields(extra, [uncompressed, compressed, local], name, extra_at)?;
    let pick = |narrow: u32, wide: Option<u64>, field: &str, field_at: usize| match (narrow, wide) {
        (u32::MAX, Some(v)) => Ok(v),
        (u32::MAX, None) => Err(malformed(
            name,
            field_at,
            &entry,
            format!("{field} is 0xFFFFFFFF without a ZIP64 extra field"),
        )),
        (v, _) => Ok(u64::from(v)),
    };
    let member = Member {
        name: member_name.to_owned(),
        method,
        crc32,
        uncompressed_size: pick(uncompressed, wide[0], "uncompressed size", at + 24)?,
        compressed_size: pick(compressed, wide[1], "compressed size", at + 20)?,
        local_offset: pick(local, wide[2], "local header offset", at + 42)?,
        central_offset: at,
        data: (0, 0),
    };
    if disk != 0 && disk != u16::MAX {
        return Err(malformed(
            name,
            at + 34,
            &entry,
            "multi-disk archives are not supported",
        ));
    }
    if member.local_offset >= cd_start as u64 {
        return Err(malformed(
            name,
            at + 42,
            &entry,
            format!(
                "local header offset {} is not before the central directory ({cd_start})",
                member.local_offset
            ),
        ));
    }
    let next = extra_at + extra_len + comment_len;
    if next > cd_end {
        return Err(past_end(next - at));
    }
    Ok((member, next))
}

/// How [`write_zip`] stores members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Stored,
    Deflated,
}

/// A ZIP archive of `members` (name, contents) in the given order: deterministic (timestamps
/// 1980-01-01 00:00), no ZIP64; an error when sizes, offsets or the member count need ZIP64.
pub(crate) fn write_zip(
    members: &[(String, Vec<u8>)],
    method: Method,
    name: &str,
) -> Result<Vec<u8>, IoError> {
    let too_big = |what: String| {
        IoError::unsupported(
            name,
            format!("{what} needs ZIP64, which this writer does not produce"),
        )
    };
    let count =
        u16::try_from(members.len()).map_err(|_| too_big(format!("{} members", members.len())))?;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (member, contents) in members {
        let mut crc = flate2::Crc::new();
        crc.update(contents);
        let (code, data) = match method {
            Method::Stored => (STORED, Cow::Borrowed(contents.as_slice())),
            Method::Deflated => {
                let mut encoder =
                    flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
                let data = encoder
                    .write_all(contents)
                    .and_then(|()| encoder.finish())
                    .map_err(|source| IoError::Os {
                        file: name.to_owned(),
                        action: "compress",
                        source,
                    })?;
                (DEFLATED, Cow::Owned(data))
            }
        };
        let size32 = |len: usize| {
            u32::try_from(len)
                .ok()
                .filter(|&v| v != u32::MAX)
                .ok_or_else(|| too_big(format!("member {member:?} of {len} bytes")))
        };
        let offset = size32(out.len())?;
        let name_len = u16::try_from(member.len()).map_err(|_| {
            IoError::unsupported(
                name,
                format!("member name of {} bytes exceeds 65535", member.len()),
            )
        })?;
        // Bit 11: the name is UTF-8.
        let flags: u16 = if member.is_ascii() { 0 } else { 0x0800 };
        let version: u16 = 20;
        let common = |b: &mut Vec<u8>| -> Result<(), IoError> {
            b.extend_from_slice(&version.to_le_bytes());
            b.extend_from_slice(&flags.to_le_bytes());
            b.extend_from_slice(&code.to_le_bytes());
            b.extend_from_slice(&0u16.to_le_bytes()); // time 00:00
            b.extend_from_slice(&0x0021u16.to_le_bytes()); // date 1980-01-01
            b.extend_from_slice(&crc.sum().to_le_bytes());
            b.extend_from_slice(&size32(data.len())?.to_le_bytes());
            b.extend_from_slice(&size32(contents.len())?.to_le_bytes());
            b.extend_from_slice(&name_len.to_le_bytes());
            b.extend_from_slice(&0u16.to_le_bytes()); // extra length
            Ok(())
        };
        out.extend_from_slice(&LOCAL_SIGNATURE.to_le_bytes());
        common(&mut out)?;
        out.extend_from_slice(member.as_bytes());
        out.extend_from_slice(&data);
        central.extend_from_slice(&CENTRAL_SIGNATURE.to_le_bytes());
        central.extend_from_slice(&(0x0300 | version).to_le_bytes()); // made by: Unix
        common(&mut central)?;
        central.extend_from_slice(&0u16.to_le_bytes()); // comment length
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&(0o100644u32 << 16).to_le_bytes()); // -rw-r--r--
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(member.as_bytes());
    }
    let cd_offset = u32::try_from(out.len())
        .ok()
        .filter(|&v| v != u32::MAX)
        .ok_or_else(|| too_big(format!("an archive of {} bytes", out.len())))?;
    let cd_size =
        u32::try_from(central.len()).map_err(|_| too_big("the central directory".to_owned()))?;
    out.extend_from_slice(&central);
    out.extend_from_slice(&END_SIGNATURE.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // this disk, central directory disk
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    Ok(out)
}
