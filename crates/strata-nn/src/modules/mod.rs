//! PyTorch-style modules over the autograd tape.
//!
//! A module is a description (sizes, hyperparameters); its parameters and buffers live outside
//! it, in two [`StateDict`]s named exactly as PyTorch's `state_dict()` names them for the same
//! architecture (`0.weight`, `layers.1.bias`, `bn1.running_mean`, …), so the optimizers update
//! them in place and a checkpoint loads into PyTorch unchanged.
//!
//! - [`Module::init`] creates a module's parameters and buffers with PyTorch's default
//!   initializers (through an [`Init`], which carries the name prefix, the dtype and the RNG).
//! - [`Module::forward`] computes the module on the tape: it reads each parameter through the
//!   [`Ctx`] (`ctx.param("weight")`), which registers it once per forward pass as a named
//!   parameter leaf (`tape.parameter("0.weight", …)`), so [`Tape::backward`] returns gradients by
//!   the same names and [`Tape::trace`] turns the pass into an IR graph whose `parameter` nodes
//!   carry those names.
//! - [`Model`] bundles a module with its parameters and buffers, and checks state dicts loaded
//!   into it (names, shapes, dtypes).
//!
//! Training-mode randomness and statistics are explicit, so an eager pass and a compiled plan
//! traced from it compute the same thing:
//! - dropout draws its mask on the host from the Philox stream of ([`Forward`]'s seed, stream,
//!   the draw's index) and feeds it to the tape as an input leaf (a plan takes it as an input);
//! - batch norm in training mode normalizes with the batch statistics (ops, so gradients flow
//!   through them) and reports the detached batch mean and unbiased variance as
//!   [`StatUpdate`]s; [`apply_stat_update`] then updates the running statistics with PyTorch's
//!   momentum formula, outside the tape.
//!
//! ```
//! use strata_autograd::Tape;
//! use strata_nn::modules::{Linear, Model, ReLU, Sequential};
//! use strata_tensor::{DType, Rng, Tensor};
//! # fn main() -> strata_nn::Result<()> {
//! let net = Sequential::new().append(Linear::new(4, 8)).append(ReLU).append(Linear::new(8, 3));
//! let model = Model::new(net, DType::F32, &mut Rng::new(0))?;
//! assert_eq!(model.params.keys().collect::<Vec<_>>(), ["0.bias", "0.weight", "2.bias", "2.weight"]);
//! let tape = Tape::new();
//! let x = tape.input(Tensor::ones([2, 4], DType::F32)?, false);
//! let y = model.forward_eval(&tape, &x)?;
//! assert_eq!(y.dims(), [2, 3]);
//! # Ok(())
//! # }
//! ```

mod activation;
mod attention;
mod container;
mod layers;
mod norm;
mod rnn;

pub use activation::{
    Elu, Gelu, Hardtanh, Identity, LeakyReLU, LogSoftmax, Mish, ReLU, ReLU6, SiLU, Sigmoid,
    Softmax, Softplus, Tanh,
};
pub use attention::{FeedForwardActivation, MultiheadAttention, TransformerEncoderLayer};
pub use container::{BasicBlock, Residual, Sequential};
pub use layers::{
    AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, ConvTranspose2d, Dropout, Embedding, Flatten,
    Linear, MaxPool2d,
};
pub use norm::{BatchNorm, GroupNorm, LayerNorm, RmsNorm};
pub use rnn::{Gru, Lstm};

use crate::{NnError, Result};
use std::cell::RefCell;
use std::collections::BTreeMap;
use strata_autograd::{Tape, Var};
use strata_tensor::{DType, Rng, Shape, Tensor};

/// Named tensors in PyTorch's `state_dict` naming.
pub type StateDict = BTreeMap<String, Tensor>;

/// `prefix.name`, or `name` at the root.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// A network layer or a container of layers.
pub trait Module {
    /// Creates this module's parameters and buffers (and its children's, through
    /// [`Init::child`]) with PyTorch's default initializers.
    fn init(&self, init: &mut Init) -> Result<()>;
    /// The module applied to `x` on `ctx`'s tape.
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var>;
}

impl<M: Module + ?Sized> Module for Box<M> {
    fn init(&self, init: &mut Init) -> Result<()> {
        (**self).init(init)
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        (**self).forward(ctx, x)
    }
}

/// Collects the parameters and buffers of a module being initialized.
pub struct Init<'r> {
    rng: &'r mut Rng,
    dtype: DType,
    prefix: String,
    params: StateDict,
    buffers: StateDict,
}

impl<'r> Init<'r> {
    /// Parameters of `dtype` (f32 or f64) drawn from `rng`.
    pub fn new(rng: &'r mut Rng, dtype: DType) -> Result<Init<'r>> {
        if !matches!(dtype, DType::F32 | DType::F64) {
            return Err(NnError::invalid(
                "Module::init",
                format!("parameters must be f32 or f64, not {dtype}"),
            ));
        }
        Ok(Init {
            rng,
            dtype,
            prefix: String::new(),
            params: StateDict::new(),
            buffers: StateDict::new(),
        })
    }
    pub fn rng(&mut self) -> &mut Rng {
        self.rng
    }
    pub fn dtype(&self) -> DType {
        self.dtype
    }
    /// The full name of `name` in the current module.
    pub fn name(&self, name: &str) -> String {
        join(&self.prefix, name)
    }
    fn insert(&mut self, name: &str, value: Tensor, buffer: bool) -> Result<()> {
        let full = self.name(name);
        if self.params.contains_key(&full) || self.buffers.contains_key(&full) {
            return Err(NnError::invalid(
                "Module::init",
                format!("two parameters or buffers are named `{full}`"),
            ));
        }
        if buffer {
            self.buffers.insert(full, value);
        } else {
            self.params.insert(full, value);
        }
        Ok(())
    }
    /// Registers a trainable parameter.
    pub fn param(&mut self, name: &str, value: Tensor) -> Result<()> {
        self.insert(name, value, false)
    }
    /// Registers a buffer (state that is saved but not trained, e.g. running statistics).
    pub fn buffer(&mut self, name: &str, value: Tensor) -> Result<()> {
        self.insert(name, value, true)
    }
    /// Initializes `module` as the child `name` of the current module.
    pub fn child(&mut self, name: &str, module: &dyn Module) -> Result<()> {
        let inner = self.name(name);
        let outer = std::mem::replace(&mut self.prefix, inner);
        let result = module.init(self);
        self.prefix = outer;
        result
    }
    /// The parameters and the buffers.
    pub fn finish(self) -> (StateDict, StateDict) {
        (self.params, self.buffers)
    }
}

/// Whether a tensor is a trainable parameter or a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Parameter,
    Buffer,
}

/// One entry of a module's state dict.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Shape,
    pub dtype: DType,
    pub kind: Kind,
}

/// Every parameter and buffer `module` creates, by name (PyTorch's `state_dict` keys).
pub fn specs(module: &dyn Module, dtype: DType) -> Result<Vec<ParamSpec>> {
    let mut rng = Rng::new(0);
    let mut init = Init::new(&mut rng, dtype)?;
    module.init(&mut init)?;
    let (params, buffers) = init.finish();
    let spec = |kind| {
        move |(name, t): (String, Tensor)| ParamSpec {
            name,
            shape: t.shape().clone(),
            dtype: t.dtype(),
            kind,
        }
    };
    let mut all: Vec<ParamSpec> = params.into_iter().map(spec(Kind::Parameter)).collect();
    all.extend(buffers.into_iter().map(spec(Kind::Buffer)));
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

/// The shape and dtype of the dropout mask a forward pass drew (see [`Ctx::dropout_noise`]).
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseSpec {
    pub shape: Shape,
    /// The probability of keeping an element, `1 − p`.
    pub keep: f64,
    pub dtype: DType,
}

/// A seed derived from `seed` for one purpose (splitmix64 of the pair), so that streams for
/// initialization, shuffling and dropout never share Philox blocks.
pub fn derive_seed(seed: u64, purpose: u64) -> u64 {
    let mut z = seed
        .wrapping_add(purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The dropout noise `index` of forward pass `stream` (a training step) under `seed`: PyTorch's
/// `bernoulli_(1 − p)` mask divided by `1 − p` (zeros when `p = 1`), drawn from the Philox
/// stream of `seed` at block `stream·2^64 + index·2^40`.
pub fn noise_tensor(seed: u64, stream: u64, index: usize, spec: &NoiseSpec) -> Result<Tensor> {
    let position = (u128::from(stream) << 64) | ((index as u128) << 40);
    let mut rng = Rng::with_position(seed, position);
    let mask = Tensor::bernoulli(spec.shape.clone(), spec.keep, &mut rng)?.to_dtype(spec.dtype)?;
    if spec.keep == 0.0 {
        return Ok(mask);
    }
    Ok(mask.div(&Tensor::scalar_f64(spec.keep, spec.dtype))?)
}

/// The batch statistics a training-mode batch norm computed (detached, `[C]`), for its running
/// statistics.
#[derive(Clone, Debug)]
pub struct StatUpdate {
    /// The module's name (its buffers are `prefix.running_mean`, …).
    pub prefix: String,
    /// PyTorch's `momentum`; `None` is the cumulative moving average.
    pub momentum: Option<f64>,
    pub mean: Var,
    /// The unbiased batch variance.
    pub var: Var,
}

/// PyTorch's running-statistics update for the batch norm `prefix`:
/// `num_batches_tracked += 1`, `f = momentum` (or `1 / num_batches_tracked`),
/// `running_mean = f·mean + (1 − f)·running_mean`, `running_var = f·var + (1 − f)·running_var`
/// (with `var` unbiased).
pub fn apply_stat_update(
    buffers: &mut StateDict,
    prefix: &str,
    momentum: Option<f64>,
    mean: &Tensor,
    var: &Tensor,
) -> Result<()> {
    let get = |name: &str| -> Result<Tensor> {
        let full = join(prefix, name);
        buffers
            .get(&full)
            .cloned()
            .ok_or_else(|| NnError::invalid("BatchNorm", format!("buffer `{full}` is missing")))
    };
    let count = get("num_batches_tracked")?.item::<i64>()? + 1;
    let factor = momentum.unwrap_or(1.0 / count as f64);
    let ema = |running: Tensor, batch: &Tensor| -> Result<Tensor> {
        let d = running.dtype();
        let f = Tensor::scalar_f64(factor, d);
        let keep = Tensor::scalar_f64(1.0 - factor, d);
        Ok(batch.mul(&f)?.add(&running.mul(&keep)?)?)
    };
    let rm = ema(get("running_mean")?, mean)?;
    let rv = ema(get("running_var")?, var)?;
    buffers.insert(join(prefix, "running_mean"), rm);
    buffers.insert(join(prefix, "running_var"), rv);
    buffers.insert(join(prefix, "num_batches_tracked"), Tensor::scalar(count));
    Ok(())
}

#[derive(Default)]
struct FwdState {
    vars: BTreeMap<String, Var>,
    noise: Vec<NoiseSpec>,
    stats: Vec<StatUpdate>,
}

/// One forward pass: the tape, the parameters and buffers it reads, training or evaluation
/// mode, and the randomness of the pass.
pub struct Forward<'a> {
    tape: &'a Tape,
    params: &'a StateDict,
    buffers: &'a StateDict,
    train: bool,
    seed: u64,
    stream: u64,
    state: RefCell<FwdState>,
}

impl<'a> Forward<'a> {
    /// An evaluation-mode pass (dropout off, batch norm on its running statistics).
    pub fn eval(tape: &'a Tape, params: &'a StateDict, buffers: &'a StateDict) -> Forward<'a> {
        Forward {
            tape,
            params,
            buffers,
            train: false,
            seed: 0,
            stream: 0,
            state: RefCell::default(),
        }
    }
    /// A training-mode pass whose dropout masks come from `seed`'s Philox stream `stream`
    /// (e.g. the step number).
    pub fn train(
        tape: &'a Tape,
        params: &'a StateDict,
        buffers: &'a StateDict,
        seed: u64,
        stream: u64,
    ) -> Forward<'a> {
        Forward {
            train: true,
            seed,
            stream,
            ..Forward::eval(tape, params, buffers)
        }
    }
    /// The context of the root module.
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            fwd: self,
            prefix: String::new(),
        }
    }
    /// `module` applied to `x`.
    pub fn run(&self, module: &dyn Module, x: &Var) -> Result<Var> {
        module.forward(&self.ctx(), x)
    }
    /// The dropout masks drawn so far, in order (each fed as an input leaf).
    pub fn noise(&self) -> Vec<NoiseSpec> {
        self.state.borrow().noise.clone()
    }
    /// The batch statistics recorded so far, in order.
    pub fn stats(&self) -> Vec<StatUpdate> {
        self.state.borrow().stats.clone()
    }
    pub fn is_training(&self) -> bool {
        self.train
    }
}

/// A module's view of a forward pass: the pass and the module's name prefix.
#[derive(Clone)]
pub struct Ctx<'f> {
    fwd: &'f Forward<'f>,
    prefix: String,
}

impl<'f> Ctx<'f> {
    /// The context of the child `name`.
    pub fn child(&self, name: &str) -> Ctx<'f> {
        Ctx {
            fwd: self.fwd,
            prefix: join(&self.prefix, name),
        }
    }
    /// The full name of `name` in this module.
    pub fn name(&self, name: &str) -> String {
        join(&self.prefix, name)
    }
    pub fn tape(&self) -> &Tape {
        self.fwd.tape
    }
    pub fn is_training(&self) -> bool {
        self.fwd.train
    }
    /// The parameter `name` of this module as a parameter leaf (registered once per pass, so
    /// a parameter read twice gets one summed gradient).
    pub fn param(&self, name: &str) -> Result<Var> {
        let full = self.name(name);
        if let Some(v) = self.fwd.state.borrow().vars.get(&full) {
            return Ok(v.clone());
        }
        let value = self.fwd.params.get(&full).ok_or_else(|| {
            NnError::invalid(
                "forward",
                format!("parameter `{full}` is missing from the parameters"),
            )
        })?;
        let var = self.fwd.tape.parameter(full.clone(), value.clone());
        self.fwd.state.borrow_mut().vars.insert(full, var.clone());
        Ok(var)
    }
    /// This module's parameter `name` if the parameters hold it.
    pub fn param_opt(&self, name: &str) -> Result<Option<Var>> {
        if self.fwd.params.contains_key(&self.name(name)) {
            self.param(name).map(Some)
        } else {
            Ok(None)
        }
    }
    /// The buffer `name`: a named leaf that no gradient reaches (it traces to a `parameter`
    /// node, so a compiled plan reads its current value).
    pub fn buffer(&self, name: &str) -> Result<Var> {
        let full = self.name(name);
        if let Some(v) = self.fwd.state.borrow().vars.get(&full) {
            return Ok(v.clone());
        }
        let value = self.fwd.buffers.get(&full).ok_or_else(|| {
            NnError::invalid(
                "forward",
                format!("buffer `{full}` is missing from the buffers"),
            )
        })?;
        let var = self
            .fwd
            .tape
            .parameter(full.clone(), value.clone())
            .detach()?;
        self.fwd.state.borrow_mut().vars.insert(full, var.clone());
        Ok(var)
    }
    /// A constant on the tape.
    pub fn constant(&self, value: Tensor) -> Var {
        self.fwd.tape.constant(value)
    }
    /// A dropout mask for drop probability `p` (see [`noise_tensor`]), as an input leaf.
    pub fn dropout_noise(&self, shape: Shape, p: f64, dtype: DType) -> Result<Var> {
        let spec = NoiseSpec {
            shape,
            keep: 1.0 - p,
            dtype,
        };
        let index = self.fwd.state.borrow().noise.len();
        let t = noise_tensor(self.fwd.seed, self.fwd.stream, index, &spec)?;
        self.fwd.state.borrow_mut().noise.push(spec);
        Ok(self.fwd.tape.input(t, false))
    }
    /// Records a batch norm's batch statistics (see [`StatUpdate`]).
    pub fn record_stats(&self, momentum: Option<f64>, mean: Var, var: Var) {
        self.fwd.state.borrow_mut().stats.push(StatUpdate {
            prefix: self.prefix.clone(),
            momentum,
            mean,
            var,
        });
    }
}

/// A module with its parameters and buffers.
pub struct Model {
    pub module: Box<dyn Module>,
    pub params: StateDict,
    pub buffers: StateDict,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("params", &self.params.keys().collect::<Vec<_>>())
            .field("buffers", &self.buffers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Model {
    /// `module` with parameters of `dtype` initialized from `rng`.
    pub fn new(module: impl Module + 'static, dtype: DType, rng: &mut Rng) -> Result<Model> {
        Model::from_boxed(Box::new(module), dtype, rng)
    }
    pub fn from_boxed(module: Box<dyn Module>, dtype: DType, rng: &mut Rng) -> Result<Model> {
        let mut init = Init::new(rng, dtype)?;
        module.init(&mut init)?;
        let (params, buffers) = init.finish();
        Ok(Model {
            module,
            params,
            buffers,
        })
    }
    /// The number of trainable scalars.
    pub fn num_parameters(&self) -> usize {
        self.params.values().map(Tensor::numel).sum()
    }
    /// Parameters and buffers together, as PyTorch's `state_dict()`.
    pub fn state_dict(&self) -> StateDict {
        let mut all = self.params.clone();
        all.extend(self.buffers.iter().map(|(k, v)| (k.clone(), v.clone())));
        all
    }
    /// Replaces every parameter and buffer by the entry of the same name in `state`, which must
    /// hold exactly this model's names with the same shapes and dtypes (PyTorch's strict
    /// `load_state_dict`). `origin` (a file name) prefixes the error, which names the first
    /// mismatch. Nothing changes on error.
    pub fn load_state_dict(&mut self, state: &StateDict, origin: &str) -> Result<()> {
        let bad = |msg: String| NnError::invalid(origin, msg);
        for (kind, own) in [("parameter", &self.params), ("buffer", &self.buffers)] {
            for (name, t) in own {
                let Some(got) = state.get(name) else {
                    return Err(bad(format!(
                        "{kind} `{name}` ({} {}) is missing",
                        t.dtype(),
                        t.shape()
                    )));
                };
                if got.shape() != t.shape() || got.dtype() != t.dtype() {
                    return Err(bad(format!(
                        "{kind} `{name}` is {} {}, the model expects {} {}",
                        got.dtype(),
                        got.shape(),
                        t.dtype(),
                        t.shape()
                    )));
                }
            }
        }
        if let Some(extra) = state
            .keys()
            .find(|k| !self.params.contains_key(*k) && !self.buffers.contains_key(*k))
        {
            return Err(bad(format!(
                "unexpected entry `{extra}` (the model has no parameter or buffer of that name)"
            )));
        }
        for (name, t) in self.params.iter_mut().chain(self.buffers.iter_mut()) {
            *t = state[name].clone();
        }
        Ok(())
    }
    /// The model in evaluation mode on `x`.
    pub fn forward_eval(&self, tape: &Tape, x: &Var) -> Result<Var> {
        Forward::eval(tape, &self.params, &self.buffers).run(&*self.module, x)
    }
}
