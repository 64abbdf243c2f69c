//! Reductions along axes with a declared evaluation order.
//!
//! Each output element is reduced by one thread, in the order that [`ReduceOrder`] names;
//! threads only split *independent* outputs (or, for a pairwise tree, independent subtrees), so
//! results are bit-identical whatever the thread count.

use crate::error::{Result, TensorError};
use crate::{DType, Float, Storage, Tensor};
use rayon::prelude::*;

/// The order in which a floating-point sum is evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOrder {
    /// `((x0 + x1) + x2) + …`, left to right.
    Sequential,
    /// Blocks of `block` elements summed left to right; a range of more than one block is split
    /// after `ceil(blocks / 2)` blocks and the two halves' sums are added (a balanced tree).
    Pairwise { block: usize },
}

impl Default for ReduceOrder {
    /// Pairwise with 32-element blocks: error growth O(log n) instead of O(n).
    fn default() -> Self {
        ReduceOrder::Pairwise { block: 32 }
    }
}

/// Below this many elements a pairwise tree is summed on the calling thread.
const PARALLEL_SUM_THRESHOLD: usize = 1 << 16;

/// Sums `x` in the declared order.
pub fn sum_in_order<T: Float>(x: &[T], order: ReduceOrder) -> T {
    match order {
        ReduceOrder::Sequential => x.iter().fold(T::zero(), |acc, &v| acc + v),
        ReduceOrder::Pairwise { block } => {
            let block = block.max(1);
            if x.len() <= block {
                return x.iter().fold(T::zero(), |acc, &v| acc + v);
            }
            let blocks = x.len().div_ceil(block);
            let (l, r) = x.split_at(blocks.div_ceil(2) * block);
            if x.len() >= PARALLEL_SUM_THRESHOLD {
                let (a, b) = rayon::join(|| sum_in_order(l, order), || sum_in_order(r, order));
                a + b
            } else {
                sum_in_order(l, order) + sum_in_order(r, order)
            }
        }
    }
}

/// NaN-propagating maximum of a non-empty slice.
fn max_of<T: Float>(x: &[T]) -> T {
    x.iter().fold(T::NEG_INFINITY, |m, &v| m.max_nan(v))
}

fn min_of<T: Float>(x: &[T]) -> T {
    x.iter().fold(T::INFINITY, |m, &v| m.min_nan(v))
}

/// What a reduction computes over each reduced group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ReduceOp {
    Sum,
    Mean,
    Max,
    Min,
    /// Variance with Bessel-style `correction` (1 = unbiased, PyTorch's default).
    Var {
        correction: usize,
    },
    /// `log Σ exp(x)`, computed stably as `m + log Σ exp(x − m)` with `m = max x`.
    LogSumExp,
}

impl ReduceOp {
    fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Mean => "mean",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
            ReduceOp::Var { .. } => "var",
            ReduceOp::LogSumExp => "logsumexp",
        }
    }

    /// Reduces one contiguous group.
    pub fn apply<T: Float>(self, x: &[T], order: ReduceOrder) -> T {
        let n = T::from_f64(x.len() as f64);
        match self {
            ReduceOp::Sum => sum_in_order(x, order),
            ReduceOp::Mean => sum_in_order(x, order) / n,
            ReduceOp::Max => max_of(x),
            ReduceOp::Min => min_of(x),
            ReduceOp::Var { correction } => {
                let mean = sum_in_order(x, order) / n;
                let dev: Vec<T> = x.iter().map(|&v| (v - mean) * (v - mean)).collect();
                let dof = x.len() as f64 - correction as f64;
                sum_in_order(&dev, order) / T::from_f64(dof.max(0.0))
            }
            ReduceOp::LogSumExp => {
                let m = max_of(x);
                if !(m > T::NEG_INFINITY && m < T::INFINITY) {
                    // All −∞ (empty sum), +∞ or NaN: the stable form would produce NaN.
                    return if x.is_empty() {
                        T::NEG_INFINITY
                    } else {
                        m + T::zero()
                    };
                }
                let e: Vec<T> = x.iter().map(|&v| (v - m).exp()).collect();
                m + sum_in_order(&e, order).ln()
            }
        }
    }
}

/// The reduced layout: the tensor permuted so that reduced axes are innermost, plus the
/// output shape.
struct Grouping {
    permuted: Tensor,
    groups: usize,
    group_len: usize,
    out_dims: Vec<usize>,
}

fn group(t: &Tensor, op: &'static str, dims: &[isize], keepdim: bool) -> Result<Grouping> {
    let mut reduced = vec![false; t.rank()];
    for &d in dims {
        let a = t.shape().axis(op, d)?;
        if std::mem::replace(&mut reduced[a], true) {
            return Err(TensorError::InvalidArgument {
                op,
                msg: format!("axis {a} appears twice in {dims:?}"),
            });
        }
    }
    let kept: Vec<usize> = (0..t.rank()).filter(|&i| !reduced[i]).collect();
    let red: Vec<usize> = (0..t.rank()).filter(|&i| reduced[i]).collect();
    let perm: Vec<usize> = kept.iter().chain(&red).copied().collect();
    let group_len = red.iter().map(|&i| t.dims()[i]).product();
    let groups = kept.iter().map(|&i| t.dims()[i]).product();
    let out_dims = if keepdim {
        (0..t.rank())
            .map(|i| if reduced[i] { 1 } else { t.dims()[i] })
            .collect()
    } else {
        kept.iter().map(|&i| t.dims()[i]).collect()
    };
    Ok(Grouping {
        permuted: t.permute(&perm)?,
        groups,
        group_len,
        out_dims,
    })
}

/// Applies `f` to each contiguous group of `group_len` elements, in parallel over groups.
fn per_group<T: Float, U: Send + Copy + Default>(
    g: &Grouping,
    f: impl Fn(&[T]) -> U + Sync,
) -> Result<Vec<U>> {
    let data = g.permuted.data::<T>()?;
    let mut out = vec![U::default(); g.groups];
    if g.group_len == 0 {
        out.iter_mut().for_each(|o| *o = f(&[]));
    } else if g.groups * g.group_len >= PARALLEL_SUM_THRESHOLD && g.groups > 1 {
        out.par_iter_mut()
            .zip(data.par_chunks(g.group_len))
            .for_each(|(o, x)| *o = f(x));
    } else {
        out.iter_mut()
            .zip(data.chunks(g.group_len))
            .for_each(|(o, x)| *o = f(x));
    }
    Ok(out)
}

impl Tensor {
    /// Reduces over `dims` (all axes when empty) in the given order.
    pub fn reduce(
        &self,
        op: ReduceOp,
        dims: &[isize],
        keepdim: bool,
        order: ReduceOrder,
    ) -> Result<Tensor> {
        let all: Vec<isize>;
        let dims = if dims.is_empty() {
            all = (0..self.rank() as isize).collect();
            &all
        } else {
            dims
        };
        let g = group(self, op.name(), dims, keepdim)?;
        if matches!(op, ReduceOp::Max | ReduceOp::Min) && g.group_len == 0 && g.groups > 0 {
            return Err(TensorError::InvalidShape {
                op: op.name(),
                shape: self.shape().clone(),
                msg: "cannot take max/min over an empty axis".into(),
            });
        }
        let storage = match self.storage() {
            Storage::F32(_) => Storage::F32(per_group(&g, |x: &[f32]| op.apply(x, order))?),
            Storage::F64(_) => Storage::F64(per_group(&g, |x: &[f64]| op.apply(x, order))?),
            _ => {
                return Err(TensorError::UnsupportedDType {
                    op: op.name(),
                    got: self.dtype(),
                    expected: "f32 or f64",
                })
            }
        };
        Ok(Tensor::from_storage(storage, g.out_dims.into()))
    }

    pub fn sum(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Sum, dims, keepdim, ReduceOrder::default())
    }
    pub fn mean(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Mean, dims, keepdim, ReduceOrder::default())
    }
    pub fn max(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Max, dims, keepdim, ReduceOrder::default())
    }
    pub fn min(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::Min, dims, keepdim, ReduceOrder::default())
    }
    /// Unbiased variance (correction 1), as PyTorch's default.
    pub fn var(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(
            ReduceOp::Var { correction: 1 },
            dims,
            keepdim,
            ReduceOrder::default(),
        )
    }
    pub fn logsumexp(&self, dims: &[isize], keepdim: bool) -> Result<Tensor> {
        self.reduce(ReduceOp::LogSumExp, dims, keepdim, ReduceOrder::default())
    }

    /// Index of the first maximum along `dim` (a NaN counts as the maximum, as in PyTorch), as i64.
    pub fn argmax(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme("argmax", dim, keepdim, |a, b| a > b)
    }
    /// Index of the first minimum along `dim` (a NaN counts as the minimum), as i64.
    pub fn argmin(&self, dim: isize, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme("argmin", dim, keepdim, |a, b| a < b)
    }

    fn arg_extreme(
        &self,
        op: &'static str,
        dim: isize,
        keepdim: bool,
        better: fn(f64, f64) -> bool,
    ) -> Result<Tensor> {
        let g = group(self, op, &[dim], keepdim)?;
        if g.group_len == 0 {
            return Err(TensorError::InvalidShape {
                op,
                shape: self.shape().clone(),
                msg: "cannot take an index over an empty axis".into(),
            });
        }
        fn pick<T: Float>(x: &[T], better: fn(f64, f64) -> bool) -> i64 {
            let mut best = 0;
            for (i, v) in x.iter().enumerate().skip(1) {
                let (v, b) = (v.to_f64(), x[best].to_f64());
                if b.is_nan() {
                    break;
                }
                if v.is_nan() || better(v, b) {
                    best = i;
                }
            }
            best as i64
        }
        let idx = match self.dtype() {
            DType::F32 => per_group(&g, |x: &[f32]| pick(x, better))?,
            DType::F64 => per_group(&g, |x: &[f64]| pick(x, better))?,
            d => {
                return Err(TensorError::UnsupportedDType {
                    op,
                    got: d,
                    expected: "f32 or f64",
                })
            }
        };
        Tensor::from_vec(idx, g.out_dims)
    }
}
