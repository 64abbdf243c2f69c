//! Library side of the `strata` binary: what its integration tests need.
#![forbid(unsafe_code)]

use strata_tensor::trust::TrustBoundary;

/// Every crate's trust boundaries, in dependency order.
pub fn trust_registry() -> Vec<&'static TrustBoundary> {
    strata_tensor::trust::BOUNDARIES.iter().collect()
}
