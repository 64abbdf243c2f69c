//! `strata run`, `strata grad` and `strata tape`: run a graph in any numeric layer,
//! differentiate it, and show one step's tape and reverse pass.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use strata_autograd::{Plan, Tape, Wrt};
use strata_ir::eval::ExecConfig;
use strata_ir::interpret;
use strata_ir::layer::{self, Exported};
use strata_ir::{Graph, ParamStore};
use strata_tensor::{MatmulKernel, ReduceOrder, Tensor};

/// Where the graph, its inputs and its parameters come from.
#[derive(clap::Args, Clone, Debug)]
pub struct GraphArgs {
    /// The graph: IR text (`.ir`), JSON (`.json`) or torchlean.ir.v1 JSON.
    pub graph: PathBuf,
    /// An input as NPY, one per graph input in order.
    #[arg(long = "input", value_name = "NPY")]
    pub inputs: Vec<PathBuf>,
    /// Parameters by name: safetensors or NPZ.
    #[arg(long, value_name = "FILE")]
    pub params: Option<PathBuf>,
    /// Reduction order: sequential, or pairwise (block 32).
    #[arg(long, default_value = "pairwise", value_parser = ["sequential", "pairwise"])]
    pub order: String,
}

#[derive(clap::Args, Clone, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub graph: GraphArgs,
    /// The numeric layer: native (fast kernels), f32 or f64 (scalar reference in that
    /// arithmetic), ieee32 (bit-level soft-float), fp32 (exact rationals rounded to binary32),
    /// interval (outward-rounded enclosure of the real value).
    #[arg(long, default_value = "native", value_parser = ["native", "f32", "f64", "ieee32", "fp32", "interval"])]
    pub layer: String,
    /// Write the first output here (NPY); an interval layer writes an NPZ with `lo` and `hi`.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(clap::Args, Clone, Debug)]
pub struct GradArgs {
    #[command(flatten)]
    pub graph: GraphArgs,
    /// Differentiate with respect to the inputs or the parameters.
    #[arg(long, default_value = "params", value_parser = ["inputs", "params"])]
    pub wrt: String,
    /// The cotangent of each output (NPY, in order); default: ones (the loss is the sum of
    /// the outputs).
    #[arg(long = "cotangent", value_name = "NPY")]
    pub cotangents: Vec<PathBuf>,
    /// Write the gradients here (NPZ, one array per input or parameter name).
    #[arg(long, value_name = "NPZ")]
    pub output: Option<PathBuf>,
}

#[derive(clap::Args, Clone, Debug)]
pub struct TapeArgs {
    #[command(flatten)]
    pub graph: GraphArgs,
    /// Also write the view as a self-contained HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(clap::Args, Clone, Debug)]
pub struct ConvertArgs {
    /// The input: an IR graph (`.ir`, `.json`, `.torchlean.json`) or tensors (`.safetensors`,
    /// `.npz`).
    pub input: PathBuf,
    /// The output; its extension names the format (graphs to graph forms, tensors to tensor
    /// formats).
    pub output: PathBuf,
}

fn extension(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// `strata convert`: between the IR's text, JSON and torchlean.ir.v1 forms, and between
/// safetensors and NPZ (by name, every dtype kept).
pub fn convert(args: &ConvertArgs) -> Result<(), String> {
    let (from, to) = (extension(&args.input), extension(&args.output));
    let tensors = |e: &str| e == "safetensors" || e == "npz";
    match (tensors(&from), tensors(&to)) {
        (true, true) => {
            let named = match from.as_str() {
                "npz" => strata_io::read_npz(&args.input).map_err(|e| e.to_string())?,
                _ => {
                    strata_io::read_safetensors(&args.input)
                        .map_err(|e| e.to_string())?
                        .tensors
                }
            };
            match to.as_str() {
                "npz" => {
                    strata_io::write_npz(&args.output, &named, strata_io::NpzCompression::Stored)
                }
                _ => strata_io::write_safetensors(&args.output, &named, &BTreeMap::new()),
            }
            .map_err(|e| e.to_string())?;
            outln!(
                "{} tensors: {} -> {}",
                named.len(),
                args.input.display(),
                args.output.display()
            );
        }
        (false, false) => {
            let graph = strata_ir::cli::read_graph(&read(&args.input)?)
                .map_err(|e| format!("{}: {e}", args.input.display()))?;
            let format = strata_ir::cli::Format::from_path(&args.output);
            let text = strata_ir::cli::write_graph(&graph, format).map_err(|e| e.to_string())?;
            std::fs::write(&args.output, text)
                .map_err(|e| format!("{}: {e}", args.output.display()))?;
            outln!(
                "{} nodes: {} -> {}",
                graph.nodes.len(),
                args.input.display(),
                args.output.display()
            );
        }
        _ => {
            return Err(format!(
                "cannot convert {} to {}: graphs convert to graph forms, tensors to tensor formats",
                args.input.display(),
                args.output.display()
            ))
        }
    }
    Ok(())
}

struct Loaded {
    graph: Graph,
    params: ParamStore,
    inputs: Vec<Tensor>,
    config: ExecConfig,
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn load(args: &GraphArgs) -> Result<Loaded, String> {
    let graph = strata_ir::cli::read_graph(&read(&args.graph)?)
        .map_err(|e| format!("{}: {e}", args.graph.display()))?;
    let params = match &args.params {
        None => ParamStore::new(),
        Some(p) if p.extension().is_some_and(|e| e == "npz") => {
            strata_io::read_npz(p).map_err(|e| e.to_string())?
        }
        Some(p) => {
            strata_io::read_safetensors(p)
                .map_err(|e| e.to_string())?
                .tensors
        }
    };
    let inputs = (args.inputs.iter())
        .map(|p| strata_io::read_npy(p).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let reduce = match args.order.as_str() {
        "sequential" => ReduceOrder::Sequential,
        _ => ReduceOrder::default(),
    };
    let config = ExecConfig {
        reduce,
        matmul: match reduce {
            ReduceOrder::Sequential => MatmulKernel::Reference(reduce),
            _ => MatmulKernel::Fast,
        },
    };
    Ok(Loaded {
        graph,
        params,
        inputs,
        config,
    })
}

fn summary(t: &Tensor) -> String {
    let norm = t.to_vec_f64().iter().map(|v| v * v).sum::<f64>().sqrt();
    format!("{}{} (L2 norm {norm:.6e})", t.dtype(), t.shape())
}

pub fn run(args: &RunArgs) -> Result<(), String> {
    let l = load(&args.graph)?;
    let order = l.config.reduce;
    let (g, p, x) = (&l.graph, &l.params, l.inputs.as_slice());
    let outputs: Vec<Exported> = match args.layer.as_str() {
        "native" => strata_ir::eval::run(g, p, x, &l.config)
            .map(|outs| outs.into_iter().map(Exported::Point).collect()),
        "f32" => interpret::run(g, p, x, &layer::F32Layer::default(), order),
        "f64" => interpret::run(g, p, x, &layer::F64Layer::default(), order),
        "ieee32" => interpret::run(g, p, x, &layer::Ieee32Layer::default(), order),
        "fp32" => interpret::run(g, p, x, &layer::Fp32Layer::default(), order),
        _ => interpret::run(g, p, x, &layer::IntervalLayer, order),
    }
    .map_err(|e| e.to_string())?;
    for (k, out) in outputs.iter().enumerate() {
        match out {
            Exported::Point(t) => outln!("output {k}: {}\n{t}", summary(t)),
            Exported::Interval { lo, hi } => {
                let width = hi.sub(lo).map_err(|e| e.to_string())?;
                let widest = width.to_vec_f64().into_iter().fold(0.0f64, f64::max);
                outln!(
                    "output {k}: interval {}{}, widest {widest:.3e}\nlo {lo}\nhi {hi}",
                    lo.dtype(),
                    lo.shape()
                );
            }
        }
    }
    if let (Some(path), Some(first)) = (&args.output, outputs.first()) {
        match first {
            Exported::Point(t) => strata_io::write_npy(path, t).map_err(|e| e.to_string())?,
            Exported::Interval { lo, hi } => {
                let arrays = BTreeMap::from([
                    ("lo".to_string(), lo.clone()),
                    ("hi".to_string(), hi.clone()),
                ]);
                strata_io::write_npz(path, &arrays, strata_io::NpzCompression::Stored)
                    .map_err(|e| e.to_string())?
            }
        }
    }
    Ok(())
}

pub fn grad(args: &GradArgs) -> Result<(), String> {
    let l = load(&args.graph)?;
    let wrt = if args.wrt == "inputs" {
        Wrt::Inputs
    } else {
        Wrt::Params
    };
    let plan = Plan::compile(&l.graph, wrt, l.config).map_err(|e| e.to_string())?;
    let cotangents: Vec<Tensor> = if args.cotangents.is_empty() {
        (l.graph.outputs.iter())
            .map(|&o| &l.graph.nodes[o])
            .filter(|n| n.dtype.is_float())
            .map(|n| Tensor::ones(n.shape.clone(), n.dtype).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?
    } else {
        (args.cotangents.iter())
            .map(|p| strata_io::read_npy(p).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?
    };
    let out = plan
        .run(&l.params, &l.inputs, &cotangents)
        .map_err(|e| e.to_string())?;
    for (name, g) in &out.gradients {
        outln!("d/d {name}: {}", summary(g));
    }
    if let Some(path) = &args.output {
        strata_io::write_npz(path, &out.gradients, strata_io::NpzCompression::Stored)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// One row of the tape view.
struct Row {
    id: usize,
    op: String,
    parents: Vec<usize>,
    value: String,
    cotangent: String,
}

pub fn tape(args: &TapeArgs) -> Result<(), String> {
    let l = load(&args.graph)?;
    let tape = Tape::with_config(l.config);
    let vars = tape
        .replay(&l.graph, &l.params, &l.inputs, true)
        .map_err(|e| e.to_string())?;
    let Some(&first) = l.graph.outputs.first() else {
        return Err("the graph has no output".into());
    };
    let out = &vars[first];
    let seed = Tensor::ones(out.dims(), out.dtype()).map_err(|e| e.to_string())?;
    let cot = tape.cotangents(out, seed).map_err(|e| e.to_string())?;
    let steps = tape.steps();
    let producer: BTreeMap<usize, &strata_ir::ops::grad::Step> =
        steps.iter().map(|s| (s.2, s)).collect();
    let value_of = |id: usize| tape.value(id).map(|t| summary(&t)).unwrap_or_default();
    let rows: Vec<Row> = (0..vars.len().max(1))
        .filter_map(|k| vars.get(k))
        .map(|v| {
            let id = v.id();
            let (op, parents) = match producer.get(&id) {
                Some((op, ins, _)) => (op.tag().to_string(), ins.clone()),
                None => ("leaf".to_string(), Vec::new()),
            };
            Row {
                id,
                op,
                parents,
                value: value_of(id),
                cotangent: cot[id].as_ref().map(summary).unwrap_or_else(|| "—".into()),
            }
        })
        .collect();
    // The reverse trace: each step's output cotangent sent through its VJP to its parents.
    let mut native = strata_ir::eval::Native { config: l.config };
    let mut sends: Vec<(usize, usize, String, String)> = Vec::new();
    for (op, ins, o) in steps.iter().rev() {
        let Some(g) = &cot[*o] else { continue };
        let xs: Vec<Tensor> = ins.iter().filter_map(|&i| tape.value(i)).collect();
        let y = tape.value(*o).ok_or("missing value")?;
        let parts = op.vjp(&mut native, &xs, &y, g)?;
        for (&i, part) in ins.iter().zip(parts) {
            if let Some(part) = part {
                sends.push((*o, i, op.tag().to_string(), summary(&part)));
            }
        }
    }
    outln!(
        "tape: {} values, {} recorded steps (output #{})",
        rows.len(),
        steps.len(),
        out.id()
    );
    for r in &rows {
        outln!(
            "#{:<4} {:<28} parents {:<14} value {}  grad {}",
            r.id,
            r.op,
            format!("{:?}", r.parents),
            r.value,
            r.cotangent
        );
    }
    outln!("\nreverse pass (cotangent sent from node to parent):");
    for (from, to, op, norm) in &sends {
        outln!("#{from} ({op}) -> #{to}: {norm}");
    }
    if let Some(path) = &args.html {
        std::fs::write(path, html(&rows, &sends))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn html(rows: &[Row], sends: &[(usize, usize, String, String)]) -> String {
    let mut page = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>strata tape</title><style>\
         body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:2px 8px;font-family:monospace}\
         th{background:#eee}</style></head><body><h1>Tape of one step</h1>\
         <table><tr><th>id</th><th>op</th><th>parents</th><th>value</th><th>gradient</th></tr>",
    );
    for r in rows {
        page.push_str(&format!(
            "<tr><td>#{}</td><td>{}</td><td>{:?}</td><td>{}</td><td>{}</td></tr>",
            r.id,
            escape(&r.op),
            r.parents,
            escape(&r.value),
            escape(&r.cotangent)
        ));
    }
    page.push_str("</table><h2>Reverse pass</h2><table><tr><th>from</th><th>op</th><th>to</th><th>cotangent sent</th></tr>");
    for (from, to, op, norm) in sends {
        page.push_str(&format!(
            "<tr><td>#{from}</td><td>{}</td><td>#{to}</td><td>{}</td></tr>",
            escape(op),
            escape(norm)
        ));
    }
    page.push_str("</table></body></html>\n");
    page
}
