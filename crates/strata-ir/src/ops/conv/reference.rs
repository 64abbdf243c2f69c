//! Reference forward rules of this family, generic over the numeric layer. Convolutions sum,
//! per output, the products over (input channel of the group, kernel row, kernel column) in
//! row-major order and then add the bias; conv2d's padding taps enter as zeros (im2col), the
//! transposed convolution sums only the taps that reach the output. Pooling windows follow
//! PyTorch's geometry (strata-tensor's `kernels::pool`): max folds `maximum` over the taps
//! from the first, average sums the taps row by row and divides once (adaptive: by the
//! window's height, then its width).

use crate::interpret::{tensor_error, Array, Cx, Value};
use crate::layer::NumericLayer;
use crate::op::Op;
use strata_tensor::kernels::{conv, pool};
use strata_tensor::{AvgPool2dParams, Conv2dParams, ConvTranspose2dParams};

pub(crate) fn forward<L: NumericLayer>(
    cx: &Cx<L>,
    op: &Op,
    args: &[&Value<L::Scalar>],
) -> Result<Value<L::Scalar>, String> {
    let floats = args
        .iter()
        .map(|v| v.float())
        .collect::<Result<Vec<_>, _>>()?;
    let out = match (op, floats.as_slice()) {
        (Op::Conv2d { params, .. }, [x, w, bias @ ..]) => {
            let (x4, unbatched) = batched(x, 4)?;
            unbatch(
                conv2d(cx, &x4, w, bias.first().copied(), params)?,
                unbatched,
            )
        }
        (Op::Conv1d { params, .. }, [x, w, bias @ ..]) => {
            let (x3, unbatched) = batched(x, 3)?;
            let as_image = |a: &Array<L::Scalar>| {
                let mut dims = a.dims().to_vec();
                dims.insert(2, 1);
                Array::new(dims, a.data.clone())
            };
            let p2 = Conv2dParams {
                stride: [1, params.stride],
                padding: [0, params.padding],
                dilation: [1, params.dilation],
                groups: params.groups,
            };
            let y = conv2d(cx, &as_image(&x3), &as_image(w), bias.first().copied(), &p2)?;
            let mut dims = y.dims().to_vec();
            dims.remove(2);
            unbatch(Array::new(dims, y.data), unbatched)
        }
        (Op::ConvTranspose2d { params, .. }, [x, w, bias @ ..]) => {
            let (x4, unbatched) = batched(x, 4)?;
            unbatch(
                conv_transpose2d(cx, &x4, w, bias.first().copied(), params)?,
                unbatched,
            )
        }
        (Op::MaxPool2d { params }, [x]) => {
            let (x4, unbatched) = batched(x, 4)?;
            let shape = pool::max_pool2d_output_shape(dims4(&x4)?, params).map_err(tensor_error)?;
            let windows = |axis: usize, out: usize| {
                sliding(
                    x4.dims()[2 + axis],
                    out,
                    params.kernel[axis],
                    params.stride[axis],
                    params.padding[axis],
                    params.dilation[axis],
                )
            };
            let (rows, cols) = (windows(0, shape[2])?, windows(1, shape[3])?);
            let y = pooled(&x4, &rows, &cols, |taps, _, _| {
                cx.max(taps)
                    .ok_or_else(|| "a pooling window without taps".to_string())
            })?;
            unbatch(y, unbatched)
        }
        (Op::AvgPool2d { params }, [x]) => {
            let (x4, unbatched) = batched(x, 4)?;
            let shape = pool::avg_pool2d_output_shape(dims4(&x4)?, params).map_err(tensor_error)?;
            let windows = |axis: usize, out: usize| {
                sliding(
                    x4.dims()[2 + axis],
                    out,
                    params.kernel[axis],
                    params.stride[axis],
                    params.padding[axis],
                    1,
                )
            };
            let (rows, cols) = (windows(0, shape[2])?, windows(1, shape[3])?);
            let l = cx.layer;
            let y = pooled(&x4, &rows, &cols, |taps, r, c| {
                let divisor = l.int(avg_divisor(params, r, c)?);
                Ok(l.div(&cx.sum(taps), &divisor))
            })?;
            unbatch(y, unbatched)
        }
        (Op::AdaptiveAvgPool2d { output_size }, [x]) => {
            let (x4, unbatched) = batched(x, 4)?;
            let rows = adaptive(x4.dims()[2], output_size[0]);
            let cols = adaptive(x4.dims()[3], output_size[1]);
            let l = cx.layer;
            let count = |w: &Window| i64::try_from(w.taps).map(|n| l.int(n));
            let y = pooled(&x4, &rows, &cols, |taps, r, c| {
                let (h, w) = (count(r), count(c));
                let (h, w) = (h.map_err(|e| e.to_string())?, w.map_err(|e| e.to_string())?);
                Ok(l.div(&l.div(&cx.sum(taps), &h), &w))
            })?;
            unbatch(y, unbatched)
        }
        _ => return Err(format!("{} got the wrong operands", op.tag())),
    };
    Ok(Value::Float(out))
}

/// The input with a batch axis (rank `rank`), and whether one was added.
fn batched<S: Clone>(x: &Array<S>, rank: usize) -> Result<(Array<S>, bool), String> {
    match x.dims().len() {
        r if r == rank => Ok((x.clone(), false)),
        r if r + 1 == rank => {
            let dims = [&[1], x.dims()].concat();
            Ok((Array::new(dims, x.data.clone()), true))
        }
        r => Err(format!("expected rank {rank} or {}, got {r}", rank - 1)),
    }
}

fn unbatch<S>(y: Array<S>, unbatched: bool) -> Array<S> {
    if unbatched {
        Array::new(y.dims()[1..].to_vec(), y.data)
    } else {
        y
    }
}

fn dims4<S>(x: &Array<S>) -> Result<[usize; 4], String> {
    <[usize; 4]>::try_from(x.dims()).map_err(|_| format!("expected rank 4, got {}", x.shape))
}

/// conv2d on `[N, C, H, W]` and `[O, C/groups, kh, kw]`.
fn conv2d<L: NumericLayer>(
    cx: &Cx<L>,
    x: &Array<L::Scalar>,
    w: &Array<L::Scalar>,
    bias: Option<&Array<L::Scalar>>,
    p: &Conv2dParams,
) -> Result<Array<L::Scalar>, String> {
    let l = cx.layer;
    let [n, c, h, wd] = dims4(x)?;
    let [o, cg, kh, kw] = dims4(w)?;
    let out = conv::conv2d_output_shape([n, c, h, wd], [o, cg, kh, kw], p).map_err(tensor_error)?;
    let [_, _, ho, wo] = out;
    let og = o / p.groups.max(1);
    let zero = l.int(0);
    let mut data = Vec::with_capacity(out.iter().product());
    let mut terms = Vec::with_capacity(cg * kh * kw);
    let tap = |pos: usize, k: usize, axis: usize, len: usize| {
        (pos * p.stride[axis] + k * p.dilation[axis])
            .checked_sub(p.padding[axis])
            .filter(|&i| i < len)
    };
    for b in 0..n {
        for oc in 0..o {
            let g = oc / og.max(1);
            for y in 0..ho {
                for xo in 0..wo {
                    terms.clear();
                    for ci in 0..cg {
                        let channel = g * cg + ci;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let wv = &w.data[((oc * cg + ci) * kh + ky) * kw + kx];
                                let xv = match (tap(y, ky, 0, h), tap(xo, kx, 1, wd)) {
                                    (Some(iy), Some(ix)) => {
                                        &x.data[((b * c + channel) * h + iy) * wd + ix]
                                    }
                                    _ => &zero,
                                };
                                terms.push(l.mul(xv, wv));
                            }
                        }
                    }
                    let s = cx.sum(&terms);
                    data.push(match bias {
                        Some(bv) => l.add(&s, &bv.data[oc]),
                        None => s,
                    });
                }
            }
        }
    }
    Ok(Array::new(out.to_vec(), data))
}

/// conv_transpose2d on `[N, C, H, W]` and `[C, O/groups, kh, kw]`.
fn conv_transpose2d<L: NumericLayer>(
    cx: &Cx<L>,
    x: &Array<L::Scalar>,
    w: &Array<L::Scalar>,
    bias: Option<&Array<L::Scalar>>,
    p: &ConvTranspose2dParams,
) -> Result<Array<L::Scalar>, String> {
    let l = cx.layer;
    let [n, c, h, wd] = dims4(x)?;
    let [wc, og, kh, kw] = dims4(w)?;
    let out = conv::conv_transpose2d_output_shape([n, c, h, wd], [wc, og, kh, kw], p)
        .map_err(tensor_error)?;
    let [_, o, ho, wo] = out;
    let cg = c / p.groups.max(1);
    let mut data = Vec::with_capacity(out.iter().product());
    let mut terms = Vec::with_capacity(cg * kh * kw);
    // The input position whose tap `k` lands on output position `pos`, if any.
    let source = |pos: usize, k: usize, axis: usize, len: usize| {
        let reach = (pos + p.padding[axis]).checked_sub(k * p.dilation[axis])?;
        (reach % p.stride[axis] == 0)
            .then_some(reach / p.stride[axis])
            .filter(|&i| i < len)
    };
    for b in 0..n {
        for oc in 0..o {
            let (g, local) = (oc / og.max(1), oc % og.max(1));
            for y in 0..ho {
                for xo in 0..wo {
                    terms.clear();
                    for ci in 0..cg {
                        let channel = g * cg + ci;
                        for ky in 0..kh {
                            let Some(iy) = source(y, ky, 0, h) else {
                                continue;
                            };
                            for kx in 0..kw {
                                let Some(ix) = source(xo, kx, 1, wd) else {
                                    continue;
                                };
                                let xv = &x.data[((b * c + channel) * h + iy) * wd + ix];
                                let wv = &w.data[((channel * og + local) * kh + ky) * kw + kx];
                                terms.push(l.mul(xv, wv));
                            }
                        }
                    }
                    let s = cx.sum(&terms);
                    data.push(match bias {
                        Some(bv) => l.add(&s, &bv.data[oc]),
                        None => s,
                    });
                }
            }
        }
    }
    Ok(Array::new(out.to_vec(), data))
}

/// One pooling window along one axis: `taps` input positions from `first`, `step` apart, and
/// its `span` (the window clipped to the padded input).
struct Window {
    first: usize,
    taps: usize,
    step: usize,
    span: usize,
}

/// PyTorch's sliding windows (strata-tensor's `SlidingAxis::windows`): window `o` starts at
/// `o · stride − pad` and taps every `dilation`-th position; taps in the padding are skipped.
fn sliding(
    len: usize,
    out: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
    dilation: usize,
) -> Result<Vec<Window>, String> {
    let padded_end = len + 2 * pad;
    let extent = (kernel.saturating_sub(1)) * dilation + 1;
    (0..out)
        .map(|o| {
            let start = o * stride;
            let first_tap = pad.saturating_sub(start).div_ceil(dilation);
            let end_tap = (pad + len)
                .saturating_sub(start)
                .div_ceil(dilation)
                .min(kernel);
            if first_tap >= end_tap {
                return Err(format!("window {o} covers only padding"));
            }
            Ok(Window {
                first: start + first_tap * dilation - pad,
                taps: end_tap - first_tap,
                step: dilation,
                span: (start + extent).min(padded_end) - start,
            })
        })
        .collect()
}

/// PyTorch's adaptive windows: output `i` pools `⌊i·len/out⌋ .. ⌈(i+1)·len/out⌉`.
fn adaptive(len: usize, out: usize) -> Vec<Window> {
    let (len, out_u) = (len as u128, out as u128);
    (0..out as u128)
        .map(|i| {
            let start = (i * len / out_u) as usize;
            let end = ((i + 1) * len).div_ceil(out_u) as usize;
            Window {
                first: start,
                taps: end - start,
                step: 1,
                span: end - start,
            }
        })
        .collect()
}

/// avg_pool2d's divisor of a window.
fn avg_divisor(p: &AvgPool2dParams, row: &Window, col: &Window) -> Result<i64, String> {
    let d = match p.divisor_override {
        Some(d) => d,
        None if p.count_include_pad => row.span * col.span,
        None => row.taps * col.taps,
    };
    i64::try_from(d).map_err(|e| e.to_string())
}

/// `reduce(taps, row, col)` on every window of every plane of `[N, C, H, W]`, the taps row by
/// row.
fn pooled<S: Clone>(
    x: &Array<S>,
    rows: &[Window],
    cols: &[Window],
    mut reduce: impl FnMut(&[S], &Window, &Window) -> Result<S, String>,
) -> Result<Array<S>, String> {
    let [n, c, h, w] = dims4(x)?;
    let mut data = Vec::with_capacity(n * c * rows.len() * cols.len());
    let mut taps = Vec::new();
    for plane in 0..n * c {
        let base = plane * h * w;
        for r in rows {
            for col in cols {
                taps.clear();
                for i in 0..r.taps {
                    let line = base + (r.first + i * r.step) * w + col.first;
                    taps.extend((0..col.taps).map(|j| x.data[line + j * col.step].clone()));
                }
                data.push(reduce(&taps, r, col)?);
            }
        }
    }
    Ok(Array::new([n, c, rows.len(), cols.len()], data))
}
