//! VNN-LIB: parsing arbitrary text never panics, and a parsed property is consistent (every
//! case's box and every constraint sized to the declared inputs and outputs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_io::vnnlib::parse_property;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(property) = parse_property(&text, "fuzz.vnnlib") {
        for case in &property.cases {
            assert_eq!(case.input.lower.len(), property.n_inputs);
            assert_eq!(case.input.upper.len(), property.n_inputs);
            for constraint in case.unsafe_set.iter().flatten() {
                assert_eq!(constraint.coeffs.len(), property.n_outputs);
            }
        }
    }
});
