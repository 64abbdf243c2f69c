//! safetensors: parsing arbitrary bytes never panics or over-allocates; whatever loads
//! saves to a file that loads to the same tensors and metadata.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_io::{read_safetensors_bytes, read_safetensors_header, safetensors_bytes};

fuzz_target!(|data: &[u8]| {
    let header = read_safetensors_header(data, "fuzz.safetensors");
    let Ok(loaded) = read_safetensors_bytes(data, "fuzz.safetensors") else {
        return;
    };
    assert!(
        header.is_ok(),
        "tensors loaded from a file whose header fails"
    );
    let bytes = safetensors_bytes(&loaded.tensors, &loaded.metadata, "re-saved")
        .expect("loaded tensors save");
    let again = read_safetensors_bytes(&bytes, "re-saved").expect("saved file loads");
    assert_eq!(again.metadata, loaded.metadata);
    assert_eq!(again.tensors.len(), loaded.tensors.len());
    for (name, t) in &loaded.tensors {
        let u = &again.tensors[name];
        assert_eq!((u.dtype(), u.dims()), (t.dtype(), t.dims()), "{name}");
        let bits = |t: &strata_tensor::Tensor| -> Vec<u64> {
            t.to_vec_f64().iter().map(|v| v.to_bits()).collect()
        };
        assert_eq!(bits(u), bits(t), "{name}");
    }
});
