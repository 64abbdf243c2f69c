//! binary32 semantics for Strata, in layers (DESIGN.md §1):
//!
//! - [`Ieee32`]: binary32 as raw bits, every operation in integer arithmetic, with the five rounding
//!   modes, the five exception flags, selectable tininess and NaN conventions ([`FpEnv`]); and the
//!   correctly rounded transcendentals `exp expm1 log log1p tanh sigmoid erf sin cos` (binary64
//!   fast path with a rounding test, double-double slow path, exact Payne–Hanek reduction);
//! - [`oracle`]: the independent reference for those functions (rigorous interval arithmetic over
//!   integers, refined until the rounding is decided), and [`exhaustive`], the 2^32-input check
//!   behind `strata float check-exhaustive`;
//! - [`Fp32`]: the rounded-real proof model over exact rationals, and [`error_model`]
//!   (unit roundoff, γ_n, per-operation local bounds);
//! - [`interval`]: outward-rounded intervals with `f32` and `f64` endpoints;
//! - [`cli`]: the `strata float` command.
//!
//! The bridges between the layers are tests named after them (`tests/bridge_*.rs`): `Ieee32` vs
//! `Fp32` (exact rationals), vs native `f32`, vs Berkeley SoftFloat 3e, and intervals vs exact
//! reals. The default `cargo test -p strata-float` runs the edge sets and 10^6 random cases per
//! operation against native `f32` and SoftFloat (10^5 against the slower exact-rational models).
//! The long sweeps, by command:
//!
//! ```text
//! # 10^9 random cases per operation against native f32 and against SoftFloat:
//! STRATA_FLOAT_CASES=1000000000 cargo test --release -p strata-float --test bridge_ieee32_native
//! STRATA_FLOAT_CASES=1000000000 cargo test --release -p strata-float --test bridge_ieee32_softfloat
//! # sqrt, round-to-integral (5 modes), next_up/down and conversions over all 2^32 inputs:
//! cargo test --release -p strata-float --test bridge_ieee32_native -- --ignored
//! # throughput beside rustc_apfloat, SoftFloat and native f32:
//! cargo bench -p strata-float --bench ieee32_throughput
//! # a transcendental over all 2^32 inputs in all five modes against the oracle, plus the native
//! # f32 libm's accuracy (resumable: rerun the same command after an interruption); the same
//! # through the float CLI alone: cargo run --release -p strata-float --example float_cli -- …
//! nice -n 19 strata float check-exhaustive exp      # also expm1 log log1p tanh sigmoid erf sin cos
//! # 10^7 random inputs per transcendental and mode against the oracle:
//! STRATA_FLOAT_CASES=10000000 cargo test --release -p strata-float --test bridge_transcendental
//! # ns/op of each correctly rounded transcendental beside native f32:
//! cargo bench -p strata-float --bench transcendental
//! # hard-to-round inputs (the fast path's rounding test fails) of a function in a bit range:
//! cargo run --release -p strata-float --example find_hard -- exp 0 100000000 97 24
//! ```
//!
//! Measured results (exhaustive sweeps, native libm accuracy, ns/op) are in `docs/libm_accuracy.md`.
#![forbid(unsafe_code)]

pub mod cli;
mod env;
pub mod error_model;
pub mod exhaustive;
pub mod fp32;
mod ieee32;
pub mod interval;
pub mod oracle;
pub mod trust;

pub use env::{Flagged, Flags, FpEnv, NanPolicy, RoundingMode, Tininess};
pub use fp32::{Fp32, Rounded};
pub use ieee32::{slow_path_calls, FloatClass, Ieee32, ParseFloatError, ShortestDecimal};
