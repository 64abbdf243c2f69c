//! `strata-tensor`: Strata's tensor core.
//!
//! Tensors are immutable values over shared storage: views (reshape, permute, narrow,
//! broadcast) share the buffer, operations write new buffers. Every public operation returns
//! [`Result`]; a mismatch names the operation and both shapes. Every reduction has a declared
//! evaluation order ([`ReduceOrder`]) so that results do not depend on the thread count.
#![deny(unsafe_code)]

mod conv_ops;
mod display;
mod dtype;
mod elementwise;
mod error;
mod index;
mod join;
pub mod kernels;
mod layout;
mod matmul;
mod nn_ops;
mod reduce;
mod rng;
mod shape;
mod storage;
mod tensor;
pub mod trust;
mod view;

pub use conv_ops::ConvGrads;
pub use dtype::{DType, Element, Float};
pub use elementwise::CmpOp;
pub use error::{Result, TensorError};
pub use kernels::conv::{Conv1dParams, Conv2dParams, ConvTranspose2dParams};
pub use kernels::pool::{AvgPool2dParams, MaxPool2dParams};
pub use matmul::MatmulKernel;
pub use nn_ops::BatchNormOutput;
pub use reduce::{sum_in_order, ReduceOp, ReduceOrder};
pub use rng::{init, philox4x32_10, Rng};
pub use shape::{broadcast_shapes, resolve_axis, Shape};
pub use storage::Storage;
pub use tensor::Tensor;
