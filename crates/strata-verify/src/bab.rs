//! Branch and bound on a [`LayeredNet`]: a PGD attack first, then batches of domains bounded
//! by [`crate::dense`] on all cores, split on an input dimension (low-dimensional inputs) or on
//! a ReLU (high-dimensional inputs), with an attack on every unproved domain's worst point.
//!
//! Split heuristics: for input splits, the dimension with the largest `|coefficient| · width`
//! in the linear bound of the row closest to a proof (the bound's sensitivity to that
//! dimension); for ReLU splits, the unstable neuron with the largest `|coefficient| · t`, the
//! relaxation's intercept weighted by how much the row's bound depends on it (BaBSR-like).
//!
//! When certifying ([`BabSettings::certify`]), every proved leaf is recorded as a
//! `strata_cert::Leaf`; children then refute the whole unsafe set and recompute their bounds
//! themselves, so that each leaf's claims follow from its own data as the checker derives them.

use crate::dense::{
    bound_domains_recording, default_slope, hidden_offsets, interval_affine, BoundOptions, Domain,
    SpecBound,
};
use crate::layered::LayeredNet;
use crate::verify::{check_point, representable, Counterexample, Rng};
use crate::vnnlib::Case;
use crate::VerifyError;
use std::time::Instant;
use strata_cert::{LayerBounds, Leaf, Phase, Side, SpecProof, Step, Witness};
use strata_ir::{Graph, ParamStore};

/// How a case ended.
pub(crate) enum CaseOutcome {
    /// With the refuted leaves when certifying (`None` when not certifying or when some leaf
    /// cannot be written as a certificate leaf).
    Proved(Option<Vec<Leaf>>),
    Sat(Counterexample),
    Unknown(String),
}

/// The unsafe set as rows `c·y ≤ d` grouped into conjunctions (exact coefficients).
pub(crate) struct Spec {
    /// q × n_outputs.
    rows: Vec<f64>,
    /// The largest value the exact right-hand side can take (proof needs `c·y > rhs_hi`).
    rhs_hi: Vec<f64>,
    /// The smallest (a counterexample needs `c·y ≤ rhs_lo`).
    rhs_lo: Vec<f64>,
    conj: Vec<Vec<usize>>,
}

impl Spec {
    /// `None` when a coefficient is not an exact double or a conjunction is empty (the general
    /// path handles those).
    pub(crate) fn new(case: &Case, n_out: usize) -> Option<Spec> {
        let mut spec = Spec {
            rows: Vec::new(),
            rhs_hi: Vec::new(),
            rhs_lo: Vec::new(),
            conj: Vec::new(),
        };
        for c in &case.unsafe_set {
            if c.is_empty() {
                return None;
            }
            let mut ids = Vec::new();
            for row in c {
                if row.coeffs.len() != n_out || !row.coeffs.iter().all(|e| e.is_point()) {
                    return None;
                }
                ids.push(spec.rhs_hi.len());
                spec.rows.extend(row.coeffs.iter().map(|e| e.lo));
                spec.rhs_hi.push(row.rhs.hi);
                spec.rhs_lo.push(row.rhs.lo);
            }
            spec.conj.push(ids);
        }
        Some(spec)
    }
    fn q(&self) -> usize {
        self.rhs_hi.len()
    }
    fn row(&self, r: usize) -> &[f64] {
        let n = self.rows.len() / self.q();
        &self.rows[r * n..(r + 1) * n]
    }
    /// The largest `c·y − d` over the rows of conjunction `c` (≤ 0: `y` is unsafe, in f64).
    fn violation(&self, c: usize, y: &[f64]) -> (f64, usize) {
        self.conj[c]
            .iter()
            .map(|&r| {
                let v: f64 = self.row(r).iter().zip(y).map(|(a, b)| a * b).sum();
                (v - self.rhs_lo[r], r)
            })
            .fold((f64::NEG_INFINITY, 0), |a, b| if b.0 > a.0 { b } else { a })
    }
}

/// Knobs of one branch-and-bound run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BabSettings {
    pub input_split: bool,
    pub batch: usize,
    pub max_domains: usize,
    pub root_alpha: BoundOptions,
    pub alpha: BoundOptions,
    pub attack_restarts: usize,
    pub attack_steps: usize,
    /// Collect a certificate: every leaf must refute every disjunct with its own bounds, and
    /// split children recompute (rather than inherit) the bounds the split can change.
    pub certify: bool,
}

impl BabSettings {
    pub(crate) fn for_net(net: &LayeredNet, max_domains: usize) -> Self {
        let input_split = net.n_inputs <= 16;
        BabSettings {
            input_split,
            batch: if input_split { 512 } else { 64 },
            max_domains,
            root_alpha: BoundOptions {
                steps: if input_split { 0 } else { 40 },
                learning_rate: 0.1,
                warm_start: false,
                intersect_ibp: true,
            },
            alpha: BoundOptions {
                steps: if input_split { 0 } else { 4 },
                learning_rate: 0.05,
                warm_start: !input_split,
                intersect_ibp: true,
            },
            attack_restarts: if input_split { 20 } else { 30 },
            attack_steps: if input_split { 40 } else { 60 },
            certify: false,
        }
    }
}

pub(crate) struct Context<'a> {
    pub graph: &'a Graph,
    pub params: &'a ParamStore,
    pub net: &'a LayeredNet,
    pub f32_input: bool,
    pub deadline: Instant,
}

impl Context<'_> {
    /// Runs the network in f64 at `x` (snapped into the inner box, to the input dtype); when
    /// some open conjunction looks violated, re-executes it rigorously.
    fn try_point(
        &self,
        case: &Case,
        spec: &Spec,
        open: &[bool],
        x: &[f64],
    ) -> Result<Option<Counterexample>, VerifyError> {
        let x = representable(case, x, self.f32_input);
        let y = self.net.forward(&x).pop().unwrap_or_default();
        let margin = 1e-9 * (1.0 + y.iter().fold(0.0f64, |m, v| m.max(v.abs())));
        for (c, _) in spec.conj.iter().enumerate().filter(|(c, _)| open[*c]) {
            if spec.violation(c, &y).0 <= margin {
                if let Some(cx) = check_point(self.graph, self.params, case, &x)? {
                    return Ok(Some(cx));
                }
            }
        }
        Ok(None)
    }

    /// Projected gradient descent on `max_r (c_r·y − d_r)` of each conjunction, from random
    /// starts in the box.
    fn attack(
        &self,
        case: &Case,
        spec: &Spec,
        restarts: usize,
        steps: usize,
        rng: &mut Rng,
    ) -> Result<Option<Counterexample>, VerifyError> {
        let b = &case.input;
        let n = b.inner_lower.len();
        let open = vec![true; spec.conj.len()];
        for start in 0..restarts {
            for c in 0..spec.conj.len() {
                let mut x: Vec<f64> = (0..n)
                    .map(|i| {
                        let (l, u) = (b.inner_lower[i], b.inner_upper[i]);
                        if start == 0 {
                            0.5 * (l + u)
                        } else {
                            l + rng.unit() * (u - l)
                        }
                    })
                    .collect();
                for s in 0..steps {
                    if Instant::now() > self.deadline {
                        return Ok(None);
                    }
                    let pre = self.net.forward(&x);
                    let y = pre.last().cloned().unwrap_or_default();
                    let (v, r) = spec.violation(c, &y);
                    if v <= 0.0 {
                        break;
                    }
                    let g = self.net.input_gradient(&pre, spec.row(r));
                    let frac = 0.25 * (1.0 - s as f64 / steps as f64) + 0.01;
                    for i in 0..n {
                        let (l, u) = (b.inner_lower[i], b.inner_upper[i]);
                        let step = frac * (u - l);
                        x[i] = (x[i] - step * g[i].signum()).clamp(l, u);
                    }
                }
                if let Some(cx) = self.try_point(case, spec, &open, &x)? {
                    return Ok(Some(cx));
                }
            }
        }
        Ok(None)
    }

    /// Decides one case: attack, then branch and bound.
    pub(crate) fn decide(
        &self,
        case: &Case,
        spec: &Spec,
        settings: &BabSettings,
        rng: &mut Rng,
    ) -> Result<CaseOutcome, VerifyError> {
        if let Some(cx) = self.attack(case, spec, 1, settings.attack_steps, rng)? {
            return Ok(CaseOutcome::Sat(cx));
        }
        let q = spec.q();
        let certify = settings.certify;
        let bound = |doms: &mut [Domain], opts| {
            bound_domains_recording(self.net, doms, &spec.rows, q, opts, certify)
        };
        // Certificate leaves; `None` once some leaf cannot be written.
        let mut leaves = certify.then(Vec::new);
        let root = Domain::new(case.input.lower.clone(), case.input.upper.clone());
        let mut roots = vec![root];
        let mut root_bound = bound(&mut roots, settings.root_alpha);
        let mut open = vec![true; spec.conj.len()];
        close(spec, &root_bound[0], &mut open);
        if open.iter().all(|o| !o) {
            if let Some(l) = &mut leaves {
                l.push(leaf(self.net, spec, &roots[0], Vec::new(), &root_bound[0]));
            }
            return Ok(CaseOutcome::Proved(leaves));
        }
        if let Some(cx) = self.attack(
            case,
            spec,
            settings.attack_restarts,
            settings.attack_steps,
            rng,
        )? {
            return Ok(CaseOutcome::Sat(cx));
        }
        let mut stack: Vec<Node> = vec![Node {
            dom: roots.pop().expect("one root"),
            open,
            bound: root_bound.pop().expect("one bound"),
            path: Vec::new(),
        }];
        let mut bounded = 1usize;
        while !stack.is_empty() {
            if Instant::now() > self.deadline {
                return Ok(CaseOutcome::Unknown("timeout".into()));
            }
            if bounded > settings.max_domains {
                return Ok(CaseOutcome::Unknown(format!(
                    "more than {} domains",
                    settings.max_domains
                )));
            }
            // Split every domain of the batch, then bound the children together.
            let take = stack.len().min(settings.batch.div_ceil(2));
            let parents = stack.split_off(stack.len() - take);
            let mut children = Vec::with_capacity(2 * take);
            let mut child_info = Vec::with_capacity(2 * take);
            for node in parents {
                let (dom, open, sb) = (&node.dom, &node.open, &node.bound);
                // A domain with every ReLU stable but unproved (the split constraints are not
                // enforced on the input) is split on the input instead: the fixed phases are
                // re-applied to the children's bounds, emptying the infeasible parts.
                let split = if settings.input_split {
                    split_input(dom, spec, open, sb, certify)
                } else {
                    split_relu(self.net, dom, spec, open, sb, certify)
                        .or_else(|| split_input(dom, spec, open, sb, certify))
                };
                let Some(pair) = split else {
                    return Ok(CaseOutcome::Unknown(
                        "a domain cannot be split further".into(),
                    ));
                };
                for (child, step) in pair {
                    children.push(child);
                    // A certificate leaf refutes every disjunct with its own bounds.
                    let child_open = if certify {
                        vec![true; spec.conj.len()]
                    } else {
                        node.open.clone()
                    };
                    let path = if certify {
                        let mut p = node.path.clone();
                        p.push(step);
                        p
                    } else {
                        Vec::new()
                    };
                    child_info.push((child_open, path));
                }
            }
            bounded += children.len();
            let bounds = bound(&mut children, settings.alpha);
            for ((dom, (mut open, path)), sb) in children.into_iter().zip(child_info).zip(bounds) {
                if dom.infeasible {
                    if let Some(l) = &mut leaves {
                        match infeasible_leaf(self.net, &dom, path) {
                            Some(leaf) => l.push(leaf),
                            None => leaves = None,
                        }
                    }
                    continue;
                }
                close(spec, &sb, &mut open);
                if open.iter().all(|o| !o) {
                    if let Some(l) = &mut leaves {
                        l.push(leaf(self.net, spec, &dom, path, &sb));
                    }
                    continue;
                }
                // The minimizer of each open row's linear bound, and the centre.
                for (c, rows) in spec.conj.iter().enumerate() {
                    if !open[c] {
                        continue;
                    }
                    let r = best_row(spec, rows, &sb);
                    let n = self.net.n_inputs;
                    let coeffs = &sb.input_coeffs[r * n..(r + 1) * n];
                    let x: Vec<f64> = (0..n)
                        .map(|j| {
                            if coeffs[j] >= 0.0 {
                                dom.x_lower[j]
                            } else {
                                dom.x_upper[j]
                            }
                        })
                        .collect();
                    if let Some(cx) = self.try_point(case, spec, &open, &x)? {
                        return Ok(CaseOutcome::Sat(cx));
                    }
                }
                if settings.input_split {
                    let centre: Vec<f64> = (dom.x_lower.iter().zip(&dom.x_upper))
                        .map(|(l, u)| 0.5 * (l + u))
                        .collect();
                    if let Some(cx) = self.try_point(case, spec, &open, &centre)? {
                        return Ok(CaseOutcome::Sat(cx));
                    }
                }
                stack.push(Node {
                    dom,
                    open,
                    bound: sb,
                    path,
                });
            }
        }
        Ok(CaseOutcome::Proved(leaves))
    }
}

/// An unproved branch-and-bound domain with its open conjunctions, its bound and (when
/// certifying) its path from the root.
struct Node {
    dom: Domain,
    open: Vec<bool>,
    bound: SpecBound,
    path: Vec<Step>,
}

/// The per-layer bounds of a domain as certificate claims, with CROWN's adaptive slopes (the
/// ones its intermediate bounds were computed with). Layers the bounding skipped (after an
/// infeasible one) are filled in by interval arithmetic.
fn leaf_layers(net: &LayeredNet, dom: &Domain) -> Vec<LayerBounds> {
    let hidden = net.layers.len() - 1;
    let mut pre = dom.pre.clone();
    while pre.len() < hidden {
        let (lo, hi): (Vec<f64>, Vec<f64>) = match pre.last() {
            Some(p) => (p.lower.iter().zip(&p.upper))
                .map(|(l, u)| (l.max(0.0), u.max(0.0)))
                .unzip(),
            None => (dom.x_lower.clone(), dom.x_upper.clone()),
        };
        pre.push(interval_affine(&net.layers[pre.len()], &lo, &hi));
    }
    pre.into_iter()
        .map(|p| LayerBounds {
            slopes: (p.lower.iter().zip(&p.upper))
                .map(|(l, u)| default_slope(*l, *u))
                .collect(),
            lower: p.lower,
            upper: p.upper,
        })
        .collect()
}

/// The certificate leaf of a refuted domain: for every conjunction, its row with the largest
/// margin, the slopes behind that row's bound, and half the margin as a constant linear bound
/// (the other half absorbs the checker's slightly different rounding of the upper ReLU lines).
fn leaf(net: &LayeredNet, spec: &Spec, dom: &Domain, path: Vec<Step>, sb: &SpecBound) -> Leaf {
    let (offsets, total) = hidden_offsets(net);
    let specs = spec
        .conj
        .iter()
        .enumerate()
        .map(|(c, rows)| {
            let r = best_row(spec, rows, sb);
            let slopes = (0..offsets.len())
                .map(|m| {
                    let start = r * total + offsets[m];
                    sb.slopes[start..start + net.layers[m].out].to_vec()
                })
                .collect();
            SpecProof {
                disjunct: c,
                row: rows.iter().position(|&x| x == r).unwrap_or(0),
                slopes: Some(slopes),
                betas: Vec::new(),
                witness: Witness::Linear {
                    coeffs: vec![0.0; net.n_inputs],
                    constant: 0.5 * (sb.lower[r] - spec.rhs_hi[r]),
                },
            }
        })
        .collect();
    Leaf {
        path,
        input_box: strata_cert::InputBox {
            lower: dom.x_lower.clone(),
            upper: dom.x_upper.clone(),
        },
        layers: leaf_layers(net, dom),
        specs,
    }
}

/// The certificate leaf of an empty domain, when the emptiness shows on a split neuron's own
/// bounds or on the box (what the checker accepts as empty); `None` otherwise.
fn infeasible_leaf(net: &LayeredNet, dom: &Domain, path: Vec<Step>) -> Option<Leaf> {
    let layers = leaf_layers(net, dom);
    let split_contradicted = dom.fixed.iter().any(|&(m, j, active)| {
        if active {
            layers[m].upper[j] < 0.0
        } else {
            layers[m].lower[j] > 0.0
        }
    });
    let empty_box = (dom.x_lower.iter().zip(&dom.x_upper)).any(|(l, u)| l > u);
    (split_contradicted || empty_box).then(|| Leaf {
        path,
        input_box: strata_cert::InputBox {
            lower: dom.x_lower.clone(),
            upper: dom.x_upper.clone(),
        },
        layers,
        specs: Vec::new(),
    })
}

/// Closes the conjunctions that some row's bound refutes.
fn close(spec: &Spec, sb: &SpecBound, open: &mut [bool]) {
    for (c, rows) in spec.conj.iter().enumerate() {
        if open[c] && rows.iter().any(|&r| sb.lower[r] > spec.rhs_hi[r]) {
            open[c] = false;
        }
    }
}

/// The row of a conjunction closest to a proof.
fn best_row(spec: &Spec, rows: &[usize], sb: &SpecBound) -> usize {
    rows.iter()
        .copied()
        .max_by(|&a, &b| (sb.lower[a] - spec.rhs_hi[a]).total_cmp(&(sb.lower[b] - spec.rhs_hi[b])))
        .unwrap_or(0)
}

/// Splits the most sensitive input dimension at its midpoint. When certifying, the children
/// recompute all their bounds rather than intersect them with the parent's (a certificate leaf
/// claims only what its own bounds derive).
fn split_input(
    dom: &Domain,
    spec: &Spec,
    open: &[bool],
    sb: &SpecBound,
    certify: bool,
) -> Option<[(Domain, Step); 2]> {
    let n = dom.x_lower.len();
    let mut score = vec![0.0; n];
    for (c, rows) in spec.conj.iter().enumerate() {
        if !open[c] {
            continue;
        }
        for (j, s) in score.iter_mut().enumerate() {
            for &r in rows {
                *s += sb.input_coeffs[r * n + j].abs() * (dom.x_upper[j] - dom.x_lower[j]);
            }
        }
    }
    let dim = (0..n).max_by(|&a, &b| score[a].total_cmp(&score[b]))?;
    let dim = if score[dim] > 0.0 {
        dim
    } else {
        (0..n).max_by(|&a, &b| {
            (dom.x_upper[a] - dom.x_lower[a]).total_cmp(&(dom.x_upper[b] - dom.x_lower[b]))
        })?
    };
    let mid = 0.5 * (dom.x_lower[dim] + dom.x_upper[dim]);
    if !(dom.x_lower[dim] < mid && mid < dom.x_upper[dim]) {
        return None;
    }
    let mut left = dom.clone();
    left.x_upper[dim] = mid;
    left.valid = 0;
    let mut right = dom.clone();
    right.x_lower[dim] = mid;
    right.valid = 0;
    if certify {
        left.pre.clear();
        right.pre.clear();
    }
    let step = |side| Step::Input {
        dim,
        value: mid,
        side,
    };
    Some([(left, step(Side::Below)), (right, step(Side::Above))])
}

/// Splits the unstable ReLU with the best score. When certifying, the layers after the split
/// are recomputed rather than intersected with the parent's.
fn split_relu(
    net: &LayeredNet,
    dom: &Domain,
    spec: &Spec,
    open: &[bool],
    sb: &SpecBound,
    certify: bool,
) -> Option<[(Domain, Step); 2]> {
    let (offsets, total) = hidden_offsets(net);
    let mut best: Option<(f64, usize, usize)> = None;
    for (m, pre) in dom.pre.iter().enumerate() {
        for j in 0..pre.lower.len() {
            let (l, u) = (pre.lower[j], pre.upper[j]);
            if !(l < 0.0 && u > 0.0) {
                continue;
            }
            let t = u * (-l) / (u - l);
            let mut s = 0.0;
            for (c, rows) in spec.conj.iter().enumerate() {
                if open[c] {
                    let r = best_row(spec, rows, sb);
                    s += sb.hidden_coeffs[r * total + offsets[m] + j].abs() * t;
                }
            }
            // A tiny tie-break toward wide neurons, so a split always happens.
            let s = s + 1e-12 * (u - l);
            if best.is_none_or(|b| s > b.0) {
                best = Some((s, m, j));
            }
        }
    }
    let (_, m, j) = best?;
    Some([true, false].map(|active| {
        let mut child = dom.clone();
        child.fixed.push((m, j, active));
        if active {
            child.pre[m].lower[j] = 0.0;
        } else {
            child.pre[m].upper[j] = 0.0;
        }
        child.valid = m + 1;
        if certify {
            child.pre.truncate(m + 1);
        }
        let phase = if active {
            Phase::Active
        } else {
            Phase::Inactive
        };
        let step = Step::Relu {
            layer: m,
            neuron: j,
            phase,
        };
        (child, step)
    }))
}
