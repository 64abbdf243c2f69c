//! TorchLean's certificate files: each family accepted or rejected for the documented reason.

use std::path::{Path, PathBuf};
use strata_cert::torchlean::{check_dir, check_file, digits_certified};

fn data() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/torchlean");
    if dir.exists() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}

fn outcome(dir: &Path, file: &str) -> (bool, String) {
    let o = check_file(&dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    (o.accepted, o.reason)
}

#[test]
fn lirpa_ibp_certificates() {
    let Some(dir) = data() else { return };
    for name in ["mlp", "cnn"] {
        let (ok, why) = outcome(
            &dir,
            &format!("NN/Examples/Verification/LiRPA/{name}_cert.json"),
        );
        assert!(ok && why.contains("enclose the exact"), "{name}: {why}");
    }
    for name in ["attention_softmax", "gru_gate", "transformer_encoder"] {
        let (ok, why) = outcome(
            &dir,
            &format!("NN/Examples/Verification/LiRPA/{name}_cert.json"),
        );
        assert!(!ok && why.contains("not piecewise linear"), "{name}: {why}");
    }
}

#[test]
fn lirpa_ibp_tightened_interval_is_rejected() {
    let Some(dir) = data() else { return };
    // The MLP's exact output interval starts at 230 (W1, W2 positive: lower corner of the box).
    let text = std::fs::read_to_string(dir.join("NN/Examples/Verification/LiRPA/mlp_cert.json"))
        .unwrap()
        .replace("229.99999999999974", "230.00000000000003");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mlp_cert_tight.json");
    std::fs::write(&out, text).unwrap();
    let o = check_file(&out).unwrap();
    assert!(!o.accepted && o.reason.contains("output 0"), "{o:?}");
    assert!(o.reason.contains("2.3e2"), "{o:?}");
}

#[test]
fn abcrown_leaf_artifact() {
    let Some(dir) = data() else { return };
    let (ok, why) = outcome(
        &dir,
        "NN/Examples/Verification/AbCrown/sample_abcrown_leaf_artifact_v0_1.json",
    );
    assert!(ok && why.contains("covering the root"), "{why}");
    let (ok, why) = outcome(
        &dir,
        "NN/Examples/Verification/AbCrown/example_raw_leaf_dump.json",
    );
    assert!(!ok && why.contains("no `format` field"), "{why}");
}

#[test]
fn box3d_certificates_and_negative_cases() {
    let Some(dir) = data() else { return };
    let (ok, why) = outcome(
        &dir,
        "NN/Verification/Geometry3D/check_box3d_camera_cert.json",
    );
    assert!(ok, "{why}");
    for (file, reason) in [
        ("negative_depth", "depth"),
        ("wrong_principal_point", "outside the image"),
        ("bad_bbox_enclosure", "enclosure"),
        ("swapped_bbox_axes", "enclosure"),
    ] {
        let (ok, why) = outcome(&dir, &format!("_derived/geometry3d_bad/{file}.json"));
        assert!(!ok && why.contains(reason), "{file}: {why}");
    }
    for (file, msg) in [
        ("malformed_corners", "expected 24 floats, got 23"),
        ("malformed_camera", "expected 12 floats, got 11"),
    ] {
        let e = check_file(&dir.join(format!("_derived/geometry3d_bad/{file}.json"))).unwrap_err();
        assert!(e.to_string().contains(msg), "{file}: {e}");
    }
}

#[test]
fn digits_margin_certificate() {
    let Some(dir) = data() else { return };
    let (ok, why) = outcome(
        &dir,
        "NN/Examples/Verification/Robustness/digits_linear_margin_cert.json",
    );
    assert!(
        why.contains("360 examples, 318 certified, 349 nominally"),
        "{why}"
    );
    // TorchLean's float intervals are not outward rounded: some ends miss the exact range by
    // rounding-sized amounts, so the file is rejected as a proof, while its certified claims
    // all hold in exact arithmetic.
    assert!(!ok && why.contains("miss the exact range"), "{why}");
    assert!(
        why.contains("318 of the 318 certified claims hold exactly"),
        "{why}"
    );
    let all = check_dir(&dir);
    for (file, r) in &all {
        match r {
            Ok(o) => eprintln!(
                "{} {} {file}: {}",
                if o.accepted { "accepted" } else { "rejected" },
                o.family,
                o.reason
            ),
            Err(e) => eprintln!("rejected (unreadable) {file}: {}", e.msg),
        }
    }
    assert_eq!(all.len(), 15);
}

/// The exact certified count against a plain f64 margin computation (the oracle), which may
/// only be unsure where a margin is within 1e-9 of zero.
#[test]
fn digits_exact_count_matches_f64_oracle() {
    let Some(dir) = data() else { return };
    let rob = dir.join("NN/Examples/Verification/Robustness");
    let (weights, dataset) = (
        rob.join("digits_linear_weights.json"),
        rob.join("digits_test.json"),
    );
    let report = digits_certified(&weights, &dataset, "0.02").unwrap();
    let wj: serde_json::Value = serde_json::from_slice(&std::fs::read(&weights).unwrap()).unwrap();
    let dj: serde_json::Value = serde_json::from_slice(&std::fs::read(&dataset).unwrap()).unwrap();
    let w: Vec<Vec<f64>> = serde_json::from_value(wj["layers.0.weight"].clone()).unwrap();
    let b: Vec<f64> = serde_json::from_value(wj["layers.0.bias"].clone()).unwrap();
    let (mut sure, mut unsure) = (0, 0);
    for e in dj["examples"].as_array().unwrap() {
        let x: Vec<f64> = serde_json::from_value(e["x"].clone()).unwrap();
        let t = e["y"].as_u64().unwrap() as usize;
        let mut worst = f64::INFINITY;
        for c in (0..w.len()).filter(|&c| c != t) {
            let mut m = b[t] - b[c];
            for i in 0..x.len() {
                let dlt = w[t][i] - w[c][i];
                let lo = (x[i] - 0.02).max(0.0);
                let hi = (x[i] + 0.02).min(1.0);
                m += if dlt >= 0.0 { dlt * lo } else { dlt * hi };
            }
            worst = worst.min(m);
        }
        if worst.abs() <= 1e-9 {
            unsure += 1;
        } else if worst > 0.0 {
            sure += 1;
        }
    }
    eprintln!(
        "digits: exact {report:?}; f64 oracle {sure} (+{unsure} near ties); TorchLean 318/360"
    );
    assert_eq!(report.examples, 360);
    assert!(report.certified >= sure && report.certified <= sure + unsure);
    assert!(
        report.certified >= 318,
        "an exact margin certifies at least IBP's 318"
    );
}
