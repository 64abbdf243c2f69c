//! Determinism and randomness.
//!
//! * Results must not depend on the thread count: every large kernel (reductions on both the
//!   per-group and the split-tree parallel paths, softmax, layer_norm, the gemm-backed matmul,
//!   elementwise ops above the 2^15-element parallel threshold, random fills) is run inside
//!   rayon pools of 1, 2 and 4 threads and must give identical bits.
//! * The Philox stream: known answers, same seed → same values, resuming from a position.
//! * Statistics of rand / randn / bernoulli on 10^5 samples within 5 standard errors, and the
//!   PyTorch initializers' bounds and standard deviations, from samples and from the formulas
//!   of `torch.nn.init`.

mod common;

use common::*;
use strata_tensor::init::{self, FanMode, Nonlinearity};
use strata_tensor::{philox4x32_10, DType, ReduceOrder, Rng, Shape, Tensor};

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// The raw bits of every element (f32, f64, i64 or bool), for exact comparison.
fn bits(t: &Tensor) -> Vec<u64> {
    match t.dtype() {
        DType::F32 => f32s(t).iter().map(|v| v.to_bits() as u64).collect(),
        DType::F64 => f64s(t).iter().map(|v| v.to_bits()).collect(),
        DType::I64 => t
            .to_vec::<i64>()
            .unwrap()
            .iter()
            .map(|&v| v as u64)
            .collect(),
        DType::Bool => t
            .to_vec::<bool>()
            .unwrap()
            .iter()
            .map(|&v| v as u64)
            .collect(),
        d => panic!("{d}"),
    }
}

/// Runs `work` in pools of 1, 2 and 4 threads; all results must be bit-identical.
fn same_in_all_pools(name: &str, work: impl Fn() -> Vec<Tensor> + Sync + Send) {
    let one = in_pool(1, &work);
    for threads in [2, 4] {
        let many = in_pool(threads, &work);
        assert_eq!(one.len(), many.len());
        for (i, (a, b)) in one.iter().zip(&many).enumerate() {
            assert_eq!(a.dims(), b.dims(), "{name} result {i}");
            assert!(
                bits(a) == bits(b),
                "{name}: result {i} differs between 1 and {threads} threads"
            );
        }
    }
}

fn randn(dims: &[usize], dtype: DType, seed: u64) -> Tensor {
    Tensor::randn(dims.to_vec(), dtype, &mut Rng::new(seed)).unwrap()
}

#[test]
fn reductions_do_not_depend_on_thread_count() {
    for dtype in [DType::F32, DType::F64] {
        let x = randn(&[400, 600], dtype, 1);
        let xt = x.t().unwrap(); // non-contiguous
        let long = randn(&[300_001], dtype, 2);
        same_in_all_pools("reductions", || {
            vec![
                x.sum(&[], false).unwrap(),  // one group of 240 000: the split-tree path
                x.sum(&[0], false).unwrap(), // 600 groups: the per-group parallel path
                x.sum(&[1], true).unwrap(),
                xt.mean(&[0], false).unwrap(),
                x.var(&[1], false).unwrap(),
                x.logsumexp(&[0], false).unwrap(),
                x.max(&[1], false).unwrap(),
                x.argmax(0, false).unwrap(),
                long.reduce(
                    strata_tensor::ReduceOp::Sum,
                    &[],
                    false,
                    ReduceOrder::Sequential,
                )
                .unwrap(),
                long.reduce(
                    strata_tensor::ReduceOp::Sum,
                    &[],
                    false,
                    ReduceOrder::Pairwise { block: 8 },
                )
                .unwrap(),
            ]
        });
    }
}

#[test]
fn nn_ops_do_not_depend_on_thread_count() {
    let x = randn(&[300, 512], DType::F32, 3);
    let w = randn(&[512], DType::F32, 4);
    let b = randn(&[512], DType::F32, 5);
    same_in_all_pools("nn ops", || {
        vec![
            x.softmax(1).unwrap(),
            x.softmax(0).unwrap(),
            x.log_softmax(-1).unwrap(),
            x.layer_norm(&[512], Some(&w), Some(&b), 1e-5).unwrap(),
            x.t().unwrap().layer_norm(&[300], None, None, 1e-5).unwrap(),
        ]
    });
}

#[test]
fn fast_matmul_does_not_depend_on_thread_count() {
    // gemm's threaded product must equal its single-thread product: 512×512×512, a
    // matrix-vector shaped 1×1024×1024, a transposed operand and a batched product.
    let a = randn(&[512, 512], DType::F32, 6);
    let b = randn(&[512, 512], DType::F32, 7);
    let v = randn(&[1, 1024], DType::F32, 8);
    let m = randn(&[1024, 1024], DType::F32, 9);
    let a64 = randn(&[256, 300], DType::F64, 10);
    let b64 = randn(&[300, 200], DType::F64, 11);
    let batched = randn(&[8, 64, 96], DType::F32, 12);
    let rhs = randn(&[96, 80], DType::F32, 13);
    same_in_all_pools("matmul", || {
        vec![
            a.matmul(&b).unwrap(),
            v.matmul(&m).unwrap(),
            a.t().unwrap().matmul(&b).unwrap(),
            a64.matmul(&b64).unwrap(),
            batched.matmul(&rhs).unwrap(),
        ]
    });
}

#[test]
fn elementwise_ops_on_large_tensors_do_not_depend_on_thread_count() {
    // 600 × 512 = 307 200 elements, above the 2^15 parallel threshold; broadcast and
    // transposed operands split differently across rows.
    let x = randn(&[600, 512], DType::F32, 14);
    let row = randn(&[512], DType::F32, 15);
    let col = randn(&[600, 1], DType::F32, 16);
    let xt = randn(&[512, 600], DType::F32, 17).t().unwrap();
    let x64 = randn(&[70_000], DType::F64, 18);
    same_in_all_pools("elementwise", || {
        let cond = x.gt(&row).unwrap();
        vec![
            x.add(&row).unwrap(),
            x.mul(&col).unwrap(),
            x.sub(&xt).unwrap(),
            x.exp().unwrap(),
            xt.gelu().unwrap(),
            x.tanh().unwrap(),
            x.pow(&row.abs().unwrap()).unwrap(),
            cond.clone(),
            Tensor::where_cond(&cond, &x, &xt).unwrap(),
            xt.to_dtype(DType::F64).unwrap(),
            x64.to_dtype(DType::F32).unwrap(),
            x64.sigmoid().unwrap(),
            xt.contiguous(),
        ]
    });
}

#[test]
fn random_fills_do_not_depend_on_thread_count() {
    same_in_all_pools("random fills", || {
        let mut rng = Rng::new(42);
        vec![
            Tensor::rand([100_001], DType::F32, &mut rng).unwrap(),
            Tensor::randn([300, 301], DType::F64, &mut rng).unwrap(),
            Tensor::rand_uniform([65_537], -2.0, 3.0, DType::F64, &mut rng).unwrap(),
            Tensor::bernoulli([80_000], 0.25, &mut rng).unwrap(),
            init::kaiming_uniform(
                [256, 512],
                FanMode::FanIn,
                Nonlinearity::Relu,
                DType::F32,
                &mut rng,
            )
            .unwrap(),
        ]
    });
}

// =====================================================================================
// The Philox stream
// =====================================================================================

#[test]
fn philox_known_answers() {
    // Random123's published known-answer vectors for philox4x32-10 (kat_vectors).
    assert_eq!(
        philox4x32_10([0; 4], [0; 2]),
        [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
    );
    assert_eq!(
        philox4x32_10([u32::MAX; 4], [u32::MAX; 2]),
        [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
    );
    assert_eq!(
        philox4x32_10(
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0]
        ),
        [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
    );
    // The stream: block i of seed s is philox(counter = i, key = (s low, s high)).
    let seed = 0x0123_4567_89ab_cdef_u64;
    let mut rng = Rng::new(seed);
    for i in 0..5u32 {
        assert_eq!(rng.position(), i as u128);
        assert_eq!(
            rng.next_u32x4(),
            philox4x32_10([i, 0, 0, 0], [0x89ab_cdef, 0x0123_4567])
        );
    }
    let far = (1u128 << 70) + 3;
    let mut r = Rng::with_position(seed, far);
    assert_eq!(
        r.next_u32x4(),
        philox4x32_10([3, 0, 64, 0], [0x89ab_cdef, 0x0123_4567])
    );
}

#[test]
fn same_seed_same_values_and_streams_resume_exactly() {
    let draw = |rng: &mut Rng| -> Vec<Vec<u64>> {
        vec![
            bits(&Tensor::rand([1001], DType::F32, rng).unwrap()),
            bits(&Tensor::randn([7, 3], DType::F64, rng).unwrap()),
            bits(&Tensor::bernoulli([33], 0.5, rng).unwrap()),
            bits(&Tensor::rand_uniform([0], 0.0, 1.0, DType::F64, rng).unwrap()),
            bits(&Tensor::randn_with([5], 1.0, 2.0, DType::F32, rng).unwrap()),
        ]
    };
    let (mut a, mut b) = (Rng::new(7), Rng::new(7));
    assert_eq!(draw(&mut a), draw(&mut b));
    assert_eq!(a, b);
    assert_ne!(draw(&mut Rng::new(7)), draw(&mut Rng::new(8)));
    // Each fill of n values takes ceil(n/2) blocks; resuming from a saved position
    // reproduces the rest of the stream.
    let mut rng = Rng::new(99);
    let first = Tensor::rand([1001], DType::F32, &mut rng).unwrap();
    assert_eq!(rng.position(), 501);
    let saved = rng.position();
    let rest = draw(&mut rng);
    let mut resumed = Rng::with_position(99, saved);
    assert_eq!(draw(&mut resumed), rest);
    assert_eq!(resumed, rng);
    // …and a fill never repeats values of the previous fill.
    let next = Tensor::rand([1001], DType::F32, &mut Rng::with_position(99, 501)).unwrap();
    assert_ne!(bits(&first), bits(&next));
    // A fill is a prefix-stable function of the position: drawing 10 then 10 is drawing 20.
    let mut one = Rng::new(5);
    let twenty = f64s(&Tensor::rand([20], DType::F64, &mut one).unwrap());
    let mut two = Rng::new(5);
    let mut halves = f64s(&Tensor::rand([10], DType::F64, &mut two).unwrap());
    halves.extend(f64s(&Tensor::rand([10], DType::F64, &mut two).unwrap()));
    assert_eq!(twenty, halves);
}

// =====================================================================================
// Statistics (5 standard errors on 10^5 samples)
// =====================================================================================

const N: usize = 100_000;

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = accurate_sum(x.iter().copied()) / n;
    (
        m,
        accurate_sum(x.iter().map(|v| (v - m) * (v - m))) / (n - 1.0),
    )
}

fn within(name: &str, got: f64, want: f64, sigma: f64) {
    assert!(
        (got - want).abs() <= 5.0 * sigma,
        "{name}: {got} is more than 5σ = {} from {want}",
        5.0 * sigma
    );
}

#[test]
fn uniform_samples_have_the_right_moments() {
    let n = N as f64;
    for dtype in [DType::F32, DType::F64] {
        let x = Tensor::rand([N], dtype, &mut Rng::new(11))
            .unwrap()
            .to_vec_f64();
        assert!(x.iter().all(|&v| (0.0..1.0).contains(&v)), "rand in [0, 1)");
        let (m, v) = mean_var(&x);
        // U(0,1): mean 1/2 (σ² = 1/12), variance 1/12 (the variance of (U−½)² is 1/180).
        within("uniform mean", m, 0.5, (1.0 / 12.0 / n).sqrt());
        within("uniform variance", v, 1.0 / 12.0, (1.0 / 180.0 / n).sqrt());
        // Fraction below 0.1: Bernoulli(0.1).
        let low = x.iter().filter(|&&v| v < 0.1).count() as f64 / n;
        within("uniform cdf(0.1)", low, 0.1, (0.09 / n).sqrt());
        let (lo, hi) = (-3.0, 5.0);
        let y = Tensor::rand_uniform([N], lo, hi, dtype, &mut Rng::new(12))
            .unwrap()
            .to_vec_f64();
        assert!(
            y.iter().all(|&v| v >= lo && v < hi),
            "rand_uniform in [lo, hi)"
        );
        let (m, v) = mean_var(&y);
        let w = hi - lo;
        within("uniform(-3,5) mean", m, 1.0, (w * w / 12.0 / n).sqrt());
        within(
            "uniform(-3,5) variance",
            v,
            w * w / 12.0,
            w * w * (1.0 / 180.0 / n).sqrt(),
        );
    }
}

#[test]
fn normal_samples_have_the_right_moments() {
    let n = N as f64;
    for dtype in [DType::F32, DType::F64] {
        let x = Tensor::randn([N], dtype, &mut Rng::new(13))
            .unwrap()
            .to_vec_f64();
        let (m, v) = mean_var(&x);
        // N(0,1): the sample mean has σ = 1/√n, the sample variance σ = √(2/n).
        within("normal mean", m, 0.0, (1.0 / n).sqrt());
        within("normal variance", v, 1.0, (2.0 / n).sqrt());
        // Kurtosis: E[z⁴] = 3 with Var(z⁴) = 105 − 9 = 96.
        let k = accurate_sum(x.iter().map(|z| z.powi(4))) / n;
        within("normal fourth moment", k, 3.0, (96.0 / n).sqrt());
        // Tail mass P(|z| > 2) = 0.0455003.
        let tail = x.iter().filter(|z| z.abs() > 2.0).count() as f64 / n;
        within(
            "normal tail",
            tail,
            0.045_500_3,
            (0.0455 * 0.9545 / n).sqrt(),
        );
        let y = Tensor::randn_with([N], 2.0, 3.0, dtype, &mut Rng::new(14))
            .unwrap()
            .to_vec_f64();
        let (m, v) = mean_var(&y);
        within("normal(2, 3) mean", m, 2.0, 3.0 / n.sqrt());
        within("normal(2, 3) variance", v, 9.0, 9.0 * (2.0 / n).sqrt());
    }
}

#[test]
fn bernoulli_frequency() {
    let n = N as f64;
    for p in [0.0, 0.05, 0.3, 0.5, 1.0] {
        let b = Tensor::bernoulli([N], p, &mut Rng::new(15)).unwrap();
        assert_eq!(b.dtype(), DType::Bool);
        let k = b.to_vec::<bool>().unwrap().iter().filter(|&&v| v).count() as f64;
        let f = k / n;
        if p == 0.0 || p == 1.0 {
            assert_eq!(f, p, "bernoulli({p}) is deterministic");
        } else {
            within(&format!("bernoulli({p})"), f, p, (p * (1.0 - p) / n).sqrt());
        }
    }
}

#[test]
fn below_and_permutation() {
    let mut rng = Rng::new(16);
    let mut counts = [0usize; 7];
    for _ in 0..70_000 {
        counts[rng.below(std::num::NonZeroU64::new(7).unwrap()) as usize] += 1;
    }
    for c in counts {
        within(
            "below(7)",
            c as f64,
            10_000.0,
            (70_000.0f64 * (1.0 / 7.0) * (6.0 / 7.0)).sqrt(),
        );
    }
    let p = rng.permutation(1000);
    let mut sorted = p.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
    assert_ne!(
        p, sorted,
        "a random permutation of 1000 is not the identity"
    );
    assert!(rng.permutation(0).is_empty());
    let f = rng.next_f64();
    assert!((0.0..1.0).contains(&f));
}

// =====================================================================================
// torch.nn.init
// =====================================================================================

#[test]
fn calculate_gain_matches_pytorch() {
    // torch.nn.init.calculate_gain: linear/sigmoid 1, tanh 5/3, relu √2,
    // leaky_relu √(2/(1+slope²)), selu 3/4.
    let cases = [
        (Nonlinearity::Linear, 1.0),
        (Nonlinearity::Sigmoid, 1.0),
        (Nonlinearity::Tanh, 5.0 / 3.0),
        (Nonlinearity::Relu, std::f64::consts::SQRT_2),
        (Nonlinearity::LeakyRelu(0.01), (2.0f64 / 1.0001).sqrt()),
        (Nonlinearity::LeakyRelu(5f64.sqrt()), (1.0f64 / 3.0).sqrt()),
        (Nonlinearity::Selu, 0.75),
    ];
    for (nl, want) in cases {
        let got = init::calculate_gain(nl);
        assert!((got - want).abs() <= 1e-15, "gain {nl:?}: {got} vs {want}");
    }
    // Fans of [out, in, *kernel]: fan_in = in·Πkernel, fan_out = out·Πkernel.
    assert_eq!(
        init::fans(&Shape::from([64, 32, 3, 3])).unwrap(),
        (288, 576)
    );
    assert_eq!(init::fans(&Shape::from([10, 7])).unwrap(), (7, 10));
    assert!(init::fans(&Shape::from([5])).is_err());
}

/// Checks samples of U(−b, b): all inside, the extremes close to ±b, variance b²/3.
fn check_uniform(name: &str, t: &Tensor, bound: f64) {
    let x = t.to_vec_f64();
    let n = x.len() as f64;
    let max = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        max <= bound,
        "{name}: sample {max} outside the bound {bound}"
    );
    // With n ≥ 10^4 samples P(max < 0.999 b) = 0.999^n < 1e-4.
    assert!(
        max >= 0.999 * bound,
        "{name}: largest sample {max} far inside the bound {bound}"
    );
    let (m, v) = mean_var(&x);
    within(&format!("{name} mean"), m, 0.0, bound / (3.0 * n).sqrt());
    // Var(w²) = b⁴/5 − b⁴/9 = 4b⁴/45.
    within(
        &format!("{name} variance"),
        v,
        bound * bound / 3.0,
        bound * bound * (4.0 / 45.0 / n).sqrt(),
    );
}

fn check_normal(name: &str, t: &Tensor, std: f64) {
    let x = t.to_vec_f64();
    let n = x.len() as f64;
    let (m, v) = mean_var(&x);
    within(&format!("{name} mean"), m, 0.0, std / n.sqrt());
    within(
        &format!("{name} variance"),
        v,
        std * std,
        std * std * (2.0 / n).sqrt(),
    );
}

#[test]
fn initializer_bounds_follow_the_pytorch_formulas() {
    let mut rng = Rng::new(17);
    let (fan_out, fan_in) = (256usize, 400usize);
    let shape = [fan_out, fan_in];
    for dtype in [DType::F32, DType::F64] {
        // kaiming_uniform_: bound = gain·√(3/fan).
        let t = init::kaiming_uniform(shape, FanMode::FanIn, Nonlinearity::Relu, dtype, &mut rng)
            .unwrap();
        assert_eq!((t.dims(), t.dtype()), (&shape[..], dtype));
        check_uniform(
            "kaiming_uniform relu fan_in",
            &t,
            2f64.sqrt() * (3.0 / 400.0f64).sqrt(),
        );
        let t = init::kaiming_uniform(shape, FanMode::FanOut, Nonlinearity::Tanh, dtype, &mut rng)
            .unwrap();
        check_uniform(
            "kaiming_uniform tanh fan_out",
            &t,
            5.0 / 3.0 * (3.0 / 256.0f64).sqrt(),
        );
        // nn.Linear's default: kaiming_uniform_(a=√5) → bound 1/√fan_in, and its bias too.
        let t = init::torch_default_weight(shape, dtype, &mut rng).unwrap();
        check_uniform("default weight", &t, 1.0 / 20.0);
        let conv = Shape::from([64, 32, 3, 3]);
        let t = init::torch_default_weight(conv.clone(), dtype, &mut rng).unwrap();
        check_uniform("default conv weight", &t, 1.0 / 288f64.sqrt());
        let b = init::torch_default_bias(&Shape::from(shape), dtype, &mut rng).unwrap();
        assert_eq!(b.dims(), &[fan_out]);
        let bias_bound = 1.0 / 20.0;
        assert!(b.to_vec_f64().iter().all(|v| v.abs() <= bias_bound));
        let big_bias =
            init::torch_default_bias(&Shape::from([40_000, 9]), dtype, &mut rng).unwrap();
        check_uniform("default bias", &big_bias, 1.0 / 3.0);
        // kaiming_normal_: std = gain/√fan.
        let t = init::kaiming_normal(shape, FanMode::FanOut, Nonlinearity::Relu, dtype, &mut rng)
            .unwrap();
        check_normal("kaiming_normal relu fan_out", &t, 2f64.sqrt() / 16.0);
        let t = init::kaiming_normal(
            conv.clone(),
            FanMode::FanIn,
            Nonlinearity::LeakyRelu(0.2),
            dtype,
            &mut rng,
        )
        .unwrap();
        check_normal(
            "kaiming_normal leaky fan_in",
            &t,
            (2.0f64 / 1.04).sqrt() / 288f64.sqrt(),
        );
        // xavier_uniform_: bound = gain·√(6/(fan_in + fan_out)); xavier_normal_:
        // std = gain·√(2/(fan_in + fan_out)).
        let t = init::xavier_uniform(shape, 1.5, dtype, &mut rng).unwrap();
        check_uniform("xavier_uniform", &t, 1.5 * (6.0 / 656.0f64).sqrt());
        let t = init::xavier_normal(conv, 0.5, dtype, &mut rng).unwrap();
        check_normal("xavier_normal", &t, 0.5 * (2.0 / 864.0f64).sqrt());
    }
    // Shapes without fans are errors, not panics.
    assert!(init::kaiming_uniform(
        [5],
        FanMode::FanIn,
        Nonlinearity::Relu,
        DType::F32,
        &mut rng
    )
    .is_err());
    assert!(init::kaiming_normal(
        [0, 3],
        FanMode::FanOut,
        Nonlinearity::Relu,
        DType::F32,
        &mut rng
    )
    .is_err());
    assert!(init::xavier_uniform([3], 1.0, DType::F32, &mut rng).is_err());
}
