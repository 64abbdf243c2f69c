//! Convolution and pooling, batched `[N, C, …]` or unbatched `[C, …]` as in PyTorch. The
//! output-size formulas are strata-tensor's (the kernels' own geometry checks).

use super::{common_dtype, require_dims, require_float, RuleResult, TensorType};
use strata_tensor::kernels::{conv, pool};
use strata_tensor::{AvgPool2dParams, Conv1dParams, Conv2dParams, ConvTranspose2dParams};
use strata_tensor::{MaxPool2dParams, TensorError};

pub(crate) mod error;
pub(crate) mod native;
pub(crate) mod reference;

/// The input as a batched `[N, C, spatial…]` array of rank `R`, and whether it was unbatched.
fn batched<const R: usize>(x: &TensorType) -> Result<([usize; R], bool), String> {
    let dims = x.dims();
    if let Ok(batched) = <[usize; R]>::try_from(dims) {
        return Ok((batched, false));
    }
    if dims.len() + 1 == R {
        let mut with_batch = [1; R];
        with_batch[1..].copy_from_slice(dims);
        return Ok((with_batch, true));
    }
    Err(format!(
        "the input must have rank {R} (batched) or {} (unbatched), got {}",
        R - 1,
        x.shape
    ))
}

/// The output dims, without the batch axis again when the input had none.
fn unbatch(out: &[usize], unbatched: bool) -> Vec<usize> {
    out[usize::from(unbatched)..].to_vec()
}

/// The kernels' geometry error, without their op-name prefix (the graph adds its own).
fn geometry(e: TensorError) -> String {
    let text = e.to_string();
    match text.split_once(": ") {
        Some((_, rest)) => rest.to_string(),
        None => text,
    }
}

/// Shared part of the convolutions: float operands of one dtype, a weight of rank `R` and
/// an optional bias `[out_channels]`.
fn conv_operands<const R: usize>(inputs: &[TensorType]) -> Result<[usize; R], String> {
    let dtype = common_dtype(&inputs.iter().collect::<Vec<_>>())?;
    require_float(dtype, "a convolution's operands")?;
    <[usize; R]>::try_from(inputs[1].dims())
        .map_err(|_| format!("the weight must have rank {R}, got {}", inputs[1].shape))
}

fn check_bias(inputs: &[TensorType], out_channels: usize) -> Result<(), String> {
    match inputs.get(2) {
        Some(bias) => require_dims(bias, &[out_channels], "the bias"),
        None => Ok(()),
    }
}

/// F.conv1d: `Lo = ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1`.
pub(super) fn conv1d(params: &Conv1dParams, inputs: &[TensorType]) -> RuleResult {
    let weight = conv_operands::<3>(inputs)?;
    let (x, unbatched) = batched::<3>(&inputs[0])?;
    let out = conv::conv1d_output_shape(x, weight, params).map_err(geometry)?;
    check_bias(inputs, out[1])?;
    Ok(TensorType::new(unbatch(&out, unbatched), inputs[0].dtype))
}

/// F.conv2d: `Ho = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1`, likewise `Wo`.
pub(super) fn conv2d(params: &Conv2dParams, inputs: &[TensorType]) -> RuleResult {
    let weight = conv_operands::<4>(inputs)?;
    let (x, unbatched) = batched::<4>(&inputs[0])?;
    let out = conv::conv2d_output_shape(x, weight, params).map_err(geometry)?;
    check_bias(inputs, out[1])?;
    Ok(TensorType::new(unbatch(&out, unbatched), inputs[0].dtype))
}

/// F.conv_transpose2d: `Ho = (H − 1)s − 2p + d(kh − 1) + output_padding + 1`.
pub(super) fn conv_transpose2d(
    params: &ConvTranspose2dParams,
    inputs: &[TensorType],
) -> RuleResult {
    let weight = conv_operands::<4>(inputs)?;
    let (x, unbatched) = batched::<4>(&inputs[0])?;
    let out = conv::conv_transpose2d_output_shape(x, weight, params).map_err(geometry)?;
    check_bias(inputs, out[1])?;
    Ok(TensorType::new(unbatch(&out, unbatched), inputs[0].dtype))
}

/// The pooling ops share this: a float `[N, C, H, W]` or `[C, H, W]` input and a geometry.
fn pool2d(
    x: &TensorType,
    output_shape: impl FnOnce([usize; 4]) -> Result<[usize; 4], TensorError>,
) -> RuleResult {
    require_float(x.dtype, "a pooling input")?;
    let (dims, unbatched) = batched::<4>(x)?;
    let out = output_shape(dims).map_err(geometry)?;
    Ok(TensorType::new(unbatch(&out, unbatched), x.dtype))
}

/// F.max_pool2d: `Ho = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1` (rounded up in ceil mode).
pub(super) fn max_pool2d(params: &MaxPool2dParams, x: &TensorType) -> RuleResult {
    pool2d(x, |dims| pool::max_pool2d_output_shape(dims, params))
}

/// F.avg_pool2d: `Ho = ⌊(H + 2p − k)/s⌋ + 1` (rounded up in ceil mode).
pub(super) fn avg_pool2d(params: &AvgPool2dParams, x: &TensorType) -> RuleResult {
    pool2d(x, |dims| pool::avg_pool2d_output_shape(dims, params))
}

/// F.adaptive_avg_pool2d: `[N, C, out_h, out_w]`; the input planes must not be empty.
pub(super) fn adaptive_avg_pool2d(output_size: [usize; 2], x: &TensorType) -> RuleResult {
    pool2d(x, |[n, c, h, w]| {
        if h == 0 || w == 0 {
            return Err(TensorError::InvalidArgument {
                op: "adaptive_avg_pool2d",
                msg: format!("the input planes are empty ({h}×{w})"),
            });
        }
        Ok([n, c, output_size[0], output_size[1]])
    })
}
