//! `strata approx <graph> (--input x.npy | --box lo.npy hi.npy)`: the rigorous float32 error
//! bound of every node (strata-approx) and the end-to-end budget; `--output` writes the
//! absolute bound of every element of output 0 (same shape as the output) as NPY.

use std::path::{Path, PathBuf};
use strata_approx::{forward_bounds, Analysis, Format, Region};
use strata_io::onnx::{import_model, read_onnx, ImportOptions};
use strata_ir::{Graph, ParamStore};
use strata_tensor::Tensor;

#[derive(clap::Args, Clone, Debug)]
pub struct ApproxArgs {
    /// The graph: IR text (`.ir`), JSON (`.json`), torchlean.ir.v1 JSON, or ONNX (`.onnx`, with
    /// its initializers as parameters).
    pub graph: PathBuf,
    /// A point input as NPY, one per graph input in order.
    #[arg(long = "input", value_name = "NPY", conflicts_with = "boxes")]
    pub inputs: Vec<PathBuf>,
    /// A box input: lower and upper bounds as NPY, one pair per graph input in order.
    #[arg(long = "box", id = "boxes", num_args = 2, value_names = ["LO", "HI"])]
    pub boxes: Vec<PathBuf>,
    /// Parameters by name: safetensors or NPZ.
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
    /// Write the absolute bound of every element of output 0 here (NPY, f64).
    #[arg(long, value_name = "NPY")]
    pub output: Option<PathBuf>,
    /// The native execution bounded: binary32 (default) or binary64 kernels.
    #[arg(long, default_value = "binary32", value_parser = ["binary32", "binary64"])]
    pub format: String,
}

fn npy(path: &Path) -> Result<Tensor, String> {
    strata_io::read_npy(path).map_err(|e| e.to_string())
}

fn load(args: &ApproxArgs) -> Result<(Graph, ParamStore), String> {
    let name = args.graph.display().to_string();
    let (graph, mut params) = if args.graph.extension().is_some_and(|e| e == "onnx") {
        let model = read_onnx(&args.graph).map_err(|e| e.to_string())?;
        let imported =
            import_model(&model, &name, &ImportOptions::default()).map_err(|e| e.to_string())?;
        (imported.graph, imported.params)
    } else {
        let text = std::fs::read_to_string(&args.graph).map_err(|e| format!("{name}: {e}"))?;
        let graph = strata_ir::cli::read_graph(&text).map_err(|e| format!("{name}: {e}"))?;
        (graph, ParamStore::new())
    };
    if let Some(p) = &args.params {
        let loaded = if p.extension().is_some_and(|e| e == "npz") {
            strata_io::read_npz(p).map_err(|e| e.to_string())?
        } else {
            strata_io::read_safetensors(p)
                .map_err(|e| e.to_string())?
                .tensors
        };
        params.extend(loaded);
    }
    Ok((graph, params))
}

fn region(args: &ApproxArgs) -> Result<Region, String> {
    if !args.boxes.is_empty() {
        let (mut lo, mut hi) = (Vec::new(), Vec::new());
        for pair in args.boxes.chunks(2) {
            lo.push(npy(&pair[0])?);
            hi.push(npy(&pair[1])?);
        }
        return Ok(Region::Box { lo, hi });
    }
    if args.inputs.is_empty() {
        return Err("give the inputs: --input x.npy (a point) or --box lo.npy hi.npy".into());
    }
    let points = args
        .inputs
        .iter()
        .map(|p| npy(p))
        .collect::<Result<_, _>>()?;
    Ok(Region::Point(points))
}

pub fn run(args: &ApproxArgs) -> Result<(), String> {
    let (graph, params) = load(args)?;
    let region = region(args)?;
    let format = match args.format.as_str() {
        "binary64" => Format::binary64(),
        _ => Format::binary32(),
    };
    let analysis = Analysis {
        format: format.clone(),
        ..Analysis::default()
    };
    let bounds = forward_bounds(&graph, &params, &region, &analysis).map_err(|e| e.to_string())?;
    outln!(
        "{:<6} {:<24} {:<28} {:>12} {:>12} {:>10}",
        "node",
        "op",
        "shape",
        "max |err|",
        "scale",
        "err/(u·s)"
    );
    for row in bounds.summary(&graph, &format) {
        outln!(
            "{:<6} {:<24} {:<28} {:>12.4e} {:>12.4e} {:>10.2}",
            row.node.to_string(),
            row.op,
            row.shape.to_string(),
            row.max_err,
            row.scale,
            row.units_of_scale
        );
    }
    let budget = bounds.budget().map_err(|e| e.to_string())?;
    outln!(
        "end-to-end budget ({} native kernels, fast or sequential order): |native - real| <= {budget:.6e} on every output element",
        args.format
    );
    outln!("assumptions: round to nearest even, no overflow (checked), native libm within the measured accuracy of docs/libm_accuracy.md");
    if let Some(path) = &args.output {
        let err = bounds.output_err(0).map_err(|e| e.to_string())?;
        strata_io::write_npy(path, &err).map_err(|e| e.to_string())?;
        outln!("wrote {}", path.display());
    }
    Ok(())
}
