//! Complete verification for low-dimensional inputs: a sampling attack, then input-splitting
//! branch and bound with CROWN bounds on each region.
//!
//! A region is proved when every conjunction of the unsafe set has a row `c·y ≤ d` whose CROWN
//! lower bound of `c·y` exceeds `d` (the conjunction cannot hold anywhere in the region). A
//! counterexample is reported only after it passes two re-executions: natively
//! (`strata_ir::eval::run` in the input's dtype) and in the interval layer on the same point (an
//! enclosure of the exact real output), each satisfying some conjunction for every value in its
//! enclosure, with the input inside the exact box.

use crate::bab::{BabSettings, CaseOutcome, Context, Spec};
use crate::bounds::{Crown, Region};
use crate::layered::LayeredNet;
use crate::vnnlib::{Case, Conjunction, Property};
use crate::VerifyError;
use std::time::{Duration, Instant};
use strata_float::interval::Interval;
use strata_ir::eval::{run, ExecConfig};
use strata_ir::interpret::{interpret_values, Array, Value};
use strata_ir::layer::IntervalLayer;
use strata_ir::{Graph, ParamStore};
use strata_tensor::{DType, ReduceOrder, Tensor};

/// A checked counterexample: the input (values of the input dtype, as `f64`) and the native
/// output.
#[derive(Clone, Debug, PartialEq)]
pub struct Counterexample {
    pub input: Vec<f64>,
    pub output: Vec<f64>,
}

/// The answer for a property.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// The property holds: no input of any box reaches the unsafe set.
    Unsat,
    /// A re-executed counterexample.
    Sat(Counterexample),
    /// Neither within the limits; the reason.
    Unknown(String),
}

/// Limits and knobs.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Regions bounded by branch and bound before giving up.
    pub max_regions: usize,
    /// Random points tried by the attack before branch and bound.
    pub samples: usize,
    pub seed: u64,
    pub timeout: Duration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            max_regions: 200_000,
            samples: 2_000,
            seed: 0x5eed,
            timeout: Duration::from_secs(116),
        }
    }
}

/// A small deterministic generator (xorshift64*).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Re-executes `x` natively and exactly; `Some` when both satisfy some conjunction.
pub(crate) fn check_point(
    graph: &Graph,
    params: &ParamStore,
    case: &Case,
    x: &[f64],
) -> Result<Option<Counterexample>, VerifyError> {
    if !case.input.contains(x) {
        return Ok(None);
    }
    let input = graph
        .inputs()
        .next()
        .ok_or_else(|| VerifyError::Mismatch("the graph has no input".into()))?;
    let tensor = match input.dtype {
        DType::F32 => Tensor::from_vec(
            x.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            input.shape.clone(),
        ),
        _ => Tensor::from_vec(x.to_vec(), input.shape.clone()),
    }
    .map_err(|e| VerifyError::Mismatch(e.to_string()))?;
    let outs = run(graph, params, &[tensor], &ExecConfig::sequential())?;
    let y = outs
        .first()
        .ok_or_else(|| VerifyError::Mismatch("the graph has no output".into()))?
        .to_vec_f64();
    let native_hit = case
        .unsafe_set
        .iter()
        .any(|conj| conj.iter().all(|c| c.surely_holds(&y)));
    if !native_hit {
        return Ok(None);
    }
    // Exact real semantics on the same point: the interval layer's enclosure.
    let data = x.iter().map(|&v| Interval::point(v).ok()).collect();
    let values = interpret_values(
        graph,
        params,
        &[Value::Float(Array::new(input.shape.clone(), data))],
        &IntervalLayer,
        ReduceOrder::Sequential,
    )?;
    let out = graph.outputs[0];
    let Some(Some(Value::Float(a))) = values.get(out) else {
        return Ok(None);
    };
    let Some(enc): Option<Vec<Interval<f64>>> = a.data.iter().copied().collect() else {
        return Ok(None);
    };
    let exact_hit = case.unsafe_set.iter().any(|conj| {
        conj.iter().all(|c| {
            // sup over the enclosure of c·y ≤ d_lo.
            let mut hi = 0.0f64;
            for (coef, e) in c.coeffs.iter().zip(&enc) {
                let cands = [
                    coef.lo * e.lo(),
                    coef.lo * e.hi(),
                    coef.hi * e.lo(),
                    coef.hi * e.hi(),
                ];
                let m = cands.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                hi = (hi + m.next_up()).next_up();
            }
            hi <= c.rhs.lo
        })
    });
    Ok(exact_hit.then(|| Counterexample {
        input: x.to_vec(),
        output: y,
    }))
}

/// A point of the input dtype inside the inner box, near `target`.
pub(crate) fn representable(case: &Case, target: &[f64], f32_input: bool) -> Vec<f64> {
    let b = &case.input;
    target
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let (lo, hi) = (b.inner_lower[i], b.inner_upper[i]);
            let t = t.clamp(lo, hi);
            if !f32_input {
                return t;
            }
            let mut v = t as f32;
            if f64::from(v) < lo {
                v = v.next_up();
            }
            if f64::from(v) > hi {
                v = v.next_down();
            }
            f64::from(v)
        })
        .collect()
}

/// Whether CROWN refutes every conjunction over the region.
fn refuted(crown: &Crown, out: usize, unsafe_set: &[Conjunction]) -> Result<bool, VerifyError> {
    for conj in unsafe_set {
        if conj.is_empty() {
            return Ok(false);
        }
        let rows: Vec<_> = conj.iter().map(|c| c.coeffs.clone()).collect();
        let low = crown.lower_bounds(out, &rows)?;
        if !low.iter().zip(conj).any(|(l, c)| *l > c.rhs.hi) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Decides `property` for the network: `Unsat` (proved), `Sat` (a re-executed counterexample)
/// or `Unknown` (limits reached).
///
/// Networks that lower to affine layers and ReLUs ([`LayeredNet`]) go through the dense
/// engine (PGD attack, CROWN / alpha-CROWN, input or ReLU splitting on all cores); other
/// graphs through the general IR path (sampling attack, input splitting with [`Crown`]).
pub fn verify(
    graph: &Graph,
    params: &ParamStore,
    property: &Property,
    options: &VerifyOptions,
) -> Result<Verdict, VerifyError> {
    Ok(decide_property(graph, params, property, options, false)?.0)
}

/// Why an `unsat` verdict came without a certificate.
pub const NO_CERTIFICATE: &str = "certificates are written only by the dense engine (graphs that \
     lower to affine layers and ReLUs, with exact-f64 property coefficients and non-empty boxes)";

/// [`verify`], and for an `unsat` verdict a [`strata_cert::Certificate`] (format
/// `strata.bab-certificate.v1`) naming `network` and `property_file`: every refuted
/// branch-and-bound leaf with its box, split path, per-layer bounds and slopes, and a linear
/// lower bound per unsafe disjunct, for `strata_cert::check_certificate` to re-check exactly.
///
/// Certifying makes every leaf refute the whole unsafe set with its own bounds (no inherited
/// refutations or bounds), so it can need more domains than [`verify`]. `Err(reason)` in place
/// of the certificate when the verdict is not `unsat` or the proof could not be written as a
/// certificate ([`NO_CERTIFICATE`]).
pub fn verify_with_certificate(
    graph: &Graph,
    params: &ParamStore,
    property: &Property,
    options: &VerifyOptions,
    network: strata_cert::FileRef,
    property_file: strata_cert::FileRef,
) -> Result<(Verdict, Result<strata_cert::Certificate, String>), VerifyError> {
    let (verdict, cases) = decide_property(graph, params, property, options, true)?;
    let certificate = match (&verdict, cases) {
        (Verdict::Unsat, Some(cases)) => {
            Ok(strata_cert::Certificate::new(network, property_file, cases))
        }
        (Verdict::Unsat, None) => Err(NO_CERTIFICATE.to_string()),
        _ => Err("the verdict is not unsat".to_string()),
    };
    Ok((verdict, certificate))
}

/// The verdict, and when `certify` and every case was proved by the dense engine, one
/// certificate case proof per property case.
fn decide_property(
    graph: &Graph,
    params: &ParamStore,
    property: &Property,
    options: &VerifyOptions,
    certify: bool,
) -> Result<(Verdict, Option<Vec<strata_cert::CaseProof>>), VerifyError> {
    let start = Instant::now();
    let input = graph
        .inputs()
        .next()
        .ok_or_else(|| VerifyError::Mismatch("the graph has no input".into()))?;
    if input.shape.numel() != property.n_inputs {
        return Err(VerifyError::Mismatch(format!(
            "the property declares {} inputs, the network input {} has {} elements",
            property.n_inputs,
            input.node_ref(),
            input.shape.numel()
        )));
    }
    let out = *graph
        .outputs
        .first()
        .ok_or_else(|| VerifyError::Mismatch("the graph has no output".into()))?;
    if graph.nodes[out].shape.numel() != property.n_outputs {
        return Err(VerifyError::Mismatch(format!(
            "the property declares {} outputs, the network output has {} elements",
            property.n_outputs,
            graph.nodes[out].shape.numel()
        )));
    }
    let f32_input = input.dtype == DType::F32;
    let mut rng = Rng(options.seed | 1);
    let net = LayeredNet::lower(graph, params).ok();
    let mut unknown = None;
    let mut proofs = certify.then(Vec::new);
    for case in &property.cases {
        if case.input.is_empty() {
            proofs = None;
            continue;
        }
        let spec = net
            .as_ref()
            .and_then(|n| Spec::new(case, n.n_outputs()).map(|s| (n, s)));
        let outcome = match spec {
            Some((net, spec)) => {
                let ctx = Context {
                    graph,
                    params,
                    net,
                    f32_input,
                    deadline: start + options.timeout,
                };
                let settings = BabSettings {
                    certify,
                    ..BabSettings::for_net(net, options.max_regions)
                };
                ctx.decide(case, &spec, &settings, &mut rng)?
            }
            None => decide_general(graph, params, case, options, start, f32_input, &mut rng)?,
        };
        match outcome {
            CaseOutcome::Proved(leaves) => {
                proofs = proofs.zip(leaves).map(|(mut proofs, leaves)| {
                    proofs.push(strata_cert::CaseProof {
                        root: strata_cert::root_of(case),
                        leaves,
                    });
                    proofs
                });
            }
            CaseOutcome::Sat(cx) => return Ok((Verdict::Sat(cx), None)),
            CaseOutcome::Unknown(why) => unknown = Some(why),
        }
    }
    Ok(match unknown {
        Some(why) => (Verdict::Unknown(why), None),
        None => (Verdict::Unsat, proofs),
    })
}

/// One case on the general IR path: a sampling attack, then input splitting with CROWN.
fn decide_general(
    graph: &Graph,
    params: &ParamStore,
    case: &Case,
    options: &VerifyOptions,
    start: Instant,
    f32_input: bool,
    rng: &mut Rng,
) -> Result<CaseOutcome, VerifyError> {
    let out = graph.outputs[0];
    let n = case.input.lower.len();
    for s in 0..options.samples {
        let target: Vec<f64> = (0..n)
            .map(|i| {
                let (l, u) = (case.input.inner_lower[i], case.input.inner_upper[i]);
                if s == 0 {
                    0.5 * (l + u)
                } else {
                    l + rng.unit() * (u - l)
                }
            })
            .collect();
        let x = representable(case, &target, f32_input);
        if let Some(cx) = check_point(graph, params, case, &x)? {
            return Ok(CaseOutcome::Sat(cx));
        }
    }
    let root = Region::new(case.input.lower.clone(), case.input.upper.clone());
    let root_width: Vec<f64> = (0..n).map(|i| root.width(i).max(1e-300)).collect();
    let mut stack = vec![root];
    let mut regions = 0usize;
    while let Some(region) = stack.pop() {
        regions += 1;
        if regions > options.max_regions {
            return Ok(CaseOutcome::Unknown(format!(
                "more than {} regions",
                options.max_regions
            )));
        }
        if start.elapsed() > options.timeout {
            return Ok(CaseOutcome::Unknown("timeout".into()));
        }
        let crown = Crown::new(graph, params, &region)?;
        if refuted(&crown, out, &case.unsafe_set)? {
            continue;
        }
        let centre: Vec<f64> = (0..n)
            .map(|i| 0.5 * (region.lower[i] + region.upper[i]))
            .collect();
        let x = representable(case, &centre, f32_input);
        if let Some(cx) = check_point(graph, params, case, &x)? {
            return Ok(CaseOutcome::Sat(cx));
        }
        // Split the widest dimension relative to the root box.
        let (dim, _) = (0..n)
            .map(|i| (i, region.width(i) / root_width[i]))
            .fold((0, -1.0), |best, c| if c.1 > best.1 { c } else { best });
        let mid = 0.5 * (region.lower[dim] + region.upper[dim]);
        if !(region.lower[dim] < mid && mid < region.upper[dim]) {
            return Ok(CaseOutcome::Unknown(
                "a region cannot be split further at f64 resolution".into(),
            ));
        }
        let mut left = region.clone();
        left.upper[dim] = mid;
        let mut right = region;
        right.lower[dim] = mid;
        stack.push(left);
        stack.push(right);
    }
    Ok(CaseOutcome::Proved(None))
}
