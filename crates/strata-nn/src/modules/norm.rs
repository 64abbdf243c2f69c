//! Normalization layers: batch norm (training and evaluation), layer norm, RMS norm, group norm.

use super::{Ctx, Init, Module};
use crate::{NnError, Result};
use strata_autograd::Var;
use strata_ir::Op;
use strata_tensor::{DType, Tensor};

/// `nn.BatchNorm1d` (input `[N, C]` or `[N, C, L]`) and `nn.BatchNorm2d` (`[N, C, H, W]`).
///
/// Parameters `weight` (ones) and `bias` (zeros) when `affine`; buffers `running_mean`
/// (zeros), `running_var` (ones) and `num_batches_tracked` (i64 0), as PyTorch's state dict.
///
/// Training mode normalizes with the batch statistics, computed with ops so that gradients flow
/// through them: `mean = E[x]`, `var = E[(x − mean)²]` (biased), `y = (x − mean) ·
/// 1/√(var + eps) · weight + bias`, and records the detached batch mean and unbiased variance
/// `Σ(x − mean)² / (n − 1)` for the running statistics ([`super::apply_stat_update`]).
/// Evaluation mode is `Op::BatchNorm` on the running statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm {
    pub num_features: usize,
    pub eps: f64,
    /// `None`: the cumulative moving average (PyTorch's `momentum=None`).
    pub momentum: Option<f64>,
    pub affine: bool,
    /// The input ranks accepted: `[2, 3]` for BatchNorm1d, `[4]` for BatchNorm2d.
    ranks: &'static [usize],
    name: &'static str,
}

impl BatchNorm {
    /// `nn.BatchNorm1d(num_features)`.
    pub fn d1(num_features: usize) -> BatchNorm {
        BatchNorm {
            num_features,
            eps: 1e-5,
            momentum: Some(0.1),
            affine: true,
            ranks: &[2, 3],
            name: "BatchNorm1d",
        }
    }
    /// `nn.BatchNorm2d(num_features)`.
    pub fn d2(num_features: usize) -> BatchNorm {
        BatchNorm {
            ranks: &[4],
            name: "BatchNorm2d",
            ..BatchNorm::d1(num_features)
        }
    }
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
    pub fn momentum(mut self, momentum: Option<f64>) -> Self {
        self.momentum = momentum;
        self
    }
    pub fn affine(mut self, affine: bool) -> Self {
        self.affine = affine;
        self
    }
}

impl Module for BatchNorm {
    fn init(&self, init: &mut Init) -> Result<()> {
        let (c, d) = (self.num_features, init.dtype());
        if self.affine {
            init.param("weight", Tensor::ones([c], d)?)?;
            init.param("bias", Tensor::zeros([c], d)?)?;
        }
        init.buffer("running_mean", Tensor::zeros([c], d)?)?;
        init.buffer("running_var", Tensor::ones([c], d)?)?;
        init.buffer("num_batches_tracked", Tensor::scalar(0i64))
    }

    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let dims = x.dims();
        if !self.ranks.contains(&dims.len()) || dims[1] != self.num_features {
            return Err(NnError::invalid(
                ctx.name(self.name),
                format!(
                    "expected an input [N, {}{}], got {:?}",
                    self.num_features,
                    if self.ranks == [4] { ", H, W" } else { "(, L)" },
                    dims
                ),
            ));
        }
        let affine = if self.affine {
            Some((ctx.param("weight")?, ctx.param("bias")?))
        } else {
            None
        };
        if !ctx.is_training() {
            let rm = ctx.buffer("running_mean")?;
            let rv = ctx.buffer("running_var")?;
            let op = Op::BatchNorm {
                eps: self.eps,
                affine: self.affine,
            };
            return Ok(match &affine {
                Some((w, b)) => x.apply(op, &[&rm, &rv, w, b])?,
                None => x.apply(op, &[&rm, &rv])?,
            });
        }
        let c = self.num_features;
        let n: usize = dims
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, d)| d)
            .product();
        if n <= 1 {
            return Err(NnError::invalid(
                ctx.name(self.name),
                format!("expected more than 1 value per channel when training, got input {dims:?}"),
            ));
        }
        let axes: Vec<isize> = (0..dims.len() as isize).filter(|&a| a != 1).collect();
        let mean = x.mean(&axes, true)?;
        let centered = x.sub(&mean)?;
        let sumsq = centered.square()?.sum(&axes, true)?;
        let var = sumsq.div(&x.scalar(n as f64))?;
        let invstd = var.add_scalar(self.eps)?.sqrt()?.reciprocal()?;
        let mut y = centered.mul(&invstd)?;
        if let Some((w, b)) = &affine {
            let mut shape = vec![1i64; dims.len()];
            shape[1] = c as i64;
            y = y.mul(&w.reshape(&shape)?)?.add(&b.reshape(&shape)?)?;
        }
        let batch_mean = mean.detach()?.reshape(&[c as i64])?;
        let unbiased = sumsq
            .detach()?
            .div(&x.scalar((n - 1) as f64))?
            .reshape(&[c as i64])?;
        ctx.record_stats(self.momentum, batch_mean, unbiased);
        Ok(y)
    }
}

/// `nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True)`: `weight` (ones) and
/// `bias` (zeros) of `normalized_shape`.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNorm {
    pub normalized_shape: Vec<usize>,
    pub eps: f64,
    pub elementwise_affine: bool,
}

impl LayerNorm {
    pub fn new(normalized_shape: Vec<usize>) -> LayerNorm {
        LayerNorm {
            normalized_shape,
            eps: 1e-5,
            elementwise_affine: true,
        }
    }
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
    pub fn elementwise_affine(mut self, affine: bool) -> Self {
        self.elementwise_affine = affine;
        self
    }
}

impl Module for LayerNorm {
    fn init(&self, init: &mut Init) -> Result<()> {
        if self.elementwise_affine {
            let (s, d) = (self.normalized_shape.clone(), init.dtype());
            init.param("weight", Tensor::ones(s.clone(), d)?)?;
            init.param("bias", Tensor::zeros(s, d)?)?;
        }
        Ok(())
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let op = Op::LayerNorm {
            normalized_shape: self.normalized_shape.clone(),
            eps: self.eps,
            affine: self.elementwise_affine,
        };
        if self.elementwise_affine {
            Ok(x.apply(op, &[&ctx.param("weight")?, &ctx.param("bias")?])?)
        } else {
            Ok(x.apply(op, &[])?)
        }
    }
}

/// `nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True)`: `weight` (ones).
/// `eps: None` is PyTorch's default, the machine epsilon of the input's dtype.
#[derive(Clone, Debug, PartialEq)]
pub struct RmsNorm {
    pub normalized_shape: Vec<usize>,
    pub eps: Option<f64>,
    pub elementwise_affine: bool,
}

impl RmsNorm {
    pub fn new(normalized_shape: Vec<usize>) -> RmsNorm {
        RmsNorm {
            normalized_shape,
            eps: None,
            elementwise_affine: true,
        }
    }
    pub fn eps(mut self, eps: f64) -> Self {
        self.eps = Some(eps);
        self
    }
}

impl Module for RmsNorm {
    fn init(&self, init: &mut Init) -> Result<()> {
        if self.elementwise_affine {
            let d = init.dtype();
            init.param("weight", Tensor::ones(self.normalized_shape.clone(), d)?)?;
        }
        Ok(())
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let op = Op::RmsNorm {
            normalized_shape: self.normalized_shape.clone(),
            eps: self.eps,
            affine: self.elementwise_affine,
        };
        if self.elementwise_affine {
            Ok(x.apply(op, &[&ctx.param("weight")?])?)
        } else {
            Ok(x.apply(op, &[])?)
        }
    }
}

/// `nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True)`: `weight` (ones), `bias`
/// (zeros) of `[num_channels]`.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupNorm {
    pub num_groups: usize,
    pub num_channels: usize,
    pub eps: f64,
    pub affine: bool,
}

impl GroupNorm {
    pub fn new(num_groups: usize, num_channels: usize) -> GroupNorm {
        GroupNorm {
            num_groups,
            num_channels,
            eps: 1e-5,
            affine: true,
        }
    }
}

impl Module for GroupNorm {
    fn init(&self, init: &mut Init) -> Result<()> {
        if self.num_groups == 0 || !self.num_channels.is_multiple_of(self.num_groups) {
            return Err(NnError::invalid(
                init.name("GroupNorm"),
                format!(
                    "num_channels {} must be divisible by num_groups {}",
                    self.num_channels, self.num_groups
                ),
            ));
        }
        if self.affine {
            let (c, d): (usize, DType) = (self.num_channels, init.dtype());
            init.param("weight", Tensor::ones([c], d)?)?;
            init.param("bias", Tensor::zeros([c], d)?)?;
        }
        Ok(())
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let op = Op::GroupNorm {
            num_groups: self.num_groups,
            eps: self.eps,
            affine: self.affine,
        };
        if self.affine {
            Ok(x.apply(op, &[&ctx.param("weight")?, &ctx.param("bias")?])?)
        } else {
            Ok(x.apply(op, &[])?)
        }
    }
}
