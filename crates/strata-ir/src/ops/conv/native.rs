//! Native kernels of convolution and pooling: forward, and the derivative kernels behind
//! `vjp`/`jvp` nodes. Unbatched inputs `[C, …]` run as a batch of one.

use crate::eval::Str;
use crate::op::Op;
use strata_tensor::Tensor;

/// The batched rank of the op's first input.
fn batched_rank(op: &Op) -> usize {
    match op {
        Op::Conv1d { .. } => 3,
        _ => 4,
    }
}

/// `x` with a batch axis of 1 when it has none, and whether one was added.
fn with_batch(x: &Tensor, rank: usize) -> Result<(Tensor, bool), String> {
    if x.rank() == rank {
        Ok((x.clone(), false))
    } else {
        Ok((x.unsqueeze(0).s()?, true))
    }
}

fn without_batch(y: Tensor, unbatched: bool) -> Result<Tensor, String> {
    if unbatched {
        y.squeeze(0).s()
    } else {
        Ok(y)
    }
}

/// The forward kernels of conv1d, conv2d, conv_transpose2d and the 2-D pools.
pub(crate) fn forward(op: &Op, x: &[Tensor]) -> Result<Tensor, String> {
    let (input, unbatched) = with_batch(&x[0], batched_rank(op))?;
    let bias = x.get(2);
    let y = match op {
        Op::Conv1d { params, .. } => input.conv1d(&x[1], bias, params),
        Op::Conv2d { params, .. } => input.conv2d(&x[1], bias, params),
        Op::ConvTranspose2d { params, .. } => input.conv_transpose2d(&x[1], bias, params),
        Op::MaxPool2d { params } => input.max_pool2d(params),
        Op::AvgPool2d { params } => input.avg_pool2d(params),
        Op::AdaptiveAvgPool2d { output_size } => input.adaptive_avg_pool2d(*output_size),
        other => return Err(format!("{} is not a convolution or pool", other.tag())),
    }
    .s()?;
    without_batch(y, unbatched)
}

/// The cotangent of input `input` of a convolution or pool `of`; `x` holds `of`'s inputs,
/// then the output cotangent.
pub(crate) fn vjp(of: &Op, input: usize, x: &[Tensor]) -> Result<Tensor, String> {
    let rank = batched_rank(of);
    let (inp, unbatched) = with_batch(&x[0], rank)?;
    let g = x.last().ok_or("no cotangent")?;
    let (g, _) = with_batch(g, rank)?;
    // One gradient per call: the grad rule asks for each input's gradient separately.
    let grad = match (of, input) {
        (Op::Conv1d { .. } | Op::Conv2d { .. } | Op::ConvTranspose2d { .. }, 2) => {
            return g.conv_backward_bias().s();
        }
        (Op::Conv1d { params, .. }, 0) => inp.conv1d_backward_input(&x[1], &g, params),
        (Op::Conv1d { params, .. }, _) => inp.conv1d_backward_weight(&x[1], &g, params),
        (Op::Conv2d { params, .. }, 0) => inp.conv2d_backward_input(&x[1], &g, params),
        (Op::Conv2d { params, .. }, _) => inp.conv2d_backward_weight(&x[1], &g, params),
        (Op::ConvTranspose2d { params, .. }, 0) => {
            inp.conv_transpose2d_backward_input(&x[1], &g, params)
        }
        (Op::ConvTranspose2d { params, .. }, _) => {
            inp.conv_transpose2d_backward_weight(&x[1], &g, params)
        }
        (Op::MaxPool2d { params }, _) => inp.max_pool2d_input_grad(&g, params),
        (Op::AvgPool2d { params }, _) => Tensor::avg_pool2d_backward(&g, inp.dims(), params),
        (Op::AdaptiveAvgPool2d { .. }, _) => Tensor::adaptive_avg_pool2d_backward(&g, inp.dims()),
        (other, _) => return Err(format!("no derivative kernel for {}", other.tag())),
    }
    .s()?;
    if input == 0 {
        without_batch(grad, unbatched)
    } else {
        Ok(grad)
    }
}

/// Max pooling's tangent: the input tangent at each window's argmax.
pub(crate) fn max_pool_jvp(of: &Op, x: &[Tensor]) -> Result<Tensor, String> {
    let Op::MaxPool2d { params } = of else {
        return Err(format!("no tangent kernel for {}", of.tag()));
    };
    let (inp, unbatched) = with_batch(&x[0], 4)?;
    let (t, _) = with_batch(&x[1], 4)?;
    let (y, idx) = inp.max_pool2d_with_indices(params).s()?;
    let d = inp.dims();
    let planes = t.reshape([d[0], d[1], d[2] * d[3]]).s()?;
    let flat_idx = idx.reshape([d[0], d[1], y.dims()[2] * y.dims()[3]]).s()?;
    let picked = planes
        .gather(2, &flat_idx)
        .s()?
        .reshape(y.shape().clone())
        .s()?;
    without_batch(picked, unbatched)
}
