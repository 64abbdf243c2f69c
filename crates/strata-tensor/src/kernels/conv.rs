//! Convolution kernels over contiguous NCHW buffers, with PyTorch's semantics: conv2d forward by
//! im2col + gemm, its backward as col2im of Wᵀ·dY (input) and dY·colᵀ (weight); the transposed
//! convolution *is* conv2d's input gradient and reuses that code; conv1d is conv2d with H = 1.
//!
//! Evaluation order: each output element is one gemm dot product (order inside gemm unspecified,
//! but the same for every thread count: gemm only splits rows and columns of its output over
//! threads). The weight gradient sums the batch in chunks whose boundaries depend on the batch
//! size only, and adds the chunk partials in chunk order; the bias gradient sums sequentially.
//! So results are bit-identical whatever the size of the rayon pool.

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
        Conv2dParams { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 }
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
        Conv1dParams { stride: 1, padding: 0, dilation: 1, groups: 1 }
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
            invalid(op, format!("{why} (input {input_shape:?}, weight {weight_shape:?}, {params:?})"))
        };
        let [batch, in_channels, in_h, in_w] = input_shape;
        let [out_channels, group_in, kernel_h, kernel_w] = weight_shape;
        let groups = params.groups;
        if groups == 0 {
            return Err(fail("groups must be positive".into()));
        }
        if params.stride.contains(&0) || params.dilation.contains(&0) {
            return Err(fail("stride and dilation must be positive".into()));
        }
        if kernel_h == 0 || kernel_w == 0 {
            return Err(fail("kernel size must be positive".into()));
        }
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
            let padded = pad.checked_mul(2).and_then(|p| p.checked_add(len)).ok_or_else(overflow)?;
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
            dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(overflow)
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
        [self.batch, self.out_channels, self.out_hw[0], self.out_hw[1]]
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
    /// Calls `visit(col_offset, input_offset, len)` for each run of one sample's column matrix
    /// that reads the input: row `(c, ki, kj)`, output row `oh`, and the output columns whose
    /// taps lie inside the input. Consecutive entries of a run read input elements `stride_w`
    /// apart; every entry outside the runs reads zero padding.
    fn for_each_input_run(&self, mut visit: impl FnMut(usize, usize, usize)) {
        let [in_h, in_w] = self.in_hw;
        let [out_h, out_w] = self.out_hw;
        let [stride_h, stride_w] = self.params.stride;
        let [pad_h, pad_w] = self.params.padding;
        let [dil_h, dil_w] = self.params.dilation;
        let out_plane = self.out_plane();
        let mut row = 0;
        for c in 0..self.in_channels {
            for ki in 0..self.kernel[0] {
                let rows = inside_range(out_h, ki * dil_h, stride_h, pad_h, in_h);
                for kj in 0..self.kernel[1] {
                    let cols = inside_range(out_w, kj * dil_w, stride_w, pad_w, in_w);
                    if !cols.is_empty() {
                        let first_iw = cols.start * stride_w + kj * dil_w - pad_w;
                        for oh in rows.clone() {
                            let ih = oh * stride_h + ki * dil_h - pad_h;
                            visit(
                                row * out_plane + oh * out_w + cols.start,
                                (c * in_h + ih) * in_w + first_iw,
                                cols.len(),
                            );
                        }
                    }
                    row += 1;
                }
            }
        }
    }

    /// One sample's column matrix `[in_channels * kh * kw, out_h * out_w]`: the sample itself
    /// when pointwise, else its im2col written into `buffer`.
    fn columns<'a, T: Float>(&self, sample: &'a [T], buffer: &'a mut Vec<T>) -> &'a [T] {
        if self.is_pointwise() {
            return sample;
        }
        buffer.resize(self.col_len, T::zero());
        if self.params.padding != [0, 0] {
            buffer.fill(T::zero());
        }
        let stride_w = self.params.stride[1];
        self.for_each_input_run(|col_at, input_at, len| {
            let run = &mut buffer[col_at..col_at + len];
            if stride_w == 1 {
                run.copy_from_slice(&sample[input_at..input_at + len]);
            } else {
                for (dst, &src) in run.iter_mut().zip(sample[input_at..].iter().step_by(stride_w)) {
                    *dst = src;
                }
            }
        });
        buffer
    }

    /// col2im: adds each column-matrix entry onto the input element it reads (padding entries
    /// are dropped), in row-major order of the column matrix.
    fn add_columns_to_input<T: Float>(&self, columns: &[T], sample: &mut [T]) {
        let stride_w = self.params.stride[1];
        self.for_each_input_run(|col_at, input_at, len| {
            let run = &columns[col_at..col_at + len];
            if stride_w == 1 {
                for (dst, &src) in sample[input_at..input_at + len].iter_mut().zip(run) {
                    *dst += src;
                }
            } else {
                for (dst, &src) in sample[input_at..].iter_mut().step_by(stride_w).zip(run) {
                    *dst += src;
                }
            }
        });
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
fn forward<T: Float>(g: &ConvGeometry, input: &[T], weight: &[T], bias: Option<&[T]>) -> Result<Vec<T>> {
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
    let threads = gemm_threads(g.batch);
    output.par_chunks_mut(g.sample_output_len).enumerate().try_for_each_init(
        Vec::new,
        |buffer, (n, out)| {
            let sample = &input[n * g.sample_input_len..(n + 1) * g.sample_input_len];
            let columns = g.columns(sample, buffer);
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
        },
    )?;
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
    let threads = gemm_threads(g.batch);
    grad_input.par_chunks_mut(g.sample_input_len).enumerate().try_for_each_init(
        Vec::new,
        |buffer, (n, dx)| {
            let dy = &grad_output[n * g.sample_output_len..(n + 1) * g.sample_output_len];
            if let Some(b) = bias {
                fill_with_bias(dx, in_plane, b);
            }
            // A pointwise convolution's column matrix is the sample: write the product into it.
            let columns = if pointwise {
                dx
            } else {
                buffer.resize(g.col_len, T::zero());
                &mut buffer[..]
            };
            for group in 0..g.params.groups {
                gemm(
                    MatMut::row_major(columns, group * group_k * out_plane, group_k, out_plane),
                    pointwise && bias.is_some(),
                    MatRef::row_major(weight, group * group_out * group_k, group_out, group_k).t(),
                    MatRef::row_major(dy, group * group_out * out_plane, group_out, out_plane),
                    threads,
                )?;
            }
            if !pointwise {
                g.add_columns_to_input(buffer, dx);
            }
            Ok(())
        },
    )?;
    Ok(grad_input)
}

/// `dw = Σ_n dy_n · col(x_n)ᵀ`, the batch split into chunks that depend on the batch size only;
/// chunk partials are computed in parallel and added in chunk order.
fn weight_grad<T: Float>(g: &ConvGeometry, input: &[T], grad_output: &[T]) -> Result<Vec<T>> {
    g.check_len(&g.input_shape(), input.len())?;
    g.check_len(&g.output_shape(), grad_output.len())?;
    let chunk = g.batch.div_ceil(MAX_WEIGHT_GRAD_CHUNKS).max(MIN_WEIGHT_GRAD_CHUNK);
    let chunks = g.batch.div_ceil(chunk);
    if chunks == 0 || g.weight_len == 0 {
        return Ok(vec![T::zero(); g.weight_len]);
    }
    let (out_plane, group_out, group_k) = (g.out_plane(), g.group_out(), g.group_k());
    let threads = gemm_threads(chunks);
    let partials = (0..chunks)
        .into_par_iter()
        .map_init(Vec::new, |buffer, c| {
            let mut dw = vec![T::zero(); g.weight_len];
            for n in c * chunk..((c + 1) * chunk).min(g.batch) {
                let sample = &input[n * g.sample_input_len..(n + 1) * g.sample_input_len];
                let dy = &grad_output[n * g.sample_output_len..(n + 1) * g.sample_output_len];
                let columns = g.columns(sample, buffer);
                for group in 0..g.params.groups {
                    gemm(
                        MatMut::row_major(&mut dw, group * group_out * group_k, group_out, group_k),
                        true,
                        MatRef::row_major(dy, group * group_out * out_plane, group_out, out_plane),
                        MatRef::row_major(columns, group * group_k * out_plane, group_k, out_plane)
                            .t(),
                        threads,
                    )?;
                }
            }
            Ok(dw)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut partials = partials.into_iter();
    let mut total = partials.next().unwrap_or_default();
    for partial in partials {
        for (t, p) in total.iter_mut().zip(partial) {
            *t += p;
        }
    }
    Ok(total)
}
