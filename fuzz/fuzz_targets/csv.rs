//! CSV: parsing arbitrary bytes never panics, with and without a header and a label column.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_io::{read_csv_bytes, CsvOptions, LabelColumn};
use strata_tensor::DType;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, text)) = data.split_first() else {
        return;
    };
    let options = CsvOptions {
        header: choice & 1 != 0,
        delimiter: if choice & 2 != 0 { b';' } else { b',' },
        comment: (choice & 4 != 0).then_some(b'#'),
        label: match (choice >> 3) & 3 {
            0 => None,
            1 => Some(LabelColumn::Last),
            2 => Some(LabelColumn::Index(1)),
            _ => Some(LabelColumn::Name("y".into())),
        },
        dtype: [DType::F32, DType::F64, DType::I64][usize::from(choice >> 5) % 3],
        label_dtype: if choice & 0x80 != 0 {
            DType::F64
        } else {
            DType::I64
        },
    };
    if let Ok(table) = read_csv_bytes(text, "fuzz.csv", &options) {
        let rows = table.features.dims()[0];
        if let Some(labels) = &table.labels {
            assert_eq!(labels.dims(), [rows]);
        }
    }
});
