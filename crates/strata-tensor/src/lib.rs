//! `strata-tensor`: Strata's tensor core.
//!
//! Tensors are immutable values over shared storage: views (reshape, permute, narrow,
//! broadcast) share the buffer, operations write new buffers. Every public operation returns
//! [`Result`]; a mismatch names the operation and both shapes. Every reduction has a declared
//! evaluation order ([`ReduceOrder`]) so that results do not depend on the thread count.
#![deny(unsafe_code)]

mod dtype;
mod error;
pub mod kernels;
mod shape;
mod storage;
pub mod trust;

pub use dtype::{DType, Element, Float};
pub use error::{Result, TensorError};
pub use shape::{broadcast_shapes, resolve_axis, Shape};
pub use storage::Storage;
