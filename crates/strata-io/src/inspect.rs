//! What a model file holds and what Strata can do with it: the summary behind
//! `strata inspect <model.onnx|.safetensors>`.
//!
//! For an ONNX file: producer and opset, the ONNX op histogram, the imported IR graph's inputs,
//! outputs, IR op histogram and parameters (count and shapes), and for every IR op which
//! numeric layers and analyses support it ([`op_support`]). For a safetensors file: every
//! tensor's dtype and shape and the parameter count.
//!
//! # Support table
//!
//! [`op_support`] states, per IR op, what the crates that run graphs document (a static table,
//! kept next to the op list it matches on, so a new op is a compile error here until it is
//! classified):
//!
//! | column | source | rule |
//! |---|---|---|
//! | native | `strata_ir::eval::run` | every op |
//! | f32, f64, interval | `strata_ir::interpret` (reference rules over a `NumericLayer`) | every op except the derivative kernels `vjp`/`jvp` |
//! | ieee32 | the same, soft-float layer | as above, except `pow` (strata-float has no correctly rounded pow) |
//! | fp32 | the same, exact-rational layer | as above; `pow` only with integer exponents |
//! | IBP | `strata_verify::ibp`: the interval layer | as interval |
//! | CROWN | `strata_verify::Crown` (static list from its module doc) | `input`, `parameter`, `constant`, `linear`, `matmul`, `add`, `sub`, `neg`, `mul` by a constant, `reshape`, `flatten`, `detach`, float `cast`, `relu`; any node that does not depend on the input is a constant whatever its op |
//! | error bounds | `strata_ir::error_bound::ErrorSink` | every forward op except `pow` (no error rule) and `jvp`; `vjp` of convolution and pooling only |
//! | ONNX export | [`crate::onnx::export_model`] | see [`crate::onnx::export_form`] |

use crate::file::display_name;
use crate::onnx::{export_form, import_model, read_onnx, ImportOptions};
use crate::safetensors::read_safetensors_header;
use crate::IoError;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use strata_ir::{Graph, Op};
use strata_tensor::Tensor;

/// Whether one numeric layer or analysis handles an op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    Yes,
    /// Some attribute values or operands only; the string says which.
    Partial(&'static str),
    No,
}

impl Support {
    fn mark(self) -> &'static str {
        match self {
            Support::Yes => "yes",
            Support::Partial(_) => "partial",
            Support::No => "-",
        }
    }
}

/// The columns of [`op_support`], in order.
pub const SUPPORT_COLUMNS: [&str; 10] = [
    "native",
    "f32",
    "f64",
    "ieee32",
    "fp32",
    "interval",
    "IBP",
    "CROWN",
    "error bounds",
    "ONNX export",
];

/// Which numeric layers and analyses support `op`, one entry per [`SUPPORT_COLUMNS`] column
/// (see the [module docs](self) for where each rule comes from).
pub fn op_support(op: &Op) -> [Support; 10] {
    use Support::{No, Partial, Yes};
    let derivative = matches!(op, Op::Vjp { .. } | Op::Jvp { .. });
    let interpreted = if derivative { No } else { Yes };
    let (ieee32, fp32) = match op {
        Op::Pow => (No, Partial("integer exponents")),
        _ => (interpreted, interpreted),
    };
    let crown = match op {
        Op::Input { .. }
        | Op::Parameter { .. }
        | Op::Constant { .. }
        | Op::Linear { .. }
        | Op::Matmul
        | Op::Add
        | Op::Sub
        | Op::Neg
        | Op::Reshape { .. }
        | Op::Flatten { .. }
        | Op::Detach
        | Op::Relu => Yes,
        Op::Mul => Partial("by a constant"),
        Op::Cast { dtype } if dtype.is_float() => Yes,
        _ => No,
    };
    let error_bounds = match op {
        Op::Pow | Op::Jvp { .. } => No,
        Op::Vjp { .. } => Partial("convolution and pooling VJPs"),
        _ => Yes,
    };
    let export = match export_form(op) {
        "no" => No,
        "opset≥20" => Partial("opset 20 and later"),
        _ => Yes,
    };
    [
        Yes,
        interpreted,
        interpreted,
        ieee32,
        fp32,
        interpreted,
        interpreted,
        crown,
        error_bounds,
        export,
    ]
}

/// One named tensor's declared type.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorSummary {
    pub name: String,
    pub dtype: String,
    pub shape: Vec<usize>,
}

/// What [`inspect`] found.
#[derive(Clone, Debug)]
pub enum Summary {
    Onnx(OnnxSummary),
    Safetensors(SafetensorsSummary),
}

#[derive(Clone, Debug)]
pub struct OnnxSummary {
    pub file: String,
    pub producer: String,
    pub ir_version: i64,
    pub opset: i64,
    /// ONNX op type → node count.
    pub onnx_ops: BTreeMap<String, usize>,
    pub graph: Graph,
    pub inputs: Vec<TensorSummary>,
    pub outputs: Vec<TensorSummary>,
    pub params: Vec<TensorSummary>,
}

#[derive(Clone, Debug)]
pub struct SafetensorsSummary {
    pub file: String,
    pub tensors: Vec<TensorSummary>,
    pub metadata: BTreeMap<String, String>,
}

fn summarize(name: &str, t: &Tensor) -> TensorSummary {
    TensorSummary {
        name: name.into(),
        dtype: t.dtype().name().into(),
        shape: t.dims().to_vec(),
    }
}

/// Reads the model at `path` (by extension: `.onnx` or `.safetensors`) and summarizes it;
/// `options` fixes symbolic ONNX input shapes.
pub fn inspect(path: impl AsRef<Path>, options: &ImportOptions) -> Result<Summary, IoError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    match path.extension().and_then(|e| e.to_str()) {
        Some("onnx") => {
            let model = read_onnx(path)?;
            let imported = import_model(&model, &file, options)?;
            let mut onnx_ops = BTreeMap::new();
            for node in model.graph.iter().flat_map(|g| &g.node) {
                *onnx_ops.entry(node.op_type.clone()).or_insert(0) += 1;
            }
            let graph = imported.graph;
            let node_types = |ids: &mut dyn Iterator<Item = (String, usize)>| {
                ids.map(|(name, id)| TensorSummary {
                    name,
                    dtype: graph.nodes[id].dtype.name().into(),
                    shape: graph.nodes[id].shape.dims().to_vec(),
                })
                .collect::<Vec<_>>()
            };
            let inputs = node_types(
                &mut (imported.inputs.iter().cloned()).zip(graph.inputs().map(|n| n.id)),
            );
            let outputs =
                node_types(&mut (imported.outputs.iter().cloned()).zip(graph.outputs.clone()));
            Ok(Summary::Onnx(OnnxSummary {
                file,
                producer: format!("{} {}", model.producer_name, model.producer_version)
                    .trim()
                    .to_owned(),
                ir_version: model.ir_version,
                opset: (model.opset_import.iter())
                    .filter(|o| o.domain.is_empty() || o.domain == "ai.onnx")
                    .map(|o| o.version)
                    .max()
                    .unwrap_or(1),
                onnx_ops,
                params: (imported.params.iter())
                    .map(|(n, t)| summarize(n, t))
                    .collect(),
                inputs,
                outputs,
                graph,
            }))
        }
        Some("safetensors") => {
            // The header alone (checked against the file's length): dtypes as stored.
            let header = crate::mmap::with_mapped_file(path, |bytes| {
                read_safetensors_header(bytes, &display_name(path))
            })?;
            Ok(Summary::Safetensors(SafetensorsSummary {
                file,
                tensors: (header.tensors.into_iter())
                    .map(|(name, info)| TensorSummary {
                        name,
                        dtype: info.dtype.name().into(),
                        shape: info.shape,
                    })
                    .collect(),
                metadata: header.metadata,
            }))
        }
        _ => Err(IoError::unsupported(
            &file,
            "not a model file Strata inspects (expected .onnx or .safetensors)",
        )),
    }
}

fn numel(t: &TensorSummary) -> usize {
    t.shape.iter().product()
}

fn write_tensors(f: &mut fmt::Formatter, title: &str, list: &[TensorSummary]) -> fmt::Result {
    writeln!(f, "{title} ({}):", list.len())?;
    for t in list {
        writeln!(f, "  {:<40} {:<5} {:?}", t.name, t.dtype, t.shape)?;
    }
    Ok(())
}

impl OnnxSummary {
    /// IR op tag → (node count, a representative op).
    pub fn ir_ops(&self) -> BTreeMap<&'static str, (usize, &Op)> {
        let mut ops = BTreeMap::new();
        for node in &self.graph.nodes {
            ops.entry(node.op.tag()).or_insert((0, &node.op)).0 += 1;
        }
        ops
    }

    /// The columns of [`SUPPORT_COLUMNS`] that support every op of the graph fully.
    pub fn supported_everywhere(&self) -> Vec<&'static str> {
        let ops = self.ir_ops();
        (SUPPORT_COLUMNS.iter().enumerate())
            .filter(|(k, _)| {
                ops.values()
                    .all(|(_, op)| op_support(op)[*k] == Support::Yes)
            })
            .map(|(_, c)| *c)
            .collect()
    }
}

impl fmt::Display for OnnxSummary {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(
            f,
            "{}: ONNX (IR version {}, opset {}, producer {:?})",
            self.file, self.ir_version, self.opset, self.producer
        )?;
        let onnx_nodes: usize = self.onnx_ops.values().sum();
        let hist: Vec<String> = (self.onnx_ops.iter())
            .map(|(op, n)| format!("{op}×{n}"))
            .collect();
        writeln!(f, "ONNX nodes: {onnx_nodes} ({})", hist.join(", "))?;
        write_tensors(f, "inputs", &self.inputs)?;
        write_tensors(f, "outputs", &self.outputs)?;
        let count: usize = self.params.iter().map(numel).sum();
        writeln!(f, "parameters: {count} in {} tensors", self.params.len())?;
        for t in &self.params {
            writeln!(f, "  {:<40} {:<5} {:?}", t.name, t.dtype, t.shape)?;
        }
        writeln!(f, "IR graph: {} nodes", self.graph.nodes.len())?;
        write!(f, "  {:<24} {:>5}", "op", "count")?;
        for c in SUPPORT_COLUMNS {
            write!(f, " {c:>8}")?;
        }
        writeln!(f)?;
        let mut notes = Vec::new();
        for (tag, (n, op)) in self.ir_ops() {
            write!(f, "  {tag:<24} {n:>5}")?;
            for (c, s) in SUPPORT_COLUMNS.iter().zip(op_support(op)) {
                write!(f, " {:>8}", s.mark())?;
                if let Support::Partial(why) = s {
                    notes.push(format!("{tag} in {c}: {why}"));
                }
            }
            writeln!(f)?;
        }
        for note in notes {
            writeln!(f, "  partial: {note}")?;
        }
        writeln!(
            f,
            "every op supported by: {}",
            self.supported_everywhere().join(", ")
        )
    }
}

impl fmt::Display for SafetensorsSummary {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let count: usize = self.tensors.iter().map(numel).sum();
        writeln!(
            f,
            "{}: safetensors, {count} parameters in {} tensors",
            self.file,
            self.tensors.len()
        )?;
        for (k, v) in &self.metadata {
            writeln!(f, "  metadata {k}: {v}")?;
        }
        write_tensors(f, "tensors", &self.tensors)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Summary::Onnx(s) => s.fmt(f),
            Summary::Safetensors(s) => s.fmt(f),
        }
    }
}
