//! `strata-tensor`: Strata's tensor core.
//!
//! Tensors are immutable values over shared storage: views (reshape, permute, narrow,
//! broadcast) share the buffer, operations write new buffers. Every public operation returns
//! [`Result`]; a mismatch names the operation and both shapes. Every reduction has a declared
//! evaluation order ([`ReduceOrder`]) so that results do not depend on the thread count.
//!
//! ```
//! use strata_tensor::{DType, ReduceOp, ReduceOrder, Rng, Tensor};
//! # fn main() -> strata_tensor::Result<()> {
//! let mut rng = Rng::new(0);
//! let x = Tensor::randn([2, 3], DType::F32, &mut rng)?;
//! let w = Tensor::randn([3, 4], DType::F32, &mut rng)?;
//! let p = x.matmul(&w)?.relu()?.softmax(-1)?;
//! let sums = p.reduce(ReduceOp::Sum, &[1], false, ReduceOrder::Sequential)?;
//! for s in sums.to_vec::<f32>()? {
//!     assert!((s - 1.0).abs() < 1e-6); // each softmax row sums to one
//! }
//! assert_eq!(p.dims(), &[2, 4]);
//! # Ok(())
//! # }
//! ```
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
pub use elementwise::{ChainStep, CmpOp, ScalarOp};
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
