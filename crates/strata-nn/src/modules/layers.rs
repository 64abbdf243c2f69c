//! Linear, convolution, pooling, flatten, dropout and embedding layers.

use super::{Ctx, Init, Module};
use crate::{NnError, Result};
use strata_autograd::Var;
use strata_ir::Op;
use strata_tensor::init::{torch_default_bias, torch_default_weight};
use strata_tensor::{
    AvgPool2dParams, Conv1dParams, Conv2dParams, ConvTranspose2dParams, MaxPool2dParams, Shape,
    Tensor,
};

/// Registers `weight` of `shape` (kaiming-uniform with a = √5, PyTorch's default for linear and
/// convolution layers) and, when `bias`, a bias U(−1/√fan_in, 1/√fan_in) over the first dim.
fn default_weight_bias(init: &mut Init, shape: Shape, bias: bool) -> Result<()> {
    let dtype = init.dtype();
    let w = torch_default_weight(shape.clone(), dtype, init.rng())?;
    init.param("weight", w)?;
    if bias {
        let b = torch_default_bias(&shape, dtype, init.rng())?;
        init.param("bias", b)?;
    }
    Ok(())
}

fn need(ok: bool, context: &str, msg: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(NnError::invalid(context, msg()))
    }
}

/// `nn.Linear(in_features, out_features, bias)`: `weight [out, in]`, `bias [out]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    pub in_features: usize,
    pub out_features: usize,
    pub bias: bool,
}

impl Linear {
    pub fn new(in_features: usize, out_features: usize) -> Linear {
        Linear {
            in_features,
            out_features,
            bias: true,
        }
    }
    pub fn bias(mut self, bias: bool) -> Linear {
        self.bias = bias;
        self
    }
}

impl Module for Linear {
    fn init(&self, init: &mut Init) -> Result<()> {
        need(self.in_features > 0, "Linear", || {
            "in_features must be at least 1".into()
        })?;
        default_weight_bias(
            init,
            [self.out_features, self.in_features].into(),
            self.bias,
        )
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let w = ctx.param("weight")?;
        let b = if self.bias {
            Some(ctx.param("bias")?)
        } else {
            None
        };
        Ok(x.linear(&w, b.as_ref())?)
    }
}

/// `nn.Conv1d`: `weight [out, in/groups, k]`, `bias [out]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv1d {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel_size: usize,
    pub params: Conv1dParams,
    pub bias: bool,
}

impl Conv1d {
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> Conv1d {
        Conv1d {
            in_channels,
            out_channels,
            kernel_size,
            params: Conv1dParams::default(),
            bias: true,
        }
    }
    pub fn stride(mut self, stride: usize) -> Self {
        self.params.stride = stride;
        self
    }
    pub fn padding(mut self, padding: usize) -> Self {
        self.params.padding = padding;
        self
    }
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.params.dilation = dilation;
        self
    }
    pub fn groups(mut self, groups: usize) -> Self {
        self.params.groups = groups;
        self
    }
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }
}

fn check_groups(what: &str, inc: usize, outc: usize, groups: usize) -> Result<()> {
    need(
        groups > 0 && inc.is_multiple_of(groups) && outc.is_multiple_of(groups),
        what,
        || {
            format!(
                "in_channels {inc} and out_channels {outc} must be divisible by groups {groups}"
            )
        },
    )
}

impl Module for Conv1d {
    fn init(&self, init: &mut Init) -> Result<()> {
        let g = self.params.groups;
        check_groups("Conv1d", self.in_channels, self.out_channels, g)?;
        default_weight_bias(
            init,
            [self.out_channels, self.in_channels / g, self.kernel_size].into(),
            self.bias,
        )
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let w = ctx.param("weight")?;
        let b = if self.bias {
            Some(ctx.param("bias")?)
        } else {
            None
        };
        Ok(x.conv1d(&w, b.as_ref(), self.params)?)
    }
}

/// `nn.Conv2d`: `weight [out, in/groups, kh, kw]`, `bias [out]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel_size: [usize; 2],
    pub params: Conv2dParams,
    pub bias: bool,
}

impl Conv2d {
    /// A square `kernel_size × kernel_size` kernel.
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> Conv2d {
        Conv2d {
            in_channels,
            out_channels,
            kernel_size: [kernel_size; 2],
            params: Conv2dParams::default(),
            bias: true,
        }
    }
    pub fn kernel(mut self, kernel: [usize; 2]) -> Self {
        self.kernel_size = kernel;
        self
    }
    pub fn stride(mut self, stride: usize) -> Self {
        self.params.stride = [stride; 2];
        self
    }
    pub fn padding(mut self, padding: usize) -> Self {
        self.params.padding = [padding; 2];
        self
    }
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.params.dilation = [dilation; 2];
        self
    }
    pub fn groups(mut self, groups: usize) -> Self {
        self.params.groups = groups;
        self
    }
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }
}

impl Module for Conv2d {
    fn init(&self, init: &mut Init) -> Result<()> {
        let g = self.params.groups;
        check_groups("Conv2d", self.in_channels, self.out_channels, g)?;
        let [kh, kw] = self.kernel_size;
        default_weight_bias(
            init,
            [self.out_channels, self.in_channels / g, kh, kw].into(),
            self.bias,
        )
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let w = ctx.param("weight")?;
        let b = if self.bias {
            Some(ctx.param("bias")?)
        } else {
            None
        };
        Ok(x.conv2d(&w, b.as_ref(), self.params)?)
    }
}

/// `nn.ConvTranspose2d`: `weight [in, out/groups, kh, kw]`, `bias [out]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvTranspose2d {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel_size: [usize; 2],
    pub params: ConvTranspose2dParams,
    pub bias: bool,
}

impl ConvTranspose2d {
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> ConvTranspose2d {
        ConvTranspose2d {
            in_channels,
            out_channels,
            kernel_size: [kernel_size; 2],
            params: ConvTranspose2dParams {
                stride: [1, 1],
                padding: [0, 0],
                output_padding: [0, 0],
                dilation: [1, 1],
                groups: 1,
            },
            bias: true,
        }
    }
    pub fn stride(mut self, stride: usize) -> Self {
        self.params.stride = [stride; 2];
        self
    }
    pub fn padding(mut self, padding: usize) -> Self {
        self.params.padding = [padding; 2];
        self
    }
    pub fn output_padding(mut self, output_padding: usize) -> Self {
        self.params.output_padding = [output_padding; 2];
        self
    }
    pub fn bias(mut self, bias: bool) -> Self {
        self.bias = bias;
        self
    }
}

impl Module for ConvTranspose2d {
    fn init(&self, init: &mut Init) -> Result<()> {
        let g = self.params.groups;
        check_groups("ConvTranspose2d", self.in_channels, self.out_channels, g)?;
        let [kh, kw] = self.kernel_size;
        // PyTorch's fan_in for a transposed convolution is weight.size(1)·k·k = out/groups·k·k,
        // which is what the shared initializers compute from this shape.
        default_weight_bias(
            init,
            [self.in_channels, self.out_channels / g, kh, kw].into(),
            false,
        )?;
        if self.bias {
            // The bias has `out` entries, bounded by the same fan_in.
            let fan_in = (self.out_channels / g * kh * kw).max(1) as f64;
            let bound = 1.0 / fan_in.sqrt();
            let dtype = init.dtype();
            let b = Tensor::rand_uniform([self.out_channels], -bound, bound, dtype, init.rng())?;
            init.param("bias", b)?;
        }
        Ok(())
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let w = ctx.param("weight")?;
        let op = Op::ConvTranspose2d {
            params: self.params,
            bias: self.bias,
        };
        if self.bias {
            Ok(x.apply(op, &[&w, &ctx.param("bias")?])?)
        } else {
            Ok(x.apply(op, &[&w])?)
        }
    }
}

/// `nn.MaxPool2d`.
#[derive(Clone, Debug, PartialEq)]
pub struct MaxPool2d(pub MaxPool2dParams);

impl MaxPool2d {
    /// A square window with PyTorch's defaults (stride = kernel).
    pub fn new(kernel_size: usize) -> MaxPool2d {
        MaxPool2d(MaxPool2dParams::new([kernel_size; 2]))
    }
    pub fn stride(mut self, stride: usize) -> Self {
        self.0.stride = [stride; 2];
        self
    }
    pub fn padding(mut self, padding: usize) -> Self {
        self.0.padding = [padding; 2];
        self
    }
}

impl Module for MaxPool2d {
    fn init(&self, _: &mut Init) -> Result<()> {
        Ok(())
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Result<Var> {
        Ok(x.max_pool2d(self.0)?)
    }
}

/// `nn.AvgPool2d`.
#[derive(Clone, Debug, PartialEq)]
pub struct AvgPool2d(pub AvgPool2dParams);

impl AvgPool2d {
    pub fn new(kernel_size: usize) -> AvgPool2d {
        AvgPool2d(AvgPool2dParams::new([kernel_size; 2]))
    }
    pub fn stride(mut self, stride: usize) -> Self {
        self.0.stride = [stride; 2];
        self
    }
    pub fn padding(mut self, padding: usize) -> Self {
        self.0.padding = [padding; 2];
        self
    }
}

impl Module for AvgPool2d {
    fn init(&self, _: &mut Init) -> Result<()> {
        Ok(())
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Result<Var> {
        Ok(x.avg_pool2d(self.0)?)
    }
}

/// `nn.AdaptiveAvgPool2d((h, w))`.
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptiveAvgPool2d(pub [usize; 2]);

impl Module for AdaptiveAvgPool2d {
    fn init(&self, _: &mut Init) -> Result<()> {
        Ok(())
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Result<Var> {
        Ok(x.apply(
            Op::AdaptiveAvgPool2d {
                output_size: self.0,
            },
            &[],
        )?)
    }
}

/// `nn.Flatten(start_dim, end_dim)` (default 1, −1).
#[derive(Clone, Debug, PartialEq)]
pub struct Flatten {
    pub start_dim: isize,
    pub end_dim: isize,
}

impl Default for Flatten {
    fn default() -> Self {
        Flatten {
            start_dim: 1,
            end_dim: -1,
        }
    }
}

impl Flatten {
    pub fn new() -> Flatten {
        Flatten::default()
    }
}

impl Module for Flatten {
    fn init(&self, _: &mut Init) -> Result<()> {
        Ok(())
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Result<Var> {
        Ok(x.flatten(self.start_dim, self.end_dim)?)
    }
}

/// `nn.Dropout(p)`: in training mode `x · mask / (1 − p)` with a Bernoulli(1 − p) mask (see
/// [`Ctx::dropout_noise`]); the identity in evaluation mode.
#[derive(Clone, Debug, PartialEq)]
pub struct Dropout {
    pub p: f64,
}

impl Dropout {
    pub fn new(p: f64) -> Dropout {
        Dropout { p }
    }
}

impl Module for Dropout {
    fn init(&self, _: &mut Init) -> Result<()> {
        need((0.0..=1.0).contains(&self.p), "Dropout", || {
            format!("probability {} is not between 0 and 1", self.p)
        })
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        if !ctx.is_training() || self.p == 0.0 {
            return Ok(x.clone());
        }
        let noise = ctx.dropout_noise(x.ty().shape, self.p, x.dtype())?;
        Ok(x.mul(&noise)?)
    }
}

/// `nn.Embedding(num_embeddings, embedding_dim)`: `weight [V, D]` drawn from N(0, 1); the
/// input holds i64 indices.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding {
    pub num_embeddings: usize,
    pub embedding_dim: usize,
}

impl Embedding {
    pub fn new(num_embeddings: usize, embedding_dim: usize) -> Embedding {
        Embedding {
            num_embeddings,
            embedding_dim,
        }
    }
}

impl Module for Embedding {
    fn init(&self, init: &mut Init) -> Result<()> {
        let dtype = init.dtype();
        let w = Tensor::randn([self.num_embeddings, self.embedding_dim], dtype, init.rng())?;
        init.param("weight", w)
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let w = ctx.param("weight")?;
        Ok(x.apply(Op::Embedding, &[&w])?)
    }
}
