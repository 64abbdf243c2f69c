//! Local error rules of the normalization family: layer norm's native kernel computes the
//! steps of its decomposition (mean, centering, the mean of squares, `1/√(var + eps)`, the
//! product, the affine terms), each rounded once, its sums in its own order; the bound is the
//! decomposition's, whose sum rules hold for every order.

use crate::error_bound::{Approx, Bounded, ErrorSink};
use crate::interpret::Value;
use crate::op::Op;
use crate::sink::Emit;

pub(crate) fn layer_norm(
    sink: &mut ErrorSink,
    op: &Op,
    x: &[Bounded],
) -> Option<Result<Value<Option<Approx>>, String>> {
    let out = op.decomposition(&mut Emit(sink), x)?;
    Some(out.map(|b| b.value))
}
