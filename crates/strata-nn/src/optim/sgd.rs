//! Stochastic gradient descent (PyTorch's `torch.optim.SGD`).

use super::{
    impl_optimizer, nonneg, Core, GroupOptions, ParamGroup, ParamState, Params, Real, Rule,
};
use crate::Result;

/// SGD's hyperparameters, with PyTorch's defaults (PyTorch requires `lr`; here it defaults to
/// 1e-3).
#[derive(Clone, Debug, PartialEq)]
pub struct SgdConfig {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
    pub maximize: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

/// SGD with momentum, dampening, Nesterov momentum, weight decay and maximize. Per element, as
/// `torch.optim.sgd._single_tensor_sgd`:
///
/// ```text
/// d = maximize ? −g : g
/// d = fma(p, wd, d)                                  if wd ≠ 0
/// buf = d (first step) | fma(d, 1 − dampening, buf·μ) if μ ≠ 0
/// d = nesterov ? fma(buf, μ, d) : buf                 if μ ≠ 0
/// p = fma(d, −lr, p)
/// ```
#[derive(Clone, Debug)]
pub struct Sgd {
    cfg: SgdConfig,
    core: Core,
}

impl Sgd {
    /// One parameter group holding every parameter.
    pub fn new(cfg: SgdConfig) -> Result<Sgd> {
        Sgd::with_groups(cfg, Vec::new())
    }
    /// Several parameter groups (see [`GroupOptions`]); none means one group of everything.
    pub fn with_groups(cfg: SgdConfig, groups: Vec<GroupOptions>) -> Result<Sgd> {
        let defaults = ParamGroup {
            params: Params::Rest,
            lr: cfg.lr,
            initial_lr: None,
            momentum: Some(cfg.momentum),
            weight_decay: cfg.weight_decay,
        };
        let core = Core::new(&cfg, defaults, groups)?;
        Ok(Sgd { cfg, core })
    }
    pub fn config(&self) -> &SgdConfig {
        &self.cfg
    }
}

impl_optimizer!(Sgd);

impl Rule for SgdConfig {
    fn name(&self) -> &'static str {
        "SGD"
    }
    const HAS_STEP: bool = false;
    fn buffers(&self, _: &ParamGroup) -> Vec<&'static str> {
        vec!["momentum_buffer"]
    }
    fn required(&self, _: &ParamGroup) -> Vec<&'static str> {
        Vec::new()
    }
    fn check_group(&self, g: &ParamGroup) -> Result<(), String> {
        nonneg("learning rate", g.lr)?;
        let momentum = g
            .momentum
            .ok_or("SGD needs a momentum value (0 for none)")?;
        nonneg("momentum", momentum)?;
        nonneg("weight_decay", g.weight_decay)?;
        nonneg("dampening", self.dampening)?;
        if self.nesterov && (momentum <= 0.0 || self.dampening != 0.0) {
            return Err("Nesterov momentum requires a momentum and zero dampening".into());
        }
        Ok(())
    }
    fn update<T: Real>(&self, g: &ParamGroup, st: &mut ParamState, p: &mut [T], grad: &[T]) {
        let momentum = g.momentum.unwrap_or(0.0);
        let (wd, mu) = (T::of(g.weight_decay), T::of(momentum));
        let neg_lr = T::of(-g.lr);
        let keep = T::of(1.0 - self.dampening);
        let mut buf = if momentum != 0.0 {
            st.take_opt::<T>("momentum_buffer")
        } else {
            None
        };
        let fresh = buf.is_none() && momentum != 0.0;
        if fresh {
            buf = Some(vec![T::zero(); p.len()]);
        }
        for i in 0..p.len() {
            let mut d = if self.maximize { -grad[i] } else { grad[i] };
            if g.weight_decay != 0.0 {
                d = p[i].fma(wd, d);
            }
            if let Some(b) = buf.as_mut() {
                b[i] = if fresh { d } else { d.fma(keep, b[i] * mu) };
                d = if self.nesterov { b[i].fma(mu, d) } else { b[i] };
            }
            p[i] = d.fma(neg_lr, p[i]);
        }
        if let Some(b) = buf {
            st.put("momentum_buffer", b);
        }
    }
}
