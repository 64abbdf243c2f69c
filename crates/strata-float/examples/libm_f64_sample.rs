//! The binary64 libm (`f64::exp`, `f64::ln`, `f64::tanh`, which `interval` relies on) at binary32
//! inputs, against the oracle's 192-bit enclosures: the largest error in binary64 ulps over a
//! sample (binary32 inputs are what `Interval<f32>` hands to libm).
//!
//! `cargo run --release -p strata-float --example libm_f64_sample -- 100000`
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive};
use strata_float::oracle::{enclosure, Function};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    type Native = fn(f64) -> f64;
    let fns: [(Function, Native, &str); 3] = [
        (Function::Exp, f64::exp, "f64::exp"),
        (Function::Log, f64::ln, "f64::ln"),
        (Function::Tanh, f64::tanh, "f64::tanh"),
    ];
    for (f, native, name) in fns {
        let mut state = 0x5eedu64;
        let (mut worst, mut worst_at, mut measured) = (0.0f64, 0u32, 0usize);
        while measured < n {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let raw = (state >> 32) as u32;
            // exp, tanh: |x| in [2^-27, 80]; ln: any positive finite x.
            let bits = if f == Function::Log {
                raw & 0x7fff_ffff
            } else {
                (raw & 0x807f_ffff) | ((100 + (raw >> 23) % 34) << 23)
            };
            let x = f32::from_bits(bits);
            if !x.is_finite()
                || (f == Function::Log && x <= 0.0)
                || (f != Function::Log && x.abs() > 80.0)
            {
                continue;
            }
            let Some((lo, hi)) = enclosure(f, bits) else {
                continue;
            };
            // Skip the asymptotic enclosures (not tight enough to measure binary64).
            let width = ((&hi - &lo).abs() / lo.abs()).to_f64().unwrap_or(1.0);
            if width > 1e-40 {
                continue;
            }
            let y = native(x as f64);
            let Some(y_exact) = BigRational::from_float(y) else {
                continue;
            };
            let mid: BigRational = (&lo + &hi) / BigRational::from_integer(2.into());
            let m = mid.to_f64().unwrap_or(0.0);
            if m == 0.0 || !m.is_normal() {
                continue;
            }
            let ulp = f64::from_bits(m.abs().to_bits() & 0x7ff0_0000_0000_0000) * f64::EPSILON;
            let err = ((y_exact - mid).abs().to_f64().unwrap_or(f64::INFINITY)) / ulp;
            if err > worst {
                worst = err;
                worst_at = bits;
            }
            measured += 1;
        }
        println!(
            "{name}: max {worst:.4} ulp over {measured} binary32 inputs (at 0x{worst_at:08x})"
        );
    }
}
