//! Seeded, reproducible random numbers: the Philox4x32-10 counter-based generator (Salmon et
//! al., SC'11, the generator of cuRAND and PyTorch's CUDA backend). Element `i` of a random
//! tensor is a pure function of (seed, stream position, i), so a fill is identical whatever
//! the thread count, and a stream can be resumed from its position alone.

use crate::error::{invalid, Result, TensorError};
use crate::tensor::buffer_len;
use crate::{DType, Element, Float, Shape, Storage, Tensor};
use rayon::prelude::*;

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

/// The Philox4x32 block function with 10 rounds.
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (counter, key);
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let p0 = u64::from(M0) * u64::from(c[0]);
        let p1 = u64::from(M1) * u64::from(c[2]);
        c = [
            ((p1 >> 32) as u32) ^ c[1] ^ k[0],
            p1 as u32,
            ((p0 >> 32) as u32) ^ c[3] ^ k[1],
            p0 as u32,
        ];
    }
    c
}

/// A random stream: a 64-bit seed (the Philox key) and a 128-bit block position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    key: [u32; 2],
    position: u128,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng {
            key: [seed as u32, (seed >> 32) as u32],
            position: 0,
        }
    }

    /// The block position: the number of 4×u32 blocks drawn so far.
    pub fn position(&self) -> u128 {
        self.position
    }

    /// Continues a stream from a saved position.
    pub fn with_position(seed: u64, position: u128) -> Self {
        Rng {
            position,
            ..Rng::new(seed)
        }
    }

    fn block(&self, index: u128) -> [u32; 4] {
        let c = index;
        philox4x32_10(
            [
                c as u32,
                (c >> 32) as u32,
                (c >> 64) as u32,
                (c >> 96) as u32,
            ],
            self.key,
        )
    }

    /// Reserves `blocks` blocks and returns the first one's position.
    fn take(&mut self, blocks: usize) -> u128 {
        let start = self.position;
        self.position = self.position.wrapping_add(blocks as u128);
        start
    }

    pub fn next_u32x4(&mut self) -> [u32; 4] {
        let p = self.take(1);
        self.block(p)
    }

    /// One uniform f64 in [0, 1) (53 random bits).
    pub fn next_f64(&mut self) -> f64 {
        let b = self.next_u32x4();
        unit_f64(b[0], b[1])
    }

    /// A uniform integer in `0..n`, by rejection so every value is equally likely.
    pub fn below(&mut self, n: std::num::NonZeroU64) -> u64 {
        let n = n.get();
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let b = self.next_u32x4();
            let v = (u64::from(b[0]) << 32) | u64::from(b[1]);
            if v < zone {
                return v % n;
            }
        }
    }

    /// A uniformly random permutation of `0..n` (Fisher–Yates), e.g. for shuffling a dataset.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            p.swap(
                i,
                self.below(std::num::NonZeroU64::MIN.saturating_add(i as u64)) as usize,
            );
        }
        p
    }

    /// Fills `n` values, two per Philox block, with `f(u0, u1)` → (value, value), in parallel
    /// over blocks.
    fn fill_pairs<T: Element>(
        &mut self,
        n: usize,
        f: impl Fn(u32, u32, u32, u32) -> [T; 2] + Sync,
    ) -> Vec<T> {
        let blocks = n.div_ceil(2);
        let start = self.take(blocks);
        let mut out = vec![T::zero(); n];
        let this = &*self;
        out.par_chunks_mut(2)
            .enumerate()
            .with_min_len(4096)
            .for_each(|(i, pair)| {
                let b = this.block(start.wrapping_add(i as u128));
                let v = f(b[0], b[1], b[2], b[3]);
                pair.copy_from_slice(&v[..pair.len()]);
            });
        out
    }
}

/// 53 random bits → [0, 1).
fn unit_f64(a: u32, b: u32) -> f64 {
    ((u64::from(a) << 21) ^ u64::from(b >> 11)) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// 24 random bits → [0, 1) in f32 (every value exactly representable).
fn unit_f32(a: u32) -> f32 {
    (a >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
}

/// Box–Muller on two uniforms, with u1 in (0, 1] so the log is finite.
fn box_muller(u1: f64, u2: f64) -> [f64; 2] {
    let r = (-2.0 * (1.0 - u1).ln()).sqrt();
    let t = 2.0 * std::f64::consts::PI * u2;
    [r * t.cos(), r * t.sin()]
}

fn float_dtype(op: &'static str, dtype: DType) -> Result<()> {
    match dtype {
        DType::F32 | DType::F64 => Ok(()),
        got => Err(crate::error::float_only(op, got)),
    }
}

impl Tensor {
    /// Uniform samples in `[low, high)`.
    pub fn rand_uniform(
        shape: impl Into<Shape>,
        low: f64,
        high: f64,
        dtype: DType,
        rng: &mut Rng,
    ) -> Result<Tensor> {
        let shape = shape.into();
        float_dtype("rand_uniform", dtype)?;
        if !(low.is_finite() && high.is_finite() && low <= high) {
            return Err(invalid(
                "rand_uniform",
                format!("bad range [{low}, {high})"),
            ));
        }
        let n = buffer_len("rand_uniform", &shape, dtype)?;
        let storage = match dtype {
            DType::F32 => {
                let (lo, w) = (low as f32, (high - low) as f32);
                Storage::F32(
                    rng.fill_pairs(n, |a, b, _, _| [lo + w * unit_f32(a), lo + w * unit_f32(b)]),
                )
            }
            _ => Storage::F64(rng.fill_pairs(n, |a, b, c, d| {
                [
                    low + (high - low) * unit_f64(a, b),
                    low + (high - low) * unit_f64(c, d),
                ]
            })),
        };
        Ok(Tensor::from_storage(storage, shape))
    }

    /// Uniform samples in `[0, 1)`.
    pub fn rand(shape: impl Into<Shape>, dtype: DType, rng: &mut Rng) -> Result<Tensor> {
        Self::rand_uniform(shape, 0.0, 1.0, dtype, rng)
    }

    /// Normal samples with the given mean and standard deviation (Box–Muller in f64, then
    /// rounded once to the dtype).
    pub fn randn_with(
        shape: impl Into<Shape>,
        mean: f64,
        std: f64,
        dtype: DType,
        rng: &mut Rng,
    ) -> Result<Tensor> {
        let shape = shape.into();
        float_dtype("randn", dtype)?;
        if !(mean.is_finite() && std.is_finite() && std >= 0.0) {
            return Err(invalid("randn", format!("bad mean {mean} or std {std}")));
        }
        let n = buffer_len("randn", &shape, dtype)?;
        fn draw<T: Float>(rng: &mut Rng, n: usize, mean: f64, std: f64) -> Vec<T> {
            rng.fill_pairs(n, |a, b, c, d| {
                let z = box_muller(unit_f64(a, b), unit_f64(c, d));
                [
                    T::from_f64(mean + std * z[0]),
                    T::from_f64(mean + std * z[1]),
                ]
            })
        }
        let storage = match dtype {
            DType::F32 => Storage::F32(draw(rng, n, mean, std)),
            _ => Storage::F64(draw(rng, n, mean, std)),
        };
        Ok(Tensor::from_storage(storage, shape))
    }

    /// Standard normal samples.
    pub fn randn(shape: impl Into<Shape>, dtype: DType, rng: &mut Rng) -> Result<Tensor> {
        Self::randn_with(shape, 0.0, 1.0, dtype, rng)
    }

    /// Independent `true` with probability `p` (a bool tensor).
    pub fn bernoulli(shape: impl Into<Shape>, p: f64, rng: &mut Rng) -> Result<Tensor> {
        let shape = shape.into();
        if !(0.0..=1.0).contains(&p) {
            return Err(invalid(
                "bernoulli",
                format!("probability {p} is outside [0, 1]"),
            ));
        }
        let n = buffer_len("bernoulli", &shape, DType::Bool)?;
        let v = rng.fill_pairs(n, |a, b, c, d| [unit_f64(a, b) < p, unit_f64(c, d) < p]);
        Ok(Tensor::from_storage(Storage::Bool(v), shape))
    }
}

/// PyTorch's weight initializers (`torch.nn.init`), with the same fan and gain definitions.
pub mod init {
    use super::*;

    /// Which fan scales the variance.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum FanMode {
        FanIn,
        FanOut,
    }

    /// The nonlinearity that follows the layer (for `calculate_gain`).
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Nonlinearity {
        Linear,
        Sigmoid,
        Tanh,
        Relu,
        LeakyRelu(f64),
        Selu,
    }

    /// `torch.nn.init.calculate_gain`.
    pub fn calculate_gain(nl: Nonlinearity) -> f64 {
        match nl {
            Nonlinearity::Linear | Nonlinearity::Sigmoid => 1.0,
            Nonlinearity::Tanh => 5.0 / 3.0,
            Nonlinearity::Relu => 2f64.sqrt(),
            Nonlinearity::LeakyRelu(slope) => (2.0 / (1.0 + slope * slope)).sqrt(),
            Nonlinearity::Selu => 0.75,
        }
    }

    /// (fan_in, fan_out) of a weight shape: `[out, in, *kernel]`.
    pub fn fans(shape: &Shape) -> Result<(usize, usize)> {
        let d = shape.dims();
        if d.len() < 2 {
            return Err(TensorError::InvalidShape {
                op: "init",
                shape: shape.clone(),
                msg: "fan in and fan out need at least 2 dimensions".into(),
            });
        }
        let receptive: usize = d[2..].iter().product();
        Ok((d[1] * receptive, d[0] * receptive))
    }

    fn fan(shape: &Shape, mode: FanMode) -> Result<f64> {
        let (i, o) = fans(shape)?;
        let f = if mode == FanMode::FanIn { i } else { o };
        if f == 0 {
            return Err(invalid("init", format!("zero fan for shape {shape}")));
        }
        Ok(f as f64)
    }

    /// `kaiming_uniform_`: U(−b, b) with b = gain·√(3 / fan).
    pub fn kaiming_uniform(
        shape: impl Into<Shape>,
        mode: FanMode,
        nl: Nonlinearity,
        dtype: DType,
        rng: &mut Rng,
    ) -> Result<Tensor> {
        let shape = shape.into();
        let bound = calculate_gain(nl) * (3.0 / fan(&shape, mode)?).sqrt();
        Tensor::rand_uniform(shape, -bound, bound, dtype, rng)
    }

    /// `kaiming_normal_`: N(0, (gain / √fan)²).
    pub fn kaiming_normal(
        shape: impl Into<Shape>,
        mode: FanMode,
        nl: Nonlinearity,
        dtype: DType,
        rng: &mut Rng,
    ) -> Result<Tensor> {
        let shape = shape.into();
        let std = calculate_gain(nl) / fan(&shape, mode)?.sqrt();
        Tensor::randn_with(shape, 0.0, std, dtype, rng)
    }

    /// `xavier_uniform_`: U(−b, b) with b = gain·√(6 / (fan_in + fan_out)).
    pub fn xavier_uniform(
        shape: impl Into<Shape>,
        gain: f64,
        dtype: DType,
        rng: &mut Rng,
    ) -> Result<Tensor> {
        let shape = shape.into();
        let (i, o) = fans(&shape)?;
        let bound = gain * (6.0 / (i + o).max(1) as f64).sqrt();
        Tensor::rand_uniform(shape, -bound, bound, dtype, rng)
    }

    /// `xavier_normal_`: N(0, gain²·2 / (fan_in + fan_out)).
    pub fn xavier_normal(
        shape: impl Into<Shape>,
        gain: f64,
        dtype: DType,
        rng: &mut Rng,
    ) -> Result<Tensor> {
        let shape = shape.into();
        let (i, o) = fans(&shape)?;
        let std = gain * (2.0 / (i + o).max(1) as f64).sqrt();
        Tensor::randn_with(shape, 0.0, std, dtype, rng)
    }

    /// The default initialization of `nn.Linear`/`nn.ConvNd` weights:
    /// `kaiming_uniform_(a = √5)`, i.e. U(−1/√fan_in, 1/√fan_in).
    pub fn torch_default_weight(
        shape: impl Into<Shape>,
        dtype: DType,
        rng: &mut Rng,
    ) -> Result<Tensor> {
        kaiming_uniform(
            shape,
            FanMode::FanIn,
            Nonlinearity::LeakyRelu(5f64.sqrt()),
            dtype,
            rng,
        )
    }

    /// The default initialization of `nn.Linear`/`nn.ConvNd` biases: U(−1/√fan_in, 1/√fan_in).
    pub fn torch_default_bias(weight_shape: &Shape, dtype: DType, rng: &mut Rng) -> Result<Tensor> {
        let bound = 1.0 / fan(weight_shape, FanMode::FanIn)?.sqrt();
        Tensor::rand_uniform([weight_shape.dims()[0]], -bound, bound, dtype, rng)
    }
}
