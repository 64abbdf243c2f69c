//! The parameter store: the tensors that `parameter` nodes read by name, and the checks that
//! bind a store and run-time inputs to a graph before any data flows.

use crate::error::IrError;
use crate::graph::Graph;
use crate::op::Op;
use crate::ops::TensorType;
use std::collections::BTreeMap;
use strata_tensor::Tensor;

/// Named parameters (PyTorch `state_dict` names), in name order.
pub type ParamStore = BTreeMap<String, Tensor>;

fn tensor_type(t: &Tensor) -> TensorType {
    TensorType::new(t.shape().clone(), t.dtype())
}

impl Graph {
    /// Every parameter the graph reads is in `params` with its declared shape and dtype.
    /// Extra entries are allowed (a store may serve several graphs).
    pub fn check_params(&self, params: &ParamStore) -> Result<(), IrError> {
        for (name, expected) in self.parameter_types()? {
            let Some(t) = params.get(name) else {
                return Err(IrError::Binding {
                    what: format!("parameter `{name}`"),
                    msg: format!("missing from the parameter store (expected {expected})"),
                });
            };
            let got = tensor_type(t);
            if got != expected {
                return Err(IrError::Binding {
                    what: format!("parameter `{name}`"),
                    msg: format!("the graph declares {expected}, the store holds {got}"),
                });
            }
        }
        Ok(())
    }

    /// `inputs` feed the graph's `input` nodes in order, each with its declared type.
    pub fn check_inputs(&self, inputs: &[Tensor]) -> Result<(), IrError> {
        let declared: Vec<_> = self.inputs().collect();
        if declared.len() != inputs.len() {
            return Err(IrError::Binding {
                what: "inputs".into(),
                msg: format!(
                    "the graph takes {} inputs, {} were given",
                    declared.len(),
                    inputs.len()
                ),
            });
        }
        for (node, t) in declared.iter().zip(inputs) {
            let got = tensor_type(t);
            if got != node.ty() {
                return Err(IrError::Binding {
                    what: format!("input {}", node.node_ref()),
                    msg: format!("declared {}, given {got}", node.ty()),
                });
            }
        }
        Ok(())
    }

    /// The parameter names the graph reads, each once, in name order.
    pub fn parameter_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = (self.nodes.iter())
            .filter_map(|n| match &n.op {
                Op::Parameter { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}
