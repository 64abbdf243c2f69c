//! Reference forward rules of this family, generic over the numeric layer: embedding rows and
//! gathered elements move unchanged (an index out of range is an error); tril/triu put +0 off
//! the kept triangle; argmax picks the first maximum with a NaN winning, as strata-tensor.

use crate::interpret::{array_of, grouped, iota, tensor_error, tensor_of, Array, Cx, Value};
use crate::layer::{int::Int64, Arith, NumericLayer};
use crate::op::{Comparison, Op};
use strata_tensor::{resolve_axis, Tensor};

pub(crate) fn forward<L: NumericLayer>(
    cx: &Cx<L>,
    op: &Op,
    args: &[&Value<L::Scalar>],
) -> Result<Value<L::Scalar>, String> {
    match (op, args) {
        (Op::Embedding, [indices, weight]) => {
            Ok(Value::Float(embedding(indices.tensor()?, weight.float()?)?))
        }
        (Op::Gather { axis }, [x, index]) => {
            let index = index.tensor()?;
            Ok(match x {
                Value::Float(a) => {
                    let positions = iota(&a.shape)?.gather(*axis, index).map_err(tensor_error)?;
                    Value::Float(a.take(&positions, None)?)
                }
                Value::Tensor(t) => Value::Tensor(t.gather(*axis, index).map_err(tensor_error)?),
            })
        }
        (Op::Trilu { upper, diagonal }, [x]) => {
            let keep = triangle(x.shape().dims(), *upper, *diagonal)?;
            Ok(match x {
                Value::Float(a) => {
                    let zero = cx.layer.int(0);
                    Value::Float(Array::new(
                        a.shape.clone(),
                        (a.data.iter().zip(&keep))
                            .map(|(v, &k)| if k { v.clone() } else { zero.clone() })
                            .collect(),
                    ))
                }
                Value::Tensor(t) => {
                    let mask = tensor_of(Array::new(t.shape().clone(), keep))?;
                    let zeros =
                        Tensor::zeros(t.shape().clone(), t.dtype()).map_err(tensor_error)?;
                    Value::Tensor(Tensor::where_cond(&mask, t, &zeros).map_err(tensor_error)?)
                }
            })
        }
        (Op::ArgMax { axis, keepdim }, [x]) => {
            let out = match x {
                Value::Float(a) => arg_max(cx.layer, a, *axis, *keepdim)?,
                Value::Tensor(t) => arg_max(&Int64, &array_of::<i64>(t)?, *axis, *keepdim)?,
            };
            Ok(Value::Tensor(tensor_of(out)?))
        }
        _ => Err(format!("{} got the wrong operands", op.tag())),
    }
}

fn embedding<S: Clone>(indices: &Tensor, weight: &Array<S>) -> Result<Array<S>, String> {
    let [rows, dim] = weight.dims() else {
        return Err(format!("the weight must be [V, D], got {}", weight.shape));
    };
    let (rows, dim) = (*rows, *dim);
    let mut data = Vec::with_capacity(indices.numel() * dim);
    for i in indices.to_vec::<i64>().map_err(tensor_error)? {
        let r = usize::try_from(i)
            .ok()
            .filter(|&r| r < rows)
            .ok_or_else(|| format!("index {i} is out of range for {rows} embeddings"))?;
        data.extend_from_slice(&weight.data[r * dim..(r + 1) * dim]);
    }
    Ok(Array::new([indices.dims(), &[dim]].concat(), data))
}

/// Which elements of `dims` (rank ≥ 2) tril/triu keeps: `j − i ≤ diagonal` (lower) or
/// `j − i ≥ diagonal` (upper) on the last two axes.
fn triangle(dims: &[usize], upper: bool, diagonal: i64) -> Result<Vec<bool>, String> {
    let [.., rows, cols] = dims else {
        return Err("tril/triu needs at least two axes".into());
    };
    let (rows, cols) = (*rows, *cols);
    let n: usize = dims.iter().product();
    Ok((0..n)
        .map(|p| {
            let (i, j) = ((p / cols.max(1)) % rows.max(1), p % cols.max(1));
            let d = j as i128 - i as i128;
            if upper {
                d >= i128::from(diagonal)
            } else {
                d <= i128::from(diagonal)
            }
        })
        .collect())
}

/// torch.argmax: the first index of the maximum along `axis`; a NaN counts as the maximum.
fn arg_max<A: Arith>(
    layer: &A,
    a: &Array<A::Scalar>,
    axis: isize,
    keepdim: bool,
) -> Result<Array<i64>, String> {
    let rank = a.dims().len();
    if rank == 0 {
        return Ok(Array::new(a.shape.clone(), vec![0]));
    }
    let d = resolve_axis("arg_max", axis, rank).map_err(tensor_error)?;
    let mut reduced = vec![false; rank];
    reduced[d] = true;
    let (groups, len) = grouped(a, &reduced)?;
    let undecided = || format!("the {} layer cannot decide the argmax", layer.name());
    let mut out = Vec::new();
    for group in groups.data.chunks(len.max(1)) {
        let mut best = 0;
        for (i, v) in group.iter().enumerate().skip(1) {
            if layer.is_nan(&group[best]).ok_or_else(undecided)? {
                break;
            }
            let nan = layer.is_nan(v).ok_or_else(undecided)?;
            if nan
                || layer
                    .compare(v, &group[best], Comparison::Gt)
                    .ok_or_else(undecided)?
            {
                best = i;
            }
        }
        out.push(best as i64);
    }
    let mut dims = a.dims().to_vec();
    if keepdim {
        dims[d] = 1;
    } else {
        dims.remove(d);
    }
    Ok(Array::new(dims, out))
}
