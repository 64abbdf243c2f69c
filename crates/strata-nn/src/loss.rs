//! Loss functions with PyTorch's names, arguments and semantics (`torch.nn.*Loss`), composed
//! of IR ops on the autograd tape, so that their gradients come from the ops' VJP rules and a
//! traced training step compiles them like any other op.
//!
//! Every loss takes `(input, target)` and a [`Reduction`]: `None` keeps the per-element
//! losses, `Mean` averages them, `Sum` adds them. The class losses ([`CrossEntropyLoss`],
//! [`NLLLoss`]) average with PyTorch's weighted mean, `Σ wₜ·lossᵢ / Σ wₜ` over the elements
//! whose target is not `ignore_index`.
//!
//! Defined edge cases (as PyTorch):
//! - a batch whose targets are all `ignore_index` has a `Mean` loss of NaN (0/0) and a zero
//!   gradient; its `Sum` is 0;
//! - [`BCELoss`] clamps each log term at −100, so an input of exactly 0 or 1 gives a finite
//!   loss (its gradient there is not PyTorch's clamped one: keep inputs inside (0, 1) to train);
//! - [`KLDivLoss`] counts a zero target as contributing 0 (`xlogy`).
//!
//! A class index outside `0..C` that is not `ignore_index`, an input of [`BCELoss`] outside
//! `[0, 1]` and mismatched shapes are errors naming the loss, the position and the value. The
//! index check reads the target's value when the loss is recorded (eagerly, or when a step is
//! traced); a compiled plan checks its batches through the trainer.
//!
//! ```
//! use strata_autograd::Tape;
//! use strata_nn::loss::{CrossEntropyLoss, Loss, Reduction};
//! use strata_tensor::Tensor;
//! # fn main() -> strata_nn::Result<()> {
//! let tape = Tape::new();
//! let logits = tape.input(Tensor::from_vec(vec![2.0f64, 0.0, 0.0, 0.0, 2.0, 0.0], [2, 3])?, true);
//! let labels = tape.input(Tensor::from_vec(vec![0i64, -100], [2])?, false);
//! let loss = CrossEntropyLoss::new().reduction(Reduction::Mean).forward(&logits, &labels)?;
//! let want = -(2f64.exp() / (2f64.exp() + 2.0)).ln(); // only the first row counts
//! assert!((loss.value().to_vec_f64()[0] - want).abs() < 1e-15);
//! # Ok(())
//! # }
//! ```

use crate::{NnError, Result};
use strata_autograd::Var;
pub use strata_ir::Reduction;
use strata_ir::{Comparison, Op};
use strata_tensor::{DType, Tensor};

/// A loss: `(input, target) → loss`.
pub trait Loss {
    fn forward(&self, input: &Var, target: &Var) -> Result<Var>;
}

/// A constant of `like`'s dtype on its tape.
fn scalar(like: &Var, value: f64) -> Var {
    like.scalar(value)
}

/// Applies `reduction` to per-element losses.
fn reduce(per: &Var, reduction: Reduction) -> Result<Var> {
    let axes: Vec<isize> = (0..per.dims().len() as isize).collect();
    Ok(match reduction {
        Reduction::None => per.clone(),
        Reduction::Mean => per.mean(&axes, false)?,
        Reduction::Sum => per.sum(&axes, false)?,
    })
}

/// `torch.where(cond, a, b)`.
fn select(cond: &Var, a: &Var, b: &Var) -> Result<Var> {
    Ok(cond.apply(Op::Where, &[a, b])?)
}

fn check_same_shape(loss: &str, input: &Var, target: &Var) -> Result<()> {
    if input.dims() != target.dims() {
        return Err(NnError::invalid(
            loss,
            format!(
                "input {:?} and target {:?} must have the same shape",
                input.dims(),
                target.dims()
            ),
        ));
    }
    if !target.dtype().is_float() {
        return Err(NnError::invalid(
            loss,
            format!("the target must be floating point, not {}", target.dtype()),
        ));
    }
    Ok(())
}

/// A constant tensor (class weights, pos_weight) in `like`'s dtype on its tape.
fn constant_like(like: &Var, t: &Tensor) -> Result<Var> {
    Ok(like.tape().constant(t.to_dtype(like.dtype())?))
}

macro_rules! reduction_builder {
    () => {
        /// PyTorch's `reduction` (default `Mean`).
        pub fn reduction(mut self, reduction: Reduction) -> Self {
            self.reduction = reduction;
            self
        }
    };
}

/// `nn.MSELoss`: `(input − target)²`.
#[derive(Clone, Debug)]
pub struct MSELoss {
    reduction: Reduction,
}

impl MSELoss {
    pub fn new() -> MSELoss {
        MSELoss {
            reduction: Reduction::Mean,
        }
    }
    reduction_builder!();
}

impl Default for MSELoss {
    fn default() -> Self {
        Self::new()
    }
}

impl Loss for MSELoss {
    fn forward(&self, input: &Var, target: &Var) -> Result<Var> {
        check_same_shape("MSELoss", input, target)?;
        Ok(input.mse_loss(target, self.reduction)?)
    }
}

/// `nn.L1Loss`: `|input − target|`.
#[derive(Clone, Debug)]
pub struct L1Loss {
    reduction: Reduction,
}

impl L1Loss {
    pub fn new() -> L1Loss {
        L1Loss {
            reduction: Reduction::Mean,
        }
    }
    reduction_builder!();
}

impl Default for L1Loss {
    fn default() -> Self {
        Self::new()
    }
}

impl Loss for L1Loss {
    fn forward(&self, input: &Var, target: &Var) -> Result<Var> {
        check_same_shape("L1Loss", input, target)?;
        reduce(&input.sub(target)?.abs()?, self.reduction)
    }
}

/// The Huber-shaped per-element loss `scale · (½·m² / width + (a − m))` with `a = |d|` and
/// `m = min(a, width)`: quadratic below `width`, linear above; the minimum's even split of the
/// gradient at `a = width` gives the slope 1 there, PyTorch's value.
fn huber_like(input: &Var, target: &Var, width: f64, scale: f64) -> Result<Var> {
    let a = input.sub(target)?.abs()?;
    let m = a.minimum(&scalar(&a, width))?;
    let quadratic = m.square()?.mul_scalar(0.5)?.div(&scalar(&a, width))?;
    let per = quadratic.add(&a.sub(&m)?)?;
    if scale == 1.0 {
        Ok(per)
    } else {
        Ok(per.mul_scalar(scale)?)
    }
}

/// `nn.SmoothL1Loss(beta)`: `½·d²/β` where `|d| < β`, else `|d| − ½β`; `β = 0` is L1.
#[derive(Clone, Debug)]
pub struct SmoothL1Loss {
    reduction: Reduction,
    beta: f64,
}

impl SmoothL1Loss {
    pub fn new() -> SmoothL1Loss {
        SmoothL1Loss {
            reduction: Reduction::Mean,
            beta: 1.0,
        }
    }
    reduction_builder!();
    /// The width of the quadratic part (default 1, must be ≥ 0).
    pub fn beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }
}

impl Default for SmoothL1Loss {
    fn default() -> Self {
        Self::new()
    }
}

impl Loss for SmoothL1Loss {
    fn forward(&self, input: &Var, target: &Var) -> Result<Var> {
        check_same_shape("SmoothL1Loss", input, target)?;
        if self.beta.is_nan() || self.beta < 0.0 {
            return Err(NnError::invalid(
                "SmoothL1Loss",
                format!("beta must be ≥ 0, got {}", self.beta),
            ));
        }
        let per = if self.beta == 0.0 {
            input.sub(target)?.abs()?
        } else {
            huber_like(input, target, self.beta, 1.0)?
        };
        reduce(&per, self.reduction)
    }
}

/// `nn.HuberLoss(delta)`: `½·d²` where `|d| < δ`, else `δ·(|d| − ½δ)` (δ times SmoothL1 with
/// β = δ).
#[derive(Clone, Debug)]
pub struct HuberLoss {
    reduction: Reduction,
    delta: f64,
}

impl HuberLoss {
    pub fn new() -> HuberLoss {
        HuberLoss {
            reduction: Reduction::Mean,
            delta: 1.0,
        }
    }
    reduction_builder!();
    /// The width of the quadratic part (default 1, must be > 0).
    pub fn delta(mut self, delta: f64) -> Self {
        self.delta = delta;
        self
    }
}

impl Default for HuberLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl Loss for HuberLoss {
    fn forward(&self, input: &Var, target: &Var) -> Result<Var> {
        check_same_shape("HuberLoss", input, target)?;
        if self.delta.is_nan() || self.delta <= 0.0 {
            return Err(NnError::invalid(
                "HuberLoss",
                format!("delta must be > 0, got {}", self.delta),
            ));
        }
        let per = huber_like(input, target, self.delta, self.delta)?;
        reduce(&per, self.reduction)
    }
}

/// The scores and targets of a class loss in the `[N, C, d…]` / `[N, d…]` layout (a single
/// `[C]` example with a `[]` target becomes a batch of one); `squeeze` says to drop that axis
/// again from an unreduced result.
struct ClassLayout {
    scores: Var,
    target: Var,
    classes: usize,
    squeeze: bool,
}

fn class_layout(loss: &str, input: &Var, target: &Var) -> Result<ClassLayout> {
    let dims = input.dims();
    if dims.is_empty() {
        return Err(NnError::invalid(
            loss,
            "the input needs a class axis ([C] or [N, C, d…])",
        ));
    }
    let squeeze = dims.len() == 1;
    let (scores, target) = if squeeze {
        let t_dims = if target.dtype() == DType::I64 {
            vec![1]
        } else {
            vec![1, dims[0] as i64]
        };
        if target.dims().len() + 1 != t_dims.len() {
            return Err(NnError::invalid(
                loss,
                format!(
                    "a [C] input takes a [] class index or [C] probabilities, got target {:?}",
                    target.dims()
                ),
            ));
        }
        (
            input.reshape(&[1, dims[0] as i64])?,
            target.reshape(&t_dims)?,
        )
    } else {
        (input.clone(), target.clone())
    };
    let classes = scores.dims()[1];
    Ok(ClassLayout {
        scores,
        target,
        classes,
        squeeze,
    })
}

/// Checks class-index targets against `0..classes` (or `ignore_index`) and the shape `[N, d…]`.
fn check_class_indices(
    loss: &str,
    scores: &Var,
    target: &Var,
    classes: usize,
    ignore_index: i64,
) -> Result<()> {
    let mut want = scores.dims();
    want.remove(1);
    if target.dims() != want {
        return Err(NnError::invalid(
            loss,
            format!(
                "class-index target {:?} does not match input {:?} (expected {want:?})",
                target.dims(),
                scores.dims()
            ),
        ));
    }
    let values = target.value().to_vec::<i64>()?;
    if let Some(i) = values
        .iter()
        .position(|&t| t != ignore_index && (t < 0 || t as u64 >= classes as u64))
    {
        return Err(NnError::invalid(
            loss,
            format!(
                "class index {} at position {i} of the target is out of range 0..{classes} \
                 (and is not ignore_index {ignore_index})",
                values[i]
            ),
        ));
    }
    Ok(())
}

fn check_weight(loss: &str, weight: Option<&Tensor>, classes: usize) -> Result<()> {
    match weight {
        Some(w) if w.dims() != [classes] => Err(NnError::invalid(
            loss,
            format!(
                "weight has shape {}, expected [{classes}] (one per class)",
                w.shape()
            ),
        )),
        _ => Ok(()),
    }
}

/// The class weights reshaped to broadcast along the class axis of `[N, C, d…]` scores.
fn class_axis_weight(scores: &Var, weight: &Tensor) -> Result<Var> {
    let mut shape = vec![1i64; scores.dims().len()];
    shape[1] = -1;
    constant_like(scores, weight)?
        .reshape(&shape)
        .map_err(Into::into)
}

/// The negative log-likelihood terms of class-index targets: the per-element loss
/// `−w[t]·logp[t]` (0 where the target is `ignore_index`) and the per-element weight `w[t]`
/// (0 where ignored), whose sum is the weighted mean's denominator.
fn nll_terms(
    logp: &Var,
    target: &Var,
    weight: Option<&Tensor>,
    ignore_index: i64,
) -> Result<(Var, Var)> {
    let tape = logp.tape();
    let ignore = tape.constant(Tensor::scalar(ignore_index));
    let keep = target.compare(Comparison::Ne, &ignore)?;
    let safe = select(&keep, target, &tape.constant(Tensor::scalar(0i64)))?;
    let t_dims: Vec<i64> = target.dims().iter().map(|&d| d as i64).collect();
    let mut index_dims = t_dims.clone();
    index_dims.insert(1, 1);
    let picked = logp
        .apply(Op::Gather { axis: 1 }, &[&safe.reshape(&index_dims)?])?
        .reshape(&t_dims)?;
    let mut coef = keep.cast(logp.dtype())?;
    if let Some(w) = weight {
        let per_target = constant_like(logp, w)?
            .apply(Op::Gather { axis: 0 }, &[&safe.reshape(&[-1])?])?
            .reshape(&t_dims)?;
        coef = coef.mul(&per_target)?;
    }
    Ok((picked.neg()?.mul(&coef)?, coef))
}

/// `Σ per / Σ coef`, NaN (with a zero gradient) when `Σ coef = 0`.
fn weighted_mean(per: &Var, coef: &Var) -> Result<Var> {
    let total = coef.sum_all()?.detach()?;
    let positive = total.compare(Comparison::Gt, &scalar(&total, 0.0))?;
    let denominator = select(&positive, &total, &scalar(&total, 1.0))?;
    // 0 · (1 / 0) = NaN marks the empty mean without putting NaN into the gradient.
    let empty_marker = total.reciprocal()?.mul_scalar(0.0)?;
    Ok(per.sum_all()?.div(&denominator)?.add(&empty_marker)?)
}

/// Drops the batch axis of a single `[C]` example's unreduced loss.
fn unbatch(per: Var, layout: &ClassLayout, reduction: Reduction) -> Result<Var> {
    if layout.squeeze && reduction == Reduction::None {
        Ok(per.reshape(&[])?)
    } else {
        Ok(per)
    }
}

/// `nn.CrossEntropyLoss`: `log_softmax` over the class axis (axis 1, or 0 for a `[C]` input)
/// and the negative log-likelihood of class-index targets (`[N, d…]` i64), or the
/// cross-entropy with probability targets (the input's shape), with optional class `weight`,
/// `ignore_index` (class indices only, default −100) and `label_smoothing` ε (the target
/// mixes with the uniform distribution: `(1 − ε)·nll + ε/C · Σ_c −w_c·logp_c`).
#[derive(Clone, Debug)]
pub struct CrossEntropyLoss {
    reduction: Reduction,
    weight: Option<Tensor>,
    ignore_index: i64,
    label_smoothing: f64,
}

impl CrossEntropyLoss {
    pub fn new() -> CrossEntropyLoss {
        CrossEntropyLoss {
            reduction: Reduction::Mean,
            weight: None,
            ignore_index: -100,
            label_smoothing: 0.0,
        }
    }
    reduction_builder!();
    /// Per-class weights `[C]`.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }
    pub fn ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = ignore_index;
        self
    }
    /// ε in `[0, 1]`.
    pub fn label_smoothing(mut self, label_smoothing: f64) -> Self {
        self.label_smoothing = label_smoothing;
        self
    }
}

impl Default for CrossEntropyLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl Loss for CrossEntropyLoss {
    fn forward(&self, input: &Var, target: &Var) -> Result<Var> {
        const NAME: &str = "CrossEntropyLoss";
        if !(0.0..=1.0).contains(&self.label_smoothing) {
            return Err(NnError::invalid(
                NAME,
                format!(
                    "label_smoothing must be in [0, 1], got {}",
                    self.label_smoothing
                ),
            ));
        }
        let layout = class_layout(NAME, input, target)?;
        let (scores, target, classes) = (&layout.scores, &layout.target, layout.classes);
        check_weight(NAME, self.weight.as_ref(), classes)?;
        let logp = scores.log_softmax(1)?;
        let eps = self.label_smoothing;
        let r = self.reduction;
        let per_class_weight = match &self.weight {
            Some(w) => Some(class_axis_weight(scores, w)?),
            None => None,
        };
        if target.dtype().is_float() {
            if target.dims() != scores.dims() {
                return Err(NnError::invalid(
                    NAME,
                    format!(
                        "probability target {:?} must have the input's shape {:?}",
                        target.dims(),
                        scores.dims()
                    ),
                ));
            }
            let mut p = target.clone();
            if eps > 0.0 {
                p = p.mul_scalar(1.0 - eps)?.add_scalar(eps / classes as f64)?;
            }
            let mut prod = logp.mul(&p)?;
            if let Some(w) = &per_class_weight {
                prod = prod.mul(w)?;
            }
            let per = prod.sum(&[1], false)?.neg()?;
            return unbatch(reduce(&per, r)?, &layout, r);
        }
        check_class_indices(NAME, scores, target, classes, self.ignore_index)?;
        let (nll, coef) = nll_terms(&logp, target, self.weight.as_ref(), self.ignore_index)?;
        let nll_reduced = match r {
            Reduction::Mean => weighted_mean(&nll, &coef)?,
            _ => reduce(&nll, r)?,
        };
        if eps == 0.0 {
            return unbatch(nll_reduced, &layout, r);
        }
        let weighted_logp = match &per_class_weight {
            Some(w) => logp.mul(w)?,
            None => logp,
        };
        let keep = coef_mask(target, self.ignore_index, scores.dtype())?;
        let smooth = weighted_logp.sum(&[1], false)?.neg()?.mul(&keep)?;
        let smooth_reduced = match r {
            Reduction::Mean => weighted_mean(&smooth, &coef)?,
            _ => reduce(&smooth, r)?,
        };
        let loss = nll_reduced
            .mul_scalar(1.0 - eps)?
            .add(&smooth_reduced.mul_scalar(eps / classes as f64)?)?;
        unbatch(loss, &layout, r)
    }
}

/// 1 where the target is not `ignore_index`, else 0, in `dtype`.
fn coef_mask(target: &Var, ignore_index: i64, dtype: DType) -> Result<Var> {
    let ignore = target.tape().constant(Tensor::scalar(ignore_index));
    Ok(target.compare(Comparison::Ne, &ignore)?.cast(dtype)?)
}

/// `nn.NLLLoss`: the negative log-likelihood of class-index targets given log-probabilities
/// (`[N, C, d…]` or `[C]`), with optional class `weight` and `ignore_index` (default −100).
#[derive(Clone, Debug)]
pub struct NLLLoss {
    reduction: Reduction,
    weight: Option<Tensor>,
    ignore_index: i64,
}

impl NLLLoss {
    pub fn new() -> NLLLoss {
        NLLLoss {
            reduction: Reduction::Mean,
            weight: None,
            ignore_index: -100,
        }
    }
    reduction_builder!();
    /// Per-class weights `[C]`.
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }
    pub fn ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = ignore_index;
        self
    }
}

impl Default for NLLLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl Loss for NLLLoss {
    fn forward(&self, input: &Var, target: &Var) -> Result<Var> {
        const NAME: &str = "NLLLoss";
        if target.dtype() != DType::I64 {
            return Err(NnError::invalid(
                NAME,
                format!(
                    "the target must be i64 class indices, not {}",
                    target.dtype()
                ),
            ));
        }
        let layout = class_layout(NAME, input, target)?;
        check_weight(NAME, self.weight.as_ref(), layout.classes)?;
        let (scores, target) = (&layout.scores, &layout.target);
        check_class_indices(NAME, scores, target, layout.classes, self.ignore_index)?;
        let (nll, coef) = nll_terms(scores, target, self.weight.as_ref(), self.ignore_index)?;
        let r = self.reduction;
        let loss = match r {
            Reduction::Mean => weighted_mean(&nll, &coef)?,
            _ => reduce(&nll, r)?,
        };
        unbatch(loss, &layout, r)
    }
}

/// `nn.BCELoss`: `−w·(t·log x + (1 − t)·log(1 − x))` on probabilities `x ∈ [0, 1]`, each log
/// clamped at −100; optional `weight` broadcast to the input.
#[derive(Clone, Debug)]
pub struct BCELoss {
    reduction: Reduction,
    weight: Option<Tensor>,
}

impl BCELoss {
    pub fn new() -> BCELoss {
        BCELoss {
            reduction: Reduction::Mean,
            weight: None,
        }
    }
    reduction_builder!();
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }
}

impl Default for BCELoss {
    fn default() -> Self {
        Self::new()
    }
}

impl Loss for BCELoss {
    fn forward(&self, input: &Var, target: &Var) -> Result<Var> {
        check_same_shape("BCELoss", input, target)?;
        let values = input.value().to_vec_f64();
        if let Some(i) = values.iter().position(|v| !(0.0..=1.0).contains(v)) {
            return Err(NnError::invalid(
                "BCELoss",
                format!(
                    "input element {i} is {}; BCELoss takes probabilities in [0, 1] (use \
                     BCEWithLogitsLoss on logits)",
                    values[i]
                ),
            ));
        }
        let floor = scalar(input, -100.0);
        let log_x = input.log()?.maximum(&floor)?;
        let log_1mx = input.neg()?.add_scalar(1.0)?.log()?.maximum(&floor)?;
        // (t − 1)·log(1 − x) − t·log x, in PyTorch's order.
        let mut per = target
            .add_scalar(-1.0)?
            .mul(&log_1mx)?
            .sub(&target.mul(&log_x)?)?;
        if let Some(w) = &self.weight {
            per = per.mul(&constant_like(input, w)?)?;
        }
        reduce(&per, self.reduction)
    }
}

/// `nn.BCEWithLogitsLoss`: `(1 − t)·x − lw·log σ(x)` with `lw = 1 + (pos_weight − 1)·t`
/// (`pos_weight` broadcast along the last axis), times the optional `weight`.
#[derive(Clone, Debug)]
pub struct BCEWithLogitsLoss {
    reduction: Reduction,
    weight: Option<Tensor>,
    pos_weight: Option<Tensor>,
}

impl BCEWithLogitsLoss {
    pub fn new() -> BCEWithLogitsLoss {
        BCEWithLogitsLoss {
            reduction: Reduction::Mean,
            weight: None,
            pos_weight: None,
        }
    }
    reduction_builder!();
    pub fn weight(mut self, weight: Tensor) -> Self {
        self.weight = Some(weight);
        self
    }
    /// The weight of positive examples, per class (the last axis).
    pub fn pos_weight(mut self, pos_weight: Tensor) -> Self {
        self.pos_weight = Some(pos_weight);
        self
    }
}

impl Default for BCEWithLogitsLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl Loss for BCEWithLogitsLoss {
    fn forward(&self, input: &Var, target: &Var) -> Result<Var> {
        check_same_shape("BCEWithLogitsLoss", input, target)?;
        // −log σ(x) = softplus(−x) (threshold 20, as PyTorch's log-sigmoid).
        let mut neg_log_sigmoid = input.neg()?.apply(
            Op::Softplus {
                beta: 1.0,
                threshold: 20.0,
            },
            &[],
        )?;
        if let Some(pw) = &self.pos_weight {
            let log_weight = constant_like(input, pw)?
                .add_scalar(-1.0)?
                .mul(target)?
                .add_scalar(1.0)?;
            neg_log_sigmoid = neg_log_sigmoid.mul(&log_weight)?;
        }
        let mut per = target
            .neg()?
            .add_scalar(1.0)?
            .mul(input)?
            .add(&neg_log_sigmoid)?;
        if let Some(w) = &self.weight {
            per = per.mul(&constant_like(input, w)?)?;
        }
        reduce(&per, self.reduction)
    }
}

/// `nn.KLDivLoss`: the input holds log-probabilities; per element `t·(log t − x)` (0 where
/// `t = 0`), or with `log_target` (the target holds log-probabilities too) `eᵗ·(t − x)`.
/// Besides the three reductions, [`KLDivLoss::batchmean`] divides the sum by the batch size
/// (the mathematical KL divergence per example).
#[derive(Clone, Debug)]
pub struct KLDivLoss {
    reduction: Reduction,
    batchmean: bool,
    log_target: bool,
}

impl KLDivLoss {
    pub fn new() -> KLDivLoss {
        KLDivLoss {
            reduction: Reduction::Mean,
            batchmean: false,
            log_target: false,
        }
    }
    /// PyTorch's `reduction` (default `Mean`, over every element).
    pub fn reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self.batchmean = false;
        self
    }
    /// PyTorch's `reduction="batchmean"`: the sum divided by the size of axis 0.
    pub fn batchmean(mut self) -> Self {
        self.batchmean = true;
        self
    }
    pub fn log_target(mut self, log_target: bool) -> Self {
        self.log_target = log_target;
        self
    }
}

impl Default for KLDivLoss {
    fn default() -> Self {
        Self::new()
    }
}

impl Loss for KLDivLoss {
    fn forward(&self, input: &Var, target: &Var) -> Result<Var> {
        check_same_shape("KLDivLoss", input, target)?;
        let per = if self.log_target {
            target.exp()?.mul(&target.sub(input)?)?
        } else {
            // xlogy(t, t): log of 1 where t = 0, so that the zero target contributes 0.
            let zero = target.compare(Comparison::Eq, &scalar(target, 0.0))?;
            let safe = select(&zero, &scalar(target, 1.0), target)?;
            target.mul(&safe.log()?)?.sub(&target.mul(input)?)?
        };
        if self.batchmean {
            let batch = per.dims().first().copied().unwrap_or(1);
            return Ok(per.sum_all()?.div(&scalar(&per, batch as f64))?);
        }
        reduce(&per, self.reduction)
    }
}
