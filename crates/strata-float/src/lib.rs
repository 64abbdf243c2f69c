//! binary32 semantics for Strata, in layers (DESIGN.md §1):
//!
//! - [`Ieee32`]: binary32 as raw bits, every operation in integer arithmetic, with the five rounding
//!   modes, the five exception flags, selectable tininess and NaN conventions ([`FpEnv`]);
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
//! ```
#![forbid(unsafe_code)]

pub mod cli;
mod env;
pub mod error_model;
pub mod fp32;
mod ieee32;
pub mod interval;
pub mod oracle;
pub mod trust;

pub use env::{Flagged, Flags, FpEnv, NanPolicy, RoundingMode, Tininess};
pub use fp32::{Fp32, Rounded};
pub use ieee32::{FloatClass, Ieee32, ParseFloatError, ShortestDecimal};
