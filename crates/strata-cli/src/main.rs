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

mod bench;
mod demo;
mod exec;

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
    /// Show one step's tape: values, gradients and the reverse pass (terminal and HTML).
    Tape(exec::TapeArgs),
    /// Print every trust boundary: what Strata relies on without checking it.
    Trust,
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
