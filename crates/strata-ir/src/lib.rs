//! `strata-ir`: Strata's op-tagged SSA graph.
//!
//! - [`Op`]: the op vocabulary, each op with a stable snake_case tag and typed attributes;
//!   its local rules live in [`ops`] (shape rules today; DESIGN.md §3).
//! - [`Graph`], [`Node`], [`GraphBuilder`]: a topologically ordered graph whose node types are
//!   inferred when pushed and re-checked by [`Graph::check_shapes`].
//! - Forms: [`text`] (stable, human-readable), [`json`], [`dot`] (Graphviz), and [`torchlean`]
//!   (TorchLean's `torchlean.ir.v1` interchange JSON).
//! - [`error_bound`]: runtime error bounds (|native − exact| per element) from each op's local
//!   error rule (`ops/<family>/error.rs`); strata-approx composes them over graphs.
//! - [`cli`]: `strata ir show | dot | convert`.
//!
//! ```
//! use strata_ir::{GraphBuilder, Op};
//! use strata_tensor::DType;
//! # fn main() -> Result<(), strata_ir::IrError> {
//! let mut b = GraphBuilder::new();
//! let x = b.push_named("x", Op::Input { shape: [2, 3].into(), dtype: DType::F32 }, &[])?;
//! let w = b.push(Op::Parameter { name: "fc.weight".into(), shape: [4, 3].into(), dtype: DType::F32 }, &[])?;
//! let y = b.push(Op::Linear { bias: false }, &[x, w])?;
//! let z = b.push(Op::Relu, &[y])?;
//! let graph = b.finish(&[z])?;
//! assert_eq!(graph.nodes[z].shape.dims(), &[2, 4]);
//! let text = strata_ir::text::print(&graph)?;
//! assert_eq!(strata_ir::text::parse(&text)?, graph);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod cli;
pub mod dot;
mod error;
pub mod error_bound;
pub mod eval;
mod graph;
pub mod interpret;
pub mod json;
pub mod layer;
mod op;
pub mod ops;
mod params;
mod serde_impls;
pub mod sink;
pub mod text;
pub mod torchlean;

pub use error::{IrError, NodeRef};
pub use graph::{Graph, GraphBuilder, Node, NodeId};
pub use op::{Arity, AttentionMask, Comparison, GeluApproximation, Literal, Op, Reduction};
pub use ops::TensorType;
pub use params::ParamStore;
pub use serde_impls::parse_dtype;
pub use sink::{Emit, OpSink};
