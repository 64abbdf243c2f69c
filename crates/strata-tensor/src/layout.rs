//! Strided traversal. A [`Walk`] visits N operands that share one logical shape in row-major
//! order, as runs along the innermost axis; axes that are contiguous in every operand are merged
//! first, so a contiguous tensor is walked as a single run. Rows are independent, so large walks
//! are split across rayon threads by whole rows (elementwise results never depend on the split).

use rayon::prelude::*;

/// Below this many elements an elementwise op runs on the calling thread.
pub(crate) const PARALLEL_THRESHOLD: usize = 1 << 15;

pub(crate) struct Walk<const N: usize> {
    /// Outer axes (all but the innermost), after merging.
    outer: Vec<usize>,
    outer_strides: [Vec<usize>; N],
    inner_len: usize,
    inner_strides: [usize; N],
    offsets: [usize; N],
}

impl<const N: usize> Walk<N> {
    pub(crate) fn new(dims: &[usize], strides: [&[usize]; N], offsets: [usize; N]) -> Self {
        // Drop size-1 axes, then merge neighbours that are contiguous for every operand.
        let mut md: Vec<usize> = Vec::with_capacity(dims.len());
        let mut ms: [Vec<usize>; N] = std::array::from_fn(|_| Vec::with_capacity(dims.len()));
        for (i, &d) in dims.iter().enumerate() {
            if d == 1 {
                continue;
            }
            let mergeable = md.last().is_some()
                && (0..N).all(|k| *ms[k].last().unwrap_or(&0) == strides[k][i] * d);
            if mergeable {
                *md.last_mut().unwrap_or(&mut 0) *= d;
                for (k, s) in ms.iter_mut().enumerate() {
                    if let Some(l) = s.last_mut() {
                        *l = strides[k][i];
                    }
                }
            } else {
                md.push(d);
                for (k, s) in ms.iter_mut().enumerate() {
                    s.push(strides[k][i]);
                }
            }
        }
        let inner_len = if dims.contains(&0) {
            0
        } else {
            md.pop().unwrap_or(1)
        };
        let inner_strides = std::array::from_fn(|k| ms[k].pop().unwrap_or(1));
        Walk {
            outer: md,
            outer_strides: ms,
            inner_len,
            inner_strides,
            offsets,
        }
    }

    pub(crate) fn rows(&self) -> usize {
        if self.inner_len == 0 {
            0
        } else {
            self.outer.iter().product()
        }
    }
    pub(crate) fn inner_len(&self) -> usize {
        self.inner_len
    }
    pub(crate) fn inner_strides(&self) -> [usize; N] {
        self.inner_strides
    }

    /// Start offset of every operand for outer row `row` (row-major over the outer axes).
    pub(crate) fn row_starts(&self, mut row: usize) -> [usize; N] {
        let mut starts = self.offsets;
        for a in (0..self.outer.len()).rev() {
            let d = self.outer[a];
            let i = row % d;
            row /= d;
            for (k, s) in starts.iter_mut().enumerate() {
                *s += i * self.outer_strides[k][a];
            }
        }
        starts
    }

    /// Fills `out` (row-major, `rows() * inner_len()` elements) by calling
    /// `f(run, starts)` for consecutive runs of it, each within one row: `starts` are the
    /// operands' offsets of the run's first element, and the run continues with
    /// `inner_strides()`. Large walks are split across threads into fixed-size pieces of the
    /// output (cutting rows where needed), so a single long row is parallel too.
    pub(crate) fn fill<U: Send>(&self, out: &mut [U], f: impl Fn(&mut [U], [usize; N]) + Sync) {
        let len = self.inner_len.max(1);
        let visit = |first: usize, piece: &mut [U]| {
            let mut pos = first;
            let mut rest = piece;
            while !rest.is_empty() {
                let (row, col) = (pos / len, pos % len);
                let (run, tail) = rest.split_at_mut((len - col).min(rest.len()));
                let mut starts = self.row_starts(row);
                for (s, stride) in starts.iter_mut().zip(self.inner_strides) {
                    *s += col * stride;
                }
                f(run, starts);
                pos += run.len();
                rest = tail;
            }
        };
        if out.len() < PARALLEL_THRESHOLD || rayon::current_num_threads() == 1 {
            visit(0, out);
            return;
        }
        const PIECE: usize = PARALLEL_THRESHOLD / 4;
        out.par_chunks_mut(PIECE)
            .enumerate()
            .for_each(|(i, piece)| visit(i * PIECE, piece));
    }
}

/// Copies a strided view into a new row-major vector.
pub(crate) fn gather<T: Copy + Send + Sync>(
    src: &[T],
    dims: &[usize],
    strides: &[usize],
    offset: usize,
) -> Vec<T> {
    let n: usize = dims.iter().product();
    let walk = Walk::new(dims, [strides], [offset]);
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let [s] = walk.inner_strides();
    let len = walk.inner_len();
    // Sequential push keeps this simple and allocation-free beyond `out`; large copies are
    // memory-bound, so threads would add little.
    for r in 0..walk.rows() {
        let [start] = walk.row_starts(r);
        if s == 1 {
            out.extend_from_slice(&src[start..start + len]);
        } else {
            out.extend((0..len).map(|i| src[start + i * s]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_merges_contiguous_axes() {
        let w = Walk::new(&[2, 3, 4], [&[12, 4, 1]], [0]);
        assert_eq!((w.rows(), w.inner_len()), (1, 24));
        // A transposed [3, 2] view of a [2, 3] buffer cannot merge.
        let w = Walk::new(&[3, 2], [&[1, 3]], [0]);
        assert_eq!((w.rows(), w.inner_len(), w.inner_strides()), (3, 2, [3]));
        assert_eq!(w.row_starts(2), [2]);
    }

    #[test]
    fn gather_transposes() {
        let src = [0, 1, 2, 3, 4, 5];
        assert_eq!(gather(&src, &[3, 2], &[1, 3], 0), vec![0, 3, 1, 4, 2, 5]);
        assert_eq!(gather(&src, &[2, 2], &[3, 1], 1), vec![1, 2, 4, 5]);
        assert_eq!(gather(&src, &[0, 2], &[2, 1], 0), Vec::<i32>::new());
        assert_eq!(gather(&src, &[], &[], 4), vec![4]);
    }
}
