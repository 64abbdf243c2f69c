//! Serde forms of the strata-tensor types the IR stores (strata-tensor itself has no serde).
//!
//! Floats in tensor data are written as JSON numbers when finite (the shortest decimal for the
//! element type, `-0.0` included) and as strings otherwise: `"inf"`, `"-inf"`, `"nan"` for the
//! canonical quiet NaN, and `"0x…"` raw bits for any other NaN. Each decimal is read back by
//! serde_json when written (its float parser is correctly rounded only with the
//! `float_roundtrip` feature, which this crate turns on), and one that would not return the
//! same bits is written as `"0x…"` bits too: every value round-trips bit for bit.

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use strata_tensor::{AvgPool2dParams, Conv1dParams, Conv2dParams, ConvTranspose2dParams};
use strata_tensor::{DType, MaxPool2dParams, Shape, Tensor};

/// Every dtype, for parsing names.
const ALL_DTYPES: [DType; 6] = [
    DType::F32,
    DType::F64,
    DType::I64,
    DType::Bool,
    DType::F16,
    DType::BF16,
];

/// The dtype called `name` (`f32`, `f64`, `i64`, `bool`, `f16`, `bf16`).
pub fn parse_dtype(name: &str) -> Option<DType> {
    ALL_DTYPES.into_iter().find(|d| d.name() == name)
}

pub mod dtype {
    use super::*;
    pub fn serialize<S: Serializer>(d: &DType, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(d.name())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DType, D::Error> {
        let name = String::deserialize(d)?;
        parse_dtype(&name).ok_or_else(|| {
            D::Error::custom(format!(
                "unknown dtype `{name}` (expected f32, f64, i64, bool, f16 or bf16)"
            ))
        })
    }
}

pub mod shape {
    use super::*;
    pub fn serialize<S: Serializer>(shape: &Shape, s: S) -> Result<S::Ok, S::Error> {
        shape.dims().serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Shape, D::Error> {
        let dims = Vec::<usize>::deserialize(d)?;
        let shape = Shape::new(dims);
        if shape.checked_numel().is_none() {
            return Err(D::Error::custom(format!(
                "shape {shape} overflows the element count"
            )));
        }
        Ok(shape)
    }
}

// Mirrors of strata-tensor's hyper-parameter structs (serde's remote derive checks that the
// fields match the real ones).
#[derive(Serialize, Deserialize)]
#[serde(remote = "Conv1dParams")]
pub struct Conv1dParamsDef {
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
    pub groups: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Conv2dParams")]
pub struct Conv2dParamsDef {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "ConvTranspose2dParams")]
pub struct ConvTranspose2dParamsDef {
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub output_padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "MaxPool2dParams")]
pub struct MaxPool2dParamsDef {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub ceil_mode: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "AvgPool2dParams")]
pub struct AvgPool2dParamsDef {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub ceil_mode: bool,
    pub count_include_pad: bool,
    pub divisor_override: Option<usize>,
}

/// One tensor element in its JSON form.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Element {
    Bool(bool),
    Int(i64),
    Float(f64),
    Special(String),
}

/// The JSON number for a finite element, if serde_json reads it back as the same bits: an
/// f32 is written as its own shortest decimal (which, as an f64, prints the same way).
fn finite_number(v: f64, is_f32: bool) -> Option<f64> {
    let number = if is_f32 {
        // std's parser is correctly rounded, so the f64 prints as the same short decimal.
        serde_json::to_string(&(v as f32))
            .ok()?
            .parse::<f64>()
            .ok()?
    } else {
        v
    };
    let read: f64 = serde_json::from_str(&serde_json::to_string(&number).ok()?).ok()?;
    let same = if is_f32 {
        (read as f32).to_bits() == (v as f32).to_bits()
    } else {
        read.to_bits() == v.to_bits()
    };
    same.then_some(number)
}

fn float_to_element(v: f64, is_f32: bool) -> Element {
    if v.is_finite() {
        return match finite_number(v, is_f32) {
            Some(number) => Element::Float(number),
            None if is_f32 => Element::Special(format!("0x{:08x}", (v as f32).to_bits())),
            None => Element::Special(format!("0x{:016x}", v.to_bits())),
        };
    }
    let canonical = if is_f32 {
        (v as f32).to_bits() == f32::NAN.to_bits()
    } else {
        v.to_bits() == f64::NAN.to_bits()
    };
    Element::Special(match v {
        f64::INFINITY => "inf".into(),
        f64::NEG_INFINITY => "-inf".into(),
        _ if canonical => "nan".into(),
        _ if is_f32 => format!("0x{:08x}", (v as f32).to_bits()),
        _ => format!("0x{:016x}", v.to_bits()),
    })
}

fn element_to_float(e: &Element, is_f32: bool) -> Result<f64, String> {
    match e {
        Element::Float(v) => Ok(*v),
        Element::Int(v) => Ok(*v as f64),
        Element::Bool(_) => Err("a float tensor cannot hold a boolean".into()),
        Element::Special(s) => match s.as_str() {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            hex => {
                let digits = hex
                    .strip_prefix("0x")
                    .ok_or_else(|| format!("`{hex}` is not a number, inf, -inf, nan or 0x bits"))?;
                let bad = |_| format!("`{hex}` is not hexadecimal bits");
                Ok(if is_f32 {
                    f32::from_bits(u32::from_str_radix(digits, 16).map_err(bad)?) as f64
                } else {
                    f64::from_bits(u64::from_str_radix(digits, 16).map_err(bad)?)
                })
            }
        },
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorForm {
    #[serde(with = "dtype")]
    dtype: DType,
    #[serde(with = "shape")]
    shape: Shape,
    data: Vec<Element>,
}

pub mod tensor {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Tensor, s: S) -> Result<S::Ok, S::Error> {
        let data = match t.dtype() {
            DType::Bool => t
                .to_vec::<bool>()
                .map_err(S::Error::custom)?
                .into_iter()
                .map(Element::Bool)
                .collect(),
            DType::I64 => t
                .to_vec::<i64>()
                .map_err(S::Error::custom)?
                .into_iter()
                .map(Element::Int)
                .collect(),
            // f16 and bf16 widen to f64 exactly, and convert back exactly.
            d => t
                .to_vec_f64()
                .into_iter()
                .map(|v| float_to_element(v, d != DType::F64))
                .collect(),
        };
        TensorForm {
            dtype: t.dtype(),
            shape: t.shape().clone(),
            data,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tensor, D::Error> {
        let form = TensorForm::deserialize(d)?;
        build(form).map_err(D::Error::custom)
    }

    fn build(form: TensorForm) -> Result<Tensor, String> {
        let shape = form.shape;
        let tensor = match form.dtype {
            DType::Bool => {
                let values = form
                    .data
                    .iter()
                    .map(|e| match e {
                        Element::Bool(b) => Ok(*b),
                        _ => Err("a bool tensor holds only true and false".to_string()),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Tensor::from_vec(values, shape)
            }
            DType::I64 => {
                let values = form
                    .data
                    .iter()
                    .map(|e| match e {
                        Element::Int(v) => Ok(*v),
                        _ => Err("an i64 tensor holds only integers".to_string()),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Tensor::from_vec(values, shape)
            }
            DType::F32 => {
                let values = form
                    .data
                    .iter()
                    .map(|e| element_to_float(e, true).map(|v| v as f32))
                    .collect::<Result<Vec<_>, _>>()?;
                Tensor::from_vec(values, shape)
            }
            dtype => {
                let values = form
                    .data
                    .iter()
                    .map(|e| element_to_float(e, dtype != DType::F64))
                    .collect::<Result<Vec<_>, _>>()?;
                Tensor::from_vec(values, shape).and_then(|t| t.to_dtype(dtype))
            }
        };
        tensor.map_err(|e| e.to_string())
    }
}

/// An f64 attribute: a JSON number when finite, else `"inf"`, `"-inf"` or `"nan"` (JSON has no
/// non-finite numbers, and a `-inf` padding value must survive a round trip).
pub mod float {
    use super::*;
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        float_to_element(*v, false).serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        element_to_float(&Element::deserialize(d)?, false).map_err(D::Error::custom)
    }
}

/// [`float`] for an optional attribute (`null` = absent).
pub mod option_float {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        v.map(|v| float_to_element(v, false)).serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<Element>::deserialize(d)?
            .map(|e| element_to_float(&e, false))
            .transpose()
            .map_err(D::Error::custom)
    }
}
