//! The JSON form:
//!
//! ```json
//! {"format": "strata.ir.v1",
//!  "nodes": [{"id": 0, "name": "x", "op": "input", "attrs": {"dtype": "f32", "shape": [1, 4]},
//!             "inputs": [], "dtype": "f32", "shape": [1, 4]},
//!            {"id": 1, "op": "relu", "inputs": [0], "dtype": "f32", "shape": [1, 4]}],
//!  "outputs": [1]}
//! ```
//!
//! `name` and `attrs` are omitted when absent or empty. Attribute values are those of the text
//! form. Reading reports errors at a JSON path (`$.nodes[3].attrs`), then checks the graph.

use crate::error::IrError;
use crate::graph::{Graph, Node};
use crate::op::{Attributes, Op};
use crate::serde_impls::parse_dtype;
use serde_json::{Map, Value};
use strata_tensor::{DType, Shape};

/// The `format` tag of Strata's JSON graphs.
pub const FORMAT: &str = "strata.ir.v1";

/// The JSON value of `graph`.
pub fn to_value(graph: &Graph) -> Result<Value, IrError> {
    let nodes = graph
        .nodes
        .iter()
        .map(node_value)
        .collect::<Result<Vec<_>, _>>()?;
    let mut top = Map::new();
    top.insert("format".into(), FORMAT.into());
    top.insert("nodes".into(), Value::Array(nodes));
    top.insert("outputs".into(), graph.outputs.clone().into());
    Ok(Value::Object(top))
}

/// `graph` as pretty-printed JSON.
pub fn to_string(graph: &Graph) -> Result<String, IrError> {
    let value = to_value(graph)?;
    serde_json::to_string_pretty(&value).map_err(|e| IrError::Json {
        path: "$".into(),
        msg: e.to_string(),
    })
}

fn node_value(node: &Node) -> Result<Value, IrError> {
    let attributes = node.op.attributes().map_err(|msg| IrError::Unsupported {
        node: node.node_ref(),
        op: node.op.tag(),
        msg,
    })?;
    let mut obj = Map::new();
    obj.insert("id".into(), node.id.into());
    if let Some(name) = &node.name {
        obj.insert("name".into(), name.clone().into());
    }
    obj.insert("op".into(), node.op.tag().into());
    if !attributes.is_empty() {
        obj.insert("attrs".into(), Value::Object(attributes));
    }
    obj.insert("inputs".into(), node.inputs.clone().into());
    obj.insert("dtype".into(), node.dtype.name().into());
    obj.insert("shape".into(), node.shape.dims().to_vec().into());
    Ok(Value::Object(obj))
}

/// Parses the JSON form and checks the graph.
pub fn from_str(text: &str) -> Result<Graph, IrError> {
    from_value(&parse_value(text)?)
}

/// Parses JSON text, reporting syntax errors with their line and column.
pub(crate) fn parse_value(text: &str) -> Result<Value, IrError> {
    serde_json::from_str(text).map_err(|e| IrError::Json {
        path: "$".into(),
        msg: e.to_string(),
    })
}

/// Reads a graph from its JSON value and checks it.
pub fn from_value(value: &Value) -> Result<Graph, IrError> {
    let top = Obj::new(value, "$".into())?;
    top.only(&["format", "nodes", "outputs"])?;
    match top.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        _ => return Err(top.error("format", format!("expected \"{FORMAT}\""))),
    }
    let nodes = top
        .array("nodes")?
        .iter()
        .enumerate()
        .map(|(i, v)| read_node(v, format!("$.nodes[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let outputs = top.ids("outputs")?;
    let graph = Graph { nodes, outputs };
    graph.check_shapes()?;
    Ok(graph)
}

fn read_node(value: &Value, path: String) -> Result<Node, IrError> {
    let obj = Obj::new(value, path)?;
    obj.only(&["id", "name", "op", "attrs", "inputs", "dtype", "shape"])?;
    let tag = obj.str("op")?;
    let attributes = match obj.get("attrs") {
        None => Attributes::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(obj.error("attrs", "expected an object".into())),
    };
    let op = Op::from_parts(tag, attributes).map_err(|msg| obj.error("attrs", msg))?;
    let name = match obj.get("name") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(obj.error("name", "expected a string".into())),
    };
    Ok(Node {
        id: obj.uint("id")?,
        op,
        inputs: obj.ids("inputs")?,
        shape: obj.shape("shape")?,
        dtype: obj.dtype("dtype")?,
        name,
    })
}

/// A JSON object and its path, with typed field readers whose errors name the field's path.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(value: &'a Value, path: String) -> Result<Self, IrError> {
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            _ => Err(IrError::Json {
                path,
                msg: "expected an object".into(),
            }),
        }
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    pub(crate) fn error(&self, key: &str, msg: String) -> IrError {
        IrError::Json {
            path: format!("{}.{key}", self.path),
            msg,
        }
    }

    fn required(&self, key: &str) -> Result<&'a Value, IrError> {
        self.get(key)
            .ok_or_else(|| self.error(key, "missing".into()))
    }

    /// Rejects fields outside `known` (a misspelled field must not be skipped silently).
    fn only(&self, known: &[&str]) -> Result<(), IrError> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(self.error(k, "unknown field".into())),
            None => Ok(()),
        }
    }

    pub(crate) fn str(&self, key: &str) -> Result<&'a str, IrError> {
        self.required(key)?
            .as_str()
            .ok_or_else(|| self.error(key, "expected a string".into()))
    }

    pub(crate) fn uint(&self, key: &str) -> Result<usize, IrError> {
        self.required(key)?
            .as_u64()
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| self.error(key, "expected a non-negative integer".into()))
    }

    pub(crate) fn array(&self, key: &str) -> Result<&'a Vec<Value>, IrError> {
        self.required(key)?
            .as_array()
            .ok_or_else(|| self.error(key, "expected an array".into()))
    }

    /// An array of non-negative integers.
    pub(crate) fn ids(&self, key: &str) -> Result<Vec<usize>, IrError> {
        self.array(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_u64()
                    .and_then(|v| usize::try_from(v).ok())
                    .ok_or_else(|| IrError::Json {
                        path: format!("{}.{key}[{i}]", self.path),
                        msg: "expected a non-negative integer".into(),
                    })
            })
            .collect()
    }

    pub(crate) fn shape(&self, key: &str) -> Result<Shape, IrError> {
        let shape = Shape::new(self.ids(key)?);
        if shape.checked_numel().is_none() {
            return Err(self.error(key, format!("the shape {shape} overflows")));
        }
        Ok(shape)
    }

    fn dtype(&self, key: &str) -> Result<DType, IrError> {
        let name = self.str(key)?;
        parse_dtype(name).ok_or_else(|| self.error(key, format!("unknown dtype `{name}`")))
    }
}
