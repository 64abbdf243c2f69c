//! Bridge `Ieee32` vs `Fp32`: on the finite path the decoded `Ieee32` result equals the exact real
//! result rounded by `Fp32`, in every mode; off it the total form gives `None`. The exception flags
//! are checked against the exact result too (both tininess rules), which is the only check of
//! tininess-before-rounding (SoftFloat runs with tininess after rounding).

mod common;

use common::{edge_set, Failures, Rng};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use strata_float::{
    Flagged, Flags, Fp32, FpEnv, Ieee32, NanPolicy, Rounded, RoundingMode, Tininess,
};

fn pow2(exp: i64) -> BigRational {
    let power = BigInt::from(1) << exp.unsigned_abs() as usize;
    if exp >= 0 {
        BigRational::from_integer(power)
    } else {
        BigRational::new(BigInt::from(1), power)
    }
}

fn floor_log2(q: &BigRational) -> i64 {
    let estimate = q.numer().bits() as i64 - q.denom().bits() as i64;
    if q >= &pow2(estimate) {
        estimate
    } else {
        estimate - 1
    }
}

/// `q` rounded to 24 significant bits with an unbounded exponent: scale into [1, 2), round there
/// (where the binary32 grid has exactly 24 bits), scale back.
fn round_unbounded(q: &BigRational, mode: RoundingMode) -> BigRational {
    if q.is_zero() {
        return q.clone();
    }
    let binade = floor_log2(&q.abs());
    let in_range = q * pow2(-binade);
    let rounded = Fp32::round(&in_range, mode)
        .finite()
        .expect("no overflow in [1, 2]");
    rounded.value() * pow2(binade)
}

/// The flags IEEE 754 requires for rounding the exact, defined result `exact`.
fn expected_flags(exact: &BigRational, env: FpEnv) -> Flags {
    let rounded_unbounded = round_unbounded(exact, env.mode);
    let overflow = rounded_unbounded.abs() >= pow2(128);
    let inexact = overflow
        || Fp32::round(exact, env.mode)
            .finite()
            .is_none_or(|r| r.value() != exact);
    let tiny = !exact.is_zero()
        && match env.tininess {
            Tininess::BeforeRounding => exact.abs() < pow2(-126),
            Tininess::AfterRounding => rounded_unbounded.abs() < pow2(-126),
        };
    let mut flags = Flags::NONE;
    if inexact {
        flags |= Flags::INEXACT;
    }
    if overflow {
        flags |= Flags::OVERFLOW;
    }
    if inexact && tiny {
        flags |= Flags::UNDERFLOW;
    }
    flags
}

/// What an operation is in the two models: the `Ieee32` call, the exact real result (`None` when the
/// real operation is undefined), and the total `Fp32` form.
struct Bridge {
    name: &'static str,
    arity: usize,
    ieee: fn(&[Ieee32], FpEnv) -> Flagged<Ieee32>,
    exact: fn(&[&BigRational]) -> Option<BigRational>,
    total: fn(&[Option<&Fp32>], RoundingMode) -> Option<Fp32>,
    /// Whether a non-finite operand may give a finite result (x / ±∞ = ±0).
    finite_from_infinite: bool,
}

fn check_case(bridge: &Bridge, inputs: &[Ieee32], env: FpEnv, failures: &mut Failures) {
    let result = (bridge.ieee)(inputs, env);
    let decoded: Vec<Option<Fp32>> = inputs.iter().map(|&x| Fp32::from_ieee(x)).collect();
    let refs: Vec<Option<&Fp32>> = decoded.iter().map(Option::as_ref).collect();
    let total = (bridge.total)(&refs, env.mode);
    let report = |what: &str| {
        format!(
            "{} {} {:?} {inputs:x?}: {what}; Ieee32 gave {:x} flags {}",
            bridge.name, env.mode, env.tininess, result.value, result.flags
        )
    };
    if refs.iter().any(Option::is_none) {
        if total.is_some() {
            failures.record(|| report("total form is Some off the finite path"));
        }
        if result.value.is_finite() && !bridge.finite_from_infinite {
            failures.record(|| report("finite result from a non-finite operand"));
        }
        return;
    }
    if Fp32::from_ieee(result.value) != total {
        failures.record(|| {
            report(&format!(
                "Fp32 total form gives {:?}",
                total.map(|t| t.to_ieee())
            ))
        });
    }
    let values: Vec<&BigRational> = decoded.iter().flatten().map(Fp32::value).collect();
    let expected = match (bridge.exact)(&values) {
        Some(exact) => expected_flags(&exact, env),
        None if bridge.name == "div" && !values[0].is_zero() => Flags::DIV_BY_ZERO,
        None => Flags::INVALID,
    };
    if result.flags != expected {
        failures.record(|| report(&format!("expected flags {expected}")));
    }
}

fn check_bridge(bridge: &Bridge, random_cases: u64) {
    let mut failures = Failures::new();
    let edges = edge_set();
    // All pairs of the edge set for binary operations; for fma, pairs of a smaller subset with a
    // third operand from an even smaller one, to keep the exact-rational work bounded.
    let (first, third): (Vec<Ieee32>, Vec<Ieee32>) = if bridge.arity == 3 {
        (
            edges.iter().copied().step_by(5).collect(),
            edges.iter().copied().step_by(23).collect(),
        )
    } else {
        (edges.clone(), vec![Ieee32::POS_ZERO])
    };
    let seconds = if bridge.arity == 1 {
        vec![Ieee32::POS_ZERO]
    } else {
        first.clone()
    };
    // Each combination runs in every mode; the tininess rule alternates with the mode and the
    // combination, so every combination meets both rules.
    let mut combination = 0usize;
    for &a in &first {
        for &b in &seconds {
            for &c in &third {
                let inputs = [a, b, c];
                combination += 1;
                for (index, mode) in RoundingMode::ALL.into_iter().enumerate() {
                    let tininess = if (index + combination).is_multiple_of(2) {
                        Tininess::AfterRounding
                    } else {
                        Tininess::BeforeRounding
                    };
                    let env = FpEnv {
                        mode,
                        tininess,
                        nan: NanPolicy::X86Sse,
                    };
                    check_case(bridge, &inputs[..bridge.arity], env, &mut failures);
                }
            }
        }
    }
    let mut rng = Rng::new(0xb1d9e);
    for _ in 0..random_cases {
        let a = rng.float_bits();
        let inputs = [a, rng.float_bits_near(a), rng.float_bits()].map(Ieee32::from_bits);
        let tininess = if rng.below(2) == 0 {
            Tininess::AfterRounding
        } else {
            Tininess::BeforeRounding
        };
        let env = FpEnv {
            mode: rng.mode(),
            tininess,
            nan: NanPolicy::X86Sse,
        };
        check_case(bridge, &inputs[..bridge.arity], env, &mut failures);
    }
    failures.assert_none(bridge.name);
}

fn nonzero(q: &BigRational) -> Option<&BigRational> {
    (!q.is_zero()).then_some(q)
}

/// √q is irrational in general, so its flags are checked on a rational stand-in that rounds the
/// same way in every mode: the root itself when exact, otherwise a point a quarter ulp inside the
/// half of (round-down, round-up) that round-to-nearest picks (the root of a binary32 value is never
/// a midpoint, so ties do not arise).
fn sqrt_stand_in(q: &BigRational) -> Option<BigRational> {
    if q.is_negative() {
        return None;
    }
    let low = Fp32::round_sqrt(q, RoundingMode::TowardZero)?.finite()?;
    if low.value() * low.value() == *q {
        return Some(low.value().clone());
    }
    let high = Fp32::round_sqrt(q, RoundingMode::TowardPos)?.finite()?;
    let nearest = Fp32::round_sqrt(q, RoundingMode::NearestEven)?.finite()?;
    let quarter = (high.value() - low.value()) / BigInt::from(4);
    Some(if nearest == low {
        low.value() + quarter
    } else {
        high.value() - quarter
    })
}

macro_rules! bridges {
    ($($name:ident: $arity:literal, ieee |$x:ident, $env:ident| $ieee:expr, exact |$q:ident| $exact:expr, total |$t:ident, $mode:ident| $total:expr, finite_from_infinite: $ffi:expr, random: $random:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check_bridge(
                    &Bridge {
                        name: stringify!($name),
                        arity: $arity,
                        ieee: |$x, $env| $ieee,
                        exact: |$q| $exact,
                        total: |$t, $mode| $total,
                        finite_from_infinite: $ffi,
                    },
                    $random,
                );
            }
        )*
    };
}

bridges! {
    add: 2, ieee |x, env| x[0].add(x[1], env), exact |q| Some(q[0] + q[1]),
        total |t, mode| Fp32::total_add(t[0], t[1], mode), finite_from_infinite: false, random: 100_000;
    sub: 2, ieee |x, env| x[0].sub(x[1], env), exact |q| Some(q[0] - q[1]),
        total |t, mode| Fp32::total_sub(t[0], t[1], mode), finite_from_infinite: false, random: 100_000;
    mul: 2, ieee |x, env| x[0].mul(x[1], env), exact |q| Some(q[0] * q[1]),
        total |t, mode| Fp32::total_mul(t[0], t[1], mode), finite_from_infinite: false, random: 100_000;
    div: 2, ieee |x, env| x[0].div(x[1], env), exact |q| Some(q[0] / nonzero(q[1])?),
        total |t, mode| Fp32::total_div(t[0], t[1], mode), finite_from_infinite: true, random: 100_000;
    fma: 3, ieee |x, env| x[0].fma(x[1], x[2], env), exact |q| Some(q[0] * q[1] + q[2]),
        total |t, mode| Fp32::total_fma(t[0], t[1], t[2], mode), finite_from_infinite: false, random: 30_000;
    sqrt: 1, ieee |x, env| x[0].sqrt(env), exact |q| sqrt_stand_in(q[0]),
        total |t, mode| Fp32::total_sqrt(t[0], mode), finite_from_infinite: false, random: 100_000;
}

/// Rounding a rational that overflows gives ±∞ or ±MAX by mode, the total form `None` for ±∞.
#[test]
fn overflow_goes_to_infinity_or_max_by_mode() {
    let max = Fp32::max_finite();
    let beyond = max.value() * BigInt::from(2);
    for (mode, to_infinity) in [
        (RoundingMode::NearestEven, true),
        (RoundingMode::NearestAway, true),
        (RoundingMode::TowardZero, false),
        (RoundingMode::TowardPos, true),
        (RoundingMode::TowardNeg, false),
    ] {
        let rounded = Fp32::round(&beyond, mode);
        let ieee = Ieee32::MAX.add(Ieee32::MAX, FpEnv::with_mode(mode)).value;
        assert_eq!(
            rounded == Rounded::Infinite { negative: false },
            to_infinity,
            "{mode}"
        );
        assert_eq!(ieee.is_infinite(), to_infinity, "{mode}");
        assert_eq!(Fp32::from_ieee(ieee), rounded.finite());
    }
}
