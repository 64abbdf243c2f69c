//! Runtime error bounds (DESIGN.md §4): for every element of a value, an enclosure of the exact
//! real value and a bound on |native − exact|, propagated op by op from local rules.
//!
//! - [`Format`]: the arithmetic the native kernels run in (binary32 or binary64): unit roundoff
//!   u, the underflow term η of a rounded product or quotient, the libm accuracy assumption.
//! - [`Approx`]: one element, `exact ∈ [lo, hi]` and `|native − exact| ≤ err`.
//! - [`ErrorLayer`]: a [`NumericLayer`] over `Option<Approx>`, so every op whose native kernel
//!   is the same sequence of rounded scalar steps as its reference rule (elementwise formulas,
//!   data movement, selections) gets its bound from `ops/<family>/reference.rs` step by step;
//!   its scalar rules are in `ops/elementwise/error.rs`.
//! - [`ErrorSink`]: an [`OpSink`] whose values are [`Bounded`] tensors. It applies an op by its
//!   family's error rule where the native kernel's order differs from the reference's (sums,
//!   matrix products, convolutions, pooling, softmax: rules valid for every summation order,
//!   FMA included), by the op's decomposition where the native evaluator decomposes it (linear,
//!   attention, batch norm, …), and by the reference rule in the error layer otherwise. Because
//!   it is a sink, the VJP rules of `ops/grad.rs` run on it too: backward bounds come from the
//!   same local rules.
//!
//! Exact enclosures are those of the interval layer ([`IntervalLayer`]) on the exact inputs;
//! the native value of an element lies in `exact ± err` ([`Approx::native`]), and each rule
//! bounds its rounding over that native range. Bound arithmetic is f64: every rule's result is
//! scaled by `1 + 2^-40` and rounded up once more, which covers the few f64 roundings inside a
//! rule; sums and kernels over `K` terms add their own f64 slack `2(K + 2)·2^-53`.

use crate::eval::ExecConfig;
use crate::interpret::{forward_op, Cx, Value};
use crate::layer::{Arith, Exported, IntervalLayer, NumericLayer, Transcendental};
use crate::op::{Comparison, Op};
use crate::ops::elementwise::error as scalar;
use crate::ops::TensorType;
use crate::sink::{Emit, OpSink};
use strata_float::error_model::NATIVE_F32_MAX_ULPS;
use strata_float::interval::{Interval, LIBM_F64_ULPS};
use strata_tensor::{DType, ReduceOrder, Shape, Tensor};

/// The binary format native kernels compute in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatKind {
    Binary32,
    Binary64,
}

/// The arithmetic of native kernels, as the rules need it.
#[derive(Clone, Debug, PartialEq)]
pub struct Format {
    pub kind: FormatKind,
    /// u: |fl(x) − x| ≤ u·|x| for a normal result in round-to-nearest.
    pub unit_roundoff: f64,
    /// η: the absolute error a rounded product or quotient may add in the subnormal range
    /// (half the smallest subnormal; sums and square roots never add one).
    pub underflow: f64,
    /// The smallest subnormal (the ulp of every subnormal).
    pub subnormal_ulp: f64,
    /// The largest finite value; a native value that may exceed it has no bound.
    pub max_finite: f64,
    /// A test hook that scales one named rule's whole bound (e.g. `("matmul", 0.01)`), so that
    /// the checks can show that they catch a wrong local rule. `None` in real use.
    pub mutation: Option<(&'static str, f64)>,
}

impl Format {
    /// binary32 with the native libm's measured accuracy
    /// ([`NATIVE_F32_MAX_ULPS`], `docs/libm_accuracy.md`) as the transcendental assumption.
    pub fn binary32() -> Format {
        Format {
            kind: FormatKind::Binary32,
            unit_roundoff: 2f64.powi(-24),
            underflow: 2f64.powi(-150),
            subnormal_ulp: 2f64.powi(-149),
            max_finite: f64::from(f32::MAX),
            mutation: None,
        }
    }

    /// binary64 with the interval module's libm assumption
    /// ([`LIBM_F64_ULPS`]): the format of a high-precision reference evaluation.
    pub fn binary64() -> Format {
        Format {
            kind: FormatKind::Binary64,
            unit_roundoff: 2f64.powi(-53),
            underflow: 2f64.powi(-1075),
            subnormal_ulp: 2f64.powi(-1074),
            max_finite: f64::MAX,
            mutation: None,
        }
    }

    /// This format with rule `rule`'s bound scaled by `factor` (a deliberately wrong rule, for
    /// testing the checks).
    pub fn with_mutation(mut self, rule: &'static str, factor: f64) -> Format {
        self.mutation = Some((rule, factor));
        self
    }

    /// `x` rounded to this format (round to nearest even).
    pub fn round(&self, x: f64) -> f64 {
        match self.kind {
            FormatKind::Binary32 => f64::from(x as f32),
            FormatKind::Binary64 => x,
        }
    }

    /// The libm accuracy assumption for `f`, in ulps of the exact value.
    pub fn libm_ulps(&self, f: Transcendental) -> Result<f64, String> {
        match self.kind {
            FormatKind::Binary64 => Ok(f64::from(LIBM_F64_ULPS)),
            FormatKind::Binary32 => NATIVE_F32_MAX_ULPS
                .iter()
                .find(|(name, _, _)| *name == f.name())
                .map(|&(_, _, ulps)| ulps)
                .ok_or_else(|| format!("no measured native accuracy for {}", f.name())),
        }
    }

    /// An upper bound on the ulp of any value of magnitude at most `mag`.
    pub fn ulp_bound(&self, mag: f64) -> f64 {
        2.0 * self.unit_roundoff * mag + self.subnormal_ulp
    }

    /// The bound `err` of rule `rule`, scaled when it is the mutated rule.
    pub(crate) fn rule_bound(&self, rule: &str, err: f64) -> f64 {
        match self.mutation {
            Some((name, factor)) if name == rule => err * factor,
            _ => err,
        }
    }

    /// The constant c_K with |fl(Σ_K a_i·b_i) − Σ a_i·b_i| ≤ c_K·Σ|a_i·b_i| (plus underflow):
    /// γ_K = K·u/(1 − K·u) for any order with fused multiply-adds (Higham §3.1), K·u for
    /// separately rounded products in any order (Jeannerod & Rump 2013). `None` if K·u ≥ 1.
    pub fn dot_constant(&self, k: f64, fused: bool) -> Option<f64> {
        let ku = k * self.unit_roundoff;
        if ku >= 1.0 {
            return None;
        }
        Some(up(if fused { ku / (1.0 - ku) } else { ku }))
    }

    /// The constant for a sum of `n` terms in any order: (n − 1)·u (Rump 2012); sums add no
    /// underflow term.
    pub fn sum_constant(&self, n: usize) -> f64 {
        up(n.saturating_sub(1) as f64 * self.unit_roundoff)
    }
}

/// One element: the exact real value lies in `exact`, the native value within `err` of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Approx {
    pub exact: Interval<f64>,
    pub err: f64,
}

impl Approx {
    /// An exactly known value.
    pub fn point(v: f64) -> Option<Approx> {
        Some(Approx {
            exact: Interval::point(v).ok()?,
            err: 0.0,
        })
    }
    /// Where the native value lies: `exact` widened by `err`.
    pub fn native(&self) -> Interval<f64> {
        widen(&self.exact, self.err)
    }
    /// The largest magnitude of a native value.
    pub fn native_mag(&self) -> f64 {
        mag(&self.native())
    }
}

/// `[lo − r, hi + r]`, rounded outward.
pub(crate) fn widen(x: &Interval<f64>, r: f64) -> Interval<f64> {
    if r == 0.0 {
        return *x;
    }
    Interval::new((x.lo() - r).next_down(), (x.hi() + r).next_up())
        .unwrap_or_else(|_| Interval::entire())
}

/// The largest magnitude in `x`.
pub(crate) fn mag(x: &Interval<f64>) -> f64 {
    x.lo().abs().max(x.hi().abs())
}

/// The smallest magnitude in `x` (0 when it contains 0).
pub(crate) fn mig(x: &Interval<f64>) -> f64 {
    if x.contains(0.0) {
        0.0
    } else {
        x.lo().abs().min(x.hi().abs())
    }
}

/// An upper bound on a nonnegative `x` computed with a few f64 roundings.
pub(crate) fn up(x: f64) -> f64 {
    (x * (1.0 + 2f64.powi(-40))).next_up()
}

/// The hull of two intervals.
pub(crate) fn hull(a: &Interval<f64>, b: &Interval<f64>) -> Interval<f64> {
    Interval::new(a.lo().min(b.lo()), a.hi().max(b.hi())).unwrap_or_else(|_| Interval::entire())
}

/// The error layer: scalars are `Option<Approx>` (`None`: no bound, because a domain guard
/// failed or the value may overflow).
#[derive(Clone, Debug)]
pub struct ErrorLayer {
    pub format: Format,
}

type S = Option<Approx>;

impl Arith for ErrorLayer {
    type Scalar = S;
    fn name(&self) -> &'static str {
        "error"
    }
    fn int(&self, v: i64) -> S {
        self.of_f64(v as f64)
    }
    fn add(&self, a: &S, b: &S) -> S {
        scalar::add(&self.format, a.as_ref()?, b.as_ref()?)
    }
    fn sub(&self, a: &S, b: &S) -> S {
        scalar::add(&self.format, a.as_ref()?, &scalar::neg(b.as_ref()?))
    }
    fn mul(&self, a: &S, b: &S) -> S {
        scalar::mul(&self.format, a.as_ref()?, b.as_ref()?)
    }
    fn neg(&self, a: &S) -> S {
        Some(scalar::neg(a.as_ref()?))
    }
    fn abs(&self, a: &S) -> S {
        let a = a.as_ref()?;
        Some(Approx {
            exact: a.exact.abs(),
            err: a.err,
        })
    }
    fn maximum(&self, a: &S, b: &S) -> S {
        let (a, b) = (a.as_ref()?, b.as_ref()?);
        Some(Approx {
            exact: a.exact.max(&b.exact),
            err: a.err.max(b.err),
        })
    }
    fn minimum(&self, a: &S, b: &S) -> S {
        let (a, b) = (a.as_ref()?, b.as_ref()?);
        Some(Approx {
            exact: a.exact.min(&b.exact),
            err: a.err.max(b.err),
        })
    }
    /// Decided when the exact and the native values agree for every choice in their ranges.
    fn compare(&self, a: &S, b: &S, cmp: Comparison) -> Option<bool> {
        let (a, b) = (a.as_ref()?, b.as_ref()?);
        IntervalLayer.compare(&Some(a.native()), &Some(b.native()), cmp)
    }
    fn is_nan(&self, a: &S) -> Option<bool> {
        a.as_ref().map(|_| false)
    }
    fn pow(&self, _a: &S, _b: &S) -> Result<S, String> {
        Err("pow has no error rule".into())
    }
    fn restrict(&self, x: &S, cmp: Comparison, bound: &S) -> S {
        let (x, t) = (x.as_ref()?, bound.as_ref()?);
        let exact = IntervalLayer.restrict(&Some(x.exact), cmp, &Some(t.native()))?;
        Some(Approx { exact, err: x.err })
    }
    /// The two branches of an undecided comparison: the native value follows one, the exact
    /// value possibly the other, so the error grows by the width of both branches' values.
    fn join(&self, a: S, b: S) -> S {
        let (a, b) = (a?, b?);
        let exact = hull(&a.exact, &b.exact);
        let width = exact.hi() - exact.lo();
        Some(Approx {
            exact,
            err: up(a.err.max(b.err) + width),
        })
    }
}

impl NumericLayer for ErrorLayer {
    fn of_f32(&self, v: f32) -> S {
        Approx::point(f64::from(v))
    }
    fn of_f64(&self, v: f64) -> S {
        let stored = self.format.round(v);
        Some(Approx {
            exact: Interval::point(v).ok()?,
            err: (stored - v).abs(),
        })
    }
    fn real(&self, nearest: f64) -> S {
        let exact = IntervalLayer.real(nearest)?;
        let stored = self.format.round(nearest);
        let err = (stored - exact.lo()).abs().max((exact.hi() - stored).abs());
        Some(Approx {
            exact,
            err: up(err),
        })
    }
    fn div(&self, a: &S, b: &S) -> S {
        scalar::div(&self.format, a.as_ref()?, b.as_ref()?)
    }
    fn sqrt(&self, a: &S) -> S {
        scalar::sqrt(&self.format, a.as_ref()?)
    }
    fn floor(&self, a: &S) -> S {
        let a = a.as_ref()?;
        let native = a.native();
        let exact = IntervalLayer.floor(&Some(a.exact))?;
        let (lo, hi) = (native.lo().floor(), native.hi().floor());
        Some(Approx {
            exact,
            err: hi - lo,
        })
    }
    fn transcendental(&self, f: Transcendental, a: &S) -> Result<S, String> {
        match a {
            Some(a) => scalar::transcendental(&self.format, f, a),
            None => Ok(None),
        }
    }
    fn bounds(&self, a: &S) -> Option<(f64, f64)> {
        a.as_ref().map(|x| (x.exact.lo(), x.exact.hi()))
    }
    fn export(&self, data: &[S], shape: &Shape, dtype: DType) -> Result<Exported, String> {
        let exact: Vec<Option<Interval<f64>>> = data.iter().map(|a| a.map(|a| a.exact)).collect();
        IntervalLayer.export(&exact, shape, dtype)
    }
}

/// A tensor of bounded elements (or an exact i64/bool tensor), with the dtype the native
/// evaluator would give it.
#[derive(Clone, Debug)]
pub struct Bounded {
    pub dtype: DType,
    pub value: Value<S>,
    /// For a bool value from a comparison: the elements where the native and the exact
    /// comparison may disagree (row-major; empty when every element is decided).
    pub undecided: Vec<bool>,
}

impl Bounded {
    /// Exactly known data (an input point, a parameter, a cotangent seed).
    pub fn exact(t: &Tensor) -> Result<Bounded, String> {
        Bounded::enclosing(t, t, &vec![0.0; t.numel()])
    }

    /// Elements whose exact values lie in `[lo, hi]` and native values within `err` of them
    /// (`lo`, `hi` of one float shape; `err` in row-major order).
    pub fn enclosing(lo: &Tensor, hi: &Tensor, err: &[f64]) -> Result<Bounded, String> {
        if lo.shape() != hi.shape() || err.len() != lo.numel() {
            return Err(format!(
                "bounds of shapes {} and {} with {} errors do not match",
                lo.shape(),
                hi.shape(),
                err.len()
            ));
        }
        if !lo.dtype().is_float() {
            return Ok(Bounded {
                dtype: lo.dtype(),
                value: Value::Tensor(lo.contiguous()),
                undecided: Vec::new(),
            });
        }
        let data = (lo.to_vec_f64().into_iter().zip(hi.to_vec_f64()).zip(err))
            .enumerate()
            .map(|(i, ((l, h), &e))| {
                let exact = Interval::new(l, h)
                    .map_err(|_| format!("element {i}: [{l}, {h}] is not a finite interval"))?;
                if !(l.is_finite() && h.is_finite() && e >= 0.0) {
                    return Err(format!("element {i}: [{l}, {h}] ± {e} is not finite"));
                }
                Ok(Some(Approx { exact, err: e }))
            })
            .collect::<Result<_, String>>()?;
        Ok(Bounded {
            dtype: lo.dtype(),
            value: Value::Float(crate::interpret::Array::new(lo.shape().clone(), data)),
            undecided: Vec::new(),
        })
    }

    pub fn shape(&self) -> &Shape {
        self.value.shape()
    }

    /// The elements, or an error for an i64/bool value or an element without a bound.
    pub fn elements(&self) -> Result<Vec<Approx>, String> {
        let a = self.value.float()?;
        a.data
            .iter()
            .enumerate()
            .map(|(i, x)| x.ok_or_else(|| format!("element {i} has no bound")))
            .collect()
    }

    /// The error bound of every element, as an f64 tensor of the value's shape.
    pub fn err_tensor(&self) -> Result<Tensor, String> {
        let err: Vec<f64> = self.elements()?.iter().map(|a| a.err).collect();
        Tensor::from_vec(err, self.shape().clone()).map_err(|e| e.to_string())
    }

    /// The exact enclosures as `(lo, hi)` f64 tensors.
    pub fn exact_tensors(&self) -> Result<(Tensor, Tensor), String> {
        let el = self.elements()?;
        let t = |v: Vec<f64>| Tensor::from_vec(v, self.shape().clone()).map_err(|e| e.to_string());
        Ok((
            t(el.iter().map(|a| a.exact.lo()).collect())?,
            t(el.iter().map(|a| a.exact.hi()).collect())?,
        ))
    }
}

/// Applies ops to [`Bounded`] values (see the module doc for which rule each op takes).
#[derive(Clone, Debug)]
pub struct ErrorSink {
    pub layer: ErrorLayer,
    /// The native execution being bounded (its matmul kernel decides whether products may be
    /// fused).
    pub config: ExecConfig,
}

impl ErrorSink {
    pub fn new(format: Format, config: ExecConfig) -> ErrorSink {
        ErrorSink {
            layer: ErrorLayer { format },
            config,
        }
    }
    pub fn format(&self) -> &Format {
        &self.layer.format
    }
    /// The reference rules' context (the order does not matter to the bounds: each sum rule
    /// holds for every order).
    pub(crate) fn cx(&self) -> Cx<'_, ErrorLayer> {
        Cx {
            layer: &self.layer,
            order: ReduceOrder::Sequential,
        }
    }
}

impl OpSink for ErrorSink {
    type Value = Bounded;
    fn apply(&mut self, op: Op, inputs: &[Bounded]) -> Result<Bounded, String> {
        let types: Vec<TensorType> = inputs.iter().map(|b| self.ty(b)).collect();
        let out = op.infer(&types)?;
        if let Some(result) = self.comparison_rule(&op, inputs, &out) {
            return result;
        }
        let value = match op.error_rule(self, inputs) {
            Some(result) => result?,
            None => {
                if let Some(result) = op.decompose(&mut Emit(self), inputs) {
                    return result;
                }
                let source = match &op {
                    Op::Constant { value } => Some(&value.0),
                    _ => None,
                };
                let args: Vec<&Value<S>> = inputs.iter().map(|b| &b.value).collect();
                forward_op(&self.cx(), &op, &args, source, out.dtype)?
            }
        };
        if value.shape() != &out.shape {
            return Err(format!(
                "internal: the error rule of {} gave shape {}, the shape rule {}",
                op.tag(),
                value.shape(),
                out.shape
            ));
        }
        if let Value::Float(a) = &value {
            if let Some(i) = a.data.iter().position(Option::is_none) {
                return Err(format!(
                    "{}: element {i} has no error bound: a domain guard failed (a divisor that \
                     may reach 0, a square root or logarithm of a value that may reach 0 or \
                     below) or the value may overflow",
                    op.tag()
                ));
            }
        }
        Ok(Bounded {
            dtype: out.dtype,
            value,
            undecided: Vec::new(),
        })
    }
    fn ty(&self, value: &Bounded) -> TensorType {
        TensorType::new(value.shape().clone(), value.dtype)
    }
}

impl ErrorSink {
    /// Comparisons, and the ops that read their results. A comparison is decided where the
    /// exact and the native operands give the same answer for every value in their ranges;
    /// elsewhere it is undecided (the native run may branch the other way). Data movement
    /// carries the undecided elements along, logical ops merge them, a cast to a float makes
    /// them `[0, 1] ± 1`, and `where` joins its two branches there (the native value follows
    /// one, the exact value possibly the other). Any other op reading an undecided element
    /// has no bound. `None`: the op takes its ordinary rule.
    fn comparison_rule(
        &mut self,
        op: &Op,
        x: &[Bounded],
        out: &TensorType,
    ) -> Option<Result<Bounded, String>> {
        if let (Op::Compare { cmp }, [a, b]) = (op, x) {
            if let (Value::Float(a), Value::Float(b)) = (&a.value, &b.value) {
                return Some(self.compare_floats(*cmp, a, b));
            }
        }
        if x.iter().all(|b| b.undecided.is_empty()) {
            return None;
        }
        Some(self.undecided_rule(op, x, out))
    }

    fn compare_floats(
        &self,
        cmp: Comparison,
        a: &crate::interpret::Array<S>,
        b: &crate::interpret::Array<S>,
    ) -> Result<Bounded, String> {
        let pairs = crate::interpret::zip(a, b, |x, y| {
            let (Some(x), Some(y)) = (x, y) else {
                return Err("an operand has no bound".to_string());
            };
            Ok(match self.layer.compare(&Some(*x), &Some(*y), cmp) {
                Some(d) => (d, false),
                None => {
                    let exact = IntervalLayer.compare(&Some(x.exact), &Some(y.exact), cmp);
                    (exact.unwrap_or(false), true)
                }
            })
        })?;
        let bools: Vec<bool> = pairs.data.iter().map(|p| p.0).collect();
        let undecided: Vec<bool> = pairs.data.iter().map(|p| p.1).collect();
        Ok(Bounded {
            dtype: DType::Bool,
            value: Value::Tensor(
                Tensor::from_vec(bools, pairs.shape.clone()).map_err(|e| e.to_string())?,
            ),
            undecided: if undecided.contains(&true) {
                undecided
            } else {
                Vec::new()
            },
        })
    }

    fn undecided_rule(
        &mut self,
        op: &Op,
        x: &[Bounded],
        out: &TensorType,
    ) -> Result<Bounded, String> {
        let args: Vec<&Value<S>> = x.iter().map(|b| &b.value).collect();
        let value = forward_op(&self.cx(), op, &args, None, out.dtype)?;
        // Each input's undecided mask as a bool tensor (false where it has none).
        let masks: Vec<Tensor> = x
            .iter()
            .map(|b| {
                let n = b.shape().numel();
                let m = if b.undecided.is_empty() {
                    vec![false; n]
                } else {
                    b.undecided.clone()
                };
                Tensor::from_vec(m, b.shape().clone()).map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        let spread = |m: &Tensor| -> Result<Vec<bool>, String> {
            m.broadcast_to(out.shape.clone())
                .and_then(|t| t.contiguous().to_vec::<bool>())
                .map_err(|e| e.to_string())
        };
        let undecided_out = |masks: &[Tensor]| -> Result<Vec<bool>, String> {
            let mut any = vec![false; out.shape.numel()];
            for m in masks {
                for (o, u) in any.iter_mut().zip(spread(m)?) {
                    *o |= u;
                }
            }
            Ok(any)
        };
        let bounded = |value: Value<S>, undecided: Vec<bool>| Bounded {
            dtype: out.dtype,
            value,
            undecided,
        };
        match op {
            Op::LogicalNot | Op::LogicalAnd | Op::LogicalOr => {
                Ok(bounded(value, undecided_out(&masks)?))
            }
            Op::Cast { dtype } if dtype.is_float() => {
                let Value::Float(mut a) = value else {
                    return Err("internal: a cast to a float gave no float".into());
                };
                let flip = Approx {
                    exact: Interval::new(0.0, 1.0).map_err(|e| e.to_string())?,
                    err: 1.0,
                };
                for (v, u) in a.data.iter_mut().zip(undecided_out(&masks)?) {
                    if u {
                        *v = Some(flip);
                    }
                }
                Ok(bounded(Value::Float(a), Vec::new()))
            }
            Op::Where if x[1].undecided.is_empty() && x[2].undecided.is_empty() => {
                let (Value::Float(mut a), Value::Float(t), Value::Float(f)) =
                    (value, &x[1].value, &x[2].value)
                else {
                    return Err("where over bool values reads an undecided comparison".into());
                };
                let (t, f) = (t.broadcast_to(&out.shape)?, f.broadcast_to(&out.shape)?);
                for (i, u) in spread(&masks[0])?.into_iter().enumerate() {
                    if u {
                        a.data[i] = self.layer.join(t.data[i], f.data[i]);
                    }
                }
                Ok(bounded(Value::Float(a), Vec::new()))
            }
            Op::Reshape { .. }
            | Op::Flatten { .. }
            | Op::Permute { .. }
            | Op::Transpose { .. }
            | Op::BroadcastTo { .. }
            | Op::Concat { .. }
            | Op::Split { .. }
            | Op::Slice { .. } => {
                let mask_args: Vec<Value<S>> = masks.into_iter().map(Value::Tensor).collect();
                let refs: Vec<&Value<S>> = mask_args.iter().collect();
                let moved = forward_op(&self.cx(), op, &refs, None, DType::Bool)?;
                let moved = moved
                    .tensor()?
                    .to_vec::<bool>()
                    .map_err(|e| e.to_string())?;
                Ok(bounded(value, moved))
            }
            _ => Err(format!(
                "{} reads a comparison that the error bounds cannot decide (the native run may \
                 branch differently from the exact one)",
                op.tag()
            )),
        }
    }
}

impl Op {
    /// This op's family error rule where the native kernel needs one of its own (see the
    /// module doc), or `None` where the decomposition or the reference rule in the error
    /// layer gives the bound.
    pub(crate) fn error_rule(
        &self,
        sink: &mut ErrorSink,
        x: &[Bounded],
    ) -> Option<Result<Value<S>, String>> {
        use crate::ops::{attention, conv, linalg, norm, reduce};
        let args: Vec<&Value<S>> = x.iter().map(|b| &b.value).collect();
        match self {
            Op::Relu | Op::LeakyRelu { .. } => Some(
                crate::ops::elementwise::error::piecewise_linear(sink, self, &args),
            ),
            Op::Matmul => Some(linalg::error::matmul(sink, &args)),
            Op::Conv1d { .. }
            | Op::Conv2d { .. }
            | Op::ConvTranspose2d { .. }
            | Op::MaxPool2d { .. }
            | Op::AvgPool2d { .. }
            | Op::AdaptiveAvgPool2d { .. } => Some(conv::error::forward(sink, self, &args)),
            Op::Vjp { of, input } => conv::error::vjp(sink, of, *input, &args),
            Op::ReduceSum { .. } | Op::ReduceMean { .. } => {
                reduce::error::forward(sink, self, &args)
            }
            Op::Softmax { axis } => Some(attention::error::softmax(sink, *axis, &args, false)),
            Op::LogSoftmax { axis } => Some(attention::error::softmax(sink, *axis, &args, true)),
            Op::MaskedSoftmax { axis } => {
                Some(attention::error::masked_softmax(sink, *axis, &args))
            }
            Op::LayerNorm { .. } => norm::error::layer_norm(sink, self, x),
            Op::ScaledDotProductAttention { mask, scale } => {
                Some(attention::error::attention(sink, *mask, *scale, x))
            }
            _ => None,
        }
    }
}
