//! IBP and CROWN: soundness on sampled points, tightness against IBP, and a hand-computed
//! example.

#[path = "common/net.rs"]
mod common_net;

use common_net::{mlp, two_neurons, Rng};
use strata_ir::eval::{run_all, ExecConfig};
use strata_ir::{GraphBuilder, Op, ParamStore};
use strata_tensor::{DType, Tensor};
use strata_verify::vnnlib::Enclosure;
use strata_verify::{ibp, Crown, Region, VerifyError};

fn rows(n: usize, sign: f64) -> Vec<Vec<Enclosure>> {
    (0..n)
        .map(|j| {
            (0..n)
                .map(|k| Enclosure::point(if j == k { sign } else { 0.0 }))
                .collect()
        })
        .collect()
}

/// Every sampled point (corners and uniform draws) has every node inside its IBP bounds and
/// every ReLU input and output inside its CROWN bounds.
#[test]
fn sampled_points_stay_inside_ibp_and_crown_bounds() {
    let mut checked = 0usize;
    for (net, widths) in [&[3usize, 8, 8, 2][..], &[2, 6, 6, 6, 3], &[5, 10, 10, 5]]
        .iter()
        .enumerate()
    {
        for mixed in [false, true] {
            let (graph, params) = mlp(widths, 11 + net as u64, DType::F64, mixed);
            let mut rng = Rng(99 + net as u64);
            let n = widths[0];
            let centre: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let radius = rng.uniform(0.05, 0.5);
            let region = Region::new(
                centre.iter().map(|c| c - radius).collect(),
                centre.iter().map(|c| c + radius).collect(),
            );
            let ib = ibp(&graph, &params, &region).unwrap();
            let crown = Crown::new(&graph, &params, &region).unwrap();
            let out = graph.outputs[0];
            let cb = crown.bounds(out).unwrap();
            let m = cb.lower.len();
            let raw_lo = crown.lower_bounds(out, &rows(m, 1.0)).unwrap();
            let raw_hi: Vec<f64> = crown
                .lower_bounds(out, &rows(m, -1.0))
                .unwrap()
                .iter()
                .map(|v| -v)
                .collect();
            for s in 0..3000 {
                let x: Vec<f64> = (0..n)
                    .map(|i| {
                        if s < 1 << n.min(10) {
                            if (s >> i) & 1 == 1 {
                                region.upper[i]
                            } else {
                                region.lower[i]
                            }
                        } else {
                            rng.uniform(region.lower[i], region.upper[i])
                        }
                    })
                    .collect();
                let t = Tensor::from_vec(x, vec![1, n]).unwrap();
                let values = run_all(&graph, &params, &[t], &ExecConfig::sequential()).unwrap();
                for (id, v) in values.iter().enumerate() {
                    let Some(b) = &ib[id] else { continue };
                    let v = v.to_vec_f64();
                    for (k, y) in v.iter().enumerate() {
                        assert!(
                            b.lower[k] <= *y && *y <= b.upper[k],
                            "IBP node {id}[{k}]: {y} not in [{}, {}]",
                            b.lower[k],
                            b.upper[k]
                        );
                    }
                    if let Some(p) = crown.pre_activation_bounds(id) {
                        for (k, y) in v.iter().enumerate() {
                            assert!(
                                p.lower[k] <= *y && *y <= p.upper[k],
                                "CROWN pre-activation {id}[{k}]"
                            );
                        }
                    }
                }
                let y = values[out].to_vec_f64();
                for k in 0..m {
                    assert!(
                        cb.lower[k] <= y[k] && y[k] <= cb.upper[k],
                        "CROWN output {k}: {} not in [{}, {}]",
                        y[k],
                        cb.lower[k],
                        cb.upper[k]
                    );
                    assert!(
                        raw_lo[k] <= y[k] && y[k] <= raw_hi[k],
                        "raw CROWN output {k}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * 3000);
}

/// CROWN's bounds lie inside IBP's for every node it reports, and the raw CROWN output bounds
/// (without intersecting with IBP) are tighter than IBP in total on deeper networks.
#[test]
fn crown_is_at_least_as_tight_as_ibp() {
    let mut ibp_total = 0.0;
    let mut crown_total = 0.0;
    for seed in 0..8u64 {
        let (graph, params) = mlp(&[4, 16, 16, 16, 4], 100 + seed, DType::F32, seed % 2 == 0);
        let mut rng = Rng(7 + seed);
        let c: Vec<f64> = (0..4).map(|_| rng.uniform(-1.0, 1.0)).collect();
        let region = Region::new(
            c.iter().map(|v| v - 0.1).collect(),
            c.iter().map(|v| v + 0.1).collect(),
        );
        let crown = Crown::new(&graph, &params, &region).unwrap();
        let out = graph.outputs[0];
        for (id, _) in graph.nodes.iter().enumerate() {
            if let (Some(p), Some(i)) = (crown.pre_activation_bounds(id), crown.ibp_bounds(id)) {
                for k in 0..p.lower.len() {
                    assert!(p.lower[k] >= i.lower[k] && p.upper[k] <= i.upper[k]);
                }
            }
        }
        let i = crown.ibp_bounds(out).unwrap();
        let lo = crown.lower_bounds(out, &rows(4, 1.0)).unwrap();
        let hi = crown.lower_bounds(out, &rows(4, -1.0)).unwrap();
        for k in 0..4 {
            ibp_total += i.upper[k] - i.lower[k];
            crown_total += -hi[k] - lo[k];
        }
    }
    eprintln!("total output width: IBP {ibp_total:.4}, CROWN {crown_total:.4}");
    assert!(
        crown_total < 0.8 * ibp_total,
        "CROWN {crown_total} vs IBP {ibp_total}"
    );
}

/// y = relu(x0 + x1) + relu(x0 − x1) on x ∈ [−1, 1]²: both pre-activations in [−2, 2], so
/// IBP gives [0, 4]; CROWN's upper relaxation z ≤ h/2 + 1 gives y ≤ x0 + 2 ≤ 3 and its lower
/// slope 1 gives y ≥ 2·x0 ≥ −2 (the true range is [0, 2]).
#[test]
fn two_neuron_example_by_hand() {
    let (graph, params, h) = two_neurons();
    let y = graph.outputs[0];
    let region = Region::new(vec![-1.0, -1.0], vec![1.0, 1.0]);
    let ib = ibp(&graph, &params, &region).unwrap();
    let iy = ib[y].as_ref().unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12;
    assert!(close(iy.lower[0], 0.0) && iy.lower[0] <= 0.0, "{iy:?}");
    assert!(close(iy.upper[0], 4.0) && iy.upper[0] >= 4.0, "{iy:?}");
    let crown = Crown::new(&graph, &params, &region).unwrap();
    let pre = crown.pre_activation_bounds(h).unwrap();
    for k in 0..2 {
        assert!(pre.lower[k] <= -2.0 && close(pre.lower[k], -2.0));
        assert!(pre.upper[k] >= 2.0 && close(pre.upper[k], 2.0));
    }
    let lo = crown
        .lower_bounds(y, &[vec![Enclosure::point(1.0)]])
        .unwrap()[0];
    let hi = -crown
        .lower_bounds(y, &[vec![Enclosure::point(-1.0)]])
        .unwrap()[0];
    assert!(lo <= -2.0 && close(lo, -2.0), "lower {lo}");
    assert!(hi >= 3.0 && close(hi, 3.0), "upper {hi}");
    let both = crown.bounds(y).unwrap();
    assert!(
        close(both.lower[0], 0.0)
            && both.lower[0] <= 0.0
            && close(both.upper[0], 3.0)
            && both.upper[0] >= 3.0
    );
}

#[test]
fn bad_regions_and_unsupported_ops_are_errors() {
    let (graph, params) = mlp(&[3, 4, 2], 1, DType::F32, false);
    let e = Crown::new(&graph, &params, &Region::new(vec![0.0; 2], vec![1.0; 2]))
        .err()
        .unwrap();
    assert!(matches!(e, VerifyError::Mismatch(_)), "{e}");
    let e = Crown::new(
        &graph,
        &params,
        &Region::new(vec![0.0, 0.0, 1.0], vec![1.0, 1.0, 0.0]),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("input element 2"), "{e}");
    let e = Crown::new(
        &graph,
        &params,
        &Region::new(vec![0.0, f64::NAN, 0.0], vec![1.0; 3]),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("input element 1"), "{e}");
    // tanh has IBP bounds but no CROWN relaxation yet.
    let mut b = GraphBuilder::new();
    let x = b
        .push(
            Op::Input {
                shape: vec![2].into(),
                dtype: DType::F32,
            },
            &[],
        )
        .unwrap();
    let t = b.push_named("act", Op::Tanh, &[x]).unwrap();
    let z = b.push(Op::Relu, &[t]).unwrap();
    let g = b.finish(&[z]).unwrap();
    let p = ParamStore::new();
    let r = Region::new(vec![-1.0; 2], vec![1.0; 2]);
    assert!(ibp(&g, &p, &r).is_ok());
    let e = Crown::new(&g, &p, &r).err().unwrap().to_string();
    assert!(e.contains("\"act\"") && e.contains("tanh"), "{e}");
}
