//! VNN-LIB parser: the real VNN-COMP files (skipped with a reason when the data is missing) and
//! hand-written malformed inputs, each error naming file, line, column and problem.

use std::path::{Path, PathBuf};
use strata_io::vnnlib::{parse_property, read_property, Property};

fn data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/vnncomp");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!(
            "skipped: {} is missing (VNN-COMP data, see its SOURCES.md)",
            p.display()
        );
        None
    }
}

fn parse(text: &str) -> Property {
    parse_property(text, "t.vnnlib").unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> String {
    parse_property(text, "bad.vnnlib").unwrap_err().to_string()
}

#[test]
fn acasxu_prop_2_and_3() {
    let Some(d) = data() else { return };
    let p = read_property(d.join("acasxu/vnnlib/prop_2.vnnlib")).unwrap();
    assert_eq!((p.n_inputs, p.n_outputs, p.cases.len()), (5, 5, 1));
    let c = &p.cases[0];
    // 0.679857769 is not an f64: the outer box is wider, the inner one narrower.
    assert!(c.input.upper[0] > 0.679857769 && c.input.inner_upper[0] < 0.679857769);
    // 0.6 is not an f64 either: its two neighbours of the nearest value.
    assert_eq!(c.input.lower[0], 0.6f64.next_down());
    assert_eq!(c.input.inner_lower[0], 0.6f64.next_up());
    // -0.5 is exact.
    assert_eq!((c.input.lower[4], c.input.inner_lower[4]), (-0.5, -0.5));
    assert_eq!(c.input.upper[4], (-0.45f64).next_up());
    // One conjunction of 4 rows: Y_k - Y_0 <= 0.
    assert_eq!(c.unsafe_set.len(), 1);
    assert_eq!(c.unsafe_set[0].len(), 4);
    let row = &c.unsafe_set[0][0];
    let coeffs: Vec<f64> = row.coeffs.iter().map(|e| e.lo).collect();
    assert_eq!(coeffs, vec![-1.0, 1.0, 0.0, 0.0, 0.0]);
    assert!(row.rhs.is_point() && row.rhs.lo == 0.0);
}

#[test]
fn every_real_file_parses() {
    let Some(d) = data() else { return };
    let mut n = 0;
    for dir in ["acasxu/vnnlib", "mnist_fc/vnnlib", "test"] {
        let Ok(entries) = std::fs::read_dir(d.join(dir)) else {
            eprintln!("skipped: {dir} missing");
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_some_and(|x| x == "vnnlib") {
                let p = read_property(&path).unwrap_or_else(|e| panic!("{e}"));
                assert!(!p.cases.is_empty());
                for c in &p.cases {
                    assert_eq!(c.input.lower.len(), p.n_inputs);
                    for i in 0..p.n_inputs {
                        assert!(c.input.lower[i] <= c.input.inner_lower[i]);
                        assert!(c.input.inner_upper[i] <= c.input.upper[i]);
                    }
                }
                n += 1;
            }
        }
    }
    eprintln!("parsed {n} files");
}

#[test]
fn mnist_prop_has_784_inputs_and_9_disjuncts() {
    let Some(d) = data() else { return };
    let p = read_property(d.join("mnist_fc/vnnlib/prop_0_0.03.vnnlib")).unwrap();
    assert_eq!((p.n_inputs, p.n_outputs, p.cases.len()), (784, 10, 1));
    assert_eq!(p.cases[0].unsafe_set.len(), 9);
    assert!(p.cases[0].unsafe_set.iter().all(|c| c.len() == 1));
}

#[test]
fn mixed_or_of_ands_in_test_files() {
    let p = parse(
        "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (or\n    (and (>= X_0 -1) (<= X_0 1) (>= Y_0 100))\n))",
    );
    assert_eq!(p.cases.len(), 1);
    assert_eq!(
        (p.cases[0].input.lower[0], p.cases[0].input.upper[0]),
        (-1.0, 1.0)
    );
    // Y_0 >= 100  <=>  -Y_0 <= -100
    let r = &p.cases[0].unsafe_set[0][0];
    assert_eq!((r.coeffs[0].lo, r.rhs.lo), (-1.0, -100.0));
}

#[test]
fn two_input_boxes_and_output_disjunction() {
    let p = parse(
        "; comment\n(declare-const X_0 Real)(declare-const X_1 Real)\n\
         (declare-const Y_0 Real)(declare-const Y_1 Real)(declare-const Y_2 Real)\n\
         (assert (or (and (>= X_0 0) (<= X_0 1) (>= X_1 0) (<= X_1 1))\n\
                     (and (>= X_0 2) (<= X_0 3) (>= X_1 0) (<= X_1 1))))\n\
         (assert (or (and (<= Y_0 Y_1)) (and (<= Y_0 Y_2) (<= (+ Y_1 (* 2 Y_2)) 0.5))))",
    );
    assert_eq!(p.cases.len(), 2);
    for c in &p.cases {
        assert_eq!(c.unsafe_set.len(), 2);
        assert_eq!(c.unsafe_set[1].len(), 2);
        let r = &c.unsafe_set[1][1];
        let coeffs: Vec<f64> = r.coeffs.iter().map(|e| e.lo).collect();
        assert_eq!(coeffs, vec![0.0, 1.0, 2.0]);
        assert_eq!(r.rhs.lo, 0.5);
    }
    assert_eq!(p.cases[1].input.lower[0], 2.0);
}

#[test]
fn malformed_inputs_name_the_place() {
    let decl = "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n";
    let cases: &[(&str, &str)] = &[
        (
            "(declare-const X_0 Real)\n(assert (<= X_0 1)",
            "bad.vnnlib:2:1: unbalanced '('",
        ),
        (
            "(declare-const X_0 Real))",
            "bad.vnnlib:1:25: unbalanced ')'",
        ),
        (
            &format!("{decl}(assert (<= X_1 1))"),
            "bad.vnnlib:3:13: variable 'X_1' is not declared",
        ),
        (
            &format!("{decl}(assert (<= Z 1))"),
            "bad.vnnlib:3:13: unknown identifier 'Z'",
        ),
        (
            &format!("{decl}(assert (< X_0 1))"),
            "bad.vnnlib:3:9: '<' is outside the supported",
        ),
        (
            &format!("{decl}(assert (<= X_0 1 2))"),
            "bad.vnnlib:3:9: '<=' takes 2 arguments, got 3",
        ),
        (
            &format!("{decl}(assert (<= X_0 nan))"),
            "unknown identifier 'nan'",
        ),
        (
            &format!("{decl}(assert (<= X_0 1))(assert (<= Y_0 0))"),
            "input X_0 is not bounded on both sides",
        ),
        (
            &format!("{decl}(assert (and (<= X_0 1) (>= X_0 0) (<= (+ X_0 Y_0) 1)))"),
            "mixes inputs and outputs",
        ),
        (
            &format!("{decl}(assert (and (<= (+ X_0 X_0 Y_0) 1)))"),
            "bad.vnnlib:3:14",
        ),
        (
            "(declare-const X_0 Int)",
            "bad.vnnlib:1:20: sort 'Int' is not supported",
        ),
        (
            "(declare-const X_0 Real)(declare-const X_0 Real)",
            "declared twice",
        ),
        (
            "(declare-const X_1 Real)(declare-const Y_0 Real)(assert (<= Y_0 0))",
            "variable index 1 skips index 0",
        ),
        ("(declare-const W_0 Real)", "must be named X_i or Y_j"),
        ("(frobnicate)", "unknown command 'frobnicate'"),
        (
            "(declare-const X_0 Real)(declare-const Y_0 Real)",
            "no assert",
        ),
        (&format!("{decl}(assert (<= (* X_0 X_0) 1))"), "not linear"),
        (
            &format!("{decl}(assert (or))"),
            "'or' needs at least one disjunct",
        ),
        ("", "no input variable"),
        (
            &format!("{decl}(assert (<= X_0 1e99999999))"),
            "unknown identifier",
        ),
    ];
    for (text, want) in cases {
        let got = err(text);
        assert!(
            got.contains(want),
            "for {text:?}\n got: {got}\nwant: {want}"
        );
    }
}

#[test]
fn missing_file_is_an_error() {
    let e = read_property("/nonexistent/p.vnnlib").unwrap_err();
    assert!(e.to_string().contains("/nonexistent/p.vnnlib"));
}

#[test]
fn random_bytes_never_panic() {
    let base = "(declare-const X_0 Real)(declare-const Y_0 Real)(assert (and (>= X_0 -1) (<= X_0 1) (or (<= Y_0 0.5) (>= Y_0 2))))";
    let mut s = 12345u64;
    for _ in 0..3000 {
        let mut b: Vec<u8> = base.as_bytes().to_vec();
        for _ in 0..3 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let i = (s % b.len() as u64) as usize;
            b[i] = b"()X_Y0123 ;-.e+*orand<=\n"[(s >> 32) as usize % 24];
        }
        let text = String::from_utf8_lossy(&b);
        let _ = parse_property(&text, "fuzz.vnnlib");
    }
}
