//! This crate's entries in the trust registry (see [`strata_float::trust`]).

pub use strata_float::trust::TrustBoundary;

/// The boundaries of `strata-io`.
pub const BOUNDARIES: &[TrustBoundary] = &[
    TrustBoundary {
        name: "strata-io/mmap",
        kind: "unsafe",
        location: "crates/strata-io/src/mmap.rs",
        justification: "memmap2's file map, read as a byte slice for one call that copies every \
            tensor out before returning; all reads are bounds-checked by the parsers; sound only \
            if no other process truncates or rewrites the file while it is being read",
    },
    TrustBoundary {
        name: "strata-io/imported-weights",
        kind: "imported-data",
        location: "crates/strata-io/src",
        justification: "tensors read from NPY, NPZ, safetensors, ONNX, IDX and CSV files are \
            checked for well-formedness (sizes, dtypes, offsets), never for meaning: a model's \
            weights are whatever the file says",
    },
];
