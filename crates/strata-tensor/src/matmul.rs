//! Matrix products with PyTorch's `matmul` semantics (1-D promotion, broadcast batch axes).
//!
//! Two kernels: the fast one goes through the `gemm` crate (blocked, FMA; its per-element
//! summation order is unspecified but does not depend on the thread count, which the tests
//! check), and a reference one that forms each product rounded and sums in a declared
//! [`ReduceOrder`] — the path that bit-level models can reproduce.

use crate::error::{Result, TensorError};
use crate::kernels::gemm::{gemm, MatMut, MatRef};
use crate::reduce::sum_in_order;
use crate::tensor::with_float;
use crate::{broadcast_shapes, Element, Float, ReduceOrder, Shape, Tensor};
use rayon::prelude::*;

/// Which kernel computes each dot product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatmulKernel {
    Fast,
    Reference(ReduceOrder),
}

/// A batched product laid out for the kernels: every operand as [batch, rows, cols] views.
struct Plan {
    a: Tensor,
    b: Tensor,
    batch_dims: Vec<usize>,
    m: usize,
    k: usize,
    n: usize,
    out_dims: Vec<usize>,
}

fn plan(a: &Tensor, b: &Tensor) -> Result<Plan> {
    let mismatch = || TensorError::ShapeMismatch {
        op: "matmul",
        lhs: a.shape().clone(),
        rhs: b.shape().clone(),
    };
    if a.rank() == 0 || b.rank() == 0 {
        return Err(mismatch());
    }
    let a2 = if a.rank() == 1 {
        a.unsqueeze(0)?
    } else {
        a.clone()
    };
    let b2 = if b.rank() == 1 {
        b.unsqueeze(1)?
    } else {
        b.clone()
    };
    let (ar, br) = (a2.rank(), b2.rank());
    let (m, k) = (a2.dims()[ar - 2], a2.dims()[ar - 1]);
    let (k2, n) = (b2.dims()[br - 2], b2.dims()[br - 1]);
    if k != k2 {
        return Err(mismatch());
    }
    let batch = broadcast_shapes(
        "matmul",
        &Shape::from(&a2.dims()[..ar - 2]),
        &Shape::from(&b2.dims()[..br - 2]),
    )
    .map_err(|_| mismatch())?;
    let mut full_a = batch.dims().to_vec();
    full_a.extend([m, k]);
    let mut full_b = batch.dims().to_vec();
    full_b.extend([k, n]);
    let mut out_dims = batch.dims().to_vec();
    if a.rank() > 1 {
        out_dims.push(m);
    }
    if b.rank() > 1 {
        out_dims.push(n);
    }
    Ok(Plan {
        a: a2.broadcast_to(full_a).map_err(|e| e.in_op("matmul"))?,
        b: b2.broadcast_to(full_b).map_err(|e| e.in_op("matmul"))?,
        batch_dims: batch.into_vec(),
        m,
        k,
        n,
        out_dims,
    })
}

/// Offset of batch element `i` (row-major over `dims`) for a tensor with `strides` (whose
/// leading entries are the batch strides).
fn batch_offset(mut i: usize, dims: &[usize], strides: &[usize], base: usize) -> usize {
    let mut off = base;
    for (d, s) in dims.iter().zip(strides).rev() {
        off += (i % d) * s;
        i /= d;
    }
    off
}

fn run<T: Float>(p: &Plan, kernel: MatmulKernel) -> Result<Vec<T>> {
    let (da, db) = (
        p.a.storage_slice::<T>("matmul")?,
        p.b.storage_slice::<T>("matmul")?,
    );
    let (m, k, n) = (p.m, p.k, p.n);
    let batches: usize = p.batch_dims.iter().product();
    let mut out = vec![T::zero(); batches * m * n];
    let nb = p.batch_dims.len();
    let (sa, sb) = (p.a.strides(), p.b.strides());
    let view = |data, off, s: &[usize], rows, cols| MatRef {
        data,
        offset: off,
        rows,
        cols,
        row_stride: s[nb],
        col_stride: s[nb + 1],
    };
    let one = |bi: usize, dst: &mut [T], threads: usize| -> Result<()> {
        let lhs = view(
            da,
            batch_offset(bi, &p.batch_dims, sa, p.a.offset()),
            sa,
            m,
            k,
        );
        let rhs = view(
            db,
            batch_offset(bi, &p.batch_dims, sb, p.b.offset()),
            sb,
            k,
            n,
        );
        match kernel {
            MatmulKernel::Fast => gemm(MatMut::row_major(dst, 0, m, n), false, lhs, rhs, threads),
            MatmulKernel::Reference(order) => {
                let mut products = vec![T::zero(); k];
                for i in 0..m {
                    for j in 0..n {
                        for (q, pr) in products.iter_mut().enumerate() {
                            *pr = lhs.data[lhs.offset + i * lhs.row_stride + q * lhs.col_stride]
                                * rhs.data[rhs.offset + q * rhs.row_stride + j * rhs.col_stride];
                        }
                        dst[i * n + j] = sum_in_order(&products, order);
                    }
                }
                Ok(())
            }
        }
    };
    if m * n == 0 {
        return Ok(out);
    }
    if batches == 1 {
        one(0, &mut out, rayon::current_num_threads())?;
    } else {
        out.par_chunks_mut(m * n)
            .enumerate()
            .try_for_each(|(bi, dst)| one(bi, dst, 1))?;
    }
    Ok(out)
}

impl Tensor {
    /// Matrix product with `torch.matmul` semantics, on the fast kernel.
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        self.matmul_with(other, MatmulKernel::Fast)
    }

    /// Matrix product on the chosen kernel.
    pub fn matmul_with(&self, other: &Tensor, kernel: MatmulKernel) -> Result<Tensor> {
        if self.dtype() != other.dtype() {
            return Err(TensorError::DTypeMismatch {
                op: "matmul",
                lhs: self.dtype(),
                rhs: other.dtype(),
            });
        }
        let p = plan(self, other)?;
        let storage = with_float!("matmul", self.dtype(), |T| Ok(T::into_storage(run::<T>(
            &p, kernel
        )?)))?;
        Ok(Tensor::from_storage(storage, p.out_dims.into()))
    }
}
