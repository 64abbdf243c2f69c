//! MNIST and Fashion-MNIST from their IDX files (gzip-compressed or not).

use super::TensorDataset;
use crate::{NnError, Result};
use std::path::{Path, PathBuf};
use strata_tensor::{DType, Tensor};

/// MNIST's training-set pixel mean and standard deviation (of pixels scaled to [0, 1]).
pub const MNIST_MEAN: f64 = 0.1307;
pub const MNIST_STD: f64 = 0.3081;
/// Fashion-MNIST's training-set pixel mean and standard deviation.
pub const FASHION_MNIST_MEAN: f64 = 0.2860;
pub const FASHION_MNIST_STD: f64 = 0.3530;

/// Which part of a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    let gz = dir.join(format!("{stem}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    let plain = dir.join(stem);
    if plain.is_file() {
        return Ok(plain);
    }
    Err(NnError::file(
        gz,
        "",
        format!(
            "missing (nor is there an uncompressed {stem} in {})",
            dir.display()
        ),
    ))
}

/// MNIST from `dir` (holding `train-images-idx3-ubyte.gz` etc.): images as f32 `[N, 1, 28, 28]`
/// scaled to [0, 1] as torchvision's `ToTensor` does (`pixel / 255` in f32), labels as i64
/// `[N]` in 0..10. Normalize with [`MNIST_MEAN`], [`MNIST_STD`].
pub fn load_mnist(dir: impl AsRef<Path>, split: Split) -> Result<TensorDataset> {
    load_pair(dir.as_ref(), split)
}

/// Fashion-MNIST (the same file names and layout as MNIST).
pub fn load_fashion_mnist(dir: impl AsRef<Path>, split: Split) -> Result<TensorDataset> {
    load_pair(dir.as_ref(), split)
}

fn load_pair(dir: &Path, split: Split) -> Result<TensorDataset> {
    let prefix = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    let images = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let labels = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    load_idx_classification(&images, &labels, 10)
}

/// Images (u8 IDX of rank 3 `[N, H, W]` or rank 4 `[N, C, H, W]`) and labels (IDX of rank 1,
/// each in `0..num_classes`): images as f32 `[N, C, H, W]` in [0, 1], labels as i64.
pub fn load_idx_classification(
    images: &Path,
    labels: &Path,
    num_classes: usize,
) -> Result<TensorDataset> {
    let x = strata_io::read_idx_as(images, DType::F32)?;
    let x = match x.rank() {
        3 => {
            let d = x.dims().to_vec();
            x.reshape([d[0], 1, d[1], d[2]])?
        }
        4 => x,
        r => {
            return Err(NnError::file(
                images,
                "header",
                format!(
                    "expected images of rank 3 or 4, found rank {r} ({})",
                    x.shape()
                ),
            ))
        }
    };
    let pixels = x.to_vec::<f32>()?;
    if let Some(i) = pixels.iter().position(|&p| !(0.0..=255.0).contains(&p)) {
        return Err(NnError::file(
            images,
            format!("element {i}"),
            format!("pixel value {} is outside 0..=255", pixels[i]),
        ));
    }
    let scaled: Vec<f32> = pixels.into_iter().map(|p| p / 255.0).collect();
    let x = Tensor::from_vec(scaled, x.shape().clone())?;
    let y = strata_io::read_idx(labels)?;
    if y.rank() != 1 || y.dtype() != DType::I64 {
        return Err(NnError::file(
            labels,
            "header",
            format!(
                "expected integer labels of rank 1, found {} {}",
                y.dtype(),
                y.shape()
            ),
        ));
    }
    let values = y.to_vec::<i64>()?;
    if let Some(i) = values
        .iter()
        .position(|&l| l < 0 || l as u64 >= num_classes as u64)
    {
        return Err(NnError::file(
            labels,
            format!("label {i}"),
            format!("value {} is out of range 0..{num_classes}", values[i]),
        ));
    }
    if values.len() != x.dims()[0] {
        return Err(NnError::file(
            labels,
            "header",
            format!(
                "{} labels for {} images in {}",
                values.len(),
                x.dims()[0],
                images.display()
            ),
        ));
    }
    TensorDataset::new(x, y)
}
