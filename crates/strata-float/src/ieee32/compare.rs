//! Comparisons, total order, the min/max family, and next_up/next_down.

use super::Ieee32;
use crate::env::{Flagged, Flags, FpEnv};
use std::cmp::Ordering;

impl Ieee32 {
    /// The numeric order: `None` when either is NaN; −0 and +0 are equal.
    fn numeric_cmp(self, other: Ieee32) -> Option<Ordering> {
        if self.is_nan() || other.is_nan() {
            None
        } else if self.is_zero() && other.is_zero() {
            Some(Ordering::Equal)
        } else {
            Some(self.total_cmp(other))
        }
    }

    /// Quiet comparison: unordered (`None`) with a NaN; invalid only for a signaling NaN.
    pub fn compare_quiet(self, other: Ieee32) -> Flagged<Option<Ordering>> {
        let invalid = self.is_signaling_nan() || other.is_signaling_nan();
        Flagged::new(self.numeric_cmp(other), invalid_if(invalid))
    }

    /// Signaling comparison: like [`Ieee32::compare_quiet`], and invalid for any NaN.
    pub fn compare_signaling(self, other: Ieee32) -> Flagged<Option<Ordering>> {
        let invalid = self.is_nan() || other.is_nan();
        Flagged::new(self.numeric_cmp(other), invalid_if(invalid))
    }

    /// `compareQuietEqual`.
    pub fn eq_quiet(self, other: Ieee32) -> Flagged<bool> {
        self.compare_quiet(other)
            .map(|ord| ord == Some(Ordering::Equal))
    }

    /// `compareSignalingLess` (the `<` of most languages).
    pub fn lt_signaling(self, other: Ieee32) -> Flagged<bool> {
        self.compare_signaling(other)
            .map(|ord| ord == Some(Ordering::Less))
    }

    /// `compareSignalingLessEqual` (the `<=` of most languages).
    pub fn le_signaling(self, other: Ieee32) -> Flagged<bool> {
        self.compare_signaling(other)
            .map(|ord| matches!(ord, Some(Ordering::Less | Ordering::Equal)))
    }

    /// IEEE `totalOrder` as an `Ordering`: −NaN < −∞ < … < −0 < +0 < … < +∞ < +NaN, NaNs ordered
    /// by payload (the same order as `f32::total_cmp`).
    pub fn total_cmp(self, other: Ieee32) -> Ordering {
        // Flip the magnitude bits of negatives so that signed integer order is the total order.
        let key = |x: Ieee32| (x.0 ^ (((x.0 as i32) >> 31) as u32 >> 1)) as i32;
        key(self).cmp(&key(other))
    }

    /// The smaller (`want_min`) or larger of two non-NaN values, with −0 < +0.
    fn select(self, other: Ieee32, want_min: bool) -> Ieee32 {
        if (self.total_cmp(other) == Ordering::Less) == want_min {
            self
        } else {
            other
        }
    }

    /// 754-2019 `minimum`/`maximum`: NaN if either operand is NaN.
    fn minimum_or_maximum(self, other: Ieee32, want_min: bool, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() || other.is_nan() {
            return Ieee32::propagate_nan(env, &[self, other]);
        }
        Flagged::exact(self.select(other, want_min))
    }

    /// 754-2019 `minimumNumber`/`maximumNumber`: a NaN operand (quiet or signaling) is ignored when
    /// the other is a number; a signaling one still raises invalid.
    fn number_min_or_max(self, other: Ieee32, want_min: bool, env: FpEnv) -> Flagged<Ieee32> {
        match (self.is_nan(), other.is_nan()) {
            (true, true) => Ieee32::propagate_nan(env, &[self, other]),
            (true, false) => Flagged::new(other, invalid_if(self.is_signaling_nan())),
            (false, true) => Flagged::new(self, invalid_if(other.is_signaling_nan())),
            (false, false) => Flagged::exact(self.select(other, want_min)),
        }
    }

    /// 754-2008 `minNum`/`maxNum`: a quiet NaN is ignored, a signaling NaN gives a quiet NaN and
    /// invalid. The 2008 standard leaves min(+0, −0) open; this model takes −0 < +0.
    fn min_or_max_num(self, other: Ieee32, want_min: bool, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_signaling_nan() || other.is_signaling_nan() {
            return Ieee32::propagate_nan(env, &[self, other]);
        }
        self.number_min_or_max(other, want_min, env)
    }

    /// 754-2019 `minimum`.
    pub fn minimum(self, other: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        self.minimum_or_maximum(other, true, env)
    }

    /// 754-2019 `maximum`.
    pub fn maximum(self, other: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        self.minimum_or_maximum(other, false, env)
    }

    /// 754-2019 `minimumNumber`.
    pub fn minimum_number(self, other: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        self.number_min_or_max(other, true, env)
    }

    /// 754-2019 `maximumNumber`.
    pub fn maximum_number(self, other: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        self.number_min_or_max(other, false, env)
    }

    /// 754-2008 `minNum`.
    pub fn min_num(self, other: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        self.min_or_max_num(other, true, env)
    }

    /// 754-2008 `maxNum`.
    pub fn max_num(self, other: Ieee32, env: FpEnv) -> Flagged<Ieee32> {
        self.min_or_max_num(other, false, env)
    }

    /// IEEE `nextUp`: the least value above; ±0 → 2^-149, −2^-149 → −0, +∞ stays, −∞ → −MAX.
    pub fn next_up(self, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        Flagged::exact(if self.is_zero() {
            Ieee32::MIN_POSITIVE_SUBNORMAL
        } else if self == Ieee32::INFINITY {
            self
        } else if self.is_sign_negative() {
            Ieee32(self.0 - 1)
        } else {
            Ieee32(self.0 + 1)
        })
    }

    /// IEEE `nextDown`, which is `−nextUp(−x)`.
    pub fn next_down(self, env: FpEnv) -> Flagged<Ieee32> {
        if self.is_nan() {
            return Ieee32::propagate_nan(env, &[self]);
        }
        self.neg().next_up(env).map(Ieee32::neg)
    }
}

fn invalid_if(invalid: bool) -> Flags {
    if invalid {
        Flags::INVALID
    } else {
        Flags::NONE
    }
}
