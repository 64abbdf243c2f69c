//! Convolution kernels over contiguous NCHW buffers, with PyTorch's semantics: conv2d forward by
//! im2col + gemm, its backward as col2im of Wᵀ·dY (input) and dY·colᵀ (weight); the transposed
//! convolution *is* conv2d's input gradient and reuses that code; conv1d is conv2d with H = 1.
//!
//! Evaluation order: each output element is one gemm dot product (order inside gemm unspecified,
//! but the same for every thread count: gemm only splits rows and columns of its output over
//! threads). The weight gradient sums the batch in chunks whose boundaries depend on the batch
//! size only, and adds the chunk partials in chunk order; the bias gradient sums each plane in a
//! fixed lane order (`sum_in_lanes`). So results are bit-identical whatever the size of the rayon
//! pool.

use super::gemm::{gemm, MatMut, MatRef};
use crate::error::{invalid, Result};
use crate::Float;
use rayon::prelude::*;
use std::ops::Range;

/// conv2d hyper-parameters, per spatial axis `[height, width]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dParams {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

/// conv_transpose2d hyper-parameters, per spatial axis `[height, width]`. `output_padding` adds
/// rows/columns at the bottom/right and must be smaller than the stride or the dilation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTranspose2dParams {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub output_padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

impl Default for ConvTranspose2dParams {
    fn default() -> Self {
        ConvTranspose2dParams {
            stride: [1, 1],
            padding: [0, 0],
            output_padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

/// conv1d hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv1dParams {
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
    pub groups: usize,
}

impl Default for Conv1dParams {
    fn default() -> Self {
        Conv1dParams {
            stride: 1,
            padding: 0,
            dilation: 1,
            groups: 1,
        }
    }
}

impl Conv1dParams {
    /// The same convolution on a height-1 image.
    fn as_2d(&self) -> Conv2dParams {
        Conv2dParams {
            stride: [1, self.stride],
            padding: [0, self.padding],
            dilation: [1, self.dilation],
            groups: self.groups,
        }
    }
}

/// The batch is summed in at most this many chunks for the weight gradient (chunks run in
/// parallel, each holding one partial weight gradient) ...
const MAX_WEIGHT_GRAD_CHUNKS: usize = 16;
/// ... of at least this many samples, so that small batches are not split into tiny gemms.
const MIN_WEIGHT_GRAD_CHUNK: usize = 4;

/// A validated convolution: `input [batch, in_channels, in_h, in_w]` cross-correlated with
/// `weight [out_channels, in_channels / groups, kernel_h, kernel_w]` into
/// `[batch, out_channels, out_h, out_w]`. Construction checks every size product used later.
#[derive(Clone, Copy, Debug)]
struct ConvGeometry {
    op: &'static str,
    batch: usize,
    in_channels: usize,
    in_hw: [usize; 2],
    out_channels: usize,
    kernel: [usize; 2],
    out_hw: [usize; 2],
    params: Conv2dParams,
    sample_input_len: usize,
    sample_output_len: usize,
    weight_len: usize,
    /// Elements of one sample's column matrix `[in_channels * kh * kw, out_h * out_w]`.
    col_len: usize,
}

impl ConvGeometry {
    /// `out_hw` defaults to PyTorch's output size; a smaller one (the input of a transposed
    /// convolution with a large `output_padding`) keeps only the top-left outputs.
    fn new(
        op: &'static str,
        input_shape: [usize; 4],
        weight_shape: [usize; 4],
        params: &Conv2dParams,
        out_hw: Option<[usize; 2]>,
    ) -> Result<Self> {
        let fail = |why: String| {
            invalid(
                op,
                format!("{why} (input {input_shape:?}, weight {weight_shape:?}, {params:?})"),
            )
        };
        let [batch, in_channels, in_h, in_w] = input_shape;
        let [out_channels, group_in, kernel_h, kernel_w] = weight_shape;
        let groups = params.groups;
        check_hyper_params(groups, params.stride, params.dilation, [kernel_h, kernel_w])
            .map_err(|why| fail(why.into()))?;
        if in_channels % groups != 0 || out_channels % groups != 0 {
            return Err(fail(format!(
                "groups {groups} must divide in_channels {in_channels} and out_channels {out_channels}"
            )));
        }
        if group_in != in_channels / groups {
            return Err(fail(format!(
                "weight has {group_in} input channels per group, expected in_channels / groups = {}",
                in_channels / groups
            )));
        }
        let overflow = || fail("sizes overflow usize".into());
        let mut natural = [0; 2];
        for axis in 0..2 {
            let len = [in_h, in_w][axis];
            let k = [kernel_h, kernel_w][axis];
            let pad = params.padding[axis];
            let padded = pad
                .checked_mul(2)
                .and_then(|p| p.checked_add(len))
                .ok_or_else(overflow)?;
            let extent = (k - 1)
                .checked_mul(params.dilation[axis])
                .and_then(|e| e.checked_add(1))
                .ok_or_else(overflow)?;
            if extent > padded {
                return Err(fail(format!(
                    "dilated kernel extent {extent} exceeds padded input size {padded}"
                )));
            }
            natural[axis] = (padded - extent) / params.stride[axis] + 1;
        }
        let out_hw = match out_hw {
            Some(hw) if hw[0] > natural[0] || hw[1] > natural[1] => {
                return Err(fail(format!("output size {hw:?} exceeds {natural:?}")));
            }
            Some(hw) => hw,
            None => natural,
        };
        let product = |dims: &[usize]| {
            dims.iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                .ok_or_else(overflow)
        };
        let sample_input_len = product(&[in_channels, in_h, in_w])?;
        let sample_output_len = product(&[out_channels, out_hw[0], out_hw[1]])?;
        let geometry = ConvGeometry {
            op,
            batch,
            in_channels,
            in_hw: [in_h, in_w],
            out_channels,
            kernel: [kernel_h, kernel_w],
            out_hw,
            params: *params,
            sample_input_len,
            sample_output_len,
            weight_len: product(&weight_shape)?,
            col_len: product(&[in_channels, kernel_h, kernel_w, out_hw[0], out_hw[1]])?,
        };
        // The whole input and output must be addressable too.
        product(&[batch, sample_input_len])?;
        product(&[batch, sample_output_len])?;
        Ok(geometry)
    }

    fn input_shape(&self) -> [usize; 4] {
        [self.batch, self.in_channels, self.in_hw[0], self.in_hw[1]]
    }
    fn output_shape(&self) -> [usize; 4] {
        [
            self.batch,
            self.out_channels,
            self.out_hw[0],
            self.out_hw[1],
        ]
    }
    fn weight_shape(&self) -> [usize; 4] {
        let group_in = self.in_channels / self.params.groups;
        [self.out_channels, group_in, self.kernel[0], self.kernel[1]]
    }
    fn in_plane(&self) -> usize {
        self.in_hw[0] * self.in_hw[1]
    }
    fn out_plane(&self) -> usize {
        self.out_hw[0] * self.out_hw[1]
    }
    fn group_out(&self) -> usize {
        self.out_channels / self.params.groups
    }
    /// Rows of one group's block of the column matrix (and columns of its weight matrix).
    fn group_k(&self) -> usize {
        self.in_channels / self.params.groups * self.kernel[0] * self.kernel[1]
    }
    /// A 1×1 kernel with unit stride, no padding and no cropping: the column matrix of a
    /// sample is the sample itself.
    fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1]
            && self.params.stride == [1, 1]
            && self.params.padding == [0, 0]
            && self.out_hw == self.in_hw
    }

    fn check_len(&self, shape: &[usize], len: usize) -> Result<()> {
        let expected = shape.iter().product::<usize>();
        if len != expected {
            return Err(invalid(
                self.op,
                format!("an operand of shape {shape:?} needs {expected} elements, got {len}"),
            ));
        }
        Ok(())
    }
    /// For each kernel row (column), the output rows (columns) whose tap reads the input rather
    /// than padding. Left empty when the column matrix is empty: nothing is built then, and
    /// nothing bounds the kernel size.
    fn tap_plan(&self) -> TapPlan {
        if self.col_len == 0 {
            return TapPlan {
                rows: Vec::new(),
                cols: Vec::new(),
            };
        }
        let axis = |a: usize| {
            let [stride, pad, dilation] = [
                self.params.stride[a],
                self.params.padding[a],
                self.params.dilation[a],
            ];
            (0..self.kernel[a])
                .map(|k| inside_range(self.out_hw[a], k * dilation, stride, pad, self.in_hw[a]))
                .collect()
        };
        TapPlan {
            rows: axis(0),
            cols: axis(1),
        }
    }

    /// Calls `visit(block)` for each row `(c, ki, kj)` of one sample's column matrix
    /// `[in_channels * kh * kw, out_h * out_w]` with the block of that row that reads the input;
    /// every entry outside the blocks reads zero padding. The blocks depend on the geometry only.
    fn for_each_tap_block(&self, plan: &TapPlan, mut visit: impl FnMut(TapBlock)) {
        if self.col_len == 0 {
            return;
        }
        let [in_h, in_w] = self.in_hw;
        let out_w = self.out_hw[1];
        let [stride_h, stride_w] = self.params.stride;
        let [pad_h, pad_w] = self.params.padding;
        let [dil_h, dil_w] = self.params.dilation;
        // Saturating: a huge stride leaves a single output row, whose step is never used.
        let input_line_step = stride_h.saturating_mul(in_w);
        let mut row = 0;
        for c in 0..self.in_channels {
            for (ki, rows) in plan.rows.iter().enumerate() {
                for (kj, cols) in plan.cols.iter().enumerate() {
                    if !rows.is_empty() && !cols.is_empty() {
                        let ih = rows.start * stride_h + ki * dil_h - pad_h;
                        let iw = cols.start * stride_w + kj * dil_w - pad_w;
                        let mut block = TapBlock {
                            col_offset: (row * self.out_hw[0] + rows.start) * out_w + cols.start,
                            input_offset: (c * in_h + ih) * in_w + iw,
                            lines: rows.len(),
                            len: cols.len(),
                            col_line_step: out_w,
                            input_line_step,
                        };
                        // Whole lines that are also consecutive in the input form one line.
                        if block.len == out_w && stride_w == 1 && input_line_step == out_w {
                            block.len *= block.lines;
                            block.lines = 1;
                            block.col_line_step = block.len;
                            block.input_line_step = block.len;
                        }
                        visit(block);
                    }
                    row += 1;
                }
            }
        }
    }

    /// One sample's column matrix `[in_channels * kh * kw, out_h * out_w]`: the sample itself
    /// when pointwise, else its im2col written into `buffer`.
    fn columns<'a, T: Float>(
        &self,
        plan: &TapPlan,
        sample: &'a [T],
        buffer: &'a mut ColumnBuffer<T>,
    ) -> &'a [T] {
        if self.is_pointwise() {
            return sample;
        }
        let buffer = &mut buffer.0;
        if buffer.len() != self.col_len {
            *buffer = vec![T::zero(); self.col_len];
        }
        let stride_w = self.params.stride[1];
        self.for_each_tap_block(plan, |block| {
            for (col_at, input_at) in block.lines() {
                let line = &mut buffer[col_at..col_at + block.len];
                if stride_w == 1 {
                    line.copy_from_slice(&sample[input_at..input_at + block.len]);
                } else {
                    let taps = sample[input_at..].iter().step_by(stride_w);
                    for (dst, &src) in line.iter_mut().zip(taps) {
                        *dst = src;
                    }
                }
            }
        });
        buffer
    }

    /// col2im: adds each column-matrix entry onto the input element it reads (padding entries
    /// are dropped), in row-major order of the column matrix.
    fn add_columns_to_input<T: Float>(&self, plan: &TapPlan, columns: &[T], sample: &mut [T]) {
        let stride_w = self.params.stride[1];
        self.for_each_tap_block(plan, |block| {
            for (col_at, input_at) in block.lines() {
                let line = &columns[col_at..col_at + block.len];
                if stride_w == 1 {
                    for (dst, &src) in sample[input_at..input_at + block.len].iter_mut().zip(line) {
                        *dst += src;
                    }
                } else {
                    for (dst, &src) in sample[input_at..].iter_mut().step_by(stride_w).zip(line) {
                        *dst += src;
                    }
                }
            }
        });
    }
}

/// One thread's im2col matrix, reused across the samples of one convolution: only
/// [`ConvGeometry::columns`] writes it, and every sample's blocks land on the same entries, so
/// the entries that read padding stay zero from the allocation on.
struct ColumnBuffer<T>(Vec<T>);

impl<T> Default for ColumnBuffer<T> {
    fn default() -> Self {
        ColumnBuffer(Vec::new())
    }
}

/// See [`ConvGeometry::tap_plan`].
struct TapPlan {
    rows: Vec<Range<usize>>,
    cols: Vec<Range<usize>>,
}

/// The entries of one column-matrix row that read the input: `lines` lines of `len` entries,
/// line `l` starting at `col_offset + l * col_line_step` and reading the input from
/// `input_offset + l * input_line_step` on, `stride_w` apart.
#[derive(Clone, Copy, Debug)]
struct TapBlock {
    col_offset: usize,
    input_offset: usize,
    lines: usize,
    len: usize,
    col_line_step: usize,
    input_line_step: usize,
}

impl TapBlock {
    /// `(col_offset, input_offset)` of each line.
    fn lines(self) -> impl Iterator<Item = (usize, usize)> {
        (0..self.lines).map(move |l| {
            (
                self.col_offset + l * self.col_line_step,
                self.input_offset + l * self.input_line_step,
            )
        })
    }
}

/// The output positions `o < out` whose tap `o * stride + offset` (in padded coordinates) lies
/// inside the input `[pad, pad + len)`. Callers guarantee `pad + len` does not overflow.
fn inside_range(out: usize, offset: usize, stride: usize, pad: usize, len: usize) -> Range<usize> {
    let start = pad.saturating_sub(offset).div_ceil(stride);
    let end = (pad + len).saturating_sub(offset).div_ceil(stride).min(out);
    start.min(end)..end
}

/// gemm's own threads are used only when the parallel loop around it has a single item;
/// otherwise the loop is the parallelism and each gemm runs on one thread.
fn gemm_threads(loop_items: usize) -> usize {
    if loop_items == 1 {
        rayon::current_num_threads()
    } else {
        1
    }
}

/// Fills each `plane`-sized chunk of `planes` with its channel's bias.
fn fill_with_bias<T: Float>(planes: &mut [T], plane: usize, bias: &[T]) {
    for (values, &b) in planes.chunks_exact_mut(plane).zip(bias) {
        values.fill(b);
    }
}

/// `y = conv(x, w) + bias`, per sample in parallel.
fn forward<T: Float>(
    g: &ConvGeometry,
    input: &[T],
    weight: &[T],
    bias: Option<&[T]>,
) -> Result<Vec<T>> {
    g.check_len(&g.input_shape(), input.len())?;
    g.check_len(&g.weight_shape(), weight.len())?;
    if let Some(b) = bias {
        g.check_len(&[g.out_channels], b.len())?;
    }
    let mut output = vec![T::zero(); g.batch * g.sample_output_len];
    if output.is_empty() {
        return Ok(output);
    }
    let (out_plane, group_out, group_k) = (g.out_plane(), g.group_out(), g.group_k());
    let plan = g.tap_plan();
    let threads = gemm_threads(g.batch);
    output
        .par_chunks_mut(g.sample_output_len)
        .enumerate()
        .try_for_each_init(ColumnBuffer::default, |buffer, (n, out)| {
            let sample = &input[n * g.sample_input_len..(n + 1) * g.sample_input_len];
            let columns = g.columns(&plan, sample, buffer);
            if let Some(b) = bias {
                fill_with_bias(out, out_plane, b);
            }
            for group in 0..g.params.groups {
                gemm(
                    MatMut::row_major(out, group * group_out * out_plane, group_out, out_plane),
                    bias.is_some(),
                    MatRef::row_major(weight, group * group_out * group_k, group_out, group_k),
                    MatRef::row_major(columns, group * group_k * out_plane, group_k, out_plane),
                    threads,
                )?;
            }
            Ok(())
        })?;
    Ok(output)
}

/// `dx = col2im(Wᵀ · dy) + bias` (the bias, per input channel, serves the transposed
/// convolution), per sample in parallel.
fn input_grad<T: Float>(
    g: &ConvGeometry,
    grad_output: &[T],
    weight: &[T],
    bias: Option<&[T]>,
) -> Result<Vec<T>> {
    g.check_len(&g.output_shape(), grad_output.len())?;
    g.check_len(&g.weight_shape(), weight.len())?;
    if let Some(b) = bias {
        g.check_len(&[g.in_channels], b.len())?;
    }
    let mut grad_input = vec![T::zero(); g.batch * g.sample_input_len];
    if grad_input.is_empty() {
        return Ok(grad_input);
    }
    let (in_plane, out_plane) = (g.in_plane(), g.out_plane());
    let (group_out, group_k) = (g.group_out(), g.group_k());
    let pointwise = g.is_pointwise();
    let plan = g.tap_plan();
    let threads = gemm_threads(g.batch);
    grad_input
        .par_chunks_mut(g.sample_input_len)
        .enumerate()
        .try_for_each_init(Vec::new, |buffer, (n, dx)| {
            let dy = &grad_output[n * g.sample_output_len..(n + 1) * g.sample_output_len];
            if let Some(b) = bias {
                fill_with_bias(dx, in_plane, b);
            }
            // dcol = Wᵀ · dy, group by group; a pointwise convolution's column matrix is the
            // sample itself, so its dcol is written (or, with a bias, added) straight into dx.
            let column_grad = |columns: &mut [T], accumulate: bool| {
                (0..g.params.groups).try_for_each(|group| {
                    gemm(
                        MatMut::row_major(columns, group * group_k * out_plane, group_k, out_plane),
                        accumulate,
                        MatRef::row_major(weight, group * group_out * group_k, group_out, group_k)
                            .t(),
                        MatRef::row_major(dy, group * group_out * out_plane, group_out, out_plane),
                        threads,
                    )
                })
            };
            if pointwise {
                column_grad(dx, bias.is_some())
            } else {
                buffer.resize(g.col_len, T::zero());
                column_grad(buffer, false)?;
                g.add_columns_to_input(&plan, buffer, dx);
                Ok(())
            }
        })?;
    Ok(grad_input)
}

/// `dw = Σ_n dy_n · col(x_n)ᵀ`, the batch split into chunks that depend on the batch size only;
/// chunk partials are computed in parallel and added in chunk order. Each group's partial is
/// accumulated transposed, `dwᵀ += col · dyᵀ` in a row-major `[group_k, group_out]` block,
/// because gemm runs that orientation markedly faster (≈ 109 vs 91 GFLOP/s single-thread at
/// the MNIST CNN's conv2 shape); the blocks are transposed once at the end.
fn weight_grad<T: Float>(g: &ConvGeometry, input: &[T], grad_output: &[T]) -> Result<Vec<T>> {
    g.check_len(&g.input_shape(), input.len())?;
    g.check_len(&g.output_shape(), grad_output.len())?;
    let chunk = g
        .batch
        .div_ceil(MAX_WEIGHT_GRAD_CHUNKS)
        .max(MIN_WEIGHT_GRAD_CHUNK);
    let chunks = g.batch.div_ceil(chunk);
    if chunks == 0 || g.weight_len == 0 {
        return Ok(vec![T::zero(); g.weight_len]);
    }
    let (out_plane, group_out, group_k) = (g.out_plane(), g.group_out(), g.group_k());
    let plan = g.tap_plan();
    let threads = gemm_threads(chunks);
    let partials = (0..chunks)
        .into_par_iter()
        .map_init(ColumnBuffer::default, |buffer, c| {
            let mut dwt = vec![T::zero(); g.weight_len];
            for n in c * chunk..((c + 1) * chunk).min(g.batch) {
                let sample = &input[n * g.sample_input_len..(n + 1) * g.sample_input_len];
                let dy = &grad_output[n * g.sample_output_len..(n + 1) * g.sample_output_len];
                let columns = g.columns(&plan, sample, buffer);
                for group in 0..g.params.groups {
                    gemm(
                        MatMut::row_major(
                            &mut dwt,
                            group * group_out * group_k,
                            group_k,
                            group_out,
                        ),
                        true,
                        MatRef::row_major(columns, group * group_k * out_plane, group_k, out_plane),
                        MatRef::row_major(dy, group * group_out * out_plane, group_out, out_plane)
                            .t(),
                        threads,
                    )?;
                }
            }
            Ok(dwt)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut partials = partials.into_iter();
    let mut total = partials.next().unwrap_or_default();
    for partial in partials {
        for (t, p) in total.iter_mut().zip(partial) {
            *t += p;
        }
    }
    // Each group block [group_k, group_out] → [group_out, group_k].
    let block = group_out * group_k;
    let mut dw = vec![T::zero(); g.weight_len];
    for (dst, src) in dw.chunks_mut(block).zip(total.chunks(block)) {
        for (o, row) in dst.chunks_mut(group_k).enumerate() {
            for (q, d) in row.iter_mut().enumerate() {
                *d = src[q * group_out + o];
            }
        }
    }
    Ok(dw)
}

/// Checks the hyper-parameters every convolution shares; the error says what is wrong.
fn check_hyper_params(
    groups: usize,
    stride: [usize; 2],
    dilation: [usize; 2],
    kernel: [usize; 2],
) -> std::result::Result<(), &'static str> {
    if groups == 0 {
        Err("groups must be positive")
    } else if stride.contains(&0) || dilation.contains(&0) {
        Err("stride and dilation must be positive")
    } else if kernel.contains(&0) {
        Err("kernel size must be positive")
    } else {
        Ok(())
    }
}

/// The convolution whose input gradient the transposed convolution `input ⋆ᵀ weight` is: its
/// input has the transposed convolution's output shape, and its output the transposed input's.
fn transposed_geometry(
    op: &'static str,
    input_shape: [usize; 4],
    weight_shape: [usize; 4],
    params: &ConvTranspose2dParams,
) -> Result<ConvGeometry> {
    let fail = |why: String| {
        invalid(
            op,
            format!("{why} (input {input_shape:?}, weight {weight_shape:?}, {params:?})"),
        )
    };
    let [batch, in_channels, in_h, in_w] = input_shape;
    let [weight_in, group_out, kernel_h, kernel_w] = weight_shape;
    let groups = params.groups;
    check_hyper_params(groups, params.stride, params.dilation, [kernel_h, kernel_w])
        .map_err(|why| fail(why.into()))?;
    if weight_in != in_channels || in_channels % groups != 0 {
        return Err(fail(format!(
            "weight must have in_channels = {in_channels} rows, divisible by groups {groups}"
        )));
    }
    let mut out_hw = [0; 2];
    for axis in 0..2 {
        let [len, k] = [[in_h, in_w][axis], [kernel_h, kernel_w][axis]];
        let [stride, dilation] = [params.stride[axis], params.dilation[axis]];
        let [pad, extra] = [params.padding[axis], params.output_padding[axis]];
        if extra >= stride && extra >= dilation {
            return Err(fail(
                "output_padding must be smaller than stride or dilation".into(),
            ));
        }
        if len == 0 {
            return Err(fail("input height and width must be positive".into()));
        }
        // (len - 1) * stride + dilation * (k - 1) + output_padding + 1 - 2 * padding
        let full = (len - 1)
            .checked_mul(stride)
            .zip((k - 1).checked_mul(dilation))
            .and_then(|(a, b)| a.checked_add(b)?.checked_add(extra)?.checked_add(1));
        out_hw[axis] = match full.zip(pad.checked_mul(2)) {
            Some((full, pads)) if full > pads => full - pads,
            Some(_) => return Err(fail("output size would not be positive".into())),
            None => return Err(fail("sizes overflow usize".into())),
        };
    }
    let out_channels = group_out
        .checked_mul(groups)
        .ok_or_else(|| fail("sizes overflow usize".into()))?;
    let conv_params = Conv2dParams {
        stride: params.stride,
        padding: params.padding,
        dilation: params.dilation,
        groups,
    };
    ConvGeometry::new(
        op,
        [batch, out_channels, out_hw[0], out_hw[1]],
        weight_shape,
        &conv_params,
        Some([in_h, in_w]),
    )
}

/// `[batch, out_channels, out_h, out_w]` of `conv2d`, or why the shapes do not fit.
pub fn conv2d_output_shape(
    input_shape: [usize; 4],
    weight_shape: [usize; 4],
    params: &Conv2dParams,
) -> Result<[usize; 4]> {
    Ok(ConvGeometry::new("conv2d", input_shape, weight_shape, params, None)?.output_shape())
}

/// Floating-point operations (2 per multiply-add) of `conv2d`'s forward pass; its input and
/// weight gradients cost the same each.
pub fn conv2d_flops(
    input_shape: [usize; 4],
    weight_shape: [usize; 4],
    params: &Conv2dParams,
) -> Result<f64> {
    let g = ConvGeometry::new("conv2d", input_shape, weight_shape, params, None)?;
    Ok(2.0 * g.batch as f64 * g.sample_output_len as f64 * g.group_k() as f64)
}

/// PyTorch's `conv2d`: `input [N, C, H, W]`, `weight [O, C / groups, kh, kw]`, optional
/// `bias [O]` → `[N, O, Ho, Wo]` with `Ho = (H + 2p − d(kh − 1) − 1) / s + 1`.
pub fn conv2d<T: Float>(
    input: &[T],
    input_shape: [usize; 4],
    weight: &[T],
    weight_shape: [usize; 4],
    bias: Option<&[T]>,
    params: &Conv2dParams,
) -> Result<Vec<T>> {
    let g = ConvGeometry::new("conv2d", input_shape, weight_shape, params, None)?;
    forward(&g, input, weight, bias)
}

/// The gradient of `conv2d` with respect to its input, given `grad_output` (of the output shape).
pub fn conv2d_backward_input<T: Float>(
    grad_output: &[T],
    weight: &[T],
    input_shape: [usize; 4],
    weight_shape: [usize; 4],
    params: &Conv2dParams,
) -> Result<Vec<T>> {
    let g = ConvGeometry::new(
        "conv2d_backward_input",
        input_shape,
        weight_shape,
        params,
        None,
    )?;
    input_grad(&g, grad_output, weight, None)
}

/// The gradient of `conv2d` with respect to its weight, given `grad_output`.
pub fn conv2d_backward_weight<T: Float>(
    grad_output: &[T],
    input: &[T],
    input_shape: [usize; 4],
    weight_shape: [usize; 4],
    params: &Conv2dParams,
) -> Result<Vec<T>> {
    let g = ConvGeometry::new(
        "conv2d_backward_weight",
        input_shape,
        weight_shape,
        params,
        None,
    )?;
    weight_grad(&g, input, grad_output)
}

/// The gradient of any convolution's bias: `grad_output [N, C, spatial...]` summed over all axes
/// but the channel. Order: within a plane, element `i` goes to partial sum `i mod 8` and the
/// partials are added pairwise (see `sum_in_lanes`); the planes of a channel are added in batch
/// order.
pub fn conv_backward_bias<T: Float>(grad_output: &[T], output_shape: &[usize]) -> Result<Vec<T>> {
    let op = "conv_backward_bias";
    let [batch, channels, spatial @ ..] = output_shape else {
        return Err(invalid(
            op,
            format!("output shape {output_shape:?} has no channel axis"),
        ));
    };
    let plane = spatial
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let len = plane.and_then(|p| p.checked_mul(*batch)?.checked_mul(*channels));
    let (Some(plane), Some(len)) = (plane, len) else {
        return Err(invalid(
            op,
            format!("output shape {output_shape:?} overflows usize"),
        ));
    };
    if grad_output.len() != len {
        return Err(invalid(
            op,
            format!(
                "grad_output has {} elements, shape {output_shape:?} needs {len}",
                grad_output.len()
            ),
        ));
    }
    let mut grad_bias = vec![T::zero(); *channels];
    if len == 0 {
        return Ok(grad_bias);
    }
    for sample in grad_output.chunks_exact(channels * plane) {
        for (g, values) in grad_bias.iter_mut().zip(sample.chunks_exact(plane)) {
            *g += sum_in_lanes(values);
        }
    }
    Ok(grad_bias)
}

/// `Σ values` in a fixed order that vectorizes: element `i` goes to partial sum `i mod 8`, and
/// the partial sums `p` are added as `((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7))`.
fn sum_in_lanes<T: Float>(values: &[T]) -> T {
    let mut lanes = [T::zero(); 8];
    let chunks = values.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    for (lane, &v) in lanes.iter_mut().zip(tail) {
        *lane += v;
    }
    let [p0, p1, p2, p3, p4, p5, p6, p7] = lanes;
    ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7))
}

/// `[batch, out_channels, out_h, out_w]` of `conv_transpose2d`, or why the shapes do not fit.
pub fn conv_transpose2d_output_shape(
    input_shape: [usize; 4],
    weight_shape: [usize; 4],
    params: &ConvTranspose2dParams,
) -> Result<[usize; 4]> {
    Ok(transposed_geometry("conv_transpose2d", input_shape, weight_shape, params)?.input_shape())
}

/// PyTorch's `conv_transpose2d`: `input [N, C_in, H, W]`, `weight [C_in, C_out / groups, kh,
/// kw]`, optional `bias [C_out]` → `[N, C_out, Ho, Wo]` with
/// `Ho = (H − 1)s − 2p + d(kh − 1) + output_padding + 1`. It is the input gradient of the
/// conv2d with the same weight and parameters, and is computed as such.
pub fn conv_transpose2d<T: Float>(
    input: &[T],
    input_shape: [usize; 4],
    weight: &[T],
    weight_shape: [usize; 4],
    bias: Option<&[T]>,
    params: &ConvTranspose2dParams,
) -> Result<Vec<T>> {
    let g = transposed_geometry("conv_transpose2d", input_shape, weight_shape, params)?;
    input_grad(&g, input, weight, bias)
}

/// The gradient of `conv_transpose2d` with respect to its input: a conv2d of `grad_output`.
pub fn conv_transpose2d_backward_input<T: Float>(
    grad_output: &[T],
    weight: &[T],
    input_shape: [usize; 4],
    weight_shape: [usize; 4],
    params: &ConvTranspose2dParams,
) -> Result<Vec<T>> {
    let op = "conv_transpose2d_backward_input";
    let g = transposed_geometry(op, input_shape, weight_shape, params)?;
    forward(&g, grad_output, weight, None)
}

/// The gradient of `conv_transpose2d` with respect to its weight.
pub fn conv_transpose2d_backward_weight<T: Float>(
    grad_output: &[T],
    input: &[T],
    input_shape: [usize; 4],
    weight_shape: [usize; 4],
    params: &ConvTranspose2dParams,
) -> Result<Vec<T>> {
    let op = "conv_transpose2d_backward_weight";
    let g = transposed_geometry(op, input_shape, weight_shape, params)?;
    // In the conv2d view, grad_output is the input and the transposed input the output gradient.
    weight_grad(&g, grad_output, input)
}

/// `[N, C, L]` as the height-1 image `[N, C, 1, L]`.
fn as_image([n, c, len]: [usize; 3]) -> [usize; 4] {
    [n, c, 1, len]
}

fn conv1d_geometry(
    op: &'static str,
    input_shape: [usize; 3],
    weight_shape: [usize; 3],
    params: &Conv1dParams,
) -> Result<ConvGeometry> {
    ConvGeometry::new(
        op,
        as_image(input_shape),
        as_image(weight_shape),
        &params.as_2d(),
        None,
    )
}

/// `[batch, out_channels, out_len]` of `conv1d`, or why the shapes do not fit.
pub fn conv1d_output_shape(
    input_shape: [usize; 3],
    weight_shape: [usize; 3],
    params: &Conv1dParams,
) -> Result<[usize; 3]> {
    let [n, o, _, len] =
        conv1d_geometry("conv1d", input_shape, weight_shape, params)?.output_shape();
    Ok([n, o, len])
}

/// PyTorch's `conv1d`: `input [N, C, L]`, `weight [O, C / groups, k]`, optional `bias [O]` →
/// `[N, O, Lo]`; conv2d on height-1 images.
pub fn conv1d<T: Float>(
    input: &[T],
    input_shape: [usize; 3],
    weight: &[T],
    weight_shape: [usize; 3],
    bias: Option<&[T]>,
    params: &Conv1dParams,
) -> Result<Vec<T>> {
    forward(
        &conv1d_geometry("conv1d", input_shape, weight_shape, params)?,
        input,
        weight,
        bias,
    )
}

/// The gradient of `conv1d` with respect to its input.
pub fn conv1d_backward_input<T: Float>(
    grad_output: &[T],
    weight: &[T],
    input_shape: [usize; 3],
    weight_shape: [usize; 3],
    params: &Conv1dParams,
) -> Result<Vec<T>> {
    let g = conv1d_geometry("conv1d_backward_input", input_shape, weight_shape, params)?;
    input_grad(&g, grad_output, weight, None)
}

/// The gradient of `conv1d` with respect to its weight.
pub fn conv1d_backward_weight<T: Float>(
    grad_output: &[T],
    input: &[T],
    input_shape: [usize; 3],
    weight_shape: [usize; 3],
    params: &Conv1dParams,
) -> Result<Vec<T>> {
    let g = conv1d_geometry("conv1d_backward_weight", input_shape, weight_shape, params)?;
    weight_grad(&g, input, grad_output)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// splitmix64: a tiny deterministic generator for test data.
    pub(crate) struct Rng(u64);

    impl Rng {
        pub(crate) fn new(seed: u64) -> Self {
            Rng(seed)
        }
        pub(crate) fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        /// Uniform in `lo..=hi`.
        pub(crate) fn int(&mut self, lo: usize, hi: usize) -> usize {
            lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
        }
        /// Uniform in [-1, 1).
        pub(crate) fn uniform(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        }
        pub(crate) fn values(&mut self, len: usize) -> Vec<f64> {
            (0..len).map(|_| self.uniform()).collect()
        }
    }

    /// Runs `f` on rayon pools of 1, 2 and 3 threads.
    pub(crate) fn on_pools<R: Send>(f: impl Fn() -> R + Sync) -> Vec<R> {
        [1, 2, 3]
            .into_iter()
            .map(|threads| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap()
                    .install(&f)
            })
            .collect()
    }

    pub(crate) fn bits<T: Float>(values: &[T]) -> Vec<u64> {
        values.iter().map(|v| v.to_f64().to_bits()).collect()
    }

    pub(crate) fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: length");
        let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= tol * scale,
                "{what}[{i}]: got {g}, want {w}"
            );
        }
    }

    pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    fn to_f32(v: &[f64]) -> Vec<f32> {
        v.iter().map(|&x| x as f32).collect()
    }

    fn to_f64(v: &[f32]) -> Vec<f64> {
        v.iter().map(|&x| x as f64).collect()
    }

    fn at(shape: [usize; 4], i: usize, j: usize, k: usize, l: usize) -> usize {
        ((i * shape[1] + j) * shape[2] + k) * shape[3] + l
    }

    /// Straight from the definition: the padded-input position a tap reads, if it is inside.
    fn tap(
        o: usize,
        k: usize,
        stride: usize,
        pad: usize,
        dilation: usize,
        len: usize,
    ) -> Option<usize> {
        let pos = (o * stride + k * dilation) as isize - pad as isize;
        (0..len as isize).contains(&pos).then_some(pos as usize)
    }

    fn conv_len(len: usize, k: usize, stride: usize, pad: usize, dilation: usize) -> Option<usize> {
        let span = (len + 2 * pad) as isize - (dilation * (k - 1) + 1) as isize;
        (span >= 0).then(|| span as usize / stride + 1)
    }

    /// One product of a convolution: output element `y` accumulates `x[x] · w[w]`.
    struct Term {
        y: usize,
        x: usize,
        w: usize,
    }

    struct Naive {
        out_shape: [usize; 4],
        output: Vec<f64>,
        grad_input: Vec<f64>,
        grad_weight: Vec<f64>,
    }

    /// The bilinear map given by its terms, and its gradients for `grad_output`.
    fn naive_eval(
        x: &[f64],
        w: &[f64],
        out_shape: [usize; 4],
        terms: &[Term],
        grad_output: impl FnOnce(usize) -> Vec<f64>,
    ) -> Naive {
        let mut output = vec![0.0; out_shape.iter().product()];
        for t in terms {
            output[t.y] += x[t.x] * w[t.w];
        }
        let dy = grad_output(output.len());
        let (mut grad_input, mut grad_weight) = (vec![0.0; x.len()], vec![0.0; w.len()]);
        for t in terms {
            grad_input[t.x] += dy[t.y] * w[t.w];
            grad_weight[t.w] += dy[t.y] * x[t.x];
        }
        Naive {
            out_shape,
            output,
            grad_input,
            grad_weight,
        }
    }

    /// The naive conv2d: output `(n, o, oy, ox)` sums `x(n, c, oy·s − p + ky·d, ...) ·
    /// w(o, c, ky, kx)` over the input channels `c` of the group of `o` and the kernel.
    fn naive_conv2d(
        x: &[f64],
        xs: [usize; 4],
        w: &[f64],
        ws: [usize; 4],
        p: &Conv2dParams,
        grad_output: impl FnOnce(usize) -> Vec<f64>,
    ) -> Option<Naive> {
        let ho = conv_len(xs[2], ws[2], p.stride[0], p.padding[0], p.dilation[0])?;
        let wo = conv_len(xs[3], ws[3], p.stride[1], p.padding[1], p.dilation[1])?;
        let ys = [xs[0], ws[0], ho, wo];
        let mut terms = Vec::new();
        let out_per_group = ws[0] / p.groups;
        for n in 0..xs[0] {
            for o in 0..ws[0] {
                for (oy, ox) in (0..ho).flat_map(|a| (0..wo).map(move |b| (a, b))) {
                    for c in 0..ws[1] {
                        let ic = o / out_per_group * ws[1] + c;
                        for ky in 0..ws[2] {
                            for kx in 0..ws[3] {
                                let iy =
                                    tap(oy, ky, p.stride[0], p.padding[0], p.dilation[0], xs[2]);
                                let ix =
                                    tap(ox, kx, p.stride[1], p.padding[1], p.dilation[1], xs[3]);
                                if let (Some(iy), Some(ix)) = (iy, ix) {
                                    terms.push(Term {
                                        y: at(ys, n, o, oy, ox),
                                        x: at(xs, n, ic, iy, ix),
                                        w: at(ws, o, c, ky, kx),
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        Some(naive_eval(x, w, ys, &terms, grad_output))
    }

    /// The naive transposed convolution: every input element `(n, c, iy, ix)` scatters
    /// `x · w(c, oc, ky, kx)` to output `(n, o, iy·s − p + ky·d, ...)`, `o` the `oc`-th output
    /// channel of the group of `c`.
    fn naive_conv_transpose2d(
        x: &[f64],
        xs: [usize; 4],
        w: &[f64],
        ws: [usize; 4],
        p: &ConvTranspose2dParams,
        grad_output: impl FnOnce(usize) -> Vec<f64>,
    ) -> Option<Naive> {
        let out_len = |axis: usize| {
            let len = (xs[2 + axis] as isize - 1) * p.stride[axis] as isize
                - 2 * p.padding[axis] as isize
                + (p.dilation[axis] * (ws[2 + axis] - 1) + p.output_padding[axis] + 1) as isize;
            (len > 0).then_some(len as usize)
        };
        let ys = [xs[0], ws[1] * p.groups, out_len(0)?, out_len(1)?];
        let in_per_group = xs[1] / p.groups;
        let mut terms = Vec::new();
        for n in 0..xs[0] {
            for c in 0..xs[1] {
                for (iy, ix) in (0..xs[2]).flat_map(|a| (0..xs[3]).map(move |b| (a, b))) {
                    for oc in 0..ws[1] {
                        let o = c / in_per_group * ws[1] + oc;
                        for ky in 0..ws[2] {
                            for kx in 0..ws[3] {
                                let oy = (iy * p.stride[0] + ky * p.dilation[0]) as isize
                                    - p.padding[0] as isize;
                                let ox = (ix * p.stride[1] + kx * p.dilation[1]) as isize
                                    - p.padding[1] as isize;
                                if (0..ys[2] as isize).contains(&oy)
                                    && (0..ys[3] as isize).contains(&ox)
                                {
                                    terms.push(Term {
                                        y: at(ys, n, o, oy as usize, ox as usize),
                                        x: at(xs, n, c, iy, ix),
                                        w: at(ws, c, oc, ky, kx),
                                    });
                                }
                            }
                        }
                    }
                }
            }
        }
        Some(naive_eval(x, w, ys, &terms, grad_output))
    }

    fn naive_bias_grad(dy: &[f64], ys: [usize; 4]) -> Vec<f64> {
        let mut grad = vec![0.0; ys[1]];
        for n in 0..ys[0] {
            for (o, g) in grad.iter_mut().enumerate() {
                for (y, x) in (0..ys[2]).flat_map(|a| (0..ys[3]).map(move |b| (a, b))) {
                    *g += dy[at(ys, n, o, y, x)];
                }
            }
        }
        grad
    }

    fn add_bias(output: &mut [f64], ys: [usize; 4], bias: &[f64]) {
        let plane = ys[2] * ys[3];
        for (i, v) in output.iter_mut().enumerate() {
            *v += bias[i / plane % ys[1]];
        }
    }

    struct Case {
        xs: [usize; 4],
        ws: [usize; 4],
        params: Conv2dParams,
    }

    fn random_case(rng: &mut Rng) -> Case {
        let groups = rng.int(1, 3);
        let xs = [
            rng.int(0, 3),
            groups * rng.int(1, 2),
            rng.int(1, 7),
            rng.int(1, 7),
        ];
        let ws = [
            groups * rng.int(1, 2),
            xs[1] / groups,
            rng.int(1, 4),
            rng.int(1, 4),
        ];
        let params = Conv2dParams {
            stride: [rng.int(1, 3), rng.int(1, 3)],
            padding: [rng.int(0, 2), rng.int(0, 2)],
            dilation: [rng.int(1, 2), rng.int(1, 2)],
            groups,
        };
        Case { xs, ws, params }
    }

    /// Checks conv2d and its three gradients against the naive reference, in f64 and f32.
    fn check_conv2d_case(case: &Case, rng: &mut Rng) {
        let Case { xs, ws, params: p } = *case;
        let x = rng.values(xs.iter().product());
        let w = rng.values(ws.iter().product());
        let bias = rng.values(ws[0]);
        let mut dy = Vec::new();
        let Some(naive) = naive_conv2d(&x, xs, &w, ws, &p, |len| {
            dy = rng.values(len);
            dy.clone()
        }) else {
            assert!(
                conv2d(&x, xs, &w, ws, None, &p).is_err(),
                "{xs:?} {ws:?} {p:?} must fail"
            );
            return;
        };
        let what = format!("{xs:?} {ws:?} {p:?}");
        let ys = naive.out_shape;
        assert_eq!(conv2d_output_shape(xs, ws, &p).unwrap(), ys, "{what}");
        let mut want = naive.output.clone();
        add_bias(&mut want, ys, &bias);
        let y = conv2d(&x, xs, &w, ws, Some(&bias), &p).unwrap();
        assert_close(&y, &want, 1e-12, &format!("conv2d {what}"));
        let dx = conv2d_backward_input(&dy, &w, xs, ws, &p).unwrap();
        assert_close(&dx, &naive.grad_input, 1e-12, &format!("grad_input {what}"));
        let dw = conv2d_backward_weight(&dy, &x, xs, ws, &p).unwrap();
        assert_close(
            &dw,
            &naive.grad_weight,
            1e-12,
            &format!("grad_weight {what}"),
        );
        let db = conv_backward_bias(&dy, &ys).unwrap();
        assert_close(
            &db,
            &naive_bias_grad(&dy, ys),
            1e-12,
            &format!("grad_bias {what}"),
        );

        let y32 = conv2d(&to_f32(&x), xs, &to_f32(&w), ws, Some(&to_f32(&bias)), &p).unwrap();
        assert_close(&to_f64(&y32), &want, 1e-5, &format!("conv2d f32 {what}"));
        let dx32 = conv2d_backward_input(&to_f32(&dy), &to_f32(&w), xs, ws, &p).unwrap();
        assert_close(
            &to_f64(&dx32),
            &naive.grad_input,
            1e-5,
            &format!("grad_input f32 {what}"),
        );
        let dw32 = conv2d_backward_weight(&to_f32(&dy), &to_f32(&x), xs, ws, &p).unwrap();
        assert_close(
            &to_f64(&dw32),
            &naive.grad_weight,
            1e-5,
            &format!("grad_weight f32 {what}"),
        );
    }

    #[test]
    fn conv2d_matches_naive_reference_on_random_shapes() {
        let mut rng = Rng::new(1);
        for _ in 0..300 {
            let case = random_case(&mut rng);
            check_conv2d_case(&case, &mut rng);
        }
    }

    #[test]
    fn conv2d_matches_naive_reference_on_edge_shapes() {
        let mut rng = Rng::new(2);
        let p = |stride, padding, dilation, groups| Conv2dParams {
            stride: [stride; 2],
            padding: [padding; 2],
            dilation: [dilation; 2],
            groups,
        };
        let cases = [
            // Pointwise (the no-im2col path), with groups, batch 1 and an empty batch.
            Case {
                xs: [2, 4, 5, 3],
                ws: [6, 2, 1, 1],
                params: p(1, 0, 1, 2),
            },
            Case {
                xs: [1, 3, 4, 4],
                ws: [5, 3, 1, 1],
                params: p(1, 0, 1, 1),
            },
            Case {
                xs: [0, 3, 4, 4],
                ws: [5, 3, 1, 1],
                params: p(1, 0, 1, 1),
            },
            Case {
                xs: [0, 3, 4, 4],
                ws: [5, 3, 3, 3],
                params: p(1, 1, 1, 1),
            },
            // 1×1 kernels that are not pointwise: strided and padded.
            Case {
                xs: [2, 2, 5, 5],
                ws: [3, 2, 1, 1],
                params: p(2, 0, 1, 1),
            },
            Case {
                xs: [2, 2, 3, 3],
                ws: [3, 2, 1, 1],
                params: p(1, 1, 1, 1),
            },
            // Kernel equal to the (padded) input: a 1×1 output.
            Case {
                xs: [2, 2, 4, 3],
                ws: [3, 2, 4, 3],
                params: p(1, 0, 1, 1),
            },
            Case {
                xs: [2, 2, 2, 2],
                ws: [3, 2, 4, 4],
                params: p(1, 1, 1, 1),
            },
            Case {
                xs: [1, 1, 3, 3],
                ws: [1, 1, 2, 2],
                params: p(1, 0, 2, 1),
            },
            // One past the padded input: an error.
            Case {
                xs: [1, 1, 3, 3],
                ws: [1, 1, 4, 4],
                params: p(1, 0, 1, 1),
            },
            // Depthwise, strided, dilated and padded at once.
            Case {
                xs: [3, 4, 9, 8],
                ws: [8, 1, 3, 3],
                params: p(2, 2, 2, 4),
            },
            // Zero output channels and zero input channels per group.
            Case {
                xs: [2, 3, 4, 4],
                ws: [0, 3, 3, 3],
                params: p(1, 1, 1, 1),
            },
            Case {
                xs: [2, 0, 4, 4],
                ws: [2, 0, 3, 3],
                params: p(1, 1, 1, 1),
            },
        ];
        for case in &cases {
            check_conv2d_case(case, &mut rng);
        }
    }

    #[test]
    fn conv2d_gradients_satisfy_adjoint_identities() {
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            let Case { xs, ws, params: p } = random_case(&mut rng);
            let Ok(ys) = conv2d_output_shape(xs, ws, &p) else {
                continue;
            };
            let x = rng.values(xs.iter().product());
            let w = rng.values(ws.iter().product());
            let dy = rng.values(ys.iter().product());
            let y = conv2d(&x, xs, &w, ws, None, &p).unwrap();
            let dx = conv2d_backward_input(&dy, &w, xs, ws, &p).unwrap();
            let dw = conv2d_backward_weight(&dy, &x, xs, ws, &p).unwrap();
            // conv is linear in x and in w: <dy, conv(x, w)> = <dx, x> = <dw, w>.
            let lhs = dot(&dy, &y);
            let tol = 1e-12 * (1.0 + lhs.abs());
            assert!((lhs - dot(&dx, &x)).abs() <= tol, "{xs:?} {ws:?} {p:?}");
            assert!((lhs - dot(&dw, &w)).abs() <= tol, "{xs:?} {ws:?} {p:?}");
        }
    }

    #[test]
    fn conv2d_gradients_match_finite_differences() {
        let mut rng = Rng::new(4);
        let (xs, ws) = ([2, 4, 6, 5], [4, 2, 3, 2]);
        let p = Conv2dParams {
            stride: [2, 1],
            padding: [1, 1],
            dilation: [1, 2],
            groups: 2,
        };
        let x = rng.values(xs.iter().product());
        let w = rng.values(ws.iter().product());
        let b = rng.values(ws[0]);
        // loss = ½ Σ conv(x, w, b)², so grad_output = conv(x, w, b).
        let loss = |x: &[f64], w: &[f64], b: &[f64]| {
            let y = conv2d(x, xs, w, ws, Some(b), &p).unwrap();
            0.5 * dot(&y, &y)
        };
        let y = conv2d(&x, xs, &w, ws, Some(&b), &p).unwrap();
        let ys = conv2d_output_shape(xs, ws, &p).unwrap();
        let dx = conv2d_backward_input(&y, &w, xs, ws, &p).unwrap();
        let dw = conv2d_backward_weight(&y, &x, xs, ws, &p).unwrap();
        let db = conv_backward_bias(&y, &ys).unwrap();
        let h = 1e-5;
        let central = |bump: &dyn Fn(f64) -> f64| (bump(h) - bump(-h)) / (2.0 * h);
        let moved = |v: &[f64], i: usize, d: f64| {
            let mut v = v.to_vec();
            v[i] += d;
            v
        };
        for i in [0, 7, 100, x.len() - 1] {
            let fd = central(&|d| loss(&moved(&x, i, d), &w, &b));
            assert!(
                (fd - dx[i]).abs() < 1e-6 * (1.0 + fd.abs()),
                "dx[{i}]: {fd} vs {}",
                dx[i]
            );
        }
        for i in [0, 5, w.len() - 1] {
            let fd = central(&|d| loss(&x, &moved(&w, i, d), &b));
            assert!(
                (fd - dw[i]).abs() < 1e-6 * (1.0 + fd.abs()),
                "dw[{i}]: {fd} vs {}",
                dw[i]
            );
        }
        for (i, &db_i) in db.iter().enumerate() {
            let fd = central(&|d| loss(&x, &w, &moved(&b, i, d)));
            assert!(
                (fd - db_i).abs() < 1e-6 * (1.0 + fd.abs()),
                "db[{i}]: {fd} vs {}",
                db_i
            );
        }
    }

    #[test]
    fn conv_transpose2d_matches_naive_reference() {
        let mut rng = Rng::new(5);
        for _ in 0..200 {
            let groups = rng.int(1, 3);
            let xs = [
                rng.int(0, 2),
                groups * rng.int(1, 2),
                rng.int(1, 5),
                rng.int(1, 5),
            ];
            let ws = [xs[1], rng.int(1, 2), rng.int(1, 3), rng.int(1, 3)];
            let stride = [rng.int(1, 3), rng.int(1, 3)];
            let dilation = [rng.int(1, 2), rng.int(1, 2)];
            let p = ConvTranspose2dParams {
                stride,
                padding: [rng.int(0, 2), rng.int(0, 2)],
                output_padding: [rng.int(0, stride[0].max(dilation[0])), rng.int(0, 1)],
                dilation,
                groups,
            };
            let what = format!("{xs:?} {ws:?} {p:?}");
            let x = rng.values(xs.iter().product());
            let w = rng.values(ws.iter().product());
            let bias = rng.values(ws[1] * groups);
            let padding_ok = (0..2)
                .all(|a| p.output_padding[a] < p.stride[a] || p.output_padding[a] < p.dilation[a]);
            let mut dy = Vec::new();
            let naive = naive_conv_transpose2d(&x, xs, &w, ws, &p, |len| {
                dy = rng.values(len);
                dy.clone()
            });
            let Some(naive) = naive.filter(|_| padding_ok) else {
                assert!(
                    conv_transpose2d(&x, xs, &w, ws, None, &p).is_err(),
                    "{what} must fail"
                );
                continue;
            };
            let ys = naive.out_shape;
            assert_eq!(
                conv_transpose2d_output_shape(xs, ws, &p).unwrap(),
                ys,
                "{what}"
            );
            let mut want = naive.output.clone();
            add_bias(&mut want, ys, &bias);
            let y = conv_transpose2d(&x, xs, &w, ws, Some(&bias), &p).unwrap();
            assert_close(&y, &want, 1e-12, &format!("conv_transpose2d {what}"));
            let dx = conv_transpose2d_backward_input(&dy, &w, xs, ws, &p).unwrap();
            assert_close(&dx, &naive.grad_input, 1e-12, &format!("grad_input {what}"));
            let dw = conv_transpose2d_backward_weight(&dy, &x, xs, ws, &p).unwrap();
            assert_close(
                &dw,
                &naive.grad_weight,
                1e-12,
                &format!("grad_weight {what}"),
            );
            let db = conv_backward_bias(&dy, &ys).unwrap();
            assert_close(
                &db,
                &naive_bias_grad(&dy, ys),
                1e-12,
                &format!("grad_bias {what}"),
            );
        }
    }

    #[test]
    fn conv1d_is_conv2d_on_height_one_images() {
        let mut rng = Rng::new(6);
        for _ in 0..100 {
            let groups = rng.int(1, 2);
            let xs = [rng.int(0, 3), groups * rng.int(1, 2), rng.int(1, 9)];
            let ws = [groups * rng.int(1, 2), xs[1] / groups, rng.int(1, 4)];
            let p = Conv1dParams {
                stride: rng.int(1, 3),
                padding: rng.int(0, 2),
                dilation: rng.int(1, 2),
                groups,
            };
            let x = rng.values(xs.iter().product());
            let w = rng.values(ws.iter().product());
            let p2 = Conv2dParams {
                stride: [1, p.stride],
                padding: [0, p.padding],
                dilation: [1, p.dilation],
                groups,
            };
            let mut dy = Vec::new();
            let naive = naive_conv2d(&x, as_image(xs), &w, as_image(ws), &p2, |len| {
                dy = rng.values(len);
                dy.clone()
            });
            let Some(naive) = naive else {
                assert!(conv1d(&x, xs, &w, ws, None, &p).is_err());
                continue;
            };
            let [n, o, _, len] = naive.out_shape;
            assert_eq!(conv1d_output_shape(xs, ws, &p).unwrap(), [n, o, len]);
            let what = format!("{xs:?} {ws:?} {p:?}");
            assert_close(
                &conv1d(&x, xs, &w, ws, None, &p).unwrap(),
                &naive.output,
                1e-12,
                &what,
            );
            let dx = conv1d_backward_input(&dy, &w, xs, ws, &p).unwrap();
            assert_close(&dx, &naive.grad_input, 1e-12, &what);
            let dw = conv1d_backward_weight(&dy, &x, xs, ws, &p).unwrap();
            assert_close(&dw, &naive.grad_weight, 1e-12, &what);
        }
    }

    /// All conv kernels on one shape, as bits, for comparing thread counts.
    fn all_kernel_bits<T: Float>(
        rng_seed: u64,
        xs: [usize; 4],
        ws: [usize; 4],
        p: &Conv2dParams,
    ) -> Vec<Vec<u64>> {
        let mut rng = Rng::new(rng_seed);
        let cast = |v: Vec<f64>| v.into_iter().map(T::from_f64).collect::<Vec<T>>();
        let ys = conv2d_output_shape(xs, ws, p).unwrap();
        let x = cast(rng.values(xs.iter().product()));
        let w = cast(rng.values(ws.iter().product()));
        let b = cast(rng.values(ws[0]));
        let dy = cast(rng.values(ys.iter().product()));
        let tp = ConvTranspose2dParams {
            stride: p.stride,
            padding: p.padding,
            output_padding: [0, 0],
            dilation: p.dilation,
            groups: p.groups,
        };
        // The transposed convolution of dy (shape ys) has the shape of x back.
        assert_eq!(
            conv_transpose2d_output_shape(ys, ws, &tp).unwrap()[1..],
            xs[1..]
        );
        on_pools(|| {
            vec![
                bits(&conv2d(&x, xs, &w, ws, Some(&b), p).unwrap()),
                bits(&conv2d_backward_input(&dy, &w, xs, ws, p).unwrap()),
                bits(&conv2d_backward_weight(&dy, &x, xs, ws, p).unwrap()),
                bits(&conv_backward_bias(&dy, &ys).unwrap()),
                bits(&conv_transpose2d(&dy, ys, &w, ws, None, &tp).unwrap()),
                bits(&conv_transpose2d_backward_weight(&x, &dy, ys, ws, &tp).unwrap()),
            ]
        })
        .into_iter()
        .flatten()
        .collect()
    }

    #[test]
    fn results_are_bit_identical_across_thread_counts() {
        let p = |padding, groups| Conv2dParams {
            padding: [padding; 2],
            groups,
            ..Default::default()
        };
        let shapes = [
            // Batch 1 and large enough that gemm runs its own threads (m·n·k well above its
            // threading threshold), for the forward, input and weight gradients.
            ([1, 32, 28, 28], [64, 32, 3, 3], p(1, 1)),
            ([1, 64, 28, 28], [64, 64, 1, 1], p(0, 1)),
            // Batches split into several weight-gradient chunks, with groups.
            ([9, 4, 7, 6], [6, 2, 3, 3], p(1, 2)),
            ([37, 3, 5, 5], [4, 3, 2, 2], p(0, 1)),
            ([3, 8, 12, 12], [16, 8, 3, 3], p(1, 1)),
        ];
        for (xs, ws, params) in shapes {
            for results in [
                all_kernel_bits::<f32>(7, xs, ws, &params),
                all_kernel_bits::<f64>(7, xs, ws, &params),
            ] {
                let per_pool = results.len() / 3;
                let (one, rest) = results.split_at(per_pool);
                for other in rest.chunks(per_pool) {
                    assert!(
                        one == other,
                        "{xs:?} {ws:?}: results depend on the thread count"
                    );
                }
            }
        }
    }

    #[test]
    fn invalid_arguments_are_errors() {
        let x = vec![0f32; 2 * 4 * 5 * 5];
        let w = vec![0f32; 6 * 2 * 3 * 3];
        let (xs, ws) = ([2, 4, 5, 5], [6, 2, 3, 3]);
        let good = Conv2dParams {
            groups: 2,
            ..Default::default()
        };
        assert!(conv2d(&x, xs, &w, ws, None, &good).is_ok());
        let bad_params = [
            Conv2dParams {
                stride: [0, 1],
                ..good
            },
            Conv2dParams {
                dilation: [1, 0],
                ..good
            },
            Conv2dParams { groups: 0, ..good },
            Conv2dParams { groups: 3, ..good },
            Conv2dParams { groups: 1, ..good },
            Conv2dParams {
                dilation: [3, 1],
                ..good
            },
        ];
        for p in &bad_params {
            assert!(conv2d(&x, xs, &w, ws, None, p).is_err(), "{p:?}");
            assert!(conv2d_backward_input(&x, &w, xs, ws, p).is_err(), "{p:?}");
            assert!(conv2d_backward_weight(&x, &x, xs, ws, p).is_err(), "{p:?}");
        }
        // Lengths that do not match the shapes.
        assert!(conv2d(&x[1..], xs, &w, ws, None, &good).is_err());
        assert!(conv2d(&x, xs, &w[1..], ws, None, &good).is_err());
        assert!(conv2d(&x, xs, &w, ws, Some(&[0.0; 5]), &good).is_err());
        assert!(conv2d_backward_input(&x, &w, xs, ws, &good).is_err());
        assert!(conv2d_backward_weight(&x, &x, xs, ws, &good).is_err());
        assert!(conv_backward_bias(&x, &[2, 4, 5]).is_err());
        assert!(conv_backward_bias(&x, &[2]).is_err());
        // Zero-size kernels and shapes whose element counts overflow.
        assert!(conv2d(
            &[0f32; 0],
            [1, 1, 3, 3],
            &[],
            [1, 1, 0, 3],
            None,
            &Default::default()
        )
        .is_err());
        let huge = usize::MAX / 2;
        assert!(conv2d(
            &[0f32; 0],
            [0, huge, huge, 3],
            &[],
            [1, huge, 1, 1],
            None,
            &Default::default()
        )
        .is_err());
        let far = Conv2dParams {
            padding: [huge, 0],
            ..Default::default()
        };
        assert!(conv2d(&[0f32; 0], [0, 1, 3, 3], &[0.0], [1, 1, 1, 1], None, &far).is_err());
        assert!(conv_backward_bias(&[0f32; 0], &[huge, huge, 4]).is_err());
        // A stride far beyond the input keeps the first window only.
        let tiny = [1.0f32, 2.0, 3.0, 4.0];
        let far = Conv2dParams {
            stride: [usize::MAX; 2],
            ..Default::default()
        };
        assert_eq!(
            conv2d(&tiny, [1, 1, 2, 2], &[2.0], [1, 1, 1, 1], None, &far).unwrap(),
            [2.0]
        );
        let dx = conv2d_backward_input(&[1.0f32], &[2.0], [1, 1, 2, 2], [1, 1, 1, 1], &far);
        assert_eq!(dx.unwrap(), [2.0, 0.0, 0.0, 0.0]);
        // Transposed convolution: output_padding not below stride or dilation, channel mismatch.
        let tp = ConvTranspose2dParams {
            stride: [2, 2],
            output_padding: [2, 0],
            ..Default::default()
        };
        let wt = vec![0f32; 4 * 3 * 3 * 3];
        assert!(conv_transpose2d(&x, xs, &wt, [4, 3, 3, 3], None, &tp).is_err());
        let tp = ConvTranspose2dParams {
            output_padding: [1, 0],
            ..tp
        };
        assert!(conv_transpose2d(&x, xs, &wt, [4, 3, 3, 3], None, &tp).is_ok());
        assert!(conv_transpose2d(&x, xs, &wt, [3, 4, 3, 3], None, &tp).is_err());
        let tp = ConvTranspose2dParams {
            padding: [9, 0],
            ..tp
        };
        assert!(conv_transpose2d(&x, xs, &wt, [4, 3, 3, 3], None, &tp).is_err());
        // conv1d.
        let p1 = Conv1dParams {
            stride: 0,
            ..Default::default()
        };
        assert!(conv1d(&[0f32; 6], [1, 2, 3], &[0.0; 4], [2, 2, 1], None, &p1).is_err());
        assert!(conv1d(
            &[0f32; 6],
            [1, 2, 3],
            &[0.0; 8],
            [2, 2, 2],
            None,
            &Default::default()
        )
        .is_ok());
        assert!(conv1d(
            &[0f32; 6],
            [1, 2, 3],
            &[0.0; 16],
            [2, 2, 4],
            None,
            &Default::default()
        )
        .is_err());
    }

    /// CPU time consumed by the calling thread so far, in seconds (Linux; kept current only at
    /// scheduler ticks, so callers time long loops).
    fn thread_cpu_seconds() -> Option<f64> {
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        Some(stat.split_whitespace().next()?.parse::<f64>().ok()? * 1e-9)
    }

    /// Seconds per call of `f`, averaged over about half a second of calls: thread CPU time
    /// where available (the machine may be shared), else wall time.
    pub(crate) fn seconds_per_call(f: &dyn Fn()) -> f64 {
        f();
        let (wall, cpu) = (std::time::Instant::now(), thread_cpu_seconds());
        let mut calls = 0;
        while calls < 5 || wall.elapsed().as_secs_f64() < 0.5 {
            f();
            calls += 1;
        }
        let spent = match (cpu, thread_cpu_seconds()) {
            (Some(start), Some(end)) => end - start,
            _ => wall.elapsed().as_secs_f64(),
        };
        spent / calls as f64
    }

    /// Single-thread timing of conv2d forward + input, weight and bias gradients (f32) at two
    /// MNIST-CNN layer shapes: `cargo test --release -p strata-tensor bench_conv2d -- --ignored
    /// --nocapture`.
    #[test]
    #[ignore]
    fn bench_conv2d_layers() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let p = Conv2dParams {
            padding: [1, 1],
            ..Default::default()
        };
        for (xs, ws) in [
            ([64, 1, 28, 28], [32, 1, 3, 3]),
            ([64, 32, 14, 14], [64, 32, 3, 3]),
        ] {
            let mut rng = Rng::new(8);
            let ys = conv2d_output_shape(xs, ws, &p).unwrap();
            let x = to_f32(&rng.values(xs.iter().product()));
            let w = to_f32(&rng.values(ws.iter().product()));
            let b = to_f32(&rng.values(ws[0]));
            let dy = to_f32(&rng.values(ys.iter().product()));
            let gflops = |seconds: f64| conv2d_flops(xs, ws, &p).unwrap() / seconds * 1e-9;
            let [forward, grad_input, grad_weight, grad_bias] = pool.install(|| {
                [
                    seconds_per_call(&|| drop(conv2d(&x, xs, &w, ws, Some(&b), &p).unwrap())),
                    seconds_per_call(&|| drop(conv2d_backward_input(&dy, &w, xs, ws, &p).unwrap())),
                    seconds_per_call(&|| {
                        drop(conv2d_backward_weight(&dy, &x, xs, ws, &p).unwrap())
                    }),
                    seconds_per_call(&|| drop(conv_backward_bias(&dy, &ys).unwrap())),
                ]
            });
            println!(
                "conv2d {xs:?} * {ws:?}: forward {:.3} ms ({:.0} GFLOP/s), grad_input {:.3} ms \
                 ({:.0}), grad_weight {:.3} ms ({:.0}), grad_bias {:.3} ms; total {:.3} ms",
                forward * 1e3,
                gflops(forward),
                grad_input * 1e3,
                gflops(grad_input),
                grad_weight * 1e3,
                gflops(grad_weight),
                grad_bias * 1e3,
                (forward + grad_input + grad_weight + grad_bias) * 1e3
            );
        }
    }
}
