//! Fused neural-network operations: softmax family, normalization layers, embedding lookup.
//! Every internal sum uses the default [`ReduceOrder`], so results do not depend on threads.

use crate::error::{float_only, Result, TensorError};
use crate::reduce::sum_in_order;
use crate::{DType, Float, ReduceOrder, Storage, Tensor};
use rayon::prelude::*;

const PARALLEL_ROWS_THRESHOLD: usize = 1 << 14;

/// Applies `f(row_in, row_out)` to every 1-D run along `dim`, returning a tensor of the same shape.
fn along_axis(
    t: &Tensor,
    op: &'static str,
    dim: isize,
    f32fn: impl Fn(&[f32], &mut [f32]) + Sync,
    f64fn: impl Fn(&[f64], &mut [f64]) + Sync,
) -> Result<Tensor> {
    let d = t.shape().axis(op, dim)?;
    let last = t.rank() - 1;
    let mut perm: Vec<usize> = (0..t.rank()).collect();
    perm.swap(d, last);
    let moved = t.permute(&perm)?;
    let len = t.dims()[d];
    fn rows<T: Float>(
        x: &Tensor,
        len: usize,
        f: &(impl Fn(&[T], &mut [T]) + Sync),
    ) -> Result<Vec<T>> {
        let src = x.data::<T>()?;
        let mut out = vec![T::zero(); src.len()];
        if len == 0 {
            return Ok(out);
        }
        if src.len() >= PARALLEL_ROWS_THRESHOLD {
            out.par_chunks_mut(len)
                .zip(src.par_chunks(len))
                .for_each(|(o, i)| f(i, o));
        } else {
            out.chunks_mut(len)
                .zip(src.chunks(len))
                .for_each(|(o, i)| f(i, o));
        }
        Ok(out)
    }
    let storage = match t.dtype() {
        DType::F32 => Storage::F32(rows(&moved, len, &f32fn)?),
        DType::F64 => Storage::F64(rows(&moved, len, &f64fn)?),
        got => return Err(float_only(op, got)),
    };
    // Swapping two axes is its own inverse.
    Ok(Tensor::from_storage(storage, moved.shape().clone())
        .permute(&perm)?
        .contiguous())
}

/// Writes `exp(x − max x)` into `out` and returns `(max x, Σ out)` in the default order: the
/// shared first half of softmax and log-softmax.
fn shifted_exp<T: Float>(x: &[T], out: &mut [T]) -> (T, T) {
    let m = x.iter().fold(T::NEG_INFINITY, |a, &v| a.max_nan(v));
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v - m).exp();
    }
    (m, sum_in_order(out, ReduceOrder::default()))
}

fn softmax_row<T: Float>(x: &[T], out: &mut [T]) {
    let (_, s) = shifted_exp(x, out);
    for o in out.iter_mut() {
        *o = *o / s;
    }
}

fn log_softmax_row<T: Float>(x: &[T], out: &mut [T]) {
    let (m, s) = shifted_exp(x, out);
    let lse = m + s.ln();
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v - lse;
    }
}

/// Mean and biased variance of a slice (two-pass, default order).
fn moments<T: Float>(x: &[T]) -> (T, T) {
    let n = T::from_f64(x.len() as f64);
    let mean = sum_in_order(x, ReduceOrder::default()) / n;
    let dev: Vec<T> = x.iter().map(|&v| (v - mean) * (v - mean)).collect();
    (mean, sum_in_order(&dev, ReduceOrder::default()) / n)
}

/// Result of a batch-norm step: the output and the updated running statistics.
#[derive(Clone, Debug)]
pub struct BatchNormOutput {
    pub output: Tensor,
    pub running_mean: Tensor,
    pub running_var: Tensor,
}

impl Tensor {
    pub fn softmax(&self, dim: isize) -> Result<Tensor> {
        along_axis(self, "softmax", dim, softmax_row::<f32>, softmax_row::<f64>)
    }

    pub fn log_softmax(&self, dim: isize) -> Result<Tensor> {
        along_axis(
            self,
            "log_softmax",
            dim,
            log_softmax_row::<f32>,
            log_softmax_row::<f64>,
        )
    }

    /// Layer normalization over the trailing axes whose sizes are `normalized_shape`, with
    /// optional elementwise affine `weight`/`bias` of that shape (PyTorch's `layer_norm`).
    pub fn layer_norm(
        &self,
        normalized_shape: &[usize],
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        eps: f64,
    ) -> Result<Tensor> {
        let k = normalized_shape.len();
        let trailing_ok = k <= self.rank() && &self.dims()[self.rank() - k..] == normalized_shape;
        if !trailing_ok {
            return Err(TensorError::ShapeMismatch {
                op: "layer_norm",
                lhs: self.shape().clone(),
                rhs: normalized_shape.to_vec().into(),
            });
        }
        let lead = self.rank() - k;
        let flat = self.reshape(vec![
            self.dims()[..lead].iter().product(),
            normalized_shape.iter().product(),
        ])?;
        fn norm<T: Float>(eps: f64) -> impl Fn(&[T], &mut [T]) + Sync {
            move |x, out| {
                let (mean, var) = moments(x);
                let inv = T::one() / (var + T::from_f64(eps)).sqrt();
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = (v - mean) * inv;
                }
            }
        }
        let mut y = along_axis(&flat, "layer_norm", 1, norm::<f32>(eps), norm::<f64>(eps))?
            .reshape(self.shape().clone())?;
        if let Some(w) = weight {
            y = y.mul(&check_param("layer_norm", self, w, normalized_shape)?)?;
        }
        if let Some(b) = bias {
            y = y.add(&check_param("layer_norm", self, b, normalized_shape)?)?;
        }
        Ok(y)
    }

    /// Batch normalization of `self` = [N, C, *]. In training mode the batch statistics
    /// normalize the input and the running statistics move by `momentum` (the running variance
    /// takes the unbiased batch variance, as PyTorch does); in eval mode the running statistics
    /// normalize.
    #[allow(clippy::too_many_arguments)]
    pub fn batch_norm(
        &self,
        running_mean: &Tensor,
        running_var: &Tensor,
        weight: Option<&Tensor>,
        bias: Option<&Tensor>,
        training: bool,
        momentum: f64,
        eps: f64,
    ) -> Result<BatchNormOutput> {
        if self.rank() < 2 {
            return Err(TensorError::InvalidShape {
                op: "batch_norm",
                shape: self.shape().clone(),
                msg: "needs an input of shape [N, C, *]".into(),
            });
        }
        let c = self.dims()[1];
        let stats_shape = [c];
        let rm = check_param("batch_norm", self, running_mean, &stats_shape)?;
        let rv = check_param("batch_norm", self, running_var, &stats_shape)?;
        // Channel-wise views that broadcast against [N, C, *].
        let mut bshape = vec![1; self.rank()];
        bshape[1] = c;
        let per_channel = |t: &Tensor| t.reshape(bshape.clone());
        let (mean, var, new_rm, new_rv) = if training {
            let count = self.numel() / c.max(1);
            if count <= 1 {
                return Err(TensorError::InvalidShape {
                    op: "batch_norm",
                    shape: self.shape().clone(),
                    msg: "training needs more than one value per channel".into(),
                });
            }
            let axes: Vec<isize> = (0..self.rank() as isize).filter(|&a| a != 1).collect();
            let mean = self.mean(&axes, false)?;
            let var = self.reduce(
                crate::ReduceOp::Var { correction: 0 },
                &axes,
                false,
                ReduceOrder::default(),
            )?;
            let unbiased = var.mul_scalar(count as f64 / (count as f64 - 1.0))?;
            let new_rm = rm
                .affine(1.0 - momentum, 0.0)?
                .add(&mean.mul_scalar(momentum)?)?;
            let new_rv = rv
                .affine(1.0 - momentum, 0.0)?
                .add(&unbiased.mul_scalar(momentum)?)?;
            (mean, var, new_rm, new_rv)
        } else {
            (rm.clone(), rv.clone(), rm, rv)
        };
        let std = var.add_scalar(eps)?.sqrt()?;
        let mut y = self.sub(&per_channel(&mean)?)?.div(&per_channel(&std)?)?;
        if let Some(w) = weight {
            y = y.mul(&per_channel(&check_param(
                "batch_norm",
                self,
                w,
                &stats_shape,
            )?)?)?;
        }
        if let Some(b) = bias {
            y = y.add(&per_channel(&check_param(
                "batch_norm",
                self,
                b,
                &stats_shape,
            )?)?)?;
        }
        Ok(BatchNormOutput {
            output: y,
            running_mean: new_rm,
            running_var: new_rv,
        })
    }

    /// Looks up rows of `self` (an embedding table [V, D]) for i64 `indices` of any shape,
    /// returning [*indices.shape, D].
    pub fn embedding(&self, indices: &Tensor) -> Result<Tensor> {
        if self.rank() != 2 {
            return Err(TensorError::InvalidShape {
                op: "embedding",
                shape: self.shape().clone(),
                msg: "the table must be [num_embeddings, dim]".into(),
            });
        }
        let flat = indices.reshape([indices.numel()])?;
        let rows = self
            .index_select(0, &flat)
            .map_err(|e| e.in_op("embedding"))?;
        let mut dims = indices.dims().to_vec();
        dims.push(self.dims()[1]);
        rows.reshape(dims)
    }
}

/// Checks a parameter (weight, bias, running statistic) of `input`: its shape must be
/// `shape` and its dtype the input's.
fn check_param(op: &'static str, input: &Tensor, p: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if p.dims() != shape {
        return Err(TensorError::ShapeMismatch {
            op,
            lhs: shape.to_vec().into(),
            rhs: p.shape().clone(),
        });
    }
    if p.dtype() != input.dtype() {
        return Err(TensorError::DTypeMismatch {
            op,
            lhs: input.dtype(),
            rhs: p.dtype(),
        });
    }
    Ok(p.clone())
}
