//! PyTorch-style methods on [`Var`]: each one applies one IR op, so everything a model
//! computes is recorded by tag and traces to the IR unchanged.

use crate::error::AutogradError;
use crate::tape::Var;
use strata_ir::{Comparison, GeluApproximation, Op, Reduction};
use strata_tensor::{AvgPool2dParams, Conv1dParams, Conv2dParams, DType, MaxPool2dParams, Tensor};

type R = Result<Var, AutogradError>;

macro_rules! unary {
    ($($name:ident => $op:expr;)*) => {
        $(
            pub fn $name(&self) -> R {
                self.apply($op, &[])
            }
        )*
    };
}

macro_rules! binary {
    ($($name:ident => $op:expr;)*) => {
        $(
            pub fn $name(&self, other: &Var) -> R {
                self.apply($op, &[other])
            }
        )*
    };
}

impl Var {
    unary! {
        neg => Op::Neg;
        abs => Op::Abs;
        sqrt => Op::Sqrt;
        reciprocal => Op::Reciprocal;
        square => Op::Square;
        exp => Op::Exp;
        log => Op::Log;
        sin => Op::Sin;
        cos => Op::Cos;
        tanh => Op::Tanh;
        sigmoid => Op::Sigmoid;
        relu => Op::Relu;
        gelu => Op::Gelu { approximate: GeluApproximation::Erf };
        silu => Op::Silu;
        erf => Op::Erf;
        detach => Op::Detach;
    }

    binary! {
        add => Op::Add;
        sub => Op::Sub;
        mul => Op::Mul;
        div => Op::Div;
        pow => Op::Pow;
        minimum => Op::Minimum;
        maximum => Op::Maximum;
        matmul => Op::Matmul;
    }

    pub fn leaky_relu(&self, negative_slope: f64) -> R {
        self.apply(Op::LeakyRelu { negative_slope }, &[])
    }

    /// A rank-0 constant of this var's dtype on the same tape.
    pub fn scalar(&self, value: f64) -> Var {
        self.tape.constant(Tensor::scalar_f64(value, self.dtype()))
    }
    pub fn add_scalar(&self, value: f64) -> R {
        self.add(&self.scalar(value))
    }
    pub fn mul_scalar(&self, value: f64) -> R {
        self.mul(&self.scalar(value))
    }

    /// `self @ weightᵀ + bias` (F.linear).
    pub fn linear(&self, weight: &Var, bias: Option<&Var>) -> R {
        match bias {
            Some(b) => self.apply(Op::Linear { bias: true }, &[weight, b]),
            None => self.apply(Op::Linear { bias: false }, &[weight]),
        }
    }

    pub fn conv1d(&self, weight: &Var, bias: Option<&Var>, params: Conv1dParams) -> R {
        let op = Op::Conv1d {
            params,
            bias: bias.is_some(),
        };
        self.apply(op, &[&[weight][..], bias.as_slice()].concat())
    }

    pub fn conv2d(&self, weight: &Var, bias: Option<&Var>, params: Conv2dParams) -> R {
        let op = Op::Conv2d {
            params,
            bias: bias.is_some(),
        };
        self.apply(op, &[&[weight][..], bias.as_slice()].concat())
    }

    pub fn max_pool2d(&self, params: MaxPool2dParams) -> R {
        self.apply(Op::MaxPool2d { params }, &[])
    }

    pub fn avg_pool2d(&self, params: AvgPool2dParams) -> R {
        self.apply(Op::AvgPool2d { params }, &[])
    }

    pub fn reshape(&self, shape: &[i64]) -> R {
        self.apply(
            Op::Reshape {
                shape: shape.to_vec(),
            },
            &[],
        )
    }

    pub fn flatten(&self, start_axis: isize, end_axis: isize) -> R {
        self.apply(
            Op::Flatten {
                start_axis,
                end_axis,
            },
            &[],
        )
    }

    pub fn permute(&self, perm: &[usize]) -> R {
        self.apply(
            Op::Permute {
                perm: perm.to_vec(),
            },
            &[],
        )
    }

    pub fn transpose(&self, axis0: isize, axis1: isize) -> R {
        self.apply(Op::Transpose { axis0, axis1 }, &[])
    }

    pub fn sum(&self, axes: &[isize], keepdim: bool) -> R {
        let axes = axes.to_vec();
        self.apply(Op::ReduceSum { axes, keepdim }, &[])
    }

    /// The sum of every element (a scalar).
    pub fn sum_all(&self) -> R {
        let axes: Vec<isize> = (0..self.dims().len() as isize).collect();
        self.sum(&axes, false)
    }

    pub fn mean(&self, axes: &[isize], keepdim: bool) -> R {
        let axes = axes.to_vec();
        self.apply(Op::ReduceMean { axes, keepdim }, &[])
    }

    pub fn max(&self, axes: &[isize], keepdim: bool) -> R {
        let axes = axes.to_vec();
        self.apply(Op::ReduceMax { axes, keepdim }, &[])
    }

    pub fn softmax(&self, axis: isize) -> R {
        self.apply(Op::Softmax { axis }, &[])
    }

    pub fn log_softmax(&self, axis: isize) -> R {
        self.apply(Op::LogSoftmax { axis }, &[])
    }

    pub fn argmax(&self, axis: isize, keepdim: bool) -> R {
        self.apply(Op::ArgMax { axis, keepdim }, &[])
    }

    pub fn compare(&self, cmp: Comparison, other: &Var) -> R {
        self.apply(Op::Compare { cmp }, &[other])
    }

    pub fn cast(&self, dtype: DType) -> R {
        self.apply(Op::Cast { dtype }, &[])
    }

    pub fn dropout(&self, p: f64, seed: u64) -> R {
        self.apply(Op::Dropout { p, seed }, &[])
    }

    /// F.cross_entropy with class indices or probabilities.
    pub fn cross_entropy(&self, target: &Var, reduction: Reduction) -> R {
        self.apply(Op::CrossEntropy { reduction }, &[target])
    }

    pub fn mse_loss(&self, target: &Var, reduction: Reduction) -> R {
        self.apply(Op::MseLoss { reduction }, &[target])
    }

    pub fn nll_loss(&self, target: &Var, reduction: Reduction) -> R {
        self.apply(Op::NllLoss { reduction }, &[target])
    }

    pub fn bce_with_logits(&self, target: &Var, reduction: Reduction) -> R {
        self.apply(Op::BceWithLogits { reduction }, &[target])
    }
}
