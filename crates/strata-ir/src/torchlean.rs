//! TorchLean's `torchlean.ir.v1` graph interchange JSON (schema: `SOURCES.md` §6.1 of the
//! TorchLean fixtures), both directions.
//!
//! TorchLean's graphs are f32 with one `input_id` and one `output_id`; weights live outside the
//! graph in a payload keyed by node id. Import maps each TorchLean kind onto Strata ops:
//! `mul_elem`→`mul`, `inv`→`reciprocal`, `max_elem`/`min_elem`→`maximum`/`minimum`,
//! `swap_first_two`/`transpose3d_last_two`→`permute`, `sum`→`reduce_sum` over every axis,
//! `*_pad` pools→pools with padding, `layernorm`→`layer_norm` without affine, and the payloads of
//! `linear`, `conv2d` and `batch_norm2d_nchw_eval` (and `const` without `values`) become
//! `parameter` nodes named `node<id>.<role>` (roles: `weight`, `bias`, `running_mean`,
//! `running_var`, `value`). Export is the inverse; a Strata op with no TorchLean counterpart,
//! or attributes TorchLean cannot express, is an error naming the node and the op.
//!
//! Tuple values are imported as TorchLean's importer lowers them: a single-head, batch-first,
//! dropout-free self-attention `nn.MultiheadAttention` whose output 0 is read by `tuple_getitem`
//! becomes q/k/v `linear`s, `permute` (kᵀ), `matmul`, a constant scale `1/√E`, `mul`, `softmax`
//! over keys, `matmul` and the output `linear`; any other tuple is an error.
//!
//! Fields TorchLean ignores carry what its schema cannot: `strata_name` (the node name),
//! `strata_params` (role → parameter name), `eps` (batch and layer norm; the ONNX adapter
//! writes it for batch norm) and `values` (a constant's data, as the ONNX adapter writes it).
//!
//! Assumptions where the schema is silent, each applied in both directions: `mse_loss` is the
//! mean over elements; average pools divide by the full window (`count_include_pad`); `eps`
//! defaults to PyTorch's 1e-5; `rand_uniform` samples `[0, 1)`.

use crate::error::IrError;
use crate::graph::{Graph, GraphBuilder, Node, NodeId};
use crate::json::{parse_value, Obj};
use crate::op::{Literal, Op, Reduction};
use crate::ops::axis as resolve_axis;
use serde_json::{json, Map, Value};
use strata_tensor::{AvgPool2dParams, Conv2dParams, DType, MaxPool2dParams, Shape, Tensor};

/// The `format` tag of TorchLean graphs.
pub const FORMAT: &str = "torchlean.ir.v1";

/// The largest attention-scale constant the tuple lowering builds (2^24 elements, 64 MiB).
const MAX_SCALE_ELEMENTS: usize = 1 << 24;

/// PyTorch's default normalization epsilon, used where a TorchLean graph gives none.
pub const DEFAULT_EPS: f64 = 1e-5;

/// Whether a JSON value looks like a TorchLean graph (its format tag, or an `input_id`).
pub fn is_torchlean(value: &Value) -> bool {
    match value.get("format") {
        Some(f) => f == FORMAT,
        None => value.get("input_id").is_some(),
    }
}

/// Imports a TorchLean graph from JSON text.
pub fn import_str(text: &str) -> Result<Graph, IrError> {
    import_value(&parse_value(text)?)
}

/// Imports a TorchLean graph; errors name the JSON path of the offending node or field.
pub fn import_value(value: &Value) -> Result<Graph, IrError> {
    let top = Obj::new(value, "$".into())?;
    if let Some(format) = top.get("format") {
        if format != FORMAT {
            return Err(top.error("format", format!("expected \"{FORMAT}\"")));
        }
    }
    let input_id = top.uint("input_id")?;
    let output_id = top.uint("output_id")?;
    let mut importer = Importer {
        builder: GraphBuilder::new(),
        nodes: Vec::new(),
    };
    for (i, node) in top.array("nodes")?.iter().enumerate() {
        let obj = Obj::new(node, format!("$.nodes[{i}]"))?;
        if obj.uint("id")? != i {
            return Err(obj.error("id", format!("expected {i}, the node's index")));
        }
        let imported = if obj.get("value_kind").is_some_and(|k| k == "tuple") {
            Imported::Attention(importer.attention(&obj)?)
        } else {
            Imported::Tensor(importer.node(&obj)?)
        };
        importer.nodes.push(imported);
    }
    let tensor_at = |id: usize, key: &str| match importer.nodes.get(id) {
        Some(Imported::Tensor(strata_id)) => Ok(*strata_id),
        Some(Imported::Attention(_)) => Err(top.error(key, format!("node {id} is a tuple"))),
        None => Err(top.error(key, format!("node {id} does not exist"))),
    };
    let input = tensor_at(input_id, "input_id")?;
    let output = tensor_at(output_id, "output_id")?;
    let graph = importer
        .builder
        .finish(&[output])
        .map_err(|e| top.error("nodes", e.to_string()))?;
    if !matches!(graph.nodes[input].op, Op::Input { .. }) {
        return Err(top.error("input_id", format!("node {input_id} is not an input")));
    }
    Ok(graph)
}

/// What a TorchLean node became.
enum Imported {
    Tensor(NodeId),
    /// An `nn.MultiheadAttention` tuple, lowered when a `tuple_getitem` reads its output.
    Attention(Attention),
}

/// A single-head self-attention `nn.MultiheadAttention` on `input [B, S, E]`.
#[derive(Clone, Copy)]
struct Attention {
    /// The TorchLean id, which names the parameters: `node<id>.{q,k,v,out}_{weight,bias}`
    /// (PyTorch's `in_proj_weight` rows `0..E`, `E..2E`, `2E..3E` and `out_proj`).
    id: usize,
    input: NodeId,
    bias: bool,
}

struct Importer {
    builder: GraphBuilder,
    /// What each TorchLean node became.
    nodes: Vec<Imported>,
}

impl Importer {
    /// The Strata id of a TorchLean tensor node.
    fn tensor(&self, obj: &Obj, parent: usize) -> Result<NodeId, IrError> {
        match self.nodes.get(parent) {
            Some(Imported::Tensor(id)) => Ok(*id),
            Some(Imported::Attention(_)) => Err(obj.error(
                "parents",
                format!("parent {parent} is a tuple, which only tuple_getitem reads"),
            )),
            None => Err(obj.error("parents", format!("parent {parent} is not an earlier node"))),
        }
    }

    /// Checks an `nn.MultiheadAttention` tuple node against what the lowering supports.
    fn attention(&self, obj: &Obj) -> Result<Attention, IrError> {
        let kind = obj.str("kind")?;
        if kind != "multihead_attention" {
            return Err(obj.error(
                "kind",
                format!("only nn.MultiheadAttention tuples are supported, got `{kind}`"),
            ));
        }
        let heads = obj.uint("num_heads")?;
        if heads != 1 {
            return Err(obj.error(
                "num_heads",
                format!("`nn.MultiheadAttention` lowering supports only num_heads=1, got {heads}"),
            ));
        }
        let flag = |key: &str| match obj.get(key) {
            Some(Value::Bool(b)) => Ok(*b),
            _ => Err(obj.error(key, "expected a boolean".into())),
        };
        for key in ["batch_first", "dropout_zero"] {
            if !flag(key)? {
                return Err(obj.error(key, "the lowering needs it true".into()));
            }
        }
        let parents = obj.ids("parents")?;
        let [q, k, v] = parents[..] else {
            return Err(obj.error("parents", "expected query, key and value".into()));
        };
        if q != k || k != v {
            return Err(obj.error(
                "parents",
                "the lowering supports self-attention only (query = key = value)".into(),
            ));
        }
        let input = self.tensor(obj, q)?;
        let embed_dim = obj.uint("embed_dim")?;
        let dims = self.builder.ty(input).map(|t| t.shape);
        match dims.as_ref().map(Shape::dims) {
            Some(&[_, _, e]) if e == embed_dim => {}
            _ => {
                let shown = dims.map_or_else(String::new, |s| s.to_string());
                return Err(obj.error(
                    "embed_dim",
                    format!("the input must be [B, S, {embed_dim}], got {shown}"),
                ));
            }
        }
        Ok(Attention {
            id: obj.uint("id")?,
            input,
            bias: flag("bias")?,
        })
    }

    /// Lowers `tuple_getitem` of an attention tuple's output 0 into q/k/v linears,
    /// `q·kᵀ`, a constant scale `1/√E`, softmax over keys, `·v` and the output linear.
    fn attention_output(&mut self, obj: &Obj, declared: &Shape) -> Result<NodeId, IrError> {
        let parents = obj.ids("parents")?;
        let attention = match (&parents[..], obj.uint("index")?) {
            (&[p], 0) => match self.nodes.get(p) {
                Some(Imported::Attention(a)) => *a,
                _ => return Err(obj.error("parents", "expected one attention tuple".into())),
            },
            _ => return Err(obj.error("index", "only output 0 of one tuple is supported".into())),
        };
        let input_shape = self.builder.ty(attention.input).map(|t| t.shape);
        let Some(&[b, s, e]) = input_shape.as_ref().map(Shape::dims) else {
            return Err(obj.error("parents", "the attention input is not [B, S, E]".into()));
        };
        if declared.dims() != [b, s, e] {
            return Err(obj.error(
                "shape",
                format!("expected the input's shape [{b}, {s}, {e}]"),
            ));
        }
        let push = |builder: &mut GraphBuilder, op: Op, inputs: &[NodeId]| {
            builder.push(op, inputs).map_err(|err| IrError::Json {
                path: obj.path().to_string(),
                msg: err.to_string(),
            })
        };
        let linear = |builder: &mut GraphBuilder, role: &str, x: NodeId| {
            let mut inputs = vec![x];
            let mut param = |suffix: &str, dims: &[usize]| {
                let name = format!("node{}.{role}_{suffix}", attention.id);
                let (shape, dtype) = (Shape::from(dims), DType::F32);
                push(builder, Op::Parameter { name, shape, dtype }, &[])
            };
            inputs.push(param("weight", &[e, e])?);
            if attention.bias {
                inputs.push(param("bias", &[e])?);
            }
            push(
                builder,
                Op::Linear {
                    bias: attention.bias,
                },
                &inputs,
            )
        };
        let graph = &mut self.builder;
        let x = attention.input;
        let q = linear(graph, "q", x)?;
        let k = linear(graph, "k", x)?;
        let v = linear(graph, "v", x)?;
        let kt = push(
            graph,
            Op::Permute {
                perm: vec![0, 2, 1],
            },
            &[k],
        )?;
        let scores = push(graph, Op::Matmul, &[q, kt])?;
        // TorchLean multiplies elementwise without broadcasting: a full-shape constant, whose
        // size a declared shape must not blow up.
        let elements = Shape::from([b, s, s]).checked_numel();
        if elements.is_none_or(|n| n > MAX_SCALE_ELEMENTS) {
            return Err(obj.error(
                "shape",
                format!(
                    "the attention scale [{b}, {s}, {s}] exceeds {MAX_SCALE_ELEMENTS} elements"
                ),
            ));
        }
        let scale = Tensor::full([b, s, s], 1.0 / (e as f64).sqrt(), DType::F32)
            .map_err(|err| obj.error("shape", err.to_string()))?;
        let scale = push(
            graph,
            Op::Constant {
                value: Literal(scale),
            },
            &[],
        )?;
        let scaled = push(graph, Op::Mul, &[scores, scale])?;
        let weights = push(graph, Op::Softmax { axis: 2 }, &[scaled])?;
        let context = push(graph, Op::Matmul, &[weights, v])?;
        linear(graph, "out", context)
    }

    /// Imports one tensor node; returns its Strata id.
    fn node(&mut self, obj: &Obj) -> Result<NodeId, IrError> {
        let kind = obj.str("kind")?;
        let declared = obj.shape("shape")?;
        if kind == "tuple_getitem" {
            return self.attention_output(obj, &declared);
        }
        let parents = obj
            .ids("parents")?
            .into_iter()
            .map(|p| self.tensor(obj, p))
            .collect::<Result<Vec<_>, _>>()?;
        let expected_parents = match kind {
            "input" | "const" | "rand_uniform" => Some(0),
            "add" | "sub" | "mul_elem" | "max_elem" | "min_elem" | "matmul" | "mse_loss" => Some(2),
            "concat" => None,
            _ => Some(1),
        };
        match expected_parents {
            Some(n) if parents.len() != n => {
                return Err(obj.error(
                    "parents",
                    format!("{kind} takes {n}, got {}", parents.len()),
                ))
            }
            None if parents.len() < 2 => {
                return Err(obj.error("parents", format!("{kind} takes at least 2")))
            }
            _ => {}
        }
        let x_shape = (parents.first()).and_then(|&p| self.builder.ty(p).map(|t| t.shape));
        let rank = x_shape.as_ref().map_or(0, Shape::rank);
        let nat = |key: &str| obj.uint(key);
        // A field restating the parent's shape must agree with it.
        let parent_is = |key: &str| -> Result<(), IrError> {
            let stated = obj.shape(key)?;
            match &x_shape {
                Some(s) if *s == stated => Ok(()),
                _ => Err(obj.error(key, format!("{stated} is not the parent's shape"))),
            }
        };
        let axis_field = |key: &str| nat(key).map(|a| a as isize);
        let f32_shape = |shape: Shape| (shape, DType::F32);
        let mut payload: Vec<(&str, Shape)> = Vec::new();
        let op = match kind {
            "input" => Op::Input {
                shape: declared.clone(),
                dtype: DType::F32,
            },
            "const" => {
                let value_shape = match obj.get("value_shape") {
                    Some(_) => obj.shape("value_shape")?,
                    None => declared.clone(),
                };
                match obj.get("values") {
                    Some(_) => Op::Constant {
                        value: Literal(constant_values(obj, value_shape)?),
                    },
                    None => {
                        let (shape, dtype) = f32_shape(value_shape);
                        let name = self.param_name(obj, "value")?;
                        Op::Parameter { name, shape, dtype }
                    }
                }
            }
            "rand_uniform" => Op::RandUniform {
                shape: declared.clone(),
                dtype: DType::F32,
                low: 0.0,
                high: 1.0,
                seed: nat("seed")? as u64,
            },
            "bernoulli_mask" => Op::BernoulliMask {
                shape: declared.clone(),
                seed: nat("seed")? as u64,
            },
            "add" => Op::Add,
            "sub" => Op::Sub,
            "mul_elem" => Op::Mul,
            "max_elem" => Op::Maximum,
            "min_elem" => Op::Minimum,
            "abs" => Op::Abs,
            "sqrt" => Op::Sqrt,
            "inv" => Op::Reciprocal,
            "relu" => Op::Relu,
            "tanh" => Op::Tanh,
            "sigmoid" => Op::Sigmoid,
            "exp" => Op::Exp,
            "log" => Op::Log,
            "sin" => Op::Sin,
            "cos" => Op::Cos,
            "detach" => Op::Detach,
            "permute" => Op::Permute {
                perm: obj.ids("perm")?,
            },
            "swap_first_two" => Op::Permute {
                perm: [1, 0].into_iter().chain(2..rank.max(2)).collect(),
            },
            "transpose3d_last_two" => Op::Permute {
                perm: vec![0, 2, 1],
            },
            "max_pool2d" | "max_pool2d_pad" | "avg_pool2d" | "avg_pool2d_pad" => {
                let kernel = [nat("kH")?, nat("kW")?];
                let stride = [nat("stride")?; 2];
                let padding = match kind.ends_with("_pad") {
                    true => [nat("padding")?; 2],
                    false => [0, 0],
                };
                if kind.starts_with("max") {
                    Op::MaxPool2d {
                        params: MaxPool2dParams {
                            stride,
                            padding,
                            ..MaxPool2dParams::new(kernel)
                        },
                    }
                } else {
                    Op::AvgPool2d {
                        params: AvgPool2dParams {
                            stride,
                            padding,
                            ..AvgPool2dParams::new(kernel)
                        },
                    }
                }
            }
            "broadcast_to" => {
                parent_is("from_shape")?;
                Op::BroadcastTo {
                    shape: obj.shape("to_shape")?,
                }
            }
            "reduce_sum" | "reduce_mean" => {
                let axes = vec![axis_field("axis")?];
                match kind {
                    "reduce_sum" => Op::ReduceSum {
                        axes,
                        keepdim: false,
                    },
                    _ => Op::ReduceMean {
                        axes,
                        keepdim: false,
                    },
                }
            }
            "sum" => Op::ReduceSum {
                axes: (0..rank as isize).collect(),
                keepdim: false,
            },
            "matmul" => Op::Matmul,
            "linear" => {
                let in_features = x_shape.as_ref().and_then(|s| s.dims().last().copied());
                let out_features = declared.dims().last().copied();
                let (Some(i), Some(o)) = (in_features, out_features) else {
                    return Err(obj.error("shape", "linear needs rank ≥ 1 in and out".into()));
                };
                payload = vec![("weight", Shape::from([o, i])), ("bias", Shape::from([o]))];
                Op::Linear { bias: true }
            }
            "conv2d" => {
                let (in_c, out_c) = (nat("inC")?, nat("outC")?);
                let kernel = [nat("kH")?, nat("kW")?];
                payload = vec![
                    ("weight", Shape::from([out_c, in_c, kernel[0], kernel[1]])),
                    ("bias", Shape::from([out_c])),
                ];
                Op::Conv2d {
                    params: Conv2dParams {
                        stride: [nat("stride")?; 2],
                        padding: [nat("padding")?; 2],
                        ..Conv2dParams::default()
                    },
                    bias: true,
                }
            }
            "batch_norm2d_nchw_eval" => {
                let c = Shape::from([nat("channels")?]);
                payload = ["running_mean", "running_var", "weight", "bias"]
                    .into_iter()
                    .map(|role| (role, c.clone()))
                    .collect();
                Op::BatchNorm {
                    eps: eps(obj)?,
                    affine: true,
                }
            }
            "softmax" => Op::Softmax {
                axis: axis_field("axis")?,
            },
            "layernorm" => {
                let from = nat("axis")?;
                let dims = x_shape.as_ref().map_or(&[][..], Shape::dims);
                Op::LayerNorm {
                    normalized_shape: dims.get(from..).unwrap_or_default().to_vec(),
                    eps: eps(obj)?,
                    affine: false,
                }
            }
            "reshape" => {
                parent_is("in_shape")?;
                let out_shape = obj.shape("out_shape")?;
                Op::Reshape {
                    shape: out_shape.dims().iter().map(|&d| d as i64).collect(),
                }
            }
            "flatten" => {
                parent_is("value_shape")?;
                Op::Flatten {
                    start_axis: 0,
                    end_axis: -1,
                }
            }
            "concat" => Op::Concat {
                axis: axis_field("axis")?,
            },
            "mse_loss" => Op::MseLoss {
                reduction: Reduction::Mean,
            },
            "hard_masked_softmax" => {
                return Err(obj.error(
                    "kind",
                    "hard_masked_softmax is not accepted by TorchLean's importer either".into(),
                ))
            }
            other => return Err(obj.error("kind", format!("unknown kind `{other}`"))),
        };
        let mut inputs = parents;
        for (role, shape) in payload {
            let name = self.param_name(obj, role)?;
            let (shape, dtype) = f32_shape(shape);
            let param = self
                .builder
                .push(Op::Parameter { name, shape, dtype }, &[])
                .map_err(|e| obj.error("kind", e.to_string()))?;
            inputs.push(param);
        }
        let name = match obj.get("strata_name") {
            Some(_) => Some(obj.str("strata_name")?.to_string()),
            None => None,
        };
        let op_copy = op.clone();
        let pushed = match name {
            Some(name) => self.builder.push_named(name, op, &inputs),
            None => self.builder.push(op, &inputs),
        };
        let id = pushed.map_err(|e| IrError::Json {
            path: obj.path().to_string(),
            msg: e.to_string(),
        })?;
        let inferred = self.builder.ty(id).map(|t| t.shape);
        if inferred.as_ref() != Some(&declared) {
            let shown = inferred.map_or_else(String::new, |s| s.to_string());
            return Err(obj.error(
                "shape",
                format!("declared {declared}, but {kind} gives {shown}"),
            ));
        }
        // TorchLean's own rules are narrower than Strata's (no implicit broadcasting, CHW
        // convolutions, …): accept exactly what exports back.
        let parent_shapes: Vec<Shape> = (inputs.iter())
            .filter_map(|&i| self.builder.ty(i).map(|t| t.shape))
            .collect();
        export_op(&op_copy, &declared, &parent_shapes)
            .map_err(|msg| obj.error("kind", format!("TorchLean rejects this {kind}: {msg}")))?;
        Ok(id)
    }

    /// The parameter name of a payload `role` of the node: from `strata_params`, or
    /// `node<id>.<role>`.
    fn param_name(&self, obj: &Obj, role: &str) -> Result<String, IrError> {
        if let Some(names) = obj.get("strata_params") {
            return match names.get(role) {
                Some(Value::String(s)) => Ok(s.clone()),
                _ => Err(obj.error("strata_params", format!("no string for `{role}`"))),
            };
        }
        Ok(format!("node{}.{role}", obj.uint("id")?))
    }
}

fn eps(obj: &Obj) -> Result<f64, IrError> {
    match obj.get("eps") {
        None => Ok(DEFAULT_EPS),
        Some(v) => v
            .as_f64()
            .ok_or_else(|| obj.error("eps", "expected a number".into())),
    }
}

/// A `const` node's flattened `values` (f32) in `value_shape`.
fn constant_values(obj: &Obj, shape: Shape) -> Result<Tensor, IrError> {
    let values = obj.array("values")?;
    let data = values
        .iter()
        .map(|v| v.as_f64().map(|v| v as f32))
        .collect::<Option<Vec<f32>>>()
        .ok_or_else(|| obj.error("values", "expected numbers".into()))?;
    Tensor::from_vec(data, shape).map_err(|e| obj.error("values", e.to_string()))
}

/// Exports `graph` as a TorchLean JSON value.
pub fn export_value(graph: &Graph) -> Result<Value, IrError> {
    graph.check_shapes()?;
    let unsupported = |node: &Node, msg: String| IrError::Unsupported {
        node: node.node_ref(),
        op: node.op.tag(),
        msg,
    };
    let mut inputs = graph.inputs();
    let input = inputs.next().ok_or_else(|| IrError::Json {
        path: "$".into(),
        msg: "TorchLean graphs need an input node".into(),
    })?;
    if let Some(second) = inputs.next() {
        return Err(unsupported(
            second,
            "TorchLean graphs have exactly one input".into(),
        ));
    }
    let [output] = graph.outputs[..] else {
        return Err(IrError::Json {
            path: "$.outputs".into(),
            msg: format!(
                "TorchLean graphs have exactly one output, this one has {}",
                graph.outputs.len()
            ),
        });
    };
    // Parameters used only as payloads (weights of linear, conv2d, batch_norm) vanish into
    // the payload; any other use makes them `const` nodes.
    let mut as_node = vec![false; graph.nodes.len()];
    for node in &graph.nodes {
        let payload_from = payload_start(&node.op);
        for (k, &i) in node.inputs.iter().enumerate() {
            let is_param = matches!(graph.nodes[i].op, Op::Parameter { .. });
            if payload_from.is_some_and(|from| k >= from) {
                if !is_param {
                    return Err(unsupported(
                        node,
                        format!("input {k} must be a parameter to become a TorchLean payload"),
                    ));
                }
            } else {
                as_node[i] = true;
            }
        }
    }
    as_node[output] = true;
    as_node[input.id] = true;
    let mut new_ids = vec![None; graph.nodes.len()];
    let mut nodes = Vec::new();
    for node in &graph.nodes {
        let is_payload = matches!(node.op, Op::Parameter { .. }) && !as_node[node.id];
        if is_payload {
            continue;
        }
        if node.dtype != DType::F32 {
            return Err(unsupported(
                node,
                format!("TorchLean graphs are f32, not {}", node.dtype),
            ));
        }
        let payload_from = payload_start(&node.op).unwrap_or(node.inputs.len());
        let mut parents = Vec::new();
        for &i in &node.inputs[..payload_from] {
            parents.push(new_ids[i].ok_or_else(|| unsupported(node, "input not exported".into()))?);
        }
        let input_types: Vec<Shape> = node
            .inputs
            .iter()
            .map(|&i| graph.nodes[i].shape.clone())
            .collect();
        let (kind, fields) =
            export_op(&node.op, &node.shape, &input_types).map_err(|msg| unsupported(node, msg))?;
        let mut obj = Map::new();
        obj.insert("id".into(), nodes.len().into());
        obj.insert("kind".into(), kind.into());
        obj.insert("parents".into(), parents.into());
        obj.insert("shape".into(), node.shape.dims().to_vec().into());
        obj.extend(fields);
        if let Some(name) = &node.name {
            obj.insert("strata_name".into(), name.clone().into());
        }
        let params: Map<String, Value> = payload_roles(&node.op)
            .iter()
            .zip(&node.inputs[payload_from..])
            .filter_map(|(role, &i)| match &graph.nodes[i].op {
                Op::Parameter { name, .. } => Some((role.to_string(), name.clone().into())),
                _ => None,
            })
            .chain(match &node.op {
                Op::Parameter { name, .. } => Some(("value".to_string(), name.clone().into())),
                _ => None,
            })
            .collect();
        if !params.is_empty() {
            obj.insert("strata_params".into(), Value::Object(params));
        }
        new_ids[node.id] = Some(nodes.len());
        nodes.push(Value::Object(obj));
    }
    Ok(json!({
        "format": FORMAT,
        "input_id": new_ids[input.id],
        "output_id": new_ids[output],
        "nodes": nodes,
    }))
}

/// `graph` as pretty-printed TorchLean JSON.
pub fn export_string(graph: &Graph) -> Result<String, IrError> {
    let value = export_value(graph)?;
    serde_json::to_string_pretty(&value).map_err(|e| IrError::Json {
        path: "$".into(),
        msg: e.to_string(),
    })
}

/// The input position from which an op's inputs are TorchLean payload (weights).
fn payload_start(op: &Op) -> Option<usize> {
    match op {
        Op::Linear { .. } | Op::Conv2d { .. } | Op::BatchNorm { .. } => Some(1),
        _ => None,
    }
}

/// The payload roles of an op's inputs from [`payload_start`] on.
fn payload_roles(op: &Op) -> &'static [&'static str] {
    match op {
        Op::Linear { .. } | Op::Conv2d { .. } => &["weight", "bias"],
        Op::BatchNorm { .. } => &["running_mean", "running_var", "weight", "bias"],
        _ => &[],
    }
}

/// The TorchLean kind and fields of one node, given its inputs' shapes.
fn export_op(
    op: &Op,
    output: &Shape,
    inputs: &[Shape],
) -> Result<(&'static str, Map<String, Value>), String> {
    let rank = inputs.first().map_or(0, Shape::rank);
    let same_shapes = || {
        if inputs.windows(2).all(|w| w[0] == w[1]) {
            Ok(())
        } else {
            Err(format!(
                "TorchLean does not broadcast implicitly: operands {} and {} differ (insert broadcast_to)",
                inputs[0], inputs[1]
            ))
        }
    };
    let fields = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let none = Map::new();
    let refusal = |what: &str| format!("TorchLean's {} {what}", op.tag());
    let require = |holds: bool, what: &str| if holds { Ok(()) } else { Err(refusal(what)) };
    Ok(match op {
        Op::Input { .. } => ("input", none),
        Op::Parameter { shape, .. } => ("const", fields(json!({"value_shape": shape.dims()}))),
        Op::Constant { value } => {
            let values: Vec<f64> = value.0.to_vec_f64();
            let finite = values.iter().all(|v| v.is_finite());
            if !finite {
                return Err(
                    "TorchLean `values` are JSON numbers; this constant is not finite".into(),
                );
            }
            (
                "const",
                fields(json!({"value_shape": value.0.dims(), "values": values})),
            )
        }
        Op::Add | Op::Sub | Op::Mul | Op::Maximum | Op::Minimum => {
            same_shapes()?;
            let kind = match op {
                Op::Add => "add",
                Op::Sub => "sub",
                Op::Mul => "mul_elem",
                Op::Maximum => "max_elem",
                _ => "min_elem",
            };
            (kind, none)
        }
        Op::Abs => ("abs", none),
        Op::Sqrt => ("sqrt", none),
        Op::Reciprocal => ("inv", none),
        Op::Relu => ("relu", none),
        Op::Tanh => ("tanh", none),
        Op::Sigmoid => ("sigmoid", none),
        Op::Exp => ("exp", none),
        Op::Log => ("log", none),
        Op::Sin => ("sin", none),
        Op::Cos => ("cos", none),
        Op::Detach => ("detach", none),
        Op::Permute { perm } => ("permute", fields(json!({ "perm": perm }))),
        Op::Transpose { axis0, axis1 } => {
            let mut perm: Vec<usize> = (0..rank).collect();
            perm.swap(resolve_axis(*axis0, rank)?, resolve_axis(*axis1, rank)?);
            ("permute", fields(json!({ "perm": perm })))
        }
        Op::RandUniform {
            low, high, seed, ..
        } => {
            require((*low, *high) == (0.0, 1.0), "samples [0, 1)")?;
            ("rand_uniform", fields(json!({ "seed": seed })))
        }
        Op::BernoulliMask { seed, .. } => {
            require(rank == 0, "takes a scalar probability")?;
            ("bernoulli_mask", fields(json!({ "seed": seed })))
        }
        Op::MaxPool2d { params } => {
            require(rank == 3, "takes one [C, H, W] image")?;
            let plain = MaxPool2dParams {
                stride: params.stride,
                padding: params.padding,
                ..MaxPool2dParams::new(params.kernel)
            };
            if *params != plain {
                return Err("TorchLean's max pools have no dilation or ceil mode".into());
            }
            pool_fields("max_pool2d", params.kernel, params.stride, params.padding)?
        }
        Op::AvgPool2d { params } => {
            require(rank == 3, "takes one [C, H, W] image")?;
            let plain = AvgPool2dParams {
                stride: params.stride,
                padding: params.padding,
                ..AvgPool2dParams::new(params.kernel)
            };
            if *params != plain {
                return Err(
                    "TorchLean's average pools have no ceil mode or divisor options".into(),
                );
            }
            pool_fields("avg_pool2d", params.kernel, params.stride, params.padding)?
        }
        Op::BroadcastTo { shape } => (
            "broadcast_to",
            fields(json!({"from_shape": inputs[0].dims(), "to_shape": shape.dims()})),
        ),
        Op::ReduceSum { axes, keepdim } | Op::ReduceMean { axes, keepdim } => {
            require(!keepdim, "drops the reduced axes")?;
            let mean = matches!(op, Op::ReduceMean { .. });
            match axes[..] {
                [axis] => (
                    if mean { "reduce_mean" } else { "reduce_sum" },
                    fields(json!({"axis": resolve_axis(axis, rank)?})),
                ),
                _ if !mean && axes.len() == rank => ("sum", none),
                _ => return Err(refusal("reduces one axis (or, as `sum`, all of them)")),
            }
        }
        Op::Matmul => {
            let ok = match (inputs[0].dims(), inputs[1].dims()) {
                ([_, _], [_, _]) => true,
                ([b, _, _], [b2, _, _]) => b == b2,
                _ => false,
            };
            if !ok {
                return Err("TorchLean's matmul takes [m,n]·[n,p] or [b,m,n]·[b,n,p]".into());
            }
            ("matmul", none)
        }
        Op::Linear { bias } => {
            require(*bias, "always has a bias")?;
            ("linear", none)
        }
        Op::Conv2d { params, bias } => {
            require(*bias, "always has a bias")?;
            require(rank == 3, "takes one [C, H, W] image")?;
            let plain = Conv2dParams {
                stride: params.stride,
                padding: params.padding,
                ..Conv2dParams::default()
            };
            let [s, p] = [params.stride, params.padding].map(|[a, b]| (a == b).then_some(a));
            let (Some(stride), Some(padding), true) = (s, p, *params == plain) else {
                return Err(
                    "TorchLean's conv2d has one stride and padding, no dilation or groups".into(),
                );
            };
            let w = &inputs[1];
            let fields = fields(json!({
                "inC": w.dims()[1], "outC": w.dims()[0], "kH": w.dims()[2], "kW": w.dims()[3],
                "stride": stride, "padding": padding,
            }));
            ("conv2d", fields)
        }
        Op::BatchNorm { eps, affine } => {
            require(*affine, "always has a weight and a bias")?;
            require(rank == 4, "takes [N, C, H, W]")?;
            (
                "batch_norm2d_nchw_eval",
                fields(json!({"channels": inputs[0].dims()[1], "eps": eps})),
            )
        }
        Op::Softmax { axis } => (
            "softmax",
            fields(json!({"axis": resolve_axis(*axis, rank)?})),
        ),
        Op::LayerNorm {
            normalized_shape,
            eps,
            affine,
        } => {
            require(!affine, "has no weight or bias")?;
            (
                "layernorm",
                fields(json!({"axis": rank - normalized_shape.len(), "eps": eps})),
            )
        }
        Op::Flatten { .. } if output.rank() == 1 => {
            ("flatten", fields(json!({"value_shape": inputs[0].dims()})))
        }
        Op::Reshape { .. } | Op::Flatten { .. } => (
            "reshape",
            fields(json!({"in_shape": inputs[0].dims(), "out_shape": output.dims()})),
        ),
        Op::Concat { axis } => {
            require(inputs.len() >= 2, "takes at least two inputs")?;
            (
                "concat",
                fields(json!({"axis": resolve_axis(*axis, rank)?})),
            )
        }
        Op::MseLoss { reduction } => {
            require(*reduction == Reduction::Mean, "is the mean")?;
            ("mse_loss", none)
        }
        _ => return Err(format!("{} has no TorchLean counterpart", op.tag())),
    })
}

/// A TorchLean pool: square stride and padding; `_pad` kinds when padded.
fn pool_fields(
    kind: &'static str,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> Result<(&'static str, Map<String, Value>), String> {
    if stride[0] != stride[1] || padding[0] != padding[1] {
        return Err("TorchLean's pools have one stride and one padding for both axes".into());
    }
    let mut fields = Map::new();
    fields.insert("kH".into(), kernel[0].into());
    fields.insert("kW".into(), kernel[1].into());
    fields.insert("stride".into(), stride[0].into());
    if padding[0] == 0 {
        return Ok((kind, fields));
    }
    fields.insert("padding".into(), padding[0].into());
    Ok((
        if kind == "max_pool2d" {
            "max_pool2d_pad"
        } else {
            "avg_pool2d_pad"
        },
        fields,
    ))
}
