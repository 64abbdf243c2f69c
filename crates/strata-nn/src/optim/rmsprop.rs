//! RMSprop (PyTorch's `torch.optim.RMSprop`).

use super::{
    impl_optimizer, lerp, nonneg, Core, GroupOptions, ParamGroup, ParamState, Params, Real, Rule,
};
use crate::Result;

/// RMSprop's hyperparameters with PyTorch's defaults (lr 1e-2, alpha 0.99, eps 1e-8).
#[derive(Clone, Debug, PartialEq)]
pub struct RmsPropConfig {
    pub lr: f64,
    pub alpha: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub momentum: f64,
    pub centered: bool,
    pub maximize: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

/// RMSprop, per element as `torch.optim.rmsprop._single_tensor_rmsprop`:
///
/// ```text
/// d = maximize ? −g : g;  d = fma(p, wd, d) if wd ≠ 0
/// s = fma((1 − α)·d, d, s·α)
/// avg = centered ? √fma(−ḡ, ḡ, s) with ḡ = lerp(ḡ, d, 1 − α) : √s;   avg = avg + eps
/// μ > 0: buf = buf·μ + d/avg;  p = fma(buf, −lr, p)      else: p = p + (−lr·d)/avg
/// ```
#[derive(Clone, Debug)]
pub struct RmsProp {
    cfg: RmsPropConfig,
    core: Core,
}

impl RmsProp {
    /// One parameter group holding every parameter.
    pub fn new(cfg: RmsPropConfig) -> Result<RmsProp> {
        RmsProp::with_groups(cfg, Vec::new())
    }
    /// Several parameter groups (see [`GroupOptions`]).
    pub fn with_groups(cfg: RmsPropConfig, groups: Vec<GroupOptions>) -> Result<RmsProp> {
        let defaults = ParamGroup {
            params: Params::Rest,
            lr: cfg.lr,
            initial_lr: None,
            momentum: Some(cfg.momentum),
            weight_decay: cfg.weight_decay,
        };
        let core = Core::new(&cfg, defaults, groups)?;
        Ok(RmsProp { cfg, core })
    }
    pub fn config(&self) -> &RmsPropConfig {
        &self.cfg
    }
}

impl_optimizer!(RmsProp);

impl Rule for RmsPropConfig {
    fn name(&self) -> &'static str {
        "RMSprop"
    }
    const HAS_STEP: bool = true;
    fn buffers(&self, _: &ParamGroup) -> Vec<&'static str> {
        vec!["square_avg", "momentum_buffer", "grad_avg"]
    }
    fn required(&self, g: &ParamGroup) -> Vec<&'static str> {
        let mut keys = vec!["square_avg"];
        if g.momentum.unwrap_or(0.0) > 0.0 {
            keys.push("momentum_buffer");
        }
        if self.centered {
            keys.push("grad_avg");
        }
        keys
    }
    fn check_group(&self, g: &ParamGroup) -> Result<(), String> {
        nonneg("learning rate", g.lr)?;
        nonneg("epsilon value", self.eps)?;
        nonneg(
            "momentum value",
            g.momentum.ok_or("RMSprop needs a momentum value")?,
        )?;
        nonneg("weight_decay value", g.weight_decay)?;
        nonneg("alpha value", self.alpha)
    }
    fn update<T: Real>(&self, g: &ParamGroup, st: &mut ParamState, p: &mut [T], grad: &[T]) {
        let n = p.len();
        st.next_step();
        let momentum = g.momentum.unwrap_or(0.0);
        let mut s = st.take::<T>("square_avg", n, 0.0);
        let mut gavg = self.centered.then(|| st.take::<T>("grad_avg", n, 0.0));
        let mut buf = (momentum > 0.0).then(|| st.take::<T>("momentum_buffer", n, 0.0));
        let wd = T::of(g.weight_decay);
        let (alpha, w) = (T::of(self.alpha), T::of(1.0 - self.alpha));
        let eps = T::of(self.eps);
        let mu = T::of(momentum);
        let neg_lr = T::of(-g.lr);
        for i in 0..n {
            let mut d = if self.maximize { -grad[i] } else { grad[i] };
            if g.weight_decay != 0.0 {
                d = p[i].fma(wd, d);
            }
            s[i] = (w * d).fma(d, s[i] * alpha);
            let avg = match gavg.as_mut() {
                Some(ga) => {
                    ga[i] = lerp(ga[i], d, w);
                    (-ga[i]).fma(ga[i], s[i]).sqrt()
                }
                None => s[i].sqrt(),
            } + eps;
            match buf.as_mut() {
                Some(b) => {
                    b[i] = b[i] * mu + d / avg;
                    p[i] = b[i].fma(neg_lr, p[i]);
                }
                None => p[i] += (neg_lr * d) / avg,
            }
        }
        st.put("square_avg", s);
        if let Some(ga) = gavg {
            st.put("grad_avg", ga);
        }
        if let Some(b) = buf {
            st.put("momentum_buffer", b);
        }
    }
}
