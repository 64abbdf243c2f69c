//! Reference forward rules of this family, generic over the numeric layer: each group (the
//! reduced axes moved innermost, row-major) is summed in the declared order or folded with
//! `maximum` from its first element; a mean is the sum divided by the group's size. i64 sums
//! and maxima are exact (wrapping).

use crate::interpret::{array_of, grouped, tensor_of, Array, Cx, Value};
use crate::layer::{int::Int64, Arith, NumericLayer};
use crate::op::Op;
use strata_tensor::resolve_axis;

pub(crate) fn forward<L: NumericLayer>(
    cx: &Cx<L>,
    op: &Op,
    args: &[&Value<L::Scalar>],
) -> Result<Value<L::Scalar>, String> {
    let (Op::ReduceSum { axes, keepdim }
    | Op::ReduceMean { axes, keepdim }
    | Op::ReduceMax { axes, keepdim }) = op
    else {
        return Err(format!("{} is not a reduction", op.tag()));
    };
    let [x] = args else {
        return Err("a reduction takes one input".into());
    };
    let max = matches!(op, Op::ReduceMax { .. });
    match x {
        Value::Float(a) => {
            let (sums, n) = reduce(cx, max, a, axes, *keepdim)?;
            if !matches!(op, Op::ReduceMean { .. }) || axes.is_empty() {
                return Ok(Value::Float(sums));
            }
            let l = cx.layer;
            let count = l.int(i64::try_from(n).map_err(|_| "too many elements")?);
            Ok(Value::Float(sums.map(|s| l.div(s, &count))))
        }
        Value::Tensor(t) => {
            let ints = Cx {
                layer: &Int64,
                order: cx.order,
            };
            let (out, _) = reduce(&ints, max, &array_of::<i64>(t)?, axes, *keepdim)?;
            Ok(Value::Tensor(tensor_of(out)?))
        }
    }
}

/// Sums (or maxima) over `axes` and the size of each group; no axes is the identity.
pub(crate) fn reduce<A: Arith>(
    cx: &Cx<A>,
    max: bool,
    a: &Array<A::Scalar>,
    axes: &[isize],
    keepdim: bool,
) -> Result<(Array<A::Scalar>, usize), String> {
    if axes.is_empty() {
        return Ok((a.clone(), 1));
    }
    let rank = a.dims().len();
    let mut reduced = vec![false; rank];
    for &axis in axes {
        let r = resolve_axis("reduce", axis, rank).map_err(|e| e.to_string())?;
        reduced[r] = true;
    }
    let (groups, len) = grouped(a, &reduced)?;
    let out_dims: Vec<usize> = (a.dims().iter().zip(&reduced))
        .filter_map(|(&d, &r)| match (r, keepdim) {
            (false, _) => Some(d),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect();
    let count: usize = out_dims.iter().product();
    let group = |g: usize| groups.data.get(g * len..(g + 1) * len).unwrap_or(&[]);
    let data = (0..count)
        .map(|g| {
            if max {
                cx.max(group(g))
                    .ok_or("the maximum of an empty group".to_string())
            } else {
                Ok(cx.sum(group(g)))
            }
        })
        .collect::<Result<_, _>>()?;
    Ok((Array::new(out_dims, data), len))
}
