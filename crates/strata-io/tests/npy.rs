//! NPY: files written by real NumPy (tests/fixtures, made by gen_npy.py) and round trips.

mod common;

use half::{bf16, f16};
use serde_json::Value;
use std::path::{Path, PathBuf};
use strata_io::{read_npy, read_npy_bytes, write_npy};
use strata_tensor::{DType, Tensor};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn scratch_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("npy-{}-{name}", std::process::id()))
}

#[test]
fn numpy_fixtures_read_as_expected() {
    let expected: serde_json::Map<String, Value> = serde_json::from_str(
        &std::fs::read_to_string(fixture_dir().join("expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(expected.len(), 19);
    for (file, want) in &expected {
        let tensor = read_npy(fixture_dir().join(file)).unwrap_or_else(|e| panic!("{e}"));
        // Bit equality after rounding the JSON number into the dtype; -0.0 stays negative.
        common::assert_tensor_matches(&tensor, want, file);
    }
}

/// Writes `tensor`, reads it back, and checks dtype, shape and bit-exact values.
fn assert_round_trip(name: &str, tensor: &Tensor) {
    let path = scratch_path(name);
    write_npy(&path, tensor).unwrap();
    let back = read_npy(&path).unwrap();
    assert_eq!(back.dtype(), tensor.dtype(), "{name}");
    assert_eq!(back.dims(), tensor.dims(), "{name}");
    let bits = |t: &Tensor| -> Vec<u64> { t.to_vec_f64().iter().map(|v| v.to_bits()).collect() };
    assert_eq!(bits(&back), bits(tensor), "{name}");
    if tensor.dtype() == DType::I64 {
        assert_eq!(
            back.to_vec::<i64>().unwrap(),
            tensor.to_vec::<i64>().unwrap()
        );
    }
    // NumPy aligns the data to 64 bytes; so do we.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let data_len = tensor.numel() * tensor.dtype().size_in_bytes();
    assert_eq!((bytes.len() - data_len) % 64, 0, "{name}");
}

#[test]
fn every_dtype_round_trips() {
    let special = [
        0.0,
        -0.0,
        1.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -3.25,
    ];
    let as_f32: Vec<f32> = special.iter().map(|&v| v as f32).collect();
    assert_round_trip("f32", &Tensor::from_vec(as_f32, [7]).unwrap());
    assert_round_trip("f64", &Tensor::from_vec(special.to_vec(), [7, 1]).unwrap());
    let halves: Vec<f16> = special.iter().map(|&v| f16::from_f64(v)).collect();
    assert_round_trip("f16", &Tensor::from_vec(halves, [1, 7]).unwrap());
    let ints = vec![i64::MIN, -1, 0, 1, i64::MAX, 1 << 53 | 1];
    assert_round_trip("i64", &Tensor::from_vec(ints, [2, 3]).unwrap());
    let mask = vec![true, false, false, true, true, false];
    assert_round_trip("bool", &Tensor::from_vec(mask, [3, 1, 2]).unwrap());
}

#[test]
fn scalars_empty_axes_and_large_arrays_round_trip() {
    assert_round_trip("scalar", &Tensor::scalar(2.5f64));
    assert_round_trip("scalar-bool", &Tensor::scalar(true));
    assert_round_trip("empty", &Tensor::zeros([0, 3], DType::F32).unwrap());
    assert_round_trip(
        "empty-inner",
        &Tensor::zeros([4, 0, 2], DType::I64).unwrap(),
    );
    let large: Vec<f32> = (0..1_000_003).map(|i| i as f32 * 0.5 - 7.0).collect();
    assert_round_trip("large", &Tensor::from_vec(large, [1_000_003]).unwrap());
}

#[test]
fn non_contiguous_views_write_in_row_major_order() {
    let t = Tensor::from_vec((0..6i64).collect(), [2, 3])
        .unwrap()
        .t()
        .unwrap();
    let path = scratch_path("transposed");
    write_npy(&path, &t).unwrap();
    let back = read_npy(&path).unwrap();
    assert_eq!(back.dims(), &[3, 2]);
    assert_eq!(back.to_vec::<i64>().unwrap(), vec![0, 3, 1, 4, 2, 5]);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_header_too_long_for_version_1_uses_version_2() {
    let rank = 30_000; // "1, " per axis: about 90 kB of header
    let t = Tensor::from_vec(vec![7i64], vec![1; rank]).unwrap();
    let path = scratch_path("long-header");
    write_npy(&path, &t).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[6..8], &[2, 0]);
    std::fs::remove_file(&path).unwrap();
    let back = read_npy_bytes(&bytes, "long-header").unwrap();
    assert_eq!(back.rank(), rank);
    assert_eq!(back.to_vec::<i64>().unwrap(), vec![7]);
}

#[test]
fn bf16_is_refused_by_name_and_leaves_no_file() {
    let t = Tensor::from_vec(vec![bf16::ONE], [1]).unwrap();
    let path = scratch_path("bf16.npy");
    let message = write_npy(&path, &t).unwrap_err().to_string();
    assert!(
        message.contains("bf16") && message.contains("bf16.npy"),
        "{message}"
    );
    assert!(!path.exists());
}

#[test]
fn write_replaces_an_existing_file_and_leaves_no_temporary() {
    let dir = scratch_path("dir");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.npy");
    write_npy(&path, &Tensor::scalar(1i64)).unwrap();
    write_npy(&path, &Tensor::scalar(2i64)).unwrap();
    assert_eq!(read_npy(&path).unwrap().item::<i64>().unwrap(), 2);
    let entries: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(entries.len(), 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn writes_are_byte_identical_to_numpy() {
    for file in ["f4", "f8", "i8", "b1", "f2", "scalar", "empty"] {
        let numpy_bytes = std::fs::read(fixture_dir().join(format!("{file}.npy"))).unwrap();
        let path = scratch_path(&format!("rewrite-{file}.npy"));
        write_npy(&path, &read_npy_bytes(&numpy_bytes, file).unwrap()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), numpy_bytes, "{file}");
        std::fs::remove_file(&path).unwrap();
    }
}
