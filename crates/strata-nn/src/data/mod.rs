//! Datasets and data loading.
//!
//! - [`Dataset`]: anything that can stack examples into a [`Batch`]; [`TensorDataset`] holds
//!   inputs and targets in memory, [`Subset`] selects examples, [`CharWindows`] cuts a token
//!   stream into next-character windows for a language model.
//! - Readers: [`load_mnist`] / [`load_fashion_mnist`] (IDX, via `strata_io`), [`read_csv`]
//!   (strict CSV, plain or gzip), [`npy_dataset`] (NPY), [`load_text`] with a
//!   [`CharTokenizer`].
//! - [`DataLoader`]: batches with seeded shuffling (Philox: the order depends only on the seed,
//!   the epoch and the dataset size, never on the thread count), `drop_last`, exact resume.
//! - [`train_val_split`], [`Normalize`].
//! - [`data_root`] / [`dataset_dir`]: where datasets live (`--data DIR`, else `STRATA_DATA`).

mod csv;
mod dirs;
mod idx;
mod loader;
mod text;
mod transform;

pub use csv::{parse_csv, read_csv, Csv, CsvOptions, Target};
pub use dirs::{data_root, dataset_dir, resolve_data_root, DATA_ENV};
pub use idx::{
    load_fashion_mnist, load_idx_classification, load_mnist, Split, FASHION_MNIST_MEAN,
    FASHION_MNIST_STD, MNIST_MEAN, MNIST_STD,
};
pub use loader::{train_val_split, Batches, DataLoader, SplitSize};
pub use text::{load_text, load_tinyshakespeare, split_tokens, CharTokenizer, CharWindows};
pub use transform::Normalize;

use crate::{NnError, Result};
use std::path::Path;
use strata_tensor::Tensor;

/// A batch: `inputs` and `targets`, each with the batch as first dimension.
#[derive(Clone, Debug)]
pub struct Batch {
    pub inputs: Tensor,
    pub targets: Tensor,
}

/// A collection of examples that can be gathered into batches.
pub trait Dataset {
    /// The number of examples.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The examples at `indices`, stacked along a new first dimension (in that order).
    fn get_batch(&self, indices: &[usize]) -> Result<Batch>;
}

impl<D: Dataset + ?Sized> Dataset for &D {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        (**self).get_batch(indices)
    }
}

/// Inputs and targets held in memory; example `i` is `inputs[i]`, `targets[i]`.
#[derive(Clone, Debug)]
pub struct TensorDataset {
    inputs: Tensor,
    targets: Tensor,
}

impl TensorDataset {
    /// Both tensors need rank ≥ 1 and the same first dimension.
    pub fn new(inputs: Tensor, targets: Tensor) -> Result<TensorDataset> {
        if inputs.rank() == 0 || targets.rank() == 0 {
            return Err(NnError::invalid(
                "TensorDataset",
                format!(
                    "inputs {} and targets {} need a first (example) dimension",
                    inputs.shape(),
                    targets.shape()
                ),
            ));
        }
        if inputs.dims()[0] != targets.dims()[0] {
            return Err(NnError::invalid(
                "TensorDataset",
                format!(
                    "inputs {} and targets {} hold different numbers of examples",
                    inputs.shape(),
                    targets.shape()
                ),
            ));
        }
        Ok(TensorDataset { inputs, targets })
    }
    pub fn inputs(&self) -> &Tensor {
        &self.inputs
    }
    pub fn targets(&self) -> &Tensor {
        &self.targets
    }
    /// The dataset with `f` applied to all inputs at once (e.g. [`Normalize::apply`]); the
    /// result must keep the first dimension.
    pub fn map_inputs(self, f: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<TensorDataset> {
        let inputs = f(&self.inputs)?;
        TensorDataset::new(inputs, self.targets)
    }
    /// The examples at `indices` as a new in-memory dataset.
    pub fn select(&self, indices: &[usize]) -> Result<TensorDataset> {
        let b = self.get_batch(indices)?;
        TensorDataset::new(b.inputs, b.targets)
    }
    pub fn into_parts(self) -> (Tensor, Tensor) {
        (self.inputs, self.targets)
    }
}

pub(crate) fn index_tensor(context: &str, indices: &[usize], len: usize) -> Result<Tensor> {
    let mut v = Vec::with_capacity(indices.len());
    for (pos, &i) in indices.iter().enumerate() {
        if i >= len {
            return Err(NnError::invalid(
                context,
                format!("index {i} (position {pos}) is out of range for {len} examples"),
            ));
        }
        v.push(i as i64);
    }
    Ok(Tensor::from_vec(v, [indices.len()])?)
}

impl Dataset for TensorDataset {
    fn len(&self) -> usize {
        self.inputs.dims()[0]
    }
    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        let idx = index_tensor("TensorDataset", indices, self.len())?;
        Ok(Batch {
            inputs: self.inputs.index_select(0, &idx)?,
            targets: self.targets.index_select(0, &idx)?,
        })
    }
}

/// The examples of `dataset` at `indices` (e.g. one side of [`train_val_split`]).
#[derive(Clone, Debug)]
pub struct Subset<D> {
    dataset: D,
    indices: Vec<usize>,
}

impl<D: Dataset> Subset<D> {
    /// Every index must be below `dataset.len()`.
    pub fn new(dataset: D, indices: Vec<usize>) -> Result<Subset<D>> {
        let n = dataset.len();
        if let Some((pos, i)) = indices.iter().enumerate().find(|(_, &i)| i >= n) {
            return Err(NnError::invalid(
                "Subset",
                format!("index {i} (position {pos}) is out of range for {n} examples"),
            ));
        }
        Ok(Subset { dataset, indices })
    }
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

impl<D: Dataset> Dataset for Subset<D> {
    fn len(&self) -> usize {
        self.indices.len()
    }
    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        let mapped = indices
            .iter()
            .enumerate()
            .map(|(pos, &i)| {
                self.indices.get(i).copied().ok_or_else(|| {
                    NnError::invalid(
                        "Subset",
                        format!(
                            "index {i} (position {pos}) is out of range for {} examples",
                            self.indices.len()
                        ),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        self.dataset.get_batch(&mapped)
    }
}

/// Inputs and targets from two NPY files with the same first dimension.
pub fn npy_dataset(inputs: impl AsRef<Path>, targets: impl AsRef<Path>) -> Result<TensorDataset> {
    let x = strata_io::read_npy(inputs.as_ref())?;
    let y = strata_io::read_npy(targets.as_ref())?;
    TensorDataset::new(x, y).map_err(|e| {
        NnError::file(
            targets.as_ref(),
            "",
            format!("does not pair with {}: {e}", inputs.as_ref().display()),
        )
    })
}
