//! Forward and backward error bounds over a whole graph: the local rules of every op
//! (`strata_ir::error_bound`, rules in `ops/<family>/error.rs`) composed node by node, as
//! TorchLean's `FwdGraph.eval_approx` and `RevGraph.backprop_approx` compose local lemmas.

use crate::region::Region;
use crate::ApproxError;
use strata_ir::error_bound::{Approx, Bounded, ErrorLayer, ErrorSink, Format};
use strata_ir::eval::ExecConfig;
use strata_ir::layer::{Arith, NumericLayer};
use strata_ir::ops::grad::reverse_accumulate;
use strata_ir::{Graph, NodeRef, Op, OpSink, ParamStore};
use strata_tensor::{Shape, Tensor};

/// Which native execution is bounded.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    pub format: Format,
    /// The reduction order and matmul kernel. The fast matmul kernel's bound (fused products,
    /// γ_K) also covers the reference kernel (K·u), and every sum rule holds for every order,
    /// so the default configuration's bounds hold for both `ExecConfig::default()` and
    /// `ExecConfig::sequential()`.
    pub config: ExecConfig,
}

impl Default for Analysis {
    /// binary32 native kernels, fast configuration.
    fn default() -> Self {
        Analysis {
            format: Format::binary32(),
            config: ExecConfig::default(),
        }
    }
}

impl Analysis {
    fn sink(&self) -> ErrorSink {
        ErrorSink::new(self.format.clone(), self.config)
    }
}

/// Every node's bounded value, in node order.
#[derive(Clone, Debug)]
pub struct ForwardBounds {
    pub nodes: Vec<Bounded>,
    /// The graph's output node ids.
    pub outputs: Vec<usize>,
}

/// One row of the per-node table.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeSummary {
    pub node: NodeRef,
    pub op: &'static str,
    pub shape: Shape,
    /// The largest error bound of an element.
    pub max_err: f64,
    /// The largest magnitude a native element may have (the local scale).
    pub scale: f64,
    /// max_err / (u · scale): the bound as a multiple of the unit roundoff at the local scale
    /// (TorchLean's ε × scale form); 0 for an exact node.
    pub units_of_scale: f64,
}

impl ForwardBounds {
    /// The `i`-th graph output's bounds.
    pub fn output(&self, i: usize) -> Result<&Bounded, ApproxError> {
        (self.outputs.get(i))
            .map(|&id| &self.nodes[id])
            .ok_or_else(|| ApproxError::Input(format!("the graph has no output {i}")))
    }

    /// The absolute error bound of every element of output `i`, shaped as the output.
    pub fn output_err(&self, i: usize) -> Result<Tensor, ApproxError> {
        self.output(i)?.err_tensor().map_err(ApproxError::Input)
    }

    /// The largest error bound over all elements of all outputs: the end-to-end budget.
    pub fn budget(&self) -> Result<f64, ApproxError> {
        let mut worst: f64 = 0.0;
        for i in 0..self.outputs.len() {
            worst = worst.max(max_of(&self.output_err(i)?));
        }
        Ok(worst)
    }

    /// The per-node table (float nodes only).
    pub fn summary(&self, graph: &Graph, format: &Format) -> Vec<NodeSummary> {
        (graph.nodes.iter().zip(&self.nodes))
            .filter_map(|(node, b)| {
                let el = b.elements().ok()?;
                let max_err = el.iter().fold(0.0, |m: f64, a| m.max(a.err));
                let scale = el.iter().fold(0.0, |m: f64, a| m.max(a.native_mag()));
                let units_of_scale = match max_err {
                    0.0 => 0.0,
                    _ => max_err / (format.unit_roundoff * scale),
                };
                Some(NodeSummary {
                    node: node.node_ref(),
                    op: node.op.tag(),
                    shape: node.shape.clone(),
                    max_err,
                    scale,
                    units_of_scale,
                })
            })
            .collect()
    }
}

fn max_of(t: &Tensor) -> f64 {
    t.to_vec_f64().into_iter().fold(0.0, f64::max)
}

fn rule_error(graph: &Graph, id: usize, msg: String) -> ApproxError {
    let node = &graph.nodes[id];
    ApproxError::Rule {
        node: node.node_ref(),
        op: node.op.tag(),
        msg,
    }
}

/// Forward bounds of every node for inputs in `region`: each element's exact enclosure over
/// the region and a bound on |native − exact| for the execution `analysis` names.
pub fn forward_bounds(
    graph: &Graph,
    params: &ParamStore,
    region: &Region,
    analysis: &Analysis,
) -> Result<ForwardBounds, ApproxError> {
    graph.check_shapes()?;
    graph.check_params(params)?;
    let inputs = region.bounded().map_err(ApproxError::Input)?;
    let declared: Vec<_> = graph.inputs().collect();
    if declared.len() != inputs.len() {
        return Err(ApproxError::Input(format!(
            "the graph takes {} inputs, the region gives {}",
            declared.len(),
            inputs.len()
        )));
    }
    for (node, v) in declared.iter().zip(&inputs) {
        if v.shape() != &node.shape {
            return Err(ApproxError::Input(format!(
                "input {}: declared shape {}, given {}",
                node.node_ref(),
                node.shape,
                v.shape()
            )));
        }
    }
    let mut sink = analysis.sink();
    let mut fed = inputs.into_iter();
    let mut nodes: Vec<Bounded> = Vec::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let value = match &node.op {
            Op::Input { .. } => fed
                .next()
                .ok_or_else(|| rule_error(graph, node.id, "no input is bound".into()))?,
            Op::Parameter { name, .. } => {
                let t = params.get(name).ok_or_else(|| {
                    rule_error(graph, node.id, format!("no parameter named {name}"))
                })?;
                Bounded::exact(t).map_err(|m| rule_error(graph, node.id, m))?
            }
            op => {
                let args: Vec<Bounded> = node.inputs.iter().map(|&i| nodes[i].clone()).collect();
                sink.apply(op.clone(), &args)
                    .map_err(|m| rule_error(graph, node.id, m))?
            }
        };
        nodes.push(value);
    }
    Ok(ForwardBounds {
        nodes,
        outputs: graph.outputs.clone(),
    })
}

/// The reverse pass of `graph` in any sink, in the declared accumulation order: nodes visited
/// last to first, each node's cotangent sent through its op's VJP (`ops/grad.rs`), and the
/// contributions to a node added in the order they arrive (`acc + g`, one rounded addition
/// each). `values` holds every node's forward value; returns every node's cotangent (`None`:
/// zero). The native gradient, its f64 reference and its error bounds all run this function.
pub fn reverse_pass<S: OpSink>(
    sink: &mut S,
    graph: &Graph,
    values: &[S::Value],
    output: usize,
    seed: S::Value,
) -> Result<Vec<Option<S::Value>>, String> {
    let steps: Vec<(Op, Vec<usize>, usize)> = (graph.nodes.iter())
        .map(|n| (n.op.clone(), n.inputs.clone(), n.id))
        .collect();
    reverse_accumulate(sink, &steps, values, vec![(output, seed)])
}

/// Backward bounds: every node's cotangent (exact enclosure and error bound) for the seed
/// cotangent `seed` of graph output `output`, given the forward bounds over the same region.
pub fn backward_bounds(
    graph: &Graph,
    forward: &ForwardBounds,
    analysis: &Analysis,
    output: usize,
    seed: &Tensor,
) -> Result<Vec<Option<Bounded>>, ApproxError> {
    let id = *forward
        .outputs
        .get(output)
        .ok_or_else(|| ApproxError::Input(format!("the graph has no output {output}")))?;
    if seed.shape() != forward.nodes[id].shape() {
        return Err(ApproxError::Input(format!(
            "the seed cotangent has shape {}, output {output} has {}",
            seed.shape(),
            forward.nodes[id].shape()
        )));
    }
    let seed = Bounded::exact(seed).map_err(ApproxError::Input)?;
    let mut sink = analysis.sink();
    reverse_pass(&mut sink, graph, &forward.nodes, id, seed).map_err(ApproxError::Backward)
}

/// The bound on one SGD step `p − lr·g` as the native kernels compute it (`lr·ĝ` rounded,
/// then the difference rounded), from the bounded gradient `grad` of the stored parameter
/// `param`.
pub fn sgd_step_bound(
    param: &Tensor,
    grad: &Bounded,
    lr: f64,
    format: &Format,
) -> Result<Bounded, ApproxError> {
    let layer = ErrorLayer {
        format: format.clone(),
    };
    let g = grad.elements().map_err(ApproxError::Input)?;
    let p = param.to_vec_f64();
    if p.len() != g.len() {
        return Err(ApproxError::Input(format!(
            "the parameter has {} elements, its gradient {}",
            p.len(),
            g.len()
        )));
    }
    let rate = layer.of_f64(lr);
    let stepped: Vec<Option<Approx>> = (p.iter().zip(&g))
        .map(|(&p, g)| layer.sub(&Approx::point(p), &layer.mul(&rate, &Some(*g))))
        .collect();
    if let Some(i) = stepped.iter().position(Option::is_none) {
        return Err(ApproxError::Input(format!(
            "element {i} of the step may overflow"
        )));
    }
    let lo: Vec<f64> = stepped.iter().flatten().map(|a| a.exact.lo()).collect();
    let hi: Vec<f64> = stepped.iter().flatten().map(|a| a.exact.hi()).collect();
    let err: Vec<f64> = stepped.iter().flatten().map(|a| a.err).collect();
    let t = |v: Vec<f64>| Tensor::from_vec(v, param.shape().clone()).map_err(|e| e.to_string());
    Bounded::enclosing(
        &t(lo).map_err(ApproxError::Input)?,
        &t(hi).map_err(ApproxError::Input)?,
        &err,
    )
    .map_err(ApproxError::Input)
}
