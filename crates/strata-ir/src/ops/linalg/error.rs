//! Local error rules of the linear-algebra family, and the multilinear rule that convolutions
//! and their derivative kernels share.
//!
//! An op whose every output element is a sum of K products of one entry of each float operand
//! with nonnegative coefficients (matmul, convolution with its bias as one more term, their
//! VJP kernels, average pooling) is bounded without looking at the kernel's order: with
//! `M = |exact|` upper bounds and `e` the operands' errors, the op run on nonnegative data gives
//! `|op(x̂) − op(x)| ≤ op(M + e) − op(M)` (the multilinear expansion), and the native rounding
//! adds at most `c_K·op(M + e) + K·η·(1 + c_K)` (`Format::dot_constant`: γ_K when products may be
//! fused into FMAs, K·u when every product is rounded). K per element is the op run on ones.
//! The exact enclosure is the midpoint-radius form `op(mid) ± (op(|mid| + rad) − op(|mid|))`.
//! These runs use the op's own f64 kernel; its rounding (γ_K in binary64 for any order) is
//! covered by a relative slack of `3·2(K + 2)·2^-53`.

use crate::error_bound::{up, Approx, ErrorSink};
use crate::eval::ExecConfig;
use crate::interpret::{Array, Value};
use crate::op::Op;
use strata_float::interval::Interval;
use strata_tensor::{DType, MatmulKernel, Tensor};

type V = Value<Option<Approx>>;

/// How many rounded terms an output element sums.
pub(crate) enum Terms {
    /// As many as the op sums for all-ones operands (coefficients 1).
    Ones,
    /// At most this many (ops with coefficients other than 1).
    AtMost(usize),
}

/// matmul: fused products under the fast kernel, separately rounded under the reference.
pub(crate) fn matmul(sink: &ErrorSink, x: &[&V]) -> Result<V, String> {
    let fused = sink.config.matmul == MatmulKernel::Fast;
    multilinear(sink, &Op::Matmul, x, Terms::Ones, fused, "matmul")
}

/// One float operand split into f64 tensors.
struct Split {
    mid: Tensor,
    abs_mid: Tensor,
    /// |mid| + rad: bounds every exact magnitude.
    exact_mag: Tensor,
    /// exact_mag + err: bounds every native magnitude.
    native_mag: Tensor,
    ones: Tensor,
}

fn split(a: &Array<Option<Approx>>) -> Result<Split, String> {
    let n = a.data.len();
    let (mut mid, mut abs_mid, mut exact_mag, mut native_mag) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (i, v) in a.data.iter().enumerate() {
        let v = v.ok_or_else(|| format!("operand element {i} has no bound"))?;
        let (lo, hi) = (v.exact.lo(), v.exact.hi());
        let m = lo / 2.0 + hi / 2.0;
        let rad = (hi - m).max(m - lo).next_up();
        let em = (m.abs() + rad).next_up();
        mid.push(m);
        abs_mid.push(m.abs());
        exact_mag.push(em);
        native_mag.push((em + v.err).next_up());
    }
    let t = |v: Vec<f64>| Tensor::from_vec(v, a.shape.clone()).map_err(|e| e.to_string());
    Ok(Split {
        mid: t(mid)?,
        abs_mid: t(abs_mid)?,
        exact_mag: t(exact_mag)?,
        native_mag: t(native_mag)?,
        ones: Tensor::ones(a.shape.clone(), DType::F64).map_err(|e| e.to_string())?,
    })
}

/// The multilinear rule (module doc); `rule` names it for [`crate::error_bound::Format::mutation`].
pub(crate) fn multilinear(
    sink: &ErrorSink,
    op: &Op,
    x: &[&V],
    terms: Terms,
    fused: bool,
    rule: &str,
) -> Result<V, String> {
    let f = sink.format();
    let parts: Vec<Option<Split>> = x
        .iter()
        .map(|v| match v {
            Value::Float(a) => split(a).map(Some),
            Value::Tensor(_) => Ok(None),
        })
        .collect::<Result<_, _>>()?;
    let run = |pick: &dyn Fn(&Split) -> &Tensor| -> Result<Vec<f64>, String> {
        let args: Vec<Tensor> = (x.iter().zip(&parts))
            .map(|(v, p)| match (v, p) {
                (_, Some(p)) => Ok(pick(p).clone()),
                (Value::Tensor(t), None) => Ok(t.clone()),
                (Value::Float(_), None) => Err("internal: unsplit operand".to_string()),
            })
            .collect::<Result<_, _>>()?;
        Ok(op.forward(&args, &ExecConfig::sequential())?.to_vec_f64())
    };
    let center = run(&|p| &p.mid)?;
    let exact_at_mid = run(&|p| &p.abs_mid)?;
    let exact_top = run(&|p| &p.exact_mag)?;
    let native_top = run(&|p| &p.native_mag)?;
    let counts = match terms {
        Terms::Ones => run(&|p| &p.ones)?,
        Terms::AtMost(k) => vec![k as f64; center.len()],
    };
    let out_shape = {
        let types: Vec<_> = x
            .iter()
            .zip(&parts)
            .map(|(v, p)| match (v, p) {
                (_, Some(p)) => crate::ops::TensorType::new(p.mid.shape().clone(), DType::F64),
                (Value::Tensor(t), None) => {
                    crate::ops::TensorType::new(t.shape().clone(), t.dtype())
                }
                (Value::Float(a), None) => crate::ops::TensorType::new(a.shape.clone(), DType::F64),
            })
            .collect();
        op.infer(&types)?.shape
    };
    let data = (0..center.len())
        .map(|j| {
            let k = counts[j].max(1.0);
            let slack = 6.0 * (k + 2.0) * 2f64.powi(-53);
            let c_k = f.dot_constant(k, fused).ok_or_else(|| {
                format!(
                    "{}: {k} terms per element exceed the dot-product bound (K·u ≥ 1)",
                    op.tag()
                )
            })?;
            let radius =
                up((exact_top[j] - exact_at_mid[j]) + slack * (exact_top[j] + exact_at_mid[j]));
            let exact = Interval::new(
                (center[j] - radius).next_down(),
                (center[j] + radius).next_up(),
            )
            .map_err(|e| format!("{}: element {j}: {e}", op.tag()))?;
            let propagated =
                (native_top[j] - exact_top[j]) + slack * (native_top[j] + exact_top[j]);
            let rounding = c_k * native_top[j] + k * f.underflow * (1.0 + c_k);
            let err = up(f.rule_bound(rule, propagated + rounding));
            let finite = err.is_finite() && native_top[j] * (1.0 + c_k) < f.max_finite;
            Ok(finite.then_some(Approx { exact, err }))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Value::Float(Array::new(out_shape, data)))
}
