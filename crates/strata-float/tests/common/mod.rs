//! Shared test inputs: a deterministic generator, the edge set, and TestFloat-style random values.
#![allow(dead_code)] // each test binary uses a different part of this module

use strata_float::{FpEnv, Ieee32, RoundingMode};

/// SplitMix64: small, deterministic, good enough to spread test cases.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A binary32 bit pattern in the style of TestFloat's generator: a quarter uniform bits, the rest
    /// a random sign, an exponent drawn near the special ranges (subnormal, ±1 binade, overflow
    /// edge) or uniformly, and a significand that is uniform or a run/walking-bit pattern.
    pub fn float_bits(&mut self) -> u32 {
        if self.below(4) == 0 {
            return self.next_u32();
        }
        let sign = (self.below(2) as u32) << 31;
        let exponent = match self.below(6) {
            0 => 0,
            1 => 1 + self.below(3) as u32,
            2 => 253 + self.below(3) as u32,
            3 => 0xff,
            4 => 120 + self.below(16) as u32,
            _ => self.below(256) as u32,
        };
        let fraction = match self.below(5) {
            0 => 1 << self.below(23),
            1 => (1 << 23) - (1 << self.below(23)),
            2 => (1 << self.below(24)) - 1,
            3 => self.next_u32() & ((1 << 23) - 1) & !((1 << self.below(23)) - 1),
            _ => self.next_u32() & ((1 << 23) - 1),
        };
        sign | (exponent << 23) | fraction
    }

    /// Like [`Rng::float_bits`], but a second operand is sometimes made close to `near` so that
    /// additions cancel and quotients sit near one.
    pub fn float_bits_near(&mut self, near: u32) -> u32 {
        match self.below(4) {
            0 => near ^ (1 << 31) ^ (self.below(8) as u32),
            1 => near.wrapping_add(self.below(64) as u32).wrapping_sub(32),
            _ => self.float_bits(),
        }
    }

    pub fn mode(&mut self) -> RoundingMode {
        RoundingMode::ALL[self.below(5) as usize]
    }
}

/// At least 200 binary32 values that exercise the special cases: ±0, subnormal extremes and powers,
/// normal extremes, ±1 and powers of two with their neighbours, integer-precision edges, infinities,
/// quiet and signaling NaNs with and without payloads.
pub fn edge_set() -> Vec<Ieee32> {
    let mut magnitudes: Vec<u32> = vec![
        0x0000_0000,
        0x0000_0001,
        0x0000_0002,
        0x0000_0003,
        0x0040_0000,
        0x0040_0001,
        0x007f_fffe,
        0x007f_ffff,
        0x0080_0000,
        0x0080_0001,
        0x0080_0002,
        0x00ff_ffff,
        0x3dcc_cccd, // 0.1
        0x3eaa_aaab, // 1/3
        0x3fc0_0000, // 1.5
        0x4040_0000, // 3
        0x4b7f_ffff, // 2^24 − 1
        0x4b80_0001, // 2^24 + 2
        0x7f7f_fffe,
        0x7f7f_ffff, // MAX
        0x7f80_0000, // ∞
        0x7fc0_0000, // quiet NaN
        0x7fc0_0001,
        0x7fff_ffff,
        0x7f80_0001, // signaling NaN
        0x7fbf_ffff,
    ];
    // Subnormal powers of two.
    magnitudes.extend((0..23).map(|bit| 1u32 << bit));
    // Normal powers of two 2^k and their neighbours.
    for k in [
        -125, -100, -64, -25, -24, -23, -2, -1, 0, 1, 2, 23, 24, 31, 32, 63, 64, 100, 126, 127,
    ] {
        let bits = ((k + 127) as u32) << 23;
        magnitudes.extend([bits - 1, bits, bits + 1]);
    }
    let mut values: Vec<Ieee32> = magnitudes
        .iter()
        .flat_map(|&m| [Ieee32::from_bits(m), Ieee32::from_bits(m | 0x8000_0000)])
        .collect();
    values.sort_by_key(|v| v.to_bits());
    values.dedup();
    values
}

/// Every rounding mode in the default (x86) environment.
pub fn envs() -> impl Iterator<Item = FpEnv> {
    RoundingMode::ALL.into_iter().map(FpEnv::with_mode)
}

/// The number of random cases for a sweep: `STRATA_FLOAT_CASES` when set (the long sweeps),
/// `default` otherwise.
pub fn case_count(default: u64) -> u64 {
    std::env::var("STRATA_FLOAT_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The failing inputs of a sweep, collected so one run reports several at once.
pub struct Failures {
    pub messages: Vec<String>,
    pub count: u64,
}

impl Failures {
    pub fn new() -> Failures {
        Failures {
            messages: Vec::new(),
            count: 0,
        }
    }

    pub fn record(&mut self, message: impl FnOnce() -> String) {
        self.count += 1;
        if self.messages.len() < 20 {
            self.messages.push(message());
        }
    }

    pub fn assert_none(&self, what: &str) {
        assert!(
            self.count == 0,
            "{what}: {} failures, first ones:\n{}",
            self.count,
            self.messages.join("\n")
        );
    }
}
