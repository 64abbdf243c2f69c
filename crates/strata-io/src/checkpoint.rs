//! Binding a checkpoint (safetensors or NPZ, PyTorch `state_dict` names) to a graph's declared
//! parameters, with an error naming the file and the first parameter that is missing or has
//! the wrong shape or dtype.

use crate::file::display_name;
use crate::IoError;
use std::path::Path;
use strata_ir::{Graph, ParamStore};

/// Checks that `checkpoint` holds every parameter `graph` declares with its declared shape and
/// dtype (extra entries are allowed); `file` names the checkpoint in errors.
pub fn check_checkpoint(graph: &Graph, checkpoint: &ParamStore, file: &str) -> Result<(), IoError> {
    graph
        .check_params(checkpoint)
        .map_err(|e| IoError::malformed(file, "checkpoint", e.to_string()))
}

/// Reads the checkpoint at `path` (`.safetensors` or `.npz`) and checks it against `graph`.
pub fn read_checkpoint(path: impl AsRef<Path>, graph: &Graph) -> Result<ParamStore, IoError> {
    let path = path.as_ref();
    let store = match path.extension().and_then(|e| e.to_str()) {
        Some("safetensors") => crate::read_safetensors(path)?.tensors,
        Some("npz") => crate::read_npz(path)?,
        _ => {
            return Err(IoError::unsupported(
                &display_name(path),
                "not a checkpoint format (expected .safetensors or .npz)",
            ))
        }
    };
    check_checkpoint(graph, &store, &display_name(path))?;
    Ok(store)
}
