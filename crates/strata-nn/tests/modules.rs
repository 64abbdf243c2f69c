//! Modules against PyTorch: the fixtures in `tests/fixtures/modules.json` were written by
//! `tests/fixtures/gen_modules.py` (torch 2.x, CPU, float64 unless noted).
//!
//! - state-dict names, shapes and dtypes of each architecture equal PyTorch's;
//! - forward outputs, the gradients of `Σ output · cotangent` with respect to every parameter
//!   and the input, and batch norm's running statistics after a training-mode pass, on
//!   PyTorch's weights, agree within 1e-9 (absolute and relative; the kernels sum in other
//!   orders than PyTorch's, so equality is not expected);
//! - SGD with momentum on the mean cross-entropy of a small MLP gives PyTorch's losses and
//!   parameters after each step (f32 within 2e-6 relative, f64 within 1e-12), on both backends.

use serde_json::Value;
use std::collections::BTreeMap;
use strata_autograd::Tape;
use strata_ir::GeluApproximation;
use strata_nn::data::Batch;
use strata_nn::modules::Embedding;
use strata_nn::modules::{
    apply_stat_update, specs, AdaptiveAvgPool2d, AvgPool2d, BasicBlock, BatchNorm, Conv1d, Conv2d,
    ConvTranspose2d, Elu, FeedForwardActivation, Flatten, Forward, Gelu, GroupNorm, Gru, Hardtanh,
    Identity, Kind, LayerNorm, LeakyReLU, Linear, LogSoftmax, Lstm, MaxPool2d, Mish, Model, Module,
    MultiheadAttention, ReLU, ReLU6, Residual, RmsNorm, Sequential, SiLU, Sigmoid, Softmax,
    Softplus, Tanh, TransformerEncoderLayer,
};
use strata_nn::train::{make_optimizer, Backend, Trainer};
use strata_nn::zoo::{self, OptimizerKind};
use strata_tensor::{DType, Rng, Tensor};

fn fixtures() -> Value {
    let path = format!("{}/tests/fixtures/modules.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dims(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn dtype(s: &str) -> DType {
    match s {
        "f32" => DType::F32,
        "f64" => DType::F64,
        "i64" => DType::I64,
        other => panic!("dtype {other}"),
    }
}

/// A tensor from `{"shape", "dtype", "values"}` (f32 values are exact widenings).
fn tensor(v: &Value) -> Tensor {
    let shape = dims(&v["shape"]);
    let vals = v["values"].as_array().unwrap();
    match dtype(v["dtype"].as_str().unwrap()) {
        DType::F32 => Tensor::from_vec(
            vals.iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect::<Vec<_>>(),
            shape,
        ),
        DType::F64 => Tensor::from_vec(
            vals.iter().map(|x| x.as_f64().unwrap()).collect::<Vec<_>>(),
            shape,
        ),
        _ => Tensor::from_vec(
            vals.iter().map(|x| x.as_i64().unwrap()).collect::<Vec<_>>(),
            shape,
        ),
    }
    .unwrap()
}

fn assert_close(what: &str, got: &Tensor, want: &Tensor, tol: f64) {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    assert_eq!(got.dtype(), want.dtype(), "{what}: dtype");
    let (g, w) = (got.to_vec_f64(), want.to_vec_f64());
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "{what}[{i}]: got {a}, PyTorch {b} (difference {:e})",
            (a - b).abs()
        );
    }
}

/// The Strata twin of each architecture in the fixtures.
fn build(name: &str) -> Box<dyn Module> {
    let mlp6 = || {
        Sequential::new()
            .append(Linear::new(6, 5))
            .append(ReLU)
            .append(Linear::new(5, 3))
    };
    match name {
        "mlp" => Box::new(zoo::mlp()),
        "cnn" => Box::new(zoo::cnn()),
        "linear" => Box::new(Linear::new(5, 3)),
        "linear_nobias" | "linear_3d" => Box::new(Linear::new(5, 3).bias(false)),
        "conv1d" => Box::new(Conv1d::new(4, 6, 3).stride(2).padding(1).groups(2)),
        "conv2d" => Box::new(Conv2d::new(3, 4, 3).stride(2).padding(1)),
        "conv2d_dilated" => Box::new(Conv2d::new(2, 3, 3).kernel([3, 2]).dilation(2).bias(false)),
        "conv_transpose2d" => Box::new(ConvTranspose2d::new(4, 6, 3).stride(2)),
        "conv_transpose2d_fwd" => Box::new(
            ConvTranspose2d::new(4, 6, 3)
                .stride(2)
                .padding(1)
                .output_padding(1),
        ),
        "max_pool2d" => Box::new(MaxPool2d::new(2)),
        "max_pool2d_strided" => Box::new(MaxPool2d::new(3).stride(2).padding(1)),
        "avg_pool2d" => Box::new(AvgPool2d::new(3).stride(2).padding(1)),
        "adaptive_avg_pool2d" => Box::new(AdaptiveAvgPool2d([3, 2])),
        "flatten" => Box::new(Flatten::new()),
        "relu" => Box::new(ReLU),
        "relu6" => Box::new(ReLU6),
        "leaky_relu" => Box::new(LeakyReLU {
            negative_slope: 0.2,
        }),
        "elu" => Box::new(Elu { alpha: 0.7 }),
        "gelu" => Box::new(Gelu::default()),
        "gelu_tanh" => Box::new(Gelu {
            approximate: GeluApproximation::Tanh,
        }),
        "tanh" => Box::new(Tanh),
        "sigmoid" => Box::new(Sigmoid),
        "silu" => Box::new(SiLU),
        "mish" => Box::new(Mish),
        "softplus" => Box::new(Softplus {
            beta: 2.0,
            threshold: 3.0,
        }),
        "hardtanh" => Box::new(Hardtanh {
            min_val: -0.5,
            max_val: 0.8,
        }),
        "softmax" => Box::new(Softmax { dim: 1 }),
        "log_softmax" => Box::new(LogSoftmax { dim: -1 }),
        "batchnorm1d" | "batchnorm1d_train" => Box::new(BatchNorm::d1(7)),
        "batchnorm1d_3d_train" => Box::new(BatchNorm::d1(3)),
        "batchnorm2d" | "batchnorm2d_train" | "batchnorm2d_eval" => Box::new(BatchNorm::d2(3)),
        "batchnorm2d_cma_train" => Box::new(BatchNorm::d2(3).momentum(None)),
        "layernorm" => Box::new(LayerNorm::new(vec![4, 8])),
        "rmsnorm" => Box::new(RmsNorm::new(vec![8]).eps(1e-6)),
        "groupnorm" => Box::new(GroupNorm::new(2, 6)),
        "embedding" => Box::new(Embedding::new(11, 5)),
        "basic_block" => Box::new(BasicBlock::new(16, 32, 2)),
        "basic_block_identity" => Box::new(BasicBlock::new(8, 8, 1)),
        "basic_block_train" => Box::new(BasicBlock::new(4, 8, 2)),
        "basic_block_eval" => Box::new(BasicBlock::new(4, 4, 1)),
        "residual" => Box::new(Residual::new(
            Sequential::new().append(Linear::new(4, 4)).append(ReLU),
        )),
        "residual_fwd" => Box::new(Residual::new(
            Sequential::new().append(Linear::new(4, 4)).append(Tanh),
        )),
        "named_sequential" => Box::new(
            Sequential::new()
                .append_named("fc1", Linear::new(3, 4))
                .append_named("act", ReLU)
                .append_named("fc2", Linear::new(4, 2)),
        ),
        "sequential_mlp" => Box::new(mlp6()),
        "mha" => Box::new(MultiheadAttention::new(8, 2)),
        "mha_batch_first_causal" => {
            Box::new(MultiheadAttention::new(8, 4).batch_first(true).causal(true))
        }
        "transformer_encoder_layer" => Box::new(TransformerEncoderLayer::new(8, 2, 16)),
        "transformer_encoder_layer_fwd" => {
            Box::new(TransformerEncoderLayer::new(8, 2, 16).dropout(0.0))
        }
        "transformer_encoder_layer_norm_first_gelu" => Box::new(
            TransformerEncoderLayer::new(8, 2, 16)
                .dropout(0.0)
                .activation(FeedForwardActivation::Gelu)
                .norm_first(true)
                .batch_first(true),
        ),
        "lstm" => Box::new(Lstm::new(3, 5).num_layers(2)),
        "gru" => Box::new(Gru::new(3, 5).num_layers(2)),
        "gru_batch_first" => Box::new(Gru::new(3, 5).num_layers(2).batch_first(true)),
        "identity" => Box::new(Identity),
        other => panic!("no Strata twin for `{other}`"),
    }
}

/// Forward cases whose module differs from the state-dict case of the same name.
fn forward_twin(name: &str) -> &str {
    match name {
        "conv_transpose2d" => "conv_transpose2d_fwd",
        "residual" => "residual_fwd",
        "transformer_encoder_layer" => "transformer_encoder_layer_fwd",
        other => other,
    }
}

#[test]
fn state_dict_names_shapes_and_dtypes_match_pytorch() {
    let fx = fixtures();
    for (name, want) in fx["state_dicts"].as_object().unwrap() {
        let module = build(name);
        let got = specs(&*module, DType::F32).unwrap();
        let mut want: Vec<(String, Vec<usize>, DType)> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().to_string(),
                    dims(&e["shape"]),
                    dtype(e["dtype"].as_str().unwrap()),
                )
            })
            .collect();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        let got: Vec<(String, Vec<usize>, DType)> = got
            .iter()
            .map(|s| (s.name.clone(), s.shape.dims().to_vec(), s.dtype))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn buffers_are_not_parameters() {
    let all = specs(&BasicBlock::new(4, 8, 2), DType::F32).unwrap();
    let buffers: Vec<&str> = all
        .iter()
        .filter(|s| s.kind == Kind::Buffer)
        .map(|s| s.name.as_str())
        .collect();
    assert!(buffers.contains(&"downsample.1.running_var"));
    assert!(buffers
        .iter()
        .all(|b| b.contains("running") || b.contains("num_batches")));
    // conv1, conv2, downsample.0 weights; bn1, bn2, downsample.1: weight, bias and 3 buffers.
    assert_eq!(all.len(), 3 + 3 * 5);
}

#[test]
fn forward_and_gradients_match_pytorch() {
    let fx = fixtures();
    let mut checked = 0;
    for (name, case) in fx["forward"].as_object().unwrap() {
        let mut model = Model::from_boxed(build(forward_twin(name)), DType::F64, &mut Rng::new(0))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let state: BTreeMap<String, Tensor> = case["state"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), tensor(v)))
            .collect();
        model
            .load_state_dict(&state, name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let train = case["mode"] == "train";
        let tape = Tape::new();
        let xt = tensor(&case["input"]);
        let x = tape.input(xt.clone(), xt.dtype().is_float());
        let fwd = if train {
            Forward::train(&tape, &model.params, &model.buffers, 0, 0)
        } else {
            Forward::eval(&tape, &model.params, &model.buffers)
        };
        let y = fwd
            .run(&*model.module, &x)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_close(
            &format!("{name} output"),
            &y.value(),
            &tensor(&case["output"]),
            1e-9,
        );
        let grads = tape
            .backward_with(&y, tensor(&case["cotangent"]))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (k, want) in case["grads"].as_object().unwrap() {
            let got = if k == "<input>" {
                grads.get(&x).unwrap().clone()
            } else {
                grads
                    .by_name()
                    .get(k)
                    .unwrap_or_else(|| panic!("{name}: no gradient for {k}"))
                    .clone()
            };
            assert_close(&format!("{name} grad {k}"), &got, &tensor(want), 1e-9);
        }
        let expected_buffers = case["buffers_after"].as_object().unwrap();
        if train && !expected_buffers.is_empty() {
            for s in fwd.stats() {
                apply_stat_update(
                    &mut model.buffers,
                    &s.prefix,
                    s.momentum,
                    &s.mean.value(),
                    &s.var.value(),
                )
                .unwrap();
            }
        }
        for (k, want) in expected_buffers {
            assert_close(
                &format!("{name} buffer {k}"),
                &model.buffers[k],
                &tensor(want),
                1e-9,
            );
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} cases");
}

#[test]
fn sgd_steps_match_pytorch_on_both_backends() {
    let fx = fixtures();
    for case in fx["sgd"].as_array().unwrap() {
        let dt = dtype(case["dtype"].as_str().unwrap());
        let tol = if dt == DType::F32 { 2e-6 } else { 1e-12 };
        for backend in [Backend::Eager, Backend::Compiled] {
            let net = Sequential::new()
                .append(Linear::new(6, 5))
                .append(ReLU)
                .append(Linear::new(5, 3));
            let mut model = Model::new(net, dt, &mut Rng::new(0)).unwrap();
            let init: BTreeMap<String, Tensor> = case["init"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), tensor(v)))
                .collect();
            model.load_state_dict(&init, "init").unwrap();
            let opt = make_optimizer(
                OptimizerKind::Sgd,
                case["lr"].as_f64().unwrap(),
                case["momentum"].as_f64().unwrap(),
                0.0,
            )
            .unwrap();
            let mut t = Trainer::new(model, "sgd-test", opt, "sgd", backend, 0, 8);
            let batches = case["batches"].as_array().unwrap();
            for (i, b) in batches.iter().enumerate() {
                let batch = Batch {
                    inputs: tensor(&b["x"]),
                    targets: tensor(&b["y"]),
                };
                let out = t.train_step(&batch).unwrap();
                let want = case["losses"][i].as_f64().unwrap();
                let got = out.loss_f64();
                assert!(
                    (got - want).abs() <= tol * (1.0 + want.abs()),
                    "{backend:?} {dt} step {i}: loss {got}, PyTorch {want}"
                );
                for (k, v) in case["after"][i].as_object().unwrap() {
                    assert_close(
                        &format!("{backend:?} {dt} step {i} {k}"),
                        &t.model.params[k],
                        &tensor(v),
                        tol,
                    );
                }
            }
        }
    }
}

#[test]
fn dropout_is_identity_in_eval_and_scaled_mask_in_train() {
    use strata_nn::modules::Dropout;
    let model = Model::new(Dropout::new(0.25), DType::F64, &mut Rng::new(0)).unwrap();
    let x = Tensor::ones([1000], DType::F64).unwrap();
    let tape = Tape::new();
    let xv = tape.input(x.clone(), false);
    let y = model.forward_eval(&tape, &xv).unwrap().value();
    assert_eq!(y.to_vec::<f64>().unwrap(), x.to_vec::<f64>().unwrap());
    let run = |stream| {
        let tape = Tape::new();
        let xv = tape.input(x.clone(), false);
        let fwd = Forward::train(&tape, &model.params, &model.buffers, 5, stream);
        fwd.run(&*model.module, &xv)
            .unwrap()
            .value()
            .to_vec::<f64>()
            .unwrap()
    };
    let a = run(0);
    // Every element is 0 or 1/(1 − p); about a quarter are dropped.
    assert!(a.iter().all(|&v| v == 0.0 || v == 1.0 / 0.75));
    let dropped = a.iter().filter(|&&v| v == 0.0).count();
    assert!((180..320).contains(&dropped), "{dropped} of 1000 dropped");
    // The mask is a function of (seed, stream): same stream, same mask; next stream, another.
    assert_eq!(run(0), a);
    assert_ne!(run(1), a);
}

#[test]
fn state_dict_mismatches_are_errors_naming_the_entry() {
    let mut model = Model::new(zoo::mlp(), DType::F32, &mut Rng::new(0)).unwrap();
    let other = Model::new(zoo::cnn(), DType::F32, &mut Rng::new(0)).unwrap();
    let e = model
        .load_state_dict(&other.state_dict(), "cnn.safetensors")
        .unwrap_err()
        .to_string();
    assert!(e.contains("cnn.safetensors") && e.contains("1.bias"), "{e}");
    let mut sd = model.state_dict();
    sd.insert(
        "extra.weight".into(),
        Tensor::zeros([1], DType::F32).unwrap(),
    );
    let e = model.load_state_dict(&sd, "f").unwrap_err().to_string();
    assert!(e.contains("unexpected entry `extra.weight`"), "{e}");
    let mut sd = model.state_dict();
    sd.insert("5.bias".into(), Tensor::zeros([11], DType::F32).unwrap());
    let e = model.load_state_dict(&sd, "f").unwrap_err().to_string();
    assert!(
        e.contains("`5.bias`") && e.contains("[11]") && e.contains("[10]"),
        "{e}"
    );
    // Nothing changed.
    assert_eq!(model.params["5.bias"].dims(), [10]);
    let bad = Model::new(GroupNorm::new(4, 6), DType::F32, &mut Rng::new(0)).unwrap_err();
    assert!(bad.to_string().contains("divisible"), "{bad}");
    let bad = Model::new(Linear::new(3, 2), DType::I64, &mut Rng::new(0)).unwrap_err();
    assert!(bad.to_string().contains("f32 or f64"), "{bad}");
}

#[test]
fn default_initialization_has_pytorchs_bounds() {
    // Linear / conv weights and biases: U(−1/√fan_in, 1/√fan_in); LSTM: U(−1/√H, 1/√H).
    let model = Model::new(zoo::cnn(), DType::F64, &mut Rng::new(3)).unwrap();
    for (name, fan_in) in [("0", 9.0), ("3", 288.0), ("7", 3136.0), ("9", 128.0)] {
        for part in ["weight", "bias"] {
            let v = model.params[&format!("{name}.{part}")]
                .to_vec::<f64>()
                .unwrap();
            let bound = 1.0 / f64::sqrt(fan_in);
            let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(max <= bound, "{name}.{part}: {max} > {bound}");
            if v.len() > 100 {
                assert!(max > 0.95 * bound, "{name}.{part}: {max} ≪ {bound}");
            }
        }
    }
    let lstm = Model::new(Lstm::new(3, 16), DType::F64, &mut Rng::new(3)).unwrap();
    let v = lstm.params["weight_hh_l0"].to_vec::<f64>().unwrap();
    assert!(v.iter().all(|x| x.abs() <= 0.25) && v.iter().any(|x| x.abs() > 0.24));
}
