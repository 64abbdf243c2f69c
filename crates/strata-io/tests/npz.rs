//! NPZ: archives written by real NumPy and zipfile (tests/fixtures/npz, made by gen_npz.py),
//! round trips, and hostile archives.

mod common;

use common::*;
use std::collections::BTreeMap;
use strata_io::{npz_bytes, read_npz, read_npz_bytes, write_npz, NpzCompression};
use strata_tensor::Tensor;

#[test]
fn numpy_archives_read_as_expected() {
    let dir = fixture_dir("npz");
    let expected = read_json(&dir.join("expected.json"));
    let expected = expected.as_object().unwrap();
    assert_eq!(expected.len(), 5);
    for (file, want) in expected {
        let want = want.as_object().unwrap();
        let mapped = read_npz(dir.join(file)).unwrap_or_else(|e| panic!("{e}"));
        let in_memory = read_npz_bytes(&std::fs::read(dir.join(file)).unwrap(), file).unwrap();
        for arrays in [&mapped, &in_memory] {
            let keys: Vec<&String> = arrays.keys().collect();
            let want_keys: Vec<&String> = want.keys().collect();
            assert_eq!(keys, want_keys, "{file}");
            for (key, tensor) in arrays {
                assert_tensor_matches(tensor, &want[key], &format!("{file}: {key}"));
            }
        }
    }
}

#[test]
fn archives_numpy_cannot_be_read_by_strata_are_refused_by_name() {
    let dir = fixture_dir("npz");
    for (file, parts) in [
        (
            "not_npy_member.npz",
            &["member \"notes.txt\"", "is not an .npy file"][..],
        ),
        (
            "bzip2_member.npz",
            &[
                "member \"a.npy\" uses compression method 12",
                "only stored (0) and deflate (8)",
            ],
        ),
        (
            "bad_npy_member.npz",
            &["bad_npy_member.npz[a.npy]: byte 128 (data)", "truncated"],
        ),
    ] {
        assert_error(read_npz(dir.join(file)), parts, file);
    }
}

fn every_dtype_but_bf16() -> BTreeMap<String, Tensor> {
    tensors_of_every_dtype()
        .into_iter()
        .filter(|(n, _)| *n != "bf16")
        .map(|(n, t)| (format!("group/{n}"), t))
        .collect()
}

#[test]
fn every_dtype_round_trips_stored_and_deflated() {
    let arrays = every_dtype_but_bf16();
    for compression in [NpzCompression::Stored, NpzCompression::Deflated] {
        let path = scratch_path(&format!("{compression:?}.npz"));
        write_npz(&path, &arrays, compression).unwrap();
        let back = read_npz(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back.len(), arrays.len());
        for (key, tensor) in &arrays {
            let got = &back[key];
            assert_eq!(got.dtype(), tensor.dtype(), "{key}");
            assert_eq!(got.dims(), tensor.dims(), "{key}");
            assert_eq!(bits(got), bits(tensor), "{key}");
        }
    }
    // Deterministic output; deflate actually compresses a compressible array.
    let zeros = BTreeMap::from([(
        "z".to_owned(),
        Tensor::zeros([1000], strata_tensor::DType::F64).unwrap(),
    )]);
    let stored = npz_bytes(&zeros, NpzCompression::Stored, "z").unwrap();
    let deflated = npz_bytes(&zeros, NpzCompression::Deflated, "z").unwrap();
    assert!(
        stored.len() > 8000 && deflated.len() < 400,
        "{} {}",
        stored.len(),
        deflated.len()
    );
    assert_eq!(
        npz_bytes(&zeros, NpzCompression::Deflated, "z").unwrap(),
        deflated
    );
}

#[test]
fn bf16_is_refused_naming_the_member() {
    let arrays = BTreeMap::from([(
        "w".to_owned(),
        Tensor::from_vec(vec![half::bf16::ONE], [1]).unwrap(),
    )]);
    assert_error(
        npz_bytes(&arrays, NpzCompression::Stored, "out.npz"),
        &["out.npz[w.npy]", "bf16 has no NPY type code"],
        "bf16",
    );
}

/// Offsets into a stored one-member archive written by Strata: local header at 0, name at 30.
fn stored_archive() -> Vec<u8> {
    let arrays = BTreeMap::from([(
        "x".to_owned(),
        Tensor::from_vec(vec![1.0f64, 2.0], [2]).unwrap(),
    )]);
    npz_bytes(&arrays, NpzCompression::Stored, "x").unwrap()
}

fn deflated_archive() -> Vec<u8> {
    let arrays = BTreeMap::from([(
        "x".to_owned(),
        Tensor::from_vec((0..200).map(|v| (v % 7) as f64).collect(), [200]).unwrap(),
    )]);
    npz_bytes(&arrays, NpzCompression::Deflated, "x").unwrap()
}

fn end_record(bytes: &[u8]) -> usize {
    bytes.len() - 22
}

fn central(bytes: &[u8]) -> usize {
    let end = end_record(bytes);
    u32::from_le_bytes(bytes[end + 16..end + 20].try_into().unwrap()) as usize
}

fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn hostile_archives_are_reported() {
    let stored = stored_archive();
    let deflated = deflated_archive();
    let mutate = |base: &Vec<u8>, f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = base.clone();
        f(&mut b);
        b
    };
    let cd = central(&stored);
    let end = end_record(&stored);
    let data_len = u32::from_le_bytes(stored[18..22].try_into().unwrap()) as usize;
    let dcd = central(&deflated);
    let end_place = format!("byte {end} (end of central directory)");
    let cd_place = format!("byte {cd} (central directory entry)");
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        ("empty.npz", vec![], "(end of file)", "not a ZIP archive"),
        (
            "text.npz",
            b"hello world, this is not a zip archive".to_vec(),
            "(end of file)",
            "not a ZIP archive",
        ),
        (
            "cut.npz",
            stored[..stored.len() - 5].to_vec(),
            "(end of file)",
            "truncated or corrupt: no end-of-central-directory record",
        ),
        (
            "comment-lies.npz",
            mutate(&stored, &|b| b[end + 20] = 3),
            "(end of file)",
            "no end-of-central-directory record",
        ),
        (
            "multi-disk.npz",
            mutate(&stored, &|b| b[end + 4] = 1),
            &end_place,
            "multi-disk",
        ),
        (
            "cd-offset.npz",
            mutate(&stored, &|b| put_u32(b, end + 16, 1_000_000)),
            "central directory offset",
            "lies beyond the end",
        ),
        (
            "cd-size.npz",
            mutate(&stored, &|b| put_u32(b, end + 12, 10)),
            "central directory size",
            "does not end where the end record begins",
        ),
        (
            "count.npz",
            mutate(&stored, &|b| {
                b[end + 8] = 200;
                b[end + 10] = 200;
            }),
            "member count",
            "200 members cannot fit",
        ),
        (
            "cd-signature.npz",
            mutate(&stored, &|b| b[cd] = 0),
            &cd_place,
            "bad signature",
        ),
        (
            "encrypted.npz",
            mutate(&stored, &|b| b[cd + 8] |= 1),
            "x.npy",
            "encrypted",
        ),
        (
            "method.npz",
            mutate(&stored, &|b| b[cd + 10] = 14),
            "member \"x.npy\" uses compression method 14",
            "only stored",
        ),
        (
            "zip64-missing.npz",
            mutate(&stored, &|b| put_u32(b, cd + 20, u32::MAX)),
            "compressed size",
            "0xFFFFFFFF without a ZIP64 extra field",
        ),
        (
            "local-offset.npz",
            mutate(&stored, &|b| put_u32(b, cd + 42, cd as u32)),
            "local header offset",
            "is not before the central directory",
        ),
        (
            "local-signature.npz",
            mutate(&stored, &|b| b[0] = b'Q'),
            "byte 0 (local header of \"x.npy\")",
            "bad signature",
        ),
        (
            "local-name.npz",
            mutate(&stored, &|b| b[30] = b'y'),
            "byte 30 (local header of \"x.npy\")",
            "local name \"y.npy\" differs",
        ),
        (
            "local-method.npz",
            mutate(&stored, &|b| b[8] = 8),
            "byte 8 (local header",
            "method 8 differs from the central directory's 0",
        ),
        (
            "local-crc.npz",
            mutate(&stored, &|b| b[14] ^= 1),
            "byte 14 (local header",
            "CRC-32",
        ),
        (
            "local-size.npz",
            mutate(&stored, &|b| put_u32(b, 22, 5)),
            "byte 22 (local header",
            "uncompressed size 5 differs from the central directory's",
        ),
        // A declared size far beyond the file: refused before anything is read or allocated.
        (
            "lying-size.npz",
            mutate(&stored, &|b| {
                put_u32(b, 18, 0x7fff_0000);
                put_u32(b, 22, 0x7fff_0000);
                put_u32(b, cd + 20, 0x7fff_0000);
                put_u32(b, cd + 24, 0x7fff_0000);
            }),
            "byte 35 (data of \"x.npy\")",
            "truncated: 2147418112 compressed bytes declared, only",
        ),
        (
            "stored-sizes.npz",
            mutate(&stored, &|b| {
                put_u32(b, 22, 7);
                put_u32(b, cd + 24, 7);
            }),
            "central directory entry of \"x.npy\"",
            "stored member's sizes differ",
        ),
        (
            "data-crc.npz",
            mutate(&stored, &|b| b[35 + data_len - 1] ^= 0x40),
            "byte 35 (data of \"x.npy\")",
            "CRC-32 mismatch",
        ),
        (
            "deflate-garbage.npz",
            mutate(&deflated, &|b| b[40..50].fill(0xff)),
            "(data of \"x.npy\")",
            "corrupt deflate stream",
        ),
        (
            "deflate-lies.npz",
            mutate(&deflated, &|b| {
                put_u32(b, 22, 100_000);
                put_u32(b, dcd + 24, 100_000);
            }),
            "(data of \"x.npy\")",
            "inflates to 1728 bytes, the central directory declares 100000",
        ),
        (
            "deflate-short.npz",
            mutate(&deflated, &|b| {
                put_u32(b, 22, 100);
                put_u32(b, dcd + 24, 100);
            }),
            "(data of \"x.npy\")",
            "inflates to more than 100 bytes",
        ),
    ];
    for (name, bytes, place, problem) in cases {
        assert_error(read_npz_bytes(&bytes, name), &[name, place, problem], name);
    }
}

#[test]
fn overlapping_and_duplicate_members_are_reported() {
    // Two central entries pointing at one local header: the classic overlapping-member bomb.
    let arrays = BTreeMap::from([
        ("a".to_owned(), Tensor::scalar(1.0f32)),
        ("b".to_owned(), Tensor::scalar(2.0f32)),
    ]);
    let bytes = npz_bytes(&arrays, NpzCompression::Stored, "ab").unwrap();
    let cd = central(&bytes);
    let second = cd + 46 + "a.npy".len();
    let mut overlap = bytes.clone();
    overlap[second + 42..second + 46].copy_from_slice(&0u32.to_le_bytes());
    assert_error(
        read_npz_bytes(&overlap, "overlap.npz"),
        &[
            "overlap.npz",
            "local header of \"b.npy\"",
            "local name \"a.npy\" differs",
        ],
        "overlap",
    );
    let mut duplicate = bytes.clone();
    let b_local = u32::from_le_bytes(bytes[second + 42..second + 46].try_into().unwrap()) as usize;
    duplicate[b_local + 30] = b'a';
    duplicate[second + 46] = b'a';
    assert_error(
        read_npz_bytes(&duplicate, "dup.npz"),
        &["dup.npz", "member \"a.npy\"", "appears twice"],
        "duplicate",
    );
}
