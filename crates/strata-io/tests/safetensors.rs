//! safetensors: files written by the real `safetensors` package (tests/fixtures/safetensors,
//! made by gen_safetensors.py), round trips, and hostile headers.

mod common;

use common::*;
use std::collections::BTreeMap;
use strata_io::{
    read_safetensors, read_safetensors_bytes, read_safetensors_header, safetensors_bytes,
    write_safetensors, SafetensorsDType,
};
use strata_tensor::Tensor;

#[test]
fn python_fixtures_read_as_expected() {
    let dir = fixture_dir("safetensors");
    let expected = read_json(&dir.join("expected.json"));
    let expected = expected.as_object().unwrap();
    assert_eq!(expected.len(), 3);
    for (file, want) in expected {
        let path = dir.join(file);
        let mapped = read_safetensors(&path).unwrap_or_else(|e| panic!("{e}"));
        let in_memory = read_safetensors_bytes(&std::fs::read(&path).unwrap(), file).unwrap();
        let want_tensors = want["tensors"].as_object().unwrap();
        for loaded in [&mapped, &in_memory] {
            let names: Vec<&String> = loaded.tensors.keys().collect();
            let want_names: Vec<&String> = want_tensors.keys().collect();
            assert_eq!(names, want_names, "{file}");
            for (name, tensor) in &loaded.tensors {
                assert_tensor_matches(tensor, &want_tensors[name], &format!("{file}: {name}"));
            }
            let metadata: BTreeMap<String, String> =
                serde_json::from_value(want["metadata"].clone()).unwrap();
            assert_eq!(loaded.metadata, metadata, "{file}");
        }
    }
}

#[test]
fn unsupported_dtypes_are_listed_then_refused_by_name() {
    let dir = fixture_dir("safetensors");
    for (file, tensor, dtype, reason) in [
        (
            "unsupported_u64.safetensors",
            "big",
            SafetensorsDType::U64,
            "need not fit i64",
        ),
        (
            "unsupported_f8.safetensors",
            "q",
            SafetensorsDType::F8E4M3,
            "8-, 6- or 4-bit",
        ),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let header = read_safetensors_header(&bytes, file).unwrap();
        assert_eq!(header.tensors[tensor].dtype, dtype);
        assert_eq!(header.tensors[tensor].shape.len(), 1);
        let expected = format!(
            "tensor \"{tensor}\": dtype {} is not supported",
            dtype.name()
        );
        assert_error(
            read_safetensors(dir.join(file)),
            &[file, &expected, reason],
            file,
        );
    }
}

#[test]
fn every_dtype_round_trips_through_a_file() {
    let tensors: BTreeMap<String, Tensor> = tensors_of_every_dtype()
        .into_iter()
        .map(|(n, t)| (format!("layer.{n}"), t))
        .collect();
    let metadata = BTreeMap::from([
        ("format".to_owned(), "pt".to_owned()),
        ("quote\"d".to_owned(), "line\nbreak".to_owned()),
    ]);
    let path = scratch_path("round-trip.safetensors");
    write_safetensors(&path, &tensors, &metadata).unwrap();
    let back = read_safetensors(&path).unwrap();
    assert_eq!(back.metadata, metadata);
    assert_eq!(back.tensors.len(), tensors.len());
    for (name, tensor) in &tensors {
        let got = &back.tensors[name];
        assert_eq!(got.dtype(), tensor.dtype(), "{name}");
        assert_eq!(got.dims(), tensor.dims(), "{name}");
        assert_eq!(bits(got), bits(tensor), "{name}");
    }
    // The layout the Python package uses: the data starts 8-byte aligned, offsets are
    // consecutive (here in name order).
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let header = read_safetensors_header(&bytes, "written").unwrap();
    assert_eq!(header.data_start % 8, 0);
    let mut end = 0;
    for info in header.tensors.values() {
        assert_eq!(info.data_offsets.0, end);
        end = info.data_offsets.1;
    }
    assert_eq!(header.data_start + end, bytes.len());
    // Strided views are written in row-major order.
    let view = Tensor::from_vec((0..6).map(|v| v as f32).collect(), [2, 3])
        .unwrap()
        .permute(&[1, 0])
        .unwrap();
    let one = BTreeMap::from([("t".to_owned(), view.clone())]);
    let bytes = safetensors_bytes(&one, &BTreeMap::new(), "view").unwrap();
    let back = read_safetensors_bytes(&bytes, "view").unwrap();
    assert_eq!(
        back.tensors["t"].to_vec::<f32>().unwrap(),
        [0., 3., 1., 4., 2., 5.]
    );
    assert_eq!(back.tensors["t"].dims(), [3, 2]);
}

#[test]
fn writing_refuses_the_reserved_name_and_leaves_no_temporary_file() {
    let dir = scratch_path("st-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.safetensors");
    let reserved = BTreeMap::from([("__metadata__".to_owned(), Tensor::scalar(1.0f32))]);
    assert_error(
        write_safetensors(&path, &reserved, &BTreeMap::new()),
        &["bad.safetensors", "reserved"],
        "reserved name",
    );
    assert!(!path.exists());
    let ok = BTreeMap::from([("w".to_owned(), Tensor::scalar(1.0f32))]);
    write_safetensors(&path, &ok, &BTreeMap::new()).unwrap();
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(
        entries.len(),
        1,
        "only the file itself, no temporary left behind"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn file_errors_name_the_path() {
    let missing = scratch_path("no-such.safetensors");
    assert_error(
        read_safetensors(&missing),
        &["no-such.safetensors", "cannot open"],
        "missing",
    );
    let empty = scratch_path("empty.safetensors");
    std::fs::write(&empty, b"").unwrap();
    assert_error(
        read_safetensors(&empty),
        &[
            "empty.safetensors",
            "byte 0 (header length)",
            "file ends after 0 bytes",
        ],
        "empty",
    );
    std::fs::remove_file(&empty).unwrap();
}

/// A safetensors file with header text `header` (unpadded) followed by `data`.
fn st(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

fn f32_entry(name: &str, shape: &str, begin: usize, end: usize) -> String {
    format!(r#""{name}":{{"dtype":"F32","shape":{shape},"data_offsets":[{begin},{end}]}}"#)
}

#[test]
fn hostile_headers_are_reported() {
    let eight = [0u8; 8];
    let one = |entry: String| st(&format!("{{{entry}}}"), &eight);
    let a = f32_entry("a", "[2]", 0, 8);
    let mut lying_length = st("{}", &[]);
    lying_length[..8].copy_from_slice(&1000u64.to_le_bytes());
    let mut huge_length = st("{}", &[]);
    huge_length[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    let mut not_utf8 = st(r#"{"a\u00e9":1}"#, &[]);
    not_utf8[12] = 0xff;
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "short",
            vec![1, 0, 0],
            "byte 0 (header length)",
            "file ends after 3 bytes",
        ),
        (
            "lying-length",
            lying_length,
            "byte 0 (header length)",
            "header length 1000 runs past the end of the 10-byte file",
        ),
        (
            "huge-length",
            huge_length,
            "byte 0 (header length)",
            "exceeds safetensors' limit",
        ),
        (
            "array",
            st("[]", &[]),
            "byte 8 (header)",
            "does not start with '{'",
        ),
        (
            "bad-json",
            st(r#"{"a": }"#, &[]),
            "byte 14 (header)",
            "invalid JSON: expected value",
        ),
        ("not-utf8", not_utf8, "(header)", "invalid JSON"),
        (
            "trailing-json",
            st(r#"{} {}"#, &[]),
            "byte 11 (header)",
            "trailing characters",
        ),
        (
            "entry-number",
            one(r#""a":1"#.into()),
            "header entry \"a\"",
            "is a number, not an object",
        ),
        (
            "missing-dtype",
            one(r#""a":{"shape":[2],"data_offsets":[0,8]}"#.into()),
            "header entry \"a\", field 'dtype'",
            "is missing",
        ),
        (
            "extra-key",
            one(r#""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":0}"#.into()),
            "header entry \"a\"",
            "unexpected key \"x\"",
        ),
        (
            "field-twice",
            one(r#""a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}"#.into()),
            "field 'dtype'",
            "appears twice",
        ),
        (
            "unknown-dtype",
            one(r#""a":{"dtype":"F128","shape":[2],"data_offsets":[0,8]}"#.into()),
            "field 'dtype'",
            "unknown dtype \"F128\"",
        ),
        (
            "dtype-number",
            one(r#""a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}"#.into()),
            "field 'dtype'",
            "is a number, not a string",
        ),
        (
            "negative-dim",
            one(f32_entry("a", "[-2]", 0, 8)),
            "field 'shape'",
            "entry 0 (-2) is not a non-negative integer",
        ),
        (
            "float-dim",
            one(f32_entry("a", "[2.0]", 0, 8)),
            "field 'shape'",
            "entry 0 (2.0) is not a non-negative integer",
        ),
        (
            "shape-object",
            one(f32_entry("a", "{}", 0, 8)),
            "field 'shape'",
            "is an object, not an array",
        ),
        (
            "three-offsets",
            one(r#""a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}"#.into()),
            "field 'data_offsets'",
            "has 3 entries, not 2",
        ),
        (
            "backwards",
            one(f32_entry("a", "[2]", 8, 0)),
            "field 'data_offsets'",
            "[8, 0] ends before it begins",
        ),
        (
            "wrong-size",
            one(f32_entry("a", "[3]", 0, 8)),
            "field 'data_offsets'",
            "[0, 8] spans 8 bytes, but shape [3] of F32 needs 12",
        ),
        (
            "wrong-dtype-size",
            one(r#""a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}"#.into()),
            "header entry \"a\", field 'data_offsets'",
            "shape [2] of F64 needs 16",
        ),
        (
            "overflow",
            one(f32_entry("a", "[4294967296,4294967296]", 0, 8)),
            "field 'shape'",
            "not a whole number of bytes that memory can address",
        ),
        (
            "half-byte",
            one(r#""a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}"#.into()),
            "field 'shape'",
            "[3] of F4 is not a whole number of bytes",
        ),
        (
            "gap",
            st(
                &format!(
                    "{{{},{}}}",
                    f32_entry("a", "[1]", 0, 4),
                    f32_entry("b", "[1]", 8, 12)
                ),
                &[0; 12],
            ),
            "header entry \"b\", field 'data_offsets'",
            "gap: the data from the end of tensor \"a\" (4) to 8 belongs to no tensor",
        ),
        (
            "gap-at-start",
            one(f32_entry("a", "[1]", 4, 8)),
            "header entry \"a\"",
            "gap: the data from the start of the data (0) to 4",
        ),
        (
            "overlap",
            st(
                &format!(
                    "{{{},{}}}",
                    f32_entry("a", "[2]", 0, 8),
                    f32_entry("b", "[2]", 4, 12)
                ),
                &[0; 12],
            ),
            "header entry \"b\", field 'data_offsets'",
            "[4, 12] overlaps the data before the end of tensor \"a\" (8)",
        ),
        (
            "trailing-data",
            st(&format!("{{{}}}", f32_entry("a", "[1]", 0, 4)), &eight),
            "byte 66 (data)",
            "4 bytes of trailing data belong to no tensor",
        ),
        (
            "truncated",
            st(&format!("{{{}}}", f32_entry("a", "[4]", 0, 16)), &eight),
            "byte 71 (data)",
            "truncated: the tensors need 16 data bytes, the file holds 8",
        ),
        // 2^40 f32 declared over 8 present bytes: refused before any allocation.
        (
            "lying-shape",
            one(f32_entry("a", "[1099511627776]", 0, 4398046511104)),
            "(data)",
            "truncated: the tensors need 4398046511104 data bytes, the file holds 8",
        ),
        (
            "name-twice",
            st(&format!("{{{a},{a}}}"), &eight),
            "header entry \"a\"",
            "appears twice",
        ),
        (
            "metadata-twice",
            st(
                &format!(r#"{{"__metadata__":{{}},"__metadata__":{{}},{a}}}"#),
                &eight,
            ),
            "header entry \"__metadata__\"",
            "appears twice",
        ),
        (
            "metadata-number",
            st(&format!(r#"{{"__metadata__":{{"k":1}},{a}}}"#), &eight),
            "header entry \"__metadata__\", field 'k'",
            "is a number, not a string",
        ),
        (
            "metadata-key-twice",
            st(
                &format!(r#"{{"__metadata__":{{"k":"1","k":"2"}},{a}}}"#),
                &eight,
            ),
            "field 'k'",
            "appears twice",
        ),
        (
            "metadata-array",
            st(&format!(r#"{{"__metadata__":[],{a}}}"#), &eight),
            "header entry \"__metadata__\"",
            "is an array, not an object of strings",
        ),
        (
            "bool-byte",
            st(
                r#"{"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}"#,
                &[1, 0, 2],
            ),
            "byte 65 (tensor \"m\" data)",
            "bool byte is 2, not 0 or 1",
        ),
    ];
    for (name, bytes, place, problem) in cases {
        assert_error(
            read_safetensors_bytes(&bytes, name),
            &[name, place, problem],
            name,
        );
    }
}

#[test]
fn padding_and_empty_tensors_are_accepted() {
    // Spaces after the JSON (the Python writer's padding), empty tensors at shared offsets.
    let header = format!(
        "{{{},{},{}}}    ",
        f32_entry("e1", "[0]", 0, 0),
        f32_entry("a", "[1]", 0, 4),
        f32_entry("e2", "[2,0]", 4, 4)
    );
    let loaded = read_safetensors_bytes(&st(&header, &1.5f32.to_le_bytes()), "pad").unwrap();
    assert_eq!(loaded.tensors["a"].to_vec::<f32>().unwrap(), [1.5]);
    assert_eq!(loaded.tensors["e2"].dims(), [2, 0]);
    assert!(loaded.metadata.is_empty());
}
