//! Declared evaluation orders, checked bit for bit.
//!
//! `ReduceOrder::Sequential` is `((0 + x0) + x1) + …`; `ReduceOrder::Pairwise { block }` is
//! the tree its doc comment describes: a range of at most one block is summed left to right, a
//! longer range is split after `ceil(blocks / 2)` blocks and the halves' sums are added. The
//! test-side implementations below are written from those descriptions and evaluate in the
//! dtype's arithmetic: an f32 sum is the f64 sum of the two f32 operands rounded once to f32
//! (exact emulation, since double rounding is innocuous for + when 53 ≥ 2·24 + 2).
//! `MatmulKernel::Reference(order)` forms each product rounded to the dtype and sums the k
//! products in `order`. Folds start from +0 (so an all −0 sum is +0, as in PyTorch).

mod common;

use common::*;
use strata_tensor::{sum_in_order, DType, MatmulKernel, ReduceOp, ReduceOrder};

/// a + b in the dtype's arithmetic.
fn add(a: f64, b: f64, dtype: DType) -> f64 {
    round_to(a + b, dtype)
}

fn sequential(x: &[f64], dtype: DType) -> f64 {
    x.iter().fold(0.0, |acc, &v| add(acc, v, dtype))
}

fn pairwise(x: &[f64], block: usize, dtype: DType) -> f64 {
    let blocks = x.len().div_ceil(block);
    if blocks <= 1 {
        return sequential(x, dtype);
    }
    let (l, r) = x.split_at(blocks.div_ceil(2) * block);
    add(pairwise(l, block, dtype), pairwise(r, block, dtype), dtype)
}

fn in_order(x: &[f64], order: ReduceOrder, dtype: DType) -> f64 {
    match order {
        ReduceOrder::Sequential => sequential(x, dtype),
        ReduceOrder::Pairwise { block } => pairwise(x, block, dtype),
    }
}

/// Values spread over 40 binades with both signs, so that the order of a sum matters.
fn spread(rng: &mut SplitMix64, n: usize, dtype: DType) -> Vec<f64> {
    (0..n)
        .map(|_| {
            let v = rng.uniform(1.0, 2.0) * 2f64.powi(rng.range(0, 40) as i32 - 20);
            round_to(if rng.coin(0.5) { -v } else { v }, dtype)
        })
        .collect()
}

/// The crate's `sum_in_order` on f64 values converted to the dtype.
fn crate_sum(x: &[f64], order: ReduceOrder, dtype: DType) -> f64 {
    match dtype {
        DType::F32 => {
            let v: Vec<f32> = x.iter().map(|&a| a as f32).collect();
            sum_in_order(&v, order) as f64
        }
        _ => sum_in_order(x, order),
    }
}

const ORDERS: [ReduceOrder; 7] = [
    ReduceOrder::Sequential,
    ReduceOrder::Pairwise { block: 1 },
    ReduceOrder::Pairwise { block: 2 },
    ReduceOrder::Pairwise { block: 3 },
    ReduceOrder::Pairwise { block: 5 },
    ReduceOrder::Pairwise { block: 32 },
    ReduceOrder::Pairwise { block: 100 },
];

#[test]
fn sum_in_order_matches_the_declared_trees_bit_for_bit() {
    let mut rng = SplitMix64::new(31);
    let lengths: Vec<usize> = (0..=140).chain([1000, 4097]).collect();
    for dtype in [DType::F32, DType::F64] {
        for &n in &lengths {
            let x = spread(&mut rng, n, dtype);
            for order in ORDERS {
                let got = crate_sum(&x, order, dtype);
                let want = in_order(&x, order, dtype);
                assert!(
                    same_f64(got, want),
                    "{order:?} {dtype} n={n}: got {got:e}, want {want:e}"
                );
            }
        }
    }
}

#[test]
fn large_sums_keep_the_tree_on_the_parallel_path() {
    // At 2^16 elements and above the tree's leaves are summed in parallel chunks; the tree
    // itself must not change.
    let mut rng = SplitMix64::new(32);
    for n in [65535, 65536, 65537, 100_003, (1 << 17) + 5] {
        for dtype in [DType::F32, DType::F64] {
            let x = spread(&mut rng, n, dtype);
            for order in [
                ReduceOrder::Sequential,
                ReduceOrder::Pairwise { block: 32 },
                ReduceOrder::Pairwise { block: 7 },
            ] {
                let (got, want) = (crate_sum(&x, order, dtype), in_order(&x, order, dtype));
                assert!(
                    same_f64(got, want),
                    "{order:?} {dtype} n={n}: {got:e} vs {want:e}"
                );
            }
        }
    }
}

#[test]
fn orders_really_differ_on_these_inputs() {
    // Guards the two tests above against being vacuous: on spread-out data, the declared
    // orders give different roundings (so matching one of them is a real check).
    let mut rng = SplitMix64::new(33);
    let mut differ = 0;
    for _ in 0..50 {
        let x = spread(&mut rng, 100, DType::F32);
        let s = sequential(&x, DType::F32);
        let p = pairwise(&x, 3, DType::F32);
        differ += (s != p) as usize;
    }
    assert!(differ > 10, "only {differ} of 50 sums depend on the order");
}

#[test]
fn default_order_is_pairwise_32() {
    assert_eq!(ReduceOrder::default(), ReduceOrder::Pairwise { block: 32 });
    let mut rng = SplitMix64::new(34);
    for dtype in [DType::F32, DType::F64] {
        let x = spread(&mut rng, 3 * 257, dtype);
        let t = tensor(&x, &[3, 257], dtype);
        let got = t.sum(&[1], false).unwrap().to_vec_f64();
        for (r, g) in got.iter().enumerate() {
            let want = pairwise(&x[r * 257..(r + 1) * 257], 32, dtype);
            assert!(same_f64(*g, want), "{dtype} row {r}");
        }
        // ReduceOp::apply on a slice uses the order it is given.
        let v: Vec<f64> = x[..100].to_vec();
        assert!(same_f64(
            ReduceOp::Sum.apply(&v, ReduceOrder::Sequential),
            sequential(&v, DType::F64)
        ));
    }
}

#[test]
fn tensor_sum_and_mean_reduce_groups_in_the_declared_order() {
    // Each group is the reduced axes in row-major order (from index arithmetic), summed in
    // the declared order; the mean divides that sum by n once, in the dtype.
    let mut rng = SplitMix64::new(35);
    let shapes: &[&[usize]] = &[
        &[70],
        &[5, 40],
        &[3, 9, 11],
        &[2, 33, 1, 4],
        &[0, 5],
        &[4, 0],
        // Many rows over many kept columns: the columnwise path, several tree levels, and
        // (for the larger one) parallel column chunks.
        &[37, 20],
        &[40, 3000],
    ];
    for dtype in [DType::F32, DType::F64] {
        for dims in shapes {
            for kind in 0..KINDS {
                let (name, t, values) = make(&mut rng, dims, dtype, kind, &mut |r| {
                    r.uniform(1.0, 2.0) * 2f64.powi(r.range(0, 30) as i32 - 15)
                });
                let rank = dims.len();
                let mut axis_sets: Vec<Vec<usize>> = (0..rank).map(|a| vec![a]).collect();
                axis_sets.push((0..rank).collect());
                if rank >= 3 {
                    axis_sets.push(vec![0, 2]);
                }
                for axes in axis_sets {
                    let spelled: Vec<isize> =
                        axes.iter().map(|&a| a as isize - rank as isize).collect();
                    for order in [
                        ReduceOrder::Sequential,
                        ReduceOrder::Pairwise { block: 4 },
                        ReduceOrder::Pairwise { block: 32 },
                    ] {
                        for op in [ReduceOp::Sum, ReduceOp::Mean] {
                            let r = t.reduce(op, &spelled, true, order).unwrap();
                            let got = r.to_vec_f64();
                            let groups = groups_of(&values, dims, &axes);
                            assert_eq!(got.len(), groups.len());
                            for (g, (gv, group)) in got.iter().zip(&groups).enumerate() {
                                let s = in_order(group, order, dtype);
                                let want = if op == ReduceOp::Mean {
                                    round_to(s / group.len() as f64, dtype)
                                } else {
                                    s
                                };
                                assert!(
                                    same_f64(*gv, want),
                                    "{op:?} {order:?} {dtype} {dims:?} {name} axes {axes:?} \
                                     group {g}: got {gv:e}, want {want:e}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Groups of the reduction over `axes`: kept coordinates in row-major order, each group the
/// reduced coordinates in row-major order.
fn groups_of(values: &[f64], dims: &[usize], axes: &[usize]) -> Vec<Vec<f64>> {
    let kept: Vec<usize> = (0..dims.len()).filter(|a| !axes.contains(a)).collect();
    let kept_dims: Vec<usize> = kept.iter().map(|&a| dims[a]).collect();
    let mut groups = vec![Vec::new(); numel(&kept_dims)];
    for (lin, &v) in values.iter().enumerate() {
        let idx = unravel(lin, dims);
        let k: Vec<usize> = kept.iter().map(|&a| idx[a]).collect();
        groups[ravel(&k, &kept_dims)].push(v);
    }
    groups
}

#[test]
fn reference_matmul_is_rounded_products_summed_in_order() {
    let mut rng = SplitMix64::new(36);
    let shapes: &[(&[usize], &[usize])] = &[
        (&[37], &[37]),
        (&[5], &[5, 3]),
        (&[4, 70], &[70]),
        (&[3, 33], &[33, 6]),
        (&[2, 3, 9], &[9, 4]),
        (&[2, 1, 3, 9], &[3, 9, 2]),
        (&[3, 0], &[0, 2]),
        (&[1, 200], &[200, 2]),
    ];
    for dtype in [DType::F32, DType::F64] {
        for &(ad, bd) in shapes {
            for (ka, kb) in [(0, 0), (1, 2), (2, 3), (3, 1)] {
                let gen = &mut |r: &mut SplitMix64| {
                    r.uniform(1.0, 2.0)
                        * 2f64.powi(r.range(0, 24) as i32 - 12)
                        * if r.coin(0.5) { -1.0 } else { 1.0 }
                };
                let (na, a, av) = make(&mut rng, ad, dtype, ka, gen);
                let (nb, b, bv) = make(&mut rng, bd, dtype, kb, gen);
                for order in [
                    ReduceOrder::Sequential,
                    ReduceOrder::Pairwise { block: 1 },
                    ReduceOrder::Pairwise { block: 4 },
                    ReduceOrder::Pairwise { block: 32 },
                ] {
                    let got = a.matmul_with(&b, MatmulKernel::Reference(order)).unwrap();
                    let want = matmul_in_order(&av, ad, &bv, bd, order, dtype);
                    assert_eq!(got.dims(), want.0.as_slice());
                    assert_bits_f64(
                        &got.to_vec_f64(),
                        &want.1,
                        &format!("Reference({order:?}) {dtype} {ad:?}·{bd:?} {na}·{nb}"),
                    );
                }
            }
        }
    }
}

/// torch.matmul with each output Σ_q round(a_iq · b_qj) in `order`.
fn matmul_in_order(
    a: &[f64],
    ad: &[usize],
    b: &[f64],
    bd: &[usize],
    order: ReduceOrder,
    dtype: DType,
) -> (Vec<usize>, Vec<f64>) {
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
    let (m, k, n) = (a2[a2.len() - 2], a2[a2.len() - 1], b2[b2.len() - 1]);
    let (ab, bb) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
    let r = ab.len().max(bb.len());
    let dim = |s: &[usize], i: usize| {
        if i + s.len() >= r {
            s[i + s.len() - r]
        } else {
            1
        }
    };
    let batch: Vec<usize> = (0..r).map(|i| dim(ab, i).max(dim(bb, i))).collect();
    let src = |idx: &[usize], s: &[usize]| {
        let lead = idx.len() - s.len();
        let si: Vec<usize> = s
            .iter()
            .enumerate()
            .map(|(x, &d)| if d == 1 { 0 } else { idx[x + lead] })
            .collect();
        ravel(&si, s)
    };
    let mut od = batch.clone();
    if ad.len() > 1 {
        od.push(m);
    }
    if bd.len() > 1 {
        od.push(n);
    }
    let mut out = Vec::new();
    for bl in 0..numel(&batch) {
        let idx = unravel(bl, &batch);
        let (pa, pb) = (src(&idx, ab), src(&idx, bb));
        for i in 0..m {
            for j in 0..n {
                let products: Vec<f64> = (0..k)
                    .map(|q| round_to(a[(pa * m + i) * k + q] * b[(pb * k + q) * n + j], dtype))
                    .collect();
                out.push(in_order(&products, order, dtype));
            }
        }
    }
    (od, out)
}
