//! Reference forward rules of this family, generic over the numeric layer. Per element: mse
//! `d · d` with `d = x − t`; cross-entropy `−(x_t − lse)` from the log-softmax row (with
//! probabilities, `−Σ_c t_c · (x_c − lse)`); nll `−x_t`; bce-with-logits in PyTorch's
//! stable form `(1 − t)·x + (m + ln(exp(−m) + exp(−x − m)))` with `m = max(−x, 0)`, the
//! native decomposition's order of operations. Then `sum` is Σ in the declared order and
//! `mean` that Σ divided by the number of elements. Class indices must lie in `0..C` (PyTorch's
//! `ignore_index` is not modelled).

use super::super::attention::reference::softmax_row;
use crate::interpret::{grouped, zip, Array, Cx, Value};
use crate::layer::{NumericLayer, Transcendental};
use crate::op::{Op, Reduction};
use strata_tensor::{DType, Tensor};

pub(crate) fn forward<L: NumericLayer>(
    cx: &Cx<L>,
    op: &Op,
    args: &[&Value<L::Scalar>],
) -> Result<Value<L::Scalar>, String> {
    let l = cx.layer;
    let (per_element, reduction) = match (op, args) {
        (Op::MseLoss { reduction }, [x, t]) => {
            let d = zip(x.float()?, t.float()?, |a, b| Ok(l.sub(a, b)))?;
            (d.map(|d| l.mul(d, d)), reduction)
        }
        (Op::BceWithLogits { reduction }, [x, t]) => {
            let (zero, one) = (l.int(0), l.int(1));
            let loss = zip(x.float()?, t.float()?, |x, t| {
                let neg_x = l.neg(x);
                let m = l.maximum(&neg_x, &zero);
                let linear = l.mul(&l.sub(&one, t), x);
                let a = l.transcendental(Transcendental::Exp, &l.neg(&m))?;
                let b = l.transcendental(Transcendental::Exp, &l.sub(&neg_x, &m))?;
                let log = l.transcendental(Transcendental::Ln, &l.add(&a, &b))?;
                Ok(l.add(&linear, &l.add(&m, &log)))
            })?;
            (loss, reduction)
        }
        (Op::CrossEntropy { reduction }, [x, target]) => {
            (class_loss(cx, x.float()?, target, true)?, reduction)
        }
        (Op::NllLoss { reduction }, [x, target]) => {
            (class_loss(cx, x.float()?, target, false)?, reduction)
        }
        _ => return Err(format!("{} got the wrong operands", op.tag())),
    };
    Ok(Value::Float(match reduction {
        Reduction::None => per_element,
        Reduction::Sum => Array::new([], vec![cx.sum(&per_element.data)]),
        Reduction::Mean => {
            let n = i64::try_from(per_element.data.len()).map_err(|e| e.to_string())?;
            let mean = l.div(&cx.sum(&per_element.data), &l.int(n));
            Array::new([], vec![mean])
        }
    }))
}

/// Per element (the scores' positions without the class axis, row-major): cross-entropy
/// (`softmax: true`, from the log-softmax of the scores) or nll (the scores are log-probabilities).
fn class_loss<L: NumericLayer>(
    cx: &Cx<L>,
    scores: &Array<L::Scalar>,
    target: &Value<L::Scalar>,
    softmax: bool,
) -> Result<Array<L::Scalar>, String> {
    let l = cx.layer;
    let rank = scores.dims().len();
    let class_axis = usize::from(rank >= 2);
    let mut reduced = vec![false; rank];
    let Some(flag) = reduced.get_mut(class_axis) else {
        return Err("the scores need a class axis".into());
    };
    *flag = true;
    let (rows, classes) = grouped(scores, &reduced)?;
    let mut per_shape = scores.dims().to_vec();
    per_shape.remove(class_axis);
    let log_probs = |row: &[L::Scalar]| -> Result<Vec<L::Scalar>, String> {
        if softmax {
            softmax_row(cx, row, None, true)
        } else {
            Ok(row.to_vec())
        }
    };
    let count: usize = per_shape.iter().product();
    let row = |r: usize| rows.data.get(r * classes..(r + 1) * classes).unwrap_or(&[]);
    let data = match target {
        Value::Tensor(t) => {
            let labels = labels(t)?;
            (0..count)
                .map(|r| {
                    let c = labels.get(r).copied().unwrap_or(-1);
                    let class = usize::try_from(c)
                        .ok()
                        .filter(|&c| c < classes)
                        .ok_or_else(|| {
                            format!("class index {c} is out of range for {classes} classes")
                        })?;
                    let lp = log_probs(row(r))?;
                    Ok(l.neg(&lp[class]))
                })
                .collect::<Result<Vec<_>, String>>()?
        }
        Value::Float(t) => {
            let (probs, _) = grouped(t, &reduced)?;
            (0..count)
                .map(|r| {
                    let lp = log_probs(row(r))?;
                    let p = probs
                        .data
                        .get(r * classes..(r + 1) * classes)
                        .unwrap_or(&[]);
                    let terms: Vec<L::Scalar> =
                        p.iter().zip(&lp).map(|(p, q)| l.mul(p, q)).collect();
                    Ok(l.neg(&cx.sum(&terms)))
                })
                .collect::<Result<Vec<_>, String>>()?
        }
    };
    Ok(Array::new(per_shape, data))
}

fn labels(t: &Tensor) -> Result<Vec<i64>, String> {
    if t.dtype() != DType::I64 {
        return Err(format!("class indices must be i64, got {}", t.dtype()));
    }
    t.to_vec::<i64>().map_err(|e| e.to_string())
}
