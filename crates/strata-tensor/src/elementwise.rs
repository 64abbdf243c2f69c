//! Elementwise operations with NumPy/PyTorch broadcasting. Each op is a small kernel struct
//! generic over the float type, so one definition serves f32 and f64 and the inner loops
//! compile to straight-line (vectorizable) code on contiguous runs.

use crate::error::{float_only, Result, TensorError};
use crate::layout::Walk;
use crate::tensor::with_storage;
use crate::{broadcast_shapes, DType, Element, Float, Shape, Storage, Tensor};

/// A float → float function applied per element.
pub(crate) trait UnaryKernel: Sync {
    const NAME: &'static str;
    fn apply<T: Float>(&self, x: T) -> T;
}

/// A (float, float) → float function applied per broadcast pair.
pub(crate) trait BinaryKernel: Sync {
    const NAME: &'static str;
    fn apply<T: Float>(&self, a: T, b: T) -> T;
}

fn c<T: Float>(v: f64) -> T {
    T::from_f64(v)
}

macro_rules! unary_kernels {
    ($($name:ident $op:literal |$s:ident, $x:ident| $body:expr;)*) => {
        $(
            pub(crate) struct $name;
            impl UnaryKernel for $name {
                const NAME: &'static str = $op;
                fn apply<T: Float>(&self, $x: T) -> T {
                    let $s = self;
                    let _ = $s;
                    $body
                }
            }
        )*
    };
}

unary_kernels! {
    Neg "neg" |_s, x| -x;
    Abs "abs" |_s, x| x.abs();
    Exp "exp" |_s, x| x.exp();
    Log "log" |_s, x| x.ln();
    Sin "sin" |_s, x| x.sin();
    Cos "cos" |_s, x| x.cos();
    Erf "erf" |_s, x| x.erf();
    Floor "floor" |_s, x| x.floor();
    Reciprocal "reciprocal" |_s, x| T::one() / x;
    // −1 or +1 by sign; zeros (with their sign) and NaN pass through, as torch.sign.
    Sign "sign" |_s, x| if x > T::zero() { T::one() } else if x < T::zero() { -T::one() } else { x };
    Sqrt "sqrt" |_s, x| x.sqrt();
    Tanh "tanh" |_s, x| x.tanh();
    Sigmoid "sigmoid" |_s, x| sigmoid(x);
    // max(x, +0) with NaN passing through, as in PyTorch (so relu(−0) = +0).
    Relu "relu" |_s, x| if x > T::zero() || x.is_nan() { x } else { T::zero() };
    GeluErf "gelu" |_s, x| c::<T>(0.5) * x * (T::one() + (x * c(std::f64::consts::FRAC_1_SQRT_2)).erf());
    GeluTanh "gelu_tanh" |_s, x| {
        let inner = c::<T>((2.0 / std::f64::consts::PI).sqrt()) * (x + c::<T>(0.044715) * x * x * x);
        c::<T>(0.5) * x * (T::one() + inner.tanh())
    };
    Silu "silu" |_s, x| x * sigmoid(x);
    // PyTorch's softplus with beta = 1, threshold = 20: linear above the threshold.
    Softplus "softplus" |_s, x| if x > c(20.0) { x } else { x.exp().ln_1p() };
}

fn sigmoid<T: Float>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

pub(crate) struct LeakyRelu(f64);
impl UnaryKernel for LeakyRelu {
    const NAME: &'static str = "leaky_relu";
    fn apply<T: Float>(&self, x: T) -> T {
        if x < T::zero() {
            x * c(self.0)
        } else {
            x
        }
    }
}

pub(crate) struct Clamp(f64, f64);
impl UnaryKernel for Clamp {
    const NAME: &'static str = "clamp";
    fn apply<T: Float>(&self, x: T) -> T {
        x.max_nan(c(self.0)).min_nan(c(self.1))
    }
}

pub(crate) struct Affine(f64, f64);
impl UnaryKernel for Affine {
    const NAME: &'static str = "affine";
    fn apply<T: Float>(&self, x: T) -> T {
        x * c(self.0) + c(self.1)
    }
}

macro_rules! binary_kernels {
    ($($name:ident $op:literal |$a:ident, $b:ident| $body:expr;)*) => {
        $(
            pub(crate) struct $name;
            impl BinaryKernel for $name {
                const NAME: &'static str = $op;
                fn apply<T: Float>(&self, $a: T, $b: T) -> T {
                    $body
                }
            }
        )*
    };
}

binary_kernels! {
    Add "add" |a, b| a + b;
    Sub "sub" |a, b| a - b;
    Mul "mul" |a, b| a * b;
    Div "div" |a, b| a / b;
    Pow "pow" |a, b| a.powf(b);
    Maximum "maximum" |a, b| a.max_nan(b);
    Minimum "minimum" |a, b| a.min_nan(b);
}

/// An arithmetic op with a scalar operand, as a step of a fused chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// One step of a fused elementwise chain ([`Tensor::unary_chain`]): the same scalar function
/// as the tensor method of the same name, so a fused chain gives the bits the unfused one does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ChainStep {
    Neg,
    Abs,
    Sqrt,
    Reciprocal,
    Square,
    Exp,
    Log,
    Sin,
    Cos,
    Tanh,
    Sigmoid,
    Relu,
    Erf,
    Floor,
    Sign,
    Gelu,
    GeluTanh,
    Silu,
    /// PyTorch's default softplus (beta 1, threshold 20).
    Softplus,
    LeakyRelu(f64),
    /// `x ∘ c`, or `c ∘ x` when `scalar_first`, with `c` rounded once to the dtype.
    Scalar {
        op: ScalarOp,
        value: f64,
        scalar_first: bool,
    },
}

impl ChainStep {
    fn apply<T: Float>(&self, x: T) -> T {
        match *self {
            ChainStep::Neg => Neg.apply(x),
            ChainStep::Abs => Abs.apply(x),
            ChainStep::Sqrt => Sqrt.apply(x),
            ChainStep::Reciprocal => Reciprocal.apply(x),
            ChainStep::Square => x * x,
            ChainStep::Exp => Exp.apply(x),
            ChainStep::Log => Log.apply(x),
            ChainStep::Sin => Sin.apply(x),
            ChainStep::Cos => Cos.apply(x),
            ChainStep::Tanh => Tanh.apply(x),
            ChainStep::Sigmoid => Sigmoid.apply(x),
            ChainStep::Relu => Relu.apply(x),
            ChainStep::Erf => Erf.apply(x),
            ChainStep::Floor => Floor.apply(x),
            ChainStep::Sign => Sign.apply(x),
            ChainStep::Gelu => GeluErf.apply(x),
            ChainStep::GeluTanh => GeluTanh.apply(x),
            ChainStep::Silu => Silu.apply(x),
            ChainStep::Softplus => Softplus.apply(x),
            ChainStep::LeakyRelu(slope) => LeakyRelu(slope).apply(x),
            ChainStep::Scalar {
                op,
                value,
                scalar_first,
            } => {
                let c = T::from_f64(value);
                let (a, b) = if scalar_first { (c, x) } else { (x, c) };
                match op {
                    ScalarOp::Add => a + b,
                    ScalarOp::Sub => a - b,
                    ScalarOp::Mul => a * b,
                    ScalarOp::Div => a / b,
                }
            }
        }
    }
}

/// Comparison operators; NaN compares unequal and unordered, as in IEEE 754.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn name(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
        }
    }
    fn apply<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

/// Applies `f` to every element of `t`, writing a new contiguous tensor.
pub(crate) fn map<T: Element, U: Element>(
    t: &Tensor,
    src: &[T],
    f: impl Fn(T) -> U + Sync,
) -> Tensor {
    let mut out = vec![U::zero(); t.numel()];
    let walk = Walk::new(t.dims(), [t.strides()], [t.offset()]);
    let [s] = walk.inner_strides();
    walk.fill(&mut out, |row, [start]| {
        let n = row.len();
        if s == 1 {
            for (o, &x) in row.iter_mut().zip(&src[start..start + n]) {
                *o = f(x);
            }
        } else {
            for (i, o) in row.iter_mut().enumerate() {
                *o = f(src[start + i * s]);
            }
        }
    });
    Tensor::from_storage(U::into_storage(out), t.shape().clone())
}

/// Applies `f` to every broadcast pair of `a` and `b` (same element type), writing a new tensor.
pub(crate) fn zip_map<T: Element, U: Element>(
    op: &'static str,
    a: &Tensor,
    b: &Tensor,
    f: impl Fn(T, T) -> U + Sync,
) -> Result<Tensor> {
    let dtype_err = || TensorError::DTypeMismatch {
        op,
        lhs: a.dtype(),
        rhs: b.dtype(),
    };
    let (sa, sb) = (
        T::slice(a.storage()).ok_or_else(dtype_err)?,
        T::slice(b.storage()).ok_or_else(dtype_err)?,
    );
    let shape = broadcast_shapes(op, a.shape(), b.shape())?;
    let (a, b) = (
        a.broadcast_to(shape.clone())?,
        b.broadcast_to(shape.clone())?,
    );
    let mut out = vec![U::zero(); shape.numel()];
    let walk = Walk::new(
        shape.dims(),
        [a.strides(), b.strides()],
        [a.offset(), b.offset()],
    );
    let [ia, ib] = walk.inner_strides();
    walk.fill(&mut out, |row, [pa, pb]| {
        let n = row.len();
        match (ia, ib) {
            (1, 1) => {
                for ((o, &x), &y) in row.iter_mut().zip(&sa[pa..pa + n]).zip(&sb[pb..pb + n]) {
                    *o = f(x, y);
                }
            }
            (1, 0) => {
                let y = sb[pb];
                for (o, &x) in row.iter_mut().zip(&sa[pa..pa + n]) {
                    *o = f(x, y);
                }
            }
            (0, 1) => {
                let x = sa[pa];
                for (o, &y) in row.iter_mut().zip(&sb[pb..pb + n]) {
                    *o = f(x, y);
                }
            }
            _ => {
                for (i, o) in row.iter_mut().enumerate() {
                    *o = f(sa[pa + i * ia], sb[pb + i * ib]);
                }
            }
        }
    });
    Ok(Tensor::from_storage(U::into_storage(out), shape))
}

impl Tensor {
    pub(crate) fn unary<K: UnaryKernel>(&self, k: K) -> Result<Tensor> {
        match self.storage() {
            Storage::F32(v) => Ok(map(self, v, |x: f32| k.apply(x))),
            Storage::F64(v) => Ok(map(self, v, |x: f64| k.apply(x))),
            _ => Err(float_only(K::NAME, self.dtype())),
        }
    }

    pub(crate) fn binary<K: BinaryKernel>(&self, other: &Tensor, k: K) -> Result<Tensor> {
        match self.dtype() {
            DType::F32 => zip_map(K::NAME, self, other, |a: f32, b: f32| k.apply(a, b)),
            DType::F64 => zip_map(K::NAME, self, other, |a: f64, b: f64| k.apply(a, b)),
            d => Err(float_only(K::NAME, d)),
        }
    }

    /// Applies `steps` in order to every element in one pass over memory: the same bits as
    /// the unfused ops one after another.
    pub fn unary_chain(&self, steps: &[ChainStep]) -> Result<Tensor> {
        match self.storage() {
            Storage::F32(v) => Ok(map(self, v, |x: f32| {
                steps.iter().fold(x, |a, s| s.apply(a))
            })),
            Storage::F64(v) => Ok(map(self, v, |x: f64| {
                steps.iter().fold(x, |a, s| s.apply(a))
            })),
            _ => Err(float_only("unary_chain", self.dtype())),
        }
    }

    /// A rank-0 tensor of this tensor's dtype, for scalar operands.
    fn scalar_like(&self, v: f64) -> Tensor {
        Tensor::scalar_f64(v, self.dtype())
    }

    pub fn neg(&self) -> Result<Tensor> {
        self.unary(Neg)
    }
    pub fn abs(&self) -> Result<Tensor> {
        self.unary(Abs)
    }
    pub fn exp(&self) -> Result<Tensor> {
        self.unary(Exp)
    }
    /// Natural logarithm.
    pub fn log(&self) -> Result<Tensor> {
        self.unary(Log)
    }
    pub fn sin(&self) -> Result<Tensor> {
        self.unary(Sin)
    }
    pub fn cos(&self) -> Result<Tensor> {
        self.unary(Cos)
    }
    pub fn erf(&self) -> Result<Tensor> {
        self.unary(Erf)
    }
    /// Round toward −∞; the identity on i64.
    pub fn floor(&self) -> Result<Tensor> {
        match self.dtype() {
            DType::I64 => Ok(self.clone()),
            _ => self.unary(Floor),
        }
    }
    /// `1 / x`.
    pub fn reciprocal(&self) -> Result<Tensor> {
        self.unary(Reciprocal)
    }
    /// −1, 0 or +1 by sign (float zeros keep their sign, NaN stays NaN), as torch.sign.
    pub fn sign(&self) -> Result<Tensor> {
        match self.storage() {
            Storage::I64(v) => Ok(map(self, v, i64::signum)),
            _ => self.unary(Sign),
        }
    }
    /// Logical not of a bool tensor.
    pub fn logical_not(&self) -> Result<Tensor> {
        match self.storage() {
            Storage::Bool(v) => Ok(map(self, v, |x: bool| !x)),
            _ => Err(TensorError::UnsupportedDType {
                op: "logical_not",
                got: self.dtype(),
                expected: "bool",
            }),
        }
    }
    /// Logical and of two broadcast bool tensors.
    pub fn logical_and(&self, other: &Tensor) -> Result<Tensor> {
        self.logical("logical_and", other, |a, b| a && b)
    }
    /// Logical or of two broadcast bool tensors.
    pub fn logical_or(&self, other: &Tensor) -> Result<Tensor> {
        self.logical("logical_or", other, |a, b| a || b)
    }
    fn logical(
        &self,
        op: &'static str,
        other: &Tensor,
        f: impl Fn(bool, bool) -> bool + Sync,
    ) -> Result<Tensor> {
        if self.dtype() != DType::Bool {
            return Err(TensorError::UnsupportedDType {
                op,
                got: self.dtype(),
                expected: "bool",
            });
        }
        zip_map(op, self, other, f)
    }
    pub fn sqrt(&self) -> Result<Tensor> {
        self.unary(Sqrt)
    }
    pub fn tanh(&self) -> Result<Tensor> {
        self.unary(Tanh)
    }
    pub fn sigmoid(&self) -> Result<Tensor> {
        self.unary(Sigmoid)
    }
    pub fn relu(&self) -> Result<Tensor> {
        self.unary(Relu)
    }
    pub fn leaky_relu(&self, negative_slope: f64) -> Result<Tensor> {
        self.unary(LeakyRelu(negative_slope))
    }
    /// GELU with the exact erf form: x·Φ(x).
    pub fn gelu(&self) -> Result<Tensor> {
        self.unary(GeluErf)
    }
    /// GELU with PyTorch's `approximate="tanh"` form.
    pub fn gelu_tanh(&self) -> Result<Tensor> {
        self.unary(GeluTanh)
    }
    pub fn silu(&self) -> Result<Tensor> {
        self.unary(Silu)
    }
    pub fn softplus(&self) -> Result<Tensor> {
        self.unary(Softplus)
    }
    /// Clamps into `[min, max]`; NaN stays NaN.
    pub fn clamp(&self, min: f64, max: f64) -> Result<Tensor> {
        self.unary(Clamp(min, max))
    }
    /// `self * mul + add` per element.
    pub fn affine(&self, mul: f64, add: f64) -> Result<Tensor> {
        self.unary(Affine(mul, add))
    }

    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Add)
    }
    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Sub)
    }
    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Mul)
    }
    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Div)
    }
    pub fn pow(&self, exponent: &Tensor) -> Result<Tensor> {
        self.binary(exponent, Pow)
    }
    /// Elementwise maximum; NaN propagates.
    pub fn maximum(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Maximum)
    }
    /// Elementwise minimum; NaN propagates.
    pub fn minimum(&self, other: &Tensor) -> Result<Tensor> {
        self.binary(other, Minimum)
    }
    pub fn add_scalar(&self, v: f64) -> Result<Tensor> {
        self.add(&self.scalar_like(v))
    }
    pub fn sub_scalar(&self, v: f64) -> Result<Tensor> {
        self.sub(&self.scalar_like(v))
    }
    pub fn mul_scalar(&self, v: f64) -> Result<Tensor> {
        self.mul(&self.scalar_like(v))
    }
    pub fn div_scalar(&self, v: f64) -> Result<Tensor> {
        self.div(&self.scalar_like(v))
    }
    pub fn pow_scalar(&self, v: f64) -> Result<Tensor> {
        self.pow(&self.scalar_like(v))
    }
    pub fn square(&self) -> Result<Tensor> {
        self.mul(self)
    }

    /// Elementwise comparison with broadcasting; both operands must have the same dtype.
    pub fn compare(&self, other: &Tensor, op: CmpOp) -> Result<Tensor> {
        // One loop per comparison, so that the element loop holds no branch on `op` (ReLU's
        // backward pass compares whole activations).
        let name = op.name();
        with_storage!(self.storage(), |_v: T| match op {
            CmpOp::Eq => zip_map(name, self, other, |a: T, b: T| CmpOp::Eq.apply(a, b)),
            CmpOp::Ne => zip_map(name, self, other, |a: T, b: T| CmpOp::Ne.apply(a, b)),
            CmpOp::Lt => zip_map(name, self, other, |a: T, b: T| CmpOp::Lt.apply(a, b)),
            CmpOp::Le => zip_map(name, self, other, |a: T, b: T| CmpOp::Le.apply(a, b)),
            CmpOp::Gt => zip_map(name, self, other, |a: T, b: T| CmpOp::Gt.apply(a, b)),
            CmpOp::Ge => zip_map(name, self, other, |a: T, b: T| CmpOp::Ge.apply(a, b)),
        })
    }
    pub fn eq(&self, other: &Tensor) -> Result<Tensor> {
        self.compare(other, CmpOp::Eq)
    }
    pub fn ne(&self, other: &Tensor) -> Result<Tensor> {
        self.compare(other, CmpOp::Ne)
    }
    pub fn lt(&self, other: &Tensor) -> Result<Tensor> {
        self.compare(other, CmpOp::Lt)
    }
    pub fn le(&self, other: &Tensor) -> Result<Tensor> {
        self.compare(other, CmpOp::Le)
    }
    pub fn gt(&self, other: &Tensor) -> Result<Tensor> {
        self.compare(other, CmpOp::Gt)
    }
    pub fn ge(&self, other: &Tensor) -> Result<Tensor> {
        self.compare(other, CmpOp::Ge)
    }

    /// `cond ? a : b` per element, broadcasting all three; `cond` must be bool, `a` and `b`
    /// the same dtype.
    pub fn where_cond(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        let op = "where";
        if cond.dtype() != DType::Bool {
            return Err(TensorError::UnsupportedDType {
                op,
                got: cond.dtype(),
                expected: "bool condition",
            });
        }
        let shape = broadcast_shapes(
            op,
            cond.shape(),
            &broadcast_shapes(op, a.shape(), b.shape())?,
        )?;
        let select = |t: &Tensor| t.broadcast_to(shape.clone());
        let (cond, a, b) = (select(cond)?, select(a)?, select(b)?);
        with_storage!(a.storage(), |_v: T| where_typed::<T>(&shape, &cond, &a, &b))
    }
}

fn where_typed<T: Element>(shape: &Shape, cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    let dtype_err = || TensorError::DTypeMismatch {
        op: "where",
        lhs: a.dtype(),
        rhs: b.dtype(),
    };
    let (sa, sb) = (
        T::slice(a.storage()).ok_or_else(dtype_err)?,
        T::slice(b.storage()).ok_or_else(dtype_err)?,
    );
    let sc = bool::slice(cond.storage()).ok_or_else(dtype_err)?;
    let mut out = vec![T::zero(); shape.numel()];
    let walk = Walk::new(
        shape.dims(),
        [cond.strides(), a.strides(), b.strides()],
        [cond.offset(), a.offset(), b.offset()],
    );
    let [ic, ia, ib] = walk.inner_strides();
    walk.fill(&mut out, |row, [pc, pa, pb]| {
        for (i, o) in row.iter_mut().enumerate() {
            *o = if sc[pc + i * ic] {
                sa[pa + i * ia]
            } else {
                sb[pb + i * ib]
            };
        }
    });
    Ok(Tensor::from_storage(T::into_storage(out), shape.clone()))
}
