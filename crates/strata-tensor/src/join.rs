//! Joining and splitting along an axis.

use crate::error::{invalid, Result, TensorError};
use crate::tensor::with_storage;
use crate::{Element, Tensor};

impl Tensor {
    /// Concatenates along `dim`; all other axes and the dtype must agree.
    pub fn cat(tensors: &[&Tensor], dim: isize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| invalid("cat", "needs at least one tensor"))?;
        let d = first.shape().axis("cat", dim)?;
        for t in &tensors[1..] {
            let same_rest = t.rank() == first.rank()
                && (0..first.rank()).all(|i| i == d || t.dims()[i] == first.dims()[i]);
            if !same_rest {
                return Err(TensorError::ShapeMismatch {
                    op: "cat",
                    lhs: first.shape().clone(),
                    rhs: t.shape().clone(),
                });
            }
            if t.dtype() != first.dtype() {
                return Err(TensorError::DTypeMismatch {
                    op: "cat",
                    lhs: first.dtype(),
                    rhs: t.dtype(),
                });
            }
        }
        let mut dims = first.dims().to_vec();
        dims[d] = tensors.iter().map(|t| t.dims()[d]).sum();
        with_storage!(first.storage(), |_v: T| cat_typed::<T>(tensors, d, dims))
    }

    /// Stacks equally shaped tensors along a new axis `dim`.
    pub fn stack(tensors: &[&Tensor], dim: isize) -> Result<Tensor> {
        let first = tensors
            .first()
            .ok_or_else(|| invalid("stack", "needs at least one tensor"))?;
        let d = crate::resolve_axis("stack", dim, first.rank() + 1)?;
        let mut expanded = Vec::with_capacity(tensors.len());
        for t in tensors {
            if t.shape() != first.shape() {
                return Err(TensorError::ShapeMismatch {
                    op: "stack",
                    lhs: first.shape().clone(),
                    rhs: t.shape().clone(),
                });
            }
            expanded.push(t.unsqueeze(d as isize)?);
        }
        Tensor::cat(&expanded.iter().collect::<Vec<_>>(), d as isize).map_err(|e| e.in_op("stack"))
    }

    /// Splits `dim` into views of `size` elements (the last may be smaller).
    pub fn split(&self, size: usize, dim: isize) -> Result<Vec<Tensor>> {
        let d = self.shape().axis("split", dim)?;
        if size == 0 {
            return Err(invalid("split", "split size must be positive"));
        }
        let n = self.dims()[d];
        (0..n.div_ceil(size).max(1))
            .map(|i| self.narrow(d as isize, i * size, size.min(n - i * size)))
            .collect()
    }

    /// Splits `dim` into views of the given sizes, which must add up to the axis size.
    pub fn split_sizes(&self, sizes: &[usize], dim: isize) -> Result<Vec<Tensor>> {
        let d = self.shape().axis("split", dim)?;
        if sizes.iter().sum::<usize>() != self.dims()[d] {
            return Err(invalid(
                "split",
                format!(
                    "sizes {sizes:?} do not add up to axis {d} of {}",
                    self.shape()
                ),
            ));
        }
        let mut start = 0;
        sizes
            .iter()
            .map(|&s| {
                start += s;
                self.narrow(d as isize, start - s, s)
            })
            .collect()
    }

    /// Splits `dim` into `chunks` views of size `ceil(n / chunks)` (PyTorch's `chunk`).
    pub fn chunk(&self, chunks: usize, dim: isize) -> Result<Vec<Tensor>> {
        let d = self.shape().axis("chunk", dim)?;
        if chunks == 0 {
            return Err(invalid("chunk", "number of chunks must be positive"));
        }
        self.split(self.dims()[d].div_ceil(chunks).max(1), d as isize)
    }
}

fn cat_typed<T: Element>(tensors: &[&Tensor], d: usize, dims: Vec<usize>) -> Result<Tensor> {
    let outer: usize = dims[..d].iter().product();
    let mut out = Vec::with_capacity(dims.iter().product());
    let parts: Vec<_> = tensors
        .iter()
        .map(|t| t.data::<T>())
        .collect::<Result<_>>()?;
    let runs: Vec<usize> = tensors
        .iter()
        .map(|t| t.dims()[d..].iter().product())
        .collect();
    for o in 0..outer {
        for (p, &r) in parts.iter().zip(&runs) {
            out.extend_from_slice(&p[o * r..(o + 1) * r]);
        }
    }
    Tensor::from_vec(out, dims)
}
