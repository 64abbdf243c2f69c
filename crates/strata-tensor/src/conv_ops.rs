//! Tensor-level convolution and pooling: shape checks and dtype dispatch around the slice
//! kernels in [`crate::kernels::conv`] and [`crate::kernels::pool`].

use crate::error::{Result, TensorError};
use crate::kernels::conv::{self, Conv1dParams, Conv2dParams, ConvTranspose2dParams};
use crate::kernels::pool::{self, AvgPool2dParams, MaxPool2dParams};
use crate::tensor::with_float;
use crate::{Float, Tensor};

/// Gradients of a convolution with respect to its input, weight and bias.
#[derive(Clone, Debug)]
pub struct ConvGrads {
    pub input: Tensor,
    pub weight: Tensor,
    pub bias: Tensor,
}

fn dims<const R: usize>(op: &'static str, t: &Tensor, what: &str) -> Result<[usize; R]> {
    fixed_rank(op, t.dims(), what)
}

/// `shape` as an array of rank `R`, or an error naming `what` had the wrong rank.
fn fixed_rank<const R: usize>(op: &'static str, shape: &[usize], what: &str) -> Result<[usize; R]> {
    shape.try_into().map_err(|_| TensorError::InvalidShape {
        op,
        shape: shape.to_vec().into(),
        msg: format!("{what} must have rank {R}"),
    })
}

fn same_dtype(op: &'static str, a: &Tensor, b: &Tensor) -> Result<()> {
    if a.dtype() != b.dtype() {
        return Err(TensorError::DTypeMismatch {
            op,
            lhs: a.dtype(),
            rhs: b.dtype(),
        });
    }
    Ok(())
}

fn bias_data<T: Float>(
    op: &'static str,
    x: &Tensor,
    bias: Option<&Tensor>,
) -> Result<Option<Vec<T>>> {
    bias.map(|b| {
        same_dtype(op, x, b)?;
        b.to_vec::<T>()
    })
    .transpose()
}

/// One convolution family (conv1d, conv2d, conv_transpose2d) over rank-R tensors: its kernels,
/// so that the tensor-level checks and dispatch below are written once.
trait ConvKind<const R: usize> {
    type Params;
    const NAME: &'static str;
    const BACKWARD: &'static str;
    fn output_shape(xs: [usize; R], ws: [usize; R], p: &Self::Params) -> Result<[usize; R]>;
    fn forward<T: Float>(
        x: &[T],
        xs: [usize; R],
        w: &[T],
        ws: [usize; R],
        b: Option<&[T]>,
        p: &Self::Params,
    ) -> Result<Vec<T>>;
    fn grad_input<T: Float>(
        g: &[T],
        w: &[T],
        xs: [usize; R],
        ws: [usize; R],
        p: &Self::Params,
    ) -> Result<Vec<T>>;
    fn grad_weight<T: Float>(
        g: &[T],
        x: &[T],
        xs: [usize; R],
        ws: [usize; R],
        p: &Self::Params,
    ) -> Result<Vec<T>>;
}

macro_rules! conv_kind {
    ($kind:ident, $r:literal, $params:ty, $name:literal, $back:literal, $shape:path, $fwd:path, $gi:path, $gw:path) => {
        struct $kind;
        impl ConvKind<$r> for $kind {
            type Params = $params;
            const NAME: &'static str = $name;
            const BACKWARD: &'static str = $back;
            fn output_shape(xs: [usize; $r], ws: [usize; $r], p: &$params) -> Result<[usize; $r]> {
                $shape(xs, ws, p)
            }
            fn forward<T: Float>(
                x: &[T],
                xs: [usize; $r],
                w: &[T],
                ws: [usize; $r],
                b: Option<&[T]>,
                p: &$params,
            ) -> Result<Vec<T>> {
                $fwd(x, xs, w, ws, b, p)
            }
            fn grad_input<T: Float>(
                g: &[T],
                w: &[T],
                xs: [usize; $r],
                ws: [usize; $r],
                p: &$params,
            ) -> Result<Vec<T>> {
                $gi(g, w, xs, ws, p)
            }
            fn grad_weight<T: Float>(
                g: &[T],
                x: &[T],
                xs: [usize; $r],
                ws: [usize; $r],
                p: &$params,
            ) -> Result<Vec<T>> {
                $gw(g, x, xs, ws, p)
            }
        }
    };
}

conv_kind!(
    Conv1d,
    3,
    Conv1dParams,
    "conv1d",
    "conv1d_backward",
    conv::conv1d_output_shape,
    conv::conv1d,
    conv::conv1d_backward_input,
    conv::conv1d_backward_weight
);
conv_kind!(
    Conv2d,
    4,
    Conv2dParams,
    "conv2d",
    "conv2d_backward",
    conv::conv2d_output_shape,
    conv::conv2d,
    conv::conv2d_backward_input,
    conv::conv2d_backward_weight
);
conv_kind!(
    ConvTranspose2d,
    4,
    ConvTranspose2dParams,
    "conv_transpose2d",
    "conv_transpose2d_backward",
    conv::conv_transpose2d_output_shape,
    conv::conv_transpose2d,
    conv::conv_transpose2d_backward_input,
    conv::conv_transpose2d_backward_weight
);

fn conv_forward<const R: usize, K: ConvKind<R>>(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&Tensor>,
    p: &K::Params,
) -> Result<Tensor> {
    let op = K::NAME;
    same_dtype(op, x, w)?;
    let (xs, ws) = (dims::<R>(op, x, "input")?, dims::<R>(op, w, "weight")?);
    let out = K::output_shape(xs, ws, p)?;
    with_float!(op, x.dtype(), |T| {
        let b = bias_data::<T>(op, x, bias)?;
        let y = K::forward(&x.data::<T>()?, xs, &w.data::<T>()?, ws, b.as_deref(), p)?;
        Tensor::from_vec(y, out)
    })
}

/// The checked shapes `(input, weight, output)` of a convolution backward pass.
fn backward_shapes<const R: usize, K: ConvKind<R>>(
    x: &Tensor,
    w: &Tensor,
    grad: &Tensor,
    p: &K::Params,
) -> Result<[[usize; R]; 3]> {
    let op = K::BACKWARD;
    same_dtype(op, x, w)?;
    same_dtype(op, x, grad)?;
    let (xs, ws) = (dims::<R>(op, x, "input")?, dims::<R>(op, w, "weight")?);
    let out = K::output_shape(xs, ws, p)?;
    check_grad_shape(op, grad, &out)?;
    Ok([xs, ws, out])
}

fn conv_input_grad<const R: usize, K: ConvKind<R>>(
    x: &Tensor,
    w: &Tensor,
    grad: &Tensor,
    p: &K::Params,
) -> Result<Tensor> {
    let [xs, ws, _] = backward_shapes::<R, K>(x, w, grad, p)?;
    with_float!(K::BACKWARD, x.dtype(), |T| {
        let dx = K::grad_input(&grad.data::<T>()?, &w.data::<T>()?, xs, ws, p)?;
        Tensor::from_vec(dx, xs)
    })
}

fn conv_weight_grad<const R: usize, K: ConvKind<R>>(
    x: &Tensor,
    w: &Tensor,
    grad: &Tensor,
    p: &K::Params,
) -> Result<Tensor> {
    let [xs, ws, _] = backward_shapes::<R, K>(x, w, grad, p)?;
    with_float!(K::BACKWARD, x.dtype(), |T| {
        let dw = K::grad_weight(&grad.data::<T>()?, &x.data::<T>()?, xs, ws, p)?;
        Tensor::from_vec(dw, ws)
    })
}

fn conv_backward<const R: usize, K: ConvKind<R>>(
    x: &Tensor,
    w: &Tensor,
    grad: &Tensor,
    p: &K::Params,
) -> Result<ConvGrads> {
    backward_shapes::<R, K>(x, w, grad, p)?;
    Ok(ConvGrads {
        input: conv_input_grad::<R, K>(x, w, grad, p)?,
        weight: conv_weight_grad::<R, K>(x, w, grad, p)?,
        bias: grad.conv_backward_bias()?,
    })
}

impl Tensor {
    /// The bias gradient of any convolution from its output gradient `self [N, O, …]`: the sum
    /// over every axis but the channel axis (the `bias` of the `*_backward` methods).
    pub fn conv_backward_bias(&self) -> Result<Tensor> {
        let out = self.dims();
        with_float!("conv_backward_bias", self.dtype(), |T| {
            // The kernel rejects a shape without a channel axis before `out[1]` is read.
            let bias = conv::conv_backward_bias(&self.data::<T>()?, out)?;
            Tensor::from_vec(bias, [out[1]])
        })
    }

    /// 2-D convolution (PyTorch's `conv2d`): `self [N, C, H, W]`, `weight [O, C/groups, kh, kw]`,
    /// optional `bias [O]`.
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        params: &Conv2dParams,
    ) -> Result<Tensor> {
        conv_forward::<4, Conv2d>(self, weight, bias, params)
    }
    /// Input, weight and bias gradients of [`conv2d`](Self::conv2d) at input `self`.
    pub fn conv2d_backward(
        &self,
        weight: &Tensor,
        grad_output: &Tensor,
        params: &Conv2dParams,
    ) -> Result<ConvGrads> {
        conv_backward::<4, Conv2d>(self, weight, grad_output, params)
    }
    /// The input gradient alone of [`conv2d_backward`](Self::conv2d_backward) (a backward
    /// pass that needs one gradient should not pay for the others).
    pub fn conv2d_backward_input(
        &self,
        weight: &Tensor,
        grad_output: &Tensor,
        params: &Conv2dParams,
    ) -> Result<Tensor> {
        conv_input_grad::<4, Conv2d>(self, weight, grad_output, params)
    }
    /// The weight gradient alone of [`conv2d_backward`](Self::conv2d_backward).
    pub fn conv2d_backward_weight(
        &self,
        weight: &Tensor,
        grad_output: &Tensor,
        params: &Conv2dParams,
    ) -> Result<Tensor> {
        conv_weight_grad::<4, Conv2d>(self, weight, grad_output, params)
    }
    /// 1-D convolution: `self [N, C, L]`, `weight [O, C/groups, k]`.
    pub fn conv1d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        params: &Conv1dParams,
    ) -> Result<Tensor> {
        conv_forward::<3, Conv1d>(self, weight, bias, params)
    }
    /// Gradients of [`conv1d`](Self::conv1d) at input `self`.
    pub fn conv1d_backward(
        &self,
        weight: &Tensor,
        grad_output: &Tensor,
        params: &Conv1dParams,
    ) -> Result<ConvGrads> {
        conv_backward::<3, Conv1d>(self, weight, grad_output, params)
    }
    /// The input gradient alone of [`conv1d_backward`](Self::conv1d_backward) (a backward
    /// pass that needs one gradient should not pay for the others).
    pub fn conv1d_backward_input(
        &self,
        weight: &Tensor,
        grad_output: &Tensor,
        params: &Conv1dParams,
    ) -> Result<Tensor> {
        conv_input_grad::<3, Conv1d>(self, weight, grad_output, params)
    }
    /// The weight gradient alone of [`conv1d_backward`](Self::conv1d_backward).
    pub fn conv1d_backward_weight(
        &self,
        weight: &Tensor,
        grad_output: &Tensor,
        params: &Conv1dParams,
    ) -> Result<Tensor> {
        conv_weight_grad::<3, Conv1d>(self, weight, grad_output, params)
    }
    /// Transposed 2-D convolution: `self [N, C_in, H, W]`, `weight [C_in, C_out/groups, kh, kw]`.
    pub fn conv_transpose2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        params: &ConvTranspose2dParams,
    ) -> Result<Tensor> {
        conv_forward::<4, ConvTranspose2d>(self, weight, bias, params)
    }
    /// Gradients of [`conv_transpose2d`](Self::conv_transpose2d) at input `self`.
    pub fn conv_transpose2d_backward(
        &self,
        weight: &Tensor,
        grad_output: &Tensor,
        params: &ConvTranspose2dParams,
    ) -> Result<ConvGrads> {
        conv_backward::<4, ConvTranspose2d>(self, weight, grad_output, params)
    }
    /// The input gradient alone of [`conv_transpose2d_backward`](Self::conv_transpose2d_backward) (a backward
    /// pass that needs one gradient should not pay for the others).
    pub fn conv_transpose2d_backward_input(
        &self,
        weight: &Tensor,
        grad_output: &Tensor,
        params: &ConvTranspose2dParams,
    ) -> Result<Tensor> {
        conv_input_grad::<4, ConvTranspose2d>(self, weight, grad_output, params)
    }
    /// The weight gradient alone of [`conv_transpose2d_backward`](Self::conv_transpose2d_backward).
    pub fn conv_transpose2d_backward_weight(
        &self,
        weight: &Tensor,
        grad_output: &Tensor,
        params: &ConvTranspose2dParams,
    ) -> Result<Tensor> {
        conv_weight_grad::<4, ConvTranspose2d>(self, weight, grad_output, params)
    }
}

fn check_grad_shape(op: &'static str, grad: &Tensor, expected: &[usize]) -> Result<()> {
    if grad.dims() != expected {
        return Err(TensorError::ShapeMismatch {
            op,
            lhs: expected.to_vec().into(),
            rhs: grad.shape().clone(),
        });
    }
    Ok(())
}

/// Runs a float-generic kernel on a rank-4 input, returning a tensor of `out_shape`.
fn pooled<T: Float>(y: Vec<T>, out_shape: [usize; 4]) -> Result<Tensor> {
    Tensor::from_vec(y, out_shape)
}

impl Tensor {
    /// 2-D max pooling of `self [N, C, H, W]`, returning the values and, for the backward pass,
    /// the argmax of each window as a flat `h*W + w` index into the input plane (i64).
    pub fn max_pool2d_with_indices(&self, params: &MaxPool2dParams) -> Result<(Tensor, Tensor)> {
        let op = "max_pool2d";
        let xs = dims::<4>(op, self, "input")?;
        let out = pool::max_pool2d_output_shape(xs, params)?;
        with_float!(op, self.dtype(), |T| {
            let (y, idx) = pool::max_pool2d(&self.data::<T>()?, xs, params)?;
            Ok((pooled(y, out)?, Tensor::from_vec(idx, out)?))
        })
    }

    /// 2-D max pooling of `self [N, C, H, W]` (values only, faster than with the indices).
    pub fn max_pool2d(&self, params: &MaxPool2dParams) -> Result<Tensor> {
        let op = "max_pool2d";
        let xs = dims::<4>(op, self, "input")?;
        let out = pool::max_pool2d_output_shape(xs, params)?;
        with_float!(op, self.dtype(), |T| pooled(
            pool::max_pool2d_values(&self.data::<T>()?, xs, params)?,
            out
        ))
    }

    /// The input gradient of [`max_pool2d`](Self::max_pool2d) at input `self`: the argmax found
    /// again from the input (no index tensor), bit-identical to
    /// [`max_pool2d_backward`](Self::max_pool2d_backward) with the forward pass's indices.
    pub fn max_pool2d_input_grad(
        &self,
        grad_output: &Tensor,
        params: &MaxPool2dParams,
    ) -> Result<Tensor> {
        let op = "max_pool2d_input_grad";
        same_dtype(op, self, grad_output)?;
        let xs = dims::<4>(op, self, "input")?;
        check_grad_shape(op, grad_output, &pool::max_pool2d_output_shape(xs, params)?)?;
        with_float!(op, self.dtype(), |T| {
            let dx = pool::max_pool2d_input_grad(
                &self.data::<T>()?,
                xs,
                &grad_output.data::<T>()?,
                params,
            )?;
            pooled(dx, xs)
        })
    }

    /// The input gradient of max pooling (or adaptive max pooling): `grad_output` scattered to
    /// the argmax `indices`, for an input of `input_shape`.
    pub fn max_pool2d_backward(
        grad_output: &Tensor,
        indices: &Tensor,
        input_shape: &[usize],
    ) -> Result<Tensor> {
        let op = "max_pool2d_backward";
        let xs = fixed_rank::<4>(op, input_shape, "input")?;
        let gs = dims::<4>(op, grad_output, "grad_output")?;
        check_grad_shape(op, indices, &gs)?;
        let idx = indices.data::<i64>()?;
        with_float!(op, grad_output.dtype(), |T| {
            let dx =
                pool::max_pool2d_backward(&grad_output.data::<T>()?, &idx, xs, [gs[2], gs[3]])?;
            pooled(dx, xs)
        })
    }

    /// 2-D average pooling of `self [N, C, H, W]`.
    pub fn avg_pool2d(&self, params: &AvgPool2dParams) -> Result<Tensor> {
        let op = "avg_pool2d";
        let xs = dims::<4>(op, self, "input")?;
        let out = pool::avg_pool2d_output_shape(xs, params)?;
        with_float!(op, self.dtype(), |T| pooled(
            pool::avg_pool2d(&self.data::<T>()?, xs, params)?,
            out
        ))
    }

    /// The input gradient of [`avg_pool2d`](Self::avg_pool2d) for an input of `input_shape`.
    pub fn avg_pool2d_backward(
        grad_output: &Tensor,
        input_shape: &[usize],
        params: &AvgPool2dParams,
    ) -> Result<Tensor> {
        let op = "avg_pool2d_backward";
        let xs = fixed_rank::<4>(op, input_shape, "input")?;
        check_grad_shape(op, grad_output, &pool::avg_pool2d_output_shape(xs, params)?)?;
        with_float!(op, grad_output.dtype(), |T| {
            pooled(
                pool::avg_pool2d_backward(&grad_output.data::<T>()?, xs, params)?,
                xs,
            )
        })
    }

    /// Adaptive average pooling of `self [N, C, H, W]` to `[N, C, output_hw]`.
    pub fn adaptive_avg_pool2d(&self, output_hw: [usize; 2]) -> Result<Tensor> {
        let op = "adaptive_avg_pool2d";
        let xs = dims::<4>(op, self, "input")?;
        let out = [xs[0], xs[1], output_hw[0], output_hw[1]];
        with_float!(op, self.dtype(), |T| pooled(
            pool::adaptive_avg_pool2d(&self.data::<T>()?, xs, output_hw)?,
            out
        ))
    }

    /// The input gradient of [`adaptive_avg_pool2d`](Self::adaptive_avg_pool2d).
    pub fn adaptive_avg_pool2d_backward(
        grad_output: &Tensor,
        input_shape: &[usize],
    ) -> Result<Tensor> {
        let op = "adaptive_avg_pool2d_backward";
        let xs = fixed_rank::<4>(op, input_shape, "input")?;
        let gs = dims::<4>(op, grad_output, "grad_output")?;
        with_float!(op, grad_output.dtype(), |T| {
            pooled(
                pool::adaptive_avg_pool2d_backward(&grad_output.data::<T>()?, xs, [gs[2], gs[3]])?,
                xs,
            )
        })
    }

    /// Adaptive max pooling of `self [N, C, H, W]` to `[N, C, output_hw]`, with argmax indices
    /// (use [`max_pool2d_backward`](Self::max_pool2d_backward) for its gradient).
    pub fn adaptive_max_pool2d_with_indices(
        &self,
        output_hw: [usize; 2],
    ) -> Result<(Tensor, Tensor)> {
        let op = "adaptive_max_pool2d";
        let xs = dims::<4>(op, self, "input")?;
        let out = [xs[0], xs[1], output_hw[0], output_hw[1]];
        with_float!(op, self.dtype(), |T| {
            let (y, idx) = pool::adaptive_max_pool2d(&self.data::<T>()?, xs, output_hw)?;
            Ok((pooled(y, out)?, Tensor::from_vec(idx, out)?))
        })
    }
}
