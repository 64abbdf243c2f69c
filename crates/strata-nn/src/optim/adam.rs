//! Adam and AdamW (PyTorch's `torch.optim.Adam` and `torch.optim.AdamW`).

use super::{
    impl_optimizer, lerp, nonneg, Core, GroupOptions, ParamGroup, ParamState, Params, Real, Rule,
};
use crate::Result;
use rayon::prelude::*;

/// Adam's and AdamW's hyperparameters. `Default` gives Adam's PyTorch defaults (lr 1e-3, betas
/// (0.9, 0.999), eps 1e-8, weight decay 0); [`AdamConfig::adamw`] gives AdamW's (weight decay
/// 1e-2).
#[derive(Clone, Debug, PartialEq)]
pub struct AdamConfig {
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
    pub amsgrad: bool,
    pub maximize: bool,
    /// AdamW's decoupled weight decay (`p ← p·(1 − lr·wd)` before the moments) instead of
    /// Adam's L2 term added to the gradient.
    pub decoupled_weight_decay: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
        }
    }
}

impl AdamConfig {
    /// PyTorch's AdamW defaults: Adam's, with decoupled weight decay 1e-2.
    pub fn adamw() -> Self {
        AdamConfig {
            weight_decay: 1e-2,
            decoupled_weight_decay: true,
            ..AdamConfig::default()
        }
    }
}

/// Adam, per element as `torch.optim.adam._single_tensor_adam` (step `t` counted in f32;
/// the group's `momentum` is β₁):
///
/// ```text
/// d = maximize ? −g : g
/// p = p·(1 − lr·wd)  (decoupled)   |   d = fma(p, wd, d)  (L2)      if wd ≠ 0
/// m = lerp(m, d, 1 − β₁);  v = fma((1 − β₂)·d, d, v·β₂)
/// bc1 = 1 − β₁^t;  bc2 = 1 − β₂^t  (f64, as Python)
/// v̂ = amsgrad ? (vmax = max(vmax, v)) : v
/// p = p + (−(lr/bc1)·m) / (√v̂ / bc2^0.5 + eps)
/// ```
#[derive(Clone, Debug)]
pub struct Adam {
    cfg: AdamConfig,
    core: Core,
}

/// AdamW: [`Adam`] with decoupled weight decay (PyTorch's `AdamW` is `Adam` with
/// `decoupled_weight_decay=True`); build it with [`AdamW::new`] from [`AdamConfig::adamw`].
#[derive(Clone, Debug)]
pub struct AdamW {
    cfg: AdamWRule,
    core: Core,
}

/// Adam's rule under AdamW's name.
#[derive(Clone, Debug, PartialEq)]
struct AdamWRule(AdamConfig);

fn defaults(cfg: &AdamConfig) -> ParamGroup {
    ParamGroup {
        params: Params::Rest,
        lr: cfg.lr,
        initial_lr: None,
        momentum: Some(cfg.betas.0),
        weight_decay: cfg.weight_decay,
    }
}

impl Adam {
    /// One parameter group holding every parameter.
    pub fn new(cfg: AdamConfig) -> Result<Adam> {
        Adam::with_groups(cfg, Vec::new())
    }
    /// Several parameter groups (see [`GroupOptions`]; a group's `momentum` is its β₁).
    pub fn with_groups(cfg: AdamConfig, groups: Vec<GroupOptions>) -> Result<Adam> {
        let core = Core::new(&cfg, defaults(&cfg), groups)?;
        Ok(Adam { cfg, core })
    }
    pub fn config(&self) -> &AdamConfig {
        &self.cfg
    }
}

impl AdamW {
    /// One parameter group holding every parameter; `cfg.decoupled_weight_decay` is forced on.
    pub fn new(cfg: AdamConfig) -> Result<AdamW> {
        AdamW::with_groups(cfg, Vec::new())
    }
    /// Several parameter groups (see [`GroupOptions`]; a group's `momentum` is its β₁).
    pub fn with_groups(cfg: AdamConfig, groups: Vec<GroupOptions>) -> Result<AdamW> {
        let cfg = AdamWRule(AdamConfig {
            decoupled_weight_decay: true,
            ..cfg
        });
        let core = Core::new(&cfg, defaults(&cfg.0), groups)?;
        Ok(AdamW { cfg, core })
    }
    pub fn config(&self) -> &AdamConfig {
        &self.cfg.0
    }
}

impl_optimizer!(Adam);
impl_optimizer!(AdamW);

impl Rule for AdamConfig {
    fn name(&self) -> &'static str {
        "Adam"
    }
    const HAS_STEP: bool = true;
    fn buffers(&self, _: &ParamGroup) -> Vec<&'static str> {
        if self.amsgrad {
            vec!["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            vec!["exp_avg", "exp_avg_sq"]
        }
    }
    fn required(&self, g: &ParamGroup) -> Vec<&'static str> {
        self.buffers(g)
    }
    fn check_group(&self, g: &ParamGroup) -> Result<(), String> {
        nonneg("learning rate", g.lr)?;
        nonneg("epsilon value", self.eps)?;
        let beta1 = g
            .momentum
            .ok_or("Adam needs beta1 (the group's momentum)")?;
        for (i, b) in [(0, beta1), (1, self.betas.1)] {
            if !(0.0..1.0).contains(&b) {
                return Err(format!("invalid beta parameter at index {i}: {b}"));
            }
        }
        nonneg("weight_decay value", g.weight_decay)
    }
    fn update<T: Real>(&self, g: &ParamGroup, st: &mut ParamState, p: &mut [T], grad: &[T]) {
        let n = p.len();
        let lr = g.lr;
        let beta1 = g.momentum.unwrap_or(self.betas.0);
        let beta2 = self.betas.1;
        let step = st.next_step();
        let mut m = st.take::<T>("exp_avg", n, 0.0);
        let mut v = st.take::<T>("exp_avg_sq", n, 0.0);
        let mut vmax = self.amsgrad.then(|| st.take::<T>("max_exp_avg_sq", n, 0.0));
        let wd = T::of(g.weight_decay);
        let decay = T::of(1.0 - lr * g.weight_decay);
        let w1 = T::of(1.0 - beta1);
        let (b2, w2) = (T::of(beta2), T::of(1.0 - beta2));
        // Python float arithmetic on the step count.
        let bias_correction1 = 1.0 - beta1.powf(step);
        let bias_correction2 = 1.0 - beta2.powf(step);
        let step_size = lr / bias_correction1;
        let bc2_sqrt = T::of(bias_correction2.powf(0.5));
        let neg_step_size = T::of(-step_size);
        let eps = T::of(self.eps);
        let (maximize, decoupled) = (self.maximize, self.decoupled_weight_decay);
        let has_wd = g.weight_decay != 0.0;
        // The elementwise update, on one chunk of every buffer. Elements are independent, so
        // chunks run in parallel with results identical to a sequential loop.
        let kernel = |p: &mut [T], grad: &[T], m: &mut [T], v: &mut [T], vmax: Option<&mut [T]>| {
            if !maximize && !has_wd && vmax.is_none() {
                // The common case, without loop-invariant branches.
                for i in 0..p.len() {
                    let d = grad[i];
                    m[i] = lerp(m[i], d, w1);
                    v[i] = (w2 * d).fma(d, v[i] * b2);
                    let denom = v[i].sqrt() / bc2_sqrt + eps;
                    p[i] += (neg_step_size * m[i]) / denom;
                }
                return;
            }
            let mut vmax = vmax;
            for i in 0..p.len() {
                let mut d = if maximize { -grad[i] } else { grad[i] };
                if has_wd {
                    if decoupled {
                        p[i] = p[i] * decay;
                    } else {
                        d = p[i].fma(wd, d);
                    }
                }
                m[i] = lerp(m[i], d, w1);
                v[i] = (w2 * d).fma(d, v[i] * b2);
                let vhat = match vmax.as_deref_mut() {
                    Some(vm) => {
                        vm[i] = vm[i].max_nan(v[i]);
                        vm[i]
                    }
                    None => v[i],
                };
                let denom = vhat.sqrt() / bc2_sqrt + eps;
                p[i] += (neg_step_size * m[i]) / denom;
            }
        };
        const CHUNK: usize = 1 << 14;
        let mut vmax_chunks = vmax.as_mut().map(|vm| vm.chunks_mut(CHUNK));
        let chunks: Vec<_> = p
            .chunks_mut(CHUNK)
            .zip(grad.chunks(CHUNK))
            .zip(m.chunks_mut(CHUNK))
            .zip(v.chunks_mut(CHUNK))
            .map(|(((p, g), m), v)| (p, g, m, v, vmax_chunks.as_mut().and_then(Iterator::next)))
            .collect();
        if chunks.len() > 1 && rayon::current_num_threads() > 1 {
            chunks
                .into_par_iter()
                .for_each(|(p, g, m, v, vm)| kernel(p, g, m, v, vm));
        } else {
            for (p, g, m, v, vm) in chunks {
                kernel(p, g, m, v, vm);
            }
        }
        st.put("exp_avg", m);
        st.put("exp_avg_sq", v);
        if let Some(vm) = vmax {
            st.put("max_exp_avg_sq", vm);
        }
    }
}

impl Rule for AdamWRule {
    fn name(&self) -> &'static str {
        "AdamW"
    }
    const HAS_STEP: bool = true;
    fn buffers(&self, g: &ParamGroup) -> Vec<&'static str> {
        self.0.buffers(g)
    }
    fn required(&self, g: &ParamGroup) -> Vec<&'static str> {
        self.0.required(g)
    }
    fn check_group(&self, g: &ParamGroup) -> Result<(), String> {
        self.0.check_group(g)
    }
    fn update<T: Real>(&self, g: &ParamGroup, st: &mut ParamState, p: &mut [T], grad: &[T]) {
        self.0.update(g, st, p, grad)
    }
}
