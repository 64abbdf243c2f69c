//! Certificates of `unsat` verdicts against the independent exact checker of `strata-cert`:
//! accepted as written (VNN-COMP `test` instances, random MLPs proved with ReLU splits and
//! with input splits), rejected once mutated (a leaf dropped, a witness constant raised above
//! the network's own value).

#[path = "common/net.rs"]
mod common_net;

use common_net::{mlp, Rng};
use std::path::Path;
use strata_cert::{check_certificate, check_files, Certificate, FileRef, Step, Witness};
use strata_io::onnx::{import_model, read_onnx, ImportOptions};
use strata_ir::{Graph, ParamStore};
use strata_tensor::DType;
use strata_verify::{
    parse_property, verify, verify_with_certificate, LayeredNet, Property, Verdict, VerifyOptions,
};

fn file_ref(name: &str, bytes: &[u8]) -> FileRef {
    FileRef::of_bytes(Path::new(name), bytes)
}

/// Verifies with a certificate, which must be `unsat` with the same verdict as plain `verify`.
fn certify(g: &Graph, p: &ParamStore, prop: &Property) -> Certificate {
    let opts = VerifyOptions::default();
    assert_eq!(verify(g, p, prop, &opts).unwrap(), Verdict::Unsat);
    let (verdict, cert) = verify_with_certificate(
        g,
        p,
        prop,
        &opts,
        file_ref("net.onnx", b"net"),
        file_ref("prop.vnnlib", b"prop"),
    )
    .unwrap();
    assert_eq!(verdict, Verdict::Unsat);
    cert.unwrap()
}

/// The box property `lo ≤ x ≤ hi ⇒ y_0 < t` with `t` just above the maximum of `y_0`: the
/// threshold is bisected between the largest sampled `y_0` (reachable) and a value `verify`
/// proves, keeping the proved end, so the proof needs splits (checked by the callers on the
/// certificate's paths).
fn max_property(g: &Graph, p: &ParamStore, n: usize, lo: f64, hi: f64) -> Property {
    let net = LayeredNet::lower(g, p).unwrap();
    let mut rng = Rng(77);
    let mut best = f64::NEG_INFINITY;
    for _ in 0..2_000 {
        let x: Vec<f64> = (0..n).map(|_| rng.uniform(lo, hi)).collect();
        best = best.max(net.forward(&x).pop().unwrap()[0]);
    }
    let decl: String = (0..n)
        .map(|i| {
            format!("(declare-const X_{i} Real)(assert (>= X_{i} {lo}))(assert (<= X_{i} {hi}))\n")
        })
        .collect();
    let outs: String = (0..net.n_outputs())
        .map(|j| format!("(declare-const Y_{j} Real)"))
        .collect();
    let property = |t: f64| {
        let text = format!("{decl}{outs}\n(assert (>= Y_0 {t}))");
        parse_property(&text, "max.vnnlib").unwrap()
    };
    let proved =
        |t: f64| verify(g, p, &property(t), &VerifyOptions::default()).unwrap() == Verdict::Unsat;
    let (mut reachable, mut gap) = (best, 1.0);
    while !proved(reachable + gap) {
        gap *= 2.0;
    }
    let mut unreachable = reachable + gap;
    for _ in 0..10 {
        let mid = 0.5 * (reachable + unreachable);
        if proved(mid) {
            unreachable = mid;
        } else {
            reachable = mid;
        }
    }
    property(unreachable)
}

/// Raises one linear witness's constant above `c·y − d` at its leaf box's lower corner, where
/// the network's own value bounds every sound linear lower bound (on a leaf without ReLU
/// splits, whose region is its whole box): the checker must refuse it. `false` when every
/// leaf has ReLU splits.
fn raise_witness(g: &Graph, p: &ParamStore, prop: &Property, cert: &mut Certificate) -> bool {
    let net = LayeredNet::lower(g, p).unwrap();
    let Some(leaf) = cert.cases[0]
        .leaves
        .iter_mut()
        .find(|l| !l.specs.is_empty() && l.path.iter().all(|s| matches!(s, Step::Input { .. })))
    else {
        return false;
    };
    let x = leaf.input_box.lower.clone();
    let y = net.forward(&x).pop().unwrap();
    let spec = &mut leaf.specs[0];
    let row = &prop.cases[0].unsafe_set[spec.disjunct][spec.row];
    let value: f64 = row
        .coeffs
        .iter()
        .zip(&y)
        .map(|(c, v)| c.lo * v)
        .sum::<f64>()
        - row.rhs.hi;
    let Witness::Linear { coeffs, constant } = &mut spec.witness else {
        panic!("linear witness expected")
    };
    coeffs.iter_mut().for_each(|c| *c = 0.0);
    *constant = value + 1e-6 * (1.0 + value.abs());
    true
}

/// Claims a first-layer lower bound above the neuron's upper bound: tighter than the exact
/// interval bound the checker derives there.
fn raise_first_layer_bound(cert: &mut Certificate) {
    let layer = &mut cert.cases[0].leaves[0].layers[0];
    layer.lower[0] = layer.upper[0] + 1.0;
}

fn check_and_mutate(g: &Graph, p: &ParamStore, prop: &Property, cert: &Certificate) -> usize {
    let lowered = strata_cert::lower(g, p, "net").unwrap();
    let report = check_certificate(&lowered, prop, cert).unwrap();
    assert_eq!(report.leaves, cert.cases[0].leaves.len());
    let mut raised = cert.clone();
    if raise_witness(g, p, prop, &mut raised) {
        assert!(check_certificate(&lowered, prop, &raised).is_err());
    }
    let mut tightened = cert.clone();
    raise_first_layer_bound(&mut tightened);
    assert!(check_certificate(&lowered, prop, &tightened).is_err());
    if cert.cases[0].leaves.len() > 1 {
        let mut dropped = cert.clone();
        dropped.cases[0].leaves.pop();
        assert!(check_certificate(&lowered, prop, &dropped).is_err());
    }
    report.leaves
}

#[test]
fn relu_split_proofs_are_accepted_and_mutations_rejected() {
    // 20 inputs: the verifier splits ReLUs.
    let (g, p) = mlp(&[20, 16, 16, 3], 5, DType::F64, true);
    let prop = max_property(&g, &p, 20, -0.1, 0.1);
    let cert = certify(&g, &p, &prop);
    let relu_steps = cert.cases[0]
        .leaves
        .iter()
        .flat_map(|l| &l.path)
        .filter(|s| matches!(s, Step::Relu { .. }))
        .count();
    assert!(relu_steps > 0, "the proof needed no ReLU split");
    assert!(check_and_mutate(&g, &p, &prop, &cert) > 1);
}

#[test]
fn input_split_proofs_are_accepted_and_mutations_rejected() {
    // 3 inputs: the verifier splits the input box.
    let (g, p) = mlp(&[3, 12, 12, 2], 9, DType::F64, false);
    let prop = max_property(&g, &p, 3, -1.0, 1.0);
    let cert = certify(&g, &p, &prop);
    let input_steps = cert.cases[0]
        .leaves
        .iter()
        .flat_map(|l| &l.path)
        .filter(|s| matches!(s, Step::Input { .. }))
        .count();
    assert!(input_steps > 0, "the proof needed no input split");
    assert!(check_and_mutate(&g, &p, &prop, &cert) > 1);
}

#[test]
fn vnncomp_test_unsat_certificates_pass_the_file_checker() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/vnncomp/test"
    ));
    if !dir.join("expected.csv").exists() {
        eprintln!("skipped: {} is missing", dir.display());
        return;
    }
    let out = std::env::temp_dir().join(format!("strata-cert-test-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    for (onnx, vnnlib) in [
        ("test_nano.onnx", "test_nano.vnnlib"),
        ("test_tiny.onnx", "test_tiny.vnnlib"),
        ("test_small.onnx", "test_small.vnnlib"),
        ("test_unsat.onnx", "test_prop.vnnlib"),
    ] {
        let (net_path, prop_path) = (dir.join(onnx), dir.join(vnnlib));
        let model = read_onnx(&net_path).unwrap();
        let imported = import_model(&model, onnx, &ImportOptions::default()).unwrap();
        let prop = strata_verify::read_property(&prop_path).unwrap();
        let (verdict, cert) = verify_with_certificate(
            &imported.graph,
            &imported.params,
            &prop,
            &VerifyOptions::default(),
            file_ref(onnx, &std::fs::read(&net_path).unwrap()),
            file_ref(vnnlib, &std::fs::read(&prop_path).unwrap()),
        )
        .unwrap();
        assert_eq!(verdict, Verdict::Unsat, "{onnx}");
        let cert = cert.unwrap();
        let path = out.join(format!("{onnx}.json"));
        cert.write_atomic(&path).unwrap();
        let report =
            check_files(&net_path, &prop_path, &path).unwrap_or_else(|e| panic!("{onnx}: {e}"));
        assert_eq!(report.cases, prop.cases.len());
        let mut raised = cert.clone();
        assert!(raise_witness(
            &imported.graph,
            &imported.params,
            &prop,
            &mut raised
        ));
        raised.write_atomic(&path).unwrap();
        assert!(check_files(&net_path, &prop_path, &path).is_err(), "{onnx}");
    }
    std::fs::remove_dir_all(&out).unwrap();
}
