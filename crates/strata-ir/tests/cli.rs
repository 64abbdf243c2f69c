//! `strata ir show | dot | convert` on files.

use clap::Parser;
use std::path::PathBuf;
use strata_ir::cli::{run_with, IrArgs};
use strata_ir::{text, torchlean, GraphBuilder, Op};
use strata_tensor::DType;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    ir: IrArgs,
}

/// A fresh directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-ir-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> Result<String, String> {
    let cli = Cli::try_parse_from(std::iter::once("ir").chain(args.iter().copied()))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    run_with(&cli.ir, &mut out)?;
    Ok(String::from_utf8(out).unwrap())
}

fn mlp() -> strata_ir::Graph {
    let mut b = GraphBuilder::new();
    let f32 = DType::F32;
    let x = b
        .push_named(
            "x",
            Op::Input {
                shape: [1, 4].into(),
                dtype: f32,
            },
            &[],
        )
        .unwrap();
    let w = b
        .push(
            Op::Parameter {
                name: "fc.weight".into(),
                shape: [3, 4].into(),
                dtype: f32,
            },
            &[],
        )
        .unwrap();
    let bias = b
        .push(
            Op::Parameter {
                name: "fc.bias".into(),
                shape: [3].into(),
                dtype: f32,
            },
            &[],
        )
        .unwrap();
    let h = b
        .push_named("fc", Op::Linear { bias: true }, &[x, w, bias])
        .unwrap();
    let y = b.push(Op::Relu, &[h]).unwrap();
    b.finish(&[y]).unwrap()
}

#[test]
fn show_lists_inputs_parameters_outputs_and_nodes() {
    let dir = scratch("show");
    let file = dir.join("mlp.ir");
    std::fs::write(&file, text::print(&mlp()).unwrap()).unwrap();
    let shown = run(&["show", file.to_str().unwrap()]).unwrap();
    let expected = "\
5 nodes
inputs:
  %0 x f32[1, 4]
parameters:
  %1 fc.weight f32[3, 4] (12 elements)
  %2 fc.bias f32[3] (3 elements)
  total: 15 elements
outputs: %4 f32[1, 3]
nodes:
  %0 \"x\" = input {dtype=\"f32\", shape=[1,4]} : f32[1, 4]
  %1 = parameter {dtype=\"f32\", name=\"fc.weight\", shape=[3,4]} : f32[3, 4]
  %2 = parameter {dtype=\"f32\", name=\"fc.bias\", shape=[3]} : f32[3]
  %3 \"fc\" = linear(%0, %1, %2) {bias=true} : f32[1, 3]
  %4 = relu(%3) : f32[1, 3]
";
    assert_eq!(shown, expected);
    // TorchLean input is detected from its content.
    let tl = dir.join("tiny.json");
    std::fs::write(&tl, torchlean::export_string(&mlp()).unwrap()).unwrap();
    assert_eq!(run(&["show", tl.to_str().unwrap()]).unwrap(), expected);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn convert_goes_between_all_three_formats() {
    let dir = scratch("convert");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    std::fs::write(path("a.ir"), text::print(&mlp()).unwrap()).unwrap();
    let said = run(&["convert", &path("a.ir"), &path("b.json")]).unwrap();
    assert!(said.contains("(5 nodes, Json)"), "{said}");
    run(&["convert", &path("b.json"), &path("c.torchlean.json")]).unwrap();
    run(&[
        "convert",
        &path("c.torchlean.json"),
        &path("d.out"),
        "--to",
        "text",
    ])
    .unwrap();
    let json = std::fs::read_to_string(path("b.json")).unwrap();
    assert!(json.contains("\"format\": \"strata.ir.v1\""));
    let tl = std::fs::read_to_string(path("c.torchlean.json")).unwrap();
    assert!(tl.contains("\"format\": \"torchlean.ir.v1\""));
    let back = text::parse(&std::fs::read_to_string(path("d.out")).unwrap()).unwrap();
    assert_eq!(back, mlp());
    let dot = run(&["dot", &path("b.json")]).unwrap();
    assert!(
        dot.starts_with("digraph strata_ir {") && dot.contains("n3 -> n4;"),
        "{dot}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn errors_name_the_file_and_the_problem() {
    let dir = scratch("errors");
    let missing = dir.join("missing.ir");
    let err = run(&["show", missing.to_str().unwrap()]).unwrap_err();
    assert!(
        err.starts_with("cannot read ") && err.contains("missing.ir"),
        "{err}"
    );
    let bad = dir.join("bad.ir");
    std::fs::write(&bad, "strata-ir v1\n%0 = relu : f32[1]\noutputs %0\n").unwrap();
    let err = run(&["dot", bad.to_str().unwrap()]).unwrap_err();
    assert!(
        err.ends_with("bad.ir: line 2: node %0 (relu): no inputs: takes exactly 1 inputs, got 0"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The wiring the `strata` binary uses: `Ir(IrArgs)` as one subcommand among others.
#[test]
fn ir_args_work_as_a_subcommand_of_the_binary() {
    #[derive(Parser)]
    struct Strata {
        #[command(subcommand)]
        command: Command,
    }
    #[derive(clap::Subcommand)]
    enum Command {
        Ir(IrArgs),
    }
    use clap::CommandFactory;
    Strata::command().debug_assert();
    let parsed =
        Strata::try_parse_from(["strata", "ir", "convert", "a.ir", "b", "--to", "torchlean"])
            .unwrap();
    let Command::Ir(args) = parsed.command;
    match args.command {
        strata_ir::cli::IrCommand::Convert { input, output, to } => {
            assert_eq!((input, output), (PathBuf::from("a.ir"), PathBuf::from("b")));
            assert_eq!(to, Some(strata_ir::cli::Format::Torchlean));
        }
        _ => panic!("parsed as another command"),
    }
    assert!(Strata::try_parse_from(["strata", "ir", "frobnicate"]).is_err());
}
