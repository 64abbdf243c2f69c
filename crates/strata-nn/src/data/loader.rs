//! Batching with seeded shuffling, and train/validation splits.

use super::{Batch, Dataset};
use crate::{NnError, Result};
use strata_tensor::Rng;

/// The Philox stream position where epoch `epoch`'s permutation starts: each epoch owns a
/// disjoint 2^64-block region of the seed's stream, so an epoch's order is a pure function of
/// (seed, epoch, dataset size).
fn epoch_rng(seed: u64, epoch: u64) -> Rng {
    Rng::with_position(seed, u128::from(epoch) << 64)
}

/// Iterates a dataset in batches.
///
/// Without shuffling the order is `0, 1, …, n−1`; with [`shuffle`](DataLoader::shuffle)`(seed)`
/// epoch `e` visits a permutation drawn from the Philox stream of `seed` at a position fixed by
/// `e` (Fisher–Yates), so the order is the same on any thread count and any machine, and a run
/// resumed at epoch `e`, batch `k` ([`DataLoader::epoch_from`]) sees exactly the batches the
/// uninterrupted run would have.
///
/// ```
/// use strata_nn::data::{DataLoader, Dataset, TensorDataset};
/// use strata_tensor::Tensor;
/// # fn main() -> strata_nn::Result<()> {
/// let x = Tensor::from_vec((0..10).map(|v| v as f32).collect::<Vec<_>>(), [10, 1])?;
/// let y = Tensor::from_vec((0..10i64).collect::<Vec<_>>(), [10])?;
/// let ds = TensorDataset::new(x, y)?;
/// let loader = DataLoader::new(&ds, 4)?.shuffle(7).drop_last(true);
/// assert_eq!(loader.num_batches(), 2);
/// for batch in loader.epoch(0) {
///     let batch = batch?;
///     assert_eq!(batch.inputs.dims(), &[4, 1]);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct DataLoader<D> {
    dataset: D,
    batch_size: usize,
    drop_last: bool,
    seed: Option<u64>,
}

impl<D: Dataset> DataLoader<D> {
    /// Batches of `batch_size` (≥ 1) in order, keeping a smaller last batch.
    pub fn new(dataset: D, batch_size: usize) -> Result<DataLoader<D>> {
        if batch_size == 0 {
            return Err(NnError::invalid(
                "DataLoader",
                "batch_size must be at least 1",
            ));
        }
        Ok(DataLoader {
            dataset,
            batch_size,
            drop_last: false,
            seed: None,
        })
    }
    /// Shuffles every epoch with a permutation from `seed`.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }
    /// Drops the last batch when it is smaller than `batch_size`.
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }
    pub fn dataset(&self) -> &D {
        &self.dataset
    }
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }
    /// Batches per epoch.
    pub fn num_batches(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }
    /// The order in which epoch `epoch` visits the examples.
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let n = self.dataset.len();
        match self.seed {
            Some(seed) => epoch_rng(seed, epoch).permutation(n),
            None => (0..n).collect(),
        }
    }
    /// The batches of epoch `epoch`.
    pub fn epoch(&self, epoch: u64) -> Batches<'_, D> {
        self.epoch_from(epoch, 0)
    }
    /// The batches of epoch `epoch` from batch `start` on (to resume mid-epoch).
    pub fn epoch_from(&self, epoch: u64, start: usize) -> Batches<'_, D> {
        Batches {
            loader: self,
            order: self.order(epoch),
            next: start.min(self.num_batches()),
            end: self.num_batches(),
        }
    }
}

/// The batches of one epoch; each item is a [`Batch`] or the dataset's error.
#[derive(Debug)]
pub struct Batches<'a, D> {
    loader: &'a DataLoader<D>,
    order: Vec<usize>,
    next: usize,
    end: usize,
}

impl<D: Dataset> Batches<'_, D> {
    /// The example indices of the batches not yet taken, in order.
    pub fn remaining_indices(&self) -> Vec<&[usize]> {
        (self.next..self.end).map(|b| self.indices(b)).collect()
    }
    fn indices(&self, b: usize) -> &[usize] {
        let bs = self.loader.batch_size;
        let start = b * bs;
        let end = (start + bs).min(self.order.len());
        &self.order[start..end]
    }
}

impl<D: Dataset> Iterator for Batches<'_, D> {
    type Item = Result<Batch>;
    fn next(&mut self) -> Option<Result<Batch>> {
        if self.next >= self.end {
            return None;
        }
        let b = self.next;
        self.next += 1;
        Some(self.loader.dataset.get_batch(self.indices(b)))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }
    fn nth(&mut self, n: usize) -> Option<Result<Batch>> {
        self.next = self.next.saturating_add(n).min(self.end);
        self.next()
    }
}

impl<D: Dataset> ExactSizeIterator for Batches<'_, D> {}

/// How many examples go to validation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SplitSize {
    Count(usize),
    /// `floor(n · fraction)` examples, `0 ≤ fraction ≤ 1`.
    Fraction(f64),
}

/// Splits `0..n` into (train, validation) indices. With a seed, a permutation of `0..n` from the
/// Philox stream of `seed` is cut (train first, as PyTorch's `random_split`); without one, the
/// validation set is the last examples, in order.
pub fn train_val_split(
    n: usize,
    val: SplitSize,
    seed: Option<u64>,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let val_len = match val {
        SplitSize::Count(c) => c,
        SplitSize::Fraction(f) => {
            if !(0.0..=1.0).contains(&f) {
                return Err(NnError::invalid(
                    "train_val_split",
                    format!("validation fraction {f} is not between 0 and 1"),
                ));
            }
            (n as f64 * f).floor() as usize
        }
    };
    if val_len > n {
        return Err(NnError::invalid(
            "train_val_split",
            format!("{val_len} validation examples requested from {n}"),
        ));
    }
    let order: Vec<usize> = match seed {
        Some(s) => Rng::new(s).permutation(n),
        None => (0..n).collect(),
    };
    let (train, val) = order.split_at(n - val_len);
    Ok((train.to_vec(), val.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::TensorDataset;
    use strata_tensor::Tensor;

    fn ds(n: usize) -> TensorDataset {
        let x = Tensor::from_vec((0..n).map(|v| v as f32).collect::<Vec<_>>(), [n, 1]).unwrap();
        let y = Tensor::from_vec((0..n as i64).collect::<Vec<_>>(), [n]).unwrap();
        TensorDataset::new(x, y).unwrap()
    }

    fn targets(b: &Batch) -> Vec<i64> {
        b.targets.to_vec::<i64>().unwrap()
    }

    #[test]
    fn in_order_batches_with_and_without_drop_last() {
        let d = ds(10);
        let l = DataLoader::new(&d, 4).unwrap();
        let got: Vec<Vec<i64>> = l.epoch(0).map(|b| targets(&b.unwrap())).collect();
        assert_eq!(got, [vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
        let l = l.drop_last(true);
        assert_eq!(l.epoch(3).len(), 2);
        let inputs = l.epoch(0).next().unwrap().unwrap().inputs;
        assert_eq!(inputs.to_vec::<f32>().unwrap(), [0.0, 1.0, 2.0, 3.0]);
        assert!(DataLoader::new(&d, 0).is_err());
    }

    #[test]
    fn shuffling_is_a_seeded_permutation_per_epoch_and_resumes_exactly() {
        let d = ds(50);
        let l = DataLoader::new(&d, 8).unwrap().shuffle(42);
        let e0 = l.order(0);
        let mut sorted = e0.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
        assert_ne!(e0, sorted, "a shuffled epoch is not the identity");
        assert_ne!(l.order(1), e0, "epochs differ");
        assert_eq!(DataLoader::new(&d, 8).unwrap().shuffle(42).order(0), e0);
        assert_ne!(DataLoader::new(&d, 8).unwrap().shuffle(43).order(0), e0);
        // The first batch is the first 8 of the permutation; resuming at batch 3 gives the rest.
        let all: Vec<Vec<i64>> = l.epoch(1).map(|b| targets(&b.unwrap())).collect();
        let want: Vec<i64> = l.order(1)[..8].iter().map(|&i| i as i64).collect();
        assert_eq!(all[0], want);
        let resumed: Vec<Vec<i64>> = l.epoch_from(1, 3).map(|b| targets(&b.unwrap())).collect();
        assert_eq!(resumed, all[3..]);
        assert_eq!(all.len(), 7);
        assert_eq!(all[6].len(), 2);
        // The order comes from Philox at a position fixed by the epoch (2^64 blocks apart).
        assert_eq!(
            l.order(5),
            Rng::with_position(42, 5u128 << 64).permutation(50)
        );
    }

    #[test]
    fn threads_do_not_change_the_order() {
        let d = ds(1000);
        let l = DataLoader::new(&d, 32).unwrap().shuffle(9);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| l.order(2));
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
            .install(|| l.order(2));
        assert_eq!(one, two);
    }

    #[test]
    fn splits_partition_the_indices() {
        let (t, v) = train_val_split(10, SplitSize::Count(3), None).unwrap();
        assert_eq!(t, (0..7).collect::<Vec<_>>());
        assert_eq!(v, [7, 8, 9]);
        let (t, v) = train_val_split(101, SplitSize::Fraction(0.1), Some(5)).unwrap();
        assert_eq!((t.len(), v.len()), (91, 10));
        let mut all: Vec<usize> = t.iter().chain(&v).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..101).collect::<Vec<_>>());
        assert_eq!(
            train_val_split(101, SplitSize::Fraction(0.1), Some(5))
                .unwrap()
                .1,
            v
        );
        assert!(train_val_split(5, SplitSize::Count(6), None).is_err());
        assert!(train_val_split(5, SplitSize::Fraction(1.5), None).is_err());
    }

    #[test]
    fn subset_maps_indices_and_rejects_out_of_range() {
        let d = ds(6);
        let s = crate::data::Subset::new(&d, vec![5, 1, 3]).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(targets(&s.get_batch(&[0, 2]).unwrap()), [5, 3]);
        assert!(s
            .get_batch(&[3])
            .unwrap_err()
            .to_string()
            .contains("index 3"));
        assert!(crate::data::Subset::new(&d, vec![6]).is_err());
        assert!(d
            .get_batch(&[0, 6])
            .unwrap_err()
            .to_string()
            .contains("index 6"));
    }
}
