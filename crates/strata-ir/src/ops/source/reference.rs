//! Reference forward rules of this family, generic over the numeric layer: a bound tensor
//! (input, parameter or constant) enters the layer.

use crate::interpret::{tensor_error, Array, Value};
use crate::layer::NumericLayer;
use strata_tensor::{DType, Tensor};

/// `t` as a value of `layer`: f32 data through [`NumericLayer::of_f32`], every other float
/// dtype (f64, and f16/bf16 widened exactly) through [`NumericLayer::of_f64`]; i64 and bool
/// tensors as they are.
pub(crate) fn import<L: NumericLayer>(layer: &L, t: &Tensor) -> Result<Value<L::Scalar>, String> {
    let data = match t.dtype() {
        DType::I64 | DType::Bool => return Ok(Value::Tensor(t.contiguous())),
        DType::F32 => (t.to_vec::<f32>().map_err(tensor_error)?.into_iter())
            .map(|v| layer.of_f32(v))
            .collect(),
        _ => (t.to_vec_f64().into_iter())
            .map(|v| layer.of_f64(v))
            .collect(),
    };
    Ok(Value::Float(Array::new(t.shape().clone(), data)))
}
