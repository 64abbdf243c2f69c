//! Decimal conversions. Oracles: Rust's `str::parse::<f32>` (correctly rounded, ties to even, any
//! length) and `{:e}` (shortest round-trip) and `{:.N}` (exact digits) formatting; exact rationals
//! rounded by `Fp32` for the other modes.

mod common;

use common::{Failures, Rng};
use num_bigint::BigInt;
use num_rational::BigRational;
use strata_float::{Flags, Fp32, FpEnv, Ieee32, ParseFloatError, RoundingMode};

/// Decimal strings that stress rounding: shortest and exact forms of random values, random digit
/// strings, and long strings a hair above or below a midpoint between neighbours.
fn decimal_strings(rng: &mut Rng, count: usize) -> Vec<String> {
    let mut strings = Vec::with_capacity(count);
    while strings.len() < count {
        let x = f32::from_bits(rng.float_bits() & 0x7fff_ffff);
        if !x.next_up().is_finite() {
            continue;
        }
        let text = match rng.below(5) {
            0 => format!("{x:e}"),
            1 => format!("{x}"),
            2 => {
                let digits: String = (0..1 + rng.below(40))
                    .map(|_| char::from(b'0' + rng.below(10) as u8))
                    .collect();
                format!("{digits}e{}", rng.below(100) as i64 - 70)
            }
            _ => {
                // The exact midpoint between x and its successor, nudged past the tie (or not).
                let mid = midpoint_decimal(x);
                match rng.below(3) {
                    0 => mid,
                    1 => format!("{mid}{}1", "0".repeat(rng.below(600) as usize)),
                    _ => nudge_down(&mid),
                }
            }
        };
        let sign = if rng.below(2) == 0 { "-" } else { "" };
        strings.push(format!("{sign}{text}"));
    }
    strings
}

/// The exact decimal of (x + next_up(x)) / 2, written by f64 formatting (exact for such values).
fn midpoint_decimal(x: f32) -> String {
    let mid = (x as f64 + x.next_up() as f64) / 2.0;
    let text = format!("{mid:.200}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A decimal just below `text`: its last nonzero digit decreased and a run of 9s appended.
fn nudge_down(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    if let Some(last) = bytes.iter().rposition(|b| (b'1'..=b'9').contains(b)) {
        bytes[last] -= 1;
    }
    let mut nudged = String::from_utf8(bytes).expect("ascii");
    if !nudged.contains('.') {
        nudged.push('.');
    }
    nudged.push_str("9999999999999999999999");
    nudged
}

/// The exact rational value of a plain decimal string (`[-]digits[.digits][e[-]digits]`).
fn exact_rational(text: &str) -> BigRational {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i64>().unwrap()),
        None => (text, 0),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: BigInt = format!("{integer}{fraction}").parse().unwrap();
    let scale = exponent - fraction.len() as i64;
    let power = BigInt::from(10).pow(scale.unsigned_abs() as u32);
    if scale >= 0 {
        BigRational::from_integer(digits * power)
    } else {
        BigRational::new(digits, power)
    }
}

#[test]
fn parse_matches_rust_parse_ties_to_even() {
    let mut rng = Rng::new(0xdec);
    let mut failures = Failures::new();
    for text in decimal_strings(&mut rng, 20_000) {
        let model = Ieee32::from_decimal_str(&text, FpEnv::DEFAULT)
            .unwrap()
            .value;
        let oracle: f32 = text.parse().unwrap();
        if model.to_bits() != oracle.to_bits() {
            failures.record(|| format!("{text}: parse {:#x}, Ieee32 {model:x}", oracle.to_bits()));
        }
    }
    failures.assert_none("decimal parse (RNE)");
}

#[test]
fn parse_matches_exact_rounding_in_every_mode() {
    let mut rng = Rng::new(0xdec2);
    let mut failures = Failures::new();
    for text in decimal_strings(&mut rng, 3_000) {
        let exact = exact_rational(&text);
        for mode in RoundingMode::ALL {
            let model = Ieee32::from_decimal_str(&text, FpEnv::with_mode(mode)).unwrap();
            let rounded = Fp32::round(&exact, mode);
            let inexact = rounded.clone().finite().is_none_or(|r| r.value() != &exact);
            let agrees = Fp32::from_ieee(model.value) == rounded.clone().finite()
                && model.flags.contains(Flags::INEXACT) == inexact;
            if !agrees {
                failures.record(|| {
                    format!(
                        "{text} {mode}: exact rounding {rounded:?}, Ieee32 {:x} {}",
                        model.value, model.flags
                    )
                });
            }
        }
    }
    failures.assert_none("decimal parse (all modes)");
}

#[test]
fn shortest_matches_rust_scientific_formatting() {
    let mut rng = Rng::new(0x5407);
    let edges = common::edge_set().into_iter().map(Ieee32::to_bits);
    let random = (0..100_000).map(|_| rng.float_bits());
    let mut failures = Failures::new();
    for bits in edges.chain(random) {
        let model = Ieee32::from_bits(bits).to_shortest_decimal().to_string();
        let oracle = format!("{:e}", f32::from_bits(bits));
        if model != oracle {
            failures.record(|| format!("{bits:#x}: Rust {oracle}, Ieee32 {model}"));
        }
    }
    failures.assert_none("shortest decimal");
}

#[test]
fn exact_decimal_matches_fixed_point_formatting() {
    let mut rng = Rng::new(0xe8ac7);
    let mut failures = Failures::new();
    for _ in 0..20_000 {
        let bits = rng.float_bits();
        let x = f32::from_bits(bits);
        if !x.is_finite() {
            continue;
        }
        // 149 fraction digits hold any binary32 value exactly; f64 formatting with a precision is
        // exact, and f32 → f64 is exact.
        let fixed = format!("{:.149}", x as f64);
        let oracle = fixed.trim_end_matches('0').trim_end_matches('.');
        let model = Ieee32::from_bits(bits).to_exact_decimal();
        if model != oracle {
            failures.record(|| format!("{bits:#x}: {oracle} vs {model}"));
        }
    }
    failures.assert_none("exact decimal");
}

#[test]
fn extreme_exponents_and_lengths() {
    let cases = [
        ("1e-1000000000000", 0x0000_0000),
        ("1e1000000000000", 0x7f80_0000),
        ("-0.0000e-5", 0x8000_0000),
        ("0.1", 0x3dcc_cccd),
        ("340282356779733661637539395458142568448", 0x7f80_0000), // MAX + half ulp: ties to ∞
        ("340282356779733661637539395458142568447", 0x7f7f_ffff),
        ("7.006492321624085354618647916449580656401e-46", 0x0000_0000), // 2^-150: tie to +0
        ("7.006492321624085354618647916449580656402e-46", 0x0000_0001),
        ("Infinity", 0x7f80_0000),
        ("-inf", 0xff80_0000),
    ];
    for (text, bits) in cases {
        let oracle: f32 = text.parse().unwrap();
        assert_eq!(
            oracle.to_bits(),
            bits,
            "oracle disagrees with the table for {text}"
        );
        let model = Ieee32::from_decimal_str(text, FpEnv::DEFAULT)
            .unwrap()
            .value;
        assert_eq!(model.to_bits(), bits, "{text}");
    }
    let long = format!("0.{}1", "0".repeat(100_000));
    assert_eq!(
        Ieee32::from_decimal_str(&long, FpEnv::DEFAULT)
            .unwrap()
            .value,
        Ieee32::POS_ZERO
    );
    let up = FpEnv::with_mode(RoundingMode::TowardPos);
    assert_eq!(
        Ieee32::from_decimal_str(&long, up).unwrap().value,
        Ieee32::MIN_POSITIVE_SUBNORMAL
    );
}

#[test]
fn malformed_strings_are_errors() {
    for text in [
        "", "-", "+", ".", "e5", "1e", "1e+", "abc", "1.2.3", "0x12", "1_000", " 1", "1 ", "--1",
        "1e5.0", "nanx",
    ] {
        let result = Ieee32::from_decimal_str(text, FpEnv::DEFAULT);
        assert!(result.is_err(), "{text:?} parsed as {result:?}");
        assert!(text.parse::<f32>().is_err(), "{text:?} is valid for Rust");
    }
    assert_eq!(
        Ieee32::from_decimal_str("", FpEnv::DEFAULT),
        Err(ParseFloatError::Empty)
    );
}
