//! This crate's entries in the trust registry (see `strata_float::trust`). `strata-nn` has no
//! `unsafe` code (`#![forbid(unsafe_code)]`); what it relies on without checking it itself:

pub use strata_tensor::trust::TrustBoundary;

/// The boundaries of `strata-nn`.
pub const BOUNDARIES: &[TrustBoundary] = &[
    TrustBoundary {
        name: "strata-nn/scheduler-libm",
        kind: "libm",
        location: "crates/strata-nn/src/optim/lr_scheduler.rs",
        justification: "cos and pow come from the platform libm, as in Python; the rates equal \
            PyTorch's bit for bit where both use the same libm (checked on glibc by the committed \
            fixtures), and may differ in the last bit elsewhere",
    },
    TrustBoundary {
        name: "strata-nn/optimizer-pow",
        kind: "libm",
        location: "crates/strata-nn/src/optim/adam.rs",
        justification: "Adam's bias corrections beta^t and bc2^0.5 use the platform libm's pow, \
            as PyTorch's Python code does; same-libm caveat as the schedulers",
    },
    TrustBoundary {
        name: "strata-nn/download",
        kind: "network",
        location: "crates/strata-nn/src/fetch.rs",
        justification: "downloads go through ureq and rustls; every file is accepted only when \
            its size and sha256 equal the published values compiled into the crate",
    },
];
