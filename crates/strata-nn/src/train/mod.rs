//! Training classifiers: one optimizer step at a time ([`Trainer`]), on either backend, with
//! exact checkpoints; and a whole run from the zoo on its dataset ([`train`], [`evaluate`]),
//! which the `strata train` / `strata eval` / `strata predict` commands call through
//! [`train_cli`] / [`eval_cli`] / [`predict_cli`].
//!
//! # Backends
//! - [`Backend::Eager`]: each step records the forward pass on a fresh tape and runs
//!   [`Tape::backward`].
//! - [`Backend::Compiled`]: the first batch of each batch size is traced once
//!   ([`Tape::tracing`], [`Tape::trace`]) and compiled to one forward+backward [`Plan`]; every
//!   later batch of that size runs the plan (a short last batch gets its own plan).
//!
//! Both run the same ops with the same kernels and the same VJP rules, so they give the same
//! losses and parameters bit for bit (tested). The plan's outputs are the loss, the per-example
//! correctness (`argmax(logits) == target`) and the batch statistics of every training-mode
//! batch norm; its inputs are the batch, the targets and the dropout masks, drawn on the host
//! from the Philox stream (seed, step) as the eager pass draws them.
//!
//! # Determinism and exact resume
//! Everything random is a pure function of the seed: initialization (Philox stream
//! `derive_seed(seed, 1)`), the data order of epoch `e`
//! ([`DataLoader::shuffle`](crate::data::DataLoader::shuffle)`(seed)`, see
//! [`crate::data::DataLoader`]) and the dropout masks of step `s` (stream
//! `derive_seed(seed, 2)`, block `s·2^64`). A checkpoint ([`Trainer::save_checkpoint`]) holds the
//! parameters, buffers, optimizer state and the position (step, epoch, batch within the epoch);
//! a run resumed from it with the same seed computes the same following losses bit for bit, on
//! any thread count (every reduction has a declared order, independent of the threads).
//!
//! # Checkpoint format
//! One safetensors file, written atomically: `model.<name>` for every parameter and buffer
//! (PyTorch state-dict names), `optim.<key>` for the optimizer state
//! ([`crate::optim::Optimizer::state_dict`]), and metadata `strata.format` =
//! [`CHECKPOINT_FORMAT`], `strata.model`, `strata.dtype`, `strata.seed`, `strata.step`,
//! `strata.epoch`, `strata.batch`, `strata.batch_size`, `strata.optimizer`. [`export_state_dict`]
//! writes the bare state dict, which PyTorch loads with `safetensors.torch.load_file` and
//! `model.load_state_dict`.

mod cli;
mod predict;
mod run;

pub use cli::{eval_cli, train_cli, EvalArgs, TrainArgs};
pub use predict::{
    classify, generate, image_batch, predict_cli, sample_logits, PredictArgs, FASHION_MNIST_CLASSES,
};
pub use run::{
    build_trainer, evaluate, load_dataset, load_split, load_weights, planned_total_steps, train,
    train_with_data, EvalConfig, EvalReport, TrainConfig, TrainReport,
};

use crate::data::{Batch, Dataset};
use crate::modules::{
    apply_stat_update, derive_seed, noise_tensor, Forward, Model, NoiseSpec, StateDict,
};
use crate::optim::lr_scheduler::{CosineAnnealingLR, LrScheduler};
use crate::optim::{Adam, AdamConfig, AdamW, Optimizer, Sgd, SgdConfig};
use crate::zoo::OptimizerKind;
use crate::{NnError, Result};
use std::collections::BTreeMap;
use std::path::Path;
use strata_autograd::{Plan, Tape, Var, Wrt};
use strata_ir::eval::ExecConfig;
use strata_ir::{Comparison, Reduction};
use strata_tensor::{DType, Tensor};

/// The `strata.format` metadata value of a training checkpoint.
pub const CHECKPOINT_FORMAT: &str = "strata-train-checkpoint-v1";

/// How a step is executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    Eager,
    Compiled,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Eager => "eager",
            Backend::Compiled => "compiled",
        }
    }
}

/// How the learning rate changes over the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Schedule {
    /// The learning rate stays.
    Constant,
    /// Cosine annealing to 0 over the run's planned steps, stepped after every optimizer step
    /// (PyTorch's `CosineAnnealingLR(opt, T_max=total_steps)`).
    Cosine,
}

impl Schedule {
    pub fn name(self) -> &'static str {
        match self {
            Schedule::Constant => "constant",
            Schedule::Cosine => "cosine",
        }
    }
}

/// The optimizer `kind` with learning rate `lr`, SGD `momentum` and weight decay.
pub fn make_optimizer(
    kind: OptimizerKind,
    lr: f64,
    momentum: f64,
    weight_decay: f64,
) -> Result<Box<dyn Optimizer>> {
    Ok(match kind {
        OptimizerKind::Sgd => Box::new(Sgd::new(SgdConfig {
            lr,
            momentum,
            weight_decay,
            ..SgdConfig::default()
        })?),
        OptimizerKind::Adam => Box::new(Adam::new(AdamConfig {
            lr,
            weight_decay,
            ..AdamConfig::default()
        })?),
        OptimizerKind::Adamw => Box::new(AdamW::new(AdamConfig {
            lr,
            weight_decay,
            ..AdamConfig::adamw()
        })?),
    })
}

/// What one training step computed.
#[derive(Clone, Debug)]
pub struct StepOutput {
    /// The mean cross-entropy of the batch, in the model's dtype.
    pub loss: Tensor,
    /// Predictions whose arg-max logit is the target.
    pub correct: usize,
    /// Predictions scored: one per example for a classifier, one per position for a language
    /// model.
    pub predictions: usize,
    pub examples: usize,
}

impl StepOutput {
    /// The loss as f64 (exact: f32 widens exactly).
    pub fn loss_f64(&self) -> f64 {
        self.loss.to_vec_f64().first().copied().unwrap_or(f64::NAN)
    }
}

/// What a step's forward and backward computed: loss, correct count, batch statistics
/// `(prefix, momentum, mean, var)`, gradients, and the number of classes.
type StepParts = (
    Tensor,
    usize,
    Vec<(String, Option<f64>, Tensor, Tensor)>,
    BTreeMap<String, Tensor>,
    usize,
);

/// Class-index targets: i64, each in `0..classes` (an error names the first that is not).
pub fn check_targets(targets: &Tensor, classes: usize) -> Result<()> {
    if targets.dtype() != DType::I64 {
        return Err(NnError::invalid(
            "targets",
            format!(
                "expected i64 class indices, got {} {}",
                targets.dtype(),
                targets.shape()
            ),
        ));
    }
    let v = targets.to_vec::<i64>()?;
    if let Some(i) = v.iter().position(|&t| t < 0 || t as u64 >= classes as u64) {
        return Err(NnError::invalid(
            "targets",
            format!(
                "label {} at position {i} is out of range 0..{classes} (the model has {classes} outputs)",
                v[i]
            ),
        ));
    }
    Ok(())
}

/// A compiled step for one batch shape.
struct CompiledStep {
    plan: Plan,
    noise: Vec<NoiseSpec>,
    /// Per batch norm: its name and momentum (outputs 2 + 2k and 3 + 2k are its mean and var).
    stats: Vec<(String, Option<f64>)>,
    cotangents: Vec<Tensor>,
    reads_buffers: bool,
    classes: usize,
}

/// The loss and correctness of a classifier on one batch (on `tape`). Targets `[B, T]` of a
/// language model, whose logits are `[B·T, classes]`, are flattened to match.
fn loss_and_correct(logits: &Var, targets: &Var, reduction: Reduction) -> Result<(Var, Var)> {
    if logits.dims().len() != 2 {
        return Err(NnError::invalid(
            "train",
            format!(
                "the model must output logits [N, classes], got {:?}",
                logits.dims()
            ),
        ));
    }
    let flat;
    let targets = if targets.dims().len() > 1 {
        flat = targets.reshape(&[-1])?;
        &flat
    } else {
        targets
    };
    let loss = logits.cross_entropy(targets, reduction)?;
    let correct = logits.argmax(-1, false)?.compare(Comparison::Eq, targets)?;
    Ok((loss, correct))
}

fn count_true(t: &Tensor) -> Result<usize> {
    Ok(t.to_vec::<bool>()?.iter().filter(|&&b| b).count())
}

/// A model, its optimizer and the training position: runs steps on either backend, evaluates,
/// and saves and restores exact checkpoints.
pub struct Trainer {
    pub model: Model,
    /// The zoo name (recorded in checkpoints).
    pub name: String,
    pub optimizer: Box<dyn Optimizer>,
    optimizer_kind: String,
    pub backend: Backend,
    pub seed: u64,
    /// Optimizer steps taken.
    pub step: u64,
    /// The epoch of the next batch.
    pub epoch: u64,
    /// The index of the next batch within its epoch.
    pub batch: usize,
    /// The batch size (recorded in checkpoints: resuming with another one is an error).
    pub batch_size: usize,
    exec: ExecConfig,
    plans: BTreeMap<Vec<usize>, CompiledStep>,
    scheduler: Option<Box<dyn LrScheduler>>,
    /// `constant`, or `cosine:<T_max>` (recorded in checkpoints).
    schedule: String,
    /// The schedule a loaded checkpoint recorded.
    resumed_schedule: Option<String>,
}

impl Trainer {
    /// A trainer at step 0.
    pub fn new(
        model: Model,
        name: &str,
        optimizer: Box<dyn Optimizer>,
        optimizer_kind: &str,
        backend: Backend,
        seed: u64,
        batch_size: usize,
    ) -> Trainer {
        Trainer {
            model,
            name: name.to_string(),
            optimizer,
            optimizer_kind: optimizer_kind.to_string(),
            backend,
            seed,
            step: 0,
            epoch: 0,
            batch: 0,
            batch_size,
            exec: ExecConfig::default(),
            plans: BTreeMap::new(),
            scheduler: None,
            schedule: Schedule::Constant.name().to_string(),
            resumed_schedule: None,
        }
    }

    /// Sets the learning-rate schedule for a run of `total_steps` optimizer steps. Call it
    /// after [`Trainer::load_checkpoint`] when resuming: the scheduler continues at
    /// [`Trainer::step`] with the learning rate the checkpoint restored, and a checkpoint made
    /// under another schedule is an error.
    pub fn set_schedule(&mut self, schedule: Schedule, total_steps: u64) -> Result<()> {
        let desc = match schedule {
            Schedule::Constant => schedule.name().to_string(),
            Schedule::Cosine => format!("cosine:{total_steps}"),
        };
        if let Some(saved) = &self.resumed_schedule {
            if *saved != desc {
                return Err(NnError::invalid(
                    "resume",
                    format!(
                        "the checkpoint was trained with learning-rate schedule `{saved}`, this                          run asks for `{desc}` (an exact resume needs the same schedule and the                          same total steps)"
                    ),
                ));
            }
        }
        self.scheduler = match schedule {
            Schedule::Constant => None,
            Schedule::Cosine => {
                let restored = self.optimizer.lrs();
                let t_max = usize::try_from(total_steps.max(1)).unwrap_or(usize::MAX);
                let mut s = CosineAnnealingLR::new(&mut *self.optimizer, t_max, 0.0)?;
                if self.step > 0 {
                    // Continue the recursive form where the checkpoint left it.
                    for (g, lr) in self.optimizer.param_groups_mut().iter_mut().zip(&restored) {
                        g.lr = *lr;
                    }
                    let core = s.core_mut();
                    core.last_epoch = self.step as i64;
                    core.step_count = self.step as i64 + 1;
                    core.last_lr = restored;
                }
                Some(Box::new(s))
            }
        };
        self.schedule = desc;
        Ok(())
    }

    /// The model's parameter dtype.
    pub fn dtype(&self) -> DType {
        (self.model.params.values().next()).map_or(DType::F32, Tensor::dtype)
    }

    fn dropout_seed(&self) -> u64 {
        derive_seed(self.seed, 2)
    }

    /// One optimizer step on `batch` (inputs, i64 class targets): forward in training mode,
    /// mean cross-entropy, backward, running statistics, optimizer update. Advances
    /// [`Trainer::step`] (not the epoch position, which the caller owns).
    pub fn train_step(&mut self, batch: &Batch) -> Result<StepOutput> {
        let examples = batch.inputs.dims().first().copied().unwrap_or(0);
        let (loss, correct, stats, grads, classes) = match self.backend {
            Backend::Eager => self.eager_step(batch)?,
            Backend::Compiled => self.compiled_step(batch)?,
        };
        check_targets(&batch.targets, classes)?;
        for (prefix, momentum, mean, var) in &stats {
            apply_stat_update(&mut self.model.buffers, prefix, *momentum, mean, var)?;
        }
        let grads: BTreeMap<String, Tensor> = grads
            .into_iter()
            .filter(|(k, _)| self.model.params.contains_key(k))
            .collect();
        self.optimizer.step(&mut self.model.params, &grads)?;
        if let Some(s) = &mut self.scheduler {
            s.step(&mut *self.optimizer)?;
        }
        self.step += 1;
        Ok(StepOutput {
            loss,
            correct,
            predictions: batch.targets.numel(),
            examples,
        })
    }

    fn eager_step(&self, batch: &Batch) -> Result<StepParts> {
        let tape = Tape::with_config(self.exec);
        let x = tape.input(batch.inputs.clone(), false);
        let y = tape.input(batch.targets.clone(), false);
        let m = &self.model;
        let fwd = Forward::train(&tape, &m.params, &m.buffers, self.dropout_seed(), self.step);
        let logits = fwd.run(&*m.module, &x)?;
        let (loss, correct) = loss_and_correct(&logits, &y, Reduction::Mean)?;
        let grads = tape.backward(&loss)?.into_by_name();
        let stats = fwd
            .stats()
            .into_iter()
            .map(|s| (s.prefix, s.momentum, s.mean.value(), s.var.value()))
            .collect();
        let classes = logits.dims()[1];
        Ok((
            loss.value(),
            count_true(&correct.value())?,
            stats,
            grads,
            classes,
        ))
    }

    fn compile(&self, batch: &Batch) -> Result<CompiledStep> {
        let tape = Tape::tracing();
        let x = tape.input(batch.inputs.clone(), false);
        let y = tape.input(batch.targets.clone(), false);
        let m = &self.model;
        let fwd = Forward::train(&tape, &m.params, &m.buffers, self.dropout_seed(), self.step);
        let logits = fwd.run(&*m.module, &x)?;
        let (loss, correct) = loss_and_correct(&logits, &y, Reduction::Mean)?;
        let stats = fwd.stats();
        let mut outputs = vec![&loss, &correct];
        for s in &stats {
            outputs.push(&s.mean);
            outputs.push(&s.var);
        }
        let (graph, _) = tape.trace(&outputs)?;
        let expected_inputs = 2 + fwd.noise().len();
        if graph.inputs().count() != expected_inputs {
            return Err(NnError::invalid(
                "compiled backend",
                format!(
                    "the traced step takes {} inputs, expected {expected_inputs} (batch, targets, \
                     dropout masks)",
                    graph.inputs().count()
                ),
            ));
        }
        let reads_buffers = graph
            .parameter_names()
            .iter()
            .any(|n| !m.params.contains_key(*n));
        let plan = Plan::compile(&graph, Wrt::Params, self.exec)?;
        let mut cotangents = vec![Tensor::ones([], loss.dtype())?];
        for s in &stats {
            for v in [&s.mean, &s.var] {
                cotangents.push(Tensor::zeros(v.ty().shape, v.dtype())?);
            }
        }
        Ok(CompiledStep {
            plan,
            noise: fwd.noise(),
            stats: stats.into_iter().map(|s| (s.prefix, s.momentum)).collect(),
            cotangents,
            reads_buffers,
            classes: logits.dims()[1],
        })
    }

    fn compiled_step(&mut self, batch: &Batch) -> Result<StepParts> {
        let key: Vec<usize> = batch
            .inputs
            .dims()
            .iter()
            .chain(batch.targets.dims())
            .copied()
            .collect();
        if !self.plans.contains_key(&key) {
            let compiled = self.compile(batch)?;
            self.plans.insert(key.clone(), compiled);
        }
        let c = &self.plans[&key];
        let mut inputs = vec![batch.inputs.clone(), batch.targets.clone()];
        for (k, spec) in c.noise.iter().enumerate() {
            inputs.push(noise_tensor(self.dropout_seed(), self.step, k, spec)?);
        }
        let merged;
        let store: &StateDict = if c.reads_buffers {
            merged = self.model.state_dict();
            &merged
        } else {
            &self.model.params
        };
        let out = c.plan.run(store, &inputs, &c.cotangents)?;
        let mut outs = out.outputs.into_iter();
        let (Some(loss), Some(correct)) = (outs.next(), outs.next()) else {
            return Err(NnError::invalid(
                "compiled backend",
                "the plan lost its outputs",
            ));
        };
        let rest: Vec<Tensor> = outs.collect();
        let stats = c
            .stats
            .iter()
            .zip(rest.chunks(2))
            .map(|((p, m), mv)| (p.clone(), *m, mv[0].clone(), mv[1].clone()))
            .collect();
        Ok((loss, count_true(&correct)?, stats, out.gradients, c.classes))
    }

    /// The model in evaluation mode on a batch: (summed cross-entropy as f64, correct count,
    /// predictions).
    pub fn eval_batch(&self, batch: &Batch) -> Result<(f64, usize, usize)> {
        eval_batch(&self.model, batch, self.exec)
    }

    /// Mean cross-entropy and accuracy of the model (evaluation mode) over `dataset`.
    pub fn evaluate<D: Dataset>(&self, dataset: &D, batch_size: usize) -> Result<(f64, f64)> {
        evaluate_model(&self.model, dataset, batch_size, self.exec)
    }

    /// The checkpoint's tensors and metadata (see the [module docs](self)).
    pub fn checkpoint(&self) -> (StateDict, BTreeMap<String, String>) {
        let mut tensors = StateDict::new();
        for (k, v) in self.model.state_dict() {
            tensors.insert(format!("model.{k}"), v);
        }
        for (k, v) in self.optimizer.state_dict() {
            tensors.insert(format!("optim.{k}"), v);
        }
        let meta: BTreeMap<String, String> = [
            ("strata.format", CHECKPOINT_FORMAT.to_string()),
            ("strata.model", self.name.clone()),
            ("strata.dtype", self.dtype().to_string()),
            ("strata.seed", self.seed.to_string()),
            ("strata.step", self.step.to_string()),
            ("strata.epoch", self.epoch.to_string()),
            ("strata.batch", self.batch.to_string()),
            ("strata.batch_size", self.batch_size.to_string()),
            ("strata.optimizer", self.optimizer_kind.clone()),
            ("strata.schedule", self.schedule.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        (tensors, meta)
    }

    /// Writes the checkpoint to `path` atomically (a killed run leaves the old file or the new
    /// one, never a torn one).
    pub fn save_checkpoint(&self, path: &Path) -> Result<()> {
        let (tensors, meta) = self.checkpoint();
        strata_io::write_safetensors(path, &tensors, &meta)?;
        Ok(())
    }

    /// Restores parameters, buffers, optimizer state, seed and position from a checkpoint
    /// written by [`Trainer::save_checkpoint`] for the same model, dtype, batch size and
    /// optimizer; any mismatch is an error naming the file and the mismatch, and nothing
    /// changes.
    pub fn load_checkpoint(&mut self, path: &Path) -> Result<()> {
        let file = strata_io::read_safetensors(path)?;
        let meta = &file.metadata;
        let bad = |msg: String| NnError::file(path, "", msg);
        let get = |key: &str| -> Result<&String> {
            meta.get(key).ok_or_else(|| {
                bad(format!(
                    "metadata `{key}` is missing; not a Strata training checkpoint"
                ))
            })
        };
        let format = get("strata.format")?;
        if format != CHECKPOINT_FORMAT {
            return Err(bad(format!(
                "checkpoint format `{format}`, expected `{CHECKPOINT_FORMAT}`"
            )));
        }
        let num = |key: &str| -> Result<u64> {
            let v = get(key)?;
            v.parse::<u64>().map_err(|_| {
                bad(format!(
                    "metadata `{key}` = `{v}` is not a non-negative integer"
                ))
            })
        };
        for (key, want) in [
            ("strata.model", self.name.clone()),
            ("strata.dtype", self.dtype().to_string()),
            ("strata.optimizer", self.optimizer_kind.clone()),
        ] {
            let got = get(key)?;
            if *got != want {
                return Err(bad(format!(
                    "the checkpoint's {} is `{got}`, this run's is `{want}`",
                    key.trim_start_matches("strata.")
                )));
            }
        }
        let batch_size = num("strata.batch_size")? as usize;
        if batch_size != self.batch_size {
            return Err(bad(format!(
                "the checkpoint was trained with batch size {batch_size}, this run uses {} \
                 (an exact resume needs the same one)",
                self.batch_size
            )));
        }
        let (seed, step, epoch, batch) = (
            num("strata.seed")?,
            num("strata.step")?,
            num("strata.epoch")?,
            num("strata.batch")? as usize,
        );
        let mut model_part = StateDict::new();
        let mut optim_part = StateDict::new();
        for (k, v) in file.tensors {
            if let Some(name) = k.strip_prefix("model.") {
                model_part.insert(name.to_string(), v);
            } else if let Some(name) = k.strip_prefix("optim.") {
                optim_part.insert(name.to_string(), v);
            } else {
                return Err(bad(format!(
                    "tensor `{k}` is neither `model.*` nor `optim.*`"
                )));
            }
        }
        let origin = format!("{} (model `{}`)", path.display(), self.name);
        let saved_model = (self.model.params.clone(), self.model.buffers.clone());
        self.model.load_state_dict(&model_part, &origin)?;
        if let Err(e) = self.optimizer.load_state_dict(&optim_part) {
            (self.model.params, self.model.buffers) = saved_model;
            return Err(bad(format!("optimizer state: {e}")));
        }
        self.resumed_schedule = meta.get("strata.schedule").cloned();
        self.seed = seed;
        self.step = step;
        self.epoch = epoch;
        self.batch = batch;
        Ok(())
    }
}

/// Evaluation-mode loss (summed, f64), correct count and number of predictions of `model` on
/// one batch, eagerly without recording.
pub fn eval_batch(model: &Model, batch: &Batch, exec: ExecConfig) -> Result<(f64, usize, usize)> {
    let tape = Tape::with_config(exec);
    tape.no_grad(|| {
        let x = tape.input(batch.inputs.clone(), false);
        let y = tape.input(batch.targets.clone(), false);
        let logits = model.forward_eval(&tape, &x)?;
        let (loss, correct) = loss_and_correct(&logits, &y, Reduction::Sum)?;
        check_targets(&batch.targets, logits.dims()[1])?;
        let loss = loss
            .value()
            .to_vec_f64()
            .first()
            .copied()
            .unwrap_or(f64::NAN);
        Ok((loss, count_true(&correct.value())?, batch.targets.numel()))
    })
}

/// Mean cross-entropy and accuracy of `model` (evaluation mode) over `dataset`'s predictions
/// (examples, or positions of a language model), in batches.
pub fn evaluate_model<D: Dataset>(
    model: &Model,
    dataset: &D,
    batch_size: usize,
    exec: ExecConfig,
) -> Result<(f64, f64)> {
    if dataset.is_empty() {
        return Err(NnError::invalid("evaluate", "the dataset is empty"));
    }
    let loader = crate::data::DataLoader::new(dataset, batch_size)?;
    let (mut loss, mut correct, mut predictions) = (0.0, 0, 0);
    for batch in loader.epoch(0) {
        let (l, c, p) = eval_batch(model, &batch?, exec)?;
        loss += l;
        correct += c;
        predictions += p;
    }
    Ok((
        loss / predictions as f64,
        correct as f64 / predictions as f64,
    ))
}

/// Writes `model`'s state dict (PyTorch names, no prefix) to `path` as safetensors, atomically,
/// with `metadata`.
pub fn export_state_dict(
    model: &Model,
    path: &Path,
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    strata_io::write_safetensors(path, &model.state_dict(), metadata)?;
    Ok(())
}
