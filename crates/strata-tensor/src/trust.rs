//! The trust registry: every place where Strata relies on something it does not check itself.
//! `strata trust` prints the registry of every crate; a test scans the sources so that any
//! `unsafe` outside a registered module fails the build's tests.

/// One trust boundary: what is trusted, where, and why that is reasonable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustBoundary {
    /// Stable name, `crate/boundary`.
    pub name: &'static str,
    /// What kind of boundary: `unsafe`, `ffi`, `libm`, `hardware-rounding`, `imported-data`.
    pub kind: &'static str,
    /// Source file(s) that hold it, relative to the workspace root.
    pub location: &'static str,
    /// Why it is believed sound, and what (if anything) checks it.
    pub justification: &'static str,
}

/// The boundaries of `strata-tensor`.
pub const BOUNDARIES: &[TrustBoundary] = &[
    TrustBoundary {
        name: "strata-tensor/gemm",
        kind: "unsafe",
        location: "crates/strata-tensor/src/kernels/gemm.rs",
        justification: "raw-pointer call into the `gemm` crate; every view is bounds- and \
            overlap-checked in safe code first; results are tested against a naive f64 product",
    },
    TrustBoundary {
        name: "strata-tensor/fma-peak",
        kind: "unsafe",
        location: "crates/strata-tensor/src/kernels/peak.rs",
        justification: "std::arch FMA intrinsics called only after runtime CPU feature \
            detection; used only to report benchmark figures against the hardware peak",
    },
    TrustBoundary {
        name: "strata-tensor/native-libm",
        kind: "libm",
        location: "crates/strata-tensor/src/dtype.rs",
        justification: "exp, ln, tanh, powf, ln_1p come from the platform libm and erf from the \
            `libm` crate; their accuracy is not correctly rounded and is measured, not proved",
    },
    TrustBoundary {
        name: "strata-tensor/hardware-rounding",
        kind: "hardware-rounding",
        location: "crates/strata-tensor/src/kernels",
        justification: "native f32/f64 kernels rely on the CPU's IEEE-754 round-to-nearest-even \
            arithmetic and on FMA contraction inside gemm; checked against the Ieee32 bit model \
            on the sequential path only",
    },
];
