//! ONNX: models written by the `onnx` package and PyTorch (tests/fixtures/onnx, made by
//! gen_onnx.py) and the VNN-COMP networks in ../shared/data/vnncomp, each decoded and compared
//! field by field with what the protobuf library read from the same file; round trips; tensor
//! conversion; hostile bytes.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::Read;
use std::path::PathBuf;
use strata_io::onnx::{
    data_type, read_onnx, tensor_from_proto, tensor_to_proto, AttributeProto, DimValue, GraphProto,
    ModelProto, NodeProto, StringStringEntryProto, TensorProto, TypeProto, TypeValue,
    ValueInfoProto,
};

// ---------- the summary gen_onnx.py writes, computed from our structs ----------

fn fnv(bytes: impl IntoIterator<Item = u8>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

fn packed<T, const N: usize>(values: &[T], le: impl Fn(&T) -> [u8; N]) -> Value {
    json!({"count": values.len(), "fnv": fnv(values.iter().flat_map(le))})
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn pairs(entries: &[StringStringEntryProto]) -> Value {
    entries.iter().map(|e| json!([e.key, e.value])).collect()
}

fn tensor(t: &TensorProto) -> Value {
    json!({
        "name": t.name,
        "doc_string": t.doc_string,
        "data_type": t.data_type,
        "dims": t.dims,
        "segment": t.segment.as_ref().map(|s| json!([s.begin, s.end])),
        "raw_data": {"count": t.raw_data.len(), "fnv": fnv(t.raw_data.iter().copied())},
        "float_data": packed(&t.float_data, |v| v.to_le_bytes()),
        "int32_data": packed(&t.int32_data, |v| v.to_le_bytes()),
        "int64_data": packed(&t.int64_data, |v| v.to_le_bytes()),
        "double_data": packed(&t.double_data, |v| v.to_le_bytes()),
        "uint64_data": packed(&t.uint64_data, |v| v.to_le_bytes()),
        "string_data": t.string_data.iter().map(|s| hex(s)).collect::<Vec<_>>(),
        "external_data": pairs(&t.external_data),
        "data_location": t.data_location,
        "metadata_props": pairs(&t.metadata_props),
    })
}

fn tensor_type(t: &strata_io::onnx::TensorTypeProto) -> Value {
    let shape = t.shape.as_ref().map(|s| {
        s.dim
            .iter()
            .map(|d| {
                let (kind, value) = match &d.value {
                    DimValue::Value(v) => ("dim_value", json!(v)),
                    DimValue::Param(p) => ("dim_param", json!(p)),
                    DimValue::Unknown => ("unknown", Value::Null),
                };
                json!({"kind": kind, "value": value, "denotation": d.denotation})
            })
            .collect::<Vec<_>>()
    });
    json!({"elem_type": t.elem_type, "shape": shape})
}

fn typ(t: &TypeProto) -> Value {
    let elem = |e: &strata_io::onnx::ElemTypeProto| e.elem_type.as_ref().map(typ);
    let (case, value) = match &t.value {
        None => (None, Value::Null),
        Some(TypeValue::Tensor(t)) => (Some("tensor_type"), tensor_type(t)),
        Some(TypeValue::SparseTensor(t)) => (Some("sparse_tensor_type"), tensor_type(t)),
        Some(TypeValue::Sequence(e)) => (Some("sequence_type"), json!(elem(e))),
        Some(TypeValue::Optional(e)) => (Some("optional_type"), json!(elem(e))),
        Some(TypeValue::Map(m)) => (
            Some("map_type"),
            json!({"key_type": m.key_type, "value_type": m.value_type.as_ref().map(typ)}),
        ),
    };
    json!({"case": case, "value": value, "denotation": t.denotation})
}

fn attribute(a: &AttributeProto) -> Value {
    json!({
        "name": a.name, "ref_attr_name": a.ref_attr_name, "doc_string": a.doc_string,
        "type": a.r#type, "f": f64::from(a.f.unwrap_or(0.0)), "i": a.i.unwrap_or(0),
        "s": hex(a.s.as_deref().unwrap_or_default()),
        "t": a.t.as_ref().map(tensor),
        "g": a.g.as_ref().map(graph),
        "tp": a.tp.as_ref().map(typ),
        "floats": a.floats.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
        "ints": a.ints,
        "strings": a.strings.iter().map(|s| hex(s)).collect::<Vec<_>>(),
        "tensors": a.tensors.iter().map(tensor).collect::<Vec<_>>(),
        "graphs": a.graphs.iter().map(graph).collect::<Vec<_>>(),
        "type_protos": a.type_protos.iter().map(typ).collect::<Vec<_>>(),
    })
}

fn value_info(v: &ValueInfoProto) -> Value {
    json!({"name": v.name, "doc_string": v.doc_string, "type": v.r#type.as_ref().map(typ),
           "metadata_props": pairs(&v.metadata_props)})
}

fn node(n: &NodeProto) -> Value {
    json!({"name": n.name, "op_type": n.op_type, "domain": n.domain, "overload": n.overload,
           "doc_string": n.doc_string, "input": n.input, "output": n.output,
           "attribute": n.attribute.iter().map(attribute).collect::<Vec<_>>(),
           "metadata_props": pairs(&n.metadata_props)})
}

fn graph(g: &GraphProto) -> Value {
    json!({"name": g.name, "doc_string": g.doc_string,
           "node": g.node.iter().map(node).collect::<Vec<_>>(),
           "initializer": g.initializer.iter().map(tensor).collect::<Vec<_>>(),
           "input": g.input.iter().map(value_info).collect::<Vec<_>>(),
           "output": g.output.iter().map(value_info).collect::<Vec<_>>(),
           "value_info": g.value_info.iter().map(value_info).collect::<Vec<_>>(),
           "metadata_props": pairs(&g.metadata_props)})
}

fn summary(m: &ModelProto) -> Value {
    prune(json!({
        "ir_version": m.ir_version, "producer_name": m.producer_name,
        "producer_version": m.producer_version, "domain": m.domain,
        "model_version": m.model_version, "doc_string": m.doc_string,
        "opset_import": m.opset_import.iter().map(|o| json!([o.domain, o.version])).collect::<Vec<_>>(),
        "metadata_props": pairs(&m.metadata_props),
        "graph": m.graph.as_ref().map(graph),
    }))
}

/// gen_onnx.py's `prune`: drops "", [], null and empty data fields.
fn prune(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| {
                    !(v == ""
                        || v == &json!([])
                        || v.is_null()
                        || v.get("count") == Some(&json!(0)))
                })
                .map(|(k, v)| (k, prune(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(prune).collect()),
        other => other,
    }
}

/// The first difference between two JSON values, as a path and both sides.
fn first_difference(got: &Value, want: &Value, path: &str) -> Option<String> {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => {
            for key in g.keys().chain(w.keys()) {
                let sub = format!("{path}.{key}");
                match (g.get(key), w.get(key)) {
                    (Some(a), Some(b)) => {
                        if let Some(d) = first_difference(a, b, &sub) {
                            return Some(d);
                        }
                    }
                    (a, b) => return Some(format!("{sub}: ours {a:?}, protobuf's {b:?}")),
                }
            }
            None
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => g
            .iter()
            .zip(w)
            .enumerate()
            .find_map(|(i, (a, b))| first_difference(a, b, &format!("{path}[{i}]"))),
        (a, b) if a == b => None,
        (a, b) => Some(format!("{path}: ours {a}, protobuf's {b}")),
    }
}

fn assert_same_summary(model: &ModelProto, want: &Value, file: &str) {
    if let Some(d) = first_difference(&summary(model), want, "model") {
        panic!("{file}: {d}");
    }
}

/// Decoding the encoding gives the same model, and encoding is a fixed point.
fn assert_round_trip(model: &ModelProto, file: &str) -> Vec<u8> {
    let bytes = model.encode();
    let back = ModelProto::decode(&bytes, file).unwrap_or_else(|e| panic!("{e}"));
    assert!(back == *model, "{file}: decode(encode(model)) differs");
    assert_eq!(
        back.encode(),
        bytes,
        "{file}: encoding is not a fixed point"
    );
    bytes
}

// ---------- fixtures ----------

#[test]
fn onnx_package_fixtures_decode_as_protobuf_reads_them() {
    let dir = fixture_dir("onnx");
    let expected = read_json(&dir.join("expected.json"));
    let expected = expected.as_object().unwrap();
    assert_eq!(expected.len(), 2);
    for (file, want) in expected {
        let model = read_onnx(dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
        assert_same_summary(&model, &want["summary"], file);
        let bytes = assert_round_trip(&model, file);
        let original = std::fs::read(dir.join(file)).unwrap();
        if file == "torch_cnn.onnx" {
            // PyTorch writes no explicit default values, so the encoding is byte-identical.
            assert_eq!(bytes, original, "{file}: re-encoding is not byte-identical");
        }
        let graph = model.graph.as_ref().unwrap();
        let values = want["values"].as_object().unwrap();
        let mut converted = 0;
        for init in &graph.initializer {
            match values.get(&init.name) {
                Some(v) => {
                    let t = tensor_from_proto(init, file).unwrap_or_else(|e| panic!("{e}"));
                    assert_tensor_matches(&t, v, &format!("{file}: {}", init.name));
                    converted += 1;
                }
                None => assert_error(
                    tensor_from_proto(init, file),
                    &[
                        file,
                        &format!("tensor {:?}", init.name),
                        "data type STRING is not supported",
                    ],
                    &init.name,
                ),
            }
        }
        assert_eq!(converted, values.len(), "{file}");
    }
}

#[test]
fn external_data_is_refused_with_a_remedy() {
    let path = fixture_dir("onnx").join("external_data.onnx");
    let model = read_onnx(&path).unwrap();
    let weight = &model.graph.as_ref().unwrap().initializer[0];
    assert_eq!(weight.data_location, 1);
    assert_error(
        tensor_from_proto(weight, "external_data.onnx"),
        &[
            "external_data.onnx",
            "tensor \"weight\"",
            "stored as external data (in \"external_data.bin\")",
            "save_as_external_data=False",
        ],
        "external",
    );
}

fn vnncomp_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("STRATA_VNNCOMP_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vnncomp"),
    };
    dir.is_dir().then_some(dir)
}

#[test]
fn vnncomp_networks_decode_as_protobuf_reads_them() {
    let Some(dir) = vnncomp_dir() else {
        println!("skipped: no VNN-COMP data at ../shared/data/vnncomp (set STRATA_VNNCOMP_DIR)");
        return;
    };
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(fixture_dir("onnx").join("vnncomp_expected.json.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let expected: serde_json::Map<String, Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(expected.len(), 24);
    let (mut identical, mut checked) = (0, 0);
    for (file, want) in &expected {
        let path = dir.join(file);
        if !path.exists() {
            println!("skipped {file}: missing");
            continue;
        }
        let model = read_onnx(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_same_summary(&model, want, file);
        let bytes = assert_round_trip(&model, file);
        identical += usize::from(bytes == std::fs::read(&path).unwrap());
        checked += 1;
        // Every initializer converts, with the element count its dims declare.
        for init in &model.graph.as_ref().unwrap().initializer {
            let t = tensor_from_proto(init, file).unwrap_or_else(|e| panic!("{e}"));
            let dims: Vec<usize> = init.dims.iter().map(|&d| d as usize).collect();
            assert_eq!(t.dims(), dims, "{file}: {}", init.name);
        }
    }
    println!("{checked} VNN-COMP networks decoded; {identical} re-encode byte-identically");
    assert_eq!(checked, 24);
}

// ---------- tensors ----------

#[test]
fn every_dtype_converts_both_ways() {
    for (name, t) in tensors_of_every_dtype() {
        let proto = tensor_to_proto(name, &t).unwrap();
        assert_eq!(proto.data_type, data_type::from_dtype(t.dtype()));
        let bytes = proto.encode();
        let back = tensor_from_proto(&TensorProto::decode(&bytes, name).unwrap(), name).unwrap();
        assert_eq!(back.dtype(), t.dtype(), "{name}");
        assert_eq!(back.dims(), t.dims(), "{name}");
        assert_eq!(bits(&back), bits(&t), "{name}");
    }
}

fn proto(data_type: i32, dims: &[i64]) -> TensorProto {
    TensorProto {
        name: "w".into(),
        data_type,
        dims: dims.to_vec(),
        ..TensorProto::default()
    }
}

#[test]
fn malformed_tensors_are_reported() {
    let with = |f: &dyn Fn(&mut TensorProto), t: TensorProto| {
        let mut t = t;
        f(&mut t);
        t
    };
    let cases: Vec<(&str, TensorProto, &str)> = vec![
        (
            "negative",
            with(
                &|t| t.float_data = vec![0.0],
                proto(data_type::FLOAT, &[-1]),
            ),
            "dimension -1 is negative",
        ),
        (
            "overflow",
            proto(data_type::FLOAT, &[1 << 40, 1 << 40]),
            "more elements than memory can address",
        ),
        (
            "undefined",
            proto(data_type::UNDEFINED, &[1]),
            "data_type is UNDEFINED (0)",
        ),
        (
            "unknown-type",
            proto(99, &[1]),
            "data_type 99 is not an ONNX data type",
        ),
        (
            "uint64",
            proto(data_type::UINT64, &[1]),
            "UINT64 is not supported (its values need not fit i64)",
        ),
        (
            "float8",
            proto(data_type::FLOAT8E4M3FN, &[1]),
            "data type FLOAT8E4M3FN is not supported",
        ),
        (
            "complex",
            proto(data_type::COMPLEX64, &[1]),
            "data type COMPLEX64 is not supported",
        ),
        (
            "no-values",
            proto(data_type::FLOAT, &[2]),
            "holds no values, but dims [2] need 2",
        ),
        (
            "raw-short",
            with(&|t| t.raw_data = vec![0; 7], proto(data_type::FLOAT, &[2])),
            "raw_data holds 7 bytes, but dims [2] of FLOAT need 8",
        ),
        // Dims that claim 2^40 elements over 8 bytes: refused before any allocation.
        (
            "raw-lying",
            with(
                &|t| t.raw_data = vec![0; 8],
                proto(data_type::DOUBLE, &[1 << 40]),
            ),
            "raw_data holds 8 bytes, but dims [1099511627776] of DOUBLE need 8796093022208",
        ),
        (
            "typed-count",
            with(
                &|t| t.float_data = vec![1.0; 3],
                proto(data_type::FLOAT, &[2, 2]),
            ),
            "float_data holds 3 values, but dims [2, 2] need 4",
        ),
        (
            "wrong-field",
            with(&|t| t.float_data = vec![1.0], proto(data_type::INT64, &[1])),
            "data type INT64 stores its values in int64_data or raw_data, not float_data",
        ),
        (
            "two-fields",
            with(
                &|t| {
                    t.float_data = vec![1.0];
                    t.raw_data = vec![0; 4];
                },
                proto(data_type::FLOAT, &[1]),
            ),
            "holds values in both raw_data and float_data",
        ),
        (
            "int8-range",
            with(
                &|t| t.int32_data = vec![5, 200],
                proto(data_type::INT8, &[2]),
            ),
            "int32_data[1] is 200, out of range for INT8",
        ),
        (
            "bool-range",
            with(&|t| t.int32_data = vec![2], proto(data_type::BOOL, &[1])),
            "int32_data[0] is 2, out of range for BOOL",
        ),
        (
            "f16-range",
            with(
                &|t| t.int32_data = vec![-1],
                proto(data_type::FLOAT16, &[1]),
            ),
            "int32_data[0] is -1, out of range for FLOAT16",
        ),
        (
            "uint32-range",
            with(
                &|t| t.uint64_data = vec![1 << 32],
                proto(data_type::UINT32, &[1]),
            ),
            "uint64_data[0] is 4294967296, out of range for UINT32",
        ),
        (
            "bool-raw",
            with(&|t| t.raw_data = vec![1, 3], proto(data_type::BOOL, &[2])),
            "raw_data byte 1: bool byte is 3, not 0 or 1",
        ),
        (
            "segment",
            with(
                &|t| t.segment = Some(Default::default()),
                proto(data_type::FLOAT, &[0]),
            ),
            "segmented tensors are not supported",
        ),
        (
            "location",
            with(&|t| t.data_location = 7, proto(data_type::FLOAT, &[0])),
            "data_location 7 is neither DEFAULT (0) nor EXTERNAL (1)",
        ),
    ];
    for (name, t, problem) in cases {
        assert_error(
            tensor_from_proto(&t, name),
            &[name, "tensor \"w\"", problem],
            name,
        );
    }
    // Typed values of the narrow types and 16-bit floats, read from int32_data.
    let f16_bits = with(
        &|t| t.int32_data = vec![0x3c00, 0xc000],
        proto(data_type::FLOAT16, &[2]),
    );
    let f16 = tensor_from_proto(&f16_bits, "f16").unwrap();
    assert_eq!(f16.to_vec_f64(), [1.0, -2.0]);
    let bf16_bits = with(
        &|t| t.int32_data = vec![0x3f80],
        proto(data_type::BFLOAT16, &[]),
    );
    assert_eq!(
        tensor_from_proto(&bf16_bits, "bf16").unwrap().to_vec_f64(),
        [1.0]
    );
}

// ---------- hostile bytes ----------

/// A varint.
fn varint(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

/// A length-delimited field.
fn field(number: u32, body: &[u8]) -> Vec<u8> {
    let mut out = varint(u64::from(number) << 3 | 2);
    out.extend(varint(body.len() as u64));
    out.extend_from_slice(body);
    out
}

fn varint_field(number: u32, v: u64) -> Vec<u8> {
    let mut out = varint(u64::from(number) << 3);
    out.extend(varint(v));
    out
}

#[test]
fn hostile_bytes_are_reported_with_offset_and_field_path() {
    // ModelProto.graph(7).node(1)[0].attribute(5)[0].t(5).raw_data(9) with a lying length.
    let mut lying_raw = varint(9 << 3 | 2);
    lying_raw.extend(varint(1 << 40));
    let deep_tensor = field(7, &field(1, &field(5, &field(5, &lying_raw))));
    // Graphs nested 60 deep through node.attribute.g: 180 messages, deeper than the limit.
    let mut nested = Vec::new();
    for _ in 0..60 {
        nested = field(1, &field(5, &field(6, &nested)));
    }
    let nested = field(7, &nested);
    let second_node = [field(
        7,
        &[
            field(1, b"").as_slice(),
            &field(1, &field(4, &[0xff, 0xfe])),
        ]
        .concat(),
    )]
    .concat();
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "lying-length",
            field(7, &[])
                .into_iter()
                .take(1)
                .chain(varint(1000))
                .collect(),
            "byte 0 (ModelProto)",
            "field 7: length 1000 runs past the end of its enclosing message (0 bytes left)",
        ),
        (
            "deep-lying",
            deep_tensor,
            "(ModelProto.graph.node[0].attribute[0].t)",
            "field 9: length 1099511627776 runs past the end",
        ),
        (
            "truncated-varint",
            vec![0x08, 0x80, 0x80],
            "byte 1 (ModelProto)",
            "truncated varint",
        ),
        (
            "varint-overflow",
            [vec![0x08], vec![0xff; 9], vec![0x02]].concat(),
            "byte 1 (ModelProto)",
            "varint overflows 64 bits",
        ),
        (
            "field-zero",
            vec![0x00, 0x00],
            "byte 0 (ModelProto)",
            "invalid field number 0",
        ),
        (
            "group",
            vec![0x0b],
            "byte 0 (ModelProto)",
            "field 1: group wire types (3, 4) are not supported",
        ),
        (
            "wire-type-7",
            vec![0x0f],
            "byte 0 (ModelProto)",
            "invalid wire type 7",
        ),
        (
            "wrong-wire",
            field(1, b"x"),
            "byte 0 (ModelProto.ir_version)",
            "field 1 has wire type length-delimited (2), expected varint (0)",
        ),
        (
            "fixed-truncated",
            vec![0x15, 0x00],
            "byte 0 (ModelProto)",
            "truncated 4-byte value",
        ),
        (
            "bad-utf8",
            second_node,
            "byte 8 (ModelProto.graph.node[1].op_type)",
            "string is not valid UTF-8",
        ),
        (
            "nested",
            nested,
            "(ModelProto.graph.node[0].attribute[0].g.node[0].attribute[0].g",
            "messages nest deeper than 100 levels",
        ),
        (
            "int32-range",
            field(7, &field(5, &varint_field(2, 1 << 40))),
            "(ModelProto.graph.initializer[0].data_type)",
            "1099511627776 is out of int32 range",
        ),
        (
            "packed-odd",
            field(7, &field(5, &field(4, &[0; 6]))),
            "(ModelProto.graph.initializer[0].float_data)",
            "packed length 6 is not a multiple of 4",
        ),
        (
            "packed-int32",
            field(7, &field(5, &field(5, &varint(1 << 33)))),
            "(ModelProto.graph.initializer[0].int32_data)",
            "value 8589934592 is out of range",
        ),
        (
            "packed-truncated",
            field(7, &field(5, &field(7, &[0x80]))),
            "(ModelProto.graph.initializer[0].int64_data)",
            "truncated varint",
        ),
    ];
    for (name, bytes, place, problem) in cases {
        assert_error(
            ModelProto::decode(&bytes, name),
            &[name, place, problem],
            name,
        );
    }
}

#[test]
fn every_truncation_of_a_real_model_is_an_error_or_a_prefix_model() {
    // Cutting a file anywhere either ends inside a field (an error naming an offset) or exactly
    // between top-level fields (a valid, smaller model). Never a panic.
    let bytes = std::fs::read(fixture_dir("onnx").join("all_fields.onnx")).unwrap();
    let mut errors = 0;
    for cut in 0..bytes.len() {
        match ModelProto::decode(&bytes[..cut], "cut.onnx") {
            Ok(_) => {}
            Err(e) => {
                let message = e.to_string();
                assert!(message.starts_with("cut.onnx: byte "), "{message}");
                errors += 1;
            }
        }
    }
    assert!(errors > bytes.len() * 9 / 10, "{errors} of {}", bytes.len());
}

#[test]
fn protobuf_merge_rules_hold() {
    // Two `graph` fields merge; repeated ints arrive packed and unpacked; a repeated scalar keeps
    // its last value; a dim_value of 0 survives a round trip; unknown fields are written back.
    let mut bytes = field(7, &field(2, b"first"));
    bytes.extend(field(7, &field(1, &field(4, b"Relu"))));
    bytes.extend(varint_field(1, 3));
    bytes.extend(varint_field(1, 9));
    bytes.extend(varint_field(99, 5));
    let attr = [
        field(8, &[varint(1), varint(2)].concat()),
        varint_field(8, 3),
    ]
    .concat();
    bytes.extend(field(7, &field(1, &field(5, &attr))));
    let model = ModelProto::decode(&bytes, "merge").unwrap();
    assert_eq!(model.ir_version, 9);
    let graph = model.graph.as_ref().unwrap();
    assert_eq!(graph.name, "first");
    assert_eq!(graph.node.len(), 2);
    assert_eq!(graph.node[1].attribute[0].ints, [1, 2, 3]);
    assert_eq!(model.unknown.len(), 1);
    let again = ModelProto::decode(&model.encode(), "again").unwrap();
    assert_eq!(again, model);

    let zero = strata_io::onnx::TensorShapeProto {
        dim: vec![strata_io::onnx::Dimension {
            value: DimValue::Value(0),
            ..Default::default()
        }],
        ..Default::default()
    };
    let back = strata_io::onnx::TensorShapeProto::decode(&zero.encode(), "dim").unwrap();
    assert_eq!(back.dim[0].value, DimValue::Value(0));
}
