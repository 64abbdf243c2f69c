//! ONNX protobuf: decoding arbitrary bytes never panics; whatever decodes re-encodes to bytes
//! that decode to the same model, and its tensors convert or give an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_io::onnx::{tensor_from_proto, ModelProto, TensorProto};

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = ModelProto::decode(data, "fuzz.onnx") {
        let bytes = model.encode();
        let again = ModelProto::decode(&bytes, "re-encoded").expect("re-encoding decodes");
        // NaN payloads make `==` on floats useless; compare the encodings instead.
        assert_eq!(again.encode(), bytes, "encoding is not a fixed point");
        if let Some(graph) = &model.graph {
            for init in &graph.initializer {
                let _ = tensor_from_proto(init, "fuzz.onnx");
            }
        }
    }
    if let Ok(tensor) = TensorProto::decode(data, "fuzz.pb") {
        if let Ok(t) = tensor_from_proto(&tensor, "fuzz.pb") {
            assert_eq!(t.numel(), t.dims().iter().product::<usize>());
        }
    }
});
