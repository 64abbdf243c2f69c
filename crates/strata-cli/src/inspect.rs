//! `strata inspect <model.onnx|.safetensors>`: a model file's summary (opset, op histograms,
//! inputs, outputs, parameters and their shapes) and, for ONNX, which numeric layers and
//! analyses support every op of the imported graph (`strata_io::inspect`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use strata_io::inspect::inspect;
use strata_io::onnx::ImportOptions;

#[derive(clap::Args, Clone, Debug)]
pub struct InspectArgs {
    /// The model: an ONNX file or a safetensors checkpoint.
    pub model: PathBuf,
    /// A static shape for an ONNX input with symbolic dimensions, as NAME=D0,D1,… (repeatable).
    #[arg(long = "input-shape", value_name = "NAME=DIMS")]
    pub input_shapes: Vec<String>,
}

/// `NAME=D0,D1,…` as a name and dims.
fn parse_input_shape(spec: &str) -> Result<(String, Vec<usize>), String> {
    let (name, dims) = spec
        .split_once('=')
        .ok_or_else(|| format!("--input-shape {spec:?}: expected NAME=D0,D1,…"))?;
    let dims = dims
        .split(',')
        .filter(|d| !d.trim().is_empty())
        .map(|d| {
            d.trim()
                .parse::<usize>()
                .map_err(|_| format!("--input-shape {spec:?}: {d:?} is not a dimension"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((name.to_owned(), dims))
}

pub fn run(args: &InspectArgs) -> Result<(), String> {
    let input_shapes = args
        .input_shapes
        .iter()
        .map(|s| parse_input_shape(s))
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    let summary =
        inspect(&args.model, &ImportOptions { input_shapes }).map_err(|e| e.to_string())?;
    outln!("{}", summary.to_string().trim_end());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_input_shape;

    #[test]
    fn input_shapes_parse_and_bad_ones_are_named() {
        assert_eq!(
            parse_input_shape("x=1, 3,32").unwrap(),
            ("x".to_owned(), vec![1, 3, 32])
        );
        assert_eq!(parse_input_shape("s=").unwrap(), ("s".to_owned(), vec![]));
        assert!(parse_input_shape("x").unwrap_err().contains("NAME=D0"));
        assert!(parse_input_shape("x=1,b").unwrap_err().contains("\"b\""));
    }
}
