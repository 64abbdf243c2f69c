//! The [`Tensor`] type: a shape, strides and an offset over shared immutable storage.

use crate::elementwise::map;
use crate::error::{invalid, Result, TensorError};
use crate::layout::gather;
use crate::{DType, Element, Shape, Storage};
use half::{bf16, f16};
use std::borrow::Cow;
use std::sync::Arc;

/// An n-dimensional array. Cloning is cheap (the storage is shared); views share storage;
/// operations return new tensors. Strides are in elements and may be 0 (broadcast axes).
#[derive(Clone)]
pub struct Tensor {
    storage: Arc<Storage>,
    shape: Shape,
    strides: Vec<usize>,
    offset: usize,
}

/// Calls `$body` with `$v` bound to the typed storage slice of `$t` and the type alias `$T`.
macro_rules! with_storage {
    ($storage:expr, |$v:ident: $T:ident| $body:expr) => {
        match $storage {
            $crate::Storage::F32($v) => {
                type $T = f32;
                $body
            }
            $crate::Storage::F64($v) => {
                type $T = f64;
                $body
            }
            $crate::Storage::I64($v) => {
                type $T = i64;
                $body
            }
            $crate::Storage::Bool($v) => {
                type $T = bool;
                $body
            }
            $crate::Storage::F16($v) => {
                type $T = half::f16;
                $body
            }
            $crate::Storage::BF16($v) => {
                type $T = half::bf16;
                $body
            }
        }
    };
}
pub(crate) use with_storage;

/// Runs `$body` with the type alias `$T` bound to f32 or f64 according to `$dtype`, or fails
/// with the float-only error naming `$op`.
macro_rules! with_float {
    ($op:expr, $dtype:expr, |$T:ident| $body:expr) => {
        match $dtype {
            $crate::DType::F32 => {
                type $T = f32;
                $body
            }
            $crate::DType::F64 => {
                type $T = f64;
                $body
            }
            got => Err($crate::error::float_only($op, got)),
        }
    };
}
pub(crate) use with_float;

impl Tensor {
    // ---------- construction ----------

    /// A tensor owning `data`, laid out row-major in `shape`.
    pub fn from_vec<T: Element>(data: Vec<T>, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if shape.checked_numel() != Some(data.len()) {
            return Err(TensorError::InvalidShape {
                op: "from_vec",
                shape,
                msg: format!(
                    "needs a matching element count, got {} elements",
                    data.len()
                ),
            });
        }
        Ok(Self::from_storage(T::into_storage(data), shape))
    }

    pub fn from_slice<T: Element>(data: &[T], shape: impl Into<Shape>) -> Result<Tensor> {
        Self::from_vec(data.to_vec(), shape)
    }

    /// A rank-0 tensor.
    pub fn scalar<T: Element>(value: T) -> Tensor {
        Self::from_storage(T::into_storage(vec![value]), Shape::scalar())
    }

    /// A rank-0 tensor of `dtype` holding `value` (rounded to the dtype).
    pub fn scalar_f64(value: f64, dtype: DType) -> Tensor {
        Self::from_storage(filled(dtype, value, 1), Shape::scalar())
    }

    pub(crate) fn from_storage(storage: Storage, shape: Shape) -> Tensor {
        let strides = shape.contiguous_strides();
        Tensor {
            storage: Arc::new(storage),
            shape,
            strides,
            offset: 0,
        }
    }

    /// A tensor of `shape` filled with `value` converted to `dtype`.
    pub fn full(shape: impl Into<Shape>, value: f64, dtype: DType) -> Result<Tensor> {
        let shape = shape.into();
        let n = buffer_len("full", &shape, dtype)?;
        Ok(Self::from_storage(filled(dtype, value, n), shape))
    }

    pub fn zeros(shape: impl Into<Shape>, dtype: DType) -> Result<Tensor> {
        Self::full(shape, 0.0, dtype)
    }

    pub fn ones(shape: impl Into<Shape>, dtype: DType) -> Result<Tensor> {
        Self::full(shape, 1.0, dtype)
    }

    pub fn zeros_like(&self) -> Result<Tensor> {
        Self::zeros(self.shape.clone(), self.dtype())
    }

    pub fn ones_like(&self) -> Result<Tensor> {
        Self::ones(self.shape.clone(), self.dtype())
    }

    /// `[start, start+step, …)` below `end` (PyTorch's `arange`), as a 1-D tensor.
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType) -> Result<Tensor> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
            return Err(invalid(
                "arange",
                format!("bad range {start}..{end} step {step}"),
            ));
        }
        let n = ((end - start) / step).ceil().max(0.0);
        if n > (isize::MAX as f64) / 8.0 {
            return Err(invalid("arange", format!("{n} elements is too many")));
        }
        let values: Vec<f64> = (0..n as usize).map(|i| start + i as f64 * step).collect();
        Tensor::from_vec(values, [n as usize])?.to_dtype(dtype)
    }

    /// The n×n identity matrix.
    pub fn eye(n: usize, dtype: DType) -> Result<Tensor> {
        let mut v = vec![0.0f64; buffer_len("eye", &Shape::from([n, n]), DType::F64)?];
        for i in 0..n {
            v[i * n + i] = 1.0;
        }
        Tensor::from_vec(v, [n, n])?.to_dtype(dtype)
    }

    // ---------- accessors ----------

    pub fn shape(&self) -> &Shape {
        &self.shape
    }
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }
    pub fn rank(&self) -> usize {
        self.shape.rank()
    }
    pub fn numel(&self) -> usize {
        self.shape.numel()
    }
    pub fn dtype(&self) -> DType {
        self.storage.dtype()
    }
    pub fn strides(&self) -> &[usize] {
        &self.strides
    }
    pub fn offset(&self) -> usize {
        self.offset
    }
    /// Size of axis `dim` (negative counts from the end).
    pub fn dim(&self, dim: isize) -> Result<usize> {
        Ok(self.dims()[self.shape.axis("dim", dim)?])
    }

    /// True when the elements are laid out row-major without gaps (the offset may be non-zero).
    pub fn is_contiguous(&self) -> bool {
        let mut expected = 1;
        for (&d, &s) in self.dims().iter().zip(&self.strides).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected *= d;
        }
        true
    }

    /// True when `self` and `other` share the same storage buffer.
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }

    pub(crate) fn storage(&self) -> &Storage {
        &self.storage
    }

    /// A view over the same storage with another shape/strides/offset (callers guarantee bounds).
    pub(crate) fn view(&self, shape: Shape, strides: Vec<usize>, offset: usize) -> Tensor {
        Tensor {
            storage: self.storage.clone(),
            shape,
            strides,
            offset,
        }
    }

    // ---------- element access ----------

    pub(crate) fn storage_slice<T: Element>(&self, op: &'static str) -> Result<&[T]> {
        T::slice(&self.storage).ok_or(TensorError::DTypeMismatch {
            op,
            lhs: self.dtype(),
            rhs: T::DTYPE,
        })
    }

    /// The elements in row-major order, borrowed when already contiguous.
    pub fn data<T: Element>(&self) -> Result<Cow<'_, [T]>> {
        let data = self.storage_slice::<T>("data")?;
        Ok(if self.is_contiguous() {
            Cow::Borrowed(&data[self.offset..self.offset + self.numel()])
        } else {
            Cow::Owned(gather(data, self.dims(), &self.strides, self.offset))
        })
    }

    /// The elements in row-major order; the dtype must be `T`.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        Ok(self.data::<T>()?.into_owned())
    }

    /// The elements in row-major order converted to f64 (exact for every dtype but large i64).
    pub fn to_vec_f64(&self) -> Vec<f64> {
        with_storage!(&*self.storage, |v: T| {
            gather(v, self.dims(), &self.strides, self.offset)
                .into_iter()
                .map(T::to_f64)
                .collect()
        })
    }

    /// The single element of a one-element tensor.
    pub fn item<T: Element>(&self) -> Result<T> {
        if self.numel() != 1 {
            return Err(TensorError::InvalidShape {
                op: "item",
                shape: self.shape.clone(),
                msg: "needs exactly one element".into(),
            });
        }
        Ok(self.storage_slice::<T>("item")?[self.offset])
    }

    /// The same values in a fresh row-major buffer (a cheap clone when already contiguous and
    /// the buffer is exactly this tensor).
    pub fn contiguous(&self) -> Tensor {
        if self.is_contiguous() && self.offset == 0 && self.storage.len() == self.numel() {
            return self.clone();
        }
        let storage = with_storage!(&*self.storage, |v: T| {
            T::into_storage(gather(v, self.dims(), &self.strides, self.offset))
        });
        Self::from_storage(storage, self.shape.clone())
    }

    /// Converts to another dtype (floats round to nearest even; to i64 truncates toward zero,
    /// NaN and out-of-range saturate as Rust's `as`; to bool is `!= 0`).
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        // Each conversion rounds once (see `Element::cast`).
        Ok(with_storage!(&*self.storage, |v: S| match dtype {
            DType::F32 => map(self, v, S::cast::<f32>),
            DType::F64 => map(self, v, S::cast::<f64>),
            DType::I64 => map(self, v, S::cast::<i64>),
            DType::Bool => map(self, v, S::cast::<bool>),
            DType::F16 => map(self, v, S::cast::<f16>),
            DType::BF16 => map(self, v, S::cast::<bf16>),
        }))
    }
}

/// `n` copies of `value` converted to `dtype` (callers checked `n` with [`buffer_len`]).
fn filled(dtype: DType, value: f64, n: usize) -> Storage {
    fn fill<T: Element>(v: f64, n: usize) -> Storage {
        T::into_storage(vec![T::from_f64(v); n])
    }
    match dtype {
        DType::F32 => fill::<f32>(value, n),
        DType::F64 => fill::<f64>(value, n),
        DType::I64 => fill::<i64>(value, n),
        DType::Bool => fill::<bool>(value, n),
        DType::F16 => fill::<f16>(value, n),
        DType::BF16 => fill::<bf16>(value, n),
    }
}

/// The element count of a new buffer of `shape` and `dtype`: an error (naming `op` and the
/// shape), not a panic or an abort, when the count or the size in bytes overflows — no buffer
/// can exceed `isize::MAX` bytes.
pub(crate) fn buffer_len(op: &'static str, shape: &Shape, dtype: DType) -> Result<usize> {
    let n = shape.checked_numel();
    let bytes = n.and_then(|n| n.checked_mul(dtype.size_in_bytes()));
    match (n, bytes) {
        (Some(n), Some(b)) if b <= isize::MAX as usize => Ok(n),
        _ => Err(TensorError::InvalidShape {
            op,
            shape: shape.clone(),
            msg: format!("element count overflows a {dtype} buffer"),
        }),
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor[{}, {}]", self.shape, self.dtype())
    }
}
