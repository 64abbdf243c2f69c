//! Every kernel against a naive reference written here from the op's definition: nested loops
//! over explicit row-major index arithmetic, evaluated in f64 (or, where the crate declares an
//! order, in the declared order). Every op runs on edge shapes (empty axes, size-1 axes, rank 0)
//! and on non-contiguous inputs (transposed, strided with an offset, broadcast views).
//!
//! Tolerances. `U` is the unit roundoff of the dtype (2^-24 for f32, 2^-53 for f64); `ETA` is
//! an underflow allowance (4 × the smallest normal), covering results that fall into the
//! subnormal range where only absolute accuracy is possible. Each bound below states where it
//! comes from; the f64 references themselves are accurate to a few units of 1e-16.

mod common;

use common::*;
use strata_tensor::{CmpOp, DType, MatmulKernel, Tensor};

const DTYPES: [DType; 2] = [DType::F32, DType::F64];

fn unit(dtype: DType) -> f64 {
    if dtype == DType::F32 {
        U32
    } else {
        U64
    }
}

fn eta(dtype: DType) -> f64 {
    if dtype == DType::F32 {
        4.0 * f32::MIN_POSITIVE as f64
    } else {
        4.0 * f64::MIN_POSITIVE
    }
}

fn eta_of_unit(u: f64) -> f64 {
    eta(if u == U32 { DType::F32 } else { DType::F64 })
}

/// The values of a float tensor as f64, checking its dtype and shape.
fn out(t: &Tensor, dtype: DType, dims: &[usize]) -> Vec<f64> {
    assert_eq!(t.dtype(), dtype, "output dtype");
    assert_eq!(t.dims(), dims, "output shape");
    match dtype {
        DType::F32 => f32s(t).into_iter().map(f64::from).collect(),
        DType::F64 => f64s(t),
        DType::I64 => t
            .to_vec::<i64>()
            .unwrap()
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        DType::Bool => t
            .to_vec::<bool>()
            .unwrap()
            .into_iter()
            .map(|v| v as u8 as f64)
            .collect(),
        d => panic!("no f64 view of {d}"),
    }
}

/// Shapes every op sees: scalar, empty axes, size-1 axes, ranks 1 to 4.
const EDGE_SHAPES: &[&[usize]] = &[
    &[],
    &[0],
    &[5],
    &[1, 3],
    &[3, 0, 2],
    &[2, 3, 4],
    &[4, 1, 5],
    &[2, 3, 1, 3],
];

/// The edge shapes plus a few random small shapes (rank 0 to 4, sizes 0 to 4).
fn test_shapes(rng: &mut SplitMix64) -> Vec<Vec<usize>> {
    let mut shapes: Vec<Vec<usize>> = EDGE_SHAPES.iter().map(|s| s.to_vec()).collect();
    for _ in 0..4 {
        let rank = rng.range(0, 4);
        shapes.push(rng.shape(rank, 0, 4));
    }
    shapes
}

// =====================================================================================
// Unary elementwise
// =====================================================================================

type UnaryFn = fn(&Tensor) -> strata_tensor::Result<Tensor>;
type BinaryRef = Box<dyn Fn(f64, f64) -> f64>;
type CmpRef = fn(f64, f64) -> bool;

struct Unary {
    name: &'static str,
    run: UnaryFn,
    /// The definition, evaluated in f64 on the (exactly representable) input.
    reference: fn(f64, DType) -> f64,
    /// Allowed |error| for input x and reference value y, with unit roundoff u.
    tol: fn(f64, f64, f64) -> f64,
    /// Input range for random data.
    range: (f64, f64),
}

fn gelu_ref(x: f64) -> f64 {
    0.5 * x * (1.0 + ref_erf(x / std::f64::consts::SQRT_2))
}

fn gelu_tanh_ref(x: f64) -> f64 {
    let k = (2.0 / std::f64::consts::PI).sqrt();
    0.5 * x * (1.0 + ref_tanh(k * (x + 0.044715 * x * x * x)))
}

/// PyTorch's softplus (beta 1, threshold 20): linear above the threshold.
fn softplus_ref(x: f64) -> f64 {
    if x > 20.0 {
        x
    } else {
        ref_ln_1p(ref_exp(x))
    }
}

fn unary_ops() -> Vec<Unary> {
    // Tolerance rationale (u = unit roundoff; "k ulps" ≤ 2k·u·|y|):
    // * neg/abs/relu/clamp/leaky_relu/sqrt are correctly rounded (or exact): the reference,
    //   rounded once to the dtype, must match bit for bit (`exact` below, tolerance 0 after
    //   rounding). For f32 the f64 reference rounded to f32 is the correctly rounded result
    //   (double rounding is innocuous for ×, ÷, √ since 53 ≥ 2·24 + 2).
    // The f64 references below are themselves good to ≤ 4 ulps (8u|y|, see
    // `reference_functions_agree_with_std`), which matters only for f64; that is included.
    // * exp/ln: libm is within 1 ulp (2u|y|) → 8u|y| with the reference's share.
    // * tanh: ≤ 2 ulps in libm → 16u|y|.
    // * sigmoid = 1/(1+e^-x): exp (≤ 1 ulp) + add + div → ≤ 4u → 12u|y|; silu adds one
    //   multiply → 16u|y|, and where σ(x) underflows (absolute error ≤ ETA, e.g. e^-x
    //   overflowing f32 for x < −88.7 while x·σ(x) is still normal) that error is scaled by
    //   |x| → + |x|·ETA; softplus = ln1p(exp x): the relative error of exp passes through
    //   ln1p at most once (d ln(1+t) = t/(1+t)·dt/t) plus ln1p's own ulp → 16u|y|.
    // * gelu = ½x(1+erf(x/√2)): 1+erf cancels for x ≪ 0, so the error is absolute: erf's
    //   ≤ 2-ulp error (≤ 4u as |erf| ≤ 1) plus the add, times ½|x| → 8u(|y| + |x|); the f64
    //   series reference is good to ~64 u64 → 64u for f64.
    // * gelu_tanh: the inner polynomial (≤ 5 roundings, f32-rounded constants) changes tanh
    //   by (1−t²)·5u|z| ≤ 5u·0.45; plus tanh's 2 ulps and the add → ≤ 8u absolute in
    //   1+tanh, times ½|x|, plus 4 roundings on y → 16u(|y| + |x|), +8u for the reference.
    // * affine x·m + a: two roundings → u(|x·m| + |y|), doubled.
    vec![
        Unary {
            name: "neg",
            run: |t| t.neg(),
            reference: |x, _| -x,
            tol: |_, _, _| 0.0,
            range: (-5.0, 5.0),
        },
        Unary {
            name: "abs",
            run: |t| t.abs(),
            reference: |x, _| x.abs(),
            tol: |_, _, _| 0.0,
            range: (-5.0, 5.0),
        },
        Unary {
            name: "relu",
            run: |t| t.relu(),
            reference: |x, _| if x > 0.0 || x.is_nan() { x } else { 0.0 },
            tol: |_, _, _| 0.0,
            range: (-5.0, 5.0),
        },
        Unary {
            name: "leaky_relu(0.2)",
            run: |t| t.leaky_relu(0.2),
            // The slope is a scalar of the tensor's dtype (PyTorch semantics).
            reference: |x, d| if x < 0.0 { x * round_to(0.2, d) } else { x },
            tol: |_, _, _| 0.0,
            range: (-5.0, 5.0),
        },
        Unary {
            name: "clamp(-0.5, 0.75)",
            run: |t| t.clamp(-0.5, 0.75),
            reference: |x, _| x.clamp(-0.5, 0.75),
            tol: |_, _, _| 0.0,
            range: (-2.0, 2.0),
        },
        Unary {
            name: "affine(1.5, -0.25)",
            run: |t| t.affine(1.5, -0.25),
            reference: |x, _| x * 1.5 - 0.25,
            tol: |x, y, u| 2.0 * u * ((1.5 * x).abs() + y.abs()),
            range: (-5.0, 5.0),
        },
        Unary {
            name: "sqrt",
            run: |t| t.sqrt(),
            reference: |x, _| if x < 0.0 { f64::NAN } else { newton_sqrt(x) },
            // Correctly rounded: within half an ulp (≤ u|y|) of the exact root.
            tol: |_, y, u| u * y.abs() * (1.0 + 1e-9),
            range: (-1.0, 100.0),
        },
        Unary {
            name: "exp",
            run: |t| t.exp(),
            reference: |x, _| ref_exp(x),
            tol: |_, y, u| 8.0 * u * y.abs(),
            range: (-80.0, 80.0),
        },
        Unary {
            name: "log",
            run: |t| t.log(),
            reference: |x, _| ref_ln(x),
            tol: |_, y, u| 8.0 * u * y.abs(),
            range: (-1.0, 50.0),
        },
        Unary {
            name: "tanh",
            run: |t| t.tanh(),
            reference: |x, _| ref_tanh(x),
            tol: |_, y, u| 16.0 * u * y.abs(),
            range: (-10.0, 10.0),
        },
        Unary {
            name: "sigmoid",
            run: |t| t.sigmoid(),
            reference: |x, _| ref_sigmoid(x),
            tol: |_, y, u| 12.0 * u * y.abs(),
            range: (-30.0, 30.0),
        },
        Unary {
            name: "silu",
            run: |t| t.silu(),
            reference: |x, _| x * ref_sigmoid(x),
            tol: |x, y, u| 16.0 * u * y.abs() + x.abs() * eta_of_unit(u),
            range: (-30.0, 30.0),
        },
        Unary {
            name: "softplus",
            run: |t| t.softplus(),
            reference: |x, _| softplus_ref(x),
            tol: |_, y, u| 16.0 * u * y.abs(),
            range: (-30.0, 30.0),
        },
        Unary {
            name: "gelu",
            run: |t| t.gelu(),
            reference: |x, _| gelu_ref(x),
            tol: |x, y, u| if u < 1e-10 { 64.0 } else { 8.0 } * u * (y.abs() + x.abs()),
            range: (-8.0, 8.0),
        },
        Unary {
            name: "gelu_tanh",
            run: |t| t.gelu_tanh(),
            reference: |x, _| gelu_tanh_ref(x),
            tol: |x, y, u| 24.0 * u * (y.abs() + x.abs()),
            range: (-8.0, 8.0),
        },
    ]
}

/// √x by Newton's method from a coarse start (independent of the hardware square root),
/// finished by picking, among the last iterate and its two neighbours, the one whose square
/// is closest to x (residual c² − x formed with one rounding by a fused multiply-add).
fn newton_sqrt(x: f64) -> f64 {
    if x == 0.0 || x.is_infinite() || x.is_nan() {
        return x;
    }
    let e = x.log2().floor() as i32;
    let mut r = 2f64.powi(e / 2);
    for _ in 0..200 {
        let next = 0.5 * (r + x / r);
        if next == r {
            break;
        }
        r = next;
    }
    let candidates = [
        f64::from_bits(r.to_bits() - 1),
        r,
        f64::from_bits(r.to_bits() + 1),
    ];
    let resid = |c: f64| c.mul_add(c, -x).abs();
    candidates
        .into_iter()
        .fold(r, |best, c| if resid(c) < resid(best) { c } else { best })
}

fn check_unary(op: &Unary, t: &Tensor, values: &[f64], dims: &[usize], dtype: DType, ctx: &str) {
    let got = out(&(op.run)(t).unwrap(), dtype, dims);
    let u = unit(dtype);
    let want: Vec<f64> = values.iter().map(|&x| (op.reference)(x, dtype)).collect();
    let exact = (op.tol)(1.0, 1.0, u) == 0.0;
    if exact {
        let rounded: Vec<f64> = want.iter().map(|&y| round_to(y, dtype)).collect();
        assert_close(&got, &rounded, |_| 0.0, ctx);
    } else {
        assert_close(
            &got,
            &want,
            |i| (op.tol)(values[i], want[i], u) + eta(dtype),
            ctx,
        );
    }
}

#[test]
fn unary_ops_match_definitions_on_edge_shapes_and_layouts() {
    let mut rng = SplitMix64::new(1);
    for op in unary_ops() {
        for dtype in DTYPES {
            for dims in &test_shapes(&mut rng) {
                for (name, t, values) in inputs(&mut rng, dims, dtype, op.range.0, op.range.1) {
                    let ctx = format!("{} {dtype} {dims:?} {name}", op.name);
                    check_unary(&op, &t, &values, dims, dtype, &ctx);
                }
            }
        }
    }
}

#[test]
fn unary_ops_on_special_values() {
    // Finite extremes (overflow and underflow inside the formulas), signed zeros and NaN: the
    // definition evaluated in f64 is the oracle (NaN must stay NaN).
    let specials = [
        0.0,
        -0.0,
        1e-30,
        -1e-30,
        1e-5,
        -1e-5,
        1.0,
        -1.0,
        20.0,
        20.5,
        88.0,
        -88.0,
        89.0,
        -89.0,
        104.0,
        -104.0,
        700.0,
        -700.0,
        1e30,
        -1e30,
        f64::NAN,
    ];
    for op in unary_ops() {
        for dtype in DTYPES {
            let values: Vec<f64> = specials.iter().map(|&v| round_to(v, dtype)).collect();
            let t = tensor(&values, &[values.len()], dtype);
            let ctx = format!("{} {dtype} specials", op.name);
            let got = out(&(op.run)(&t).unwrap(), dtype, &[values.len()]);
            // Where the f64 reference overflows to ±inf the f32 result must too.
            let want: Vec<f64> = values
                .iter()
                .map(|&x| round_to((op.reference)(x, dtype), dtype))
                .collect();
            let u = unit(dtype);
            assert_close(
                &got,
                &want,
                |i| (op.tol)(values[i], want[i], u) + eta(dtype),
                &ctx,
            );
        }
    }
}

#[test]
fn unary_ops_on_infinities() {
    // Limits of the definitions (hand-written expected values).
    let inf = f64::INFINITY;
    let cases: &[(&str, UnaryFn, f64, f64)] = &[
        ("exp", |t| t.exp(), -inf, 0.0),
        ("exp", |t| t.exp(), inf, inf),
        ("log", |t| t.log(), inf, inf),
        ("log", |t| t.log(), 0.0, -inf),
        ("log", |t| t.log(), -1.0, f64::NAN),
        ("sqrt", |t| t.sqrt(), inf, inf),
        ("sqrt", |t| t.sqrt(), -0.0, -0.0),
        ("tanh", |t| t.tanh(), inf, 1.0),
        ("tanh", |t| t.tanh(), -inf, -1.0),
        ("sigmoid", |t| t.sigmoid(), inf, 1.0),
        ("sigmoid", |t| t.sigmoid(), -inf, 0.0),
        ("relu", |t| t.relu(), -inf, 0.0),
        ("relu", |t| t.relu(), inf, inf),
        ("softplus", |t| t.softplus(), -inf, 0.0),
        ("softplus", |t| t.softplus(), inf, inf),
        ("silu", |t| t.silu(), inf, inf),
        ("gelu", |t| t.gelu(), inf, inf),
        ("gelu_tanh", |t| t.gelu_tanh(), inf, inf),
        ("leaky_relu", |t| t.leaky_relu(0.1), -inf, -inf),
        ("clamp", |t| t.clamp(-1.0, 2.0), -inf, -1.0),
        ("clamp", |t| t.clamp(-1.0, 2.0), inf, 2.0),
        ("abs", |t| t.abs(), -inf, inf),
        ("neg", |t| t.neg(), inf, -inf),
    ];
    for &(name, f, x, want) in cases {
        for dtype in DTYPES {
            let got = out(&f(&tensor(&[x], &[1], dtype)).unwrap(), dtype, &[1])[0];
            assert!(
                same_f64(got, want),
                "{name}({x}) in {dtype}: got {got}, want {want}"
            );
        }
    }
}

#[test]
fn reference_functions_agree_with_std() {
    // Sanity check of the test's own oracles against the platform libm (a few ulps).
    let mut rng = SplitMix64::new(99);
    for _ in 0..2000 {
        // Each within 4 ulps (8u|y|) of the platform's (≤ 1 ulp) result.
        let x = rng.uniform(-700.0, 700.0);
        assert!(
            (ref_exp(x) - x.exp()).abs() <= 8.0 * U64 * x.exp(),
            "exp({x})"
        );
        let y = 2f64.powf(rng.uniform(-1000.0, 1000.0));
        assert!(
            (ref_ln(y) - y.ln()).abs() <= 8.0 * U64 * y.ln().abs(),
            "ln({y})"
        );
        let y1 = rng.uniform(0.5, 2.0);
        assert!(
            (ref_ln(y1) - y1.ln()).abs() <= 8.0 * U64 * y1.ln().abs(),
            "ln({y1})"
        );
        let z = rng.uniform(-6.0, 6.0);
        assert!(
            (ref_tanh(z) - z.tanh()).abs() <= 8.0 * U64 * z.tanh().abs(),
            "tanh({z})"
        );
        let w = rng.uniform(-0.9, 5.0);
        assert!(
            (ref_ln_1p(w) - w.ln_1p()).abs() <= 8.0 * U64 * w.ln_1p().abs(),
            "ln_1p({w})"
        );
        let s = rng.uniform(-30.0, 30.0);
        let sig = 1.0 / (1.0 + (-s).exp());
        assert!(
            (ref_sigmoid(s) - sig).abs() <= 8.0 * U64 * sig,
            "sigmoid({s})"
        );
        let s = rng.uniform(0.0, 1e6);
        assert_eq!(newton_sqrt(s), s.sqrt(), "sqrt({s})");
    }
    // erf at known points (Abramowitz–Stegun table values).
    assert!((ref_erf(0.5) - 0.520_499_877_813_046_5).abs() < 1e-15);
    assert!((ref_erf(1.0) - 0.842_700_792_949_714_9).abs() < 1e-15);
    assert!((ref_erf(2.0) - 0.995_322_265_018_952_7).abs() < 1e-15);
    assert!((ref_erf(-3.0) + 0.999_977_909_503_001_4).abs() < 1e-15);
}

// =====================================================================================
// Binary elementwise with broadcasting
// =====================================================================================

/// Broadcast shape from the definition: align trailing axes; equal or one of them 1.
fn broadcast_dims(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let r = a.len().max(b.len());
    let get = |s: &[usize], i: usize| {
        if i + s.len() >= r {
            s[i + s.len() - r]
        } else {
            1
        }
    };
    (0..r)
        .map(|i| match (get(a, i), get(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// The position in an operand of shape `src` that broadcasts to output index `idx`.
fn source_index(idx: &[usize], src: &[usize]) -> usize {
    let lead = idx.len() - src.len();
    let sidx: Vec<usize> = src
        .iter()
        .enumerate()
        .map(|(a, &d)| if d == 1 { 0 } else { idx[a + lead] })
        .collect();
    ravel(&sidx, src)
}

fn broadcast_reference(
    a: &[f64],
    ad: &[usize],
    b: &[f64],
    bd: &[usize],
    f: impl Fn(f64, f64) -> f64,
) -> (Vec<usize>, Vec<f64>) {
    let od = broadcast_dims(ad, bd).expect("compatible shapes");
    let v = (0..numel(&od))
        .map(|lin| {
            let idx = unravel(lin, &od);
            f(a[source_index(&idx, ad)], b[source_index(&idx, bd)])
        })
        .collect();
    (od, v)
}

/// Broadcasting shape pairs: scalars, size-1 axes on either side, empty axes, rank mismatch.
const SHAPE_PAIRS: &[(&[usize], &[usize])] = &[
    (&[], &[]),
    (&[], &[3]),
    (&[4], &[]),
    (&[2, 3], &[3]),
    (&[2, 1], &[1, 3]),
    (&[4, 1, 3], &[2, 1]),
    (&[0], &[1]),
    (&[2, 0], &[2, 1]),
    (&[1, 0], &[3, 1]),
    (&[2, 3, 4], &[2, 3, 4]),
    (&[3, 1, 1], &[1, 2, 1]),
    (&[1], &[2, 2, 2]),
];

/// A value that is a signed zero, an infinity, NaN or ±1, 2 a quarter of the time.
fn binary_value(rng: &mut SplitMix64) -> f64 {
    let specials = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1.0,
        -1.0,
        2.0,
    ];
    if rng.coin(0.25) {
        *rng.pick(&specials)
    } else {
        rng.uniform(-10.0, 10.0)
    }
}

type BinaryFn = fn(&Tensor, &Tensor) -> strata_tensor::Result<Tensor>;

#[test]
fn binary_ops_broadcast_like_the_index_mapping_reference() {
    // add/sub/mul/div are correctly rounded, so the f64 result rounded once to the dtype is
    // exact (f32: double rounding through f64 is innocuous for +, −, ×, ÷ as 53 ≥ 2·24 + 2).
    // maximum/minimum propagate NaN and otherwise return the larger/smaller operand (the
    // first one on ties, as PyTorch does). pow uses positive bases (see `pow_special_cases`).
    let nan_max = |a: f64, b: f64| {
        if a.is_nan() || b.is_nan() {
            f64::NAN
        } else if b > a {
            b
        } else {
            a
        }
    };
    let nan_min = |a: f64, b: f64| {
        if a.is_nan() || b.is_nan() {
            f64::NAN
        } else if b < a {
            b
        } else {
            a
        }
    };
    let ops: Vec<(&str, BinaryFn, BinaryRef)> = vec![
        ("add", |a, b| a.add(b), Box::new(|a, b| a + b)),
        ("sub", |a, b| a.sub(b), Box::new(|a, b| a - b)),
        ("mul", |a, b| a.mul(b), Box::new(|a, b| a * b)),
        ("div", |a, b| a.div(b), Box::new(|a, b| a / b)),
        ("maximum", |a, b| a.maximum(b), Box::new(nan_max)),
        ("minimum", |a, b| a.minimum(b), Box::new(nan_min)),
    ];
    let mut rng = SplitMix64::new(2);
    for (name, f, reference) in &ops {
        for dtype in DTYPES {
            for &(ad, bd) in SHAPE_PAIRS
                .iter()
                .chain([(&[4usize, 1] as &[usize], &[4usize, 5] as &[usize])].iter())
            {
                for (la, lb) in (0..4).flat_map(|x| (0..4).map(move |y| (x, y))) {
                    let (_, a, av) = make(&mut rng, ad, dtype, la, &mut binary_value);
                    let (_, b, bv) = make(&mut rng, bd, dtype, lb, &mut binary_value);
                    let (od, want) = broadcast_reference(&av, ad, &bv, bd, reference);
                    let want: Vec<f64> = want.into_iter().map(|v| round_to(v, dtype)).collect();
                    let got = out(&f(&a, &b).unwrap(), dtype, &od);
                    assert_close(
                        &got,
                        &want,
                        |_| 0.0,
                        &format!("{name} {dtype} {ad:?}x{bd:?} layouts {la},{lb}"),
                    );
                    // The sign of zero is part of the result for these ops.
                    for (g, w) in got.iter().zip(&want) {
                        if *w == 0.0 {
                            assert_eq!(
                                g.is_sign_negative(),
                                w.is_sign_negative(),
                                "{name}: signed zero"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn pow_matches_exp_log_reference() {
    // |error| ≤ libm's ≤ 1 ulp (2u|y|) plus the reference's: e^{b ln a} inherits the relative
    // error of b·ln a, |b ln a|·2u, so 4u|y|·(2 + |b ln a|).
    let mut rng = SplitMix64::new(3);
    for dtype in DTYPES {
        for &(ad, bd) in SHAPE_PAIRS {
            for (la, lb) in [(0, 0), (1, 2), (2, 3), (3, 1)] {
                let (_, a, av) = make(&mut rng, ad, dtype, la, &mut |r| r.uniform(0.1, 4.0));
                let (_, b, bv) = make(&mut rng, bd, dtype, lb, &mut |r| r.uniform(-4.0, 4.0));
                let (od, want) = broadcast_reference(&av, ad, &bv, bd, ref_pow_pos);
                let (_, scale) =
                    broadcast_reference(&av, ad, &bv, bd, |x, y| (y * ref_ln(x)).abs());
                let got = out(&a.pow(&b).unwrap(), dtype, &od);
                let u = unit(dtype);
                let ctx = format!("pow {dtype} {ad:?}x{bd:?}");
                assert_close(
                    &got,
                    &want,
                    |i| 4.0 * u * want[i].abs() * (2.0 + scale[i]) + eta(dtype),
                    &ctx,
                );
            }
        }
    }
}

#[test]
fn pow_special_cases() {
    // IEEE 754 pow: x^0 = 1 (even for NaN), 1^y = 1, negative base with integer exponent,
    // NaN for a negative base with a non-integer exponent, 0^negative = +inf.
    let inf = f64::INFINITY;
    let cases = [
        (f64::NAN, 0.0, 1.0),
        (1.0, f64::NAN, 1.0),
        (-2.0, 3.0, -8.0),
        (-2.0, 2.0, 4.0),
        (-8.0, 1.0 / 3.0, f64::NAN),
        (0.0, -1.0, inf),
        (0.0, 2.0, 0.0),
        (2.0, -1.0, 0.5),
        (4.0, 0.5, 2.0),
        (inf, -1.0, 0.0),
        (0.5, inf, 0.0),
    ];
    for dtype in DTYPES {
        let a: Vec<f64> = cases.iter().map(|c| c.0).collect();
        let b: Vec<f64> = cases.iter().map(|c| c.1).collect();
        let got = out(
            &tensor(&a, &[a.len()], dtype)
                .pow(&tensor(&b, &[b.len()], dtype))
                .unwrap(),
            dtype,
            &[a.len()],
        );
        for (i, c) in cases.iter().enumerate() {
            let want = round_to(c.2, dtype);
            assert!(
                same_f64(got[i], want),
                "pow({}, {}) in {dtype}: got {}, want {want}",
                c.0,
                c.1,
                got[i]
            );
        }
        // Scalar form broadcasts a rank-0 exponent.
        let sq = out(
            &tensor(&[3.0, -1.5], &[2], dtype).pow_scalar(2.0).unwrap(),
            dtype,
            &[2],
        );
        assert_eq!(sq, vec![9.0, 2.25]);
    }
}

#[test]
fn scalar_ops_are_broadcast_binary_ops() {
    let mut rng = SplitMix64::new(4);
    for dtype in DTYPES {
        for dims in &test_shapes(&mut rng) {
            for (name, t, v) in inputs(&mut rng, dims, dtype, -3.0, 3.0) {
                let s = round_to(0.3, dtype);
                let cases: [(&str, Tensor, BinaryRef); 4] = [
                    (
                        "add_scalar",
                        t.add_scalar(0.3).unwrap(),
                        Box::new(|x, s| x + s),
                    ),
                    (
                        "sub_scalar",
                        t.sub_scalar(0.3).unwrap(),
                        Box::new(|x, s| x - s),
                    ),
                    (
                        "mul_scalar",
                        t.mul_scalar(0.3).unwrap(),
                        Box::new(|x, s| x * s),
                    ),
                    (
                        "div_scalar",
                        t.div_scalar(0.3).unwrap(),
                        Box::new(|x, s| x / s),
                    ),
                ];
                for (op, r, f) in cases {
                    let want: Vec<f64> = v.iter().map(|&x| round_to(f(x, s), dtype)).collect();
                    assert_close(
                        &out(&r, dtype, dims),
                        &want,
                        |_| 0.0,
                        &format!("{op} {dtype} {dims:?} {name}"),
                    );
                }
                let sq: Vec<f64> = v.iter().map(|&x| round_to(x * x, dtype)).collect();
                assert_close(
                    &out(&t.square().unwrap(), dtype, dims),
                    &sq,
                    |_| 0.0,
                    "square",
                );
            }
        }
    }
}

#[test]
fn comparisons_and_where_follow_ieee_with_broadcasting() {
    let ops: [(CmpOp, CmpRef); 6] = [
        (CmpOp::Eq, |a, b| a == b),
        (CmpOp::Ne, |a, b| a != b),
        (CmpOp::Lt, |a, b| a < b),
        (CmpOp::Le, |a, b| a <= b),
        (CmpOp::Gt, |a, b| a > b),
        (CmpOp::Ge, |a, b| a >= b),
    ];
    let mut rng = SplitMix64::new(5);
    for dtype in [DType::F32, DType::F64, DType::I64] {
        for &(ad, bd) in SHAPE_PAIRS {
            for (la, lb) in [(0, 0), (1, 2), (2, 3), (3, 0)] {
                // Few distinct values so that ties are common; NaN for the float dtypes.
                let mut draw = |rng: &mut SplitMix64| -> f64 {
                    if dtype != DType::I64 && rng.coin(0.15) {
                        f64::NAN
                    } else {
                        *rng.pick(&[-1.0, 0.0, 1.0, 2.0])
                    }
                };
                let (_, a, av) = make(&mut rng, ad, dtype, la, &mut draw);
                let (_, b, bv) = make(&mut rng, bd, dtype, lb, &mut draw);
                for (op, f) in ops {
                    let r = a.compare(&b, op).unwrap();
                    let (od, want) =
                        broadcast_reference(&av, ad, &bv, bd, |x, y| f(x, y) as u8 as f64);
                    assert_eq!(
                        out(&r, DType::Bool, &od),
                        want,
                        "{op:?} {dtype} {ad:?}x{bd:?}"
                    );
                }
                // The named forms are the same comparisons.
                let named = [a.eq(&b), a.ne(&b), a.lt(&b), a.le(&b), a.gt(&b), a.ge(&b)];
                for ((op, _), r) in ops.iter().zip(named) {
                    let r = r.unwrap();
                    assert_eq!(
                        r.to_vec::<bool>().unwrap(),
                        a.compare(&b, *op).unwrap().to_vec::<bool>().unwrap()
                    );
                }
                // where(a < b, a, b) is the NaN-avoiding minimum of the reference.
                let cond = a.lt(&b).unwrap();
                let w = Tensor::where_cond(&cond, &a, &b).unwrap();
                let (od, want) =
                    broadcast_reference(&av, ad, &bv, bd, |x, y| if x < y { x } else { y });
                let got = out(&w, dtype, &od);
                assert_close(
                    &got,
                    &want,
                    |_| 0.0,
                    &format!("where {dtype} {ad:?}x{bd:?}"),
                );
            }
        }
    }
}

#[test]
fn where_broadcasts_all_three_operands() {
    let mut rng = SplitMix64::new(6);
    let triples: &[(&[usize], &[usize], &[usize])] = &[
        (&[2, 1, 3], &[4, 1], &[]),
        (&[], &[2, 3], &[3]),
        (&[3], &[2, 1], &[1, 3]),
        (&[0, 1], &[1, 4], &[1]),
    ];
    for &(cd, ad, bd) in triples {
        for dtype in [DType::F32, DType::I64, DType::Bool] {
            let cv: Vec<f64> = (0..numel(cd)).map(|_| rng.coin(0.5) as u8 as f64).collect();
            let av: Vec<f64> = (0..numel(ad)).map(|_| rng.range(0, 9) as f64).collect();
            let bv: Vec<f64> = (0..numel(bd)).map(|_| rng.range(0, 9) as f64).collect();
            let c = layout(&cv, cd, DType::Bool, Layout::Strided);
            let a = layout(&av, ad, dtype, Layout::Transposed);
            let b = layout(&bv, bd, dtype, Layout::Strided);
            let r = Tensor::where_cond(&c, &a, &b).unwrap();
            let od = broadcast_dims(cd, &broadcast_dims(ad, bd).unwrap()).unwrap();
            let want: Vec<f64> = (0..numel(&od))
                .map(|lin| {
                    let idx = unravel(lin, &od);
                    let v = if cv[source_index(&idx, cd)] != 0.0 {
                        av[source_index(&idx, ad)]
                    } else {
                        bv[source_index(&idx, bd)]
                    };
                    if dtype == DType::Bool {
                        (v != 0.0) as u8 as f64
                    } else {
                        v
                    }
                })
                .collect();
            assert_eq!(
                out(&r, dtype, &od),
                want,
                "where {cd:?} {ad:?} {bd:?} {dtype}"
            );
        }
    }
}

// =====================================================================================
// Reductions
// =====================================================================================

/// Groups of a reduction over `axes`, from the definition: each input element goes to the
/// output position of its kept coordinates; within a group, row-major order of the reduced axes.
fn reduce_groups(
    values: &[f64],
    dims: &[usize],
    axes: &[usize],
    keepdim: bool,
) -> (Vec<usize>, Vec<Vec<f64>>) {
    let kept: Vec<usize> = (0..dims.len()).filter(|a| !axes.contains(a)).collect();
    let kept_dims: Vec<usize> = kept.iter().map(|&a| dims[a]).collect();
    let mut groups = vec![Vec::new(); numel(&kept_dims)];
    for (lin, &v) in values.iter().enumerate() {
        let idx = unravel(lin, dims);
        let kidx: Vec<usize> = kept.iter().map(|&a| idx[a]).collect();
        groups[ravel(&kidx, &kept_dims)].push(v);
    }
    let out_dims = if keepdim {
        (0..dims.len())
            .map(|a| if axes.contains(&a) { 1 } else { dims[a] })
            .collect()
    } else {
        kept_dims
    };
    (out_dims, groups)
}

fn nan_fold(g: &[f64], better: fn(f64, f64) -> bool) -> f64 {
    let mut m = g[0];
    for &v in g {
        if v.is_nan() || m.is_nan() {
            return f64::NAN;
        }
        if better(v, m) {
            m = v;
        }
    }
    m
}

fn lse_ref(g: &[f64]) -> f64 {
    if g.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let m = g.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    if m.is_infinite() {
        return m;
    }
    m + ref_ln(accurate_sum(g.iter().map(|&v| ref_exp(v - m))))
}

/// Reference value and error bound of a reduction over one group (u = unit roundoff).
fn reduce_reference(op: &str, g: &[f64], u: f64) -> (f64, f64) {
    let n = g.len() as f64;
    let abs_sum = accurate_sum(g.iter().map(|v| v.abs()));
    match op {
        // Any summation order: |fl(Σ) − Σ| ≤ (n−1)u·Σ|x| (first order); +1 for slack.
        "sum" => (accurate_sum(g.iter().copied()), (n + 1.0) * u * abs_sum),
        // The sum's bound divided by n, plus the division's rounding.
        "mean" => {
            let m = accurate_sum(g.iter().copied()) / n;
            (m, (n + 1.0) * u * abs_sum / n + u * m.abs())
        }
        "max" => (nan_fold(g, |a, b| a > b), 0.0),
        "min" => (nan_fold(g, |a, b| a < b), 0.0),
        // Two-pass variance. With δ the error bound of the computed mean m̂, the deviations
        // satisfy Σ(x − m̂)² = S2 + nδ² (the cross term vanishes), and forming, squaring and
        // summing them adds (n + 3) roundings relative to that sum, and the division one more.
        "var" => {
            if g.len() < 2 {
                return (f64::NAN, 0.0);
            }
            let m = accurate_sum(g.iter().copied()) / n;
            let s2 = accurate_sum(g.iter().map(|&v| (v - m) * (v - m)));
            let delta = (n + 1.0) * u * abs_sum / n + u * m.abs();
            let tol = ((s2 + n * delta * delta) * (n + 5.0) * u + n * delta * delta) / (n - 1.0);
            (s2 / (n - 1.0), 2.0 * tol)
        }
        // m + ln Σ e^{x−m}: x − m rounds (relative error u|x − m| after exp), exp ≤ 2 ulps,
        // the sum (n − 1)u, ln adds its ulp of |ln S| and the final add u|y|.
        "logsumexp" => {
            let y = lse_ref(g);
            let m = g.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            let spread = g
                .iter()
                .map(|&v| (v - m).abs())
                .filter(|d| d.is_finite())
                .fold(0.0, f64::max);
            let tol = u * (spread + n + 8.0 + 2.0 * (y - m).abs() + 2.0 * y.abs() + 2.0 * m.abs());
            (y, tol)
        }
        _ => unreachable!(),
    }
}

fn run_reduce(
    t: &Tensor,
    op: &str,
    dims: &[isize],
    keepdim: bool,
) -> strata_tensor::Result<Tensor> {
    match op {
        "sum" => t.sum(dims, keepdim),
        "mean" => t.mean(dims, keepdim),
        "max" => t.max(dims, keepdim),
        "min" => t.min(dims, keepdim),
        "var" => t.var(dims, keepdim),
        "logsumexp" => t.logsumexp(dims, keepdim),
        _ => unreachable!(),
    }
}

/// All axis selections to test for a rank: empty (= all), each single axis (positive and
/// negative spelling), pairs, and everything listed explicitly.
fn axis_sets(rank: usize) -> Vec<Vec<isize>> {
    let r = rank as isize;
    let mut sets = vec![vec![]];
    for a in 0..r {
        sets.push(vec![a]);
        sets.push(vec![a - r]);
    }
    for a in 0..r {
        for b in a + 1..r {
            sets.push(vec![b - r, a]);
        }
    }
    if rank > 0 {
        sets.push((0..r).collect());
    }
    sets
}

#[test]
fn reductions_match_reference_over_axes_and_layouts() {
    let mut rng = SplitMix64::new(7);
    for op in ["sum", "mean", "max", "min", "var", "logsumexp"] {
        for dtype in DTYPES {
            let u = unit(dtype);
            let mut shapes = test_shapes(&mut rng);
            shapes.extend([vec![37, 3], vec![2, 70], vec![33, 40]]);
            for dims in &shapes {
                for (name, t, values) in inputs(&mut rng, dims, dtype, -4.0, 4.0) {
                    for axes in axis_sets(dims.len()) {
                        for keepdim in [false, true] {
                            let resolved: Vec<usize> = if axes.is_empty() {
                                (0..dims.len()).collect()
                            } else {
                                axes.iter()
                                    .map(|&a| {
                                        if a < 0 {
                                            (a + dims.len() as isize) as usize
                                        } else {
                                            a as usize
                                        }
                                    })
                                    .collect()
                            };
                            let (od, groups) = reduce_groups(&values, dims, &resolved, keepdim);
                            let ctx = format!(
                                "{op} {dtype} {dims:?} {name} axes {axes:?} keepdim {keepdim}"
                            );
                            let r = run_reduce(&t, op, &axes, keepdim);
                            if (op == "max" || op == "min") && groups.iter().any(|g| g.is_empty()) {
                                let e = r.expect_err(&ctx).to_string();
                                assert!(e.contains(op) && e.contains("empty"), "{ctx}: {e}");
                                continue;
                            }
                            let got = out(&r.unwrap(), dtype, &od);
                            let refs: Vec<(f64, f64)> =
                                groups.iter().map(|g| reduce_reference(op, g, u)).collect();
                            let want: Vec<f64> = refs.iter().map(|r| r.0).collect();
                            assert_close(&got, &want, |i| refs[i].1 + eta(dtype), &ctx);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn reductions_of_empty_and_degenerate_groups() {
    for dtype in DTYPES {
        let empty = Tensor::zeros([0], dtype).unwrap();
        let e23 = Tensor::zeros([2, 0, 3], dtype).unwrap();
        let scalar = |t: Tensor| out(&t, dtype, &[])[0];
        // The empty sum is 0, the empty mean and the variance of < 2 values are NaN.
        assert_eq!(scalar(empty.sum(&[], false).unwrap()), 0.0);
        assert!(scalar(empty.mean(&[], false).unwrap()).is_nan());
        assert!(scalar(empty.var(&[], false).unwrap()).is_nan());
        assert!(scalar(tensor(&[2.5], &[1], dtype).var(&[], false).unwrap()).is_nan());
        assert_eq!(
            scalar(empty.logsumexp(&[], false).unwrap()),
            f64::NEG_INFINITY
        );
        assert_eq!(
            out(&e23.sum(&[1], false).unwrap(), dtype, &[2, 3]),
            vec![0.0; 6]
        );
        assert_eq!(
            out(&e23.logsumexp(&[1], true).unwrap(), dtype, &[2, 1, 3]),
            vec![f64::NEG_INFINITY; 6]
        );
        // Reducing the non-empty axes of an empty tensor leaves an empty result.
        assert_eq!(
            out(&e23.max(&[0, 2], false).unwrap(), dtype, &[0]),
            Vec::<f64>::new()
        );
        // A rank-0 tensor reduces to itself.
        let s = tensor(&[-1.5], &[], dtype);
        for op in ["sum", "mean", "max", "min", "logsumexp"] {
            assert_eq!(
                scalar(run_reduce(&s, op, &[], false).unwrap()),
                -1.5,
                "{op} of a scalar"
            );
        }
    }
}

#[test]
fn logsumexp_special_rows() {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let rows: [[f64; 3]; 6] = [
        [-inf, -inf, -inf],
        [-inf, 0.0, -inf],
        [inf, 1.0, 2.0],
        [inf, -inf, 0.0],
        [nan, 1.0, 2.0],
        [1000.0, 1000.0, -inf],
    ];
    let want = [-inf, 0.0, inf, inf, nan, 1000.0 + std::f64::consts::LN_2];
    for dtype in DTYPES {
        let flat: Vec<f64> = rows.iter().flatten().copied().collect();
        for l in LAYOUTS {
            let t = layout(&flat, &[6, 3], dtype, l);
            let got = out(&t.logsumexp(&[-1], false).unwrap(), dtype, &[6]);
            assert_close(
                &got,
                &want,
                |_| 1e-4,
                &format!("logsumexp rows {dtype} {l:?}"),
            );
            // Along axis 0 of the transposed matrix: the same rows.
            let got0 = out(&t.t().unwrap().logsumexp(&[0], false).unwrap(), dtype, &[6]);
            assert_close(&got0, &want, |_| 1e-4, "logsumexp along axis 0");
        }
    }
}

#[test]
fn argmax_argmin_first_occurrence_and_nan() {
    let mut rng = SplitMix64::new(8);
    // Definition: the index of the first maximum (minimum); a NaN counts as the extreme, so
    // the first NaN wins.
    let arg = |g: &[f64], max: bool| -> f64 {
        if let Some(i) = g.iter().position(|v| v.is_nan()) {
            return i as f64;
        }
        let mut best = 0;
        for (i, &v) in g.iter().enumerate() {
            if (max && v > g[best]) || (!max && v < g[best]) {
                best = i;
            }
        }
        best as f64
    };
    for dtype in DTYPES {
        for dims in [
            &[5usize] as &[usize],
            &[1, 3],
            &[4, 1, 5],
            &[2, 3, 4],
            &[3, 7],
            &[2, 3, 1, 3],
        ] {
            for rep in 0..6 {
                let values: Vec<f64> = (0..numel(dims))
                    .map(|_| {
                        if rep % 2 == 1 && rng.coin(0.1) {
                            f64::NAN
                        } else {
                            *rng.pick(&[-2.0, -1.0, 0.0, 1.0, 3.0])
                        }
                    })
                    .collect();
                for l in LAYOUTS {
                    let t = layout(&values, dims, dtype, l);
                    for axis in 0..dims.len() {
                        for (d, keepdim) in [
                            (axis as isize, false),
                            (axis as isize - dims.len() as isize, true),
                        ] {
                            let (od, groups) = reduce_groups(&values, dims, &[axis], keepdim);
                            for max in [true, false] {
                                let r = if max {
                                    t.argmax(d, keepdim)
                                } else {
                                    t.argmin(d, keepdim)
                                }
                                .unwrap();
                                let want: Vec<f64> = groups.iter().map(|g| arg(g, max)).collect();
                                let ctx = format!(
                                    "arg{} {dtype} {dims:?} {l:?} dim {d}",
                                    if max { "max" } else { "min" }
                                );
                                assert_eq!(out(&r, DType::I64, &od), want, "{ctx}");
                            }
                        }
                    }
                }
            }
        }
        // An empty axis has no index.
        let e = Tensor::zeros([3, 0], dtype).unwrap();
        assert!(e
            .argmax(1, false)
            .unwrap_err()
            .to_string()
            .contains("argmax"));
        assert_eq!(e.argmin(0, false).unwrap().dims(), &[0]);
    }
}

// =====================================================================================
// Matrix product
// =====================================================================================

/// `torch.matmul` from its definition: 1-D operands are promoted (and the promoted axis
/// dropped from the result), batch axes broadcast, each output is Σ_q a[.., i, q]·b[.., q, j].
/// Returns the output shape, the values and Σ_q |a||b| per output (for error bounds).
fn matmul_reference(
    a: &[f64],
    ad: &[usize],
    b: &[f64],
    bd: &[usize],
) -> (Vec<usize>, Vec<f64>, Vec<f64>) {
    let a2: Vec<usize> = if ad.len() == 1 {
        vec![1, ad[0]]
    } else {
        ad.to_vec()
    };
    let b2: Vec<usize> = if bd.len() == 1 {
        vec![bd[0], 1]
    } else {
        bd.to_vec()
    };
    let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
    let n = b2[b2.len() - 1];
    assert_eq!(k, b2[b2.len() - 2]);
    let (abatch, bbatch) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
    let batch = broadcast_dims(abatch, bbatch).unwrap();
    let mut od = batch.clone();
    if ad.len() > 1 {
        od.push(m);
    }
    if bd.len() > 1 {
        od.push(n);
    }
    let (mut vals, mut mags) = (Vec::new(), Vec::new());
    for bl in 0..numel(&batch) {
        let bidx = unravel(bl, &batch);
        let (ab, bb) = (source_index(&bidx, abatch), source_index(&bidx, bbatch));
        for i in 0..m {
            for j in 0..n {
                let terms: Vec<f64> = (0..k)
                    .map(|q| a[(ab * m + i) * k + q] * b[(bb * k + q) * n + j])
                    .collect();
                vals.push(accurate_sum(terms.iter().copied()));
                mags.push(accurate_sum(terms.iter().map(|t| t.abs())));
            }
        }
    }
    (od, vals, mags)
}

pub const MATMUL_SHAPES: &[(&[usize], &[usize])] = &[
    (&[3], &[3]),
    (&[4], &[4, 5]),
    (&[4, 5], &[5]),
    (&[3, 4], &[4, 5]),
    (&[2, 3, 4], &[4, 5]),
    (&[2, 3, 4], &[2, 4, 5]),
    (&[2, 1, 3, 4], &[5, 4, 6]),
    (&[4], &[2, 4, 5]),
    (&[2, 3, 4], &[4]),
    (&[0, 3], &[3, 4]),
    (&[3, 0], &[0, 4]),
    (&[3, 4], &[4, 0]),
    (&[0, 2, 3], &[3, 2]),
    (&[0], &[0]),
    (&[1, 1], &[1, 1]),
    (&[5, 1], &[1, 5]),
    (&[17, 33], &[33, 19]),
    (&[2, 65, 31], &[31, 40]),
];

#[test]
fn matmul_matches_naive_product_for_all_torch_cases() {
    // Any summation order, FMA or not: |error| ≤ (k+1)u·Σ|a||b| (first order, γ_k).
    let mut rng = SplitMix64::new(9);
    for kernel in [
        MatmulKernel::Fast,
        MatmulKernel::Reference(Default::default()),
    ] {
        for dtype in DTYPES {
            let u = unit(dtype);
            for &(ad, bd) in MATMUL_SHAPES {
                for (la, lb) in [(0, 0), (1, 1), (2, 2), (3, 3), (1, 2), (3, 0)] {
                    let (_, a, av) = make(&mut rng, ad, dtype, la, &mut |r| r.uniform(-2.0, 2.0));
                    let (_, b, bv) = make(&mut rng, bd, dtype, lb, &mut |r| r.uniform(-2.0, 2.0));
                    let (od, want, mags) = matmul_reference(&av, ad, &bv, bd);
                    let k = if ad.is_empty() { 0 } else { ad[ad.len() - 1] } as f64;
                    let got = out(&a.matmul_with(&b, kernel).unwrap(), dtype, &od);
                    let ctx = format!("matmul {kernel:?} {dtype} {ad:?}x{bd:?} layouts {la},{lb}");
                    assert_close(&got, &want, |i| (k + 1.0) * u * mags[i] + eta(dtype), &ctx);
                }
            }
        }
    }
}

#[test]
fn matmul_on_transposed_and_broadcast_matrices() {
    // Aᵀ·B with A stored [k, m]; A broadcast from a single row; B a step-2 column slice.
    let mut rng = SplitMix64::new(10);
    for dtype in DTYPES {
        let u = unit(dtype);
        let (m, k, n) = (6, 9, 7);
        let at = rng.values(k * m, -1.0, 1.0, dtype); // [k, m]
        let a = tensor(&at, &[k, m], dtype).t().unwrap();
        let a_vals: Vec<f64> = (0..m * k).map(|l| at[(l % k) * m + l / k]).collect();
        let bw = rng.values(k * 2 * n, -1.0, 1.0, dtype); // [k, 2n], take every other column
        let b = tensor(&bw, &[k, 2 * n], dtype)
            .slice(1, 1, 2 * n, 2)
            .unwrap();
        let b_vals: Vec<f64> = (0..k * n)
            .map(|l| bw[(l / n) * 2 * n + 2 * (l % n) + 1])
            .collect();
        let row = rng.values(k, -1.0, 1.0, dtype);
        let a_bc = tensor(&row, &[1, k], dtype).expand([m, k]).unwrap();
        let a_bc_vals: Vec<f64> = (0..m * k).map(|l| row[l % k]).collect();
        for (lhs, lv) in [(&a, &a_vals), (&a_bc, &a_bc_vals)] {
            for kernel in [
                MatmulKernel::Fast,
                MatmulKernel::Reference(Default::default()),
            ] {
                let (od, want, mags) = matmul_reference(lv, &[m, k], &b_vals, &[k, n]);
                let got = out(&lhs.matmul_with(&b, kernel).unwrap(), dtype, &od);
                assert_close(
                    &got,
                    &want,
                    |i| (k as f64 + 1.0) * u * mags[i] + eta(dtype),
                    &format!("{kernel:?} {dtype}"),
                );
            }
        }
    }
}

// =====================================================================================
// Softmax family, normalization, embedding
// =====================================================================================

/// Lines along `axis`: (output positions, values), from index arithmetic.
fn lines(dims: &[usize], axis: usize) -> Vec<Vec<usize>> {
    let mut by_rest: std::collections::BTreeMap<Vec<usize>, Vec<usize>> = Default::default();
    for lin in 0..numel(dims) {
        let mut idx = unravel(lin, dims);
        idx[axis] = 0;
        by_rest.entry(idx).or_default().push(lin);
    }
    by_rest.into_values().collect()
}

#[test]
fn softmax_and_log_softmax_along_every_axis() {
    let mut rng = SplitMix64::new(11);
    let shapes: &[&[usize]] = &[
        &[5],
        &[1],
        &[3, 4],
        &[2, 3, 4],
        &[2, 1, 3],
        &[3, 0, 2],
        &[4, 40],
    ];
    for dtype in DTYPES {
        let u = unit(dtype);
        for dims in shapes {
            for (name, t, values) in inputs(&mut rng, dims, dtype, -6.0, 6.0) {
                for axis in 0..dims.len() {
                    for d in [axis as isize, axis as isize - dims.len() as isize] {
                        let sm = out(&t.softmax(d).unwrap(), dtype, dims);
                        let lsm = out(&t.log_softmax(d).unwrap(), dtype, dims);
                        let mut want_sm = vec![0.0; values.len()];
                        let mut want_lsm = vec![0.0; values.len()];
                        let mut tol_sm = vec![0.0; values.len()];
                        let mut tol_lsm = vec![0.0; values.len()];
                        for line in lines(dims, axis) {
                            let x: Vec<f64> = line.iter().map(|&p| values[p]).collect();
                            let m = x.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                            let s = accurate_sum(x.iter().map(|&v| ref_exp(v - m)));
                            let n = x.len() as f64;
                            let spread = x.iter().map(|&v| m - v).fold(0.0, f64::max);
                            let lse = m + ref_ln(s);
                            for (&p, &v) in line.iter().zip(&x) {
                                want_sm[p] = ref_exp(v - m) / s;
                                want_lsm[p] = v - lse;
                                // softmax: x − m rounds (relative error u|x − m| after exp), exp ≤
                                // 2 ulps, the sum's relative error ≤ (n−1)u + the same per term,
                                // the division one more: u(|x−m| + spread + n + 10)·|y|.
                                tol_sm[p] = u * ((m - v) + spread + n + 10.0) * want_sm[p];
                                // log_softmax = x − lse: the ln of the sum is off by its relative
                                // error (as above) plus ulps of |m| and |lse|, then one subtraction.
                                tol_lsm[p] = u
                                    * (spread
                                        + n
                                        + 10.0
                                        + 2.0 * m.abs()
                                        + 2.0 * lse.abs()
                                        + want_lsm[p].abs());
                            }
                        }
                        let ctx = format!("{dtype} {dims:?} {name} dim {d}");
                        assert_close(
                            &sm,
                            &want_sm,
                            |i| tol_sm[i] + eta(dtype),
                            &format!("softmax {ctx}"),
                        );
                        assert_close(
                            &lsm,
                            &want_lsm,
                            |i| tol_lsm[i] + eta(dtype),
                            &format!("log_softmax {ctx}"),
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn softmax_with_infinite_entries() {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    for dtype in DTYPES {
        let t = tensor(
            &[-inf, 0.0, -inf, -inf, -inf, -inf, 1.0, 1.0, -inf],
            &[3, 3],
            dtype,
        );
        let sm = out(&t.softmax(1).unwrap(), dtype, &[3, 3]);
        // A −inf entry gets probability 0; an all −inf row has no distribution (NaN, as PyTorch).
        assert_eq!(&sm[..3], &[0.0, 1.0, 0.0]);
        assert!(sm[3..6].iter().all(|v| v.is_nan()));
        assert_eq!(&sm[6..], &[0.5, 0.5, 0.0]);
        let lsm = out(&t.log_softmax(1).unwrap(), dtype, &[3, 3]);
        assert_eq!(&lsm[..3], &[-inf, 0.0, -inf]);
        assert!(lsm[3..6].iter().all(|v| v.is_nan()));
        assert!(same_f64(lsm[8], -inf));
        assert!((lsm[6] + std::f64::consts::LN_2).abs() < 1e-6);
        let with_nan = out(
            &tensor(&[1.0, nan, 2.0], &[3], dtype).softmax(0).unwrap(),
            dtype,
            &[3],
        );
        assert!(with_nan.iter().all(|v| v.is_nan()));
    }
}

/// Error bound of y = (x − m̂)/√(v̂ + eps)·w + b, to first order: the mean is off by
/// δm ≤ (n+1)u·Σ|x|/n + u|m|, the biased variance by Δv ≤ (n+5)u·v + δm² (see the variance
/// bound above), so 1/√(v+eps) is off by a relative Δv/(2(v+eps)) + 2u; then x − m̂ adds
/// δm + u|x − m|, the product u|y|, and the affine step |w|·err + u(|y·w| + |out|).
#[allow(clippy::too_many_arguments)]
fn norm_tol(
    x: f64,
    mean: f64,
    var: f64,
    eps: f64,
    n: f64,
    abs_sum: f64,
    y: f64,
    w: f64,
    out: f64,
    u: f64,
    running: bool,
) -> f64 {
    let dm = if running {
        0.0
    } else {
        (n + 1.0) * u * abs_sum / n + u * mean.abs()
    };
    let dv = if running {
        0.0
    } else {
        (n + 5.0) * u * var + dm * dm
    };
    let inv = 1.0 / (var + eps).sqrt();
    let rel_inv = dv / (2.0 * (var + eps)) + 3.0 * u;
    let err_y = (dm + 2.0 * u * (x - mean).abs()) * inv + y.abs() * (rel_inv + 2.0 * u);
    2.0 * (w.abs() * err_y + u * ((y * w).abs() + out.abs()))
}

#[test]
fn layer_norm_matches_definition() {
    let mut rng = SplitMix64::new(12);
    let cases: &[(&[usize], &[usize])] = &[
        (&[4, 5], &[5]),
        (&[2, 3, 4], &[3, 4]),
        (&[2, 3, 4], &[4]),
        (&[3], &[3]),
        (&[2, 0], &[0]),
        (&[3, 2], &[]),
        (&[1, 1, 6], &[1, 6]),
        (&[5, 64], &[64]),
    ];
    for dtype in DTYPES {
        let u = unit(dtype);
        for &(dims, norm) in cases {
            for (name, t, values) in inputs(&mut rng, dims, dtype, -3.0, 5.0) {
                for affine in [false, true] {
                    let eps = 1e-5;
                    let k = numel(norm);
                    let w = rng.values(k, -2.0, 2.0, dtype);
                    let b = rng.values(k, -1.0, 1.0, dtype);
                    let (wt, bt) = (
                        layout(&w, norm, dtype, Layout::Strided),
                        layout(&b, norm, dtype, Layout::Transposed),
                    );
                    let r = if affine {
                        t.layer_norm(norm, Some(&wt), Some(&bt), eps)
                    } else {
                        t.layer_norm(norm, None, None, eps)
                    };
                    let got = out(&r.unwrap(), dtype, dims);
                    let mut want = vec![0.0; values.len()];
                    let mut tol = vec![0.0; values.len()];
                    for (gi, group) in values.chunks(k.max(1)).enumerate() {
                        if k == 0 {
                            break;
                        }
                        let n = k as f64;
                        let mean = accurate_sum(group.iter().copied()) / n;
                        let var = accurate_sum(group.iter().map(|&v| (v - mean) * (v - mean))) / n;
                        let abs_sum = accurate_sum(group.iter().map(|v| v.abs()));
                        for (j, &x) in group.iter().enumerate() {
                            let y = (x - mean) / (var + eps).sqrt();
                            let (wj, bj) = if affine { (w[j], b[j]) } else { (1.0, 0.0) };
                            let o = y * wj + bj;
                            want[gi * k + j] = o;
                            tol[gi * k + j] =
                                norm_tol(x, mean, var, eps, n, abs_sum, y, wj, o, u, false);
                        }
                    }
                    let ctx =
                        format!("layer_norm {dtype} {dims:?} over {norm:?} {name} affine {affine}");
                    assert_close(&got, &want, |i| tol[i] + eta(dtype), &ctx);
                }
            }
        }
    }
}

#[test]
fn batch_norm_training_and_eval_match_definition() {
    let mut rng = SplitMix64::new(13);
    let shapes: &[&[usize]] = &[&[4, 3], &[2, 3, 5], &[2, 2, 3, 3], &[5, 1], &[3, 2, 1]];
    for dtype in DTYPES {
        let u = unit(dtype);
        for dims in shapes {
            let c = dims[1];
            for (name, t, values) in inputs(&mut rng, dims, dtype, -2.0, 6.0) {
                let rm = rng.values(c, -1.0, 1.0, dtype);
                let rv = rng.values(c, 0.5, 2.0, dtype);
                let w = rng.values(c, -2.0, 2.0, dtype);
                let b = rng.values(c, -1.0, 1.0, dtype);
                let (rmt, rvt) = (tensor(&rm, &[c], dtype), tensor(&rv, &[c], dtype));
                let (wt, bt) = (
                    layout(&w, &[c], dtype, Layout::Strided),
                    tensor(&b, &[c], dtype),
                );
                let (momentum, eps) = (0.1, 1e-5);
                // Channel of each element, from index arithmetic.
                let chan = |lin: usize| unravel(lin, dims)[1];
                for training in [true, false] {
                    let r = t
                        .batch_norm(&rmt, &rvt, Some(&wt), Some(&bt), training, momentum, eps)
                        .unwrap();
                    let got = out(&r.output, dtype, dims);
                    let (mut want, mut tol) = (vec![0.0; values.len()], vec![0.0; values.len()]);
                    let (mut want_rm, mut want_rv, mut tol_rm, mut tol_rv) =
                        (vec![0.0; c], vec![0.0; c], vec![0.0; c], vec![0.0; c]);
                    for ch in 0..c {
                        let xs: Vec<f64> = (0..values.len())
                            .filter(|&l| chan(l) == ch)
                            .map(|l| values[l])
                            .collect();
                        let n = xs.len() as f64;
                        let bmean = accurate_sum(xs.iter().copied()) / n;
                        let bvar = accurate_sum(xs.iter().map(|&v| (v - bmean) * (v - bmean))) / n;
                        let abs_sum = accurate_sum(xs.iter().map(|v| v.abs()));
                        let (mean, var) = if training {
                            (bmean, bvar)
                        } else {
                            (rm[ch], rv[ch])
                        };
                        for l in (0..values.len()).filter(|&l| chan(l) == ch) {
                            let y = (values[l] - mean) / (var + eps).sqrt();
                            want[l] = y * w[ch] + b[ch];
                            tol[l] = norm_tol(
                                values[l], mean, var, eps, n, abs_sum, y, w[ch], want[l], u,
                                !training,
                            );
                        }
                        if training {
                            // PyTorch: running ← (1 − momentum)·running + momentum·batch statistic,
                            // with the unbiased batch variance for the running variance.
                            let unbiased = bvar * n / (n - 1.0);
                            want_rm[ch] = (1.0 - momentum) * rm[ch] + momentum * bmean;
                            want_rv[ch] = (1.0 - momentum) * rv[ch] + momentum * unbiased;
                            // Batch-statistic errors (as in norm_tol) scaled by momentum, plus
                            // a handful of roundings on each product and sum.
                            let dm = (n + 1.0) * u * abs_sum / n + u * bmean.abs();
                            let dv = ((n + 5.0) * u * bvar + dm * dm) * n / (n - 1.0)
                                + 3.0 * u * unbiased;
                            tol_rm[ch] = momentum * dm
                                + 4.0 * u * (rm[ch].abs() + bmean.abs() + want_rm[ch].abs());
                            tol_rv[ch] = momentum * dv
                                + 4.0 * u * (rv[ch].abs() + unbiased.abs() + want_rv[ch].abs());
                        } else {
                            want_rm[ch] = rm[ch];
                            want_rv[ch] = rv[ch];
                        }
                    }
                    let ctx = format!("batch_norm {dtype} {dims:?} {name} training {training}");
                    assert_close(&got, &want, |i| tol[i] + eta(dtype), &ctx);
                    assert_close(
                        &out(&r.running_mean, dtype, &[c]),
                        &want_rm,
                        |i| tol_rm[i] + eta(dtype),
                        &format!("{ctx} running_mean"),
                    );
                    assert_close(
                        &out(&r.running_var, dtype, &[c]),
                        &want_rv,
                        |i| tol_rv[i] + eta(dtype),
                        &format!("{ctx} running_var"),
                    );
                }
                // Without affine parameters the output is the bare normalization.
                let bare = t
                    .batch_norm(&rmt, &rvt, None, None, false, momentum, eps)
                    .unwrap();
                let want: Vec<f64> = (0..values.len())
                    .map(|l| (values[l] - rm[chan(l)]) / (rv[chan(l)] + eps).sqrt())
                    .collect();
                assert_close(
                    &out(&bare.output, dtype, dims),
                    &want,
                    |i| 8.0 * u * (want[i].abs() + 1.0),
                    "batch_norm eval without affine",
                );
            }
        }
    }
}

#[test]
fn embedding_looks_up_rows() {
    let mut rng = SplitMix64::new(14);
    let (v, d) = (7, 3);
    let table = rng.values(v * d, -1.0, 1.0, DType::F32);
    for l in LAYOUTS {
        let t = layout(&table, &[v, d], DType::F32, l);
        for idims in [&[] as &[usize], &[4], &[2, 3], &[0], &[2, 0], &[3, 1, 2]] {
            let idx: Vec<f64> = (0..numel(idims)).map(|_| rng.below(v) as f64).collect();
            for il in LAYOUTS {
                let it = layout(&idx, idims, DType::I64, il);
                let mut od = idims.to_vec();
                od.push(d);
                let got = out(&t.embedding(&it).unwrap(), DType::F32, &od);
                let want: Vec<f64> = (0..numel(&od))
                    .map(|lin| table[idx[lin / d] as usize * d + lin % d])
                    .collect();
                assert_eq!(got, want, "embedding {l:?} {idims:?} {il:?}");
            }
        }
    }
}

// =====================================================================================
// Index ops and padding
// =====================================================================================

fn resolve(i: i64, size: usize) -> usize {
    if i < 0 {
        (i + size as i64) as usize
    } else {
        i as usize
    }
}

/// Random in-range indices for an axis of `size`, negative half the time.
fn random_indices(rng: &mut SplitMix64, n: usize, size: usize) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let i = rng.below(size) as i64;
            (if rng.coin(0.5) { i - size as i64 } else { i }) as f64
        })
        .collect()
}

#[test]
fn index_select_repeated_and_negative_indices() {
    let mut rng = SplitMix64::new(15);
    for dtype in [DType::F32, DType::I64, DType::Bool] {
        for dims in [
            &[5usize] as &[usize],
            &[3, 4],
            &[2, 3, 4],
            &[4, 0, 2],
            &[1, 5],
        ] {
            let values: Vec<f64> = (0..numel(dims)).map(|_| rng.range(0, 9) as f64).collect();
            let values: Vec<f64> = values
                .into_iter()
                .map(|v| {
                    if dtype == DType::Bool {
                        (v > 4.0) as u8 as f64
                    } else {
                        v
                    }
                })
                .collect();
            for l in LAYOUTS {
                let t = layout(&values, dims, dtype, l);
                for axis in 0..dims.len() {
                    if dims[axis] == 0 {
                        continue;
                    }
                    for n in [0, 1, 6] {
                        let idx = random_indices(&mut rng, n, dims[axis]);
                        let it = layout(&idx, &[n], DType::I64, Layout::Strided);
                        let mut od = dims.to_vec();
                        od[axis] = n;
                        let want: Vec<f64> = (0..numel(&od))
                            .map(|lin| {
                                let mut i = unravel(lin, &od);
                                i[axis] = resolve(idx[i[axis]] as i64, dims[axis]);
                                values[ravel(&i, dims)]
                            })
                            .collect();
                        let d = if axis % 2 == 0 {
                            axis as isize
                        } else {
                            axis as isize - dims.len() as isize
                        };
                        let got = out(&t.index_select(d, &it).unwrap(), dtype, &od);
                        assert_eq!(
                            got, want,
                            "index_select {dtype} {dims:?} {l:?} axis {axis} {idx:?}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn gather_follows_its_definition() {
    let mut rng = SplitMix64::new(16);
    for dims in [&[5usize] as &[usize], &[3, 4], &[2, 3, 4], &[3, 1, 2]] {
        let values = rng.values(numel(dims), -5.0, 5.0, DType::F64);
        for l in LAYOUTS {
            let t = layout(&values, dims, DType::F64, l);
            for axis in 0..dims.len() {
                for _ in 0..3 {
                    // Index shape: ≤ the source on other axes, any size along `axis`.
                    let idims: Vec<usize> = dims
                        .iter()
                        .enumerate()
                        .map(|(a, &s)| {
                            if a == axis {
                                rng.range(0, 5)
                            } else {
                                rng.range(0, s)
                            }
                        })
                        .collect();
                    let idx = random_indices(&mut rng, numel(&idims), dims[axis]);
                    let it = layout(&idx, &idims, DType::I64, *rng.pick(&LAYOUTS));
                    let want: Vec<f64> = (0..numel(&idims))
                        .map(|lin| {
                            let mut i = unravel(lin, &idims);
                            i[axis] = resolve(idx[lin] as i64, dims[axis]);
                            values[ravel(&i, dims)]
                        })
                        .collect();
                    let got = out(&t.gather(axis as isize, &it).unwrap(), DType::F64, &idims);
                    assert_eq!(
                        got, want,
                        "gather {dims:?} {l:?} axis {axis} index {idims:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn scatter_add_accumulates_repeats_in_index_order() {
    // Declared order: repeated targets accumulate in row-major order of `index`, in the dtype's
    // arithmetic — so the reference adds in that order with f32 (f64) operations, bit for bit.
    let mut rng = SplitMix64::new(17);
    for dtype in DTYPES {
        for dims in [&[6usize] as &[usize], &[3, 4], &[2, 3, 4], &[4, 1, 3]] {
            let base = rng.values(numel(dims), -1.0, 1.0, dtype);
            for axis in 0..dims.len() {
                for _ in 0..3 {
                    let idims: Vec<usize> = dims
                        .iter()
                        .enumerate()
                        .map(|(a, &s)| {
                            if a == axis {
                                rng.range(0, 6)
                            } else {
                                rng.range(0, s)
                            }
                        })
                        .collect();
                    // src may be larger than index on every axis.
                    let sdims: Vec<usize> = idims.iter().map(|&d| d + rng.range(0, 1)).collect();
                    // Few distinct targets → many repeats.
                    let idx: Vec<f64> = (0..numel(&idims))
                        .map(|_| {
                            let i = rng.below(dims[axis].min(2)) as i64;
                            (if rng.coin(0.3) {
                                i - dims[axis] as i64
                            } else {
                                i
                            }) as f64
                        })
                        .collect();
                    let src = rng.values(numel(&sdims), -1e3, 1e3, dtype);
                    let mut want = base.clone();
                    for (lin, &ix) in idx.iter().enumerate() {
                        let i = unravel(lin, &idims);
                        let s = src[ravel(&i, &sdims)];
                        let mut o = i.clone();
                        o[axis] = resolve(ix as i64, dims[axis]);
                        let p = ravel(&o, dims);
                        want[p] = round_to(want[p] + s, dtype);
                    }
                    for (l1, l2, l3) in [(0, 0, 0), (1, 2, 1), (2, 1, 2)] {
                        let t = layout(&base, dims, dtype, LAYOUTS[l1]);
                        let it = layout(&idx, &idims, DType::I64, LAYOUTS[l2]);
                        let st = layout(&src, &sdims, dtype, LAYOUTS[l3]);
                        let got = out(
                            &t.scatter_add(axis as isize, &it, &st).unwrap(),
                            dtype,
                            dims,
                        );
                        assert_bits_f64(&got, &want, &format!("scatter_add {dtype} {dims:?} axis {axis} index {idims:?} src {sdims:?}"));
                    }
                }
            }
        }
    }
}

#[test]
fn pad_places_the_input_inside_a_constant_frame() {
    let mut rng = SplitMix64::new(18);
    for dtype in [DType::F32, DType::F64, DType::I64, DType::Bool] {
        for dims in &test_shapes(&mut rng) {
            for kind in 0..KINDS {
                let (name, t, values) = make(&mut rng, dims, dtype, kind, &mut |r| {
                    r.range(0, 18) as f64 - 9.0
                });
                let np = rng.range(0, dims.len());
                let pads: Vec<(usize, usize)> = (0..np)
                    .map(|_| (rng.range(0, 2), rng.range(0, 2)))
                    .collect();
                let value = round_to(-3.0, dtype);
                let mut before = vec![0; dims.len()];
                let mut od = dims.to_vec();
                for (k, &(b, a)) in pads.iter().enumerate() {
                    let axis = dims.len() - 1 - k;
                    before[axis] = b;
                    od[axis] += b + a;
                }
                let want: Vec<f64> = (0..numel(&od))
                    .map(|lin| {
                        let i = unravel(lin, &od);
                        let inside = (0..dims.len())
                            .all(|a| i[a] >= before[a] && i[a] < before[a] + dims[a]);
                        if inside {
                            let s: Vec<usize> = (0..dims.len()).map(|a| i[a] - before[a]).collect();
                            values[ravel(&s, dims)]
                        } else {
                            value
                        }
                    })
                    .collect();
                let got = out(&t.pad(&pads, -3.0).unwrap(), dtype, &od);
                assert_eq!(got, want, "pad {dtype} {dims:?} {name} {pads:?}");
            }
        }
    }
}

// =====================================================================================
// Joining and splitting
// =====================================================================================

#[test]
fn cat_and_stack_match_index_mapping() {
    let mut rng = SplitMix64::new(19);
    for dtype in [DType::F32, DType::I64] {
        for base in [
            &[3usize] as &[usize],
            &[2, 3],
            &[2, 0, 3],
            &[2, 3, 4],
            &[1, 2],
        ] {
            for axis in 0..base.len() {
                let sizes = [rng.range(0, 3), 0, rng.range(1, 3)];
                let parts: Vec<(Vec<usize>, Vec<f64>)> = sizes
                    .iter()
                    .map(|&s| {
                        let mut d = base.to_vec();
                        d[axis] = s;
                        let v = (0..numel(&d)).map(|_| rng.range(0, 99) as f64).collect();
                        (d, v)
                    })
                    .collect();
                let tensors: Vec<Tensor> = parts
                    .iter()
                    .enumerate()
                    .map(|(i, (d, v))| layout(v, d, dtype, LAYOUTS[i % 3]))
                    .collect();
                let refs: Vec<&Tensor> = tensors.iter().collect();
                let mut od = base.to_vec();
                od[axis] = sizes.iter().sum();
                let want: Vec<f64> = (0..numel(&od))
                    .map(|lin| {
                        let mut i = unravel(lin, &od);
                        let mut p = 0;
                        while i[axis] >= parts[p].0[axis] {
                            i[axis] -= parts[p].0[axis];
                            p += 1;
                        }
                        parts[p].1[ravel(&i, &parts[p].0)]
                    })
                    .collect();
                let got = out(
                    &Tensor::cat(&refs, axis as isize - base.len() as isize).unwrap(),
                    dtype,
                    &od,
                );
                assert_eq!(got, want, "cat {dtype} {base:?} axis {axis}");
            }
            // stack along every new axis position.
            for axis in 0..=base.len() {
                let vals: Vec<Vec<f64>> = (0..3)
                    .map(|_| (0..numel(base)).map(|_| rng.range(0, 99) as f64).collect())
                    .collect();
                let tensors: Vec<Tensor> = vals
                    .iter()
                    .enumerate()
                    .map(|(i, v)| layout(v, base, dtype, LAYOUTS[i]))
                    .collect();
                let refs: Vec<&Tensor> = tensors.iter().collect();
                let mut od = base.to_vec();
                od.insert(axis, 3);
                let want: Vec<f64> = (0..numel(&od))
                    .map(|lin| {
                        let mut i = unravel(lin, &od);
                        let which = i.remove(axis);
                        vals[which][ravel(&i, base)]
                    })
                    .collect();
                assert_eq!(
                    out(&Tensor::stack(&refs, axis as isize).unwrap(), dtype, &od),
                    want,
                    "stack {base:?} axis {axis}"
                );
            }
        }
    }
    // Rank-0 tensors stack into a vector.
    let s: Vec<Tensor> = [1.0, 2.0, 3.0]
        .iter()
        .map(|&v| Tensor::scalar(v as f32))
        .collect();
    let st = Tensor::stack(&s.iter().collect::<Vec<_>>(), 0).unwrap();
    assert_eq!(f32s(&st), vec![1.0, 2.0, 3.0]);
}

/// Checks that `pieces` are views of consecutive ranges of `sizes` along `axis`.
fn check_pieces(
    t: &Tensor,
    pieces: &[Tensor],
    values: &[f64],
    dims: &[usize],
    axis: usize,
    sizes: &[usize],
    ctx: &str,
) {
    assert_eq!(pieces.len(), sizes.len(), "{ctx}: number of pieces");
    let mut start = 0;
    for (p, &s) in pieces.iter().zip(sizes) {
        let mut pd = dims.to_vec();
        pd[axis] = s;
        let want: Vec<f64> = (0..numel(&pd))
            .map(|lin| {
                let mut i = unravel(lin, &pd);
                i[axis] += start;
                values[ravel(&i, dims)]
            })
            .collect();
        assert_eq!(out(p, DType::F32, &pd), want, "{ctx}: piece at {start}");
        assert!(p.shares_storage(t), "{ctx}: pieces are views");
        start += s;
    }
}

#[test]
fn split_split_sizes_and_chunk() {
    let mut rng = SplitMix64::new(20);
    for dims in [&[7usize] as &[usize], &[3, 5], &[2, 6, 2], &[0, 4], &[4, 0]] {
        for (name, t, values) in inputs(&mut rng, dims, DType::F32, -1.0, 1.0) {
            for axis in 0..dims.len() {
                let n = dims[axis];
                for size in 1..=4 {
                    // split(size): ⌈n/size⌉ pieces of `size`, the last one shorter; an empty axis
                    // gives one empty piece (as PyTorch).
                    let mut sizes: Vec<usize> = (0..n.div_ceil(size))
                        .map(|i| size.min(n - i * size))
                        .collect();
                    if sizes.is_empty() {
                        sizes.push(0);
                    }
                    let pieces = t.split(size, axis as isize).unwrap();
                    check_pieces(
                        &t,
                        &pieces,
                        &values,
                        dims,
                        axis,
                        &sizes,
                        &format!("split({size}) {dims:?} {name} axis {axis}"),
                    );
                    // chunk(c): pieces of ⌈n/c⌉.
                    let c = size;
                    let csize = n.div_ceil(c).max(1);
                    let mut csizes: Vec<usize> = (0..n.div_ceil(csize))
                        .map(|i| csize.min(n - i * csize))
                        .collect();
                    if csizes.is_empty() {
                        csizes.push(0);
                    }
                    let pieces = t.chunk(c, axis as isize - dims.len() as isize).unwrap();
                    check_pieces(
                        &t,
                        &pieces,
                        &values,
                        dims,
                        axis,
                        &csizes,
                        &format!("chunk({c}) {dims:?} {name} axis {axis}"),
                    );
                }
                // split_sizes: a random composition of n, zeros allowed.
                let mut sizes = Vec::new();
                let mut left = n;
                while left > 0 {
                    let s = rng.range(0, left);
                    sizes.push(s);
                    left -= s;
                }
                sizes.push(0);
                let pieces = t.split_sizes(&sizes, axis as isize).unwrap();
                check_pieces(
                    &t,
                    &pieces,
                    &values,
                    dims,
                    axis,
                    &sizes,
                    &format!("split_sizes {sizes:?} {dims:?} {name}"),
                );
            }
        }
    }
}

// =====================================================================================
// dtype conversions
// =====================================================================================

/// An IEEE binary format: `p` significand bits (with the hidden one), exponent range.
#[derive(Clone, Copy, Debug)]
struct Format {
    p: u32,
    emin: i32,
    emax: i32,
}
const F16: Format = Format {
    p: 11,
    emin: -14,
    emax: 15,
};
const BF16: Format = Format {
    p: 8,
    emin: -126,
    emax: 127,
};
const F32: Format = Format {
    p: 24,
    emin: -126,
    emax: 127,
};

/// Rounds the exact value (−1)^neg · mant · 2^exp to `fmt`, to nearest with ties to even, in
/// integer arithmetic; returns the result as an f64 (every such value is an f64).
fn round_exact(neg: bool, mant: u128, exp: i32, fmt: Format) -> f64 {
    let sign = if neg { -1.0 } else { 1.0 };
    if mant == 0 {
        return sign * 0.0;
    }
    let top = 127 - mant.leading_zeros() as i32 + exp; // floor(log2 |x|)
    let q = (top - (fmt.p as i32 - 1)).max(fmt.emin - (fmt.p as i32 - 1)); // quantum exponent
    let (r, rq) = if q <= exp {
        (mant, exp) // exact
    } else {
        let shift = (q - exp) as u32;
        if shift > 127 {
            (0, q)
        } else {
            let r = mant >> shift;
            let rem = mant & ((1u128 << shift) - 1);
            let half = 1u128 << (shift - 1);
            let up = rem > half || (rem == half && r & 1 == 1);
            (r + up as u128, q)
        }
    };
    // Largest finite: (2^p − 1)·2^(emax − p + 1).
    let max = ((1u128 << fmt.p) - 1) as f64 * 2f64.powi(fmt.emax - fmt.p as i32 + 1);
    let v = r as f64 * 2f64.powi(rq);
    if v > max {
        sign * f64::INFINITY
    } else {
        sign * v
    }
}

fn round_f64_to(x: f64, fmt: Format) -> f64 {
    if x.is_nan() || x.is_infinite() {
        return x;
    }
    let bits = x.to_bits();
    let neg = bits >> 63 == 1;
    let e = ((bits >> 52) & 0x7ff) as i32;
    let frac = (bits & ((1 << 52) - 1)) as u128;
    let (mant, exp) = if e == 0 {
        (frac, -1074)
    } else {
        (frac | 1 << 52, e - 1075)
    };
    round_exact(neg, mant, exp, fmt)
}

fn round_i64_to(v: i64, fmt: Format) -> f64 {
    round_exact(v < 0, v.unsigned_abs() as u128, 0, fmt)
}

/// Decodes binary16 / bfloat16 bits from the definition of the formats.
fn decode(bits: u16, fmt: Format) -> f64 {
    let frac_bits = fmt.p - 1;
    let exp_bits = 15 - frac_bits;
    let sign = if bits >> 15 == 1 { -1.0 } else { 1.0 };
    let e = ((bits >> frac_bits) & ((1 << exp_bits) - 1)) as i32;
    let f = (bits & ((1 << frac_bits) - 1)) as f64;
    let bias = fmt.emax;
    if e == (1 << exp_bits) - 1 {
        return if f == 0.0 {
            sign * f64::INFINITY
        } else {
            f64::NAN
        };
    }
    if e == 0 {
        sign * f * 2f64.powi(fmt.emin - frac_bits as i32)
    } else {
        sign * (1.0 + f / (1u32 << frac_bits) as f64) * 2f64.powi(e - bias)
    }
}

fn half_values(t: &Tensor) -> Vec<f64> {
    match t.dtype() {
        DType::F16 => t
            .to_vec::<half::f16>()
            .unwrap()
            .iter()
            .map(|h| decode(h.to_bits(), F16))
            .collect(),
        DType::BF16 => t
            .to_vec::<half::bf16>()
            .unwrap()
            .iter()
            .map(|h| decode(h.to_bits(), BF16))
            .collect(),
        d => panic!("{d}"),
    }
}

#[test]
fn f64_to_f32_f16_bf16_rounds_once_to_nearest_even() {
    let mut rng = SplitMix64::new(21);
    // Random f64s of every scale relevant to the targets (including subnormal and overflow
    // ranges), plus values just off the halfway points where rounding twice goes wrong.
    let mut xs: Vec<f64> = (0..20000)
        .map(|_| {
            let m = rng.uniform(1.0, 2.0);
            let e = rng.range(0, 300) as i32 - 160;
            let s = if rng.coin(0.5) { -1.0 } else { 1.0 };
            s * m * 2f64.powi(e)
        })
        .collect();
    for k in [1, 20, 29, 40, 52] {
        let tiny = 2f64.powi(-k);
        for (fmt_p, base) in [
            (11, 1.0),
            (8, 1.0),
            (24, 1.0),
            (11, 2f64.powi(-20)),
            (8, 2f64.powi(-130)),
            (11, 65504.0),
        ] {
            let half_ulp = base * 2f64.powi(-fmt_p);
            for s in [-1.0, 1.0] {
                xs.push(s * (base + half_ulp));
                xs.push(s * (base + half_ulp) * (1.0 + tiny));
                xs.push(s * (base + half_ulp) * (1.0 - tiny));
                xs.push(s * (base + 3.0 * half_ulp) * (1.0 + tiny));
            }
        }
    }
    xs.extend([
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        65520.0,
        65519.99,
        3.4028235677973366e38,
        3.4028235677973362e38,
    ]);
    let t = Tensor::from_vec(xs.clone(), [xs.len()]).unwrap();
    let check = |got: &[f64], fmt: Format, name: &str| {
        for (i, (&g, &x)) in got.iter().zip(&xs).enumerate() {
            let w = round_f64_to(x, fmt);
            assert!(
                same_f64(g, w),
                "{name}: element {i}: {x:e} ({:#x}) → got {g:e}, want {w:e}",
                x.to_bits()
            );
        }
    };
    check(
        &half_values(&t.to_dtype(DType::F16).unwrap()),
        F16,
        "f64→f16",
    );
    check(
        &half_values(&t.to_dtype(DType::BF16).unwrap()),
        BF16,
        "f64→bf16",
    );
    check(
        &out(&t.to_dtype(DType::F32).unwrap(), DType::F32, &[xs.len()]),
        F32,
        "f64→f32",
    );
    // The oracle agrees with Rust's `as` (correctly rounded) on f64→f32.
    for &x in &xs {
        assert!(
            same_f64(x as f32 as f64, round_f64_to(x, F32)),
            "oracle vs as: {x:e}"
        );
    }
    // `full` rounds its fill value the same way.
    for &x in &xs[xs.len() - 40..] {
        let f = Tensor::full([1], x, DType::F16).unwrap();
        assert!(
            same_f64(half_values(&f)[0], round_f64_to(x, F16)),
            "full f16 {x:e}"
        );
        let b = Tensor::full([1], x, DType::BF16).unwrap();
        assert!(
            same_f64(half_values(&b)[0], round_f64_to(x, BF16)),
            "full bf16 {x:e}"
        );
    }
}

#[test]
fn f32_to_f16_bf16_rounds_once_to_nearest_even() {
    let mut rng = SplitMix64::new(22);
    let mut xs: Vec<f32> = (0..50000)
        .map(|_| f32::from_bits(rng.next_u64() as u32))
        .filter(|x| !x.is_nan())
        .collect();
    // Just above the halfway point between two bf16 values: only the last f32 bits say so.
    xs.extend([
        1.0 + 2f32.powi(-8) + 2f32.powi(-23),
        -(1.0 + 2f32.powi(-8) + 2f32.powi(-22)),
        1.0 + 2f32.powi(-11) + 2f32.powi(-23),
    ]);
    let t = Tensor::from_vec(xs.clone(), [xs.len()]).unwrap();
    for (dt, fmt) in [(DType::F16, F16), (DType::BF16, BF16)] {
        let got = half_values(&t.to_dtype(dt).unwrap());
        for (i, (&g, &x)) in got.iter().zip(&xs).enumerate() {
            let w = round_f64_to(x as f64, fmt);
            assert!(
                same_f64(g, w),
                "f32→{dt}: element {i}: {x:e} ({:#x}) → got {g:e}, want {w:e}",
                x.to_bits()
            );
        }
    }
}

#[test]
fn f16_and_bf16_round_trip_every_bit_pattern() {
    let all: Vec<u16> = (0..=u16::MAX).collect();
    for (dt, fmt) in [(DType::F16, F16), (DType::BF16, BF16)] {
        let t = match dt {
            DType::F16 => Tensor::from_vec(
                all.iter()
                    .map(|&b| half::f16::from_bits(b))
                    .collect::<Vec<_>>(),
                [all.len()],
            ),
            _ => Tensor::from_vec(
                all.iter()
                    .map(|&b| half::bf16::from_bits(b))
                    .collect::<Vec<_>>(),
                [all.len()],
            ),
        }
        .unwrap();
        for wide in [DType::F32, DType::F64] {
            let w = t.to_dtype(wide).unwrap();
            let vals = out(&w, wide, &[all.len()]);
            for (&b, &v) in all.iter().zip(&vals) {
                assert!(same_f64(v, decode(b, fmt)), "{dt} {b:#06x} → {wide}: {v:e}");
            }
            // And back: identical bits for every non-NaN pattern, NaN stays NaN.
            let back = w.to_dtype(dt).unwrap();
            let bits: Vec<u16> = match dt {
                DType::F16 => back
                    .to_vec::<half::f16>()
                    .unwrap()
                    .iter()
                    .map(|h| h.to_bits())
                    .collect(),
                _ => back
                    .to_vec::<half::bf16>()
                    .unwrap()
                    .iter()
                    .map(|h| h.to_bits())
                    .collect(),
            };
            for (&b, &r) in all.iter().zip(&bits) {
                if decode(b, fmt).is_nan() {
                    assert!(
                        decode(r, fmt).is_nan(),
                        "{dt} NaN {b:#06x} via {wide} → {r:#06x}"
                    );
                } else {
                    assert_eq!(b, r, "{dt} {b:#06x} via {wide}");
                }
            }
        }
        // A strided (non-contiguous) view converts element by element.
        let strided = t.slice(0, 1, all.len(), 1000).unwrap();
        let vals = out(
            &strided.to_dtype(DType::F64).unwrap(),
            DType::F64,
            &[strided.dims()[0]],
        );
        for (i, v) in vals.iter().enumerate() {
            assert!(same_f64(*v, decode(all[1 + 1000 * i], fmt)));
        }
    }
}

#[test]
fn i64_conversions_round_once() {
    let mut rng = SplitMix64::new(23);
    let mut vs: Vec<i64> = vec![
        0,
        1,
        -1,
        i64::MAX,
        i64::MIN,
        i64::MIN + 1,
        1 << 53,
        (1 << 53) + 1,
        (1 << 53) + 3,
        -(1 << 53) - 1,
    ];
    // Above 2^53 (where f64 cannot hold them): odd values and halfway points of f32 and bf16.
    for k in [24, 25, 30, 53, 54, 60, 62] {
        let b: i64 = 1 << k;
        for off in [
            1,
            2,
            3,
            1 << (k - 24),
            (1 << (k - 24)) + 1,
            (1 << (k - 8)) + 1,
            (1 << (k - 8)) - 1,
        ] {
            vs.push(b + off);
            vs.push(-(b + off));
        }
    }
    vs.push((1 << 30) + (1 << 22) + 1);
    vs.push((1 << 60) + (1 << 52) + 1);
    vs.extend((0..5000).map(|_| {
        ((rng.next_u64() >> rng.below(64)) as i64).wrapping_mul(if rng.coin(0.5) { -1 } else { 1 })
    }));
    let t = Tensor::from_vec(vs.clone(), [vs.len()]).unwrap();
    let f32s_got = f32s(&t.to_dtype(DType::F32).unwrap());
    let f64s_got = f64s(&t.to_dtype(DType::F64).unwrap());
    let f16_got = half_values(&t.to_dtype(DType::F16).unwrap());
    let bf16_got = half_values(&t.to_dtype(DType::BF16).unwrap());
    for (i, &v) in vs.iter().enumerate() {
        // Rust's `as` is correctly rounded (to nearest even) from i64 to f32 and f64.
        assert_eq!(f32s_got[i].to_bits(), (v as f32).to_bits(), "i64→f32 {v}");
        assert_eq!(
            f32s_got[i] as f64,
            round_i64_to(v, F32),
            "i64→f32 oracle {v}"
        );
        assert_eq!(f64s_got[i].to_bits(), (v as f64).to_bits(), "i64→f64 {v}");
        assert!(
            same_f64(f16_got[i], round_i64_to(v, F16)),
            "i64→f16 {v}: got {}",
            f16_got[i]
        );
        assert!(
            same_f64(bf16_got[i], round_i64_to(v, BF16)),
            "i64→bf16 {v}: got {}, want {}",
            bf16_got[i],
            round_i64_to(v, BF16)
        );
    }
    // Back to i64: truncation toward zero, saturating, NaN → 0 (Rust's `as`).
    let fs = [
        0.0,
        -0.0,
        2.9,
        -2.9,
        1e19,
        -1e19,
        9.223372036854775e18,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        4503599627370497.0,
    ];
    let back = t_i64(&Tensor::from_vec(fs.to_vec(), [fs.len()]).unwrap());
    assert_eq!(back, fs.iter().map(|&x| x as i64).collect::<Vec<_>>());
    let back32 = t_i64(
        &Tensor::from_vec(fs.iter().map(|&x| x as f32).collect::<Vec<_>>(), [fs.len()]).unwrap(),
    );
    assert_eq!(
        back32,
        fs.iter().map(|&x| x as f32 as i64).collect::<Vec<_>>()
    );
}

fn t_i64(t: &Tensor) -> Vec<i64> {
    t.to_dtype(DType::I64).unwrap().to_vec::<i64>().unwrap()
}

/// The exact value of every element of a tensor of any dtype, read from its raw storage.
fn exact_values(t: &Tensor) -> Vec<f64> {
    match t.dtype() {
        DType::F16 | DType::BF16 => half_values(t),
        d => out(t, d, t.dims()),
    }
}

#[test]
fn to_dtype_converts_every_pair_on_every_layout() {
    // Reference per element, from the documented semantics: floats round once to nearest even
    // (the integer oracle `round_*_to` for f16/bf16, Rust's correctly rounded `as` for f32 and
    // f64), → i64 truncates toward zero and saturates with NaN → 0 (Rust's `as`), → bool is
    // `!= 0`, bool → number is 0/1.
    let all = [
        DType::F32,
        DType::F64,
        DType::I64,
        DType::Bool,
        DType::F16,
        DType::BF16,
    ];
    let convert = |v: f64, from: DType, to: DType| -> f64 {
        match to {
            DType::F32 => v as f32 as f64,
            DType::F64 => v,
            DType::I64 => v as i64 as f64,
            DType::Bool => (v != 0.0) as u8 as f64,
            DType::F16 if from == DType::I64 => round_i64_to(v as i64, F16),
            DType::F16 => round_f64_to(v, F16),
            _ if from == DType::I64 => round_i64_to(v as i64, BF16),
            _ => round_f64_to(v, BF16),
        }
    };
    // Specials every float dtype holds exactly (49152 = 1.5·2^15, 2^-20 is an f16 subnormal).
    let specials = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        49152.0,
        2f64.powi(-20),
    ];
    let mut rng = SplitMix64::new(25);
    for from in all {
        for dims in &test_shapes(&mut rng) {
            for kind in 0..KINDS {
                let (name, t, values) = make(&mut rng, dims, from, kind, &mut |r| {
                    if from.is_float() && r.coin(0.2) {
                        *r.pick(&specials)
                    } else if matches!(from, DType::F32 | DType::F64) && r.coin(0.5) {
                        r.uniform(-1e5, 1e5) // rounds in the f16/bf16 conversions
                    } else {
                        r.range(0, 76) as f64 * 0.25 - 9.5
                    }
                });
                assert_bits_f64(&exact_values(&t), &values, &format!("{from} {name} source"));
                for to in all {
                    let c = t.to_dtype(to).unwrap();
                    assert_eq!((c.dims(), c.dtype()), (&dims[..], to));
                    let got = exact_values(&c);
                    for (i, (&g, &v)) in got.iter().zip(&values).enumerate() {
                        let want = convert(v, from, to);
                        assert!(
                            same_f64(g, want),
                            "{from}→{to} {dims:?} {name} element {i}: {v} → {g}, want {want}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn bool_conversions() {
    let xs = [0.0, -0.0, 1.0, -2.5, f64::NAN, f64::INFINITY, 1e-300];
    for dtype in DTYPES {
        let t = tensor(&xs, &[xs.len()], dtype);
        let b = t.to_dtype(DType::Bool).unwrap().to_vec::<bool>().unwrap();
        // x != 0 (NaN is nonzero).
        let want: Vec<bool> = xs.iter().map(|&x| round_to(x, dtype) != 0.0).collect();
        assert_eq!(b, want, "{dtype}→bool");
    }
    let b = Tensor::from_vec(vec![true, false, true], [3]).unwrap();
    assert_eq!(f32s(&b.to_dtype(DType::F32).unwrap()), vec![1.0, 0.0, 1.0]);
    assert_eq!(
        b.to_dtype(DType::I64).unwrap().to_vec::<i64>().unwrap(),
        vec![1, 0, 1]
    );
    let i = Tensor::from_vec(vec![0i64, -3, 7], [3]).unwrap();
    assert_eq!(
        i.to_dtype(DType::Bool).unwrap().to_vec::<bool>().unwrap(),
        vec![false, true, true]
    );
    // f32 ↔ f64 is exact one way, correctly rounded the other, on a transposed view too.
    let mut rng = SplitMix64::new(24);
    let v: Vec<f64> = (0..12).map(|_| rng.uniform(-1e10, 1e10)).collect();
    let t = layout(&v, &[3, 4], DType::F64, Layout::Transposed);
    let f = t.to_dtype(DType::F32).unwrap();
    assert!(f.is_contiguous());
    assert_eq!(f32s(&f), v.iter().map(|&x| x as f32).collect::<Vec<_>>());
    assert_eq!(
        f64s(&f.to_dtype(DType::F64).unwrap()),
        v.iter().map(|&x| x as f32 as f64).collect::<Vec<_>>()
    );
}

#[test]
fn constructors_hold_the_requested_values() {
    let a = Tensor::arange(-1.0, 2.0, 0.5, DType::F32).unwrap();
    assert_eq!(f32s(&a), vec![-1.0, -0.5, 0.0, 0.5, 1.0, 1.5]);
    let a = Tensor::arange(5.0, 0.0, -2.0, DType::I64).unwrap();
    assert_eq!(a.to_vec::<i64>().unwrap(), vec![5, 3, 1]);
    assert_eq!(
        Tensor::arange(0.0, 0.0, 1.0, DType::F64).unwrap().dims(),
        &[0]
    );
    let e = Tensor::eye(3, DType::F64).unwrap();
    let want: Vec<f64> = (0..9).map(|l| (l / 3 == l % 3) as u8 as f64).collect();
    assert_eq!(f64s(&e), want);
    let f = Tensor::full([2, 0, 3], 1.5, DType::F32).unwrap();
    assert_eq!((f.dims(), f.numel()), (&[2usize, 0, 3][..], 0));
    let f = Tensor::full([2, 2], -2.7, DType::I64).unwrap();
    assert_eq!(f.to_vec::<i64>().unwrap(), vec![-2; 4]);
    let s = Tensor::scalar_f64(0.1, DType::F32);
    assert_eq!((s.rank(), s.item::<f32>().unwrap()), (0, 0.1f32));
    let o = Tensor::ones([3], DType::Bool).unwrap();
    assert_eq!(o.to_vec::<bool>().unwrap(), vec![true; 3]);
    let z = layout(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F64, Layout::Strided);
    assert_eq!(f64s(&z.zeros_like().unwrap()), vec![0.0; 4]);
    assert_eq!(f64s(&z.ones_like().unwrap()), vec![1.0; 4]);
    assert_eq!(z.dim(-1).unwrap(), 2);
    // item reads through views with an offset.
    let v = layout(&[1.0, 2.0, 3.0, 4.0], &[2, 2], DType::F32, Layout::Strided);
    assert_eq!(
        v.narrow(0, 1, 1)
            .unwrap()
            .narrow(1, 1, 1)
            .unwrap()
            .item::<f32>()
            .unwrap(),
        4.0
    );
}
