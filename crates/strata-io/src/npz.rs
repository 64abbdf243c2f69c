//! NumPy's `.npz` archives: a ZIP file of `.npy` members, as written by `numpy.savez` (stored)
//! and `numpy.savez_compressed` (deflated).
//!
//! Read: every member must be named `<key>.npy` (the key is the name without `.npy`; keys may
//! contain `/`) and is read with the NPY reader, so its errors name the archive and the member,
//! as in `weights.npz[fc1.npy]: byte 10 (header): ...`; offsets inside a member count its
//! uncompressed bytes. The archive itself is checked as described in the ZIP reader: CRC-32,
//! sizes, non-overlapping members, no encryption, only stored and deflate. A duplicated key is
//! an error.
//!
//! Write: members in key order, stored or deflated, deterministic timestamps, atomically.
//! bf16 has no NPY type code and is refused, as by [`write_npy`](crate::write_npy).

use crate::file::{display_name, write_atomically};
use crate::npy::{npy_bytes, read_npy_bytes};
use crate::zip::{write_zip, Archive, Method};
use crate::IoError;
use std::collections::BTreeMap;
use std::path::Path;
use strata_tensor::Tensor;

/// How [`write_npz`] stores its members.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NpzCompression {
    /// Uncompressed, as `numpy.savez`.
    #[default]
    Stored,
    /// Deflate, as `numpy.savez_compressed`.
    Deflated,
}

/// Reads the `.npz` file at `path` (memory-mapped) into its arrays by key.
pub fn read_npz(path: impl AsRef<Path>) -> Result<BTreeMap<String, Tensor>, IoError> {
    let path = path.as_ref();
    crate::mmap::with_mapped_file(path, |bytes| read_npz_bytes(bytes, &display_name(path)))
}

/// Reads `.npz` content held in memory; `name` identifies it in error messages.
pub fn read_npz_bytes(bytes: &[u8], name: &str) -> Result<BTreeMap<String, Tensor>, IoError> {
    let archive = Archive::open(bytes, name)?;
    let mut arrays = BTreeMap::new();
    for member in &archive.members {
        let Some(key) = member.name.strip_suffix(".npy") else {
            return Err(IoError::malformed(
                name,
                format!("member {:?}", member.name),
                "is not an .npy file (every member of an .npz archive must be named <key>.npy)",
            ));
        };
        if arrays.contains_key(key) {
            return Err(IoError::malformed(
                name,
                format!("member {:?}", member.name),
                "appears twice",
            ));
        }
        let data = archive.read(member)?;
        let tensor = read_npy_bytes(&data, &format!("{name}[{}]", member.name))?;
        arrays.insert(key.to_owned(), tensor);
    }
    Ok(arrays)
}

/// Writes `arrays` to `path` as an `.npz` archive (member `<key>.npy` per array), atomically.
pub fn write_npz(
    path: impl AsRef<Path>,
    arrays: &BTreeMap<String, Tensor>,
    compression: NpzCompression,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = npz_bytes(arrays, compression, &display_name(path))?;
    write_atomically(path, &bytes)
}

/// The archive [`write_npz`] writes, in memory; `name` identifies it in error messages.
pub fn npz_bytes(
    arrays: &BTreeMap<String, Tensor>,
    compression: NpzCompression,
    name: &str,
) -> Result<Vec<u8>, IoError> {
    let members = arrays
        .iter()
        .map(|(key, tensor)| {
            let member = format!("{key}.npy");
            let bytes = npy_bytes(tensor, &format!("{name}[{member}]"))?;
            Ok((member, bytes))
        })
        .collect::<Result<Vec<_>, IoError>>()?;
    let method = match compression {
        NpzCompression::Stored => Method::Stored,
        NpzCompression::Deflated => Method::Deflated,
    };
    write_zip(&members, method, name)
}
