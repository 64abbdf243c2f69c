//! `strata verify net.onnx prop.vnnlib`: a VNN-COMP instance, answered `unsat`, `sat` (with the
//! counterexample in VNN-COMP's format), `timeout` or `unknown`.

use std::path::PathBuf;
use std::time::{Duration, Instant};
use strata_io::onnx::{import_model, read_onnx, ImportOptions};
use strata_verify::{read_property, verify, Verdict, VerifyOptions};

#[derive(clap::Args, Clone, Debug)]
pub struct VerifyArgs {
    /// The network (ONNX).
    pub network: PathBuf,
    /// The property (VNN-LIB).
    pub property: PathBuf,
    /// Seconds before answering `timeout`.
    #[arg(long, default_value_t = 116.0)]
    pub timeout: f64,
    /// Write a counterexample here (VNN-COMP format) when the answer is `sat`.
    #[arg(long, value_name = "FILE")]
    pub counterexample: Option<PathBuf>,
}

/// VNN-COMP's counterexample file: `sat`, then the inputs and outputs as `(X_i value)`.
fn counterexample_text(input: &[f64], output: &[f64]) -> String {
    let mut text = String::from("sat\n(");
    let rows: Vec<String> = (input
        .iter()
        .enumerate()
        .map(|(i, v)| format!("(X_{i} {v:e})")))
    .chain(
        output
            .iter()
            .enumerate()
            .map(|(j, v)| format!("(Y_{j} {v:e})")),
    )
    .collect();
    text.push_str(&rows.join("\n "));
    text.push_str(")\n");
    text
}

pub fn run(args: &VerifyArgs) -> Result<(), String> {
    let start = Instant::now();
    let name = args.network.display().to_string();
    let model = read_onnx(&args.network).map_err(|e| e.to_string())?;
    let imported =
        import_model(&model, &name, &ImportOptions::default()).map_err(|e| e.to_string())?;
    let property = read_property(&args.property).map_err(|e| e.to_string())?;
    let options = VerifyOptions {
        timeout: Duration::from_secs_f64(args.timeout.max(0.0)),
        ..VerifyOptions::default()
    };
    let verdict = verify(&imported.graph, &imported.params, &property, &options)
        .map_err(|e| e.to_string())?;
    let seconds = start.elapsed().as_secs_f64();
    match verdict {
        Verdict::Unsat => outln!("unsat\t{seconds:.3}s"),
        Verdict::Sat(c) => {
            outln!("sat\t{seconds:.3}s");
            if let Some(path) = &args.counterexample {
                std::fs::write(path, counterexample_text(&c.input, &c.output))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
        Verdict::Unknown(why) if seconds >= args.timeout => {
            outln!("timeout\t{seconds:.3}s ({why})")
        }
        Verdict::Unknown(why) => outln!("unknown\t{seconds:.3}s ({why})"),
    }
    Ok(())
}
