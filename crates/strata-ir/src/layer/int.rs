//! i64 arithmetic for integer tensors (PyTorch's wrapping two's-complement semantics), so that
//! the ops written over [`Arith`] (add, matmul, reduce_sum, maximum, …) also serve i64 values.

use super::{ordered, Arith};
use crate::op::Comparison;

/// Wrapping i64 arithmetic.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Int64;

impl Arith for Int64 {
    type Scalar = i64;

    fn name(&self) -> &'static str {
        "i64"
    }
    fn int(&self, v: i64) -> i64 {
        v
    }
    fn add(&self, a: &i64, b: &i64) -> i64 {
        a.wrapping_add(*b)
    }
    fn sub(&self, a: &i64, b: &i64) -> i64 {
        a.wrapping_sub(*b)
    }
    fn mul(&self, a: &i64, b: &i64) -> i64 {
        a.wrapping_mul(*b)
    }
    fn neg(&self, a: &i64) -> i64 {
        a.wrapping_neg()
    }
    fn abs(&self, a: &i64) -> i64 {
        a.wrapping_abs()
    }
    fn maximum(&self, a: &i64, b: &i64) -> i64 {
        *a.max(b)
    }
    fn minimum(&self, a: &i64, b: &i64) -> i64 {
        *a.min(b)
    }
    fn compare(&self, a: &i64, b: &i64, cmp: Comparison) -> Option<bool> {
        Some(ordered(a, b, cmp))
    }
    fn is_nan(&self, _a: &i64) -> Option<bool> {
        Some(false)
    }
    /// Repeated squaring, wrapping; a negative exponent is an error (as in PyTorch).
    fn pow(&self, a: &i64, b: &i64) -> Result<i64, String> {
        let Ok(mut e) = u64::try_from(*b) else {
            return Err(format!(
                "integers to negative integer powers ({a}^{b}) are not allowed"
            ));
        };
        let (mut base, mut acc) = (*a, 1i64);
        while e > 0 {
            if e & 1 == 1 {
                acc = acc.wrapping_mul(base);
            }
            base = base.wrapping_mul(base);
            e >>= 1;
        }
        Ok(acc)
    }
}
