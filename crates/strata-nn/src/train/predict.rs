//! `strata predict`: a saved zoo model on new inputs — class probabilities for the image
//! models, text generation (temperature, top-k) for the language models.

use super::cli::{in_pool, out};
use super::run::load_weights;
use crate::data::{CharTokenizer, Normalize};
use crate::modules::Model;
use crate::png::decode_gray;
use crate::zoo::{self, Task, ZooEntry, SHAKESPEARE_VOCAB};
use crate::{NnError, Result};
use serde_json::json;
use std::path::{Path, PathBuf};
use strata_autograd::Tape;
use strata_tensor::{DType, Rng, Tensor};

/// `strata predict <checkpoint> --model M (--input x.npy | --image x.png | --prompt TEXT)`.
#[derive(clap::Args, Clone, Debug)]
pub struct PredictArgs {
    /// A checkpoint from `strata train --checkpoint` or a state dict from `--export`.
    pub checkpoint: PathBuf,
    /// The zoo model the weights are for: mlp, cnn, resnet, chargpt or lstm.
    #[arg(long)]
    pub model: String,
    /// Image models: an NPY file with one image `[28, 28]` / `[1, 28, 28]` or a batch
    /// `[N, 1, 28, 28]` of raw pixels (integers 0–255, or floats in [0, 1]); the dataset's
    /// normalization is applied.
    #[arg(long, conflicts_with_all = ["image", "prompt"])]
    pub input: Option<PathBuf>,
    /// Image models: a 28×28 8-bit PNG (gray, or RGB converted to gray).
    #[arg(long, conflicts_with = "prompt")]
    pub image: Option<PathBuf>,
    /// Language models: the text to continue.
    #[arg(long)]
    pub prompt: Option<String>,
    /// Language models: characters to generate.
    #[arg(long, default_value_t = 200)]
    pub max_new_chars: usize,
    /// Language models: the sampling temperature (0 = always the most likely character).
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Language models: sample among the k most likely characters only.
    #[arg(long)]
    pub top_k: Option<usize>,
    /// Language models: the sampling seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Image models: how many of the most likely classes to print per image.
    #[arg(long, default_value_t = 3)]
    pub top: usize,
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Fashion-MNIST's class names, by label.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

fn class_name(entry: &ZooEntry, class: usize) -> String {
    match entry.dataset {
        "fashion-mnist" => FASHION_MNIST_CLASSES[class].to_string(),
        _ => class.to_string(),
    }
}

/// Raw pixels (integers 0–255, or floats in [0, 1]) of one or more images as a normalized `[N, 1, 28, 28]`
/// batch in `dtype`; `origin` names the file in errors.
pub fn image_batch(
    entry: &ZooEntry,
    pixels: &Tensor,
    origin: &Path,
    dtype: DType,
) -> Result<Tensor> {
    let want = entry.input_shape;
    let dims = pixels.dims();
    let n = match dims.len() {
        l if l == want.len() - 1 && dims == &want[1..] => 1,
        l if l == want.len() && dims == want => 1,
        l if l == want.len() + 1 && &dims[1..] == want => dims[0],
        _ => {
            return Err(NnError::file(
                origin,
                "",
                format!(
                    "an input of shape {dims:?}; model `{}` takes images {want:?} (or [N, …] \
                     batches)",
                    entry.name
                ),
            ))
        }
    };
    let scaled = match pixels.dtype() {
        DType::I64 => {
            let v = pixels.to_vec::<i64>()?;
            if let Some(i) = v.iter().position(|p| !(0..=255).contains(p)) {
                return Err(NnError::file(
                    origin,
                    format!("element {i}"),
                    format!("integer pixel {} is outside 0..=255", v[i]),
                ));
            }
            pixels
                .to_dtype(DType::F64)?
                .div(&Tensor::scalar(255.0f64))?
        }
        d if d.is_float() => pixels.to_dtype(DType::F64)?,
        d => {
            return Err(NnError::file(
                origin,
                "",
                format!("pixels of dtype {d}; expected integers 0–255 or floats in [0, 1]"),
            ))
        }
    };
    let mut shape = vec![n];
    shape.extend_from_slice(want);
    let norm = match entry.dataset {
        "fashion-mnist" => Normalize::fashion_mnist(),
        _ => Normalize::mnist(),
    };
    Ok(norm.apply(&scaled.reshape(shape)?)?.to_dtype(dtype)?)
}

/// Class probabilities `[N, classes]` (softmax of the logits) of `model` on `inputs`.
pub fn classify(model: &Model, inputs: &Tensor) -> Result<Tensor> {
    let tape = Tape::new();
    tape.no_grad(|| {
        let x = tape.input(inputs.clone(), false);
        Ok(model.forward_eval(&tape, &x)?.softmax(-1)?.value())
    })
}

/// The index drawn from the distribution `softmax(logits / temperature)` restricted to the
/// `top_k` largest logits (ties: the lower index first); temperature 0 picks the arg-max.
pub fn sample_logits(
    logits: &[f64],
    temperature: f64,
    top_k: Option<usize>,
    rng: &mut Rng,
) -> Result<usize> {
    if logits.is_empty() || temperature.is_nan() || temperature < 0.0 || top_k == Some(0) {
        return Err(NnError::invalid(
            "sampling",
            format!(
                "need logits, temperature ≥ 0 and top_k ≥ 1 (got {} logits, temperature \
                 {temperature}, top_k {top_k:?})",
                logits.len()
            ),
        ));
    }
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]).then(a.cmp(&b)));
    order.truncate(top_k.unwrap_or(logits.len()));
    if temperature == 0.0 || order.len() == 1 {
        return Ok(order[0]);
    }
    let top = logits[order[0]];
    let weights: Vec<f64> = order
        .iter()
        .map(|&i| ((logits[i] - top) / temperature).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut u = rng.next_f64() * total;
    for (&i, w) in order.iter().zip(&weights) {
        if u < *w {
            return Ok(i);
        }
        u -= w;
    }
    Ok(*order.last().unwrap_or(&0))
}

/// `prompt` continued by `n` characters sampled from the language model `model` (context:
/// the last `block_size` characters).
pub fn generate(
    model: &Model,
    block_size: usize,
    prompt: &str,
    n: usize,
    temperature: f64,
    top_k: Option<usize>,
    seed: u64,
) -> Result<String> {
    let tokenizer = CharTokenizer::from_vocab(SHAKESPEARE_VOCAB.chars().collect())?;
    let mut ids = tokenizer
        .encode(prompt)
        .map_err(|e| NnError::invalid("--prompt", e.to_string()))?;
    if ids.is_empty() {
        ids.push(0); // a newline starts an empty prompt
    }
    let mut rng = Rng::new(seed);
    let start = ids.len();
    for _ in 0..n {
        let context = &ids[ids.len().saturating_sub(block_size)..];
        let t = context.len();
        let tape = Tape::new();
        let logits = tape.no_grad(|| -> Result<Tensor> {
            let x = tape.input(Tensor::from_vec(context.to_vec(), [1, t])?, false);
            Ok(model.forward_eval(&tape, &x)?.value())
        })?;
        let all = logits.to_vec_f64();
        let v = all.len() / t;
        let next = sample_logits(&all[(t - 1) * v..], temperature, top_k, &mut rng)?;
        ids.push(next as i64);
    }
    let prompt_part = if prompt.is_empty() { "" } else { prompt };
    Ok(format!("{prompt_part}{}", tokenizer.decode(&ids[start..])?))
}

/// Reads an image model's input from `--input` (NPY) or `--image` (PNG).
fn read_images(args: &PredictArgs, entry: &ZooEntry, dtype: DType) -> Result<Tensor> {
    if let Some(path) = &args.input {
        let pixels = strata_io::read_npy(path)?;
        return image_batch(entry, &pixels, path, dtype);
    }
    let Some(path) = &args.image else {
        return Err(NnError::invalid(
            "strata predict",
            format!(
                "model `{}` needs --input x.npy or --image x.png",
                entry.name
            ),
        ));
    };
    let bytes =
        std::fs::read(path).map_err(|e| NnError::file(path, "", format!("cannot read: {e}")))?;
    let img = decode_gray(&bytes, path)?;
    let pixels: Vec<i64> = img.pixels.into_iter().map(i64::from).collect();
    let pixels = Tensor::from_vec(pixels, [img.height, img.width])?;
    image_batch(entry, &pixels, path, dtype)
}

/// Runs `strata predict`.
pub fn predict_cli(args: &PredictArgs) -> Result<()> {
    let entry = zoo::lookup(&args.model)?;
    // Modules are not `Sync`: the model is loaded inside the thread pool that runs it.
    let load = || load_weights(&args.model, &args.checkpoint);
    match entry.task {
        Task::Text { block_size } => {
            let Some(prompt) = &args.prompt else {
                return Err(NnError::invalid(
                    "strata predict",
                    format!("model `{}` needs --prompt TEXT", entry.name),
                ));
            };
            let text = in_pool(args.threads, || {
                generate(
                    &load()?,
                    block_size,
                    prompt,
                    args.max_new_chars,
                    args.temperature,
                    args.top_k,
                    args.seed,
                )
            })?;
            if args.json {
                out(&json!({"model": entry.name, "text": text}).to_string())
            } else {
                out(&text)
            }
        }
        Task::Image => {
            let probs = in_pool(args.threads, || {
                let model = load()?;
                let dtype = model
                    .params
                    .values()
                    .next()
                    .map_or(DType::F32, Tensor::dtype);
                classify(&model, &read_images(args, &entry, dtype)?)
            })?;
            let classes = entry.num_classes;
            let all = probs.to_vec_f64();
            for (i, row) in all.chunks(classes).enumerate() {
                let mut order: Vec<usize> = (0..classes).collect();
                order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
                if args.json {
                    out(&json!({
                        "index": i,
                        "class": order[0],
                        "name": class_name(&entry, order[0]),
                        "probabilities": row,
                    })
                    .to_string())?;
                } else {
                    let top: Vec<String> = order
                        .iter()
                        .take(args.top.max(1))
                        .map(|&c| format!("{} {:.2}%", class_name(&entry, c), 100.0 * row[c]))
                        .collect();
                    out(&format!("{i}: {}", top.join(", ")))?;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_follows_temperature_and_top_k() {
        let logits = [1.0, 3.0, 2.0, 3.0];
        let mut rng = Rng::new(1);
        // Greedy: the first of the tied maxima.
        assert_eq!(sample_logits(&logits, 0.0, None, &mut rng).unwrap(), 1);
        assert_eq!(sample_logits(&logits, 1.0, Some(1), &mut rng).unwrap(), 1);
        // top_k = 2 keeps the two 3.0 logits: about half each, never 0 or 2.
        let draws: Vec<usize> = (0..2000)
            .map(|_| sample_logits(&logits, 1.0, Some(2), &mut rng).unwrap())
            .collect();
        let ones = draws.iter().filter(|&&d| d == 1).count();
        assert!(draws.iter().all(|&d| d == 1 || d == 3));
        assert!((900..1100).contains(&ones), "{ones}");
        // Temperature 1 over all: frequencies follow softmax (index 0: e¹ / Σ ≈ 0.0723).
        let n = 20000;
        let zeros = (0..n)
            .filter(|_| sample_logits(&logits, 1.0, None, &mut rng).unwrap() == 0)
            .count();
        let p0 = 1f64.exp() / [1.0, 3.0, 2.0, 3.0f64].iter().map(|x| x.exp()).sum::<f64>();
        assert!((zeros as f64 / n as f64 - p0).abs() < 0.01, "{zeros}");
        assert!(sample_logits(&logits, -1.0, None, &mut rng).is_err());
        assert!(sample_logits(&logits, 1.0, Some(0), &mut rng).is_err());
    }
}
