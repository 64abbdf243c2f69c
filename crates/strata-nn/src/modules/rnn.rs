//! `nn.LSTM` and `nn.GRU`, unrolled over time with ops (so both backends and every numeric
//! layer run them).

use super::attention::chunk;
use super::{Ctx, Init, Module};
use crate::{NnError, Result};
use strata_autograd::Var;
use strata_ir::Op;
use strata_tensor::Tensor;

/// What LSTM and GRU share: sizes, layers, layout and the per-layer parameters
/// `weight_ih_l{k} [G·H, in]`, `weight_hh_l{k} [G·H, H]`, `bias_ih_l{k}`, `bias_hh_l{k}`
/// (`[G·H]`), every one drawn from U(−1/√H, 1/√H) in that order, layer by layer (PyTorch's
/// `reset_parameters`); `G` is 4 (LSTM) or 3 (GRU).
#[derive(Clone, Debug, PartialEq)]
struct RnnShape {
    input_size: usize,
    hidden_size: usize,
    num_layers: usize,
    bias: bool,
    batch_first: bool,
    /// Dropout on the outputs of every layer but the last (training mode).
    dropout: f64,
}

impl RnnShape {
    fn init(&self, init: &mut Init, gates: usize, what: &str) -> Result<()> {
        let h = self.hidden_size;
        if h == 0 || self.num_layers == 0 {
            return Err(NnError::invalid(
                init.name(what),
                "hidden_size and num_layers must be at least 1",
            ));
        }
        let bound = 1.0 / (h as f64).sqrt();
        let d = init.dtype();
        for k in 0..self.num_layers {
            let inp = if k == 0 { self.input_size } else { h };
            let mut shapes = vec![
                (format!("weight_ih_l{k}"), vec![gates * h, inp]),
                (format!("weight_hh_l{k}"), vec![gates * h, h]),
            ];
            if self.bias {
                shapes.push((format!("bias_ih_l{k}"), vec![gates * h]));
                shapes.push((format!("bias_hh_l{k}"), vec![gates * h]));
            }
            for (name, shape) in shapes {
                let t = Tensor::rand_uniform(shape, -bound, bound, d, init.rng())?;
                init.param(&name, t)?;
            }
        }
        Ok(())
    }

    /// The input as `[N, L, I]`, checked.
    fn batch_major(&self, ctx: &Ctx, x: &Var, what: &str) -> Result<Var> {
        let dims = x.dims();
        if dims.len() != 3 || dims[2] != self.input_size {
            return Err(NnError::invalid(
                ctx.name(what),
                format!(
                    "expected an input {} with input_size {}, got {dims:?}",
                    if self.batch_first {
                        "[N, L, I]"
                    } else {
                        "[L, N, I]"
                    },
                    self.input_size
                ),
            ));
        }
        if self.batch_first {
            Ok(x.clone())
        } else {
            Ok(x.transpose(0, 1)?)
        }
    }

    fn weights(&self, ctx: &Ctx, k: usize) -> Result<(Var, Var, Option<Var>, Option<Var>)> {
        let w_ih = ctx.param(&format!("weight_ih_l{k}"))?;
        let w_hh = ctx.param(&format!("weight_hh_l{k}"))?;
        let (b_ih, b_hh) = if self.bias {
            (
                Some(ctx.param(&format!("bias_ih_l{k}"))?),
                Some(ctx.param(&format!("bias_hh_l{k}"))?),
            )
        } else {
            (None, None)
        };
        Ok((w_ih, w_hh, b_ih, b_hh))
    }
}

/// Step `t` of `xw [N, L, G·H]` as `[N, G·H]`.
fn at(xw: &Var, t: usize) -> Result<Var> {
    let d = xw.dims();
    Ok(xw
        .apply(
            Op::Slice {
                axis: 1,
                start: t as i64,
                end: t as i64 + 1,
                step: 1,
            },
            &[],
        )?
        .reshape(&[d[0] as i64, d[2] as i64])?)
}

fn zeros_state(ctx: &Ctx, x: &Var, h: usize) -> Result<Var> {
    Ok(ctx.constant(Tensor::zeros([x.dims()[0], h], x.dtype())?))
}

fn as_step(h: &Var) -> Result<Var> {
    let d = h.dims();
    Ok(h.reshape(&[d[0] as i64, 1, d[1] as i64])?)
}

fn between_layers(shape: &RnnShape, ctx: &Ctx, y: Var, last: bool) -> Result<Var> {
    if last || !ctx.is_training() || shape.dropout == 0.0 {
        return Ok(y);
    }
    let noise = ctx.dropout_noise(y.ty().shape, shape.dropout, y.dtype())?;
    Ok(y.mul(&noise)?)
}

/// `nn.LSTM(input_size, hidden_size, num_layers, bias, batch_first, dropout)`, zero initial
/// state. Gates in PyTorch's order i, f, g, o: `c = f·c + i·g`, `h = o·tanh(c)`.
/// [`Module::forward`] returns the output sequence; [`Lstm::forward_with_state`] also `h_n`
/// and `c_n` (`[layers, N, H]`).
#[derive(Clone, Debug, PartialEq)]
pub struct Lstm(RnnShape);

impl Lstm {
    pub fn new(input_size: usize, hidden_size: usize) -> Lstm {
        Lstm(RnnShape {
            input_size,
            hidden_size,
            num_layers: 1,
            bias: true,
            batch_first: false,
            dropout: 0.0,
        })
    }
    pub fn num_layers(mut self, n: usize) -> Self {
        self.0.num_layers = n;
        self
    }
    pub fn batch_first(mut self, b: bool) -> Self {
        self.0.batch_first = b;
        self
    }
    pub fn bias(mut self, b: bool) -> Self {
        self.0.bias = b;
        self
    }
    pub fn dropout(mut self, p: f64) -> Self {
        self.0.dropout = p;
        self
    }

    /// The output sequence, and the final hidden and cell states `[layers, N, H]`.
    pub fn forward_with_state(&self, ctx: &Ctx, x: &Var) -> Result<(Var, Var, Var)> {
        let s = &self.0;
        let mut input = s.batch_major(ctx, x, "LSTM")?;
        let (mut hs, mut cs) = (Vec::new(), Vec::new());
        for k in 0..s.num_layers {
            let (w_ih, w_hh, b_ih, b_hh) = s.weights(ctx, k)?;
            let xw = input.linear(&w_ih, b_ih.as_ref())?;
            let mut h = zeros_state(ctx, &input, s.hidden_size)?;
            let mut c = h.clone();
            let mut steps = Vec::new();
            for t in 0..input.dims()[1] {
                let g = at(&xw, t)?.add(&h.linear(&w_hh, b_hh.as_ref())?)?;
                let i = chunk(&g, 4, 0)?.sigmoid()?;
                let f = chunk(&g, 4, 1)?.sigmoid()?;
                let gg = chunk(&g, 4, 2)?.tanh()?;
                let o = chunk(&g, 4, 3)?.sigmoid()?;
                c = f.mul(&c)?.add(&i.mul(&gg)?)?;
                h = o.mul(&c.tanh()?)?;
                steps.push(as_step(&h)?);
            }
            let y = s.output_batch_major(&steps)?;
            input = between_layers(s, ctx, y, k + 1 == s.num_layers)?;
            hs.push(as_layer(&h)?);
            cs.push(as_layer(&c)?);
        }
        Ok((s.finish(input)?, stack(&hs)?, stack(&cs)?))
    }
}

/// `nn.GRU(input_size, hidden_size, num_layers, bias, batch_first, dropout)`, zero initial
/// state. Gates in PyTorch's order r, z, n: `n = tanh(W_in x + b_in + r·(W_hn h + b_hn))`,
/// `h = (h − n)·z + n`. [`Module::forward`] returns the output sequence;
/// [`Gru::forward_with_state`] also `h_n`.
#[derive(Clone, Debug, PartialEq)]
pub struct Gru(RnnShape);

impl Gru {
    pub fn new(input_size: usize, hidden_size: usize) -> Gru {
        Gru(Lstm::new(input_size, hidden_size).0)
    }
    pub fn num_layers(mut self, n: usize) -> Self {
        self.0.num_layers = n;
        self
    }
    pub fn batch_first(mut self, b: bool) -> Self {
        self.0.batch_first = b;
        self
    }
    pub fn bias(mut self, b: bool) -> Self {
        self.0.bias = b;
        self
    }
    pub fn dropout(mut self, p: f64) -> Self {
        self.0.dropout = p;
        self
    }

    /// The output sequence and the final hidden state `[layers, N, H]`.
    pub fn forward_with_state(&self, ctx: &Ctx, x: &Var) -> Result<(Var, Var)> {
        let s = &self.0;
        let mut input = s.batch_major(ctx, x, "GRU")?;
        let mut hs = Vec::new();
        for k in 0..s.num_layers {
            let (w_ih, w_hh, b_ih, b_hh) = s.weights(ctx, k)?;
            let xw = input.linear(&w_ih, b_ih.as_ref())?;
            let mut h = zeros_state(ctx, &input, s.hidden_size)?;
            let mut steps = Vec::new();
            for t in 0..input.dims()[1] {
                let xt = at(&xw, t)?;
                let hw = h.linear(&w_hh, b_hh.as_ref())?;
                let r = chunk(&xt, 3, 0)?.add(&chunk(&hw, 3, 0)?)?.sigmoid()?;
                let z = chunk(&xt, 3, 1)?.add(&chunk(&hw, 3, 1)?)?.sigmoid()?;
                let n = chunk(&xt, 3, 2)?.add(&r.mul(&chunk(&hw, 3, 2)?)?)?.tanh()?;
                h = h.sub(&n)?.mul(&z)?.add(&n)?;
                steps.push(as_step(&h)?);
            }
            let y = s.output_batch_major(&steps)?;
            input = between_layers(s, ctx, y, k + 1 == s.num_layers)?;
            hs.push(as_layer(&h)?);
        }
        Ok((s.finish(input)?, stack(&hs)?))
    }
}

impl RnnShape {
    fn output_batch_major(&self, steps: &[Var]) -> Result<Var> {
        let (first, rest) = steps
            .split_first()
            .ok_or_else(|| NnError::invalid("RNN", "the sequence is empty"))?;
        let refs: Vec<&Var> = rest.iter().collect();
        Ok(first.apply(Op::Concat { axis: 1 }, &refs)?)
    }
    fn finish(&self, y: Var) -> Result<Var> {
        if self.batch_first {
            Ok(y)
        } else {
            Ok(y.transpose(0, 1)?)
        }
    }
}

fn as_layer(h: &Var) -> Result<Var> {
    let d = h.dims();
    Ok(h.reshape(&[1, d[0] as i64, d[1] as i64])?)
}

fn stack(layers: &[Var]) -> Result<Var> {
    let (first, rest) = layers
        .split_first()
        .ok_or_else(|| NnError::invalid("RNN", "no layers"))?;
    let refs: Vec<&Var> = rest.iter().collect();
    Ok(first.apply(Op::Concat { axis: 0 }, &refs)?)
}

impl Module for Lstm {
    fn init(&self, init: &mut Init) -> Result<()> {
        self.0.init(init, 4, "LSTM")
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        Ok(self.forward_with_state(ctx, x)?.0)
    }
}

impl Module for Gru {
    fn init(&self, init: &mut Init) -> Result<()> {
        self.0.init(init, 3, "GRU")
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        Ok(self.forward_with_state(ctx, x)?.0)
    }
}
