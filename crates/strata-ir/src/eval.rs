//! Native execution: every op on `strata-tensor`'s kernels (f32/f64, threads, SIMD), with
//! the declared reduction order and matmul kernel of an [`ExecConfig`].
//!
//! Composite ops (linear, einsum, the norms, attention, the losses, …) run as their
//! decomposition into other ops ([`Op::decompose`]), so their forward values and their
//! gradients come from one definition.

use crate::error::IrError;
use crate::graph::Graph;
use crate::op::{GeluApproximation, Op};
use crate::ops::{self, TensorType};
use crate::params::ParamStore;
use crate::sink::{Emit, OpSink};
use strata_tensor::{ChainStep, DType, MatmulKernel, ReduceOp, ReduceOrder, ScalarOp, Tensor};

/// How native kernels order their reductions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecConfig {
    /// Sums, means and norms.
    pub reduce: ReduceOrder,
    /// Matrix products (and everything built on them).
    pub matmul: MatmulKernel,
}

impl Default for ExecConfig {
    /// The default reduction order and the fast matmul kernel.
    fn default() -> Self {
        ExecConfig {
            reduce: ReduceOrder::default(),
            matmul: MatmulKernel::Fast,
        }
    }
}

impl ExecConfig {
    /// Sequential sums and the reference matmul in sequential order: the order the reference
    /// interpreters follow.
    pub fn sequential() -> Self {
        ExecConfig {
            reduce: ReduceOrder::Sequential,
            matmul: MatmulKernel::Reference(ReduceOrder::Sequential),
        }
    }
}

/// The native evaluator as an [`OpSink`]: values are tensors.
#[derive(Clone, Copy, Debug, Default)]
pub struct Native {
    pub config: ExecConfig,
}

impl OpSink for Native {
    type Value = Tensor;
    fn apply(&mut self, op: Op, inputs: &[Tensor]) -> Result<Tensor, String> {
        op.forward(inputs, &self.config)
    }
    fn ty(&self, value: &Tensor) -> TensorType {
        TensorType::new(value.shape().clone(), value.dtype())
    }
}

pub(crate) trait Str<T> {
    fn s(self) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> Str<T> for Result<T, E> {
    fn s(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

impl Op {
    /// This op on native tensors. The inputs must have the types the shape rule accepts
    /// (the graph checked them); the result has the inferred type.
    pub fn forward(&self, x: &[Tensor], cfg: &ExecConfig) -> Result<Tensor, String> {
        let types: Vec<TensorType> = x
            .iter()
            .map(|t| TensorType::new(t.shape().clone(), t.dtype()))
            .collect();
        let expected = self.infer(&types)?;
        let out = match self.decompose(&mut Emit(&mut Native { config: *cfg }), x) {
            Some(result) => result?,
            None => self.kernel(x, cfg)?,
        };
        if out.shape() != &expected.shape || out.dtype() != expected.dtype {
            return Err(format!(
                "internal: {} produced {}{} where the shape rule says {expected}",
                self.tag(),
                out.dtype(),
                out.shape()
            ));
        }
        Ok(out)
    }

    /// The native kernel of a primitive op (composite ops decompose first).
    fn kernel(&self, x: &[Tensor], cfg: &ExecConfig) -> Result<Tensor, String> {
        let order = cfg.reduce;
        match self {
            Op::Input { .. } | Op::Parameter { .. } => {
                Err("inputs and parameters are bound by the graph, not computed".into())
            }
            Op::Constant { value } => Ok(value.0.clone()),
            Op::Neg => x[0].neg().s(),
            Op::Abs => x[0].abs().s(),
            Op::Sqrt => x[0].sqrt().s(),
            Op::Reciprocal => x[0].reciprocal().s(),
            Op::Square => x[0].square().s(),
            Op::Exp => x[0].exp().s(),
            Op::Log => x[0].log().s(),
            Op::Sin => x[0].sin().s(),
            Op::Cos => x[0].cos().s(),
            Op::Tanh => x[0].tanh().s(),
            Op::Sigmoid => x[0].sigmoid().s(),
            Op::Relu => x[0].relu().s(),
            Op::LeakyRelu { negative_slope } => x[0].leaky_relu(*negative_slope).s(),
            Op::Gelu { approximate } => match approximate {
                GeluApproximation::Erf => x[0].gelu().s(),
                GeluApproximation::Tanh => x[0].gelu_tanh().s(),
            },
            Op::Silu => x[0].silu().s(),
            Op::Softplus { beta, threshold } => {
                ops::elementwise::native::softplus(&x[0], *beta, *threshold)
            }
            Op::Detach => Ok(x[0].clone()),
            Op::Erf => x[0].erf().s(),
            Op::Sign => x[0].sign().s(),
            Op::Floor => x[0].floor().s(),
            Op::Add => x[0].add(&x[1]).s(),
            Op::Sub => x[0].sub(&x[1]).s(),
            Op::Mul => x[0].mul(&x[1]).s(),
            Op::Div => x[0].div(&x[1]).s(),
            Op::Pow => x[0].pow(&x[1]).s(),
            Op::Minimum => x[0].minimum(&x[1]).s(),
            Op::Maximum => x[0].maximum(&x[1]).s(),
            Op::Where => Tensor::where_cond(&x[0], &x[1], &x[2]).s(),
            Op::Compare { cmp } => x[0].compare(&x[1], cmp.cmp_op()).s(),
            Op::LogicalNot => x[0].logical_not().s(),
            Op::LogicalAnd => x[0].logical_and(&x[1]).s(),
            Op::LogicalOr => x[0].logical_or(&x[1]).s(),
            Op::Cast { dtype } => ops::elementwise::native::cast(&x[0], *dtype),
            Op::Matmul => x[0].matmul_with(&x[1], cfg.matmul).s(),
            Op::Conv1d { .. }
            | Op::Conv2d { .. }
            | Op::ConvTranspose2d { .. }
            | Op::MaxPool2d { .. }
            | Op::AvgPool2d { .. }
            | Op::AdaptiveAvgPool2d { .. } => ops::conv::native::forward(self, x),
            Op::LayerNorm {
                normalized_shape,
                eps,
                ..
            } => x[0]
                .layer_norm(normalized_shape, x.get(1), x.get(2), *eps)
                .s(),
            Op::Softmax { axis } => x[0].softmax(*axis).s(),
            Op::LogSoftmax { axis } => x[0].log_softmax(*axis).s(),
            Op::Embedding => x[1].embedding(&x[0]).s(),
            Op::Gather { axis } => x[0].gather(*axis, &x[1]).s(),
            Op::ArgMax { axis, keepdim } => {
                if x[0].rank() == 0 {
                    return Tensor::zeros([], DType::I64).s();
                }
                x[0].argmax(*axis, *keepdim).s()
            }
            Op::Reshape { .. } | Op::Flatten { .. } => {
                let dims = self.infer(&[Native::default().ty(&x[0])])?.shape;
                Ok(x[0].reshape(dims).s()?.contiguous())
            }
            Op::Permute { perm } => Ok(x[0].permute(perm).s()?.contiguous()),
            Op::Transpose { axis0, axis1 } => {
                if x[0].rank() == 0 {
                    return Ok(x[0].clone());
                }
                Ok(x[0].transpose(*axis0, *axis1).s()?.contiguous())
            }
            Op::BroadcastTo { shape } => Ok(x[0].broadcast_to(shape.clone()).s()?.contiguous()),
            Op::Concat { axis } => {
                let refs: Vec<&Tensor> = x.iter().collect();
                Tensor::cat(&refs, *axis).s()
            }
            Op::Split { axis, sizes, index } => {
                let start: usize = sizes[..*index].iter().sum();
                Ok(x[0].narrow(*axis, start, sizes[*index]).s()?.contiguous())
            }
            Op::Slice {
                axis,
                start,
                end,
                step,
            } => {
                let (from, to) = ops::shape::slice_bounds(x[0].dims(), *axis, *start, *end)?;
                Ok(x[0]
                    .slice(*axis, from, to.max(from), *step)
                    .s()?
                    .contiguous())
            }
            Op::Pad { pads, value } => {
                let pairs: Vec<(usize, usize)> = pads.iter().map(|p| (p[0], p[1])).collect();
                x[0].pad(&pairs, *value).s()
            }
            Op::ReduceSum { axes, keepdim } => reduce(&x[0], ReduceOp::Sum, axes, *keepdim, order),
            Op::ReduceMean { axes, keepdim } => {
                reduce(&x[0], ReduceOp::Mean, axes, *keepdim, order)
            }
            Op::ReduceMax { axes, keepdim } => reduce(&x[0], ReduceOp::Max, axes, *keepdim, order),
            Op::Dropout { p, seed } => ops::random::native::dropout(&x[0], *p, *seed),
            Op::RandUniform {
                shape,
                dtype,
                low,
                high,
                seed,
            } => ops::random::native::rand_uniform(shape, *dtype, *low, *high, *seed),
            Op::BernoulliMask { shape, seed } => {
                ops::random::native::bernoulli_mask(shape, &x[0], *seed)
            }
            Op::Vjp { of, input } => ops::grad::native_vjp(of, *input, x),
            Op::Jvp { of } => ops::grad::native_jvp(of, x),
            // Composite ops never reach here: `forward` decomposes them first.
            Op::Linear { .. }
            | Op::Einsum { .. }
            | Op::Trilu { .. }
            | Op::Tile { .. }
            | Op::BatchNorm { .. }
            | Op::RmsNorm { .. }
            | Op::GroupNorm { .. }
            | Op::MaskedSoftmax { .. }
            | Op::ScaledDotProductAttention { .. }
            | Op::MseLoss { .. }
            | Op::CrossEntropy { .. }
            | Op::NllLoss { .. }
            | Op::BceWithLogits { .. } => Err(format!("{} has no kernel of its own", self.tag())),
        }
    }
}

impl Op {
    /// This op as one step of a fused elementwise chain ([`Tensor::unary_chain`]), the same
    /// bits as its kernel: a unary float op, or a binary arithmetic op whose other operand
    /// is the rank-0 constant `scalar = (position, value)`.
    pub fn chain_step(&self, scalar: Option<(usize, f64)>) -> Option<ChainStep> {
        let step = match (self, scalar) {
            (Op::Neg, None) => ChainStep::Neg,
            (Op::Abs, None) => ChainStep::Abs,
            (Op::Sqrt, None) => ChainStep::Sqrt,
            (Op::Reciprocal, None) => ChainStep::Reciprocal,
            (Op::Square, None) => ChainStep::Square,
            (Op::Exp, None) => ChainStep::Exp,
            (Op::Log, None) => ChainStep::Log,
            (Op::Sin, None) => ChainStep::Sin,
            (Op::Cos, None) => ChainStep::Cos,
            (Op::Tanh, None) => ChainStep::Tanh,
            (Op::Sigmoid, None) => ChainStep::Sigmoid,
            (Op::Relu, None) => ChainStep::Relu,
            (Op::Erf, None) => ChainStep::Erf,
            (Op::Floor, None) => ChainStep::Floor,
            (Op::Sign, None) => ChainStep::Sign,
            (Op::Silu, None) => ChainStep::Silu,
            (Op::LeakyRelu { negative_slope }, None) => ChainStep::LeakyRelu(*negative_slope),
            (Op::Gelu { approximate }, None) => match approximate {
                GeluApproximation::Erf => ChainStep::Gelu,
                GeluApproximation::Tanh => ChainStep::GeluTanh,
            },
            (
                Op::Softplus {
                    beta: 1.0,
                    threshold: 20.0,
                },
                None,
            ) => ChainStep::Softplus,
            (Op::Add | Op::Sub | Op::Mul | Op::Div, Some((position, value))) => ChainStep::Scalar {
                op: match self {
                    Op::Add => ScalarOp::Add,
                    Op::Sub => ScalarOp::Sub,
                    Op::Mul => ScalarOp::Mul,
                    _ => ScalarOp::Div,
                },
                value,
                scalar_first: position == 0,
            },
            _ => return None,
        };
        Some(step)
    }
}

/// A reduction over exactly `axes` (none: the identity).
fn reduce(
    x: &Tensor,
    op: ReduceOp,
    axes: &[isize],
    keepdim: bool,
    order: ReduceOrder,
) -> Result<Tensor, String> {
    if axes.is_empty() {
        return Ok(x.clone());
    }
    x.reduce(op, axes, keepdim, order).s()
}

/// Runs `graph` natively: `inputs` feed its `input` nodes in order, `params` its parameters.
/// Returns the graph's outputs.
pub fn run(
    graph: &Graph,
    params: &ParamStore,
    inputs: &[Tensor],
    config: &ExecConfig,
) -> Result<Vec<Tensor>, IrError> {
    let values = run_all(graph, params, inputs, config)?;
    Ok(graph.outputs.iter().map(|&o| values[o].clone()).collect())
}

/// [`run`], returning the value of every node.
pub fn run_all(
    graph: &Graph,
    params: &ParamStore,
    inputs: &[Tensor],
    config: &ExecConfig,
) -> Result<Vec<Tensor>, IrError> {
    graph.check_shapes()?;
    graph.check_params(params)?;
    graph.check_inputs(inputs)?;
    let mut fed = inputs.iter();
    let mut values: Vec<Tensor> = Vec::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let value = match &node.op {
            Op::Input { .. } => fed.next().cloned(),
            Op::Parameter { name, .. } => params.get(name).cloned(),
            _ => None,
        };
        let value = match value {
            Some(v) => v,
            None => {
                let args: Vec<Tensor> = node.inputs.iter().map(|&i| values[i].clone()).collect();
                node.op
                    .forward(&args, config)
                    .map_err(|msg| IrError::Eval {
                        node: node.node_ref(),
                        op: node.op.tag(),
                        msg,
                    })?
            }
        };
        values.push(value);
    }
    Ok(values)
}
