#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "strata", version, about = "Specify, run, train and verify neural networks with every numeric meaning explicit")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print every trust boundary: what Strata relies on without checking it.
    Trust,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Trust => {
            for b in strata_tensor::trust::BOUNDARIES {
                println!("{} [{}] {}\n    {}", b.name, b.kind, b.location, b.justification);
            }
        }
    }
}
