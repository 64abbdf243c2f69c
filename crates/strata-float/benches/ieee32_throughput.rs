//! Throughput of `Ieee32` add/mul/div/fma/sqrt beside rustc_apfloat (no sqrt), Berkeley SoftFloat 3e
//! (through softfloat-wrapper) and native `f32`, in one run, as Mops/s (the best of interleaved
//! timed runs, see `RUNS`) and ratios.
//!
//! `cargo bench -p strata-float --bench ieee32_throughput`

use rustc_apfloat::ieee::Single;
use rustc_apfloat::{Float as _, Round};
use softfloat_wrapper::{Float as _, RoundingMode as SfMode, F32};
use std::hint::black_box;
use std::time::Instant;
use strata_float::{FpEnv, Ieee32};

/// Operands per pass; small enough to stay in L1/L2 so that the arithmetic dominates.
const OPERANDS: usize = 4096;
/// Each timed run lasts about this long.
const RUN_SECONDS: f64 = 0.05;
/// Timed runs per kernel; the best one counts. The runs of all kernels of an op are interleaved, so
/// a burst of load from other processes hits them alike, and the best run is the least disturbed.
const RUNS: usize = 15;

/// Random finite operands with exponents near zero, so that no implementation takes an
/// early-out path for special values.
fn operands(seed: u64) -> Vec<u32> {
    let mut state = seed;
    (0..OPERANDS)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let bits = (state >> 32) as u32;
            (bits & 0x807f_ffff) | ((100 + (bits >> 23) % 56) << 23)
        })
        .collect()
}

/// Runs `op` over the operand triples `passes` times; returns the seconds taken.
fn time_passes(operands: [&[u32]; 3], passes: u64, op: &dyn Fn(u32, u32, u32) -> u32) -> f64 {
    let [a, b, c] = operands;
    let start = Instant::now();
    let mut sink = 0u32;
    for _ in 0..passes {
        for i in 0..OPERANDS {
            sink ^= op(black_box(a[i]), black_box(b[i]), black_box(c[i]));
        }
    }
    black_box(sink);
    start.elapsed().as_secs_f64()
}

/// The number of passes over the operands that takes about `RUN_SECONDS`.
fn calibrate(operands: [&[u32]; 3], op: &dyn Fn(u32, u32, u32) -> u32) -> u64 {
    let mut passes = 1u64;
    loop {
        let elapsed = time_passes(operands, passes, op);
        if elapsed > RUN_SECONDS / 4.0 {
            return ((passes as f64 * RUN_SECONDS / elapsed) as u64).max(1);
        }
        passes *= 2;
    }
}

/// Best-of-`RUNS` Mops/s of each kernel, with the kernels' runs interleaved.
fn measure(operands: [&[u32]; 3], kernels: &[&dyn Fn(u32, u32, u32) -> u32]) -> Vec<f64> {
    let passes: Vec<u64> = kernels.iter().map(|k| calibrate(operands, *k)).collect();
    let mut best = vec![0.0f64; kernels.len()];
    for _ in 0..RUNS {
        for ((kernel, &passes), best) in kernels.iter().zip(&passes).zip(&mut best) {
            let elapsed = time_passes(operands, passes, *kernel);
            *best = best.max((passes * OPERANDS as u64) as f64 / elapsed / 1e6);
        }
    }
    best
}

type Kernel = Box<dyn Fn(u32, u32, u32) -> u32>;

fn ieee(bits: u32) -> Ieee32 {
    Ieee32::from_bits(bits)
}

fn apfloat(bits: u32) -> Single {
    Single::from_bits(bits as u128)
}

fn native(bits: u32) -> f32 {
    f32::from_bits(bits)
}

fn main() {
    let (a, b, c) = (operands(1), operands(2), operands(3));
    let env = FpEnv::DEFAULT;
    let rne = Round::NearestTiesToEven;
    let sf = SfMode::TiesToEven;
    let ops: Vec<(&str, [Option<Kernel>; 4])> = vec![
        (
            "add",
            [
                Some(Box::new(move |x, y, _| {
                    ieee(x).add(ieee(y), env).value.to_bits()
                })),
                Some(Box::new(move |x, y, _| {
                    apfloat(x).add_r(apfloat(y), rne).value.to_bits() as u32
                })),
                Some(Box::new(move |x, y, _| {
                    F32::from_bits(x).add(F32::from_bits(y), sf).to_bits()
                })),
                Some(Box::new(|x, y, _| (native(x) + native(y)).to_bits())),
            ],
        ),
        (
            "mul",
            [
                Some(Box::new(move |x, y, _| {
                    ieee(x).mul(ieee(y), env).value.to_bits()
                })),
                Some(Box::new(move |x, y, _| {
                    apfloat(x).mul_r(apfloat(y), rne).value.to_bits() as u32
                })),
                Some(Box::new(move |x, y, _| {
                    F32::from_bits(x).mul(F32::from_bits(y), sf).to_bits()
                })),
                Some(Box::new(|x, y, _| (native(x) * native(y)).to_bits())),
            ],
        ),
        (
            "div",
            [
                Some(Box::new(move |x, y, _| {
                    ieee(x).div(ieee(y), env).value.to_bits()
                })),
                Some(Box::new(move |x, y, _| {
                    apfloat(x).div_r(apfloat(y), rne).value.to_bits() as u32
                })),
                Some(Box::new(move |x, y, _| {
                    F32::from_bits(x).div(F32::from_bits(y), sf).to_bits()
                })),
                Some(Box::new(|x, y, _| (native(x) / native(y)).to_bits())),
            ],
        ),
        (
            "fma",
            [
                Some(Box::new(move |x, y, z| {
                    ieee(x).fma(ieee(y), ieee(z), env).value.to_bits()
                })),
                Some(Box::new(move |x, y, z| {
                    apfloat(x)
                        .mul_add_r(apfloat(y), apfloat(z), rne)
                        .value
                        .to_bits() as u32
                })),
                Some(Box::new(move |x, y, z| {
                    F32::from_bits(x)
                        .fused_mul_add(F32::from_bits(y), F32::from_bits(z), sf)
                        .to_bits()
                })),
                Some(Box::new(|x, y, z| {
                    native(x).mul_add(native(y), native(z)).to_bits()
                })),
            ],
        ),
        (
            "sqrt",
            [
                Some(Box::new(move |x, _, _| {
                    ieee(x & 0x7fff_ffff).sqrt(env).value.to_bits()
                })),
                None,
                Some(Box::new(move |x, _, _| {
                    F32::from_bits(x & 0x7fff_ffff).sqrt(sf).to_bits()
                })),
                Some(Box::new(|x, _, _| native(x & 0x7fff_ffff).sqrt().to_bits())),
            ],
        ),
    ];
    println!("Mops/s (higher is better); ratios are Ieee32 throughput over the other's");
    println!(
        "{:<5} {:>9} {:>14} {:>10} {:>9} | {:>12} {:>12}",
        "op", "Ieee32", "rustc_apfloat", "SoftFloat", "native", "vs apfloat", "vs SoftFloat"
    );
    for (name, kernels) in &ops {
        let present: Vec<&dyn Fn(u32, u32, u32) -> u32> =
            kernels.iter().flatten().map(|k| k.as_ref()).collect();
        let mut measured = measure([&a, &b, &c], &present).into_iter();
        let rates: Vec<Option<f64>> = kernels
            .iter()
            .map(|k| k.as_ref().and_then(|_| measured.next()))
            .collect();
        let show = |r: Option<f64>| r.map_or("n/a".to_string(), |r| format!("{r:.1}"));
        let ratio = |r: Option<f64>| match (rates[0], r) {
            (Some(ours), Some(theirs)) => format!("{:.2}x", ours / theirs),
            _ => "n/a".to_string(),
        };
        println!(
            "{:<5} {:>9} {:>14} {:>10} {:>9} | {:>12} {:>12}",
            name,
            show(rates[0]),
            show(rates[1]),
            show(rates[2]),
            show(rates[3]),
            ratio(rates[1]),
            ratio(rates[2])
        );
    }
}
