//! CROWN and alpha-CROWN on a [`LayeredNet`] with dense `f64` matrices, batched over many
//! domains (the rows of all domains go through one matrix product per layer), with a rigorous
//! floating-point error term so every bound holds for the exact real network.
//!
//! # Why the bounds are sound
//!
//! Back-substitution keeps, for each query row, coefficients `Λ` on the current layer's values
//! and a scalar lower bound built from three kinds of terms:
//!
//! 1. **Products `Λ·W` (gemm, any summation order, FMA or not).** The computed `Λ' = fl(Λ·W)`
//!    is just some matrix of doubles; the identity used is `Λ·(W·h) = Λ'·h + (Λ·W − Λ')·h`, and
//!    the second term is at least `−Σ_j |Λ·W − Λ'|_j · hmax_j`, where `hmax` bounds `|h|` on the
//!    domain (the input box, or `max(0, u)` after a ReLU). The classical dot-product bound
//!    gives `|Λ·W − Λ'| ≤ γ_m·|Λ|·|W|` (m the inner dimension, γ_m = m·u/(1 − m·u), u = 2⁻⁵³),
//!    so the term is at least `−γ_m·(|Λ|·(|W|·hmax))`. That non-negative product is itself
//!    computed in floating point, which can only under-estimate it by a factor
//!    `(1 − γ_m)(1 − γ_n)`; [`gamma_safe`] covers all three factors with room to spare, and the
//!    result is rounded up. Underflow adds at most `η/2 = 2⁻¹⁰⁷⁵` per product; a flat
//!    `TINY = 10⁻³⁰⁰` per product bounds it.
//! 2. **ReLU relaxations.** A ReLU with bounds `l < 0 < u` is replaced by `α·z` (any real α in
//!    [0, 1]; used when the coefficient is ≥ 0) or by `s·z + t` (any slope s, with `t` the
//!    smallest intercept such that the line is above the ReLU at `l` and `u`, rounded up; used
//!    when the coefficient is < 0). The new coefficient `fl(λ·α)` or `fl(λ·s)` differs from the
//!    exact product by at most `u·|fl(λ·α)|/(1 − u)`; multiplied by `|z| ≤ max(|l|, |u|)` this
//!    is charged to the error term like (1).
//! 3. **Scalar terms** (`Λ·b` with the bias endpoint chosen by the sign of each coefficient,
//!    the intercepts `λ·t`, and the input box endpoints at the end) are summed in plain
//!    floating point; with N terms the sum differs from the exact sum of the exact products by
//!    at most `γ_N·Σ|terms|`, subtracted at the end (and rounded down).
//!
//! Every quantity that enters a bound is therefore either exact or charged to an explicit,
//! upward-rounded error term, whatever the gemm kernel's order of operations. The bias
//! enclosures come from the lowering ([`crate::layered`]), which rounds them outward. The
//! alpha-CROWN optimisation runs in the same routine; each of its iterates is a sound bound,
//! and the best per row is kept.

use crate::layered::LayeredNet;
use rayon::prelude::*;
use strata_tensor::kernels::gemm::{gemm, MatMut, MatRef};

const U: f64 = f64::EPSILON / 2.0;
/// Covers underflow: at most 2⁻¹⁰⁷⁵ per rounded product.
const TINY: f64 = 1e-300;

/// A generous upper bound on `γ_n / ((1 − γ_n)²)` for `n` roundings (n·u < 0.1).
fn gamma_safe(n: usize) -> f64 {
    2.0 * (n as f64 + 2.0) * U
}

fn up(x: f64) -> f64 {
    x.next_up()
}
fn dn(x: f64) -> f64 {
    x.next_down()
}

/// Bounds of one layer's pre-activations.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerBounds {
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

/// A branch-and-bound domain: an input box, ReLU phases fixed by splits, and the bounds of
/// every hidden layer computed for it.
#[derive(Clone, Debug)]
pub struct Domain {
    pub x_lower: Vec<f64>,
    pub x_upper: Vec<f64>,
    /// Fixed ReLU phases: (hidden layer, neuron, active).
    pub fixed: Vec<(usize, usize, bool)>,
    /// Pre-activation bounds of hidden layers `0..valid` are current.
    pub pre: Vec<LayerBounds>,
    pub valid: usize,
    /// A split made the domain empty (it needs no bound).
    pub infeasible: bool,
    /// Lower ReLU slopes of the last specification bound (warm start), q × hidden neurons.
    pub alpha: Option<Vec<f64>>,
}

impl Domain {
    pub fn new(x_lower: Vec<f64>, x_upper: Vec<f64>) -> Self {
        Domain {
            x_lower,
            x_upper,
            fixed: Vec::new(),
            pre: Vec::new(),
            valid: 0,
            infeasible: false,
            alpha: None,
        }
    }
}

/// The specification bound of one domain.
#[derive(Clone, Debug, Default)]
pub struct SpecBound {
    /// A sound lower bound of each row `c·y`.
    pub lower: Vec<f64>,
    /// The input coefficients of each row's linear bound (q × n_inputs).
    pub input_coeffs: Vec<f64>,
    /// Each row's coefficients on every hidden layer's ReLU output (q × hidden neurons,
    /// layer-major), before relaxation: the sensitivity used by the split heuristic.
    pub hidden_coeffs: Vec<f64>,
    /// Only when certifying: per row, the lower ReLU slopes (q × hidden neurons, layer-major)
    /// of the alpha-CROWN iterate that gave the row's bound in `lower`.
    pub slopes: Vec<f64>,
}

/// Neuron offsets of the hidden layers in a flat layer-major vector, and their total.
pub fn hidden_offsets(net: &LayeredNet) -> (Vec<usize>, usize) {
    let mut off = Vec::new();
    let mut total = 0;
    for a in &net.layers[..net.layers.len() - 1] {
        off.push(total);
        total += a.out;
    }
    (off, total)
}

/// The relaxation of one ReLU: bounds `[l, u]`.
#[derive(Clone, Copy)]
enum Relu {
    Active,
    Inactive,
    /// Upper line `s·z + t`, default lower slope.
    Unstable {
        s: f64,
        t: f64,
        alpha0: f64,
    },
}

/// CROWN's adaptive lower slope of a ReLU with bounds `[l, u]` (0 where it is stable).
pub(crate) fn default_slope(l: f64, u: f64) -> f64 {
    match relax(l, u) {
        Relu::Unstable { alpha0, .. } => alpha0,
        _ => 0.0,
    }
}

fn relax(l: f64, u: f64) -> Relu {
    if l >= 0.0 {
        Relu::Active
    } else if u <= 0.0 {
        Relu::Inactive
    } else {
        let s = u / (u - l);
        // The line must lie above the ReLU at both ends: s·l + t ≥ 0 and s·u + t ≥ u.
        let t = up(-s * l).max(up(u * up(1.0 - s)));
        let alpha0 = if u >= -l { 1.0 } else { 0.0 };
        Relu::Unstable { s, t, alpha0 }
    }
}

/// Per-row accumulators of a sound sum.
struct Acc {
    sum: Vec<f64>,
    abs: Vec<f64>,
    err: Vec<f64>,
    terms: usize,
}

impl Acc {
    fn new(rows: usize) -> Self {
        Acc {
            sum: vec![0.0; rows],
            abs: vec![0.0; rows],
            err: vec![0.0; rows],
            terms: 0,
        }
    }
    fn lower(&self) -> Vec<f64> {
        let g = gamma_safe(self.terms);
        (0..self.sum.len())
            .map(|r| {
                let round = up(up(g * self.abs[r]) + TINY * self.terms as f64);
                let v = dn(dn(self.sum[r] - round) - self.err[r]);
                if v.is_nan() {
                    f64::NEG_INFINITY
                } else {
                    v
                }
            })
            .collect()
    }
}

/// Where back-substitution starts: `+z_j` and `−z_j` of the listed neurons of layer `k` for
/// each domain (their bounds), or `q` given rows per domain.
enum Start<'a> {
    Neurons(&'a [Vec<usize>]),
    Rows(&'a [f64], usize),
}

struct Back {
    lower: Vec<f64>,
    input_coeffs: Vec<f64>,
    /// Per hidden layer m < k: coefficients on the ReLU output h_m (rows × n_m).
    hidden: Vec<Vec<f64>>,
}

fn matmul(lhs: &[f64], rows: usize, inner: usize, w: &[f64], cols: usize) -> Vec<f64> {
    let mut dst = vec![0.0; rows * cols];
    if rows > 0 && cols > 0 {
        gemm(
            MatMut::row_major(&mut dst, 0, rows, cols),
            false,
            MatRef::row_major(lhs, 0, rows, inner),
            MatRef::row_major(w, 0, inner, cols),
            1,
        )
        .expect("dimensions checked by construction");
    }
    dst
}

/// Back-substitution from layer `k`. `alpha` (per domain, q × hidden neurons, with `Rows`)
/// overrides the default lower slopes.
fn backward(
    net: &LayeredNet,
    k: usize,
    doms: &[&Domain],
    start: Start<'_>,
    alpha: Option<&[&[f64]]>,
    record: bool,
) -> Back {
    let (offsets, hidden_total) = hidden_offsets(net);
    let a = &net.layers[k];
    // The rows of each domain.
    let mut ranges = Vec::with_capacity(doms.len());
    let mut rows = 0;
    for d in 0..doms.len() {
        let q = match start {
            Start::Neurons(sel) => 2 * sel[d].len(),
            Start::Rows(_, q) => q,
        };
        ranges.push(rows..rows + q);
        rows += q;
    }
    let mut acc = Acc::new(rows);
    let mut hidden: Vec<Vec<f64>> = if record {
        vec![Vec::new(); k]
    } else {
        Vec::new()
    };
    // Coefficients on h_{k-1} (or x) and the bias terms of layer k.
    let mut lam = match start {
        Start::Neurons(sel) => {
            // ±(row j of W_k): exact, and the bias endpoint is a single exact term.
            let mut lam = Vec::with_capacity(rows * a.inn);
            let mut r = 0;
            for js in sel {
                for sign in [1.0, -1.0] {
                    for &j in js {
                        lam.extend(
                            a.weight[j * a.inn..(j + 1) * a.inn]
                                .iter()
                                .map(|w| sign * w),
                        );
                        let t = if sign > 0.0 {
                            a.bias_lo[j]
                        } else {
                            -a.bias_hi[j]
                        };
                        acc.sum[r] = t;
                        acc.abs[r] = t.abs();
                        r += 1;
                    }
                }
            }
            acc.terms += 1;
            lam
        }
        Start::Rows(c, _) => {
            bias_terms(&mut acc, c, a.out, &a.bias_lo, &a.bias_hi);
            product_error(&mut acc, c, a, doms, &ranges, k);
            matmul(c, rows, a.out, &a.weight, a.inn)
        }
    };
    for m in (0..k).rev() {
        // lam: coefficients on h_m = relu(z_m); relax to coefficients on z_m.
        let n = net.layers[m].out;
        if !hidden.is_empty() {
            hidden[m] = lam.clone();
        }
        let a = &net.layers[m];
        let g = gamma_safe(a.out + a.inn);
        for (d, dom) in doms.iter().enumerate() {
            // Per neuron: slope for a coefficient ≥ 0, slope and intercept for one < 0, and
            // |z| bound where the product by a slope rounds (0 where the slope is 0 or 1).
            let pre = &dom.pre[m];
            let (mut pos, mut neg, mut icpt, mut zmax) =
                (vec![1.0; n], vec![1.0; n], vec![0.0; n], vec![0.0; n]);
            let mut unstable = Vec::new();
            for j in 0..n {
                match relax(pre.lower[j], pre.upper[j]) {
                    Relu::Active => {}
                    Relu::Inactive => (pos[j], neg[j]) = (0.0, 0.0),
                    Relu::Unstable { s, t, alpha0 } => {
                        (pos[j], neg[j], icpt[j]) = (alpha0, s, t);
                        zmax[j] = pre.lower[j].abs().max(pre.upper[j].abs());
                        unstable.push(j);
                    }
                }
            }
            let zsum: f64 = zmax.iter().sum();
            let relax_tiny = TINY * n as f64 * (1.0 + zsum);
            let v = abs_weight_times_hmax(a, dom, m);
            let tiny = 2.0 * TINY * ((a.out * a.inn) as f64 + a.out as f64 * (1.0 + v.1));
            for r in ranges[d].clone() {
                let row = &mut lam[r * n..(r + 1) * n];
                if let Some(al) = alpha {
                    let al = &al[d][(r - ranges[d].start) * hidden_total + offsets[m]..];
                    for &j in &unstable {
                        pos[j] = al[j];
                    }
                }
                let (mut sum, mut abs, mut rel_err, mut prod_err) = (0.0, 0.0, 0.0, 0.0);
                for j in 0..n {
                    let l = row[j];
                    let c = if l >= 0.0 { l * pos[j] } else { l * neg[j] };
                    // The intercept of the upper line, for a negative coefficient.
                    let it = l.min(0.0) * icpt[j];
                    // The bias of layer m on z_m.
                    let bt = (c * a.bias_lo[j]).min(c * a.bias_hi[j]);
                    sum += it + bt;
                    abs += it.abs() + bt.abs();
                    rel_err += c.abs() * zmax[j];
                    prod_err += c.abs() * v.0[j];
                    row[j] = c;
                }
                acc.sum[r] += sum;
                acc.abs[r] += abs;
                let e = up(4.0 * U * rel_err + relax_tiny) + up(up(g * prod_err) + tiny);
                acc.err[r] = up(acc.err[r] + up(e));
            }
        }
        // Each row's sum gained two rounded terms per neuron (intercept and bias).
        acc.terms += 2 * n;
        lam = matmul(&lam, rows, a.out, &a.weight, a.inn);
    }
    // Concretize over each domain's input box.
    let n = net.n_inputs;
    for (d, dom) in doms.iter().enumerate() {
        for r in ranges[d].clone() {
            let (mut s, mut ab) = (acc.sum[r], acc.abs[r]);
            for (j, l) in lam[r * n..(r + 1) * n].iter().enumerate() {
                let t = if *l >= 0.0 {
                    *l * dom.x_lower[j]
                } else {
                    *l * dom.x_upper[j]
                };
                s += t;
                ab += t.abs();
            }
            acc.sum[r] = s;
            acc.abs[r] = ab;
        }
    }
    acc.terms += n;
    Back {
        lower: acc.lower(),
        input_coeffs: lam,
        hidden,
    }
}

/// Adds `Λ·b` (the bias endpoint chosen by each coefficient's sign) to the sums.
fn bias_terms(acc: &mut Acc, lam: &[f64], n: usize, b_lo: &[f64], b_hi: &[f64]) {
    for r in 0..acc.sum.len() {
        let (mut s, mut ab) = (acc.sum[r], acc.abs[r]);
        for (j, l) in lam[r * n..(r + 1) * n].iter().enumerate() {
            let t = (*l * b_lo[j]).min(*l * b_hi[j]);
            s += t;
            ab += t.abs();
        }
        acc.sum[r] = s;
        acc.abs[r] = ab;
    }
    acc.terms += n;
}

/// `|W_m|·hmax` where `hmax` bounds `|h_{m−1}|` (or `|x|`) on the domain, and `Σ hmax`.
fn abs_weight_times_hmax(a: &crate::layered::Affine, dom: &Domain, m: usize) -> (Vec<f64>, f64) {
    let hmax: Vec<f64> = if m == 0 {
        (dom.x_lower.iter().zip(&dom.x_upper))
            .map(|(l, u)| l.abs().max(u.abs()))
            .collect()
    } else {
        dom.pre[m - 1].upper.iter().map(|u| u.max(0.0)).collect()
    };
    let hsum = hmax.iter().sum();
    let v = (0..a.out)
        .map(|o| {
            (a.weight[o * a.inn..(o + 1) * a.inn].iter().zip(&hmax))
                .map(|(w, h)| w.abs() * h)
                .sum()
        })
        .collect();
    (v, hsum)
}

/// Charges the rounding error of `fl(Λ·W)` for layer `m` (applied to h_{m−1} or x).
fn product_error(
    acc: &mut Acc,
    lam: &[f64],
    a: &crate::layered::Affine,
    doms: &[&Domain],
    ranges: &[std::ops::Range<usize>],
    m: usize,
) {
    for (d, dom) in doms.iter().enumerate() {
        let (v, hsum) = abs_weight_times_hmax(a, dom, m);
        let g = gamma_safe(a.out + a.inn);
        let tiny = 2.0 * TINY * ((a.out * a.inn) as f64 + a.out as f64 * (1.0 + hsum));
        for r in ranges[d].clone() {
            let e: f64 = (lam[r * a.out..(r + 1) * a.out].iter().zip(&v))
                .map(|(l, vo)| l.abs() * vo)
                .sum();
            acc.err[r] = up(acc.err[r] + up(up(g * e) + tiny));
        }
    }
}

/// Interval bounds of `W·h + b` for `h` in the box `[h_lo, h_hi]`, as sound sums.
pub(crate) fn interval_affine(
    a: &crate::layered::Affine,
    h_lo: &[f64],
    h_hi: &[f64],
) -> LayerBounds {
    let mut lower = Vec::with_capacity(a.out);
    let mut upper = Vec::with_capacity(a.out);
    let g = gamma_safe(a.inn + 1);
    for o in 0..a.out {
        let row = &a.weight[o * a.inn..(o + 1) * a.inn];
        let (mut lo, mut hi) = (a.bias_lo[o], a.bias_hi[o]);
        let mut ab = a.bias_lo[o].abs().max(a.bias_hi[o].abs());
        for ((w, l), u) in row.iter().zip(h_lo).zip(h_hi) {
            let (p, q) = (w * l, w * u);
            lo += p.min(q);
            hi += p.max(q);
            ab += p.abs().max(q.abs());
        }
        let round = up(up(g * ab) + TINY * (a.inn + 1) as f64);
        lower.push(dn(lo - round));
        upper.push(up(hi + round));
    }
    LayerBounds { lower, upper }
}

/// Computes the pre-activation bounds of every hidden layer not yet current, for a batch of
/// domains: interval bounds from the previous layer first, then CROWN (all domains' rows in
/// one product per layer) for the neurons those leave unstable; everything intersected with
/// what the domain already had and with its fixed ReLU phases.
fn refresh_batch(net: &LayeredNet, doms: &mut [Domain], intersect_ibp: bool) {
    let hidden = net.layers.len() - 1;
    for k in 0..hidden {
        let idx: Vec<usize> = (0..doms.len())
            .filter(|&i| !doms[i].infeasible && doms[i].valid <= k)
            .collect();
        if idx.is_empty() {
            continue;
        }
        let n = net.layers[k].out;
        let a = &net.layers[k];
        let mut fresh: Vec<LayerBounds> = idx
            .iter()
            .map(|&i| {
                let dom = &doms[i];
                let mut b = if k == 0 {
                    interval_affine(a, &dom.x_lower, &dom.x_upper)
                } else if !intersect_ibp {
                    LayerBounds {
                        lower: vec![f64::NEG_INFINITY; n],
                        upper: vec![f64::INFINITY; n],
                    }
                } else {
                    let p = &dom.pre[k - 1];
                    let lo: Vec<f64> = p.lower.iter().map(|v| v.max(0.0)).collect();
                    let hi: Vec<f64> = p.upper.iter().map(|v| v.max(0.0)).collect();
                    interval_affine(a, &lo, &hi)
                };
                if let Some(old) = dom.pre.get(k) {
                    for j in 0..n {
                        b.lower[j] = b.lower[j].max(old.lower[j]);
                        b.upper[j] = b.upper[j].min(old.upper[j]);
                    }
                }
                for &(layer, j, active) in &dom.fixed {
                    if layer == k {
                        if active {
                            b.lower[j] = b.lower[j].max(0.0);
                        } else {
                            b.upper[j] = b.upper[j].min(0.0);
                        }
                    }
                }
                b
            })
            .collect();
        if k > 0 {
            let sel: Vec<Vec<usize>> = fresh
                .iter()
                .map(|b| {
                    (0..n)
                        .filter(|&j| b.lower[j] < 0.0 && b.upper[j] > 0.0)
                        .collect()
                })
                .collect();
            let refs: Vec<&Domain> = idx.iter().map(|&i| &doms[i]).collect();
            let back = backward(net, k, &refs, Start::Neurons(&sel), None, false);
            let mut r = 0;
            for (b, js) in fresh.iter_mut().zip(&sel) {
                let m = js.len();
                for (t, &j) in js.iter().enumerate() {
                    b.lower[j] = b.lower[j].max(back.lower[r + t]);
                    b.upper[j] = b.upper[j].min(-back.lower[r + m + t]);
                }
                r += 2 * m;
            }
        }
        for (&i, b) in idx.iter().zip(fresh) {
            let dom = &mut doms[i];
            if (0..n).any(|j| b.lower[j] > b.upper[j]) {
                dom.infeasible = true;
            }
            if dom.pre.len() > k {
                dom.pre[k] = b;
            } else {
                dom.pre.push(b);
            }
            dom.valid = k + 1;
        }
    }
}

/// Settings of the bounds: alpha-CROWN steps on the specification, and the intermediate layers.
#[derive(Clone, Copy, Debug)]
pub struct BoundOptions {
    /// Gradient steps on the lower ReLU slopes (0: plain CROWN).
    pub steps: usize,
    pub learning_rate: f64,
    /// Start from the domain's previous slopes (else from CROWN's adaptive choice).
    pub warm_start: bool,
    /// Intersect each hidden layer's CROWN bounds with interval bounds from the layer before
    /// (tighter; off only to compare with plain CROWN implementations).
    pub intersect_ibp: bool,
}

/// Lower bounds of `spec · y` (q rows, row-major over the outputs) for one batch of domains,
/// with alpha-CROWN when `opts.steps > 0`. Infeasible domains get `+∞` bounds.
fn spec_batch(
    net: &LayeredNet,
    doms: &mut [Domain],
    spec: &[f64],
    q: usize,
    opts: BoundOptions,
    record_slopes: bool,
) -> Vec<SpecBound> {
    let k = net.layers.len() - 1;
    let (offsets, total) = hidden_offsets(net);
    let live: Vec<usize> = (0..doms.len()).filter(|&i| !doms[i].infeasible).collect();
    let mut out: Vec<SpecBound> = (0..doms.len())
        .map(|_| SpecBound {
            lower: vec![f64::INFINITY; q],
            ..SpecBound::default()
        })
        .collect();
    if live.is_empty() {
        return out;
    }
    let rows_spec: Vec<f64> = live.iter().flat_map(|_| spec.iter().copied()).collect();
    // Initial slopes: the warm start, else CROWN's adaptive choice.
    let mut alphas: Vec<Vec<f64>> = live
        .iter()
        .map(|&i| {
            let dom = &doms[i];
            match &dom.alpha {
                Some(a) if opts.warm_start && a.len() == q * total => a.clone(),
                _ => {
                    let mut a = vec![0.0; q * total];
                    for (m, pre) in dom.pre.iter().take(k).enumerate() {
                        for j in 0..pre.lower.len() {
                            if let Relu::Unstable { alpha0, .. } = relax(pre.lower[j], pre.upper[j])
                            {
                                for r in 0..q {
                                    a[r * total + offsets[m] + j] = alpha0;
                                }
                            }
                        }
                    }
                    a
                }
            }
        })
        .collect();
    let (mut m1, mut m2) = (
        vec![vec![0.0; q * total]; live.len()],
        vec![vec![0.0; q * total]; live.len()],
    );
    for step in 0..=opts.steps {
        let refs: Vec<&Domain> = live.iter().map(|&i| &doms[i]).collect();
        let al: Vec<&[f64]> = alphas.iter().map(|a| a.as_slice()).collect();
        let back = backward(net, k, &refs, Start::Rows(&rows_spec, q), Some(&al), true);
        for (d, &i) in live.iter().enumerate() {
            let o = &mut out[i];
            let low = &back.lower[d * q..(d + 1) * q];
            let first = step == 0;
            if record_slopes && first {
                o.slopes = alphas[d].clone();
            }
            for (r, (b, n)) in o.lower.iter_mut().zip(low).enumerate() {
                if record_slopes && !first && *n > *b {
                    o.slopes[r * total..(r + 1) * total]
                        .copy_from_slice(&alphas[d][r * total..(r + 1) * total]);
                }
                *b = if first { *n } else { b.max(*n) };
            }
            // The split heuristics read CROWN's own coefficients: the optimised slopes' ones
            // make a worse guide (measured on ACAS Xu: 5x more domains).
            if first {
                let n_in = net.n_inputs;
                o.input_coeffs = back.input_coeffs[d * q * n_in..(d + 1) * q * n_in].to_vec();
                let mut hc = vec![0.0; q * total];
                for (m, h) in back.hidden.iter().enumerate() {
                    let n = net.layers[m].out;
                    for r in 0..q {
                        hc[r * total + offsets[m]..r * total + offsets[m] + n]
                            .copy_from_slice(&h[(d * q + r) * n..(d * q + r + 1) * n]);
                    }
                }
                o.hidden_coeffs = hc;
            }
        }
        if step == opts.steps {
            break;
        }
        // Gradient of each row's bound w.r.t. its slopes: a forward pass of the relaxed network
        // from the minimizing box corner.
        let grads = alpha_gradients(net, &refs, &back, q, &alphas);
        let t = (step + 1) as i32;
        for d in 0..live.len() {
            for p in 0..q * total {
                let g = grads[d][p];
                m1[d][p] = 0.9 * m1[d][p] + 0.1 * g;
                m2[d][p] = 0.999 * m2[d][p] + 0.001 * g * g;
                let mh = m1[d][p] / (1.0 - 0.9f64.powi(t));
                let vh = m2[d][p] / (1.0 - 0.999f64.powi(t));
                alphas[d][p] =
                    (alphas[d][p] + opts.learning_rate * mh / (vh.sqrt() + 1e-12)).clamp(0.0, 1.0);
            }
        }
    }
    for (d, &i) in live.iter().enumerate() {
        doms[i].alpha = Some(std::mem::take(&mut alphas[d]));
    }
    out
}

/// ∂(row bound)/∂α for every row and hidden neuron (zero where the slope is not used).
fn alpha_gradients(
    net: &LayeredNet,
    doms: &[&Domain],
    back: &Back,
    q: usize,
    alphas: &[Vec<f64>],
) -> Vec<Vec<f64>> {
    let (offsets, total) = hidden_offsets(net);
    let n_in = net.n_inputs;
    let rows = doms.len() * q;
    // The box corner minimizing each row's linear bound.
    let mut h: Vec<f64> = Vec::with_capacity(rows * n_in);
    for (d, dom) in doms.iter().enumerate() {
        for r in 0..q {
            let c = &back.input_coeffs[(d * q + r) * n_in..(d * q + r + 1) * n_in];
            h.extend(c.iter().enumerate().map(|(j, l)| {
                if *l >= 0.0 {
                    dom.x_lower[j]
                } else {
                    dom.x_upper[j]
                }
            }));
        }
    }
    let mut grads = vec![vec![0.0; q * total]; doms.len()];
    let hidden_layers = &net.layers[..net.layers.len() - 1];
    for (m, (a, off)) in hidden_layers.iter().zip(&offsets).enumerate() {
        let mut z = vec![0.0; rows * a.out];
        gemm(
            MatMut::row_major(&mut z, 0, rows, a.out),
            false,
            MatRef::row_major(&h, 0, rows, a.inn),
            MatRef::row_major(&a.weight, 0, a.out, a.inn).t(),
            1,
        )
        .expect("dimensions checked by construction");
        for (d, dom) in doms.iter().enumerate() {
            let pre = &dom.pre[m];
            for r in 0..q {
                let row = d * q + r;
                let coeffs = &back.hidden[m][row * a.out..(row + 1) * a.out];
                for j in 0..a.out {
                    let zj = z[row * a.out + j] + 0.5 * (a.bias_lo[j] + a.bias_hi[j]);
                    z[row * a.out + j] = match relax(pre.lower[j], pre.upper[j]) {
                        Relu::Active => zj,
                        Relu::Inactive => 0.0,
                        Relu::Unstable { s, t, .. } => {
                            let p = r * total + off + j;
                            if coeffs[j] >= 0.0 {
                                grads[d][p] = coeffs[j] * zj;
                                alphas[d][p] * zj
                            } else {
                                s * zj + t
                            }
                        }
                    };
                }
            }
        }
        h = z;
    }
    grads
}

/// Pre-activation bounds and specification bounds for many domains, on all cores: the
/// domains are cut into chunks, each chunk batched through the layers.
pub fn bound_domains(
    net: &LayeredNet,
    doms: &mut [Domain],
    spec: &[f64],
    q: usize,
    opts: BoundOptions,
) -> Vec<SpecBound> {
    bound_domains_recording(net, doms, spec, q, opts, false)
}

/// [`bound_domains`], also recording in [`SpecBound::slopes`] the slopes behind each row's
/// bound when `record_slopes` (for certificates).
pub(crate) fn bound_domains_recording(
    net: &LayeredNet,
    doms: &mut [Domain],
    spec: &[f64],
    q: usize,
    opts: BoundOptions,
    record_slopes: bool,
) -> Vec<SpecBound> {
    let threads = rayon::current_num_threads().max(1);
    let chunk = doms.len().div_ceil(threads * 2).clamp(1, 256);
    doms.par_chunks_mut(chunk)
        .flat_map_iter(|part| {
            refresh_batch(net, part, opts.intersect_ibp);
            spec_batch(net, part, spec, q, opts, record_slopes)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layered::Affine;

    fn rng_net(widths: &[usize], seed: u64) -> LayeredNet {
        let mut s = seed;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let layers = widths
            .windows(2)
            .map(|w| {
                let weight: Vec<f64> = (0..w[0] * w[1]).map(|_| next()).collect();
                let bias: Vec<f64> = (0..w[1]).map(|_| 0.3 * next()).collect();
                Affine {
                    out: w[1],
                    inn: w[0],
                    weight,
                    bias_lo: bias.clone(),
                    bias_hi: bias,
                }
            })
            .collect();
        LayeredNet {
            n_inputs: widths[0],
            layers,
        }
    }

    /// The analytic gradient of a row's bound with respect to the lower slopes matches a
    /// finite difference of the bound itself.
    #[test]
    fn alpha_gradient_matches_finite_differences() {
        let net = rng_net(&[4, 12, 12, 3], 99);
        let mut doms = vec![Domain::new(vec![-1.0; 4], vec![1.0; 4])];
        refresh_batch(&net, &mut doms, true);
        let (_, total) = hidden_offsets(&net);
        let spec = vec![1.0, -1.0, 0.0];
        let mut alpha = vec![0.0; total];
        for (i, a) in alpha.iter_mut().enumerate() {
            *a = 0.2 + 0.6 * ((i * 7919) % 13) as f64 / 13.0;
        }
        let bound = |al: &[f64]| {
            let refs = [&doms[0]];
            backward(&net, 2, &refs, Start::Rows(&spec, 1), Some(&[al]), true)
        };
        let back = bound(&alpha);
        let refs = [&doms[0]];
        let grads = alpha_gradients(&net, &refs, &back, 1, std::slice::from_ref(&alpha));
        let mut checked = 0;
        for p in 0..total {
            let h = 1e-6;
            let mut plus = alpha.clone();
            plus[p] += h;
            let fd = (bound(&plus).lower[0] - back.lower[0]) / h;
            if grads[0][p] != 0.0 || fd.abs() > 1e-6 {
                checked += 1;
                assert!(
                    (fd - grads[0][p]).abs() < 1e-4 * (1.0 + fd.abs()),
                    "slope {p}: fd {fd} vs {}",
                    grads[0][p]
                );
            }
        }
        assert!(checked > 0);
    }
}
