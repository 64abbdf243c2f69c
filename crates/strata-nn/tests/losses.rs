//! The losses against PyTorch: `tests/fixtures/losses.json` was written by
//! `scripts/gen_loss_fixtures.py` (torch 2.x, CPU). Each case checks the output and the
//! gradient of `sum(output · cotangent)` with respect to the input. The losses are composed of
//! IR ops whose evaluation order differs from PyTorch's fused kernels, so values agree to a few
//! ulps, not bit for bit: the tolerance is 1e-12 relative for f64 and 4e-6 for f32 (of the
//! larger of the value and the case's largest magnitude), and the test prints the largest
//! error it saw.

use serde_json::Value;
use strata_autograd::{Tape, Var};
use strata_nn::loss::{
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, Loss, MSELoss,
    NLLLoss, Reduction, SmoothL1Loss,
};
use strata_tensor::{DType, Tensor};

fn tensor(v: &Value) -> Tensor {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let data = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap());
    match v["dtype"].as_str().unwrap() {
        "i64" => Tensor::from_vec(data.map(|s| s.parse::<i64>().unwrap()).collect(), shape),
        "f32" => Tensor::from_vec(data.map(|s| s.parse::<f32>().unwrap()).collect(), shape),
        "f64" => Tensor::from_vec(data.map(|s| s.parse::<f64>().unwrap()).collect(), shape),
        d => panic!("dtype {d}"),
    }
    .unwrap()
}

fn reduction(args: &Value) -> Reduction {
    match args["reduction"].as_str().unwrap() {
        "none" => Reduction::None,
        "mean" | "batchmean" => Reduction::Mean,
        "sum" => Reduction::Sum,
        r => panic!("reduction {r}"),
    }
}

fn build(case: &Value) -> Box<dyn Loss> {
    let args = &case["args"];
    let r = reduction(args);
    let f = |k: &str| args[k].as_f64();
    let weight = case.get("weight").map(tensor);
    let ignore = args["ignore_index"].as_i64();
    match case["loss"].as_str().unwrap() {
        "MSELoss" => Box::new(MSELoss::new().reduction(r)),
        "L1Loss" => Box::new(L1Loss::new().reduction(r)),
        "SmoothL1Loss" => Box::new(SmoothL1Loss::new().reduction(r).beta(f("beta").unwrap())),
        "HuberLoss" => Box::new(HuberLoss::new().reduction(r).delta(f("delta").unwrap())),
        "CrossEntropyLoss" => {
            let mut l = CrossEntropyLoss::new().reduction(r);
            if let Some(w) = weight {
                l = l.weight(w);
            }
            if let Some(i) = ignore {
                l = l.ignore_index(i);
            }
            Box::new(l.label_smoothing(f("label_smoothing").unwrap_or(0.0)))
        }
        "NLLLoss" => {
            let mut l = NLLLoss::new().reduction(r);
            if let Some(w) = weight {
                l = l.weight(w);
            }
            if let Some(i) = ignore {
                l = l.ignore_index(i);
            }
            Box::new(l)
        }
        "BCELoss" => {
            let l = BCELoss::new().reduction(r);
            Box::new(match weight {
                Some(w) => l.weight(w),
                None => l,
            })
        }
        "BCEWithLogitsLoss" => {
            let mut l = BCEWithLogitsLoss::new().reduction(r);
            if let Some(w) = weight {
                l = l.weight(w);
            }
            if let Some(pw) = case.get("pos_weight") {
                l = l.pos_weight(tensor(pw));
            }
            Box::new(l)
        }
        "KLDivLoss" => {
            let l = KLDivLoss::new()
                .reduction(r)
                .log_target(args["log_target"].as_bool().unwrap_or(false));
            Box::new(if args["reduction"] == "batchmean" {
                l.batchmean()
            } else {
                l
            })
        }
        other => panic!("loss {other}"),
    }
}

/// The largest error of `got` against `want`, relative to max(|want|, the case's scale);
/// NaN must match NaN.
fn max_rel_error(name: &str, what: &str, got: &Tensor, want: &Tensor) -> f64 {
    assert_eq!(got.dims(), want.dims(), "{name}: {what} shape");
    assert_eq!(got.dtype(), want.dtype(), "{name}: {what} dtype");
    let (g, w) = (got.to_vec_f64(), want.to_vec_f64());
    let scale = w
        .iter()
        .filter(|v| v.is_finite())
        .fold(0f64, |m, v| m.max(v.abs()));
    let mut worst = 0f64;
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        if b.is_nan() {
            assert!(a.is_nan(), "{name}: {what}[{i}] = {a}, PyTorch NaN");
            continue;
        }
        let err = (a - b).abs() / b.abs().max(scale).max(f64::MIN_POSITIVE);
        worst = worst.max(err);
    }
    worst
}

#[test]
fn losses_match_pytorch() {
    let path = format!("{}/tests/fixtures/losses.json", env!("CARGO_MANIFEST_DIR"));
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() > 80);
    let (mut worst32, mut worst64) = (0f64, 0f64);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let tape = Tape::new();
        let x = tape.input(tensor(&case["input"]), true);
        let t = tape.input(tensor(&case["target"]), false);
        let out: Var = build(case)
            .forward(&x, &t)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let cot = tape.constant(tensor(&case["cotangent"]));
        let total = out.mul(&cot).unwrap().sum_all().unwrap();
        let grads = tape.backward(&total).unwrap();
        let grad = grads.get(&x).expect("gradient of the input");
        let e = max_rel_error(name, "output", &out.value(), &tensor(&case["output"]))
            .max(max_rel_error(name, "grad", grad, &tensor(&case["grad"])));
        let (worst, tol) = match x.dtype() {
            DType::F32 => (&mut worst32, 4e-6),
            _ => (&mut worst64, 1e-12),
        };
        assert!(e <= tol, "{name}: relative error {e:e} > {tol:e}");
        *worst = worst.max(e);
    }
    println!("max relative error: f64 {worst64:e}, f32 {worst32:e}");
}

fn var(tape: &Tape, t: Tensor, grad: bool) -> Var {
    tape.input(t, grad)
}

#[test]
fn out_of_range_class_index_is_an_error() {
    let tape = Tape::new();
    let x = var(&tape, Tensor::zeros([3, 4], DType::F32).unwrap(), true);
    for bad in [4i64, -1] {
        let t = var(
            &tape,
            Tensor::from_vec(vec![0i64, bad, 2], [3]).unwrap(),
            false,
        );
        let e = CrossEntropyLoss::new()
            .forward(&x, &t)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("CrossEntropyLoss")
                && e.contains(&format!("class index {bad} at position 1"))
                && e.contains("0..4"),
            "{e}"
        );
        let e = NLLLoss::new().forward(&x, &t).unwrap_err().to_string();
        assert!(e.contains("NLLLoss") && e.contains("position 1"), "{e}");
    }
    // -1 is fine once it is the ignore_index.
    let t = var(
        &tape,
        Tensor::from_vec(vec![0i64, -1, 2], [3]).unwrap(),
        false,
    );
    assert!(CrossEntropyLoss::new()
        .ignore_index(-1)
        .forward(&x, &t)
        .is_ok());
    let w = Tensor::ones([3], DType::F32).unwrap();
    let e = CrossEntropyLoss::new()
        .weight(w)
        .forward(&x, &t)
        .unwrap_err()
        .to_string();
    assert!(e.contains("weight") && e.contains("[4]"), "{e}");
}

#[test]
fn bad_shapes_and_probabilities_are_errors() {
    let tape = Tape::new();
    let x = var(&tape, Tensor::full([2, 3], 0.5, DType::F64).unwrap(), true);
    let y = var(&tape, Tensor::zeros([3, 2], DType::F64).unwrap(), false);
    let e = MSELoss::new().forward(&x, &y).unwrap_err().to_string();
    assert!(e.contains("MSELoss") && e.contains("same shape"), "{e}");
    let p = var(
        &tape,
        Tensor::from_vec(vec![0.5f64, 1.5, 0.0, 1.0], [4]).unwrap(),
        true,
    );
    let t = var(&tape, Tensor::zeros([4], DType::F64).unwrap(), false);
    let e = BCELoss::new().forward(&p, &t).unwrap_err().to_string();
    assert!(e.contains("element 1 is 1.5"), "{e}");
    // Exact 0 and 1 inputs: each log term clamps at -100, as PyTorch.
    let p = var(
        &tape,
        Tensor::from_vec(vec![0.0f64, 1.0], [2]).unwrap(),
        false,
    );
    let t = var(
        &tape,
        Tensor::from_vec(vec![1.0f64, 0.0], [2]).unwrap(),
        false,
    );
    let l = BCELoss::new()
        .reduction(Reduction::None)
        .forward(&p, &t)
        .unwrap();
    assert_eq!(l.value().to_vec_f64(), [100.0, 100.0]);
    let t = var(
        &tape,
        Tensor::from_vec(vec![0i64, 1, 2], [3]).unwrap(),
        false,
    );
    let e = CrossEntropyLoss::new()
        .forward(&x, &t)
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not match input"), "{e}");
}
