//! `strata ir`: look at and convert graphs.
//!
//! - `strata ir show <file>`: the inputs, parameters (name, type, element count), outputs and
//!   one line per node (id, name, op, inputs, attributes, type);
//! - `strata ir dot <file>`: Graphviz DOT on stdout;
//! - `strata ir convert <in> <out>`: between the text form, the JSON form and TorchLean's JSON.
//!
//! Input formats are detected from the content: JSON with `"format": "torchlean.ir.v1"` (or an
//! `input_id`) is TorchLean's, other JSON is Strata's, anything else the text form. The output
//! format comes from `--to`, else the extension: `.torchlean.json` → TorchLean, `.json` → JSON,
//! anything else → text.

use crate::error::IrError;
use crate::graph::Graph;
use crate::op::Op;
use crate::{dot, json, text, torchlean};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `strata ir`.
#[derive(clap::Args, Clone, Debug)]
pub struct IrArgs {
    #[command(subcommand)]
    pub command: IrCommand,
}

#[derive(clap::Subcommand, Clone, Debug)]
pub enum IrCommand {
    /// Print a graph's inputs, parameters, outputs and nodes.
    Show {
        /// A graph in the text form, Strata JSON or TorchLean JSON.
        file: PathBuf,
    },
    /// Print a graph as Graphviz DOT.
    Dot { file: PathBuf },
    /// Convert a graph between the text form, Strata JSON and TorchLean JSON.
    Convert {
        input: PathBuf,
        output: PathBuf,
        /// The output format (default: from the output's extension).
        #[arg(long, value_enum)]
        to: Option<Format>,
    },
}

/// A graph file format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The text form.
    Text,
    /// Strata's JSON form.
    Json,
    /// TorchLean's `torchlean.ir.v1` JSON.
    Torchlean,
}

impl Format {
    /// The format a file name asks for.
    pub fn from_path(path: &Path) -> Format {
        let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase());
        match name.as_deref() {
            Some(n) if n.ends_with(".torchlean.json") => Format::Torchlean,
            Some(n) if n.ends_with(".json") => Format::Json,
            _ => Format::Text,
        }
    }
}

/// Reads a graph in any of the three formats, detected from the content.
pub fn read_graph(content: &str) -> Result<Graph, IrError> {
    if !content.trim_start().starts_with('{') {
        return text::parse(content);
    }
    let value = json::parse_value(content)?;
    if torchlean::is_torchlean(&value) {
        torchlean::import_value(&value)
    } else {
        json::from_value(&value)
    }
}

/// Writes `graph` in `format`.
pub fn write_graph(graph: &Graph, format: Format) -> Result<String, IrError> {
    match format {
        Format::Text => text::print(graph),
        Format::Json => json::to_string(graph).map(|s| s + "\n"),
        Format::Torchlean => torchlean::export_string(graph).map(|s| s + "\n"),
    }
}

/// Runs `strata ir` with output on stdout (a closed stdout, as under `head`, is not an error).
pub fn run(args: &IrArgs) -> Result<(), String> {
    let printed = execute(args)?;
    match std::io::stdout().lock().write_all(printed.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result.map_err(|e| format!("cannot write to stdout: {e}")),
    }
}

/// Runs `strata ir`, writing what it prints to `out`.
pub fn run_with(args: &IrArgs, out: &mut dyn Write) -> Result<(), String> {
    let printed = execute(args)?;
    out.write_all(printed.as_bytes())
        .map_err(|e| format!("cannot write the output: {e}"))
}

/// Does what `args` asks; returns what to print.
fn execute(args: &IrArgs) -> Result<String, String> {
    let load = |path: &Path| -> Result<Graph, String> {
        let content = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        read_graph(&content).map_err(|e| format!("{}: {e}", path.display()))
    };
    Ok(match &args.command {
        IrCommand::Show { file } => show(&load(file)?).map_err(|e| e.to_string())?,
        IrCommand::Dot { file } => dot::to_dot(&load(file)?),
        IrCommand::Convert { input, output, to } => {
            let graph = load(input)?;
            let format = to.unwrap_or_else(|| Format::from_path(output));
            let written = write_graph(&graph, format).map_err(|e| e.to_string())?;
            std::fs::write(output, written)
                .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
            format!(
                "wrote {} ({} nodes, {:?})\n",
                output.display(),
                graph.nodes.len(),
                format
            )
        }
    })
}

/// The `show` report.
pub fn show(graph: &Graph) -> Result<String, IrError> {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{} nodes", graph.nodes.len());
    let _ = writeln!(out, "inputs:");
    for node in graph.inputs() {
        let name = node.name.as_deref().unwrap_or("");
        let _ = writeln!(out, "  %{} {name} {}", node.id, node.ty());
    }
    let _ = writeln!(out, "parameters:");
    for node in graph.parameters() {
        if let Op::Parameter { name, shape, .. } = &node.op {
            let n = shape.numel();
            let _ = writeln!(out, "  %{} {name} {} ({n} elements)", node.id, node.ty());
        }
    }
    // Shared parameters (one name read by several nodes) count once.
    let total = (graph.parameter_types()?.values())
        .fold(0usize, |acc, t| acc.saturating_add(t.shape.numel()));
    let _ = writeln!(out, "  total: {total} elements");
    let outputs: Vec<String> = graph
        .outputs
        .iter()
        .map(|&o| match graph.nodes.get(o) {
            Some(n) => format!("%{o} {}", n.ty()),
            None => format!("%{o}"),
        })
        .collect();
    let _ = writeln!(out, "outputs: {}", outputs.join(", "));
    let _ = writeln!(out, "nodes:");
    for node in &graph.nodes {
        let _ = writeln!(out, "  {}", text::node_line(node)?);
    }
    Ok(out)
}
