//! Reductions along axes with a declared evaluation order.
//!
//! Each output element is reduced by one thread, in the order that [`ReduceOrder`] names;
//! threads only split *independent* work (outputs, or the leaves of a pairwise tree), so
//! results are bit-identical whatever the thread count.

use crate::error::{Result, TensorError};
use crate::tensor::with_float;
use crate::{Element, Float, Tensor};
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

impl ReduceOrder {
    /// Folds `x` with `add` in this order, from `zero`: the same evaluation tree as
    /// [`sum_in_order`] (sequential: `((zero + x0) + x1) + …`; pairwise: each block folded from
    /// `zero`, a range of more than one block split after `ceil(blocks / 2)` blocks), for any
    /// accumulator — a soft-float, an exact rational, an interval.
    pub fn fold<T>(self, x: &[T], zero: &impl Fn() -> T, add: &impl Fn(T, &T) -> T) -> T {
        let sequential = |part: &[T]| part.iter().fold(zero(), add);
        match self {
            ReduceOrder::Pairwise { block } if x.len() > block.max(1) => {
                let block = block.max(1);
                let mid = x.len().div_ceil(block).div_ceil(2) * block;
                let left = self.fold(&x[..mid], zero, add);
                add(left, &self.fold(&x[mid..], zero, add))
            }
            _ => sequential(x),
        }
    }
}

/// Below this many elements a pairwise tree is summed on the calling thread.
const PARALLEL_SUM_THRESHOLD: usize = 1 << 16;

/// Sums `x` in the declared order.
pub fn sum_in_order<T: Float>(x: &[T], order: ReduceOrder) -> T {
    match order {
        ReduceOrder::Sequential => fold_sum(x),
        ReduceOrder::Pairwise { block } => {
            let block = block.max(1);
            if x.len() <= block {
                return fold_sum(x);
            }
            combine_pairwise(&block_sums(x, block))
        }
    }
}

fn fold_sum<T: Float>(x: &[T]) -> T {
    x.iter().fold(T::zero(), |acc, &v| acc + v)
}

/// Leaves of the pairwise tree: each `block`-element block folded left to right from zero.
/// The leaves are independent, so they are computed eight at a time (eight dependency chains
/// in flight instead of one) and, for long inputs, in parallel; neither changes any result.
fn block_sums<T: Float>(x: &[T], block: usize) -> Vec<T> {
    const LANES: usize = 8;
    let mut sums = vec![T::zero(); x.len().div_ceil(block)];
    let leaves = |first: usize, out: &mut [T]| {
        for (g, lanes) in out.chunks_mut(LANES).enumerate() {
            let start = (first + g * LANES) * block;
            if lanes.len() == LANES && start + LANES * block <= x.len() {
                let rows: [&[T]; LANES] =
                    std::array::from_fn(|j| &x[start + j * block..start + (j + 1) * block]);
                let mut acc = [T::zero(); LANES];
                for i in 0..block {
                    for (a, row) in acc.iter_mut().zip(&rows) {
                        *a += row[i];
                    }
                }
                lanes.copy_from_slice(&acc);
            } else {
                for (j, leaf) in lanes.iter_mut().enumerate() {
                    let s = start + j * block;
                    *leaf = fold_sum(&x[s..(s + block).min(x.len())]);
                }
            }
        }
    };
    let per_task = (PARALLEL_SUM_THRESHOLD / block).max(LANES);
    if x.len() >= PARALLEL_SUM_THRESHOLD {
        sums.par_chunks_mut(per_task)
            .enumerate()
            .for_each(|(t, out)| leaves(t * per_task, out));
    } else {
        leaves(0, &mut sums);
    }
    sums
}

/// The pairwise tree over leaf sums: a range of leaves is split after `ceil(len / 2)` of them.
fn combine_pairwise<T: Float>(leaves: &[T]) -> T {
    if leaves.len() == 1 {
        return leaves[0];
    }
    let (l, r) = leaves.split_at(leaves.len().div_ceil(2));
    combine_pairwise(l) + combine_pairwise(r)
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
    /// The same tensor with the reduced axes outermost: `[group_len, groups]` in row-major order.
    reduced_first: Tensor,
    /// Whether the innermost axis is kept (then reducing along columns is contiguous).
    last_axis_kept: bool,
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
    let reduced_first: Vec<usize> = red.iter().chain(&kept).copied().collect();
    Ok(Grouping {
        permuted: t.permute(&perm)?,
        reduced_first: t.permute(&reduced_first)?,
        last_axis_kept: kept.last().is_some_and(|&k| k + 1 == t.rank()),
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

/// Columnwise reduction pays off from this many independent groups on.
const COLUMNWISE_MIN_GROUPS: usize = 16;
/// Columns per parallel task of a columnwise reduction.
const COLUMN_CHUNK: usize = 2048;

/// `op` over each column of the `[group_len, groups]` matrix `g.reduced_first`, in parallel
/// over column chunks (each column is reduced by one task, so threads do not change results).
fn per_column<T: Float>(g: &Grouping, op: ReduceOp, order: ReduceOrder) -> Result<Vec<T>> {
    let data = g.reduced_first.data::<T>()?;
    let (rows, cols) = (g.group_len, g.groups);
    let mut out = vec![T::zero(); cols];
    let chunk = |(i, o): (usize, &mut [T])| {
        let (c0, width) = (i * COLUMN_CHUNK, o.len());
        let row = |r: usize| &data[r * cols + c0..r * cols + c0 + width];
        match op {
            ReduceOp::Max => fold_rows(o, 0..rows, &row, T::NEG_INFINITY, T::max_nan),
            ReduceOp::Min => fold_rows(o, 0..rows, &row, T::INFINITY, T::min_nan),
            _ => sum_rows(o, 0..rows, &row, order),
        }
        if op == ReduceOp::Mean {
            let n = T::from_f64(rows as f64);
            o.iter_mut().for_each(|v| *v = *v / n);
        }
    };
    if rows * cols >= PARALLEL_SUM_THRESHOLD && cols > COLUMN_CHUNK {
        out.par_chunks_mut(COLUMN_CHUNK).enumerate().for_each(chunk);
    } else {
        out.chunks_mut(COLUMN_CHUNK).enumerate().for_each(chunk);
    }
    Ok(out)
}

/// `out[j] = f(…f(f(init, row(r0)[j]), row(r0+1)[j])…)` over `rows`.
fn fold_rows<'a, T: Float>(
    out: &mut [T],
    rows: std::ops::Range<usize>,
    row: &impl Fn(usize) -> &'a [T],
    init: T,
    f: fn(T, T) -> T,
) {
    out.iter_mut().for_each(|o| *o = init);
    for r in rows {
        for (o, &v) in out.iter_mut().zip(row(r)) {
            *o = f(*o, v);
        }
    }
}

/// Column sums of `rows` in the declared order: the same tree as [`sum_in_order`], with every
/// addition applied to a whole row at once.
fn sum_rows<'a, T: Float>(
    out: &mut [T],
    rows: std::ops::Range<usize>,
    row: &impl Fn(usize) -> &'a [T],
    order: ReduceOrder,
) {
    let add = |a: T, b: T| a + b;
    match order {
        ReduceOrder::Pairwise { block } if rows.len() > block.max(1) => {
            let block = block.max(1);
            let mid = rows.start + rows.len().div_ceil(block).div_ceil(2) * block;
            sum_rows(out, rows.start..mid, row, order);
            let mut right = vec![T::zero(); out.len()];
            sum_rows(&mut right, mid..rows.end, row, order);
            for (o, r) in out.iter_mut().zip(right) {
                *o += r;
            }
        }
        _ => fold_rows(out, rows, row, T::zero(), add),
    }
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
        // Reducing over outer axes while the innermost axis is kept: accumulate whole rows
        // elementwise (vectorized), which evaluates every group in exactly the declared order.
        let columnwise = matches!(
            op,
            ReduceOp::Sum | ReduceOp::Mean | ReduceOp::Max | ReduceOp::Min
        ) && g.last_axis_kept
            && g.groups >= COLUMNWISE_MIN_GROUPS
            && g.group_len > 0;
        let storage = with_float!(op.name(), self.dtype(), |T| {
            Ok(T::into_storage(if columnwise {
                per_column::<T>(&g, op, order)?
            } else {
                per_group(&g, |x: &[T]| op.apply(x, order))?
            }))
        })?;
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
        let idx = with_float!(op, self.dtype(), |T| per_group(&g, |x: &[T]| pick(
            x, better
        )))?;
        Tensor::from_vec(idx, g.out_dims)
    }
}
