//! `strata check-cert net.onnx prop.vnnlib cert.json`: re-checks a verification certificate in
//! exact arithmetic (strata-cert, independent of the verifier); and
//! `strata check-torchlean PATH…`: checks TorchLean's certificate files.

use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Clone, Debug)]
pub struct CheckCertArgs {
    /// The network (ONNX) the certificate is about.
    pub network: PathBuf,
    /// The property (VNN-LIB).
    pub property: PathBuf,
    /// The certificate (`strata.bab-certificate.v1` JSON).
    pub certificate: PathBuf,
}

/// Prints `accepted …` or fails with the first failing leaf and step.
pub fn run(args: &CheckCertArgs) -> Result<(), String> {
    let start = Instant::now();
    let report = strata_cert::check_files(&args.network, &args.property, &args.certificate)
        .map_err(|e| e.to_string())?;
    outln!(
        "accepted: {} case(s), {} leaves, {} output specs; {} intermediate bounds by intervals, {} by \
         back-substitution; {:.3}s",
        report.cases,
        report.leaves,
        report.specs,
        report.bounds_by_interval,
        report.bounds_by_backsub,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

#[derive(clap::Args, Clone, Debug)]
pub struct CheckTorchleanArgs {
    /// TorchLean certificate files, or TorchLean data directories (every known file in them).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Prints one line per file: `accepted|rejected <family> <file>: <reason>`.
pub fn run_torchlean(args: &CheckTorchleanArgs) -> Result<(), String> {
    for path in &args.paths {
        let results = if path.is_dir() {
            strata_cert::torchlean::check_dir(path)
        } else {
            vec![(
                path.display().to_string(),
                strata_cert::torchlean::check_file(path),
            )]
        };
        for (file, result) in results {
            match result {
                Ok(o) => outln!(
                    "{} {} {file}: {}",
                    if o.accepted { "accepted" } else { "rejected" },
                    o.family,
                    o.reason
                ),
                Err(e) => outln!("rejected (unreadable) {file}: {}", e.msg),
            }
        }
    }
    Ok(())
}
