//! Element types as stored in files, and their decoding into tensors. Integer types narrower
//! than 64 bits widen exactly into i64.

use half::{bf16, f16};
use strata_tensor::{DType, Element, Tensor, TensorError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ByteOrder {
    Little,
    Big,
}

/// An element type as a file stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileElement {
    Bool,
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    I64,
    F16,
    BF16,
    F32,
    F64,
}

impl FileElement {
    pub(crate) fn name(self) -> &'static str {
        match self {
            FileElement::Bool => "bool",
            FileElement::U8 => "u8",
            FileElement::I8 => "i8",
            FileElement::U16 => "u16",
            FileElement::I16 => "i16",
            FileElement::U32 => "u32",
            FileElement::I32 => "i32",
            FileElement::I64 => "i64",
            FileElement::F16 => "f16",
            FileElement::BF16 => "bf16",
            FileElement::F32 => "f32",
            FileElement::F64 => "f64",
        }
    }

    pub(crate) fn size_in_bytes(self) -> usize {
        match self {
            FileElement::Bool | FileElement::U8 | FileElement::I8 => 1,
            FileElement::U16 | FileElement::I16 | FileElement::F16 | FileElement::BF16 => 2,
            FileElement::U32 | FileElement::I32 | FileElement::F32 => 4,
            FileElement::I64 | FileElement::F64 => 8,
        }
    }

    /// Whether every value of this type converts exactly to `dtype`.
    pub(crate) fn converts_exactly_to(self, dtype: DType) -> bool {
        // An integer of magnitude at most 2^p is exact in a float with p significand bits.
        let magnitude_bits = match self {
            FileElement::Bool => return dtype == DType::Bool,
            FileElement::F16 => return matches!(dtype, DType::F16 | DType::F32 | DType::F64),
            FileElement::BF16 => return matches!(dtype, DType::BF16 | DType::F32 | DType::F64),
            FileElement::F32 => return matches!(dtype, DType::F32 | DType::F64),
            FileElement::F64 => return dtype == DType::F64,
            FileElement::U8 | FileElement::I8 => 8,
            FileElement::U16 | FileElement::I16 => 16,
            FileElement::U32 | FileElement::I32 => 32,
            FileElement::I64 => 64,
        };
        let precision = match dtype {
            DType::Bool => 0,
            DType::BF16 => 8,
            DType::F16 => 11,
            DType::F32 => 24,
            DType::F64 => 53,
            DType::I64 => 64,
        };
        magnitude_bits <= precision
    }

    /// The dtype a file's values read as by default: integers widen to i64.
    pub(crate) fn natural_dtype(self) -> DType {
        match self {
            FileElement::Bool => DType::Bool,
            FileElement::F16 => DType::F16,
            FileElement::BF16 => DType::BF16,
            FileElement::F32 => DType::F32,
            FileElement::F64 => DType::F64,
            _ => DType::I64,
        }
    }

    /// The tensor of `dims` stored in `data` (exactly `numel * size_in_bytes` bytes, checked by
    /// the caller), converted to `target` (see [`Tensor::to_dtype`]). Integers convert straight
    /// from the file's bytes, so u8 pixels read as f32 never pass through an i64 buffer. Fails
    /// only for a bool byte other than 0 or 1: the error is the offset of that byte within
    /// `data` and the problem.
    pub(crate) fn decode(
        self,
        data: &[u8],
        order: ByteOrder,
        dims: Vec<usize>,
        target: DType,
    ) -> Result<Tensor, (usize, String)> {
        let tensor = match self {
            FileElement::Bool => {
                if let Some(at) = data.iter().position(|&b| b > 1) {
                    return Err((at, format!("bool byte is {}, not 0 or 1", data[at])));
                }
                Tensor::from_vec(data.iter().map(|&b| b == 1).collect(), dims)
            }
            FileElement::F16 => from_bytes(data, order, dims, f16::from_le_bytes),
            FileElement::BF16 => from_bytes(data, order, dims, bf16::from_le_bytes),
            FileElement::F32 => from_bytes(data, order, dims, f32::from_le_bytes),
            FileElement::F64 => from_bytes(data, order, dims, f64::from_le_bytes),
            _ => match target {
                DType::F32 => self.decode_integers::<f32>(data, order, dims),
                DType::F64 => self.decode_integers::<f64>(data, order, dims),
                DType::I64 => self.decode_integers::<i64>(data, order, dims),
                DType::Bool => self.decode_integers::<bool>(data, order, dims),
                DType::F16 => self.decode_integers::<f16>(data, order, dims),
                DType::BF16 => self.decode_integers::<bf16>(data, order, dims),
            },
        };
        // The caller checked the byte count, so the element count always matches `dims`.
        tensor
            .and_then(|t| t.to_dtype(target))
            .map_err(|e| (0, e.to_string()))
    }

    /// Integer elements, each converted to `T` from its exact i64 value.
    fn decode_integers<T: Element>(
        self,
        data: &[u8],
        order: ByteOrder,
        dims: Vec<usize>,
    ) -> strata_tensor::Result<Tensor> {
        let to = T::from_i64;
        match self {
            FileElement::U8 => from_bytes(data, order, dims, |b: [u8; 1]| to(i64::from(b[0]))),
            FileElement::I8 => from_bytes(data, order, dims, |b| to(i8::from_le_bytes(b).into())),
            FileElement::U16 => from_bytes(data, order, dims, |b| to(u16::from_le_bytes(b).into())),
            FileElement::I16 => from_bytes(data, order, dims, |b| to(i16::from_le_bytes(b).into())),
            FileElement::U32 => from_bytes(data, order, dims, |b| to(u32::from_le_bytes(b).into())),
            FileElement::I32 => from_bytes(data, order, dims, |b| to(i32::from_le_bytes(b).into())),
            FileElement::I64 => from_bytes(data, order, dims, |b| to(i64::from_le_bytes(b))),
            FileElement::Bool
            | FileElement::F16
            | FileElement::BF16
            | FileElement::F32
            | FileElement::F64 => Err(TensorError::InvalidArgument {
                op: "decode_integers",
                msg: format!("{} is not an integer type", self.name()),
            }),
        }
    }
}

/// Decodes `N`-byte elements with `from_le`, reversing each element's bytes first when the
/// file is big-endian.
fn from_bytes<T: Element, const N: usize>(
    data: &[u8],
    order: ByteOrder,
    dims: Vec<usize>,
    from_le: impl Fn([u8; N]) -> T,
) -> strata_tensor::Result<Tensor> {
    let values = data
        .chunks_exact(N)
        .map(|chunk| {
            let mut bytes = [0u8; N];
            bytes.copy_from_slice(chunk);
            if order == ByteOrder::Big {
                bytes.reverse();
            }
            from_le(bytes)
        })
        .collect();
    Tensor::from_vec(values, dims)
}

/// The product of `dims`, or `None` when the product of its non-zero entries overflows
/// `usize`. An empty shape such as `[0, 2^40, 2^40]` is refused too: its row-major strides
/// (products of trailing dims) would overflow, and a tensor library computing them would fail.
pub(crate) fn checked_numel(dims: &[usize]) -> Option<usize> {
    let nonzero = dims
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
    Some(if dims.contains(&0) { 0 } else { nonzero })
}

/// The elements of `tensor` in row-major order as little-endian bytes (bool as one byte, 0 or
/// 1), the layout shared by NPY, safetensors, NPZ members and ONNX `raw_data`.
pub(crate) fn le_bytes(tensor: &Tensor) -> strata_tensor::Result<Vec<u8>> {
    fn encode<T: Element, const N: usize>(
        tensor: &Tensor,
        to_le: impl Fn(T) -> [u8; N],
    ) -> strata_tensor::Result<Vec<u8>> {
        Ok(tensor.data::<T>()?.iter().flat_map(|&v| to_le(v)).collect())
    }
    match tensor.dtype() {
        DType::F32 => encode(tensor, f32::to_le_bytes),
        DType::F64 => encode(tensor, f64::to_le_bytes),
        DType::I64 => encode(tensor, i64::to_le_bytes),
        DType::Bool => encode(tensor, |b: bool| [u8::from(b)]),
        DType::F16 => encode(tensor, f16::to_le_bytes),
        DType::BF16 => encode(tensor, bf16::to_le_bytes),
    }
}
