//! Runs a VNN-COMP benchmark and writes the results CSV:
//! `cargo run --release -p strata-verify --example vnncomp -- BENCH_DIR_OR_CSV OUT.csv [timeout_s]`.
//! With an `expected.csv` beside the instances, the summary counts correct and wrong answers.

use std::path::Path;
use strata_verify::vnncomp::{read_expected, read_instances, results_csv, run_instance, summary};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: vnncomp BENCH_DIR_OR_CSV OUT.csv [timeout_s]");
        std::process::exit(2);
    }
    let bench = Path::new(&args[1]);
    let timeout = args.get(3).and_then(|t| t.parse().ok());
    let instances = match read_instances(bench) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let mut results = Vec::new();
    for inst in &instances {
        let r = run_instance(inst, timeout);
        println!(
            "{}\t{}\t{:.3}s\t{}",
            inst.name, r.verdict, r.seconds, r.detail
        );
        results.push(r);
    }
    if let Err(e) = std::fs::write(&args[2], results_csv(&results)) {
        eprintln!("error: {}: {e}", args[2]);
        std::process::exit(1);
    }
    let dir = if bench.is_dir() {
        bench
    } else {
        bench.parent().unwrap_or(Path::new("."))
    };
    let expected = read_expected(&dir.join("expected.csv")).ok();
    println!("{}", summary(&results, expected.as_ref()));
}
