//! The checker: tree coverage, intermediate bounds by exact back-substitution, and the output
//! specs, on every leaf (two threads, first failing leaf reported).

use crate::exact::{Block, Dyadic, Row};
use crate::network::{lower, LowerError, Network};
use crate::schema::{
    sha256_hex, CaseProof, CertFileError, Certificate, InputBox, Leaf, Phase, Side, SpecProof,
    Step, Witness,
};
use num_bigint::BigInt;
use std::cmp::Ordering;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Mutex;
use strata_io::onnx::{import_model, ImportOptions, ModelProto};
use strata_io::vnnlib::{parse_property, Case, Property, VnnlibError};

/// Why a certificate was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Certificate(#[from] CertFileError),
    #[error("{0}")]
    Onnx(String),
    #[error(transparent)]
    Network(#[from] LowerError),
    #[error(transparent)]
    Property(#[from] VnnlibError),
    /// The certificate does not prove the property; `place` names the case, leaf and step.
    #[error("rejected: {place}: {reason}")]
    Rejected { place: String, reason: String },
}

/// What an accepted certificate covered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub cases: usize,
    pub leaves: usize,
    /// Intermediate bounds confirmed by interval arithmetic from the previous layer.
    pub bounds_by_interval: usize,
    /// Intermediate bounds confirmed by back-substitution to the input.
    pub bounds_by_backsub: usize,
    /// Output-spec refutations checked.
    pub specs: usize,
}

fn rejected(place: impl Into<String>, reason: impl Into<String>) -> CheckError {
    CheckError::Rejected {
        place: place.into(),
        reason: reason.into(),
    }
}

/// Checks `cert` against the network and property files (hashes included).
pub fn check_files(
    network: &Path,
    property: &Path,
    cert: &Path,
) -> Result<CheckReport, CheckError> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|source| CheckError::Io {
            path: p.display().to_string(),
            source,
        })
    };
    let (net_bytes, prop_bytes) = (read(network)?, read(property)?);
    let certificate = Certificate::read(cert)?;
    for (what, path, bytes, claimed) in [
        ("network", network, &net_bytes, &certificate.network.sha256),
        (
            "property",
            property,
            &prop_bytes,
            &certificate.property.sha256,
        ),
    ] {
        let actual = sha256_hex(bytes);
        if !actual.eq_ignore_ascii_case(claimed) {
            return Err(rejected(
                what,
                format!(
                    "the certificate is for sha256 {claimed}, but {} has sha256 {actual}",
                    path.display()
                ),
            ));
        }
    }
    let name = network.display().to_string();
    let model =
        ModelProto::decode(&net_bytes, &name).map_err(|e| CheckError::Onnx(e.to_string()))?;
    let imported = import_model(&model, &name, &ImportOptions::default())
        .map_err(|e| CheckError::Onnx(e.to_string()))?;
    let net = lower(&imported.graph, &imported.params, &name)?;
    let text = String::from_utf8_lossy(&prop_bytes);
    let prop = parse_property(&text, &property.display().to_string())?;
    check_certificate(&net, &prop, &certificate)
}

/// Checks `cert` against an already lowered network and parsed property (hashes not checked).
pub fn check_certificate(
    net: &Network,
    prop: &Property,
    cert: &Certificate,
) -> Result<CheckReport, CheckError> {
    if prop.n_inputs != net.input_dim() || prop.n_outputs != net.output_dim() {
        return Err(rejected(
            "property",
            format!(
                "the property has {} inputs and {} outputs, the network {} and {}",
                prop.n_inputs,
                prop.n_outputs,
                net.input_dim(),
                net.output_dim()
            ),
        ));
    }
    if cert.cases.len() != prop.cases.len() {
        return Err(rejected(
            "cases",
            format!(
                "the certificate proves {} cases, the property has {}",
                cert.cases.len(),
                prop.cases.len()
            ),
        ));
    }
    let prepared = Prepared::new(net);
    let mut report = CheckReport {
        cases: cert.cases.len(),
        ..CheckReport::default()
    };
    for (c, (proof, case)) in cert.cases.iter().zip(&prop.cases).enumerate() {
        check_tree(net, c, proof, case)?;
        let stats = check_leaves(&prepared, c, proof, case)?;
        report.leaves += proof.leaves.len();
        report.bounds_by_interval += stats.0;
        report.bounds_by_backsub += stats.1;
        report.specs += stats.2;
    }
    Ok(report)
}

/// A leaf path written for people: `x[0] ≤ 0.5 / z1[7] active`.
fn describe_path(path: &[Step]) -> String {
    if path.is_empty() {
        return "root".to_string();
    }
    path.iter()
        .map(|s| match s {
            Step::Input { dim, value, side } => match side {
                Side::Below => format!("x[{dim}] ≤ {value}"),
                Side::Above => format!("x[{dim}] ≥ {value}"),
            },
            Step::Relu {
                layer,
                neuron,
                phase,
            } => format!(
                "z{layer}[{neuron}] {}",
                if *phase == Phase::Active {
                    "active"
                } else {
                    "inactive"
                }
            ),
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

fn leaf_place(c: usize, k: usize, leaf: &Leaf) -> String {
    format!("case {c}, leaf {k} ({})", describe_path(&leaf.path))
}

/// The split a step makes, without its side.
fn same_split(a: &Step, b: &Step) -> bool {
    match (a, b) {
        (
            Step::Input { dim, value, .. },
            Step::Input {
                dim: d2, value: v2, ..
            },
        ) => dim == d2 && value.to_bits() == v2.to_bits(),
        (
            Step::Relu { layer, neuron, .. },
            Step::Relu {
                layer: l2,
                neuron: n2,
                ..
            },
        ) => layer == l2 && neuron == n2,
        _ => false,
    }
}

fn first_side(s: &Step) -> bool {
    matches!(
        s,
        Step::Input {
            side: Side::Below,
            ..
        } | Step::Relu {
            phase: Phase::Inactive,
            ..
        }
    )
}

/// Checks that the leaves' paths form a complete binary tree below `depth`.
fn check_cover(c: usize, leaves: &[Leaf], group: &[usize], depth: usize) -> Result<(), CheckError> {
    let prefix = || describe_path(&leaves[group[0]].path[..depth]);
    let ends: Vec<usize> = group
        .iter()
        .copied()
        .filter(|&k| leaves[k].path.len() == depth)
        .collect();
    if let Some(&k) = ends.first() {
        if group.len() > 1 {
            let other = group.iter().find(|&&o| o != k).copied().unwrap_or(k);
            return Err(rejected(
                format!("case {c}, leaf {k}"),
                format!(
                    "leaf {k} covers the node at {} but leaf {other} lies below it (overlap)",
                    prefix()
                ),
            ));
        }
        return Ok(());
    }
    let split = leaves[group[0]].path[depth];
    if let Some(&k) = group
        .iter()
        .find(|&&k| !same_split(&leaves[k].path[depth], &split))
    {
        return Err(rejected(
            format!("case {c}, leaf {k}"),
            format!(
                "below {} leaves {} and {k} split differently ({} vs {})",
                prefix(),
                group[0],
                describe_path(&[split]),
                describe_path(&[leaves[k].path[depth]])
            ),
        ));
    }
    let (first, second): (Vec<usize>, Vec<usize>) = group
        .iter()
        .partition(|&&k| first_side(&leaves[k].path[depth]));
    for (side, present) in [(&first, &second), (&second, &first)] {
        if side.is_empty() {
            let k = present[0];
            let mut missing = leaves[k].path[depth];
            match &mut missing {
                Step::Input { side, .. } => {
                    *side = if *side == Side::Below {
                        Side::Above
                    } else {
                        Side::Below
                    }
                }
                Step::Relu { phase, .. } => {
                    *phase = if *phase == Phase::Active {
                        Phase::Inactive
                    } else {
                        Phase::Active
                    }
                }
            }
            return Err(rejected(
                format!("case {c}"),
                format!(
                    "the region {} / {} has no leaf (not covered; leaf {k} has its sibling side)",
                    prefix(),
                    describe_path(&[missing])
                ),
            ));
        }
    }
    check_cover(c, leaves, &first, depth + 1)?;
    check_cover(c, leaves, &second, depth + 1)
}

/// Root box, coverage and per-leaf boxes and split indices.
fn check_tree(net: &Network, c: usize, proof: &CaseProof, case: &Case) -> Result<(), CheckError> {
    let n = net.input_dim();
    let root = &proof.root;
    if root.lower.len() != n || root.upper.len() != n {
        return Err(rejected(
            format!("case {c}, root"),
            format!(
                "the root box has {} / {} bounds, the network {n} inputs",
                root.lower.len(),
                root.upper.len()
            ),
        ));
    }
    for i in 0..n {
        if root.lower[i] > case.input.lower[i] || root.upper[i] < case.input.upper[i] {
            return Err(rejected(
                format!("case {c}, root"),
                format!(
                    "x[{i}]: the root [{}, {}] does not contain the property's [{}, {}]",
                    root.lower[i], root.upper[i], case.input.lower[i], case.input.upper[i]
                ),
            ));
        }
    }
    if proof.leaves.is_empty() {
        return Err(rejected(format!("case {c}"), "no leaves"));
    }
    for (k, leaf) in proof.leaves.iter().enumerate() {
        let place = || leaf_place(c, k, leaf);
        let mut lo = root.lower.clone();
        let mut hi = root.upper.clone();
        for step in &leaf.path {
            match *step {
                Step::Input { dim, value, side } => {
                    if dim >= n || !value.is_finite() {
                        return Err(rejected(
                            place(),
                            format!(
                                "input split on x[{dim}] at {value}: no such input or not finite"
                            ),
                        ));
                    }
                    match side {
                        Side::Below => hi[dim] = hi[dim].min(value),
                        Side::Above => lo[dim] = lo[dim].max(value),
                    }
                }
                Step::Relu { layer, neuron, .. } => {
                    if layer >= net.relu_layers() || neuron >= net.width(layer) {
                        return Err(rejected(
                            place(),
                            format!("ReLU split on z{layer}[{neuron}]: no such neuron"),
                        ));
                    }
                }
            }
        }
        let b = &leaf.input_box;
        let same =
            |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y);
        if !same(&b.lower, &lo) || !same(&b.upper, &hi) {
            return Err(rejected(
                place(),
                format!(
                    "the leaf box {:?}..{:?} is not the root cut by the path ({lo:?}..{hi:?})",
                    b.lower, b.upper
                ),
            ));
        }
    }
    let all: Vec<usize> = (0..proof.leaves.len()).collect();
    check_cover(c, &proof.leaves, &all, 0)
}

/// Network data the leaves share.
struct Prepared<'a> {
    net: &'a Network,
    biases: Vec<(Block<BigInt>, Option<Block<i128>>)>,
}

impl<'a> Prepared<'a> {
    fn new(net: &'a Network) -> Self {
        let biases = net
            .maps
            .iter()
            .map(|m| {
                let b = Block::from_dyadics(&m.bias);
                let s = b.to_small();
                (b, s)
            })
            .collect();
        Prepared { net, biases }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Active,
    Inactive,
    Unstable,
}

/// How the back-substitution crosses one checked ReLU layer.
struct Relax {
    kind: Vec<Kind>,
    /// Multipliers sharing one exponent: 1, the lower slope α, the chord slope s.
    one: Block<BigInt>,
    alpha: Block<BigInt>,
    chord: Block<BigInt>,
    /// `s·l` for unstable neurons (the upper line's offset is `−s·l`).
    chord_offset: Block<BigInt>,
    /// Bounds of the post-activation `h`, for interval steps.
    h_lo: Block<BigInt>,
    h_hi: Block<BigInt>,
}

/// `u / (u − l)` rounded up to an `f64`, checked exactly (`s·(u − l) ≥ u`).
fn chord_slope(l: f64, u: f64) -> Option<f64> {
    let (dl, du) = (Dyadic::from_f64(l), Dyadic::from_f64(u));
    let width = du.sub(&dl);
    let mut s = u / (u - l);
    for _ in 0..4 {
        if !s.is_finite() {
            return None;
        }
        if Dyadic::from_f64(s).mul(&width).cmp(&du) != Ordering::Less {
            return Some(s);
        }
        s = s.next_up();
    }
    None
}

// Four parallel per-neuron slices are read by index.
#[allow(clippy::needless_range_loop)]
fn relax_layer(
    lower: &[f64],
    upper: &[f64],
    slopes: &[f64],
    phases: &[Option<Phase>],
) -> Result<Relax, String> {
    let n = lower.len();
    let mut kind = Vec::with_capacity(n);
    let mut mults = Vec::with_capacity(3 * n);
    let (mut alphas, mut chords, mut offsets) = (Vec::new(), Vec::new(), Vec::new());
    let (mut h_lo, mut h_hi) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for j in 0..n {
        let (l, u, a) = (lower[j], upper[j], slopes[j]);
        if !(0.0..=1.0).contains(&a) {
            return Err(format!("neuron {j}: slope {a} is outside [0, 1]"));
        }
        let k = match phases[j] {
            Some(Phase::Active) => Kind::Active,
            Some(Phase::Inactive) => Kind::Inactive,
            None if l >= 0.0 => Kind::Active,
            None if u <= 0.0 => Kind::Inactive,
            None => Kind::Unstable,
        };
        let s = if k == Kind::Unstable {
            chord_slope(l, u).ok_or_else(|| {
                format!("neuron {j}: bounds [{l}, {u}] too wide for a chord slope")
            })?
        } else {
            0.0
        };
        kind.push(k);
        alphas.push(Dyadic::from_f64(a));
        chords.push(Dyadic::from_f64(s));
        offsets.push(Dyadic::from_f64(s).mul(&Dyadic::from_f64(l)));
        if k == Kind::Inactive {
            h_lo.push(0.0);
            h_hi.push(0.0);
        } else {
            h_lo.push(l.max(0.0));
            h_hi.push(u.max(0.0));
        }
    }
    mults.extend((0..n).map(|_| Dyadic::from_int(1)));
    mults.extend(alphas);
    mults.extend(chords);
    let all = Block::from_dyadics(&mults);
    let part = |i: usize| Block {
        mants: all.mants[i * n..(i + 1) * n].to_vec(),
        exp: all.exp,
    };
    Ok(Relax {
        kind,
        one: part(0),
        alpha: part(1),
        chord: part(2),
        chord_offset: Block::from_dyadics(&offsets),
        h_lo: Block::from_f64s(&h_lo),
        h_hi: Block::from_f64s(&h_hi),
    })
}

/// Back-substitutes `start · z_k` to the input: returns `(Λ, c)` with `start·z_k ≥ Λ·x + c` on
/// the leaf region. `betas[m]` (if any) is added to the coefficients of `z_m`.
fn back_substitute(
    p: &Prepared,
    relax: &[Relax],
    k: usize,
    start: Row,
    betas: &[Option<Block<BigInt>>],
) -> (Row, Dyadic) {
    let mut lam = start;
    let mut constant = Dyadic::zero();
    for m in (0..=k).rev() {
        let (b, bs) = &p.biases[m];
        constant = constant.add(&lam.dot(b, bs.as_ref()));
        let mu = lam.times(&p.net.maps[m].weight);
        if m == 0 {
            return (mu, constant);
        }
        let r = &relax[m - 1];
        let offset = mu.scale(&[&r.chord_offset], |i, neg| {
            (neg && r.kind[i] == Kind::Unstable).then_some(0)
        });
        constant = constant.sub(&offset.sum());
        lam = mu.scale(&[&r.one, &r.alpha, &r.chord], |i, neg| match r.kind[i] {
            Kind::Active => Some(0),
            Kind::Inactive => None,
            Kind::Unstable => Some(if neg { 2 } else { 1 }),
        });
        if let Some(beta) = &betas[m - 1] {
            lam = lam.add(beta);
        }
    }
    unreachable!("the loop returns at m = 0")
}

/// Split phases of a leaf, per layer and neuron.
fn phases(net: &Network, leaf: &Leaf) -> Vec<Vec<Option<Phase>>> {
    let mut out: Vec<Vec<Option<Phase>>> = (0..net.relu_layers())
        .map(|k| vec![None; net.width(k)])
        .collect();
    for step in &leaf.path {
        if let Step::Relu {
            layer,
            neuron,
            phase,
        } = *step
        {
            out[layer][neuron] = Some(phase);
        }
    }
    out
}

type LeafStats = (usize, usize, usize);

fn check_leaves(
    p: &Prepared,
    c: usize,
    proof: &CaseProof,
    case: &Case,
) -> Result<LeafStats, CheckError> {
    let next = AtomicUsize::new(0);
    let first_failure: Mutex<Option<(usize, CheckError)>> = Mutex::new(None);
    let totals = Mutex::new((0, 0, 0));
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(2);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, AtomicOrdering::Relaxed);
                if k >= proof.leaves.len() {
                    break;
                }
                let failed_before = first_failure
                    .lock()
                    .is_ok_and(|f| f.as_ref().is_some_and(|(i, _)| *i < k));
                if failed_before {
                    break;
                }
                match check_leaf(p, c, k, &proof.leaves[k], case) {
                    Ok(s) => {
                        if let Ok(mut t) = totals.lock() {
                            t.0 += s.0;
                            t.1 += s.1;
                            t.2 += s.2;
                        }
                    }
                    Err(e) => {
                        if let Ok(mut f) = first_failure.lock() {
                            if f.as_ref().is_none_or(|(i, _)| k < *i) {
                                *f = Some((k, e));
                            }
                        }
                    }
                }
            });
        }
    });
    if let Some((_, e)) = first_failure.into_inner().ok().flatten() {
        return Err(e);
    }
    Ok(totals.into_inner().unwrap_or_default())
}

// Bounds, slopes, phases and weight rows are read by neuron index.
#[allow(clippy::needless_range_loop)]
fn check_leaf(
    p: &Prepared,
    c: usize,
    k: usize,
    leaf: &Leaf,
    case: &Case,
) -> Result<LeafStats, CheckError> {
    let net = p.net;
    let place = || leaf_place(c, k, leaf);
    let layers = net.relu_layers();
    if leaf.layers.len() != layers {
        return Err(rejected(
            place(),
            format!(
                "{} layer bounds given, the network has {layers} ReLU layers",
                leaf.layers.len()
            ),
        ));
    }
    let phases = phases(net, leaf);
    let b = &leaf.input_box;
    let (x_lo, x_hi) = (Block::from_f64s(&b.lower), Block::from_f64s(&b.upper));
    let mut relax: Vec<Relax> = Vec::with_capacity(layers);
    let (mut by_interval, mut by_backsub) = (0, 0);
    let no_betas: Vec<Option<Block<BigInt>>> = vec![None; layers];
    for (m, claim) in leaf.layers.iter().enumerate() {
        let n = net.width(m);
        if claim.lower.len() != n || claim.upper.len() != n || claim.slopes.len() != n {
            return Err(rejected(
                place(),
                format!("layer {m}: bounds and slopes must have {n} entries"),
            ));
        }
        let weight = &net.maps[m].weight;
        let (h_lo, h_hi) = match m {
            0 => (&x_lo, &x_hi),
            _ => (&relax[m - 1].h_lo, &relax[m - 1].h_hi),
        };
        for j in 0..n {
            let bias = &net.maps[m].bias[j];
            let claimed_lo = Dyadic::from_f64(claim.lower[j]);
            let claimed_hi = Dyadic::from_f64(claim.upper[j]);
            let clip_lo = |d: Dyadic| match phases[m][j] {
                Some(Phase::Active) => d.max(Dyadic::zero()),
                _ => d,
            };
            let clip_hi = |d: Dyadic| match phases[m][j] {
                Some(Phase::Inactive) => d.min(Dyadic::zero()),
                _ => d,
            };
            // Interval step from the previous layer first: cheap, and exact for layer 0.
            let row = weight.row(j);
            let ibp_lo = clip_lo(row.min_over_box(h_lo, h_hi).add(bias));
            let ibp_hi = clip_hi(row.min_over_box(h_hi, h_lo).add(bias));
            for (upper, claimed, ibp) in [(false, &claimed_lo, ibp_lo), (true, &claimed_hi, ibp_hi)]
            {
                let holds = |d: &Dyadic| {
                    if upper {
                        claimed.cmp(d) != Ordering::Less
                    } else {
                        claimed.cmp(d) != Ordering::Greater
                    }
                };
                if holds(&ibp) {
                    by_interval += 1;
                    continue;
                }
                let derived = if m == 0 {
                    ibp
                } else {
                    by_backsub += 1;
                    let (lam, cst) =
                        back_substitute(p, &relax, m, Row::unit(n, j, upper), &no_betas);
                    let lo = lam.min_over_box(&x_lo, &x_hi).add(&cst);
                    if upper {
                        clip_hi(lo.neg())
                    } else {
                        clip_lo(lo)
                    }
                };
                if !holds(&derived) {
                    let which = if upper { "upper" } else { "lower" };
                    return Err(rejected(
                        place(),
                        format!(
                            "layer {m}, neuron {j}: claimed {which} bound {} is tighter than the derived {} (≈ {:e})",
                            if upper { claim.upper[j] } else { claim.lower[j] },
                            which,
                            derived.approx()
                        ),
                    ));
                }
            }
        }
        relax.push(
            relax_layer(&claim.lower, &claim.upper, &claim.slopes, &phases[m])
                .map_err(|e| rejected(place(), format!("layer {m}: {e}")))?,
        );
    }
    // A split contradicted by its own checked bound (active with u < 0, inactive with l > 0),
    // or an empty box, makes the leaf region empty: nothing to refute there.
    let contradicted = leaf.layers.iter().zip(&phases).any(|(b, ph)| {
        ph.iter().enumerate().any(|(j, p)| match p {
            Some(Phase::Active) => b.upper[j] < 0.0,
            Some(Phase::Inactive) => b.lower[j] > 0.0,
            None => false,
        })
    });
    if contradicted || (0..b.lower.len()).any(|i| b.lower[i] > b.upper[i]) {
        return Ok((by_interval, by_backsub, 0));
    }
    let mut refuted = vec![false; case.unsafe_set.len()];
    for (s, spec) in leaf.specs.iter().enumerate() {
        let at = || {
            format!(
                "{}, spec {s} (disjunct {}, row {})",
                place(),
                spec.disjunct,
                spec.row
            )
        };
        check_spec(p, &relax, &phases, leaf, spec, case, &x_lo, &x_hi)
            .map_err(|e| rejected(at(), e))?;
        refuted[spec.disjunct] = true;
    }
    if let Some(d) = refuted.iter().position(|r| !r) {
        return Err(rejected(
            place(),
            format!("disjunct {d} of the unsafe set is not refuted on this leaf"),
        ));
    }
    Ok((by_interval, by_backsub, leaf.specs.len()))
}

#[allow(clippy::too_many_arguments)]
fn check_spec(
    p: &Prepared,
    relax: &[Relax],
    phases: &[Vec<Option<Phase>>],
    leaf: &Leaf,
    spec: &SpecProof,
    case: &Case,
    x_lo: &Block<BigInt>,
    x_hi: &Block<BigInt>,
) -> Result<(), String> {
    let net = p.net;
    let layers = net.relu_layers();
    let disjunct = case
        .unsafe_set
        .get(spec.disjunct)
        .ok_or_else(|| format!("the unsafe set has {} disjuncts", case.unsafe_set.len()))?;
    let row = disjunct
        .get(spec.row)
        .ok_or_else(|| format!("the disjunct has {} rows", disjunct.len()))?;
    let mut coeffs = Vec::with_capacity(row.coeffs.len());
    for (j, e) in row.coeffs.iter().enumerate() {
        if !e.is_point() {
            return Err(format!(
                "the coefficient of Y_{j} is not exactly an f64 ([{}, {}])",
                e.lo, e.hi
            ));
        }
        coeffs.push(Dyadic::from_f64(e.lo));
    }
    let rhs = Dyadic::from_f64(row.rhs.hi);
    // Per-spec slopes replace the leaf's (same bounds).
    let own;
    let relax = match &spec.slopes {
        None => relax,
        Some(slopes) => {
            if slopes.len() != layers {
                return Err(format!(
                    "slopes for {} layers, the network has {layers}",
                    slopes.len()
                ));
            }
            let mut v = Vec::with_capacity(layers);
            for (m, s) in slopes.iter().enumerate() {
                let l = &leaf.layers[m];
                if s.len() != l.lower.len() {
                    return Err(format!(
                        "layer {m}: {} slopes for {} neurons",
                        s.len(),
                        l.lower.len()
                    ));
                }
                v.push(
                    relax_layer(&l.lower, &l.upper, s, &phases[m])
                        .map_err(|e| format!("layer {m}: {e}"))?,
                );
            }
            own = v;
            &own
        }
    };
    let mut betas: Vec<Vec<Dyadic>> = (0..layers)
        .map(|m| vec![Dyadic::zero(); net.width(m)])
        .collect();
    for b in &spec.betas {
        let phase = phases
            .get(b.layer)
            .and_then(|l| l.get(b.neuron))
            .copied()
            .flatten()
            .ok_or_else(|| {
                format!(
                    "beta for z{}[{}], which is not split on this leaf",
                    b.layer, b.neuron
                )
            })?;
        if b.beta.is_nan() || b.beta < 0.0 {
            return Err(format!(
                "beta {} for z{}[{}] is negative",
                b.beta, b.layer, b.neuron
            ));
        }
        let v = Dyadic::from_f64(b.beta);
        betas[b.layer][b.neuron] = if phase == Phase::Active { v.neg() } else { v };
    }
    let betas: Vec<Option<Block<BigInt>>> = betas
        .iter()
        .map(|v| {
            v.iter()
                .any(|d| !num_traits::Zero::is_zero(&d.mant))
                .then(|| Block::from_dyadics(v))
        })
        .collect();
    let objective = Row::from_dyadics(&coeffs);
    match &spec.witness {
        Witness::Linear {
            coeffs: a,
            constant,
        } => {
            if a.len() != net.input_dim() {
                return Err(format!(
                    "{} coefficients, the network has {} inputs",
                    a.len(),
                    net.input_dim()
                ));
            }
            let (lam, cst) = back_substitute(p, relax, layers, objective, &betas);
            let derived_const = cst.sub(&rhs);
            let neg_claim: Vec<Dyadic> = a.iter().map(|&v| Dyadic::from_f64(-v)).collect();
            let gap = lam
                .add(&Block::from_dyadics(&neg_claim))
                .min_over_box(x_lo, x_hi)
                .add(&derived_const.sub(&Dyadic::from_f64(*constant)));
            if gap.is_negative() {
                return Err(format!(
                    "the claimed linear bound exceeds the derived one somewhere on the leaf box (by ≈ {:e})",
                    -gap.approx()
                ));
            }
            let min =
                Row::from_dyadics(&a.iter().map(|&v| Dyadic::from_f64(v)).collect::<Vec<_>>())
                    .min_over_box(x_lo, x_hi)
                    .add(&Dyadic::from_f64(*constant));
            if min.cmp(&Dyadic::zero()) != Ordering::Greater {
                return Err(format!(
                    "the claimed linear bound is not positive on the leaf box (its minimum is ≈ {:e})",
                    min.approx()
                ));
            }
        }
        Witness::Ibp { lower } => {
            let m = layers;
            let mu = objective.times(&net.maps[m].weight);
            let (b, bs) = &p.biases[m];
            let (h_lo, h_hi) = if m == 0 {
                (x_lo, x_hi)
            } else {
                (&relax[m - 1].h_lo, &relax[m - 1].h_hi)
            };
            let derived = mu
                .min_over_box(h_lo, h_hi)
                .add(&objective.dot(b, bs.as_ref()))
                .sub(&rhs);
            let claimed = Dyadic::from_f64(*lower);
            if claimed.cmp(&derived) == Ordering::Greater {
                return Err(format!(
                    "the claimed interval bound {lower} is above the derived {:e}",
                    derived.approx()
                ));
            }
            if *lower <= 0.0 {
                return Err(format!(
                    "the claimed interval bound {lower} is not positive"
                ));
            }
        }
    }
    Ok(())
}

/// The outer box of a property case, as a certificate root.
pub fn root_of(case: &Case) -> InputBox {
    InputBox {
        lower: case.input.lower.clone(),
        upper: case.input.upper.clone(),
    }
}
