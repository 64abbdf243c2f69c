//! `Display` against PyTorch's `repr`, from committed fixtures.
//!
//! `tests/fixtures/gen_display.py` (run by hand with PyTorch installed) writes
//! `display_cases.json`: each case's shape, dtype, exact values and the string PyTorch prints.
//! Each tensor is rebuilt here contiguous and as a non-contiguous view (every element
//! interleaved with garbage along a hidden trailing axis) and must print identically.

use half::{bf16, f16};
use serde_json::Value;
use strata_tensor::{DType, Tensor};

const FIXTURES: &str = include_str!("fixtures/display_cases.json");

fn dtype_of(name: &str) -> DType {
    match name {
        "f32" => DType::F32,
        "f64" => DType::F64,
        "i64" => DType::I64,
        "bool" => DType::Bool,
        "f16" => DType::F16,
        "bf16" => DType::BF16,
        other => panic!("unknown dtype {other}"),
    }
}

/// A float written as Python's `repr` (shortest round trip), including nan/inf/-0.0.
fn float(v: &Value) -> f64 {
    v.as_str()
        .expect("floats are strings")
        .parse()
        .expect("a float repr")
}

/// Builds the tensor with element `i` of the buffer equal to `values[i]` when `interleave`
/// is false, or `values[i/2]` at odd positions (garbage at even ones) of a [.., 2] buffer
/// viewed through `narrow(-1, 1, 1).squeeze(-1)` when it is true.
fn build(dims: &[usize], dtype: DType, values: &[Value], interleave: bool) -> Tensor {
    macro_rules! typed {
        ($conv:expr, $garbage:expr) => {{
            let v: Vec<_> = values.iter().map($conv).collect();
            if interleave {
                let mut buf = Vec::with_capacity(2 * v.len());
                for x in v {
                    buf.push($garbage);
                    buf.push(x);
                }
                let mut big = dims.to_vec();
                big.push(2);
                Tensor::from_vec(buf, big)
                    .unwrap()
                    .narrow(-1, 1, 1)
                    .unwrap()
                    .squeeze(-1)
                    .unwrap()
            } else {
                Tensor::from_vec(v, dims.to_vec()).unwrap()
            }
        }};
    }
    match dtype {
        DType::F32 => typed!(|x| float(x) as f32, 1.0e30f32),
        DType::F64 => typed!(float, -7.5e-300f64),
        // Fixture values are exactly representable, so these conversions are exact.
        DType::F16 => typed!(|x| f16::from_f64(float(x)), f16::from_f64(-1000.0)),
        DType::BF16 => typed!(|x| bf16::from_f64(float(x)), bf16::from_f64(3.0e38)),
        DType::I64 => typed!(|x| x.as_i64().expect("an integer"), i64::MIN),
        DType::Bool => typed!(|x| x.as_bool().expect("a bool"), true),
    }
}

#[test]
fn display_matches_pytorch_repr() {
    let root: Value = serde_json::from_str(FIXTURES).expect("valid JSON");
    let cases = root["cases"].as_array().expect("a list of cases");
    assert!(cases.len() >= 25, "fixture has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let dims: Vec<usize> = case["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let dtype = dtype_of(case["dtype"].as_str().unwrap());
        let values = case["values"].as_array().unwrap();
        let expected = case["repr"].as_str().unwrap();
        assert_eq!(
            values.len(),
            dims.iter().product::<usize>(),
            "{name}: value count"
        );
        for interleave in [false, true] {
            let t = build(&dims, dtype, values, interleave);
            assert_eq!((t.dims(), t.dtype()), (dims.as_slice(), dtype));
            if t.numel() > 1 {
                assert_eq!(t.is_contiguous(), !interleave, "{name}: layout");
            }
            let got = format!("{t}");
            if got != expected {
                failures.push(format!(
                    "case {name} (non-contiguous: {interleave}):\n--- expected (PyTorch)\n{expected}\n--- got\n{got}\n"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn fixtures_cover_the_required_cases() {
    let root: Value = serde_json::from_str(FIXTURES).unwrap();
    let names: Vec<&str> = root["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for required in [
        "int_mode",
        "fixed_mode",
        "sci_large_ratio",
        "sci_above_1e8",
        "sci_below_1e-4",
        "nan_inf_fixed",
        "negative_zero_int",
        "f64_suffix",
        "i64",
        "bool",
        "scalar_f32",
        "empty_2d",
        "three_d",
        "wrap_1d",
        "summarize_2d",
        "summarize_3d",
        "f16",
        "bf16",
    ] {
        assert!(names.contains(&required), "fixture lacks case {required}");
    }
}
