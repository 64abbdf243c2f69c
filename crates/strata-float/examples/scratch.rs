use strata_float::oracle::{decide, deciding_level, Function};
use strata_float::{FpEnv, Ieee32, RoundingMode};
use std::time::Instant;
fn ours(f: Function, x: Ieee32, env: FpEnv) -> strata_float::Flagged<Ieee32> {
    match f {
        Function::Exp => x.exp(env),
        Function::Expm1 => x.expm1(env),
        Function::Log => x.log(env),
        Function::Log1p => x.log1p(env),
        Function::Tanh => x.tanh(env),
        Function::Sigmoid => x.sigmoid(env),
        Function::Erf => x.erf(env),
        Function::Sin => x.sin(env),
        Function::Cos => x.cos(env),
    }
}
fn main() {
    let n: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(200_000);
    for f in Function::ALL {
        let mut state = 777u64;
        let mut bad = 0; let mut shown = 0; let mut undecided = 0; let mut levels = [0usize; 6];
        let t = Instant::now();
        for i in 0..n {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let bits = if i % 2 == 0 { (state >> 32) as u32 } else { ((state >> 40) as u32 & 0x807f_ffff) | ((100 + ((state >> 20) as u32 % 40)) << 23) };
            let Some(d) = decide(f, bits) else { undecided += 1; if undecided < 4 { println!("{f} undecided {bits:08x}"); } continue; };
            if i % 50 == 0 { if let Some(l) = deciding_level(f, bits) { levels[l] += 1; } }
            for (mi, mode) in RoundingMode::ALL.into_iter().enumerate() {
                let r = ours(f, Ieee32::from_bits(bits), FpEnv::with_mode(mode));
                if (r.value.to_bits(), r.flags) != d.results[mi] {
                    bad += 1;
                    if shown < 6 { shown += 1; println!("{f} {mode} x={bits:08x} ({:e}) ours={:08x} {} oracle={:08x} {}", f32::from_bits(bits), r.value.to_bits(), r.flags, d.results[mi].0, d.results[mi].1); }
                }
            }
        }
        println!("{f}: {bad} mismatches, {undecided} undecided, levels(sampled) {levels:?}, {:.2?}", t.elapsed());
    }
}
