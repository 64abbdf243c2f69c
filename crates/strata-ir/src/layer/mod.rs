//! The numeric layers (DESIGN.md §1) that the reference interpreter ([`crate::interpret`]) runs a
//! graph in: one trait, [`NumericLayer`], and five implementations.
//!
//! | layer | scalar | meaning |
//! |---|---|---|
//! | [`F32Layer`] = [`Native<f32>`] | `f32` | native binary32 arithmetic, scalar by scalar; transcendentals from libm, as the native kernels call them |
//! | [`F64Layer`] = [`Native<f64>`] | `f64` | the same in binary64 |
//! | [`Ieee32Layer`] | [`Ieee32`] | the bit-level soft-float, in an [`FpEnv`], accumulating the exception [`Flags`] |
//! | [`Fp32Layer`] | `Option<Fp32>` | exact rationals rounded once per op to the binary32 grid; `None` off the finite path |
//! | [`IntervalLayer`] | `Option<Interval<f64>>` | outward-rounded enclosures of the real-number result; `None` where the real value is undefined or infinite |
//!
//! Every op of the IR is written once, in `ops/<family>/reference.rs`, over the primitives
//! below; a layer only says what each primitive means. The primitives mirror the native
//! kernels' scalar steps (`strata_tensor::Float`): `maximum` is PyTorch's NaN-propagating
//! maximum, not IEEE 754's (which orders −0 below +0), so that the native `f32` kernels and
//! the `Ieee32` layer agree bit for bit.
//!
//! Branches: an op that branches on a comparison (relu, leaky relu, sign, softplus, …) asks
//! [`Arith::compare`], which a point layer always decides. The interval and `Fp32` layers may
//! answer "undecided" (`None`): an interval straddles the threshold, or an `Fp32` operand is
//! off the finite path. The op then evaluates both branches, each on the operand
//! [`Arith::restrict`]ed to its side, and [`Arith::join`]s them (the hull, for intervals).

mod fp32;
mod ieee32;
pub(crate) mod int;
mod interval;
mod native;

pub use fp32::Fp32Layer;
pub use ieee32::Ieee32Layer;
pub use interval::IntervalLayer;
pub use native::{F32Layer, F64Layer, Native};

use crate::op::Comparison;
use std::fmt;
use strata_tensor::{DType, Shape, Tensor};

#[cfg(doc)]
use strata_float::{interval::Interval, Flags, Fp32, FpEnv, Ieee32};

/// The arithmetic shared by float layers and the (crate-internal) i64 arithmetic of integer
/// tensors: what `add`, `matmul`, `reduce_sum`, `maximum`, `relu`, `sign`, … need.
pub trait Arith {
    type Scalar: Clone + fmt::Debug;

    /// A short name for messages: `f32`, `f64`, `ieee32`, `fp32`, `interval`.
    fn name(&self) -> &'static str;
    /// The integer `v` (rounded to the layer's format where it is not representable).
    fn int(&self, v: i64) -> Self::Scalar;
    fn add(&self, a: &Self::Scalar, b: &Self::Scalar) -> Self::Scalar;
    fn sub(&self, a: &Self::Scalar, b: &Self::Scalar) -> Self::Scalar;
    fn mul(&self, a: &Self::Scalar, b: &Self::Scalar) -> Self::Scalar;
    fn neg(&self, a: &Self::Scalar) -> Self::Scalar;
    fn abs(&self, a: &Self::Scalar) -> Self::Scalar;
    /// PyTorch's `maximum`: NaN if either is NaN, else `b` if `b > a`, else `a`.
    fn maximum(&self, a: &Self::Scalar, b: &Self::Scalar) -> Self::Scalar;
    /// PyTorch's `minimum`: NaN if either is NaN, else `b` if `b < a`, else `a`.
    fn minimum(&self, a: &Self::Scalar, b: &Self::Scalar) -> Self::Scalar;
    /// `a cmp b` with IEEE 754 semantics (NaN unordered); `None` when the layer cannot decide.
    fn compare(&self, a: &Self::Scalar, b: &Self::Scalar, cmp: Comparison) -> Option<bool>;
    /// Whether `a` is NaN; `None` when the layer cannot tell.
    fn is_nan(&self, a: &Self::Scalar) -> Option<bool>;
    /// `a ^ b` (torch.pow), or why this layer cannot compute it.
    fn pow(&self, a: &Self::Scalar, b: &Self::Scalar) -> Result<Self::Scalar, String>;
    /// `x` restricted to where `x cmp bound` may hold (only called after an undecided
    /// [`Arith::compare`]; point layers never see one and keep `x`).
    fn restrict(&self, x: &Self::Scalar, _cmp: Comparison, _bound: &Self::Scalar) -> Self::Scalar {
        x.clone()
    }
    /// A value that covers both `a` and `b` (only called after an undecided
    /// [`Arith::compare`]; point layers never see one and keep `a`).
    fn join(&self, a: Self::Scalar, _b: Self::Scalar) -> Self::Scalar {
        a
    }
}

/// The transcendental functions the ops use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transcendental {
    Exp,
    /// Natural logarithm.
    Ln,
    /// `ln(1 + x)`.
    Ln1p,
    Tanh,
    Erf,
    Sin,
    Cos,
}

impl Transcendental {
    pub fn name(self) -> &'static str {
        match self {
            Transcendental::Exp => "exp",
            Transcendental::Ln => "log",
            Transcendental::Ln1p => "log1p",
            Transcendental::Tanh => "tanh",
            Transcendental::Erf => "erf",
            Transcendental::Sin => "sin",
            Transcendental::Cos => "cos",
        }
    }
}

/// A layer's results as tensors: points (f32 or f64), or enclosures as two f64 tensors.
#[derive(Clone, Debug)]
pub enum Exported {
    Point(Tensor),
    Interval { lo: Tensor, hi: Tensor },
}

/// A numeric layer: the meaning of every float scalar operation of the reference interpreter.
pub trait NumericLayer: Arith {
    /// A data value (input, parameter, constant, random draw) stored as `f32`: exact in every
    /// layer (non-finite values are `None` in the `Fp32` and interval layers).
    fn of_f32(&self, v: f32) -> Self::Scalar;
    /// A data value or attribute stored as `f64`: exact in `f64` and intervals, rounded to
    /// nearest (even) in the binary32 layers.
    fn of_f64(&self, v: f64) -> Self::Scalar;
    /// A constant that stands for a real number, given as an `f64` within two ulps of it (1/√2, √(2/π),
    /// 0.044715, 1/√E, …): rounded to nearest in the float layers, enclosed by the interval
    /// layer.
    fn real(&self, nearest: f64) -> Self::Scalar;
    fn div(&self, a: &Self::Scalar, b: &Self::Scalar) -> Self::Scalar;
    fn sqrt(&self, a: &Self::Scalar) -> Self::Scalar;
    /// Round toward −∞.
    fn floor(&self, a: &Self::Scalar) -> Self::Scalar;
    /// `f(a)`, or why this layer cannot compute `f`.
    fn transcendental(&self, f: Transcendental, a: &Self::Scalar) -> Result<Self::Scalar, String>;
    /// An `f64` enclosure `(lo, hi)` of the value: `lo = hi` for point layers (NaN and ±∞
    /// included); `None` for a value off the layer's path (`Fp32` and interval `None`).
    fn bounds(&self, a: &Self::Scalar) -> Option<(f64, f64)>;
    /// The values of one node (declared `dtype`, `shape`) as tensors, or which element is off
    /// the layer's path.
    fn export(
        &self,
        data: &[Self::Scalar],
        shape: &Shape,
        dtype: DType,
    ) -> Result<Exported, String>;
}

/// The flat index of the first element off the layer's path, as export errors name it.
pub(crate) fn first_off_path<L: NumericLayer>(layer: &L, data: &[L::Scalar]) -> Option<usize> {
    data.iter().position(|x| layer.bounds(x).is_none())
}

/// The comparison that holds exactly where `cmp` fails, for ordered (non-NaN) operands.
pub(crate) fn negated(cmp: Comparison) -> Comparison {
    match cmp {
        Comparison::Eq => Comparison::Ne,
        Comparison::Ne => Comparison::Eq,
        Comparison::Lt => Comparison::Ge,
        Comparison::Le => Comparison::Gt,
        Comparison::Gt => Comparison::Le,
        Comparison::Ge => Comparison::Lt,
    }
}

/// `a cmp b` for totally ordered values.
pub(crate) fn ordered<T: PartialOrd>(a: T, b: T, cmp: Comparison) -> bool {
    match cmp {
        Comparison::Eq => a == b,
        Comparison::Ne => a != b,
        Comparison::Lt => a < b,
        Comparison::Le => a <= b,
        Comparison::Gt => a > b,
        Comparison::Ge => a >= b,
    }
}
