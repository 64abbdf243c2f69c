//! Bridge `Ieee32` vs native `f32` (round-to-nearest-even, the only mode Rust exposes): bit-exact on
//! every non-NaN result; NaN results compared by class only, because Rust may change NaN payloads
//! (RFC 3514; the payload policy is checked against SoftFloat instead). Every native call goes
//! through `black_box` so that constant folding cannot stand in for the hardware.
//!
//! Default run: every pair of the edge set and 10^6 random pairs per operation. Long runs:
//! - `STRATA_FLOAT_CASES=1000000000 cargo test --release -p strata-float --test bridge_ieee32_native`
//!   (10^9 random pairs per operation);
//! - `cargo test --release -p strata-float --test bridge_ieee32_native -- --ignored`
//!   (sqrt, rounding to integral in all five modes, next_up/next_down and the conversions
//!   f32 → f64, f64 → f32, f32 → i32/u32, i32/u32 → f32, over all 2^32 inputs each).

mod common;

use common::{case_count, edge_set, Failures, Rng};
use std::hint::black_box;
use strata_float::{FpEnv, Ieee32, RoundingMode};

const RNE: FpEnv = FpEnv::DEFAULT;

fn native(x: Ieee32) -> f32 {
    f32::from_bits(x.to_bits())
}

/// Equal bits, or both NaN.
fn agrees(model: Ieee32, native: f32) -> bool {
    if native.is_nan() {
        model.is_nan()
    } else {
        model.to_bits() == native.to_bits()
    }
}

fn check_pairs<T: PartialEq + std::fmt::Debug>(
    name: &str,
    model: impl Fn(Ieee32, Ieee32) -> T,
    hardware: impl Fn(f32, f32) -> T,
) {
    let mut failures = Failures::new();
    let mut check = |a: Ieee32, b: Ieee32| {
        let (got, expected) = (
            model(a, b),
            hardware(black_box(native(a)), black_box(native(b))),
        );
        if got != expected {
            failures.record(|| format!("{name} {a:x} {b:x}: native {expected:?}, Ieee32 {got:?}"));
        }
    };
    let edges = edge_set();
    for &a in &edges {
        for &b in &edges {
            check(a, b);
        }
    }
    let mut rng = Rng::new(0x0a71e ^ name.len() as u64);
    for _ in 0..case_count(1_000_000) {
        let a = rng.float_bits();
        check(
            Ieee32::from_bits(a),
            Ieee32::from_bits(rng.float_bits_near(a)),
        );
    }
    failures.assert_none(name);
}

/// A float result compared the bridge's way (bits, NaN by class).
#[derive(Debug)]
struct Bits(u32);

impl PartialEq for Bits {
    fn eq(&self, other: &Bits) -> bool {
        agrees(Ieee32::from_bits(self.0), f32::from_bits(other.0))
    }
}

fn model_bits(x: Ieee32) -> Bits {
    Bits(x.to_bits())
}

fn native_bits(x: f32) -> Bits {
    Bits(x.to_bits())
}

macro_rules! binary_bridges {
    ($($name:ident: |$a:ident, $b:ident| $model:expr, |$x:ident, $y:ident| $native:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check_pairs(stringify!($name), |$a, $b| $model, |$x, $y| $native);
            }
        )*
    };
}

binary_bridges! {
    add: |a, b| model_bits(a.add(b, RNE).value), |x, y| native_bits(x + y);
    sub: |a, b| model_bits(a.sub(b, RNE).value), |x, y| native_bits(x - y);
    mul: |a, b| model_bits(a.mul(b, RNE).value), |x, y| native_bits(x * y);
    div: |a, b| model_bits(a.div(b, RNE).value), |x, y| native_bits(x / y);
    // fma with the third operand derived from the first two keeps it a two-parameter sweep that
    // still hits cancellation (c ≈ −a·b) and the f64 double-rounding trap shape.
    fma: |a, b| model_bits(a.fma(b, a.neg(), RNE).value), |x, y| native_bits(x.mul_add(y, -x));
    fma_cancel: |a, b| {
        let c = a.mul(b, RNE).value.neg();
        model_bits(a.fma(b, c, RNE).value)
    }, |x, y| native_bits(x.mul_add(y, -(x * y)));
    eq: |a, b| a.eq_quiet(b).value, |x, y| x == y;
    lt: |a, b| a.lt_signaling(b).value, |x, y| x < y;
    le: |a, b| a.le_signaling(b).value, |x, y| x <= y;
    total_cmp: |a, b| a.total_cmp(b), |x, y| x.total_cmp(&y);
    // Rust's `f32::min`/`max` may return either zero for ±0 and ignore signaling NaNs like quiet
    // ones, so those cases are left to the SoftFloat-free unit tests; the rest follow minNum/maxNum.
    min_num: |a, b| comparable_by_min_max(a, b).then(|| model_bits(a.min_num(b, RNE).value)),
        |x, y| comparable_by_min_max(Ieee32::from_bits(x.to_bits()), Ieee32::from_bits(y.to_bits()))
            .then(|| native_bits(x.min(y)));
    max_num: |a, b| comparable_by_min_max(a, b).then(|| model_bits(a.max_num(b, RNE).value)),
        |x, y| comparable_by_min_max(Ieee32::from_bits(x.to_bits()), Ieee32::from_bits(y.to_bits()))
            .then(|| native_bits(x.max(y)));
}

fn comparable_by_min_max(a: Ieee32, b: Ieee32) -> bool {
    let both_zero = a.is_zero() && b.is_zero();
    !(both_zero || a.is_signaling_nan() || b.is_signaling_nan())
}

/// Unary operations and conversions from binary32, over the edge set and random inputs, or every
/// one of the 2^32 inputs when `exhaustive`.
fn check_unary_ops(exhaustive: bool) {
    type Check = (&'static str, fn(Ieee32) -> bool);
    let checks: [Check; 14] = [
        ("sqrt", |a| {
            agrees(a.sqrt(RNE).value, black_box(native(a)).sqrt())
        }),
        ("round_ties_even", |a| {
            agrees(
                rti(a, RoundingMode::NearestEven),
                black_box(native(a)).round_ties_even(),
            )
        }),
        ("round", |a| {
            agrees(
                rti(a, RoundingMode::NearestAway),
                black_box(native(a)).round(),
            )
        }),
        ("trunc", |a| {
            agrees(
                rti(a, RoundingMode::TowardZero),
                black_box(native(a)).trunc(),
            )
        }),
        ("ceil", |a| {
            agrees(rti(a, RoundingMode::TowardPos), black_box(native(a)).ceil())
        }),
        ("floor", |a| {
            agrees(
                rti(a, RoundingMode::TowardNeg),
                black_box(native(a)).floor(),
            )
        }),
        ("f32_to_f64", |a| {
            let native = black_box(native(a)) as f64;
            let model = a.to_f64_bits(RNE).value;
            if native.is_nan() {
                f64::from_bits(model).is_nan()
            } else {
                model == native.to_bits()
            }
        }),
        ("f32_to_f64_to_f32", |a| {
            let wide = a.to_f64_bits(RNE).value;
            agrees(
                Ieee32::from_f64_bits(wide, RNE).value,
                black_box(f64::from_bits(wide)) as f32,
            )
        }),
        // `as` truncates and saturates (NaN → 0); IEEE is invalid there, so compare where the
        // truncation is in range.
        ("f32_to_i32", |a| {
            let model = a.to_i32(FpEnv::with_mode(RoundingMode::TowardZero));
            model.flags.contains(strata_float::Flags::INVALID)
                || model.value == black_box(native(a)) as i32
        }),
        ("f32_to_u32", |a| {
            let model = a.to_u32(FpEnv::with_mode(RoundingMode::TowardZero));
            model.flags.contains(strata_float::Flags::INVALID)
                || model.value == black_box(native(a)) as u32
        }),
        // The bit pattern read as an integer: all 2^32 values of i32 and u32.
        ("i32_to_f32", |a| {
            let int = a.to_bits() as i32;
            agrees(Ieee32::from_i32(int, RNE).value, black_box(int) as f32)
        }),
        ("u32_to_f32", |a| {
            let int = a.to_bits();
            agrees(Ieee32::from_u32(int, RNE).value, black_box(int) as f32)
        }),
        ("next_up", |a| {
            agrees(a.next_up(RNE).value, black_box(native(a)).next_up())
        }),
        ("next_down", |a| {
            agrees(a.next_down(RNE).value, black_box(native(a)).next_down())
        }),
    ];
    for (name, check) in checks {
        let failed: Vec<u32> = if exhaustive {
            sweep_all_bits(check)
        } else {
            let mut rng = Rng::new(0x1a7 ^ name.len() as u64);
            let edges = edge_set().into_iter().map(Ieee32::to_bits);
            let random = (0..case_count(1_000_000)).map(|_| rng.float_bits());
            edges
                .chain(random)
                .filter(|&bits| !check(Ieee32::from_bits(bits)))
                .take(20)
                .collect()
        };
        assert!(
            failed.is_empty(),
            "{name} disagrees with native f32 on {failed:x?}"
        );
    }
}

fn rti(a: Ieee32, mode: RoundingMode) -> Ieee32 {
    a.round_to_integral(FpEnv::with_mode(mode)).value
}

/// Runs `check` on all 2^32 bit patterns, split across the available cores; returns up to 20
/// failing patterns.
fn sweep_all_bits(check: fn(Ieee32) -> bool) -> Vec<u32> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let chunk = (1u64 << 32).div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let (start, end) = (t * chunk, ((t + 1) * chunk).min(1 << 32));
                    (start..end)
                        .map(|bits| bits as u32)
                        .filter(|&bits| !check(Ieee32::from_bits(bits)))
                        .take(20)
                        .collect::<Vec<u32>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("sweep thread"))
            .take(20)
            .collect()
    })
}

#[test]
fn unary_operations_and_conversions_from_f32() {
    check_unary_ops(false);
}

#[test]
#[ignore = "2^32 inputs per operation: run with --release -- --ignored"]
fn unary_operations_and_conversions_from_f32_exhaustive() {
    check_unary_ops(true);
}

/// Integer and binary64 sources: Rust's `as` casts to f32 round to nearest even.
#[test]
fn conversions_to_f32() {
    let mut rng = Rng::new(0xc0);
    let mut failures = Failures::new();
    for _ in 0..case_count(1_000_000) {
        let width = 1 + rng.below(64);
        let wide = rng.next_u64() >> (64 - width);
        let checks = [
            (
                "i32",
                Ieee32::from_i32(wide as i32, RNE).value,
                black_box(wide as i32) as f32,
            ),
            (
                "u32",
                Ieee32::from_u32(wide as u32, RNE).value,
                black_box(wide as u32) as f32,
            ),
            (
                "i64",
                Ieee32::from_i64(wide as i64, RNE).value,
                black_box(wide as i64) as f32,
            ),
            (
                "u64",
                Ieee32::from_u64(wide, RNE).value,
                black_box(wide) as f32,
            ),
            (
                "f64",
                Ieee32::from_f64_bits(wide, RNE).value,
                black_box(f64::from_bits(wide)) as f32,
            ),
        ];
        for (source, model, native) in checks {
            if !agrees(model, native) {
                failures.record(|| {
                    format!(
                        "{source} {wide:#x}: native {:#x}, Ieee32 {model:x}",
                        native.to_bits()
                    )
                });
            }
        }
    }
    failures.assert_none("conversions to f32");
}
