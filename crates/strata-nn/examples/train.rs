//! `strata train` / `strata eval` / `strata predict` without the CLI crate:
//!
//! ```sh
//! cargo run --release -p strata-nn --example train -- train mlp --data /path/to/data
//! cargo run --release -p strata-nn --example train -- eval mlp --weights mlp.safetensors --data …
//! cargo run --release -p strata-nn --example train -- predict chargpt.safetensors --model chargpt --prompt "ROMEO:"
//! ```
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use strata_nn::train::{eval_cli, predict_cli, train_cli, EvalArgs, PredictArgs, TrainArgs};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Train(Box<TrainArgs>),
    Eval(EvalArgs),
    Predict(PredictArgs),
}

fn main() {
    let result = match Cli::parse().command {
        Command::Train(a) => train_cli(&a),
        Command::Eval(a) => eval_cli(&a),
        Command::Predict(a) => predict_cli(&a),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
