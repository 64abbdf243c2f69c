//! The `strata` binary end to end: the demo learns, benchmarks print well-formed JSON, bad
//! arguments fail with a message rather than a panic.

use std::process::Command;

fn strata(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .output()
        .expect("run strata")
}

#[test]
fn demo_learns_the_digits() {
    let out_dir = std::env::temp_dir().join(format!("strata-demo-test-{}", std::process::id()));
    let out = strata(&["demo", "--out", out_dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&out_dir).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("test accuracy"))
        .expect(&text);
    let pct: f64 = line
        .split_whitespace()
        .nth(2)
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    // A linear model reaches ~95% on this split; the MLP must do at least that, and chance is 10%.
    assert!(pct >= 95.0, "demo accuracy {pct}%:\n{text}");
    let correct: usize = line.split(['(', ' ']).nth(4).unwrap().parse().expect(line);

    // Robustness: every image decided; a misclassified image is its own counterexample, so at
    // most the correctly classified ones can be certified.
    let counts = |prefix: &str, keys: &[&str]| -> Vec<usize> {
        let line = text.lines().find(|l| l.starts_with(prefix)).expect(&text);
        let words: Vec<&str> = line.split([' ', ',', '/']).collect();
        keys.iter()
            .map(|k| {
                let at = words.iter().position(|w| w == k).expect(line);
                words[at + 1].parse().expect(line)
            })
            .collect()
    };
    let robust = counts(
        "L∞ robustness",
        &["certified", "counterexamples", "undecided", "(checked:"],
    );
    let (certified, falsified, undecided) = (robust[0], robust[1], robust[2]);
    // Every proof's certificate is accepted by the independent checker.
    assert_eq!(robust[3], certified, "{text}");
    assert_eq!(certified + falsified, 360, "{text}");
    assert_eq!(undecided, 0, "{text}");
    assert!(certified <= correct && certified >= 300, "{text}");
    let float32 = text
        .lines()
        .find(|l| l.starts_with("verdict holds for float32 execution: yes"))
        .expect(&text);
    assert!(
        float32.contains("margin") && float32.contains("budget"),
        "{text}"
    );
}

#[test]
fn bench_json_has_name_parameters_value_unit() {
    let out = strata(&[
        "bench",
        "gemm",
        "--n",
        "32",
        "--threads",
        "1",
        "--json",
        "--min-time",
        "0",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let gemm: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["name"] == "gemm_f32")
        .collect();
    assert_eq!(gemm.len(), 1, "{text}");
    let r = &gemm[0];
    assert_eq!(r["parameters"]["n"], 32);
    assert_eq!(r["parameters"]["threads"], 1);
    assert_eq!(r["unit"], "GFLOP/s");
    assert!(r["value"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_arguments_fail_cleanly() {
    let out = strata(&["demo", "--batch-size", "0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--batch-size must be positive"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let out = strata(&["float", "0x12345"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}
