//! NPY header and data: parsing arbitrary bytes never panics or over-allocates; whatever
//! loads saves to a file that loads to the same tensor.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_io::{npy_bytes, read_npy_bytes};

fuzz_target!(|data: &[u8]| {
    let Ok(tensor) = read_npy_bytes(data, "fuzz.npy") else {
        return;
    };
    let bytes = npy_bytes(&tensor, "re-saved").expect("loaded tensor saves");
    let again = read_npy_bytes(&bytes, "re-saved").expect("saved file loads");
    assert_eq!(
        (again.dtype(), again.dims()),
        (tensor.dtype(), tensor.dims())
    );
    let bits = |t: &strata_tensor::Tensor| -> Vec<u64> {
        t.to_vec_f64().iter().map(|v| v.to_bits()).collect()
    };
    assert_eq!(bits(&again), bits(&tensor));
});
