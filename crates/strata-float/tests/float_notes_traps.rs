//! The tricky binary32 cases of shared/reference/float-notes.md §5 (rows 1–30), one test each where
//! the model can express them. Expected values are the notes' (checked there against SoftFloat,
//! MPFR and hardware), not outputs of this crate.

use strata_float::{Flags, FpEnv, Ieee32, NanPolicy, RoundingMode, Tininess};

const RNE: FpEnv = FpEnv::DEFAULT;

fn f(bits: u32) -> Ieee32 {
    Ieee32::from_bits(bits)
}

fn env(mode: RoundingMode) -> FpEnv {
    FpEnv::with_mode(mode)
}

fn before() -> FpEnv {
    FpEnv {
        tininess: Tininess::BeforeRounding,
        ..RNE
    }
}

const INEXACT_UNDERFLOW: Flags = Flags::from_bits(Flags::INEXACT.bits() | Flags::UNDERFLOW.bits());

#[test]
fn row01_next_up_of_zero_is_the_smallest_subnormal() {
    assert_eq!(Ieee32::POS_ZERO.next_up(RNE).value, f(0x0000_0001));
    assert_eq!(Ieee32::NEG_ZERO.next_down(RNE).value, f(0x8000_0001));
}

#[test]
fn row02_exact_subnormal_product_raises_nothing() {
    let r = f(0x0080_0000).mul(f(0x3f00_0000), RNE);
    assert_eq!((r.value, r.flags), (f(0x0040_0000), Flags::NONE));
}

#[test]
fn row03_tie_below_the_normal_boundary_underflows_under_both_rules() {
    for e in [RNE, before()] {
        let r = f(0x3f7f_ffff).mul(f(0x0080_0000), e);
        assert_eq!(
            (r.value, r.flags),
            (f(0x0080_0000), INEXACT_UNDERFLOW),
            "{e:?}"
        );
    }
}

#[test]
fn row04_tininess_rules_differ() {
    let after = f(0x1f80_0001).mul(f(0x207f_fffe), RNE);
    assert_eq!((after.value, after.flags), (f(0x0080_0000), Flags::INEXACT));
    let before = f(0x1f80_0001).mul(f(0x207f_fffe), before());
    assert_eq!(
        (before.value, before.flags),
        (f(0x0080_0000), INEXACT_UNDERFLOW)
    );
}

#[test]
fn row05_difference_of_subnormals_is_exact() {
    let r = f(3).sub(f(2), RNE);
    assert_eq!((r.value, r.flags), (f(1), Flags::NONE));
}

#[test]
fn row06_overflow_by_rounding() {
    let sum = |mode| f(0x7f7f_ffff).add(f(0x7300_0000), env(mode)).value;
    assert_eq!(sum(RoundingMode::NearestEven), Ieee32::INFINITY);
    assert_eq!(sum(RoundingMode::TowardZero), Ieee32::MAX);
    assert_eq!(sum(RoundingMode::TowardNeg), Ieee32::MAX);
}

#[test]
fn row07_f64_to_f32_at_the_overflow_edge() {
    let convert = |x: f64| Ieee32::from_f64_bits(x.to_bits(), RNE).value;
    assert_eq!(convert(3.402_823_567_797_336_6e38), Ieee32::INFINITY);
    assert_eq!(convert(3.402_823_567_797_336_2e38), Ieee32::MAX);
}

#[test]
fn row08_integer_to_f32_rounding() {
    assert_eq!(Ieee32::from_i32(16_777_217, RNE).value, f(0x4b80_0000));
    assert_eq!(Ieee32::from_i32(i32::MAX, RNE).value, f(0x4f00_0000));
}

#[test]
fn row09_u64_to_f32_does_not_double_round() {
    let x = (1u64 << 63) + (1 << 39) + 1;
    assert_eq!(Ieee32::from_u64(x, RNE).value, f(0x5f00_0001));
}

#[test]
fn row10_decimal_parse_does_not_double_round() {
    let r = Ieee32::from_decimal_str("1.00000005960464477539062500001", RNE).unwrap();
    assert_eq!(r.value, f(0x3f80_0001));
}

#[test]
fn row11_fma_does_not_double_round() {
    let r = f(0x3f80_0001).fma(f(0x3f7f_fffe), f(0x4b80_0001), RNE);
    assert_eq!(r.value, f(0x4b80_0001));
}

/// Row 12: rounding + − × ÷ √ of binary32 operands through binary64 is innocuous (53 ≥ 2·24 + 2),
/// so the f64 computation is an independent oracle for those operations.
#[test]
fn row12_f64_then_round_agrees_for_basic_ops() {
    let mut state = 0x1234_5678_u32;
    for _ in 0..200_000 {
        // xorshift32: independent of the other tests' generator.
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        let (a, b) = (f(next()), f(next()));
        let (x, y) = (
            f32::from_bits(a.to_bits()) as f64,
            f32::from_bits(b.to_bits()) as f64,
        );
        let cases = [
            (a.add(b, RNE).value, x + y),
            (a.sub(b, RNE).value, x - y),
            (a.mul(b, RNE).value, x * y),
            (a.div(b, RNE).value, x / y),
            (a.sqrt(RNE).value, x.sqrt()),
        ];
        for (model, wide) in cases {
            let oracle = wide as f32;
            assert!(
                if oracle.is_nan() {
                    model.is_nan()
                } else {
                    model.to_bits() == oracle.to_bits()
                },
                "{a:x} {b:x}: {model:x} vs {:#x}",
                oracle.to_bits()
            );
        }
    }
}

#[test]
fn row13_directed_overflow_and_underflow() {
    assert_eq!(
        Ieee32::MAX
            .add(Ieee32::MAX, env(RoundingMode::TowardZero))
            .value,
        Ieee32::MAX
    );
    let neg_max = Ieee32::MAX.neg();
    assert_eq!(
        neg_max.add(neg_max, env(RoundingMode::TowardNeg)).value,
        Ieee32::NEG_INFINITY
    );
    assert_eq!(f(1).mul(f(1), env(RoundingMode::TowardPos)).value, f(1));
}

#[test]
fn row14_signs_of_exact_zero_sums() {
    let x = f(0x4040_0000);
    for mode in RoundingMode::ALL {
        let expected = if mode == RoundingMode::TowardNeg {
            Ieee32::NEG_ZERO
        } else {
            Ieee32::POS_ZERO
        };
        assert_eq!(x.add(x.neg(), env(mode)).value, expected, "{mode}");
        assert_eq!(
            Ieee32::POS_ZERO.add(Ieee32::NEG_ZERO, env(mode)).value,
            expected,
            "{mode}"
        );
        assert_eq!(
            Ieee32::NEG_ZERO.add(Ieee32::NEG_ZERO, env(mode)).value,
            Ieee32::NEG_ZERO
        );
    }
}

#[test]
fn row15_square_roots_of_negatives() {
    let r = Ieee32::NEG_ZERO.sqrt(RNE);
    assert_eq!((r.value, r.flags), (Ieee32::NEG_ZERO, Flags::NONE));
    for x in [f(0x8000_0001), Ieee32::NEG_INFINITY] {
        let r = x.sqrt(RNE);
        assert!(r.value.is_nan() && r.flags == Flags::INVALID, "{x:x}");
    }
}

#[test]
fn row16_signed_zero_products_and_invalid_operations() {
    assert_eq!(
        Ieee32::NEG_ZERO.mul(f(0x40a0_0000), RNE).value,
        Ieee32::NEG_ZERO
    );
    let invalid = [
        Ieee32::POS_ZERO.mul(Ieee32::INFINITY, RNE),
        Ieee32::INFINITY.sub(Ieee32::INFINITY, RNE),
        Ieee32::POS_ZERO.div(Ieee32::POS_ZERO, RNE),
        f(0xbf80_0000).sqrt(RNE),
    ];
    for r in invalid {
        assert_eq!((r.value, r.flags), (f(0xffc0_0000), Flags::INVALID));
    }
    let r = f(0xbf80_0000).div(Ieee32::POS_ZERO, RNE);
    assert_eq!(
        (r.value, r.flags),
        (Ieee32::NEG_INFINITY, Flags::DIV_BY_ZERO)
    );
}

#[test]
fn row17_fma_zero_signs_and_invalid_with_nan_addend() {
    assert_eq!(
        Ieee32::NEG_ZERO
            .fma(Ieee32::ONE, Ieee32::POS_ZERO, RNE)
            .value,
        Ieee32::POS_ZERO
    );
    assert_eq!(
        Ieee32::ONE
            .fma(Ieee32::NEG_ZERO, Ieee32::NEG_ZERO, RNE)
            .value,
        Ieee32::NEG_ZERO
    );
    let r = Ieee32::POS_ZERO.fma(Ieee32::INFINITY, f(0x7fc0_0000), RNE);
    assert!(r.value.is_nan() && r.flags == Flags::INVALID);
}

#[test]
fn row18_min_and_max_order_zeros() {
    let (p, n) = (Ieee32::POS_ZERO, Ieee32::NEG_ZERO);
    for (a, b) in [(p, n), (n, p)] {
        assert_eq!(a.minimum(b, RNE).value, n);
        assert_eq!(a.minimum_number(b, RNE).value, n);
        assert_eq!(a.maximum(b, RNE).value, p);
        assert_eq!(a.maximum_number(b, RNE).value, p);
        assert_eq!(a.min_num(b, RNE).value, n);
    }
}

#[test]
fn row19_min_and_max_with_nan() {
    let (qnan, snan, zero) = (f(0x7fc0_0000), f(0x7f80_0001), Ieee32::POS_ZERO);
    assert!(qnan.maximum(zero, RNE).value.is_nan());
    assert_eq!(qnan.maximum_number(zero, RNE).value, zero);
    assert_eq!(qnan.max_num(zero, RNE).value, zero);
    let r = snan.max_num(zero, RNE);
    assert!(r.value.is_nan() && !r.value.is_signaling_nan() && r.flags == Flags::INVALID);
}

#[test]
fn row20_total_order_separates_zeros_equality_does_not() {
    assert_eq!(
        Ieee32::NEG_ZERO.total_cmp(Ieee32::POS_ZERO),
        std::cmp::Ordering::Less
    );
    assert!(Ieee32::NEG_ZERO.eq_quiet(Ieee32::POS_ZERO).value);
}

#[test]
fn row21_quiet_bit_is_the_significand_msb() {
    assert!(f(0x7f80_0001).is_signaling_nan());
    assert!(f(0x7fc0_0000).is_nan() && !f(0x7fc0_0000).is_signaling_nan());
}

#[test]
fn row22_x86_propagates_the_first_nan_quieted() {
    let r = f(0x7f80_0001).add(Ieee32::ONE, RNE);
    assert_eq!((r.value, r.flags), (f(0x7fc0_0001), Flags::INVALID));
    assert_eq!(
        f(0x7fc0_0005).add(f(0xffc0_0007), RNE).value,
        f(0x7fc0_0005)
    );
    assert_eq!(Ieee32::ONE.mul(f(0xffc0_0007), RNE).value, f(0xffc0_0007));
}

#[test]
fn row23_canonical_policy_always_gives_0x7fc00000() {
    let canonical = FpEnv {
        nan: NanPolicy::Canonical,
        ..RNE
    };
    assert_eq!(
        f(0xff80_0001).add(Ieee32::ONE, canonical).value,
        f(0x7fc0_0000)
    );
    assert_eq!(
        Ieee32::POS_ZERO.div(Ieee32::POS_ZERO, canonical).value,
        f(0x7fc0_0000)
    );
}

#[test]
fn row26_27_invalid_float_to_int_gives_integer_indefinite() {
    for x in [f(0x7fc0_0000), f(0x4f32_d05e), f(0xcf32_d05e)] {
        // NaN, 3e9, −3e9
        let r = x.to_i32(RNE);
        assert_eq!((r.value, r.flags), (i32::MIN, Flags::INVALID), "{x:x}");
    }
}

#[test]
fn row28_negative_to_unsigned_is_invalid() {
    let r = f(0xbfc0_0000).to_u32(env(RoundingMode::TowardZero)); // −1.5 → −1
    assert_eq!((r.value, r.flags), (u32::MAX, Flags::INVALID));
    let r = f(0xbf00_0000).to_u32(env(RoundingMode::TowardZero)); // −0.5 → −0
    assert_eq!((r.value, r.flags), (0, Flags::INEXACT));
}

#[test]
fn row29_float_to_int_rounding_depends_on_mode() {
    let x = f(0xc020_0000); // −2.5
    let expected = [
        (RoundingMode::NearestEven, -2),
        (RoundingMode::NearestAway, -3),
        (RoundingMode::TowardZero, -2),
        (RoundingMode::TowardPos, -2),
        (RoundingMode::TowardNeg, -3),
    ];
    for (mode, value) in expected {
        assert_eq!(x.to_i64(env(mode)).value, value, "{mode}");
    }
}

#[test]
fn row30_round_is_ties_away_round_ties_even_is_ties_to_even() {
    let x = f(0x4020_0000); // 2.5
    assert_eq!(
        x.round_to_integral(env(RoundingMode::NearestAway)).value,
        f(0x4040_0000)
    );
    assert_eq!(x.round_to_integral(RNE).value, f(0x4000_0000));
    let exact = x.round_to_integral_exact(RNE);
    assert_eq!(exact.flags, Flags::INEXACT);
}
