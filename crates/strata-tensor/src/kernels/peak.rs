//! Trust boundary `strata-tensor/fma-peak`: measures the core's f32 FMA throughput with a
//! loop of independent vector FMAs (std::arch intrinsics behind runtime feature detection).
//! It exists only to report benchmark figures as a fraction of the hardware peak; no numeric
//! result of Strata depends on it.
#![allow(unsafe_code)]

use std::time::Instant;

/// Independent accumulator chains: enough to cover FMA latency × FMA ports on current cores.
const CHAINS: usize = 16;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::CHAINS;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub fn fma_avx512(iters: usize, seed: f32) -> f32 {
        let mut acc = [_mm512_set1_ps(seed); CHAINS];
        let (a, b) = (_mm512_set1_ps(0.999_999), _mm512_set1_ps(1e-7));
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm512_fmadd_ps(*x, a, b);
            }
        }
        let mut s = _mm512_setzero_ps();
        for x in acc {
            s = _mm512_add_ps(s, x);
        }
        _mm512_reduce_add_ps(s)
    }

    #[target_feature(enable = "avx2,fma")]
    pub fn fma_avx2(iters: usize, seed: f32) -> f32 {
        let mut acc = [_mm256_set1_ps(seed); CHAINS];
        let (a, b) = (_mm256_set1_ps(0.999_999), _mm256_set1_ps(1e-7));
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let mut s = _mm256_setzero_ps();
        for x in acc {
            s = _mm256_add_ps(s, x);
        }
        let q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps::<1>(s));
        let q = _mm_hadd_ps(q, q);
        _mm_cvtss_f32(_mm_hadd_ps(q, q))
    }
}

/// The measured single-core f32 FMA peak in GFLOP/s (2 flops per FMA lane) and the ISA used,
/// or `None` on a CPU without AVX2+FMA.
pub fn single_core_fma_peak_gflops() -> Option<(f64, &'static str)> {
    #[cfg(target_arch = "x86_64")]
    {
        let (f, lanes, isa): (fn(usize, f32) -> f32, usize, _) =
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: avx512f was detected at run time just above.
                (|n, s| unsafe { x86::fma_avx512(n, s) }, 16, "avx512f")
            } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                // SAFETY: avx2 and fma were detected at run time just above.
                (|n, s| unsafe { x86::fma_avx2(n, s) }, 8, "avx2+fma")
            } else {
                return None;
            };
        let iters = 20_000_000 / CHAINS;
        let mut best = f64::INFINITY;
        let mut sink = 0.0;
        for _ in 0..20 {
            let t = Instant::now();
            sink += f(iters, 1.0 + sink * 1e-30);
            best = best.min(t.elapsed().as_secs_f64());
        }
        std::hint::black_box(sink);
        let flops = (iters * CHAINS * lanes * 2) as f64;
        Some((flops / best / 1e9, isa))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}
