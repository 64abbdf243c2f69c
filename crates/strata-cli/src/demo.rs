//! `strata demo`: the README's main job. It trains a 64-32-10 ReLU network on the embedded
//! 8×8 digits set (1,797 images; 360 held out for test) with minibatch SGD, written directly
//! on `strata-tensor` ops (forward, hand-derived backward, momentum update), and reports the
//! test accuracy. Later stages add verification of the trained network.

use clap::Args;
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};
use strata_cert::{check_certificate, FileRef};
use strata_io::onnx::{ImportOptions, DEFAULT_EXPORT_OPSET};
use strata_ir::{Graph, GraphBuilder, IrError, Op, ParamStore};
use strata_tensor::{init, DType, Rng, Tensor, TensorError};
use strata_verify::{
    float32_transfer, parse_property, verify_with_certificate, Verdict, VerifyOptions,
};

const DIGITS_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");
const TEST_SIZE: usize = 360;
const FEATURES: usize = 64;
const CLASSES: usize = 10;

#[derive(Args)]
pub struct DemoArgs {
    /// Training epochs.
    #[arg(long, default_value_t = 40)]
    epochs: usize,
    /// Seed for initialization and shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    #[arg(long, default_value_t = 0.05)]
    lr: f64,
    /// L∞ radius for the robustness certification of the test images (a decimal, ≤ 4 digits).
    #[arg(long, default_value = "0.02")]
    eps: String,
    /// Where the exported network, the properties and the certificates are written (default:
    /// <temp dir>/strata-demo).
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Data directory holding `torchlean/` (default: $STRATA_DATA), for TorchLean's digits model.
    #[arg(long)]
    data: Option<std::path::PathBuf>,
}

/// Images scaled to [0, 1] and labels.
pub struct Digits {
    pub images: Vec<f32>,
    pub labels: Vec<usize>,
}

impl Digits {
    /// Image `i`'s pixels as the file's integers 0..=16 (the image is pixels / 16).
    fn pixels(&self, i: usize) -> [u8; FEATURES] {
        std::array::from_fn(|p| (self.images[i * FEATURES + p] * 16.0) as u8)
    }
}

/// Parses the embedded digits CSV (64 pixel values 0..16, then the label), naming the line of
/// any malformed record.
pub fn load_digits() -> Result<Digits, String> {
    let mut text = String::new();
    GzDecoder::new(DIGITS_GZ)
        .read_to_string(&mut text)
        .map_err(|e| format!("embedded digits.csv.gz: {e}"))?;
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        let bad = |what: &str| format!("embedded digits.csv.gz line {}: {what}", i + 1);
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != FEATURES + 1 {
            return Err(bad(&format!(
                "{} fields, expected {}",
                fields.len(),
                FEATURES + 1
            )));
        }
        for f in &fields[..FEATURES] {
            let v: f32 = f
                .trim()
                .parse()
                .map_err(|_| bad(&format!("pixel {f:?} is not a number")))?;
            images.push(v / 16.0);
        }
        let label: f64 = fields[FEATURES]
            .trim()
            .parse()
            .map_err(|_| bad("label is not a number"))?;
        if !(0.0..CLASSES as f64).contains(&label) || label.fract() != 0.0 {
            return Err(bad(&format!("label {label} is not a class 0..9")));
        }
        labels.push(label as usize);
    }
    Ok(Digits { images, labels })
}

struct Mlp {
    params: Vec<Tensor>, // w1 [64, 32], b1 [32], w2 [32, 10], b2 [10]
}

impl Mlp {
    fn new(rng: &mut Rng) -> Result<Mlp, TensorError> {
        let mut params = Vec::new();
        for (fan_in, fan_out) in [(FEATURES, 32), (32, CLASSES)] {
            // PyTorch's nn.Linear init, stored transposed ([in, out]) so forward is x·W.
            let w = init::torch_default_weight([fan_out, fan_in], DType::F32, rng)?;
            params.push(w.t()?.contiguous());
            params.push(init::torch_default_bias(w.shape(), DType::F32, rng)?);
        }
        Ok(Mlp { params })
    }

    /// Logits and the hidden pre-activation (needed by the backward pass).
    fn forward(&self, x: &Tensor) -> Result<(Tensor, Tensor, Tensor), TensorError> {
        let pre = x.matmul(&self.params[0])?.add(&self.params[1])?;
        let hidden = pre.relu()?;
        let logits = hidden.matmul(&self.params[2])?.add(&self.params[3])?;
        Ok((logits, pre, hidden))
    }

    /// Mean cross-entropy and the gradients of every parameter, in `params` order.
    fn loss_and_grads(
        &self,
        x: &Tensor,
        onehot: &Tensor,
    ) -> Result<(f32, Vec<Tensor>), TensorError> {
        let (logits, pre, hidden) = self.forward(x)?;
        let batch = x.dims()[0] as f64;
        let loss = -logits
            .log_softmax(1)?
            .mul(onehot)?
            .sum(&[], false)?
            .item::<f32>()?
            / batch as f32;
        // d(mean CE)/d logits = (softmax − onehot) / batch.
        let dlogits = logits.softmax(1)?.sub(onehot)?.div_scalar(batch)?;
        let dw2 = hidden.t()?.matmul(&dlogits)?;
        let db2 = dlogits.sum(&[0], false)?;
        let active = pre.gt(&Tensor::scalar(0f32))?.to_dtype(DType::F32)?;
        let dpre = dlogits.matmul(&self.params[2].t()?)?.mul(&active)?;
        let dw1 = x.t()?.matmul(&dpre)?;
        let db1 = dpre.sum(&[0], false)?;
        Ok((loss, vec![dw1, db1, dw2, db2]))
    }

    /// The trained network as an IR graph, `nn.Sequential(Linear(64, 32), ReLU(), Linear(32, 10))`
    /// with PyTorch's parameter names, for the verifier and the error-bound analysis.
    pub fn to_graph(&self) -> Result<(Graph, ParamStore), String> {
        let e = |e: IrError| e.to_string();
        let mut b = GraphBuilder::new();
        let mut store = ParamStore::new();
        let input = Op::Input {
            shape: vec![1, FEATURES].into(),
            dtype: DType::F32,
        };
        let mut x = b.push_named("x", input, &[]).map_err(e)?;
        for (layer, pair) in [(0, &self.params[..2]), (2, &self.params[2..])] {
            let mut linear_inputs = vec![x];
            // Stored as [in, out] for x·W; PyTorch's Linear keeps [out, in].
            let weight = pair[0].t().map_err(|e| e.to_string())?.contiguous();
            for (kind, t) in [("weight", weight), ("bias", pair[1].clone())] {
                let name = format!("{layer}.{kind}");
                let op = Op::Parameter {
                    name: name.clone(),
                    shape: t.dims().to_vec().into(),
                    dtype: DType::F32,
                };
                linear_inputs.push(b.push(op, &[]).map_err(e)?);
                store.insert(name, t);
            }
            x = b
                .push(Op::Linear { bias: true }, &linear_inputs)
                .map_err(e)?;
            if layer == 0 {
                x = b.push(Op::Relu, &[x]).map_err(e)?;
            }
        }
        Ok((b.finish(&[x]).map_err(e)?, store))
    }

    fn accuracy(&self, x: &Tensor, labels: &[usize]) -> Result<f64, TensorError> {
        let predicted = self.forward(x)?.0.argmax(1, false)?.to_vec::<i64>()?;
        let correct = predicted
            .iter()
            .zip(labels)
            .filter(|(p, l)| **p as usize == **l)
            .count();
        Ok(correct as f64 / labels.len() as f64)
    }
}

fn rows(images: &[f32], idx: &[usize]) -> Result<Tensor, TensorError> {
    let data: Vec<f32> = idx
        .iter()
        .flat_map(|&i| images[i * FEATURES..(i + 1) * FEATURES].iter().copied())
        .collect();
    Tensor::from_vec(data, [idx.len(), FEATURES])
}

fn onehot(labels: &[usize], idx: &[usize]) -> Result<Tensor, TensorError> {
    let mut v = vec![0f32; idx.len() * CLASSES];
    for (r, &i) in idx.iter().enumerate() {
        v[r * CLASSES + labels[i]] = 1.0;
    }
    Tensor::from_vec(v, [idx.len(), CLASSES])
}

pub fn run(args: &DemoArgs) -> Result<(), String> {
    let e = |e: TensorError| e.to_string();
    if args.batch_size == 0 {
        return Err("--batch-size must be positive".into());
    }
    let start = Instant::now();
    let data = load_digits()?;
    let n = data.labels.len();
    let mut rng = Rng::new(args.seed);
    let order = rng.permutation(n);
    let (test_idx, train_idx) = order.split_at(TEST_SIZE);
    outln!(
        "strata demo: 8x8 digits, {} train / {} test images, MLP 64-32-10 (ReLU), f32",
        train_idx.len(),
        test_idx.len()
    );
    let mut model = Mlp::new(&mut rng).map_err(e)?;
    let mut velocity: Vec<Tensor> = model
        .params
        .iter()
        .map(|p| p.zeros_like())
        .collect::<Result<_, _>>()
        .map_err(e)?;
    let test_x = rows(&data.images, test_idx).map_err(e)?;
    let test_labels: Vec<usize> = test_idx.iter().map(|&i| data.labels[i]).collect();
    for epoch in 1..=args.epochs {
        let shuffled: Vec<usize> = rng
            .permutation(train_idx.len())
            .into_iter()
            .map(|i| train_idx[i])
            .collect();
        let mut total = 0.0;
        for batch in shuffled.chunks(args.batch_size) {
            let (x, y) = (
                rows(&data.images, batch).map_err(e)?,
                onehot(&data.labels, batch).map_err(e)?,
            );
            let (loss, grads) = model.loss_and_grads(&x, &y).map_err(e)?;
            total += loss as f64 * batch.len() as f64;
            // SGD with momentum 0.9, PyTorch's form: v = 0.9 v + g; p = p − lr v.
            for ((p, v), g) in model.params.iter_mut().zip(&mut velocity).zip(&grads) {
                *v = v.mul_scalar(0.9).and_then(|v| v.add(g)).map_err(e)?;
                *p = p.sub(&v.mul_scalar(args.lr).map_err(e)?).map_err(e)?;
            }
        }
        if epoch % 10 == 0 || epoch == args.epochs {
            let acc = model.accuracy(&test_x, &test_labels).map_err(e)?;
            outln!(
                "epoch {epoch:>3}  train loss {:.4}  test accuracy {:.2}%",
                total / train_idx.len() as f64,
                100.0 * acc
            );
        }
    }
    let acc = model.accuracy(&test_x, &test_labels).map_err(e)?;
    outln!(
        "test accuracy {:.2}% ({} of {}) in {:.2} s",
        100.0 * acc,
        (acc * TEST_SIZE as f64).round(),
        TEST_SIZE,
        start.elapsed().as_secs_f64()
    );
    let test_pixels: Vec<[u8; FEATURES]> = test_idx.iter().map(|&i| data.pixels(i)).collect();
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("strata-demo"));
    certify_robustness(&model, &test_pixels, &test_labels, &args.eps, &out_dir)?;
    torchlean_digits(args.data.as_deref(), &args.eps)
}

/// The VNN-LIB property "the label stays first on the L∞ ball of radius `eps` around the
/// image, clamped to [0, 1]". Pixels are k/16 and `eps` a decimal, so every bound is written
/// as the exact decimal (k/16 ± eps, clamped), with no rounding.
fn robustness_property(pixels: &[u8; FEATURES], label: usize, eps: &str) -> Result<String, String> {
    let bad = || format!("--eps {eps:?}: expected a decimal in (0, 1) with at most 4 digits");
    let (whole, frac) = eps.split_once('.').unwrap_or((eps, ""));
    if whole.parse::<u32>().map_err(|_| bad())? != 0 || frac.len() > 4 {
        return Err(bad());
    }
    // Everything in units of 1/10000: a pixel k/16 is 625·k.
    let eps_units: i64 = format!("{frac:0<4}").parse().map_err(|_| bad())?;
    if eps_units == 0 {
        return Err(bad());
    }
    let decimal = |units: i64| format!("{}.{:04}", units / 10_000, units % 10_000);
    let mut text = String::new();
    for i in 0..FEATURES {
        text += &format!("(declare-const X_{i} Real)\n");
    }
    for j in 0..CLASSES {
        text += &format!("(declare-const Y_{j} Real)\n");
    }
    for (i, &k) in pixels.iter().enumerate() {
        let centre = 625 * k as i64;
        let lo = (centre - eps_units).max(0);
        let hi = (centre + eps_units).min(10_000);
        text += &format!(
            "(assert (>= X_{i} {}))\n(assert (<= X_{i} {}))\n",
            decimal(lo),
            decimal(hi)
        );
    }
    text += "(assert (or";
    for j in (0..CLASSES).filter(|&j| j != label) {
        text += &format!(" (and (>= Y_{j} Y_{label}))");
    }
    text += "))\n";
    Ok(text)
}

/// Verifies L∞ robustness of every test image with the sound verifier (CROWN, branch and
/// bound), counting proofs, counterexamples and undecided images. The trained network is
/// exported to ONNX and every proof is written as a certificate, then re-checked by strata-cert
/// against the network read back from that ONNX file; each proof leaf's real margin is then set
/// against strata-approx's bound on the native float32 error there (margin transfer).
fn certify_robustness(
    model: &Mlp,
    test_pixels: &[[u8; FEATURES]],
    labels: &[usize],
    eps: &str,
    out_dir: &Path,
) -> Result<(), String> {
    let start = Instant::now();
    let (graph, params) = model.to_graph()?;
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let onnx_path = out_dir.join("digits_mlp.onnx");
    strata_io::onnx::write_model(&onnx_path, &graph, &params, DEFAULT_EXPORT_OPSET)
        .map_err(|e| e.to_string())?;
    let (onnx_ref, checked_net) = read_back_network(&onnx_path)?;
    let options = VerifyOptions {
        timeout: Duration::from_secs(5),
        ..VerifyOptions::default()
    };
    let (mut certified, mut checked, mut falsified, mut undecided) = (0, 0, 0, 0);
    // Images whose verdict also holds for float32, and the least slack (margin, budget).
    let (mut float32_holds, mut tightest) = (0, (f64::INFINITY, 0.0));
    for (i, (pixels, &label)) in test_pixels.iter().zip(labels).enumerate() {
        let vnnlib = robustness_property(pixels, label, eps)?;
        let prop_path = out_dir.join(format!("image_{i:03}.vnnlib"));
        std::fs::write(&prop_path, &vnnlib).map_err(|e| format!("{}: {e}", prop_path.display()))?;
        let name = prop_path.display().to_string();
        let property = parse_property(&vnnlib, &name).map_err(|e| e.to_string())?;
        let prop_ref = FileRef::of_bytes(&prop_path, vnnlib.as_bytes());
        let (verdict, certificate) = verify_with_certificate(
            &graph,
            &params,
            &property,
            &options,
            onnx_ref.clone(),
            prop_ref,
        )
        .map_err(|e| format!("{name}: {e}"))?;
        match verdict {
            Verdict::Unsat => {
                certified += 1;
                let certificate =
                    certificate.map_err(|why| format!("{name}: no certificate: {why}"))?;
                let cert_path = out_dir.join(format!("image_{i:03}.cert.json"));
                certificate
                    .write_atomic(&cert_path)
                    .map_err(|e| e.to_string())?;
                match check_certificate(&checked_net, &property, &certificate) {
                    Ok(_) => checked += 1,
                    Err(e) => outln!("{}: certificate rejected: {e}", cert_path.display()),
                }
                let t = float32_transfer(&graph, &params, &property, &certificate)
                    .map_err(|e| format!("{name}: {e}"))?;
                float32_holds += t.holds as usize;
                let (m, b) = (t.tightest.margin, t.tightest.budget);
                if m - b < tightest.0 - tightest.1 {
                    tightest = (m, b);
                }
            }
            Verdict::Sat(_) => falsified += 1,
            Verdict::Unknown(_) => undecided += 1,
        }
    }
    outln!(
        "L∞ robustness at eps {eps} (sound for the exact real network): certified {certified}/{} \
         (checked: {checked} certificates accepted by strata-cert), counterexamples {falsified}, \
         undecided {undecided}, in {:.2} s; files in {}",
        labels.len(),
        start.elapsed().as_secs_f64(),
        out_dir.display()
    );
    outln!(
        "verdict holds for float32 execution: {} for {float32_holds} of the {certified} certified \
         images (tightest: margin {:.3e}, budget {:.3e})",
        if float32_holds == certified {
            "yes"
        } else {
            "partly"
        },
        tightest.0,
        tightest.1
    );
    Ok(())
}

/// The exported ONNX file as the checker sees it: its name and hash, and the network lowered
/// from the file's bytes by strata-cert (not from the in-memory graph).
fn read_back_network(path: &Path) -> Result<(FileRef, strata_cert::Network), String> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| format!("{name}: {e}"))?;
    let model = strata_io::onnx::ModelProto::decode(&bytes, &name).map_err(|e| e.to_string())?;
    let imported = strata_io::onnx::import_model(&model, &name, &ImportOptions::default())
        .map_err(|e| e.to_string())?;
    let net =
        strata_cert::lower(&imported.graph, &imported.params, &name).map_err(|e| e.to_string())?;
    Ok((FileRef::of_bytes(path, &bytes), net))
}

/// TorchLean's own digits linear model (its weights and 360 test images, under
/// `<data>/torchlean/`, when present): Strata's exact margin count next to TorchLean's 318/360.
fn torchlean_digits(data: Option<&Path>, eps: &str) -> Result<(), String> {
    // The data directory: --data, else $STRATA_DATA, else the development checkout's ../shared/data.
    let root = strata_nn::data::data_root(data)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let dir = root.join("torchlean/NN/Examples/Verification/Robustness");
    let (weights, dataset) = (
        dir.join("digits_linear_weights.json"),
        dir.join("digits_test.json"),
    );
    if !weights.is_file() || !dataset.is_file() {
        outln!(
            "TorchLean digits linear model: skipped ({} not found)",
            dir.display()
        );
        return Ok(());
    }
    let report = strata_cert::torchlean::digits_certified(&weights, &dataset, eps)
        .map_err(|e| e.to_string())?;
    outln!(
        "TorchLean digits linear model at eps {eps}: Strata certifies {}/{} by exact margins \
         (TorchLean: 318/360 at eps 0.02); nominal accuracy {}/{}",
        report.certified,
        report.examples,
        report.nominal,
        report.examples
    );
    Ok(())
}
