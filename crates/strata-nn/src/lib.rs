//! `strata-nn`: training on top of `strata-tensor` and `strata-autograd`.
//!
//! - [`modules`]: PyTorch-style layers (Linear, Conv1d/2d, ConvTranspose2d, pooling, norms,
//!   dropout, embedding, activations, Sequential, residual blocks, multi-head attention,
//!   Transformer encoder layer, LSTM, GRU) whose parameters live in state dicts named exactly as
//!   PyTorch names them, initialized with PyTorch's default initializers.
//! - [`train`]: training and evaluation on the eager tape or a compiled plan, with exact
//!   checkpoints and resume, a JSON-lines log, a progress bar and a PNG plot; the
//!   `strata train`, `strata eval` and `strata predict` entry points ([`train::train_cli`],
//!   [`train::eval_cli`], [`train::predict_cli`]).
//! - [`zoo`]: the model zoo (`mlp`, `cnn` on MNIST, `resnet` on Fashion-MNIST, `chargpt` and
//!   `lstm` on tiny Shakespeare) and its default hyperparameters.
//! - [`loss`]: MSE, L1, SmoothL1, Huber, CrossEntropy, NLL, BCE, BCEWithLogits and KLDiv losses
//!   with PyTorch's arguments and semantics, composed of IR ops.
//! - [`optim`]: SGD, Adam, AdamW, RMSprop and Adagrad with PyTorch's exact update formulas over
//!   named parameters, with state dicts for exact resume; [`optim::lr_scheduler`]: StepLR,
//!   ExponentialLR, CosineAnnealingLR, LinearLR, OneCycleLR and SequentialLR, reproducing
//!   PyTorch's learning-rate sequence bit for bit.
//! - [`clip`]: gradient clipping by total norm and by value.
//! - [`data`]: datasets (IDX/MNIST, CSV, NPY, text with a char-level tokenizer), a seeded
//!   [`DataLoader`](data::DataLoader), splits and normalization; dataset directories from
//!   `--data DIR` or `STRATA_DATA`.
//! - [`plot`]: the loss and accuracy curves of a run as a PNG ([`png`]: a minimal PNG codec).
//! - [`fetch`]: downloading MNIST, Fashion-MNIST and tiny Shakespeare with sha256 verification.
//!
//! Every fallible function returns [`Result`]; an error names the component, the parameter,
//! file or URL, and the problem.
#![forbid(unsafe_code)]

pub mod clip;
pub mod data;
mod error;
pub mod fetch;
pub mod loss;
pub mod modules;
pub mod optim;
pub mod plot;
pub mod png;
pub mod train;
pub mod trust;
pub mod zoo;

pub use error::{NnError, Result};
