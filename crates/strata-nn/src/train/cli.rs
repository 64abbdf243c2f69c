//! The `strata train` and `strata eval` commands' arguments and entry points.

use super::run::{evaluate, train, EvalConfig, TrainConfig};
use super::{Backend, Schedule};
use crate::zoo::OptimizerKind;
use crate::{NnError, Result};
use std::io::Write;
use std::path::PathBuf;
use strata_tensor::DType;

/// The parameter dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DtypeArg {
    F32,
    F64,
}

impl DtypeArg {
    fn dtype(self) -> DType {
        match self {
            DtypeArg::F32 => DType::F32,
            DtypeArg::F64 => DType::F64,
        }
    }
}

/// `strata train <model>`: train a zoo model on its dataset.
#[derive(clap::Args, Clone, Debug)]
pub struct TrainArgs {
    /// The model: mlp, cnn (MNIST), resnet (Fashion-MNIST), chargpt or lstm (tiny Shakespeare).
    pub model: String,
    /// eager (tape per step) or compiled (traced once per batch size, then a plan).
    #[arg(long, value_enum, default_value_t = Backend::Compiled)]
    pub backend: Backend,
    #[arg(long, value_enum, default_value_t = DtypeArg::F32)]
    pub dtype: DtypeArg,
    /// Stop after this many optimizer steps in total (a resumed run counts earlier steps).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Stop once this many steps are done, as if interrupted, keeping the plan (--steps,
    /// --epochs, schedule) so that --resume continues the same run.
    #[arg(long)]
    pub stop_at: Option<u64>,
    /// Stop after this many epochs in total (default: the model's, unless --steps is given).
    #[arg(long)]
    pub epochs: Option<u64>,
    /// Default: the model's (64).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Learning rate (default: the model's, 1e-3 for Adam).
    #[arg(long)]
    pub lr: Option<f64>,
    /// sgd, adam or adamw (default: the model's, adam).
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// SGD momentum.
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f64,
    /// Learning-rate schedule: constant or cosine (to 0 over the run; the default).
    #[arg(long, value_enum)]
    pub schedule: Option<Schedule>,
    /// Weight decay (default 0; 1e-2 for adamw).
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Seed for initialization, shuffling and dropout (default 0; on resume, the checkpoint's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The data directory (default: $STRATA_DATA).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Train on the first N training examples only.
    #[arg(long)]
    pub train_limit: Option<usize>,
    /// Test on the first N test examples only.
    #[arg(long)]
    pub test_limit: Option<usize>,
    /// Write a checkpoint (safetensors, atomically) after every epoch and at the end.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Also write the checkpoint every N steps.
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// Resume exactly from a checkpoint.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Append a JSON-lines log here.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Log every N steps.
    #[arg(long, default_value_t = 10)]
    pub log_every: u64,
    /// Write the final state dict (PyTorch names) here, for `strata eval` or PyTorch.
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// Write the loss and accuracy curves as a PNG here (default: next to --log, as .png).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Skip the test-set evaluation after each epoch.
    #[arg(long)]
    pub no_epoch_eval: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Print one JSON object at the end (steps, epochs, losses, accuracy, samples/s).
    #[arg(long)]
    pub json: bool,
}

impl TrainArgs {
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            backend: self.backend,
            dtype: self.dtype.dtype(),
            steps: self.steps,
            stop_at: self.stop_at,
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.lr,
            optimizer: self.optimizer,
            momentum: self.momentum,
            weight_decay: self.weight_decay,
            schedule: self.schedule,
            seed: self.seed,
            data: self.data.clone(),
            train_limit: self.train_limit,
            test_limit: self.test_limit,
            eval_each_epoch: !self.no_epoch_eval,
            checkpoint: self.checkpoint.clone(),
            checkpoint_every: self.checkpoint_every,
            resume: self.resume.clone(),
            log: self.log.clone(),
            log_every: self.log_every,
            export: self.export.clone(),
            plot: self.plot.clone(),
            progress: !self.quiet && !self.json,
            ..TrainConfig::new(&self.model)
        }
    }
}

/// `strata eval <model> --weights FILE`: a saved model's test loss and accuracy.
#[derive(clap::Args, Clone, Debug)]
pub struct EvalArgs {
    /// The model: mlp, cnn, resnet, chargpt or lstm.
    pub model: String,
    /// A checkpoint from `strata train --checkpoint` or a state dict from `--export`.
    #[arg(long)]
    pub weights: PathBuf,
    /// The data directory (default: $STRATA_DATA).
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Test on the first N test examples only.
    #[arg(long)]
    pub test_limit: Option<usize>,
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn in_pool<T: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> Result<T> + Send,
) -> Result<T> {
    match threads {
        None => f(),
        Some(0) => Err(NnError::invalid("--threads", "must be at least 1")),
        Some(t) => rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| NnError::invalid("--threads", format!("cannot start {t} threads: {e}")))?
            .install(f),
    }
}

/// Prints a line to stdout; a closed stdout (a pipe into `head`) is not an error.
pub(super) fn out(line: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{line}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(NnError::invalid("stdout", format!("cannot write: {e}")))
        }
        _ => Ok(()),
    }
}

/// Runs `strata train`.
pub fn train_cli(args: &TrainArgs) -> Result<()> {
    let cfg = args.config();
    let report = in_pool(args.threads, || train(&cfg))?;
    if args.json {
        out(&report.to_json().to_string())
    } else {
        out(&format!(
            "{} ({}, {}, {} threads): {} steps ({:.2} epochs), train loss {:.4}, test loss {:.4}, \
             test accuracy {:.2}% on {} images, {:.0} samples/s",
            report.model,
            report.backend.name(),
            report.dtype,
            report.threads,
            report.steps,
            report.epochs,
            report.train_loss,
            report.test_loss,
            100.0 * report.test_accuracy,
            report.test_examples,
            report.samples_per_s
        ))
    }
}

/// Runs `strata eval`.
pub fn eval_cli(args: &EvalArgs) -> Result<()> {
    let cfg = EvalConfig {
        model: args.model.clone(),
        weights: args.weights.clone(),
        data: args.data.clone(),
        batch_size: args.batch_size,
        test_limit: args.test_limit,
    };
    let report = in_pool(args.threads, || evaluate(&cfg))?;
    if args.json {
        out(&report.to_json().to_string())
    } else {
        out(&format!(
            "{} ({}): test loss {:.4}, test accuracy {:.2}% on {} images",
            report.model,
            report.dtype,
            report.test_loss,
            100.0 * report.test_accuracy,
            report.test_examples
        ))
    }
}
