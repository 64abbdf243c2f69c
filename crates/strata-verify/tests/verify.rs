//! Verdicts: hand-made properties with known answers, counterexamples re-executed, the VNN-COMP
//! `test` instances end to end through the ONNX importer (skipped with a reason when missing).

#[path = "common/net.rs"]
mod common_net;

use common_net::two_neurons;

use std::path::Path;
use strata_io::onnx::{import_model, read_onnx, ImportOptions};
use strata_ir::eval::{run, ExecConfig};
use strata_tensor::{DType, Tensor};
use strata_verify::{parse_property, read_property, verify, Verdict, VerifyError, VerifyOptions};

fn prop(unsafe_output: &str) -> strata_verify::Property {
    let text = format!(
        "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)\n\
         (assert (>= X_0 -1))(assert (<= X_0 1))(assert (>= X_1 -1))(assert (<= X_1 1))\n\
         (assert {unsafe_output})"
    );
    parse_property(&text, "hand.vnnlib").unwrap()
}

#[test]
fn hand_properties_have_the_known_verdicts() {
    let (g, p, _) = two_neurons();
    let opts = VerifyOptions {
        samples: 50,
        ..Default::default()
    };
    // max y = 2: y ≥ 2.001 is unreachable, y ≥ 1.999 is reachable (near x0 = ±1... x0 = 1).
    assert_eq!(
        verify(&g, &p, &prop("(>= Y_0 2.001)"), &opts).unwrap(),
        Verdict::Unsat
    );
    assert_eq!(
        verify(&g, &p, &prop("(<= Y_0 -0.001)"), &opts).unwrap(),
        Verdict::Unsat
    );
    let Verdict::Sat(cx) = verify(&g, &p, &prop("(>= Y_0 1.999)"), &opts).unwrap() else {
        panic!("expected sat")
    };
    assert!(cx.output[0] >= 1.999);
    // Re-executed independently here.
    let t = Tensor::from_vec(
        cx.input.iter().map(|&v| v as f32).collect::<Vec<_>>(),
        vec![2],
    )
    .unwrap();
    let y = run(&g, &p, &[t], &ExecConfig::default()).unwrap()[0].to_vec_f64();
    assert!(y[0] >= 1.999 && cx.input.iter().all(|v| v.abs() <= 1.0));
    // A disjunction: unsafe when y ≤ −1 or y ≥ 2.5 — neither reachable.
    assert_eq!(
        verify(&g, &p, &prop("(or (<= Y_0 -1) (>= Y_0 2.5))"), &opts).unwrap(),
        Verdict::Unsat
    );
    // No attack samples: branch and bound finds the counterexample at a region centre.
    let no_attack = VerifyOptions {
        samples: 0,
        ..Default::default()
    };
    assert!(matches!(
        verify(&g, &p, &prop("(>= Y_0 1.9)"), &no_attack).unwrap(),
        Verdict::Sat(_)
    ));
    // Limits give unknown, not a wrong answer: y ≥ 2 + 1e-9 needs many splits near the top.
    let tiny = VerifyOptions {
        samples: 0,
        max_regions: 5,
        ..Default::default()
    };
    assert!(matches!(
        verify(&g, &p, &prop("(>= Y_0 2.000000001)"), &tiny).unwrap(),
        Verdict::Unknown(_)
    ));
}

/// On random networks, a verdict of unsat is never contradicted by sampling, and sat always
/// comes with a point that satisfies the unsafe set when re-executed.
#[test]
fn random_networks_verdicts_agree_with_sampling() {
    let mut rng = common_net::Rng(4242);
    let (mut n_unsat, mut n_sat) = (0, 0);
    for seed in 0..12u64 {
        let (g, p) = common_net::mlp(&[2, 8, 8, 1], 500 + seed, DType::F32, seed % 2 == 1);
        // Threshold from sampling: the sampled maximum plus an offset in [-0.2, 0.2].
        let mut best = f64::NEG_INFINITY;
        let mut pts = vec![];
        for _ in 0..4000 {
            let x = [rng.uniform(-1.0, 1.0) as f32, rng.uniform(-1.0, 1.0) as f32];
            let t = Tensor::from_vec(x.to_vec(), vec![1, 2]).unwrap();
            let y = run(&g, &p, &[t], &ExecConfig::sequential()).unwrap()[0].to_vec_f64()[0];
            best = best.max(y);
            pts.push(y);
        }
        let thr = best + if seed % 3 == 0 { -0.05 } else { 0.1 };
        let text = format!(
            "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)\n\
             (assert (>= X_0 -1))(assert (<= X_0 1))(assert (>= X_1 -1))(assert (<= X_1 1))\n\
             (assert (>= Y_0 {thr:.17}))"
        );
        let prop = parse_property(&text, "rand.vnnlib").unwrap();
        let opts = VerifyOptions {
            samples: 20,
            ..Default::default()
        };
        match verify(&g, &p, &prop, &opts).unwrap() {
            Verdict::Unsat => {
                assert!(
                    pts.iter().all(|&y| y < thr),
                    "unsat contradicted by a sample"
                );
                n_unsat += 1;
            }
            Verdict::Sat(cx) => {
                assert!(cx.output[0] >= thr);
                n_sat += 1;
            }
            Verdict::Unknown(why) => panic!("unknown: {why}"),
        }
    }
    eprintln!("{n_unsat} unsat, {n_sat} sat");
    assert!(n_unsat >= 6 && n_sat >= 4, "{n_unsat} unsat, {n_sat} sat");
}

#[test]
fn property_that_does_not_fit_the_network_is_an_error() {
    let (g, p, _) = two_neurons();
    let three = parse_property(
        "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const X_2 Real)(declare-const Y_0 Real)\n\
         (assert (and (>= X_0 0) (<= X_0 1) (>= X_1 0) (<= X_1 1) (>= X_2 0) (<= X_2 1) (>= Y_0 1)))",
        "three.vnnlib",
    )
    .unwrap();
    let e = verify(&g, &p, &three, &VerifyOptions::default()).unwrap_err();
    assert!(
        matches!(e, VerifyError::Mismatch(_)) && e.to_string().contains("3 inputs"),
        "{e}"
    );
}

/// The five instances of VNN-COMP's `test` benchmark, through the ONNX importer.
#[test]
fn vnncomp_test_benchmark() {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vnncomp/test");
    if !d.is_dir() {
        eprintln!("skipped: {} is missing", d.display());
        return;
    }
    let cases = [
        ("test_nano.onnx", "test_nano.vnnlib", "unsat"),
        ("test_tiny.onnx", "test_tiny.vnnlib", "unsat"),
        ("test_small.onnx", "test_small.vnnlib", "unsat"),
        ("test_sat.onnx", "test_prop.vnnlib", "sat"),
        ("test_unsat.onnx", "test_prop.vnnlib", "unsat"),
    ];
    for (net, prop, want) in cases {
        let path = d.join(net);
        let model = read_onnx(&path).unwrap();
        let im = import_model(
            &model,
            &path.display().to_string(),
            &ImportOptions::default(),
        )
        .unwrap();
        let property = read_property(d.join(prop)).unwrap();
        let v = verify(&im.graph, &im.params, &property, &VerifyOptions::default()).unwrap();
        let got = match &v {
            Verdict::Unsat => "unsat",
            Verdict::Sat(_) => "sat",
            Verdict::Unknown(_) => "unknown",
        };
        assert_eq!(got, want, "{net} {prop}: {v:?}");
    }
}
