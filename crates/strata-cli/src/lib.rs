//! Library side of the `strata` binary: what its integration tests need.
#![forbid(unsafe_code)]

use strata_float::trust::TrustBoundary;

/// Every crate's trust boundaries, in dependency order.
pub fn trust_registry() -> Vec<&'static TrustBoundary> {
    [
        strata_float::trust::BOUNDARIES,
        strata_tensor::trust::BOUNDARIES,
        strata_io::trust::BOUNDARIES,
        strata_nn::trust::BOUNDARIES,
    ]
    .into_iter()
    .flatten()
    .collect()
}
