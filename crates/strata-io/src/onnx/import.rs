//! Lowering an ONNX graph (default domain, static shapes) into a [`strata_ir::Graph`] and a
//! parameter store.
//!
//! Graph inputs without an initializer become `input` nodes (their shapes must be static, or
//! fixed through [`ImportOptions::input_shapes`]). Initializers become `parameter` nodes named
//! by their ONNX names, except that integer and bool initializers, `Constant` outputs and
//! everything computed from them only (Shape/Gather/Concat/Unsqueeze chains, say) are folded
//! into constants while importing, so shape arguments are known. An op, attribute or input
//! form this importer does not lower is an error naming the op, the node and the opset.
//!
//! Lowered ops: Identity, Dropout (inference), Constant, Shape, Size, ConstantOfShape, Cast,
//! Neg, Abs, Sqrt, Reciprocal, Exp, Log, Sin, Cos, Tanh, Sigmoid, Relu, LeakyRelu, Gelu, Erf,
//! Sign, Floor, Not, Add, Sub, Mul, Div, Pow, Min, Max, Sum, Equal, Less, LessOrEqual,
//! Greater, GreaterOrEqual, And, Or, Where, Clip, MatMul, Gemm, Einsum, Conv (1-D, 2-D),
//! MaxPool, AveragePool, GlobalAveragePool, BatchNormalization, LayerNormalization, Softmax,
//! LogSoftmax, Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Concat, Slice, Gather, Expand,
//! Tile, Pad (constant mode), ReduceSum, ReduceMean, ReduceMax, ArgMax, Trilu, Range, Split,
//! ConvTranspose (2-D, symmetric pads), GatherElements, Mod (of integers known while
//! importing).
//!
//! Gather with indices known while importing becomes slices; with run-time indices it becomes
//! an `embedding` row lookup (the gathered axis moved to the front), so run-time indices must
//! be non-negative.

use super::proto::{attribute_type as at, AttributeProto, DimValue, ModelProto, NodeProto};
use super::proto::{TypeValue, ValueInfoProto};
use super::tensor::{data_type, tensor_from_proto};
use crate::IoError;
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use strata_ir::{Comparison, GeluApproximation, Graph, GraphBuilder, Literal, NodeId, Op};
use strata_tensor::{
    AvgPool2dParams, Conv1dParams, Conv2dParams, ConvTranspose2dParams, DType, MaxPool2dParams,
};
use strata_tensor::{Shape, Tensor};

/// Choices the file cannot make.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Static shapes for graph inputs whose declared shape has symbolic or unknown dims.
    pub input_shapes: BTreeMap<String, Vec<usize>>,
}

/// An imported model.
#[derive(Clone, Debug)]
pub struct Imported {
    pub graph: Graph,
    /// The initializers that became `parameter` nodes, by ONNX name.
    pub params: BTreeMap<String, Tensor>,
    /// The ONNX names of the graph's `input` nodes, in order.
    pub inputs: Vec<String>,
    /// The ONNX names of the graph's outputs, in order.
    pub outputs: Vec<String>,
}

/// The most elements a constant computed while importing may have.
const MAX_FOLDED: usize = 1 << 24;

/// The lowest default-domain opset this importer reads.
pub const MIN_OPSET: i64 = 7;

/// Imports `model`; `file` names it in errors.
pub fn import_model(
    model: &ModelProto,
    file: &str,
    options: &ImportOptions,
) -> Result<Imported, IoError> {
    let opset = model
        .opset_import
        .iter()
        .filter(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .max()
        .unwrap_or(1);
    if opset < MIN_OPSET {
        return Err(IoError::unsupported(
            file,
            format!("default-domain opset {opset} is older than {MIN_OPSET}"),
        ));
    }
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| IoError::malformed(file, "ModelProto.graph", "the model has no graph"))?;
    let mut im = Importer {
        file,
        opset,
        b: GraphBuilder::new(),
        values: HashMap::new(),
        inits: HashMap::new(),
        param_nodes: HashMap::new(),
        params: BTreeMap::new(),
    };
    for init in &graph.initializer {
        let tensor = tensor_from_proto(init, file)?;
        im.inits.insert(init.name.clone(), tensor);
        im.values
            .insert(init.name.clone(), Val::Init(init.name.clone()));
    }
    let mut inputs = Vec::new();
    for input in &graph.input {
        if im.inits.contains_key(&input.name) {
            continue; // IR < 4: initializers are listed as inputs too
        }
        let (shape, dtype) = im.input_type(input, options)?;
        let id =
            im.b.push_named(input.name.clone(), Op::Input { shape, dtype }, &[])
                .map_err(|e| {
                    IoError::malformed(file, format!("input {:?}", input.name), e.to_string())
                })?;
        im.values.insert(input.name.clone(), Val::Node(id));
        inputs.push(input.name.clone());
    }
    for (index, node) in graph.node.iter().enumerate() {
        im.lower(node, index)?;
    }
    let mut outputs = Vec::new();
    let mut ids = Vec::new();
    for output in &graph.output {
        let val = im.values.get(&output.name).cloned().ok_or_else(|| {
            IoError::malformed(
                file,
                format!("output {:?}", output.name),
                "no node produces this graph output",
            )
        })?;
        ids.push(im.node_of(&val, &output.name)?);
        outputs.push(output.name.clone());
    }
    let graph =
        im.b.finish(&ids)
            .map_err(|e| IoError::malformed(file, "graph", e.to_string()))?;
    Ok(Imported {
        graph,
        params: im.params,
        inputs,
        outputs,
    })
}

/// A value while importing: a graph node, an initializer (a parameter unless folded), or a
/// constant known now.
#[derive(Clone, Debug)]
enum Val {
    Node(NodeId),
    Init(String),
    Const(Tensor),
}

struct Importer<'a> {
    file: &'a str,
    opset: i64,
    b: GraphBuilder,
    values: HashMap<String, Val>,
    inits: HashMap<String, Tensor>,
    param_nodes: HashMap<String, NodeId>,
    params: BTreeMap<String, Tensor>,
}

/// One node's attributes, with a record of which ones the lowering read.
struct Attrs<'n> {
    list: Vec<(&'n AttributeProto, Cell<bool>)>,
}

/// Where an error happened: the node and its op, for messages.
struct Cx<'n> {
    node: &'n NodeProto,
    index: usize,
    opset: i64,
    file: &'n str,
}

impl Cx<'_> {
    fn place(&self) -> String {
        format!(
            "node {:?} (#{}, {} opset {})",
            self.node.name, self.index, self.node.op_type, self.opset
        )
    }
    fn unsupported(&self, what: impl std::fmt::Display) -> IoError {
        IoError::unsupported(self.file, format!("{}: {what}", self.place()))
    }
    fn malformed(&self, what: impl Into<String>) -> IoError {
        IoError::malformed(self.file, self.place(), what)
    }
}

impl<'n> Attrs<'n> {
    fn new(node: &'n NodeProto) -> Self {
        Attrs {
            list: node
                .attribute
                .iter()
                .map(|a| (a, Cell::new(false)))
                .collect(),
        }
    }
    fn get(&self, name: &str) -> Option<&'n AttributeProto> {
        self.list
            .iter()
            .find(|(a, _)| a.name == name)
            .map(|(a, used)| {
                used.set(true);
                *a
            })
    }
    fn typed(&self, cx: &Cx, name: &str, ty: i32) -> Result<Option<&'n AttributeProto>, IoError> {
        match self.get(name) {
            Some(a) if a.r#type == ty || (a.r#type == at::UNDEFINED && ty != at::UNDEFINED) => {
                Ok(Some(a))
            }
            Some(a) => Err(cx.malformed(format!(
                "attribute {name:?} has type {}, expected {}",
                at::name(a.r#type).unwrap_or("?"),
                at::name(ty).unwrap_or("?")
            ))),
            None => Ok(None),
        }
    }
    fn int(&self, cx: &Cx, name: &str, default: i64) -> Result<i64, IoError> {
        Ok(self
            .typed(cx, name, at::INT)?
            .map_or(default, |a| a.i.unwrap_or(0)))
    }
    fn float(&self, cx: &Cx, name: &str, default: f32) -> Result<f32, IoError> {
        Ok(self
            .typed(cx, name, at::FLOAT)?
            .map_or(default, |a| a.f.unwrap_or(0.0)))
    }
    fn ints(&self, cx: &Cx, name: &str) -> Result<Option<Vec<i64>>, IoError> {
        Ok(self.typed(cx, name, at::INTS)?.map(|a| a.ints.clone()))
    }
    fn string(&self, cx: &Cx, name: &str) -> Result<Option<String>, IoError> {
        Ok(self
            .typed(cx, name, at::STRING)?
            .map(|a| String::from_utf8_lossy(a.s.as_deref().unwrap_or_default()).into_owned()))
    }
    /// The first attribute the lowering did not read, if any.
    fn unread(&self) -> Option<&str> {
        self.list
            .iter()
            .find(|(_, used)| !used.get())
            .map(|(a, _)| a.name.as_str())
    }
}

fn usize_of(cx: &Cx, v: i64, what: &str) -> Result<usize, IoError> {
    usize::try_from(v).map_err(|_| cx.malformed(format!("{what} {v} is negative")))
}

/// `axis` (negative counts from the end) as an index into `rank` axes.
fn norm_axis(cx: &Cx, axis: i64, rank: usize) -> Result<usize, IoError> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if (0..r).contains(&a) {
        Ok(a as usize)
    } else {
        Err(cx.malformed(format!("axis {axis} is out of range for rank {rank}")))
    }
}

fn i64_dims(dims: &[usize]) -> Vec<i64> {
    dims.iter().map(|&d| d as i64).collect()
}

/// Add, Sub, Mul and Div of i64 constants (shape arithmetic), which the native kernels do
/// not provide: broadcast, exact, an error on overflow or division by zero; Div truncates
/// toward zero as ONNX's integer Div does.
fn fold_integer_arithmetic(cx: &Cx, op: &Op, args: &[Tensor]) -> Result<Option<Tensor>, IoError> {
    let [a, b] = args else { return Ok(None) };
    if a.dtype() != DType::I64 || b.dtype() != DType::I64 {
        return Ok(None);
    }
    let f: fn(i64, i64) -> Option<i64> = match op {
        Op::Add => i64::checked_add,
        Op::Sub => i64::checked_sub,
        Op::Mul => i64::checked_mul,
        Op::Div => i64::checked_div,
        _ => return Ok(None),
    };
    let shape = strata_tensor::broadcast_shapes("fold", a.shape(), b.shape())
        .map_err(|e| cx.malformed(e.to_string()))?;
    let spread = |t: &Tensor| {
        t.broadcast_to(shape.clone())
            .and_then(|t| t.to_vec::<i64>())
            .map_err(|e| cx.malformed(e.to_string()))
    };
    let values = spread(a)?
        .into_iter()
        .zip(spread(b)?)
        .map(|(x, y)| {
            f(x, y).ok_or_else(|| {
                cx.malformed(format!(
                    "integer {x} {} {y} overflows or divides by zero",
                    op.tag()
                ))
            })
        })
        .collect::<Result<Vec<i64>, IoError>>()?;
    Tensor::from_vec(values, shape)
        .map(Some)
        .map_err(|e| cx.malformed(e.to_string()))
}

fn scalar_like(value: f64, dtype: DType) -> Tensor {
    Tensor::scalar_f64(value, dtype)
}

impl<'a> Importer<'a> {
    fn input_type(
        &self,
        input: &ValueInfoProto,
        options: &ImportOptions,
    ) -> Result<(Shape, DType), IoError> {
        let place = format!("input {:?}", input.name);
        let bad = |what: String| IoError::unsupported(self.file, format!("{place}: {what}"));
        let Some(TypeValue::Tensor(t)) = input.r#type.as_ref().and_then(|t| t.value.as_ref())
        else {
            return Err(bad("only tensor inputs are supported".into()));
        };
        let dtype = data_type::to_dtype(t.elem_type).ok_or_else(|| {
            bad(format!(
                "element type {} is not supported",
                data_type::name(t.elem_type).unwrap_or("?")
            ))
        })?;
        if let Some(dims) = options.input_shapes.get(&input.name) {
            return Ok((Shape::new(dims.clone()), dtype));
        }
        let Some(shape) = &t.shape else {
            return Err(bad(
                "the rank is unknown; give its shape in ImportOptions::input_shapes".into(),
            ));
        };
        let mut dims = Vec::new();
        for (i, d) in shape.dim.iter().enumerate() {
            match &d.value {
                DimValue::Value(v) if *v >= 0 => dims.push(*v as usize),
                DimValue::Value(v) => return Err(bad(format!("dimension {i} is {v}"))),
                DimValue::Param(p) => {
                    return Err(bad(format!(
                        "dimension {i} is symbolic ({p:?}); give a static shape in ImportOptions::input_shapes"
                    )))
                }
                DimValue::Unknown => {
                    return Err(bad(format!(
                        "dimension {i} is unknown; give a static shape in ImportOptions::input_shapes"
                    )))
                }
            }
        }
        Ok((Shape::new(dims), dtype))
    }

    /// The node holding `val`, creating a parameter or constant node on first use.
    fn node_of(&mut self, val: &Val, name: &str) -> Result<NodeId, IoError> {
        let file = self.file;
        let ir_error = |e: strata_ir::IrError| {
            IoError::malformed(file, format!("value {name:?}"), e.to_string())
        };
        match val {
            Val::Node(id) => Ok(*id),
            Val::Init(init) => {
                if let Some(&id) = self.param_nodes.get(init) {
                    return Ok(id);
                }
                let tensor = self.inits[init].clone();
                let op = Op::Parameter {
                    name: init.clone(),
                    shape: tensor.shape().clone(),
                    dtype: tensor.dtype(),
                };
                let id = self.b.push_named(init.clone(), op, &[]).map_err(ir_error)?;
                self.param_nodes.insert(init.clone(), id);
                self.params.insert(init.clone(), tensor);
                Ok(id)
            }
            Val::Const(t) => self
                .b
                .push(
                    Op::Constant {
                        value: Literal(t.clone()),
                    },
                    &[],
                )
                .map_err(ir_error),
        }
    }

    /// The value's tensor when it is known while importing: a folded constant, or an integer
    /// or bool initializer (never a weight).
    fn known(&self, val: &Val) -> Option<Tensor> {
        match val {
            Val::Const(t) => Some(t.clone()),
            Val::Init(name) => {
                let t = &self.inits[name];
                matches!(t.dtype(), DType::I64 | DType::Bool).then(|| t.clone())
            }
            Val::Node(_) => None,
        }
    }

    fn shape_of(&self, val: &Val) -> Vec<usize> {
        match val {
            Val::Node(id) => self
                .b
                .ty(*id)
                .map(|t| t.shape.dims().to_vec())
                .unwrap_or_default(),
            Val::Init(name) => self.inits[name].dims().to_vec(),
            Val::Const(t) => t.dims().to_vec(),
        }
    }

    fn dtype_of(&self, val: &Val) -> DType {
        match val {
            Val::Node(id) => self.b.ty(*id).map_or(DType::F32, |t| t.dtype),
            Val::Init(name) => self.inits[name].dtype(),
            Val::Const(t) => t.dtype(),
        }
    }

    /// Applies `op` to `args`: computed now when every argument is known, else pushed.
    fn emit(&mut self, cx: &Cx, op: Op, args: &[Val]) -> Result<Val, IoError> {
        let known: Option<Vec<Tensor>> = args.iter().map(|v| self.known(v)).collect();
        if let Some(tensors) = known {
            if let Some(folded) = fold_integer_arithmetic(cx, &op, &tensors)? {
                return Ok(Val::Const(folded));
            }
            if !tensors.is_empty() {
                let types: Vec<strata_ir::TensorType> = tensors
                    .iter()
                    .map(|t| strata_ir::TensorType::new(t.shape().clone(), t.dtype()))
                    .collect();
                let ty = op.infer(&types).map_err(|e| cx.malformed(e))?;
                if ty.shape.checked_numel().is_none_or(|n| n > MAX_FOLDED) {
                    return Err(cx.unsupported(format!(
                        "folding {} would make a constant of shape {:?}",
                        op.tag(),
                        ty.shape.dims()
                    )));
                }
                let cfg = strata_ir::eval::ExecConfig::sequential();
                return op
                    .forward(&tensors, &cfg)
                    .map(Val::Const)
                    .map_err(|e| cx.malformed(format!("folding {}: {e}", op.tag())));
            }
        }
        let mut ids = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            ids.push(self.node_of(a, cx.node.input.get(i).map_or("", String::as_str))?);
        }
        let name = if cx.node.name.is_empty() {
            cx.node.output.first().cloned().unwrap_or_default()
        } else {
            cx.node.name.clone()
        };
        self.b
            .push_named(name, op, &ids)
            .map(Val::Node)
            .map_err(|e| cx.malformed(e.to_string()))
    }

    /// Input `k`, or `None` when absent or named "".
    fn opt_input(&self, cx: &Cx, k: usize) -> Result<Option<Val>, IoError> {
        match cx.node.input.get(k) {
            None => Ok(None),
            Some(name) if name.is_empty() => Ok(None),
            Some(name) => self.values.get(name).cloned().map(Some).ok_or_else(|| {
                cx.malformed(format!(
                    "input {name:?} is not produced by any earlier node"
                ))
            }),
        }
    }

    fn input(&self, cx: &Cx, k: usize) -> Result<Val, IoError> {
        self.opt_input(cx, k)?
            .ok_or_else(|| cx.malformed(format!("input {k} is missing")))
    }

    /// Input `k` as integers known now (a shape, axes, indices).
    fn known_ints(&self, cx: &Cx, k: usize) -> Result<Option<Vec<i64>>, IoError> {
        let Some(val) = self.opt_input(cx, k)? else {
            return Ok(None);
        };
        let t = self.known(&val).ok_or_else(|| {
            cx.unsupported(format!(
                "input {k} ({:?}) must be known while importing (a constant or an integer initializer)",
                cx.node.input[k]
            ))
        })?;
        match t.dtype() {
            DType::I64 => Ok(Some(t.to_vec::<i64>().unwrap_or_default())),
            other => Err(cx.malformed(format!("input {k} must be int64, not {other}"))),
        }
    }

    fn known_scalar(&self, cx: &Cx, k: usize) -> Result<Option<f64>, IoError> {
        let Some(val) = self.opt_input(cx, k)? else {
            return Ok(None);
        };
        let t = match &val {
            Val::Init(name) => Some(self.inits[name].clone()),
            other => self.known(other),
        }
        .ok_or_else(|| cx.unsupported(format!("input {k} must be a constant")))?;
        if t.numel() != 1 {
            return Err(cx.malformed(format!("input {k} must hold one value")));
        }
        Ok(t.to_vec_f64().first().copied())
    }

    fn set_output(&mut self, cx: &Cx, k: usize, val: Val) {
        if let Some(name) = cx.node.output.get(k).filter(|n| !n.is_empty()) {
            self.values.insert(name.clone(), val);
        }
    }

    fn lower(&mut self, node: &NodeProto, index: usize) -> Result<(), IoError> {
        let cx = Cx {
            node,
            index,
            opset: self.opset,
            file: self.file,
        };
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(cx.unsupported(format!("domain {:?} is not supported", node.domain)));
        }
        let attrs = Attrs::new(node);
        let out = self.lower_op(&cx, &attrs)?;
        if let Some(name) = attrs.unread() {
            return Err(cx.unsupported(format!("attribute {name:?} is not supported")));
        }
        self.set_output(&cx, 0, out);
        Ok(())
    }

    /// Lowers one node and returns its first output (extra outputs are set here).
    fn lower_op(&mut self, cx: &Cx, attrs: &Attrs) -> Result<Val, IoError> {
        let opset = self.opset;
        let simple = match cx.node.op_type.as_str() {
            "Neg" => Some(Op::Neg),
            "Abs" => Some(Op::Abs),
            "Sqrt" => Some(Op::Sqrt),
            "Reciprocal" => Some(Op::Reciprocal),
            "Exp" => Some(Op::Exp),
            "Log" => Some(Op::Log),
            "Sin" => Some(Op::Sin),
            "Cos" => Some(Op::Cos),
            "Tanh" => Some(Op::Tanh),
            "Sigmoid" => Some(Op::Sigmoid),
            "Relu" => Some(Op::Relu),
            "Erf" => Some(Op::Erf),
            "Sign" => Some(Op::Sign),
            "Floor" => Some(Op::Floor),
            "Not" => Some(Op::LogicalNot),
            "Add" => Some(Op::Add),
            "Sub" => Some(Op::Sub),
            "Mul" => Some(Op::Mul),
            "Div" => Some(Op::Div),
            "Pow" => Some(Op::Pow),
            "And" => Some(Op::LogicalAnd),
            "Or" => Some(Op::LogicalOr),
            "Where" => Some(Op::Where),
            "MatMul" => Some(Op::Matmul),
            "Equal" => Some(Op::Compare {
                cmp: Comparison::Eq,
            }),
            "Less" => Some(Op::Compare {
                cmp: Comparison::Lt,
            }),
            "LessOrEqual" => Some(Op::Compare {
                cmp: Comparison::Le,
            }),
            "Greater" => Some(Op::Compare {
                cmp: Comparison::Gt,
            }),
            "GreaterOrEqual" => Some(Op::Compare {
                cmp: Comparison::Ge,
            }),
            _ => None,
        };
        if let Some(op) = simple {
            let args = (0..cx.node.input.len())
                .map(|k| self.input(cx, k))
                .collect::<Result<Vec<_>, _>>()?;
            return self.emit(cx, op, &args);
        }
        match cx.node.op_type.as_str() {
            "Identity" => self.input(cx, 0),
            "Dropout" => {
                attrs.get("seed");
                let training = match opset {
                    ..=11 => false,
                    _ => self.known_scalar(cx, 2)?.is_some_and(|v| v != 0.0),
                };
                if opset < 7 || attrs.int(cx, "is_test", 1)? == 0 || training {
                    return Err(cx.unsupported("training-mode dropout"));
                }
                attrs.float(cx, "ratio", 0.5)?;
                let x = self.input(cx, 0)?;
                if cx.node.output.get(1).is_some_and(|n| !n.is_empty()) {
                    let mask = Tensor::full(self.shape_of(&x), 1.0, DType::Bool)
                        .map_err(|e| cx.malformed(e.to_string()))?;
                    self.set_output(cx, 1, Val::Const(mask));
                }
                Ok(x)
            }
            "Constant" => self.lower_constant(cx, attrs),
            "Shape" => {
                let dims = i64_dims(&self.shape_of(&self.input(cx, 0)?));
                let r = dims.len() as i64;
                let clamp =
                    |v: i64| (if v < 0 { v.saturating_add(r) } else { v }).clamp(0, r) as usize;
                let start = clamp(attrs.int(cx, "start", 0)?);
                let end = clamp(attrs.int(cx, "end", r)?);
                let dims = dims[start..end.max(start)].to_vec();
                let n = dims.len();
                Ok(Val::Const(
                    Tensor::from_vec(dims, [n]).map_err(|e| cx.malformed(e.to_string()))?,
                ))
            }
            "Size" => {
                let n: usize = self.shape_of(&self.input(cx, 0)?).iter().product();
                Ok(Val::Const(Tensor::scalar(n as i64)))
            }
            "ConstantOfShape" => {
                let dims = self
                    .known_ints(cx, 0)?
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| usize_of(cx, d, "dimension"))
                    .collect::<Result<Vec<_>, _>>()?;
                let fill = match attrs.typed(cx, "value", at::TENSOR)? {
                    Some(a) => {
                        let t = tensor_from_proto(
                            a.t.as_ref()
                                .ok_or_else(|| cx.malformed("attribute value holds no tensor"))?,
                            self.file,
                        )?;
                        if t.numel() != 1 {
                            return Err(cx.malformed("attribute value must hold one element"));
                        }
                        t
                    }
                    None => Tensor::scalar(0.0f32),
                };
                let numel = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
                if numel.is_none_or(|n| n > MAX_FOLDED) {
                    return Err(cx.unsupported(format!(
                        "a constant of shape {dims:?} is too large to fold"
                    )));
                }
                let filled = fill
                    .reshape(&[] as &[usize])
                    .and_then(|s| s.broadcast_to(dims.as_slice()))
                    .map(|t| t.contiguous())
                    .map_err(|e| cx.malformed(e.to_string()))?;
                Ok(Val::Const(filled))
            }
            "Cast" => {
                let to = attrs.int(cx, "to", 0)? as i32;
                attrs.get("saturate");
                let dtype = data_type::to_dtype(to)
                    .filter(|_| {
                        matches!(
                            to,
                            data_type::FLOAT
                                | data_type::DOUBLE
                                | data_type::INT64
                                | data_type::BOOL
                                | data_type::FLOAT16
                                | data_type::BFLOAT16
                        )
                    })
                    .ok_or_else(|| {
                        cx.unsupported(format!("cast to {}", data_type::name(to).unwrap_or("?")))
                    })?;
                let x = self.input(cx, 0)?;
                self.emit(cx, Op::Cast { dtype }, &[x])
            }
            "LeakyRelu" => {
                let slope = attrs.float(cx, "alpha", 0.01)?;
                let x = self.input(cx, 0)?;
                self.emit(
                    cx,
                    Op::LeakyRelu {
                        negative_slope: f64::from(slope),
                    },
                    &[x],
                )
            }
            "Gelu" => {
                let approximate = match attrs.string(cx, "approximate")?.as_deref() {
                    None | Some("none") => GeluApproximation::Erf,
                    Some("tanh") => GeluApproximation::Tanh,
                    Some(other) => return Err(cx.unsupported(format!("approximate={other:?}"))),
                };
                let x = self.input(cx, 0)?;
                self.emit(cx, Op::Gelu { approximate }, &[x])
            }
            "Min" | "Max" | "Sum" => {
                let op = match cx.node.op_type.as_str() {
                    "Min" => Op::Minimum,
                    "Max" => Op::Maximum,
                    _ => Op::Add,
                };
                let mut acc = self.input(cx, 0)?;
                for k in 1..cx.node.input.len() {
                    let next = self.input(cx, k)?;
                    acc = self.emit(cx, op.clone(), &[acc, next])?;
                }
                Ok(acc)
            }
            "Clip" => {
                let x = self.input(cx, 0)?;
                let dtype = self.dtype_of(&x);
                let (low, high) = if opset < 11 {
                    (
                        Some(f64::from(attrs.float(cx, "min", f32::NEG_INFINITY)?)),
                        Some(f64::from(attrs.float(cx, "max", f32::INFINITY)?)),
                    )
                } else {
                    (self.known_scalar(cx, 1)?, self.known_scalar(cx, 2)?)
                };
                let mut y = x;
                if let Some(low) = low.filter(|v| *v != f64::NEG_INFINITY) {
                    y = self.emit(cx, Op::Maximum, &[y, Val::Const(scalar_like(low, dtype))])?;
                }
                if let Some(high) = high.filter(|v| *v != f64::INFINITY) {
                    y = self.emit(cx, Op::Minimum, &[y, Val::Const(scalar_like(high, dtype))])?;
                }
                Ok(y)
            }
            "Gemm" => self.lower_gemm(cx, attrs),
            "Einsum" => {
                let equation: String = attrs
                    .string(cx, "equation")?
                    .ok_or_else(|| cx.malformed("attribute \"equation\" is missing"))?
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                let args = (0..cx.node.input.len())
                    .map(|k| self.input(cx, k))
                    .collect::<Result<Vec<_>, _>>()?;
                self.emit(cx, Op::Einsum { equation }, &args)
            }
            "Flatten" => {
                let x = self.input(cx, 0)?;
                let dims = self.shape_of(&x);
                let r = dims.len();
                let axis = attrs.int(cx, "axis", 1)?;
                let axis = if axis == r as i64 {
                    r
                } else if axis < 0 && axis + r as i64 >= 0 {
                    (axis + r as i64) as usize
                } else {
                    norm_axis(cx, axis, r)?
                };
                let a: usize = dims[..axis].iter().product();
                let b: usize = dims[axis..].iter().product();
                self.emit(
                    cx,
                    Op::Reshape {
                        shape: vec![a as i64, b as i64],
                    },
                    &[x],
                )
            }
            "Reshape" => {
                let x = self.input(cx, 0)?;
                let dims = self.shape_of(&x);
                let target = if opset < 5 {
                    attrs.ints(cx, "shape")?.unwrap_or_default()
                } else {
                    self.known_ints(cx, 1)?
                        .ok_or_else(|| cx.malformed("input 1 (shape) is missing"))?
                };
                let allow_zero = attrs.int(cx, "allowzero", 0)? != 0;
                let shape = target
                    .iter()
                    .enumerate()
                    .map(|(i, &d)| match d {
                        0 if !allow_zero => dims.get(i).map(|&v| v as i64).ok_or_else(|| {
                            cx.malformed(format!(
                                "shape entry {i} is 0 (copy) but the input has rank {}",
                                dims.len()
                            ))
                        }),
                        d => Ok(d),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.emit(cx, Op::Reshape { shape }, &[x])
            }
            "Transpose" => {
                let x = self.input(cx, 0)?;
                let r = self.shape_of(&x).len();
                let perm = match attrs.ints(cx, "perm")? {
                    Some(p) => p
                        .into_iter()
                        .map(|a| usize_of(cx, a, "perm entry"))
                        .collect::<Result<Vec<_>, _>>()?,
                    None => (0..r).rev().collect(),
                };
                self.emit(cx, Op::Permute { perm }, &[x])
            }
            "Squeeze" | "Unsqueeze" => {
                let x = self.input(cx, 0)?;
                let dims = self.shape_of(&x);
                let axes = if opset < 13 {
                    attrs.ints(cx, "axes")?
                } else {
                    self.known_ints(cx, 1)?
                };
                let new_dims: Vec<usize> = if cx.node.op_type == "Squeeze" {
                    match axes {
                        None => dims.iter().copied().filter(|&d| d != 1).collect(),
                        Some(axes) => {
                            let axes = axes
                                .iter()
                                .map(|&a| norm_axis(cx, a, dims.len()))
                                .collect::<Result<Vec<_>, _>>()?;
                            if let Some(&a) = axes.iter().find(|&&a| dims[a] != 1) {
                                return Err(
                                    cx.malformed(format!("axis {a} has extent {}, not 1", dims[a]))
                                );
                            }
                            dims.iter()
                                .enumerate()
                                .filter(|(i, _)| !axes.contains(i))
                                .map(|(_, &d)| d)
                                .collect()
                        }
                    }
                } else {
                    let axes = axes.ok_or_else(|| cx.malformed("axes are missing"))?;
                    let rank = dims.len() + axes.len();
                    let axes = axes
                        .iter()
                        .map(|&a| norm_axis(cx, a, rank))
                        .collect::<Result<Vec<_>, _>>()?;
                    let mut rest = dims.iter();
                    (0..rank)
                        .map(|i| {
                            if axes.contains(&i) {
                                1
                            } else {
                                rest.next().copied().unwrap_or(1)
                            }
                        })
                        .collect()
                };
                self.emit(
                    cx,
                    Op::Reshape {
                        shape: i64_dims(&new_dims),
                    },
                    &[x],
                )
            }
            "Concat" => {
                let axis = attrs.int(cx, "axis", 0)? as isize;
                let args = (0..cx.node.input.len())
                    .map(|k| self.input(cx, k))
                    .collect::<Result<Vec<_>, _>>()?;
                self.emit(cx, Op::Concat { axis }, &args)
            }
            "Softmax" | "LogSoftmax" => {
                let x = self.input(cx, 0)?;
                let dims = self.shape_of(&x);
                let r = dims.len();
                let log = cx.node.op_type == "LogSoftmax";
                let make = |axis: isize| {
                    if log {
                        Op::LogSoftmax { axis }
                    } else {
                        Op::Softmax { axis }
                    }
                };
                if opset >= 13 {
                    let axis = attrs.int(cx, "axis", -1)?;
                    return self.emit(cx, make(axis as isize), &[x]);
                }
                // Before opset 13: the input is coerced to 2-D at `axis` (default 1).
                let axis = norm_axis(cx, attrs.int(cx, "axis", 1)?, r.max(1))?;
                if axis + 1 == r {
                    return self.emit(cx, make(-1), &[x]);
                }
                let a: usize = dims[..axis].iter().product();
                let b: usize = dims[axis..].iter().product();
                let flat = self.emit(
                    cx,
                    Op::Reshape {
                        shape: vec![a as i64, b as i64],
                    },
                    &[x],
                )?;
                let y = self.emit(cx, make(-1), &[flat])?;
                self.emit(
                    cx,
                    Op::Reshape {
                        shape: i64_dims(&dims),
                    },
                    &[y],
                )
            }
            "Conv" => self.lower_conv(cx, attrs),
            "ConvTranspose" => self.lower_conv_transpose(cx, attrs),
            "Split" => self.lower_split(cx, attrs),
            "MaxPool" | "AveragePool" => self.lower_pool(cx, attrs),
            "GlobalAveragePool" => {
                let x = self.input(cx, 0)?;
                if self.shape_of(&x).len() != 4 {
                    return Err(cx.unsupported("GlobalAveragePool of a tensor that is not 4-D"));
                }
                self.emit(
                    cx,
                    Op::AdaptiveAvgPool2d {
                        output_size: [1, 1],
                    },
                    &[x],
                )
            }
            "BatchNormalization" => {
                let eps = attrs.float(cx, "epsilon", 1e-5)?;
                attrs.float(cx, "momentum", 0.9)?;
                if attrs.int(cx, "training_mode", 0)? != 0 || attrs.int(cx, "spatial", 1)? != 1 {
                    return Err(cx.unsupported("training mode or non-spatial batch normalization"));
                }
                if attrs.get("is_test").is_some() && opset < 7 {
                    return Err(cx.unsupported("is_test"));
                }
                if cx.node.output.iter().skip(1).any(|o| !o.is_empty()) {
                    return Err(cx.unsupported("outputs beyond the first (running statistics)"));
                }
                let args = (0..5)
                    .map(|k| self.input(cx, k))
                    .collect::<Result<Vec<_>, _>>()?;
                let [x, scale, bias, mean, var] =
                    <[Val; 5]>::try_from(args).map_err(|_| cx.malformed("needs 5 inputs"))?;
                self.emit(
                    cx,
                    Op::BatchNorm {
                        eps: f64::from(eps),
                        affine: true,
                    },
                    &[x, mean, var, scale, bias],
                )
            }
            "LayerNormalization" => {
                let eps = attrs.float(cx, "epsilon", 1e-5)?;
                if attrs.int(cx, "stash_type", 1)? != 1
                    || cx.node.output.iter().skip(1).any(|o| !o.is_empty())
                {
                    return Err(
                        cx.unsupported("stash_type other than 1 or the mean/inv-std-dev outputs")
                    );
                }
                let x = self.input(cx, 0)?;
                let dims = self.shape_of(&x);
                let axis = norm_axis(cx, attrs.int(cx, "axis", -1)?, dims.len())?;
                let normalized_shape = dims[axis..].to_vec();
                let scale = self.input(cx, 1)?;
                let bias = match self.opt_input(cx, 2)? {
                    Some(b) => b,
                    None => Val::Const(
                        Tensor::zeros(normalized_shape.clone(), self.dtype_of(&x))
                            .map_err(|e| cx.malformed(e.to_string()))?,
                    ),
                };
                self.emit(
                    cx,
                    Op::LayerNorm {
                        normalized_shape,
                        eps: f64::from(eps),
                        affine: true,
                    },
                    &[x, scale, bias],
                )
            }
            "Slice" => {
                let x = self.input(cx, 0)?;
                let dims = self.shape_of(&x);
                let (starts, ends, axes, steps) = if opset < 10 {
                    (
                        attrs.ints(cx, "starts")?,
                        attrs.ints(cx, "ends")?,
                        attrs.ints(cx, "axes")?,
                        None,
                    )
                } else {
                    (
                        self.known_ints(cx, 1)?,
                        self.known_ints(cx, 2)?,
                        self.known_ints(cx, 3)?,
                        self.known_ints(cx, 4)?,
                    )
                };
                let starts = starts.ok_or_else(|| cx.malformed("starts are missing"))?;
                let ends = ends.ok_or_else(|| cx.malformed("ends are missing"))?;
                let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
                let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
                if ends.len() != starts.len()
                    || axes.len() != starts.len()
                    || steps.len() != starts.len()
                {
                    return Err(cx.malformed("starts, ends, axes and steps differ in length"));
                }
                let mut y = x;
                for i in 0..starts.len() {
                    let axis = norm_axis(cx, axes[i], dims.len())?;
                    let step = usize::try_from(steps[i])
                        .ok()
                        .filter(|&s| s >= 1)
                        .ok_or_else(|| cx.unsupported(format!("step {}", steps[i])))?;
                    y = self.emit(
                        cx,
                        Op::Slice {
                            axis: axis as isize,
                            start: starts[i],
                            end: ends[i],
                            step,
                        },
                        &[y],
                    )?;
                }
                Ok(y)
            }
            "Gather" => self.lower_gather(cx, attrs),
            "GatherElements" => {
                let axis = attrs.int(cx, "axis", 0)? as isize;
                let (x, index) = (self.input(cx, 0)?, self.input(cx, 1)?);
                self.emit(cx, Op::Gather { axis }, &[x, index])
            }
            "Expand" => {
                let x = self.input(cx, 0)?;
                let dims = self.shape_of(&x);
                let target = self.known_ints(cx, 1)?.unwrap_or_default();
                let target = target
                    .into_iter()
                    .map(|d| usize_of(cx, d, "dimension"))
                    .collect::<Result<Vec<_>, _>>()?;
                let shape = strata_tensor::broadcast_shapes(
                    "Expand",
                    &Shape::new(dims),
                    &Shape::new(target),
                )
                .map_err(|e| cx.malformed(e.to_string()))?;
                self.emit(cx, Op::BroadcastTo { shape }, &[x])
            }
            "Tile" => {
                let x = self.input(cx, 0)?;
                let repeats = self
                    .known_ints(cx, 1)?
                    .unwrap_or_default()
                    .into_iter()
                    .map(|d| usize_of(cx, d, "repeat"))
                    .collect::<Result<Vec<_>, _>>()?;
                self.emit(cx, Op::Tile { repeats }, &[x])
            }
            "Pad" => {
                let mode = attrs
                    .string(cx, "mode")?
                    .unwrap_or_else(|| "constant".into());
                if mode != "constant" {
                    return Err(cx.unsupported(format!("mode {mode:?}")));
                }
                let x = self.input(cx, 0)?;
                let r = self.shape_of(&x).len();
                let (pads, value) = if opset < 11 {
                    (
                        attrs.ints(cx, "pads")?.unwrap_or_default(),
                        f64::from(attrs.float(cx, "value", 0.0)?),
                    )
                } else {
                    if self.opt_input(cx, 3)?.is_some() {
                        return Err(cx.unsupported("the axes input"));
                    }
                    (
                        self.known_ints(cx, 1)?.unwrap_or_default(),
                        self.known_scalar(cx, 2)?.unwrap_or(0.0),
                    )
                };
                if pads.len() != 2 * r {
                    return Err(cx.malformed(format!("{} pads for rank {r}", pads.len())));
                }
                let pairs = (0..r)
                    .rev()
                    .map(|a| {
                        Ok([
                            usize_of(cx, pads[a], "pad")?,
                            usize_of(cx, pads[a + r], "pad")?,
                        ])
                    })
                    .collect::<Result<Vec<_>, IoError>>()?;
                self.emit(cx, Op::Pad { pads: pairs, value }, &[x])
            }
            "ReduceSum" | "ReduceMean" | "ReduceMax" => {
                let x = self.input(cx, 0)?;
                let r = self.shape_of(&x).len();
                let keepdim = attrs.int(cx, "keepdims", 1)? != 0;
                let noop = attrs.int(cx, "noop_with_empty_axes", 0)? != 0;
                let axes_from_input = match cx.node.op_type.as_str() {
                    "ReduceSum" => opset >= 13,
                    _ => opset >= 18,
                };
                let axes = if axes_from_input {
                    self.known_ints(cx, 1)?
                } else {
                    attrs.ints(cx, "axes")?
                };
                let axes: Vec<isize> = match axes {
                    Some(a) if !a.is_empty() => a.into_iter().map(|a| a as isize).collect(),
                    _ if noop => return Ok(x),
                    _ => (0..r as isize).collect(),
                };
                let op = match cx.node.op_type.as_str() {
                    "ReduceSum" => Op::ReduceSum { axes, keepdim },
                    "ReduceMean" => Op::ReduceMean { axes, keepdim },
                    _ => Op::ReduceMax { axes, keepdim },
                };
                self.emit(cx, op, &[x])
            }
            "ArgMax" => {
                if attrs.int(cx, "select_last_index", 0)? != 0 {
                    return Err(cx.unsupported("select_last_index=1"));
                }
                let axis = attrs.int(cx, "axis", 0)? as isize;
                let keepdim = attrs.int(cx, "keepdims", 1)? != 0;
                let x = self.input(cx, 0)?;
                self.emit(cx, Op::ArgMax { axis, keepdim }, &[x])
            }
            "Trilu" => {
                let upper = attrs.int(cx, "upper", 1)? != 0;
                let diagonal = match self.known_ints(cx, 1)? {
                    Some(k) => *k.first().ok_or_else(|| cx.malformed("k is empty"))?,
                    None => 0,
                };
                let x = self.input(cx, 0)?;
                self.emit(cx, Op::Trilu { upper, diagonal }, &[x])
            }
            "Range" => self.lower_range(cx),
            "Mod" => self.fold_mod(cx, attrs),
            other => Err(cx.unsupported(format!("op {other} is not supported"))),
        }
    }

    fn lower_constant(&mut self, cx: &Cx, attrs: &Attrs) -> Result<Val, IoError> {
        if let Some(a) = attrs.typed(cx, "value", at::TENSOR)? {
            let t =
                a.t.as_ref()
                    .ok_or_else(|| cx.malformed("attribute value holds no tensor"))?;
            return Ok(Val::Const(tensor_from_proto(t, self.file)?));
        }
        let made = if let Some(a) = attrs.typed(cx, "value_float", at::FLOAT)? {
            Ok(Tensor::scalar(a.f.unwrap_or(0.0)))
        } else if let Some(a) = attrs.typed(cx, "value_floats", at::FLOATS)? {
            Tensor::from_vec(a.floats.clone(), [a.floats.len()])
        } else if let Some(a) = attrs.typed(cx, "value_int", at::INT)? {
            Ok(Tensor::scalar(a.i.unwrap_or(0)))
        } else if let Some(a) = attrs.typed(cx, "value_ints", at::INTS)? {
            Tensor::from_vec(a.ints.clone(), [a.ints.len()])
        } else {
            return Err(cx.unsupported("a Constant without value, value_float(s) or value_int(s)"));
        };
        made.map(Val::Const)
            .map_err(|e| cx.malformed(e.to_string()))
    }

    fn lower_gemm(&mut self, cx: &Cx, attrs: &Attrs) -> Result<Val, IoError> {
        let alpha = attrs.float(cx, "alpha", 1.0)?;
        let beta = attrs.float(cx, "beta", 1.0)?;
        let trans_a = attrs.int(cx, "transA", 0)? != 0;
        let trans_b = attrs.int(cx, "transB", 0)? != 0;
        attrs.get("broadcast");
        let (a, b, c) = (
            self.input(cx, 0)?,
            self.input(cx, 1)?,
            self.opt_input(cx, 2)?,
        );
        let a = if trans_a {
            self.emit(cx, Op::Permute { perm: vec![1, 0] }, &[a])?
        } else {
            a
        };
        let b_dims = self.shape_of(&b);
        if b_dims.len() != 2 || self.shape_of(&a).len() != 2 {
            return Err(cx.malformed("Gemm takes 2-D A and B"));
        }
        let n = if trans_b { b_dims[0] } else { b_dims[1] };
        let c_is_bias = c.as_ref().is_some_and(|c| self.shape_of(c) == [n]) && beta == 1.0;
        if trans_b && alpha == 1.0 && (c.is_none() || c_is_bias) {
            // x · Wᵀ + b with W [out, in]: exactly F.linear.
            let mut args = vec![a, b];
            args.extend(c);
            let bias = args.len() == 3;
            return self.emit(cx, Op::Linear { bias }, &args);
        }
        let b = if trans_b {
            self.emit(cx, Op::Permute { perm: vec![1, 0] }, &[b])?
        } else {
            b
        };
        let mut y = self.emit(cx, Op::Matmul, &[a, b])?;
        let dtype = self.dtype_of(&y);
        if alpha != 1.0 {
            y = self.emit(
                cx,
                Op::Mul,
                &[y, Val::Const(scalar_like(f64::from(alpha), dtype))],
            )?;
        }
        if let Some(c) = c {
            let c = if beta != 1.0 {
                self.emit(
                    cx,
                    Op::Mul,
                    &[c, Val::Const(scalar_like(f64::from(beta), dtype))],
                )?
            } else {
                c
            };
            y = self.emit(cx, Op::Add, &[y, c])?;
        }
        Ok(y)
    }

    /// Explicit pads `[begin…, end…]` for `spatial` axes from `pads` or `auto_pad`.
    fn pads(
        &self,
        cx: &Cx,
        attrs: &Attrs,
        input: &[usize],
        kernel: &[usize],
        strides: &[usize],
        dilations: &[usize],
    ) -> Result<Vec<usize>, IoError> {
        let spatial = kernel.len();
        let auto = attrs
            .string(cx, "auto_pad")?
            .unwrap_or_else(|| "NOTSET".into());
        match auto.as_str() {
            "NOTSET" => {
                let pads = attrs
                    .ints(cx, "pads")?
                    .unwrap_or_else(|| vec![0; 2 * spatial]);
                if pads.len() != 2 * spatial {
                    return Err(
                        cx.malformed(format!("{} pads for {spatial} spatial axes", pads.len()))
                    );
                }
                pads.into_iter().map(|p| usize_of(cx, p, "pad")).collect()
            }
            "VALID" => Ok(vec![0; 2 * spatial]),
            "SAME_UPPER" | "SAME_LOWER" => {
                let mut pads = vec![0; 2 * spatial];
                for i in 0..spatial {
                    let extent = input[input.len() - spatial + i];
                    let out = extent.div_ceil(strides[i]).max(1);
                    let effective = (kernel[i] - 1)
                        .saturating_mul(dilations[i])
                        .saturating_add(1);
                    let total = ((out - 1)
                        .saturating_mul(strides[i])
                        .saturating_add(effective))
                    .saturating_sub(extent);
                    let small = total / 2;
                    let (begin, end) = if auto == "SAME_UPPER" {
                        (small, total - small)
                    } else {
                        (total - small, small)
                    };
                    pads[i] = begin;
                    pads[i + spatial] = end;
                }
                Ok(pads)
            }
            other => Err(cx.unsupported(format!("auto_pad {other:?}"))),
        }
    }

    fn spatial_ints(
        &self,
        cx: &Cx,
        attrs: &Attrs,
        name: &str,
        spatial: usize,
    ) -> Result<Vec<usize>, IoError> {
        match attrs.ints(cx, name)? {
            Some(v) if v.len() == spatial => v
                .into_iter()
                .map(|x| match usize_of(cx, x, name)? {
                    0 => Err(cx.malformed(format!("{name} entry is 0"))),
                    x => Ok(x),
                })
                .collect(),
            Some(v) => Err(cx.malformed(format!(
                "{name} has {} entries for {spatial} spatial axes",
                v.len()
            ))),
            None => Ok(vec![1; spatial]),
        }
    }

    /// Pads `x` explicitly when `pads` are asymmetric; returns the input and the symmetric pad.
    fn symmetric(
        &mut self,
        cx: &Cx,
        x: Val,
        pads: &[usize],
        value: f64,
    ) -> Result<(Val, Vec<usize>), IoError> {
        let spatial = pads.len() / 2;
        if pads[..spatial] == pads[spatial..] {
            return Ok((x, pads[..spatial].to_vec()));
        }
        let pairs = (0..spatial)
            .rev()
            .map(|i| [pads[i], pads[i + spatial]])
            .collect();
        let x = self.emit(cx, Op::Pad { pads: pairs, value }, &[x])?;
        Ok((x, vec![0; spatial]))
    }

    fn lower_conv(&mut self, cx: &Cx, attrs: &Attrs) -> Result<Val, IoError> {
        let x = self.input(cx, 0)?;
        let w = self.input(cx, 1)?;
        let bias = self.opt_input(cx, 2)?;
        let dims = self.shape_of(&x);
        let wdims = self.shape_of(&w);
        let spatial = wdims.len().saturating_sub(2);
        if !(1..=2).contains(&spatial) || dims.len() != spatial + 2 {
            return Err(cx.unsupported(format!(
                "Conv of input {dims:?} and weight {wdims:?} (1-D and 2-D only)"
            )));
        }
        let kernel = wdims[2..].to_vec();
        if kernel.contains(&0) {
            return Err(cx.malformed(format!("weight {wdims:?} has an empty kernel")));
        }
        if let Some(k) = attrs.ints(cx, "kernel_shape")? {
            if k != i64_dims(&kernel) {
                return Err(cx.malformed(format!(
                    "kernel_shape {k:?} differs from the weight's {kernel:?}"
                )));
            }
        }
        let strides = self.spatial_ints(cx, attrs, "strides", spatial)?;
        let dilations = self.spatial_ints(cx, attrs, "dilations", spatial)?;
        let groups = usize_of(cx, attrs.int(cx, "group", 1)?, "group")?;
        let pads = self.pads(cx, attrs, &dims, &kernel, &strides, &dilations)?;
        let (x, pad) = self.symmetric(cx, x, &pads, 0.0)?;
        let mut args = vec![x, w];
        let has_bias = bias.is_some();
        args.extend(bias);
        let op = if spatial == 2 {
            Op::Conv2d {
                params: Conv2dParams {
                    stride: [strides[0], strides[1]],
                    padding: [pad[0], pad[1]],
                    dilation: [dilations[0], dilations[1]],
                    groups,
                },
                bias: has_bias,
            }
        } else {
            Op::Conv1d {
                params: Conv1dParams {
                    stride: strides[0],
                    padding: pad[0],
                    dilation: dilations[0],
                    groups,
                },
                bias: has_bias,
            }
        };
        self.emit(cx, op, &args)
    }

    fn lower_conv_transpose(&mut self, cx: &Cx, attrs: &Attrs) -> Result<Val, IoError> {
        let x = self.input(cx, 0)?;
        let w = self.input(cx, 1)?;
        let bias = self.opt_input(cx, 2)?;
        let dims = self.shape_of(&x);
        let wdims = self.shape_of(&w);
        if wdims.len() != 4 || dims.len() != 4 {
            return Err(cx.unsupported(format!(
                "ConvTranspose of input {dims:?} and weight {wdims:?} (2-D only)"
            )));
        }
        if let Some(k) = attrs.ints(cx, "kernel_shape")? {
            if k != i64_dims(&wdims[2..]) {
                return Err(cx.malformed(format!(
                    "kernel_shape {k:?} differs from the weight's {:?}",
                    &wdims[2..]
                )));
            }
        }
        if attrs.ints(cx, "output_shape")?.is_some() {
            return Err(cx.unsupported("output_shape (give pads and output_padding instead)"));
        }
        let auto = attrs.string(cx, "auto_pad")?;
        if !matches!(auto.as_deref(), None | Some("NOTSET") | Some("VALID")) {
            return Err(cx.unsupported(format!("auto_pad {:?}", auto.unwrap_or_default())));
        }
        let strides = self.spatial_ints(cx, attrs, "strides", 2)?;
        let dilations = self.spatial_ints(cx, attrs, "dilations", 2)?;
        let groups = usize_of(cx, attrs.int(cx, "group", 1)?, "group")?;
        let pads = match attrs.ints(cx, "pads")? {
            Some(p) if auto.as_deref() != Some("VALID") => p,
            _ => vec![0; 4],
        };
        let output_padding = attrs.ints(cx, "output_padding")?.unwrap_or(vec![0, 0]);
        if pads.len() != 4 || output_padding.len() != 2 {
            return Err(cx.malformed("pads needs 4 entries and output_padding 2"));
        }
        if pads[..2] != pads[2..] {
            return Err(cx.unsupported(format!("asymmetric pads {pads:?}")));
        }
        let [p0, p1, o0, o1] = [pads[0], pads[1], output_padding[0], output_padding[1]]
            .map(|v| usize_of(cx, v, "pad"));
        let params = ConvTranspose2dParams {
            stride: [strides[0], strides[1]],
            padding: [p0?, p1?],
            output_padding: [o0?, o1?],
            dilation: [dilations[0], dilations[1]],
            groups,
        };
        let mut args = vec![x, w];
        let has_bias = bias.is_some();
        args.extend(bias);
        self.emit(
            cx,
            Op::ConvTranspose2d {
                params,
                bias: has_bias,
            },
            &args,
        )
    }

    /// Split: one `split` node per output, the sizes from the `split` input (attribute before
    /// opset 13), else `num_outputs` (opset 18) or the number of outputs, as equal as ONNX
    /// makes them (the last piece smaller).
    fn lower_split(&mut self, cx: &Cx, attrs: &Attrs) -> Result<Val, IoError> {
        let x = self.input(cx, 0)?;
        let dims = self.shape_of(&x);
        let axis = norm_axis(cx, attrs.int(cx, "axis", 0)?, dims.len())?;
        let extent = dims[axis];
        let given = if self.opset < 13 {
            attrs.ints(cx, "split")?
        } else {
            self.known_ints(cx, 1)?
        };
        let outputs = cx.node.output.len();
        let sizes = match given {
            Some(s) => s
                .into_iter()
                .map(|v| usize_of(cx, v, "split size"))
                .collect::<Result<Vec<_>, _>>()?,
            None => {
                let n = usize_of(
                    cx,
                    attrs.int(cx, "num_outputs", outputs as i64)?,
                    "num_outputs",
                )?;
                if n == 0 {
                    return Err(cx.malformed("a split into 0 pieces"));
                }
                let piece = extent.div_ceil(n);
                (0..n)
                    .map(|i| piece.min(extent.saturating_sub(i * piece)))
                    .collect()
            }
        };
        if sizes.len() != outputs || sizes.iter().sum::<usize>() != extent {
            return Err(cx.malformed(format!(
                "split sizes {sizes:?} for {outputs} outputs along an axis of extent {extent}"
            )));
        }
        let mut first = None;
        for index in 0..outputs {
            let op = Op::Split {
                axis: axis as isize,
                sizes: sizes.clone(),
                index,
            };
            let piece = self.emit(cx, op, std::slice::from_ref(&x))?;
            if index == 0 {
                first = Some(piece);
            } else {
                self.set_output(cx, index, piece);
            }
        }
        first.ok_or_else(|| cx.malformed("Split has no outputs"))
    }

    fn lower_pool(&mut self, cx: &Cx, attrs: &Attrs) -> Result<Val, IoError> {
        let x = self.input(cx, 0)?;
        let dims = self.shape_of(&x);
        let kernel = attrs
            .ints(cx, "kernel_shape")?
            .ok_or_else(|| cx.malformed("kernel_shape is missing"))?
            .into_iter()
            .map(|k| usize_of(cx, k, "kernel"))
            .collect::<Result<Vec<_>, _>>()?;
        if kernel.contains(&0) {
            return Err(cx.malformed("kernel_shape has a 0 entry"));
        }
        if kernel.len() != 2 || dims.len() != 4 {
            return Err(cx.unsupported(format!(
                "pooling of {dims:?} with kernel {kernel:?} (2-D only)"
            )));
        }
        if cx.node.output.get(1).is_some_and(|o| !o.is_empty()) {
            return Err(cx.unsupported("the Indices output"));
        }
        let strides = self.spatial_ints(cx, attrs, "strides", 2)?;
        let dilations = self.spatial_ints(cx, attrs, "dilations", 2)?;
        let ceil_mode = attrs.int(cx, "ceil_mode", 0)? != 0;
        let pads = self.pads(cx, attrs, &dims, &kernel, &strides, &dilations)?;
        let k = [kernel[0], kernel[1]];
        let s = [strides[0], strides[1]];
        if cx.node.op_type == "MaxPool" {
            if attrs.int(cx, "storage_order", 0)? != 0 {
                return Err(cx.unsupported("storage_order=1"));
            }
            let (x, pad) = self.symmetric(cx, x, &pads, f64::NEG_INFINITY)?;
            let params = MaxPool2dParams {
                kernel: k,
                stride: s,
                padding: [pad[0], pad[1]],
                dilation: [dilations[0], dilations[1]],
                ceil_mode,
            };
            return self.emit(cx, Op::MaxPool2d { params }, &[x]);
        }
        if dilations != [1, 1] {
            return Err(cx.unsupported("dilated average pooling"));
        }
        let count_include_pad = attrs.int(cx, "count_include_pad", 0)? != 0;
        if pads[..2] != pads[2..] && !count_include_pad {
            return Err(cx.unsupported("asymmetric pads with count_include_pad=0"));
        }
        let (x, pad) = self.symmetric(cx, x, &pads, 0.0)?;
        let params = AvgPool2dParams {
            kernel: k,
            stride: s,
            padding: [pad[0], pad[1]],
            ceil_mode,
            count_include_pad,
            divisor_override: None,
        };
        self.emit(cx, Op::AvgPool2d { params }, &[x])
    }

    fn lower_gather(&mut self, cx: &Cx, attrs: &Attrs) -> Result<Val, IoError> {
        let data = self.input(cx, 0)?;
        let dims = self.shape_of(&data);
        let axis = norm_axis(cx, attrs.int(cx, "axis", 0)?, dims.len())?;
        let indices_val = self.input(cx, 1)?;
        let Some(indices) = self.known(&indices_val) else {
            return self.gather_rows(cx, data, &dims, axis, indices_val);
        };
        let index_dims = indices.dims().to_vec();
        let extent = dims[axis] as i64;
        let picks = indices
            .to_vec::<i64>()
            .map_err(|_| cx.malformed("indices must be int64"))?;
        let mut pieces = Vec::with_capacity(picks.len());
        for &i in &picks {
            let j = if i < 0 { i + extent } else { i };
            if !(0..extent).contains(&j) {
                return Err(cx.malformed(format!("index {i} is out of range for extent {extent}")));
            }
            pieces.push(self.emit(
                cx,
                Op::Slice {
                    axis: axis as isize,
                    start: j,
                    end: j + 1,
                    step: 1,
                },
                std::slice::from_ref(&data),
            )?);
        }
        let joined = match pieces.len() {
            0 => return Err(cx.unsupported("an empty index list")),
            1 => pieces.pop().expect("one piece"),
            _ => self.emit(
                cx,
                Op::Concat {
                    axis: axis as isize,
                },
                &pieces,
            )?,
        };
        let mut out: Vec<usize> = dims[..axis].to_vec();
        out.extend(&index_dims);
        out.extend(&dims[axis + 1..]);
        self.emit(
            cx,
            Op::Reshape {
                shape: i64_dims(&out),
            },
            &[joined],
        )
    }

    /// Gather by run-time indices as F.embedding: `axis` moved to the front, the other axes
    /// flattened into one row, the looked-up rows reshaped and the index axes moved back.
    fn gather_rows(
        &mut self,
        cx: &Cx,
        data: Val,
        dims: &[usize],
        axis: usize,
        indices: Val,
    ) -> Result<Val, IoError> {
        if self.dtype_of(&indices) != DType::I64 {
            return Err(cx.unsupported("run-time indices that are not int64"));
        }
        let index_rank = self.shape_of(&indices).len();
        let rest: Vec<usize> = (0..dims.len()).filter(|&a| a != axis).collect();
        let front = if axis == 0 {
            data
        } else {
            let perm = std::iter::once(axis).chain(rest.iter().copied()).collect();
            self.emit(cx, Op::Permute { perm }, &[data])?
        };
        let row: usize = rest.iter().map(|&a| dims[a]).product();
        let table = self.emit(
            cx,
            Op::Reshape {
                shape: vec![dims[axis] as i64, row as i64],
            },
            &[front],
        )?;
        let rows = self.emit(cx, Op::Embedding, &[indices.clone(), table])?;
        let mut gathered = self.shape_of(&indices);
        gathered.extend(rest.iter().map(|&a| dims[a]));
        let y = self.emit(
            cx,
            Op::Reshape {
                shape: i64_dims(&gathered),
            },
            &[rows],
        )?;
        if axis == 0 {
            return Ok(y);
        }
        // Now [index…, dims before axis…, dims after axis…]; ONNX wants the index axes at `axis`.
        let perm = (index_rank..index_rank + axis)
            .chain(0..index_rank)
            .chain(index_rank + axis..gathered.len())
            .collect();
        self.emit(cx, Op::Permute { perm }, &[y])
    }

    /// Mod of integers known while importing (shape arithmetic); the IR has no run-time Mod.
    fn fold_mod(&mut self, cx: &Cx, attrs: &Attrs) -> Result<Val, IoError> {
        let fmod = attrs.int(cx, "fmod", 0)? != 0;
        let (a, b) = (self.input(cx, 0)?, self.input(cx, 1)?);
        let (Some(a), Some(b)) = (self.known(&a), self.known(&b)) else {
            return Err(cx.unsupported("Mod of values not known while importing"));
        };
        if a.dtype() != DType::I64 || b.dtype() != DType::I64 {
            return Err(cx.unsupported("Mod of values that are not int64"));
        }
        let shape = strata_tensor::broadcast_shapes("Mod", a.shape(), b.shape())
            .map_err(|e| cx.malformed(e.to_string()))?;
        let spread = |t: &Tensor| {
            t.broadcast_to(shape.clone())
                .and_then(|t| t.to_vec::<i64>())
                .map_err(|e| cx.malformed(e.to_string()))
        };
        let values = spread(&a)?
            .into_iter()
            .zip(spread(&b)?)
            .map(|(x, y)| {
                // fmod=1: the sign of the dividend (C fmod); else of the divisor (Python %).
                let r = x.checked_rem(y).ok_or_else(|| {
                    cx.malformed(format!("integer {x} mod {y} divides by zero or overflows"))
                })?;
                Ok(if !fmod && r != 0 && (r < 0) != (y < 0) {
                    r + y
                } else {
                    r
                })
            })
            .collect::<Result<Vec<i64>, IoError>>()?;
        Tensor::from_vec(values, shape)
            .map(Val::Const)
            .map_err(|e| cx.malformed(e.to_string()))
    }

    fn lower_range(&mut self, cx: &Cx) -> Result<Val, IoError> {
        let vals = (0..3)
            .map(|k| self.input(cx, k))
            .collect::<Result<Vec<_>, _>>()?;
        let known: Option<Vec<Tensor>> = vals
            .iter()
            .map(|v| {
                self.known(v).or_else(|| match v {
                    Val::Init(n) => Some(self.inits[n].clone()),
                    _ => None,
                })
            })
            .collect();
        let known = known.ok_or_else(|| cx.unsupported("run-time start, limit or delta"))?;
        let dtype = known[0].dtype();
        let [start, limit, delta] =
            [0, 1, 2].map(|i| known[i].to_vec_f64().first().copied().unwrap_or(0.0));
        if delta == 0.0 || !(start.is_finite() && limit.is_finite() && delta.is_finite()) {
            return Err(cx.malformed("delta is 0 or a bound is not finite"));
        }
        let count = ((limit - start) / delta).ceil().max(0.0);
        if count > MAX_FOLDED as f64 {
            return Err(cx.unsupported(format!("a range of {count} elements is too large to fold")));
        }
        let n = count as usize;
        let t = match dtype {
            DType::I64 => {
                let (s, d) = (start as i64, delta as i64);
                Tensor::from_vec((0..n as i64).map(|i| s + i * d).collect::<Vec<i64>>(), [n])
            }
            DType::F32 => {
                let (s, d) = (start as f32, delta as f32);
                Tensor::from_vec((0..n).map(|i| s + i as f32 * d).collect::<Vec<f32>>(), [n])
            }
            DType::F64 => Tensor::from_vec(
                (0..n)
                    .map(|i| start + i as f64 * delta)
                    .collect::<Vec<f64>>(),
                [n],
            ),
            other => return Err(cx.unsupported(format!("Range of {other}"))),
        };
        t.map(Val::Const).map_err(|e| cx.malformed(e.to_string()))
    }
}
