//! Text, JSON and DOT forms: round trips on a graph with every op, and malformed inputs.

mod common;

use common::{derivative_op_graph, every_op_graph};
use std::collections::BTreeSet;
use strata_ir::{json, text, GraphBuilder, IrError, Literal, Op};
use strata_tensor::{DType, Tensor};

#[test]
fn the_every_op_graph_covers_the_vocabulary_and_tags_match_serde() {
    let graph = every_op_graph();
    graph.check_shapes().unwrap();
    let derivatives = derivative_op_graph();
    derivatives.check_shapes().unwrap();
    let used: BTreeSet<&str> = (graph.nodes.iter().chain(&derivatives.nodes))
        .map(|n| n.op.tag())
        .collect();
    let all: BTreeSet<&str> = Op::TAGS.into_iter().collect();
    assert_eq!(used, all, "ops missing from the test graph");
    assert_eq!(all.len(), Op::TAGS.len(), "a tag is listed twice");
    let snake = |t: &&str| {
        t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    assert!(Op::TAGS.iter().all(snake));
    assert_eq!(Op::TAGS.len(), 79);
    for node in &graph.nodes {
        // The serde tag (used by both forms) is the tag the rest of the crate reports.
        let value = serde_json::to_value(&node.op).unwrap();
        assert_eq!(value["op"], node.op.tag());
    }
}

#[test]
fn text_round_trips_every_op() {
    for graph in [every_op_graph(), derivative_op_graph()] {
        let printed = text::print(&graph).unwrap();
        let parsed = text::parse(&printed).unwrap();
        assert_eq!(parsed, graph);
        // Printing is stable: the parsed graph prints identically.
        assert_eq!(text::print(&parsed).unwrap(), printed);
    }
}

#[test]
fn json_round_trips_every_op() {
    for graph in [every_op_graph(), derivative_op_graph()] {
        let written = json::to_string(&graph).unwrap();
        assert_eq!(json::from_str(&written).unwrap(), graph);
    }
}

#[test]
fn text_lines_look_as_documented() {
    let mut b = GraphBuilder::new();
    let x = b
        .push_named(
            "x",
            Op::Input {
                shape: [1, 4].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let y = b
        .push(
            Op::LeakyRelu {
                negative_slope: 0.5,
            },
            &[x],
        )
        .unwrap();
    let g = b.finish(&[y]).unwrap();
    assert_eq!(
        text::print(&g).unwrap(),
        "strata-ir v1\n\
         %0 \"x\" = input {dtype=\"f32\", shape=[1,4]} : f32[1, 4]\n\
         %1 = leaky_relu(%0) {negative_slope=0.5} : f32[1, 4]\n\
         outputs %1\n"
    );
}

#[test]
fn special_floats_survive_both_forms_bit_for_bit() {
    let nan_payload = f32::from_bits(0x7fc0_0123);
    let values = vec![
        f32::NAN,
        nan_payload,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        1e-45,
        0.1,
        1e-30,
    ];
    let mut b = GraphBuilder::new();
    let c32 = Literal(Tensor::from_vec(values.clone(), [8]).unwrap());
    let c64 = Literal(Tensor::from_vec(vec![f64::MIN_POSITIVE, -0.0, 1.0 / 3.0], [3]).unwrap());
    let ch = Literal(
        Tensor::from_vec(vec![0.1f64, 65504.0], [2])
            .unwrap()
            .to_dtype(DType::F16)
            .unwrap(),
    );
    let cb = Literal(Tensor::from_vec(vec![i64::MIN, 7], [2]).unwrap());
    let ids: Vec<_> = [c32, c64, ch, cb]
        .into_iter()
        .map(|value| b.push(Op::Constant { value }, &[]).unwrap())
        .collect();
    let g = b.finish(&ids).unwrap();
    let printed = text::print(&g).unwrap();
    // f32 data is written as f32's own shortest decimals; NaN payloads as bits.
    assert!(
        printed.contains(r#"["nan","0x7fc00123","inf","-inf",-0.0,1e-45,0.1,1e-30]"#),
        "{printed}"
    );
    let from_text = text::parse(&printed).unwrap();
    let from_json = json::from_str(&json::to_string(&g).unwrap()).unwrap();
    assert_eq!(from_text, g);
    assert_eq!(from_json, g);
    let Op::Constant { value } = &from_text.nodes[0].op else {
        panic!("not a constant")
    };
    let bits: Vec<u32> = value
        .0
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect();
    let expected: Vec<u32> = values.iter().map(|v| v.to_bits()).collect();
    assert_eq!(bits, expected);
}

fn text_error(input: &str) -> (usize, String) {
    match text::parse(input) {
        Err(IrError::Text { line, msg }) => (line, msg),
        other => panic!("expected a text error, got {other:?}"),
    }
}

#[test]
fn malformed_text_names_the_line() {
    let good = "strata-ir v1\n%0 = input {dtype=\"f32\", shape=[2]} : f32[2]\n%1 = relu(%0) : f32[2]\noutputs %1\n";
    text::parse(good).unwrap();
    let cases: [(&str, usize, &str); 9] = [
        ("", 1, "empty input"),
        ("strata-ir v2\n", 1, "expected the header"),
        (
            &good.replace("relu", "frobnicate"),
            3,
            "unknown op `frobnicate`",
        ),
        (
            &good.replace("shape=[2]", "shape=[2], colour=1"),
            2,
            "unknown attribute `colour`",
        ),
        (
            &good.replace("dtype=\"f32\", ", ""),
            2,
            "missing field `dtype`",
        ),
        (
            &good.replace(": f32[2]\noutputs", ": f32[3]\noutputs"),
            3,
            "declared f32[3], but inputs f32[2] give f32[2]",
        ),
        (
            &good.replace("relu(%0)", "relu(%5)"),
            3,
            "input %5 is not an earlier node",
        ),
        (
            &good.replace("outputs %1\n", ""),
            3,
            "missing the `outputs` line",
        ),
        (
            &good.replace("shape=[2]}", "shape=[2,}"),
            2,
            "bad JSON value",
        ),
    ];
    for (input, line, needle) in cases {
        let (got_line, msg) = text_error(input);
        assert_eq!(got_line, line, "{msg}");
        assert!(msg.contains(needle), "`{msg}` lacks `{needle}`");
    }
}

#[test]
fn malformed_json_names_the_path() {
    let good = r#"{"format":"strata.ir.v1","nodes":[
        {"id":0,"op":"input","attrs":{"dtype":"f32","shape":[2]},"inputs":[],"dtype":"f32","shape":[2]},
        {"id":1,"op":"relu","inputs":[0],"dtype":"f32","shape":[2]}],"outputs":[1]}"#;
    json::from_str(good).unwrap();
    let cases = [
        (
            good.replace("\"relu\"", "7"),
            "$.nodes[1].op",
            "expected a string",
        ),
        (
            good.replace("\"inputs\":[0]", "\"inputs\":[-1]"),
            "$.nodes[1].inputs[0]",
            "non-negative",
        ),
        (
            good.replace("\"f32\",\"shape\":[2]}", "\"f33\",\"shape\":[2]}"),
            "$.nodes[0].attrs",
            "unknown dtype `f33`",
        ),
        (
            good.replace("\"outputs\":[1]", "\"outputs\":[1],\"extra\":1"),
            "$.extra",
            "unknown field",
        ),
        (
            good.replace("\"inputs\":[0],", "\"inputs\":[0],\"colour\":1,"),
            "$.nodes[1].colour",
            "unknown field",
        ),
        (good.replace("strata.ir.v1", "v0"), "$.format", "expected"),
        (good[..40].to_string(), "$", "EOF"),
    ];
    for (input, path, needle) in cases {
        match json::from_str(&input) {
            Err(IrError::Json { path: got, msg }) => {
                assert_eq!(got, path, "{msg}");
                assert!(msg.contains(needle), "`{msg}` lacks `{needle}`");
            }
            other => panic!("{input}: expected a JSON error, got {other:?}"),
        }
    }
}

#[test]
fn dot_lists_every_node_and_edge() {
    let graph = every_op_graph();
    let dot = strata_ir::dot::to_dot(&graph);
    assert!(dot.starts_with("digraph strata_ir {"));
    let vertices = dot
        .lines()
        .filter(|l| l.contains("[label=") && !l.contains("->"))
        .count();
    let edges = dot.lines().filter(|l| l.contains("->")).count();
    assert_eq!(vertices, graph.nodes.len());
    assert_eq!(
        edges,
        graph.nodes.iter().map(|n| n.inputs.len()).sum::<usize>()
    );
    assert!(dot.contains("n0 [label=\"%0 x\\ninput\\nf32[2, 3, 8, 8]\", shape=invhouse];"));
    assert!(dot.contains("n0 -> n3 [label=\"0\"];"));
}
