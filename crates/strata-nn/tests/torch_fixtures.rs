//! Optimizers, LR schedulers and gradient clipping against PyTorch: the fixtures in
//! `tests/fixtures/*.json` were written by `tests/fixtures/gen_optim.py` (torch 2.x, CPU).
//!
//! Optimizer updates and scheduler rates must match bit for bit: Strata evaluates PyTorch's
//! expressions in the same order with the same roundings (see `strata_nn::optim`). The one
//! exception PyTorch itself makes is its CPU square root (MKL VML, not correctly rounded): the
//! bit-exact optimizer fixture was made with IEEE square roots, and stock PyTorch is compared
//! after one step within 1 ulp (f32) or 1e-12 relative (f64). Clipping by
//! norm is the exception: PyTorch's f32 norm kernel sums in its own vectorized order, which
//! Strata does not reproduce, so the clipped f32 gradients may differ by an ulp or two (the norm
//! itself is checked to 2 ulp, f64 to 1e-12 relative).

use serde_json::Value;
use std::collections::BTreeMap;
use strata_nn::clip::{clip_grad_norm_, clip_grad_value_, NormType};
use strata_nn::optim::lr_scheduler::{
    Anneal, CosineAnnealingLR, ExponentialLR, LinearLR, LrScheduler, OneCycleConfig, OneCycleLR,
    SequentialLR, StepLR,
};
use strata_nn::optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, GroupOptions, Optimizer, RmsProp,
    RmsPropConfig, Sgd, SgdConfig,
};
use strata_tensor::{DType, Tensor};

fn load(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn f64s(v: &Value) -> Vec<f64> {
    strs(v).iter().map(|s| s.parse::<f64>().unwrap()).collect()
}

fn dims(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn dtype_of(s: &str) -> DType {
    match s {
        "f32" => DType::F32,
        "f64" => DType::F64,
        _ => panic!("dtype {s}"),
    }
}

/// A tensor of `dtype` from exact decimal strings (f32 strings parse straight to f32).
fn tensor(values: &Value, shape: &[usize], dtype: DType) -> Tensor {
    let s = strs(values);
    match dtype {
        DType::F32 => Tensor::from_vec(
            s.iter()
                .map(|x| x.parse::<f32>().unwrap())
                .collect::<Vec<_>>(),
            shape.to_vec(),
        ),
        _ => Tensor::from_vec(
            s.iter()
                .map(|x| x.parse::<f64>().unwrap())
                .collect::<Vec<_>>(),
            shape.to_vec(),
        ),
    }
    .unwrap()
}

/// A tensor of `dtype` from f64 strings, rounded once (as numpy's `astype` / `torch.tensor`).
fn tensor_from_f64(values: &Value, shape: &[usize], dtype: DType) -> Tensor {
    Tensor::from_vec(f64s(values), shape.to_vec())
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

/// The distance in units in the last place between two values of the same float dtype.
fn ulps(a: &Tensor, b: &Tensor) -> u64 {
    assert_eq!(a.dtype(), b.dtype());
    assert_eq!(a.shape(), b.shape());
    fn key32(x: f32) -> i64 {
        let b = x.to_bits() as i32;
        i64::from(if b < 0 { i32::MIN - b } else { b })
    }
    fn key64(x: f64) -> i128 {
        let b = x.to_bits() as i64;
        i128::from(if b < 0 { i64::MIN - b } else { b })
    }
    match a.dtype() {
        DType::F32 => a
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .zip(b.to_vec::<f32>().unwrap())
            .map(|(&x, y)| {
                if x.is_nan() && y.is_nan() {
                    0
                } else {
                    (key32(x) - key32(y)).unsigned_abs()
                }
            })
            .max()
            .unwrap_or(0),
        _ => a
            .to_vec::<f64>()
            .unwrap()
            .iter()
            .zip(b.to_vec::<f64>().unwrap())
            .map(|(&x, y)| {
                if x.is_nan() && y.is_nan() {
                    0
                } else {
                    (key64(x) - key64(y)).unsigned_abs() as u64
                }
            })
            .max()
            .unwrap_or(0),
    }
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn group_options(groups: &Value) -> Vec<GroupOptions> {
    let Some(groups) = groups.as_array() else {
        return Vec::new();
    };
    groups
        .iter()
        .map(|g| {
            let mut o = GroupOptions::names(strs(&g["params"]));
            if let Some(lr) = num(g, "lr") {
                o = o.lr(lr);
            }
            if let Some(wd) = num(g, "weight_decay") {
                o = o.weight_decay(wd);
            }
            o
        })
        .collect()
}

fn build_optimizer(class: &str, kw: &Value, groups: &Value) -> Box<dyn Optimizer> {
    let b = |k: &str| kw.get(k).and_then(Value::as_bool).unwrap_or(false);
    let groups = group_options(groups);
    match class {
        "SGD" => {
            let d = SgdConfig::default();
            let cfg = SgdConfig {
                lr: num(kw, "lr").unwrap_or(d.lr),
                momentum: num(kw, "momentum").unwrap_or(d.momentum),
                dampening: num(kw, "dampening").unwrap_or(d.dampening),
                weight_decay: num(kw, "weight_decay").unwrap_or(d.weight_decay),
                nesterov: b("nesterov"),
                maximize: b("maximize"),
            };
            Box::new(Sgd::with_groups(cfg, groups).unwrap())
        }
        "Adam" | "AdamW" => {
            let d = if class == "Adam" {
                AdamConfig::default()
            } else {
                AdamConfig::adamw()
            };
            let betas = kw
                .get("betas")
                .map(|v| (v[0].as_f64().unwrap(), v[1].as_f64().unwrap()))
                .unwrap_or(d.betas);
            let cfg = AdamConfig {
                lr: num(kw, "lr").unwrap_or(d.lr),
                betas,
                eps: num(kw, "eps").unwrap_or(d.eps),
                weight_decay: num(kw, "weight_decay").unwrap_or(d.weight_decay),
                amsgrad: b("amsgrad"),
                maximize: b("maximize"),
                decoupled_weight_decay: d.decoupled_weight_decay,
            };
            if class == "Adam" {
                Box::new(Adam::with_groups(cfg, groups).unwrap())
            } else {
                Box::new(AdamW::with_groups(cfg, groups).unwrap())
            }
        }
        "RMSprop" => {
            let d = RmsPropConfig::default();
            let cfg = RmsPropConfig {
                lr: num(kw, "lr").unwrap_or(d.lr),
                alpha: num(kw, "alpha").unwrap_or(d.alpha),
                eps: num(kw, "eps").unwrap_or(d.eps),
                weight_decay: num(kw, "weight_decay").unwrap_or(d.weight_decay),
                momentum: num(kw, "momentum").unwrap_or(d.momentum),
                centered: b("centered"),
                maximize: b("maximize"),
            };
            Box::new(RmsProp::with_groups(cfg, groups).unwrap())
        }
        "Adagrad" => {
            let d = AdagradConfig::default();
            let cfg = AdagradConfig {
                lr: num(kw, "lr").unwrap_or(d.lr),
                lr_decay: num(kw, "lr_decay").unwrap_or(d.lr_decay),
                weight_decay: num(kw, "weight_decay").unwrap_or(d.weight_decay),
                initial_accumulator_value: num(kw, "initial_accumulator_value")
                    .unwrap_or(d.initial_accumulator_value),
                eps: num(kw, "eps").unwrap_or(d.eps),
                maximize: b("maximize"),
            };
            Box::new(Adagrad::with_groups(cfg, groups).unwrap())
        }
        _ => panic!("optimizer {class}"),
    }
}

fn build_scheduler(opt: &mut dyn Optimizer, spec: &Value) -> Box<dyn LrScheduler> {
    let u = |k: &str| spec[k].as_u64().unwrap() as usize;
    let f = |k: &str, d: f64| num(spec, k).unwrap_or(d);
    match spec["type"].as_str().unwrap() {
        "StepLR" => Box::new(StepLR::new(opt, u("step_size"), f("gamma", 0.1)).unwrap()),
        "ExponentialLR" => Box::new(ExponentialLR::new(opt, f("gamma", f64::NAN)).unwrap()),
        "CosineAnnealingLR" => {
            Box::new(CosineAnnealingLR::new(opt, u("T_max"), f("eta_min", 0.0)).unwrap())
        }
        "LinearLR" => Box::new(
            LinearLR::new(
                opt,
                f("start_factor", 1.0 / 3.0),
                f("end_factor", 1.0),
                spec.get("total_iters")
                    .map_or(5, |v| v.as_u64().unwrap() as usize),
            )
            .unwrap(),
        ),
        "OneCycleLR" => {
            let max_lr = match &spec["max_lr"] {
                Value::Array(a) => a.iter().map(|v| v.as_f64().unwrap()).collect(),
                v => vec![v.as_f64().unwrap()],
            };
            let d = OneCycleConfig::new(0.0, u("total_steps"));
            let cfg = OneCycleConfig {
                max_lr,
                pct_start: f("pct_start", d.pct_start),
                anneal_strategy: match spec.get("anneal_strategy").and_then(Value::as_str) {
                    Some("linear") => Anneal::Linear,
                    _ => Anneal::Cos,
                },
                cycle_momentum: spec
                    .get("cycle_momentum")
                    .and_then(Value::as_bool)
                    .unwrap_or(true),
                base_momentum: f("base_momentum", d.base_momentum),
                max_momentum: f("max_momentum", d.max_momentum),
                div_factor: f("div_factor", d.div_factor),
                final_div_factor: f("final_div_factor", d.final_div_factor),
                three_phase: spec
                    .get("three_phase")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                ..d
            };
            Box::new(OneCycleLR::new(opt, cfg).unwrap())
        }
        "SequentialLR" => {
            let subs = spec["schedulers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| build_scheduler(opt, s))
                .collect();
            let milestones = spec["milestones"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            Box::new(SequentialLR::new(opt, subs, milestones).unwrap())
        }
        t => panic!("scheduler {t}"),
    }
}

#[test]
fn optimizers_match_pytorch_bit_for_bit() {
    let fx = load("optim.json");
    let shapes: BTreeMap<String, Vec<usize>> = fx["shapes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), dims(v)))
        .collect();
    let mut failures = Vec::new();
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 30, "fixture has {} cases", cases.len());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let dtype = dtype_of(case["dtype"].as_str().unwrap());
        let mut opt = build_optimizer(
            case["optimizer"].as_str().unwrap(),
            &case["kwargs"],
            &case["groups"],
        );
        let mut sched = case["scheduler"]
            .is_object()
            .then(|| build_scheduler(opt.as_mut(), &case["scheduler"]));
        let mut params: BTreeMap<String, Tensor> = shapes
            .iter()
            .map(|(n, s)| (n.clone(), tensor_from_f64(&fx["init"][n], s, dtype)))
            .collect();
        for (step, expected) in case["expected"].as_array().unwrap().iter().enumerate() {
            let grads: BTreeMap<String, Tensor> = fx["grads"][step]
                .as_object()
                .unwrap()
                .iter()
                .map(|(n, v)| (n.clone(), tensor_from_f64(v, &shapes[n], dtype)))
                .collect();
            opt.step(&mut params, &grads).unwrap();
            if let Some(s) = sched.as_mut() {
                s.step(opt.as_mut()).unwrap();
            }
            for (n, p) in &params {
                let want = tensor(&expected[n], &shapes[n], dtype);
                let d = ulps(p, &want);
                if d > 0 {
                    failures.push(format!("{name} step {}: {n} differs by {d} ulp", step + 1));
                }
            }
        }
        // Stock PyTorch (with its MKL square root, not correctly rounded) after one step.
        {
            let mut opt = build_optimizer(
                case["optimizer"].as_str().unwrap(),
                &case["kwargs"],
                &case["groups"],
            );
            if case["scheduler"].is_object() {
                build_scheduler(opt.as_mut(), &case["scheduler"]);
            }
            let mut params: BTreeMap<String, Tensor> = shapes
                .iter()
                .map(|(n, s)| (n.clone(), tensor_from_f64(&fx["init"][n], s, dtype)))
                .collect();
            let grads: BTreeMap<String, Tensor> = fx["grads"][0]
                .as_object()
                .unwrap()
                .iter()
                .map(|(n, v)| (n.clone(), tensor_from_f64(v, &shapes[n], dtype)))
                .collect();
            opt.step(&mut params, &grads).unwrap();
            for (n, p) in &params {
                let want = tensor(&case["expected_stock"][0][n], &shapes[n], dtype);
                if dtype == DType::F32 {
                    let d = ulps(p, &want);
                    // One MKL square-root ulp, doubled at most by the centered form's cancellation.
                    assert!(
                        d <= 2,
                        "{name}: {n} is {d} ulp from stock PyTorch after one step"
                    );
                } else {
                    for (a, b) in p
                        .to_vec::<f64>()
                        .unwrap()
                        .iter()
                        .zip(want.to_vec::<f64>().unwrap())
                    {
                        assert!(
                            (a - b).abs() <= 1e-12 * b.abs(),
                            "{name}: {n}: {a} vs stock {b}"
                        );
                    }
                }
            }
        }
        // The final state, key for key.
        let state = opt.state_dict();
        let want = case["state"].as_object().unwrap();
        let got_keys: Vec<&String> = state.keys().collect();
        let want_keys: Vec<&String> = want.keys().collect();
        let mut want_sorted = want_keys.clone();
        want_sorted.sort();
        assert_eq!(got_keys, want_sorted, "{name}: state dict keys");
        for (k, v) in want {
            let got = &state[k];
            if let Some(s) = v.as_str() {
                let w: f64 = s.parse().unwrap();
                assert_eq!(got.dtype(), DType::F64, "{name}: {k}");
                assert_eq!(
                    got.item::<f64>().unwrap().to_bits(),
                    w.to_bits(),
                    "{name}: {k}"
                );
            } else {
                let wt = tensor(
                    &v["values"],
                    &dims(&v["shape"]),
                    dtype_of(v["dtype"].as_str().unwrap()),
                );
                let d = ulps(got, &wt);
                if d > 0 {
                    failures.push(format!("{name}: state {k} differs by {d} ulp"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn optimizer_state_round_trip_resumes_exactly() {
    // Run Adam with amsgrad for 2 steps, save, restore into a fresh optimizer, run 3 more;
    // the result must equal 5 uninterrupted steps (which the fixture pins to PyTorch).
    let fx = load("optim.json");
    let case = fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "adam_amsgrad_wd")
        .unwrap();
    let shapes: BTreeMap<String, Vec<usize>> = fx["shapes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), dims(v)))
        .collect();
    let grads = |step: usize| -> BTreeMap<String, Tensor> {
        fx["grads"][step]
            .as_object()
            .unwrap()
            .iter()
            .map(|(n, v)| (n.clone(), tensor_from_f64(v, &shapes[n], DType::F32)))
            .collect()
    };
    let mut params: BTreeMap<String, Tensor> = shapes
        .iter()
        .map(|(n, s)| (n.clone(), tensor_from_f64(&fx["init"][n], s, DType::F32)))
        .collect();
    let mut first = build_optimizer("Adam", &case["kwargs"], &Value::Null);
    for step in 0..2 {
        first.step(&mut params, &grads(step)).unwrap();
    }
    let saved = first.state_dict();
    drop(first);
    let mut second = build_optimizer("Adam", &case["kwargs"], &Value::Null);
    second.load_state_dict(&saved).unwrap();
    let restored = second.state_dict();
    assert_eq!(
        restored.keys().collect::<Vec<_>>(),
        saved.keys().collect::<Vec<_>>()
    );
    for (k, v) in &saved {
        assert_eq!(restored[k].dtype(), v.dtype(), "{k}");
        assert_eq!(ulps(&restored[k], v), 0, "{k}");
    }
    for step in 2..5 {
        second.step(&mut params, &grads(step)).unwrap();
    }
    for (n, p) in &params {
        let want = tensor(&case["expected"][4][n], &shapes[n], DType::F32);
        assert_eq!(ulps(p, &want), 0, "{n}");
    }
}

#[test]
fn schedulers_match_pytorch_bit_for_bit() {
    let fx = load("schedulers.json");
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let lrs = case["lrs"].as_array().unwrap();
        let groups: Vec<GroupOptions> = (0..lrs.len())
            .map(|i| GroupOptions::names([format!("p{i}")]).lr(lrs[i].as_f64().unwrap()))
            .collect();
        let kw = case["optimizer_kwargs"].clone();
        let mut gv = Vec::new();
        for g in &groups {
            gv.push(serde_json::json!({"params": g_names(g), "lr": g.lr.unwrap()}));
        }
        let mut opt = build_optimizer(case["optimizer"].as_str().unwrap(), &kw, &Value::Array(gv));
        let mut sched = build_scheduler(opt.as_mut(), &case["scheduler"]);
        let expected = case["last_lr"].as_array().unwrap();
        let momenta = case["momentum"].as_array().unwrap();
        for (i, (want, mom)) in expected.iter().zip(momenta).enumerate() {
            if i > 0 {
                sched.step(opt.as_mut()).unwrap();
            }
            let want = f64s(want);
            let got = sched.last_lr();
            assert_eq!(got.len(), want.len(), "{name} step {i}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(
                    g.to_bits(),
                    w.to_bits(),
                    "{name} step {i}: {g} vs PyTorch {w}"
                );
            }
            assert_eq!(opt.lrs(), got, "{name} step {i}: the optimizer's rates");
            for (grp, m) in opt.param_groups().iter().zip(mom.as_array().unwrap()) {
                let want_m = m.as_str().map(|s| s.parse::<f64>().unwrap());
                // Adagrad has no momentum; PyTorch's SGD without momentum reports 0.
                let got_m = grp.momentum;
                assert_eq!(
                    got_m.map(f64::to_bits),
                    want_m.map(f64::to_bits),
                    "{name} step {i}: momentum"
                );
            }
        }
        match case["error_at_step"].as_u64() {
            Some(n) => {
                assert_eq!(n as usize, expected.len(), "{name}");
                let err = sched.step(opt.as_mut()).unwrap_err().to_string();
                assert!(err.contains("total steps"), "{name}: {err}");
            }
            None => sched.step(opt.as_mut()).unwrap(),
        }
    }
}

fn g_names(g: &GroupOptions) -> Vec<String> {
    match &g.params {
        strata_nn::optim::Params::Names(n) => n.iter().cloned().collect(),
        strata_nn::optim::Params::Rest => Vec::new(),
    }
}

#[test]
fn scheduler_state_round_trip_resumes_exactly() {
    let fx = load("schedulers.json");
    for name in ["warmup_cosine", "cosine", "onecycle_cos"] {
        let case = fx["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        let lrs = case["lrs"].as_array().unwrap();
        let gv: Vec<Value> = (0..lrs.len())
            .map(|i| serde_json::json!({"params": [format!("p{i}")], "lr": lrs[i]}))
            .collect();
        let build = || {
            let mut opt = build_optimizer(
                case["optimizer"].as_str().unwrap(),
                &case["optimizer_kwargs"],
                &Value::Array(gv.clone()),
            );
            let sched = build_scheduler(opt.as_mut(), &case["scheduler"]);
            (opt, sched)
        };
        let (mut opt, mut sched) = build();
        for _ in 0..7 {
            sched.step(opt.as_mut()).unwrap();
        }
        let (opt_state, sched_state) = (opt.state_dict(), sched.state_dict());
        let (mut opt2, mut sched2) = build();
        opt2.load_state_dict(&opt_state).unwrap();
        sched2.load_state_dict(&sched_state).unwrap();
        let expected = case["last_lr"].as_array().unwrap();
        for (i, want) in expected.iter().enumerate().skip(8) {
            sched2.step(opt2.as_mut()).unwrap();
            let want = f64s(want);
            let got: Vec<u64> = sched2.last_lr().iter().map(|v| v.to_bits()).collect();
            let want: Vec<u64> = want.iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, want, "{name} resumed, step {i}");
        }
    }
}

#[test]
fn clipping_matches_pytorch() {
    let fx = load("clip.json");
    let shapes: BTreeMap<String, Vec<usize>> = fx["shapes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), dims(v)))
        .collect();
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let dtype = dtype_of(case["dtype"].as_str().unwrap());
        let mut grads: BTreeMap<String, Tensor> = shapes
            .keys()
            .map(|n| {
                let v = fx["grads"][0].get(n).unwrap_or(&fx["grads"][1][n]);
                (n.clone(), tensor_from_f64(v, &shapes[n], dtype))
            })
            .collect();
        let kw = &case["kwargs"];
        if let Some(clip) = num(kw, "clip_value") {
            clip_grad_value_(&mut grads, clip).unwrap();
        } else {
            let norm_type = match &kw["norm_type"] {
                Value::String(s) if s == "inf" => NormType::Inf,
                v if v.as_f64() == Some(2.0) => NormType::Two,
                v => NormType::P(v.as_f64().unwrap()),
            };
            let total = clip_grad_norm_(&mut grads, num(kw, "max_norm").unwrap(), norm_type, false)
                .unwrap();
            let want: f64 = case["total_norm"].as_str().unwrap().parse().unwrap();
            let tol = if dtype == DType::F32 {
                2.0 * f64::from(f32::EPSILON) * want
            } else {
                1e-12 * want
            };
            assert!(
                (total - want).abs() <= tol,
                "{name}: total norm {total} vs PyTorch {want}"
            );
        }
        let max_ulps = if dtype == DType::F32 { 2 } else { 16 };
        for (n, g) in &grads {
            let want = tensor(&case["grads"][n], &shapes[n], dtype);
            let d = ulps(g, &want);
            assert!(d <= max_ulps, "{name}: {n} differs from PyTorch by {d} ulp");
        }
    }
}
