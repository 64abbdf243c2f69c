//! Whole-file reads and atomic writes.

use crate::IoError;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a path is named in error messages.
pub(crate) fn display_name(path: &Path) -> String {
    path.display().to_string()
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, IoError> {
    std::fs::read(path).map_err(|source| IoError::Os {
        file: display_name(path),
        action: "read",
        source,
    })
}

/// Writes `bytes` to a temporary file in the same directory and renames it over `path`, so a
/// reader never sees a half-written file (rename within one directory is atomic).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let os_error = |action, source| IoError::Os {
        file: display_name(path),
        action,
        source,
    };
    let file_name = path.file_name().ok_or_else(|| {
        os_error(
            "write",
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file"),
        )
    })?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    // Unique per process and call, so concurrent writers never share a temporary file.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let write_id = WRITES.fetch_add(1, Ordering::Relaxed);
    temp_name.push(format!(".tmp-{}-{write_id}", std::process::id()));
    let temp_path = path.with_file_name(temp_name);
    let written = std::fs::File::create(&temp_path)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&temp_path, path));
    written.map_err(|source| {
        // Best effort: the temporary file may not exist if creating it failed.
        let _ = std::fs::remove_file(&temp_path);
        os_error("write", source)
    })
}
