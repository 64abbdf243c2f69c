//! Margin transfer: does an `unsat` verdict, proved for the exact real network, also hold for
//! the native float32 execution?
//!
//! Every real input of the property's box lies in some non-empty leaf of the certificate, where
//! each disjunct of the unsafe set has a refuted row `c·y − d ≥ m > 0` (the leaf's witness). The
//! native float32 output at that input is within `err` (strata-approx's forward bound over the
//! leaf's box) of the real one, so `c·y' − d ≥ m − Σ|c_k|·err_k`: the verdict holds for float32
//! when every leaf's margin exceeds its budget. Empty leaves (a contradictory ReLU split) hold
//! no real input and need nothing.

use crate::bounds::input_node;
use crate::vnnlib::Property;
use crate::VerifyError;
use strata_approx::{forward_bounds, spec_budget, Analysis, MarginTransfer, Region};
use strata_cert::{Certificate, InputBox, Witness};
use strata_ir::{Graph, ParamStore};
use strata_tensor::Tensor;

/// The outcome over all leaves: whether each margin beats its budget, and the leaf and row with
/// the least slack.
#[derive(Clone, Copy, Debug)]
pub struct Float32Transfer {
    pub holds: bool,
    /// Refuted rows checked (one per disjunct per non-empty leaf).
    pub rows: usize,
    pub tightest: MarginTransfer,
}

fn approx_error(e: strata_approx::ApproxError) -> VerifyError {
    VerifyError::Mismatch(format!("float32 error bound: {e}"))
}

/// A lower bound of the witness over the leaf box, every step rounded down.
fn witness_lower(witness: &Witness, leaf: &InputBox) -> f64 {
    match witness {
        Witness::Ibp { lower } => *lower,
        Witness::Linear { coeffs, constant } => (coeffs.iter().zip(&leaf.lower).zip(&leaf.upper))
            .fold(*constant, |acc, ((c, l), u)| {
                let term = (c * l).min(c * u).next_down();
                (acc + term).next_down()
            }),
    }
}

/// The leaf box as float32 tensors of the input's shape: rounding each end to nearest keeps
/// every float32 value of the real box inside.
fn float32_box(graph: &Graph, leaf: &InputBox) -> Result<(Tensor, Tensor), VerifyError> {
    let dims = input_node(graph)?.shape.dims().to_vec();
    let tensor = |v: &[f64]| {
        Tensor::from_vec(
            v.iter().map(|&x| x as f32).collect::<Vec<_>>(),
            dims.clone(),
        )
        .map_err(|e| VerifyError::Mismatch(format!("leaf box: {e}")))
    };
    Ok((tensor(&leaf.lower)?, tensor(&leaf.upper)?))
}

/// Checks every leaf of `certificate` (a proof of `property` for `graph`) against the float32
/// error budget of its refuted rows.
pub fn float32_transfer(
    graph: &Graph,
    params: &ParamStore,
    property: &Property,
    certificate: &Certificate,
) -> Result<Float32Transfer, VerifyError> {
    let mut outcome: Option<Float32Transfer> = None;
    for (case, proof) in property.cases.iter().zip(&certificate.cases) {
        for leaf in proof.leaves.iter().filter(|l| !l.specs.is_empty()) {
            let (lo, hi) = float32_box(graph, &leaf.input_box)?;
            let region = Region::Box {
                lo: vec![lo],
                hi: vec![hi],
            };
            let bounds = forward_bounds(graph, params, &region, &Analysis::default())
                .map_err(approx_error)?;
            let err = bounds.output_err(0).map_err(approx_error)?.to_vec_f64();
            for spec in &leaf.specs {
                let row = case
                    .unsafe_set
                    .get(spec.disjunct)
                    .and_then(|d| d.get(spec.row))
                    .ok_or_else(|| {
                        VerifyError::Mismatch(format!(
                            "certificate row {} of disjunct {} is not in the property",
                            spec.row, spec.disjunct
                        ))
                    })?;
                let coeffs: Vec<f64> = (row.coeffs.iter())
                    .map(|c| c.lo.abs().max(c.hi.abs()))
                    .collect();
                let transfer = MarginTransfer {
                    margin: witness_lower(&spec.witness, &leaf.input_box),
                    budget: spec_budget(&err, Some(&coeffs)).map_err(approx_error)?,
                };
                let slack = |t: &MarginTransfer| t.margin - t.budget;
                let o = outcome.get_or_insert(Float32Transfer {
                    holds: true,
                    rows: 0,
                    tightest: transfer,
                });
                o.holds &= transfer.holds();
                o.rows += 1;
                if slack(&transfer) < slack(&o.tightest) {
                    o.tightest = transfer;
                }
            }
        }
    }
    outcome.ok_or_else(|| VerifyError::Mismatch("the certificate refutes no row".into()))
}
