//! The trust registry is complete: every source file that uses `unsafe` is a registered
//! `unsafe` boundary, every registered location exists, and every crate without a registered
//! `unsafe` boundary forbids unsafe code at its root.

use std::fs;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source with comments, string literals and char literals blanked out.
fn code_only(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
                out.push(' ');
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
                out.push_str("\"\"");
            }
            // A char literal such as '"' must not open a string.
            '\'' if chars.clone().nth(1) == Some('\'') => {
                chars.nth(1);
                out.push_str("' '");
            }
            c => out.push(c),
        }
    }
    out
}

/// True when the code uses the `unsafe` keyword, as opposed to naming the `unsafe_code` lint.
fn uses_unsafe(source: &str) -> bool {
    let code = code_only(source);
    code.match_indices("unsafe").any(|(i, _)| {
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let before_ok = i == 0 || !ident(code.as_bytes()[i - 1]);
        let after_ok = code
            .as_bytes()
            .get(i + "unsafe".len())
            .is_none_or(|&b| !ident(b));
        before_ok && after_ok
    })
}

#[test]
fn every_unsafe_use_is_a_registered_boundary() {
    let root = workspace_root();
    let registry = strata_cli::trust_registry();
    let unsafe_locations: Vec<PathBuf> = registry
        .iter()
        .filter(|b| b.kind == "unsafe")
        .map(|b| root.join(b.location))
        .collect();
    for b in &registry {
        assert!(
            root.join(b.location).exists(),
            "{}: location {} does not exist",
            b.name,
            b.location
        );
    }
    let mut crates: Vec<PathBuf> = fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    crates.sort();
    assert!(!crates.is_empty());
    for krate in crates {
        let mut files = Vec::new();
        rust_files(&krate.join("src"), &mut files);
        let mut crate_has_boundary = false;
        for file in &files {
            let source = fs::read_to_string(file).unwrap();
            if uses_unsafe(&source) {
                assert!(
                    unsafe_locations.iter().any(|l| file.starts_with(l)),
                    "{} uses `unsafe` but is not a registered trust boundary",
                    file.display()
                );
                assert!(
                    source.contains("#![allow(unsafe_code)]"),
                    "{} must opt in with #![allow(unsafe_code)]",
                    file.display()
                );
                crate_has_boundary = true;
            }
        }
        for root_file in ["src/lib.rs", "src/main.rs"]
            .map(|f| krate.join(f))
            .iter()
            .filter(|f| f.exists())
        {
            let source = fs::read_to_string(root_file).unwrap();
            let wanted = if crate_has_boundary {
                "#![deny(unsafe_code)]"
            } else {
                "#![forbid(unsafe_code)]"
            };
            assert!(
                source.contains(wanted),
                "{} must declare {wanted}",
                root_file.display()
            );
        }
    }
}

#[test]
fn unsafe_detector_ignores_lint_names_and_comments() {
    assert!(uses_unsafe("fn f() { unsafe { g() } }"));
    assert!(uses_unsafe("pub unsafe fn g() {}"));
    assert!(!uses_unsafe("#![forbid(unsafe_code)]"));
    assert!(!uses_unsafe("// unsafe { } in a comment"));
    assert!(!uses_unsafe("let not_unsafe = 1;"));
    assert!(!uses_unsafe(
        "const K: &str = \"unsafe\";\n/* unsafe { } */ let q = '\"';"
    ));
    assert!(uses_unsafe("let c = '\"'; unsafe { g() }"));
}
