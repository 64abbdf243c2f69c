//! Trust boundary `strata-io/mmap`: the only `unsafe` in this crate. A file is memory-mapped
//! (memmap2) and read as a byte slice for the duration of one call; every tensor is copied out
//! of the map before the call returns, and every read of the slice is bounds-checked in safe
//! code by the format's parser.
//!
//! What is trusted: that no other process truncates or rewrites the file while it is mapped. A
//! truncation makes the kernel raise SIGBUS on the next read of a lost page, and a rewrite
//! changes bytes behind a shared borrow; neither can be checked from inside the process.
#![allow(unsafe_code)]

use crate::file::display_name;
use crate::IoError;
use std::path::Path;

/// Maps the file at `path` read-only and calls `read` with its bytes. The map cannot outlive
/// the call. An empty file is passed as an empty slice (an empty map is an OS error).
pub(crate) fn with_mapped_file<R>(
    path: &Path,
    read: impl FnOnce(&[u8]) -> Result<R, IoError>,
) -> Result<R, IoError> {
    let os_error = |action, source| IoError::Os {
        file: display_name(path),
        action,
        source,
    };
    let file = std::fs::File::open(path).map_err(|e| os_error("open", e))?;
    let len = file.metadata().map_err(|e| os_error("stat", e))?.len();
    if len == 0 {
        return read(&[]);
    }
    // SAFETY: the map is private to this function and read only through `&map[..]`, whose
    // length memmap2 took from the file's size when mapping. The remaining obligation (the
    // file is not truncated or modified while mapped) is this module's stated trust boundary.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| os_error("memory-map", e))?;
    read(&map)
}
