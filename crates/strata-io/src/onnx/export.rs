//! Writing a [`strata_ir::Graph`] and its parameters as an ONNX model (default domain).
//!
//! Ops with an ONNX counterpart become that node (`linear` → Gemm with `transB`, `embedding` →
//! Gather, `gather` → GatherElements, `split` and `slice` → Slice, `broadcast_to` → Expand,
//! `reshape` and `flatten` → Reshape to the inferred shape, `square` → Mul, `silu` → Sigmoid
//! and Mul, `detach` → Identity, …). Composite ops without one (`rms_norm`, `group_norm`,
//! `masked_softmax`, `scaled_dot_product_attention`, the losses) are written as their IR
//! decomposition ([`Op::decompose`]), which is also how Strata evaluates them, so the exported
//! model computes what the graph computes. An op with neither (training-mode dropout, random
//! draws, derivative kernels, unbatched convolutions, …) is an error naming the node.
//!
//! Parameters become initializers named by their store names; constants become `Constant`
//! nodes, so importing the file gives back parameters and constants as they were. Attributes
//! ONNX stores as `float` (epsilons, slopes) are written in binary32.

use super::proto::{attribute_type as at, AttributeProto, GraphProto, ModelProto, NodeProto};
use super::proto::{
    DimValue, Dimension, OperatorSetIdProto, TensorShapeProto, TensorTypeProto, TypeProto,
    TypeValue, ValueInfoProto,
};
use super::tensor::{data_type, tensor_to_proto};
use crate::IoError;
use std::collections::HashSet;
use std::path::Path;
use strata_ir::{
    Comparison, Emit, GeluApproximation, Graph, GraphBuilder, Node, NodeId, Op, OpSink, ParamStore,
    TensorType,
};
use strata_tensor::{DType, Tensor};

/// The default-domain opsets [`export_model`] writes.
pub const EXPORT_OPSETS: std::ops::RangeInclusive<i64> = 17..=21;

/// The opset [`write_model`] callers usually want: the first with a `Gelu` op.
pub const DEFAULT_EXPORT_OPSET: i64 = 20;

/// What the model is called in errors.
const PLACE: &str = "ONNX export";

/// The ONNX model of `graph` with `params` as initializers, in default-domain `opset` (one of
/// [`EXPORT_OPSETS`]). The parameters must match the graph's declarations
/// ([`Graph::check_params`]).
pub fn export_model(graph: &Graph, params: &ParamStore, opset: i64) -> Result<ModelProto, IoError> {
    if !EXPORT_OPSETS.contains(&opset) {
        return Err(IoError::unsupported(
            PLACE,
            format!(
                "opset {opset} (export writes opsets {} to {})",
                EXPORT_OPSETS.start(),
                EXPORT_OPSETS.end()
            ),
        ));
    }
    graph
        .check_params(params)
        .map_err(|e| IoError::malformed(PLACE, "parameters", e.to_string()))?;
    let lowered = lower(graph)?;
    let mut ex = Exporter {
        opset,
        graph: &lowered,
        names: vec![String::new(); lowered.nodes.len()],
        used: HashSet::new(),
        out: GraphProto {
            name: "strata".into(),
            ..GraphProto::default()
        },
        temps: 0,
    };
    for node in &lowered.nodes {
        if let Op::Parameter { name, .. } = &node.op {
            if ex.used.insert(name.clone()) {
                ex.out
                    .initializer
                    .push(tensor_to_proto(name, &params[name])?);
            }
            ex.names[node.id] = name.clone();
        }
    }
    for node in &lowered.nodes {
        ex.node(node)?;
    }
    let mut seen = HashSet::new();
    for (k, &o) in lowered.outputs.iter().enumerate() {
        let node = &lowered.nodes[o];
        let mut name = ex.names[o].clone();
        let is_source = matches!(node.op, Op::Input { .. } | Op::Parameter { .. });
        if is_source || !seen.insert(name.clone()) {
            // ONNX graph outputs are distinct values computed by nodes.
            let alias = ex.fresh(&format!("output_{k}"));
            ex.push("Identity", &[&name], &alias, vec![]);
            name = alias;
        }
        ex.out.output.push(value_info(&name, &node.ty()));
    }
    Ok(ModelProto {
        ir_version: match opset {
            ..=18 => 8,
            19..=20 => 9,
            _ => 10,
        },
        producer_name: "strata".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        graph: Some(ex.out),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: opset,
            ..OperatorSetIdProto::default()
        }],
        ..ModelProto::default()
    })
}

/// Exports `graph` and `params` ([`export_model`]) and writes the model to `path`, atomically.
pub fn write_model(
    path: impl AsRef<Path>,
    graph: &Graph,
    params: &ParamStore,
    opset: i64,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let model = export_model(graph, params, opset).map_err(|e| match e {
        IoError::Malformed { place, problem, .. } => {
            IoError::malformed(&path.display().to_string(), place, problem)
        }
        IoError::Unsupported { problem, .. } => {
            IoError::unsupported(&path.display().to_string(), problem)
        }
        other => other,
    })?;
    super::write_onnx(path, &model)
}

/// Whether the exporter writes `op` as ONNX nodes of its own (otherwise it decomposes).
fn direct(op: &Op) -> bool {
    !matches!(
        op,
        Op::RmsNorm { .. }
            | Op::GroupNorm { .. }
            | Op::MaskedSoftmax { .. }
            | Op::ScaledDotProductAttention { .. }
            | Op::MseLoss { .. }
            | Op::CrossEntropy { .. }
            | Op::NllLoss { .. }
            | Op::BceWithLogits { .. }
            | Op::Softplus { .. }
            | Op::Dropout { .. }
            | Op::RandUniform { .. }
            | Op::BernoulliMask { .. }
            | Op::Vjp { .. }
            | Op::Jvp { .. }
    )
}

/// A graph builder that expands the ops [`direct`] refuses into their decompositions.
struct Lowering(GraphBuilder);

impl OpSink for Lowering {
    type Value = NodeId;
    fn apply(&mut self, op: Op, inputs: &[NodeId]) -> Result<NodeId, String> {
        if direct(&op) {
            return self.0.push(op, inputs).map_err(|e| e.to_string());
        }
        match op.decompose(&mut Emit(self), inputs) {
            Some(result) => result,
            None => Err(format!("op {} has no ONNX form", op.tag())),
        }
    }
    fn ty(&self, value: &NodeId) -> TensorType {
        // Ids handed out by this builder always exist.
        (self.0.ty(*value))
            .unwrap_or_else(|| TensorType::new(strata_tensor::Shape::scalar(), DType::F32))
    }
}

/// `graph` with every op that has no ONNX counterpart replaced by its decomposition.
fn lower(graph: &Graph) -> Result<Graph, IoError> {
    let mut sink = Lowering(GraphBuilder::new());
    let mut ids = Vec::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let inputs: Vec<NodeId> = node.inputs.iter().map(|&i| ids[i]).collect();
        let id = match &node.name {
            Some(name) if direct(&node.op) => sink
                .0
                .push_named(name.clone(), node.op.clone(), &inputs)
                .map_err(|e| e.to_string()),
            _ => sink.apply(node.op.clone(), &inputs),
        }
        .map_err(|e| IoError::unsupported(PLACE, format!("{}: {e}", node.node_ref())))?;
        ids.push(id);
    }
    let outputs: Vec<NodeId> = graph.outputs.iter().map(|&o| ids[o]).collect();
    sink.0
        .finish(&outputs)
        .map_err(|e| IoError::malformed(PLACE, "graph", e.to_string()))
}

fn value_info(name: &str, ty: &TensorType) -> ValueInfoProto {
    let dim = ty
        .dims()
        .iter()
        .map(|&d| Dimension {
            value: DimValue::Value(d as i64),
            ..Dimension::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(TypeValue::Tensor(TensorTypeProto {
                elem_type: data_type::from_dtype(ty.dtype),
                shape: Some(TensorShapeProto {
                    dim,
                    ..TensorShapeProto::default()
                }),
                ..TensorTypeProto::default()
            })),
            ..TypeProto::default()
        }),
        ..ValueInfoProto::default()
    }
}

fn attr_int(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: at::INT,
        i: Some(i),
        ..AttributeProto::default()
    }
}

fn attr_ints(name: &str, ints: Vec<i64>) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: at::INTS,
        ints,
        ..AttributeProto::default()
    }
}

fn attr_float(name: &str, f: f64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: at::FLOAT,
        f: Some(f as f32),
        ..AttributeProto::default()
    }
}

fn attr_string(name: &str, s: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: at::STRING,
        s: Some(s.as_bytes().to_vec()),
        ..AttributeProto::default()
    }
}

fn ints(v: &[usize]) -> Vec<i64> {
    v.iter().map(|&d| d as i64).collect()
}

/// `axis` (negative counts from the end) as an index into `rank` axes; the IR checked it.
fn axis_index(axis: isize, rank: usize) -> usize {
    if axis < 0 {
        (axis + rank as isize) as usize
    } else {
        axis as usize
    }
}

struct Exporter<'g> {
    opset: i64,
    graph: &'g Graph,
    /// The ONNX value name of each node.
    names: Vec<String>,
    used: HashSet<String>,
    out: GraphProto,
    temps: usize,
}

impl Exporter<'_> {
    /// A value name not used yet, `base` where possible.
    fn fresh(&mut self, base: &str) -> String {
        let mut name = base.to_owned();
        while !self.used.insert(name.clone()) {
            self.temps += 1;
            name = format!("{base}_{}", self.temps);
        }
        name
    }

    fn push(&mut self, op_type: &str, inputs: &[&str], output: &str, attrs: Vec<AttributeProto>) {
        self.out.node.push(NodeProto {
            name: output.into(),
            op_type: op_type.into(),
            input: inputs.iter().map(|s| (*s).to_owned()).collect(),
            output: vec![output.into()],
            attribute: attrs,
            ..NodeProto::default()
        });
    }

    /// A `Constant` node holding `t`; returns its value name.
    fn constant(&mut self, base: &str, t: &Tensor) -> Result<String, IoError> {
        let name = self.fresh(base);
        let value = AttributeProto {
            name: "value".into(),
            r#type: at::TENSOR,
            t: Some(tensor_to_proto(&name, t)?),
            ..AttributeProto::default()
        };
        self.push("Constant", &[], &name, vec![value]);
        Ok(name)
    }

    fn int_constant(&mut self, base: &str, v: Vec<i64>) -> Result<String, IoError> {
        let n = v.len();
        let t =
            Tensor::from_vec(v, [n]).map_err(|e| IoError::malformed(PLACE, base, e.to_string()))?;
        self.constant(base, &t)
    }

    fn node(&mut self, node: &Node) -> Result<(), IoError> {
        if matches!(node.op, Op::Parameter { .. }) {
            return Ok(());
        }
        let base = node
            .name
            .clone()
            .unwrap_or_else(|| node.op.tag().to_owned());
        let out = self.fresh(&base);
        self.names[node.id] = out.clone();
        let x: Vec<String> = node.inputs.iter().map(|&i| self.names[i].clone()).collect();
        let xs: Vec<&str> = x.iter().map(String::as_str).collect();
        let input_type = |k: usize| self.graph.nodes[node.inputs[k]].ty();
        let unsupported = |what: String| {
            IoError::unsupported(
                PLACE,
                format!("{} ({}): {what}", node.node_ref(), node.op.tag()),
            )
        };
        let simple = match &node.op {
            Op::Neg => Some("Neg"),
            Op::Abs => Some("Abs"),
            Op::Sqrt => Some("Sqrt"),
            Op::Reciprocal => Some("Reciprocal"),
            Op::Exp => Some("Exp"),
            Op::Log => Some("Log"),
            Op::Sin => Some("Sin"),
            Op::Cos => Some("Cos"),
            Op::Tanh => Some("Tanh"),
            Op::Sigmoid => Some("Sigmoid"),
            Op::Relu => Some("Relu"),
            Op::Erf => Some("Erf"),
            Op::Sign => Some("Sign"),
            Op::Floor => Some("Floor"),
            Op::Detach => Some("Identity"),
            Op::Add => Some("Add"),
            Op::Sub => Some("Sub"),
            Op::Mul => Some("Mul"),
            Op::Div => Some("Div"),
            Op::Pow => Some("Pow"),
            Op::Minimum => Some("Min"),
            Op::Maximum => Some("Max"),
            Op::Where => Some("Where"),
            Op::LogicalNot => Some("Not"),
            Op::LogicalAnd => Some("And"),
            Op::LogicalOr => Some("Or"),
            Op::Matmul => Some("MatMul"),
            Op::Compare { cmp } => match cmp {
                Comparison::Eq | Comparison::Ne => Some("Equal"),
                Comparison::Lt => Some("Less"),
                Comparison::Le => Some("LessOrEqual"),
                Comparison::Gt => Some("Greater"),
                Comparison::Ge => Some("GreaterOrEqual"),
            },
            _ => None,
        };
        if let Some(op_type) = simple {
            if matches!(
                node.op,
                Op::Compare {
                    cmp: Comparison::Ne
                }
            ) {
                let eq = self.fresh(&format!("{out}_eq"));
                self.push(op_type, &xs, &eq, vec![]);
                self.push("Not", &[&eq], &out, vec![]);
            } else {
                self.push(op_type, &xs, &out, vec![]);
            }
            return Ok(());
        }
        match &node.op {
            Op::Input { shape, dtype } => {
                self.out
                    .input
                    .push(value_info(&out, &TensorType::new(shape.clone(), *dtype)));
            }
            Op::Constant { value } => {
                let value = AttributeProto {
                    name: "value".into(),
                    r#type: at::TENSOR,
                    t: Some(tensor_to_proto(&out, &value.0)?),
                    ..AttributeProto::default()
                };
                self.push("Constant", &[], &out, vec![value]);
            }
            Op::Square => self.push("Mul", &[xs[0], xs[0]], &out, vec![]),
            Op::Silu => {
                let s = self.fresh(&format!("{out}_sigmoid"));
                self.push("Sigmoid", &xs, &s, vec![]);
                self.push("Mul", &[xs[0], &s], &out, vec![]);
            }
            Op::LeakyRelu { negative_slope } => {
                self.push(
                    "LeakyRelu",
                    &xs,
                    &out,
                    vec![attr_float("alpha", *negative_slope)],
                );
            }
            Op::Gelu { approximate } => {
                if self.opset < 20 {
                    return Err(unsupported(format!(
                        "Gelu needs opset 20 (exporting opset {})",
                        self.opset
                    )));
                }
                let form = match approximate {
                    GeluApproximation::Erf => "none",
                    GeluApproximation::Tanh => "tanh",
                };
                self.push("Gelu", &xs, &out, vec![attr_string("approximate", form)]);
            }
            Op::Cast { dtype } => {
                let to = data_type::from_dtype(*dtype);
                self.push("Cast", &xs, &out, vec![attr_int("to", i64::from(to))]);
            }
            Op::Linear { .. } => {
                let dims = input_type(0).shape.into_vec();
                let features = *dims.last().unwrap_or(&1);
                if dims.len() == 2 {
                    self.push("Gemm", &xs, &out, vec![attr_int("transB", 1)]);
                } else {
                    // Gemm takes 2-D operands: flatten the batch axes and restore them.
                    let rows = dims.iter().rev().skip(1).product::<usize>();
                    let shape = self
                        .int_constant(&format!("{out}_rows"), vec![rows as i64, features as i64])?;
                    let flat = self.fresh(&format!("{out}_flat"));
                    self.push("Reshape", &[xs[0], &shape], &flat, vec![]);
                    let mut args = vec![flat.as_str()];
                    args.extend(&xs[1..]);
                    let gemm = self.fresh(&format!("{out}_gemm"));
                    self.push("Gemm", &args, &gemm, vec![attr_int("transB", 1)]);
                    let back =
                        self.int_constant(&format!("{out}_shape"), ints(node.shape.dims()))?;
                    self.push("Reshape", &[&gemm, &back], &out, vec![]);
                }
            }
            Op::Einsum { equation } => {
                self.push("Einsum", &xs, &out, vec![attr_string("equation", equation)]);
            }
            Op::Conv1d { params, .. } => {
                if input_type(0).rank() != 3 {
                    return Err(unsupported("an unbatched input".into()));
                }
                let kernel = input_type(1).dims()[2];
                self.push(
                    "Conv",
                    &xs,
                    &out,
                    vec![
                        attr_ints("kernel_shape", vec![kernel as i64]),
                        attr_ints("strides", ints(&[params.stride])),
                        attr_ints("pads", ints(&[params.padding, params.padding])),
                        attr_ints("dilations", ints(&[params.dilation])),
                        attr_int("group", params.groups as i64),
                    ],
                );
            }
            Op::Conv2d { params, .. } => {
                if input_type(0).rank() != 4 {
                    return Err(unsupported("an unbatched input".into()));
                }
                let p = params.padding;
                self.push(
                    "Conv",
                    &xs,
                    &out,
                    vec![
                        attr_ints("kernel_shape", ints(&input_type(1).dims()[2..])),
                        attr_ints("strides", ints(&params.stride)),
                        attr_ints("pads", ints(&[p[0], p[1], p[0], p[1]])),
                        attr_ints("dilations", ints(&params.dilation)),
                        attr_int("group", params.groups as i64),
                    ],
                );
            }
            Op::ConvTranspose2d { params, .. } => {
                if input_type(0).rank() != 4 {
                    return Err(unsupported("an unbatched input".into()));
                }
                let p = params.padding;
                self.push(
                    "ConvTranspose",
                    &xs,
                    &out,
                    vec![
                        attr_ints("kernel_shape", ints(&input_type(1).dims()[2..])),
                        attr_ints("strides", ints(&params.stride)),
                        attr_ints("pads", ints(&[p[0], p[1], p[0], p[1]])),
                        attr_ints("output_padding", ints(&params.output_padding)),
                        attr_ints("dilations", ints(&params.dilation)),
                        attr_int("group", params.groups as i64),
                    ],
                );
            }
            Op::MaxPool2d { params } => {
                if input_type(0).rank() != 4 {
                    return Err(unsupported("an unbatched input".into()));
                }
                let p = params.padding;
                self.push(
                    "MaxPool",
                    &xs,
                    &out,
                    vec![
                        attr_ints("kernel_shape", ints(&params.kernel)),
                        attr_ints("strides", ints(&params.stride)),
                        attr_ints("pads", ints(&[p[0], p[1], p[0], p[1]])),
                        attr_ints("dilations", ints(&params.dilation)),
                        attr_int("ceil_mode", i64::from(params.ceil_mode)),
                    ],
                );
            }
            Op::AvgPool2d { params } => {
                if input_type(0).rank() != 4 {
                    return Err(unsupported("an unbatched input".into()));
                }
                if params.divisor_override.is_some() {
                    return Err(unsupported("divisor_override".into()));
                }
                let p = params.padding;
                self.push(
                    "AveragePool",
                    &xs,
                    &out,
                    vec![
                        attr_ints("kernel_shape", ints(&params.kernel)),
                        attr_ints("strides", ints(&params.stride)),
                        attr_ints("pads", ints(&[p[0], p[1], p[0], p[1]])),
                        attr_int("ceil_mode", i64::from(params.ceil_mode)),
                        attr_int("count_include_pad", i64::from(params.count_include_pad)),
                    ],
                );
            }
            Op::AdaptiveAvgPool2d { output_size } => {
                let dims = input_type(0).shape.into_vec();
                if dims.len() != 4 {
                    return Err(unsupported("an unbatched input".into()));
                }
                if *output_size == [1, 1] {
                    self.push("GlobalAveragePool", &xs, &out, vec![]);
                } else if dims[2] % output_size[0] == 0 && dims[3] % output_size[1] == 0 {
                    // Equal windows: an average pool (one division instead of two).
                    let k = [dims[2] / output_size[0], dims[3] / output_size[1]];
                    self.push(
                        "AveragePool",
                        &xs,
                        &out,
                        vec![
                            attr_ints("kernel_shape", ints(&k)),
                            attr_ints("strides", ints(&k)),
                        ],
                    );
                } else {
                    return Err(unsupported(format!(
                        "output size {output_size:?} does not divide the input {:?}",
                        &dims[2..]
                    )));
                }
            }
            Op::BatchNorm { eps, affine } => {
                let ty = input_type(0);
                let channels = ty.dims().get(1).copied().unwrap_or(1);
                let (scale, bias) = if *affine {
                    (x[3].clone(), x[4].clone())
                } else {
                    self.unit_affine(&out, &[channels], ty.dtype)?
                };
                self.push(
                    "BatchNormalization",
                    &[xs[0], &scale, &bias, xs[1], xs[2]],
                    &out,
                    vec![attr_float("epsilon", *eps)],
                );
            }
            Op::LayerNorm {
                normalized_shape,
                eps,
                affine,
            } => {
                let (scale, bias) = if *affine {
                    (x[1].clone(), x[2].clone())
                } else {
                    self.unit_affine(&out, normalized_shape, input_type(0).dtype)?
                };
                self.push(
                    "LayerNormalization",
                    &[xs[0], &scale, &bias],
                    &out,
                    vec![
                        attr_int("axis", -(normalized_shape.len() as i64)),
                        attr_float("epsilon", *eps),
                    ],
                );
            }
            Op::Softmax { axis } => {
                self.push("Softmax", &xs, &out, vec![attr_int("axis", *axis as i64)]);
            }
            Op::LogSoftmax { axis } => {
                self.push(
                    "LogSoftmax",
                    &xs,
                    &out,
                    vec![attr_int("axis", *axis as i64)],
                );
            }
            Op::Embedding => {
                self.push("Gather", &[xs[1], xs[0]], &out, vec![attr_int("axis", 0)]);
            }
            Op::Gather { axis } => {
                self.push(
                    "GatherElements",
                    &xs,
                    &out,
                    vec![attr_int("axis", *axis as i64)],
                );
            }
            Op::Trilu { upper, diagonal } => {
                let k = self.constant(&format!("{out}_k"), &Tensor::scalar(*diagonal))?;
                self.push(
                    "Trilu",
                    &[xs[0], &k],
                    &out,
                    vec![attr_int("upper", i64::from(*upper))],
                );
            }
            Op::ArgMax { axis, keepdim } => {
                self.push(
                    "ArgMax",
                    &xs,
                    &out,
                    vec![
                        attr_int("axis", *axis as i64),
                        attr_int("keepdims", i64::from(*keepdim)),
                    ],
                );
            }
            Op::Reshape { .. } | Op::Flatten { .. } => {
                let dims = node.shape.dims();
                let shape = self.int_constant(&format!("{out}_shape"), ints(dims))?;
                // allowzero: a 0 in the target is an empty axis, not "copy the input's".
                let attrs = if dims.contains(&0) {
                    vec![attr_int("allowzero", 1)]
                } else {
                    vec![]
                };
                self.push("Reshape", &[xs[0], &shape], &out, attrs);
            }
            Op::Permute { perm } => {
                self.push("Transpose", &xs, &out, vec![attr_ints("perm", ints(perm))]);
            }
            Op::Transpose { axis0, axis1 } => {
                let rank = input_type(0).rank();
                let mut perm: Vec<usize> = (0..rank).collect();
                perm.swap(axis_index(*axis0, rank), axis_index(*axis1, rank));
                self.push("Transpose", &xs, &out, vec![attr_ints("perm", ints(&perm))]);
            }
            Op::BroadcastTo { shape } => {
                let target = self.int_constant(&format!("{out}_shape"), ints(shape.dims()))?;
                self.push("Expand", &[xs[0], &target], &out, vec![]);
            }
            Op::Concat { axis } => {
                self.push("Concat", &xs, &out, vec![attr_int("axis", *axis as i64)]);
            }
            Op::Tile { repeats } => {
                let r = self.int_constant(&format!("{out}_repeats"), ints(repeats))?;
                self.push("Tile", &[xs[0], &r], &out, vec![]);
            }
            Op::Split { axis, sizes, index } => {
                let start: usize = sizes[..*index].iter().sum();
                self.slice(
                    &out,
                    xs[0],
                    *axis,
                    start as i64,
                    (start + sizes[*index]) as i64,
                    1,
                )?;
            }
            Op::Slice {
                axis,
                start,
                end,
                step,
            } => self.slice(&out, xs[0], *axis, *start, *end, *step)?,
            Op::Pad { pads, value } => {
                let ty = input_type(0);
                let rank = ty.rank();
                let mut begin = vec![0i64; rank];
                let mut end = vec![0i64; rank];
                // The IR lists (before, after) from the last axis backwards.
                for (i, [b, a]) in pads.iter().enumerate() {
                    begin[rank - 1 - i] = *b as i64;
                    end[rank - 1 - i] = *a as i64;
                }
                begin.extend(end);
                let p = self.int_constant(&format!("{out}_pads"), begin)?;
                let fill = Tensor::scalar_f64(*value, ty.dtype);
                let v = self.constant(&format!("{out}_value"), &fill)?;
                self.push(
                    "Pad",
                    &[xs[0], &p, &v],
                    &out,
                    vec![attr_string("mode", "constant")],
                );
            }
            Op::ReduceSum { axes, keepdim }
            | Op::ReduceMean { axes, keepdim }
            | Op::ReduceMax { axes, keepdim } => {
                if axes.is_empty() {
                    // The IR reduces exactly the listed axes; ONNX would reduce them all.
                    self.push("Identity", &xs, &out, vec![]);
                    return Ok(());
                }
                let (op_type, axes_input_from) = match node.op {
                    Op::ReduceSum { .. } => ("ReduceSum", 13),
                    Op::ReduceMean { .. } => ("ReduceMean", 18),
                    _ => ("ReduceMax", 18),
                };
                let axes: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
                let keep = attr_int("keepdims", i64::from(*keepdim));
                if self.opset >= axes_input_from {
                    let a = self.int_constant(&format!("{out}_axes"), axes)?;
                    self.push(op_type, &[xs[0], &a], &out, vec![keep]);
                } else {
                    self.push(op_type, &xs, &out, vec![keep, attr_ints("axes", axes)]);
                }
            }
            other => return Err(unsupported(format!("op {} has no ONNX form", other.tag()))),
        }
        Ok(())
    }

    /// Ones and zeros of `shape`: the scale and bias of a normalization without `affine`.
    fn unit_affine(
        &mut self,
        out: &str,
        shape: &[usize],
        dtype: DType,
    ) -> Result<(String, String), IoError> {
        let make = |v: f64| {
            Tensor::full(shape.to_vec(), v, dtype)
                .map_err(|e| IoError::malformed(PLACE, out, e.to_string()))
        };
        let (ones, zeros) = (make(1.0)?, make(0.0)?);
        Ok((
            self.constant(&format!("{out}_scale"), &ones)?,
            self.constant(&format!("{out}_bias"), &zeros)?,
        ))
    }

    fn slice(
        &mut self,
        out: &str,
        x: &str,
        axis: isize,
        start: i64,
        end: i64,
        step: usize,
    ) -> Result<(), IoError> {
        let s = self.int_constant(&format!("{out}_starts"), vec![start])?;
        let e = self.int_constant(&format!("{out}_ends"), vec![end])?;
        let a = self.int_constant(&format!("{out}_axes"), vec![axis as i64])?;
        let t = self.int_constant(&format!("{out}_steps"), vec![step as i64])?;
        self.push("Slice", &[x, &s, &e, &a, &t], out, vec![]);
        Ok(())
    }
}

/// Which ops [`export_model`] writes, and how (for `strata inspect`).
pub fn export_form(op: &Op) -> &'static str {
    match op {
        Op::Dropout { .. }
        | Op::RandUniform { .. }
        | Op::BernoulliMask { .. }
        | Op::Vjp { .. }
        | Op::Jvp { .. }
        | Op::Softplus { .. } => "no",
        _ if !direct(op) => "decomposed",
        Op::Gelu { .. } => "opset≥20",
        _ => "yes",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_ir::GraphBuilder;

    #[test]
    fn every_value_is_written_once() {
        let mut b = GraphBuilder::new();
        let x = b
            .push_named(
                "x",
                Op::Input {
                    shape: [2, 3].into(),
                    dtype: DType::F32,
                },
                &[],
            )
            .unwrap();
        let y = b.push(Op::Relu, &[x]).unwrap();
        let z = b.push(Op::Relu, &[y]).unwrap();
        let g = b.finish(&[z, z, x]).unwrap();
        let model = export_model(&g, &ParamStore::new(), 17).unwrap();
        let graph = model.graph.unwrap();
        let mut written = HashSet::new();
        for node in &graph.node {
            assert!(
                node.output.iter().all(|o| written.insert(o.clone())),
                "{node:?}"
            );
        }
        let outs: HashSet<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(outs.len(), 3);
    }
}
