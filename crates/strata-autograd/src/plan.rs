//! Compiled execution: a model traced once to an IR graph, then lowered to a [`Plan`] that
//! runs forward and backward repeatedly without re-tracing.
//!
//! The plan is one joint graph: the forward nodes, then the backward nodes the VJP rules
//! emit (the same rules the eager tape runs, with a [`GraphBuilder`] as the sink), with one
//! extra input per forward output for its cotangent. Lowering prunes nodes no output needs,
//! fuses chains of elementwise ops whose intermediates have no other reader into one pass
//! over memory (the same bits: each step is the unfused kernel's scalar function), computes
//! each value's last use, and frees a value's buffer right after its last use, so the peak
//! memory is the live set rather than the whole tape.

use crate::error::AutogradError;
use crate::tape::{LeafKind, Tape, Var};
use std::collections::BTreeMap;
use strata_ir::eval::ExecConfig;
use strata_ir::ops::grad::{reverse_accumulate, Step};
use strata_ir::{Graph, GraphBuilder, IrError, Literal, NodeId, Op, ParamStore};
use strata_tensor::{ChainStep, Tensor};

type R<T> = Result<T, AutogradError>;

impl Tape {
    /// A tape that records every op, also those no gradient flows through, so that
    /// [`Tape::trace`] can turn it into a graph that runs on new inputs.
    pub fn tracing() -> Tape {
        let tape = Tape::new();
        tape.0.borrow_mut().trace_all = true;
        tape
    }

    /// The recorded computation of `outputs` as an IR graph: input leaves become `input`
    /// nodes (in leaf order), parameter leaves `parameter` nodes, and any other value no
    /// recorded step produced a `constant`. Returns the graph and the parameters' values.
    pub fn trace(&self, outputs: &[&Var]) -> R<(Graph, ParamStore)> {
        let inner = self.0.borrow();
        let producer: BTreeMap<usize, &Step> = inner.steps.iter().map(|s| (s.2, s)).collect();
        // The values the outputs need, found backwards through the producers.
        let mut needed = vec![false; inner.values.len()];
        let mut stack: Vec<usize> = outputs.iter().map(|v| v.id()).collect();
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut needed[id], true) {
                continue;
            }
            if let Some((_, ins, _)) = producer.get(&id) {
                stack.extend(ins.iter().copied());
            }
        }
        let mut b = GraphBuilder::new();
        let mut node_of: BTreeMap<usize, NodeId> = BTreeMap::new();
        let mut params = ParamStore::new();
        for id in (0..inner.values.len()).filter(|&i| needed[i]) {
            let value = &inner.values[id];
            let node = match (producer.get(&id), inner.leaves.get(&id)) {
                (Some((op, ins, _)), _) => {
                    let args: Vec<NodeId> = ins.iter().map(|i| node_of[i]).collect();
                    b.push(op.clone(), &args)?
                }
                (None, Some(LeafKind::Input)) => b.push_named(
                    format!("input{id}"),
                    Op::Input {
                        shape: value.shape().clone(),
                        dtype: value.dtype(),
                    },
                    &[],
                )?,
                (None, Some(LeafKind::Parameter(name))) => {
                    params.insert(name.clone(), value.clone());
                    b.push(
                        Op::Parameter {
                            name: name.clone(),
                            shape: value.shape().clone(),
                            dtype: value.dtype(),
                        },
                        &[],
                    )?
                }
                (None, None) => b.push(
                    Op::Constant {
                        value: Literal(value.clone()),
                    },
                    &[],
                )?,
            };
            node_of.insert(id, node);
        }
        let outs: Vec<NodeId> = outputs.iter().map(|v| node_of[&v.id()]).collect();
        Ok((b.finish(&outs)?, params))
    }
}

/// What a plan differentiates with respect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrt {
    /// Every parameter (by name).
    Params,
    /// Every input (in order).
    Inputs,
}

/// A compiled forward+backward program.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The joint graph: forward inputs, then one cotangent input per forward output.
    pub graph: Graph,
    /// How many of `graph.outputs` are forward outputs (the rest are gradients).
    pub forward_outputs: usize,
    /// The name of each gradient output: a parameter name, or `input<k>`.
    pub gradient_names: Vec<String>,
    /// Per node, the last node that reads it (`usize::MAX` for graph outputs).
    last_use: Vec<usize>,
    /// Nodes some output needs.
    live: Vec<bool>,
    /// Per node: how it runs (its own kernel, a fused chain ending here, or not at all
    /// because a later chain computes through it).
    exec: Vec<Exec>,
    pub config: ExecConfig,
}

/// How the plan runs one node.
#[derive(Clone, Debug)]
enum Exec {
    /// Not needed by any output, or the interior of a fused chain.
    Skip,
    /// Its own op on its inputs.
    Op,
    /// A fused chain: `steps` applied to the value of `source`, in one pass.
    Chain {
        source: NodeId,
        steps: Vec<ChainStep>,
    },
}

/// The results of one plan run.
#[derive(Clone, Debug)]
pub struct PlanOutput {
    pub outputs: Vec<Tensor>,
    /// Gradients by name (parameter names, or `input<k>`).
    pub gradients: BTreeMap<String, Tensor>,
}

impl Plan {
    /// Lowers `graph` (its outputs' cotangents become extra inputs) to a plan computing the
    /// outputs and their VJP with respect to `wrt`.
    pub fn compile(graph: &Graph, wrt: Wrt, config: ExecConfig) -> R<Plan> {
        graph.check_shapes()?;
        let mut b = GraphBuilder::new();
        let mut steps: Vec<Step> = Vec::new();
        for node in &graph.nodes {
            let id = b.push(node.op.clone(), &node.inputs)?;
            if !node.inputs.is_empty() {
                steps.push((node.op.clone(), node.inputs.clone(), id));
            }
        }
        let mut seeds = Vec::new();
        for (k, &o) in graph.outputs.iter().enumerate() {
            let node = &graph.nodes[o];
            if !node.dtype.is_float() {
                continue;
            }
            let cot = b.push_named(
                format!("cotangent{k}"),
                Op::Input {
                    shape: node.shape.clone(),
                    dtype: node.dtype,
                },
                &[],
            )?;
            seeds.push((o, cot));
        }
        let values: Vec<NodeId> = (0..graph.nodes.len()).collect();
        let cot = reverse_accumulate(&mut b, &steps, &values, seeds).map_err(AutogradError::Op)?;
        let mut outputs = graph.outputs.clone();
        let mut gradient_names = Vec::new();
        let mut by_name: BTreeMap<String, Vec<NodeId>> = BTreeMap::new();
        let mut input_index = 0;
        for node in &graph.nodes {
            let name = match (&node.op, wrt) {
                (Op::Parameter { name, .. }, Wrt::Params) => name.clone(),
                (Op::Input { .. }, Wrt::Inputs) => {
                    input_index += 1;
                    format!("input{}", input_index - 1)
                }
                _ => continue,
            };
            if !node.dtype.is_float() {
                continue;
            }
            let g = match cot[node.id] {
                Some(g) => g,
                // No path from this leaf to an output: a zero gradient.
                None => b.push(
                    Op::Constant {
                        value: Literal(
                            Tensor::zeros(node.shape.clone(), node.dtype)
                                .map_err(|e| AutogradError::Op(e.to_string()))?,
                        ),
                    },
                    &[],
                )?,
            };
            by_name.entry(name).or_default().push(g);
        }
        // A parameter read by several nodes (shared weights) sums their gradients.
        for (name, parts) in by_name {
            let mut acc = parts[0];
            for &p in &parts[1..] {
                acc = b.push(Op::Add, &[acc, p])?;
            }
            outputs.push(acc);
            gradient_names.push(name);
        }
        let joint = b.finish(&outputs)?;
        Ok(Plan::lower(
            joint,
            graph.outputs.len(),
            gradient_names,
            config,
        ))
    }

    fn lower(
        graph: Graph,
        forward_outputs: usize,
        gradient_names: Vec<String>,
        config: ExecConfig,
    ) -> Plan {
        let n = graph.nodes.len();
        let mut live = vec![false; n];
        for &o in &graph.outputs {
            live[o] = true;
        }
        for node in graph.nodes.iter().rev() {
            if live[node.id] {
                for &i in &node.inputs {
                    live[i] = true;
                }
            }
        }
        let exec = fuse(&graph, &live);
        // Last uses follow what actually runs: a chain reads only its source.
        let mut last_use = vec![0; n];
        for node in &graph.nodes {
            let reads: &[NodeId] = match &exec[node.id] {
                Exec::Skip => &[],
                Exec::Op => &node.inputs,
                Exec::Chain { source, .. } => std::slice::from_ref(source),
            };
            for &i in reads {
                last_use[i] = node.id;
            }
        }
        for &o in &graph.outputs {
            last_use[o] = usize::MAX;
        }
        Plan {
            graph,
            forward_outputs,
            gradient_names,
            last_use,
            live,
            exec,
            config,
        }
    }

    /// How many nodes run as fused chains of at least two ops, and how many ops they absorb.
    pub fn fused_chains(&self) -> (usize, usize) {
        self.exec.iter().fold((0, 0), |(c, ops), e| match e {
            Exec::Chain { steps, .. } => (c + 1, ops + steps.len()),
            _ => (c, ops),
        })
    }

    /// How many nodes the plan executes.
    pub fn live_nodes(&self) -> usize {
        self.live.iter().filter(|&&l| l).count()
    }

    /// Runs the plan: `inputs` feed the forward inputs, `cotangents` the outputs' cotangents
    /// (for a scalar loss: one tensor holding 1).
    pub fn run(
        &self,
        params: &ParamStore,
        inputs: &[Tensor],
        cotangents: &[Tensor],
    ) -> R<PlanOutput> {
        let feeds: Vec<Tensor> = inputs.iter().chain(cotangents).cloned().collect();
        self.graph.check_params(params)?;
        self.graph.check_inputs(&feeds)?;
        let mut fed = feeds.into_iter();
        let mut values: Vec<Option<Tensor>> = vec![None; self.graph.nodes.len()];
        for node in &self.graph.nodes {
            let value = match (&node.op, &self.exec[node.id]) {
                (Op::Input { .. }, _) => fed.next(),
                (_, Exec::Skip) => None,
                (Op::Parameter { name, .. }, _) => params.get(name).cloned(),
                (op, Exec::Chain { source, steps }) => {
                    let x = values[*source]
                        .clone()
                        .ok_or_else(|| freed(node.id, *source))?;
                    let out = x.unary_chain(steps).map_err(|e| IrError::Eval {
                        node: node.node_ref(),
                        op: op.tag(),
                        msg: e.to_string(),
                    })?;
                    if self.last_use[*source] == node.id {
                        values[*source] = None;
                    }
                    Some(out)
                }
                (op, Exec::Op) => {
                    let args: Vec<Tensor> = (node.inputs.iter())
                        .map(|&i| values[i].clone().ok_or_else(|| freed(node.id, i)))
                        .collect::<Result<_, _>>()?;
                    let out = op
                        .forward(&args, &self.config)
                        .map_err(|msg| IrError::Eval {
                            node: node.node_ref(),
                            op: op.tag(),
                            msg,
                        })?;
                    // Free every input this node was the last reader of.
                    for &i in &node.inputs {
                        if self.last_use[i] == node.id {
                            values[i] = None;
                        }
                    }
                    Some(out)
                }
            };
            values[node.id] = value;
        }
        let take = |o: NodeId| values[o].clone().ok_or_else(|| freed(o, o));
        let outs = &self.graph.outputs;
        let outputs = outs[..self.forward_outputs]
            .iter()
            .map(|&o| take(o))
            .collect::<Result<_, _>>()?;
        let gradients = (self.gradient_names.iter().cloned())
            .zip(&outs[self.forward_outputs..])
            .map(|(name, &o)| Ok((name, take(o)?)))
            .collect::<R<_>>()?;
        Ok(PlanOutput { outputs, gradients })
    }
}

/// The fusion pass: a float elementwise node extends the chain of its chained input when that
/// input is itself a chain step, read by no other live node and not an output. Chains of one
/// op run their own kernel.
fn fuse(graph: &Graph, live: &[bool]) -> Vec<Exec> {
    let n = graph.nodes.len();
    let mut readers = vec![0usize; n];
    for node in graph.nodes.iter().filter(|n| live[n.id]) {
        for &i in &node.inputs {
            readers[i] += 1;
        }
    }
    let mut is_output = vec![false; n];
    for &o in &graph.outputs {
        is_output[o] = true;
    }
    // A rank-0 float constant's value.
    let scalar = |id: NodeId| match &graph.nodes[id].op {
        Op::Constant { value } if value.0.rank() == 0 && value.0.dtype().is_float() => {
            value.0.to_vec_f64().first().copied()
        }
        _ => None,
    };
    // The node as a chain step on one input, if it can be one.
    let step_of = |id: NodeId| -> Option<(NodeId, ChainStep)> {
        let node = &graph.nodes[id];
        if !node.dtype.is_float() {
            return None;
        }
        match node.inputs.as_slice() {
            [x] => node.op.chain_step(None).map(|s| (*x, s)),
            [a, b] => {
                let same = |t: NodeId| graph.nodes[t].shape == node.shape;
                let (x, position, c) = match (scalar(*a), scalar(*b)) {
                    (None, Some(c)) if same(*a) => (*a, 1, c),
                    (Some(c), None) if same(*b) => (*b, 0, c),
                    _ => return None,
                };
                node.op.chain_step(Some((position, c))).map(|s| (x, s))
            }
            _ => None,
        }
    };
    let mut chains: Vec<Option<(NodeId, Vec<ChainStep>)>> = vec![None; n];
    let mut exec: Vec<Exec> = (0..n)
        .map(|id| if live[id] { Exec::Op } else { Exec::Skip })
        .collect();
    for id in (0..n).filter(|&id| live[id]) {
        let Some((input, step)) = step_of(id) else {
            continue;
        };
        let absorbed = match chains[input].take() {
            Some(chain) if readers[input] == 1 && !is_output[input] => {
                exec[input] = Exec::Skip;
                Some(chain)
            }
            other => {
                chains[input] = other;
                None
            }
        };
        let (source, mut steps) = absorbed.unwrap_or((input, Vec::new()));
        steps.push(step);
        if steps.len() >= 2 {
            exec[id] = Exec::Chain {
                source,
                steps: steps.clone(),
            };
        }
        chains[id] = Some((source, steps));
    }
    exec
}

fn freed(node: usize, input: usize) -> AutogradError {
    AutogradError::Op(format!(
        "internal: node %{node} reads %{input}, whose buffer was already released"
    ))
}
