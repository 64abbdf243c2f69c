//! Certificates written by an independent f64 CROWN producer (tests/common) are accepted;
//! mutated ones are rejected with a message naming the failure.

mod common;

use common::{bab, certify, scratch, Dense};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use strata_cert::{
    check_files, lower, CaseProof, Certificate, CheckError, FileRef, Phase, Step, Witness,
};
use strata_io::onnx::{import_model, read_onnx, write_model, ImportOptions};
use strata_io::vnnlib::{parse_property, read_property};
use strata_ir::{GraphBuilder, Op};
use strata_tensor::{DType, Tensor};

/// A deterministic 2-8-8-2 ReLU MLP (float32 weights), as ONNX.
fn random_mlp(dir: &Path) -> (PathBuf, Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let dims = [2usize, 8, 8, 2];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
    };
    let mut b = GraphBuilder::new();
    let mut params = BTreeMap::new();
    let mut x = b
        .push(
            Op::Input {
                shape: vec![1, 2].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let (mut ws, mut bs) = (vec![], vec![]);
    for k in 0..3 {
        let (i, o) = (dims[k], dims[k + 1]);
        let w: Vec<f32> = (0..i * o).map(|_| rand()).collect();
        let bias: Vec<f32> = (0..o).map(|_| rand() * 0.5).collect();
        ws.push(w.iter().map(|&v| f64::from(v)).collect());
        bs.push(bias.iter().map(|&v| f64::from(v)).collect());
        let (wn, bn) = (format!("w{k}"), format!("b{k}"));
        params.insert(wn.clone(), Tensor::from_vec(w, vec![o, i]).unwrap());
        params.insert(bn.clone(), Tensor::from_vec(bias, vec![o]).unwrap());
        let wp = b
            .push(
                Op::Parameter {
                    name: wn,
                    shape: vec![o, i].into(),
                    dtype: DType::F32,
                },
                &[],
            )
            .unwrap();
        let bp = b
            .push(
                Op::Parameter {
                    name: bn,
                    shape: vec![o].into(),
                    dtype: DType::F32,
                },
                &[],
            )
            .unwrap();
        x = b.push(Op::Linear { bias: true }, &[x, wp, bp]).unwrap();
        if k < 2 {
            x = b.push(Op::Relu, &[x]).unwrap();
        }
    }
    let graph = b.finish(&[x]).unwrap();
    let path = dir.join("mlp.onnx");
    write_model(&path, &graph, &params, 17).unwrap();
    (path, ws, bs)
}

fn dense_of(ws: &[Vec<f64>], bs: &[Vec<f64>]) -> Dense {
    Dense {
        rows: bs.iter().map(Vec::len).collect(),
        cols: ws.iter().zip(bs).map(|(w, b)| w.len() / b.len()).collect(),
        w: ws.to_vec(),
        b: bs.to_vec(),
    }
}

/// A property over [-1, 1]² that holds, with a margin a little below the sampled extremes.
fn mlp_property(dir: &Path, d: &Dense) -> PathBuf {
    let (mut min0, mut max1) = (f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..=200 {
        for j in 0..=200 {
            let y = d.forward(&[i as f64 / 100.0 - 1.0, j as f64 / 100.0 - 1.0]);
            min0 = min0.min(y[0]);
            max1 = max1.max(y[1]);
        }
    }
    let text = format!(
        "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n\
         (declare-const Y_1 Real)\n(assert (>= X_0 -1))\n(assert (<= X_0 1))\n\
         (assert (>= X_1 -1))\n(assert (<= X_1 1))\n\
         (assert (or (and (<= Y_0 {:.6})) (and (>= Y_1 {:.6}))))\n",
        min0 - 0.02,
        max1 + 0.02
    );
    let path = dir.join("mlp.vnnlib");
    std::fs::write(&path, text).unwrap();
    path
}

fn file_ref(path: &Path) -> FileRef {
    FileRef::of_bytes(path, &std::fs::read(path).unwrap())
}

fn rejection(r: Result<strata_cert::CheckReport, CheckError>) -> String {
    match r {
        Err(e @ CheckError::Rejected { .. }) => e.to_string(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

struct Fixture {
    onnx: PathBuf,
    vnnlib: PathBuf,
    dir: PathBuf,
    cert: Certificate,
    dense: Dense,
}

fn mlp_fixture(name: &str) -> Fixture {
    let dir = scratch(name);
    let (onnx, ws, bs) = random_mlp(&dir);
    let dense = dense_of(&ws, &bs);
    let vnnlib = mlp_property(&dir, &dense);
    let prop = read_property(&vnnlib).unwrap();
    let mut cases = Vec::new();
    for (c, case) in prop.cases.iter().enumerate() {
        let root = strata_cert::root_of(case);
        let leaves = bab(
            &dense,
            &prop,
            c,
            vec![],
            root.lower.clone(),
            root.upper.clone(),
            4000,
        )
        .expect("the f64 producer proves the property");
        cases.push(CaseProof { root, leaves });
    }
    let cert = Certificate::new(file_ref(&onnx), file_ref(&vnnlib), cases);
    Fixture {
        onnx,
        vnnlib,
        dir,
        cert,
        dense,
    }
}

impl Fixture {
    fn check(&self, cert: &Certificate) -> Result<strata_cert::CheckReport, CheckError> {
        let path = self.dir.join("cert.json");
        cert.write_atomic(&path).unwrap();
        check_files(&self.onnx, &self.vnnlib, &path)
    }
}

#[test]
fn producer_certificates_are_accepted() {
    let f = mlp_fixture("accept");
    let report = f.check(&f.cert).unwrap();
    assert_eq!(report.leaves, f.cert.cases[0].leaves.len());
    assert!(
        report.leaves > 1,
        "the property needs branching: {report:?}"
    );
    assert_eq!(report.specs, 2 * report.leaves);
    // The round trip through JSON is bit-exact.
    let back = Certificate::read(f.dir.join("cert.json")).unwrap();
    assert_eq!(back, f.cert);
}

#[test]
fn nudged_coefficient_is_rejected() {
    let f = mlp_fixture("nudge");
    let mut cert = f.cert.clone();
    let leaf = &mut cert.cases[0].leaves[0];
    let Witness::Linear { coeffs, .. } = &mut leaf.specs[0].witness else {
        panic!("linear witness expected")
    };
    coeffs[0] += 0.5 * (1.0 + coeffs[0].abs());
    let msg = rejection(f.check(&cert));
    assert!(msg.contains("leaf 0") && msg.contains("spec 0"), "{msg}");
    assert!(msg.contains("exceeds the derived"), "{msg}");
}

#[test]
fn dropped_leaf_is_rejected() {
    let f = mlp_fixture("drop");
    let mut cert = f.cert.clone();
    let gone = cert.cases[0].leaves.pop().unwrap();
    let msg = rejection(f.check(&cert));
    assert!(msg.contains("has no leaf"), "{msg}");
    // The message names the uncovered region: the dropped leaf's path.
    let last = gone.path.last().unwrap();
    let Step::Input { dim, .. } = last else {
        panic!("input split expected")
    };
    assert!(msg.contains(&format!("x[{dim}]")), "{msg}");
}

#[test]
fn inverted_split_is_rejected() {
    let f = mlp_fixture("invert");
    let mut cert = f.cert.clone();
    let leaf = &mut cert.cases[0].leaves[0];
    if let Some(Step::Input { side, .. }) = leaf.path.last_mut() {
        *side = match side {
            strata_cert::Side::Below => strata_cert::Side::Above,
            strata_cert::Side::Above => strata_cert::Side::Below,
        };
    }
    let msg = rejection(f.check(&cert));
    assert!(msg.contains("case 0, leaf 0"), "{msg}");
    assert!(msg.contains("not the root cut by the path"), "{msg}");
}

#[test]
fn over_tight_bound_is_rejected() {
    let f = mlp_fixture("tight");
    let mut cert = f.cert.clone();
    let k = cert.cases[0].leaves.len() - 1;
    let layer = &mut cert.cases[0].leaves[k].layers[1];
    layer.lower[3] = layer.upper[3] + 1.0;
    let msg = rejection(f.check(&cert));
    assert!(
        msg.contains(&format!("leaf {k}")) && msg.contains("layer 1, neuron 3"),
        "{msg}"
    );
    assert!(
        msg.contains("lower bound") && msg.contains("tighter"),
        "{msg}"
    );
}

#[test]
fn wrong_network_hash_is_rejected() {
    let f = mlp_fixture("hash");
    let mut cert = f.cert.clone();
    cert.network.sha256 = strata_cert::sha256_hex(b"another network");
    let msg = rejection(f.check(&cert));
    assert!(msg.contains("network") && msg.contains("sha256"), "{msg}");
}

#[test]
fn relu_split_leaves_are_accepted() {
    let f = mlp_fixture("relu_split");
    let prop = read_property(&f.vnnlib).unwrap();
    let root = strata_cert::root_of(&prop.cases[0]);
    // Split the first unstable neuron of ReLU layer 0 at the root.
    let layer0 = &f.cert.cases[0].leaves[0].layers[0];
    let (whole, _) = common::prove_leaf(&f.dense, &prop, 0, vec![], &root.lower, &root.upper);
    let neuron = (0..layer0.lower.len())
        .find(|&j| whole.layers[0].lower[j] < 0.0 && whole.layers[0].upper[j] > 0.0)
        .expect("an unstable neuron at the root");
    let mut leaves = Vec::new();
    for phase in [Phase::Inactive, Phase::Active] {
        let prefix = vec![Step::Relu {
            layer: 0,
            neuron,
            phase,
        }];
        leaves.extend(
            bab(
                &f.dense,
                &prop,
                0,
                prefix,
                root.lower.clone(),
                root.upper.clone(),
                4000,
            )
            .unwrap(),
        );
    }
    let mut cert = f.cert.clone();
    cert.cases[0].leaves = leaves;
    let report = f.check(&cert).unwrap();
    assert_eq!(report.leaves, cert.cases[0].leaves.len());
    // A leaf under the inactive split that claims its neuron is active is caught.
    let k = cert.cases[0]
        .leaves
        .iter()
        .position(|l| {
            matches!(
                l.path[0],
                Step::Relu {
                    phase: Phase::Inactive,
                    ..
                }
            )
        })
        .unwrap();
    cert.cases[0].leaves[k].layers[0].lower[neuron] = 0.5;
    cert.cases[0].leaves[k].layers[0].upper[neuron] = 1.0;
    let msg = rejection(f.check(&cert));
    assert!(msg.contains(&format!("layer 0, neuron {neuron}")), "{msg}");
}

const VNNCOMP_TEST: &str = "../../../shared/data/vnncomp/test";

/// The unsat VNN-COMP test instances get certificates that check, and the ACAS Xu one gives a
/// timing.
#[test]
fn vnncomp_test_instances_certify() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(VNNCOMP_TEST);
    if !dir.exists() {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    }
    let out = scratch("vnncomp_test");
    for (onnx, vnnlib) in [
        ("test_nano.onnx", "test_nano.vnnlib"),
        ("test_tiny.onnx", "test_tiny.vnnlib"),
        ("test_small.onnx", "test_small.vnnlib"),
        ("test_unsat.onnx", "test_prop.vnnlib"),
    ] {
        let (onnx, vnnlib) = (dir.join(onnx), dir.join(vnnlib));
        let name = onnx.display().to_string();
        let model = read_onnx(&onnx).unwrap();
        let imported = import_model(&model, &name, &ImportOptions::default()).unwrap();
        let net = lower(&imported.graph, &imported.params, &name).unwrap();
        let prop = read_property(&vnnlib).unwrap();
        let t = Instant::now();
        let cert = certify(&net, &prop, file_ref(&onnx), file_ref(&vnnlib), 20000)
            .unwrap_or_else(|| panic!("{name}: the producer did not prove it"));
        let produced = t.elapsed();
        let path = out.join("cert.json");
        cert.write_atomic(&path).unwrap();
        let t = Instant::now();
        let report = check_files(&onnx, &vnnlib, &path).unwrap();
        eprintln!(
            "{name}: {} leaves, produced in {produced:?}, checked in {:?}: {report:?}",
            report.leaves,
            t.elapsed()
        );
    }
}

#[test]
fn ibp_witness_is_checked() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(VNNCOMP_TEST);
    if !dir.exists() {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    }
    let onnx = dir.join("test_nano.onnx");
    let vnnlib = dir.join("test_nano.vnnlib");
    let name = onnx.display().to_string();
    let imported =
        import_model(&read_onnx(&onnx).unwrap(), &name, &ImportOptions::default()).unwrap();
    let net = lower(&imported.graph, &imported.params, &name).unwrap();
    let prop = parse_property(&std::fs::read_to_string(&vnnlib).unwrap(), "nano").unwrap();
    let mut cert = certify(&net, &prop, file_ref(&onnx), file_ref(&vnnlib), 10).unwrap();
    // Y = relu(w·X) ≥ 0 and the unsafe row is Y ≤ −1: Y − (−1) ≥ 1 by intervals.
    let out = scratch("ibp");
    let path = out.join("cert.json");
    for (lower, ok) in [(0.5, true), (1.0, true), (1.5, false), (0.0, false)] {
        cert.cases[0].leaves[0].specs[0].witness = Witness::Ibp { lower };
        cert.write_atomic(&path).unwrap();
        let r = check_files(&onnx, &vnnlib, &path);
        assert_eq!(r.is_ok(), ok, "lower {lower}: {r:?}");
    }
}

/// ACAS Xu timing (long; run with `cargo test -p strata-cert --release --test certificates --
/// --ignored --nocapture acas`): certificates with many leaves from the f64 producer.
#[test]
#[ignore]
fn acas_certificate_timing() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vnncomp/acasxu");
    if !dir.exists() {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    }
    let out = scratch("acas");
    for (net, prop) in [("1_1", "prop_3"), ("1_1", "prop_4"), ("2_1", "prop_3")] {
        let onnx = dir.join(format!("onnx/ACASXU_run2a_{net}_batch_2000.onnx"));
        let vnnlib = dir.join(format!("vnnlib/{prop}.vnnlib"));
        let name = onnx.display().to_string();
        let imported =
            import_model(&read_onnx(&onnx).unwrap(), &name, &ImportOptions::default()).unwrap();
        let lowered = lower(&imported.graph, &imported.params, &name).unwrap();
        let prop_parsed = read_property(&vnnlib).unwrap();
        let Some(cert) = certify(
            &lowered,
            &prop_parsed,
            file_ref(&onnx),
            file_ref(&vnnlib),
            3000,
        ) else {
            eprintln!("{net} {prop}: the f64 producer needs more than 3000 leaves");
            continue;
        };
        let path = out.join("cert.json");
        cert.write_atomic(&path).unwrap();
        let t = Instant::now();
        let report = check_files(&onnx, &vnnlib, &path).unwrap();
        eprintln!(
            "ACAS {net} {prop}: {} leaves checked in {:?}: {report:?}",
            report.leaves,
            t.elapsed()
        );
    }
}
