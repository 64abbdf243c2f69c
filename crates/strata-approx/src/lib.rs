//! `strata-approx`: runtime approximation (DESIGN.md §4; TorchLean §6.4). The claim is never
//! "the float value equals the real value" but "the native value approximates the real spec
//! value within a stated tolerance", with the tolerance propagated by named local rules.
//!
//! - [`tol`]: [`ApproxTol`] (absolute, relative, slack), the relation, L∞ norms.
//! - [`forward_bounds`]: for a graph and an input [`Region`] (a point or a box), every node's
//!   exact enclosure and a rigorous bound on |native − exact|, from the per-op local rules in
//!   `strata-ir` (`strata_ir::error_bound`, `ops/<family>/error.rs`).
//! - [`backward_bounds`]: the same for the reverse pass (VJPs and gradient accumulation in the
//!   order [`reverse_pass`] declares); [`sgd_step_bound`] for one parameter update.
//! - [`float32_margin`]: margin transfer — does a verified real margin survive float32?
//!
//! The method, the assumptions and the measured tightness are in this crate's README.
#![forbid(unsafe_code)]

mod bounds;
mod margin;
mod region;
pub mod tol;

pub use bounds::{
    backward_bounds, forward_bounds, reverse_pass, sgd_step_bound, Analysis, ForwardBounds,
    NodeSummary,
};
pub use margin::{float32_margin, spec_budget, MarginTransfer};
pub use region::Region;
pub use strata_ir::error_bound::{Approx, Bounded, Format};
pub use tol::{approx_with, linf_distance, linf_norm, ApproxTol};

use strata_ir::{IrError, NodeRef};

/// Why a bound could not be given.
#[derive(Debug, thiserror::Error)]
pub enum ApproxError {
    #[error(transparent)]
    Ir(#[from] IrError),
    /// A local rule has no bound here (a domain guard, an overflow, an op without a rule).
    #[error("node {node} ({op}): {msg}")]
    Rule {
        node: NodeRef,
        op: &'static str,
        msg: String,
    },
    #[error("backward pass: {0}")]
    Backward(String),
    #[error("{0}")]
    Input(String),
}
