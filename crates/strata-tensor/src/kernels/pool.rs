//! 2-D pooling kernels over contiguous NCHW buffers, with PyTorch's semantics: max pooling (with
//! the flat argmax index of each output within its input plane, for the backward pass), average
//! pooling, and their adaptive forms.
//!
//! Evaluation order: each output reads its window row by row; each backward pass scatters into an
//! input plane in output order. Planes are independent and run in parallel, so results are
//! bit-identical whatever the size of the rayon pool.

use crate::error::{invalid, Result};
use crate::Float;
use rayon::prelude::*;
use std::ops::Range;

/// max_pool2d hyper-parameters, per spatial axis `[height, width]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2dParams {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    /// Round the output size up rather than down; a window must still start inside the input
    /// or its left padding.
    pub ceil_mode: bool,
}

impl MaxPool2dParams {
    /// PyTorch's defaults: stride equal to the kernel, no padding, no dilation, floor mode.
    pub fn new(kernel: [usize; 2]) -> Self {
        MaxPool2dParams {
            kernel,
            stride: kernel,
            padding: [0, 0],
            dilation: [1, 1],
            ceil_mode: false,
        }
    }
}

/// avg_pool2d hyper-parameters, per spatial axis `[height, width]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2dParams {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub ceil_mode: bool,
    /// Divide by the window size including its zero padding (but not the part of a ceil-mode
    /// window beyond the right padding), rather than by the number of input elements in it.
    pub count_include_pad: bool,
    /// Divide every window's sum by this instead.
    pub divisor_override: Option<usize>,
}

impl AvgPool2dParams {
    /// PyTorch's defaults: stride equal to the kernel, no padding, floor mode,
    /// `count_include_pad`, no divisor override.
    pub fn new(kernel: [usize; 2]) -> Self {
        AvgPool2dParams {
            kernel,
            stride: kernel,
            padding: [0, 0],
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }
}

/// One pooling window along one axis: `taps` input positions `first, first + step, ...` (`step`
/// is the dilation), and its `span`: the window's extent clipped to the padded input, which
/// `count_include_pad` divides by.
#[derive(Clone, Copy, Debug)]
struct Window {
    first: usize,
    taps: usize,
    span: usize,
}

/// The windows of one spatial axis.
#[derive(Clone, Debug)]
struct AxisWindows {
    windows: Vec<Window>,
    step: usize,
    /// The longest run of windows with equal tap counts and evenly spaced starts (the interior
    /// windows of a sliding pool): max pooling sweeps it tap by tap, which vectorizes.
    regular: RegularRun,
}

/// Windows `range` all have the same number of taps and start `stride` apart.
#[derive(Clone, Debug)]
struct RegularRun {
    range: Range<usize>,
    stride: usize,
}

impl AxisWindows {
    fn new(windows: Vec<Window>, step: usize) -> Self {
        let regular = longest_regular_run(&windows);
        AxisWindows {
            windows,
            step,
            regular,
        }
    }

    fn empty() -> Self {
        Self::new(Vec::new(), 1)
    }
}

/// See [`AxisWindows::regular`]; empty only when there are no windows.
fn longest_regular_run(windows: &[Window]) -> RegularRun {
    // Window i continues the run that starts at `start`.
    let continues = |start: usize, i: usize| {
        let (w, prev) = (&windows[i], &windows[i - 1]);
        w.taps == windows[start].taps
            && w.first > prev.first
            && (i == start + 1
                || w.first - prev.first == windows[start + 1].first - windows[start].first)
    };
    let (mut best, mut start) = (0..windows.len().min(1), 0);
    for i in 1..windows.len() {
        if !continues(start, i) {
            start = if continues(i - 1, i) { i - 1 } else { i };
        }
        if i + 1 - start > best.len() {
            best = start..i + 1;
        }
    }
    let stride = if best.len() > 1 {
        windows[best.start + 1].first - windows[best.start].first
    } else {
        1
    };
    RegularRun {
        range: best,
        stride,
    }
}

/// `dst[k] = src[k * stride]`; strides 1 and 2 (the common pools) get loops the compiler
/// vectorizes.
fn gather_strided<T: Copy>(dst: &mut [T], src: &[T], stride: usize) {
    match stride {
        1 => dst.copy_from_slice(&src[..dst.len()]),
        2 => {
            for (d, pair) in dst.iter_mut().zip(src.chunks(2)) {
                *d = pair[0];
            }
        }
        _ => {
            for (d, &x) in dst.iter_mut().zip(src.iter().step_by(stride)) {
                *d = x;
            }
        }
    }
}

/// One thread's buffers for [`PoolGeometry::max_plane`], reused across planes.
struct MaxScratch<T> {
    taps: Vec<T>,
    maxima: Vec<T>,
    offsets: Vec<usize>,
}

impl<T> Default for MaxScratch<T> {
    fn default() -> Self {
        MaxScratch {
            taps: Vec::new(),
            maxima: Vec::new(),
            offsets: Vec::new(),
        }
    }
}

/// A validated pooling of each plane of `input [N, C, H, W]` into a plane of `out_hw`: `rows`
/// and `cols` hold the windows along each axis (none when the output is empty).
#[derive(Clone, Debug)]
struct PoolGeometry {
    op: &'static str,
    input_shape: [usize; 4],
    out_hw: [usize; 2],
    rows: AxisWindows,
    cols: AxisWindows,
}

/// One axis of a sliding-window pooling, PyTorch's way: window `o` starts at `o * stride - pad`
/// and taps every `dilation`-th position; taps outside the input read padding and are skipped.
struct SlidingAxis {
    len: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
    dilation: usize,
}

impl SlidingAxis {
    /// PyTorch's `pooling_output_shape`: `(len + 2·pad − dilation·(kernel − 1) − 1 [+ stride −
    /// 1 in ceil mode]) / stride + 1`, less one in ceil mode when the last window would start in
    /// the right padding. The error says why there is no valid output.
    fn out_len(&self, ceil_mode: bool) -> std::result::Result<usize, String> {
        let SlidingAxis {
            len,
            kernel,
            stride,
            pad,
            dilation,
        } = *self;
        if kernel == 0 || stride == 0 || dilation == 0 {
            return Err("kernel, stride and dilation must be positive".into());
        }
        if pad > kernel / 2 {
            return Err(format!(
                "padding {pad} exceeds half the kernel size {kernel}"
            ));
        }
        let overflow = || "sizes overflow usize".to_string();
        let extent = (kernel - 1)
            .checked_mul(dilation)
            .and_then(|e| e.checked_add(1));
        let extent = extent.ok_or_else(overflow)?;
        let slack = if ceil_mode { stride - 1 } else { 0 };
        let reach = pad
            .checked_mul(2)
            .and_then(|p| p.checked_add(len)?.checked_add(slack));
        let reach = reach.ok_or_else(overflow)?;
        if reach < extent {
            return Err(format!(
                "window extent {extent} exceeds padded input size {}",
                len + 2 * pad
            ));
        }
        let mut out = (reach - extent) / stride + 1;
        if ceil_mode && (out - 1) * stride >= len + pad {
            out -= 1;
        }
        Ok(out)
    }

    /// The `out` windows (from [`out_len`](Self::out_len)); a window that holds only padding is
    /// an error (PyTorch would read out of bounds there).
    fn windows(&self, out: usize) -> std::result::Result<AxisWindows, String> {
        let SlidingAxis {
            len,
            kernel,
            stride,
            pad,
            dilation,
        } = *self;
        let padded_end = len + 2 * pad;
        let windows = (0..out)
            .map(|o| {
                // In padded coordinates the window covers start + j·dilation, j < kernel.
                let start = o * stride;
                let first_tap = pad.saturating_sub(start).div_ceil(dilation);
                let end_tap = (pad + len)
                    .saturating_sub(start)
                    .div_ceil(dilation)
                    .min(kernel);
                if first_tap >= end_tap {
                    return Err(format!("window {o} covers only padding"));
                }
                let extent = (kernel - 1) * dilation + 1;
                Ok(Window {
                    first: start + first_tap * dilation - pad,
                    taps: end_tap - first_tap,
                    span: (start + extent).min(padded_end) - start,
                })
            })
            .collect::<std::result::Result<_, _>>()?;
        Ok(AxisWindows::new(windows, dilation))
    }
}

/// PyTorch's adaptive windows: output `i` of `out` pools input `floor(i·len/out)` up to
/// `ceil((i+1)·len/out)`.
fn adaptive_windows(len: usize, out: usize) -> AxisWindows {
    // u128 holds i·len exactly.
    let (len, out_u) = (len as u128, out as u128);
    let windows = (0..out as u128)
        .map(|i| {
            let start = (i * len / out_u) as usize;
            let end = ((i + 1) * len).div_ceil(out_u) as usize;
            Window {
                first: start,
                taps: end - start,
                span: end - start,
            }
        })
        .collect();
    AxisWindows::new(windows, 1)
}

impl PoolGeometry {
    /// Checks the input shape and the output size; `windows(axis, out_len)` builds an axis's
    /// windows, called only when the output is not empty.
    fn new(
        op: &'static str,
        input_shape: [usize; 4],
        out_hw: [usize; 2],
        windows: impl Fn(usize, usize) -> std::result::Result<AxisWindows, String>,
    ) -> Result<Self> {
        let fail = |why: String| invalid(op, format!("{why} (input {input_shape:?})"));
        let [batch, channels, in_h, in_w] = input_shape;
        if in_h == 0 || in_w == 0 {
            return Err(fail("input height and width must be positive".into()));
        }
        let product = |dims: &[usize]| dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        let output_len = product(&[batch, channels, out_hw[0], out_hw[1]]);
        if product(&input_shape).is_none() || output_len.is_none() {
            return Err(fail(format!("sizes overflow usize (output {out_hw:?})")));
        }
        let (rows, cols) = if output_len == Some(0) {
            (AxisWindows::empty(), AxisWindows::empty())
        } else {
            (
                windows(0, out_hw[0]).map_err(fail)?,
                windows(1, out_hw[1]).map_err(fail)?,
            )
        };
        Ok(PoolGeometry {
            op,
            input_shape,
            out_hw,
            rows,
            cols,
        })
    }

    fn sliding(
        op: &'static str,
        input_shape: [usize; 4],
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        ceil_mode: bool,
    ) -> Result<Self> {
        let axis = |a: usize| SlidingAxis {
            len: input_shape[2 + a],
            kernel: kernel[a],
            stride: stride[a],
            pad: padding[a],
            dilation: dilation[a],
        };
        let mut out_hw = [0; 2];
        for (a, out) in out_hw.iter_mut().enumerate() {
            *out = axis(a).out_len(ceil_mode).map_err(|why| {
                invalid(
                    op,
                    format!(
                        "{why} (input {input_shape:?}, kernel {kernel:?}, stride {stride:?}, \
                         padding {padding:?}, dilation {dilation:?}, ceil_mode {ceil_mode})"
                    ),
                )
            })?;
        }
        Self::new(op, input_shape, out_hw, |a, out| axis(a).windows(out))
    }

    fn max_pool(op: &'static str, input_shape: [usize; 4], p: &MaxPool2dParams) -> Result<Self> {
        Self::sliding(
            op,
            input_shape,
            p.kernel,
            p.stride,
            p.padding,
            p.dilation,
            p.ceil_mode,
        )
    }

    fn avg_pool(op: &'static str, input_shape: [usize; 4], p: &AvgPool2dParams) -> Result<Self> {
        if p.divisor_override == Some(0) {
            return Err(invalid(op, "divisor_override must be positive"));
        }
        Self::sliding(
            op,
            input_shape,
            p.kernel,
            p.stride,
            p.padding,
            [1, 1],
            p.ceil_mode,
        )
    }

    fn adaptive(op: &'static str, input_shape: [usize; 4], out_hw: [usize; 2]) -> Result<Self> {
        Self::new(op, input_shape, out_hw, |a, out| {
            Ok(adaptive_windows(input_shape[2 + a], out))
        })
    }

    fn output_shape(&self) -> [usize; 4] {
        let [n, c, ..] = self.input_shape;
        [n, c, self.out_hw[0], self.out_hw[1]]
    }
    fn in_plane(&self) -> usize {
        self.input_shape[2] * self.input_shape[3]
    }
    fn out_plane(&self) -> usize {
        self.out_hw[0] * self.out_hw[1]
    }

    fn check_len(&self, what: &str, shape: [usize; 4], len: usize) -> Result<()> {
        let expected = shape.iter().product::<usize>();
        if len != expected {
            return Err(invalid(
                self.op,
                format!("{what} has {len} elements, shape {shape:?} needs {expected}"),
            ));
        }
        Ok(())
    }

    /// Calls `visit(output, row, col)` for each output of a plane (its offset in the plane and
    /// its windows), in row-major order.
    fn for_each_window(&self, mut visit: impl FnMut(usize, &Window, &Window)) {
        let out_w = self.out_hw[1];
        for (r, row) in self.rows.windows.iter().enumerate() {
            for (c, col) in self.cols.windows.iter().enumerate() {
                visit(r * out_w + c, row, col);
            }
        }
    }

    /// Calls `visit(offset)` with the input-plane offset of each tap of window `(row, col)`,
    /// row by row.
    fn for_each_tap(&self, row: &Window, col: &Window, mut visit: impl FnMut(usize)) {
        let width = self.input_shape[3];
        for i in 0..row.taps {
            let line = (row.first + i * self.rows.step) * width + col.first;
            for j in 0..col.taps {
                visit(line + j * self.cols.step);
            }
        }
    }

    /// Maximum of every window and, when `with_indices`, its argmax (else `indices` is empty),
    /// PyTorch's way: starting from −∞ at the first tap, a strictly greater value or a NaN
    /// replaces the running maximum, so the first of equal maxima and the last NaN win.
    fn max<T: Float>(&self, input: &[T], with_indices: bool) -> Result<(Vec<T>, Vec<i64>)> {
        self.check_len("input", self.input_shape, input.len())?;
        let len = self.output_shape().iter().product();
        let mut values = vec![T::zero(); len];
        let mut indices = vec![0i64; if with_indices { len } else { 0 }];
        if len == 0 {
            return Ok((values, indices));
        }
        let out_plane = self.out_plane();
        let index_planes: Vec<Option<&mut [i64]>> = if with_indices {
            indices.chunks_mut(out_plane).map(Some).collect()
        } else {
            (0..len / out_plane).map(|_| None).collect()
        };
        values
            .par_chunks_mut(out_plane)
            .zip(index_planes)
            .zip(input.par_chunks(self.in_plane()))
            .for_each_init(
                MaxScratch::default,
                |scratch, ((values, indices), plane)| {
                    self.max_plane(plane, values, indices, scratch)
                },
            );
        Ok((values, indices))
    }

    /// The maximum and argmax of one window, tap by tap (see [`max`](Self::max)).
    fn window_max<T: Float>(&self, plane: &[T], row: &Window, col: &Window) -> (T, usize) {
        let width = self.input_shape[3];
        let (mut best, mut best_at) = (T::NEG_INFINITY, row.first * width + col.first);
        self.for_each_tap(row, col, |at| {
            let v = plane[at];
            if v > best || v.is_nan() {
                (best, best_at) = (v, at);
            }
        });
        (best, best_at)
    }

    /// [`max`](Self::max) of one plane. The block of outputs whose rows and columns are both
    /// in the regular runs is computed together, tap by tap, without data-dependent branches
    /// (which mispredict on half the taps of random data): first the maxima, folded over the
    /// taps in row-major order as the rule says, then each argmax as the first tap, in
    /// row-major order, equal to its maximum, which is what the rule picks unless the maximum
    /// is a NaN. Those outputs, and the ones outside the block, go window by window.
    fn max_plane<T: Float>(
        &self,
        plane: &[T],
        values: &mut [T],
        mut indices: Option<&mut [i64]>,
        scratch: &mut MaxScratch<T>,
    ) {
        let (width, out_w) = (self.input_shape[3], self.out_hw[1]);
        let (run_rows, run_cols) = (&self.rows.regular, &self.cols.regular);
        let (rows, cols) = (&self.rows.windows, &self.cols.windows);
        for (r, row) in rows.iter().enumerate() {
            for (c, col) in cols.iter().enumerate() {
                if run_rows.range.contains(&r) && run_cols.range.contains(&c) {
                    continue;
                }
                let (best, at) = self.window_max(plane, row, col);
                values[r * out_w + c] = best;
                if let Some(indices) = indices.as_deref_mut() {
                    // A plane offset is below a slice length, so it fits in i64.
                    indices[r * out_w + c] = at as i64;
                }
            }
        }
        let (first_row, first_col) = (&rows[run_rows.range.start], &cols[run_cols.range.start]);
        let (block_w, block_len) = (
            run_cols.range.len(),
            run_rows.range.len() * run_cols.range.len(),
        );
        let (row_step, col_step) = (self.rows.step, self.cols.step);
        let tap_offset = |i: usize, j: usize| i * row_step * width + j * col_step;
        // The block's input under tap (i, j) of every window, one line per tap.
        let taps = &mut scratch.taps;
        taps.resize(first_row.taps * first_col.taps * block_len, T::zero());
        for (t, line) in taps.chunks_exact_mut(block_len).enumerate() {
            let corner = first_row.first * width
                + first_col.first
                + tap_offset(t / first_col.taps, t % first_col.taps);
            for (r, dst) in line.chunks_exact_mut(block_w).enumerate() {
                let first = corner + r * run_rows.stride * width;
                gather_strided(dst, &plane[first..], run_cols.stride);
            }
        }
        let maxima = &mut scratch.maxima;
        maxima.clear();
        let mut lines = taps.chunks_exact(block_len);
        maxima.extend_from_slice(lines.next().unwrap_or_default());
        for line in lines {
            for (best, &x) in maxima.iter_mut().zip(line) {
                let replace = (x > *best) | x.is_nan();
                *best = if replace { x } else { *best };
            }
        }
        let block_rows = values
            .chunks_exact_mut(out_w)
            .skip(run_rows.range.start)
            .zip(maxima.chunks_exact(block_w));
        for (dst, src) in block_rows {
            dst[run_cols.range.clone()].copy_from_slice(src);
        }
        let Some(indices) = indices else { return };
        // Backwards over the taps, so that the first tap equal to the maximum stays.
        let offsets = &mut scratch.offsets;
        offsets.clear();
        offsets.resize(block_len, 0);
        for (t, line) in taps.chunks_exact(block_len).enumerate().rev() {
            let offset = tap_offset(t / first_col.taps, t % first_col.taps);
            for ((at, &best), &x) in offsets.iter_mut().zip(&*maxima).zip(line) {
                *at = if x == best { offset } else { *at };
            }
        }
        let corner = first_row.first * width + first_col.first;
        let block = maxima
            .chunks_exact(block_w)
            .zip(offsets.chunks_exact(block_w));
        for (r, (maxima, offsets)) in run_rows.range.clone().zip(block) {
            let line = corner + (r - run_rows.range.start) * run_rows.stride * width;
            let outputs = run_cols.range.clone().zip(maxima.iter().zip(offsets));
            for (k, (c, (&best, &offset))) in outputs.enumerate() {
                let at = if best.is_nan() {
                    self.window_max(plane, &rows[r], &cols[c]).1
                } else {
                    line + k * run_cols.stride + offset
                };
                indices[r * out_w + c] = at as i64;
            }
        }
    }

    /// The gradient of [`max`](Self::max) straight from the input: each plane's argmax found
    /// again, then each output's gradient added to its argmax, outputs in order (the same sums
    /// as `max_pool2d_backward` given `max`'s indices, without materializing them).
    fn max_backward<T: Float>(&self, input: &[T], grad_output: &[T]) -> Result<Vec<T>> {
        self.check_len("input", self.input_shape, input.len())?;
        self.check_len("grad_output", self.output_shape(), grad_output.len())?;
        let mut grad_input = vec![T::zero(); input.len()];
        if grad_output.is_empty() {
            return Ok(grad_input);
        }
        let out_plane = self.out_plane();
        grad_input
            .par_chunks_mut(self.in_plane())
            .zip(grad_output.par_chunks(out_plane))
            .zip(input.par_chunks(self.in_plane()))
            .for_each_init(
                || {
                    (
                        MaxScratch::default(),
                        vec![T::zero(); out_plane],
                        vec![0; out_plane],
                    )
                },
                |(scratch, maxima, indices), ((grad_input, grad_output), plane)| {
                    self.max_plane(plane, maxima, Some(indices), scratch);
                    for (&grad, &at) in grad_output.iter().zip(&*indices) {
                        // max_plane's indices lie inside the plane.
                        grad_input[at as usize] += grad;
                    }
                },
            );
        Ok(grad_input)
    }

    /// The average of every window: `scale(sum, row, col)` of its sequential sum.
    fn average<T: Float>(
        &self,
        input: &[T],
        scale: impl Fn(T, &Window, &Window) -> T + Sync,
    ) -> Result<Vec<T>> {
        self.check_len("input", self.input_shape, input.len())?;
        let mut output = vec![T::zero(); self.output_shape().iter().product()];
        if output.is_empty() {
            return Ok(output);
        }
        output
            .par_chunks_mut(self.out_plane())
            .zip(input.par_chunks(self.in_plane()))
            .for_each(|(output, plane)| {
                self.for_each_window(|o, row, col| {
                    let mut sum = T::zero();
                    self.for_each_tap(row, col, |at| sum += plane[at]);
                    output[o] = scale(sum, row, col);
                });
            });
        Ok(output)
    }

    /// The gradient of [`average`](Self::average): each output's gradient, scaled alike, added to
    /// every tap of its window, outputs in order.
    fn average_backward<T: Float>(
        &self,
        grad_output: &[T],
        scale: impl Fn(T, &Window, &Window) -> T + Sync,
    ) -> Result<Vec<T>> {
        self.check_len("grad_output", self.output_shape(), grad_output.len())?;
        let mut grad_input = vec![T::zero(); self.input_shape.iter().product()];
        if grad_output.is_empty() {
            return Ok(grad_input);
        }
        grad_input
            .par_chunks_mut(self.in_plane())
            .zip(grad_output.par_chunks(self.out_plane()))
            .for_each(|(grad_input, grad_output)| {
                self.for_each_window(|o, row, col| {
                    let share = scale(grad_output[o], row, col);
                    self.for_each_tap(row, col, |at| grad_input[at] += share);
                });
            });
        Ok(grad_input)
    }
}

/// `[batch, channels, out_h, out_w]` of `max_pool2d`, or why the parameters do not fit.
pub fn max_pool2d_output_shape(
    input_shape: [usize; 4],
    params: &MaxPool2dParams,
) -> Result<[usize; 4]> {
    Ok(PoolGeometry::max_pool("max_pool2d", input_shape, params)?.output_shape())
}

/// PyTorch's `max_pool2d` with `return_indices`: `input [N, C, H, W]` → the maxima
/// `[N, C, Ho, Wo]` and, per output, the flat index `h * W + w` of its argmax within its input
/// plane. A NaN in a window wins (the last NaN, as in PyTorch).
pub fn max_pool2d<T: Float>(
    input: &[T],
    input_shape: [usize; 4],
    params: &MaxPool2dParams,
) -> Result<(Vec<T>, Vec<i64>)> {
    PoolGeometry::max_pool("max_pool2d", input_shape, params)?.max(input, true)
}

/// The maxima of [`max_pool2d`] without their indices (the forward pass of inference or of a
/// graph that recomputes the indices for its backward pass).
pub fn max_pool2d_values<T: Float>(
    input: &[T],
    input_shape: [usize; 4],
    params: &MaxPool2dParams,
) -> Result<Vec<T>> {
    Ok(PoolGeometry::max_pool("max_pool2d", input_shape, params)?
        .max(input, false)?
        .0)
}

/// The gradient of `max_pool2d` with respect to its input, from the input itself: the argmax
/// found again rather than read from `max_pool2d`'s indices (bit-identical to
/// [`max_pool2d_backward`] with them).
pub fn max_pool2d_input_grad<T: Float>(
    input: &[T],
    input_shape: [usize; 4],
    grad_output: &[T],
    params: &MaxPool2dParams,
) -> Result<Vec<T>> {
    PoolGeometry::max_pool("max_pool2d_input_grad", input_shape, params)?
        .max_backward(input, grad_output)
}

/// The gradient of `max_pool2d` or `adaptive_max_pool2d`: each output's gradient added to its
/// argmax (from `indices`, flat within the input plane), outputs in order.
pub fn max_pool2d_backward<T: Float>(
    grad_output: &[T],
    indices: &[i64],
    input_shape: [usize; 4],
    output_hw: [usize; 2],
) -> Result<Vec<T>> {
    let op = "max_pool2d_backward";
    // Only the shapes matter here; the windows are not needed.
    let g = PoolGeometry::new(op, input_shape, output_hw, |_, _| Ok(AxisWindows::empty()))?;
    g.check_len("grad_output", g.output_shape(), grad_output.len())?;
    g.check_len("indices", g.output_shape(), indices.len())?;
    let in_plane = g.in_plane();
    let mut grad_input = vec![T::zero(); input_shape.iter().product()];
    if grad_output.is_empty() {
        return Ok(grad_input);
    }
    grad_input
        .par_chunks_mut(in_plane)
        .zip(
            grad_output
                .par_chunks(g.out_plane())
                .zip(indices.par_chunks(g.out_plane())),
        )
        .try_for_each(|(grad_input, (grad_output, indices))| {
            for (&grad, &index) in grad_output.iter().zip(indices) {
                let slot = usize::try_from(index)
                    .ok()
                    .and_then(|i| grad_input.get_mut(i));
                let Some(slot) = slot else {
                    return Err(invalid(
                        op,
                        format!("index {index} is outside an input plane of {in_plane} elements"),
                    ));
                };
                *slot += grad;
            }
            Ok(())
        })?;
    Ok(grad_input)
}

/// `[batch, channels, out_h, out_w]` of `avg_pool2d`, or why the parameters do not fit.
pub fn avg_pool2d_output_shape(
    input_shape: [usize; 4],
    params: &AvgPool2dParams,
) -> Result<[usize; 4]> {
    Ok(PoolGeometry::avg_pool("avg_pool2d", input_shape, params)?.output_shape())
}

/// `avg_pool2d`'s scaling of a window sum: one division by the window's divisor, as ATen.
fn avg_pool_scale<T: Float>(params: &AvgPool2dParams) -> impl Fn(T, &Window, &Window) -> T + Sync {
    let (divisor_override, count_include_pad) = (params.divisor_override, params.count_include_pad);
    move |sum: T, row: &Window, col: &Window| {
        let divisor = match divisor_override {
            Some(d) => d as f64,
            None if count_include_pad => row.span as f64 * col.span as f64,
            None => row.taps as f64 * col.taps as f64,
        };
        sum / T::from_f64(divisor)
    }
}

/// PyTorch's `avg_pool2d`: `input [N, C, H, W]` → `[N, C, Ho, Wo]`, each output the sum of its
/// window divided by the window size (see [`AvgPool2dParams`]).
pub fn avg_pool2d<T: Float>(
    input: &[T],
    input_shape: [usize; 4],
    params: &AvgPool2dParams,
) -> Result<Vec<T>> {
    PoolGeometry::avg_pool("avg_pool2d", input_shape, params)?
        .average(input, avg_pool_scale(params))
}

/// The gradient of `avg_pool2d` with respect to its input.
pub fn avg_pool2d_backward<T: Float>(
    grad_output: &[T],
    input_shape: [usize; 4],
    params: &AvgPool2dParams,
) -> Result<Vec<T>> {
    let g = PoolGeometry::avg_pool("avg_pool2d_backward", input_shape, params)?;
    g.average_backward(grad_output, avg_pool_scale(params))
}

/// `adaptive_avg_pool2d`'s scaling of a window sum: divided by the window's height, then by its
/// width, as ATen does.
fn adaptive_scale<T: Float>(sum: T, row: &Window, col: &Window) -> T {
    sum / T::from_f64(row.taps as f64) / T::from_f64(col.taps as f64)
}

/// PyTorch's `adaptive_avg_pool2d`: `input [N, C, H, W]` → `[N, C, Ho, Wo]`, output `(i, j)`
/// the mean of rows `floor(i·H/Ho)..ceil((i+1)·H/Ho)` and likewise for columns.
pub fn adaptive_avg_pool2d<T: Float>(
    input: &[T],
    input_shape: [usize; 4],
    output_hw: [usize; 2],
) -> Result<Vec<T>> {
    PoolGeometry::adaptive("adaptive_avg_pool2d", input_shape, output_hw)?
        .average(input, adaptive_scale)
}

/// The gradient of `adaptive_avg_pool2d` with respect to its input.
pub fn adaptive_avg_pool2d_backward<T: Float>(
    grad_output: &[T],
    input_shape: [usize; 4],
    output_hw: [usize; 2],
) -> Result<Vec<T>> {
    let g = PoolGeometry::adaptive("adaptive_avg_pool2d_backward", input_shape, output_hw)?;
    g.average_backward(grad_output, adaptive_scale)
}

/// PyTorch's `adaptive_max_pool2d` with `return_indices`: the windows of
/// [`adaptive_avg_pool2d`], the maxima and argmax rules of [`max_pool2d`].
pub fn adaptive_max_pool2d<T: Float>(
    input: &[T],
    input_shape: [usize; 4],
    output_hw: [usize; 2],
) -> Result<(Vec<T>, Vec<i64>)> {
    PoolGeometry::adaptive("adaptive_max_pool2d", input_shape, output_hw)?.max(input, true)
}

/// The gradient of `adaptive_max_pool2d`: [`max_pool2d_backward`], which needs only the indices.
pub fn adaptive_max_pool2d_backward<T: Float>(
    grad_output: &[T],
    indices: &[i64],
    input_shape: [usize; 4],
    output_hw: [usize; 2],
) -> Result<Vec<T>> {
    max_pool2d_backward(grad_output, indices, input_shape, output_hw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv::tests::{assert_close, bits, dot, on_pools, seconds_per_call, Rng};

    /// PyTorch's output length, written with signed floor division as in ATen.
    fn naive_out_len(len: usize, k: usize, s: usize, p: usize, d: usize, ceil: bool) -> isize {
        let (len, k, s, p, d) = (len as isize, k as isize, s as isize, p as isize, d as isize);
        let numerator = len + 2 * p - d * (k - 1) - 1 + if ceil { s - 1 } else { 0 };
        let mut out = numerator.div_euclid(s) + 1;
        if ceil && (out - 1) * s >= len + p {
            out -= 1;
        }
        out
    }

    /// Straight from ATen's CPU loops: input positions of window `o` on one axis.
    fn naive_taps(o: usize, len: usize, k: usize, s: usize, p: usize, d: usize) -> Vec<usize> {
        (0..k)
            .map(|j| (o * s + j * d) as isize - p as isize)
            .filter(|&i| (0..len as isize).contains(&i))
            .map(|i| i as usize)
            .collect()
    }

    struct NaivePool {
        out_hw: [usize; 2],
        values: Vec<f64>,
        indices: Vec<i64>,
    }

    /// Naive max pooling over given per-axis windows (lists of taps).
    fn naive_max(x: &[f64], xs: [usize; 4], rows: &[Vec<usize>], cols: &[Vec<usize>]) -> NaivePool {
        let (mut values, mut indices) = (Vec::new(), Vec::new());
        for plane in x.chunks(xs[2] * xs[3]) {
            for row in rows {
                for col in cols {
                    let (mut best, mut at) = (f64::NEG_INFINITY, (row[0] * xs[3] + col[0]) as i64);
                    for &i in row {
                        for &j in col {
                            let v = plane[i * xs[3] + j];
                            if v > best || v.is_nan() {
                                best = v;
                                at = (i * xs[3] + j) as i64;
                            }
                        }
                    }
                    values.push(best);
                    indices.push(at);
                }
            }
        }
        NaivePool {
            out_hw: [rows.len(), cols.len()],
            values,
            indices,
        }
    }

    fn naive_max_backward(
        dy: &[f64],
        indices: &[i64],
        xs: [usize; 4],
        out_plane: usize,
    ) -> Vec<f64> {
        let plane = xs[2] * xs[3];
        let mut dx = vec![0.0; xs.iter().product()];
        for (o, (&g, &i)) in dy.iter().zip(indices).enumerate() {
            dx[o / out_plane * plane + i as usize] += g;
        }
        dx
    }

    /// Naive average pooling: `divisors[r][c]` per window, then the adjoint scatter for `dy`.
    fn naive_avg(
        x: &[f64],
        xs: [usize; 4],
        rows: &[Vec<usize>],
        cols: &[Vec<usize>],
        divisor: impl Fn(usize, usize) -> f64,
        dy: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let (mut y, mut dx) = (Vec::new(), vec![0.0; x.len()]);
        let mut o = 0;
        for (plane, grad) in x.chunks(xs[2] * xs[3]).zip(dx.chunks_mut(xs[2] * xs[3])) {
            for (r, row) in rows.iter().enumerate() {
                for (c, col) in cols.iter().enumerate() {
                    let mut sum = 0.0;
                    for &i in row {
                        for &j in col {
                            sum += plane[i * xs[3] + j];
                            grad[i * xs[3] + j] += dy[o] / divisor(r, c);
                        }
                    }
                    y.push(sum / divisor(r, c));
                    o += 1;
                }
            }
        }
        (y, dx)
    }

    fn random_input(rng: &mut Rng) -> ([usize; 4], Vec<f64>) {
        let xs = [rng.int(0, 2), rng.int(1, 3), rng.int(1, 8), rng.int(1, 8)];
        let mut x = rng.values(xs.iter().product());
        // Ties, infinities and NaNs exercise the argmax rule.
        for v in x.iter_mut() {
            match rng.int(0, 29) {
                0..=2 => *v = 0.5,
                3..=5 => *v = f64::NEG_INFINITY,
                6 => *v = f64::NAN,
                _ => {}
            }
        }
        (xs, x)
    }

    #[test]
    fn max_pool2d_matches_naive_reference() {
        let mut rng = Rng::new(11);
        let mut checked = 0;
        for _ in 0..400 {
            let (xs, x) = random_input(&mut rng);
            let kernel = [rng.int(1, 4), rng.int(1, 4)];
            let p = MaxPool2dParams {
                kernel,
                stride: [rng.int(1, 3), rng.int(1, 3)],
                padding: [rng.int(0, kernel[0] / 2), rng.int(0, kernel[1] / 2)],
                dilation: [rng.int(1, 2), rng.int(1, 2)],
                ceil_mode: rng.int(0, 1) == 1,
            };
            let what = format!("{xs:?} {p:?}");
            let lens: Vec<isize> = (0..2)
                .map(|a| {
                    let (k, s, pad, d) = (p.kernel[a], p.stride[a], p.padding[a], p.dilation[a]);
                    naive_out_len(xs[2 + a], k, s, pad, d, p.ceil_mode)
                })
                .collect();
            let axis = |a: usize| -> Vec<Vec<usize>> {
                (0..lens[a].max(0) as usize)
                    .map(|o| {
                        naive_taps(
                            o,
                            xs[2 + a],
                            p.kernel[a],
                            p.stride[a],
                            p.padding[a],
                            p.dilation[a],
                        )
                    })
                    .collect()
            };
            let (rows, cols) = (axis(0), axis(1));
            let only_padding = rows.iter().chain(&cols).any(|t| t.is_empty());
            if lens.iter().any(|&l| l < 1) || only_padding {
                if !only_padding || xs[0] > 0 {
                    assert!(max_pool2d(&x, xs, &p).is_err(), "{what} must fail");
                }
                continue;
            }
            let naive = naive_max(&x, xs, &rows, &cols);
            let [oh, ow] = naive.out_hw;
            assert_eq!(
                max_pool2d_output_shape(xs, &p).unwrap(),
                [xs[0], xs[1], oh, ow],
                "{what}"
            );
            let (y, indices) = max_pool2d(&x, xs, &p).unwrap();
            assert_eq!(bits(&y), bits(&naive.values), "{what}");
            assert_eq!(indices, naive.indices, "{what}");
            let dy = rng.values(y.len());
            let dx = max_pool2d_backward(&dy, &indices, xs, [oh, ow]).unwrap();
            assert_close(
                &dx,
                &naive_max_backward(&dy, &indices, xs, oh * ow),
                1e-15,
                &what,
            );
            let from_input = max_pool2d_input_grad(&x, xs, &dy, &p).unwrap();
            assert_eq!(bits(&from_input), bits(&dx), "{what}");
            let values = max_pool2d_values(&x, xs, &p).unwrap();
            assert_eq!(bits(&values), bits(&y), "{what}");
            checked += 1;
        }
        assert!(checked > 200, "only {checked} valid cases");
    }

    #[test]
    fn max_pool2d_propagates_nan_and_follows_pytorch_output_sizes() {
        // The last NaN of a window wins; the first of equal maxima wins.
        let x = [1.0, f64::NAN, 3.0, f64::NAN, 2.0, 2.0, 0.0, 2.0];
        let (y, i) = max_pool2d(&x, [1, 2, 2, 2], &MaxPool2dParams::new([2, 2])).unwrap();
        assert!(y[0].is_nan() && i[0] == 3, "{y:?} {i:?}");
        assert_eq!((y[1], i[1]), (2.0, 0));
        // ceil_mode: 5 → 3 windows of 2; with padding 1 on 3, the third window would start in
        // the right padding and is dropped.
        let shape = |h, p: MaxPool2dParams| max_pool2d_output_shape([1, 1, h, h], &p).unwrap()[2];
        let ceil = |k: usize, s: usize, pad: usize| MaxPool2dParams {
            stride: [s; 2],
            padding: [pad; 2],
            ceil_mode: true,
            ..MaxPool2dParams::new([k; 2])
        };
        assert_eq!(shape(5, MaxPool2dParams::new([2, 2])), 2);
        assert_eq!(shape(5, ceil(2, 2, 0)), 3);
        assert_eq!(shape(3, ceil(2, 2, 1)), 2);
        assert_eq!(shape(4, ceil(2, 2, 1)), 3);
        assert_eq!(shape(6, ceil(3, 2, 1)), 4);
    }

    #[test]
    fn avg_pool2d_matches_naive_reference() {
        let mut rng = Rng::new(12);
        let mut checked = 0;
        for _ in 0..400 {
            let xs = [rng.int(0, 2), rng.int(1, 3), rng.int(1, 8), rng.int(1, 8)];
            let x = rng.values(xs.iter().product());
            let kernel = [rng.int(1, 4), rng.int(1, 4)];
            let p = AvgPool2dParams {
                kernel,
                stride: [rng.int(1, 3), rng.int(1, 3)],
                padding: [rng.int(0, kernel[0] / 2), rng.int(0, kernel[1] / 2)],
                ceil_mode: rng.int(0, 1) == 1,
                count_include_pad: rng.int(0, 1) == 1,
                divisor_override: [None, None, Some(rng.int(1, 5))][rng.int(0, 2)],
            };
            let what = format!("{xs:?} {p:?}");
            let lens: Vec<isize> = (0..2)
                .map(|a| {
                    naive_out_len(
                        xs[2 + a],
                        p.kernel[a],
                        p.stride[a],
                        p.padding[a],
                        1,
                        p.ceil_mode,
                    )
                })
                .collect();
            if lens.iter().any(|&l| l < 1) {
                assert!(avg_pool2d(&x, xs, &p).is_err(), "{what} must fail");
                continue;
            }
            let axis = |a: usize| -> Vec<Vec<usize>> {
                (0..lens[a] as usize)
                    .map(|o| naive_taps(o, xs[2 + a], p.kernel[a], p.stride[a], p.padding[a], 1))
                    .collect()
            };
            let (rows, cols) = (axis(0), axis(1));
            // ATen: the window [o·s − p, min(o·s − p + k, len + p)) counts its padding.
            let padded_size = |a: usize, o: usize| {
                let start = (o * p.stride[a]) as isize - p.padding[a] as isize;
                let end = (start + p.kernel[a] as isize).min((xs[2 + a] + p.padding[a]) as isize);
                (end - start) as f64
            };
            let divisor = |r: usize, c: usize| match p.divisor_override {
                Some(d) => d as f64,
                None if p.count_include_pad => padded_size(0, r) * padded_size(1, c),
                None => (rows[r].len() * cols[c].len()) as f64,
            };
            let out_len = xs[0] * xs[1] * rows.len() * cols.len();
            let dy = rng.values(out_len);
            let (want_y, want_dx) = naive_avg(&x, xs, &rows, &cols, divisor, &dy);
            let [oh, ow] = [rows.len(), cols.len()];
            assert_eq!(
                avg_pool2d_output_shape(xs, &p).unwrap(),
                [xs[0], xs[1], oh, ow],
                "{what}"
            );
            let y = avg_pool2d(&x, xs, &p).unwrap();
            assert_close(&y, &want_y, 1e-15, &what);
            let dx = avg_pool2d_backward(&dy, xs, &p).unwrap();
            assert_close(&dx, &want_dx, 1e-15, &what);
            // The backward pass is the adjoint of the (linear) forward pass.
            assert!((dot(&dy, &y) - dot(&dx, &x)).abs() < 1e-12, "{what}");
            checked += 1;
        }
        assert!(checked > 200, "only {checked} valid cases");
    }

    #[test]
    fn adaptive_pools_match_naive_reference() {
        let mut rng = Rng::new(13);
        for _ in 0..200 {
            let (xs, x) = random_input(&mut rng);
            let out_hw = [rng.int(1, 10), rng.int(1, 10)];
            let what = format!("{xs:?} -> {out_hw:?}");
            // PyTorch: start = floor(i·len/out), end = ceil((i+1)·len/out).
            let axis = |a: usize| -> Vec<Vec<usize>> {
                let (len, out) = (xs[2 + a], out_hw[a]);
                (0..out)
                    .map(|i| (i * len / out..((i + 1) * len).div_ceil(out)).collect())
                    .collect()
            };
            let (rows, cols) = (axis(0), axis(1));
            let naive = naive_max(&x, xs, &rows, &cols);
            let (y, indices) = adaptive_max_pool2d(&x, xs, out_hw).unwrap();
            assert_eq!(bits(&y), bits(&naive.values), "{what}");
            assert_eq!(indices, naive.indices, "{what}");
            let dy = rng.values(y.len());
            let dx = adaptive_max_pool2d_backward(&dy, &indices, xs, out_hw).unwrap();
            let want = naive_max_backward(&dy, &indices, xs, out_hw[0] * out_hw[1]);
            assert_close(&dx, &want, 1e-15, &what);

            let x = rng.values(x.len());
            let area = |r: usize, c: usize| (rows[r].len() * cols[c].len()) as f64;
            let (want_y, want_dx) = naive_avg(&x, xs, &rows, &cols, area, &dy);
            assert_close(
                &adaptive_avg_pool2d(&x, xs, out_hw).unwrap(),
                &want_y,
                1e-15,
                &what,
            );
            let dx = adaptive_avg_pool2d_backward(&dy, xs, out_hw).unwrap();
            assert_close(&dx, &want_dx, 1e-15, &what);
        }
    }

    #[test]
    fn results_are_bit_identical_across_thread_counts() {
        let mut rng = Rng::new(14);
        let xs = [5, 7, 13, 11];
        let x: Vec<f32> = rng
            .values(xs.iter().product())
            .into_iter()
            .map(|v| v as f32)
            .collect();
        let max = MaxPool2dParams {
            padding: [1, 1],
            ceil_mode: true,
            ..MaxPool2dParams::new([3, 3])
        };
        let avg = AvgPool2dParams {
            stride: [2, 1],
            padding: [1, 0],
            ..AvgPool2dParams::new([3, 2])
        };
        let runs = on_pools(|| {
            let (y, indices) = max_pool2d(&x, xs, &max).unwrap();
            let out_hw = [
                max_pool2d_output_shape(xs, &max).unwrap()[2],
                max_pool2d_output_shape(xs, &max).unwrap()[3],
            ];
            let a = avg_pool2d(&x, xs, &avg).unwrap();
            let ad = adaptive_avg_pool2d(&x, xs, [4, 5]).unwrap();
            vec![
                bits(&y),
                indices.iter().map(|&i| i as u64).collect(),
                bits(&max_pool2d_backward(&y, &indices, xs, out_hw).unwrap()),
                bits(&max_pool2d_input_grad(&x, xs, &y, &max).unwrap()),
                bits(&a),
                bits(&avg_pool2d_backward(&a, xs, &avg).unwrap()),
                bits(&adaptive_avg_pool2d_backward(&ad, xs, [4, 5]).unwrap()),
                bits(&adaptive_max_pool2d(&x, xs, [4, 5]).unwrap().0),
            ]
        });
        assert!(runs[0] == runs[1] && runs[0] == runs[2]);
    }

    #[test]
    fn invalid_arguments_are_errors() {
        let xs = [2, 3, 6, 6];
        let x = vec![0f32; 2 * 3 * 36];
        let good = MaxPool2dParams::new([2, 2]);
        assert!(max_pool2d(&x, xs, &good).is_ok());
        let bad = [
            MaxPool2dParams {
                kernel: [0, 2],
                ..good
            },
            MaxPool2dParams {
                stride: [0, 2],
                ..good
            },
            MaxPool2dParams {
                dilation: [2, 0],
                ..good
            },
            MaxPool2dParams {
                padding: [2, 0],
                ..good
            },
            MaxPool2dParams::new([7, 2]),
            // Dilated windows of kernel 2 and padding 1 on a 2-wide input: the first window's
            // taps are −1 and 2, both outside the input.
            MaxPool2dParams {
                padding: [1, 1],
                dilation: [3, 3],
                ..good
            },
        ];
        let small = [2, 3, 2, 2];
        for p in &bad {
            assert!(
                max_pool2d(&x, xs, p).is_err() || max_pool2d(&x[..24], small, p).is_err(),
                "{p:?}"
            );
        }
        assert!(max_pool2d(&x[..24], small, &bad[5]).is_err());
        // A stride far beyond the input keeps the first window only.
        let far = MaxPool2dParams {
            stride: [usize::MAX; 2],
            ..good
        };
        assert_eq!(
            max_pool2d(&[1.0f32, 5.0, 3.0, 4.0], [1, 1, 2, 2], &far).unwrap(),
            (vec![5.0], vec![1])
        );
        assert!(max_pool2d(&x[1..], xs, &good).is_err());
        assert!(max_pool2d(&[0f32; 0], [1, 1, 0, 4], &good).is_err());
        assert!(max_pool2d(&[0f32; 0], [1, usize::MAX, 4, 4], &good).is_err());
        // Backward: lengths and indices outside the input plane.
        let (y, indices) = max_pool2d(&x, xs, &good).unwrap();
        assert!(max_pool2d_backward(&y, &indices, xs, [3, 3]).is_ok());
        assert!(max_pool2d_backward(&y[1..], &indices, xs, [3, 3]).is_err());
        assert!(max_pool2d_backward(&y, &indices, xs, [3, 4]).is_err());
        let mut wrong = indices.clone();
        wrong[5] = 36;
        assert!(max_pool2d_backward(&y, &wrong, xs, [3, 3]).is_err());
        wrong[5] = -1;
        assert!(max_pool2d_backward(&y, &wrong, xs, [3, 3]).is_err());
        assert!(max_pool2d_input_grad(&x, xs, &y, &good).is_ok());
        assert!(max_pool2d_input_grad(&x, xs, &y[1..], &good).is_err());
        assert!(max_pool2d_input_grad(&x[1..], xs, &y, &good).is_err());
        assert!(max_pool2d_input_grad(&x, xs, &y, &bad[0]).is_err());
        // Average pooling.
        let avg = AvgPool2dParams::new([3, 3]);
        assert!(avg_pool2d(
            &x,
            xs,
            &AvgPool2dParams {
                divisor_override: Some(0),
                ..avg
            }
        )
        .is_err());
        assert!(avg_pool2d(
            &x,
            xs,
            &AvgPool2dParams {
                padding: [2, 0],
                ..avg
            }
        )
        .is_err());
        assert!(avg_pool2d_backward(&x, xs, &avg).is_err());
        // Adaptive pooling: empty input planes, overflowing outputs, wrong lengths.
        assert!(adaptive_avg_pool2d(&[0f32; 0], [1, 1, 0, 3], [1, 1]).is_err());
        assert!(adaptive_avg_pool2d(&x, xs, [usize::MAX, 2]).is_err());
        assert!(adaptive_max_pool2d(&x[1..], xs, [2, 2]).is_err());
        assert!(adaptive_avg_pool2d_backward(&x, xs, [2, 2]).is_err());
        // An empty batch or an empty output is fine.
        assert_eq!(
            adaptive_avg_pool2d(&[0f32; 0], [0, 3, 5, 5], [2, 2])
                .unwrap()
                .len(),
            0
        );
        assert_eq!(adaptive_max_pool2d(&x, xs, [0, 2]).unwrap().0.len(), 0);
    }

    /// Single-thread timing of 2×2 max pooling forward (with indices) and backward (f32) at the
    /// MNIST CNN's two pool shapes: `cargo test --release -p strata-tensor bench_max_pool --
    /// --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_max_pool2d_layers() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let p = MaxPool2dParams::new([2, 2]);
        for xs in [[64, 32, 28, 28], [64, 64, 14, 14]] {
            let mut rng = Rng::new(9);
            let x: Vec<f32> = rng
                .values(xs.iter().product())
                .into_iter()
                .map(|v| v as f32)
                .collect();
            let (y, indices) = max_pool2d(&x, xs, &p).unwrap();
            let out_hw = [xs[2] / 2, xs[3] / 2];
            let [forward, backward] = pool.install(|| {
                [
                    seconds_per_call(&|| drop(max_pool2d(&x, xs, &p).unwrap())),
                    seconds_per_call(&|| {
                        drop(max_pool2d_backward(&y, &indices, xs, out_hw).unwrap())
                    }),
                ]
            });
            println!(
                "max_pool2d {xs:?}: forward {:.3} ms, backward {:.3} ms",
                forward * 1e3,
                backward * 1e3
            );
        }
    }
}
