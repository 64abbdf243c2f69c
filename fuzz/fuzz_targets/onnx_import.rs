//! ONNX import: whatever decodes either imports into a well-formed strata-ir graph or gives an
//! error; lowering never panics and never folds a huge constant.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_io::onnx::{import_model, ImportOptions, ModelProto};

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = ModelProto::decode(data, "fuzz.onnx") {
        if let Ok(imported) = import_model(&model, "fuzz.onnx", &ImportOptions::default()) {
            imported
                .graph
                .check_shapes()
                .expect("imported graph checks");
            imported
                .graph
                .check_params(&imported.params)
                .expect("parameters bind");
        }
    }
});
