//! The input region a bound is about: one point, or a box per graph input.

use strata_ir::error_bound::Bounded;
use strata_tensor::Tensor;

/// Where the graph's inputs range.
#[derive(Clone, Debug)]
pub enum Region {
    /// One tensor per graph input (a batch of points is one tensor with a batch axis).
    Point(Vec<Tensor>),
    /// `lo[i] ≤ x_i ≤ hi[i]` elementwise, per graph input.
    Box { lo: Vec<Tensor>, hi: Vec<Tensor> },
}

impl Region {
    /// The inputs as bounded values: exact, with no error of their own (the native run reads
    /// the same data the spec is evaluated at).
    pub(crate) fn bounded(&self) -> Result<Vec<Bounded>, String> {
        match self {
            Region::Point(xs) => xs.iter().map(Bounded::exact).collect(),
            Region::Box { lo, hi } => {
                if lo.len() != hi.len() {
                    return Err(format!(
                        "the box has {} lower and {} upper bounds",
                        lo.len(),
                        hi.len()
                    ));
                }
                (lo.iter().zip(hi).enumerate())
                    .map(|(i, (l, h))| {
                        if (l.to_vec_f64().iter().zip(h.to_vec_f64())).any(|(a, b)| *a > b) {
                            return Err(format!("box input {i}: a lower bound exceeds its upper"));
                        }
                        Bounded::enclosing(l, h, &vec![0.0; l.numel()])
                            .map_err(|e| format!("box input {i}: {e}"))
                    })
                    .collect()
            }
        }
    }
}
