//! This crate's entries in the trust registry (see [`strata_float::trust`]).

pub use strata_float::trust::TrustBoundary;

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
        justification: "exp, ln, tanh, sin, cos, powf, ln_1p come from the platform libm and erf \
            from the `libm` crate; they are not correctly rounded: their max ulp error and count of \
            incorrectly rounded results over all 2^32 binary32 inputs are in docs/libm_accuracy.md \
            (measured, not proved)",
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
