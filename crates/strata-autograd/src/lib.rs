//! `strata-autograd`: reverse- and forward-mode differentiation over the IR's per-op rules.
//!
//! - [`Tape`] and [`Var`]: the eager tape. Ops run at once on native kernels and are recorded
//!   as `(op, parents, output)` steps; [`Tape::backward`] returns [`Gradients`] as data (a map
//!   from leaf to tensor, parameters also by name), summing fan-out contributions and checking
//!   that every contribution goes to an earlier value. [`Tape::no_grad`] and `detach` stop
//!   recording; [`Tape::backward_recorded`] records the backward pass itself for higher
//!   derivatives.
//! - [`functional`]: `grad`, `vjp`, `jvp`, `jacobian`, `hessian_vector_product`.
//! - [`Plan`]: a traced model ([`Tape::trace`]) lowered to one joint forward+backward graph,
//!   pruned, with buffers freed after their last use, run repeatedly without re-tracing.
//!
//! The VJP and JVP of every op come from `strata_ir::ops::grad`, one rule per op: eager,
//! compiled and higher-order derivatives all run the same rules.
//!
//! ```
//! use strata_autograd::Tape;
//! use strata_tensor::Tensor;
//! # fn main() -> Result<(), strata_autograd::AutogradError> {
//! let tape = Tape::new();
//! let w = tape.parameter("w", Tensor::from_vec(vec![1.0f64, -2.0, 3.0], [3]).unwrap());
//! let loss = w.square()?.sum_all()?; // Σ w²
//! let grads = tape.backward(&loss)?;
//! assert_eq!(grads.by_name()["w"].to_vec::<f64>().unwrap(), [2.0, -4.0, 6.0]);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod error;
pub mod functional;
mod plan;
mod tape;
mod var_ops;

pub use error::AutogradError;
pub use plan::{Plan, PlanOutput, Wrt};
pub use tape::{Gradients, LeafKind, Tape, Var};
