//! Indexing with index tensors (i64), and padding.

use crate::error::{invalid, Result, TensorError};
use crate::tensor::{with_float, with_storage};
use crate::{DType, Element, Float, Tensor};

fn indices(op: &'static str, index: &Tensor) -> Result<Vec<i64>> {
    if index.dtype() != DType::I64 {
        return Err(TensorError::UnsupportedDType {
            op,
            got: index.dtype(),
            expected: "i64 indices",
        });
    }
    index.to_vec::<i64>()
}

/// Resolves an index against a size (negative counts from the end, as in PyTorch).
fn checked(op: &'static str, i: i64, size: usize) -> Result<usize> {
    let j = if i < 0 { i + size as i64 } else { i };
    if j < 0 || j >= size as i64 {
        return Err(TensorError::IndexOutOfRange { op, index: i, size });
    }
    Ok(j as usize)
}

impl Tensor {
    /// Picks entries `index` (1-D, i64) along `dim`.
    pub fn index_select(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        let d = self.shape().axis("index_select", dim)?;
        if index.rank() != 1 {
            return Err(TensorError::InvalidShape {
                op: "index_select",
                shape: index.shape().clone(),
                msg: "index must be 1-D".into(),
            });
        }
        let size = self.dims()[d];
        let idx = indices("index_select", index)?
            .into_iter()
            .map(|i| checked("index_select", i, size))
            .collect::<Result<Vec<_>>>()?;
        let outer: usize = self.dims()[..d].iter().product();
        let inner: usize = self.dims()[d + 1..].iter().product();
        let mut dims = self.dims().to_vec();
        dims[d] = idx.len();
        with_storage!(self.storage(), |_v: T| {
            let src = self.data::<T>()?;
            let mut out: Vec<T> = Vec::with_capacity(outer * idx.len() * inner);
            for o in 0..outer {
                for &i in &idx {
                    let s = (o * size + i) * inner;
                    out.extend_from_slice(&src[s..s + inner]);
                }
            }
            Tensor::from_vec(out, dims)
        })
    }

    /// `out[i][j][k] = self[index[i][j][k]][j][k]` for dim 0 (and likewise for other axes);
    /// `index` has the rank of `self` and no larger axes except along `dim`.
    pub fn gather(&self, dim: isize, index: &Tensor) -> Result<Tensor> {
        let d = self.shape().axis("gather", dim)?;
        self.check_index_shape("gather", d, index, None)?;
        let idx = indices("gather", index)?;
        let src_strides = self.shape().contiguous_strides();
        let positions = index_positions(
            index.dims(),
            &src_strides,
            d,
            self.dims()[d],
            &idx,
            "gather",
        )?;
        with_storage!(self.storage(), |_v: T| {
            let src = self.data::<T>()?;
            Tensor::from_vec(
                positions.iter().map(|&p| src[p]).collect::<Vec<T>>(),
                index.shape().clone(),
            )
        })
    }

    /// Returns a copy of `self` with `src` added at the positions `index` names along `dim`
    /// (PyTorch's `scatter_add`); repeated indices accumulate in row-major order of `index`.
    pub fn scatter_add(&self, dim: isize, index: &Tensor, src: &Tensor) -> Result<Tensor> {
        let d = self.shape().axis("scatter_add", dim)?;
        self.check_index_shape("scatter_add", d, index, Some(src))?;
        if src.dtype() != self.dtype() {
            return Err(TensorError::DTypeMismatch {
                op: "scatter_add",
                lhs: self.dtype(),
                rhs: src.dtype(),
            });
        }
        let idx = indices("scatter_add", index)?;
        let dst_strides = self.shape().contiguous_strides();
        let positions = index_positions(
            index.dims(),
            &dst_strides,
            d,
            self.dims()[d],
            &idx,
            "scatter_add",
        )?;
        fn add<T: Float>(
            t: &Tensor,
            src: &Tensor,
            index: &Tensor,
            positions: &[usize],
        ) -> Result<Tensor> {
            let mut out = t.to_vec::<T>()?;
            let s = src.data::<T>()?;
            let s_strides = src.shape().contiguous_strides();
            for (lin, &p) in positions.iter().enumerate() {
                // Element `lin` of `index` (row-major) pairs with the same coordinates of `src`.
                let mut rem = lin;
                let mut off = 0;
                for (a, &n) in index.dims().iter().enumerate().rev() {
                    off += (rem % n) * s_strides[a];
                    rem /= n;
                }
                out[p] += s[off];
            }
            Tensor::from_vec(out, t.shape().clone())
        }
        with_float!("scatter_add", self.dtype(), |T| add::<T>(
            self, src, index, &positions
        ))
    }

    /// `index` must have the rank of `self` and be no larger on every axis but `d`; for
    /// scatter_add it must also be no larger than `src` on every axis. A mismatch names the
    /// two shapes that disagree.
    fn check_index_shape(
        &self,
        op: &'static str,
        d: usize,
        index: &Tensor,
        src: Option<&Tensor>,
    ) -> Result<()> {
        let mismatch = |lhs: &Tensor| TensorError::ShapeMismatch {
            op,
            lhs: lhs.shape().clone(),
            rhs: index.shape().clone(),
        };
        let fits_self = index.rank() == self.rank()
            && (0..self.rank()).all(|i| i == d || index.dims()[i] <= self.dims()[i]);
        if !fits_self {
            return Err(mismatch(self));
        }
        if let Some(src) = src {
            let fits_src = src.rank() == index.rank()
                && (0..index.rank()).all(|i| index.dims()[i] <= src.dims()[i]);
            if !fits_src {
                return Err(mismatch(src));
            }
        }
        Ok(())
    }

    /// Pads with a constant. `pads` lists (before, after) pairs starting from the **last** axis,
    /// as `torch.nn.functional.pad` does.
    pub fn pad(&self, pads: &[(usize, usize)], value: f64) -> Result<Tensor> {
        if pads.len() > self.rank() {
            return Err(invalid(
                "pad",
                format!("{} pad pairs for a rank-{} tensor", pads.len(), self.rank()),
            ));
        }
        let mut dims = self.dims().to_vec();
        let mut before = vec![0; self.rank()];
        for (k, &(b, a)) in pads.iter().enumerate() {
            let axis = self.rank() - 1 - k;
            dims[axis] = dims[axis]
                .checked_add(b)
                .and_then(|x| x.checked_add(a))
                .ok_or_else(|| invalid("pad", "padded size overflows"))?;
            before[axis] = b;
        }
        let out = Tensor::full(dims.clone(), value, self.dtype()).map_err(|e| e.in_op("pad"))?;
        with_storage!(self.storage(), |_v: T| pad_typed::<T>(self, out, &before))
    }
}

/// Flat positions (row-major in a tensor with `strides`) addressed by each element of `index`.
fn index_positions(
    index_dims: &[usize],
    strides: &[usize],
    d: usize,
    size: usize,
    idx: &[i64],
    op: &'static str,
) -> Result<Vec<usize>> {
    let mut coords = vec![0usize; index_dims.len()];
    let mut out = Vec::with_capacity(idx.len());
    for &i in idx {
        let mut p = 0;
        for (a, &c) in coords.iter().enumerate() {
            p += if a == d { checked(op, i, size)? } else { c } * strides[a];
        }
        out.push(p);
        for a in (0..coords.len()).rev() {
            coords[a] += 1;
            if coords[a] < index_dims[a] {
                break;
            }
            coords[a] = 0;
        }
    }
    Ok(out)
}

fn pad_typed<T: Element>(src: &Tensor, out: Tensor, before: &[usize]) -> Result<Tensor> {
    let mut buf = out.to_vec::<T>()?;
    let data = src.data::<T>()?;
    let out_strides = out.shape().contiguous_strides();
    let rank = src.rank();
    let inner = if rank == 0 { 1 } else { src.dims()[rank - 1] };
    if inner == 0 || src.numel() == 0 {
        return Ok(out);
    }
    for (row, chunk) in data.chunks(inner).enumerate() {
        let mut rem = row;
        let mut off = if rank == 0 { 0 } else { before[rank - 1] };
        for a in (0..rank.saturating_sub(1)).rev() {
            let n = src.dims()[a];
            off += (rem % n + before[a]) * out_strides[a];
            rem /= n;
        }
        buf[off..off + inner].copy_from_slice(chunk);
    }
    Tensor::from_vec(buf, out.shape().clone())
}
