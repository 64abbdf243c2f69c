//! Input transforms.

use crate::{NnError, Result};
use strata_tensor::{DType, Tensor};

/// Per-channel normalization `(x − mean[c]) / std[c]`, as torchvision's `Normalize`: mean and
/// std are rounded to the input's dtype and each element is one subtraction and one division
/// in that dtype. The channel is dimension 1 of an `[N, C, …]` batch (or dimension 0 of a
/// `[C, …]` example with [`Normalize::apply_example`]); one mean/std applies to every channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalize {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl Normalize {
    pub fn new(mean: Vec<f64>, std: Vec<f64>) -> Result<Normalize> {
        if mean.is_empty() || mean.len() != std.len() {
            return Err(NnError::invalid(
                "Normalize",
                format!(
                    "needs as many means as stds, at least one ({} and {})",
                    mean.len(),
                    std.len()
                ),
            ));
        }
        if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s != 0.0)) {
            return Err(NnError::invalid(
                "Normalize",
                format!("std {s} must be finite and non-zero"),
            ));
        }
        Ok(Normalize { mean, std })
    }
    /// MNIST's (0.1307, 0.3081).
    pub fn mnist() -> Normalize {
        Normalize {
            mean: vec![super::MNIST_MEAN],
            std: vec![super::MNIST_STD],
        }
    }
    /// Fashion-MNIST's (0.2860, 0.3530).
    pub fn fashion_mnist() -> Normalize {
        Normalize {
            mean: vec![super::FASHION_MNIST_MEAN],
            std: vec![super::FASHION_MNIST_STD],
        }
    }

    /// Normalizes a batch `[N, C, …]` (channel dimension 1; rank 1 `[N]` counts as one channel).
    pub fn apply(&self, x: &Tensor) -> Result<Tensor> {
        self.apply_dim(x, 1)
    }
    /// Normalizes one example `[C, …]` (channel dimension 0).
    pub fn apply_example(&self, x: &Tensor) -> Result<Tensor> {
        self.apply_dim(x, 0)
    }

    fn apply_dim(&self, x: &Tensor, dim: usize) -> Result<Tensor> {
        let dims = x.dims();
        let channels = dims.get(dim).copied().unwrap_or(1);
        let inner: usize = dims.iter().skip(dim + 1).product();
        if self.mean.len() != 1 && self.mean.len() != channels {
            return Err(NnError::invalid(
                "Normalize",
                format!(
                    "{} means for an input of shape {} with {channels} channels (dimension {dim})",
                    self.mean.len(),
                    x.shape()
                ),
            ));
        }
        let channel = |i: usize| {
            if self.mean.len() == 1 {
                0
            } else {
                (i / inner.max(1)) % channels
            }
        };
        match x.dtype() {
            DType::F32 => {
                let m: Vec<f32> = self.mean.iter().map(|&v| v as f32).collect();
                let s: Vec<f32> = self.std.iter().map(|&v| v as f32).collect();
                let v: Vec<f32> = x
                    .data::<f32>()?
                    .iter()
                    .enumerate()
                    .map(|(i, &e)| (e - m[channel(i)]) / s[channel(i)])
                    .collect();
                Ok(Tensor::from_vec(v, x.shape().clone())?)
            }
            DType::F64 => {
                let v: Vec<f64> = x
                    .data::<f64>()?
                    .iter()
                    .enumerate()
                    .map(|(i, &e)| (e - self.mean[channel(i)]) / self.std[channel(i)])
                    .collect();
                Ok(Tensor::from_vec(v, x.shape().clone())?)
            }
            d => Err(NnError::invalid(
                "Normalize",
                format!("input dtype {d} is not f32 or f64"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_channel_normalization_by_hand() {
        // [N=1, C=2, 2]: channel 0 → (x − 1)/2, channel 1 → (x − 10)/5.
        let x = Tensor::from_vec(vec![1.0f64, 3.0, 10.0, 20.0], [1, 2, 2]).unwrap();
        let n = Normalize::new(vec![1.0, 10.0], vec![2.0, 5.0]).unwrap();
        assert_eq!(
            n.apply(&x).unwrap().to_vec::<f64>().unwrap(),
            [0.0, 1.0, 0.0, 2.0]
        );
        let e = Normalize::new(vec![0.0, 0.0, 0.0], vec![1.0; 3])
            .unwrap()
            .apply(&x)
            .unwrap_err();
        assert!(e.to_string().contains("3 means"), "{e}");
        assert!(Normalize::new(vec![0.0], vec![0.0]).is_err());
    }

    #[test]
    fn mnist_normalization_is_torchvisions_f32_arithmetic() {
        let x = Tensor::from_vec(vec![0.0f32, 1.0, 128.0 / 255.0], [3, 1]).unwrap();
        let got = Normalize::mnist()
            .apply(&x)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        let want: Vec<f32> = [0.0f32, 1.0, 128.0 / 255.0]
            .iter()
            .map(|v| (v - 0.1307f32) / 0.3081f32)
            .collect();
        assert_eq!(got, want);
        assert!((got[0] + 0.424_212_9).abs() < 1e-6);
    }
}
