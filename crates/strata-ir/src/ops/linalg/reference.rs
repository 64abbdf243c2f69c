//! Reference forward rules of this family, generic over the numeric layer: every output is
//! one sum, in the declared order, of products rounded one by one (no fused multiply-add), as
//! strata-tensor's `MatmulKernel::Reference`. i64 products wrap.

use super::EinsumSpec;
use crate::interpret::{array_of, fixed, tensor_error, tensor_of, Array, Cx, Value};
use crate::layer::{int::Int64, Arith, NumericLayer};
use crate::op::Op;
use strata_tensor::{broadcast_shapes, Shape};

pub(crate) fn forward<L: NumericLayer>(
    cx: &Cx<L>,
    op: &Op,
    args: &[&Value<L::Scalar>],
) -> Result<Value<L::Scalar>, String> {
    match op {
        Op::Matmul => match fixed(args)? {
            [Value::Tensor(a), Value::Tensor(b)] => {
                let ints = Cx {
                    layer: &Int64,
                    order: cx.order,
                };
                let out = matmul(&ints, &array_of::<i64>(a)?, &array_of::<i64>(b)?)?;
                Ok(Value::Tensor(tensor_of(out)?))
            }
            [a, b] => Ok(Value::Float(matmul(cx, a.float()?, b.float()?)?)),
        },
        Op::Linear { .. } => {
            let floats = args
                .iter()
                .map(|v| v.float())
                .collect::<Result<Vec<_>, _>>()?;
            let [x, w, rest @ ..] = floats.as_slice() else {
                return Err("linear takes x and weight (and bias)".into());
            };
            Ok(Value::Float(linear(cx, x, w, rest.first().copied())?))
        }
        Op::Einsum { equation } => {
            let floats = args
                .iter()
                .map(|v| v.float())
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Float(einsum(cx, equation, &floats)?))
        }
        _ => Err(format!("{} is not a linear-algebra op", op.tag())),
    }
}

/// torch.matmul: `out[…, i, j] = Σ_q a[…, i, q] · b[…, q, j]`, q ascending.
pub(crate) fn matmul<A: Arith>(
    cx: &Cx<A>,
    a: &Array<A::Scalar>,
    b: &Array<A::Scalar>,
) -> Result<Array<A::Scalar>, String> {
    let (ra, rb) = (a.dims().len(), b.dims().len());
    if ra == 0 || rb == 0 {
        return Err("both operands need at least one dimension".into());
    }
    let lhs: Vec<usize> = if ra == 1 {
        [&[1], a.dims()].concat()
    } else {
        a.dims().to_vec()
    };
    let rhs: Vec<usize> = if rb == 1 {
        [b.dims(), &[1]].concat()
    } else {
        b.dims().to_vec()
    };
    let (m, k) = (lhs[lhs.len() - 2], lhs[lhs.len() - 1]);
    let (k2, n) = (rhs[rhs.len() - 2], rhs[rhs.len() - 1]);
    if k != k2 {
        return Err(format!("the contracted dimensions differ: {k} and {k2}"));
    }
    let batch = broadcast_shapes(
        "matmul",
        &Shape::from(&lhs[..lhs.len() - 2]),
        &Shape::from(&rhs[..rhs.len() - 2]),
    )
    .map_err(tensor_error)?
    .into_vec();
    let full = |dims: &[usize], rows: usize, cols: usize, x: &Array<A::Scalar>| {
        let target = [batch.as_slice(), &[rows, cols]].concat();
        x.moved(|t| t.reshape(dims.to_vec())?.broadcast_to(target))
    };
    let (fa, fb) = (full(&lhs, m, k, a)?, full(&rhs, k, n, b)?);
    let batches: usize = batch.iter().product();
    let mut out = Vec::with_capacity(batches * m * n);
    let mut products = Vec::with_capacity(k);
    for bi in 0..batches {
        let (pa, pb) = (&fa.data[bi * m * k..], &fb.data[bi * k * n..]);
        for i in 0..m {
            for j in 0..n {
                products.clear();
                products.extend((0..k).map(|q| cx.layer.mul(&pa[i * k + q], &pb[q * n + j])));
                out.push(cx.sum(&products));
            }
        }
    }
    let mut dims = batch;
    if ra > 1 {
        dims.push(m);
    }
    if rb > 1 {
        dims.push(n);
    }
    Ok(Array::new(dims, out))
}

/// F.linear: `out[…, o] = Σ_q x[…, q] · w[o, q]`, q ascending, then `+ bias[o]`.
fn linear<L: NumericLayer>(
    cx: &Cx<L>,
    x: &Array<L::Scalar>,
    w: &Array<L::Scalar>,
    bias: Option<&Array<L::Scalar>>,
) -> Result<Array<L::Scalar>, String> {
    let l = cx.layer;
    let [outs, ins] = w.dims() else {
        return Err(format!("the weight must be [out, in], got {}", w.shape));
    };
    let (outs, ins) = (*outs, *ins);
    let rows: usize = x.dims()[..x.dims().len().saturating_sub(1)]
        .iter()
        .product();
    let mut out = Vec::with_capacity(rows * outs);
    let mut products = Vec::with_capacity(ins);
    for r in 0..rows {
        let row = &x.data[r * ins..(r + 1) * ins];
        for o in 0..outs {
            products.clear();
            products.extend((0..ins).map(|q| l.mul(&row[q], &w.data[o * ins + q])));
            let s = cx.sum(&products);
            out.push(match bias {
                Some(b) => l.add(&s, &b.data[o]),
                None => s,
            });
        }
    }
    let mut dims = x.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = outs;
    }
    Ok(Array::new(dims, out))
}

/// torch.einsum: per output, Σ over the contracted letters (alphabetical, row-major) of the
/// operands' product taken left to right; without contracted letters, the product itself.
fn einsum<L: NumericLayer>(
    cx: &Cx<L>,
    equation: &str,
    operands: &[&Array<L::Scalar>],
) -> Result<Array<L::Scalar>, String> {
    let spec = EinsumSpec::parse(equation, operands.len())?;
    let shapes: Vec<&[usize]> = operands.iter().map(|a| a.dims()).collect();
    let extent = spec.extents(&shapes)?;
    let slot = |c: u8| usize::from(c - b'a');
    let size = |c: &u8| extent[slot(*c)].unwrap_or(0);
    let mut contracted: Vec<u8> = (b'a'..=b'z')
        .filter(|c| extent[slot(*c)].is_some() && !spec.output.contains(c))
        .collect();
    contracted.sort_unstable();
    // Row-major strides of each operand, per letter.
    let strides: Vec<[usize; 26]> = (spec.operands.iter())
        .map(|term| {
            let mut s = [0; 26];
            let mut step = 1;
            for &c in term.iter().rev() {
                s[slot(c)] = step;
                step *= size(&c);
            }
            s
        })
        .collect();
    let out_dims: Vec<usize> = spec.output.iter().map(size).collect();
    let inner: usize = contracted.iter().map(size).product();
    let mut value = [0usize; 26];
    let mut out = Vec::with_capacity(out_dims.iter().product());
    let mut terms = Vec::with_capacity(inner);
    let assign = |value: &mut [usize; 26], letters: &[u8], mut flat: usize| {
        for &c in letters.iter().rev() {
            let n = size(&c);
            value[slot(c)] = flat % n;
            flat /= n;
        }
    };
    for o in 0..out_dims.iter().product() {
        assign(&mut value, &spec.output, o);
        terms.clear();
        for t in 0..inner {
            assign(&mut value, &contracted, t);
            let entry = |(a, s): (&&Array<L::Scalar>, &[usize; 26])| {
                let at: usize = (0..26).map(|i| value[i] * s[i]).sum();
                a.data.get(at).cloned().ok_or("einsum: index out of range")
            };
            let mut factors = operands.iter().zip(&strides).map(entry);
            let first = factors.next().ok_or("einsum needs an operand")??;
            let product = factors.try_fold(first, |p, f| Ok::<_, &str>(cx.layer.mul(&p, &f?)))?;
            terms.push(product);
        }
        out.push(if contracted.is_empty() {
            terms.pop().ok_or("einsum: no term")?
        } else {
            cx.sum(&terms)
        });
    }
    Ok(Array::new(out_dims, out))
}
