//! Helpers shared by the format test files.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use strata_tensor::{DType, Tensor};

pub fn fixture_dir(format: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format)
}

/// A path in the test scratch directory, unique to this process.
pub fn scratch_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-{name}", std::process::id()))
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Bit patterns of the values (as f64), so -0.0 and NaN payloads compare exactly.
pub fn bits(t: &Tensor) -> Vec<u64> {
    t.to_vec_f64().iter().map(|v| v.to_bits()).collect()
}

/// Checks `tensor` against `{"dtype": …, "shape": […], "values": […]}` written by Python:
/// same dtype and shape, and bit-identical values (i64 compared as integers).
pub fn assert_tensor_matches(tensor: &Tensor, want: &Value, what: &str) {
    assert_eq!(tensor.dtype().name(), want["dtype"], "{what}: dtype");
    let shape: Vec<usize> = want["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(tensor.dims(), shape, "{what}: shape");
    let values = want["values"].as_array().unwrap();
    match tensor.dtype() {
        DType::I64 => {
            let want: Vec<i64> = values.iter().map(|v| v.as_i64().unwrap()).collect();
            assert_eq!(tensor.to_vec::<i64>().unwrap(), want, "{what}");
        }
        DType::Bool => {
            let want: Vec<bool> = values.iter().map(|v| v.as_bool().unwrap()).collect();
            assert_eq!(tensor.to_vec::<bool>().unwrap(), want, "{what}");
        }
        dtype => {
            let want: Vec<f64> = values.iter().map(|v| v.as_f64().unwrap()).collect();
            let want = Tensor::from_vec(want, [values.len()])
                .unwrap()
                .to_dtype(dtype)
                .unwrap();
            assert_eq!(bits(tensor), bits(&want), "{what}");
        }
    }
}

/// max |ours − want| / max(|want|, 1) over all elements: a relative error, absolute near zero
/// (infinities and NaNs must match exactly).
pub fn max_error(ours: &Tensor, want: &Tensor) -> f64 {
    assert_eq!(ours.dims(), want.dims());
    ours.to_vec_f64()
        .iter()
        .zip(want.to_vec_f64())
        .map(|(a, b)| {
            if !(a.is_finite() && b.is_finite()) {
                if *a == b || (a.is_nan() && b.is_nan()) {
                    0.0
                } else {
                    f64::INFINITY
                }
            } else {
                (a - b).abs() / b.abs().max(1.0)
            }
        })
        .fold(0.0, f64::max)
}

/// Asserts that `result` failed with a message that mentions every one of `parts`.
pub fn assert_error<T: std::fmt::Debug>(
    result: Result<T, strata_io::IoError>,
    parts: &[&str],
    what: &str,
) {
    let message = match result {
        Ok(t) => panic!("{what}: expected an error, got {t:?}"),
        Err(e) => e.to_string(),
    };
    for part in parts {
        assert!(
            message.contains(part),
            "{what}: {message:?} does not mention {part:?}"
        );
    }
}

/// One tensor of every dtype, with awkward values (signed zero, NaN, extremes, subnormals).
pub fn tensors_of_every_dtype() -> Vec<(&'static str, Tensor)> {
    vec![
        (
            "f32",
            Tensor::from_vec(
                vec![
                    0.0f32,
                    -0.0,
                    f32::NAN,
                    f32::INFINITY,
                    f32::MIN_POSITIVE / 8.0,
                    1e38,
                ],
                [2, 3],
            )
            .unwrap(),
        ),
        (
            "f64",
            Tensor::from_vec(vec![f64::MAX, -f64::MIN_POSITIVE, 0.1], [3]).unwrap(),
        ),
        (
            "i64",
            Tensor::from_vec(vec![i64::MIN, -1, 0, i64::MAX], [2, 1, 2]).unwrap(),
        ),
        (
            "bool",
            Tensor::from_vec(vec![true, false, true], [3, 1]).unwrap(),
        ),
        (
            "f16",
            Tensor::from_vec(
                vec![
                    half::f16::from_f32(-0.5),
                    half::f16::MAX,
                    half::f16::MIN_POSITIVE_SUBNORMAL,
                ],
                [3],
            )
            .unwrap(),
        ),
        (
            "bf16",
            Tensor::from_vec(
                vec![half::bf16::from_f32(3.0e38), half::bf16::from_f32(-1.0)],
                [1, 2],
            )
            .unwrap(),
        ),
        ("scalar", Tensor::scalar(2.5f32)),
        (
            "empty",
            Tensor::from_vec(Vec::<f64>::new(), [0, 4]).unwrap(),
        ),
    ]
}
