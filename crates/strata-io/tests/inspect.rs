//! `inspect`: summaries of the PyTorch interop fixtures, checked against what PyTorch built
//! (make_fixtures.py: the MLP is 6-16-8-4 with biases, the GPT block has attention and GELU).

mod common;

use common::*;
use strata_io::inspect::{inspect, op_support, Summary, Support, SUPPORT_COLUMNS};
use strata_io::onnx::ImportOptions;
use strata_ir::Op;

const MLP_PARAMS: usize = 6 * 16 + 16 + 16 * 8 + 8 + 8 * 4 + 4;

#[test]
fn onnx_summary_counts_ops_and_parameters() {
    let path = fixture_dir("interop").join("mlp.onnx");
    let Summary::Onnx(s) = inspect(&path, &ImportOptions::default()).unwrap() else {
        panic!("an ONNX file gives an ONNX summary");
    };
    assert_eq!(s.opset, 17);
    assert_eq!(s.onnx_ops["Gemm"], 3);
    assert_eq!(s.onnx_ops["Relu"], 2);
    let ir = s.ir_ops();
    assert_eq!(ir["linear"].0, 3);
    assert_eq!(ir["relu"].0, 2);
    let count: usize = s
        .params
        .iter()
        .map(|p| p.shape.iter().product::<usize>())
        .sum();
    assert_eq!(count, MLP_PARAMS);
    assert_eq!(s.inputs[0].shape, [3, 6]);
    assert_eq!(s.outputs[0].shape, [3, 4]);
    // A ReLU MLP: every layer and every analysis, CROWN included.
    assert_eq!(s.supported_everywhere(), SUPPORT_COLUMNS);
    let text = s.to_string();
    assert!(
        text.contains(&format!("parameters: {MLP_PARAMS} in 6 tensors")),
        "{text}"
    );
    assert!(
        text.contains("every op supported by: native, f32"),
        "{text}"
    );

    let gpt = fixture_dir("interop").join("gpt.onnx");
    let Summary::Onnx(s) = inspect(&gpt, &ImportOptions::default()).unwrap() else {
        panic!("an ONNX file gives an ONNX summary");
    };
    let everywhere = s.supported_everywhere();
    assert!(everywhere.contains(&"interval") && !everywhere.contains(&"CROWN"));
    assert!(s.ir_ops().contains_key("embedding"));
}

#[test]
fn safetensors_summary_lists_stored_dtypes() {
    let path = fixture_dir("interop").join("resnet.safetensors");
    let Summary::Safetensors(s) = inspect(&path, &ImportOptions::default()).unwrap() else {
        panic!("a safetensors file gives a safetensors summary");
    };
    let tracked = s
        .tensors
        .iter()
        .find(|t| t.name == "bn1.num_batches_tracked")
        .unwrap();
    // Stored as PyTorch wrote it (I64, a scalar), not as read.
    assert_eq!((tracked.dtype.as_str(), tracked.shape.len()), ("I64", 0));
    let conv = s.tensors.iter().find(|t| t.name == "conv1.weight").unwrap();
    assert_eq!(
        (conv.dtype.as_str(), conv.shape.as_slice()),
        ("F32", &[8, 3, 3, 3][..])
    );
    let mlp = fixture_dir("interop").join("mlp.safetensors");
    let text = inspect(&mlp, &ImportOptions::default())
        .unwrap()
        .to_string();
    assert!(
        text.contains(&format!("{MLP_PARAMS} parameters in 6 tensors")),
        "{text}"
    );
}

#[test]
fn support_table_follows_the_layers_and_analyses() {
    let pow = op_support(&Op::Pow);
    assert_eq!(pow[0], Support::Yes);
    assert_eq!(pow[3], Support::No, "ieee32 has no pow");
    assert!(
        matches!(pow[4], Support::Partial(_)),
        "fp32: integer exponents"
    );
    let mul = op_support(&Op::Mul);
    assert!(
        matches!(mul[7], Support::Partial(_)),
        "CROWN: mul by constants"
    );
    assert_eq!(op_support(&Op::Sigmoid)[7], Support::No);
    assert_eq!(op_support(&Op::Dropout { p: 0.5, seed: 0 })[9], Support::No);
}

#[test]
fn other_files_are_refused_by_name() {
    assert_error(
        inspect(
            fixture_dir("interop").join("mlp.npz"),
            &ImportOptions::default(),
        ),
        &["mlp.npz", "expected .onnx or .safetensors"],
        "npz",
    );
}
