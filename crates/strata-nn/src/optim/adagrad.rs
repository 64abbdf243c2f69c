//! Adagrad (PyTorch's `torch.optim.Adagrad`).

use super::{
    impl_optimizer, nonneg, Core, GroupOptions, ParamGroup, ParamState, Params, Real, Rule,
};
use crate::Result;

/// Adagrad's hyperparameters with PyTorch's defaults (lr 1e-2, eps 1e-10).
#[derive(Clone, Debug, PartialEq)]
pub struct AdagradConfig {
    pub lr: f64,
    pub lr_decay: f64,
    pub weight_decay: f64,
    pub initial_accumulator_value: f64,
    pub eps: f64,
    pub maximize: bool,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

/// Adagrad, per element as `torch.optim.adagrad._single_tensor_adagrad` (step `t` in f32):
///
/// ```text
/// d = maximize ? −g : g;  d = fma(p, wd, d) if wd ≠ 0
/// clr = lr / (1 + (t − 1)·lr_decay)  (f64, as Python)
/// sum = fma(d, d, sum);  p = p + (−clr·d) / (√sum + eps)
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad {
    cfg: AdagradConfig,
    core: Core,
}

impl Adagrad {
    /// One parameter group holding every parameter.
    pub fn new(cfg: AdagradConfig) -> Result<Adagrad> {
        Adagrad::with_groups(cfg, Vec::new())
    }
    /// Several parameter groups (see [`GroupOptions`]; Adagrad has no momentum).
    pub fn with_groups(cfg: AdagradConfig, groups: Vec<GroupOptions>) -> Result<Adagrad> {
        let defaults = ParamGroup {
            params: Params::Rest,
            lr: cfg.lr,
            initial_lr: None,
            momentum: None,
            weight_decay: cfg.weight_decay,
        };
        let core = Core::new(&cfg, defaults, groups)?;
        Ok(Adagrad { cfg, core })
    }
    pub fn config(&self) -> &AdagradConfig {
        &self.cfg
    }
}

impl_optimizer!(Adagrad);

impl Rule for AdagradConfig {
    fn name(&self) -> &'static str {
        "Adagrad"
    }
    const HAS_STEP: bool = true;
    fn buffers(&self, _: &ParamGroup) -> Vec<&'static str> {
        vec!["sum"]
    }
    fn required(&self, g: &ParamGroup) -> Vec<&'static str> {
        self.buffers(g)
    }
    fn check_group(&self, g: &ParamGroup) -> Result<(), String> {
        nonneg("learning rate", g.lr)?;
        nonneg("lr_decay value", self.lr_decay)?;
        nonneg("weight_decay value", g.weight_decay)?;
        nonneg(
            "initial_accumulator_value value",
            self.initial_accumulator_value,
        )?;
        nonneg("epsilon value", self.eps)?;
        if g.momentum.is_some() {
            return Err("Adagrad has no momentum".into());
        }
        Ok(())
    }
    fn update<T: Real>(&self, g: &ParamGroup, st: &mut ParamState, p: &mut [T], grad: &[T]) {
        let n = p.len();
        let step = st.next_step();
        let mut sum = st.take::<T>("sum", n, self.initial_accumulator_value);
        let wd = T::of(g.weight_decay);
        let clr = g.lr / (1.0 + (step - 1.0) * self.lr_decay);
        let neg_clr = T::of(-clr);
        let eps = T::of(self.eps);
        for i in 0..n {
            let mut d = if self.maximize { -grad[i] } else { grad[i] };
            if g.weight_decay != 0.0 {
                d = p[i].fma(wd, d);
            }
            sum[i] = d.fma(d, sum[i]);
            p[i] += (neg_clr * d) / (sum[i].sqrt() + eps);
        }
        st.put("sum", sum);
    }
}
