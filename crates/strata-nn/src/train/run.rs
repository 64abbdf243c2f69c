//! A whole training run of a zoo model on its dataset: data, model, optimizer, the epoch loop,
//! progress bar, JSON-lines log, checkpoints, final evaluation.

use super::{
    evaluate_model, export_state_dict, make_optimizer, Backend, Schedule, StepOutput, Trainer,
};
use crate::data::{
    dataset_dir, load_fashion_mnist, load_mnist, load_tinyshakespeare, split_tokens, CharTokenizer,
    CharWindows, DataLoader, Dataset, Normalize, Split, TensorDataset,
};
use crate::modules::{derive_seed, Model};
use crate::plot::{write_training_plot, TrainingCurves};
use crate::zoo::{self, OptimizerKind, Task, ZooEntry, SHAKESPEARE_VOCAB};
use crate::{NnError, Result};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use strata_ir::eval::ExecConfig;
use strata_tensor::{DType, Rng};

/// Everything a training run takes. `None` fields take the zoo entry's defaults (or, on
/// resume, the checkpoint's seed).
#[derive(Clone, Debug)]
pub struct TrainConfig {
    pub model: String,
    pub backend: Backend,
    pub dtype: DType,
    /// Stop after this many optimizer steps in total (counting steps before a resume).
    pub steps: Option<u64>,
    /// Stop (as if interrupted) once this many steps are done in total, without changing the
    /// plan (`steps`, `epochs`, the schedule): a later `resume` continues the same run.
    pub stop_at: Option<u64>,
    /// Stop after this many epochs in total; without it, the zoo's default, unless `steps`
    /// is given (then only `steps` stops the run).
    pub epochs: Option<u64>,
    pub batch_size: Option<usize>,
    pub lr: Option<f64>,
    pub optimizer: Option<OptimizerKind>,
    /// SGD momentum.
    pub momentum: f64,
    pub weight_decay: Option<f64>,
    /// The learning-rate schedule (default: the zoo entry's).
    pub schedule: Option<Schedule>,
    pub seed: Option<u64>,
    /// The data directory (else `$STRATA_DATA`).
    pub data: Option<PathBuf>,
    /// Train on the first `n` training examples only.
    pub train_limit: Option<usize>,
    /// Test on the first `n` test examples only.
    pub test_limit: Option<usize>,
    pub eval_batch_size: usize,
    /// Evaluate on the test set after every epoch (logged), not only at the end.
    pub eval_each_epoch: bool,
    /// Write a checkpoint here after every epoch, every `checkpoint_every` steps and at the
    /// end.
    pub checkpoint: Option<PathBuf>,
    pub checkpoint_every: Option<u64>,
    /// Resume from this checkpoint.
    pub resume: Option<PathBuf>,
    /// Append JSON lines (one per `log_every` steps, per epoch, per checkpoint, and a summary).
    pub log: Option<PathBuf>,
    pub log_every: u64,
    /// Write the final state dict (PyTorch names) here.
    pub export: Option<PathBuf>,
    /// Write the loss and accuracy curves here as a PNG (default: next to the log, with the
    /// extension `.png`).
    pub plot: Option<PathBuf>,
    /// Show the progress bar (on stderr, when it is a terminal).
    pub progress: bool,
}

impl TrainConfig {
    /// The defaults for zoo model `model`.
    pub fn new(model: &str) -> TrainConfig {
        TrainConfig {
            model: model.to_string(),
            backend: Backend::Compiled,
            dtype: DType::F32,
            steps: None,
            stop_at: None,
            epochs: None,
            batch_size: None,
            lr: None,
            optimizer: None,
            momentum: 0.9,
            weight_decay: None,
            schedule: None,
            seed: None,
            data: None,
            train_limit: None,
            test_limit: None,
            eval_batch_size: 500,
            eval_each_epoch: true,
            checkpoint: None,
            checkpoint_every: None,
            resume: None,
            log: None,
            log_every: 10,
            export: None,
            plot: None,
            progress: false,
        }
    }
}

/// The outcome of a training run.
#[derive(Clone, Debug)]
pub struct TrainReport {
    pub model: String,
    pub backend: Backend,
    pub dtype: DType,
    pub parameters: usize,
    pub optimizer: String,
    pub lr: f64,
    pub schedule: Schedule,
    pub batch_size: usize,
    pub seed: u64,
    pub threads: usize,
    /// Optimizer steps in total (including those before a resume).
    pub steps: u64,
    /// Completed epochs (fractional: steps / batches per epoch).
    pub epochs: f64,
    /// Steps this run took (after a resume: since it).
    pub steps_this_run: u64,
    /// The loss of every step this run took, in order (bit-exact values of the model dtype).
    pub losses: Vec<f64>,
    /// Mean loss and accuracy over the last ≤ 100 steps of this run (after a resume: of the
    /// resumed part).
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub test_loss: f64,
    pub test_accuracy: f64,
    pub test_examples: usize,
    /// Training examples per second of training time (data batching included, evaluation and
    /// checkpoints excluded).
    pub samples_per_s: f64,
    pub train_seconds: f64,
    /// This run's per-step training loss and accuracy and its test evaluations.
    pub curves: TrainingCurves,
}

impl TrainReport {
    /// The one-object summary `--json` prints.
    pub fn to_json(&self) -> Value {
        json!({
            "model": self.model,
            "backend": self.backend.name(),
            "dtype": self.dtype.to_string(),
            "parameters": self.parameters,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "schedule": self.schedule.name(),
            "batch_size": self.batch_size,
            "seed": self.seed,
            "threads": self.threads,
            "steps": self.steps,
            "epochs": self.epochs,
            "train_loss": finite(self.train_loss),
            "train_accuracy": finite(self.train_accuracy),
            "test_loss": finite(self.test_loss),
            "test_accuracy": finite(self.test_accuracy),
            "test_examples": self.test_examples,
            "samples_per_s": finite(self.samples_per_s),
            "train_seconds": self.train_seconds,
        })
    }
}

/// JSON has no NaN or infinity: those become `null`.
fn finite(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

/// One split of an image zoo entry's dataset (the first `limit` examples), normalized, in
/// `dtype`.
pub fn load_split(
    entry: &ZooEntry,
    data: Option<&Path>,
    split: Split,
    dtype: DType,
    limit: Option<usize>,
) -> Result<TensorDataset> {
    let dir = dataset_dir(data, entry.dataset)?;
    let (ds, norm) = match entry.dataset {
        "mnist" => (load_mnist(&dir, split)?, Normalize::mnist()),
        "fashion-mnist" => (load_fashion_mnist(&dir, split)?, Normalize::fashion_mnist()),
        other => {
            return Err(NnError::invalid(
                "train",
                format!("no image loader for dataset `{other}`"),
            ))
        }
    };
    let ds = match limit {
        Some(n) if n < ds.len() => ds.select(&(0..n).collect::<Vec<_>>())?,
        _ => ds,
    };
    ds.map_inputs(|x| Ok(norm.apply(x)?.to_dtype(dtype)?))
}

/// The share of tiny Shakespeare held out for validation (its end, as nanoGPT).
pub const TEXT_VALIDATION_FRACTION: f64 = 0.1;

/// One split of a language model's text, tokenized with [`SHAKESPEARE_VOCAB`]: the training
/// split as every window of the context length (stride 1, `limit` windows at most), the
/// validation ("test") split as consecutive non-overlapping windows (at most `limit`).
pub fn load_text_split(
    entry: &ZooEntry,
    data: Option<&Path>,
    split: Split,
    limit: Option<usize>,
) -> Result<CharWindows> {
    let Task::Text { block_size } = entry.task else {
        return Err(NnError::invalid(
            "train",
            format!("model `{}` does not read text", entry.name),
        ));
    };
    let dir = dataset_dir(data, entry.dataset)?;
    let text = load_tinyshakespeare(&dir)?;
    let tokenizer = CharTokenizer::from_vocab(SHAKESPEARE_VOCAB.chars().collect())?;
    let tokens = tokenizer.encode(&text).map_err(|e| {
        NnError::file(
            dir.join("input.txt"),
            "",
            format!("not tiny Shakespeare's vocabulary: {e}"),
        )
    })?;
    let (train, val) = split_tokens(&tokens, TEXT_VALIDATION_FRACTION)?;
    let (mut tokens, stride) = match split {
        Split::Train => (train, 1),
        Split::Test => (val, block_size),
    };
    if let Some(n) = limit {
        tokens.truncate(n.saturating_mul(stride) + block_size);
    }
    CharWindows::new(tokens, block_size)?.stride(stride)
}

/// The training and test sets of a zoo entry, normalized and in `dtype`.
pub fn load_dataset(
    entry: &ZooEntry,
    data: Option<&Path>,
    dtype: DType,
    train_limit: Option<usize>,
    test_limit: Option<usize>,
) -> Result<(TensorDataset, TensorDataset)> {
    Ok((
        load_split(entry, data, Split::Train, dtype, train_limit)?,
        load_split(entry, data, Split::Test, dtype, test_limit)?,
    ))
}

/// Trains zoo model `cfg.model` on its dataset (found through `cfg.data` or `$STRATA_DATA`).
pub fn train(cfg: &TrainConfig) -> Result<TrainReport> {
    let entry = zoo::lookup(&cfg.model)?;
    let data = cfg.data.as_deref();
    match entry.task {
        Task::Image => {
            let (train_ds, test_ds) =
                load_dataset(&entry, data, cfg.dtype, cfg.train_limit, cfg.test_limit)?;
            train_with_data(cfg, &train_ds, &test_ds)
        }
        Task::Text { .. } => {
            let train_ds = load_text_split(&entry, data, Split::Train, cfg.train_limit)?;
            let val_ds = load_text_split(&entry, data, Split::Test, cfg.test_limit)?;
            train_with_data(cfg, &train_ds, &val_ds)
        }
    }
}

/// The learning rate, optimizer and batch size a run uses.
fn hyper(cfg: &TrainConfig, entry: &ZooEntry) -> (f64, OptimizerKind, usize, f64) {
    let optimizer = cfg.optimizer.unwrap_or(entry.optimizer);
    let wd = cfg.weight_decay.unwrap_or(match optimizer {
        OptimizerKind::Adamw => 1e-2,
        _ => 0.0,
    });
    (
        cfg.lr.unwrap_or(entry.lr),
        optimizer,
        cfg.batch_size.unwrap_or(entry.batch_size),
        wd,
    )
}

/// A fresh trainer for `cfg` (the model initialized from the seed), or one restored from
/// `cfg.resume`.
pub fn build_trainer(cfg: &TrainConfig) -> Result<Trainer> {
    let entry = zoo::lookup(&cfg.model)?;
    let (lr, kind, batch_size, wd) = hyper(cfg, &entry);
    let resume_seed = match &cfg.resume {
        Some(path) => {
            let file = strata_io::read_safetensors(path)?;
            let seed = file
                .metadata
                .get("strata.seed")
                .and_then(|s| s.parse::<u64>().ok());
            if let (Some(given), Some(saved)) = (cfg.seed, seed) {
                if given != saved {
                    return Err(NnError::file(
                        path,
                        "",
                        format!(
                            "the checkpoint was trained with seed {saved}, this run asks for \
                             seed {given} (an exact resume needs the same seed; leave --seed out)"
                        ),
                    ));
                }
            }
            seed
        }
        None => None,
    };
    let seed = cfg.seed.or(resume_seed).unwrap_or(0);
    let model = Model::from_boxed(
        entry.build(),
        cfg.dtype,
        &mut Rng::new(derive_seed(seed, 1)),
    )?;
    let optimizer = make_optimizer(kind, lr, cfg.momentum, wd)?;
    let mut trainer = Trainer::new(
        model,
        entry.name,
        optimizer,
        kind.name(),
        cfg.backend,
        seed,
        batch_size,
    );
    if let Some(path) = &cfg.resume {
        trainer.load_checkpoint(path)?;
    }
    Ok(trainer)
}

/// The run's step limit: `--steps`, else the entry's default steps unless `--epochs` is given.
fn run_steps(cfg: &TrainConfig, entry: &ZooEntry) -> Option<u64> {
    cfg.steps.or(if cfg.epochs.is_none() {
        entry.steps
    } else {
        None
    })
}

/// The run's total step count: `steps`, or `epochs × batches per epoch`, whichever is
/// smaller (the cosine schedule's `T_max`).
pub fn planned_total_steps(cfg: &TrainConfig, entry: &ZooEntry, per_epoch: u64) -> u64 {
    let steps = run_steps(cfg, entry);
    let by_epochs = match (cfg.epochs, steps) {
        (Some(e), _) => e.saturating_mul(per_epoch),
        (None, Some(_)) => u64::MAX,
        (None, None) => entry.epochs.saturating_mul(per_epoch),
    };
    by_epochs.min(steps.unwrap_or(u64::MAX))
}

/// A JSON-lines log (or nothing).
struct Log(Option<(PathBuf, std::io::BufWriter<std::fs::File>)>);

impl Log {
    fn open(path: Option<&Path>, append: bool) -> Result<Log> {
        let Some(path) = path else {
            return Ok(Log(None));
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .map_err(|e| NnError::file(path, "", format!("cannot open the log: {e}")))?;
        Ok(Log(Some((
            path.to_path_buf(),
            std::io::BufWriter::new(file),
        ))))
    }
    fn write(&mut self, v: Value) -> Result<()> {
        if let Some((path, w)) = &mut self.0 {
            writeln!(w, "{v}")
                .map_err(|e| NnError::file(&*path, "", format!("cannot write the log: {e}")))?;
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<()> {
        if let Some((path, w)) = &mut self.0 {
            w.flush()
                .map_err(|e| NnError::file(&*path, "", format!("cannot write the log: {e}")))?;
        }
        Ok(())
    }
}

/// Trains on the given datasets (already normalized, in `cfg.dtype`).
pub fn train_with_data<D: Dataset>(
    cfg: &TrainConfig,
    train_ds: &D,
    test_ds: &D,
) -> Result<TrainReport> {
    let entry = zoo::lookup(&cfg.model)?;
    let (lr, kind, batch_size, _) = hyper(cfg, &entry);
    if train_ds.is_empty() {
        return Err(NnError::invalid("train", "the training set is empty"));
    }
    let mut trainer = build_trainer(cfg)?;
    let resumed_at = trainer.step;
    let loader = DataLoader::new(train_ds, batch_size)?.shuffle(trainer.seed);
    let per_epoch = loader.num_batches() as u64;
    let steps = run_steps(cfg, &entry);
    let max_steps = steps.unwrap_or(u64::MAX);
    let max_epochs = match (cfg.epochs, steps) {
        (Some(e), _) => e,
        (None, Some(_)) => u64::MAX,
        (None, None) => entry.epochs,
    };
    let planned = {
        let by_epochs = max_epochs
            .saturating_sub(trainer.epoch)
            .saturating_mul(per_epoch)
            .saturating_sub(trainer.batch as u64);
        let left = by_epochs.min(max_steps.saturating_sub(trainer.step));
        match cfg.stop_at {
            Some(s) => left.min(s.saturating_sub(trainer.step)),
            None => left,
        }
    };
    let schedule = cfg.schedule.unwrap_or(entry.schedule);
    trainer.set_schedule(schedule, planned_total_steps(cfg, &entry, per_epoch))?;
    let mut log = Log::open(cfg.log.as_deref(), cfg.resume.is_some())?;
    let threads = rayon::current_num_threads();
    log.write(json!({
        "event": "start",
        "model": entry.name,
        "backend": cfg.backend.name(),
        "dtype": cfg.dtype.to_string(),
        "parameters": trainer.model.num_parameters(),
        "optimizer": kind.name(),
        "lr": lr,
        "schedule": schedule.name(),
        "batch_size": batch_size,
        "seed": trainer.seed,
        "threads": threads,
        "train_examples": train_ds.len(),
        "test_examples": test_ds.len(),
        "resumed_at_step": resumed_at,
        "planned_steps": planned,
    }))?;
    let bar = if cfg.progress {
        let bar = ProgressBar::new(planned);
        if let Ok(style) = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} {msg} [{elapsed_precise}<{eta_precise}]",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(format!("{} {}", entry.name, cfg.backend.name()));
        bar
    } else {
        ProgressBar::hidden()
    };

    let save = |trainer: &Trainer, log: &mut Log| -> Result<()> {
        if let Some(path) = &cfg.checkpoint {
            trainer.save_checkpoint(path)?;
            log.write(
                json!({"event": "checkpoint", "path": path.display().to_string(),
                             "step": trainer.step, "epoch": trainer.epoch, "batch": trainer.batch}),
            )?;
            log.flush()?;
        }
        Ok(())
    };

    let exec = ExecConfig::default();
    let mut losses = Vec::new();
    let mut recent: std::collections::VecDeque<(f64, usize, usize)> = Default::default();
    let mut train_time = Duration::ZERO;
    let mut last_eval: Option<(u64, f64, f64)> = None;
    let mut curves = TrainingCurves::default();
    let mut samples = 0usize;
    let (mut epoch_loss, mut epoch_correct, mut epoch_examples, mut epoch_steps) = (0.0, 0, 0, 0);
    'outer: while trainer.epoch < max_epochs {
        let start = trainer.batch;
        let mut batches = loader.epoch_from(trainer.epoch, start);
        loop {
            if trainer.step >= max_steps || cfg.stop_at.is_some_and(|s| trainer.step >= s) {
                break 'outer;
            }
            let t0 = Instant::now();
            let Some(batch) = batches.next() else {
                break;
            };
            let out: StepOutput = trainer.train_step(&batch?)?;
            trainer.batch += 1;
            train_time += t0.elapsed();
            samples += out.examples;
            let loss = out.loss_f64();
            losses.push(loss);
            epoch_loss += loss;
            epoch_steps += 1;
            epoch_correct += out.correct;
            epoch_examples += out.predictions;
            recent.push_back((loss, out.correct, out.predictions));
            let accuracy = out.correct as f64 / out.predictions.max(1) as f64;
            curves.train.push((trainer.step, loss, accuracy));
            if recent.len() > 100 {
                recent.pop_front();
            }
            let rate = samples as f64 / train_time.as_secs_f64().max(1e-9);
            if !loss.is_finite() {
                return Err(NnError::invalid(
                    "train",
                    format!(
                        "the loss is {loss} at step {} (diverged; try a smaller --lr)",
                        trainer.step
                    ),
                ));
            }
            if cfg.log_every > 0 && trainer.step % cfg.log_every == 0 {
                log.write(json!({
                    "event": "step", "step": trainer.step, "epoch": trainer.epoch,
                    "loss": loss, "accuracy": accuracy,
                    "lr": trainer.optimizer.lrs().first().copied().unwrap_or(lr),
                    "samples_per_s": rate,
                }))?;
            }
            bar.inc(1);
            bar.set_message(format!(
                "loss {:.4} acc {:.2}% {:.0} samples/s",
                epoch_loss / epoch_steps as f64,
                100.0 * epoch_correct as f64 / epoch_examples.max(1) as f64,
                rate
            ));
            if let Some(every) = cfg.checkpoint_every {
                if every > 0 && trainer.step % every == 0 {
                    save(&trainer, &mut log)?;
                }
            }
        }
        trainer.epoch += 1;
        trainer.batch = 0;
        let mut record = json!({
            "event": "epoch", "epoch": trainer.epoch, "step": trainer.step,
            "train_loss": finite(epoch_loss / epoch_steps.max(1) as f64),
            "train_accuracy": finite(epoch_correct as f64 / epoch_examples.max(1) as f64),
        });
        if cfg.eval_each_epoch && !test_ds.is_empty() {
            let (tl, ta) = evaluate_model(&trainer.model, test_ds, cfg.eval_batch_size, exec)?;
            last_eval = Some((trainer.step, tl, ta));
            curves.test.push((trainer.step, tl, ta));
            record["test_loss"] = finite(tl);
            record["test_accuracy"] = finite(ta);
            bar.println(format!(
                "epoch {}: train loss {:.4}, test loss {:.4}, test accuracy {:.2}%",
                trainer.epoch,
                epoch_loss / epoch_steps.max(1) as f64,
                tl,
                100.0 * ta
            ));
        }
        log.write(record)?;
        log.flush()?;
        (epoch_loss, epoch_correct, epoch_examples, epoch_steps) = (0.0, 0, 0, 0);
        save(&trainer, &mut log)?;
    }
    bar.finish_and_clear();
    let (test_loss, test_accuracy) = if test_ds.is_empty() {
        (f64::NAN, f64::NAN)
    } else if let Some((_, tl, ta)) = last_eval.filter(|e| e.0 == trainer.step) {
        (tl, ta)
    } else {
        let (tl, ta) = evaluate_model(&trainer.model, test_ds, cfg.eval_batch_size, exec)?;
        curves.test.push((trainer.step, tl, ta));
        (tl, ta)
    };
    let plot = (cfg.plot.clone()).or_else(|| cfg.log.as_ref().map(|l| l.with_extension("png")));
    if let Some(path) = plot {
        write_training_plot(&path, &curves)?;
    }
    save(&trainer, &mut log)?;
    if let Some(path) = &cfg.export {
        let meta = BTreeMap::from([
            ("strata.model".to_string(), entry.name.to_string()),
            ("strata.dtype".to_string(), cfg.dtype.to_string()),
        ]);
        export_state_dict(&trainer.model, path, &meta)?;
    }
    let n_recent = recent.len().max(1) as f64;
    let report = TrainReport {
        model: entry.name.to_string(),
        backend: cfg.backend,
        dtype: cfg.dtype,
        parameters: trainer.model.num_parameters(),
        optimizer: kind.name().to_string(),
        lr,
        schedule,
        batch_size,
        seed: trainer.seed,
        threads,
        steps: trainer.step,
        epochs: trainer.step as f64 / per_epoch.max(1) as f64,
        steps_this_run: trainer.step - resumed_at,
        train_loss: recent.iter().map(|r| r.0).sum::<f64>() / n_recent,
        train_accuracy: recent.iter().map(|r| r.1).sum::<usize>() as f64
            / recent.iter().map(|r| r.2).sum::<usize>().max(1) as f64,
        losses,
        test_loss,
        test_accuracy,
        test_examples: test_ds.len(),
        samples_per_s: samples as f64 / train_time.as_secs_f64().max(1e-9),
        train_seconds: train_time.as_secs_f64(),
        curves,
    };
    let mut end = report.to_json();
    end["event"] = json!("end");
    log.write(end)?;
    log.flush()?;
    Ok(report)
}

/// What `strata eval` takes.
#[derive(Clone, Debug)]
pub struct EvalConfig {
    pub model: String,
    /// A training checkpoint or a bare state dict (safetensors).
    pub weights: PathBuf,
    pub data: Option<PathBuf>,
    pub batch_size: usize,
    pub test_limit: Option<usize>,
}

/// The outcome of an evaluation.
#[derive(Clone, Debug)]
pub struct EvalReport {
    pub model: String,
    pub dtype: DType,
    pub test_loss: f64,
    pub test_accuracy: f64,
    pub test_examples: usize,
    pub samples_per_s: f64,
}

impl EvalReport {
    pub fn to_json(&self) -> Value {
        json!({
            "model": self.model,
            "dtype": self.dtype.to_string(),
            "test_loss": finite(self.test_loss),
            "test_accuracy": finite(self.test_accuracy),
            "test_examples": self.test_examples,
            "samples_per_s": finite(self.samples_per_s),
        })
    }
}

/// Loads zoo model `model`'s weights from `path`: a training checkpoint (its `model.*`
/// tensors) or a bare state dict. The dtype is the file's.
pub fn load_weights(model: &str, path: &Path) -> Result<Model> {
    let entry = zoo::lookup(model)?;
    let file = strata_io::read_safetensors(path)?;
    if let Some(saved) = file.metadata.get("strata.model") {
        if saved != entry.name {
            return Err(NnError::file(
                path,
                "",
                format!("the weights are for model `{saved}`, not `{}`", entry.name),
            ));
        }
    }
    let checkpoint = file.metadata.contains_key("strata.format");
    let state: crate::modules::StateDict = file
        .tensors
        .into_iter()
        .filter_map(|(k, v)| {
            if checkpoint {
                k.strip_prefix("model.").map(|n| (n.to_string(), v))
            } else {
                Some((k, v))
            }
        })
        .collect();
    let dtype = state
        .values()
        .map(|t| t.dtype())
        .find(|d| d.is_float())
        .ok_or_else(|| NnError::file(path, "", "holds no floating-point tensor"))?;
    if !matches!(dtype, DType::F32 | DType::F64) {
        return Err(NnError::file(
            path,
            "",
            format!("weights of dtype {dtype}; Strata trains and evaluates f32 or f64"),
        ));
    }
    let mut m = Model::from_boxed(entry.build(), dtype, &mut Rng::new(0))?;
    let origin = format!("{} (model `{}`)", path.display(), entry.name);
    m.load_state_dict(&state, &origin)?;
    Ok(m)
}

/// Evaluates saved weights of a zoo model on its test set.
pub fn evaluate(cfg: &EvalConfig) -> Result<EvalReport> {
    let entry = zoo::lookup(&cfg.model)?;
    let model = load_weights(&cfg.model, &cfg.weights)?;
    let dtype = model
        .params
        .values()
        .next()
        .map_or(DType::F32, |t| t.dtype());
    let data = cfg.data.as_deref();
    let t0 = Instant::now();
    let exec = ExecConfig::default();
    let ((loss, acc), examples) = match entry.task {
        Task::Image => {
            let test = load_split(&entry, data, Split::Test, dtype, cfg.test_limit)?;
            (
                evaluate_model(&model, &test, cfg.batch_size, exec)?,
                test.len(),
            )
        }
        Task::Text { .. } => {
            let val = load_text_split(&entry, data, Split::Test, cfg.test_limit)?;
            (
                evaluate_model(&model, &val, cfg.batch_size, exec)?,
                val.len(),
            )
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    Ok(EvalReport {
        model: entry.name.to_string(),
        dtype,
        test_loss: loss,
        test_accuracy: acc,
        test_examples: examples,
        samples_per_s: examples as f64 / secs.max(1e-9),
    })
}
