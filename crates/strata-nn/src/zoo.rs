//! The model zoo: architectures with their dataset and default training hyperparameters.
//! Every architecture is an `nn.Sequential` whose PyTorch twin (`tests/fixtures/torch_zoo.py`)
//! has the same state-dict names and shapes.
//!
//! | name | dataset | architecture |
//! |---|---|---|
//! | `mlp` | MNIST | Flatten, Linear 784→256, ReLU, Linear 256→128, ReLU, Linear 128→10 |
//! | `cnn` | MNIST | Conv 1→32 3×3 pad 1, ReLU, MaxPool 2, Conv 32→64 3×3 pad 1, ReLU, MaxPool 2, Flatten, Linear 3136→128, ReLU, Linear 128→10 |

use crate::modules::{Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential};
use crate::train::Schedule;
use crate::{NnError, Result};

/// Which optimizer a model trains with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OptimizerKind {
    Sgd,
    Adam,
    Adamw,
}

impl OptimizerKind {
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Adam => "adam",
            OptimizerKind::Adamw => "adamw",
        }
    }
}

/// A zoo entry: the architecture, its dataset and its default hyperparameters (those of the
/// PyTorch reference script).
#[derive(Clone, Debug)]
pub struct ZooEntry {
    pub name: &'static str,
    /// The dataset directory name under the data root.
    pub dataset: &'static str,
    pub epochs: u64,
    pub batch_size: usize,
    pub lr: f64,
    pub optimizer: OptimizerKind,
    pub schedule: Schedule,
    /// One example's input shape.
    pub input_shape: &'static [usize],
    pub num_classes: usize,
    build: fn() -> Sequential,
}

impl ZooEntry {
    /// A fresh (uninitialized) module.
    pub fn build(&self) -> Box<dyn Module> {
        Box::new((self.build)())
    }
}

/// The MNIST MLP: 784-256-128-10 with ReLU.
pub fn mlp() -> Sequential {
    Sequential::new()
        .append(Flatten::new())
        .append(Linear::new(784, 256))
        .append(ReLU)
        .append(Linear::new(256, 128))
        .append(ReLU)
        .append(Linear::new(128, 10))
}

/// The MNIST CNN (see the [module docs](self)).
pub fn cnn() -> Sequential {
    Sequential::new()
        .append(Conv2d::new(1, 32, 3).padding(1))
        .append(ReLU)
        .append(MaxPool2d::new(2))
        .append(Conv2d::new(32, 64, 3).padding(1))
        .append(ReLU)
        .append(MaxPool2d::new(2))
        .append(Flatten::new())
        .append(Linear::new(3136, 128))
        .append(ReLU)
        .append(Linear::new(128, 10))
}

/// Every zoo entry.
pub fn entries() -> Vec<ZooEntry> {
    vec![
        ZooEntry {
            name: "mlp",
            dataset: "mnist",
            epochs: 10,
            batch_size: 64,
            lr: 1e-3,
            optimizer: OptimizerKind::Adam,
            schedule: Schedule::Cosine,
            input_shape: &[1, 28, 28],
            num_classes: 10,
            build: mlp,
        },
        ZooEntry {
            name: "cnn",
            dataset: "mnist",
            epochs: 3,
            batch_size: 64,
            lr: 1e-3,
            optimizer: OptimizerKind::Adam,
            schedule: Schedule::Cosine,
            input_shape: &[1, 28, 28],
            num_classes: 10,
            build: cnn,
        },
    ]
}

/// The zoo entry `name`.
pub fn lookup(name: &str) -> Result<ZooEntry> {
    let all = entries();
    let names: Vec<&str> = all.iter().map(|e| e.name).collect();
    all.iter().find(|e| e.name == name).cloned().ok_or_else(|| {
        NnError::invalid(
            "model zoo",
            format!("unknown model `{name}` (known: {})", names.join(", ")),
        )
    })
}
