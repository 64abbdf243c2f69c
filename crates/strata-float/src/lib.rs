//! binary32 semantics for Strata, in layers (DESIGN.md §1):
//!
//! - [`Ieee32`]: binary32 as raw bits, every operation in integer arithmetic, with the five rounding
//!   modes, the five exception flags, selectable tininess and NaN conventions ([`FpEnv`]);
//! - [`Fp32`]: the rounded-real proof model over exact rationals, and [`error_model`]
//!   (unit roundoff, γ_n, per-operation local bounds);
//! - [`interval`]: outward-rounded intervals with `f32` and `f64` endpoints;
//! - [`cli`]: the `strata float` command.
//!
//! The bridges between the layers are tests named after them (`tests/bridge_*.rs`).
#![forbid(unsafe_code)]

pub mod cli;
mod env;
pub mod error_model;
pub mod fp32;
mod ieee32;
pub mod interval;

pub use env::{Flagged, Flags, FpEnv, NanPolicy, RoundingMode, Tininess};
pub use fp32::{Fp32, Rounded};
pub use ieee32::{FloatClass, Ieee32, ParseFloatError, ShortestDecimal};
