//! `strata verify net.onnx prop.vnnlib`: a VNN-COMP instance, answered `unsat`, `sat` (with the
//! counterexample in VNN-COMP's format), `timeout` or `unknown`; `strata vnncomp BENCH`: a whole
//! benchmark; `strata bounds net.onnx --box lo.npy hi.npy` (or `--vnnlib prop.vnnlib`): per-node
//! IBP / CROWN / alpha-CROWN bounds.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use strata_cert::FileRef;
use strata_io::npy::read_npy;
use strata_io::onnx::{import_model, read_onnx, ImportOptions, Imported};
use strata_verify::report::{bounds_report, report_html, report_table};
use strata_verify::vnncomp::{
    counterexample_text, read_expected, read_instances, results_csv, run_instance, summary,
};
use strata_verify::{
    float32_transfer, read_property, verify, verify_with_certificate, Region, Verdict,
    VerifyOptions,
};

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
    /// Write a certificate here (`strata.bab-certificate.v1`, re-checkable with
    /// `strata check-cert`) when the answer is `unsat`. Certifying makes every branch-and-bound
    /// leaf refute the whole unsafe set on its own bounds, so it can take more domains.
    #[arg(long, value_name = "FILE")]
    pub certificate: Option<PathBuf>,
    /// After `unsat`, also decide whether the verdict holds for the native float32 execution:
    /// every proof leaf's real margin against strata-approx's float32 error budget there.
    #[arg(long)]
    pub float32: bool,
}

fn import(path: &Path) -> Result<Imported, String> {
    let name = path.display().to_string();
    let model = read_onnx(path).map_err(|e| e.to_string())?;
    import_model(&model, &name, &ImportOptions::default()).map_err(|e| e.to_string())
}

pub fn run(args: &VerifyArgs) -> Result<(), String> {
    let start = Instant::now();
    let imported = import(&args.network)?;
    let property = read_property(&args.property).map_err(|e| e.to_string())?;
    let options = VerifyOptions {
        timeout: Duration::from_secs_f64(args.timeout.max(0.0)),
        ..VerifyOptions::default()
    };
    let (verdict, certificate) = match (&args.certificate, args.float32) {
        (None, false) => (
            verify(&imported.graph, &imported.params, &property, &options)
                .map_err(|e| e.to_string())?,
            None,
        ),
        (path, _) => {
            let file_ref = |p: &Path| {
                std::fs::read(p)
                    .map(|bytes| FileRef::of_bytes(p, &bytes))
                    .map_err(|e| format!("{}: {e}", p.display()))
            };
            let (verdict, certificate) = verify_with_certificate(
                &imported.graph,
                &imported.params,
                &property,
                &options,
                file_ref(&args.network)?,
                file_ref(&args.property)?,
            )
            .map_err(|e| e.to_string())?;
            (verdict, Some((path, certificate)))
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    match verdict {
        Verdict::Unsat => {
            outln!("unsat\t{seconds:.3}s");
            if let Some((path, certificate)) = certificate {
                let what = match path {
                    Some(path) => path.display().to_string(),
                    None => "--float32".to_string(),
                };
                let certificate =
                    certificate.map_err(|why| format!("{what}: no certificate: {why}"))?;
                if let Some(path) = path {
                    certificate.write_atomic(path).map_err(|e| e.to_string())?;
                }
                if args.float32 {
                    let t = float32_transfer(
                        &imported.graph,
                        &imported.params,
                        &property,
                        &certificate,
                    )
                    .map_err(|e| e.to_string())?;
                    outln!(
                        "verdict holds for float32 execution: {} ({} refuted rows; tightest: \
                         margin {:.6e}, budget {:.6e})",
                        if t.holds { "yes" } else { "not shown" },
                        t.rows,
                        t.tightest.margin,
                        t.tightest.budget
                    );
                }
            }
        }
        Verdict::Sat(c) => {
            outln!("sat\t{seconds:.3}s");
            if let Some(path) = &args.counterexample {
                std::fs::write(path, counterexample_text(&c))
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

#[derive(clap::Args, Clone, Debug)]
pub struct VnncompArgs {
    /// A benchmark directory (with `instances.csv`) or an instances CSV (`onnx,vnnlib,timeout`).
    pub benchmark: PathBuf,
    /// The results CSV to write (`onnx,vnnlib,verdict,seconds,detail`).
    #[arg(long, default_value = "results.csv")]
    pub out: PathBuf,
    /// Seconds per instance, instead of each instance's own timeout.
    #[arg(long)]
    pub timeout: Option<f64>,
    /// Write each `sat` instance's counterexample into this directory.
    #[arg(long, value_name = "DIR")]
    pub counterexamples: Option<PathBuf>,
}

/// Runs every instance, printing one line each, then writes the CSV and prints a summary
/// (checked against `expected.csv` beside the instances when there is one).
pub fn run_vnncomp(args: &VnncompArgs) -> Result<(), String> {
    let instances = read_instances(&args.benchmark).map_err(|e| e.to_string())?;
    if let Some(dir) = &args.counterexamples {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut results = Vec::new();
    for inst in &instances {
        let r = run_instance(inst, args.timeout);
        outln!(
            "{}\t{}\t{:.3}s\t{}",
            inst.name,
            r.verdict,
            r.seconds,
            r.detail
        );
        if let (Some(dir), Some(c)) = (&args.counterexamples, &r.counterexample) {
            let file = inst.name.replace([',', '/'], "_") + ".counterexample";
            let path = dir.join(file);
            std::fs::write(&path, counterexample_text(c))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        results.push(r);
    }
    std::fs::write(&args.out, results_csv(&results))
        .map_err(|e| format!("{}: {e}", args.out.display()))?;
    let dir = if args.benchmark.is_dir() {
        args.benchmark.clone()
    } else {
        args.benchmark
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf()
    };
    let expected = read_expected(&dir.join("expected.csv")).ok();
    outln!("{}", summary(&results, expected.as_ref()));
    Ok(())
}

#[derive(clap::Args, Clone, Debug)]
pub struct BoundsArgs {
    /// The network (ONNX).
    pub network: PathBuf,
    /// The input box as two .npy files (lower, upper) of the input's element count.
    #[arg(long = "box", num_args = 2, value_names = ["LOWER", "UPPER"])]
    pub input_box: Option<Vec<PathBuf>>,
    /// Or the first input box of a VNN-LIB property.
    #[arg(long)]
    pub vnnlib: Option<PathBuf>,
    /// Gradient steps of alpha-CROWN on the output bounds.
    #[arg(long, default_value_t = 20)]
    pub alpha_steps: usize,
    /// Also write the self-contained HTML view here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

fn npy_values(path: &Path) -> Result<Vec<f64>, String> {
    Ok(read_npy(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .to_vec_f64())
}

/// Prints per-node bounds (IBP, CROWN, alpha-CROWN) and optionally writes the HTML view.
pub fn run_bounds(args: &BoundsArgs) -> Result<(), String> {
    let imported = import(&args.network)?;
    let region = match (&args.input_box, &args.vnnlib) {
        (Some(files), None) if files.len() == 2 => {
            Region::new(npy_values(&files[0])?, npy_values(&files[1])?)
        }
        (None, Some(p)) => {
            let prop = read_property(p).map_err(|e| e.to_string())?;
            let case = prop
                .cases
                .first()
                .ok_or_else(|| format!("{}: the property has no input box", p.display()))?;
            Region::new(case.input.lower.clone(), case.input.upper.clone())
        }
        _ => return Err("give either --box LOWER.npy UPPER.npy or --vnnlib PROP.vnnlib".into()),
    };
    let rows = bounds_report(&imported.graph, &imported.params, &region, args.alpha_steps)
        .map_err(|e| e.to_string())?;
    outln!("{}", report_table(&rows).trim_end());
    if let Some(path) = &args.html {
        let title = format!("Bounds of {}", args.network.display());
        std::fs::write(path, report_html(&rows, &title))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
