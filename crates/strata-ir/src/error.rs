//! One error type for building, checking, parsing and converting graphs. Node errors name the
//! node (id, and name if any), the op tag and the types involved.

use crate::ops::TensorType;
use std::fmt;

/// A node as errors show it: `%3` or `%3 "fc1"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRef {
    pub id: usize,
    pub name: Option<String>,
}

impl fmt::Display for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node %{}", self.id)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        Ok(())
    }
}

/// `f32[1, 4], i64[1]`, or `no inputs`.
fn list(types: &[TensorType]) -> String {
    if types.is_empty() {
        return "no inputs".into();
    }
    let shown: Vec<String> = types.iter().map(ToString::to_string).collect();
    format!("inputs {}", shown.join(", "))
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IrError {
    /// The node's shape rule rejected its inputs (arity included).
    #[error("{node} ({op}): {}: {msg}", list(inputs))]
    Rule {
        node: NodeRef,
        op: &'static str,
        inputs: Vec<TensorType>,
        msg: String,
    },
    /// An input id that does not name an earlier node.
    #[error("{node} ({op}): input %{input} is not an earlier node")]
    BadInput {
        node: NodeRef,
        op: &'static str,
        input: usize,
    },
    #[error("the node at position {position} has id %{id}")]
    IdMismatch { position: usize, id: usize },
    /// The declared type differs from the one the shape rule infers.
    #[error(
        "{node} ({op}): declared {declared}, but {} give {inferred}",
        list(inputs)
    )]
    DeclaredType {
        node: NodeRef,
        op: &'static str,
        inputs: Vec<TensorType>,
        declared: Box<TensorType>,
        inferred: Box<TensorType>,
    },
    #[error("graph output %{id} is not a node")]
    BadOutput { id: usize },
    /// Malformed text form.
    #[error("line {line}: {msg}")]
    Text { line: usize, msg: String },
    /// Malformed JSON (Strata's or TorchLean's), at a JSON path such as `$.nodes[3].attrs`.
    #[error("{path}: {msg}")]
    Json { path: String, msg: String },
    /// A parameter store or run-time input that does not fit the graph.
    #[error("{what}: {msg}")]
    Binding { what: String, msg: String },
    /// An op that failed while running (an index out of range, a NaN cast to an integer, …).
    #[error("{node} ({op}): {msg}")]
    Eval {
        node: NodeRef,
        op: &'static str,
        msg: String,
    },
    /// A graph that the target format cannot express.
    #[error("{node} ({op}): {msg}")]
    Unsupported {
        node: NodeRef,
        op: &'static str,
        msg: String,
    },
}
