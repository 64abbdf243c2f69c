//! The reference interpreter: a graph run in any [`NumericLayer`], scalar by scalar, every
//! reduction in its declared [`ReduceOrder`].
//!
//! Float values are arrays of the layer's scalars ([`Value::Float`]); i64 and bool values
//! (indices, class labels, masks, comparison results) are exact in every layer and stay
//! tensors ([`Value::Tensor`]). Integer arithmetic (`add` of i64 tensors, …) wraps, as in
//! PyTorch. Inputs, parameters and constants enter each layer exactly where they can
//! ([`NumericLayer::of_f32`], [`NumericLayer::of_f64`]). The layer decides the arithmetic:
//! a declared float dtype (`f32`, `f64`, `f16`, `bf16`) only says how a native backend stores
//! the value, so a float-to-float `cast` is the identity here.
//!
//! Each op's forward rule lives with the op, in `ops/<family>/reference.rs`, written once over
//! the layer primitives. With the `f32` layer and [`ReduceOrder::Sequential`], the results are
//! those of the native `f32` kernels run in the sequential reference order (elementwise
//! formulas as in `strata_tensor::elementwise`), and the `Ieee32` layer in its default
//! environment gives the same bits on every path made of + − × ÷ √, comparisons and data
//! movement.
//!
//! # Declared evaluation order
//!
//! "Σ" below is [`ReduceOrder::fold`] of the listed terms in the interpreter's order (the tree
//! of `strata_tensor::sum_in_order`: sequential `((0 + t₀) + t₁) + …`, or pairwise blocks);
//! every product is rounded before it is summed (no fused multiply-add).
//!
//! | op | order |
//! |---|---|
//! | `reduce_sum`, `reduce_mean` | the reduced axes moved innermost (kept axes in order, then reduced axes in order); Σ over each group in row-major order; mean = Σ / n |
//! | `reduce_max`, `max_pool2d` | left-to-right fold of `maximum` from the first element (PyTorch's NaN-propagating maximum) |
//! | `matmul` | per output `(i, j)`: Σ_q (a[i,q] · b[q,j]), q ascending (`MatmulKernel::Reference`) |
//! | `linear` | per output: Σ_q (x[q] · w[o,q]), q ascending, then `+ bias[o]` |
//! | `einsum` | per output: Σ over the contracted letters (alphabetical, row-major, last letter fastest) of the product of the operands' entries, multiplied left to right; no sum when nothing is contracted |
//! | `conv1d`, `conv2d` | per output: Σ over (input channel of the group, kernel row, kernel column) row-major of x · w, padding taps included as zeros (im2col), then `+ bias`; conv1d is conv2d with height 1 |
//! | `conv_transpose2d` | per output: Σ over (input channel of the group, kernel row, kernel column) row-major of the taps that reach it, x · w, then `+ bias` |
//! | `avg_pool2d` | Σ of the window's input taps row by row (padding skipped), then one division by the divisor (`divisor_override`, the padded window size, or the tap count) |
//! | `adaptive_avg_pool2d` | Σ of the window row by row, divided by its height, then by its width |
//! | `batch_norm` | `((x − mean) / √(var + eps)) · w + b` |
//! | `layer_norm`, `group_norm` | mean = Σx / n; var = Σ((x − mean)·(x − mean)) / n (biased, two-pass); `((x − mean) · (1 / √(var + eps))) · w + b`; group_norm's group is its channels × spatial positions in row-major order |
//! | `rms_norm` | ms = Σ(x·x) / n; `(x · (1 / √(ms + eps))) · w` |
//! | `softmax`, `log_softmax` | m = max (fold); e = exp(x − m); s = Σe along the axis; softmax = e / s; log_softmax = x − (m + ln s) |
//! | `masked_softmax` | as softmax with masked positions contributing e = 0 (+0) to Σ and m over the unmasked ones; an all-masked row gives zeros |
//! | `scaled_dot_product_attention` | scores = (Σ_e q·k) · scale; masked softmax along the keys (causal: key ≤ query); out = Σ_s p · v |
//! | `mse_loss` | d = x − t; d·d; mean = Σ / n |
//! | `cross_entropy` | per element: lse − x[t] with lse = m + ln Σ exp(x − m) over the classes; with probabilities: Σ_c (t_c · (x_c − lse)), negated; then Σ or Σ / n |
//! | `nll_loss` | per element: −x[t]; then Σ or Σ / n |
//! | `bce_with_logits` | `((1 − t) · x + max(−x, 0)) + ln(1 + exp(−|x|))`; then Σ or Σ / n |
//!
//! i64 reductions are exact up to wrapping, so their order does not matter.

use crate::error::IrError;
use crate::graph::{Graph, Node, NodeId};
use crate::layer::{first_off_path, Arith, Exported, NumericLayer};
use crate::op::{Comparison, Op};
use crate::ops;
use crate::params::ParamStore;
use strata_tensor::{broadcast_shapes, ReduceOrder, Shape, Tensor, TensorError};

/// A float value: the layer's scalars in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct Array<S> {
    pub shape: Shape,
    pub data: Vec<S>,
}

/// A value of the interpreter: float values in the layer, i64 and bool values as tensors.
#[derive(Clone, Debug)]
pub enum Value<S> {
    Float(Array<S>),
    Tensor(Tensor),
}

impl<S> Value<S> {
    pub fn shape(&self) -> &Shape {
        match self {
            Value::Float(a) => &a.shape,
            Value::Tensor(t) => t.shape(),
        }
    }
    /// The float array, or an error for an i64/bool value.
    pub fn float(&self) -> Result<&Array<S>, String> {
        match self {
            Value::Float(a) => Ok(a),
            Value::Tensor(t) => Err(format!("expected a float value, got {}", t.dtype())),
        }
    }
    /// The i64/bool tensor, or an error for a float value.
    pub fn tensor(&self) -> Result<&Tensor, String> {
        match self {
            Value::Tensor(t) => Ok(t),
            Value::Float(_) => Err("expected an i64 or bool value, got a float".into()),
        }
    }
}

pub(crate) fn tensor_error(e: TensorError) -> String {
    e.to_string()
}

impl<S> Array<S> {
    pub fn new(shape: impl Into<Shape>, data: Vec<S>) -> Self {
        Array {
            shape: shape.into(),
            data,
        }
    }
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }
    pub fn map<T>(&self, f: impl FnMut(&S) -> T) -> Array<T> {
        Array::new(self.shape.clone(), self.data.iter().map(f).collect())
    }
    pub fn try_map<T>(&self, f: impl FnMut(&S) -> Result<T, String>) -> Result<Array<T>, String> {
        let data = self.data.iter().map(f).collect::<Result<_, _>>()?;
        Ok(Array::new(self.shape.clone(), data))
    }
}

/// The row-major positions `0..n` of `shape`, as an i64 tensor: data-movement ops run on it
/// with strata-tensor's own view and copy ops, and the result says where each element comes
/// from (so no index arithmetic is written twice).
pub(crate) fn iota(shape: &Shape) -> Result<Tensor, String> {
    iota_from(shape, 0)
}

/// The positions `start..start + n` laid out in `shape`.
pub(crate) fn iota_from(shape: &Shape, start: usize) -> Result<Tensor, String> {
    let range = i64::try_from(start)
        .ok()
        .and_then(|s| Some(s..s.checked_add(i64::try_from(shape.numel()).ok()?)?))
        .ok_or("too many elements")?;
    Tensor::from_vec(range.collect::<Vec<i64>>(), shape.clone()).map_err(tensor_error)
}

impl<S: Clone> Array<S> {
    /// The elements at `positions` (a tensor of flat positions into `self`; a negative
    /// position takes `fill`).
    pub(crate) fn take(&self, positions: &Tensor, fill: Option<&S>) -> Result<Array<S>, String> {
        let data = (positions.to_vec::<i64>().map_err(tensor_error)?.into_iter())
            .map(|p| {
                let at = usize::try_from(p).ok().and_then(|p| self.data.get(p));
                at.or(fill)
                    .cloned()
                    .ok_or_else(|| format!("position {p} is outside {} elements", self.data.len()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Array::new(positions.shape().clone(), data))
    }
    /// Applies a data-movement op (given as what it does to a tensor) to the array.
    pub(crate) fn moved(
        &self,
        f: impl FnOnce(&Tensor) -> strata_tensor::Result<Tensor>,
    ) -> Result<Array<S>, String> {
        self.take(&f(&iota(&self.shape)?).map_err(tensor_error)?, None)
    }
    pub(crate) fn broadcast_to(&self, shape: &Shape) -> Result<Array<S>, String> {
        if &self.shape == shape {
            return Ok(self.clone());
        }
        self.moved(|t| t.broadcast_to(shape.clone()))
    }
}

/// `f` on every broadcast pair of `a` and `b` (NumPy rules).
pub(crate) fn zip<A: Clone, B: Clone, C>(
    a: &Array<A>,
    b: &Array<B>,
    mut f: impl FnMut(&A, &B) -> Result<C, String>,
) -> Result<Array<C>, String> {
    let shape = broadcast_shapes("broadcast", &a.shape, &b.shape).map_err(tensor_error)?;
    let (a, b) = (a.broadcast_to(&shape)?, b.broadcast_to(&shape)?);
    let data = (a.data.iter().zip(&b.data))
        .map(|(x, y)| f(x, y))
        .collect::<Result<_, _>>()?;
    Ok(Array::new(shape, data))
}

/// A value moved by a data-movement op: float arrays through their positions, tensors
/// directly.
pub(crate) fn moved<S: Clone>(
    v: &Value<S>,
    f: impl Fn(&Tensor) -> strata_tensor::Result<Tensor>,
) -> Result<Value<S>, String> {
    Ok(match v {
        Value::Float(a) => Value::Float(a.moved(f)?),
        Value::Tensor(t) => Value::Tensor(f(t).map_err(tensor_error)?.contiguous()),
    })
}

/// The elements of an i64 or bool tensor as an array.
pub(crate) fn array_of<T: strata_tensor::Element>(t: &Tensor) -> Result<Array<T>, String> {
    Ok(Array::new(
        t.shape().clone(),
        t.to_vec::<T>().map_err(tensor_error)?,
    ))
}

/// An array of i64 or bool elements as a tensor.
pub(crate) fn tensor_of<T: strata_tensor::Element>(a: Array<T>) -> Result<Tensor, String> {
    Tensor::from_vec(a.data, a.shape).map_err(tensor_error)
}

/// What a forward rule works with: the layer and the declared reduction order.
pub(crate) struct Cx<'a, L> {
    pub layer: &'a L,
    pub order: ReduceOrder,
}

impl<L: Arith> Cx<'_, L> {
    /// Σ `terms` in the declared order.
    pub fn sum(&self, terms: &[L::Scalar]) -> L::Scalar {
        let l = self.layer;
        self.order
            .fold(terms, &|| l.int(0), &|acc, t| l.add(&acc, t))
    }
    /// The maximum of a non-empty slice: a left-to-right fold from the first element.
    pub fn max(&self, terms: &[L::Scalar]) -> Option<L::Scalar> {
        let (first, rest) = terms.split_first()?;
        Some(
            rest.iter()
                .fold(first.clone(), |m, v| self.layer.maximum(&m, v)),
        )
    }
    /// `then_(x)` where `x cmp t`, `else_(x)` where not; both, on `x` restricted to each side,
    /// joined, where the layer cannot decide.
    pub fn branch(
        &self,
        x: &L::Scalar,
        cmp: Comparison,
        t: &L::Scalar,
        then_: impl FnOnce(&L::Scalar) -> Result<L::Scalar, String>,
        else_: impl FnOnce(&L::Scalar) -> Result<L::Scalar, String>,
    ) -> Result<L::Scalar, String> {
        let l = self.layer;
        match l.compare(x, t, cmp) {
            Some(true) => then_(x),
            Some(false) => else_(x),
            None => {
                let yes = then_(&l.restrict(x, cmp, t))?;
                let no = else_(&l.restrict(x, crate::layer::negated(cmp), t))?;
                Ok(l.join(yes, no))
            }
        }
    }
}

/// The layer's answer to a comparison, or an error when it cannot decide.
pub(crate) fn decide<L: Arith>(
    layer: &L,
    a: &L::Scalar,
    b: &L::Scalar,
    cmp: Comparison,
) -> Result<bool, String> {
    layer.compare(a, b, cmp).ok_or_else(|| {
        format!(
            "the {} layer cannot decide {a:?} {cmp:?} {b:?}",
            layer.name()
        )
    })
}

/// The nodes that `outputs` depend on.
fn needed(graph: &Graph) -> Vec<bool> {
    let mut live = vec![false; graph.nodes.len()];
    for &o in &graph.outputs {
        if let Some(l) = live.get_mut(o) {
            *l = true;
        }
    }
    for node in graph.nodes.iter().rev() {
        if live[node.id] {
            for &i in &node.inputs {
                if let Some(l) = live.get_mut(i) {
                    *l = true;
                }
            }
        }
    }
    live
}

fn eval_error(node: &Node, msg: String) -> IrError {
    IrError::Eval {
        node: node.node_ref(),
        op: node.op.tag(),
        msg,
    }
}

/// Every node's value (`None` for the nodes the outputs do not need), after checking the
/// graph, the parameters and the inputs.
fn evaluate<L: NumericLayer>(
    graph: &Graph,
    params: &ParamStore,
    inputs: &[Tensor],
    layer: &L,
    order: ReduceOrder,
) -> Result<Vec<Option<Value<L::Scalar>>>, IrError> {
    graph.check_shapes()?;
    graph.check_params(params)?;
    graph.check_inputs(inputs)?;
    let live = needed(graph);
    // Only the inputs the outputs need are imported into the layer.
    let fed = (graph.inputs().zip(inputs))
        .map(|(node, t)| {
            if !live[node.id] {
                return Ok(None);
            }
            let value = ops::source::reference::import(layer, t);
            value.map(Some).map_err(|msg| eval_error(node, msg))
        })
        .collect::<Result<Vec<_>, _>>()?;
    evaluate_nodes(graph, params, fed, &Cx { layer, order }, &live)
}

/// Every node's value (`None` for the nodes the outputs do not need), with the `input` nodes
/// fed values of the layer itself rather than tensors: for the interval layer, enclosures of an
/// input box (interval bound propagation). Each input must have its node's declared shape.
pub fn interpret_values<L: NumericLayer>(
    graph: &Graph,
    params: &ParamStore,
    inputs: &[Value<L::Scalar>],
    layer: &L,
    order: ReduceOrder,
) -> Result<Vec<Option<Value<L::Scalar>>>, IrError> {
    graph.check_shapes()?;
    graph.check_params(params)?;
    let declared: Vec<&Node> = graph.inputs().collect();
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
    for (node, v) in declared.iter().zip(inputs) {
        if v.shape() != &node.shape {
            return Err(IrError::Binding {
                what: format!("input {}", node.node_ref()),
                msg: format!("declared shape {}, given {}", node.shape, v.shape()),
            });
        }
    }
    let fed = inputs.iter().cloned().map(Some).collect();
    evaluate_nodes(graph, params, fed, &Cx { layer, order }, &needed(graph))
}

/// The node loop of [`evaluate`] and [`interpret_values`]: `fed` holds the layer values of the
/// `input` nodes in order (`None` where not needed); every live node runs its reference rule.
fn evaluate_nodes<L: NumericLayer>(
    graph: &Graph,
    params: &ParamStore,
    fed: Vec<Option<Value<L::Scalar>>>,
    cx: &Cx<L>,
    live: &[bool],
) -> Result<Vec<Option<Value<L::Scalar>>>, IrError> {
    let mut values: Vec<Option<Value<L::Scalar>>> = Vec::with_capacity(graph.nodes.len());
    let mut fed = fed.into_iter();
    for node in &graph.nodes {
        if let Op::Input { .. } = node.op {
            values.push(fed.next().flatten());
            continue;
        }
        let source = match &node.op {
            Op::Parameter { name, .. } => params.get(name),
            Op::Constant { value } => Some(&value.0),
            _ => None,
        };
        if !live[node.id] {
            values.push(None);
            continue;
        }
        let args = (node.inputs.iter())
            .map(|&i| values.get(i).and_then(Option::as_ref))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| eval_error(node, "an input was not evaluated".into()))?;
        let value = forward(cx, node, &args, source).map_err(|msg| eval_error(node, msg))?;
        if value.shape() != &node.shape {
            let msg = format!(
                "the reference rule gave shape {}, the node declares {}",
                value.shape(),
                node.shape
            );
            return Err(eval_error(node, msg));
        }
        values.push(Some(value));
    }
    Ok(values)
}

/// One node's forward rule, by family.
fn forward<L: NumericLayer>(
    cx: &Cx<L>,
    node: &Node,
    args: &[&Value<L::Scalar>],
    source: Option<&Tensor>,
) -> Result<Value<L::Scalar>, String> {
    forward_op(cx, &node.op, args, source, node.dtype)
}

/// One op's reference forward rule, by family: `source` is the tensor bound to a source op,
/// `dtype` the declared dtype of the result.
pub(crate) fn forward_op<L: NumericLayer>(
    cx: &Cx<L>,
    op: &Op,
    args: &[&Value<L::Scalar>],
    source: Option<&Tensor>,
    dtype: strata_tensor::DType,
) -> Result<Value<L::Scalar>, String> {
    use ops::*;
    match op {
        Op::Input { .. } | Op::Parameter { .. } | Op::Constant { .. } => {
            let t = source.ok_or("no tensor is bound to this source")?;
            source::reference::import(cx.layer, t)
        }
        Op::Matmul | Op::Linear { .. } | Op::Einsum { .. } => {
            linalg::reference::forward(cx, op, args)
        }
        Op::Conv1d { .. }
        | Op::Conv2d { .. }
        | Op::ConvTranspose2d { .. }
        | Op::MaxPool2d { .. }
        | Op::AvgPool2d { .. }
        | Op::AdaptiveAvgPool2d { .. } => conv::reference::forward(cx, op, args),
        Op::BatchNorm { .. } | Op::LayerNorm { .. } | Op::RmsNorm { .. } | Op::GroupNorm { .. } => {
            norm::reference::forward(cx, op, args, dtype)
        }
        Op::Softmax { .. }
        | Op::LogSoftmax { .. }
        | Op::MaskedSoftmax { .. }
        | Op::ScaledDotProductAttention { .. } => attention::reference::forward(cx, op, args),
        Op::Embedding | Op::Gather { .. } | Op::Trilu { .. } | Op::ArgMax { .. } => {
            index::reference::forward(cx, op, args)
        }
        Op::Reshape { .. }
        | Op::Flatten { .. }
        | Op::Permute { .. }
        | Op::Transpose { .. }
        | Op::BroadcastTo { .. }
        | Op::Concat { .. }
        | Op::Tile { .. }
        | Op::Split { .. }
        | Op::Slice { .. }
        | Op::Pad { .. } => shape::reference::forward(cx, op, args),
        Op::ReduceSum { .. } | Op::ReduceMean { .. } | Op::ReduceMax { .. } => {
            reduce::reference::forward(cx, op, args)
        }
        Op::MseLoss { .. }
        | Op::CrossEntropy { .. }
        | Op::NllLoss { .. }
        | Op::BceWithLogits { .. } => loss::reference::forward(cx, op, args),
        Op::Dropout { .. } | Op::RandUniform { .. } | Op::BernoulliMask { .. } => {
            random::reference::forward(cx, op, args)
        }
        Op::Vjp { .. } | Op::Jvp { .. } => Err(format!(
            "the derivative kernel {} has no reference rule: interpret the forward graph",
            op.tag()
        )),
        _ => elementwise::reference::forward(cx, op, args),
    }
}

/// Runs `graph` in `layer` on `inputs` (fed to the `input` nodes in order) and `params`, every
/// reduction in `order`; returns the values of `graph.outputs`. Only the nodes the outputs
/// depend on are evaluated. Bad bindings are [`IrError::Binding`]; an op that fails at run time
/// (an index out of range, an undecidable comparison, a primitive the layer lacks) is
/// [`IrError::Eval`], naming the node.
pub fn interpret<L: NumericLayer>(
    graph: &Graph,
    params: &ParamStore,
    inputs: &[Tensor],
    layer: &L,
    order: ReduceOrder,
) -> Result<Vec<Value<L::Scalar>>, IrError> {
    let values = evaluate(graph, params, inputs, layer, order)?;
    (graph.outputs.iter())
        .map(|&o| {
            values
                .get(o)
                .cloned()
                .flatten()
                .ok_or(IrError::BadOutput { id: o })
        })
        .collect()
}

/// [`interpret`], with the outputs as tensors ([`NumericLayer::export`]): f32 tensors from the
/// `f32`, `Ieee32` and `Fp32` layers, f64 tensors from the `f64` layer, `(lo, hi)` f64 tensors
/// from the interval layer, and i64/bool outputs as they are. An output with an element off
/// the layer's path (`Fp32` off the finite path, an interval without a real value) is an
/// [`IrError::Eval`] naming the first node, in evaluation order, whose value left the path
/// while its inputs had not.
pub fn run<L: NumericLayer>(
    graph: &Graph,
    params: &ParamStore,
    inputs: &[Tensor],
    layer: &L,
    order: ReduceOrder,
) -> Result<Vec<Exported>, IrError> {
    let values = evaluate(graph, params, inputs, layer, order)?;
    let off = |id: NodeId| match values.get(id).and_then(Option::as_ref) {
        Some(Value::Float(a)) => first_off_path(layer, &a.data),
        _ => None,
    };
    (graph.outputs.iter())
        .map(|&o| {
            let node = graph.nodes.get(o).ok_or(IrError::BadOutput { id: o })?;
            match values.get(o).and_then(Option::as_ref) {
                Some(Value::Tensor(t)) => Ok(Exported::Point(t.clone())),
                Some(Value::Float(a)) => {
                    layer.export(&a.data, &a.shape, node.dtype).map_err(|_| {
                        let origin = origin_off_path(graph, o, &off);
                        let at = &graph.nodes[origin];
                        let element = off(origin).unwrap_or(0);
                        eval_error(
                            at,
                            format!(
                                "element {element} left the {} layer's path here (graph output {})",
                                layer.name(),
                                node.node_ref()
                            ),
                        )
                    })
                }
                None => Err(IrError::BadOutput { id: o }),
            }
        })
        .collect()
}

/// The first ancestor of `output` (itself included), in id order, that is off the path while
/// none of its inputs is.
fn origin_off_path(
    graph: &Graph,
    output: NodeId,
    off: &impl Fn(NodeId) -> Option<usize>,
) -> NodeId {
    let mut ancestor = vec![false; output + 1];
    ancestor[output] = true;
    for id in (0..=output).rev() {
        if ancestor[id] {
            for &i in &graph.nodes[id].inputs {
                ancestor[i] = true;
            }
        }
    }
    (0..=output)
        .find(|&id| {
            ancestor[id]
                && off(id).is_some()
                && graph.nodes[id].inputs.iter().all(|&i| off(i).is_none())
        })
        .unwrap_or(output)
}

/// Exactly `N` inputs (the graph checks arities before any rule runs).
pub(crate) fn fixed<'a, S, const N: usize>(
    args: &[&'a Value<S>],
) -> Result<[&'a Value<S>; N], String> {
    args.try_into()
        .map_err(|_| format!("expected {N} inputs, got {}", args.len()))
}

/// `a` with the axes flagged in `reduced` moved innermost (kept axes in order, then reduced
/// axes in order): each contiguous run of the returned length is one group.
pub(crate) fn grouped<S: Clone>(
    a: &Array<S>,
    reduced: &[bool],
) -> Result<(Array<S>, usize), String> {
    let kept = (0..a.dims().len()).filter(|&i| !reduced.get(i).copied().unwrap_or(false));
    let red = (0..a.dims().len()).filter(|&i| reduced.get(i).copied().unwrap_or(false));
    let perm: Vec<usize> = kept.chain(red.clone()).collect();
    let len = red.map(|i| a.dims()[i]).product();
    Ok((a.moved(|t| t.permute(&perm))?, len))
}

/// `f` on every 1-D run of `a` along `axis` (moved last and back), each run giving a run of
/// the same length.
pub(crate) fn along_axis<S: Clone>(
    a: &Array<S>,
    axis: isize,
    mut f: impl FnMut(&[S]) -> Result<Vec<S>, String>,
) -> Result<Array<S>, String> {
    let rank = a.dims().len();
    let d = strata_tensor::resolve_axis("along_axis", axis, rank).map_err(tensor_error)?;
    let mut perm: Vec<usize> = (0..rank).collect();
    perm.swap(d, rank - 1);
    let rows = a.moved(|t| t.permute(&perm))?;
    let len = a.dims()[d];
    let mut out = Vec::with_capacity(rows.data.len());
    if len > 0 {
        for row in rows.data.chunks(len) {
            out.extend(f(row)?);
        }
    }
    // Swapping two axes is its own inverse.
    Array::new(rows.shape.clone(), out).moved(|t| t.permute(&perm))
}
