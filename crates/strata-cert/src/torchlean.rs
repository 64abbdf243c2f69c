//! TorchLean's certificate files (`shared/data/torchlean`, formats in its SOURCES.md), checked
//! exactly: LiRPA IBP output certificates, the alpha-beta-CROWN leaf artifact, the digits
//! margin certificate (and the digits linear model's exact certified count), and the 3D
//! camera-box certificates.

use crate::exact::Dyadic;
use serde_json::Value;
use std::cmp::Ordering;
use std::path::Path;

/// A TorchLean file that cannot be read or is not in a known format.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {msg}")]
pub struct TorchLeanError {
    pub file: String,
    pub msg: String,
}

/// The outcome of checking one TorchLean file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The format family (`lirpa-ibp`, `abcrown-leaf`, `margin`, `box3d`).
    pub family: &'static str,
    pub accepted: bool,
    /// Why it was accepted or rejected.
    pub reason: String,
}

fn accept(family: &'static str, reason: impl Into<String>) -> Outcome {
    Outcome {
        family,
        accepted: true,
        reason: reason.into(),
    }
}

fn reject(family: &'static str, reason: impl Into<String>) -> Outcome {
    Outcome {
        family,
        accepted: false,
        reason: reason.into(),
    }
}

fn read_json(path: &Path) -> Result<Value, TorchLeanError> {
    let err = |msg: String| TorchLeanError {
        file: path.display().to_string(),
        msg,
    };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| err(format!("not JSON: {e}")))
}

/// A finite number, given as a JSON number or a string holding one (TorchLean's "finite
/// float" fields).
fn finite(v: &Value, place: &str) -> Result<f64, String> {
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .ok_or_else(|| format!("{place}: not a number"))?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!("{place}: not finite"))
    }
}

fn floats(v: Option<&Value>, place: &str, len: Option<usize>) -> Result<Vec<f64>, String> {
    let arr = v
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{place}: missing or not an array"))?;
    if let Some(n) = len {
        if arr.len() != n {
            return Err(format!("{place}: expected {n} floats, got {}", arr.len()));
        }
    }
    arr.iter()
        .enumerate()
        .map(|(i, x)| finite(x, &format!("{place}[{i}]")))
        .collect()
}

fn matrix(v: Option<&Value>, place: &str) -> Result<Vec<Vec<f64>>, String> {
    let rows = v
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{place}: missing or not an array"))?;
    rows.iter()
        .enumerate()
        .map(|(i, r)| floats(Some(r), &format!("{place}[{i}]"), None))
        .collect()
}

fn d(v: f64) -> Dyadic {
    Dyadic::from_f64(v)
}

fn le(a: &Dyadic, b: &Dyadic) -> bool {
    a.cmp(b) != Ordering::Greater
}

/// Checks one TorchLean certificate file, recognising its format from its content.
pub fn check_file(path: &Path) -> Result<Outcome, TorchLeanError> {
    let json = read_json(path)?;
    let format = json.get("format").and_then(Value::as_str);
    let outcome = match format {
        Some("abcrown_leaf_artifact_v0_1") => abcrown_leaf(&json),
        Some("torchlean.camera.box3d.v1") => box3d(&json),
        Some("robust_margin_cert_v0_1") => {
            // The margin certificate names its model and data next to it.
            let dir = path.parent().unwrap_or(Path::new("."));
            margin_cert(
                &json,
                &dir.join("digits_linear_weights.json"),
                &dir.join("digits_test.json"),
            )
        }
        None if json.get("result").is_some() => lirpa_ibp(&json),
        None if json.get("domains").is_some() => Ok(reject(
            "abcrown-leaf",
            "no `format` field: a raw alpha-beta-CROWN dump, not a checked artifact (convert it first)",
        )),
        _ => {
            return Err(TorchLeanError {
                file: path.display().to_string(),
                msg: format!("unknown TorchLean certificate format {format:?}"),
            })
        }
    };
    outcome.map_err(|msg| TorchLeanError {
        file: path.display().to_string(),
        msg,
    })
}

/// An exact ReLU network `[(W, b)]` with ReLU between layers, for the LiRPA fixtures.
type Layers = Vec<(Vec<Vec<f64>>, Vec<f64>)>;

/// TorchLean's hard-coded LiRPA graphs (its SOURCES.md §5.3): network and input box.
fn lirpa_graph(name: &str) -> Option<(Layers, Vec<f64>, Vec<f64>)> {
    let gen = |r: usize, c: usize, f: &dyn Fn(usize, usize) -> f64| -> Vec<Vec<f64>> {
        (0..r).map(|i| (0..c).map(|j| f(i, j)).collect()).collect()
    };
    match name {
        "mlp_graph_workflow_v1" => {
            let w1 = gen(4, 3, &|i, j| (1 + i + j) as f64);
            let b1 = (0..4).map(|i| (i + 1) as f64).collect();
            let w2 = gen(2, 4, &|i, j| (2 + i + j) as f64);
            let b2 = (0..2).map(|i| i as f64).collect();
            let c = [1.0, 2.0, 3.0];
            let lo = c.iter().map(|v| v - 1.0).collect();
            let hi = c.iter().map(|v| v + 1.0).collect();
            Some((vec![(w1, b1), (w2, b2)], lo, hi))
        }
        "cnn_graph_workflow_v1" => {
            // The exact 3×3 convolution (stride 1, no padding) of a 1×4×4 input as a matrix.
            let mut conv = vec![vec![0.0; 16]; 4];
            for (o, row) in conv.iter_mut().enumerate() {
                let (oy, ox) = (o / 2, o % 2);
                for a in 0..3 {
                    for b in 0..3 {
                        row[(oy + a) * 4 + ox + b] = (1 + a + b) as f64;
                    }
                }
            }
            let head = gen(2, 4, &|i, j| (2 + i + j) as f64);
            let hb = (0..2).map(|i| i as f64).collect();
            Some((
                vec![(conv, vec![0.0; 4]), (head, hb)],
                vec![1.0 - 0.1; 16],
                vec![1.0 + 0.1; 16],
            ))
        }
        _ => None,
    }
}

/// Exact interval propagation through `layers` (ReLU between them).
fn exact_ibp(layers: &Layers, lo: &[f64], hi: &[f64]) -> (Vec<Dyadic>, Vec<Dyadic>) {
    let mut l: Vec<Dyadic> = lo.iter().map(|&v| d(v)).collect();
    let mut h: Vec<Dyadic> = hi.iter().map(|&v| d(v)).collect();
    for (k, (w, b)) in layers.iter().enumerate() {
        let (mut nl, mut nh) = (Vec::new(), Vec::new());
        for (row, bias) in w.iter().zip(b) {
            let (mut a, mut c) = (d(*bias), d(*bias));
            for (j, &wj) in row.iter().enumerate() {
                let wd = d(wj);
                let (x, y) = if wj >= 0.0 {
                    (&l[j], &h[j])
                } else {
                    (&h[j], &l[j])
                };
                a = a.add(&wd.mul(x));
                c = c.add(&wd.mul(y));
            }
            if k + 1 < layers.len() {
                a = a.max(Dyadic::zero());
                c = c.max(Dyadic::zero());
            }
            nl.push(a);
            nh.push(c);
        }
        l = nl;
        h = nh;
    }
    (l, h)
}

/// LiRPA IBP output certificate: accepted when its interval encloses the exact interval
/// propagation of TorchLean's hard-coded graph (which encloses the true output range).
fn lirpa_ibp(json: &Value) -> Result<Outcome, String> {
    const FAMILY: &str = "lirpa-ibp";
    let name = json.get("graph").and_then(Value::as_str).unwrap_or("");
    let result = json.get("result");
    let lo = floats(result.and_then(|r| r.get("lo")), "result.lo", None)?;
    let hi = floats(
        result.and_then(|r| r.get("hi")),
        "result.hi",
        lo.len().into(),
    )?;
    let Some((layers, xlo, xhi)) = lirpa_graph(name) else {
        return Ok(reject(
            FAMILY,
            format!(
                "graph {name:?} uses softmax, sigmoid, tanh or layer norm: not piecewise linear, so \
                 the exact checker cannot bound it (only the ReLU graphs mlp and cnn are checkable)"
            ),
        ));
    };
    let (el, eh) = exact_ibp(&layers, &xlo, &xhi);
    if el.len() != lo.len() {
        return Ok(reject(
            FAMILY,
            format!("{} outputs, the graph has {}", lo.len(), el.len()),
        ));
    }
    for i in 0..lo.len() {
        if !le(&d(lo[i]), &el[i]) || !le(&eh[i], &d(hi[i])) {
            return Ok(reject(
                FAMILY,
                format!(
                    "output {i}: [{}, {}] does not enclose the exact interval [{:e}, {:e}]",
                    lo[i],
                    hi[i],
                    el[i].approx(),
                    eh[i].approx()
                ),
            ));
        }
    }
    Ok(accept(
        FAMILY,
        format!(
            "{name}: all {} output intervals enclose the exact interval propagation over the input box",
            lo.len()
        ),
    ))
}

/// An endpoint box `{lo, hi, dim?}` (no `center`/`eps`), lo ≤ hi.
fn endpoint_box(v: Option<&Value>, place: &str, n: usize) -> Result<(Vec<f64>, Vec<f64>), String> {
    let v = v.ok_or_else(|| format!("{place}: missing"))?;
    if v.get("center").is_some() || v.get("eps").is_some() {
        return Err(format!("{place}: must be given by endpoints lo/hi only"));
    }
    let lo = floats(v.get("lo"), &format!("{place}.lo"), Some(n))?;
    let hi = floats(v.get("hi"), &format!("{place}.hi"), Some(n))?;
    if let Some(dim) = v.get("dim") {
        if dim.as_u64() != Some(n as u64) {
            return Err(format!("{place}.dim: must equal {n}"));
        }
    }
    if let Some(i) = (0..n).find(|&i| lo[i] > hi[i]) {
        return Err(format!("{place}: lo[{i}] > hi[{i}]"));
    }
    Ok((lo, hi))
}

/// Whether the union of `leaves` covers `root` (grid of all leaf boundaries; `None` when the
/// grid would be too large to enumerate).
fn boxes_cover(root: &(Vec<f64>, Vec<f64>), leaves: &[(Vec<f64>, Vec<f64>)]) -> Option<bool> {
    let n = root.0.len();
    let mut cuts: Vec<Vec<f64>> = Vec::with_capacity(n);
    let mut cells = 1usize;
    for i in 0..n {
        let mut c: Vec<f64> = vec![root.0[i], root.1[i]];
        for l in leaves {
            for v in [l.0[i], l.1[i]] {
                if v > root.0[i] && v < root.1[i] {
                    c.push(v);
                }
            }
        }
        c.sort_by(f64::total_cmp);
        c.dedup();
        cells = cells.checked_mul(c.len().saturating_sub(1).max(1))?;
        cuts.push(c);
    }
    if cells > 1_000_000 {
        return None;
    }
    // Each grid cell's midpoint must lie in some leaf (cells are either inside or outside each box).
    let mut idx = vec![0usize; n];
    loop {
        let mid: Vec<f64> = (0..n)
            .map(|i| {
                let c = &cuts[i];
                if c.len() < 2 {
                    c[0]
                } else {
                    c[idx[i]] + (c[idx[i] + 1] - c[idx[i]]) / 2.0
                }
            })
            .collect();
        if !leaves
            .iter()
            .any(|l| (0..n).all(|i| l.0[i] <= mid[i] && mid[i] <= l.1[i]))
        {
            return Some(false);
        }
        let mut i = 0;
        loop {
            if i == n {
                return Some(true);
            }
            idx[i] += 1;
            if idx[i] + 1 < cuts[i].len() {
                break;
            }
            idx[i] = 0;
            i += 1;
        }
    }
}

/// alpha-beta-CROWN leaf artifact: TorchLean's rules, plus the coverage of the root box that
/// TorchLean does not check. The `lb` values are claims (the artifact names no network).
fn abcrown_leaf(json: &Value) -> Result<Outcome, String> {
    const FAMILY: &str = "abcrown-leaf";
    let n = json
        .get("input_dim")
        .and_then(Value::as_u64)
        .ok_or("input_dim: not a natural")? as usize;
    let root = endpoint_box(json.get("root"), "root", n)?;
    let leaves = json
        .get("leaves")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or("leaves: missing or empty")?;
    let mut boxes = Vec::new();
    for (k, leaf) in leaves.iter().enumerate() {
        let place = format!("leaves[{k}]");
        let b = endpoint_box(Some(leaf), &place, n)?;
        let lb = floats(leaf.get("lb"), &format!("{place}.lb"), None)?;
        let th = floats(
            leaf.get("threshold"),
            &format!("{place}.threshold"),
            Some(lb.len()),
        )?;
        if (0..n).any(|i| b.0[i] < root.0[i] || b.1[i] > root.1[i]) {
            return Ok(reject(
                FAMILY,
                format!("{place}: the box is not inside the root"),
            ));
        }
        let w = match leaf.get("witness_idx") {
            Some(v) => Some(
                v.as_u64()
                    .ok_or(format!("{place}.witness_idx: not a natural"))? as usize,
            ),
            None => None,
        };
        let ok = match w {
            Some(w) if w >= lb.len() => {
                return Ok(reject(
                    FAMILY,
                    format!("{place}: witness_idx {w} out of range"),
                ))
            }
            Some(w) => th[w] < lb[w],
            None => (0..lb.len()).any(|i| th[i] < lb[i]),
        };
        if !ok {
            return Ok(reject(
                FAMILY,
                format!("{place}: no spec with threshold < lb"),
            ));
        }
        if let Some(m) = leaf.get("witness_margin") {
            let m = finite(m, &format!("{place}.witness_margin"))?;
            let w = w.ok_or(format!("{place}: witness_margin without witness_idx"))?;
            if ((lb[w] - th[w]) - m).abs() > 1e-6 {
                return Ok(reject(
                    FAMILY,
                    format!("{place}: witness_margin {m} ≠ lb − threshold"),
                ));
            }
        }
        boxes.push(b);
    }
    match boxes_cover(&root, &boxes) {
        Some(true) => Ok(accept(
            FAMILY,
            format!(
                "{} leaves inside and covering the root, each with lb > threshold; the lower bounds \
                 are claims (the artifact names no network, so they are not re-derived)",
                boxes.len()
            ),
        )),
        Some(false) => Ok(reject(FAMILY, "the leaves do not cover the root box")),
        None => Ok(reject(FAMILY, "too many leaf boundaries to check coverage")),
    }
}

/// 3D camera-box certificate, decided exactly: `u = r0/z` is compared as `r0` against `z·bound`
/// (z > 0), with every product and sum exact.
fn box3d(json: &Value) -> Result<Outcome, String> {
    const FAMILY: &str = "box3d";
    let num = |k: &str| {
        json.get(k)
            .ok_or(format!("{k}: missing"))
            .and_then(|v| finite(v, k))
    };
    let (w, h, tol) = (num("image_width")?, num("image_height")?, num("tol")?);
    let p = floats(json.get("camera_P"), "camera_P", Some(12))?;
    let corners = floats(json.get("corners3d"), "corners3d", Some(24))?;
    let bb = floats(json.get("bbox2d"), "bbox2d", Some(4))?;
    if w <= 0.0 || h <= 0.0 || tol < 0.0 {
        return Ok(reject(
            FAMILY,
            "image size must be positive and tol non-negative",
        ));
    }
    let (xmin, ymin, xmax, ymax) = (bb[0], bb[1], bb[2], bb[3]);
    if !(xmin <= xmax && ymin <= ymax && 0.0 <= xmin && xmax <= w && 0.0 <= ymin && ymax <= h) {
        return Ok(reject(
            FAMILY,
            format!("bbox2d {bb:?} is not an ordered box inside the image"),
        ));
    }
    let (tol, w, h) = (d(tol), d(w), d(h));
    for c in 0..8 {
        let x = [
            d(corners[3 * c]),
            d(corners[3 * c + 1]),
            d(corners[3 * c + 2]),
            d(1.0),
        ];
        let r: Vec<Dyadic> = (0..3)
            .map(|k| {
                (0..4).fold(Dyadic::zero(), |acc, j| {
                    acc.add(&d(p[4 * k + j]).mul(&x[j]))
                })
            })
            .collect();
        let z = &r[2];
        if z.cmp(&Dyadic::zero()) != Ordering::Greater {
            return Ok(reject(
                FAMILY,
                format!("corner {c}: depth {:e} is not positive", z.approx()),
            ));
        }
        // lo ≤ r/z ≤ hi  ⇔  lo·z ≤ r ≤ hi·z  (z > 0).
        let within = |r: &Dyadic, lo: &Dyadic, hi: &Dyadic| le(&lo.mul(z), r) && le(r, &hi.mul(z));
        let zero = Dyadic::zero();
        if !within(&r[0], &zero, &w) || !within(&r[1], &zero, &h) {
            return Ok(reject(
                FAMILY,
                format!("corner {c}: projects outside the image"),
            ));
        }
        let (bx0, bx1) = (d(xmin).sub(&tol), d(xmax).add(&tol));
        let (by0, by1) = (d(ymin).sub(&tol), d(ymax).add(&tol));
        if !within(&r[0], &bx0, &bx1) || !within(&r[1], &by0, &by1) {
            let (u, v) = (r[0].approx() / z.approx(), r[1].approx() / z.approx());
            return Ok(reject(
                FAMILY,
                format!("corner {c}: projection ({u}, {v}) is outside bbox2d {bb:?} (enclosure)"),
            ));
        }
    }
    Ok(accept(
        FAMILY,
        "all 8 corners have positive depth and project inside the image and bbox2d (exact)",
    ))
}

/// The digits linear model `y = W·x + b` and its test set.
struct Digits {
    w: Vec<Vec<Dyadic>>,
    b: Vec<Dyadic>,
    examples: Vec<(Vec<f64>, usize)>,
}

fn load_digits(weights: &Path, dataset: &Path) -> Result<Digits, String> {
    let wj = read_json(weights).map_err(|e| e.to_string())?;
    let dj = read_json(dataset).map_err(|e| e.to_string())?;
    let w = matrix(wj.get("layers.0.weight"), "layers.0.weight")?;
    let b = floats(wj.get("layers.0.bias"), "layers.0.bias", Some(w.len()))?;
    let n = w.first().map_or(0, Vec::len);
    let mut examples = Vec::new();
    for (i, e) in dj
        .get("examples")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let x = floats(e.get("x"), &format!("examples[{i}].x"), Some(n))?;
        let y = e
            .get("y")
            .and_then(Value::as_u64)
            .ok_or(format!("examples[{i}].y: not a natural"))? as usize;
        examples.push((x, y));
    }
    Ok(Digits {
        w: w.iter()
            .map(|r| r.iter().map(|&v| d(v)).collect())
            .collect(),
        b: b.iter().map(|&v| d(v)).collect(),
        examples,
    })
}

/// A decimal `eps` as `p / q` with integers (`q` a power of ten).
fn decimal(eps: &str) -> Option<(i64, i64)> {
    let (int, frac) = eps.trim().split_once('.').unwrap_or((eps.trim(), ""));
    if frac.len() > 15 || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let q = 10i64.checked_pow(frac.len() as u32)?;
    let p = format!("{int}{frac}").parse::<i64>().ok()?;
    Some((p, q))
}

/// Per example: the box `clamp([x − eps, x + eps], 0, 1)` scaled by `q` (exact dyadics).
fn scaled_box(x: &[f64], p: i64, q: i64) -> (Vec<Dyadic>, Vec<Dyadic>) {
    let (p, q) = (Dyadic::from_int(p), Dyadic::from_int(q));
    let lo = x
        .iter()
        .map(|&v| d(v).mul(&q).sub(&p).max(Dyadic::zero()))
        .collect();
    let hi = x
        .iter()
        .map(|&v| d(v).mul(&q).add(&p).min(q.clone()))
        .collect();
    (lo, hi)
}

/// `q · min over the scaled box of (row · x + bias)`.
fn scaled_min(row: &[Dyadic], bias: &Dyadic, lo: &[Dyadic], hi: &[Dyadic], q: i64) -> Dyadic {
    row.iter()
        .enumerate()
        .fold(bias.mul(&Dyadic::from_int(q)), |acc, (i, a)| {
            acc.add(&a.mul(if a.is_negative() { &hi[i] } else { &lo[i] }))
        })
}

/// The digits linear model's exact robustness counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigitsReport {
    pub examples: usize,
    /// Examples whose exact logits put the label strictly first.
    pub nominal: usize,
    /// Examples whose exact margin `min over the box of (y_label − y_j)` is positive for every
    /// `j ≠ label`.
    pub certified: usize,
}

/// Counts the digits linear model's certified examples exactly: L∞ ball of radius `eps` (a
/// decimal, e.g. "0.02", taken as the exact rational) clamped to [0, 1], as TorchLean does.
pub fn digits_certified(
    weights: &Path,
    dataset: &Path,
    eps: &str,
) -> Result<DigitsReport, TorchLeanError> {
    let err = |msg: String| TorchLeanError {
        file: weights.display().to_string(),
        msg,
    };
    let (p, q) = decimal(eps).ok_or_else(|| err(format!("eps {eps:?} is not a plain decimal")))?;
    let m = load_digits(weights, dataset).map_err(err)?;
    let classes = m.w.len();
    let mut report = DigitsReport {
        examples: m.examples.len(),
        nominal: 0,
        certified: 0,
    };
    for (x, label) in &m.examples {
        if *label >= classes {
            continue;
        }
        let logit = |c: usize| {
            m.w[c]
                .iter()
                .zip(x)
                .fold(m.b[c].clone(), |acc, (a, &v)| acc.add(&a.mul(&d(v))))
        };
        let own = logit(*label);
        if (0..classes).all(|c| c == *label || own.cmp(&logit(c)) == Ordering::Greater) {
            report.nominal += 1;
        }
        let (lo, hi) = scaled_box(x, p, q);
        let certified = (0..classes).filter(|&c| c != *label).all(|c| {
            let row: Vec<Dyadic> = m.w[*label]
                .iter()
                .zip(&m.w[c])
                .map(|(a, b)| a.sub(b))
                .collect();
            let bias = m.b[*label].sub(&m.b[c]);
            scaled_min(&row, &bias, &lo, &hi, q).cmp(&Dyadic::zero()) == Ordering::Greater
        });
        report.certified += usize::from(certified);
    }
    Ok(report)
}

/// The margin certificate: TorchLean's consistency rules, plus Strata's soundness check that
/// every claimed logit interval encloses the exact logit range over the example's box.
fn margin_cert(json: &Value, weights: &Path, dataset: &Path) -> Result<Outcome, String> {
    const FAMILY: &str = "margin";
    let classes = json
        .get("num_classes")
        .and_then(Value::as_u64)
        .ok_or("num_classes: not a natural")? as usize;
    let eps = json
        .get("eps")
        .and_then(Value::as_f64)
        .ok_or("eps: missing")?;
    let examples = json
        .get("examples")
        .and_then(Value::as_array)
        .ok_or("examples: missing")?;
    let model = load_digits(weights, dataset).ok();
    // `eps` is a JSON number; its shortest decimal form is the intended exact rational.
    let (p, q) = decimal(&format!("{eps}")).ok_or(format!("eps {eps}: not a plain decimal"))?;
    let (mut certified_ok, mut nominal_ok) = (0u64, 0u64);
    let (mut misses, mut worst_miss, mut first_miss, mut claims_hold) = (0u64, 0f64, None, 0u64);
    for (i, e) in examples.iter().enumerate() {
        let place = format!("examples[{i}]");
        let label = e
            .get("label")
            .and_then(Value::as_u64)
            .ok_or(format!("{place}.label: not a natural"))? as usize;
        let lo = floats(
            e.get("logits_lo"),
            &format!("{place}.logits_lo"),
            Some(classes),
        )?;
        let hi = floats(
            e.get("logits_hi"),
            &format!("{place}.logits_hi"),
            Some(classes),
        )?;
        if let Some(c) = (0..classes).find(|&c| lo[c] > hi[c]) {
            return Ok(reject(
                FAMILY,
                format!("{place}: logits_lo[{c}] > logits_hi[{c}]"),
            ));
        }
        let certified = label < classes && (0..classes).all(|c| c == label || lo[label] > hi[c]);
        if let Some(flag) = e.get("certified") {
            if flag.as_bool() != Some(certified) {
                return Ok(reject(
                    FAMILY,
                    format!("{place}: certified flag {flag} but the intervals say {certified}"),
                ));
            }
        }
        certified_ok += u64::from(certified);
        if e.get("pred").and_then(Value::as_u64) == Some(label as u64) {
            nominal_ok += 1;
        }
        if let Some(m) = &model {
            let id = e.get("id").and_then(Value::as_u64).unwrap_or(i as u64) as usize;
            let Some((x, _)) = m.examples.get(id) else {
                return Ok(reject(
                    FAMILY,
                    format!("{place}: example id {id} is not in the dataset"),
                ));
            };
            let (blo, bhi) = scaled_box(x, p, q);
            let qd = Dyadic::from_int(q);
            for c in 0..classes {
                let neg: Vec<Dyadic> = m.w[c].iter().map(Dyadic::neg).collect();
                let min = scaled_min(&m.w[c], &m.b[c], &blo, &bhi, q);
                let max = scaled_min(&neg, &m.b[c].neg(), &blo, &bhi, q).neg();
                // Gaps (scaled by q) by which the claimed interval misses the exact range.
                for gap in [d(lo[c]).mul(&qd).sub(&min), max.sub(&d(hi[c]).mul(&qd))] {
                    if gap.cmp(&Dyadic::zero()) == Ordering::Greater {
                        misses += 1;
                        worst_miss = worst_miss.max(gap.approx() / q as f64);
                        first_miss.get_or_insert(format!("{place}, class {c}"));
                    }
                }
            }
            if certified {
                let holds = (0..classes).filter(|&c| c != label).all(|c| {
                    let row: Vec<Dyadic> = m.w[label]
                        .iter()
                        .zip(&m.w[c])
                        .map(|(a, b)| a.sub(b))
                        .collect();
                    let bias = m.b[label].sub(&m.b[c]);
                    scaled_min(&row, &bias, &blo, &bhi, q).cmp(&Dyadic::zero()) == Ordering::Greater
                });
                claims_hold += u64::from(holds);
            }
        }
    }
    let summary = json.get("summary");
    for (key, value) in [
        ("examples", examples.len() as u64),
        ("nominal_ok", nominal_ok),
        ("certified_ok", certified_ok),
    ] {
        if let Some(v) = summary.and_then(|s| s.get(key)) {
            if v.as_u64() != Some(value) {
                return Ok(reject(
                    FAMILY,
                    format!("summary.{key} is {v}, recomputed {value}"),
                ));
            }
        }
    }
    let head = format!(
        "{} examples, {certified_ok} certified, {nominal_ok} nominally correct, flags and summary consistent",
        examples.len()
    );
    if model.is_none() {
        return Ok(accept(
            FAMILY,
            format!("{head}; the model files are absent, so the intervals were not re-derived"),
        ));
    }
    if let Some(at) = first_miss {
        return Ok(reject(
            FAMILY,
            format!(
                "{head}, but {misses} logit interval ends miss the exact range over the box (first at \
                 {at}, by up to {worst_miss:e}: float bounds without outward rounding); \
                 {claims_hold} of the {certified_ok} certified claims hold exactly"
            ),
        ));
    }
    Ok(accept(
        FAMILY,
        format!("{head}; every logit interval encloses the exact logit range over its box"),
    ))
}

/// Checks every TorchLean certificate file this crate understands under `dir` (TorchLean's
/// layout), in a fixed order: `(relative path, outcome or error)`.
pub fn check_dir(dir: &Path) -> Vec<(String, Result<Outcome, TorchLeanError>)> {
    const FILES: [&str; 15] = [
        "NN/Examples/Verification/LiRPA/mlp_cert.json",
        "NN/Examples/Verification/LiRPA/cnn_cert.json",
        "NN/Examples/Verification/LiRPA/attention_softmax_cert.json",
        "NN/Examples/Verification/LiRPA/gru_gate_cert.json",
        "NN/Examples/Verification/LiRPA/transformer_encoder_cert.json",
        "NN/Examples/Verification/AbCrown/sample_abcrown_leaf_artifact_v0_1.json",
        "NN/Examples/Verification/AbCrown/example_raw_leaf_dump.json",
        "NN/Examples/Verification/Robustness/digits_linear_margin_cert.json",
        "NN/Verification/Geometry3D/check_box3d_camera_cert.json",
        "_derived/geometry3d_bad/negative_depth.json",
        "_derived/geometry3d_bad/wrong_principal_point.json",
        "_derived/geometry3d_bad/bad_bbox_enclosure.json",
        "_derived/geometry3d_bad/swapped_bbox_axes.json",
        "_derived/geometry3d_bad/malformed_corners.json",
        "_derived/geometry3d_bad/malformed_camera.json",
    ];
    FILES
        .iter()
        .map(|f| (f.to_string(), check_file(&dir.join(f))))
        .collect()
}
