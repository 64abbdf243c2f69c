//! The error model against exact rationals: every rounded result of `Fp32` (and so of `Ieee32`, by
//! the Fp32 bridge) stays within its local bound, the bound is attained on the tie cases of
//! float-notes.md, and γ_n matches its definition.

mod common;

use common::{Failures, Rng};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use strata_float::error_model::{
    gamma, gamma_upper_f64, unit_roundoff, LocalErrorBound, Operation, UNIT_ROUNDOFF,
};
use strata_float::{Fp32, Ieee32, RoundingMode};

fn fp(bits: u32) -> Fp32 {
    Fp32::from_ieee(Ieee32::from_bits(bits)).expect("finite")
}

#[test]
fn local_bounds_hold_on_random_operations_in_every_mode() {
    let mut rng = Rng::new(0xe440);
    let mut failures = Failures::new();
    let mut checked = 0;
    while checked < 20_000 {
        let (a, b, c) = (rng.float_bits(), rng.float_bits(), rng.float_bits());
        let (Some(x), Some(y), Some(z)) = [a, b, c]
            .map(|bits| Fp32::from_ieee(Ieee32::from_bits(bits)))
            .into()
        else {
            continue;
        };
        checked += 1;
        let mode = rng.mode();
        let (xv, yv, zv) = (x.value(), y.value(), z.value());
        let cases = [
            (Operation::Add, xv + yv),
            (Operation::Sub, xv - yv),
            (Operation::Mul, xv * yv),
            (Operation::Fma, xv * yv + zv),
        ];
        let mut exact_results: Vec<(Operation, BigRational)> = cases.into();
        if !yv.is_zero() {
            exact_results.push((Operation::Div, xv / yv));
        }
        for (op, exact) in exact_results {
            let bound = LocalErrorBound::new(op, mode);
            if let Some(rounded) = Fp32::round(&exact, mode).finite() {
                // Directed modes may round an overflowing value to ±MAX, outside the model.
                let overflowed = exact.abs() > *Fp32::max_finite().value();
                if !overflowed && !bound.holds(&exact, rounded.value()) {
                    failures.record(|| format!("{op:?} {mode} {a:#x} {b:#x} {c:#x}"));
                }
            }
        }
        // √: the rounded root r satisfies |r − √x| ≤ u·√x ⇔ compared through squares; it is
        // enough to check r² against x(1 ± rel)².
        if !xv.is_negative() {
            let rounded = x
                .sqrt(mode)
                .and_then(|r| r.finite())
                .expect("sqrt of a finite value");
            let rel = LocalErrorBound::new(Operation::Sqrt, mode).relative;
            let one = BigRational::from_integer(1.into());
            let r2 = rounded.value() * rounded.value();
            let (low, high) = (&one - &rel, &one + &rel);
            if r2 < xv * &low * &low || r2 > xv * &high * &high {
                failures.record(|| format!("Sqrt {mode} {a:#x}"));
            }
        }
    }
    failures.assert_none("local error bounds");
}

/// float-notes.md row 3: 0x3f7fffff × 0x00800000 = 2^-126 − 2^-150 rounds to 2^-126 with error
/// exactly 2^-150: the underflow term of the bound is attained.
#[test]
fn underflow_term_is_attained_on_the_subnormal_tie() {
    let exact = fp(0x3f7f_ffff).value() * fp(0x0080_0000).value();
    let rounded = Fp32::round(&exact, RoundingMode::NearestEven)
        .finite()
        .unwrap();
    let error = (rounded.value() - &exact).abs();
    let bound = LocalErrorBound::new(Operation::Mul, RoundingMode::NearestEven).bound(&exact);
    assert_eq!(error, bound);
    assert_eq!(rounded.to_ieee(), Ieee32::from_bits(0x0080_0000));
}

/// A normal-range tie: 1 + 2^-24 rounds to 1 with error 2^-24 = u · 1, within a factor (1 + u) of
/// the relative term u·|x|.
#[test]
fn relative_term_is_nearly_attained_on_a_normal_tie() {
    let exact = fp(0x3f80_0000).value() + fp(0x3380_0000).value();
    let rounded = Fp32::round(&exact, RoundingMode::NearestEven)
        .finite()
        .unwrap();
    let error = (rounded.value() - &exact).abs();
    let bound = LocalErrorBound::new(Operation::Add, RoundingMode::NearestEven).bound(&exact);
    assert!(
        error <= bound && error * (BigRational::from_integer(1.into()) + unit_roundoff()) >= bound
    );
}

#[test]
fn gamma_matches_its_definition() {
    let u = unit_roundoff();
    assert_eq!(u, BigRational::new(1.into(), BigInt::from(1u64 << 24)));
    assert_eq!(UNIT_ROUNDOFF, 2f64.powi(-24));
    for n in [1u64, 2, 10, 1000, 1 << 20, (1 << 24) - 1] {
        let nu = BigRational::from_integer(n.into()) * &u;
        let expected = &nu / (BigRational::from_integer(1.into()) - &nu);
        assert_eq!(gamma(n), Some(expected.clone()));
        let upper = BigRational::from_float(gamma_upper_f64(n).unwrap()).unwrap();
        assert!(upper >= expected, "n = {n}");
    }
    assert_eq!(gamma(1 << 24), None);
    assert_eq!(gamma_upper_f64(1 << 24), None);
}
