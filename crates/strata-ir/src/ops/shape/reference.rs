//! Reference forward rules of this family, generic over the numeric layer. Shape ops only move
//! data: each one is strata-tensor's own op applied to the positions of the input
//! ([`crate::interpret::iota`]), and the layer's scalars follow their positions.

use super::clamp_bound;
use crate::interpret::{iota, iota_from, moved, tensor_error, Array, Cx, Value};
use crate::layer::NumericLayer;
use crate::op::Op;
use strata_tensor::{Result as TensorResult, Tensor};

pub(crate) fn forward<L: NumericLayer>(
    cx: &Cx<L>,
    op: &Op,
    args: &[&Value<L::Scalar>],
) -> Result<Value<L::Scalar>, String> {
    match (op, args) {
        (Op::Concat { axis }, _) => concat(*axis, args),
        (Op::Pad { pads, value }, [x]) => {
            let pairs: Vec<(usize, usize)> = pads.iter().map(|&[b, a]| (b, a)).collect();
            match x {
                Value::Float(a) => {
                    let positions = iota(&a.shape)?.pad(&pairs, -1.0).map_err(tensor_error)?;
                    Ok(Value::Float(
                        a.take(&positions, Some(&cx.layer.of_f64(*value)))?,
                    ))
                }
                Value::Tensor(t) => Ok(Value::Tensor(t.pad(&pairs, *value).map_err(tensor_error)?)),
            }
        }
        (_, [x]) => moved(x, |t| movement(op, t)),
        _ => Err(format!("{} takes one input", op.tag())),
    }
}

/// What a one-input shape op does to a tensor.
fn movement(op: &Op, t: &Tensor) -> TensorResult<Tensor> {
    match op {
        Op::Reshape { shape } => {
            let dims: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
            t.reshape_infer(&dims)
        }
        Op::Flatten {
            start_axis,
            end_axis,
        } => t.flatten(*start_axis, *end_axis),
        Op::Permute { perm } => t.permute(perm),
        Op::Transpose { .. } if t.rank() == 0 => Ok(t.clone()),
        Op::Transpose { axis0, axis1 } => t.transpose(*axis0, *axis1),
        Op::BroadcastTo { shape } => t.broadcast_to(shape.clone()),
        Op::Tile { repeats } => tile(t, repeats),
        Op::Split { axis, sizes, index } => {
            let start = sizes.iter().take(*index).sum();
            t.narrow(*axis, start, sizes.get(*index).copied().unwrap_or(0))
        }
        Op::Slice {
            axis,
            start,
            end,
            step,
        } => {
            let len = t.dim(*axis)?;
            let (s, e) = (clamp_bound(*start, len), clamp_bound(*end, len));
            t.slice(*axis, s, e.max(s), *step)
        }
        _ => Err(strata_tensor::TensorError::InvalidArgument {
            op: "reference",
            msg: format!("{} is not a shape op", op.tag()),
        }),
    }
}

/// torch.tile: `[d₀, d₁, …]` seen as `[1, d₀, 1, d₁, …]`, broadcast to `[r₀, d₀, r₁, d₁, …]`,
/// then merged pairwise.
fn tile(t: &Tensor, repeats: &[usize]) -> TensorResult<Tensor> {
    let interleave = |outer: &dyn Fn(usize) -> usize| -> Vec<usize> {
        (t.dims().iter().enumerate())
            .flat_map(|(i, &d)| [outer(i), d])
            .collect()
    };
    let spread = t.reshape(interleave(&|_| 1))?;
    let tiled = spread.broadcast_to(interleave(&|i| repeats.get(i).copied().unwrap_or(1)))?;
    let dims: Vec<usize> = (t.dims().iter().zip(repeats))
        .map(|(&d, &r)| d * r)
        .collect();
    tiled.contiguous().reshape(dims)
}

/// torch.cat: the inputs' elements laid end to end, their positions offset accordingly and
/// concatenated by strata-tensor.
fn concat<S: Clone>(axis: isize, args: &[&Value<S>]) -> Result<Value<S>, String> {
    if let Some(Value::Tensor(_)) = args.first() {
        let tensors = args
            .iter()
            .map(|v| v.tensor())
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(Value::Tensor(
            Tensor::cat(&tensors, axis).map_err(tensor_error)?,
        ));
    }
    let mut all = Vec::new();
    let mut positions = Vec::with_capacity(args.len());
    for v in args {
        let a = v.float()?;
        positions.push(iota_from(&a.shape, all.len())?);
        all.extend_from_slice(&a.data);
    }
    let refs: Vec<&Tensor> = positions.iter().collect();
    let joined = Tensor::cat(&refs, axis).map_err(tensor_error)?;
    Ok(Value::Float(
        Array::new([all.len()], all).take(&joined, None)?,
    ))
}
