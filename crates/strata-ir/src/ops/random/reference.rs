//! Reference forward rules of this family, generic over the numeric layer. The random draws
//! come from strata-tensor's Philox streams (`super::uniform_draws` and friends), the same in
//! every layer, and enter the layer as data. Dropout is `(x · keep) · scale` with `keep` 0 or 1
//! and `scale = 1 / (1 − p)` (0 when `p = 1`), as PyTorch's native dropout; a Bernoulli mask
//! is 1 where the draw is below the probability.

use super::{dropout_keep, uniform_draws};
use crate::interpret::{array_of, tensor_error, Array, Cx, Value};
use crate::layer::NumericLayer;
use crate::op::Op;
use strata_tensor::{Rng, Tensor};

pub(crate) fn forward<L: NumericLayer>(
    cx: &Cx<L>,
    op: &Op,
    args: &[&Value<L::Scalar>],
) -> Result<Value<L::Scalar>, String> {
    let l = cx.layer;
    match (op, args) {
        (Op::Dropout { p, seed }, [x]) => {
            let x = x.float()?;
            let keep = array_of::<bool>(&dropout_keep(&x.shape, *p, *seed)?)?;
            let scale = l.of_f64(if *p < 1.0 { 1.0 / (1.0 - p) } else { 0.0 });
            let (zero, one) = (l.int(0), l.int(1));
            let data = (x.data.iter().zip(&keep.data))
                .map(|(v, &k)| l.mul(&l.mul(v, if k { &one } else { &zero }), &scale))
                .collect();
            Ok(Value::Float(Array::new(x.shape.clone(), data)))
        }
        (
            Op::RandUniform {
                shape,
                dtype,
                low,
                high,
                seed,
            },
            [],
        ) => {
            let draws =
                Tensor::rand_uniform(shape.clone(), *low, *high, *dtype, &mut Rng::new(*seed))
                    .map_err(tensor_error)?;
            super::super::source::reference::import(l, &draws)
        }
        (Op::BernoulliMask { shape, seed }, [p]) => {
            let p = p.float()?.broadcast_to(shape)?;
            let draws = uniform_draws(shape, *seed)?
                .to_vec::<f64>()
                .map_err(tensor_error)?;
            let (zero, one) = (l.int(0), l.int(1));
            let data = (draws.iter().zip(&p.data))
                .map(|(&u, p)| {
                    let (lo, hi) = l
                        .bounds(p)
                        .ok_or("the probability is off the layer's path")?;
                    if u < lo {
                        Ok(one.clone())
                    } else if u.partial_cmp(&hi) == Some(std::cmp::Ordering::Less) {
                        Err(format!(
                            "the {} layer cannot decide draw {u} < {p:?}",
                            l.name()
                        ))
                    } else {
                        Ok(zero.clone())
                    }
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Value::Float(Array::new(shape.clone(), data)))
        }
        _ => Err(format!("{} got the wrong operands", op.tag())),
    }
}
