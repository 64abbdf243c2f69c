//! The eager tape: every op applied to a [`Var`] runs at once on native kernels and, when a
//! gradient can flow through it, is recorded as a step `(op, parent ids, output id)`.
//! [`Tape::backward`] returns gradients as a map from leaf to tensor.

use crate::error::AutogradError;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use strata_ir::eval::{ExecConfig, Native};
use strata_ir::ops::grad::{reverse_accumulate, Step};
use strata_ir::{Op, OpSink, TensorType};
use strata_tensor::{DType, Tensor};

/// What a leaf is: a graph input or a named parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeafKind {
    Input,
    Parameter(String),
}

#[derive(Default)]
pub(crate) struct Inner {
    pub values: Vec<Tensor>,
    /// Whether a gradient can reach each value from a leaf that requires one.
    pub requires_grad: Vec<bool>,
    /// The leaves, by value id.
    pub leaves: BTreeMap<usize, LeafKind>,
    pub steps: Vec<Step>,
    pub grad_enabled: bool,
    /// Record every op, not only those a gradient flows through (for tracing).
    pub trace_all: bool,
    pub config: ExecConfig,
}

/// An eager autograd tape. Cheap to clone (shared).
#[derive(Clone)]
pub struct Tape(pub(crate) Rc<RefCell<Inner>>);

/// A value on a tape.
#[derive(Clone)]
pub struct Var {
    pub(crate) tape: Tape,
    pub(crate) id: usize,
}

impl std::fmt::Debug for Var {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Var(#{}, {})", self.id, self.ty())
    }
}

impl Default for Tape {
    fn default() -> Self {
        Self::new()
    }
}

impl Tape {
    /// A tape on the default kernels and reduction order.
    pub fn new() -> Tape {
        Tape::with_config(ExecConfig::default())
    }

    pub fn with_config(config: ExecConfig) -> Tape {
        Tape(Rc::new(RefCell::new(Inner {
            grad_enabled: true,
            config,
            ..Inner::default()
        })))
    }

    fn push(&self, value: Tensor, requires_grad: bool) -> usize {
        let mut inner = self.0.borrow_mut();
        inner.values.push(value);
        inner.requires_grad.push(requires_grad);
        inner.values.len() - 1
    }

    fn var(&self, id: usize) -> Var {
        Var {
            tape: self.clone(),
            id,
        }
    }

    /// A leaf input; gradients flow to it when `requires_grad` and it is a float tensor.
    pub fn input(&self, value: Tensor, requires_grad: bool) -> Var {
        let rg = requires_grad && value.dtype().is_float();
        let id = self.push(value, rg);
        self.0.borrow_mut().leaves.insert(id, LeafKind::Input);
        self.var(id)
    }

    /// A named parameter leaf (PyTorch state_dict name); it requires a gradient.
    pub fn parameter(&self, name: impl Into<String>, value: Tensor) -> Var {
        let rg = value.dtype().is_float();
        let id = self.push(value, rg);
        (self.0.borrow_mut().leaves).insert(id, LeafKind::Parameter(name.into()));
        self.var(id)
    }

    /// A constant: no gradient flows to it.
    pub fn constant(&self, value: Tensor) -> Var {
        let id = self.push(value, false);
        self.var(id)
    }

    /// Runs `f` with recording off (PyTorch's `torch.no_grad()`): values computed inside
    /// carry no gradient.
    pub fn no_grad<T>(&self, f: impl FnOnce() -> T) -> T {
        let before = std::mem::replace(&mut self.0.borrow_mut().grad_enabled, false);
        let out = f();
        self.0.borrow_mut().grad_enabled = before;
        out
    }

    /// Applies `op` to `inputs` (vars of this tape).
    pub fn apply(&self, op: Op, inputs: &[&Var]) -> Result<Var, AutogradError> {
        let ids: Vec<usize> = inputs.iter().map(|v| v.id).collect();
        let id = OpSink::apply(&mut self.clone(), op, &ids).map_err(AutogradError::Op)?;
        Ok(self.var(id))
    }

    /// The number of recorded steps.
    pub fn len(&self) -> usize {
        self.0.borrow().steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Gradients of the scalar `output` with respect to every leaf that requires one.
    pub fn backward(&self, output: &Var) -> Result<Gradients, AutogradError> {
        let ty = output.ty();
        if ty.rank() != 0 {
            return Err(AutogradError::NotScalar(ty));
        }
        let ones = Tensor::ones([], ty.dtype).map_err(|e| AutogradError::Op(e.to_string()))?;
        self.backward_with(output, ones)
    }

    /// Gradients of `⟨cotangent, output⟩` (a vector-Jacobian product).
    pub fn backward_with(
        &self,
        output: &Var,
        cotangent: Tensor,
    ) -> Result<Gradients, AutogradError> {
        let (steps, values, config) = {
            let inner = self.0.borrow();
            (inner.steps.clone(), inner.values.clone(), inner.config)
        };
        check_cotangent(output, &cotangent)?;
        let mut native = Native { config };
        let cot = reverse_accumulate(&mut native, &steps, &values, vec![(output.id, cotangent)])
            .map_err(AutogradError::Op)?;
        Ok(self.collect(cot))
    }

    /// Like [`Self::backward_with`], but the gradient computation is itself recorded on this
    /// tape (PyTorch's `create_graph=True`), so the gradients can be differentiated again.
    pub fn backward_recorded(
        &self,
        output: &Var,
        cotangent: &Var,
    ) -> Result<Vec<(Var, Var)>, AutogradError> {
        check_cotangent(output, &cotangent.value())?;
        let (steps, values) = {
            let inner = self.0.borrow();
            (
                inner.steps.clone(),
                (0..inner.values.len()).collect::<Vec<usize>>(),
            )
        };
        let mut sink = self.clone();
        let cot = reverse_accumulate(&mut sink, &steps, &values, vec![(output.id, cotangent.id)])
            .map_err(AutogradError::Op)?;
        let leaves = self.0.borrow().leaves.clone();
        Ok(leaves
            .keys()
            .filter_map(|&leaf| cot[leaf].map(|g| (self.var(leaf), self.var(g))))
            .collect())
    }

    /// The cotangent of every value on the tape for the output cotangent `cotangent`
    /// (`None` where it is zero), for views of the reverse pass.
    pub fn cotangents(
        &self,
        output: &Var,
        cotangent: Tensor,
    ) -> Result<Vec<Option<Tensor>>, AutogradError> {
        check_cotangent(output, &cotangent)?;
        let (steps, values, config) = {
            let inner = self.0.borrow();
            (inner.steps.clone(), inner.values.clone(), inner.config)
        };
        reverse_accumulate(
            &mut Native { config },
            &steps,
            &values,
            vec![(output.id, cotangent)],
        )
        .map_err(AutogradError::Op)
    }

    /// The recorded steps `(op, parent ids, output id)`, in order.
    pub fn steps(&self) -> Vec<Step> {
        self.0.borrow().steps.clone()
    }

    /// The value with this id.
    pub fn value(&self, id: usize) -> Option<Tensor> {
        self.0.borrow().values.get(id).cloned()
    }

    /// The execution settings of this tape's kernels.
    pub fn config(&self) -> ExecConfig {
        self.0.borrow().config
    }

    /// Runs `graph` eagerly on this tape: inputs become input leaves (requiring gradients
    /// when `inputs_require_grad`), parameters named parameter leaves. Returns every node's var.
    pub fn replay(
        &self,
        graph: &strata_ir::Graph,
        params: &strata_ir::ParamStore,
        inputs: &[Tensor],
        inputs_require_grad: bool,
    ) -> Result<Vec<Var>, AutogradError> {
        graph.check_shapes()?;
        graph.check_params(params)?;
        graph.check_inputs(inputs)?;
        let mut fed = inputs.iter();
        let mut vars: Vec<Var> = Vec::with_capacity(graph.nodes.len());
        for node in &graph.nodes {
            let var = match &node.op {
                Op::Input { .. } => match fed.next() {
                    Some(t) => self.input(t.clone(), inputs_require_grad),
                    None => return Err(AutogradError::Usage("too few inputs".into())),
                },
                Op::Parameter { name, .. } => match params.get(name) {
                    Some(t) => self.parameter(name.clone(), t.clone()),
                    None => return Err(AutogradError::Usage(format!("no parameter `{name}`"))),
                },
                op => {
                    let args: Vec<&Var> = node.inputs.iter().map(|&i| &vars[i]).collect();
                    self.apply(op.clone(), &args).map_err(|e| {
                        AutogradError::Op(format!("{} ({}): {e}", node.node_ref(), op.tag()))
                    })?
                }
            };
            vars.push(var);
        }
        Ok(vars)
    }

    fn collect(&self, cot: Vec<Option<Tensor>>) -> Gradients {
        let inner = self.0.borrow();
        let mut by_id = BTreeMap::new();
        let mut by_name = BTreeMap::new();
        for (&leaf, kind) in &inner.leaves {
            if !inner.requires_grad[leaf] {
                continue;
            }
            // A leaf the output does not depend on has a zero gradient (not "none").
            let g = match &cot[leaf] {
                Some(g) => g.clone(),
                None => {
                    let v = &inner.values[leaf];
                    match Tensor::zeros(v.shape().clone(), v.dtype()) {
                        Ok(z) => z,
                        Err(_) => continue,
                    }
                }
            };
            if let LeafKind::Parameter(name) = kind {
                by_name.insert(name.clone(), g.clone());
            }
            by_id.insert(leaf, g);
        }
        Gradients { by_id, by_name }
    }
}

fn check_cotangent(output: &Var, cotangent: &Tensor) -> Result<(), AutogradError> {
    let ty = output.ty();
    if cotangent.shape() != &ty.shape || cotangent.dtype() != ty.dtype {
        return Err(AutogradError::Cotangent {
            output: ty,
            got: TensorType::new(cotangent.shape().clone(), cotangent.dtype()),
        });
    }
    Ok(())
}

/// The tape as a sink: values are ids; an op is recorded only when a gradient can flow.
impl OpSink for Tape {
    type Value = usize;
    fn apply(&mut self, op: Op, inputs: &[usize]) -> Result<usize, String> {
        let (args, config, rg, trace_all) = {
            let inner = self.0.borrow();
            let args: Vec<Tensor> = inputs.iter().map(|&i| inner.values[i].clone()).collect();
            let rg = inner.grad_enabled
                && !matches!(op, Op::Detach)
                && inputs.iter().any(|&i| inner.requires_grad[i]);
            (args, inner.config, rg, inner.trace_all)
        };
        let out = op.forward(&args, &config)?;
        let rg = rg && out.dtype().is_float();
        let id = self.push(out, rg);
        if rg || trace_all {
            self.0.borrow_mut().steps.push((op, inputs.to_vec(), id));
        }
        Ok(id)
    }
    fn ty(&self, value: &usize) -> TensorType {
        let inner = self.0.borrow();
        let v = &inner.values[*value];
        TensorType::new(v.shape().clone(), v.dtype())
    }
}

/// Gradients returned by [`Tape::backward`]: one tensor per leaf that requires a gradient
/// (zeros where the output does not depend on it); parameters also by name.
#[derive(Clone, Debug, Default)]
pub struct Gradients {
    by_id: BTreeMap<usize, Tensor>,
    by_name: BTreeMap<String, Tensor>,
}

impl Gradients {
    /// The gradient of a leaf, if it requires one.
    pub fn get(&self, leaf: &Var) -> Option<&Tensor> {
        self.by_id.get(&leaf.id)
    }
    /// Parameter gradients by name (the optimizers' input).
    pub fn by_name(&self) -> &BTreeMap<String, Tensor> {
        &self.by_name
    }
    pub fn into_by_name(self) -> BTreeMap<String, Tensor> {
        self.by_name
    }
}

impl Var {
    pub fn tape(&self) -> &Tape {
        &self.tape
    }
    pub fn id(&self) -> usize {
        self.id
    }
    /// The value (a cheap shared handle).
    pub fn value(&self) -> Tensor {
        self.tape.0.borrow().values[self.id].clone()
    }
    pub fn ty(&self) -> TensorType {
        OpSink::ty(&self.tape, &self.id)
    }
    pub fn dims(&self) -> Vec<usize> {
        self.ty().shape.into_vec()
    }
    pub fn dtype(&self) -> DType {
        self.ty().dtype
    }
    pub fn requires_grad(&self) -> bool {
        self.tape.0.borrow().requires_grad[self.id]
    }
    /// `op(self, others…)` on this var's tape.
    pub fn apply(&self, op: Op, others: &[&Var]) -> Result<Var, AutogradError> {
        let mut all = vec![self];
        all.extend_from_slice(others);
        self.tape.apply(op, &all)
    }
}
