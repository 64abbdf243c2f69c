//! `strata-verify`: sound bounds and verification for networks in Strata's IR.
//!
//! - [`vnnlib`]: VNN-LIB properties (the VNN-COMP subset) as input boxes and an unsafe output set;
//!   the parser lives in `strata-io` with the other file formats and is re-exported here.
//! - [`bounds`]: interval bound propagation ([`bounds::ibp`]) and CROWN / DeepPoly backward linear
//!   relaxation ([`bounds::Crown`]); every arithmetic step rounds outward, so the bounds hold for
//!   the exact real-number network with the file's weights (DESIGN.md §5). The network's own
//!   float32 inference error is not covered (theoretical, not deployment soundness).
//! - [`verify`]: `unsat` / `sat` / `unknown` for a property, by input-splitting branch and bound
//!   and a sampling attack whose counterexamples are re-executed natively before `sat` is reported.
#![forbid(unsafe_code)]

mod bab;
pub mod bounds;
pub mod dense;
pub mod layered;
pub mod report;
pub mod verify;
pub mod vnncomp;
pub use strata_io::vnnlib;

pub use bounds::{ibp, Bounds, Crown, Region};
pub use layered::LayeredNet;
pub use verify::{verify, Counterexample, Verdict, VerifyOptions};
pub use vnnlib::{parse_property, read_property, Property, VnnlibError};

/// Why bounds or a verdict could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Ir(#[from] strata_ir::IrError),
    #[error(transparent)]
    Vnnlib(#[from] VnnlibError),
    /// A node the bound computation cannot handle, named.
    #[error("node {node} ({op}): {msg}")]
    Unsupported {
        node: String,
        op: &'static str,
        msg: String,
    },
    /// The region or property does not fit the network.
    #[error("{0}")]
    Mismatch(String),
}
