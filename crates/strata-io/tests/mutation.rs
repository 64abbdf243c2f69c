//! Mutated files of every format: whatever the bytes, a reader returns a value or an error,
//! never a panic or an allocation the input cannot justify. (The cargo-fuzz targets in
//! fuzz/ explore the same property far longer; this runs in CI.)

mod common;

use common::fixture_dir;
use proptest::prelude::*;
use std::sync::LazyLock;
use strata_io::onnx::{import_model, tensor_from_proto, ImportOptions, ModelProto};
use strata_io::{read_csv_bytes, read_npz_bytes, read_safetensors_bytes, CsvOptions, LabelColumn};

type Reader = fn(&[u8]);

fn safetensors(bytes: &[u8]) {
    let _ = read_safetensors_bytes(bytes, "mutated");
}

fn npz(bytes: &[u8]) {
    let _ = read_npz_bytes(bytes, "mutated");
}

fn onnx(bytes: &[u8]) {
    if let Ok(model) = ModelProto::decode(bytes, "mutated") {
        let encoded = model.encode();
        let again = ModelProto::decode(&encoded, "re-encoded").unwrap();
        assert_eq!(again.encode(), encoded);
        for init in model.graph.iter().flat_map(|g| &g.initializer) {
            let _ = tensor_from_proto(init, "mutated");
        }
        let _ = import_model(&model, "mutated", &ImportOptions::default());
    }
}

fn csv(bytes: &[u8]) {
    let options = CsvOptions {
        header: true,
        label: Some(LabelColumn::Last),
        ..CsvOptions::default()
    };
    let _ = read_csv_bytes(bytes, "mutated", &options);
}

static SEEDS: LazyLock<Vec<(Vec<u8>, Reader)>> = LazyLock::new(|| {
    let read = |format: &str, file: &str| std::fs::read(fixture_dir(format).join(file)).unwrap();
    vec![
        (
            read("safetensors", "numpy_all_dtypes.safetensors"),
            safetensors as Reader,
        ),
        (
            read("safetensors", "torch_state_dict.safetensors"),
            safetensors,
        ),
        (read("npz", "savez_compressed.npz"), npz),
        (read("npz", "data_descriptor.npz"), npz),
        (read("npz", "zip64_end.npz"), npz),
        (read("onnx", "all_fields.onnx"), onnx),
        (read("onnx", "torch_cnn.onnx"), onnx),
        (read("onnx", "encoder.onnx"), onnx),
        (read("onnx", "cnn.onnx"), onnx),
        (read("csv", "header_crlf.csv"), csv),
    ]
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mutated_files_never_panic(
        seed in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let (bytes, read) = &SEEDS[seed.index(SEEDS.len())];
        let mut bytes = bytes.clone();
        for (at, value) in flips {
            let at = at.index(bytes.len());
            bytes[at] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        read(&bytes);
    }
}
