//! `strata-verify`: sound bounds and verification for networks in Strata's IR.
//!
//! - [`vnnlib`]: VNN-LIB properties (the VNN-COMP subset) as input boxes and an unsafe output set;
//!   the parser lives in `strata-io` with the other file formats and is re-exported here.
//! - [`bounds`]: interval bound propagation ([`bounds::ibp`]) and CROWN / DeepPoly backward linear
//!   relaxation with interval coefficients ([`bounds::Crown`]) over any graph of the supported
//!   ops; every arithmetic step rounds outward.
//! - [`layered`] + [`dense`]: the fast path. Graphs that are chains of affine maps and ReLUs are
//!   lowered to [`LayeredNet`]; CROWN and alpha-CROWN then run on dense `f64` matrices (gemm),
//!   batched over many branch-and-bound domains on all cores, with an a-posteriori
//!   floating-point error term that makes every bound hold for the exact real network (the
//!   argument is in [`dense`]'s module doc).
//! - [`verify`]: `unsat` / `sat` / `unknown` for a property: a PGD attack, then branch and bound
//!   (input splitting for inputs of ≤ 16 elements, ReLU splitting otherwise) on the fast path,
//!   or input splitting with [`Crown`] on the general path. Every counterexample is re-executed
//!   natively in the input's dtype and in the interval layer (an enclosure of the exact output)
//!   before `sat` is reported.
//! - [`verify_with_certificate`]: the same verdict, and for `unsat` on the fast path a
//!   `strata-cert` certificate (every refuted leaf with its box, split path, layer bounds,
//!   slopes and per-disjunct linear bound) that `strata_cert::check_certificate` re-checks in
//!   exact arithmetic (`strata verify … --certificate FILE`, `strata check-cert`).
//! - [`vnncomp`]: the benchmark runner (instances CSV → results CSV, summary against
//!   `expected.csv`, VNN-COMP counterexample files); [`report`]: per-node IBP / CROWN /
//!   alpha-CROWN bounds as a table and an HTML page.
//!
//! Soundness is with respect to the real-number network with the file's weights (DESIGN.md §5);
//! the network's own float32 inference error is not covered (theoretical, not deployment,
//! soundness), except that counterexamples are checked both ways.
//!
//! Whole benchmarks (long; not run in CI):
//! `strata vnncomp ../shared/data/vnncomp/acasxu --out acas.csv --timeout 116`
//! (likewise `mnist_fc`, `test`); one instance with bounds printed:
//! `cargo run --release -p strata-verify --example vnn_instance -- NET.onnx PROP.vnnlib 116`.
#![forbid(unsafe_code)]

mod bab;
pub mod bounds;
pub mod dense;
pub mod float32;
pub mod layered;
pub mod report;
pub mod verify;
pub mod vnncomp;
pub use strata_io::vnnlib;

pub use bounds::{ibp, Bounds, Crown, Region};
pub use float32::{float32_transfer, Float32Transfer};
pub use layered::LayeredNet;
pub use verify::{
    verify, verify_with_certificate, Counterexample, Verdict, VerifyOptions, NO_CERTIFICATE,
};
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
