//! Reference forward rules of this family, generic over the numeric layer, as strata-tensor's
//! kernels compute them: batch_norm (eval) `((x − mean) / √(var + eps)) · w + b`; layer_norm
//! and group_norm with the two-pass mean and biased variance, `(x − mean) · (1 / √(var + eps))`,
//! then `· w + b`; rms_norm `x · (1 / √(Σx² / n + eps))`, then `· w`. Sums in the declared order.

use crate::interpret::{Array, Cx, Value};
use crate::layer::NumericLayer;
use crate::op::Op;
use strata_tensor::DType;

pub(crate) fn forward<L: NumericLayer>(
    cx: &Cx<L>,
    op: &Op,
    args: &[&Value<L::Scalar>],
    dtype: DType,
) -> Result<Value<L::Scalar>, String> {
    let l = cx.layer;
    let floats = args
        .iter()
        .map(|v| v.float())
        .collect::<Result<Vec<_>, _>>()?;
    let Some((x, params)) = floats.split_first() else {
        return Err("a normalization needs an input".into());
    };
    let param = |i: usize| params.get(i).copied();
    let out = match op {
        Op::BatchNorm { eps, .. } => {
            let (Some(mean), Some(var)) = (param(0), param(1)) else {
                return Err("batch_norm needs running_mean and running_var".into());
            };
            let eps = l.of_f64(*eps);
            let std: Vec<L::Scalar> = var.data.iter().map(|v| l.sqrt(&l.add(v, &eps))).collect();
            let per_channel = channel_of(x)?;
            let data = (x.data.iter().enumerate())
                .map(|(i, v)| {
                    let c = per_channel(i);
                    let y = l.div(&l.sub(v, &mean.data[c]), &std[c]);
                    affine(
                        l,
                        y,
                        param(2).map(|w| &w.data[c]),
                        param(3).map(|b| &b.data[c]),
                    )
                })
                .collect();
            Array::new(x.shape.clone(), data)
        }
        Op::LayerNorm {
            normalized_shape,
            eps,
            ..
        } => {
            let n: usize = normalized_shape.iter().product();
            let eps = l.of_f64(*eps);
            let mut data = Vec::with_capacity(x.data.len());
            for row in x.data.chunks(n.max(1)) {
                let normal = standardize(cx, row, &eps);
                data.extend(normal.into_iter().enumerate().map(|(j, y)| {
                    affine(
                        l,
                        y,
                        param(0).map(|w| &w.data[j]),
                        param(1).map(|b| &b.data[j]),
                    )
                }));
            }
            Array::new(x.shape.clone(), data)
        }
        Op::RmsNorm {
            normalized_shape,
            eps,
            ..
        } => {
            let n: usize = normalized_shape.iter().product();
            let eps = l.of_f64(eps.unwrap_or_else(|| machine_epsilon(dtype)));
            let count = l.int(i64::try_from(n).map_err(|e| e.to_string())?);
            let one = l.int(1);
            let mut data = Vec::with_capacity(x.data.len());
            for row in x.data.chunks(n.max(1)) {
                let squares: Vec<L::Scalar> = row.iter().map(|v| l.mul(v, v)).collect();
                let ms = l.div(&cx.sum(&squares), &count);
                let inv = l.div(&one, &l.sqrt(&l.add(&ms, &eps)));
                data.extend(
                    row.iter().enumerate().map(|(j, v)| {
                        affine(l, l.mul(v, &inv), param(0).map(|w| &w.data[j]), None)
                    }),
                );
            }
            Array::new(x.shape.clone(), data)
        }
        Op::GroupNorm {
            num_groups, eps, ..
        } => {
            let [n, c, ..] = x.dims() else {
                return Err(format!("group_norm needs [N, C, *], got {}", x.shape));
            };
            let spatial: usize = x.dims()[2..].iter().product();
            let group_len = (c / num_groups.max(&1)) * spatial;
            let eps = l.of_f64(*eps);
            let mut data = Vec::with_capacity(x.data.len());
            if n * c * spatial > 0 {
                for group in x.data.chunks(group_len.max(1)) {
                    data.extend(standardize(cx, group, &eps));
                }
            }
            let per_channel = channel_of(x)?;
            let data = (data.into_iter().enumerate())
                .map(|(i, y)| {
                    let ch = per_channel(i);
                    affine(
                        l,
                        y,
                        param(0).map(|w| &w.data[ch]),
                        param(1).map(|b| &b.data[ch]),
                    )
                })
                .collect();
            Array::new(x.shape.clone(), data)
        }
        _ => return Err(format!("{} is not a normalization", op.tag())),
    };
    Ok(Value::Float(out))
}

/// PyTorch's default rms_norm eps: the machine epsilon of the input's dtype.
fn machine_epsilon(dtype: DType) -> f64 {
    match dtype {
        DType::F64 => f64::EPSILON,
        DType::F16 => 2f64.powi(-10),
        DType::BF16 => 2f64.powi(-7),
        _ => f64::from(f32::EPSILON),
    }
}

/// The channel of flat element `i` of `[N, C, *]`.
fn channel_of<S>(x: &Array<S>) -> Result<impl Fn(usize) -> usize, String> {
    let [_, c, ..] = x.dims() else {
        return Err(format!("the input must be [N, C, *], got {}", x.shape));
    };
    let (c, spatial) = (*c, x.dims()[2..].iter().product::<usize>());
    Ok(move |i: usize| (i / spatial.max(1)) % c.max(1))
}

/// `(x − mean) · (1 / √(var + eps))` over one row, mean and biased variance in two passes.
fn standardize<L: NumericLayer>(cx: &Cx<L>, row: &[L::Scalar], eps: &L::Scalar) -> Vec<L::Scalar> {
    let l = cx.layer;
    let n = l.int(i64::try_from(row.len()).unwrap_or(i64::MAX));
    let mean = l.div(&cx.sum(row), &n);
    let centered: Vec<L::Scalar> = row.iter().map(|v| l.sub(v, &mean)).collect();
    let squares: Vec<L::Scalar> = centered.iter().map(|d| l.mul(d, d)).collect();
    let var = l.div(&cx.sum(&squares), &n);
    let inv = l.div(&l.int(1), &l.sqrt(&l.add(&var, eps)));
    centered.iter().map(|d| l.mul(d, &inv)).collect()
}

/// `y · w + b`, each factor present or not.
fn affine<L: NumericLayer>(
    l: &L,
    y: L::Scalar,
    w: Option<&L::Scalar>,
    b: Option<&L::Scalar>,
) -> L::Scalar {
    let y = w.map_or(y.clone(), |w| l.mul(&y, w));
    b.map_or(y.clone(), |b| l.add(&y, b))
}
