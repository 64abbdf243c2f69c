//! `strata-nn`: training on top of `strata-tensor`.
//!
//! - [`optim`]: SGD, Adam, AdamW, RMSprop and Adagrad with PyTorch's exact update formulas over
//!   named parameters, with state dicts for exact resume; [`optim::lr_scheduler`]: StepLR,
//!   ExponentialLR, CosineAnnealingLR, LinearLR, OneCycleLR and SequentialLR, reproducing
//!   PyTorch's learning-rate sequence bit for bit.
//! - [`clip`]: gradient clipping by total norm and by value.
//! - [`data`]: datasets (IDX/MNIST, CSV, NPY, text with a char-level tokenizer), a seeded
//!   [`DataLoader`](data::DataLoader), splits and normalization; dataset directories from
//!   `--data DIR` or `STRATA_DATA`.
//! - [`fetch`]: downloading MNIST, Fashion-MNIST and tiny Shakespeare with sha256 verification.
//!
//! Every fallible function returns [`Result`]; an error names the component, the parameter,
//! file or URL, and the problem.
#![forbid(unsafe_code)]

pub mod clip;
pub mod data;
mod error;
pub mod fetch;
pub mod modules;
pub mod optim;
pub mod train;
pub mod trust;
pub mod zoo;

pub use error::{NnError, Result};
