//! [`OpSink`]: anything that applies IR ops to values — the native evaluator (values are
//! tensors), an autograd tape (values are recorded variables) or a [`GraphBuilder`] (values are
//! node ids). Gradient rules and decompositions are written once against it, so the eager
//! tape, compiled plans and higher-order derivatives run the very same rules.

use crate::graph::{GraphBuilder, NodeId};
use crate::op::{Comparison, Literal, Op};
use crate::ops::TensorType;
use strata_tensor::{DType, Shape, Tensor};

/// Applies ops to values of one kind.
pub trait OpSink {
    type Value: Clone;
    /// `op` applied to `inputs`; the message says what went wrong.
    fn apply(&mut self, op: Op, inputs: &[Self::Value]) -> Result<Self::Value, String>;
    /// The static type of a value.
    fn ty(&self, value: &Self::Value) -> TensorType;
}

impl OpSink for GraphBuilder {
    type Value = NodeId;
    fn apply(&mut self, op: Op, inputs: &[NodeId]) -> Result<NodeId, String> {
        self.push(op, inputs).map_err(|e| e.to_string())
    }
    fn ty(&self, value: &NodeId) -> TensorType {
        // Ids handed out by this builder always exist.
        GraphBuilder::ty(self, *value)
            .unwrap_or_else(|| TensorType::new(Shape::scalar(), DType::F32))
    }
}

/// Short names for building expressions in a sink: what gradient rules and decompositions
/// are written in.
pub struct Emit<'a, S: OpSink>(pub &'a mut S);

type R<V> = Result<V, String>;

impl<S: OpSink> Emit<'_, S> {
    pub fn op(&mut self, op: Op, inputs: &[&S::Value]) -> R<S::Value> {
        let owned: Vec<S::Value> = inputs.iter().map(|&v| v.clone()).collect();
        self.0.apply(op, &owned)
    }
    pub fn ty(&self, v: &S::Value) -> TensorType {
        self.0.ty(v)
    }
    pub fn dims(&self, v: &S::Value) -> Vec<usize> {
        self.0.ty(v).shape.into_vec()
    }
    /// A constant tensor.
    pub fn constant(&mut self, t: Tensor) -> R<S::Value> {
        self.op(Op::Constant { value: Literal(t) }, &[])
    }
    /// A rank-0 constant of `dtype`.
    pub fn scalar(&mut self, value: f64, dtype: DType) -> R<S::Value> {
        self.constant(Tensor::scalar_f64(value, dtype))
    }
    /// A rank-0 constant of `like`'s dtype.
    pub fn scalar_like(&mut self, value: f64, like: &S::Value) -> R<S::Value> {
        let dtype = self.ty(like).dtype;
        self.scalar(value, dtype)
    }
    pub fn zeros_like(&mut self, like: &S::Value) -> R<S::Value> {
        let ty = self.ty(like);
        let z = self.scalar(0.0, ty.dtype)?;
        self.broadcast_to(&z, &ty.shape)
    }
    pub fn add(&mut self, a: &S::Value, b: &S::Value) -> R<S::Value> {
        self.op(Op::Add, &[a, b])
    }
    pub fn sub(&mut self, a: &S::Value, b: &S::Value) -> R<S::Value> {
        self.op(Op::Sub, &[a, b])
    }
    pub fn mul(&mut self, a: &S::Value, b: &S::Value) -> R<S::Value> {
        self.op(Op::Mul, &[a, b])
    }
    pub fn div(&mut self, a: &S::Value, b: &S::Value) -> R<S::Value> {
        self.op(Op::Div, &[a, b])
    }
    pub fn neg(&mut self, a: &S::Value) -> R<S::Value> {
        self.op(Op::Neg, &[a])
    }
    /// `a · c` for a constant `c`.
    pub fn scale(&mut self, a: &S::Value, c: f64) -> R<S::Value> {
        let c = self.scalar_like(c, a)?;
        self.mul(a, &c)
    }
    /// `a + c` for a constant `c`.
    pub fn shift(&mut self, a: &S::Value, c: f64) -> R<S::Value> {
        let c = self.scalar_like(c, a)?;
        self.add(a, &c)
    }
    pub fn unary(&mut self, op: Op, a: &S::Value) -> R<S::Value> {
        self.op(op, &[a])
    }
    pub fn compare(&mut self, cmp: Comparison, a: &S::Value, b: &S::Value) -> R<S::Value> {
        self.op(Op::Compare { cmp }, &[a, b])
    }
    /// `cond ? a : b`.
    pub fn select(&mut self, cond: &S::Value, a: &S::Value, b: &S::Value) -> R<S::Value> {
        self.op(Op::Where, &[cond, a, b])
    }
    pub fn cast(&mut self, a: &S::Value, dtype: DType) -> R<S::Value> {
        self.op(Op::Cast { dtype }, &[a])
    }
    pub fn reshape(&mut self, a: &S::Value, dims: &[usize]) -> R<S::Value> {
        if self.dims(a) == dims {
            return Ok(a.clone());
        }
        let shape = dims.iter().map(|&d| d as i64).collect();
        self.op(Op::Reshape { shape }, &[a])
    }
    pub fn permute(&mut self, a: &S::Value, perm: &[usize]) -> R<S::Value> {
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            return Ok(a.clone());
        }
        self.op(
            Op::Permute {
                perm: perm.to_vec(),
            },
            &[a],
        )
    }
    /// Swaps the last two axes.
    pub fn transpose_last(&mut self, a: &S::Value) -> R<S::Value> {
        self.op(
            Op::Transpose {
                axis0: -2,
                axis1: -1,
            },
            &[a],
        )
    }
    pub fn broadcast_to(&mut self, a: &S::Value, shape: &Shape) -> R<S::Value> {
        if &self.ty(a).shape == shape {
            return Ok(a.clone());
        }
        self.op(
            Op::BroadcastTo {
                shape: shape.clone(),
            },
            &[a],
        )
    }
    pub fn sum(&mut self, a: &S::Value, axes: &[usize], keepdim: bool) -> R<S::Value> {
        if axes.is_empty() {
            return Ok(a.clone());
        }
        let axes = axes.iter().map(|&a| a as isize).collect();
        self.op(Op::ReduceSum { axes, keepdim }, &[a])
    }
    pub fn mean(&mut self, a: &S::Value, axes: &[usize], keepdim: bool) -> R<S::Value> {
        let axes = axes.iter().map(|&a| a as isize).collect();
        self.op(Op::ReduceMean { axes, keepdim }, &[a])
    }
    /// Sums a broadcast value back to `dims` (the adjoint of broadcasting `dims` up).
    pub fn sum_to(&mut self, a: &S::Value, dims: &[usize]) -> R<S::Value> {
        let have = self.dims(a);
        if have == dims {
            return Ok(a.clone());
        }
        let lead = have.len() - dims.len();
        let axes: Vec<usize> = (0..have.len())
            .filter(|&i| i < lead || (dims[i - lead] == 1 && have[i] != 1))
            .collect();
        let summed = self.sum(a, &axes, true)?;
        self.reshape(&summed, dims)
    }
    pub fn matmul(&mut self, a: &S::Value, b: &S::Value) -> R<S::Value> {
        self.op(Op::Matmul, &[a, b])
    }
}

/// Records ops applied to an inner sink, so a decomposition can be replayed backwards (VJP)
/// or forwards with tangents (JVP).
pub struct Recorder<'a, S: OpSink> {
    pub inner: &'a mut S,
    /// `(op, inputs, output)` in application order, values as indices into `values`.
    pub steps: Vec<(Op, Vec<usize>, usize)>,
    pub values: Vec<S::Value>,
}

impl<'a, S: OpSink> Recorder<'a, S> {
    pub fn new(inner: &'a mut S) -> Self {
        Recorder {
            inner,
            steps: Vec::new(),
            values: Vec::new(),
        }
    }
    /// Registers an existing value (an input of the decomposition).
    pub fn leaf(&mut self, v: S::Value) -> usize {
        self.values.push(v);
        self.values.len() - 1
    }
}

impl<S: OpSink> OpSink for Recorder<'_, S> {
    type Value = usize;
    fn apply(&mut self, op: Op, inputs: &[usize]) -> Result<usize, String> {
        let vals: Vec<S::Value> = inputs.iter().map(|&i| self.values[i].clone()).collect();
        let out = self.inner.apply(op.clone(), &vals)?;
        let id = self.leaf(out);
        self.steps.push((op, inputs.to_vec(), id));
        Ok(id)
    }
    fn ty(&self, value: &usize) -> TensorType {
        self.inner.ty(&self.values[*value])
    }
}
