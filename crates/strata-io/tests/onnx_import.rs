//! ONNX import: PyTorch-exported models (tests/fixtures/onnx, made by gen_import.py) and every
//! VNN-COMP network, imported into strata-ir, run natively, and compared with onnxruntime's
//! outputs on the same inputs.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use strata_io::onnx::{
    import_model, read_onnx, GraphProto, ImportOptions, ModelProto, NodeProto, OperatorSetIdProto,
};
use strata_io::read_npz;
use strata_ir::eval::{run, ExecConfig};
use strata_tensor::Tensor;

/// Imports `path`, runs it on each `input_K` of `key` in `cases`, and returns the largest error
/// against onnxruntime's outputs.
fn check_against_ort(path: &Path, key: &str, cases: &BTreeMap<String, Tensor>) -> f64 {
    let model = read_onnx(path).unwrap_or_else(|e| panic!("{e}"));
    let imported =
        import_model(&model, key, &ImportOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut worst = 0.0f64;
    for k in 0..2 {
        let input = &cases[&format!("{key}/input_{k}")];
        let outputs = run(
            &imported.graph,
            &imported.params,
            std::slice::from_ref(input),
            &ExecConfig::default(),
        )
        .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(outputs.len(), imported.outputs.len());
        for (j, ours) in outputs.iter().enumerate() {
            let ort = &cases[&format!("{key}/output_{k}_{j}")];
            let ours = ours.to_dtype(ort.dtype()).unwrap();
            worst = worst.max(max_error(&ours, ort));
        }
    }
    worst
}

#[test]
fn pytorch_models_match_onnxruntime() {
    let dir = fixture_dir("onnx");
    let cases = read_npz(dir.join("models_ort.npz")).unwrap();
    for file in ["mlp.onnx", "cnn.onnx", "encoder.onnx"] {
        let error = check_against_ort(&dir.join(file), file, &cases);
        println!("{file}: max relative error vs onnxruntime {error:.3e}");
        assert!(error <= 1e-5, "{file}: {error:e}");
    }
}

fn vnncomp_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("STRATA_VNNCOMP_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vnncomp"),
    };
    dir.is_dir().then_some(dir)
}

#[test]
fn vnncomp_networks_match_onnxruntime() {
    let Some(dir) = vnncomp_dir() else {
        println!("skipped: no VNN-COMP data at ../shared/data/vnncomp (set STRATA_VNNCOMP_DIR)");
        return;
    };
    let cases = read_npz(fixture_dir("onnx").join("vnncomp_ort.npz")).unwrap();
    let files: std::collections::BTreeSet<&str> = cases
        .keys()
        .filter_map(|k| k.rsplit_once("/input_").map(|(f, _)| f))
        .collect();
    assert_eq!(files.len(), 24);
    let mut worst = 0.0f64;
    for file in files {
        let path = dir.join(file);
        if !path.exists() {
            println!("skipped {file}: missing");
            continue;
        }
        let error = check_against_ort(&path, file, &cases);
        assert!(error <= 1e-5, "{file}: {error:e}");
        worst = worst.max(error);
    }
    println!("VNN-COMP networks: max relative error vs onnxruntime {worst:.3e}");
}

fn model_with(node: NodeProto, opset: i64) -> ModelProto {
    let model = read_onnx(fixture_dir("onnx").join("torch_cnn.onnx")).unwrap();
    let mut graph: GraphProto = model.graph.clone().unwrap();
    graph.node.push(node);
    ModelProto {
        graph: Some(graph),
        opset_import: vec![OperatorSetIdProto {
            version: opset,
            ..Default::default()
        }],
        ..model
    }
}

#[test]
fn unsupported_ops_and_shapes_are_named() {
    let hardmax = NodeProto {
        name: "hm".into(),
        op_type: "Hardmax".into(),
        input: vec!["logits".into()],
        output: vec!["h".into()],
        ..Default::default()
    };
    assert_error(
        import_model(
            &model_with(hardmax, 17),
            "m.onnx",
            &ImportOptions::default(),
        ),
        &[
            "m.onnx",
            "node \"hm\" (#5, Hardmax opset 17)",
            "op Hardmax is not supported",
        ],
        "hardmax",
    );
    let mut odd_attr = NodeProto {
        name: "r".into(),
        op_type: "Relu".into(),
        input: vec!["logits".into()],
        output: vec!["r".into()],
        ..Default::default()
    };
    odd_attr.attribute.push(strata_io::onnx::AttributeProto {
        name: "alpha".into(),
        r#type: strata_io::onnx::attribute_type::FLOAT,
        f: Some(1.0),
        ..Default::default()
    });
    assert_error(
        import_model(
            &model_with(odd_attr, 17),
            "m.onnx",
            &ImportOptions::default(),
        ),
        &[
            "node \"r\" (#5, Relu opset 17)",
            "attribute \"alpha\" is not supported",
        ],
        "attribute",
    );
    let dangling = NodeProto {
        name: "d".into(),
        op_type: "Relu".into(),
        input: vec!["nowhere".into()],
        output: vec!["d".into()],
        ..Default::default()
    };
    assert_error(
        import_model(
            &model_with(dangling, 17),
            "m.onnx",
            &ImportOptions::default(),
        ),
        &[
            "node \"d\"",
            "input \"nowhere\" is not produced by any earlier node",
        ],
        "dangling",
    );
    let old = model_with(NodeProto::default(), 6);
    assert_error(
        import_model(&old, "m.onnx", &ImportOptions::default()),
        &["opset 6 is older than 7"],
        "old opset",
    );
    // A symbolic batch dimension needs a static shape from the caller.
    let mut symbolic = read_onnx(fixture_dir("onnx").join("torch_cnn.onnx")).unwrap();
    let input = &mut symbolic.graph.as_mut().unwrap().input[0];
    if let Some(strata_io::onnx::TypeValue::Tensor(t)) =
        input.r#type.as_mut().and_then(|t| t.value.as_mut())
    {
        t.shape.as_mut().unwrap().dim[0].value = strata_io::onnx::DimValue::Param("batch".into());
    }
    assert_error(
        import_model(&symbolic, "s.onnx", &ImportOptions::default()),
        &["input \"image\"", "dimension 0 is symbolic (\"batch\")"],
        "symbolic",
    );
    let options = ImportOptions {
        input_shapes: BTreeMap::from([("image".to_owned(), vec![3, 1, 4, 4])]),
    };
    let imported = import_model(&symbolic, "s.onnx", &options).unwrap();
    assert_eq!(
        imported.graph.nodes[imported.graph.outputs[0]].shape.dims(),
        [3, 3]
    );
    assert_eq!(imported.inputs, ["image"]);
    assert!(imported.params.contains_key("0.weight"));
}
