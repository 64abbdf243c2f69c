//! The text form: stable, line-oriented, human-readable; [`parse`] reads back what [`print()`]
//! writes (and checks the result with [`Graph::check_shapes`]).
//!
//! ```text
//! strata-ir v1
//! # comment lines and blank lines are ignored
//! %0 "x" = input {dtype="f32", shape=[1,4]} : f32[1, 4]
//! %1 = relu(%0) : f32[1, 4]
//! outputs %1
//! ```
//!
//! Grammar (whitespace between tokens is free; one node per line):
//!
//! ```text
//! graph   := "strata-ir v1" NL { (node | outputs | comment | blank) NL }
//! node    := ref [STRING] "=" TAG ["(" [ref {"," ref}] ")"] ["{" [attr {"," attr}] "}"] ":" type
//! attr    := IDENT "=" JSON          (the attribute's JSON value, as in the JSON form)
//! type    := DTYPE "[" [INT {"," INT}] "]"
//! outputs := "outputs" [ref {"," ref}]          (exactly once)
//! ref     := "%" INT                  STRING := a JSON string (the node's name)
//! ```
//!
//! Attributes are printed in a fixed order (that of the JSON object serde writes), values in
//! compact JSON; floats that JSON cannot hold are strings (`"-inf"`).

use crate::error::IrError;
use crate::graph::{Graph, Node};
use crate::op::{Attributes, Op};
use crate::serde_impls::parse_dtype;
use serde_json::Value;
use std::fmt::Write;
use strata_tensor::Shape;

/// The first line of every text graph.
pub const HEADER: &str = "strata-ir v1";

/// The text form of `graph`.
pub fn print(graph: &Graph) -> Result<String, IrError> {
    let mut out = format!("{HEADER}\n");
    for node in &graph.nodes {
        out.push_str(&node_line(node)?);
        out.push('\n');
    }
    let outputs: Vec<String> = graph.outputs.iter().map(|o| format!("%{o}")).collect();
    let _ = writeln!(out, "outputs {}", outputs.join(", "));
    Ok(out)
}

/// One node's line (without the newline).
pub fn node_line(node: &Node) -> Result<String, IrError> {
    let mut line = format!("%{}", node.id);
    if let Some(name) = &node.name {
        let _ = write!(line, " {}", Value::String(name.clone()));
    }
    let _ = write!(line, " = {}", node.op.tag());
    if !node.inputs.is_empty() {
        let inputs: Vec<String> = node.inputs.iter().map(|i| format!("%{i}")).collect();
        let _ = write!(line, "({})", inputs.join(", "));
    }
    let attributes = node.op.attributes().map_err(|msg| IrError::Unsupported {
        node: node.node_ref(),
        op: node.op.tag(),
        msg,
    })?;
    if !attributes.is_empty() {
        let shown: Vec<String> = attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = write!(line, " {{{}}}", shown.join(", "));
    }
    let _ = write!(line, " : {}", node.ty());
    Ok(line)
}

/// Parses the text form, then checks well-formedness and shapes; every error names its line.
pub fn parse(text: &str) -> Result<Graph, IrError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    match lines.next() {
        Some((_, HEADER)) => {}
        Some((line, other)) => {
            return Err(IrError::Text {
                line,
                msg: format!("expected the header `{HEADER}`, got `{other}`"),
            })
        }
        None => {
            return Err(IrError::Text {
                line: 1,
                msg: format!("empty input: expected the header `{HEADER}`"),
            })
        }
    }
    let mut graph = Graph::default();
    let mut node_lines = Vec::new();
    let mut outputs_line = None;
    for (line, content) in lines {
        let mut cursor = Cursor::new(content);
        let parsed = if cursor.eat_word("outputs") {
            match outputs_line {
                Some(first) => Err(format!(
                    "a second `outputs` line (the first is line {first})"
                )),
                None => cursor.refs_to_end().map(|refs| {
                    outputs_line = Some(line);
                    graph.outputs = refs;
                }),
            }
        } else {
            cursor.node().map(|node| {
                node_lines.push(line);
                graph.nodes.push(node);
            })
        };
        parsed.map_err(|msg| IrError::Text { line, msg })?;
    }
    if outputs_line.is_none() {
        return Err(IrError::Text {
            line: text.lines().count().max(1),
            msg: "missing the `outputs` line".into(),
        });
    }
    graph.check_shapes().map_err(|e| {
        // Point at the offending node's line where the error names one.
        let node = match &e {
            IrError::Rule { node, .. }
            | IrError::BadInput { node, .. }
            | IrError::DeclaredType { node, .. } => Some(node.id),
            IrError::IdMismatch { position, .. } => Some(*position),
            _ => None,
        };
        let line = match node.and_then(|n| node_lines.get(n)) {
            Some(&line) => line,
            None => outputs_line.unwrap_or(1),
        };
        IrError::Text {
            line,
            msg: e.to_string(),
        }
    })?;
    Ok(graph)
}

/// A position in one line.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.rest().chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "expected `{c}` at column {}, found {}",
                self.pos + 1,
                self.shown_next()
            ))
        }
    }

    fn shown_next(&mut self) -> String {
        match self.peek() {
            Some(c) => format!("`{c}`"),
            None => "the end of the line".into(),
        }
    }

    /// A run of `[A-Za-z0-9_]`.
    fn word(&mut self) -> &'a str {
        self.skip_ws();
        let rest = self.rest();
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let start = self.pos;
        if self.word() == word {
            true
        } else {
            self.pos = start;
            false
        }
    }

    fn uint(&mut self, what: &str) -> Result<usize, String> {
        let column = self.pos + 1;
        let word = self.word();
        word.parse()
            .map_err(|_| format!("expected {what} at column {column}, found `{word}`"))
    }

    fn node_ref(&mut self) -> Result<usize, String> {
        self.expect('%')?;
        self.uint("a node id")
    }

    /// `ref {"," ref}` up to the end of the line (possibly none).
    fn refs_to_end(&mut self) -> Result<Vec<usize>, String> {
        let mut refs = Vec::new();
        if self.peek().is_none() {
            return Ok(refs);
        }
        loop {
            refs.push(self.node_ref()?);
            if !self.eat(',') {
                break;
            }
        }
        self.end()?;
        Ok(refs)
    }

    fn end(&mut self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            Some(c) => Err(format!("unexpected `{c}` at column {}", self.pos + 1)),
        }
    }

    /// One JSON value, however much of the line it takes.
    fn json(&mut self) -> Result<Value, String> {
        self.skip_ws();
        let mut stream = serde_json::Deserializer::from_str(self.rest()).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                self.pos += stream.byte_offset();
                Ok(value)
            }
            Some(Err(e)) => Err(format!("bad JSON value at column {}: {e}", self.pos + 1)),
            None => Err(format!("expected a JSON value at column {}", self.pos + 1)),
        }
    }

    fn node(&mut self) -> Result<Node, String> {
        let id = self.node_ref()?;
        let name = if self.peek() == Some('"') {
            match self.json()? {
                Value::String(s) => Some(s),
                _ => return Err("the node name must be a string".into()),
            }
        } else {
            None
        };
        self.expect('=')?;
        let tag = self.word().to_string();
        if tag.is_empty() {
            return Err(format!("expected an op tag, found {}", self.shown_next()));
        }
        let mut inputs = Vec::new();
        if self.eat('(') && !self.eat(')') {
            loop {
                inputs.push(self.node_ref()?);
                if self.eat(')') {
                    break;
                }
                self.expect(',')?;
            }
        }
        let mut attributes = Attributes::new();
        if self.eat('{') && !self.eat('}') {
            loop {
                let key = self.word().to_string();
                if key.is_empty() {
                    return Err(format!(
                        "expected an attribute name at column {}",
                        self.pos + 1
                    ));
                }
                self.expect('=')?;
                let value = self.json()?;
                if attributes.insert(key.clone(), value).is_some() {
                    return Err(format!("attribute `{key}` given twice"));
                }
                if self.eat('}') {
                    break;
                }
                self.expect(',')?;
            }
        }
        let op = Op::from_parts(&tag, attributes)?;
        self.expect(':')?;
        let dtype_name = self.word();
        let dtype =
            parse_dtype(dtype_name).ok_or_else(|| format!("unknown dtype `{dtype_name}`"))?;
        self.expect('[')?;
        let mut dims = Vec::new();
        if !self.eat(']') {
            loop {
                dims.push(self.uint("a dimension")?);
                if self.eat(']') {
                    break;
                }
                self.expect(',')?;
            }
        }
        self.end()?;
        let shape = Shape::new(dims);
        if shape.checked_numel().is_none() {
            return Err(format!("the shape {shape} overflows"));
        }
        Ok(Node {
            id,
            op,
            inputs,
            shape,
            dtype,
            name,
        })
    }
}
