//! Element types. f32 and f64 are compute types; i64 and bool hold indices and masks; f16 and
//! bf16 are storage types (convert with `to_dtype` before arithmetic).

use crate::storage::Storage;
use half::{bf16, f16};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F32,
    F64,
    I64,
    Bool,
    F16,
    BF16,
}

impl DType {
    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::I64 => "i64",
            DType::Bool => "bool",
            DType::F16 => "f16",
            DType::BF16 => "bf16",
        }
    }
    pub fn size_in_bytes(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 | DType::I64 => 8,
            DType::Bool => 1,
            DType::F16 | DType::BF16 => 2,
        }
    }
    pub fn is_float(self) -> bool {
        !matches!(self, DType::I64 | DType::Bool)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A type that can live in a tensor's storage.
pub trait Element: Copy + Send + Sync + PartialOrd + fmt::Debug + 'static {
    const DTYPE: DType;
    fn zero() -> Self;
    fn one() -> Self;
    /// Exact for every type but i64 beyond 2^53.
    fn to_f64(self) -> f64;
    /// Rounds to nearest (ties to even) for float types; truncates toward zero for i64.
    fn from_f64(v: f64) -> Self;
    /// Converts an integer, rounding once (to nearest even) for float types.
    fn from_i64(v: i64) -> Self;
    /// Converts to another element type with a single rounding (through f64, which holds every
    /// value of every type exactly, except i64, which overrides this).
    fn cast<D: Element>(self) -> D {
        D::from_f64(self.to_f64())
    }
    fn slice(storage: &Storage) -> Option<&[Self]>;
    fn into_storage(data: Vec<Self>) -> Storage;
}

macro_rules! element {
    ($t:ty, $dt:ident, $zero:expr, $one:expr, $to:expr, $from:expr, $from_i64:expr $(, $cast:item)?) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dt;
            fn zero() -> Self {
                $zero
            }
            fn one() -> Self {
                $one
            }
            fn to_f64(self) -> f64 {
                $to(self)
            }
            fn from_f64(v: f64) -> Self {
                $from(v)
            }
            fn from_i64(v: i64) -> Self {
                $from_i64(v)
            }
            $($cast)?
            fn slice(storage: &Storage) -> Option<&[Self]> {
                match storage {
                    Storage::$dt(v) => Some(v),
                    _ => None,
                }
            }
            fn into_storage(data: Vec<Self>) -> Storage {
                Storage::$dt(data)
            }
        }
    };
}

element!(
    f32,
    F32,
    0.0,
    1.0,
    |x: f32| x as f64,
    |v: f64| v as f32,
    |v: i64| v as f32
);
element!(f64, F64, 0.0, 1.0, |x: f64| x, |v: f64| v, |v: i64| v
    as f64);
element!(
    i64,
    I64,
    0,
    1,
    |x: i64| x as f64,
    |v: f64| v as i64,
    |v: i64| v,
    fn cast<D: Element>(self) -> D {
        D::from_i64(self)
    }
);
element!(
    bool,
    Bool,
    false,
    true,
    |x: bool| x as u8 as f64,
    |v: f64| v != 0.0,
    |v: i64| v != 0
);
// f64 and i64 → f16/bf16 round once: first to f32 with round-to-odd (which keeps every bit
// that decides the final rounding, as f32 has more than 2 extra significand bits), then to
// nearest even. `half`'s own f64 conversions truncate the low 32 bits of the f64 significand
// before rounding (losing the sticky bit) or go through a rounded f32 (rounding twice).
element!(
    f16,
    F16,
    f16::ZERO,
    f16::ONE,
    f16::to_f64,
    |v: f64| f16::from_f32(f64_to_f32_odd(v)),
    |v: i64| f16::from_f32(i64_to_f32_odd(v))
);
element!(
    bf16,
    BF16,
    bf16::ZERO,
    bf16::ONE,
    bf16::to_f64,
    |v: f64| bf16::from_f32(f64_to_f32_odd(v)),
    |v: i64| bf16::from_f32(i64_to_f32_odd(v))
);

/// Round-to-odd onto the f32 grid, given the round-to-nearest result `r` of an exact value
/// and how that value compares with `r`: exact results stay; otherwise the neighbour toward
/// zero, with the last significand bit forced to 1 (so it is never mistaken for a tie).
fn round_to_odd(r: f32, exact_vs_r: std::cmp::Ordering) -> f32 {
    use std::cmp::Ordering::*;
    if r.is_nan() || exact_vs_r == Equal {
        return r;
    }
    let away_from_zero = (exact_vs_r == Less) == r.is_sign_positive();
    let bits = if away_from_zero && r != 0.0 {
        r.to_bits() - 1 // step the magnitude toward zero (from ∞ to the largest finite)
    } else {
        r.to_bits()
    };
    f32::from_bits(bits | 1)
}

fn f64_to_f32_odd(v: f64) -> f32 {
    let r = v as f32;
    round_to_odd(
        r,
        v.partial_cmp(&(r as f64))
            .unwrap_or(std::cmp::Ordering::Equal),
    )
}

fn i64_to_f32_odd(v: i64) -> f32 {
    let r = v as f32; // |r| ≤ 2^63: its integer value fits an i128 exactly
    round_to_odd(r, i128::from(v).cmp(&(r as i128)))
}

/// The compute float types (f32, f64): what every arithmetic kernel is generic over.
pub trait Float:
    Element
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + std::ops::Neg<Output = Self>
    + std::ops::AddAssign
    + std::iter::Sum
{
    const NEG_INFINITY: Self;
    const INFINITY: Self;
    const NAN: Self;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn tanh(self) -> Self;
    fn erf(self) -> Self;
    fn powf(self, e: Self) -> Self;
    fn abs(self) -> Self;
    fn ln_1p(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn floor(self) -> Self;
    fn is_nan(self) -> bool;
    /// NaN-propagating maximum (PyTorch's `maximum`).
    fn max_nan(self, o: Self) -> Self {
        if self.is_nan() || o.is_nan() {
            Self::NAN
        } else if o > self {
            o
        } else {
            self
        }
    }
    /// NaN-propagating minimum (PyTorch's `minimum`).
    fn min_nan(self, o: Self) -> Self {
        if self.is_nan() || o.is_nan() {
            Self::NAN
        } else if o < self {
            o
        } else {
            self
        }
    }
}

macro_rules! float {
    ($t:ty, $erf:path) => {
        impl Float for $t {
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            const INFINITY: Self = <$t>::INFINITY;
            const NAN: Self = <$t>::NAN;
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            fn erf(self) -> Self {
                $erf(self)
            }
            fn powf(self, e: Self) -> Self {
                <$t>::powf(self, e)
            }
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            fn ln_1p(self) -> Self {
                <$t>::ln_1p(self)
            }
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            fn floor(self) -> Self {
                <$t>::floor(self)
            }
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
        }
    };
}

float!(f32, libm::erff);
float!(f64, libm::erf);
