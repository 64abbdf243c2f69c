//! Local error rules of the convolution and pooling family. Convolutions (bias included, one
//! more term of each sum) and average pooling are multilinear: the rule of
//! `ops/linalg/error.rs`, with γ_K because the native convolution is im2col + gemm (fused,
//! unspecified order). Max pooling selects: the window's largest error, and the window maxima
//! of the exact bounds. The VJP kernels of convolutions and average pooling are multilinear in
//! their operands too; max pooling's VJP routes by an argmax and has no rule.

use crate::error_bound::{Approx, ErrorSink};
use crate::eval::ExecConfig;
use crate::interpret::{Array, Value};
use crate::op::Op;
use crate::ops::linalg::error::{multilinear, Terms};
use strata_float::interval::Interval;
use strata_tensor::Tensor;

type V = Value<Option<Approx>>;

/// An upper bound on the terms an average-pooling output (or its VJP) sums, the division
/// counted as one more rounding.
fn pooled_terms(op: &Op, input_dims: &[usize]) -> usize {
    match op {
        Op::AvgPool2d { params } => params.kernel[0] * params.kernel[1] + 1,
        // An adaptive window spans at most the whole plane; two divisions.
        _ => input_dims.iter().rev().take(2).product::<usize>() + 2,
    }
}

pub(crate) fn forward(sink: &ErrorSink, op: &Op, x: &[&V]) -> Result<V, String> {
    match op {
        Op::MaxPool2d { .. } => max_pool(op, x),
        Op::AvgPool2d { .. } | Op::AdaptiveAvgPool2d { .. } => {
            let dims = x
                .first()
                .ok_or("pooling takes one input")?
                .shape()
                .dims()
                .to_vec();
            let terms = Terms::AtMost(pooled_terms(op, &dims));
            multilinear(sink, op, x, terms, true, "avg_pool")
        }
        _ => multilinear(sink, op, x, Terms::Ones, true, "conv"),
    }
}

/// The VJP kernels with a rule; `None` for the rest.
pub(crate) fn vjp(sink: &ErrorSink, of: &Op, input: usize, x: &[&V]) -> Option<Result<V, String>> {
    let op = Op::Vjp {
        of: Box::new(of.clone()),
        input,
    };
    Some(match of {
        Op::Conv1d { .. } | Op::Conv2d { .. } | Op::ConvTranspose2d { .. } => {
            multilinear(sink, &op, x, Terms::Ones, true, "conv")
        }
        Op::AvgPool2d { .. } | Op::AdaptiveAvgPool2d { .. } => {
            let dims = x.first()?.shape().dims().to_vec();
            let terms = Terms::AtMost(pooled_terms(of, &dims));
            multilinear(sink, &op, x, terms, true, "avg_pool")
        }
        other => Err(format!(
            "the VJP kernel of {} has no error rule",
            other.tag()
        )),
    })
}

fn max_pool(op: &Op, x: &[&V]) -> Result<V, String> {
    let a = x.first().ok_or("max pooling takes one input")?.float()?;
    let el: Vec<Approx> = (a.data.iter().enumerate())
        .map(|(i, v)| v.ok_or_else(|| format!("element {i} has no bound")))
        .collect::<Result<_, _>>()?;
    let pool = |v: Vec<f64>| -> Result<Tensor, String> {
        let t = Tensor::from_vec(v, a.shape.clone()).map_err(|e| e.to_string())?;
        op.forward(&[t], &ExecConfig::sequential())
    };
    let lo = pool(el.iter().map(|v| v.exact.lo()).collect())?;
    let hi = pool(el.iter().map(|v| v.exact.hi()).collect())?.to_vec_f64();
    let err = pool(el.iter().map(|v| v.err).collect())?.to_vec_f64();
    let data = (lo.to_vec_f64().into_iter().zip(hi).zip(err))
        .map(|((l, h), e)| {
            Some(Approx {
                exact: Interval::new(l, h).ok()?,
                err: e,
            })
        })
        .collect();
    Ok(Value::Float(Array::new(lo.shape().clone(), data)))
}
