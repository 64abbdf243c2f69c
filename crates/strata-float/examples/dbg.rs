use strata_float::oracle::{debug_fast, deciding_level, Function};
fn main() {
    let f = Function::Erf;
    let mut state = 5u64; let mut shown = 0;
    for _ in 0..200000 { state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let bits = (state >> 32) as u32;
        if deciding_level(f, bits) != Some(0) && shown < 12 { shown += 1; println!("  slow {f} {bits:08x} {:e}: {}", f32::from_bits(bits), debug_fast(f, bits)); } }
}
