//! The model zoo: architectures with their dataset and default training hyperparameters.
//! Every architecture has a PyTorch twin in `scripts/torch_zoo.py` with the same state-dict
//! names and shapes (tested against the names the script prints).
//!
//! | name | dataset | architecture |
//! |---|---|---|
//! | `mlp` | MNIST | Flatten, Linear 784→256, ReLU, Linear 256→128, ReLU, Linear 128→10 |
//! | `cnn` | MNIST | Conv 1→32 3×3 pad 1, ReLU, MaxPool 2, Conv 32→64 3×3 pad 1, ReLU, MaxPool 2, Flatten, Linear 3136→128, ReLU, Linear 128→10 |
//! | `resnet` | Fashion-MNIST | Conv 1→16 3×3 (no bias), BatchNorm, ReLU, BasicBlocks 16→16, 16→32 /2, 32→64 /2, global average pool, Linear 64→10 |
//! | `chargpt` | tiny Shakespeare | token + position embeddings (64), 2 pre-norm causal Transformer layers (4 heads, GELU feed-forward 256), LayerNorm, Linear 64→65; context 64 |
//! | `lstm` | tiny Shakespeare | Embedding 65→64, LSTM 64→256, Linear 256→65; context 64 |
//!
//! The language models map `[B, T]` character ids to next-character logits `[B·T, 65]` (the
//! batch and time axes flattened, as `logits.view(-1, V)` in PyTorch), so the trainer scores
//! them as classifiers over every position.

use crate::modules::{
    AdaptiveAvgPool2d, BasicBlock, BatchNorm, Conv2d, Ctx, Embedding, FeedForwardActivation,
    Flatten, Init, LayerNorm, Linear, Lstm, MaxPool2d, Module, ReLU, Sequential,
    TransformerEncoderLayer,
};
use crate::train::Schedule;
use crate::{NnError, Result};
use strata_autograd::Var;
use strata_tensor::{DType, Tensor};

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

/// The characters of tiny Shakespeare in id order (the sorted set of the file's characters,
/// as nanoGPT's `shakespeare_char`): the language models' fixed vocabulary.
pub const SHAKESPEARE_VOCAB: &str =
    "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// What a zoo model reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Image classification: f32/f64 inputs of the entry's `input_shape`, i64 labels.
    Image,
    /// Next-character prediction over [`SHAKESPEARE_VOCAB`] with windows of `block_size`
    /// characters.
    Text { block_size: usize },
}

/// A zoo entry: the architecture, its dataset and its default hyperparameters (those of the
/// PyTorch reference script).
#[derive(Clone, Debug)]
pub struct ZooEntry {
    pub name: &'static str,
    /// The dataset directory name under the data root.
    pub dataset: &'static str,
    pub task: Task,
    /// The default length of a run in epochs, unless `steps` is set.
    pub epochs: u64,
    /// The default length of a run in optimizer steps (the language models, whose epochs of
    /// overlapping windows are long).
    pub steps: Option<u64>,
    pub batch_size: usize,
    pub lr: f64,
    pub optimizer: OptimizerKind,
    pub schedule: Schedule,
    /// One example's input shape.
    pub input_shape: &'static [usize],
    pub num_classes: usize,
    build: fn() -> Box<dyn Module>,
}

impl ZooEntry {
    /// A fresh (uninitialized) module.
    pub fn build(&self) -> Box<dyn Module> {
        (self.build)()
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

/// The Fashion-MNIST ResNet (see the [module docs](self)): torchvision's `BasicBlock` with a
/// 1×1 convolution + batch norm shortcut where the shape changes.
pub fn resnet() -> Sequential {
    Sequential::new()
        .append(Conv2d::new(1, 16, 3).padding(1).bias(false))
        .append(BatchNorm::d2(16))
        .append(ReLU)
        .append(BasicBlock::new(16, 16, 1))
        .append(BasicBlock::new(16, 32, 2))
        .append(BasicBlock::new(32, 64, 2))
        .append(AdaptiveAvgPool2d([1, 1]))
        .append(Flatten::new())
        .append(Linear::new(64, 10))
}

/// Flattens `[B, T, V]` logits to `[B·T, V]`.
fn flatten_positions(logits: &Var) -> Result<Var> {
    let v = *logits.dims().last().unwrap_or(&0) as i64;
    Ok(logits.reshape(&[-1, v])?)
}

/// Checks that a language model's input is i64 ids `[B, T]` with `T ≤ block_size`.
fn check_ids(what: &str, x: &Var, block_size: usize) -> Result<()> {
    let d = x.dims();
    if x.dtype() != DType::I64 || d.len() != 2 || d[1] == 0 || d[1] > block_size {
        return Err(NnError::invalid(
            what,
            format!(
                "expected i64 character ids [B, T] with 1 ≤ T ≤ {block_size}, got {} {:?}",
                x.dtype(),
                d
            ),
        ));
    }
    Ok(())
}

/// A GPT-style character model: `tok_emb` and `pos_emb` (embeddings), `blocks.{k}` (pre-norm
/// `nn.TransformerEncoderLayer`s with a causal mask, GELU, no dropout), `ln_f` (LayerNorm) and
/// `head` (Linear to the vocabulary).
#[derive(Clone, Debug, PartialEq)]
pub struct CharGpt {
    pub vocab_size: usize,
    pub block_size: usize,
    pub embed_dim: usize,
    pub num_heads: usize,
    pub num_layers: usize,
}

impl CharGpt {
    fn layer(&self) -> TransformerEncoderLayer {
        TransformerEncoderLayer::new(self.embed_dim, self.num_heads, 4 * self.embed_dim)
            .dropout(0.0)
            .batch_first(true)
            .norm_first(true)
            .activation(FeedForwardActivation::Gelu)
            .causal(true)
    }
    fn blocks(&self) -> Sequential {
        let mut blocks = Sequential::new();
        for _ in 0..self.num_layers {
            blocks.push(Box::new(self.layer()));
        }
        blocks
    }
}

impl Module for CharGpt {
    fn init(&self, init: &mut Init) -> Result<()> {
        init.child("tok_emb", &Embedding::new(self.vocab_size, self.embed_dim))?;
        init.child("pos_emb", &Embedding::new(self.block_size, self.embed_dim))?;
        init.child("blocks", &self.blocks())?;
        init.child("ln_f", &LayerNorm::new(vec![self.embed_dim]))?;
        init.child("head", &Linear::new(self.embed_dim, self.vocab_size))
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        check_ids("chargpt", x, self.block_size)?;
        let t = x.dims()[1];
        let positions = ctx.constant(Tensor::from_vec((0..t as i64).collect(), [t])?);
        let tok =
            Embedding::new(self.vocab_size, self.embed_dim).forward(&ctx.child("tok_emb"), x)?;
        let pos = Embedding::new(self.block_size, self.embed_dim)
            .forward(&ctx.child("pos_emb"), &positions)?;
        let h = self
            .blocks()
            .forward(&ctx.child("blocks"), &tok.add(&pos)?)?;
        let h = LayerNorm::new(vec![self.embed_dim]).forward(&ctx.child("ln_f"), &h)?;
        let logits =
            Linear::new(self.embed_dim, self.vocab_size).forward(&ctx.child("head"), &h)?;
        flatten_positions(&logits)
    }
}

/// An LSTM character model: `embed` (Embedding), `lstm` (`nn.LSTM`, batch first) and `head`
/// (Linear to the vocabulary).
#[derive(Clone, Debug, PartialEq)]
pub struct CharLstm {
    pub vocab_size: usize,
    pub block_size: usize,
    pub embed_dim: usize,
    pub hidden_size: usize,
}

impl CharLstm {
    fn lstm(&self) -> Lstm {
        Lstm::new(self.embed_dim, self.hidden_size).batch_first(true)
    }
}

impl Module for CharLstm {
    fn init(&self, init: &mut Init) -> Result<()> {
        init.child("embed", &Embedding::new(self.vocab_size, self.embed_dim))?;
        init.child("lstm", &self.lstm())?;
        init.child("head", &Linear::new(self.hidden_size, self.vocab_size))
    }
    fn forward(&self, ctx: &Ctx, x: &Var) -> Result<Var> {
        check_ids("lstm", x, self.block_size)?;
        let e = Embedding::new(self.vocab_size, self.embed_dim).forward(&ctx.child("embed"), x)?;
        let h = self.lstm().forward(&ctx.child("lstm"), &e)?;
        let logits =
            Linear::new(self.hidden_size, self.vocab_size).forward(&ctx.child("head"), &h)?;
        flatten_positions(&logits)
    }
}

/// The context length of the language models.
pub const TEXT_BLOCK: usize = 64;

/// The tiny-Shakespeare GPT (see the [module docs](self)).
pub fn chargpt() -> CharGpt {
    CharGpt {
        vocab_size: SHAKESPEARE_VOCAB.chars().count(),
        block_size: TEXT_BLOCK,
        embed_dim: 64,
        num_heads: 4,
        num_layers: 2,
    }
}

/// The tiny-Shakespeare LSTM (see the [module docs](self)).
pub fn char_lstm() -> CharLstm {
    CharLstm {
        vocab_size: SHAKESPEARE_VOCAB.chars().count(),
        block_size: TEXT_BLOCK,
        embed_dim: 64,
        hidden_size: 256,
    }
}

/// Every zoo entry.
pub fn entries() -> Vec<ZooEntry> {
    let image = |name, dataset, epochs, build| ZooEntry {
        name,
        dataset,
        task: Task::Image,
        epochs,
        steps: None,
        batch_size: 64,
        lr: 1e-3,
        optimizer: OptimizerKind::Adam,
        schedule: Schedule::Cosine,
        input_shape: &[1, 28, 28],
        num_classes: 10,
        build,
    };
    let text = |name, steps, lr, build| ZooEntry {
        name,
        dataset: "tinyshakespeare",
        task: Task::Text {
            block_size: TEXT_BLOCK,
        },
        epochs: 1,
        steps: Some(steps),
        batch_size: 64,
        lr,
        optimizer: OptimizerKind::Adamw,
        schedule: Schedule::Cosine,
        input_shape: &[TEXT_BLOCK],
        num_classes: SHAKESPEARE_VOCAB.chars().count(),
        build,
    };
    vec![
        image("mlp", "mnist", 10, || Box::new(mlp())),
        image("cnn", "mnist", 3, || Box::new(cnn())),
        image("resnet", "fashion-mnist", 4, || Box::new(resnet())),
        text("chargpt", 1200, 3e-3, || Box::new(chargpt())),
        text("lstm", 400, 3e-3, || Box::new(char_lstm())),
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
