//! Optimizers with PyTorch's exact update formulas, over named parameters.
//!
//! Each optimizer follows PyTorch's single-tensor CPU implementation (`torch/optim/*.py`,
//! `_single_tensor_*`, which is what PyTorch runs for CPU tensors) operation by operation, with
//! each ATen kernel's rounding: a Python float hyperparameter is rounded to the parameter's dtype
//! before it meets a tensor, `add(x, alpha=a)`, `addcmul` and `lerp` are one fused multiply-add
//! (ATen's kernels are compiled with FMA contraction), `addcdiv(t1, t2, value=v)` is
//! `self + (v·t1)/t2`, and the bias corrections are computed in f64 as Python does. The
//! committed PyTorch fixtures (`tests/fixtures/gen_optim.py`) check this bit for bit.
//!
//! ```
//! use std::collections::BTreeMap;
//! use strata_nn::optim::{Optimizer, Sgd, SgdConfig};
//! use strata_tensor::Tensor;
//! # fn main() -> strata_nn::Result<()> {
//! let mut params = BTreeMap::from([("w".to_string(), Tensor::from_vec(vec![1.0f32, 2.0], [2])?)]);
//! let grads = BTreeMap::from([("w".to_string(), Tensor::from_vec(vec![0.5f32, -1.0], [2])?)]);
//! let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..SgdConfig::default() })?;
//! opt.step(&mut params, &grads)?;
//! assert_eq!(params["w"].to_vec::<f32>()?, [0.95, 2.1]);
//! # Ok(())
//! # }
//! ```
//!
//! # Parameters and gradients
//! `step(params, grads)` updates every parameter that has a gradient of the same name; a
//! parameter without a gradient is skipped (its state is untouched), as in PyTorch. A gradient
//! whose name matches no parameter, or whose shape or dtype differs from its parameter's, is an
//! error naming it, and nothing is updated. Parameters are f32 or f64.
//!
//! # Parameter groups
//! An optimizer holds one or more [`ParamGroup`]s, each with its own learning rate, weight
//! decay and momentum (SGD/RMSprop `momentum`, Adam's `beta1`); the LR schedulers write these.
//! [`GroupOptions`] selects a group's parameters by name, or takes every parameter no other group
//! names ([`Params::Rest`]).
//!
//! # State dict
//! [`Optimizer::state_dict`] returns a flat `BTreeMap<String, Tensor>` mirroring PyTorch's
//! `optimizer.state_dict()`, with parameter names in place of PyTorch's parameter indices:
//!
//! | key | tensor |
//! |---|---|
//! | `state.<param>.step` | f32 scalar, the parameter's step count (Adam, AdamW, RMSprop, Adagrad) |
//! | `state.<param>.<buffer>` | the buffer, with the parameter's shape and dtype |
//! | `param_groups.<i>.lr` | f64 scalar |
//! | `param_groups.<i>.initial_lr` | f64 scalar, present once a scheduler has set it |
//! | `param_groups.<i>.momentum` | f64 scalar (SGD/RMSprop `momentum`, Adam's `beta1`) |
//! | `param_groups.<i>.weight_decay` | f64 scalar |
//!
//! Buffers: SGD `momentum_buffer`; Adam/AdamW `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`
//! (amsgrad); RMSprop `square_avg`, `momentum_buffer` (momentum > 0), `grad_avg` (centered);
//! Adagrad `sum`. The parameter name is everything between `state.` and the last dot, so names
//! with dots (`layers.0.weight`) are fine. State is created on a parameter's first step (PyTorch's
//! Adagrad creates it at construction; the values are the same). Other hyperparameters (betas,
//! eps, …) are configuration, not state, as in PyTorch's param groups they are the constructor's.
//! [`Optimizer::load_state_dict`] checks every key, dtype and shape before changing anything.

mod adagrad;
mod adam;
pub mod lr_scheduler;
mod rmsprop;
mod sgd;

pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig, AdamW};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use sgd::{Sgd, SgdConfig};

use crate::{NnError, Result};
use std::collections::{BTreeMap, BTreeSet};
use strata_tensor::{DType, Element, Float, Shape, Tensor};

/// Which parameters a group holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Params {
    /// These names.
    Names(BTreeSet<String>),
    /// Every parameter that no `Names` group lists (at most one such group).
    Rest,
}

/// One parameter group: the hyperparameters that may differ between groups and that LR
/// schedulers change while training.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamGroup {
    pub params: Params,
    pub lr: f64,
    /// The learning rate a scheduler started from (PyTorch's `group["initial_lr"]`); set by the
    /// first scheduler built on the optimizer.
    pub initial_lr: Option<f64>,
    /// SGD and RMSprop `momentum`, Adam's `beta1`; `None` for Adagrad, which has none.
    pub momentum: Option<f64>,
    pub weight_decay: f64,
}

/// A parameter group's selection and the hyperparameters it overrides (`None`: the
/// optimizer's configuration).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupOptions {
    pub params: Params,
    pub lr: Option<f64>,
    pub weight_decay: Option<f64>,
    pub momentum: Option<f64>,
}

impl GroupOptions {
    /// A group of the named parameters.
    pub fn names<I, S>(names: I) -> GroupOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        GroupOptions {
            params: Params::Names(names.into_iter().map(Into::into).collect()),
            lr: None,
            weight_decay: None,
            momentum: None,
        }
    }
    /// A group of every parameter that no other group names.
    pub fn rest() -> GroupOptions {
        GroupOptions {
            params: Params::Rest,
            lr: None,
            weight_decay: None,
            momentum: None,
        }
    }
    pub fn lr(mut self, lr: f64) -> Self {
        self.lr = Some(lr);
        self
    }
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = Some(weight_decay);
        self
    }
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = Some(momentum);
        self
    }
}

/// An optimizer over named parameters.
pub trait Optimizer {
    /// PyTorch's class name: `"SGD"`, `"Adam"`, `"AdamW"`, `"RMSprop"`, `"Adagrad"`.
    fn name(&self) -> &'static str;
    /// One update of every parameter that has a gradient (see the [module docs](self)).
    fn step(
        &mut self,
        params: &mut BTreeMap<String, Tensor>,
        grads: &BTreeMap<String, Tensor>,
    ) -> Result<()>;
    fn param_groups(&self) -> &[ParamGroup];
    fn param_groups_mut(&mut self) -> &mut [ParamGroup];
    /// The optimizer's state (see the [module docs](self) for the key scheme).
    fn state_dict(&self) -> BTreeMap<String, Tensor>;
    /// Restores a state from [`state_dict`](Optimizer::state_dict); on error nothing changes.
    fn load_state_dict(&mut self, state: &BTreeMap<String, Tensor>) -> Result<()>;
    /// The learning rate of each group.
    fn lrs(&self) -> Vec<f64> {
        self.param_groups().iter().map(|g| g.lr).collect()
    }
    /// Sets every group's learning rate.
    fn set_lr(&mut self, lr: f64) {
        for g in self.param_groups_mut() {
            g.lr = lr;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Internals shared by the optimizers.

/// A state buffer in the parameter's dtype.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Buf {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// The compute types of the optimizers: f32 and f64, with a correctly rounded fused
/// multiply-add.
pub(crate) trait Real: Float + Element {
    /// `self * a + b` with one rounding.
    fn fma(self, a: Self, b: Self) -> Self;
    fn wrap(v: Vec<Self>) -> Buf;
    fn unwrap(b: Buf) -> Option<Vec<Self>>;
    /// A Python float hyperparameter as ATen sees it next to a tensor of this dtype.
    fn of(v: f64) -> Self {
        Self::from_f64(v)
    }
}

/// `a·b + c` rounded once to f32, in safe code that compiles to plain f64 arithmetic.
///
/// `f32::mul_add` is exact too, but without the `fma` target feature (the default build) it is
/// a call into a software `fmaf` that costs several nanoseconds, and runtime feature dispatch
/// would need `unsafe`. Here: the product of two f32 is exact in f64; the sum is rounded to
/// nearest and its error recovered exactly (TwoSum), which gives the sum rounded to odd in 53
/// bits; rounding that to 24 bits is the correctly rounded result (Boldo & Melquiond, "When
/// double rounding is odd", 2005: round-to-odd at p + 2 or more bits makes the second rounding
/// innocuous). f32 magnitudes keep every intermediate far from f64 underflow and overflow.
/// Checked against `f32::mul_add` in the tests below.
#[inline(always)]
pub(crate) fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
    let p = f64::from(a) * f64::from(b);
    let cd = f64::from(c);
    let s = p + cd;
    let bp = s - cd;
    let e = (p - bp) + (cd - (s - bp));
    let bits = s.to_bits();
    let inexact = u64::from(e != 0.0);
    // Round to odd: truncate toward zero (one step down in magnitude when the error points
    // inward), then set the last bit when inexact.
    let inward = ((e.to_bits() ^ bits) >> 63) & inexact;
    let odd = f64::from_bits((bits - inward) | inexact);
    // Infinities and NaN (from the inputs) pass through as IEEE fma has them.
    (if s.is_finite() { odd } else { s }) as f32
}

impl Real for f32 {
    fn fma(self, a: f32, b: f32) -> f32 {
        fma_f32(self, a, b)
    }
    fn wrap(v: Vec<f32>) -> Buf {
        Buf::F32(v)
    }
    fn unwrap(b: Buf) -> Option<Vec<f32>> {
        match b {
            Buf::F32(v) => Some(v),
            Buf::F64(_) => None,
        }
    }
}

impl Real for f64 {
    /// Exact, through `f64::mul_add` (a software `fma` unless built with the `fma` target
    /// feature: correct, but several times slower than the f32 path).
    fn fma(self, a: f64, b: f64) -> f64 {
        self.mul_add(a, b)
    }
    fn wrap(v: Vec<f64>) -> Buf {
        Buf::F64(v)
    }
    fn unwrap(b: Buf) -> Option<Vec<f64>> {
        match b {
            Buf::F64(v) => Some(v),
            Buf::F32(_) => None,
        }
    }
}

/// ATen's `lerp(self, end, weight)` on CPU: `fma(w, end − self, self)` for |w| < 0.5, else
/// `fma(w − 1, end − self, end)`.
pub(crate) fn lerp<T: Real>(start: T, end: T, w: T) -> T {
    if w.abs() < T::of(0.5) {
        w.fma(end - start, start)
    } else {
        (w - T::one()).fma(end - start, end)
    }
}

/// One parameter's state.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ParamState {
    pub dtype: DType,
    pub shape: Shape,
    /// PyTorch's `state["step"]`: an f32 tensor incremented by 1 each step.
    pub step: Option<f32>,
    pub bufs: BTreeMap<String, Buf>,
}

impl ParamState {
    /// Takes buffer `key` out of the state, or makes one filled with `init` when absent.
    pub fn take<T: Real>(&mut self, key: &str, n: usize, init: f64) -> Vec<T> {
        self.take_opt(key)
            .unwrap_or_else(|| vec![T::from_f64(init); n])
    }
    /// Takes buffer `key` out of the state, if present (dtype was checked before the step).
    pub fn take_opt<T: Real>(&mut self, key: &str) -> Option<Vec<T>> {
        self.bufs.remove(key).and_then(T::unwrap)
    }
    pub fn put<T: Real>(&mut self, key: &str, v: Vec<T>) {
        self.bufs.insert(key.to_string(), T::wrap(v));
    }
    /// Increments the step count in f32, as PyTorch's `step_t += 1`, and returns it as Python's
    /// `step_t.item()` does.
    pub fn next_step(&mut self) -> f64 {
        let s = self.step.unwrap_or(0.0) + 1.0;
        self.step = Some(s);
        f64::from(s)
    }
}

/// What an optimizer's update rule declares to the shared driver.
pub(crate) trait Rule {
    /// PyTorch's class name, for messages.
    fn name(&self) -> &'static str;
    /// Whether the state holds a step count.
    const HAS_STEP: bool;
    /// Every buffer key the state may hold under `group`.
    fn buffers(&self, group: &ParamGroup) -> Vec<&'static str>;
    /// The buffers a restored state must hold under `group` (besides the step count).
    fn required(&self, group: &ParamGroup) -> Vec<&'static str>;
    /// Checks a group's hyperparameters (PyTorch's constructor checks).
    fn check_group(&self, group: &ParamGroup) -> Result<(), String>;
    /// Updates one parameter `p` in place from its gradient `g`.
    fn update<T: Real>(&self, group: &ParamGroup, st: &mut ParamState, p: &mut [T], g: &[T]);
}

/// The groups and per-parameter state every optimizer holds.
#[derive(Clone, Debug)]
pub(crate) struct Core {
    pub groups: Vec<ParamGroup>,
    pub state: BTreeMap<String, ParamState>,
}

pub(crate) fn nonneg(name: &str, v: f64) -> Result<(), String> {
    if v >= 0.0 {
        Ok(())
    } else {
        Err(format!("invalid {name} {v}: must be ≥ 0"))
    }
}

impl Core {
    /// Builds the groups: one group of every parameter when `groups` is empty.
    pub fn new<R: Rule>(rule: &R, defaults: ParamGroup, groups: Vec<GroupOptions>) -> Result<Core> {
        let groups = if groups.is_empty() {
            vec![defaults]
        } else {
            let mut seen = BTreeSet::new();
            let mut rest = 0;
            for (i, g) in groups.iter().enumerate() {
                match &g.params {
                    Params::Rest => rest += 1,
                    Params::Names(names) => {
                        for n in names {
                            if !seen.insert(n.clone()) {
                                return Err(NnError::invalid(
                                    rule.name(),
                                    format!(
                                        "parameter '{n}' appears in more than one parameter group \
                                         (again in group {i})"
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
            if rest > 1 {
                return Err(NnError::invalid(
                    rule.name(),
                    "at most one parameter group may take the rest of the parameters",
                ));
            }
            groups
                .into_iter()
                .map(|o| ParamGroup {
                    params: o.params,
                    lr: o.lr.unwrap_or(defaults.lr),
                    initial_lr: None,
                    momentum: o.momentum.or(defaults.momentum),
                    weight_decay: o.weight_decay.unwrap_or(defaults.weight_decay),
                })
                .collect()
        };
        let core = Core {
            groups,
            state: BTreeMap::new(),
        };
        core.check_groups(rule)?;
        Ok(core)
    }

    fn check_groups<R: Rule>(&self, rule: &R) -> Result<()> {
        for (i, g) in self.groups.iter().enumerate() {
            rule.check_group(g)
                .map_err(|m| NnError::invalid(rule.name(), format!("param group {i}: {m}")))?;
        }
        Ok(())
    }

    /// The group of parameter `name`.
    fn group_of(&self, name: &str) -> Option<usize> {
        self.groups
            .iter()
            .position(|g| matches!(&g.params, Params::Names(n) if n.contains(name)))
            .or_else(|| self.groups.iter().position(|g| g.params == Params::Rest))
    }

    pub fn step<R: Rule>(
        &mut self,
        rule: &R,
        params: &mut BTreeMap<String, Tensor>,
        grads: &BTreeMap<String, Tensor>,
    ) -> Result<()> {
        self.check_groups(rule)?;
        // Check everything before changing anything.
        let mut work = Vec::with_capacity(grads.len());
        for (name, grad) in grads {
            let err = |msg: String| NnError::invalid(rule.name(), msg);
            let param = params.get(name).ok_or_else(|| {
                err(format!(
                    "gradient '{name}' (shape {}) matches no parameter",
                    grad.shape()
                ))
            })?;
            if grad.shape() != param.shape() {
                return Err(err(format!(
                    "gradient '{name}' has shape {} but the parameter has shape {}",
                    grad.shape(),
                    param.shape()
                )));
            }
            if !matches!(param.dtype(), DType::F32 | DType::F64) {
                return Err(err(format!(
                    "parameter '{name}' has dtype {}; optimizers update f32 or f64 parameters",
                    param.dtype()
                )));
            }
            if grad.dtype() != param.dtype() {
                return Err(err(format!(
                    "gradient '{name}' has dtype {} but the parameter has dtype {}",
                    grad.dtype(),
                    param.dtype()
                )));
            }
            let group = self
                .group_of(name)
                .ok_or_else(|| err(format!("parameter '{name}' belongs to no parameter group")))?;
            if let Some(st) = self.state.get(name) {
                if st.shape != *param.shape() || st.dtype != param.dtype() {
                    return Err(err(format!(
                        "the state of parameter '{name}' is for shape {} dtype {} but the \
                         parameter has shape {} dtype {} (a state from another model?)",
                        st.shape,
                        st.dtype,
                        param.shape(),
                        param.dtype()
                    )));
                }
            }
            work.push((name, group));
        }
        for (name, group) in work {
            let group = &self.groups[group];
            let st = self
                .state
                .entry(name.clone())
                .or_insert_with(|| ParamState {
                    dtype: params[name].dtype(),
                    shape: params[name].shape().clone(),
                    step: None,
                    bufs: BTreeMap::new(),
                });
            let param = &params[name];
            let grad = &grads[name];
            let updated = match param.dtype() {
                DType::F32 => update_tensor::<R, f32>(rule, group, st, param, grad)?,
                _ => update_tensor::<R, f64>(rule, group, st, param, grad)?,
            };
            params.insert(name.clone(), updated);
        }
        Ok(())
    }

    pub fn state_dict(&self) -> BTreeMap<String, Tensor> {
        let mut out = BTreeMap::new();
        let scalar = |v: f64| Tensor::scalar(v);
        for (i, g) in self.groups.iter().enumerate() {
            out.insert(format!("param_groups.{i}.lr"), scalar(g.lr));
            if let Some(v) = g.initial_lr {
                out.insert(format!("param_groups.{i}.initial_lr"), scalar(v));
            }
            if let Some(v) = g.momentum {
                out.insert(format!("param_groups.{i}.momentum"), scalar(v));
            }
            out.insert(
                format!("param_groups.{i}.weight_decay"),
                scalar(g.weight_decay),
            );
        }
        for (name, st) in &self.state {
            if let Some(s) = st.step {
                out.insert(format!("state.{name}.step"), Tensor::scalar(s));
            }
            for (key, buf) in &st.bufs {
                let t = match buf {
                    Buf::F32(v) => Tensor::from_slice(v, st.shape.clone()),
                    Buf::F64(v) => Tensor::from_slice(v, st.shape.clone()),
                };
                // The buffer has the parameter's element count by construction.
                if let Ok(t) = t {
                    out.insert(format!("state.{name}.{key}"), t);
                }
            }
        }
        out
    }

    pub fn load_state_dict<R: Rule>(
        &mut self,
        rule: &R,
        dict: &BTreeMap<String, Tensor>,
    ) -> Result<()> {
        let err = |key: &str, msg: String| NnError::invalid(rule.name(), format!("'{key}': {msg}"));
        let scalar_f64 = |key: &str, t: &Tensor| -> Result<f64> {
            if t.numel() != 1 || t.rank() != 0 || !t.dtype().is_float() {
                return Err(err(
                    key,
                    format!(
                        "expected a float scalar, got dtype {} shape {}",
                        t.dtype(),
                        t.shape()
                    ),
                ));
            }
            Ok(t.to_vec_f64()[0])
        };
        let mut groups = self.groups.clone();
        for g in &mut groups {
            g.initial_lr = None;
        }
        let mut seen_lr = vec![false; groups.len()];
        let mut state: BTreeMap<String, ParamState> = BTreeMap::new();
        for (key, t) in dict {
            if let Some(rest) = key.strip_prefix("param_groups.") {
                let (idx, field) = rest
                    .split_once('.')
                    .ok_or_else(|| err(key, "expected param_groups.<i>.<field>".into()))?;
                let i: usize = idx
                    .parse()
                    .map_err(|_| err(key, format!("'{idx}' is not a group index")))?;
                let g = groups.get_mut(i).ok_or_else(|| {
                    err(
                        key,
                        format!("the optimizer has {} param group(s)", seen_lr.len()),
                    )
                })?;
                let v = scalar_f64(key, t)?;
                match field {
                    "lr" => {
                        g.lr = v;
                        seen_lr[i] = true;
                    }
                    "initial_lr" => g.initial_lr = Some(v),
                    "weight_decay" => g.weight_decay = v,
                    "momentum" if g.momentum.is_some() => g.momentum = Some(v),
                    _ => return Err(err(key, format!("unknown param group field '{field}'"))),
                }
            } else if let Some(rest) = key.strip_prefix("state.") {
                let (name, field) = rest
                    .rsplit_once('.')
                    .ok_or_else(|| err(key, "expected state.<param>.<buffer>".into()))?;
                if !matches!(t.dtype(), DType::F32 | DType::F64) {
                    return Err(err(key, format!("dtype {} is not f32 or f64", t.dtype())));
                }
                if field == "step" {
                    if !R::HAS_STEP {
                        return Err(err(key, format!("{} keeps no step count", rule.name())));
                    }
                    let s = scalar_f64(key, t)?;
                    if !(s >= 0.0 && s.fract() == 0.0 && s <= f64::from(1u32 << 24)) {
                        return Err(err(key, format!("step {s} is not a count")));
                    }
                    let st = state.entry(name.to_string()).or_insert_with(|| ParamState {
                        dtype: DType::F32,
                        shape: Shape::scalar(),
                        step: None,
                        bufs: BTreeMap::new(),
                    });
                    st.step = Some(s as f32);
                    continue;
                }
                let group = self
                    .group_of(name)
                    .ok_or_else(|| err(key, format!("parameter '{name}' is in no param group")))?;
                let allowed = rule.buffers(&groups[group]);
                if !allowed.contains(&field) {
                    return Err(err(
                        key,
                        format!(
                            "{} has no state buffer '{field}' (expected one of: {})",
                            rule.name(),
                            allowed.join(", ")
                        ),
                    ));
                }
                let buf = match t.dtype() {
                    DType::F32 => Buf::F32(t.to_vec::<f32>()?),
                    _ => Buf::F64(t.to_vec::<f64>()?),
                };
                let st = state.entry(name.to_string()).or_insert_with(|| ParamState {
                    dtype: t.dtype(),
                    shape: t.shape().clone(),
                    step: None,
                    bufs: BTreeMap::new(),
                });
                if st.bufs.is_empty() {
                    st.dtype = t.dtype();
                    st.shape = t.shape().clone();
                } else if st.dtype != t.dtype() || st.shape != *t.shape() {
                    return Err(err(
                        key,
                        format!(
                            "shape {} dtype {} differs from the other buffers of '{name}' \
                             (shape {} dtype {})",
                            t.shape(),
                            t.dtype(),
                            st.shape,
                            st.dtype
                        ),
                    ));
                }
                st.bufs.insert(field.to_string(), buf);
            } else {
                return Err(err(
                    key,
                    "unknown key (expected state.… or param_groups.…)".into(),
                ));
            }
        }
        if let Some(i) = seen_lr.iter().position(|s| !s) {
            return Err(NnError::invalid(
                rule.name(),
                format!("the state dict has no 'param_groups.{i}.lr'"),
            ));
        }
        for (name, st) in &state {
            let group = self.group_of(name).ok_or_else(|| {
                NnError::invalid(
                    rule.name(),
                    format!("parameter '{name}' is in no param group"),
                )
            })?;
            let mut missing: Vec<String> = rule
                .required(&groups[group])
                .into_iter()
                .filter(|k| !st.bufs.contains_key(*k))
                .map(|k| format!("state.{name}.{k}"))
                .collect();
            if R::HAS_STEP && st.step.is_none() {
                missing.push(format!("state.{name}.step"));
            }
            if !missing.is_empty() {
                return Err(NnError::invalid(
                    rule.name(),
                    format!("the state dict lacks {}", missing.join(", ")),
                ));
            }
        }
        let restored = Core { groups, state };
        restored.check_groups(rule)?;
        *self = restored;
        Ok(())
    }
}

fn update_tensor<R: Rule, T: Real>(
    rule: &R,
    group: &ParamGroup,
    st: &mut ParamState,
    param: &Tensor,
    grad: &Tensor,
) -> Result<Tensor> {
    let mut p = param.to_vec::<T>()?;
    let g = grad.data::<T>()?;
    rule.update::<T>(group, st, &mut p, &g);
    Ok(Tensor::from_vec(p, param.shape().clone())?)
}

/// Implements [`Optimizer`] for a type with fields `cfg` (the [`Rule`]) and `core`.
macro_rules! impl_optimizer {
    ($ty:ty) => {
        impl $crate::optim::Optimizer for $ty {
            fn name(&self) -> &'static str {
                $crate::optim::Rule::name(&self.cfg)
            }
            fn step(
                &mut self,
                params: &mut std::collections::BTreeMap<String, strata_tensor::Tensor>,
                grads: &std::collections::BTreeMap<String, strata_tensor::Tensor>,
            ) -> $crate::Result<()> {
                self.core.step(&self.cfg, params, grads)
            }
            fn param_groups(&self) -> &[$crate::optim::ParamGroup] {
                &self.core.groups
            }
            fn param_groups_mut(&mut self) -> &mut [$crate::optim::ParamGroup] {
                &mut self.core.groups
            }
            fn state_dict(&self) -> std::collections::BTreeMap<String, strata_tensor::Tensor> {
                self.core.state_dict()
            }
            fn load_state_dict(
                &mut self,
                state: &std::collections::BTreeMap<String, strata_tensor::Tensor>,
            ) -> $crate::Result<()> {
                self.core.load_state_dict(&self.cfg, state)
            }
        }
    };
}
pub(crate) use impl_optimizer;

#[cfg(test)]
mod tests {
    use super::lr_scheduler::{LinearLR, LrScheduler, OneCycleConfig, OneCycleLR, StepLR};
    use super::*;

    fn t32(v: &[f32]) -> Tensor {
        Tensor::from_vec(v.to_vec(), [v.len()]).unwrap()
    }

    fn map(items: &[(&str, Tensor)]) -> BTreeMap<String, Tensor> {
        items
            .iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect()
    }

    fn sgd(lr: f64) -> Sgd {
        Sgd::new(SgdConfig {
            lr,
            ..SgdConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn fma_f32_is_the_correctly_rounded_fused_multiply_add() {
        let special = [
            0.0f32,
            -0.0,
            1.0,
            -1.0,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            1.0 + f32::EPSILON,
            3.0e-39,
        ];
        let mut cases = Vec::new();
        for &a in &special {
            for &b in &special {
                for &c in &special {
                    cases.push((a, b, c));
                }
            }
        }
        // Random bit patterns, and near-cancellations where c ≈ −a·b (the double-rounding
        // traps of a plain f64 evaluation).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for k in 0..400_000 {
            let r = next();
            if k % 2 == 0 {
                let c = f32::from_bits(next() as u32);
                cases.push((
                    f32::from_bits(r as u32),
                    f32::from_bits((r >> 32) as u32),
                    c,
                ));
            } else {
                let a = f32::from_bits((r as u32 & 0x007f_ffff) | 0x3f80_0000);
                let b = f32::from_bits(((r >> 32) as u32 & 0x007f_ffff) | 0x3f80_0000);
                let tiny = f32::from_bits((next() as u32 & 0x007f_ffff) | 0x3380_0000);
                cases.push((a, b, -(a * b) + if r & 1 == 0 { tiny } else { -tiny }));
            }
        }
        for (a, b, c) in cases {
            let want = a.mul_add(b, c);
            let got = fma_f32(a, b, c);
            assert!(
                want.to_bits() == got.to_bits() || (want.is_nan() && got.is_nan()),
                "fma({a:e}, {b:e}, {c:e}) = {want:e}, got {got:e}"
            );
        }
    }

    #[test]
    fn sgd_by_hand() {
        // p − lr·g with lr = 0.5: exact in binary.
        let mut p = map(&[("w", t32(&[1.0, -2.0])), ("b", t32(&[3.0]))]);
        let g = map(&[("w", t32(&[0.5, 0.25]))]);
        let mut opt = sgd(0.5);
        opt.step(&mut p, &g).unwrap();
        assert_eq!(p["w"].to_vec::<f32>().unwrap(), [0.75, -2.125]);
        assert_eq!(
            p["b"].to_vec::<f32>().unwrap(),
            [3.0],
            "no gradient: untouched"
        );
    }

    #[test]
    fn bad_gradients_are_errors_naming_them_and_change_nothing() {
        let mut p = map(&[("w", t32(&[1.0, 2.0])), ("b", t32(&[0.0]))]);
        let mut opt = Adam::new(AdamConfig::default()).unwrap();
        let cases = [
            (
                map(&[("w", t32(&[1.0, 1.0])), ("x", t32(&[1.0]))]),
                "gradient 'x'",
            ),
            (map(&[("w", t32(&[1.0]))]), "gradient 'w' has shape [1]"),
            (
                map(&[("w", Tensor::from_vec(vec![1.0f64, 1.0], [2]).unwrap())]),
                "dtype f64",
            ),
        ];
        for (g, want) in cases {
            let e = opt.step(&mut p, &g).unwrap_err().to_string();
            assert!(e.starts_with("Adam: ") && e.contains(want), "{e}");
        }
        assert_eq!(p["w"].to_vec::<f32>().unwrap(), [1.0, 2.0]);
        assert!(opt
            .state_dict()
            .keys()
            .all(|k| k.starts_with("param_groups")));
        let mut pi = map(&[("i", Tensor::from_vec(vec![1i64], [1]).unwrap())]);
        let e = opt.step(&mut pi.clone(), &pi).unwrap_err().to_string();
        assert!(e.contains("parameter 'i' has dtype i64"), "{e}");
        pi.clear();
    }

    #[test]
    fn construction_checks_pytorchs_conditions() {
        let bad = [
            Sgd::new(SgdConfig {
                lr: -1.0,
                ..SgdConfig::default()
            })
            .err(),
            Sgd::new(SgdConfig {
                nesterov: true,
                ..SgdConfig::default()
            })
            .err(),
            Adam::new(AdamConfig {
                betas: (1.0, 0.999),
                ..AdamConfig::default()
            })
            .err(),
            RmsProp::new(RmsPropConfig {
                alpha: -0.1,
                ..RmsPropConfig::default()
            })
            .err(),
            Adagrad::new(AdagradConfig {
                lr: f64::NAN,
                ..AdagradConfig::default()
            })
            .err(),
            Sgd::with_groups(
                SgdConfig::default(),
                vec![GroupOptions::names(["a"]), GroupOptions::names(["a", "b"])],
            )
            .err(),
            Sgd::with_groups(
                SgdConfig::default(),
                vec![GroupOptions::rest(), GroupOptions::rest()],
            )
            .err(),
        ];
        for e in bad {
            assert!(e.is_some());
        }
        let e = Sgd::new(SgdConfig {
            nesterov: true,
            ..SgdConfig::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("Nesterov"), "{e}");
    }

    #[test]
    fn groups_select_parameters_and_unlisted_ones_are_errors() {
        let mut opt = Sgd::with_groups(
            SgdConfig::default(),
            vec![GroupOptions::names(["w"]).lr(0.5)],
        )
        .unwrap();
        let mut p = map(&[("w", t32(&[1.0])), ("b", t32(&[1.0]))]);
        opt.step(&mut p, &map(&[("w", t32(&[1.0]))])).unwrap();
        assert_eq!(p["w"].to_vec::<f32>().unwrap(), [0.5]);
        let e = opt
            .step(&mut p, &map(&[("b", t32(&[1.0]))]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("parameter 'b' belongs to no parameter group"),
            "{e}"
        );
    }

    #[test]
    fn load_state_dict_rejects_foreign_or_incomplete_states() {
        let mut p = map(&[("w", t32(&[1.0, 2.0]))]);
        let g = map(&[("w", t32(&[0.1, 0.2]))]);
        let mut adam = Adam::new(AdamConfig::default()).unwrap();
        adam.step(&mut p, &g).unwrap();
        let state = adam.state_dict();
        assert_eq!(state["state.w.step"].item::<f32>().unwrap(), 1.0);
        // Adam's state is not SGD's.
        let e = sgd(0.1).load_state_dict(&state).unwrap_err().to_string();
        assert!(
            e.contains("no state buffer 'exp_avg'") || e.contains("keeps no step"),
            "{e}"
        );
        // A missing buffer, an unknown key, a missing group lr.
        let mut missing = state.clone();
        missing.remove("state.w.exp_avg_sq");
        let e = Adam::new(AdamConfig::default())
            .unwrap()
            .load_state_dict(&missing)
            .unwrap_err()
            .to_string();
        assert!(e.contains("lacks state.w.exp_avg_sq"), "{e}");
        let mut unknown = state.clone();
        unknown.insert("momentum".into(), Tensor::scalar(0.9f64));
        assert!(Adam::new(AdamConfig::default())
            .unwrap()
            .load_state_dict(&unknown)
            .unwrap_err()
            .to_string()
            .contains("'momentum': unknown key"));
        let mut no_lr = state.clone();
        no_lr.remove("param_groups.0.lr");
        assert!(Adam::new(AdamConfig::default())
            .unwrap()
            .load_state_dict(&no_lr)
            .is_err());
        // A state for another model: loads, then the step names the shape mismatch.
        let mut other = Adam::new(AdamConfig::default()).unwrap();
        other.load_state_dict(&state).unwrap();
        let mut p3 = map(&[("w", t32(&[1.0, 2.0, 3.0]))]);
        let e = other
            .step(&mut p3, &map(&[("w", t32(&[0.0; 3]))]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("state of parameter 'w' is for shape [2]"), "{e}");
    }

    #[test]
    fn schedulers_write_the_optimizer_and_check_their_arguments() {
        let mut opt = sgd(1.0);
        let mut s = StepLR::new(&mut opt, 1, 0.5).unwrap();
        s.step(&mut opt).unwrap();
        assert_eq!(opt.lrs(), [0.5]);
        assert_eq!(opt.param_groups()[0].initial_lr, Some(1.0));
        assert!(StepLR::new(&mut opt, 0, 0.5).is_err());
        assert!(LinearLR::new(&mut opt, 0.0, 1.0, 5).is_err());
        assert!(LinearLR::new(&mut opt, 0.5, 1.5, 5).is_err());
        // Adagrad has no momentum to cycle.
        let mut ada = Adagrad::new(AdagradConfig::default()).unwrap();
        let e = OneCycleLR::new(&mut ada, OneCycleConfig::new(0.1, 10))
            .unwrap_err()
            .to_string();
        assert!(e.contains("momentum or beta1"), "{e}");
        // A zero-length phase is PyTorch's ZeroDivisionError.
        let e = OneCycleLR::new(
            &mut sgd(0.1),
            OneCycleConfig {
                pct_start: 0.1,
                ..OneCycleConfig::new(0.1, 10)
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("zero length"), "{e}");
    }
}
