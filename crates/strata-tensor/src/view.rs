//! Views: operations that re-index the same storage without copying (reshape copies only when
//! the layout forbids a view, as PyTorch's `reshape` does).

use crate::error::{invalid, Result, TensorError};
use crate::{Shape, Tensor};

impl Tensor {
    /// The same elements in row-major order under a new shape with the same element count.
    /// A view when the tensor is contiguous, otherwise a copy.
    pub fn reshape(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if shape.checked_numel() != Some(self.numel()) {
            return Err(TensorError::ShapeMismatch {
                op: "reshape",
                lhs: self.shape().clone(),
                rhs: shape,
            });
        }
        let base = if self.is_contiguous() {
            self.clone()
        } else {
            self.contiguous()
        };
        let strides = shape.contiguous_strides();
        Ok(base.view(shape, strides, base.offset()))
    }

    /// Like [`reshape`](Self::reshape) with PyTorch's `-1`: at most one axis is inferred.
    pub fn reshape_infer(&self, dims: &[isize]) -> Result<Tensor> {
        let known: usize = dims
            .iter()
            .filter(|&&d| d >= 0)
            .map(|&d| d as usize)
            .product();
        let holes = dims.iter().filter(|&&d| d < 0).count();
        let bad = || {
            invalid(
                "reshape",
                format!("cannot reshape {} into {dims:?}", self.shape()),
            )
        };
        if holes > 1 || dims.iter().any(|&d| d < -1) {
            return Err(bad());
        }
        let fill = if holes == 1 {
            if known == 0 || !self.numel().is_multiple_of(known) {
                return Err(bad());
            }
            self.numel() / known
        } else {
            0
        };
        let resolved: Vec<usize> = dims
            .iter()
            .map(|&d| if d < 0 { fill } else { d as usize })
            .collect();
        self.reshape(resolved)
    }

    /// Reorders axes: output axis i is input axis `perm[i]`.
    pub fn permute(&self, perm: &[usize]) -> Result<Tensor> {
        let mut seen = vec![false; self.rank()];
        let valid = perm.len() == self.rank()
            && perm
                .iter()
                .all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
        if !valid {
            return Err(invalid(
                "permute",
                format!(
                    "{perm:?} is not a permutation of the axes of {}",
                    self.shape()
                ),
            ));
        }
        let dims: Vec<usize> = perm.iter().map(|&p| self.dims()[p]).collect();
        let strides = perm.iter().map(|&p| self.strides()[p]).collect();
        Ok(self.view(dims.into(), strides, self.offset()))
    }

    /// Swaps two axes.
    pub fn transpose(&self, dim0: isize, dim1: isize) -> Result<Tensor> {
        let a = self.shape().axis("transpose", dim0)?;
        let b = self.shape().axis("transpose", dim1)?;
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Matrix transpose of a rank-2 tensor.
    pub fn t(&self) -> Result<Tensor> {
        if self.rank() != 2 {
            return Err(TensorError::InvalidShape {
                op: "t",
                shape: self.shape().clone(),
                msg: "needs a rank-2 tensor".into(),
            });
        }
        self.transpose(0, 1)
    }

    /// The sub-range `start..start+len` of axis `dim`, which must lie inside the axis (as in
    /// PyTorch: a range past the end is an error, not a shorter view).
    pub fn narrow(&self, dim: isize, start: usize, len: usize) -> Result<Tensor> {
        let d = self.shape().axis("narrow", dim)?;
        let size = self.dims()[d];
        if start.checked_add(len).is_none_or(|end| end > size) {
            return Err(invalid(
                "narrow",
                format!(
                    "range of {len} from {start} is outside axis {d} of {}",
                    self.shape()
                ),
            ));
        }
        self.slice(d as isize, start, start + len, 1)
    }

    /// Elements `start, start+step, …` below `end` along `dim` (Python's `x[start:end:step]`;
    /// `end` is clamped to the axis size, `step` must be positive).
    pub fn slice(&self, dim: isize, start: usize, end: usize, step: usize) -> Result<Tensor> {
        let d = self.shape().axis("slice", dim)?;
        let size = self.dims()[d];
        let end = end.min(size);
        if step == 0 || start > end {
            return Err(invalid(
                "slice",
                format!(
                    "range {start}..{end} step {step} on axis {d} of {}",
                    self.shape()
                ),
            ));
        }
        let mut dims = self.dims().to_vec();
        dims[d] = (end - start).div_ceil(step);
        let mut strides = self.strides().to_vec();
        let offset = self.offset() + if dims[d] > 0 { start * strides[d] } else { 0 };
        strides[d] *= step;
        Ok(self.view(dims.into(), strides, offset))
    }

    /// Broadcasts to `shape` (NumPy rules) as a view with zero strides on expanded axes.
    pub fn broadcast_to(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        let err = || TensorError::ShapeMismatch {
            op: "broadcast_to",
            lhs: self.shape().clone(),
            rhs: shape.clone(),
        };
        if shape.rank() < self.rank() {
            return Err(err());
        }
        // A view whose materialized buffer could not exist is refused here, so that no later
        // operation on it panics on a capacity overflow.
        crate::tensor::buffer_len("broadcast_to", &shape, self.dtype())?;
        let lead = shape.rank() - self.rank();
        let mut strides = vec![0; shape.rank()];
        for (i, &target) in shape.dims().iter().enumerate().skip(lead) {
            let (d, s) = (self.dims()[i - lead], self.strides()[i - lead]);
            strides[i] = match (d == target, d == 1) {
                (true, _) => s,
                (false, true) => 0,
                _ => return Err(err()),
            };
        }
        Ok(self.view(shape, strides, self.offset()))
    }

    /// PyTorch's name for [`broadcast_to`](Self::broadcast_to).
    pub fn expand(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        self.broadcast_to(shape)
    }

    /// Removes axis `dim`, which must have size 1.
    pub fn squeeze(&self, dim: isize) -> Result<Tensor> {
        let d = self.shape().axis("squeeze", dim)?;
        if self.dims()[d] != 1 {
            return Err(TensorError::InvalidShape {
                op: "squeeze",
                shape: self.shape().clone(),
                msg: format!("axis {d} has size {}, not 1", self.dims()[d]),
            });
        }
        Ok(self.without_axes(|i| i == d))
    }

    /// Removes every axis of size 1.
    pub fn squeeze_all(&self) -> Tensor {
        self.without_axes(|i| self.dims()[i] == 1)
    }

    fn without_axes(&self, drop: impl Fn(usize) -> bool) -> Tensor {
        let keep = |i: &usize| !drop(*i);
        let dims: Vec<usize> = (0..self.rank())
            .filter(keep)
            .map(|i| self.dims()[i])
            .collect();
        let strides = (0..self.rank())
            .filter(keep)
            .map(|i| self.strides()[i])
            .collect();
        self.view(dims.into(), strides, self.offset())
    }

    /// Inserts an axis of size 1 at `dim` (in `-(rank+1)..=rank`).
    pub fn unsqueeze(&self, dim: isize) -> Result<Tensor> {
        let d = crate::resolve_axis("unsqueeze", dim, self.rank() + 1)?;
        let mut dims = self.dims().to_vec();
        let mut strides = self.strides().to_vec();
        let s = if d < self.rank() {
            strides[d] * dims[d]
        } else {
            1
        };
        dims.insert(d, 1);
        strides.insert(d, s);
        Ok(self.view(dims.into(), strides, self.offset()))
    }

    /// Merges axes `start..=end` into one.
    pub fn flatten(&self, start: isize, end: isize) -> Result<Tensor> {
        if self.rank() == 0 {
            return self.reshape([1]);
        }
        let s = self.shape().axis("flatten", start)?;
        let e = self.shape().axis("flatten", end)?;
        if s > e {
            return Err(invalid(
                "flatten",
                format!("start axis {s} is after end axis {e}"),
            ));
        }
        let d = self.dims();
        let mut dims = d[..s].to_vec();
        dims.push(d[s..=e].iter().product());
        dims.extend_from_slice(&d[e + 1..]);
        self.reshape(dims)
    }
}
