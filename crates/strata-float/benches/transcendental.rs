//! ns/op of `Ieee32`'s correctly rounded transcendentals (round to nearest even) beside what a
//! Rust user calls natively in `f32` (`f32::exp` etc., `1/(1+(-x).exp())` for sigmoid and the
//! `libm` crate's `erff`), in one run, and the ratio (target: within 10× of native).
//!
//! Inputs are uniform in each function's working range (where the general path runs, not the
//! trivial asymptotic ranges), plus a sin/cos set of huge arguments for the exact reduction.
//!
//! `cargo bench -p strata-float --bench transcendental`

use std::hint::black_box;
use std::time::Instant;
use strata_float::exhaustive::{ieee32_fn, native_fn};
use strata_float::oracle::Function;
use strata_float::{FpEnv, Ieee32};

const OPERANDS: usize = 4096;
const RUN_SECONDS: f64 = 0.05;
const RUNS: usize = 11;

/// Uniform in [lo, hi) from a fixed LCG.
fn operands(seed: u64, lo: f32, hi: f32) -> Vec<u32> {
    let mut state = seed;
    (0..OPERANDS)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (state >> 40) as f32 / (1u64 << 24) as f32;
            (lo + (hi - lo) * u).to_bits()
        })
        .collect()
}

/// Huge arguments: random significands at exponents 2^20 … 2^127.
fn huge(seed: u64) -> Vec<u32> {
    let mut state = seed;
    (0..OPERANDS)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let bits = (state >> 32) as u32;
            (bits & 0x807f_ffff) | ((147 + (bits >> 23) % 107) << 23)
        })
        .collect()
}

fn time_passes(x: &[u32], passes: u64, op: &dyn Fn(u32) -> u32) -> f64 {
    let start = Instant::now();
    let mut sink = 0u32;
    for _ in 0..passes {
        for &v in x {
            sink ^= op(black_box(v));
        }
    }
    black_box(sink);
    start.elapsed().as_secs_f64()
}

fn calibrate(x: &[u32], op: &dyn Fn(u32) -> u32) -> u64 {
    let mut passes = 1u64;
    loop {
        let elapsed = time_passes(x, passes, op);
        if elapsed > RUN_SECONDS / 4.0 {
            return ((passes as f64 * RUN_SECONDS / elapsed) as u64).max(1);
        }
        passes *= 2;
    }
}

/// Best-of-`RUNS` ns/op of each kernel, runs interleaved.
fn measure(x: &[u32], kernels: &[&dyn Fn(u32) -> u32]) -> Vec<f64> {
    let passes: Vec<u64> = kernels.iter().map(|k| calibrate(x, *k)).collect();
    let mut best = vec![f64::INFINITY; kernels.len()];
    for _ in 0..RUNS {
        for ((kernel, &passes), best) in kernels.iter().zip(&passes).zip(&mut best) {
            let elapsed = time_passes(x, passes, *kernel);
            *best = best.min(elapsed * 1e9 / (passes * OPERANDS as u64) as f64);
        }
    }
    best
}

fn main() {
    let sets: Vec<(Function, &str, Vec<u32>)> = vec![
        (Function::Exp, "[-87, 88]", operands(1, -87.0, 88.0)),
        (Function::Expm1, "[-5, 5]", operands(2, -5.0, 5.0)),
        (Function::Log, "(0, 1e4]", operands(3, 1e-30, 1e4)),
        (Function::Log1p, "[-0.9, 100]", operands(4, -0.9, 100.0)),
        (Function::Tanh, "[-5, 5]", operands(5, -5.0, 5.0)),
        (Function::Sigmoid, "[-15, 15]", operands(6, -15.0, 15.0)),
        (Function::Erf, "[-3.5, 3.5]", operands(7, -3.5, 3.5)),
        (Function::Sin, "[-100, 100]", operands(8, -100.0, 100.0)),
        (Function::Cos, "[-100, 100]", operands(9, -100.0, 100.0)),
        (Function::Sin, "[2^20, 2^128)", huge(10)),
        (Function::Cos, "[2^20, 2^128)", huge(11)),
    ];
    println!("ns/op (lower is better), best of {RUNS} interleaved runs; ratio = Ieee32 / native");
    println!(
        "{:<8} {:<15} {:>9} {:>9}  {:<18} {:>7}",
        "fn", "inputs", "Ieee32", "native", "(native is)", "ratio"
    );
    for (f, range, x) in &sets {
        let ours = ieee32_fn(*f);
        let (native, native_name) = native_fn(*f);
        let env = FpEnv::DEFAULT;
        let ieee = move |v: u32| ours(Ieee32::from_bits(v), env).value.to_bits();
        let nat = move |v: u32| native(f32::from_bits(v)).to_bits();
        let r = measure(x, &[&ieee, &nat]);
        println!(
            "{:<8} {:<15} {:>9.1} {:>9.1}  {:<18} {:>6.1}x",
            f.name(),
            range,
            r[0],
            r[1],
            native_name,
            r[0] / r[1]
        );
    }
}
