//! Malformed input: every error names the file, the place and the problem; nothing panics, and
//! no lying size field leads to a large allocation.

use flate2::{write::GzEncoder, Compression};
use proptest::prelude::*;
use std::io::Write;
use std::path::Path;
use std::sync::LazyLock;
use strata_io::{read_idx, read_idx_bytes, read_npy, read_npy_bytes};
use strata_tensor::Tensor;

/// A version 1.0 NPY file with the header text `dict` (unpadded) followed by `data`.
fn npy(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(dict.len() as u16 + 1).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    bytes.push(b'\n');
    bytes.extend_from_slice(data);
    bytes
}

fn f8_header(shape: &str) -> String {
    format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}")
}

fn idx(type_code: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, type_code, dims.len() as u8];
    dims.iter()
        .for_each(|d| bytes.extend_from_slice(&d.to_be_bytes()));
    bytes.extend_from_slice(data);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A valid gzip IDX file of 1000 pseudo-random u8 values (incompressible enough that the
/// deflate stream is long).
fn valid_gzip_idx() -> Vec<u8> {
    let data: Vec<u8> = (0u32..1000)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    gzip(&idx(0x08, &[10, 100], &data))
}

/// `read_npy_bytes` or `read_idx_bytes`.
type Reader = fn(&[u8], &str) -> Result<Tensor, strata_io::IoError>;

/// One malformed file: its name, its bytes, and what its error message must mention.
struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    place: &'static str,
    problem: &'static str,
}

fn case(name: &'static str, bytes: Vec<u8>, place: &'static str, problem: &'static str) -> Case {
    Case {
        name,
        bytes,
        place,
        problem,
    }
}

fn assert_errors(cases: Vec<Case>, read: Reader) {
    for Case {
        name,
        bytes,
        place,
        problem,
    } in cases
    {
        let message = match read(&bytes, name) {
            Ok(t) => panic!("{name}: read {t:?} from a malformed file"),
            Err(e) => e.to_string(),
        };
        for part in [name, place, problem] {
            assert!(
                message.contains(part),
                "{name}: {message:?} does not mention {part:?}"
            );
        }
    }
}

#[test]
fn malformed_npy_files_are_reported() {
    let eight = [0u8; 8];
    let extra = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}";
    assert_errors(
        vec![
            case("empty.npy", vec![], "byte 0", "not an NPY file"),
            case(
                "magic.npy",
                b"\x93NUMPX\x01\x00\x00\x00".to_vec(),
                "byte 0",
                "magic",
            ),
            case(
                "version.npy",
                b"\x93NUMPY\x04\x00\x00\x00".to_vec(),
                "byte 6",
                "version 4.0",
            ),
            case(
                "short.npy",
                b"\x93NUMPY\x01\x00\x10".to_vec(),
                "byte 8",
                "file ends",
            ),
            case(
                "header-length.npy",
                b"\x93NUMPY\x01\x00\xff\x00{}".to_vec(),
                "byte 8",
                "runs past",
            ),
            case(
                "not-dict.npy",
                npy("[1, 2]", &eight),
                "byte 10 (header)",
                "expected '{'",
            ),
            case(
                "unterminated.npy",
                npy("{'descr: 1}", &eight),
                "(header)",
                "unterminated",
            ),
            case(
                "no-colon.npy",
                npy("{'descr' '<f8'}", &eight),
                "byte 19 (header)",
                "expected ':'",
            ),
            case(
                "trailing-text.npy",
                npy(&(f8_header("()") + " x"), &eight),
                "(header)",
                "after",
            ),
            case(
                "non-ascii.npy",
                npy("{'descr': '\u{e9}'}", &eight),
                "byte 21",
                "non-ASCII",
            ),
            case(
                "missing.npy",
                npy("{'descr': '<f8', 'fortran_order': False}", &eight),
                "header field 'shape'",
                "is missing",
            ),
            case(
                "extra.npy",
                npy(extra, &[0; 4]),
                "header field 'extra'",
                "not an NPY header key",
            ),
            case(
                "twice.npy",
                npy("{'descr': '<f8', 'descr': '<f8'}", &eight),
                "header field 'descr'",
                "appears twice",
            ),
            case(
                "dtype.npy",
                npy(
                    "{'descr': '<c8', 'fortran_order': False, 'shape': ()}",
                    &eight,
                ),
                "header field 'descr'",
                "not a supported dtype",
            ),
            case(
                "u8.npy",
                npy(
                    "{'descr': '<u8', 'fortran_order': False, 'shape': ()}",
                    &eight,
                ),
                "header field 'descr'",
                "u8 values need not fit i64",
            ),
            case(
                "byte-order.npy",
                npy(
                    "{'descr': '|f8', 'fortran_order': False, 'shape': ()}",
                    &eight,
                ),
                "header field 'descr'",
                "byte order",
            ),
            case(
                "structured.npy",
                npy(
                    "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': ()}",
                    &eight,
                ),
                "(header)",
                "expected a string",
            ),
            case(
                "fortran.npy",
                npy("{'descr': '<f8', 'fortran_order': 1, 'shape': ()}", &eight),
                "header field 'fortran_order'",
                "True or False",
            ),
            case(
                "negative.npy",
                npy(&f8_header("(-1,)"), &eight),
                "'shape'",
                "-1 is negative",
            ),
            case(
                "not-tuple.npy",
                npy(&f8_header("(1)"), &eight),
                "'shape'",
                "must be a tuple",
            ),
            case(
                "float-dim.npy",
                npy(&f8_header("(2.5,)"), &eight),
                "(header)",
                "expected ')'",
            ),
            case(
                "huge-dim.npy",
                npy(&f8_header("(100000000000000000000,)"), &eight),
                "'shape'",
                "too large",
            ),
            case(
                "overflow.npy",
                npy(&f8_header("(4294967296, 4294967296)"), &eight),
                "header field 'shape'",
                "more elements than memory can address",
            ),
            case(
                "truncated.npy",
                npy(&f8_header("(3,)"), &[0; 23]),
                "(data)",
                "truncated",
            ),
            // 2^50 f8 elements declared, 8 bytes present: refused before any allocation.
            case(
                "lying.npy",
                npy(&f8_header("(1125899906842624,)"), &eight),
                "(data)",
                "only 8",
            ),
            case(
                "garbage.npy",
                npy(&f8_header("(1,)"), &[0; 9]),
                "after data",
                "1 bytes of trailing",
            ),
            case(
                "bool.npy",
                npy(
                    "{'descr': '|b1', 'fortran_order': False, 'shape': (2,)}",
                    &[1, 2],
                ),
                "(data)",
                "bool byte is 2",
            ),
        ],
        read_npy_bytes,
    );
}

#[test]
fn malformed_idx_files_are_reported() {
    let valid = valid_gzip_idx();
    let mut bad_crc = valid.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 1;
    let mut corrupt = valid.clone();
    corrupt[20..40].fill(0xff);
    let mut bad_magic = idx(0x08, &[1], &[0]);
    bad_magic[0] = 1;
    let mut garbage_after = valid.clone();
    garbage_after.extend_from_slice(b"junk");
    assert_errors(
        vec![
            case("magic.idx", bad_magic, "byte 0 (magic)", "not an IDX magic"),
            case("empty.idx", vec![], "byte 0 (magic)", "truncated"),
            case(
                "type.idx",
                idx(0x0A, &[1], &[0]),
                "byte 2 (type code)",
                "unknown type code 0x0a",
            ),
            case(
                "dims.idx",
                idx(0x08, &[1, 1, 1], &[])[..10].to_vec(),
                "byte 8 (dimension 1)",
                "truncated",
            ),
            case(
                "overflow.idx",
                idx(0x0E, &[u32::MAX; 3], &[]),
                "byte 4 (dimensions)",
                "more elements than memory can address",
            ),
            case(
                "truncated.idx",
                idx(0x08, &[60_000, 28, 28], &[0; 10]),
                "byte 16 (data)",
                "need 47040000 bytes, only 10 present",
            ),
            case(
                "garbage.idx",
                idx(0x0B, &[1], &[0, 0, 0]),
                "byte 10 (after data)",
                "trailing garbage",
            ),
            case(
                "lying.idx.gz",
                gzip(&idx(0x08, &[u32::MAX, u32::MAX], &[1, 2, 3])),
                "decompressed byte 12 (data)",
                "only 3 present",
            ),
            case(
                "garbage-inside.idx.gz",
                gzip(&idx(0x08, &[2], &[1, 2, 3])),
                "decompressed byte 10 (after data)",
                "trailing garbage",
            ),
            case(
                "cut.idx.gz",
                valid[..valid.len() - 20].to_vec(),
                "(data)",
                "truncated",
            ),
            case("crc.idx.gz", bad_crc, "(data)", "corrupt data"),
            case(
                "corrupt.idx.gz",
                corrupt,
                "decompressed byte",
                "corrupt data",
            ),
            case(
                "after.idx.gz",
                garbage_after,
                "after the gzip stream",
                "4 bytes of trailing garbage",
            ),
            case(
                "header-only.idx.gz",
                valid[..10].to_vec(),
                "decompressed byte 0 (magic)",
                "truncated",
            ),
        ],
        read_idx_bytes,
    );
}

#[test]
fn errors_from_files_name_the_path() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("malformed-{}.npy", std::process::id()));
    std::fs::write(&path, npy(&f8_header("(2,)"), &[0; 3])).unwrap();
    let message = read_npy(&path).unwrap_err().to_string();
    assert!(
        message.starts_with(&path.display().to_string()),
        "{message}"
    );
    std::fs::remove_file(&path).unwrap();
    let missing = dir.join("no-such-file-idx1-ubyte");
    let message = read_idx(&missing).unwrap_err().to_string();
    assert!(message.contains("no-such-file-idx1-ubyte") && message.contains("cannot read"));
}

/// Valid files of every kind, as mutation seeds: NumPy's fixtures, plain and gzip IDX.
static SEEDS: LazyLock<Vec<(Vec<u8>, Reader)>> = LazyLock::new(|| {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let npy_files = [
        "f4",
        "f2",
        "b1",
        "big_endian_f4",
        "fortran_3d",
        "v2_header",
        "v3_header",
    ];
    let mut seeds: Vec<(Vec<u8>, Reader)> = npy_files
        .iter()
        .map(|f| {
            (
                std::fs::read(fixtures.join(format!("{f}.npy"))).unwrap(),
                read_npy_bytes as Reader,
            )
        })
        .collect();
    seeds.push((idx(0x0C, &[2, 3], &[7; 24]), read_idx_bytes));
    seeds.push((idx(0x0E, &[], &[0; 8]), read_idx_bytes));
    seeds.push((valid_gzip_idx(), read_idx_bytes));
    seeds
});

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn mutated_files_never_panic(
        seed in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let (bytes, read) = &SEEDS[seed.index(SEEDS.len())];
        let mut bytes = bytes.clone();
        for (at, value) in flips {
            let at = at.index(bytes.len());
            bytes[at] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        // Any outcome but a panic (or an abort from a huge allocation) is acceptable.
        let _ = read(&bytes, "mutated");
    }
}
