//! The SSA graph: nodes in topological order, each naming its inputs by earlier ids.

use crate::error::{IrError, NodeRef};
use crate::op::Op;
use crate::ops::TensorType;
use std::collections::BTreeMap;
use strata_tensor::{DType, Shape};

/// A node's id: its position in [`Graph::nodes`].
pub type NodeId = usize;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub id: NodeId,
    pub op: Op,
    pub inputs: Vec<NodeId>,
    pub shape: Shape,
    pub dtype: DType,
    pub name: Option<String>,
}

impl Node {
    pub fn node_ref(&self) -> NodeRef {
        NodeRef {
            id: self.id,
            name: self.name.clone(),
        }
    }
    /// The declared output type.
    pub fn ty(&self) -> TensorType {
        TensorType::new(self.shape.clone(), self.dtype)
    }
}

/// A first-order graph: `nodes[i].id == i`, inputs before users, `outputs` name the results.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub outputs: Vec<NodeId>,
}

impl Graph {
    /// Ids equal positions, every input id is smaller than its user's id, every arity holds,
    /// every output names a node.
    pub fn check_well_formed(&self) -> Result<(), IrError> {
        for (position, node) in self.nodes.iter().enumerate() {
            if node.id != position {
                return Err(IrError::IdMismatch {
                    position,
                    id: node.id,
                });
            }
            if let Some(&input) = node.inputs.iter().find(|&&i| i >= node.id) {
                return Err(IrError::BadInput {
                    node: node.node_ref(),
                    op: node.op.tag(),
                    input,
                });
            }
            let arity = node.op.arity();
            if !arity.admits(node.inputs.len()) {
                return Err(IrError::Rule {
                    node: node.node_ref(),
                    op: node.op.tag(),
                    inputs: self.input_types(node),
                    msg: format!("takes {arity} inputs, got {}", node.inputs.len()),
                });
            }
        }
        match self.outputs.iter().find(|&&o| o >= self.nodes.len()) {
            Some(&id) => Err(IrError::BadOutput { id }),
            None => Ok(()),
        }
    }

    /// Well-formedness, then every node's declared type against the type its shape rule infers
    /// from its inputs' declared types, and one type per parameter name.
    pub fn check_shapes(&self) -> Result<(), IrError> {
        self.check_well_formed()?;
        self.parameter_types()?;
        for node in &self.nodes {
            let inputs = self.input_types(node);
            let inferred = node.op.infer(&inputs).map_err(|msg| IrError::Rule {
                node: node.node_ref(),
                op: node.op.tag(),
                inputs: inputs.clone(),
                msg,
            })?;
            if inferred != node.ty() {
                return Err(IrError::DeclaredType {
                    node: node.node_ref(),
                    op: node.op.tag(),
                    inputs,
                    declared: Box::new(node.ty()),
                    inferred: Box::new(inferred),
                });
            }
        }
        Ok(())
    }

    /// The declared types of `node`'s inputs (those that exist).
    fn input_types(&self, node: &Node) -> Vec<TensorType> {
        node.inputs
            .iter()
            .filter_map(|&i| self.nodes.get(i).map(Node::ty))
            .collect()
    }

    /// The type of each parameter name the graph reads from the parameter store. A name may
    /// be read by several nodes (shared weights), but always with one type.
    pub fn parameter_types(&self) -> Result<BTreeMap<&str, TensorType>, IrError> {
        let mut types: BTreeMap<&str, (NodeId, TensorType)> = BTreeMap::new();
        for node in &self.nodes {
            let Op::Parameter { name, shape, dtype } = &node.op else {
                continue;
            };
            let ty = TensorType::new(shape.clone(), *dtype);
            match types.get(name.as_str()) {
                Some((first, known)) if *known != ty => {
                    return Err(IrError::Rule {
                        node: node.node_ref(),
                        op: node.op.tag(),
                        inputs: Vec::new(),
                        msg: format!(
                            "parameter `{name}` is {ty} here but {known} at node %{first}"
                        ),
                    })
                }
                Some(_) => {}
                None => {
                    types.insert(name, (node.id, ty));
                }
            }
        }
        Ok(types
            .into_iter()
            .map(|(name, (_, ty))| (name, ty))
            .collect())
    }

    /// The `input` nodes, in order.
    pub fn inputs(&self) -> impl Iterator<Item = &Node> {
        self.nodes
            .iter()
            .filter(|n| matches!(n.op, Op::Input { .. }))
    }

    /// The `parameter` nodes, in order.
    pub fn parameters(&self) -> impl Iterator<Item = &Node> {
        self.nodes
            .iter()
            .filter(|n| matches!(n.op, Op::Parameter { .. }))
    }
}

/// Builds a graph node by node, inferring and checking each node's type as it is pushed.
#[derive(Clone, Debug, Default)]
pub struct GraphBuilder {
    nodes: Vec<Node>,
}

impl GraphBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `op` applied to `inputs`; its type is inferred now, so a mismatch is reported
    /// here, naming the op and the input types.
    pub fn push(&mut self, op: Op, inputs: &[NodeId]) -> Result<NodeId, IrError> {
        self.push_node(None, op, inputs)
    }

    /// [`Self::push`] with a node name (shown in errors, the text form and DOT).
    pub fn push_named(
        &mut self,
        name: impl Into<String>,
        op: Op,
        inputs: &[NodeId],
    ) -> Result<NodeId, IrError> {
        self.push_node(Some(name.into()), op, inputs)
    }

    fn push_node(
        &mut self,
        name: Option<String>,
        op: Op,
        inputs: &[NodeId],
    ) -> Result<NodeId, IrError> {
        let id = self.nodes.len();
        let node = NodeRef {
            id,
            name: name.clone(),
        };
        let mut types = Vec::with_capacity(inputs.len());
        for &input in inputs {
            let Some(n) = self.nodes.get(input) else {
                return Err(IrError::BadInput {
                    node,
                    op: op.tag(),
                    input,
                });
            };
            types.push(n.ty());
        }
        let ty = op.infer(&types).map_err(|msg| IrError::Rule {
            node,
            op: op.tag(),
            inputs: types,
            msg,
        })?;
        self.nodes.push(Node {
            id,
            op,
            inputs: inputs.to_vec(),
            shape: ty.shape,
            dtype: ty.dtype,
            name,
        });
        Ok(id)
    }

    /// The declared type of an already pushed node.
    pub fn ty(&self, id: NodeId) -> Option<TensorType> {
        self.nodes.get(id).map(Node::ty)
    }

    /// The finished graph with the given outputs.
    pub fn finish(self, outputs: &[NodeId]) -> Result<Graph, IrError> {
        let graph = Graph {
            nodes: self.nodes,
            outputs: outputs.to_vec(),
        };
        graph.check_well_formed()?;
        Ok(graph)
    }
}
