//! An independent oracle for the correctly rounded transcendentals: the exact value of f(x),
//! enclosed by rigorous interval arithmetic over integers and refined until its rounding is
//! decided in all five modes at once.
//!
//! It shares no code with `Ieee32`'s implementation (`ieee32/transcendental/`): no binary64
//! arithmetic enters an enclosure (binary64 only proposes guesses such as the integer j in
//! x = j·ln2 + r, which the interval computation then justifies whatever they are), the
//! constants π, ln 2 and 2/√π are computed here from integer series (Machin's formula,
//! atanh(1/3), integer square roots), and the argument reduction of sin and cos is a different
//! method (x = m·2^e with a table of 2^e mod 2π, instead of a window of the bits of 2/π).
//!
//! Levels: fixed point in `i64` with 56 fraction bits first (decides all but a few inputs per
//! million), then `BigInt` at 192, 384, 768 and 1536 bits. An enclosure decides the rounding
//! when it lies inside one half-ulp cell of the binary32 grid with unbounded exponent (between a
//! representable number and a midpoint, ends excluded): then every mode's result, and tininess
//! after rounding, follow. Results are for `FpEnv::with_mode(mode)`: tininess after rounding and
//! x86 NaN results.

mod fixed;
mod functions;

use crate::env::{Flags, RoundingMode};
use fixed::{Big, Fast, Level};
use functions::{enclose, Arg, Encl, Found};
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// The nine functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Function {
    Exp,
    Expm1,
    Log,
    Log1p,
    Tanh,
    Sigmoid,
    Erf,
    Sin,
    Cos,
}

impl Function {
    pub const ALL: [Function; 9] = [
        Function::Exp,
        Function::Expm1,
        Function::Log,
        Function::Log1p,
        Function::Tanh,
        Function::Sigmoid,
        Function::Erf,
        Function::Sin,
        Function::Cos,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Function::Exp => "exp",
            Function::Expm1 => "expm1",
            Function::Log => "log",
            Function::Log1p => "log1p",
            Function::Tanh => "tanh",
            Function::Sigmoid => "sigmoid",
            Function::Erf => "erf",
            Function::Sin => "sin",
            Function::Cos => "cos",
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Function {
    type Err = String;
    fn from_str(s: &str) -> Result<Function, String> {
        Function::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!("unknown function `{s}` (expected exp, expm1, log, log1p, tanh, sigmoid, erf, sin or cos)")
            })
    }
}

/// The correctly rounded f(x) in each mode (in the order of [`RoundingMode::ALL`]) as binary32
/// bits with flags, and the exact value to about 2^-45 relative (0 for NaN results, ±∞ beyond
/// the binary32 range), for error measurements.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    pub results: [(u32, Flags); 5],
    pub value: f64,
}

impl Decision {
    /// The result in `mode`.
    pub fn in_mode(&self, mode: RoundingMode) -> (u32, Flags) {
        let index = RoundingMode::ALL
            .iter()
            .position(|&m| m == mode)
            .unwrap_or(0);
        self.results[index]
    }
}

const X86_DEFAULT_NAN: u32 = 0xffc0_0000;
const INFINITY: u32 = 0x7f80_0000;
const SIGN: u32 = 0x8000_0000;
const MAX_FINITE: u32 = 0x7f7f_ffff;

fn same(bits: u32, flags: Flags, value: f64) -> Decision {
    Decision {
        results: [(bits, flags); 5],
        value,
    }
}

fn exact(bits: u32) -> Decision {
    same(bits, Flags::NONE, f32::from_bits(bits) as f64)
}

fn invalid() -> Decision {
    same(X86_DEFAULT_NAN, Flags::INVALID, f64::NAN)
}

/// Results that need no enclosure: NaN, infinities, zeros, the domain boundaries.
fn special(f: Function, bits: u32) -> Option<Decision> {
    let abs = bits & !SIGN;
    let neg = bits & SIGN != 0;
    if abs > INFINITY {
        let signaling = bits & 0x0040_0000 == 0;
        let flags = if signaling {
            Flags::INVALID
        } else {
            Flags::NONE
        };
        return Some(same(bits | 0x0040_0000, flags, f64::NAN));
    }
    let inf = abs == INFINITY;
    let zero = abs == 0;
    let one = 0x3f80_0000;
    let signed_one = one | (bits & SIGN);
    let pole = || {
        Some(Decision {
            results: [(INFINITY | SIGN, Flags::DIV_BY_ZERO); 5],
            value: f64::NEG_INFINITY,
        })
    };
    match f {
        Function::Exp if inf => Some(exact(if neg { 0 } else { INFINITY })),
        Function::Exp if zero => Some(exact(one)),
        Function::Expm1 if inf => Some(exact(if neg { one | SIGN } else { INFINITY })),
        Function::Expm1 | Function::Tanh | Function::Erf | Function::Sin if zero => {
            Some(exact(bits))
        }
        Function::Log if zero => pole(),
        Function::Log if neg => Some(invalid()),
        Function::Log if inf => Some(exact(INFINITY)),
        Function::Log if bits == one => Some(exact(0)),
        Function::Log1p if zero => Some(exact(bits)),
        Function::Log1p if bits == one | SIGN => pole(),
        Function::Log1p if neg && abs > one => Some(invalid()),
        Function::Log1p if inf => Some(exact(INFINITY)),
        Function::Tanh | Function::Erf if inf => Some(exact(signed_one)),
        Function::Sigmoid if inf => Some(exact(if neg { 0 } else { one })),
        Function::Sigmoid if zero => Some(exact(0x3f00_0000)),
        Function::Sin | Function::Cos if inf => Some(invalid()),
        Function::Cos if zero => Some(exact(one)),
        _ => None,
    }
}

/// The overflowed result of `mode`: ±∞ or ±MAX, with overflow and inexact.
fn overflowed(mode: RoundingMode, neg: bool) -> (u32, Flags) {
    let to_infinity = match mode {
        RoundingMode::NearestEven | RoundingMode::NearestAway => true,
        RoundingMode::TowardZero => false,
        RoundingMode::TowardPos => !neg,
        RoundingMode::TowardNeg => neg,
    };
    let magnitude = if to_infinity { INFINITY } else { MAX_FINITE };
    let sign = if neg { SIGN } else { 0 };
    (magnitude | sign, Flags::OVERFLOW | Flags::INEXACT)
}

/// Whether a value strictly inside a cell rounds up in magnitude, given whether it lies above
/// the cell's midpoint.
fn rounds_up(mode: RoundingMode, neg: bool, above_midpoint: bool) -> bool {
    match mode {
        // No ties: the value is strictly inside a half-ulp cell.
        RoundingMode::NearestEven | RoundingMode::NearestAway => above_midpoint,
        RoundingMode::TowardZero => false,
        RoundingMode::TowardPos => !neg,
        RoundingMode::TowardNeg => neg,
    }
}

/// The results for a magnitude strictly inside the half-ulp cell (c·2^(b−24), (c+1)·2^(b−24))
/// of binade b (2^b ≤ |v| < 2^(b+1), c in [2^24, 2^25)).
fn round_cell(neg: bool, b: i64, c: u64) -> [(u32, Flags); 5] {
    RoundingMode::ALL.map(|mode| {
        let quantum = (b - 23).max(-149);
        let coarser = quantum - (b - 23);
        let cell = if coarser >= 64 { 0 } else { c >> coarser };
        let n = (cell >> 1) + rounds_up(mode, neg, cell & 1 == 1) as u64;
        let unbounded = (c >> 1) + rounds_up(mode, neg, c & 1 == 1) as u64;
        if b == 127 && n == 1 << 24 {
            return overflowed(mode, neg);
        }
        let tiny = b < -126 && !(b == -127 && unbounded == 1 << 24);
        let magnitude = (((quantum + 149) as u32) << 23) + n as u32;
        let flags = if tiny {
            Flags::INEXACT | Flags::UNDERFLOW
        } else {
            Flags::INEXACT
        };
        (magnitude | if neg { SIGN } else { 0 }, flags)
    })
}

/// The rounding of an enclosure, when it lies inside one half-ulp cell.
fn decide_encl<L: Level>(l: &L, e: &Encl<L::V>) -> Option<[(u32, Flags); 5]> {
    if !l.is_positive(&e.lo) {
        return None;
    }
    let p = l.prec() as i64;
    let (lo_log, hi_log) = (l.ilog2(&e.lo), l.ilog2(&e.hi));
    let b = e.k + lo_log - p;
    if b >= 128 {
        return Some(RoundingMode::ALL.map(|mode| overflowed(mode, e.neg)));
    }
    if hi_log != lo_log {
        // Only an excluded upper end at the next power of two keeps the binade.
        let power_of_two = l.floor_shift(&e.hi, hi_log) == Some((1, true));
        if !(e.hi_open && hi_log == lo_log + 1 && power_of_two) {
            return None;
        }
    }
    let s = b - 24 - e.k + p;
    if s < 0 {
        return None;
    }
    let (c_lo, lo_on_boundary) = l.floor_shift(&e.lo, s)?;
    let (c_hi, hi_on_boundary) = l.floor_shift(&e.hi, s)?;
    if lo_on_boundary && !e.lo_open {
        return None;
    }
    let c_hi = if hi_on_boundary {
        if !e.hi_open {
            return None;
        }
        c_hi - 1
    } else {
        c_hi
    };
    (c_lo == c_hi).then(|| round_cell(e.neg, b, c_lo))
}

fn decide_at<L: Level>(l: &L, f: Function, arg: Arg) -> Option<Decision> {
    match enclose(l, f, arg)? {
        Found::TinyPositive => Some(Decision {
            results: RoundingMode::ALL.map(|mode| {
                let bits = (mode == RoundingMode::TowardPos) as u32;
                (bits, Flags::INEXACT | Flags::UNDERFLOW)
            }),
            value: 0.0,
        }),
        Found::Overflow { neg } => Some(Decision {
            results: RoundingMode::ALL.map(|mode| overflowed(mode, neg)),
            value: if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
        }),
        Found::Encl(e) => {
            let results = decide_encl(l, &e)?;
            let mid = (l.to_f64(&e.lo) + l.to_f64(&e.hi)) / 2.0;
            let value = mid * 2f64.powi(e.k as i32);
            Some(Decision {
                results,
                value: if e.neg { -value } else { value },
            })
        }
    }
}

static FAST: OnceLock<Fast> = OnceLock::new();
const BIG_PRECISIONS: [u32; 4] = [192, 384, 768, 1536];
static BIG: [OnceLock<Big>; 4] = [
    OnceLock::new(),
    OnceLock::new(),
    OnceLock::new(),
    OnceLock::new(),
];

/// The correctly rounded f(x) for binary32 bits `x`, in every mode; `None` only if even
/// 1536-bit enclosures do not decide it (no binary32 input needs more than the first big
/// level, see the exhaustive check).
pub fn decide(f: Function, x: u32) -> Option<Decision> {
    if let Some(d) = special(f, x) {
        return Some(d);
    }
    let arg = Arg::new(x);
    if let Some(d) = decide_at(FAST.get_or_init(Fast::new), f, arg) {
        return Some(d);
    }
    decide_slow(f, arg)
}

#[cold]
#[inline(never)]
fn decide_slow(f: Function, arg: Arg) -> Option<Decision> {
    BIG.iter()
        .zip(BIG_PRECISIONS)
        .find_map(|(cell, p)| decide_at(cell.get_or_init(|| Big::new(p)), f, arg))
}

/// Which level decided x: 0 for specials and the fast level, 1.. for the big levels, `None` when
/// none did (for tests and statistics).
pub fn deciding_level(f: Function, x: u32) -> Option<usize> {
    if special(f, x).is_some() {
        return Some(0);
    }
    let arg = Arg::new(x);
    if decide_at(FAST.get_or_init(Fast::new), f, arg).is_some() {
        return Some(0);
    }
    BIG.iter()
        .zip(BIG_PRECISIONS)
        .position(|(cell, p)| decide_at(cell.get_or_init(|| Big::new(p)), f, arg).is_some())
        .map(|i| i + 1)
}

/// An enclosure [lo, hi] of the exact f(x) as rationals, from the big level with 192 fraction
/// bits (width about 2^-180 relative): for measuring binary64 functions, whose errors the binary32
/// roundings in [`Decision`] cannot resolve. `None` for specials, results far outside the
/// binary32 range, and inputs this level does not enclose.
pub fn enclosure(
    f: Function,
    x: u32,
) -> Option<(num_rational::BigRational, num_rational::BigRational)> {
    use num_bigint::BigInt;
    use num_rational::BigRational;
    if special(f, x).is_some() {
        return None;
    }
    let level = BIG[0].get_or_init(|| Big::new(BIG_PRECISIONS[0]));
    let Found::Encl(e) = enclose(level, f, Arg::new(x))? else {
        return None;
    };
    let scale = |v: &BigInt| {
        let exp = e.k - level.prec() as i64;
        let r = BigRational::from_integer(v.clone());
        let p = BigRational::from_integer(BigInt::from(1) << exp.unsigned_abs() as usize);
        if exp >= 0 {
            r * p
        } else {
            r / p
        }
    };
    let (lo, hi) = (scale(&e.lo), scale(&e.hi));
    Some(if e.neg { (-hi, -lo) } else { (lo, hi) })
}
