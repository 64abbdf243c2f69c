//! Decimal strings: correctly rounded parsing of any length, shortest round-trip output, and the
//! exact decimal expansion. All big-number work is integer (`num-bigint`).

use super::round::round_pack;
use super::Ieee32;
use crate::env::{Flagged, FpEnv};
use num_bigint::BigUint;
use num_traits::{ToPrimitive, Zero};
use std::fmt;

/// Significant digits kept when parsing. A rounding breakpoint of binary32 (a grid point or a
/// midpoint, a multiple of 2^-150 below 2^128) has at most 113 significant digits, so cutting the
/// digit string after more than that and appending a sticky `1` for any nonzero tail moves the value
/// without crossing a breakpoint.
const KEPT_DIGITS: usize = 128;
/// Decimal exponents of the leading digit beyond which every mode rounds the same way as a stand-in:
/// 10^40 overflows; below 10^-46 (< 2^-150, half the smallest subnormal) everything underflows.
const OVERFLOW_LEADING_EXP: i64 = 40;
const UNDERFLOW_LEADING_EXP: i64 = -50;

/// Why a decimal string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseFloatError {
    #[error("empty number")]
    Empty,
    #[error("no digits in `{0}`")]
    NoDigits(String),
    #[error("unexpected character `{found}` at position {position} in `{input}`")]
    UnexpectedCharacter {
        input: String,
        position: usize,
        found: char,
    },
    #[error("missing exponent digits in `{0}`")]
    MissingExponent(String),
}

/// A decimal number as `digits · 10^exponent` with `digits` free of leading zeros.
struct DecimalDigits {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

impl Ieee32 {
    /// Parses a decimal number (`[+-]digits[.digits][e[+-]digits]`, or `inf`, `infinity`, `nan` in
    /// any case) and rounds it correctly in the environment's mode, whatever its length.
    /// `nan` gives the canonical quiet NaN with the written sign.
    pub fn from_decimal_str(text: &str, env: FpEnv) -> Result<Flagged<Ieee32>, ParseFloatError> {
        let (negative, body) = match text.as_bytes().first() {
            None => return Err(ParseFloatError::Empty),
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            Some(_) => (false, text),
        };
        let special = match body.to_ascii_lowercase().as_str() {
            "inf" | "infinity" => Some(Ieee32::INFINITY),
            "nan" => Some(Ieee32::CANONICAL_NAN),
            _ => None,
        };
        if let Some(magnitude) = special {
            let value = if negative { magnitude.neg() } else { magnitude };
            return Ok(Flagged::exact(value));
        }
        let decimal = scan_decimal(text, negative, text.len() - body.len())?;
        Ok(round_decimal(&decimal, env))
    }

    /// The exact value in positional decimal (every binary32 value is a finite decimal), e.g.
    /// `0.100000001490116119384765625`; `inf`, `-inf`, `NaN` for the rest.
    pub fn to_exact_decimal(self) -> String {
        if self.is_nan() {
            return "NaN".to_string();
        }
        let sign = if self.is_sign_negative() { "-" } else { "" };
        if self.is_infinite() {
            return format!("{sign}inf");
        }
        if self.is_zero() {
            return format!("{sign}0");
        }
        let (exp, sig) = self.unpack();
        if exp >= 0 {
            return format!("{sign}{}", BigUint::from(sig) << exp as usize);
        }
        // sig · 2^exp = sig · 5^-exp / 10^-exp.
        let fraction_digits = (-exp) as usize;
        let scaled = (BigUint::from(sig) * BigUint::from(5u32).pow(-exp as u32)).to_string();
        let padded = format!("{scaled:0>width$}", width = fraction_digits + 1);
        let (integer, fraction) = padded.split_at(padded.len() - fraction_digits);
        match fraction.trim_end_matches('0') {
            "" => format!("{sign}{integer}"),
            fraction => format!("{sign}{integer}.{fraction}"),
        }
    }

    /// The shortest decimal that parses back (ties-to-even) to this value; the closest such if
    /// several have that length, the larger in magnitude if two are equally close (as Rust's `{:e}`).
    pub fn to_shortest_decimal(self) -> ShortestDecimal {
        // Rust prints every NaN as `NaN`, without a sign.
        let negative = self.is_sign_negative() && !self.is_nan();
        if !self.is_finite() {
            let name = if self.is_nan() { "NaN" } else { "inf" };
            return ShortestDecimal {
                negative,
                digits: name.to_string(),
                exponent: None,
            };
        }
        if self.is_zero() {
            return ShortestDecimal {
                negative,
                digits: "0".to_string(),
                exponent: Some(0),
            };
        }
        let (exp, sig) = self.unpack();
        let (numerator, denominator) = if exp >= 0 {
            (BigUint::from(sig) << exp as usize, BigUint::from(1u32))
        } else {
            (BigUint::from(sig), BigUint::from(1u32) << (-exp) as usize)
        };
        let leading_exp = floor_log10(&numerator, &denominator);
        let round_trips = |digits: &BigUint, exponent: i64| {
            let candidate = DecimalDigits {
                negative,
                digits: digits
                    .to_string()
                    .into_bytes()
                    .iter()
                    .map(|d| d - b'0')
                    .collect(),
                exponent,
            };
            round_decimal(&candidate, FpEnv::DEFAULT).value == self
        };
        // binary32 needs at most 9 significant digits to round-trip.
        for length in 1..=9 {
            let exponent = leading_exp - length + 1;
            let (scaled_num, scaled_den) =
                scale_by_power_of_ten(&numerator, &denominator, -exponent);
            let floor = &scaled_num / &scaled_den;
            let twice_remainder = (&scaled_num % &scaled_den) << 1usize;
            let ceil = &floor + 1u32;
            // Try the nearer candidate first; on an exact tie the larger magnitude, as Rust does.
            let candidates = if twice_remainder.is_zero() {
                vec![floor]
            } else if twice_remainder < scaled_den {
                vec![floor, ceil]
            } else {
                vec![ceil, floor]
            };
            if let Some(found) = candidates
                .into_iter()
                .find(|c| !c.is_zero() && round_trips(c, exponent))
            {
                return ShortestDecimal::from_integer(negative, &found, exponent);
            }
        }
        unreachable!("nine significant digits always round-trip binary32")
    }
}

/// The shortest round-trip decimal of a binary32 value, printed like Rust's `{:e}`
/// (`1e-45`, `-1.5e0`, `0e0`, `inf`, `NaN`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShortestDecimal {
    pub negative: bool,
    /// Significant digits without trailing zeros (or the name of a special value).
    pub digits: String,
    /// Decimal exponent of the first digit; `None` for infinities and NaN.
    pub exponent: Option<i64>,
}

impl ShortestDecimal {
    fn from_integer(negative: bool, value: &BigUint, exponent: i64) -> ShortestDecimal {
        let text = value.to_string();
        let digits = text.trim_end_matches('0').to_string();
        let exponent = exponent + text.len() as i64 - 1;
        ShortestDecimal {
            negative,
            digits,
            exponent: Some(exponent),
        }
    }
}

impl fmt::Display for ShortestDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        match self.exponent {
            None => f.write_str(&self.digits),
            Some(exponent) => {
                let (first, rest) = self.digits.split_at(1);
                let point = if rest.is_empty() { "" } else { "." };
                write!(f, "{first}{point}{rest}e{exponent}")
            }
        }
    }
}

/// Reads `[digits][.digits][e[+-]digits]` starting at byte `start` of `text`.
fn scan_decimal(
    text: &str,
    negative: bool,
    start: usize,
) -> Result<DecimalDigits, ParseFloatError> {
    let unexpected = |position: usize| {
        let found = text[position..].chars().next().unwrap_or('?');
        ParseFloatError::UnexpectedCharacter {
            input: text.to_string(),
            position,
            found,
        }
    };
    let bytes = text.as_bytes();
    let mut digits = Vec::new();
    let mut dropped_nonzero = false;
    let mut exponent: i64 = 0;
    let mut seen_digit = false;
    let mut seen_point = false;
    let mut position = start;
    while position < bytes.len() {
        match bytes[position] {
            b'0'..=b'9' => {
                let digit = bytes[position] - b'0';
                seen_digit = true;
                if seen_point {
                    exponent -= 1;
                }
                if digits.is_empty() && digit == 0 {
                    // A leading zero carries no information beyond the exponent already counted.
                } else if digits.len() < KEPT_DIGITS {
                    digits.push(digit);
                } else {
                    exponent += 1;
                    dropped_nonzero |= digit != 0;
                }
            }
            b'.' if !seen_point => seen_point = true,
            b'e' | b'E' => break,
            _ => return Err(unexpected(position)),
        }
        position += 1;
    }
    if !seen_digit {
        return Err(ParseFloatError::NoDigits(text.to_string()));
    }
    if position < bytes.len() {
        exponent =
            exponent.saturating_add(scan_exponent(text, position + 1).map_err(
                |err| match err {
                    Some(at) => unexpected(at),
                    None => ParseFloatError::MissingExponent(text.to_string()),
                },
            )?);
    }
    if dropped_nonzero {
        digits.push(1);
        exponent -= 1;
    }
    Ok(DecimalDigits {
        negative,
        digits,
        exponent,
    })
}

/// Reads `[+-]digits` to the end of `text`, saturating far outside any meaningful range.
/// The error is the position of a bad character, or `None` when there are no digits.
fn scan_exponent(text: &str, start: usize) -> Result<i64, Option<usize>> {
    const SATURATION: i64 = 1 << 40;
    let bytes = text.as_bytes();
    let (negative, mut position) = match bytes.get(start) {
        Some(b'-') => (true, start + 1),
        Some(b'+') => (false, start + 1),
        _ => (false, start),
    };
    if position >= bytes.len() {
        return Err(None);
    }
    let mut value: i64 = 0;
    while position < bytes.len() {
        match bytes[position] {
            digit @ b'0'..=b'9' => value = (value * 10 + (digit - b'0') as i64).min(SATURATION),
            _ => return Err(Some(position)),
        }
        position += 1;
    }
    Ok(if negative { -value } else { value })
}

/// Rounds `digits · 10^exponent` to binary32.
fn round_decimal(decimal: &DecimalDigits, env: FpEnv) -> Flagged<Ieee32> {
    if decimal.digits.is_empty() {
        return Flagged::exact(Ieee32::zero(decimal.negative));
    }
    let leading_exp = decimal
        .exponent
        .saturating_add(decimal.digits.len() as i64 - 1);
    let (integer, exponent) = if leading_exp > OVERFLOW_LEADING_EXP {
        (BigUint::from(1u32), OVERFLOW_LEADING_EXP)
    } else if leading_exp < UNDERFLOW_LEADING_EXP {
        (BigUint::from(1u32), UNDERFLOW_LEADING_EXP)
    } else {
        let integer = decimal
            .digits
            .iter()
            .fold(BigUint::zero(), |acc, &d| acc * 10u32 + d as u32);
        (integer, decimal.exponent)
    };
    let (numerator, denominator) = scale_by_power_of_ten(&integer, &BigUint::from(1u32), exponent);
    // Scale so that the integer quotient has 63 or 64 bits, then jam the remainder.
    let shift = 63 - (numerator.bits() as i64 - denominator.bits() as i64);
    let (dividend, divisor) = if shift >= 0 {
        (numerator << shift as usize, denominator)
    } else {
        (numerator, denominator << (-shift) as usize)
    };
    let quotient = (&dividend / &divisor)
        .to_u64()
        .expect("the quotient has at most 64 bits by the choice of shift");
    let sticky = !(dividend % divisor).is_zero() as u64;
    round_pack(decimal.negative, -shift as i32, quotient | sticky, env)
}

/// `(num · 10^power, den)` or `(num, den · 10^-power)`.
fn scale_by_power_of_ten(
    numerator: &BigUint,
    denominator: &BigUint,
    power: i64,
) -> (BigUint, BigUint) {
    let factor = BigUint::from(10u32).pow(power.unsigned_abs() as u32);
    if power >= 0 {
        (numerator * factor, denominator.clone())
    } else {
        (numerator.clone(), denominator * factor)
    }
}

/// ⌊log10(num/den)⌋ for a positive fraction.
fn floor_log10(numerator: &BigUint, denominator: &BigUint) -> i64 {
    // log10(2) ≈ 78913 / 2^18 gives an estimate within one of the answer; then correct it.
    let log2_estimate = numerator.bits() as i64 - denominator.bits() as i64;
    let mut estimate = (log2_estimate * 78913).div_euclid(1 << 18);
    let at_least = |power: i64| {
        let (num, den) = scale_by_power_of_ten(numerator, denominator, -power);
        num >= den
    };
    while !at_least(estimate) {
        estimate -= 1;
    }
    while at_least(estimate + 1) {
        estimate += 1;
    }
    estimate
}
