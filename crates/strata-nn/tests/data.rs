//! Datasets on the real files in `../shared/data` (beside the repository), checked against the
//! figures in their SOURCES.md. Each test skips, saying why, when its data is missing.

use std::path::{Path, PathBuf};
use strata_nn::data::{
    load_fashion_mnist, load_mnist, load_tinyshakespeare, npy_dataset, read_csv, split_tokens,
    CharTokenizer, CharWindows, CsvOptions, DataLoader, Dataset, Normalize, Split, Target,
};
use strata_tensor::{DType, Tensor};

fn shared(sub: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(sub);
    if dir.exists() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is missing", dir.display());
        None
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("strata-nn-data-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn first_labels(t: &Tensor, n: usize) -> Vec<i64> {
    t.to_vec::<i64>().unwrap()[..n].to_vec()
}

#[test]
fn mnist_matches_its_sources_md() {
    let Some(dir) = shared("mnist") else { return };
    let test = load_mnist(&dir, Split::Test).unwrap();
    assert_eq!(test.inputs().dims(), &[10_000, 1, 28, 28]);
    assert_eq!(
        first_labels(test.targets(), 10),
        [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    );
    let train = load_mnist(&dir, Split::Train).unwrap();
    assert_eq!(train.len(), 60_000);
    assert_eq!(
        first_labels(train.targets(), 10),
        [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    );
    let mut counts = [0usize; 10];
    for l in train.targets().to_vec::<i64>().unwrap() {
        counts[l as usize] += 1;
    }
    assert_eq!(
        counts,
        [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    );
    // The pixel mean and std that give the normalization constants.
    let x = train.inputs().to_vec::<f32>().unwrap();
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = x
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    assert!((mean - 0.1307).abs() < 5e-5, "mean {mean}");
    assert!((var.sqrt() - 0.3081).abs() < 5e-5, "std {}", var.sqrt());
    // Normalized with those constants: mean ≈ 0, std ≈ 1.
    let z = Normalize::mnist()
        .apply(train.inputs())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    let zmean = z.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    assert!(zmean.abs() < 2e-4, "normalized mean {zmean}");
    // A batch through the loader.
    let loader = DataLoader::new(&test, 64).unwrap().shuffle(1);
    let b = loader.epoch(0).next().unwrap().unwrap();
    assert_eq!(b.inputs.dims(), &[64, 1, 28, 28]);
    assert_eq!(b.targets.dtype(), DType::I64);
    assert_eq!(loader.num_batches(), 157);
}

#[test]
fn fashion_mnist_matches_its_sources_md() {
    let Some(dir) = shared("fashion-mnist") else {
        return;
    };
    let test = load_fashion_mnist(&dir, Split::Test).unwrap();
    assert_eq!(test.len(), 10_000);
    assert_eq!(
        first_labels(test.targets(), 10),
        [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    );
    let x = test.inputs().to_vec::<f32>().unwrap();
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64;
    assert!((mean - 0.2868).abs() < 5e-5, "t10k mean {mean}");
}

#[test]
fn truncated_or_missing_idx_files_are_errors_naming_the_file() {
    let Some(dir) = shared("mnist") else { return };
    let tmp = temp_dir("truncated");
    let bytes = std::fs::read(dir.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    std::fs::copy(
        dir.join("t10k-images-idx3-ubyte.gz"),
        tmp.join("t10k-images-idx3-ubyte.gz"),
    )
    .unwrap();
    std::fs::write(
        tmp.join("t10k-labels-idx1-ubyte.gz"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    let e = load_mnist(&tmp, Split::Test).unwrap_err().to_string();
    assert!(e.contains("t10k-labels-idx1-ubyte.gz"), "{e}");
    let e = load_mnist(&tmp, Split::Train).unwrap_err().to_string();
    assert!(
        e.contains("train-images-idx3-ubyte") && e.contains("missing"),
        "{e}"
    );
    // Labels out of range: a label file claiming class 12.
    let labels = Tensor::from_vec(vec![12i64; 10_000], [10_000]).unwrap();
    strata_io::write_idx(tmp.join("t10k-labels-idx1-ubyte.gz"), &labels).unwrap();
    let e = load_mnist(&tmp, Split::Test).unwrap_err().to_string();
    assert!(
        e.contains("label 0") && e.contains("value 12 is out of range 0..10"),
        "{e}"
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn tiny_shakespeare_char_level() {
    let Some(dir) = shared("tinyshakespeare") else {
        return;
    };
    let text = load_tinyshakespeare(&dir).unwrap();
    assert_eq!(text.chars().count(), 1_115_394);
    assert!(text.starts_with("First Citizen:\nBefore we proceed any further, hear me speak."));
    let tok = CharTokenizer::from_text(&text).unwrap();
    assert_eq!(tok.vocab_size(), 65);
    assert_eq!(tok.vocab()[0], '\n');
    assert_eq!(tok.vocab()[1], ' ');
    let ids = tok.encode(&text).unwrap();
    assert_eq!(tok.decode(&ids[..14]).unwrap(), "First Citizen:");
    let (train, val) = split_tokens(&ids, 0.1).unwrap();
    assert_eq!(train.len() + val.len(), ids.len());
    let w = CharWindows::new(train, 8).unwrap();
    let b = w.get_batch(&[0]).unwrap();
    assert_eq!(
        tok.decode(&b.inputs.to_vec::<i64>().unwrap()).unwrap(),
        "First Ci"
    );
    assert_eq!(
        tok.decode(&b.targets.to_vec::<i64>().unwrap()).unwrap(),
        "irst Cit"
    );
}

#[test]
fn csv_tables_from_the_tabular_sets() {
    let Some(dir) = shared("tabular") else { return };
    // scikit-learn's iris.csv: a "150,4,setosa,versicolor,virginica" header line.
    let iris = read_csv(dir.join("iris.csv"), &CsvOptions::default()).unwrap();
    assert_eq!(iris.header.as_ref().unwrap()[2], "setosa");
    assert_eq!((iris.rows, iris.cols), (150, 5));
    assert_eq!(&iris.values[..5], [5.1, 3.5, 1.4, 0.2, 0.0]);
    let ds = iris
        .to_dataset(4, Target::Class { num_classes: 3 }, DType::F32)
        .unwrap();
    assert_eq!(ds.inputs().dims(), &[150, 4]);
    assert_eq!(ds.targets().to_vec::<i64>().unwrap()[149], 2);
    // The gzip-compressed digits (no header): 1,797 rows of 64 pixels and a label.
    let digits = read_csv(
        dir.join("digits.csv.gz"),
        &CsvOptions {
            has_header: false,
            ..CsvOptions::default()
        },
    )
    .unwrap();
    assert_eq!((digits.rows, digits.cols), (1797, 65));
    let ds = digits
        .to_dataset(64, Target::Class { num_classes: 10 }, DType::F32)
        .unwrap();
    assert_eq!(&ds.targets().to_vec::<i64>().unwrap()[..3], [0, 1, 2]);
    // wine_data.csv's first line has 5 fields, its rows 14: strict reading says so, and
    // skipping that line reads the table.
    let e = read_csv(dir.join("wine_data.csv"), &CsvOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("wine_data.csv: line 2: 14 fields, expected 5"),
        "{e}"
    );
    let sklearn = CsvOptions {
        has_header: false,
        skip_lines: 1,
        ..CsvOptions::default()
    };
    let wine = read_csv(dir.join("wine_data.csv"), &sklearn).unwrap();
    assert_eq!((wine.rows, wine.cols), (178, 14));
    assert_eq!(wine.values[13], 0.0);
}

#[test]
fn npy_pairs_load_and_mismatched_pairs_are_errors() {
    let tmp = temp_dir("npy");
    let x = Tensor::from_vec((0..12).map(|v| v as f32).collect::<Vec<_>>(), [4, 3]).unwrap();
    let y = Tensor::from_vec(vec![0i64, 1, 1, 0], [4]).unwrap();
    strata_io::write_npy(tmp.join("x.npy"), &x).unwrap();
    strata_io::write_npy(tmp.join("y.npy"), &y).unwrap();
    let ds = npy_dataset(tmp.join("x.npy"), tmp.join("y.npy")).unwrap();
    assert_eq!(ds.len(), 4);
    let b = ds.get_batch(&[2]).unwrap();
    assert_eq!(b.inputs.to_vec::<f32>().unwrap(), [6.0, 7.0, 8.0]);
    strata_io::write_npy(
        tmp.join("y3.npy"),
        &Tensor::from_vec(vec![0i64; 3], [3]).unwrap(),
    )
    .unwrap();
    let e = npy_dataset(tmp.join("x.npy"), tmp.join("y3.npy"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("y3.npy") && e.contains("different numbers of examples"),
        "{e}"
    );
    let e = npy_dataset(tmp.join("nope.npy"), tmp.join("y.npy"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope.npy"), "{e}");
    std::fs::remove_dir_all(&tmp).unwrap();
}
