//! Graphviz DOT export: one vertex per node (`%id name`, op tag, type), one edge per input
//! (labelled with the input position when an op takes several), graph outputs double-circled.

use crate::graph::Graph;
use crate::op::Op;
use std::fmt::Write;

/// A DOT string literal: quotes and backslashes escaped, newlines as `\n`.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The DOT form of `graph`.
pub fn to_dot(graph: &Graph) -> String {
    let mut out =
        String::from("digraph strata_ir {\n  rankdir=TB;\n  node [fontname=\"monospace\"];\n");
    for node in &graph.nodes {
        let mut label = format!("%{}", node.id);
        if let Some(name) = &node.name {
            let _ = write!(label, " {name}");
        }
        let _ = write!(label, "\n{}", node.op.tag());
        if let Op::Parameter { name, .. } = &node.op {
            let _ = write!(label, " {name}");
        }
        let _ = write!(label, "\n{}", node.ty());
        let shape = match node.op {
            _ if graph.outputs.contains(&node.id) => "doublecircle",
            Op::Input { .. } => "invhouse",
            Op::Parameter { .. } | Op::Constant { .. } => "box",
            _ => "ellipse",
        };
        let _ = writeln!(
            out,
            "  n{} [label={}, shape={shape}];",
            node.id,
            quoted(&label)
        );
    }
    for node in &graph.nodes {
        let numbered = node.inputs.len() > 1;
        for (position, input) in node.inputs.iter().enumerate() {
            let _ = write!(out, "  n{input} -> n{}", node.id);
            if numbered {
                let _ = write!(out, " [label=\"{position}\"]");
            }
            out.push_str(";\n");
        }
    }
    out.push_str("}\n");
    out
}
