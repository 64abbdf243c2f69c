//! PyTorch interop: the models of scripts/interop/make_fixtures.py (MLP, CNN, ResNet with
//! batch norm, a transformer encoder layer, a GPT-style causal block), loaded both ways and
//! checked against PyTorch's outputs:
//! - the ONNX file imported with `onnx::import_model` and run natively;
//! - the safetensors state_dict bound by PyTorch's names to the same architecture built here
//!   in the IR.
//!
//! Then export: those graphs and an op tour built in the IR are exported to ONNX, imported back
//! (bit-identical values), and run live in onnxruntime through scripts/interop/run_onnxruntime.py
//! (the Python is `$STRATA_PYTHON`, set by .ci/run; without it the live tests skip when python3
//! has no onnxruntime). Every VNN-COMP network is also run in onnxruntime on points inside its
//! property's input box.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use strata_io::onnx::{
    export_model, import_model, read_onnx, write_onnx, ImportOptions, ModelProto,
    DEFAULT_EXPORT_OPSET,
};
use strata_io::{read_npz, read_safetensors, vnnlib, write_npz, NpzCompression};
use strata_ir::eval::{run, ExecConfig};
use strata_ir::Comparison;
use strata_ir::{
    AttentionMask, GeluApproximation, Graph, GraphBuilder, Literal, NodeId, Op, ParamStore,
};
use strata_tensor::{
    AvgPool2dParams, Conv1dParams, Conv2dParams, ConvTranspose2dParams, DType, MaxPool2dParams,
    Tensor,
};

const MODELS: [&str; 5] = ["mlp", "cnn", "resnet", "encoder", "gpt"];

/// PyTorch's `input` and `output` for `name`.
fn pytorch_io(name: &str) -> (Tensor, Tensor) {
    let mut io = read_npz(fixture_dir("interop").join(format!("{name}.npz"))).unwrap();
    (io.remove("input").unwrap(), io.remove("output").unwrap())
}

fn run_one(graph: &Graph, params: &ParamStore, input: &Tensor) -> Tensor {
    let mut out = run(
        graph,
        params,
        std::slice::from_ref(input),
        &ExecConfig::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.len(), 1);
    out.remove(0)
}

#[test]
fn onnx_exports_of_pytorch_models_match_pytorch() {
    for name in MODELS {
        let file = format!("{name}.onnx");
        let model = read_onnx(fixture_dir("interop").join(&file)).unwrap();
        let imported = import_model(&model, &file, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let (input, want) = pytorch_io(name);
        let ours = run_one(&imported.graph, &imported.params, &input);
        let error = max_error(&ours, &want);
        println!("{file}: max relative error vs PyTorch {error:.3e}");
        assert!(error <= 1e-5, "{file}: {error:e}");
    }
}

/// Builds a model's IR graph from PyTorch module names, declaring each parameter with the
/// shape the checkpoint gives it (so a wrong name fails here, a wrong shape in the ops).
struct Net<'s> {
    b: GraphBuilder,
    state: &'s ParamStore,
}

type Id = NodeId;

impl Net<'_> {
    fn op(&mut self, op: Op, inputs: &[Id]) -> Id {
        self.b.push(op, inputs).unwrap_or_else(|e| panic!("{e}"))
    }
    fn param(&mut self, name: &str) -> Id {
        let t = (self.state.get(name)).unwrap_or_else(|| panic!("checkpoint lacks {name}"));
        let op = Op::Parameter {
            name: name.into(),
            shape: t.shape().clone(),
            dtype: t.dtype(),
        };
        self.op(op, &[])
    }
    fn linear(&mut self, x: Id, prefix: &str, bias: bool) -> Id {
        let bias = bias.then(|| format!("{prefix}.bias"));
        self.linear_named(x, &format!("{prefix}.weight"), bias.as_deref())
    }
    fn linear_named(&mut self, x: Id, weight: &str, bias: Option<&str>) -> Id {
        let mut args = vec![x, self.param(weight)];
        args.extend(bias.map(|b| self.param(b)));
        self.op(
            Op::Linear {
                bias: bias.is_some(),
            },
            &args,
        )
    }
    fn conv(&mut self, x: Id, prefix: &str, stride: usize, padding: usize, bias: bool) -> Id {
        let params = Conv2dParams {
            stride: [stride; 2],
            padding: [padding; 2],
            ..Conv2dParams::default()
        };
        let mut args = vec![x, self.param(&format!("{prefix}.weight"))];
        if bias {
            args.push(self.param(&format!("{prefix}.bias")));
        }
        self.op(Op::Conv2d { params, bias }, &args)
    }
    fn batch_norm(&mut self, x: Id, prefix: &str) -> Id {
        let args = ["running_mean", "running_var", "weight", "bias"]
            .map(|p| self.param(&format!("{prefix}.{p}")));
        let op = Op::BatchNorm {
            eps: 1e-5,
            affine: true,
        };
        self.op(op, &[x, args[0], args[1], args[2], args[3]])
    }
    fn layer_norm(&mut self, x: Id, prefix: &str, d: usize) -> Id {
        let (w, b) = (
            self.param(&format!("{prefix}.weight")),
            self.param(&format!("{prefix}.bias")),
        );
        let op = Op::LayerNorm {
            normalized_shape: vec![d],
            eps: 1e-5,
            affine: true,
        };
        self.op(op, &[x, w, b])
    }
    fn relu(&mut self, x: Id) -> Id {
        self.op(Op::Relu, &[x])
    }
    fn add(&mut self, x: Id, y: Id) -> Id {
        self.op(Op::Add, &[x, y])
    }
    fn flatten(&mut self, x: Id) -> Id {
        self.op(
            Op::Flatten {
                start_axis: 1,
                end_axis: -1,
            },
            &[x],
        )
    }
    /// Multi-head attention on `[b, t, 3d]` packed q, k, v: `[b, t, d]`.
    fn attention(
        &mut self,
        qkv: Id,
        [b, t, d]: [usize; 3],
        heads: usize,
        mask: AttentionMask,
    ) -> Id {
        let split_heads = |net: &mut Self, index| {
            let piece = net.op(
                Op::Split {
                    axis: -1,
                    sizes: vec![d; 3],
                    index,
                },
                &[qkv],
            );
            let shape = vec![b as i64, t as i64, heads as i64, (d / heads) as i64];
            let r = net.op(Op::Reshape { shape }, &[piece]);
            net.op(Op::Transpose { axis0: 1, axis1: 2 }, &[r])
        };
        let (q, k, v) = (
            split_heads(self, 0),
            split_heads(self, 1),
            split_heads(self, 2),
        );
        let y = self.op(
            Op::ScaledDotProductAttention { mask, scale: None },
            &[q, k, v],
        );
        let y = self.op(Op::Transpose { axis0: 1, axis1: 2 }, &[y]);
        let shape = vec![b as i64, t as i64, d as i64];
        self.op(Op::Reshape { shape }, &[y])
    }
}

fn input(net: &mut Net, x: &Tensor) -> Id {
    net.op(
        Op::Input {
            shape: x.shape().clone(),
            dtype: x.dtype(),
        },
        &[],
    )
}

fn basic_block(net: &mut Net, x: Id, prefix: &str, stride: usize, downsample: bool) -> Id {
    let h = net.conv(x, &format!("{prefix}.conv1"), stride, 1, false);
    let h = net.batch_norm(h, &format!("{prefix}.bn1"));
    let h = net.relu(h);
    let h = net.conv(h, &format!("{prefix}.conv2"), 1, 1, false);
    let h = net.batch_norm(h, &format!("{prefix}.bn2"));
    let shortcut = if downsample {
        let s = net.conv(x, &format!("{prefix}.downsample.0"), stride, 0, false);
        net.batch_norm(s, &format!("{prefix}.downsample.1"))
    } else {
        x
    };
    let sum = net.add(h, shortcut);
    net.relu(sum)
}

/// The IR twin of PyTorch model `name` (see make_fixtures.py) for input `x`.
fn build(name: &str, state: &ParamStore, x: &Tensor) -> Graph {
    let mut net = Net {
        b: GraphBuilder::new(),
        state,
    };
    let x_id = input(&mut net, x);
    let y = match name {
        "mlp" => {
            let h = net.linear(x_id, "fc1", true);
            let h = net.relu(h);
            let h = net.linear(h, "fc2", true);
            let h = net.relu(h);
            net.linear(h, "fc3", true)
        }
        "cnn" => {
            let h = net.conv(x_id, "conv1", 1, 1, true);
            let h = net.batch_norm(h, "bn1");
            let h = net.relu(h);
            let params = MaxPool2dParams::new([2, 2]);
            let h = net.op(Op::MaxPool2d { params }, &[h]);
            let h = net.conv(h, "conv2", 2, 1, true);
            let h = net.relu(h);
            let h = net.flatten(h);
            net.linear(h, "fc", true)
        }
        "resnet" => {
            let h = net.conv(x_id, "conv1", 1, 1, false);
            let h = net.batch_norm(h, "bn1");
            let h = net.relu(h);
            let h = basic_block(&mut net, h, "layer1", 1, false);
            let h = basic_block(&mut net, h, "layer2", 2, true);
            let pool = Op::AdaptiveAvgPool2d {
                output_size: [1, 1],
            };
            let h = net.op(pool, &[h]);
            let h = net.flatten(h);
            net.linear(h, "fc", true)
        }
        "encoder" => {
            let dims: [usize; 3] = x.dims().try_into().unwrap();
            let qkv = net.linear_named(
                x_id,
                "layer.self_attn.in_proj_weight",
                Some("layer.self_attn.in_proj_bias"),
            );
            let a = net.attention(qkv, dims, 2, AttentionMask::None);
            let a = net.linear(a, "layer.self_attn.out_proj", true);
            let h = net.add(x_id, a);
            let h = net.layer_norm(h, "layer.norm1", dims[2]);
            let f = net.linear(h, "layer.linear1", true);
            let f = net.relu(f);
            let f = net.linear(f, "layer.linear2", true);
            let h = net.add(h, f);
            net.layer_norm(h, "layer.norm2", dims[2])
        }
        "gpt" => {
            let [b, t] = x.dims().try_into().unwrap();
            let d = state["wte.weight"].dims()[1];
            let wte = net.param("wte.weight");
            let tokens = net.op(Op::Embedding, &[x_id, wte]);
            let positions = Tensor::from_vec((0..t as i64).collect::<Vec<_>>(), [t]).unwrap();
            let positions = net.op(
                Op::Constant {
                    value: Literal(positions),
                },
                &[],
            );
            let wpe = net.param("wpe.weight");
            let positions = net.op(Op::Embedding, &[positions, wpe]);
            let h = net.add(tokens, positions);
            let n = net.layer_norm(h, "ln1", d);
            let qkv = net.linear(n, "qkv", true);
            let a = net.attention(qkv, [b, t, d], 2, AttentionMask::Causal);
            let a = net.linear(a, "proj", true);
            let h = net.add(h, a);
            let n = net.layer_norm(h, "ln2", d);
            let f = net.linear(n, "fc1", true);
            let f = net.op(
                Op::Gelu {
                    approximate: GeluApproximation::Erf,
                },
                &[f],
            );
            let f = net.linear(f, "fc2", true);
            let h = net.add(h, f);
            let h = net.layer_norm(h, "ln_f", d);
            net.linear(h, "head", false)
        }
        other => panic!("no IR twin for {other}"),
    };
    net.b.finish(&[y]).unwrap()
}

/// `name`'s state_dict from its safetensors file.
fn state_dict(name: &str) -> ParamStore {
    read_safetensors(fixture_dir("interop").join(format!("{name}.safetensors")))
        .unwrap_or_else(|e| panic!("{e}"))
        .tensors
}

#[test]
fn safetensors_state_dicts_bind_by_pytorch_names_and_match_pytorch() {
    for name in MODELS {
        let state = state_dict(name);
        let (input, want) = pytorch_io(name);
        let graph = build(name, &state, &input);
        graph.check_params(&state).unwrap();
        let ours = run_one(&graph, &state, &input);
        let error = max_error(&ours, &want);
        println!("{name}.safetensors: max relative error vs PyTorch {error:.3e}");
        assert!(error <= 1e-5, "{name}: {error:e}");
    }
}

/// Deterministic uniform samples in `[lo, hi)` (splitmix64): test inputs and weights.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
    fn tensor(&mut self, dims: &[usize]) -> Tensor {
        let n = dims.iter().product();
        let v: Vec<f32> = (0..n).map(|_| self.uniform(-1.0, 1.0) as f32).collect();
        Tensor::from_vec(v, dims).unwrap()
    }
}

/// A graph built directly in the IR that uses every op the exporter writes as ONNX nodes of
/// its own or decomposes, with random parameters; outputs of several dtypes.
fn op_tour(rng: &mut Rng) -> (Graph, ParamStore, Tensor) {
    let mut params = ParamStore::new();
    let shapes: [(&str, &[usize]); 12] = [
        ("conv.weight", &[4, 3, 3, 3]),
        ("conv.bias", &[4]),
        ("up.weight", &[4, 2, 3, 3]),
        ("up.bias", &[2]),
        ("gn.weight", &[4]),
        ("gn.bias", &[4]),
        ("rms.weight", &[6]),
        ("mix", &[5, 4]),
        ("fc.weight", &[3, 6]),
        ("table", &[7, 6]),
        ("bn.mean", &[4]),
        ("conv1d.weight", &[2, 4, 3]),
    ];
    for (name, dims) in shapes {
        params.insert(name.into(), rng.tensor(dims));
    }
    let var = rng.tensor(&[4]).to_vec::<f32>().unwrap();
    let var: Vec<f32> = var.iter().map(|v| v.abs() + 0.5).collect();
    params.insert("bn.var".into(), Tensor::from_vec(var, [4]).unwrap());
    let x = rng.tensor(&[2, 3, 6, 6]);
    let mut net = Net {
        b: GraphBuilder::new(),
        state: &params,
    };
    let xi = input(&mut net, &x);
    let konst = |net: &mut Net, t: Tensor| net.op(Op::Constant { value: Literal(t) }, &[]);
    let c = net.conv(xi, "conv", 1, 1, true); // [2,4,6,6]
    let (w, b) = (net.param("up.weight"), net.param("up.bias"));
    let up = ConvTranspose2dParams {
        stride: [2, 2],
        padding: [1, 1],
        output_padding: [1, 1],
        ..ConvTranspose2dParams::default()
    };
    let t = net.op(
        Op::ConvTranspose2d {
            params: up,
            bias: true,
        },
        &[c, w, b],
    ); // [2,2,12,12]
    let avg = AvgPool2dParams {
        padding: [1, 1],
        count_include_pad: false,
        ..AvgPool2dParams::new([2, 2])
    };
    let a = net.op(Op::AvgPool2d { params: avg }, &[t]); // [2,2,7,7]
    let max = MaxPool2dParams {
        stride: [1, 1],
        dilation: [2, 2],
        ceil_mode: true,
        ..MaxPool2dParams::new([2, 2])
    };
    let m = net.op(Op::MaxPool2d { params: max }, &[a]); // [2,2,5,5]
    let p = net.op(
        Op::Pad {
            pads: vec![[1, 0], [0, 2]],
            value: 0.5,
        },
        &[m],
    ); // [2,2,7,6]
    let (gw, gb) = (net.param("gn.weight"), net.param("gn.bias"));
    let gn = Op::GroupNorm {
        num_groups: 2,
        eps: 1e-5,
        affine: true,
    };
    let g = net.op(gn, &[c, gw, gb]);
    let (bm, bv) = (net.param("bn.mean"), net.param("bn.var"));
    let bn = Op::BatchNorm {
        eps: 1e-3,
        affine: false,
    };
    let g = net.op(bn, &[g, bm, bv]);
    let rw = net.param("rms.weight");
    let rms = Op::RmsNorm {
        normalized_shape: vec![6],
        eps: None,
        affine: true,
    };
    let r = net.op(rms, &[g, rw]);
    let ln = Op::LayerNorm {
        normalized_shape: vec![6, 6],
        eps: 1e-5,
        affine: false,
    };
    let r = net.op(ln, &[r]);
    let mut chain = r;
    for op in [
        Op::Silu,
        Op::Square,
        Op::LeakyRelu {
            negative_slope: 0.125,
        },
        Op::Tanh,
        Op::Gelu {
            approximate: GeluApproximation::Tanh,
        },
        Op::Sin,
        Op::Sigmoid,
        Op::Erf,
        Op::Cos,
        Op::Detach,
        Op::Neg,
        Op::Exp,
        Op::Log,
        Op::Abs,
        Op::Sqrt,
        Op::Reciprocal,
    ] {
        chain = net.op(op, &[chain]);
    }
    // Floor and sign of the input itself, where both runtimes hold the same values.
    let four = konst(&mut net, Tensor::scalar(4.0f32));
    let scaled = net.op(Op::Mul, &[xi, four]);
    let floor = net.op(Op::Floor, &[scaled]);
    let sign = net.op(Op::Sign, &[xi]);
    let steps = net.add(floor, sign); // [2,3,6,6]
    let steps = net.op(
        Op::ReduceSum {
            axes: vec![1],
            keepdim: true,
        },
        &[steps],
    ); // [2,1,6,6]
    let two = konst(&mut net, Tensor::scalar(2.0f32));
    let one = konst(&mut net, Tensor::scalar(1.0f32));
    let h = net.op(Op::Pow, &[r, two]);
    let g_abs = net.op(Op::Abs, &[g]);
    let g_abs = net.add(g_abs, one);
    let h = net.op(Op::Div, &[h, g_abs]);
    let h = net.op(Op::Sub, &[h, r]);
    let h = net.op(Op::Minimum, &[h, chain]);
    let h = net.op(Op::Maximum, &[h, steps]);
    let pooled = net.op(
        Op::ReduceMean {
            axes: vec![2, 3],
            keepdim: false,
        },
        &[h],
    ); // [2,4]
    let mix = net.param("mix");
    let e = net.op(
        Op::Einsum {
            equation: "bc,dc->bd".into(),
        },
        &[pooled, mix],
    ); // [2,5]
    let sm = net.op(Op::Softmax { axis: 1 }, &[e]);
    let lsm = net.op(Op::LogSoftmax { axis: -1 }, &[e]);
    let tiled = net.op(
        Op::Tile {
            repeats: vec![1, 2],
        },
        &[sm],
    ); // [2,10]
    let cat = net.op(Op::Concat { axis: 1 }, &[tiled, lsm]); // [2,15]
    let piece = net.op(
        Op::Split {
            axis: 1,
            sizes: vec![4, 6, 5],
            index: 1,
        },
        &[cat],
    ); // [2,6]
    let sl = net.op(
        Op::Slice {
            axis: 1,
            start: -5,
            end: 100,
            step: 2,
        },
        &[cat],
    ); // [2,3]
    let fc = net.linear(piece, "fc", false); // [2,3]
    let sum = net.add(fc, sl);
    let col = net.op(
        Op::ReduceMax {
            axes: vec![1],
            keepdim: true,
        },
        &[sum],
    ); // [2,1]
    let wide = net.op(
        Op::BroadcastTo {
            shape: [2, 3].into(),
        },
        &[col],
    );
    let lt = net.op(
        Op::Compare {
            cmp: Comparison::Ne,
        },
        &[wide, sum],
    );
    let sel = net.op(Op::Where, &[lt, sum, wide]);
    let argmax = net.op(
        Op::ArgMax {
            axis: 1,
            keepdim: false,
        },
        &[sel],
    );
    let index = Tensor::from_vec(vec![2i64, 0, 1, 1, 0, 2], [2, 3]).unwrap();
    let index = konst(&mut net, index);
    let gathered = net.op(Op::Gather { axis: 1 }, &[sel, index]);
    let table = net.param("table");
    let ids = Tensor::from_vec(vec![3i64, 0, 6, 6], [2, 2]).unwrap();
    let ids = konst(&mut net, ids);
    let rows = net.op(Op::Embedding, &[ids, table]); // [2,2,6]
    let tri = net.op(
        Op::Trilu {
            upper: false,
            diagonal: 1,
        },
        &[rows],
    );
    let perm = net.op(
        Op::Permute {
            perm: vec![2, 0, 1],
        },
        &[tri],
    ); // [6,2,2]
    let flat = net.op(
        Op::Flatten {
            start_axis: 0,
            end_axis: 1,
        },
        &[perm],
    ); // [12,2]
    let tr = net.op(Op::Transpose { axis0: 0, axis1: 1 }, &[flat]); // [2,12]
    let rs = net.op(
        Op::Reshape {
            shape: vec![2, 4, -1],
        },
        &[tr],
    ); // [2,4,3]
    let k1 = net.param("conv1d.weight");
    let conv1d = Op::Conv1d {
        params: Conv1dParams {
            padding: 1,
            ..Conv1dParams::default()
        },
        bias: false,
    };
    let c1 = net.op(conv1d, &[rs, k1]); // [2,2,3]
    let mask = Tensor::from_vec(vec![true, false, true, true, true, false], [2, 3]).unwrap();
    let mask = konst(&mut net, mask);
    let ms = net.op(Op::MaskedSoftmax { axis: -1 }, &[c1, mask]);
    let keys = Tensor::from_vec(vec![true, false, true, true], [2, 2]).unwrap();
    let keys = konst(&mut net, keys);
    let att = net.op(
        Op::ScaledDotProductAttention {
            mask: AttentionMask::Explicit,
            scale: Some(0.75),
        },
        &[ms, c1, c1, keys],
    ); // [2,2,3]
    let pos = net.op(
        Op::Compare {
            cmp: Comparison::Gt,
        },
        &[att, ms],
    );
    let not = net.op(Op::LogicalNot, &[pos]);
    let both = net.op(Op::LogicalAnd, &[pos, not]);
    let either = net.op(Op::LogicalOr, &[both, pos]);
    let as_f64 = net.op(Op::Cast { dtype: DType::F64 }, &[att]);
    let graph = net
        .b
        .finish(&[p, gathered, argmax, either, as_f64])
        .unwrap();
    (graph, params, x)
}

/// A graph to export, with parameters and inputs.
struct Case {
    name: String,
    graph: Graph,
    params: ParamStore,
    inputs: Vec<Tensor>,
}

/// The fixture models as imported from ONNX and as built from their safetensors, and the op
/// tour.
fn export_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for name in MODELS {
        let (input, _) = pytorch_io(name);
        let file = format!("{name}.onnx");
        let model = read_onnx(fixture_dir("interop").join(&file)).unwrap();
        let imported = import_model(&model, &file, &ImportOptions::default()).unwrap();
        cases.push(Case {
            name: format!("{name} (imported)"),
            graph: imported.graph,
            params: imported.params,
            inputs: vec![input.clone()],
        });
        let state = state_dict(name);
        cases.push(Case {
            name: format!("{name} (from safetensors)"),
            graph: build(name, &state, &input),
            params: state,
            inputs: vec![input],
        });
    }
    let (graph, params, x) = op_tour(&mut Rng(7));
    cases.push(Case {
        name: "op tour".into(),
        graph,
        params,
        inputs: vec![x],
    });
    cases
}

fn run_all(graph: &Graph, params: &ParamStore, inputs: &[Tensor]) -> Vec<Tensor> {
    run(graph, params, inputs, &ExecConfig::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn export_then_import_evaluates_bit_identically() {
    for case in export_cases() {
        let model = export_model(&case.graph, &case.params, DEFAULT_EXPORT_OPSET)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let decoded = ModelProto::decode(&model.encode(), &case.name).unwrap();
        let back = import_model(&decoded, &case.name, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let want = run_all(&case.graph, &case.params, &case.inputs);
        let got = run_all(&back.graph, &back.params, &case.inputs);
        assert_eq!(got.len(), want.len(), "{}", case.name);
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.dtype(), w.dtype(), "{} output {k}", case.name);
            assert_eq!(bits(g), bits(w), "{} output {k}", case.name);
        }
        let nodes: usize = model.graph.as_ref().map_or(0, |g| g.node.len());
        println!(
            "{}: {nodes} ONNX nodes, bit-identical after import",
            case.name
        );
    }
}

#[test]
fn export_errors_name_the_node() {
    let (graph, params, _) = op_tour(&mut Rng(7));
    assert_error(
        export_model(&graph, &params, 17),
        &["ONNX export", "(gelu)", "Gelu needs opset 20"],
        "gelu below opset 20",
    );
    assert_error(
        export_model(&graph, &params, 16),
        &["opset 16", "17 to 21"],
        "old opset",
    );
    let mut b = GraphBuilder::new();
    let x = b
        .push(
            Op::Input {
                shape: [2, 3].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let dropped = b
        .push_named("drop", Op::Dropout { p: 0.5, seed: 1 }, &[x])
        .unwrap();
    let graph = b.finish(&[dropped]).unwrap();
    assert_error(
        export_model(&graph, &ParamStore::new(), 20),
        &["node", "drop", "dropout has no ONNX form"],
        "dropout",
    );
    let mut short = params.clone();
    short.remove("mix");
    let (graph, _, _) = op_tour(&mut Rng(7));
    assert_error(
        export_model(&graph, &short, 20),
        &["parameter `mix`", "missing"],
        "missing parameter",
    );
}

/// The Python that runs scripts/interop/run_onnxruntime.py: `$STRATA_PYTHON`, which must be
/// able to import onnxruntime (CI sets it to the venv .ci/run makes), else `python3` when it
/// can; `None` (the caller skips) otherwise.
fn onnxruntime_python() -> Option<String> {
    let imports = |python: &str| {
        Command::new(python)
            .args(["-c", "import onnxruntime, numpy"])
            .output()
    };
    if let Ok(python) = std::env::var("STRATA_PYTHON") {
        match imports(&python) {
            Ok(out) if out.status.success() => return Some(python),
            Ok(out) => panic!(
                "STRATA_PYTHON={python} cannot import onnxruntime and numpy: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => panic!("STRATA_PYTHON={python} cannot be run: {e}"),
        }
    }
    match imports("python3") {
        Ok(out) if out.status.success() => Some("python3".into()),
        _ => {
            println!(
                "skipped: STRATA_PYTHON is unset and python3 cannot import onnxruntime \
                 (pip install onnxruntime numpy, or set STRATA_PYTHON)"
            );
            None
        }
    }
}

/// One onnxruntime run: the model, its inputs by graph input name, where outputs go.
struct OrtJob {
    model: PathBuf,
    inputs: PathBuf,
    outputs: PathBuf,
}

impl OrtJob {
    fn new(model: PathBuf, tag: &str, names: &[String], inputs: &[Tensor]) -> OrtJob {
        let feed: BTreeMap<String, Tensor> =
            names.iter().cloned().zip(inputs.iter().cloned()).collect();
        let job = OrtJob {
            model,
            inputs: scratch_path(&format!("{tag}-in.npz")),
            outputs: scratch_path(&format!("{tag}-out.npz")),
        };
        write_npz(&job.inputs, &feed, NpzCompression::Stored).unwrap();
        job
    }
}

/// Runs every job in one Python process; panics with onnxruntime's message on failure.
fn run_onnxruntime(python: &str, jobs: &[OrtJob]) {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/interop/run_onnxruntime.py");
    let mut cmd = Command::new(python);
    cmd.arg(script);
    for job in jobs {
        cmd.arg(&job.model).arg(&job.inputs).arg(&job.outputs);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        out.status.success(),
        "onnxruntime failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The names of `model`'s graph inputs that are fed at run time (not initializers).
fn fed_inputs(model: &ModelProto) -> Vec<String> {
    let graph = model.graph.as_ref().unwrap();
    let inits: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    (graph.input.iter())
        .filter(|i| !inits.contains(&i.name.as_str()))
        .map(|i| i.name.clone())
        .collect()
}

/// Strata's outputs against onnxruntime's (read from `job`, in graph output order): floats
/// within `tolerance` relative error, integers and bools exactly. Returns the largest error.
fn compare_with_ort(what: &str, job: &OrtJob, model: &ModelProto, ours: &[Tensor]) -> f64 {
    let theirs = read_npz(&job.outputs).unwrap();
    let graph = model.graph.as_ref().unwrap();
    assert_eq!(graph.output.len(), ours.len(), "{what}");
    let mut worst = 0.0f64;
    for (out, mine) in graph.output.iter().zip(ours) {
        let theirs = &theirs[&out.name];
        assert_eq!(theirs.dtype(), mine.dtype(), "{what}: output {}", out.name);
        if mine.dtype().is_float() {
            worst = worst.max(max_error(mine, theirs));
        } else {
            assert_eq!(bits(mine), bits(theirs), "{what}: output {}", out.name);
        }
    }
    assert!(
        worst <= 1e-5,
        "{what}: max relative error {worst:e} vs onnxruntime"
    );
    worst
}

#[test]
fn strata_exports_run_in_onnxruntime() {
    let Some(python) = onnxruntime_python() else {
        return;
    };
    let cases = export_cases();
    let mut jobs = Vec::new();
    let mut models = Vec::new();
    for (k, case) in cases.iter().enumerate() {
        let model = export_model(&case.graph, &case.params, DEFAULT_EXPORT_OPSET).unwrap();
        let path = scratch_path(&format!("export-{k}.onnx"));
        write_onnx(&path, &model).unwrap();
        jobs.push(OrtJob::new(
            path,
            &format!("export-{k}"),
            &fed_inputs(&model),
            &case.inputs,
        ));
        models.push(model);
    }
    run_onnxruntime(&python, &jobs);
    for ((case, job), model) in cases.iter().zip(&jobs).zip(&models) {
        let ours = run_all(&case.graph, &case.params, &case.inputs);
        let error = compare_with_ort(&case.name, job, model, &ours);
        println!(
            "{}: Strata vs onnxruntime on Strata's export, max relative error {error:.3e}",
            case.name
        );
    }
}

fn vnncomp_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("STRATA_VNNCOMP_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vnncomp"),
    };
    dir.is_dir().then_some(dir)
}

/// Every `.onnx` under `dir` (recursively), sorted, with the first property an instance list
/// (`*instances.csv`: `onnx,vnnlib,…` relative to the list) pairs it with.
fn vnncomp_instances(dir: &Path) -> Vec<(PathBuf, Option<PathBuf>)> {
    let mut onnx = Vec::new();
    let mut pairs = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".onnx") {
                onnx.push(path);
            } else if name.ends_with("instances.csv") {
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    let mut cols = line.split(',').map(str::trim);
                    if let (Some(net), Some(prop)) = (cols.next(), cols.next()) {
                        pairs.entry(d.join(net)).or_insert_with(|| d.join(prop));
                    }
                }
            }
        }
    }
    onnx.sort();
    onnx.into_iter()
        .map(|p| {
            let prop = pairs.get(&p).cloned();
            (p, prop)
        })
        .collect()
}

/// A binary32 point of the box `[lo, hi]` (per element), uniform up to rounding, kept inside.
fn point_in_box(rng: &mut Rng, lower: &[f64], upper: &[f64]) -> Vec<f32> {
    lower
        .iter()
        .zip(upper)
        .map(|(&lo, &hi)| {
            let mut v = rng.uniform(lo, hi) as f32;
            while f64::from(v) < lo {
                v = v.next_up();
            }
            while f64::from(v) > hi {
                v = v.next_down();
            }
            v
        })
        .collect()
}

#[test]
fn vnncomp_networks_match_onnxruntime_inside_property_boxes() {
    let Some(dir) = vnncomp_dir() else {
        println!("skipped: no VNN-COMP data at ../shared/data/vnncomp (set STRATA_VNNCOMP_DIR)");
        return;
    };
    let Some(python) = onnxruntime_python() else {
        return;
    };
    let mut rng = Rng(2026);
    let (mut runs, mut jobs) = (Vec::new(), Vec::new());
    for (k, (path, prop)) in vnncomp_instances(&dir).into_iter().enumerate() {
        let file = path.strip_prefix(&dir).unwrap().display().to_string();
        let model = read_onnx(&path).unwrap_or_else(|e| panic!("{e}"));
        let imported = import_model(&model, &file, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let declared = imported.graph.inputs().next().unwrap().shape.clone();
        let n = declared.numel();
        let (lower, upper) = match &prop {
            Some(prop) => {
                let property = vnnlib::read_property(prop).unwrap_or_else(|e| panic!("{e}"));
                let b = &property.cases[0].input;
                assert_eq!(b.lower.len(), n, "{file}: the property's input count");
                (b.inner_lower.clone(), b.inner_upper.clone())
            }
            None => {
                println!("{file}: no instance pairs it with a property; inputs in [-1, 1]");
                (vec![-1.0; n], vec![1.0; n])
            }
        };
        for sample in 0..3 {
            let x = point_in_box(&mut rng, &lower, &upper);
            let x = Tensor::from_vec(x, declared.clone()).unwrap();
            jobs.push(OrtJob::new(
                path.clone(),
                &format!("vnn-{k}-{sample}"),
                &fed_inputs(&model),
                std::slice::from_ref(&x),
            ));
            let ours = run_all(&imported.graph, &imported.params, &[x]);
            runs.push((file.clone(), model.clone(), ours));
        }
    }
    run_onnxruntime(&python, &jobs);
    let mut worst = 0.0f64;
    for ((file, model, ours), job) in runs.iter().zip(&jobs) {
        worst = worst.max(compare_with_ort(file, job, model, ours));
    }
    println!(
        "VNN-COMP: {} networks × 3 points inside their property boxes, max relative error vs onnxruntime {worst:.3e}",
        runs.len() / 3
    );
}
