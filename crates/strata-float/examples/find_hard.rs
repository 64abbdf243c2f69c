//! Lists inputs whose binary64 fast path fails its rounding test (hard-to-round cases), by
//! scanning the given bit range with a stride: `find_hard <fn> <start-hex> <end-hex> <stride> <max>`.
use rayon::prelude::*;
use strata_float::exhaustive::ieee32_fn;
use strata_float::oracle::Function;
use strata_float::{slow_path_calls, FpEnv, Ieee32};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let f: Function = args[1].parse().unwrap();
    let start = u64::from_str_radix(&args[2], 16).unwrap();
    let end = u64::from_str_radix(&args[3], 16).unwrap();
    let stride: u64 = args[4].parse().unwrap();
    let max: usize = args[5].parse().unwrap();
    let g = ieee32_fn(f);
    let blocks: Vec<u64> = (start..end).step_by((stride * 4096) as usize).collect();
    let mut found: Vec<u32> = blocks
        .par_iter()
        .flat_map_iter(|&b| {
            let mut out = Vec::new();
            let mut x = b;
            while x < (b + stride * 4096).min(end) {
                let before = slow_path_calls();
                g(Ieee32::from_bits(x as u32), FpEnv::DEFAULT);
                if slow_path_calls() != before {
                    out.push(x as u32);
                }
                x += stride;
            }
            out
        })
        .collect();
    found.sort_unstable();
    let step = (found.len() / max).max(1);
    let picked: Vec<String> = found
        .iter()
        .step_by(step)
        .take(max)
        .map(|x| format!("0x{x:08x}"))
        .collect();
    println!(
        "{f}: {} slow-path inputs; {}",
        found.len(),
        picked.join(", ")
    );
}
