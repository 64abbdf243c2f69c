//! Shapes, row-major strides and NumPy/PyTorch broadcasting.

use crate::error::{Result, TensorError};
use std::fmt;

/// The extent of each axis, outermost first. A rank-0 shape is a scalar (one element).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Shape(Vec<usize>);

impl Shape {
    pub fn new(dims: impl Into<Vec<usize>>) -> Self {
        Shape(dims.into())
    }
    pub fn scalar() -> Self {
        Shape(Vec::new())
    }
    pub fn dims(&self) -> &[usize] {
        &self.0
    }
    pub fn rank(&self) -> usize {
        self.0.len()
    }
    /// Number of elements (1 for a scalar, 0 if any axis is empty).
    pub fn numel(&self) -> usize {
        self.0.iter().product()
    }
    /// Checked element count: `None` when the product overflows `usize`
    /// (a size field that lies must not turn into a huge allocation).
    pub fn checked_numel(&self) -> Option<usize> {
        self.0.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
    }
    /// Row-major (C-contiguous) strides in elements.
    pub fn contiguous_strides(&self) -> Vec<usize> {
        let mut strides = vec![0; self.0.len()];
        let mut acc = 1;
        for (s, &d) in strides.iter_mut().zip(&self.0).rev() {
            *s = acc;
            acc *= d;
        }
        strides
    }
    /// Resolves a possibly negative axis (`-1` is the last) against this rank.
    pub fn axis(&self, op: &'static str, dim: isize) -> Result<usize> {
        resolve_axis(op, dim, self.rank())
    }
    pub fn into_vec(self) -> Vec<usize> {
        self.0
    }
}

/// Resolves a PyTorch-style axis index (negative counts from the end) for a given rank.
pub fn resolve_axis(op: &'static str, dim: isize, rank: usize) -> Result<usize> {
    let r = rank as isize;
    let d = if dim < 0 { dim + r } else { dim };
    if d < 0 || d >= r {
        return Err(TensorError::DimOutOfRange { op, dim, rank });
    }
    Ok(d as usize)
}

/// The broadcast shape of two shapes under NumPy rules: align trailing axes; each pair must be
/// equal or contain a 1.
pub fn broadcast_shapes(op: &'static str, a: &Shape, b: &Shape) -> Result<Shape> {
    let rank = a.rank().max(b.rank());
    let mut out = vec![0; rank];
    for (i, o) in out.iter_mut().enumerate() {
        let da = dim_from_end(a, rank - 1 - i);
        let db = dim_from_end(b, rank - 1 - i);
        *o = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(TensorError::ShapeMismatch {
                    op,
                    lhs: a.clone(),
                    rhs: b.clone(),
                });
            }
        };
    }
    let out = Shape(out);
    if out.checked_numel().is_none() {
        return Err(TensorError::InvalidShape {
            op,
            shape: out,
            msg: format!("broadcasting {a} with {b} overflows the element count"),
        });
    }
    Ok(out)
}

fn dim_from_end(s: &Shape, k: usize) -> usize {
    if k < s.rank() {
        s.0[s.rank() - 1 - k]
    } else {
        1
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{d}")?;
        }
        write!(f, "]")
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<Vec<usize>> for Shape {
    fn from(v: Vec<usize>) -> Self {
        Shape(v)
    }
}
impl From<&[usize]> for Shape {
    fn from(v: &[usize]) -> Self {
        Shape(v.to_vec())
    }
}
impl<const N: usize> From<[usize; N]> for Shape {
    fn from(v: [usize; N]) -> Self {
        Shape(v.to_vec())
    }
}
impl From<&Shape> for Shape {
    fn from(s: &Shape) -> Self {
        s.clone()
    }
}
impl From<()> for Shape {
    fn from(_: ()) -> Self {
        Shape::scalar()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_follows_numpy_rules() {
        let s = |v: &[usize]| Shape::from(v);
        assert_eq!(
            broadcast_shapes("t", &s(&[3, 1]), &s(&[4])).unwrap(),
            s(&[3, 4])
        );
        assert_eq!(
            broadcast_shapes("t", &s(&[]), &s(&[2, 0])).unwrap(),
            s(&[2, 0])
        );
        assert_eq!(
            broadcast_shapes("t", &s(&[1, 0]), &s(&[5, 1])).unwrap(),
            s(&[5, 0])
        );
        let e = broadcast_shapes("add", &s(&[3, 2]), &s(&[4])).unwrap_err();
        assert_eq!(e.to_string(), "add: shape mismatch between [3, 2] and [4]");
    }

    #[test]
    fn strides_and_axes() {
        let s = Shape::from([2, 3, 4]);
        assert_eq!(s.contiguous_strides(), vec![12, 4, 1]);
        assert_eq!(s.axis("t", -1).unwrap(), 2);
        assert!(s.axis("t", 3).is_err());
        assert!(s.axis("t", -4).is_err());
        assert_eq!(Shape::from([usize::MAX, 2]).checked_numel(), None);
    }
}
