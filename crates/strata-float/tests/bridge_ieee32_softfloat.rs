//! Bridge `Ieee32` vs Berkeley SoftFloat 3e (8086-SSE specialization, tininess after rounding), via
//! `softfloat-wrapper`: every operation, every rounding mode, result bits (NaN payloads included) and
//! exception flags, on the edge set and on random TestFloat-style cases.
//!
//! `STRATA_FLOAT_CASES=<n>` raises the random cases per operation (default 10^6); the long sweep is
//! `STRATA_FLOAT_CASES=1000000000 cargo test --release -p strata-float --test bridge_ieee32_softfloat`.

mod common;

use common::{case_count, edge_set, Failures, Rng};
use softfloat_wrapper::{ExceptionFlags, Float, RoundingMode as SfMode, F32, F64};
use strata_float::{Flagged, FpEnv, Ieee32, RoundingMode};

fn sf_mode(mode: RoundingMode) -> SfMode {
    match mode {
        RoundingMode::NearestEven => SfMode::TiesToEven,
        RoundingMode::NearestAway => SfMode::TiesToAway,
        RoundingMode::TowardZero => SfMode::TowardZero,
        RoundingMode::TowardPos => SfMode::TowardPositive,
        RoundingMode::TowardNeg => SfMode::TowardNegative,
    }
}

/// Runs a SoftFloat call and returns its result with the flags it raised (flags are thread-local).
fn softfloat<T: Into<u64>>(call: impl FnOnce() -> T) -> (u64, u8) {
    ExceptionFlags::default().set();
    let value = call().into();
    let mut flags = ExceptionFlags::default();
    flags.get();
    (value, flags.to_bits())
}

fn model<T: Into<u64>>(result: Flagged<T>) -> (u64, u8) {
    (result.value.into(), result.flags.bits())
}

fn f32s(bits: u64) -> F32 {
    F32::from_bits(bits as u32)
}

fn ieee(bits: u64) -> Ieee32 {
    Ieee32::from_bits(bits as u32)
}

/// What one operand of an operation is.
#[derive(Clone, Copy)]
enum Operand {
    F32,
    F64,
    Int { bits: u32 },
}

impl Operand {
    fn edges(self) -> Vec<u64> {
        match self {
            Operand::F32 => edge_set().iter().map(|x| x.to_bits() as u64).collect(),
            Operand::F64 => f64_edges(),
            Operand::Int { bits } => integer_edges(bits),
        }
    }

    fn random(self, rng: &mut Rng, previous: Option<u64>) -> u64 {
        match (self, previous) {
            (Operand::F32, Some(near)) => rng.float_bits_near(near as u32) as u64,
            (Operand::F32, None) => rng.float_bits() as u64,
            (Operand::F64, _) => random_f64_bits(rng),
            (Operand::Int { bits }, _) => {
                let width = 1 + rng.below(bits as u64);
                let value = rng.next_u64() >> (64 - width);
                if bits == 64 {
                    value
                } else {
                    value & ((1 << bits) - 1)
                }
            }
        }
    }
}

/// binary64 values around the binary32 range: exact binary32 values, their neighbours, values between
/// two binary32 values (ties and near-ties), and out-of-range ones.
fn f64_edges() -> Vec<u64> {
    let mut edges = Vec::new();
    for x in edge_set() {
        let exact = x.to_f64_bits(FpEnv::DEFAULT).value;
        let half_ulp_below = 1u64 << 28;
        edges.extend(
            [0, 1, half_ulp_below]
                .iter()
                .flat_map(|&d| [exact.wrapping_add(d), exact.wrapping_sub(d)]),
        );
    }
    edges.extend([
        0x47ef_ffff_e000_0000, // binary32 MAX + half an ulp: the overflow tie
        0x47ef_ffff_dfff_ffff,
        0x36a0_0000_0000_0000, // 2^-149
        0x3690_0000_0000_0000, // 2^-150, half the smallest subnormal
        0x3690_0000_0000_0001,
        0x0000_0000_0000_0001, // smallest binary64 subnormal
        0x7ff0_0000_0000_0001, // signaling NaN with payload in the low bits only
        0x7ff8_0000_2000_0000,
        0xfff4_0000_0000_0000,
    ]);
    edges
}

/// Integer edges: 0, ±1, the binary32 integer-precision edges, and the type's extremes.
fn integer_edges(bits: u32) -> Vec<u64> {
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    };
    let mut edges = vec![
        0,
        1,
        2,
        3,
        (1 << 24) - 1,
        1 << 24,
        (1 << 24) + 1,
        (1 << 24) + 3,
        (1 << 25) + 1,
    ];
    edges.extend([mask, mask - 1, mask >> 1, (mask >> 1) + 1, (mask >> 1) - 1]);
    if bits == 64 {
        edges.extend([
            (1 << 63) + (1 << 39) + 1,
            (1 << 40) + 1,
            0x0000_0100_0000_0081,
        ]);
    }
    edges
        .iter()
        .flat_map(|&e| [e & mask, e.wrapping_neg() & mask])
        .collect()
}

fn random_f64_bits(rng: &mut Rng) -> u64 {
    match rng.below(3) {
        0 => rng.next_u64(),
        // A binary32 value with random extra low bits: rounding cases, ties included.
        1 => {
            let exact = ieee(rng.float_bits() as u64)
                .to_f64_bits(FpEnv::DEFAULT)
                .value;
            let extra = match rng.below(3) {
                0 => 1 << 28,
                1 => rng.next_u64() & ((1 << 29) - 1),
                _ => (1 << 28) ^ rng.below(2),
            };
            exact ^ extra
        }
        // An exponent near or just outside the binary32 range.
        _ => {
            let exponent = 1023 - 160 + rng.below(300);
            (rng.below(2) << 63) | (exponent << 52) | (rng.next_u64() & ((1 << 52) - 1))
        }
    }
}

type ModelFn = fn(&[u64], FpEnv) -> (u64, u8);
type OracleFn = fn(&[u64], SfMode) -> (u64, u8);

/// Checks one operation on the edge set (all combinations; for three operands the third ranges over
/// every eighth edge value) in every mode, then on random cases.
fn check(name: &str, operands: &[Operand], model_fn: ModelFn, oracle_fn: OracleFn) {
    let mut failures = Failures::new();
    let mut run =
        |inputs: &[u64], mode: RoundingMode| {
            let expected = oracle_fn(inputs, sf_mode(mode));
            let got = model_fn(inputs, FpEnv::with_mode(mode));
            if expected != got {
                failures.record(|| {
                    format!(
                    "{name} {mode} {}: SoftFloat {:#x} flags {:#04x}, Ieee32 {:#x} flags {:#04x}",
                    inputs.iter().map(|x| format!("{x:#x}")).collect::<Vec<_>>().join(" "),
                    expected.0,
                    expected.1,
                    got.0,
                    got.1
                )
                });
            }
        };
    let edge_lists: Vec<Vec<u64>> = operands
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let edges = op.edges();
            if i == 2 {
                edges.into_iter().step_by(8).collect()
            } else {
                edges
            }
        })
        .collect();
    let mut inputs = vec![0u64; operands.len()];
    for_each_combination(&edge_lists, &mut inputs, 0, &mut |inputs| {
        for mode in RoundingMode::ALL {
            run(inputs, mode);
        }
    });
    let mut rng = Rng::new(0x5eed ^ name.len() as u64);
    for _ in 0..case_count(1_000_000) {
        for i in 0..operands.len() {
            let previous = (i > 0).then(|| inputs[i - 1]);
            inputs[i] = operands[i].random(&mut rng, previous);
        }
        let mode = rng.mode();
        run(&inputs, mode);
    }
    failures.assert_none(name);
}

fn for_each_combination(
    lists: &[Vec<u64>],
    inputs: &mut Vec<u64>,
    depth: usize,
    visit: &mut dyn FnMut(&[u64]),
) {
    if depth == lists.len() {
        visit(inputs);
        return;
    }
    for &value in &lists[depth] {
        inputs[depth] = value;
        for_each_combination(lists, inputs, depth + 1, visit);
    }
}

/// One `#[test]` per operation: operand kinds, the model call, the SoftFloat call.
macro_rules! softfloat_bridge {
    ($($name:ident [$($operand:expr),+] model |$x:ident, $env:ident| $model:expr; oracle |$y:ident, $mode:ident| $oracle:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check(
                    stringify!($name),
                    &[$($operand),+],
                    |$x, $env| $model,
                    |$y, $mode| $oracle,
                );
            }
        )*
    };
}

const F: Operand = Operand::F32;
const I32: Operand = Operand::Int { bits: 32 };
const I64: Operand = Operand::Int { bits: 64 };

softfloat_bridge! {
    add [F, F] model |x, env| model(ieee(x[0]).add(ieee(x[1]), env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| f32s(y[0]).add(f32s(y[1]), m).to_bits());
    sub [F, F] model |x, env| model(ieee(x[0]).sub(ieee(x[1]), env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| f32s(y[0]).sub(f32s(y[1]), m).to_bits());
    mul [F, F] model |x, env| model(ieee(x[0]).mul(ieee(x[1]), env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| f32s(y[0]).mul(f32s(y[1]), m).to_bits());
    div [F, F] model |x, env| model(ieee(x[0]).div(ieee(x[1]), env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| f32s(y[0]).div(f32s(y[1]), m).to_bits());
    rem [F, F] model |x, env| model(ieee(x[0]).rem(ieee(x[1]), env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| f32s(y[0]).rem(f32s(y[1]), m).to_bits());
    fma [F, F, F] model |x, env| model(ieee(x[0]).fma(ieee(x[1]), ieee(x[2]), env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| f32s(y[0]).fused_mul_add(f32s(y[1]), f32s(y[2]), m).to_bits());
    sqrt [F] model |x, env| model(ieee(x[0]).sqrt(env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| f32s(y[0]).sqrt(m).to_bits());
    round_to_integral [F] model |x, env| model(ieee(x[0]).round_to_integral(env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| f32s(y[0]).round_to_integral(m).to_bits());
    eq_quiet [F, F] model |x, _env| model(ieee(x[0]).eq_quiet(ieee(x[1])));
        oracle |y, _m| softfloat(|| f32s(y[0]).eq(f32s(y[1])));
    lt_signaling [F, F] model |x, _env| model(ieee(x[0]).lt_signaling(ieee(x[1])));
        oracle |y, _m| softfloat(|| f32s(y[0]).lt(f32s(y[1])));
    le_signaling [F, F] model |x, _env| model(ieee(x[0]).le_signaling(ieee(x[1])));
        oracle |y, _m| softfloat(|| f32s(y[0]).le(f32s(y[1])));
    f32_to_f64 [F] model |x, env| model(ieee(x[0]).to_f64_bits(env));
        oracle |y, m| softfloat(|| f32s(y[0]).to_f64(m).to_bits());
    f64_to_f32 [Operand::F64] model |x, env| model(Ieee32::from_f64_bits(x[0], env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| F64::from_bits(y[0]).to_f32(m).to_bits());
    f32_to_i32 [F] model |x, env| model(ieee(x[0]).to_i32(env).map(|v| v as u32));
        oracle |y, m| softfloat(|| f32s(y[0]).to_i32(m, true) as u32);
    f32_to_u32 [F] model |x, env| model(ieee(x[0]).to_u32(env));
        oracle |y, m| softfloat(|| f32s(y[0]).to_u32(m, true));
    f32_to_i64 [F] model |x, env| model(ieee(x[0]).to_i64(env).map(|v| v as u64));
        oracle |y, m| softfloat(|| f32s(y[0]).to_i64(m, true) as u64);
    f32_to_u64 [F] model |x, env| model(ieee(x[0]).to_u64(env));
        oracle |y, m| softfloat(|| f32s(y[0]).to_u64(m, true));
    i32_to_f32 [I32] model |x, env| model(Ieee32::from_i32(x[0] as i32, env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| F32::from_i32(y[0] as i32, m).to_bits());
    u32_to_f32 [I32] model |x, env| model(Ieee32::from_u32(x[0] as u32, env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| F32::from_u32(y[0] as u32, m).to_bits());
    i64_to_f32 [I64] model |x, env| model(Ieee32::from_i64(x[0] as i64, env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| F32::from_i64(y[0] as i64, m).to_bits());
    u64_to_f32 [I64] model |x, env| model(Ieee32::from_u64(x[0], env).map(Ieee32::to_bits));
        oracle |y, m| softfloat(|| F32::from_u64(y[0], m).to_bits());
}
