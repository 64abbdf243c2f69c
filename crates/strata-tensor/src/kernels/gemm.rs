//! Trust boundary `strata-tensor/gemm`: the only `unsafe` in this crate. It calls the `gemm`
//! crate's raw-pointer matrix product after checking, in safe code, that every element the call
//! can touch lies inside the borrowed slices and that the destination does not overlap itself.
//! The product's summation order inside gemm is unspecified (blocked, FMA); callers that need a
//! declared order use the reference kernels instead.
#![allow(unsafe_code)]

use crate::error::{invalid, Result};
use crate::Float;

/// A borrowed strided matrix: element (i, j) is `data[offset + i*row_stride + j*col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    pub data: &'a [T],
    pub offset: usize,
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

/// A mutable strided matrix; its strides must not make two elements share a slot.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    pub data: &'a mut [T],
    pub offset: usize,
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a, T> MatRef<'a, T> {
    /// A row-major matrix over the whole of `data[offset..]`.
    pub fn row_major(data: &'a [T], offset: usize, rows: usize, cols: usize) -> Self {
        MatRef {
            data,
            offset,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }
    /// The transpose, as a view (no copy).
    pub fn t(self) -> Self {
        MatRef {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

impl<'a, T> MatMut<'a, T> {
    pub fn row_major(data: &'a mut [T], offset: usize, rows: usize, cols: usize) -> Self {
        MatMut {
            data,
            offset,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }
}

fn last_index(offset: usize, rows: usize, cols: usize, rs: usize, cs: usize) -> Option<usize> {
    let r = (rows - 1).checked_mul(rs)?;
    let c = (cols - 1).checked_mul(cs)?;
    offset.checked_add(r)?.checked_add(c)
}

fn in_bounds(len: usize, offset: usize, rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    rows == 0 || cols == 0 || last_index(offset, rows, cols, rs, cs).is_some_and(|l| l < len)
}

fn non_overlapping(rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    rows <= 1 && (cols <= 1 || cs >= 1)
        || cols <= 1 && rs >= 1
        || cs >= 1 && rs >= cols * cs
        || rs >= 1 && cs >= rows * rs
}

/// `dst = lhs · rhs` (or `dst += lhs · rhs` when `accumulate`), using up to `threads` threads of
/// the current rayon pool. Dimension or bounds violations are errors, never undefined behaviour.
pub fn gemm<T: Float>(
    dst: MatMut<'_, T>,
    accumulate: bool,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
    threads: usize,
) -> Result<()> {
    let (m, n, k) = (dst.rows, dst.cols, lhs.cols);
    if lhs.rows != m || rhs.rows != k || rhs.cols != n {
        return Err(invalid(
            "gemm",
            format!(
                "cannot multiply [{}, {}] by [{}, {}] into [{m}, {n}]",
                lhs.rows, lhs.cols, rhs.rows, rhs.cols
            ),
        ));
    }
    let ok = in_bounds(
        dst.data.len(),
        dst.offset,
        m,
        n,
        dst.row_stride,
        dst.col_stride,
    ) && in_bounds(
        lhs.data.len(),
        lhs.offset,
        m,
        k,
        lhs.row_stride,
        lhs.col_stride,
    ) && in_bounds(
        rhs.data.len(),
        rhs.offset,
        k,
        n,
        rhs.row_stride,
        rhs.col_stride,
    ) && non_overlapping(m, n, dst.row_stride, dst.col_stride);
    if !ok {
        return Err(invalid(
            "gemm",
            "matrix view out of bounds or self-overlapping",
        ));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    dst.data[dst.offset + i * dst.row_stride + j * dst.col_stride] = T::zero();
                }
            }
        }
        return Ok(());
    }
    let parallelism = if threads <= 1 {
        gemm::Parallelism::None
    } else {
        gemm::Parallelism::Rayon(threads)
    };
    // Strides fit in isize: every index checked above is < a slice length (≤ isize::MAX).
    let s = |x: usize| x as isize;
    // SAFETY: all three views were checked to lie inside their slices (the largest index each
    // can reach is < len) with non-negative strides; `dst` is borrowed mutably, so it cannot
    // alias `lhs`/`rhs`, and its strides map distinct (i, j) to distinct slots. gemm reads
    // `dst` only when `read_dst` is set. T is f32 or f64, both supported by gemm.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.data.as_mut_ptr().add(dst.offset),
            s(dst.col_stride),
            s(dst.row_stride),
            accumulate,
            lhs.data.as_ptr().add(lhs.offset),
            s(lhs.col_stride),
            s(lhs.row_stride),
            rhs.data.as_ptr().add(rhs.offset),
            s(rhs.col_stride),
            s(rhs.row_stride),
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], b: &[f64], m: usize, n: usize, k: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn gemm_matches_naive_product_with_transposed_views() {
        let (m, n, k) = (7, 5, 9);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
        let want = naive(&a, &b, m, n, k);
        let mut c = vec![1.0; m * n];
        gemm(
            MatMut::row_major(&mut c, 0, m, n),
            false,
            MatRef::row_major(&a, 0, m, k),
            MatRef::row_major(&b, 0, k, n),
            1,
        )
        .unwrap();
        for (x, y) in c.iter().zip(&want) {
            assert!((x - y).abs() < 1e-12);
        }
        // (Bᵀ Aᵀ)ᵀ through views only: computes C again, accumulated onto C → 2C.
        let mut ct = c.clone();
        gemm(
            MatMut {
                data: &mut ct,
                offset: 0,
                rows: n,
                cols: m,
                row_stride: 1,
                col_stride: n,
            },
            true,
            MatRef::row_major(&b, 0, k, n).t(),
            MatRef::row_major(&a, 0, m, k).t(),
            2,
        )
        .unwrap();
        for (x, y) in ct.iter().zip(&want) {
            assert!((x - 2.0 * y).abs() < 1e-12);
        }
    }

    #[test]
    fn gemm_rejects_out_of_bounds_and_overlap() {
        let a = vec![0f32; 6];
        let mut c = vec![0f32; 4];
        let bad = gemm(
            MatMut::row_major(&mut c, 0, 2, 2),
            false,
            MatRef::row_major(&a, 0, 2, 4),
            MatRef::row_major(&a, 0, 4, 2),
            1,
        );
        assert!(bad.is_err());
        let overlap = gemm(
            MatMut {
                data: &mut c,
                offset: 0,
                rows: 2,
                cols: 2,
                row_stride: 1,
                col_stride: 1,
            },
            false,
            MatRef::row_major(&a, 0, 2, 1),
            MatRef::row_major(&a, 0, 1, 2),
            1,
        );
        assert!(overlap.is_err());
    }
}
