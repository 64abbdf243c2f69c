//! A tiny, independent producer of certificates for the tests: plain-`f64` CROWN (adaptive
//! lower slopes, chord upper lines) with input-split branch and bound. Its bounds are loosened
//! by a margin far larger than `f64` rounding, so an exact checker must accept them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use strata_cert::{
    CaseProof, Certificate, FileRef, InputBox, LayerBounds, Leaf, Network, Phase, Side, SpecProof,
    Step, Witness,
};
use strata_io::vnnlib::Property;

/// The network's weights as `f64` (exact: they are float32 values).
pub struct Dense {
    pub w: Vec<Vec<f64>>,
    pub b: Vec<Vec<f64>>,
    pub rows: Vec<usize>,
    pub cols: Vec<usize>,
}

impl Dense {
    pub fn of(net: &Network) -> Dense {
        let mut d = Dense {
            w: vec![],
            b: vec![],
            rows: vec![],
            cols: vec![],
        };
        for m in &net.maps {
            let (r, c) = (m.rows(), m.cols());
            d.w.push(
                (0..r * c)
                    .map(|i| m.weight.row(i / c).get(i % c).approx())
                    .collect(),
            );
            d.b.push(m.bias.iter().map(|v| v.approx()).collect());
            d.rows.push(r);
            d.cols.push(c);
        }
        d
    }

    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        let mut h = x.to_vec();
        for m in 0..self.w.len() {
            let mut z = self.b[m].clone();
            for (r, zr) in z.iter_mut().enumerate() {
                for (c, hc) in h.iter().enumerate() {
                    *zr += self.w[m][r * self.cols[m] + c] * hc;
                }
            }
            if m + 1 < self.w.len() {
                z.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            h = z;
        }
        h
    }
}

fn margin(v: f64) -> f64 {
    1e-7 + 1e-9 * v.abs()
}

fn chord(l: f64, u: f64) -> f64 {
    u / (u - l)
}

/// `start·z_k ≥ Λ·x + c` on the region, with the given (already loosened) bounds.
fn backsub(
    d: &Dense,
    bounds: &[LayerBounds],
    phases: &[Vec<Option<Phase>>],
    k: usize,
    start: Vec<f64>,
) -> (Vec<f64>, f64) {
    let mut lam = start;
    let mut c = 0.0;
    for m in (0..=k).rev() {
        c += lam.iter().zip(&d.b[m]).map(|(a, b)| a * b).sum::<f64>();
        let mut mu = vec![0.0; d.cols[m]];
        for (r, a) in lam.iter().enumerate() {
            for (j, v) in mu.iter_mut().enumerate() {
                *v += a * d.w[m][r * d.cols[m] + j];
            }
        }
        if m == 0 {
            return (mu, c);
        }
        let lb = &bounds[m - 1];
        for (j, v) in mu.iter_mut().enumerate() {
            let (l, u) = (lb.lower[j], lb.upper[j]);
            match phases[m - 1][j] {
                Some(Phase::Active) => {}
                Some(Phase::Inactive) => *v = 0.0,
                None if l >= 0.0 => {}
                None if u <= 0.0 => *v = 0.0,
                None => {
                    if *v >= 0.0 {
                        *v *= lb.slopes[j];
                    } else {
                        let s = chord(l, u);
                        c -= *v * s * l;
                        *v *= s;
                    }
                }
            }
        }
        lam = mu;
    }
    unreachable!()
}

fn concretize(lam: &[f64], c: f64, lo: &[f64], hi: &[f64]) -> f64 {
    c + lam
        .iter()
        .enumerate()
        .map(|(i, a)| if *a >= 0.0 { a * lo[i] } else { a * hi[i] })
        .sum::<f64>()
}

/// Bounds and refutations for one region; `None` when some disjunct is not refuted.
pub fn prove_leaf(
    d: &Dense,
    prop: &Property,
    case: usize,
    path: Vec<Step>,
    lo: &[f64],
    hi: &[f64],
) -> (Leaf, bool) {
    let layers = d.w.len() - 1;
    let mut phases: Vec<Vec<Option<Phase>>> = (0..layers).map(|k| vec![None; d.rows[k]]).collect();
    for s in &path {
        if let Step::Relu {
            layer,
            neuron,
            phase,
        } = *s
        {
            phases[layer][neuron] = Some(phase);
        }
    }
    let mut bounds: Vec<LayerBounds> = Vec::new();
    for k in 0..layers {
        let n = d.rows[k];
        let mut lb = LayerBounds {
            lower: vec![0.0; n],
            upper: vec![0.0; n],
            slopes: vec![0.0; n],
        };
        for j in 0..n {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            let (lam, c) = backsub(d, &bounds, &phases, k, e.clone());
            let mut l = concretize(&lam, c, lo, hi);
            e[j] = -1.0;
            let (lam, c) = backsub(d, &bounds, &phases, k, e);
            let mut u = -concretize(&lam, c, lo, hi);
            l -= margin(l);
            u += margin(u);
            match phases[k][j] {
                Some(Phase::Active) => l = l.max(0.0),
                Some(Phase::Inactive) => u = u.min(0.0),
                None => {}
            }
            lb.lower[j] = l;
            lb.upper[j] = u;
            lb.slopes[j] = if u > -l { 1.0 } else { 0.0 };
        }
        bounds.push(lb);
    }
    let leaf = |layers, specs| Leaf {
        path: path.clone(),
        input_box: InputBox {
            lower: lo.to_vec(),
            upper: hi.to_vec(),
        },
        layers,
        specs,
    };
    // A split its own bounds contradict leaves an empty region: nothing to prove.
    let empty = bounds.iter().zip(&phases).any(|(b, ph)| {
        ph.iter().enumerate().any(|(j, p)| match p {
            Some(Phase::Active) => b.upper[j] < 0.0,
            Some(Phase::Inactive) => b.lower[j] > 0.0,
            None => false,
        })
    });
    if empty {
        return (leaf(bounds, vec![]), true);
    }
    let mut specs = Vec::new();
    let mut all = true;
    for (di, disjunct) in prop.cases[case].unsafe_set.iter().enumerate() {
        let mut best: Option<(f64, SpecProof)> = None;
        for (ri, row) in disjunct.iter().enumerate() {
            let c: Vec<f64> = row.coeffs.iter().map(|e| e.lo).collect();
            let (lam, cst) = backsub(d, &bounds, &phases, layers, c);
            let constant = cst - row.rhs.hi;
            let constant =
                constant - margin(constant) - 1e-7 * lam.iter().map(|a| a.abs()).sum::<f64>();
            let value = concretize(&lam, constant, lo, hi);
            if best.as_ref().is_none_or(|(v, _)| value > *v) {
                best = Some((
                    value,
                    SpecProof {
                        disjunct: di,
                        row: ri,
                        slopes: None,
                        betas: vec![],
                        witness: Witness::Linear {
                            coeffs: lam,
                            constant,
                        },
                    },
                ));
            }
        }
        match best {
            Some((v, spec)) => {
                all &= v > 0.0;
                specs.push(spec);
            }
            None => all = false,
        }
    }
    (leaf(bounds, specs), all)
}

/// Input-split branch and bound below `prefix` over `[lo, hi]`; `None` past `max_leaves`.
pub fn bab(
    d: &Dense,
    prop: &Property,
    case: usize,
    prefix: Vec<Step>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    max_leaves: usize,
) -> Option<Vec<Leaf>> {
    let root_width: Vec<f64> = lo
        .iter()
        .zip(&hi)
        .map(|(a, b)| (b - a).max(1e-300))
        .collect();
    let mut stack = vec![(prefix, lo, hi)];
    let mut leaves = Vec::new();
    while let Some((path, lo, hi)) = stack.pop() {
        let (leaf, proved) = prove_leaf(d, prop, case, path.clone(), &lo, &hi);
        if proved {
            leaves.push(leaf);
            if leaves.len() > max_leaves {
                return None;
            }
            continue;
        }
        if leaves.len() + stack.len() > max_leaves {
            return None;
        }
        let dim = (0..lo.len())
            .max_by(|&a, &b| {
                ((hi[a] - lo[a]) / root_width[a]).total_cmp(&((hi[b] - lo[b]) / root_width[b]))
            })
            .unwrap();
        let mid = lo[dim] + (hi[dim] - lo[dim]) / 2.0;
        for side in [Side::Below, Side::Above] {
            let (mut l2, mut h2) = (lo.clone(), hi.clone());
            match side {
                Side::Below => h2[dim] = mid,
                Side::Above => l2[dim] = mid,
            }
            let mut p = path.clone();
            p.push(Step::Input {
                dim,
                value: mid,
                side,
            });
            stack.push((p, l2, h2));
        }
    }
    Some(leaves)
}

/// A certificate for every case of `prop`, by input-split branch and bound.
pub fn certify(
    net: &Network,
    prop: &Property,
    net_ref: FileRef,
    prop_ref: FileRef,
    max_leaves: usize,
) -> Option<Certificate> {
    let d = Dense::of(net);
    let mut cases = Vec::new();
    for (c, case) in prop.cases.iter().enumerate() {
        let root = strata_cert::root_of(case);
        let leaves = bab(
            &d,
            prop,
            c,
            vec![],
            root.lower.clone(),
            root.upper.clone(),
            max_leaves,
        )?;
        cases.push(CaseProof { root, leaves });
    }
    Some(Certificate::new(net_ref, prop_ref, cases))
}

/// A fresh scratch directory under the target dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
