//! The VNN-COMP runner: a benchmark's `instances.csv` (rows `onnx,vnnlib,timeout`, paths
//! relative to the file) run one instance at a time, each answered `unsat`, `sat`, `timeout`,
//! `unknown` or `error`, with the results as CSV, counterexamples in VNN-COMP's format, and a
//! summary checked against the benchmark's `expected.csv` when there is one.

use crate::{read_property, verify, Counterexample, Verdict, VerifyError, VerifyOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use strata_io::onnx::{import_model, read_onnx, ImportOptions};

/// One benchmark instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub onnx: PathBuf,
    pub vnnlib: PathBuf,
    /// Seconds allowed.
    pub timeout: f64,
    /// The instance as the CSV names it (`onnx,vnnlib`, relative paths).
    pub name: String,
}

/// The answer for one instance.
#[derive(Clone, Debug)]
pub struct InstanceResult {
    pub instance: Instance,
    /// `unsat`, `sat`, `timeout`, `unknown` or `error`.
    pub verdict: &'static str,
    /// Wall-clock seconds, import and parsing included.
    pub seconds: f64,
    pub counterexample: Option<Counterexample>,
    /// Why, for `timeout` / `unknown` / `error`.
    pub detail: String,
}

/// The instances of a benchmark directory (its `instances.csv`) or of an instances CSV file.
pub fn read_instances(path: &Path) -> Result<Vec<Instance>, VerifyError> {
    let csv = if path.is_dir() {
        // `instances.csv`, or the one `*instances.csv` there (VNN-COMP 2021 names them so).
        let named = path.join("instances.csv");
        if named.is_file() {
            named
        } else {
            let found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| VerifyError::Mismatch(format!("{}: {e}", path.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with("instances.csv"))
                .collect();
            match found.as_slice() {
                [one] => one.clone(),
                _ => {
                    return Err(VerifyError::Mismatch(format!(
                        "{}: expected one instances.csv, found {}",
                        path.display(),
                        found.len()
                    )))
                }
            }
        }
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&csv)
        .map_err(|e| VerifyError::Mismatch(format!("{}: {e}", csv.display())))?;
    let base = csv.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for (k, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let bad = |msg: &str| VerifyError::Mismatch(format!("{}:{}: {msg}", csv.display(), k + 1));
        if cols.len() < 2 {
            return Err(bad("expected `onnx,vnnlib[,timeout]`"));
        }
        let timeout = match cols.get(2) {
            Some(t) => t
                .parse::<f64>()
                .ok()
                .filter(|t| t.is_finite() && *t > 0.0)
                .ok_or_else(|| bad(&format!("timeout {t:?} is not a positive number")))?,
            None => 116.0,
        };
        out.push(Instance {
            onnx: base.join(cols[0]),
            vnnlib: base.join(cols[1]),
            timeout,
            name: format!("{},{}", cols[0], cols[1]),
        });
    }
    Ok(out)
}

/// Runs one instance; `timeout` overrides the instance's own limit when given.
pub fn run_instance(instance: &Instance, timeout: Option<f64>) -> InstanceResult {
    let start = Instant::now();
    let limit = timeout.unwrap_or(instance.timeout);
    let answer = (|| -> Result<Verdict, String> {
        let name = instance.onnx.display().to_string();
        let model = read_onnx(&instance.onnx).map_err(|e| e.to_string())?;
        let imported =
            import_model(&model, &name, &ImportOptions::default()).map_err(|e| e.to_string())?;
        let property = read_property(&instance.vnnlib).map_err(|e| e.to_string())?;
        let left = (limit - start.elapsed().as_secs_f64()).max(0.0);
        let options = VerifyOptions {
            timeout: Duration::from_secs_f64(left),
            ..VerifyOptions::default()
        };
        verify(&imported.graph, &imported.params, &property, &options).map_err(|e| e.to_string())
    })();
    let seconds = start.elapsed().as_secs_f64();
    let (verdict, counterexample, detail) = match answer {
        Ok(Verdict::Unsat) => ("unsat", None, String::new()),
        Ok(Verdict::Sat(c)) => ("sat", Some(c), String::new()),
        Ok(Verdict::Unknown(why)) if seconds >= limit => ("timeout", None, why),
        Ok(Verdict::Unknown(why)) => ("unknown", None, why),
        Err(e) => ("error", None, e),
    };
    InstanceResult {
        instance: instance.clone(),
        verdict,
        seconds,
        counterexample,
        detail,
    }
}

/// VNN-COMP's counterexample file: `sat`, then `((X_i v) … (Y_j v))`.
pub fn counterexample_text(c: &Counterexample) -> String {
    let rows: Vec<String> = (c.input.iter().enumerate())
        .map(|(i, v)| format!("(X_{i} {v:e})"))
        .chain(
            c.output
                .iter()
                .enumerate()
                .map(|(j, v)| format!("(Y_{j} {v:e})")),
        )
        .collect();
    format!("sat\n({})\n", rows.join("\n "))
}

/// The results as CSV: `onnx,vnnlib,verdict,seconds,detail`.
pub fn results_csv(results: &[InstanceResult]) -> String {
    let mut text = String::from("onnx,vnnlib,verdict,seconds,detail\n");
    for r in results {
        let detail = r.detail.replace([',', '\n'], ";");
        text.push_str(&format!(
            "{},{},{:.3},{detail}\n",
            r.instance.name, r.verdict, r.seconds
        ));
    }
    text
}

/// Expected verdicts by `onnx,vnnlib` from an `expected.csv` with those column names and
/// `expected`.
pub fn read_expected(path: &Path) -> Result<HashMap<String, String>, VerifyError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| VerifyError::Mismatch(format!("{}: {e}", path.display())))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| VerifyError::Mismatch(format!("{}: no column {name:?}", path.display())))
    };
    let (o, v, e) = (col("onnx")?, col("vnnlib")?, col("expected")?);
    let mut map = HashMap::new();
    for line in lines {
        let cols: Vec<&str> = line.split(',').collect();
        if let (Some(a), Some(b), Some(x)) = (cols.get(o), cols.get(v), cols.get(e)) {
            map.insert(format!("{},{}", a.trim(), b.trim()), x.trim().to_string());
        }
    }
    Ok(map)
}

/// Counts per verdict, total seconds, and (with expectations) how many were correct and
/// which contradict them.
pub fn summary(results: &[InstanceResult], expected: Option<&HashMap<String, String>>) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for r in results {
        match counts.iter_mut().find(|(v, _)| *v == r.verdict) {
            Some((_, n)) => *n += 1,
            None => counts.push((r.verdict, 1)),
        }
    }
    let total: f64 = results.iter().map(|r| r.seconds).sum();
    let mut text = format!("{} instances, total {total:.1} s:", results.len());
    for (v, n) in &counts {
        text.push_str(&format!(" {v} {n}"));
    }
    if let Some(expected) = expected {
        let (mut correct, mut wrong) = (0, Vec::new());
        for r in results {
            match expected.get(&r.instance.name) {
                Some(e) if e == r.verdict => correct += 1,
                Some(e) if r.verdict == "sat" || r.verdict == "unsat" => wrong.push(format!(
                    "{} ({} but expected {e})",
                    r.instance.name, r.verdict
                )),
                _ => {}
            }
        }
        text.push_str(&format!(
            "\ncorrect {correct}/{}, wrong {}",
            results.len(),
            wrong.len()
        ));
        for w in wrong {
            text.push_str(&format!("\n  WRONG: {w}"));
        }
    }
    text
}
