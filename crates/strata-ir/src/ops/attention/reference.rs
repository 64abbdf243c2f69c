//! Reference forward rules of this family, generic over the numeric layer, as strata-tensor's
//! softmax: `m = max x` (a fold from the first element), `e = exp(x − m)`, `s = Σe` in the
//! declared order, softmax `e / s`, log-softmax `x − (m + ln s)`. Masked positions contribute
//! `e = +0` and are left out of the maximum; they get probability +0, and a row with every
//! position masked gives zeros. Attention: scores `(Σ_e q·k) · scale`, masked softmax along
//! the keys, then `Σ_s p·v`.

use crate::interpret::{along_axis, array_of, tensor_error, Array, Cx, Value};
use crate::layer::{NumericLayer, Transcendental};
use crate::op::{AttentionMask, Op};
use strata_tensor::{broadcast_shapes, Shape};

pub(crate) fn forward<L: NumericLayer>(
    cx: &Cx<L>,
    op: &Op,
    args: &[&Value<L::Scalar>],
) -> Result<Value<L::Scalar>, String> {
    let out = match (op, args) {
        (Op::Softmax { axis }, [x]) => {
            along_axis(x.float()?, *axis, |row| softmax_row(cx, row, None, false))?
        }
        (Op::LogSoftmax { axis }, [x]) => {
            along_axis(x.float()?, *axis, |row| softmax_row(cx, row, None, true))?
        }
        (Op::MaskedSoftmax { axis }, [x, mask]) => {
            let x = x.float()?;
            let mask = array_of::<bool>(mask.tensor()?)?.broadcast_to(&x.shape)?;
            // The mask rides along as the second half of each row.
            let both = Array::new(
                x.shape.clone(),
                (x.data.iter().cloned().zip(mask.data)).collect::<Vec<_>>(),
            );
            let out = along_axis(&both, *axis, |row| {
                let (values, keep): (Vec<_>, Vec<_>) = row.iter().cloned().unzip();
                let p = softmax_row(cx, &values, Some(&keep), false)?;
                Ok(p.into_iter().zip(keep).collect())
            })?;
            out.map(|(p, _)| p.clone())
        }
        (Op::ScaledDotProductAttention { mask, scale }, [q, k, v, rest @ ..]) => {
            let explicit = match rest.first() {
                Some(m) => Some(array_of::<bool>(m.tensor()?)?),
                None => None,
            };
            attention(
                cx,
                q.float()?,
                k.float()?,
                v.float()?,
                *mask,
                explicit,
                *scale,
            )?
        }
        _ => return Err(format!("{} got the wrong operands", op.tag())),
    };
    Ok(Value::Float(out))
}

/// Softmax (or log-softmax) of one row; `keep` marks the unmasked positions.
pub(crate) fn softmax_row<L: NumericLayer>(
    cx: &Cx<L>,
    row: &[L::Scalar],
    keep: Option<&[bool]>,
    log: bool,
) -> Result<Vec<L::Scalar>, String> {
    let l = cx.layer;
    let kept = |i: usize| keep.is_none_or(|k| k.get(i).copied().unwrap_or(false));
    let unmasked: Vec<L::Scalar> = (row.iter().enumerate())
        .filter(|&(i, _)| kept(i))
        .map(|(_, v)| v.clone())
        .collect();
    let zero = l.int(0);
    let Some(m) = cx.max(&unmasked) else {
        return Ok(vec![zero; row.len()]);
    };
    let e = (row.iter().enumerate())
        .map(|(i, v)| {
            if kept(i) {
                l.transcendental(Transcendental::Exp, &l.sub(v, &m))
            } else {
                Ok(zero.clone())
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let s = cx.sum(&e);
    if log {
        let lse = l.add(&m, &l.transcendental(Transcendental::Ln, &s)?);
        return Ok(row.iter().map(|v| l.sub(v, &lse)).collect());
    }
    Ok((e.iter().enumerate())
        .map(|(i, e)| if kept(i) { l.div(e, &s) } else { zero.clone() })
        .collect())
}

/// F.scaled_dot_product_attention on broadcast batches.
fn attention<L: NumericLayer>(
    cx: &Cx<L>,
    q: &Array<L::Scalar>,
    k: &Array<L::Scalar>,
    v: &Array<L::Scalar>,
    mask: AttentionMask,
    explicit: Option<Array<bool>>,
    scale: Option<f64>,
) -> Result<Array<L::Scalar>, String> {
    let l = cx.layer;
    let split = |a: &Array<L::Scalar>| match a.dims() {
        [batch @ .., rows, cols] => Ok((Shape::from(batch), *rows, *cols)),
        _ => Err(format!("attention operands need rank ≥ 2, got {}", a.shape)),
    };
    let ((qb, nl, ne), (kb, ns, _), (vb, _, nev)) = (split(q)?, split(k)?, split(v)?);
    let batch = broadcast_shapes("attention", &qb, &kb)
        .and_then(|b| broadcast_shapes("attention", &b, &vb))
        .map_err(tensor_error)?
        .into_vec();
    let full = |rows: usize, cols: usize| Shape::new([batch.as_slice(), &[rows, cols]].concat());
    let (q, k, v) = (
        q.broadcast_to(&full(nl, ne))?,
        k.broadcast_to(&full(ns, ne))?,
        v.broadcast_to(&full(ns, nev))?,
    );
    let explicit = match explicit {
        Some(m) => Some(m.broadcast_to(&full(nl, ns))?),
        None => None,
    };
    let scale = match scale {
        Some(s) => l.of_f64(s),
        None => l.real(1.0 / (ne as f64).sqrt()),
    };
    let batches: usize = batch.iter().product();
    let mut out = Vec::with_capacity(batches * nl * nev);
    let mut terms = Vec::with_capacity(ne.max(ns));
    for b in 0..batches {
        let (qs, ks, vs) = (
            &q.data[b * nl * ne..],
            &k.data[b * ns * ne..],
            &v.data[b * ns * nev..],
        );
        for i in 0..nl {
            let scores: Vec<L::Scalar> = (0..ns)
                .map(|j| {
                    terms.clear();
                    terms.extend((0..ne).map(|e| l.mul(&qs[i * ne + e], &ks[j * ne + e])));
                    l.mul(&cx.sum(&terms), &scale)
                })
                .collect();
            let keep: Vec<bool> = (0..ns)
                .map(|j| match (mask, &explicit) {
                    (AttentionMask::Causal, _) => j <= i,
                    (_, Some(m)) => m.data[(b * nl + i) * ns + j],
                    _ => true,
                })
                .collect();
            let p = softmax_row(cx, &scores, Some(&keep), false)?;
            for ev in 0..nev {
                terms.clear();
                terms.extend((0..ns).map(|j| l.mul(&p[j], &vs[j * nev + ev])));
                out.push(cx.sum(&terms));
            }
        }
    }
    Ok(Array::new([batch.as_slice(), &[nl, nev]].concat(), out))
}
