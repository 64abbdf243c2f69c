//! `strata float …` without the rest of the `strata` binary: the same arguments, parsed by the
//! same `FloatArgs`, run by the same `strata_float::cli::run`.
//!
//! `cargo run --release -p strata-float --example float_cli -- check-exhaustive exp`

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "strata-float",
    about = "strata float: binary32 widgets and checks"
)]
struct Cli {
    #[command(flatten)]
    float: strata_float::cli::FloatArgs,
}

fn main() {
    let cli = Cli::parse();
    if let Err(message) = strata_float::cli::run(&cli.float) {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}
