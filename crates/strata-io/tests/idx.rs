//! IDX: every type code, plain and gzip, round trips, and the real MNIST / Fashion-MNIST files.

use std::path::{Path, PathBuf};
use strata_io::{read_idx, read_idx_as, read_idx_bytes, write_idx};
use strata_tensor::{DType, Tensor};

fn scratch_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("idx-{}-{name}", std::process::id()))
}

/// An IDX file: the magic with `type_code`, big-endian `dims`, then `data`.
fn idx_bytes(type_code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, type_code, dims.len() as u8];
    dims.iter()
        .for_each(|d| bytes.extend_from_slice(&d.to_be_bytes()));
    bytes.extend_from_slice(data);
    bytes
}

#[test]
fn every_type_code_reads_big_endian() {
    let ints = |t: Tensor| t.to_vec::<i64>().unwrap();
    let u8s = read_idx_bytes(&idx_bytes(0x08, &[3], &[0, 7, 255]), "u8").unwrap();
    assert_eq!((u8s.dtype(), ints(u8s)), (DType::I64, vec![0, 7, 255]));
    let i8s = read_idx_bytes(&idx_bytes(0x09, &[2], &[0x80, 0x7f]), "i8").unwrap();
    assert_eq!(ints(i8s), vec![-128, 127]);
    let i16s = read_idx_bytes(&idx_bytes(0x0B, &[2], &[0x80, 0x00, 0x01, 0x02]), "i16").unwrap();
    assert_eq!(ints(i16s), vec![-32768, 0x0102]);
    let i32_data = [(-5i32).to_be_bytes(), i32::MAX.to_be_bytes()].concat();
    let i32s = read_idx_bytes(&idx_bytes(0x0C, &[1, 2], &i32_data), "i32").unwrap();
    assert_eq!(i32s.dims(), &[1, 2]);
    assert_eq!(ints(i32s), vec![-5, i32::MAX as i64]);
    let f32s = read_idx_bytes(&idx_bytes(0x0D, &[1], &1.5f32.to_be_bytes()), "f32").unwrap();
    assert_eq!(f32s.to_vec::<f32>().unwrap(), vec![1.5]);
    let f64s = read_idx_bytes(&idx_bytes(0x0E, &[], &(-0.25f64).to_be_bytes()), "f64").unwrap();
    assert_eq!(
        (f64s.rank(), f64s.to_vec::<f64>().unwrap()),
        (0, vec![-0.25])
    );
}

#[test]
fn u8_files_round_trip_plain_and_gzip_and_read_as_f32() {
    let values: Vec<i64> = (0..3 * 5 * 7).map(|i| i * 37 % 256).collect();
    let tensor = Tensor::from_vec(values.clone(), [3, 5, 7]).unwrap();
    for name in ["plain-idx3-ubyte", "compressed-idx3-ubyte.gz"] {
        let path = scratch_path(name);
        write_idx(&path, &tensor).unwrap();
        let compressed = std::fs::read(&path).unwrap().starts_with(&[0x1f, 0x8b]);
        assert_eq!(compressed, name.ends_with(".gz"));
        let back = read_idx(&path).unwrap();
        assert_eq!(back.dims(), &[3, 5, 7]);
        assert_eq!(back.to_vec::<i64>().unwrap(), values);
        let as_f32 = read_idx_as(&path, DType::F32).unwrap();
        let want: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        assert_eq!(as_f32.to_vec::<f32>().unwrap(), want);
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn f32_integral_values_scalars_and_empty_axes_write() {
    for (name, tensor) in [
        (
            "f32",
            Tensor::from_vec(vec![0.0f32, 255.0, 128.0], [3]).unwrap(),
        ),
        ("scalar", Tensor::scalar(9i64)),
        ("empty", Tensor::zeros([0, 28, 28], DType::F32).unwrap()),
    ] {
        let path = scratch_path(name);
        write_idx(&path, &tensor).unwrap();
        let back = read_idx(&path).unwrap();
        assert_eq!(back.dims(), tensor.dims(), "{name}");
        assert_eq!(back.to_vec_f64(), tensor.to_vec_f64(), "{name}");
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn inexact_conversions_and_unwritable_values_are_refused() {
    let path = scratch_path("i32");
    std::fs::write(&path, idx_bytes(0x0C, &[1], &16_777_217i32.to_be_bytes())).unwrap();
    let message = read_idx_as(&path, DType::F32).unwrap_err().to_string();
    assert!(
        message.contains("i32") && message.contains("f32"),
        "{message}"
    );
    assert_eq!(
        read_idx_as(&path, DType::F64)
            .unwrap()
            .to_vec::<f64>()
            .unwrap(),
        [16_777_217.0]
    );
    std::fs::write(&path, idx_bytes(0x08, &[2], &[3, 255])).unwrap();
    let pixels = read_idx_as(&path, DType::BF16).unwrap();
    assert_eq!(
        (pixels.dtype(), pixels.to_vec_f64()),
        (DType::BF16, vec![3.0, 255.0])
    );
    std::fs::write(&path, idx_bytes(0x0B, &[1], &[0x7f, 0xff])).unwrap();
    assert!(read_idx_as(&path, DType::F16).is_err());
    assert_eq!(
        read_idx_as(&path, DType::F32)
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        [32767.0]
    );
    std::fs::remove_file(&path).unwrap();
    for (tensor, problem) in [
        (
            Tensor::from_vec(vec![1i64, 256], [2]).unwrap(),
            "element 1 is 256",
        ),
        (
            Tensor::from_vec(vec![-1i64], [1]).unwrap(),
            "element 0 is -1",
        ),
        (
            Tensor::from_vec(vec![0.5f32], [1]).unwrap(),
            "element 0 is 0.5",
        ),
        (Tensor::from_vec(vec![1.0f64], [1]).unwrap(), "not f64"),
    ] {
        let message = write_idx(scratch_path("bad-u8"), &tensor)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("bad-u8") && message.contains(problem),
            "{message}"
        );
    }
}

/// The facts SOURCES.md states about one data set's files.
struct DataSet {
    dir: &'static str,
    train_label_counts: [i64; 10],
    train_first_labels: [i64; 10],
    test_first_labels: [i64; 10],
    /// Mean train pixel / 255, to 4 decimals.
    train_pixel_mean: f64,
}

fn check_data_set(set: &DataSet) {
    let dir = Path::new("/work/shared/data").join(set.dir);
    let files = ["train-images", "train-labels", "t10k-images", "t10k-labels"].map(|f| {
        dir.join(format!(
            "{f}-idx{}-ubyte.gz",
            if f.ends_with("images") { 3 } else { 1 }
        ))
    });
    if let Some(missing) = files.iter().find(|f| !f.exists()) {
        eprintln!("skipping: {} is not present", missing.display());
        return;
    }
    let [train_images, train_labels, test_images, test_labels] = &files;
    let train_labels = read_idx(train_labels).unwrap();
    assert_eq!(train_labels.dims(), &[60_000]);
    let labels = train_labels.to_vec::<i64>().unwrap();
    assert_eq!(labels[..10], set.train_first_labels);
    let mut counts = [0i64; 10];
    labels.iter().for_each(|&l| counts[l as usize] += 1);
    assert_eq!(counts, set.train_label_counts);
    let test_labels = read_idx(test_labels).unwrap().to_vec::<i64>().unwrap();
    assert_eq!(
        (test_labels.len(), &test_labels[..10]),
        (10_000, &set.test_first_labels[..])
    );
    assert_eq!(read_idx(test_images).unwrap().dims(), &[10_000, 28, 28]);
    let images = read_idx_as(train_images, DType::F32).unwrap();
    assert_eq!(images.dims(), &[60_000, 28, 28]);
    let pixels = images.to_vec::<f32>().unwrap();
    assert!(pixels.iter().all(|&p| (0.0..=255.0).contains(&p)));
    let mean = pixels.iter().map(|&p| f64::from(p)).sum::<f64>() / pixels.len() as f64 / 255.0;
    assert!((mean - set.train_pixel_mean).abs() < 5e-5, "mean {mean}");
}

#[test]
fn mnist_matches_its_published_facts() {
    check_data_set(&DataSet {
        dir: "mnist",
        train_label_counts: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
        train_first_labels: [5, 0, 4, 1, 9, 2, 1, 3, 1, 4],
        test_first_labels: [7, 2, 1, 0, 4, 1, 4, 9, 5, 9],
        train_pixel_mean: 0.1307,
    });
}

#[test]
fn fashion_mnist_matches_its_published_facts() {
    check_data_set(&DataSet {
        dir: "fashion-mnist",
        train_label_counts: [6000; 10],
        train_first_labels: [9, 0, 0, 3, 0, 2, 7, 2, 5, 5],
        test_first_labels: [9, 2, 1, 1, 6, 1, 4, 6, 5, 7],
        train_pixel_mean: 0.2860,
    });
}
