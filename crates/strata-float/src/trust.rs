//! The trust registry's record type, and this crate's entries. Every crate lists the places
//! where Strata relies on something it does not check itself; `strata trust` prints them all,
//! and a test scans the sources so that an `unsafe` outside a registered module fails.

/// One trust boundary: what is trusted, where, and why that is reasonable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustBoundary {
    /// Stable name, `crate/boundary`.
    pub name: &'static str,
    /// `unsafe`, `ffi`, `libm`, `hardware-rounding` or `imported-data`.
    pub kind: &'static str,
    /// Source file or folder that holds it, relative to the workspace root.
    pub location: &'static str,
    /// Why it is believed sound, and what (if anything) checks it.
    pub justification: &'static str,
}

/// The boundaries of `strata-float`.
pub const BOUNDARIES: &[TrustBoundary] = &[TrustBoundary {
    name: "strata-float/interval-libm",
    kind: "libm",
    location: "crates/strata-float/src/interval.rs",
    justification: "interval exp, ln and tanh assume the platform's binary64 libm is within \
        8 ulps and widen each endpoint by 9 ulps; measured against the exact oracle \
        (docs/libm_accuracy.md: at 10^6 binary32 inputs exp ≤ 0.51, ln ≤ 0.51, tanh ≤ 2.10 ulps on \
        x86-64 glibc 2.36) and tested against exact-rational Taylor enclosures, not proved for \
        every input; Ieee32's correctly rounded exp/log/tanh, checked on all 2^32 inputs, are the \
        exhaustively checked alternative",
}];
