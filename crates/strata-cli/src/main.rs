//! The `strata` command-line tool.
#![forbid(unsafe_code)]

/// `outln!` that ends the process quietly when stdout is closed (e.g. piped into `head`)
/// instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        if let Err(e) = writeln!(out, $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("error: cannot write to stdout: {e}");
            std::process::exit(1);
        }
    }};
}

mod approx;
mod bench;
mod cert;
mod demo;
mod exec;
mod inspect;
mod verify;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "strata",
    version,
    about = "Specify, run, train and verify neural networks with every numeric meaning explicit"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a classifier on the embedded 8×8 digits set and report its test accuracy.
    Demo(demo::DemoArgs),
    /// Measure kernel throughput (add --json for machine-readable output).
    Bench(bench::BenchArgs),
    /// Inspect binary32 values and evaluate IEEE-754 operations bit-exactly (the Ieee32 model).
    Float(strata_float::cli::FloatArgs),
    /// Show, draw (Graphviz DOT) and convert IR graphs (text, JSON, torchlean.ir.v1).
    Ir(strata_ir::cli::IrArgs),
    /// Run a graph in a numeric layer: native, f32, f64, ieee32, fp32 or interval.
    Run(exec::RunArgs),
    /// Differentiate a graph (compiled forward+backward) with respect to inputs or parameters.
    Grad(exec::GradArgs),
    /// Convert a graph between the IR's forms, or tensors between safetensors and NPZ.
    Convert(exec::ConvertArgs),
    /// Show one step's tape: values, gradients and the reverse pass (terminal and HTML).
    Tape(exec::TapeArgs),
    /// Train a zoo model (mlp, cnn, resnet, chargpt, lstm) on its dataset, eager or compiled,
    /// with checkpoints and exact resume.
    Train(Box<strata_nn::train::TrainArgs>),
    /// Evaluate a saved model on its test set.
    Eval(strata_nn::train::EvalArgs),
    /// Predict with a saved model: classes and probabilities for an image or NPY input, or text
    /// generation from a prompt (chargpt, lstm).
    Predict(strata_nn::train::PredictArgs),
    /// Verify a VNN-COMP instance: `strata verify net.onnx prop.vnnlib --timeout 116`.
    Verify(verify::VerifyArgs),
    /// Run a whole VNN-COMP benchmark (a directory with instances.csv, or the CSV itself): a
    /// results CSV (instance, verdict, seconds) and a summary.
    Vnncomp(verify::VnncompArgs),
    /// Sound per-node bounds of a network over an input box (IBP, CROWN, alpha-CROWN), as a
    /// table and an HTML view of tightness per layer.
    Bounds(verify::BoundsArgs),
    /// Rigorous float32 error bounds per node: how far native f32 can be from the exact real
    /// value, at a point or over a box: `strata approx net.onnx --box lo.npy hi.npy`.
    Approx(approx::ApproxArgs),
    /// Re-check a verification certificate in exact arithmetic, independently of the verifier:
    /// `strata check-cert net.onnx prop.vnnlib cert.json`.
    CheckCert(cert::CheckCertArgs),
    /// Check TorchLean's certificate files (LiRPA, alpha-beta-CROWN leaves, margins, 3D boxes).
    CheckTorchlean(cert::CheckTorchleanArgs),
    /// Summarize a model file (ONNX or safetensors): ops, parameters, shapes, and which numeric
    /// layers and analyses support every op.
    Inspect(inspect::InspectArgs),
    /// Datasets: `strata data fetch mnist|fashion-mnist|tinyshakespeare` (sha256-verified).
    Data {
        #[command(subcommand)]
        what: DataCommand,
    },
    /// Print every trust boundary: what Strata relies on without checking it.
    Trust,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Download a dataset from its canonical mirrors into `<data>/<name>/`, verifying sizes
    /// and sha256 sums (files already present and intact are kept).
    Fetch {
        /// mnist, fashion-mnist or tinyshakespeare.
        name: String,
        /// The data directory (default: $STRATA_DATA).
        #[arg(long)]
        data: Option<std::path::PathBuf>,
        /// Fetch from this base URL instead (serving `<base>/<name>/<file>`).
        #[arg(long)]
        mirror: Option<String>,
    },
}

fn data(what: &DataCommand) -> Result<(), String> {
    let DataCommand::Fetch { name, data, mirror } = what;
    let root = strata_nn::data::data_root(data.as_deref()).map_err(|e| e.to_string())?;
    let files =
        strata_nn::fetch::fetch(name, &root, mirror.as_deref(), true).map_err(|e| e.to_string())?;
    for f in files {
        let how = match f.status {
            strata_nn::fetch::FetchStatus::Present => "present".to_string(),
            strata_nn::fetch::FetchStatus::Downloaded => {
                format!("downloaded from {}", f.url.unwrap_or_default())
            }
        };
        outln!("{}: {how}", f.path.display());
    }
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Float(args) => strata_float::cli::run(&args),
        Command::Ir(args) => strata_ir::cli::run(&args),
        Command::Run(args) => exec::run(&args),
        Command::Grad(args) => exec::grad(&args),
        Command::Tape(args) => exec::tape(&args),
        Command::Convert(args) => exec::convert(&args),
        Command::Data { what } => data(&what),
        Command::Verify(args) => verify::run(&args),
        Command::Predict(args) => strata_nn::train::predict_cli(&args).map_err(|e| e.to_string()),
        Command::Vnncomp(args) => verify::run_vnncomp(&args),
        Command::Bounds(args) => verify::run_bounds(&args),
        Command::Approx(args) => approx::run(&args),
        Command::CheckCert(args) => cert::run(&args),
        Command::CheckTorchlean(args) => cert::run_torchlean(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Train(args) => strata_nn::train::train_cli(&args).map_err(|e| e.to_string()),
        Command::Eval(args) => strata_nn::train::eval_cli(&args).map_err(|e| e.to_string()),
        Command::Trust => {
            print_trust();
            Ok(())
        }
    };
    if let Err(msg) = result {
        eprintln!("error: {msg}");
        std::process::exit(1);
    }
}

fn print_trust() {
    outln!("Trust boundaries: what Strata relies on without checking it itself.\n");
    for b in strata_cli::trust_registry() {
        outln!(
            "{}  [{}]\n  where: {}\n  why:   {}\n",
            b.name,
            b.kind,
            b.location,
            b.justification
        );
    }
}
