//! The dense layered engine against independent oracles: native execution of the IR graph
//! (sampled outputs must lie inside every bound), the interval-coefficient CROWN of
//! `bounds::Crown` (the dense CROWN must be at least as tight, up to rounding), IBP (looser),
//! and alpha-CROWN (never looser than CROWN).

#[path = "common/net.rs"]
mod common_net;

use common_net::{mlp, Rng};
use strata_ir::eval::{run, ExecConfig};
use strata_tensor::{DType, Tensor};
use strata_verify::dense::{bound_domains, BoundOptions, Domain};
use strata_verify::{Crown, LayeredNet, Region};

/// Lower and upper bounds of every output by the dense engine.
fn dense_bounds(net: &LayeredNet, region: &Region, steps: usize) -> (Vec<f64>, Vec<f64>) {
    let n = net.n_outputs();
    let mut spec = vec![0.0; 2 * n * n];
    for j in 0..n {
        spec[j * n + j] = 1.0;
        spec[(n + j) * n + j] = -1.0;
    }
    let mut doms = vec![Domain::new(region.lower.clone(), region.upper.clone())];
    let opts = BoundOptions {
        steps,
        learning_rate: 0.1,
        warm_start: false,
        intersect_ibp: true,
    };
    let low = bound_domains(net, &mut doms, &spec, 2 * n, opts)
        .remove(0)
        .lower;
    (low[..n].to_vec(), low[n..].iter().map(|v| -v).collect())
}

#[test]
fn dense_bounds_contain_sampled_outputs_and_are_tighter_than_ibp() {
    for (seed, mixed) in [(3u64, false), (11, true)] {
        let (g, p) = mlp(&[6, 24, 24, 16, 4], seed, DType::F64, mixed);
        let net = LayeredNet::lower(&g, &p).unwrap();
        assert_eq!(net.layers.len(), 4);
        let region = Region::new(vec![-0.4; 6], vec![0.3; 6]);
        let (clo, chi) = dense_bounds(&net, &region, 0);
        let (alo, ahi) = dense_bounds(&net, &region, 30);
        let crown = Crown::new(&g, &p, &region).unwrap();
        let out = g.outputs[0];
        let reference = crown.bounds(out).unwrap();
        let ibp = crown.ibp_bounds(out).unwrap();
        let mut rng = Rng(seed + 1);
        for s in 0..3000 {
            let x: Vec<f64> = (0..6)
                .map(|i| {
                    if s < 64 {
                        // The corners of the box (and repeats).
                        if (s >> i) & 1 == 1 {
                            0.3
                        } else {
                            -0.4
                        }
                    } else {
                        rng.uniform(-0.4, 0.3)
                    }
                })
                .collect();
            let t = Tensor::from_vec(x, vec![1, 6]).unwrap();
            let y = run(&g, &p, &[t], &ExecConfig::sequential()).unwrap()[0].to_vec_f64();
            for k in 0..4 {
                // Native f64 rounding is ~1e-15 here; the bounds hold for the exact network.
                let slack = 1e-12 * (1.0 + y[k].abs());
                assert!(
                    clo[k] - slack <= y[k] && y[k] <= chi[k] + slack,
                    "CROWN {k}"
                );
                assert!(
                    alo[k] - slack <= y[k] && y[k] <= ahi[k] + slack,
                    "alpha {k}"
                );
            }
        }
        for k in 0..4 {
            let (wd, wa) = (chi[k] - clo[k], ahi[k] - alo[k]);
            let wr = reference.upper[k] - reference.lower[k];
            let wi = ibp.upper[k] - ibp.lower[k];
            eprintln!("output {k}: IBP {wi:.4}, interval CROWN {wr:.4}, dense CROWN {wd:.4}, alpha {wa:.4}");
            assert!(wd <= wr * (1.0 + 1e-9), "dense CROWN {wd} looser than {wr}");
            assert!(wd < wi, "dense CROWN {wd} not tighter than IBP {wi}");
            assert!(
                alo[k] >= clo[k] && ahi[k] <= chi[k],
                "alpha looser than CROWN"
            );
        }
    }
}

#[test]
fn graphs_outside_the_layered_form_are_named() {
    let (g, p, _) = common_net::two_neurons();
    // two_neurons sums two ReLUs after a matrix: a chain, so it lowers.
    assert!(LayeredNet::lower(&g, &p).is_ok());
    let mut b = strata_ir::GraphBuilder::new();
    let x = b
        .push(
            strata_ir::Op::Input {
                shape: vec![3].into(),
                dtype: DType::F64,
            },
            &[],
        )
        .unwrap();
    let e = b.push(strata_ir::Op::Tanh, &[x]).unwrap();
    let g = b.finish(&[e]).unwrap();
    let err = LayeredNet::lower(&g, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("tanh") && err.contains("not lowerable"),
        "{err}"
    );
}

#[test]
fn bounds_report_orders_the_methods_by_tightness() {
    use strata_verify::report::{bounds_report, report_html, report_table};
    let (g, p) = mlp(&[5, 16, 16, 3], 21, DType::F64, false);
    let region = Region::new(vec![-0.5; 5], vec![0.5; 5]);
    let rows = bounds_report(&g, &p, &region, 20).unwrap();
    let out = rows.last().unwrap();
    let (crown, alpha) = (
        out.crown.as_ref().unwrap(),
        out.alpha_crown.as_ref().unwrap(),
    );
    for k in 0..3 {
        assert!(out.ibp.lower[k] <= crown.lower[k] && crown.upper[k] <= out.ibp.upper[k]);
        // alpha-CROWN (dense, IBP-intersected) is at least as tight as the interval CROWN.
        assert!(alpha.lower[k] >= crown.lower[k] - 1e-9 * (1.0 + crown.lower[k].abs()));
        assert!(alpha.upper[k] <= crown.upper[k] + 1e-9 * (1.0 + crown.upper[k].abs()));
    }
    // The two ReLU inputs carry CROWN pre-activation bounds.
    assert_eq!(rows.iter().filter(|r| r.crown.is_some()).count(), 3);
    let table = report_table(&rows);
    assert!(table.contains("alpha_crown") && table.lines().count() > rows.len());
    let html = report_html(&rows, "test <net>");
    assert!(html.contains("test &lt;net&gt;") && html.contains("alpha-CROWN"));
}
