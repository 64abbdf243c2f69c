//! NPZ (ZIP of NPY members, stored or deflated): parsing arbitrary bytes never panics or
//! over-allocates; whatever loads saves (both ways) to an archive that loads to the same arrays.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_io::{npz_bytes, read_npz_bytes, NpzCompression};

fuzz_target!(|data: &[u8]| {
    let Ok(arrays) = read_npz_bytes(data, "fuzz.npz") else {
        return;
    };
    for compression in [NpzCompression::Stored, NpzCompression::Deflated] {
        let bytes = npz_bytes(&arrays, compression, "re-saved").expect("loaded arrays save");
        let again = read_npz_bytes(&bytes, "re-saved").expect("saved archive loads");
        assert_eq!(again.len(), arrays.len());
        for (key, t) in &arrays {
            let u = &again[key];
            assert_eq!((u.dtype(), u.dims()), (t.dtype(), t.dims()), "{key}");
        }
    }
});
