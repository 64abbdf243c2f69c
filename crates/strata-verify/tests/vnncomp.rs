//! VNN-COMP instances end to end through the runner (import, parse, verify): the `test`
//! benchmark, and quick ACAS Xu and MNIST instances whose expected verdicts are in the shared
//! `expected.csv` files. Every `sat` counterexample is checked here again, independently: inside
//! the exact box, and violating the property when the ONNX network is run natively in f32.
//! Skipped with a reason when the data is missing.

use std::path::{Path, PathBuf};
use strata_io::onnx::{import_model, read_onnx, ImportOptions};
use strata_ir::eval::{run, ExecConfig};
use strata_tensor::Tensor;
use strata_verify::read_property;
use strata_verify::vnncomp::{read_expected, read_instances, run_instance, Instance};

fn data(dir: &str) -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/vnncomp")
        .join(dir);
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("skipped: {} is missing", d.display());
        None
    }
}

/// Runs the named instances and checks each verdict against `expected.csv`.
fn check(dir: &Path, names: &[&str]) {
    let expected = read_expected(&dir.join("expected.csv")).unwrap();
    let all = read_instances(dir).unwrap();
    let chosen: Vec<&Instance> = if names.is_empty() {
        all.iter().collect()
    } else {
        names
            .iter()
            .map(|n| all.iter().find(|i| i.name == *n).expect(n))
            .collect()
    };
    for inst in chosen {
        let r = run_instance(inst, Some(60.0));
        eprintln!(
            "{}: {} in {:.2}s {}",
            inst.name, r.verdict, r.seconds, r.detail
        );
        assert_eq!(
            Some(&r.verdict.to_string()),
            expected.get(&inst.name),
            "{}",
            inst.name
        );
        if let Some(c) = &r.counterexample {
            let prop = read_property(&inst.vnnlib).unwrap();
            let im = import_model(
                &read_onnx(&inst.onnx).unwrap(),
                "net",
                &ImportOptions::default(),
            )
            .unwrap();
            let shape = im.graph.inputs().next().unwrap().shape.clone();
            let x32: Vec<f32> = c.input.iter().map(|&v| v as f32).collect();
            assert!(
                c.input.iter().zip(&x32).all(|(a, b)| *a == f64::from(*b)),
                "not f32 values"
            );
            let y = run(
                &im.graph,
                &im.params,
                &[Tensor::from_vec(x32, shape).unwrap()],
                &ExecConfig::sequential(),
            )
            .unwrap()[0]
                .to_vec_f64();
            let hit = prop.cases.iter().any(|case| {
                case.input.contains(&c.input)
                    && case
                        .unsafe_set
                        .iter()
                        .any(|conj| conj.iter().all(|k| k.surely_holds(&y)))
            });
            assert!(hit, "{}: the counterexample does not re-execute", inst.name);
        }
    }
}

#[test]
fn vnncomp_test_benchmark_all_correct() {
    if let Some(d) = data("test") {
        check(&d, &[]);
    }
}

#[test]
fn quick_acasxu_instances_are_correct() {
    if let Some(d) = data("acasxu") {
        check(
            &d,
            &[
                "onnx/ACASXU_run2a_1_1_batch_2000.onnx,vnnlib/prop_1.vnnlib",
                "onnx/ACASXU_run2a_1_2_batch_2000.onnx,vnnlib/prop_2.vnnlib",
                "onnx/ACASXU_run2a_1_2_batch_2000.onnx,vnnlib/prop_3.vnnlib",
                "onnx/ACASXU_run2a_1_7_batch_2000.onnx,vnnlib/prop_4.vnnlib",
            ],
        );
    }
}

#[test]
fn quick_mnist_instance_is_correct() {
    if let Some(d) = data("mnist_fc") {
        check(&d, &["onnx/mnist-net_256x2.onnx,vnnlib/prop_7_0.03.vnnlib"]);
    }
}
