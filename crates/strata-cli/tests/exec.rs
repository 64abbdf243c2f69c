//! `strata run`, `grad` and `tape` end to end on a small MLP graph written to disk: every
//! numeric layer agrees with the native run within its own precision, the interval encloses
//! the exact-rational (Fp32) and f64 results, and `grad` matches the eager tape.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use strata_ir::{GraphBuilder, Op, Reduction};
use strata_tensor::{DType, Rng, Tensor};

fn strata(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .output()
        .expect("run strata");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

struct Fixture {
    dir: PathBuf,
    params: BTreeMap<String, Tensor>,
    x: Tensor,
}

impl Fixture {
    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }
}

/// `tanh(x W1ᵀ + b1) W2ᵀ + b2`, then its mean squared value: graph text, params and input.
fn fixture(tag: &str) -> Fixture {
    let dir = std::env::temp_dir().join(format!("strata-exec-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut b = GraphBuilder::new();
    let param = |b: &mut GraphBuilder, name: &str, dims: &[usize]| {
        let op = Op::Parameter {
            name: name.into(),
            shape: dims.into(),
            dtype: DType::F32,
        };
        b.push(op, &[]).unwrap()
    };
    let x = b
        .push_named(
            "x",
            Op::Input {
                shape: [2, 3].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let (w1, b1) = (
        param(&mut b, "0.weight", &[4, 3]),
        param(&mut b, "0.bias", &[4]),
    );
    let (w2, b2) = (
        param(&mut b, "2.weight", &[2, 4]),
        param(&mut b, "2.bias", &[2]),
    );
    let h = b.push(Op::Linear { bias: true }, &[x, w1, b1]).unwrap();
    let h = b.push(Op::Tanh, &[h]).unwrap();
    let y = b.push(Op::Linear { bias: true }, &[h, w2, b2]).unwrap();
    let zero = b
        .push(
            Op::Constant {
                value: strata_ir::Literal(Tensor::zeros([2, 2], DType::F32).unwrap()),
            },
            &[],
        )
        .unwrap();
    let loss = b
        .push(
            Op::MseLoss {
                reduction: Reduction::Mean,
            },
            &[y, zero],
        )
        .unwrap();
    let graph = b.finish(&[loss]).unwrap();
    std::fs::write(dir.join("mlp.ir"), strata_ir::text::print(&graph).unwrap()).unwrap();
    let mut rng = Rng::new(3);
    let mut params = BTreeMap::new();
    for (name, dims) in [
        ("0.weight", vec![4, 3]),
        ("0.bias", vec![4]),
        ("2.weight", vec![2, 4]),
        ("2.bias", vec![2]),
    ] {
        params.insert(
            name.to_string(),
            Tensor::randn(dims, DType::F32, &mut rng).unwrap(),
        );
    }
    strata_io::write_safetensors(dir.join("p.safetensors"), &params, &BTreeMap::new()).unwrap();
    let x = Tensor::randn([2, 3], DType::F32, &mut rng).unwrap();
    strata_io::write_npy(dir.join("x.npy"), &x).unwrap();
    Fixture { dir, params, x }
}

fn scalar(path: &str) -> f64 {
    strata_io::read_npy(path).unwrap().to_vec_f64()[0]
}

#[test]
fn every_layer_runs_and_the_interval_encloses_the_others() {
    let f = fixture("run");
    let (graph, x, p) = (f.path("mlp.ir"), f.path("x.npy"), f.path("p.safetensors"));
    let base = ["--input", x.as_str(), "--params", p.as_str()];
    let mut values = BTreeMap::new();
    for layer in ["native", "f32", "f64", "ieee32", "fp32"] {
        let out = f.path(&format!("{layer}.npy"));
        let mut args = vec!["run", graph.as_str()];
        args.extend(base);
        args.extend(["--layer", layer, "--output", &out, "--order", "sequential"]);
        strata(&args);
        values.insert(layer, scalar(&out));
    }
    // ieee32 and f32 share every basic operation; tanh is libm in one and correctly rounded
    // in the other, so they agree to a few ulps (bit-exactness is the interpreter's test).
    let f32v = values["f32"];
    for layer in ["native", "ieee32", "fp32"] {
        assert!(
            (values[layer] - f32v).abs() <= 1e-5 * f32v.abs(),
            "{layer}: {values:?}"
        );
    }
    let out = f.path("interval.npz");
    let mut args = vec!["run", graph.as_str()];
    args.extend(base);
    args.extend(["--layer", "interval", "--output", &out]);
    strata(&args);
    let enclosure = strata_io::read_npz(&out).unwrap();
    let (lo, hi) = (
        enclosure["lo"].to_vec_f64()[0],
        enclosure["hi"].to_vec_f64()[0],
    );
    assert!(
        lo <= values["f64"] && values["f64"] <= hi,
        "[{lo}, {hi}] vs {values:?}"
    );
    assert!(hi - lo < 1e-9, "[{lo}, {hi}] is loose");
}

#[test]
fn grad_matches_the_eager_tape_and_tape_shows_the_reverse_pass() {
    let f = fixture("grad");
    let out = f.path("g.npz");
    strata(&[
        "grad",
        &f.path("mlp.ir"),
        "--input",
        &f.path("x.npy"),
        "--params",
        &f.path("p.safetensors"),
        "--wrt",
        "params",
        "--output",
        &out,
    ]);
    let grads = strata_io::read_npz(&out).unwrap();
    // The eager tape on the same graph.
    let graph =
        strata_ir::cli::read_graph(&std::fs::read_to_string(f.path("mlp.ir")).unwrap()).unwrap();
    let tape = strata_autograd::Tape::new();
    let vars = tape
        .replay(&graph, &f.params, std::slice::from_ref(&f.x), false)
        .unwrap();
    let eager = tape.backward(&vars[graph.outputs[0]]).unwrap();
    assert_eq!(grads.len(), 4);
    for (name, g) in eager.by_name() {
        assert_eq!(
            grads[name].to_vec::<f32>().unwrap(),
            g.to_vec::<f32>().unwrap(),
            "{name}"
        );
    }
    let html = f.path("tape.html");
    let text = strata(&[
        "tape",
        &f.path("mlp.ir"),
        "--input",
        &f.path("x.npy"),
        "--params",
        &f.path("p.safetensors"),
        "--html",
        &html,
    ]);
    assert!(
        text.contains("reverse pass") && text.contains("(linear) ->"),
        "{text}"
    );
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.starts_with("<!doctype html>") && page.contains("mse_loss"));
}

#[test]
fn convert_round_trips_graphs_and_tensors() {
    let f = fixture("convert");
    let json = f.path("mlp.json");
    strata(&["convert", &f.path("mlp.ir"), &json]);
    let back = f.path("back.ir");
    strata(&["convert", &json, &back]);
    let read = |p: &str| strata_ir::cli::read_graph(&std::fs::read_to_string(p).unwrap()).unwrap();
    assert_eq!(read(&back), read(&f.path("mlp.ir")));
    let npz = f.path("p.npz");
    strata(&["convert", &f.path("p.safetensors"), &npz]);
    let again = f.path("again.safetensors");
    strata(&["convert", &npz, &again]);
    let tensors = strata_io::read_safetensors(&again).unwrap().tensors;
    for (name, t) in &f.params {
        assert_eq!(
            tensors[name].to_vec::<f32>().unwrap(),
            t.to_vec::<f32>().unwrap(),
            "{name}"
        );
    }
}

/// `strata verify` on VNN-COMP's `test` benchmark: every verdict as expected.csv says (the
/// majority answers of VNN-COMP 2021/2022), and a `sat` writes a counterexample file.
#[test]
fn verify_answers_the_vnncomp_test_benchmark() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vnncomp/test");
    let Ok(expected) = std::fs::read_to_string(dir.join("expected.csv")) else {
        println!("skipped: {} is missing", dir.display());
        return;
    };
    let ce = std::env::temp_dir().join(format!("strata-ce-{}.txt", std::process::id()));
    let cert = std::env::temp_dir().join(format!("strata-cert-{}.json", std::process::id()));
    for line in expected.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let (net, prop, answer) = (dir.join(fields[0]), dir.join(fields[1]), fields[2]);
        let (net, prop) = (net.to_string_lossy(), prop.to_string_lossy());
        let out = strata(&[
            "verify",
            &net,
            &prop,
            "--timeout",
            "30",
            "--counterexample",
            &ce.to_string_lossy(),
            "--certificate",
            &cert.to_string_lossy(),
            "--float32",
        ]);
        assert!(out.starts_with(answer), "{line}: {out}");
        if answer == "unsat" {
            // The proof's certificate passes the independent checker, and the float32 margin
            // transfer is reported (the tiny nets' margins dwarf their float32 error).
            let checked = strata(&["check-cert", &net, &prop, &cert.to_string_lossy()]);
            assert!(checked.starts_with("accepted"), "{line}: {checked}");
            let float32 = out
                .lines()
                .find(|l| l.starts_with("verdict holds for float32 execution: "))
                .unwrap_or_else(|| panic!("{line}: {out}"));
            if fields[0] != "test_unsat.onnx" {
                assert!(float32.contains(": yes"), "{line}: {out}");
            }
        }
        if answer == "sat" {
            let text = std::fs::read_to_string(&ce).unwrap();
            assert!(
                text.starts_with("sat\n((X_0 ") && text.contains("(Y_0 "),
                "{text}"
            );
        }
    }
}
