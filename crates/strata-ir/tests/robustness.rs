//! No input makes the crate panic: random and mutated text/JSON, random input types for
//! every op's shape rule.

mod common;

use proptest::prelude::*;
use strata_ir::{cli, json, text, torchlean, TensorType};
use strata_tensor::DType;

const DTYPES: [DType; 4] = [DType::F32, DType::F64, DType::I64, DType::Bool];

fn tensor_type() -> impl Strategy<Value = TensorType> {
    (prop::collection::vec(0usize..6, 0..5), 0usize..DTYPES.len())
        .prop_map(|(dims, d)| TensorType::new(dims, DTYPES[d]))
}

/// Replaces `len` bytes at `at` (both wrapped into range, on char boundaries) by `insert`.
fn mutate(text: &str, at: usize, len: usize, insert: &str) -> String {
    let mut start = at % (text.len() + 1);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + len).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{}{insert}{}", &text[..start], &text[end..])
}

proptest! {
    #[test]
    fn every_shape_rule_answers_any_input_types(
        op_index in 0usize..200,
        inputs in prop::collection::vec(tensor_type(), 0..6),
    ) {
        let graph = common::every_op_graph();
        let op = &graph.nodes[op_index % graph.nodes.len()].op;
        // Ok or Err, never a panic; an Ok output has a representable element count.
        if let Ok(t) = op.infer(&inputs) {
            prop_assert!(t.shape.checked_numel().is_some());
        }
    }

    #[test]
    fn readers_survive_mutated_graphs(
        at in 0usize..20_000,
        len in 0usize..8,
        insert in "[ -~]{0,6}",
        form in 0usize..3,
    ) {
        let graph = common::every_op_graph();
        let written = match form {
            0 => text::print(&graph).unwrap(),
            1 => json::to_string(&graph).unwrap(),
            _ => {
                let tl = torchlean::import_str(r#"{"input_id":0,"output_id":1,"nodes":[{"id":0,"kind":"input","parents":[],"shape":[2,3]},{"id":1,"kind":"softmax","parents":[0],"shape":[2,3],"axis":1}]}"#).unwrap();
                torchlean::export_string(&tl).unwrap()
            }
        };
        let mutated = mutate(&written, at, len, &insert);
        let _ = cli::read_graph(&mutated);
    }

    #[test]
    fn readers_survive_arbitrary_text(input in "\\PC{0,200}") {
        let _ = text::parse(&input);
        let _ = json::from_str(&input);
        let _ = torchlean::import_str(&input);
        let _ = text::parse(&format!("strata-ir v1\n{input}\noutputs\n"));
    }
}

/// Ops with random (often invalid) attributes.
fn op_with_random_attributes() -> impl Strategy<Value = strata_ir::Op> {
    use strata_ir::Op;
    use strata_tensor::{Conv2dParams, MaxPool2dParams};
    let small = || 0usize..4;
    let pair = move || [small(), small()];
    let axis = || -5isize..5;
    prop_oneof![
        (pair(), pair(), pair(), small(), any::<bool>()).prop_map(
            |(stride, padding, dilation, groups, bias)| {
                Op::Conv2d {
                    params: Conv2dParams {
                        stride,
                        padding,
                        dilation,
                        groups,
                    },
                    bias,
                }
            }
        ),
        (pair(), pair(), pair(), pair(), any::<bool>()).prop_map(
            |(kernel, stride, padding, dilation, ceil_mode)| {
                Op::MaxPool2d {
                    params: MaxPool2dParams {
                        kernel,
                        stride,
                        padding,
                        dilation,
                        ceil_mode,
                    },
                }
            }
        ),
        prop::collection::vec(-2i64..7, 0..4).prop_map(|shape| Op::Reshape { shape }),
        (axis(), any::<i64>(), any::<i64>(), small()).prop_map(|(axis, start, end, step)| {
            Op::Slice {
                axis,
                start,
                end,
                step,
            }
        }),
        (axis(), prop::collection::vec(small(), 0..4), small())
            .prop_map(|(axis, sizes, index)| Op::Split { axis, sizes, index }),
        prop::collection::vec(small(), 0..5).prop_map(|perm| Op::Permute { perm }),
        prop::collection::vec((any::<usize>(), small()).prop_map(|(a, b)| [a, b]), 0..4)
            .prop_map(|pads| Op::Pad { pads, value: 0.0 }),
        (prop::collection::vec(axis(), 0..4), any::<bool>())
            .prop_map(|(axes, keepdim)| Op::ReduceMax { axes, keepdim }),
        (axis(), axis()).prop_map(|(start_axis, end_axis)| Op::Flatten {
            start_axis,
            end_axis
        }),
        (axis(), axis()).prop_map(|(axis0, axis1)| Op::Transpose { axis0, axis1 }),
        axis().prop_map(|axis| Op::Gather { axis }),
        axis().prop_map(|axis| Op::Concat { axis }),
        (small(), any::<bool>()).prop_map(|(num_groups, affine)| Op::GroupNorm {
            num_groups,
            eps: 1e-5,
            affine
        }),
        prop::collection::vec(small(), 0..3).prop_map(|normalized_shape| Op::LayerNorm {
            normalized_shape,
            eps: 1e-5,
            affine: true
        }),
        pair().prop_map(|output_size| Op::AdaptiveAvgPool2d { output_size }),
    ]
}

proptest! {
    // Many cases: most attribute and input draws are invalid, the interesting ones are rare.
    #![proptest_config(ProptestConfig::with_cases(4000))]
    #[test]
    fn shape_rules_answer_random_attributes(
        op in op_with_random_attributes(),
        inputs in prop::collection::vec(tensor_type(), 0..6),
    ) {
        if let Ok(t) = op.infer(&inputs) {
            prop_assert!(t.shape.checked_numel().is_some());
        }
    }
}
