//! Checkpoints bound to a graph: the PyTorch MLP's safetensors state_dict (tests/fixtures/interop)
//! against graphs that declare its parameters rightly and wrongly, and hostile checkpoint files.

mod common;

use common::*;
use strata_io::{check_checkpoint, read_checkpoint, read_safetensors, write_npz, NpzCompression};
use strata_ir::{Graph, GraphBuilder, Op};
use strata_tensor::DType;

/// `x [3, 6] → linear(fc1) → relu → linear(fc2)` declaring fc1.weight with `fc1_weight` dims
/// and dtype `dtype`, and `second` as the second layer's name.
fn mlp_graph(fc1_weight: [usize; 2], dtype: DType, second: &str) -> Graph {
    let mut b = GraphBuilder::new();
    let param = |b: &mut GraphBuilder, name: &str, dims: Vec<usize>, dtype| {
        let op = Op::Parameter {
            name: name.into(),
            shape: dims.into(),
            dtype,
        };
        b.push(op, &[]).unwrap()
    };
    let x = b
        .push(
            Op::Input {
                shape: [3, fc1_weight[1]].into(),
                dtype,
            },
            &[],
        )
        .unwrap();
    let w1 = param(&mut b, "fc1.weight", fc1_weight.to_vec(), dtype);
    let b1 = param(&mut b, "fc1.bias", vec![fc1_weight[0]], dtype);
    let h = b.push(Op::Linear { bias: true }, &[x, w1, b1]).unwrap();
    let h = b.push(Op::Relu, &[h]).unwrap();
    let w2 = param(
        &mut b,
        &format!("{second}.weight"),
        vec![8, fc1_weight[0]],
        dtype,
    );
    let y = b.push(Op::Linear { bias: false }, &[h, w2]).unwrap();
    b.finish(&[y]).unwrap()
}

fn mlp_checkpoint() -> std::path::PathBuf {
    fixture_dir("interop").join("mlp.safetensors")
}

#[test]
fn a_matching_checkpoint_binds() {
    let graph = mlp_graph([16, 6], DType::F32, "fc2");
    let store = read_checkpoint(mlp_checkpoint(), &graph).unwrap();
    // Extra entries (fc3.*) are allowed; the bound ones are PyTorch's tensors.
    assert_eq!(store["fc1.weight"].dims(), [16, 6]);
    assert!(store.contains_key("fc3.bias"));
    // The same state_dict as an NPZ binds too.
    let npz = scratch_path("mlp.npz");
    write_npz(&npz, &store, NpzCompression::Deflated).unwrap();
    let again = read_checkpoint(&npz, &graph).unwrap();
    assert_eq!(bits(&again["fc2.weight"]), bits(&store["fc2.weight"]));
    std::fs::remove_file(npz).unwrap();
}

#[test]
fn shape_dtype_and_name_mismatches_are_named() {
    let file = mlp_checkpoint();
    assert_error(
        read_checkpoint(&file, &mlp_graph([6, 16], DType::F32, "fc2")),
        // Parameters are checked in name order: the bias of the wrong width comes first.
        &[
            "mlp.safetensors",
            "parameter `fc1.bias`",
            "declares f32[6]",
            "holds f32[16]",
        ],
        "transposed weight",
    );
    assert_error(
        read_checkpoint(&file, &mlp_graph([16, 6], DType::F64, "fc2")),
        &["parameter `fc1.bias`", "declares f64[16]", "holds f32[16]"],
        "dtype",
    );
    assert_error(
        read_checkpoint(&file, &mlp_graph([16, 6], DType::F32, "head")),
        &["parameter `head.weight`", "missing"],
        "renamed layer",
    );
    let store = read_safetensors(&file).unwrap().tensors;
    assert_error(
        check_checkpoint(&mlp_graph([16, 6], DType::F32, "fc3"), &store, "ckpt"),
        &["ckpt", "parameter `fc3.weight`", "[8, 16]", "[4, 8]"],
        "wrong layer",
    );
}

#[test]
fn hostile_checkpoint_files_are_reported() {
    let graph = mlp_graph([16, 6], DType::F32, "fc2");
    let bytes = std::fs::read(mlp_checkpoint()).unwrap();
    // Truncated: the header promises more data than the file holds.
    let truncated = scratch_path("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    assert_error(
        read_checkpoint(&truncated, &graph),
        &["truncated.safetensors"],
        "truncated",
    );
    // A header length that lies (larger than the file).
    let mut lying = bytes.clone();
    lying[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let lying_path = scratch_path("lying.safetensors");
    std::fs::write(&lying_path, &lying).unwrap();
    assert_error(
        read_checkpoint(&lying_path, &graph),
        &["lying.safetensors"],
        "lying header length",
    );
    let other = scratch_path("weights.bin");
    std::fs::write(&other, b"").unwrap();
    assert_error(
        read_checkpoint(&other, &graph),
        &["weights.bin", "expected .safetensors or .npz"],
        "extension",
    );
    for path in [truncated, lying_path, other] {
        std::fs::remove_file(path).unwrap();
    }
}
