//! IDX header and data, plain or gzip: parsing arbitrary bytes never panics or over-allocates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_io::read_idx_bytes;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = read_idx_bytes(data, "fuzz.idx") {
        assert_eq!(t.numel(), t.dims().iter().product::<usize>());
    }
});
