//! TorchLean `torchlean.ir.v1` import and export, on graphs written from the schema.

use serde_json::{json, Value};
use strata_ir::{torchlean, GraphBuilder, IrError, Literal, Op, Reduction};
use strata_tensor::{Conv2dParams, DType, Shape, Tensor};

/// The smallest example of the TorchLean docs.
const BLUEPRINT: &str = r#"{"format":"torchlean.ir.v1","input_id":0,"output_id":2,"nodes":[{"id":0,"kind":"input","parents":[],"shape":[1,4]},{"id":1,"kind":"relu","parents":[0],"shape":[1,4]},{"id":2,"kind":"sum","parents":[1],"shape":[]}]}"#;

#[test]
fn the_documented_example_imports_and_exports_back_unchanged() {
    let g = torchlean::import_str(BLUEPRINT).unwrap();
    let tags: Vec<&str> = g.nodes.iter().map(|n| n.op.tag()).collect();
    assert_eq!(tags, ["input", "relu", "reduce_sum"]);
    assert_eq!(
        g.nodes[2].op,
        Op::ReduceSum {
            axes: vec![0, 1],
            keepdim: false
        }
    );
    assert_eq!(g.nodes[2].shape, Shape::scalar());
    assert_eq!(g.outputs, vec![2]);
    let back = torchlean::export_value(&g).unwrap();
    assert_eq!(back, serde_json::from_str::<Value>(BLUEPRINT).unwrap());
}

/// A small CNN over one `[C, H, W]` image using most TorchLean kinds.
fn cnn_json() -> Value {
    json!({
        "format": "torchlean.ir.v1", "input_id": 0, "output_id": 22,
        "nodes": [
            {"id": 0, "kind": "input", "parents": [], "shape": [1, 6, 6]},
            {"id": 1, "kind": "conv2d", "parents": [0], "shape": [2, 6, 6],
             "inC": 1, "outC": 2, "kH": 3, "kW": 3, "stride": 1, "padding": 1},
            {"id": 2, "kind": "relu", "parents": [1], "shape": [2, 6, 6]},
            {"id": 3, "kind": "max_pool2d", "parents": [2], "shape": [2, 3, 3], "kH": 2, "kW": 2, "stride": 2},
            {"id": 4, "kind": "avg_pool2d_pad", "parents": [3], "shape": [2, 3, 3],
             "kH": 3, "kW": 3, "stride": 1, "padding": 1},
            {"id": 5, "kind": "flatten", "parents": [4], "shape": [18], "value_shape": [2, 3, 3]},
            {"id": 6, "kind": "reshape", "parents": [5], "shape": [1, 18], "in_shape": [18], "out_shape": [1, 18]},
            {"id": 7, "kind": "linear", "parents": [6], "shape": [1, 5]},
            {"id": 8, "kind": "const", "parents": [], "shape": [1, 5], "values": [1.0, 2.0, 0.5, -1.0, 4.0]},
            {"id": 9, "kind": "mul_elem", "parents": [7, 8], "shape": [1, 5]},
            {"id": 10, "kind": "softmax", "parents": [9], "shape": [1, 5], "axis": 1},
            {"id": 11, "kind": "layernorm", "parents": [10], "shape": [1, 5], "axis": 1, "eps": 0.001},
            {"id": 12, "kind": "swap_first_two", "parents": [11], "shape": [5, 1]},
            {"id": 13, "kind": "permute", "parents": [12], "shape": [1, 5], "perm": [1, 0]},
            {"id": 14, "kind": "broadcast_to", "parents": [13], "shape": [3, 1, 5], "from_shape": [1, 5], "to_shape": [3, 1, 5]},
            {"id": 15, "kind": "reduce_mean", "parents": [14], "shape": [1, 5], "axis": 0},
            {"id": 16, "kind": "inv", "parents": [15], "shape": [1, 5]},
            {"id": 17, "kind": "sub", "parents": [16, 9], "shape": [1, 5]},
            {"id": 18, "kind": "max_elem", "parents": [17, 13], "shape": [1, 5]},
            {"id": 19, "kind": "min_elem", "parents": [18, 9], "shape": [1, 5]},
            {"id": 20, "kind": "const", "parents": [], "shape": [1, 5], "value_shape": [1, 5]},
            {"id": 21, "kind": "add", "parents": [19, 20], "shape": [1, 5]},
            {"id": 22, "kind": "mse_loss", "parents": [21, 9], "shape": []}
        ]
    })
}

/// A sequence model: batch norm, matmul, concat and the remaining unary kinds.
fn sequence_json() -> Value {
    let unary = [
        "abs", "sqrt", "tanh", "sigmoid", "exp", "log", "sin", "cos", "detach",
    ];
    let mut nodes = vec![
        json!({"id": 0, "kind": "input", "parents": [], "shape": [2, 3, 4, 4]}),
        json!({"id": 1, "kind": "batch_norm2d_nchw_eval", "parents": [0], "shape": [2, 3, 4, 4], "channels": 3, "eps": 0.01}),
        json!({"id": 2, "kind": "reshape", "parents": [1], "shape": [6, 4, 4], "in_shape": [2, 3, 4, 4], "out_shape": [6, 4, 4]}),
        json!({"id": 3, "kind": "transpose3d_last_two", "parents": [2], "shape": [6, 4, 4]}),
        json!({"id": 4, "kind": "matmul", "parents": [2, 3], "shape": [6, 4, 4]}),
        json!({"id": 5, "kind": "concat", "parents": [4, 2], "shape": [6, 8, 4], "axis": 1}),
        json!({"id": 6, "kind": "reduce_sum", "parents": [5], "shape": [6, 4], "axis": 1}),
        json!({"id": 7, "kind": "rand_uniform", "parents": [], "shape": [6, 4], "seed": 11}),
        json!({"id": 8, "kind": "const", "parents": [], "shape": [], "values": [0.25]}),
        json!({"id": 9, "kind": "bernoulli_mask", "parents": [8], "shape": [6, 4], "seed": 12}),
        json!({"id": 10, "kind": "add", "parents": [6, 7], "shape": [6, 4]}),
        json!({"id": 11, "kind": "mul_elem", "parents": [10, 9], "shape": [6, 4]}),
    ];
    for (k, kind) in unary.iter().enumerate() {
        nodes.push(json!({"id": 12 + k, "kind": kind, "parents": [11 + k], "shape": [6, 4]}));
    }
    json!({"input_id": 0, "output_id": 11 + unary.len(), "nodes": nodes})
}

/// The spelling Strata's export uses for an equivalent TorchLean graph: permutations as
/// `permute`, `const` with an explicit `value_shape`.
fn canonical(mut v: Value) -> Value {
    v["format"] = json!("torchlean.ir.v1");
    for node in v["nodes"].as_array_mut().unwrap() {
        let rank = node["shape"].as_array().unwrap().len();
        let perm: Option<Vec<usize>> = match node["kind"].as_str().unwrap() {
            "swap_first_two" => Some([1, 0].into_iter().chain(2..rank).collect()),
            "transpose3d_last_two" => Some(vec![0, 2, 1]),
            _ => None,
        };
        if let Some(perm) = perm {
            node["kind"] = json!("permute");
            node["perm"] = json!(perm);
        }
        if node["kind"] == "const" && node.get("value_shape").is_none() {
            node["value_shape"] = node["shape"].clone();
        }
    }
    v
}

/// The TorchLean JSON with the fields only Strata reads removed.
fn without_strata_fields(mut v: Value) -> Value {
    for node in v["nodes"].as_array_mut().unwrap() {
        let obj = node.as_object_mut().unwrap();
        obj.remove("strata_params");
        obj.remove("strata_name");
    }
    v
}

#[test]
fn a_cnn_maps_onto_strata_ops_and_back() {
    let g = torchlean::import_value(&cnn_json()).unwrap();
    let tag_of = |name: &str| -> Vec<&str> {
        g.nodes
            .iter()
            .filter(|n| n.name.is_none() && n.op.tag() == name)
            .map(|n| n.op.tag())
            .collect()
    };
    // Payloads became parameters, each right before its user.
    let params: Vec<(String, Vec<usize>)> = g
        .parameters()
        .map(|n| match &n.op {
            Op::Parameter { name, shape, .. } => (name.clone(), shape.dims().to_vec()),
            _ => unreachable!(),
        })
        .collect();
    let expected = [
        ("node1.weight", vec![2, 1, 3, 3]),
        ("node1.bias", vec![2]),
        ("node7.weight", vec![5, 18]),
        ("node7.bias", vec![5]),
        ("node20.value", vec![1, 5]),
    ];
    assert_eq!(params, expected.map(|(n, d)| (n.to_string(), d)));
    let conv = g.nodes.iter().find(|n| n.op.tag() == "conv2d").unwrap();
    let padded = Conv2dParams {
        padding: [1, 1],
        ..Conv2dParams::default()
    };
    assert_eq!(
        conv.op,
        Op::Conv2d {
            params: padded,
            bias: true
        }
    );
    assert_eq!(tag_of("mul").len(), 1);
    assert_eq!(tag_of("reciprocal").len(), 1);
    assert_eq!(tag_of("permute").len(), 2);
    let ln = g.nodes.iter().find(|n| n.op.tag() == "layer_norm").unwrap();
    assert_eq!(
        ln.op,
        Op::LayerNorm {
            normalized_shape: vec![5],
            eps: 0.001,
            affine: false
        }
    );
    let constant = g.nodes.iter().find(|n| n.op.tag() == "constant").unwrap();
    let values = Tensor::from_vec(vec![1.0f32, 2.0, 0.5, -1.0, 4.0], [1, 5]).unwrap();
    assert_eq!(
        constant.op,
        Op::Constant {
            value: Literal(values)
        }
    );
    assert_eq!(
        g.nodes[*g.outputs.first().unwrap()].op,
        Op::MseLoss {
            reduction: Reduction::Mean
        }
    );

    // Export gives back the same TorchLean graph (ids included: payloads vanish again) in
    // canonical spelling, apart from the fields only Strata reads.
    let back = torchlean::export_value(&g).unwrap();
    assert_eq!(without_strata_fields(back.clone()), canonical(cnn_json()));
    assert_eq!(
        back["nodes"][7]["strata_params"],
        json!({"weight": "node7.weight", "bias": "node7.bias"})
    );
    // And importing that export gives the same Strata graph.
    assert_eq!(torchlean::import_value(&back).unwrap(), g);
}

#[test]
fn a_sequence_model_maps_onto_strata_ops_and_back() {
    let original = sequence_json();
    let g = torchlean::import_value(&original).unwrap();
    let bn = g.nodes.iter().find(|n| n.op.tag() == "batch_norm").unwrap();
    assert_eq!(
        bn.op,
        Op::BatchNorm {
            eps: 0.01,
            affine: true
        }
    );
    assert_eq!(bn.inputs.len(), 5);
    let back = without_strata_fields(torchlean::export_value(&g).unwrap());
    assert_eq!(back, canonical(original));
}

#[test]
fn strata_graphs_survive_a_trip_through_torchlean() {
    let mut b = GraphBuilder::new();
    let f32 = DType::F32;
    let x = b
        .push_named(
            "image",
            Op::Input {
                shape: [3, 8, 8].into(),
                dtype: f32,
            },
            &[],
        )
        .unwrap();
    let w = b
        .push(
            Op::Parameter {
                name: "c.w".into(),
                shape: [4, 3, 3, 3].into(),
                dtype: f32,
            },
            &[],
        )
        .unwrap();
    let bias = b
        .push(
            Op::Parameter {
                name: "c.b".into(),
                shape: [4].into(),
                dtype: f32,
            },
            &[],
        )
        .unwrap();
    let params = Conv2dParams {
        stride: [2, 2],
        ..Conv2dParams::default()
    };
    let c = b
        .push_named("conv", Op::Conv2d { params, bias: true }, &[x, w, bias])
        .unwrap();
    let r = b.push(Op::Relu, &[c]).unwrap();
    let s = b
        .push(
            Op::ReduceSum {
                axes: vec![0, 1, 2],
                keepdim: false,
            },
            &[r],
        )
        .unwrap();
    let g = b.finish(&[s]).unwrap();
    let text = torchlean::export_string(&g).unwrap();
    assert_eq!(torchlean::import_str(&text).unwrap(), g);
}

fn export_error(g: &strata_ir::Graph) -> String {
    match torchlean::export_value(g) {
        Err(e) => e.to_string(),
        Ok(v) => panic!("expected an export error, got {v}"),
    }
}

/// A builder holding the input `x: f32[2, 3]` (id 0).
fn with_input() -> GraphBuilder {
    let mut b = GraphBuilder::new();
    b.push_named(
        "x",
        Op::Input {
            shape: [2, 3].into(),
            dtype: DType::F32,
        },
        &[],
    )
    .unwrap();
    b
}

fn param(b: &mut GraphBuilder, name: &str, dims: &[usize]) -> usize {
    b.push(
        Op::Parameter {
            name: name.into(),
            shape: dims.into(),
            dtype: DType::F32,
        },
        &[],
    )
    .unwrap()
}

#[test]
fn ops_without_a_torchlean_counterpart_are_export_errors() {
    let mut b = with_input();
    let y = b.push_named("act", Op::Silu, &[0]).unwrap();
    let g = b.finish(&[y]).unwrap();
    assert_eq!(
        export_error(&g),
        "node %1 \"act\" (silu): silu has no TorchLean counterpart"
    );

    let mut b = with_input();
    let row = param(&mut b, "row", &[3]);
    let sum = b.push(Op::Add, &[0, row]).unwrap();
    let g = b.finish(&[sum]).unwrap();
    assert!(export_error(&g).starts_with("node %2 (add): TorchLean does not broadcast implicitly"));

    let mut b = with_input();
    let w = param(&mut b, "w", &[4, 3]);
    let fc = b.push(Op::Linear { bias: false }, &[0, w]).unwrap();
    let g = b.finish(&[fc]).unwrap();
    assert_eq!(
        export_error(&g),
        "node %2 (linear): TorchLean's linear always has a bias"
    );

    let mut b = with_input();
    let w = b
        .push(
            Op::Constant {
                value: Literal(Tensor::zeros([4, 3], DType::F32).unwrap()),
            },
            &[],
        )
        .unwrap();
    let bias = param(&mut b, "b", &[4]);
    let fc = b.push(Op::Linear { bias: true }, &[0, w, bias]).unwrap();
    let g = b.finish(&[fc]).unwrap();
    assert!(export_error(&g).contains("input 1 must be a parameter"));

    let mut b = with_input();
    let y = b.push(Op::Relu, &[0]).unwrap();
    let g = b.finish(&[0, y]).unwrap();
    assert!(export_error(&g).contains("exactly one output, this one has 2"));

    let mut b = with_input();
    let x2 = b
        .push(
            Op::Input {
                shape: [1].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let g = b.finish(&[x2]).unwrap();
    assert_eq!(
        export_error(&g),
        "node %1 (input): TorchLean graphs have exactly one input"
    );

    let mut b = GraphBuilder::new();
    let x = b
        .push(
            Op::Input {
                shape: [2].into(),
                dtype: DType::F64,
            },
            &[],
        )
        .unwrap();
    let g = b.finish(&[x]).unwrap();
    assert_eq!(
        export_error(&g),
        "node %0 (input): TorchLean graphs are f32, not f64"
    );
}

fn import_error(v: Value) -> (String, String) {
    match torchlean::import_value(&v) {
        Err(IrError::Json { path, msg }) => (path, msg),
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn malformed_torchlean_graphs_name_the_json_path() {
    let base: Value = serde_json::from_str(BLUEPRINT).unwrap();
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        edit(&mut v);
        v
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            with(&|v| v["nodes"][1]["shape"] = json!([1, 5])),
            "$.nodes[1].shape",
            "declared [1, 5], but relu gives [1, 4]",
        ),
        (
            with(&|v| v["nodes"][1]["kind"] = json!("hard_masked_softmax")),
            "$.nodes[1].kind",
            "not accepted",
        ),
        (
            with(&|v| v["nodes"][1]["kind"] = json!("sort")),
            "$.nodes[1].kind",
            "unknown kind `sort`",
        ),
        (
            with(&|v| v["nodes"][1]["parents"] = json!([0, 0])),
            "$.nodes[1].parents",
            "relu takes 1, got 2",
        ),
        (
            with(&|v| v["nodes"][1]["parents"] = json!([1])),
            "$.nodes[1].parents",
            "not an earlier node",
        ),
        (
            with(&|v| v["nodes"][1]["id"] = json!(7)),
            "$.nodes[1].id",
            "expected 1",
        ),
        (
            with(&|v| v["nodes"][1]["shape"] = json!([1.5])),
            "$.nodes[1].shape[0]",
            "non-negative integer",
        ),
        (
            with(&|v| v["format"] = json!("torchlean.ir.v2")),
            "$.format",
            "expected",
        ),
        (
            with(&|v| v["output_id"] = json!(3)),
            "$.output_id",
            "does not exist",
        ),
        (
            with(&|v| v["input_id"] = json!(1)),
            "$.input_id",
            "not an input",
        ),
        (
            with(&|v| {
                v["nodes"][1] = json!({"id": 1, "kind": "multihead_attention", "parents": [0, 0, 0],
                "shape": [], "value_kind": "tuple", "embed_dim": 4, "num_heads": 2})
            }),
            "$.nodes[1].num_heads",
            "`nn.MultiheadAttention` lowering supports only num_heads=1, got 2",
        ),
    ];
    for (input, path, needle) in cases {
        let (got, msg) = import_error(input);
        assert_eq!(got, path, "{msg}");
        assert!(msg.contains(needle), "`{msg}` lacks `{needle}`");
    }
    match torchlean::import_str("{\"nodes\": [") {
        Err(IrError::Json { path, msg }) => assert!(path == "$" && msg.contains("line 1"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn restated_parent_shapes_must_agree() {
    let graph = |kind: &str, field: &str, stated: Value, shape: Value| {
        json!({"input_id": 0, "output_id": 1, "nodes": [
            {"id": 0, "kind": "input", "parents": [], "shape": [2, 3]},
            {"id": 1, "kind": kind, "parents": [0], "shape": shape, field: stated,
             "out_shape": [6], "to_shape": [4, 2, 3]}]})
    };
    torchlean::import_value(&graph("flatten", "value_shape", json!([2, 3]), json!([6]))).unwrap();
    let cases = [
        ("flatten", "value_shape", json!([6])),
        ("reshape", "in_shape", json!([3, 2])),
        ("broadcast_to", "from_shape", json!([1, 3])),
    ];
    for (kind, field, stated) in cases {
        let shape = if kind == "broadcast_to" {
            json!([4, 2, 3])
        } else {
            json!([6])
        };
        let (path, msg) = import_error(graph(kind, field, stated, shape));
        assert_eq!(path, format!("$.nodes[1].{field}"));
        assert!(msg.ends_with("is not the parent's shape"), "{msg}");
    }
}

/// Single-head self-attention as the torch.export adapter writes it: a tuple node and a
/// `tuple_getitem` of its output 0.
fn attention_json(heads: usize, parents: [usize; 3], index: usize) -> Value {
    json!({"format": "torchlean.ir.v1", "input_id": 0, "output_id": 3, "nodes": [
        {"id": 0, "kind": "input", "parents": [], "shape": [2, 5, 8]},
        {"id": 1, "kind": "multihead_attention", "parents": parents, "shape": [],
         "value_kind": "tuple", "tuple_shapes": [[2, 5, 8], [2, 5, 5]], "embed_dim": 8,
         "num_heads": heads, "batch_first": true, "dropout_zero": true, "bias": true},
        {"id": 2, "kind": "tuple_getitem", "parents": [1], "shape": [2, 5, 8], "index": index},
        {"id": 3, "kind": "relu", "parents": [2], "shape": [2, 5, 8]}
    ]})
}

#[test]
fn single_head_self_attention_is_lowered_as_torchlean_does() {
    let g = torchlean::import_value(&attention_json(1, [0, 0, 0], 0)).unwrap();
    let tags: Vec<&str> = g.nodes.iter().map(|n| n.op.tag()).collect();
    let linear = ["parameter", "parameter", "linear"];
    let expected: Vec<&str> = [&["input"][..], &linear, &linear, &linear]
        .concat()
        .into_iter()
        .chain(["permute", "matmul", "constant", "mul", "softmax", "matmul"])
        .chain(linear)
        .chain(["relu"])
        .collect();
    assert_eq!(tags, expected);
    let names: Vec<String> = g
        .parameters()
        .map(|n| match &n.op {
            Op::Parameter { name, .. } => name.clone(),
            _ => unreachable!(),
        })
        .collect();
    let roles = ["q", "k", "v", "out"];
    let expected_names: Vec<String> = roles
        .iter()
        .flat_map(|r| [format!("node1.{r}_weight"), format!("node1.{r}_bias")])
        .collect();
    assert_eq!(names, expected_names);
    let scale = g.nodes.iter().find(|n| n.op.tag() == "constant").unwrap();
    let Op::Constant { value } = &scale.op else {
        unreachable!()
    };
    assert_eq!(value.0.dims(), &[2, 5, 5]);
    assert!(value
        .0
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .all(|&v| v == (1.0 / 8f64.sqrt()) as f32));
    assert_eq!(g.nodes[g.outputs[0]].shape, Shape::from([2, 5, 8]));
    // The lowered graph exports as plain TorchLean nodes and imports back unchanged.
    let back = torchlean::export_value(&g).unwrap();
    assert_eq!(back["nodes"].as_array().unwrap().len(), 12);
    assert_eq!(torchlean::import_value(&back).unwrap(), g);

    let mut huge = attention_json(1, [0, 0, 0], 0);
    huge["nodes"][0]["shape"] = json!([1, 1 << 20, 8]);
    huge["nodes"][2]["shape"] = json!([1, 1 << 20, 8]);
    huge["nodes"][3]["shape"] = json!([1, 1 << 20, 8]);
    let (path, msg) = import_error(huge);
    assert_eq!(path, "$.nodes[2].shape");
    assert!(msg.contains("exceeds 16777216 elements"), "{msg}");
    let (path, msg) = import_error(attention_json(1, [0, 0, 1], 0));
    assert_eq!(path, "$.nodes[1].parents");
    assert!(msg.contains("self-attention only"), "{msg}");
    let (path, msg) = import_error(attention_json(1, [0, 0, 0], 1));
    assert_eq!(
        (path.as_str(), msg.as_str()),
        (
            "$.nodes[2].index",
            "only output 0 of one tuple is supported"
        )
    );
}

#[test]
fn import_accepts_only_what_torchlean_accepts() {
    // Strata's add broadcasts, TorchLean's does not.
    let broadcast_add = json!({"input_id": 0, "output_id": 2, "nodes": [
        {"id": 0, "kind": "input", "parents": [], "shape": [2, 3]},
        {"id": 1, "kind": "const", "parents": [], "shape": [3]},
        {"id": 2, "kind": "add", "parents": [0, 1], "shape": [2, 3]}]});
    let (path, msg) = import_error(broadcast_add);
    assert_eq!(path, "$.nodes[2].kind");
    assert!(
        msg.starts_with("TorchLean rejects this add: TorchLean does not broadcast"),
        "{msg}"
    );
    // Strata's conv2d takes batches, TorchLean's takes one [C, H, W] image.
    let batched_conv = json!({"input_id": 0, "output_id": 1, "nodes": [
        {"id": 0, "kind": "input", "parents": [], "shape": [1, 1, 4, 4]},
        {"id": 1, "kind": "conv2d", "parents": [0], "shape": [1, 2, 2, 2],
         "inC": 1, "outC": 2, "kH": 3, "kW": 3, "stride": 1, "padding": 0}]});
    let (path, msg) = import_error(batched_conv);
    assert_eq!(path, "$.nodes[1].kind");
    assert!(
        msg.ends_with("TorchLean's conv2d takes one [C, H, W] image"),
        "{msg}"
    );
}
