//! Tolerances and the approximation relation (TorchLean's `ApproxTol`, `approxWith`,
//! `approxTTol`, `linfNorm`): a runtime tensor approximates a spec tensor within a tolerance
//! when every element does.

use strata_tensor::Tensor;

/// A tolerance with absolute, relative and slack parts: an element `r` approximates `s` when
/// `|r − s| ≤ absolute + relative·|s| + slack`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ApproxTol {
    pub absolute: f64,
    pub relative: f64,
    /// A fixed allowance on top (for assumptions stated outside the bound, e.g. a libm).
    pub slack: f64,
}

impl ApproxTol {
    /// An absolute tolerance only.
    pub fn abs_only(absolute: f64) -> ApproxTol {
        ApproxTol {
            absolute,
            relative: 0.0,
            slack: 0.0,
        }
    }

    /// The scale-aware tolerance `eps × scale` (TorchLean's `tolFromEpsScale`): an absolute
    /// budget from a machine-like epsilon and a bound on the local magnitude.
    pub fn from_eps_scale(eps: f64, scale: f64) -> ApproxTol {
        ApproxTol::abs_only(eps * scale)
    }

    /// The allowed distance from a spec value `spec`.
    pub fn allowed(&self, spec: f64) -> f64 {
        self.absolute + self.relative * spec.abs() + self.slack
    }

    /// Whether `runtime` approximates `spec` element by element within this tolerance.
    pub fn approximates(&self, runtime: &Tensor, spec: &Tensor) -> Result<bool, String> {
        same_shape(runtime, spec)?;
        Ok((runtime.to_vec_f64().iter().zip(spec.to_vec_f64()))
            .all(|(r, s)| (r - s).abs() <= self.allowed(s)))
    }
}

fn same_shape(a: &Tensor, b: &Tensor) -> Result<(), String> {
    if a.shape() != b.shape() {
        return Err(format!("shapes {} and {} differ", a.shape(), b.shape()));
    }
    Ok(())
}

/// max |t_i| (0 for an empty tensor; NaN if an element is NaN).
pub fn linf_norm(t: &Tensor) -> f64 {
    t.to_vec_f64().iter().fold(
        0.0,
        |m: f64, v| if v.is_nan() { f64::NAN } else { m.max(v.abs()) },
    )
}

/// max |a_i − b_i|.
pub fn linf_distance(a: &Tensor, b: &Tensor) -> Result<f64, String> {
    same_shape(a, b)?;
    Ok(
        (a.to_vec_f64().iter().zip(b.to_vec_f64())).fold(0.0, |m: f64, (x, y)| {
            let d = (x - y).abs();
            if d.is_nan() {
                f64::NAN
            } else {
                m.max(d)
            }
        }),
    )
}

/// Whether `|runtime_i − spec_i| ≤ err_i` for every element (TorchLean's `approxWith`: an
/// explicit error tensor).
pub fn approx_with(runtime: &Tensor, spec: &Tensor, err: &Tensor) -> Result<bool, String> {
    same_shape(runtime, spec)?;
    same_shape(runtime, err)?;
    let (r, s, e) = (runtime.to_vec_f64(), spec.to_vec_f64(), err.to_vec_f64());
    Ok((0..r.len()).all(|i| (r[i] - s[i]).abs() <= e[i]))
}
