//! CSV: tables written by Python's csv module and numpy.savetxt (tests/fixtures/csv, made by
//! gen_csv.py), correct rounding, round trips, and malformed tables.

mod common;

use common::*;
use serde_json::Value;
use strata_io::{read_csv, read_csv_bytes, write_csv, CsvOptions, LabelColumn};
use strata_tensor::{DType, Tensor};

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn python_tables_read_as_expected() {
    let dir = fixture_dir("csv");
    let expected = read_json(&dir.join("expected.json"));
    let header = CsvOptions {
        header: true,
        label: Some(LabelColumn::Name("species".into())),
        ..CsvOptions::default()
    };
    let savetxt = CsvOptions {
        label: Some(LabelColumn::Last),
        ..CsvOptions::default()
    };
    let commented = CsvOptions {
        comment: Some(b'#'),
        dtype: DType::F64,
        ..CsvOptions::default()
    };
    for (file, options, rows) in [
        ("header_crlf.csv", header, 6),
        ("savetxt_default.csv", savetxt, 5),
        ("savetxt_commented.csv", commented, 4),
    ] {
        let want = &expected[file];
        let table = read_csv(dir.join(file), &options).unwrap_or_else(|e| panic!("{e}"));
        let width = f64s(&want["features"]).len() / rows;
        assert_eq!(table.features.dims(), [rows, width], "{file}");
        assert_eq!(table.features.dtype(), options.dtype, "{file}");
        // The expected values are the exact values of the written numbers' target dtype.
        let want_features = Tensor::from_vec(f64s(&want["features"]), [rows * width])
            .unwrap()
            .to_dtype(options.dtype)
            .unwrap();
        assert_eq!(bits(&table.features), bits(&want_features), "{file}");
        let columns: Option<Vec<String>> = serde_json::from_value(want["columns"].clone()).unwrap();
        assert_eq!(table.columns, columns, "{file}");
        let label_name: Option<String> =
            serde_json::from_value(want["label_name"].clone()).unwrap();
        assert_eq!(table.label_name, label_name, "{file}");
        let labels: Option<Vec<i64>> = serde_json::from_value(want["labels"].clone()).unwrap();
        assert_eq!(
            table.labels.map(|l| l.to_vec::<i64>().unwrap()),
            labels,
            "{file}"
        );
    }
}

#[test]
fn f32_columns_are_rounded_once_from_the_decimal() {
    // Just above the midpoint between 1 and the next f32 (1 + 2^-24 + 1e-28): correctly
    // rounded, that is 1 + 2^-23; through f64 it would land on the midpoint and tie to 1.
    let text = b"1.0000000596046447753906250001\n";
    let table = read_csv_bytes(text, "mid.csv", &CsvOptions::default()).unwrap();
    assert_eq!(
        table.features.to_vec::<f32>().unwrap(),
        [1.0 + f32::EPSILON]
    );
    let via_f64: f32 = "1.0000000596046447753906250001".parse::<f64>().unwrap() as f32;
    assert_eq!(via_f64, 1.0, "the double rounding this test guards against");
}

#[test]
fn integers_accept_exact_decimal_forms_only() {
    let options = CsvOptions {
        dtype: DType::I64,
        ..CsvOptions::default()
    };
    let table = read_csv_bytes(
        b"3.000000000000000000e+00, -9223372036854775808, 1.5e1, 12e3, +7, -0.0\n",
        "ints.csv",
        &options,
    )
    .unwrap();
    assert_eq!(
        table.features.to_vec::<i64>().unwrap(),
        [3, i64::MIN, 15, 12000, 7, 0]
    );
    for (text, problem) in [
        ("2.5", "\"2.5\" is not an integer that fits i64"),
        ("9223372036854775808", "is not an integer that fits i64"),
        ("1e19", "is not an integer that fits i64"),
        ("2.0000000000000001", "is not an integer"),
        ("nan", "is not an integer"),
        ("x", "\"x\" is not a number"),
    ] {
        assert_error(
            read_csv_bytes(format!("1,{text}\n").as_bytes(), "i.csv", &options),
            &["i.csv", "line 1, column 2", problem],
            text,
        );
    }
}

#[test]
fn special_values_quotes_and_spacing() {
    let options = CsvOptions {
        header: true,
        dtype: DType::F64,
        label: Some(LabelColumn::Index(0)),
        label_dtype: DType::F32,
        ..CsvOptions::default()
    };
    let text = "y, \"a\" ,b\n 0.5 ,nan, -inf\n\"1\",\t1e308 ,-0\n\n\n";
    let table = read_csv_bytes(text.as_bytes(), "s.csv", &options).unwrap();
    assert_eq!(table.columns, Some(vec!["a".to_owned(), "b".to_owned()]));
    assert_eq!(table.label_name.as_deref(), Some("y"));
    let v = table.features.to_vec::<f64>().unwrap();
    assert!(v[0].is_nan() && v[1] == f64::NEG_INFINITY && v[2] == 1e308);
    assert!(v[3] == 0.0 && v[3].is_sign_negative());
    assert_eq!(table.labels.unwrap().to_vec::<f32>().unwrap(), [0.5, 1.0]);
    // A header with no rows is an empty table of known width.
    let empty = read_csv_bytes(
        b"a,b,c\n",
        "e.csv",
        &CsvOptions {
            header: true,
            ..CsvOptions::default()
        },
    )
    .unwrap();
    assert_eq!(empty.features.dims(), [0, 3]);
    // Tab-separated.
    let tsv = CsvOptions {
        delimiter: b'\t',
        ..CsvOptions::default()
    };
    let t = read_csv_bytes(b"1\t2\n3\t4", "t.tsv", &tsv).unwrap();
    assert_eq!(t.features.to_vec::<f32>().unwrap(), [1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn tables_round_trip_through_a_file() {
    let values = vec![0.1f32, -0.0, 1e-45, f32::MAX, f32::INFINITY, 3.0];
    let table = Tensor::from_vec(values.clone(), [3, 2]).unwrap();
    let path = scratch_path("round-trip.csv");
    write_csv(&path, &table, Some(&["x, 1", "y"])).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, "\"x, 1\",y\n0.1,-0.0\n1e-45,3.4028235e38\ninf,3.0\n");
    let back = read_csv(
        &path,
        &CsvOptions {
            header: true,
            ..CsvOptions::default()
        },
    )
    .unwrap();
    assert_eq!(bits(&back.features), bits(&table));
    assert_eq!(back.columns, Some(vec!["x, 1".to_owned(), "y".to_owned()]));
    let ints = Tensor::from_vec(vec![i64::MIN, 5], [1, 2]).unwrap();
    write_csv(&path, &ints, None).unwrap();
    let back = read_csv(
        &path,
        &CsvOptions {
            dtype: DType::I64,
            ..CsvOptions::default()
        },
    )
    .unwrap();
    assert_eq!(back.features.to_vec::<i64>().unwrap(), [i64::MIN, 5]);
    std::fs::remove_file(&path).unwrap();
    assert_error(
        write_csv(&path, &Tensor::scalar(1.0f32), None),
        &["rank-2"],
        "rank",
    );
    assert_error(
        write_csv(&path, &table, Some(&["a"])),
        &["1 header names for 2 columns"],
        "header",
    );
}

#[test]
fn malformed_tables_are_reported() {
    let plain = CsvOptions::default();
    let header = CsvOptions {
        header: true,
        ..CsvOptions::default()
    };
    let by_name = |n: &str| CsvOptions {
        header: true,
        label: Some(LabelColumn::Name(n.into())),
        ..CsvOptions::default()
    };
    let cases: Vec<(&str, &[u8], CsvOptions, &str, &str)> = vec![
        ("empty.csv", b"", plain.clone(), "line 1", "no rows"),
        (
            "empty-header.csv",
            b"",
            header.clone(),
            "line 1",
            "header line was expected",
        ),
        (
            "ragged.csv",
            b"1,2,3\n4,5,6\n7,8\n",
            plain.clone(),
            "line 3",
            "2 fields, expected 3",
        ),
        (
            "long.csv",
            b"1,2\n4,5,6\n",
            plain.clone(),
            "line 2",
            "3 fields, expected 2",
        ),
        (
            "text.csv",
            b"1,2\n3,abc\n",
            plain.clone(),
            "line 2, column 2",
            "\"abc\" is not a number",
        ),
        (
            "named.csv",
            b"a,b\n1,2\n3,x\n",
            header.clone(),
            "line 3, column 2 (\"b\")",
            "\"x\" is not a number",
        ),
        (
            "missing.csv",
            b"1,,3\n",
            plain.clone(),
            "line 1, column 2",
            "empty field (missing values are not supported)",
        ),
        (
            "blank.csv",
            b"1,2\n\n3,4\n",
            plain.clone(),
            "line 2",
            "empty line",
        ),
        (
            "quote.csv",
            b"1,\"2\n",
            plain.clone(),
            "line 1, column 2",
            "unterminated quoted field",
        ),
        (
            "after-quote.csv",
            b"1,\"2\"x\n",
            plain.clone(),
            "line 1, column 2",
            "text after a closing quote",
        ),
        (
            "inner-quote.csv",
            b"1,2\"\n",
            plain.clone(),
            "line 1, column 2",
            "a quote inside an unquoted field",
        ),
        (
            "utf8.csv",
            b"1,2\n3,\xff\n",
            plain.clone(),
            "line 2 (byte 6)",
            "not UTF-8",
        ),
        (
            "no-label.csv",
            b"a,b\n1,2\n",
            by_name("c"),
            "",
            "no column is named \"c\"",
        ),
        (
            "label-index.csv",
            b"1,2\n",
            CsvOptions {
                label: Some(LabelColumn::Index(2)),
                ..plain.clone()
            },
            "",
            "label column 2 does not exist (the table has 2 columns)",
        ),
        (
            "label-no-header.csv",
            b"1,2\n",
            CsvOptions {
                label: Some(LabelColumn::Name("a".into())),
                ..plain.clone()
            },
            "",
            "no header",
        ),
        (
            "label-float.csv",
            b"1,2.5\n",
            CsvOptions {
                label: Some(LabelColumn::Last),
                ..plain.clone()
            },
            "line 1, column 2",
            "\"2.5\" is not an integer",
        ),
        (
            "dtype.csv",
            b"1\n",
            CsvOptions {
                dtype: DType::F16,
                ..plain.clone()
            },
            "",
            "features are read as f32, f64 or i64, not f16",
        ),
        (
            "label-dtype.csv",
            b"1\n",
            CsvOptions {
                label_dtype: DType::Bool,
                ..plain.clone()
            },
            "",
            "labels are read as f32, f64 or i64, not bool",
        ),
        (
            "delimiter.csv",
            b"1\n",
            CsvOptions {
                delimiter: b'"',
                ..plain.clone()
            },
            "",
            "delimiter",
        ),
    ];
    for (name, bytes, options, place, problem) in cases {
        assert_error(
            read_csv_bytes(bytes, name, &options),
            &[name, place, problem],
            name,
        );
    }
    assert_error(
        read_csv(scratch_path("missing.csv"), &plain),
        &["missing.csv", "cannot read"],
        "missing file",
    );
}
