//! Activation modules (no parameters), with PyTorch's definitions.

use super::{Ctx, Init, Module};
use crate::Result;
use strata_autograd::Var;
use strata_ir::{Comparison, GeluApproximation, Op};

macro_rules! simple {
    ($($(#[$doc:meta])* $name:ident => |$x:ident| $body:expr;)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug, Default, PartialEq)]
            pub struct $name;

            impl Module for $name {
                fn init(&self, _: &mut Init) -> Result<()> {
                    Ok(())
                }
                fn forward(&self, _: &Ctx, $x: &Var) -> Result<Var> {
                    Ok($body?)
                }
            }
        )*
    };
}

simple! {
    /// `nn.ReLU`.
    ReLU => |x| x.relu();
    /// `nn.Tanh`.
    Tanh => |x| x.tanh();
    /// `nn.Sigmoid`.
    Sigmoid => |x| x.sigmoid();
    /// `nn.SiLU`: `x · sigmoid(x)`.
    SiLU => |x| x.silu();
    /// `nn.Identity`.
    Identity => |x| Ok::<Var, strata_autograd::AutogradError>(x.clone());
    /// `nn.ReLU6`: `min(max(x, 0), 6)`.
    ReLU6 => |x| x.relu().and_then(|r| r.minimum(&x.scalar(6.0)));
    /// `nn.Mish`: `x · tanh(softplus(x))`.
    Mish => |x| x
        .apply(Op::Softplus { beta: 1.0, threshold: 20.0 }, &[])
        .and_then(|s| s.tanh())
        .and_then(|t| x.mul(&t));
}

/// `nn.GELU(approximate='none' | 'tanh')`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gelu {
    pub approximate: GeluApproximation,
}

impl Default for Gelu {
    fn default() -> Self {
        Gelu {
            approximate: GeluApproximation::Erf,
        }
    }
}

impl Module for Gelu {
    fn init(&self, _: &mut Init) -> Result<()> {
        Ok(())
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Result<Var> {
        Ok(x.apply(
            Op::Gelu {
                approximate: self.approximate,
            },
            &[],
        )?)
    }
}

/// `nn.LeakyReLU(negative_slope)` (default 0.01).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakyReLU {
    pub negative_slope: f64,
}

impl Default for LeakyReLU {
    fn default() -> Self {
        LeakyReLU {
            negative_slope: 0.01,
        }
    }
}

impl Module for LeakyReLU {
    fn init(&self, _: &mut Init) -> Result<()> {
        Ok(())
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Result<Var> {
        Ok(x.leaky_relu(self.negative_slope)?)
    }
}

/// `nn.ELU(alpha)` (default 1): `x` for `x > 0`, `alpha · (exp(x) − 1)` otherwise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Elu {
    pub alpha: f64,
}

impl Default for Elu {
    fn default() -> Self {
        Elu { alpha: 1.0 }
    }
}

impl Module for Elu {
    fn init(&self, _: &mut Init) -> Result<()> {
        Ok(())
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Result<Var> {
        let positive = x.compare(Comparison::Gt, &x.scalar(0.0))?;
        let negative = x.exp()?.add_scalar(-1.0)?.mul_scalar(self.alpha)?;
        Ok(positive.apply(Op::Where, &[x, &negative])?)
    }
}

/// `nn.Softplus(beta, threshold)` (default 1, 20).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softplus {
    pub beta: f64,
    pub threshold: f64,
}

impl Default for Softplus {
    fn default() -> Self {
        Softplus {
            beta: 1.0,
            threshold: 20.0,
        }
    }
}

impl Module for Softplus {
    fn init(&self, _: &mut Init) -> Result<()> {
        Ok(())
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Result<Var> {
        Ok(x.apply(
            Op::Softplus {
                beta: self.beta,
                threshold: self.threshold,
            },
            &[],
        )?)
    }
}

/// `nn.Hardtanh(min_val, max_val)` (default −1, 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hardtanh {
    pub min_val: f64,
    pub max_val: f64,
}

impl Default for Hardtanh {
    fn default() -> Self {
        Hardtanh {
            min_val: -1.0,
            max_val: 1.0,
        }
    }
}

impl Module for Hardtanh {
    fn init(&self, _: &mut Init) -> Result<()> {
        Ok(())
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Result<Var> {
        Ok(x.maximum(&x.scalar(self.min_val))?
            .minimum(&x.scalar(self.max_val))?)
    }
}

/// `nn.Softmax(dim)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Softmax {
    pub dim: isize,
}

impl Module for Softmax {
    fn init(&self, _: &mut Init) -> Result<()> {
        Ok(())
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Result<Var> {
        Ok(x.softmax(self.dim)?)
    }
}

/// `nn.LogSoftmax(dim)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogSoftmax {
    pub dim: isize,
}

impl Module for LogSoftmax {
    fn init(&self, _: &mut Init) -> Result<()> {
        Ok(())
    }
    fn forward(&self, _: &Ctx, x: &Var) -> Result<Var> {
        Ok(x.log_softmax(self.dim)?)
    }
}
