//! `nn.MultiheadAttention` (self-attention) and `nn.TransformerEncoderLayer`.

use super::{Ctx, Dropout, Init, LayerNorm, Linear, Module};
use crate::{NnError, Result};
use strata_autograd::Var;
use strata_ir::{AttentionMask, Op};
use strata_tensor::init::{torch_default_weight, xavier_uniform};
use strata_tensor::Tensor;

/// Piece `index` of `x` split into `parts` equal pieces along the last axis.
pub(crate) fn chunk(x: &Var, parts: usize, index: usize) -> Result<Var> {
    let last = *x.dims().last().unwrap_or(&0);
    Ok(x.apply(
        Op::Split {
            axis: -1,
            sizes: vec![last / parts; parts],
            index,
        },
        &[],
    )?)
}

/// `nn.MultiheadAttention(embed_dim, num_heads, dropout, bias=True, batch_first)` used as
/// self-attention (`attn(x, x, x, need_weights=False)`): `in_proj_weight [3E, E]`
/// (xavier-uniform), `in_proj_bias [3E]` (zeros), `out_proj.weight [E, E]` (kaiming-uniform
/// a = √5), `out_proj.bias [E]` (zeros). Input `[L, N, E]`, or `[N, L, E]` with `batch_first`.
/// Attention runs as `Op::ScaledDotProductAttention` (scale 1/√head_dim); in training mode with
/// `dropout > 0` the attention weights are computed with explicit ops so that the dropout mask
/// can apply to them, as PyTorch does.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiheadAttention {
    pub embed_dim: usize,
    pub num_heads: usize,
    pub dropout: f64,
    pub batch_first: bool,
    /// Query `i` attends to keys `j ≤ i` only (PyTorch's `is_causal=True` with the causal mask).
    pub causal: bool,
}

impl MultiheadAttention {
    pub fn new(embed_dim: usize, num_heads: usize) -> MultiheadAttention {
        MultiheadAttention {
            embed_dim,
            num_heads,
            dropout: 0.0,
            batch_first: false,
            causal: false,
        }
    }
    pub fn batch_first(mut self, batch_first: bool) -> Self {
        self.batch_first = batch_first;
        self
    }
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self
    }
    pub fn causal(mut self, causal: bool) -> Self {
        self.causal = causal;
        self
    }
}

impl Module for MultiheadAttention {
    fn init(&self, init: &mut Init) -> Result<()> {
        let (e, h) = (self.embed_dim, self.num_heads);
        if h == 0 || !e.is_multiple_of(h) {
            return Err(NnError::invalid(
                init.name("MultiheadAttention"),
                format!("embed_dim {e} must be divisible by num_heads {h}"),
            ));
        }
        let d = init.dtype();
        let w = xavier_uniform([3 * e, e], 1.0, d, init.rng())?;
        init.param("in_proj_weight", w)?;
        init.param("in_proj_bias", Tensor::zeros([3 * e], d)?)?;
        let ow = torch_default_weight([e, e], d, init.rng())?;
        init.param("out_proj.weight", ow)?;
        init.param("out_proj.bias", Tensor::zeros([e], d)?)
    }

    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let dims = x.dims();
        let (e, h) = (self.embed_dim, self.num_heads);
        if dims.len() != 3 || dims[2] != e {
            return Err(NnError::invalid(
                ctx.name("MultiheadAttention"),
                format!(
                    "expected an input {} with E = {e}, got {dims:?}",
                    if self.batch_first {
                        "[N, L, E]"
                    } else {
                        "[L, N, E]"
                    }
                ),
            ));
        }
        let x = if self.batch_first {
            x.clone()
        } else {
            x.transpose(0, 1)?
        };
        let (n, l) = (x.dims()[0] as i64, x.dims()[1] as i64);
        let hd = (e / h) as i64;
        let qkv = x.linear(
            &ctx.param("in_proj_weight")?,
            Some(&ctx.param("in_proj_bias")?),
        )?;
        let heads = |i: usize| -> Result<Var> {
            Ok(chunk(&qkv, 3, i)?
                .reshape(&[n, l, h as i64, hd])?
                .permute(&[0, 2, 1, 3])?)
        };
        let (q, k, v) = (heads(0)?, heads(1)?, heads(2)?);
        let attended = if ctx.is_training() && self.dropout > 0.0 {
            let scale = 1.0 / (hd as f64).sqrt();
            let mut scores = q.mul_scalar(scale)?.matmul(&k.transpose(-2, -1)?)?;
            if self.causal {
                let l = l as usize;
                let keep: Vec<bool> = (0..l * l).map(|i| i % l <= i / l).collect();
                let mask = ctx.constant(Tensor::from_vec(keep, [l, l])?);
                scores = scores.apply(Op::MaskedSoftmax { axis: -1 }, &[&mask])?;
            } else {
                scores = scores.softmax(-1)?;
            }
            let noise = ctx.dropout_noise(scores.ty().shape, self.dropout, scores.dtype())?;
            scores.mul(&noise)?.matmul(&v)?
        } else {
            let mask = if self.causal {
                AttentionMask::Causal
            } else {
                AttentionMask::None
            };
            q.apply(
                Op::ScaledDotProductAttention { mask, scale: None },
                &[&k, &v],
            )?
        };
        let merged = attended
            .permute(&[0, 2, 1, 3])?
            .reshape(&[n, l, e as i64])?;
        let out = merged.linear(
            &ctx.param("out_proj.weight")?,
            Some(&ctx.param("out_proj.bias")?),
        )?;
        if self.batch_first {
            Ok(out)
        } else {
            Ok(out.transpose(0, 1)?)
        }
    }
}

/// The feed-forward activation of a [`TransformerEncoderLayer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedForwardActivation {
    Relu,
    Gelu,
}

/// `nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
/// activation='relu', layer_norm_eps=1e-5, batch_first, norm_first)`: children `self_attn`,
/// `linear1`, `dropout`, `linear2`, `norm1`, `norm2`, `dropout1`, `dropout2`, with PyTorch's
/// post-norm (`norm_first = false`) or pre-norm order.
#[derive(Clone, Debug, PartialEq)]
pub struct TransformerEncoderLayer {
    pub self_attn: MultiheadAttention,
    pub linear1: Linear,
    pub linear2: Linear,
    pub norm1: LayerNorm,
    pub norm2: LayerNorm,
    pub dropout: f64,
    pub activation: FeedForwardActivation,
    pub norm_first: bool,
}

impl TransformerEncoderLayer {
    pub fn new(d_model: usize, nhead: usize, dim_feedforward: usize) -> TransformerEncoderLayer {
        TransformerEncoderLayer {
            self_attn: MultiheadAttention::new(d_model, nhead).dropout(0.1),
            linear1: Linear::new(d_model, dim_feedforward),
            linear2: Linear::new(dim_feedforward, d_model),
            norm1: LayerNorm::new(vec![d_model]),
            norm2: LayerNorm::new(vec![d_model]),
            dropout: 0.1,
            activation: FeedForwardActivation::Relu,
            norm_first: false,
        }
    }
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout = p;
        self.self_attn.dropout = p;
        self
    }
    pub fn batch_first(mut self, batch_first: bool) -> Self {
        self.self_attn.batch_first = batch_first;
        self
    }
    pub fn norm_first(mut self, norm_first: bool) -> Self {
        self.norm_first = norm_first;
        self
    }
    pub fn activation(mut self, activation: FeedForwardActivation) -> Self {
        self.activation = activation;
        self
    }
    pub fn causal(mut self, causal: bool) -> Self {
        self.self_attn.causal = causal;
        self
    }

    fn feed_forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let h = self.linear1.forward(&ctx.child("linear1"), x)?;
        let h = match self.activation {
            FeedForwardActivation::Relu => h.relu()?,
            FeedForwardActivation::Gelu => h.gelu()?,
        };
        let h = Dropout::new(self.dropout).forward(&ctx.child("dropout"), &h)?;
        let h = self.linear2.forward(&ctx.child("linear2"), &h)?;
        Dropout::new(self.dropout).forward(&ctx.child("dropout2"), &h)
    }

    fn attention(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let a = self.self_attn.forward(&ctx.child("self_attn"), x)?;
        Dropout::new(self.dropout).forward(&ctx.child("dropout1"), &a)
    }
}

impl Module for TransformerEncoderLayer {
    fn init(&self, init: &mut Init) -> Result<()> {
        init.child("self_attn", &self.self_attn)?;
        init.child("linear1", &self.linear1)?;
        init.child("linear2", &self.linear2)?;
        init.child("norm1", &self.norm1)?;
        init.child("norm2", &self.norm2)
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        let (n1, n2) = (ctx.child("norm1"), ctx.child("norm2"));
        if self.norm_first {
            let x = x.add(&self.attention(ctx, &self.norm1.forward(&n1, x)?)?)?;
            let ff = self.feed_forward(ctx, &self.norm2.forward(&n2, &x)?)?;
            Ok(x.add(&ff)?)
        } else {
            let x = self.norm1.forward(&n1, &x.add(&self.attention(ctx, x)?)?)?;
            let ff = self.feed_forward(ctx, &x)?;
            self.norm2.forward(&n2, &x.add(&ff)?)
        }
    }
}
