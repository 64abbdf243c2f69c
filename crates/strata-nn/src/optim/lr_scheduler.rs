//! Learning-rate schedulers that reproduce PyTorch's `torch.optim.lr_scheduler` sequence
//! exactly.
//!
//! PyTorch's schedulers are *recursive*: each `step()` computes the new rate from the
//! optimizer's current `group["lr"]` (the "chainable form"), in Python f64 arithmetic; only
//! `step(epoch)` and `SequentialLR`'s milestones use the closed form. These schedulers follow the
//! same expressions in the same order, so [`LrScheduler::last_lr`] equals PyTorch's
//! `get_last_lr()` bit for bit (checked against fixtures from `tests/fixtures/gen_optim.py`).
//!
//! A scheduler writes the rates into the optimizer's [`ParamGroup`](super::ParamGroup)s; it does
//! not hold the optimizer, so each call takes it:
//!
//! ```
//! use strata_nn::optim::{lr_scheduler::{LrScheduler, StepLR}, Optimizer, Sgd, SgdConfig};
//! # fn main() -> strata_nn::Result<()> {
//! let mut opt = Sgd::new(SgdConfig { lr: 0.1, ..SgdConfig::default() })?;
//! let mut sched = StepLR::new(&mut opt, 2, 0.5)?;
//! let mut lrs = vec![];
//! for _ in 0..5 {
//!     // opt.step(&mut params, &grads)?;
//!     sched.step(&mut opt)?;
//!     lrs.push(sched.last_lr()[0]);
//! }
//! assert_eq!(lrs, [0.1, 0.05, 0.05, 0.025, 0.025]);
//! assert_eq!(opt.lrs(), [0.025]);
//! # Ok(())
//! # }
//! ```
//!
//! As in PyTorch, building a scheduler performs its initial step (which may change the
//! optimizer's rates, e.g. [`LinearLR`]'s warmup start) and records each group's `initial_lr` if
//! no earlier scheduler did. To resume, build the optimizer and scheduler as before, then load
//! the optimizer's state dict and then the scheduler's.

use super::Optimizer;
use crate::{NnError, Result};
use std::collections::BTreeMap;
use std::f64::consts::PI;
use strata_tensor::{DType, Tensor};

/// The state every scheduler keeps (PyTorch's `LRScheduler` attributes).
#[derive(Clone, Debug, PartialEq)]
pub struct SchedulerCore {
    /// Each group's `initial_lr` when the scheduler was built.
    pub base_lrs: Vec<f64>,
    /// The epoch (step) index of the last step: 0 after construction.
    pub last_epoch: i64,
    /// PyTorch's `_step_count`: 1 after construction.
    pub step_count: i64,
    /// The rates written by the last step.
    pub last_lr: Vec<f64>,
    /// True during the initial step only.
    pub is_initial: bool,
}

impl SchedulerCore {
    /// PyTorch's `LRScheduler.__init__` with `last_epoch=-1`, before the initial step: records
    /// `initial_lr` in every group that has none and takes those as the base rates.
    pub fn new(opt: &mut dyn Optimizer) -> SchedulerCore {
        let base_lrs = opt
            .param_groups_mut()
            .iter_mut()
            .map(|g| *g.initial_lr.get_or_insert(g.lr))
            .collect();
        SchedulerCore {
            base_lrs,
            last_epoch: -1,
            step_count: 0,
            last_lr: Vec::new(),
            is_initial: false,
        }
    }
}

/// A learning-rate scheduler. Implementations provide [`core`](LrScheduler::core),
/// [`core_mut`](LrScheduler::core_mut) and [`get_lr`](LrScheduler::get_lr) (PyTorch's
/// chainable form), and optionally [`closed_form_lr`](LrScheduler::closed_form_lr); the rest
/// follows PyTorch's `LRScheduler` base class.
pub trait LrScheduler {
    /// PyTorch's class name.
    fn name(&self) -> &'static str;
    fn core(&self) -> &SchedulerCore;
    fn core_mut(&mut self) -> &mut SchedulerCore;
    /// The next rates from the optimizer's current ones (PyTorch's `get_lr`); may also change
    /// other group fields (OneCycleLR's momentum).
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>>;
    /// The rates at `core().last_epoch` in closed form (PyTorch's `_get_closed_form_lr`).
    fn closed_form_lr(&self) -> Option<Vec<f64>> {
        None
    }

    /// One step (PyTorch's `scheduler.step()`): call it after `optimizer.step()`.
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.core_mut().step_count += 1;
        self.update_lr(opt, None)
    }
    /// The rates the last step wrote (PyTorch's `get_last_lr()`).
    fn last_lr(&self) -> &[f64] {
        &self.core().last_lr
    }
    fn last_epoch(&self) -> i64 {
        self.core().last_epoch
    }
    /// PyTorch's `_update_lr(epoch)`: with `None` the next epoch by [`get_lr`](Self::get_lr),
    /// with `Some(e)` epoch `e` by the closed form where there is one.
    fn update_lr(&mut self, opt: &mut dyn Optimizer, epoch: Option<i64>) -> Result<()> {
        let values = match epoch {
            None => {
                self.core_mut().last_epoch += 1;
                self.get_lr(opt)?
            }
            Some(e) => {
                self.core_mut().last_epoch = e;
                match self.closed_form_lr() {
                    Some(v) => v,
                    None => self.get_lr(opt)?,
                }
            }
        };
        let groups = opt.param_groups_mut();
        if values.len() != groups.len() {
            return Err(NnError::invalid(
                self.name(),
                format!(
                    "computed {} learning rates for an optimizer with {} param groups",
                    values.len(),
                    groups.len()
                ),
            ));
        }
        for (g, v) in groups.iter_mut().zip(&values) {
            g.lr = *v;
        }
        self.core_mut().last_lr = values;
        Ok(())
    }
    /// PyTorch's `_initial_step`: resets the step count and steps once in initial mode.
    fn initial_step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.core_mut().step_count = 0;
        self.core_mut().is_initial = true;
        let r = self.step(opt);
        self.core_mut().is_initial = false;
        r
    }
    /// Undoes the epoch count of the construction step (SequentialLR's `recursive_undo`).
    fn undo_initial_step(&mut self) {
        self.core_mut().last_epoch -= 1;
    }
    /// `last_epoch`, `step_count` (i64 scalars), `base_lrs`, `last_lr` (f64 vectors).
    fn state_dict(&self) -> BTreeMap<String, Tensor> {
        core_state(self.core())
    }
    /// Restores [`state_dict`](Self::state_dict); on error nothing changes.
    fn load_state_dict(&mut self, state: &BTreeMap<String, Tensor>) -> Result<()> {
        let core = load_core(self.name(), self.core(), state, "")?;
        *self.core_mut() = core;
        Ok(())
    }
}

fn core_state(c: &SchedulerCore) -> BTreeMap<String, Tensor> {
    let vec = |v: &[f64]| Tensor::from_slice(v, [v.len()]).unwrap_or_else(|_| Tensor::scalar(0.0));
    BTreeMap::from([
        ("last_epoch".to_string(), Tensor::scalar(c.last_epoch)),
        ("step_count".to_string(), Tensor::scalar(c.step_count)),
        ("base_lrs".to_string(), vec(&c.base_lrs)),
        ("last_lr".to_string(), vec(&c.last_lr)),
    ])
}

fn load_core(
    name: &str,
    current: &SchedulerCore,
    state: &BTreeMap<String, Tensor>,
    prefix: &str,
) -> Result<SchedulerCore> {
    let get = |key: &str| {
        state
            .get(&format!("{prefix}{key}"))
            .ok_or_else(|| NnError::invalid(name, format!("the state dict has no '{prefix}{key}'")))
    };
    let int = |key: &str| -> Result<i64> {
        let t = get(key)?;
        if t.dtype() != DType::I64 || t.rank() != 0 {
            return Err(NnError::invalid(
                name,
                format!("'{prefix}{key}' must be an i64 scalar"),
            ));
        }
        Ok(t.item::<i64>()?)
    };
    let floats = |key: &str| -> Result<Vec<f64>> {
        let t = get(key)?;
        if t.dtype() != DType::F64 || t.rank() != 1 || t.numel() != current.base_lrs.len() {
            return Err(NnError::invalid(
                name,
                format!(
                    "'{prefix}{key}' must be an f64 vector of {} rates (one per param group), \
                     got dtype {} shape {}",
                    current.base_lrs.len(),
                    t.dtype(),
                    t.shape()
                ),
            ));
        }
        Ok(t.to_vec::<f64>()?)
    };
    Ok(SchedulerCore {
        base_lrs: floats("base_lrs")?,
        last_epoch: int("last_epoch")?,
        step_count: int("step_count")?,
        last_lr: floats("last_lr")?,
        is_initial: false,
    })
}

fn group_lrs(opt: &dyn Optimizer) -> Vec<f64> {
    opt.param_groups().iter().map(|g| g.lr).collect()
}

fn finish<S: LrScheduler>(mut s: S, opt: &mut dyn Optimizer) -> Result<S> {
    s.initial_step(opt)?;
    Ok(s)
}

macro_rules! core_access {
    ($name:literal) => {
        fn name(&self) -> &'static str {
            $name
        }
        fn core(&self) -> &SchedulerCore {
            &self.core
        }
        fn core_mut(&mut self) -> &mut SchedulerCore {
            &mut self.core
        }
    };
}

/// Multiplies the rate by `gamma` every `step_size` epochs.
#[derive(Clone, Debug)]
pub struct StepLR {
    core: SchedulerCore,
    step_size: i64,
    gamma: f64,
}

impl StepLR {
    pub fn new(opt: &mut dyn Optimizer, step_size: usize, gamma: f64) -> Result<StepLR> {
        if step_size == 0 {
            return Err(NnError::invalid("StepLR", "step_size must be at least 1"));
        }
        let step_size = i64::try_from(step_size)
            .map_err(|_| NnError::invalid("StepLR", "step_size is too large"))?;
        let core = SchedulerCore::new(opt);
        finish(
            StepLR {
                core,
                step_size,
                gamma,
            },
            opt,
        )
    }
}

impl LrScheduler for StepLR {
    core_access!("StepLR");
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        let e = self.core.last_epoch;
        let lrs = group_lrs(opt);
        if e == 0 || e % self.step_size != 0 {
            return Ok(lrs);
        }
        Ok(lrs.iter().map(|lr| lr * self.gamma).collect())
    }
    fn closed_form_lr(&self) -> Option<Vec<f64>> {
        let k = self.core.last_epoch.div_euclid(self.step_size) as f64;
        Some(
            self.core
                .base_lrs
                .iter()
                .map(|b| b * self.gamma.powf(k))
                .collect(),
        )
    }
}

/// Multiplies the rate by `gamma` every epoch.
#[derive(Clone, Debug)]
pub struct ExponentialLR {
    core: SchedulerCore,
    gamma: f64,
}

impl ExponentialLR {
    pub fn new(opt: &mut dyn Optimizer, gamma: f64) -> Result<ExponentialLR> {
        let core = SchedulerCore::new(opt);
        finish(ExponentialLR { core, gamma }, opt)
    }
}

impl LrScheduler for ExponentialLR {
    core_access!("ExponentialLR");
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        let lrs = group_lrs(opt);
        if self.core.is_initial {
            return Ok(lrs);
        }
        Ok(lrs.iter().map(|lr| lr * self.gamma).collect())
    }
    fn closed_form_lr(&self) -> Option<Vec<f64>> {
        let e = self.core.last_epoch as f64;
        Some(
            self.core
                .base_lrs
                .iter()
                .map(|b| b * self.gamma.powf(e))
                .collect(),
        )
    }
}

/// Cosine annealing from the base rate to `eta_min` over `t_max` epochs (and back, periodically,
/// past `t_max`, as PyTorch's recursive form does).
#[derive(Clone, Debug)]
pub struct CosineAnnealingLR {
    core: SchedulerCore,
    t_max: i64,
    eta_min: f64,
}

impl CosineAnnealingLR {
    pub fn new(opt: &mut dyn Optimizer, t_max: usize, eta_min: f64) -> Result<CosineAnnealingLR> {
        if t_max == 0 {
            return Err(NnError::invalid(
                "CosineAnnealingLR",
                "T_max must be at least 1",
            ));
        }
        let t_max = i64::try_from(t_max)
            .map_err(|_| NnError::invalid("CosineAnnealingLR", "T_max is too large"))?;
        let core = SchedulerCore::new(opt);
        finish(
            CosineAnnealingLR {
                core,
                t_max,
                eta_min,
            },
            opt,
        )
    }
}

impl LrScheduler for CosineAnnealingLR {
    core_access!("CosineAnnealingLR");
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        let c = &self.core;
        let lrs = group_lrs(opt);
        let (e, t, eta) = (c.last_epoch, self.t_max, self.eta_min);
        let (ef, tf) = (e as f64, t as f64);
        if c.is_initial {
            return Ok(lrs);
        }
        if c.step_count == 1 && e > 0 {
            return Ok(c
                .base_lrs
                .iter()
                .map(|b| eta + (b - eta) * (1.0 + (ef * PI / tf).cos()) / 2.0)
                .collect());
        }
        if (e - 1 - t).rem_euclid(2 * t) == 0 {
            return Ok(lrs
                .iter()
                .zip(&c.base_lrs)
                .map(|(lr, b)| lr + (b - eta) * (1.0 - (PI / tf).cos()) / 2.0)
                .collect());
        }
        Ok(lrs
            .iter()
            .map(|lr| {
                (1.0 + (PI * ef / tf).cos()) / (1.0 + (PI * (e - 1) as f64 / tf).cos()) * (lr - eta)
                    + eta
            })
            .collect())
    }
    fn closed_form_lr(&self) -> Option<Vec<f64>> {
        let (ef, tf, eta) = (self.core.last_epoch as f64, self.t_max as f64, self.eta_min);
        Some(
            self.core
                .base_lrs
                .iter()
                .map(|b| eta + (b - eta) * (1.0 + (PI * ef / tf).cos()) / 2.0)
                .collect(),
        )
    }
}

/// Linear warmup (or decay): the factor goes linearly from `start_factor` to `end_factor` over
/// `total_iters` epochs, then stays.
#[derive(Clone, Debug)]
pub struct LinearLR {
    core: SchedulerCore,
    start_factor: f64,
    end_factor: f64,
    total_iters: i64,
}

impl LinearLR {
    /// PyTorch's defaults are `start_factor = 1/3`, `end_factor = 1`, `total_iters = 5`.
    pub fn new(
        opt: &mut dyn Optimizer,
        start_factor: f64,
        end_factor: f64,
        total_iters: usize,
    ) -> Result<LinearLR> {
        if !(start_factor > 0.0 && start_factor <= 1.0) {
            return Err(NnError::invalid(
                "LinearLR",
                format!("start_factor {start_factor}: expected greater than 0 and at most 1"),
            ));
        }
        if !(0.0..=1.0).contains(&end_factor) {
            return Err(NnError::invalid(
                "LinearLR",
                format!("end_factor {end_factor}: expected between 0 and 1"),
            ));
        }
        let total_iters = i64::try_from(total_iters)
            .map_err(|_| NnError::invalid("LinearLR", "total_iters is too large"))?;
        let core = SchedulerCore::new(opt);
        finish(
            LinearLR {
                core,
                start_factor,
                end_factor,
                total_iters,
            },
            opt,
        )
    }
}

impl LrScheduler for LinearLR {
    core_access!("LinearLR");
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        let lrs = group_lrs(opt);
        let e = self.core.last_epoch;
        let (sf, ef) = (self.start_factor, self.end_factor);
        if e == 0 {
            return Ok(lrs.iter().map(|lr| lr * sf).collect());
        }
        if self.core.is_initial || e > self.total_iters {
            return Ok(lrs);
        }
        let denom = self.total_iters as f64 * sf + (e - 1) as f64 * (ef - sf);
        if denom == 0.0 {
            return Err(NnError::invalid(
                "LinearLR",
                "division by zero (total_iters is 0)",
            ));
        }
        Ok(lrs
            .iter()
            .map(|lr| lr * (1.0 + (ef - sf) / denom))
            .collect())
    }
    fn closed_form_lr(&self) -> Option<Vec<f64>> {
        let (sf, ef) = (self.start_factor, self.end_factor);
        let m = self.total_iters.min(self.core.last_epoch) as f64;
        let t = self.total_iters as f64;
        Some(
            self.core
                .base_lrs
                .iter()
                .map(|b| b * (sf + (ef - sf) * m / t))
                .collect(),
        )
    }
}

/// OneCycleLR's annealing shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anneal {
    Cos,
    Linear,
}

/// OneCycleLR's settings, with PyTorch's defaults from [`OneCycleConfig::new`].
#[derive(Clone, Debug, PartialEq)]
pub struct OneCycleConfig {
    /// One value for every group, or one per group.
    pub max_lr: Vec<f64>,
    /// PyTorch's `total_steps` (or `epochs * steps_per_epoch`).
    pub total_steps: usize,
    pub pct_start: f64,
    pub anneal_strategy: Anneal,
    /// Cycle each group's momentum (SGD/RMSprop `momentum`, Adam's β₁) inversely to the rate.
    pub cycle_momentum: bool,
    pub base_momentum: f64,
    pub max_momentum: f64,
    pub div_factor: f64,
    pub final_div_factor: f64,
    pub three_phase: bool,
}

impl OneCycleConfig {
    /// PyTorch's defaults: pct_start 0.3, cos annealing, momentum cycled between 0.85 and 0.95,
    /// div_factor 25, final_div_factor 1e4, two phases.
    pub fn new(max_lr: f64, total_steps: usize) -> OneCycleConfig {
        OneCycleConfig {
            max_lr: vec![max_lr],
            total_steps,
            pct_start: 0.3,
            anneal_strategy: Anneal::Cos,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Initial,
    Max,
    Min,
}

#[derive(Clone, Debug)]
struct Phase {
    end_step: f64,
    lr: (Level, Level),
    /// (start, end), `true` = max momentum.
    momentum: (bool, bool),
}

/// The 1cycle policy (Smith & Topin): warm up from `max_lr / div_factor` to `max_lr`, then anneal
/// to `max_lr / div_factor / final_div_factor`, optionally cycling momentum the other way.
#[derive(Clone, Debug)]
pub struct OneCycleLR {
    core: SchedulerCore,
    cfg: OneCycleConfig,
    phases: Vec<Phase>,
    /// Per group: (initial, max, min) rates.
    levels: Vec<(f64, f64, f64)>,
}

impl OneCycleLR {
    pub fn new(opt: &mut dyn Optimizer, cfg: OneCycleConfig) -> Result<OneCycleLR> {
        let err = |m: String| NnError::invalid("OneCycleLR", m);
        if cfg.total_steps == 0 {
            return Err(err("expected a positive total_steps".into()));
        }
        if !(0.0..=1.0).contains(&cfg.pct_start) {
            return Err(err(format!(
                "expected a pct_start between 0 and 1, got {}",
                cfg.pct_start
            )));
        }
        let groups = opt.param_groups().len();
        let per_group = |name: &str, v: &[f64]| -> Result<Vec<f64>> {
            match v.len() {
                1 => Ok(vec![v[0]; groups]),
                n if n == groups => Ok(v.to_vec()),
                n => Err(err(format!("expected {groups} values for {name}, got {n}"))),
            }
        };
        let max_lrs = per_group("max_lr", &cfg.max_lr)?;
        let total = cfg.total_steps as f64;
        let phases = if cfg.three_phase {
            vec![
                Phase {
                    end_step: cfg.pct_start * total - 1.0,
                    lr: (Level::Initial, Level::Max),
                    momentum: (true, false),
                },
                Phase {
                    end_step: 2.0 * cfg.pct_start * total - 2.0,
                    lr: (Level::Max, Level::Initial),
                    momentum: (false, true),
                },
                Phase {
                    end_step: total - 1.0,
                    lr: (Level::Initial, Level::Min),
                    momentum: (true, true),
                },
            ]
        } else {
            vec![
                Phase {
                    end_step: cfg.pct_start * total - 1.0,
                    lr: (Level::Initial, Level::Max),
                    momentum: (true, false),
                },
                Phase {
                    end_step: total - 1.0,
                    lr: (Level::Max, Level::Min),
                    momentum: (false, true),
                },
            ]
        };
        let mut levels = Vec::with_capacity(groups);
        for (g, max_lr) in opt.param_groups_mut().iter_mut().zip(max_lrs) {
            let initial = max_lr / cfg.div_factor;
            g.initial_lr = Some(initial);
            levels.push((initial, max_lr, initial / cfg.final_div_factor));
        }
        if cfg.cycle_momentum {
            let name = opt.name();
            for g in opt.param_groups_mut() {
                match g.momentum.as_mut() {
                    Some(m) => *m = cfg.max_momentum,
                    None => {
                        return Err(err(format!(
                            "optimizer {name} must support momentum or beta1 with \
                             `cycle_momentum` option enabled"
                        )))
                    }
                }
            }
        }
        let core = SchedulerCore::new(opt);
        finish(
            OneCycleLR {
                core,
                cfg,
                phases,
                levels,
            },
            opt,
        )
    }

    fn anneal(&self, start: f64, end: f64, pct: f64) -> f64 {
        match self.cfg.anneal_strategy {
            Anneal::Cos => {
                let cos_out = (PI * pct).cos() + 1.0;
                end + (start - end) / 2.0 * cos_out
            }
            Anneal::Linear => (end - start) * pct + start,
        }
    }
}

impl LrScheduler for OneCycleLR {
    core_access!("OneCycleLR");
    fn get_lr(&mut self, opt: &mut dyn Optimizer) -> Result<Vec<f64>> {
        let step_num = self.core.last_epoch;
        if step_num > self.cfg.total_steps as i64 {
            return Err(NnError::invalid(
                "OneCycleLR",
                format!(
                    "tried to step {step_num} times; the specified number of total steps is {}",
                    self.cfg.total_steps
                ),
            ));
        }
        let s = step_num as f64;
        let groups = opt.param_groups_mut();
        let mut lrs = Vec::with_capacity(groups.len());
        for (g, &(initial, max, min)) in groups.iter_mut().zip(&self.levels) {
            let level = |l: Level| match l {
                Level::Initial => initial,
                Level::Max => max,
                Level::Min => min,
            };
            let mom = |is_max: bool| {
                if is_max {
                    self.cfg.max_momentum
                } else {
                    self.cfg.base_momentum
                }
            };
            let mut start_step = 0.0;
            for (i, phase) in self.phases.iter().enumerate() {
                if s <= phase.end_step || i == self.phases.len() - 1 {
                    let span = phase.end_step - start_step;
                    if span == 0.0 {
                        return Err(NnError::invalid(
                            "OneCycleLR",
                            format!(
                                "phase {i} has zero length at step {step_num} (PyTorch raises \
                                 ZeroDivisionError here): raise total_steps or pct_start"
                            ),
                        ));
                    }
                    let pct = (s - start_step) / span;
                    lrs.push(self.anneal(level(phase.lr.0), level(phase.lr.1), pct));
                    if self.cfg.cycle_momentum {
                        let m = self.anneal(mom(phase.momentum.0), mom(phase.momentum.1), pct);
                        g.momentum = Some(m);
                    }
                    break;
                }
                start_step = phase.end_step;
            }
        }
        Ok(lrs)
    }
}

/// Runs one scheduler after another: `schedulers[i]` from epoch `milestones[i-1]` on (PyTorch's
/// `SequentialLR`), e.g. a [`LinearLR`] warmup followed by [`CosineAnnealingLR`].
pub struct SequentialLR {
    core: SchedulerCore,
    schedulers: Vec<Box<dyn LrScheduler>>,
    milestones: Vec<i64>,
}

impl std::fmt::Debug for SequentialLR {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequentialLR")
            .field("core", &self.core)
            .field(
                "schedulers",
                &self.schedulers.iter().map(|s| s.name()).collect::<Vec<_>>(),
            )
            .field("milestones", &self.milestones)
            .finish()
    }
}

impl SequentialLR {
    /// `schedulers` must have been built on `opt`, in order; `milestones` has one entry fewer.
    pub fn new(
        opt: &mut dyn Optimizer,
        mut schedulers: Vec<Box<dyn LrScheduler>>,
        milestones: Vec<usize>,
    ) -> Result<SequentialLR> {
        let err = |m: String| NnError::invalid("SequentialLR", m);
        if schedulers.is_empty() {
            return Err(err("expects at least one scheduler".into()));
        }
        if milestones.len() != schedulers.len() - 1 {
            return Err(err(format!(
                "expects one milestone fewer than schedulers, got {} schedulers and {} milestones",
                schedulers.len(),
                milestones.len()
            )));
        }
        let milestones: Vec<i64> = milestones
            .into_iter()
            .map(|m| i64::try_from(m).map_err(|_| err("milestone too large".into())))
            .collect::<Result<_>>()?;
        let groups = opt.param_groups_mut();
        for (i, g) in groups.iter().enumerate() {
            if g.initial_lr.is_none() {
                return Err(err(format!(
                    "param group {i} has no initial_lr: build the schedulers on this optimizer first"
                )));
            }
        }
        for g in groups.iter_mut() {
            g.lr = g.initial_lr.unwrap_or(g.lr);
        }
        for s in &mut schedulers {
            s.undo_initial_step();
        }
        let idx = bisect_right(&milestones, 0);
        schedulers[idx].initial_step(opt)?;
        let core = SchedulerCore {
            base_lrs: opt
                .param_groups()
                .iter()
                .map(|g| g.initial_lr.unwrap_or(g.lr))
                .collect(),
            last_epoch: 0,
            step_count: 0,
            last_lr: schedulers[idx].last_lr().to_vec(),
            is_initial: false,
        };
        Ok(SequentialLR {
            core,
            schedulers,
            milestones,
        })
    }
}

fn bisect_right(a: &[i64], x: i64) -> usize {
    a.partition_point(|&m| m <= x)
}

impl LrScheduler for SequentialLR {
    core_access!("SequentialLR");
    fn get_lr(&mut self, _: &mut dyn Optimizer) -> Result<Vec<f64>> {
        Err(NnError::invalid(
            "SequentialLR",
            "has no rate formula of its own (PyTorch raises NotImplementedError): it cannot be \
             nested in another SequentialLR",
        ))
    }
    fn step(&mut self, opt: &mut dyn Optimizer) -> Result<()> {
        self.core.last_epoch += 1;
        let e = self.core.last_epoch;
        let idx = bisect_right(&self.milestones, e);
        let s = &mut self.schedulers[idx];
        if idx > 0 && self.milestones[idx - 1] == e {
            s.update_lr(opt, Some(0))?;
        } else {
            s.step(opt)?;
        }
        self.core.last_lr = s.last_lr().to_vec();
        Ok(())
    }
    fn undo_initial_step(&mut self) {
        for s in &mut self.schedulers {
            s.undo_initial_step();
        }
    }
    /// This scheduler's own entries, and each child's under `schedulers.<i>.`.
    fn state_dict(&self) -> BTreeMap<String, Tensor> {
        let mut out = core_state(&self.core);
        for (i, s) in self.schedulers.iter().enumerate() {
            for (k, v) in s.state_dict() {
                out.insert(format!("schedulers.{i}.{k}"), v);
            }
        }
        out
    }
    fn load_state_dict(&mut self, state: &BTreeMap<String, Tensor>) -> Result<()> {
        let core = load_core("SequentialLR", &self.core, state, "")?;
        let mut children: Vec<BTreeMap<String, Tensor>> =
            vec![BTreeMap::new(); self.schedulers.len()];
        for (k, v) in state {
            if let Some(rest) = k.strip_prefix("schedulers.") {
                let (i, key) = rest.split_once('.').unwrap_or((rest, ""));
                let i: usize = i
                    .parse()
                    .ok()
                    .filter(|&i| i < children.len())
                    .ok_or_else(|| {
                        NnError::invalid(
                            "SequentialLR",
                            format!("'{k}': no scheduler with that index"),
                        )
                    })?;
                children[i].insert(key.to_string(), v.clone());
            }
        }
        // Check every child before changing any.
        for (s, st) in self.schedulers.iter().zip(&children) {
            load_core(s.name(), s.core(), st, "")?;
        }
        for (s, st) in self.schedulers.iter_mut().zip(&children) {
            s.load_state_dict(st)?;
        }
        self.core = core;
        Ok(())
    }
}
