//! Text with a character-level tokenizer, and next-character windows for language models.

use super::{Batch, Dataset};
use crate::{NnError, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use strata_tensor::Tensor;

/// A UTF-8 text file; invalid UTF-8 is an error naming the byte offset.
pub fn load_text(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let bytes =
        std::fs::read(path).map_err(|e| NnError::file(path, "", format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        NnError::file(
            path,
            format!("byte {}", e.utf8_error().valid_up_to()),
            "invalid UTF-8",
        )
    })
}

/// Tiny Shakespeare's text: `input.txt` in `dir`.
pub fn load_tinyshakespeare(dir: impl AsRef<Path>) -> Result<String> {
    load_text(dir.as_ref().join("input.txt"))
}

/// A character-level tokenizer: the vocabulary is the sorted set of the characters (Unicode
/// scalar values) of a text, and a character's id is its index there (as in char-rnn and
/// nanoGPT's `shakespeare_char`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CharTokenizer {
    chars: Vec<char>,
    ids: BTreeMap<char, i64>,
}

impl CharTokenizer {
    /// The vocabulary of `text` (which must not be empty).
    pub fn from_text(text: &str) -> Result<CharTokenizer> {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        CharTokenizer::from_vocab(chars)
    }
    /// An explicit vocabulary (ids in the given order); characters must be distinct.
    pub fn from_vocab(chars: Vec<char>) -> Result<CharTokenizer> {
        if chars.is_empty() {
            return Err(NnError::invalid("CharTokenizer", "the vocabulary is empty"));
        }
        let mut ids = BTreeMap::new();
        for (i, &c) in chars.iter().enumerate() {
            if ids.insert(c, i as i64).is_some() {
                return Err(NnError::invalid(
                    "CharTokenizer",
                    format!("character {c:?} appears twice in the vocabulary"),
                ));
            }
        }
        Ok(CharTokenizer { chars, ids })
    }
    pub fn vocab(&self) -> &[char] {
        &self.chars
    }
    pub fn vocab_size(&self) -> usize {
        self.chars.len()
    }
    /// The ids of `text`'s characters; a character outside the vocabulary is an error naming it
    /// and its position.
    pub fn encode(&self, text: &str) -> Result<Vec<i64>> {
        text.char_indices()
            .map(|(at, c)| {
                self.ids.get(&c).copied().ok_or_else(|| {
                    NnError::invalid(
                        "CharTokenizer",
                        format!("character {c:?} at byte {at} is not in the vocabulary"),
                    )
                })
            })
            .collect()
    }
    /// The text of `ids`; an id outside the vocabulary is an error naming it and its position.
    pub fn decode(&self, ids: &[i64]) -> Result<String> {
        ids.iter()
            .enumerate()
            .map(|(pos, &id)| {
                usize::try_from(id)
                    .ok()
                    .and_then(|i| self.chars.get(i).copied())
                    .ok_or_else(|| {
                        NnError::invalid(
                            "CharTokenizer",
                            format!(
                                "id {id} at position {pos} is outside the vocabulary of {}",
                                self.chars.len()
                            ),
                        )
                    })
            })
            .collect()
    }
}

/// Splits a token stream into (train, validation): the first `1 − val_fraction` and the rest
/// (contiguous, as nanoGPT does for text).
pub fn split_tokens(tokens: &[i64], val_fraction: f64) -> Result<(Vec<i64>, Vec<i64>)> {
    if !(0.0..=1.0).contains(&val_fraction) {
        return Err(NnError::invalid(
            "split_tokens",
            format!("validation fraction {val_fraction} is not between 0 and 1"),
        ));
    }
    let n_train = tokens.len() - (tokens.len() as f64 * val_fraction).floor() as usize;
    Ok((tokens[..n_train].to_vec(), tokens[n_train..].to_vec()))
}

/// Next-token windows over a token stream: example `i` starts at `s = i·stride` (stride 1 by
/// default: every window) and is `tokens[s .. s+block]` as input and `tokens[s+1 .. s+block+1]`
/// as target (both i64 `[block]`; batches `[B, block]`).
#[derive(Clone, Debug)]
pub struct CharWindows {
    tokens: Arc<[i64]>,
    block_size: usize,
    stride: usize,
}

impl CharWindows {
    /// Needs `block_size ≥ 1` and more than `block_size` tokens.
    pub fn new(tokens: impl Into<Arc<[i64]>>, block_size: usize) -> Result<CharWindows> {
        let tokens = tokens.into();
        if block_size == 0 || tokens.len() <= block_size {
            return Err(NnError::invalid(
                "CharWindows",
                format!(
                    "{} tokens make no window of block size {block_size} (need more tokens than \
                     the block size, and a block size ≥ 1)",
                    tokens.len()
                ),
            ));
        }
        Ok(CharWindows {
            tokens,
            block_size,
            stride: 1,
        })
    }
    /// Windows starting every `stride ≥ 1` tokens (`stride = block_size`: non-overlapping).
    pub fn stride(mut self, stride: usize) -> Result<CharWindows> {
        if stride == 0 {
            return Err(NnError::invalid(
                "CharWindows",
                "the stride must be at least 1",
            ));
        }
        self.stride = stride;
        Ok(self)
    }
    pub fn block_size(&self) -> usize {
        self.block_size
    }
    pub fn tokens(&self) -> &[i64] {
        &self.tokens
    }
}

impl Dataset for CharWindows {
    fn len(&self) -> usize {
        (self.tokens.len() - self.block_size - 1) / self.stride + 1
    }
    fn get_batch(&self, indices: &[usize]) -> Result<Batch> {
        let b = self.block_size;
        let mut x = Vec::with_capacity(indices.len() * b);
        let mut y = Vec::with_capacity(indices.len() * b);
        for (pos, &i) in indices.iter().enumerate() {
            if i >= self.len() {
                return Err(NnError::invalid(
                    "CharWindows",
                    format!(
                        "index {i} (position {pos}) is out of range for {} windows",
                        self.len()
                    ),
                ));
            }
            let s = i * self.stride;
            x.extend_from_slice(&self.tokens[s..s + b]);
            y.extend_from_slice(&self.tokens[s + 1..s + b + 1]);
        }
        Ok(Batch {
            inputs: Tensor::from_vec(x, [indices.len(), b])?,
            targets: Tensor::from_vec(y, [indices.len(), b])?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocab_is_sorted_and_round_trips() {
        let t = CharTokenizer::from_text("hello, world\n").unwrap();
        assert_eq!(
            t.vocab(),
            ['\n', ' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w']
        );
        let ids = t.encode("hello").unwrap();
        assert_eq!(ids, [5, 4, 6, 6, 7]);
        assert_eq!(t.decode(&ids).unwrap(), "hello");
        let e = t.encode("help").unwrap_err().to_string();
        assert!(e.contains("'p'") && e.contains("byte 3"), "{e}");
        let e = t.decode(&[0, 10]).unwrap_err().to_string();
        assert!(e.contains("id 10") && e.contains("position 1"), "{e}");
        assert!(t.decode(&[-1]).is_err());
        assert!(CharTokenizer::from_text("").is_err());
        assert!(CharTokenizer::from_vocab(vec!['a', 'a']).is_err());
    }

    #[test]
    fn windows_shift_by_one() {
        let w = CharWindows::new(vec![10i64, 11, 12, 13, 14], 3).unwrap();
        assert_eq!(w.len(), 2);
        let b = w.get_batch(&[1, 0]).unwrap();
        assert_eq!(b.inputs.dims(), &[2, 3]);
        assert_eq!(b.inputs.to_vec::<i64>().unwrap(), [11, 12, 13, 10, 11, 12]);
        assert_eq!(b.targets.to_vec::<i64>().unwrap(), [12, 13, 14, 11, 12, 13]);
        assert!(w.get_batch(&[2]).is_err());
        assert!(CharWindows::new(vec![1i64, 2], 2).is_err());
        let w = CharWindows::new((0..10i64).collect::<Vec<_>>(), 3)
            .unwrap()
            .stride(3)
            .unwrap();
        assert_eq!(w.len(), 3);
        let b = w.get_batch(&[2]).unwrap();
        assert_eq!(b.inputs.to_vec::<i64>().unwrap(), [6, 7, 8]);
        assert_eq!(b.targets.to_vec::<i64>().unwrap(), [7, 8, 9]);
        assert!(w.get_batch(&[3]).is_err());
        let (tr, va) = split_tokens(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.1).unwrap();
        assert_eq!((tr.len(), va), (9, vec![10]));
    }
}
