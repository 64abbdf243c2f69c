//! Bridge intervals vs exact reals: on random intervals (f32 and f64 endpoints), the exact result at
//! the endpoints and at interior rational points lies inside the interval result. Exact values are
//! rationals; exp, e^x − 1 (and so ln, tanh, σ) are bracketed by rational Taylor enclosures that are
//! far tighter (≈ 2^-140 relative) than any interval width under test.

mod common;

use common::{Failures, Rng};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use strata_float::interval::{Endpoint, Interval};

fn exact<T: Into<f64>>(x: T) -> BigRational {
    BigRational::from_float(x.into()).expect("finite")
}

fn pow2(exp: i64) -> BigRational {
    let power = BigInt::one() << exp.unsigned_abs() as usize;
    if exp >= 0 {
        BigRational::from_integer(power)
    } else {
        BigRational::new(BigInt::one(), power)
    }
}

/// Significant bits kept by the outward roundings that keep the series small.
const BITS: i64 = 160;

/// `q` rounded down (`up = false`) or up to `BITS` significant bits.
fn round_sig(q: &BigRational, up: bool) -> BigRational {
    if q.is_zero() {
        return q.clone();
    }
    let scale = BITS - (q.numer().bits() as i64 - q.denom().bits() as i64);
    let scaled = q * pow2(scale);
    let rounded = if up { scaled.ceil() } else { scaled.floor() };
    rounded * pow2(-scale)
}

/// Bounds (lo, hi) with lo ≤ e^x − 1 ≤ hi, with relative accuracy near 2^-140 even for tiny x:
/// halve x until |y| ≤ 1/2, sum the Taylor series of e^y − 1 to 45 terms (tail < 2^-230 · |y|),
/// then undo each halving with e^{2y} − 1 = m(m + 2), which increases with m > −1.
fn expm1_enclosure(x: &BigRational) -> (BigRational, BigRational) {
    let mut halvings = 0;
    let mut y = x.clone();
    while y.abs() > BigRational::new(1.into(), 2.into()) {
        y /= BigInt::from(2);
        halvings += 1;
    }
    let mut term = y.clone();
    let mut sum = y.clone();
    for i in 2..=45 {
        term = round_sig(&(&term * &y / BigInt::from(i)), false);
        sum += &term;
    }
    // Each term is within a relative 2^-(BITS-1) of its exact value and at most |y|; together with
    // the tail that is below 2^-(BITS-7) · |y|.
    let slack = y.abs() * pow2(-(BITS - 7));
    let two = BigRational::from_integer(2.into());
    let (mut lo, mut hi) = (&sum - &slack, &sum + &slack);
    for _ in 0..halvings {
        lo = round_sig(&(&lo * (&lo + &two)), false);
        hi = round_sig(&(&hi * (&hi + &two)), true);
    }
    (lo, hi)
}

/// Bounds on e^x with relative accuracy, also for large negative x (where 1 + expm1 would lose it):
/// the same reduction, with the series of e^y and squaring.
fn exp_enclosure(x: &BigRational) -> (BigRational, BigRational) {
    let mut halvings = 0;
    let mut y = x.clone();
    while y.abs() > BigRational::new(1.into(), 2.into()) {
        y /= BigInt::from(2);
        halvings += 1;
    }
    let (m_lo, m_hi) = expm1_enclosure(&y);
    let one = BigRational::one();
    let (mut lo, mut hi) = (m_lo + &one, m_hi + &one);
    for _ in 0..halvings {
        lo = round_sig(&(&lo * &lo), false);
        hi = round_sig(&(&hi * &hi), true);
    }
    (lo, hi)
}

/// Whether `[lo, hi]` (as exact reals, infinite ends unbounded) contains `[inner_lo, inner_hi]`.
fn encloses<T: Endpoint + Into<f64>>(
    interval: &Interval<T>,
    inner_lo: &BigRational,
    inner_hi: &BigRational,
) -> bool {
    let (lo, hi): (f64, f64) = (interval.lo().into(), interval.hi().into());
    (lo == f64::NEG_INFINITY || exact(lo) <= *inner_lo)
        && (hi == f64::INFINITY || *inner_hi <= exact(hi))
}

/// A random endpoint: mostly moderate magnitudes, sometimes tiny or huge.
fn random_value(rng: &mut Rng, limit: f64) -> f64 {
    let magnitude = match rng.below(4) {
        0 => (rng.below(1 << 20) as f64) / (1 << 20) as f64,
        1 => {
            f64::from_bits(0x3c00_0000_0000_0000 | (rng.next_u64() >> 12))
                * 2f64.powi(rng.below(40) as i32 - 20)
        }
        2 => rng.below(1000) as f64,
        _ => f64::from(f32::from_bits(rng.next_u32() & 0x7f7f_ffff)),
    };
    let value = magnitude.min(limit);
    if rng.below(2) == 0 {
        -value
    } else {
        value
    }
}

/// A random interval with endpoints of type `T` within ±limit, and exact rational points in it.
fn random_interval<T: Endpoint + Into<f64>>(
    rng: &mut Rng,
    limit: f64,
    convert: fn(f64) -> T,
) -> (Interval<T>, Vec<BigRational>) {
    let (a, b) = (
        convert(random_value(rng, limit)),
        convert(random_value(rng, limit)),
    );
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let interval = Interval::new(lo, hi).expect("ordered finite bounds");
    let (lo_q, hi_q) = (exact(lo), exact(hi));
    let mut points = vec![lo_q.clone(), hi_q.clone()];
    for k in 1..3 {
        points.push(&lo_q + (&hi_q - &lo_q) * BigRational::new(k.into(), 3.into()));
    }
    (interval, points)
}

fn check_arithmetic<T: Endpoint + Into<f64>>(convert: fn(f64) -> T, limit: f64, cases: usize) {
    let mut rng = Rng::new(0x1e7 ^ cases as u64);
    let mut failures = Failures::new();
    for _ in 0..cases {
        let (x, x_points) = random_interval(&mut rng, limit, convert);
        let (y, y_points) = random_interval(&mut rng, limit, convert);
        let zero = BigRational::zero();
        for p in &x_points {
            for q in &y_points {
                // The real quotient is undefined at q = 0.
                let binary: [(&str, Interval<T>, Option<BigRational>); 6] = [
                    ("add", x.add(&y), Some(p + q)),
                    ("sub", x.sub(&y), Some(p - q)),
                    ("mul", x.mul(&y), Some(p * q)),
                    ("min", x.min(&y), Some(p.clone().min(q.clone()))),
                    ("max", x.max(&y), Some(p.clone().max(q.clone()))),
                    ("div", x.div(&y), (!q.is_zero()).then(|| p / q)),
                ];
                for (name, result, value) in binary {
                    if value.is_some_and(|v| !encloses(&result, &v, &v)) {
                        failures.record(|| format!("{name} {x} {y} at {p}, {q}: {result}"));
                    }
                }
            }
            let unary: [(&str, Interval<T>, BigRational); 4] = [
                ("square", x.square(), p * p),
                ("relu", x.relu(), p.clone().max(zero.clone())),
                ("abs", x.abs(), p.abs()),
                ("neg", x.neg(), -p),
            ];
            for (name, result, value) in unary {
                if !encloses(&result, &value, &value) {
                    failures.record(|| format!("{name} {x} at {p}: {result}"));
                }
            }
            // √p lies in [lo, hi] iff lo² ≤ p ≤ hi² (for lo, hi ≥ 0).
            if !p.is_negative() {
                let root = x.sqrt().expect("the interval reaches p ≥ 0");
                let (lo, hi) = (exact(root.lo().into()), exact(root.hi().into()));
                if lo.is_negative()
                    || &lo * &lo > *p
                    || (root.hi().into() != f64::INFINITY && &hi * &hi < *p)
                {
                    failures.record(|| format!("sqrt {x} at {p}: {root}"));
                }
            }
        }
    }
    let (xs, ys): (Vec<_>, Vec<_>) = (0..16)
        .map(|_| {
            (
                random_interval(&mut rng, 1e3, convert),
                random_interval(&mut rng, 1e3, convert),
            )
        })
        .unzip();
    let dot = Interval::dot(
        &xs.iter().map(|x| x.0).collect::<Vec<_>>(),
        &ys.iter().map(|y| y.0).collect::<Vec<_>>(),
    )
    .expect("equal lengths");
    for pick in 0..4 {
        let value = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| &x.1[pick] * &y.1[(pick + 1) % 4])
            .fold(BigRational::zero(), |acc, term| acc + term);
        if !encloses(&dot, &value, &value) {
            failures.record(|| format!("dot: {value} outside {dot}"));
        }
    }
    failures.assert_none("interval arithmetic");
}

fn check_transcendental<T: Endpoint + Into<f64>>(convert: fn(f64) -> T, cases: usize) {
    let mut rng = Rng::new(0x7a5 ^ cases as u64);
    let mut failures = Failures::new();
    let one = BigRational::one();
    for _ in 0..cases {
        let (x, points) = random_interval(&mut rng, 100.0, convert);
        let (exp_x, tanh_x, sigmoid_x) = (x.exp(), x.tanh(), x.sigmoid());
        for p in points.iter().step_by(3) {
            let (lo, hi) = exp_enclosure(p);
            if !encloses(&exp_x, &lo, &hi) {
                failures.record(|| format!("exp {x} at {p}: {exp_x}"));
            }
            // With m = e^{2p} − 1, tanh p = m/(m + 2), increasing in m; with m = e^{−p} − 1,
            // σ(p) = 1/(m + 2), decreasing in m. No cancellation for tiny p.
            let two = BigRational::from_integer(2.into());
            let (lo2, hi2) = expm1_enclosure(&(p * BigInt::from(2)));
            let tanh = (&lo2 / (&lo2 + &two), &hi2 / (&hi2 + &two));
            if !encloses(&tanh_x, &tanh.0, &tanh.1) {
                failures.record(|| format!("tanh {x} at {p}: {tanh_x}"));
            }
            let (lo_neg, hi_neg) = expm1_enclosure(&-p);
            let sigmoid = (&one / (hi_neg + &two), &one / (lo_neg + &two));
            if !encloses(&sigmoid_x, &sigmoid.0, &sigmoid.1) {
                failures.record(|| format!("sigmoid {x} at {p}: {sigmoid_x}"));
            }
        }
        // ln on the positive part: lo ≤ ln p ⇔ e^lo ≤ p, checked with the exponential's bounds.
        let positive = x.abs();
        if positive.hi() > T::ZERO {
            let ln_x = positive.ln().expect("reaches a positive value");
            let p = exact(positive.hi().into());
            let (lo, hi): (f64, f64) = (ln_x.lo().into(), ln_x.hi().into());
            let below = lo == f64::NEG_INFINITY || exp_enclosure(&exact(lo)).1 <= p;
            let above = hi == f64::INFINITY || p <= exp_enclosure(&exact(hi)).0;
            if !(below && above) {
                failures.record(|| format!("ln {positive} at {p}: {ln_x}"));
            }
        }
    }
    failures.assert_none("interval transcendentals");
}

#[test]
fn arithmetic_encloses_exact_results_f32() {
    check_arithmetic(|x| x as f32, 1e30, 3_000);
}

#[test]
fn arithmetic_encloses_exact_results_f64() {
    check_arithmetic(|x| x, 1e300, 3_000);
}

#[test]
fn transcendentals_enclose_exact_results_f32() {
    check_transcendental(|x| x as f32, 150);
}

#[test]
fn transcendentals_enclose_exact_results_f64() {
    check_transcendental(|x| x, 150);
}

#[test]
fn invalid_intervals_and_domains_are_errors() {
    assert!(Interval::new(1.0f32, 0.0).is_err());
    assert!(Interval::new(f32::NAN, 0.0).is_err());
    assert!(Interval::new(f64::INFINITY, f64::INFINITY).is_err());
    assert!(Interval::point(f64::NEG_INFINITY).is_err());
    let negative = Interval::new(-2.0f64, -1.0).unwrap();
    assert!(negative.sqrt().is_err());
    assert!(negative.ln().is_err());
    let short = [Interval::point(1.0f32).unwrap()];
    assert!(Interval::dot(&short, &[]).is_err());
}

#[test]
fn division_by_an_interval_around_zero_is_the_whole_line() {
    let x = Interval::new(1.0f64, 2.0).unwrap();
    let around_zero = Interval::new(-1.0, 1.0).unwrap();
    assert_eq!(x.div(&around_zero), Interval::entire());
}
