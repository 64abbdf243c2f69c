//! Reference forward rules of this family, generic over the numeric layer. The float formulas
//! are the native kernels' (`strata_tensor::elementwise`), step by step: sigmoid is
//! `1 / (1 + exp(−x))`, gelu `(0.5 · x) · (1 + erf(x · (1/√2)))` or with `tanh` of
//! `√(2/π) · (x + ((0.044715 · x) · x) · x)`, silu `x · sigmoid(x)`, softplus `x` where
//! `x · beta > threshold` and `ln(1 + exp(x · beta)) / beta` elsewhere.

use crate::interpret::{array_of, decide, fixed, tensor_error, tensor_of, zip, Array, Cx, Value};
use crate::layer::{NumericLayer, Transcendental as T};
use crate::op::{Comparison, GeluApproximation, Op};
use std::f64::consts::{FRAC_1_SQRT_2, PI};
use strata_tensor::{broadcast_shapes, DType, Tensor};

pub(crate) fn forward<L: NumericLayer>(
    cx: &Cx<L>,
    op: &Op,
    args: &[&Value<L::Scalar>],
) -> Result<Value<L::Scalar>, String> {
    match op {
        Op::Detach => Ok(fixed::<_, 1>(args)?[0].clone()),
        Op::Where => {
            let [cond, x, y] = fixed(args)?;
            select(cond.tensor()?, x, y)
        }
        Op::Compare { cmp } => {
            let [a, b] = fixed(args)?;
            compare(cx, *cmp, a, b)
        }
        Op::LogicalNot => {
            let t = fixed::<_, 1>(args)?[0].tensor()?;
            Ok(Value::Tensor(t.logical_not().map_err(tensor_error)?))
        }
        Op::LogicalAnd | Op::LogicalOr => {
            let [a, b] = fixed(args)?;
            let (a, b) = (a.tensor()?, b.tensor()?);
            let out = if *op == Op::LogicalAnd {
                a.logical_and(b)
            } else {
                a.logical_or(b)
            };
            Ok(Value::Tensor(out.map_err(tensor_error)?))
        }
        Op::Cast { dtype } => cast(cx, *dtype, fixed::<_, 1>(args)?[0]),
        _ => match args {
            [Value::Float(x)] => Ok(Value::Float(x.try_map(|v| unary(cx, op, v))?)),
            [Value::Tensor(x)] => {
                let x = array_of::<i64>(x)?;
                Ok(Value::Tensor(tensor_of(x.try_map(|&v| int_unary(op, v))?)?))
            }
            [Value::Float(a), Value::Float(b)] => {
                Ok(Value::Float(zip(a, b, |x, y| binary(cx.layer, op, x, y))?))
            }
            [Value::Tensor(a), Value::Tensor(b)] => {
                let (a, b) = (array_of::<i64>(a)?, array_of::<i64>(b)?);
                Ok(Value::Tensor(tensor_of(zip(&a, &b, |&x, &y| {
                    int_binary(op, x, y)
                })?)?))
            }
            _ => Err("the operands must be all float or all i64".into()),
        },
    }
}

/// `1 / (1 + exp(−x))`.
pub(crate) fn sigmoid<L: NumericLayer>(l: &L, x: &L::Scalar) -> Result<L::Scalar, String> {
    let one = l.int(1);
    let e = l.transcendental(T::Exp, &l.neg(x))?;
    Ok(l.div(&one, &l.add(&one, &e)))
}

/// √(2/π) as the native gelu kernel computes it in f64 (within two ulps of the real value).
fn sqrt_two_over_pi() -> f64 {
    (2.0 / PI).sqrt()
}

fn unary<L: NumericLayer>(cx: &Cx<L>, op: &Op, x: &L::Scalar) -> Result<L::Scalar, String> {
    let l = cx.layer;
    let t = |f, v: &L::Scalar| l.transcendental(f, v);
    let (zero, one, half) = (l.int(0), l.int(1), l.of_f64(0.5));
    Ok(match op {
        Op::Neg => l.neg(x),
        Op::Abs => l.abs(x),
        Op::Sqrt => l.sqrt(x),
        Op::Reciprocal => l.div(&one, x),
        Op::Square => l.mul(x, x),
        Op::Exp => t(T::Exp, x)?,
        Op::Log => t(T::Ln, x)?,
        Op::Sin => t(T::Sin, x)?,
        Op::Cos => t(T::Cos, x)?,
        Op::Tanh => t(T::Tanh, x)?,
        Op::Erf => t(T::Erf, x)?,
        Op::Sigmoid => sigmoid(l, x)?,
        Op::Silu => l.mul(x, &sigmoid(l, x)?),
        Op::Floor => l.floor(x),
        // x ≤ 0 (−0 included) gives +0; NaN fails the comparison and passes through.
        Op::Relu => cx.branch(
            x,
            Comparison::Le,
            &zero,
            |_| Ok(zero.clone()),
            |x| Ok(x.clone()),
        )?,
        Op::LeakyRelu { negative_slope } => {
            let slope = l.of_f64(*negative_slope);
            cx.branch(
                x,
                Comparison::Lt,
                &zero,
                |x| Ok(l.mul(x, &slope)),
                |x| Ok(x.clone()),
            )?
        }
        Op::Sign => cx.branch(
            x,
            Comparison::Gt,
            &zero,
            |_| Ok(one.clone()),
            |x| {
                cx.branch(
                    x,
                    Comparison::Lt,
                    &zero,
                    |_| Ok(l.neg(&one)),
                    |x| Ok(x.clone()),
                )
            },
        )?,
        Op::Gelu {
            approximate: GeluApproximation::Erf,
        } => {
            let phi = t(T::Erf, &l.mul(x, &l.real(FRAC_1_SQRT_2)))?;
            l.mul(&l.mul(&half, x), &l.add(&one, &phi))
        }
        Op::Gelu {
            approximate: GeluApproximation::Tanh,
        } => {
            let cubic = l.mul(&l.mul(&l.mul(&l.real(0.044715), x), x), x);
            let inner = l.mul(&l.real(sqrt_two_over_pi()), &l.add(x, &cubic));
            l.mul(&l.mul(&half, x), &l.add(&one, &t(T::Tanh, &inner)?))
        }
        Op::Softplus { beta, threshold } => {
            let beta = l.of_f64(*beta);
            let scaled = l.mul(x, &beta);
            let linear_above = l.of_f64(*threshold);
            cx.branch(
                &scaled,
                Comparison::Gt,
                &linear_above,
                |_| Ok(x.clone()),
                |bx| Ok(l.div(&t(T::Ln1p, &t(T::Exp, bx)?)?, &beta)),
            )?
        }
        _ => return Err(format!("{} is not a unary float op", op.tag())),
    })
}

fn binary<L: NumericLayer>(
    l: &L,
    op: &Op,
    a: &L::Scalar,
    b: &L::Scalar,
) -> Result<L::Scalar, String> {
    Ok(match op {
        Op::Add => l.add(a, b),
        Op::Sub => l.sub(a, b),
        Op::Mul => l.mul(a, b),
        Op::Div => l.div(a, b),
        Op::Pow => l.pow(a, b)?,
        Op::Minimum => l.minimum(a, b),
        Op::Maximum => l.maximum(a, b),
        _ => return Err(format!("{} is not a binary float op", op.tag())),
    })
}

/// The numeric unary ops on i64 (wrapping, as PyTorch).
fn int_unary(op: &Op, x: i64) -> Result<i64, String> {
    Ok(match op {
        Op::Neg => x.wrapping_neg(),
        Op::Abs => x.wrapping_abs(),
        Op::Square => x.wrapping_mul(x),
        Op::Relu => x.max(0),
        Op::Sign => x.signum(),
        Op::Floor => x,
        _ => return Err(format!("{} is not defined on i64", op.tag())),
    })
}

/// The numeric binary ops on i64 (wrapping, as PyTorch).
fn int_binary(op: &Op, a: i64, b: i64) -> Result<i64, String> {
    use crate::layer::{int::Int64, Arith};
    Ok(match op {
        Op::Add => a.wrapping_add(b),
        Op::Sub => a.wrapping_sub(b),
        Op::Mul => a.wrapping_mul(b),
        Op::Pow => Int64.pow(&a, &b)?,
        Op::Minimum => a.min(b),
        Op::Maximum => a.max(b),
        _ => return Err(format!("{} is not defined on i64", op.tag())),
    })
}

fn compare<L: NumericLayer>(
    cx: &Cx<L>,
    cmp: Comparison,
    a: &Value<L::Scalar>,
    b: &Value<L::Scalar>,
) -> Result<Value<L::Scalar>, String> {
    match (a, b) {
        (Value::Float(a), Value::Float(b)) => {
            let bits = zip(a, b, |x, y| decide(cx.layer, x, y, cmp))?;
            Ok(Value::Tensor(tensor_of(bits)?))
        }
        (a, b) => {
            let t = a.tensor()?.compare(b.tensor()?, cmp.cmp_op());
            Ok(Value::Tensor(t.map_err(tensor_error)?))
        }
    }
}

/// torch.where: pure selection, so every layer's values pass through unchanged.
fn select<S: Clone>(cond: &Tensor, x: &Value<S>, y: &Value<S>) -> Result<Value<S>, String> {
    let (x, y) = match (x, y) {
        (Value::Float(x), Value::Float(y)) => (x, y),
        (x, y) => {
            let t = Tensor::where_cond(cond, x.tensor()?, y.tensor()?);
            return Ok(Value::Tensor(t.map_err(tensor_error)?));
        }
    };
    let shape = broadcast_shapes("where", &x.shape, &y.shape)
        .and_then(|s| broadcast_shapes("where", cond.shape(), &s))
        .map_err(tensor_error)?;
    let cond = array_of::<bool>(cond)?.broadcast_to(&shape)?;
    let (x, y) = (x.broadcast_to(&shape)?, y.broadcast_to(&shape)?);
    let data = (cond.data.iter().zip(x.data).zip(y.data))
        .map(|((&c, a), b)| if c { a } else { b })
        .collect();
    Ok(Value::Float(Array::new(shape, data)))
}

/// `x.to(dtype)`: float to float is the identity in a layer (the layer fixes the arithmetic);
/// float to i64 truncates toward zero (NaN, ±∞, out-of-range values, and enclosures that do not
/// truncate to one integer are errors); float to bool is `x ≠ 0`; i64 and bool to float are
/// exact integers; i64 ↔ bool as strata-tensor converts them.
fn cast<L: NumericLayer>(
    cx: &Cx<L>,
    dtype: DType,
    x: &Value<L::Scalar>,
) -> Result<Value<L::Scalar>, String> {
    let l = cx.layer;
    match (x, dtype.is_float()) {
        (Value::Float(_), true) => Ok(x.clone()),
        (Value::Float(a), false) if dtype == DType::Bool => {
            let zero = l.int(0);
            let bits = a.try_map(|v| decide(l, v, &zero, Comparison::Ne))?;
            Ok(Value::Tensor(tensor_of(bits)?))
        }
        (Value::Float(a), false) => {
            let ints = a.try_map(|v| truncate(l, v))?;
            Ok(Value::Tensor(tensor_of(ints)?))
        }
        (Value::Tensor(t), true) => {
            let ints = array_of::<i64>(&t.to_dtype(DType::I64).map_err(tensor_error)?)?;
            Ok(Value::Float(ints.map(|&v| l.int(v))))
        }
        (Value::Tensor(t), false) => Ok(Value::Tensor(t.to_dtype(dtype).map_err(tensor_error)?)),
    }
}

/// A float truncated toward zero to i64.
fn truncate<L: NumericLayer>(l: &L, v: &L::Scalar) -> Result<i64, String> {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    let (lo, hi) = l.bounds(v).ok_or_else(|| {
        format!(
            "cannot cast {v:?} (off the {} layer's path) to i64",
            l.name()
        )
    })?;
    let (lo, hi) = (lo.trunc(), hi.trunc());
    if !(lo > -LIMIT - 1.0 && hi < LIMIT) {
        return Err(format!("cannot cast {v:?} to i64: NaN or out of range"));
    }
    if lo != hi {
        return Err(format!("{v:?} does not truncate to one integer"));
    }
    Ok(lo as i64)
}
