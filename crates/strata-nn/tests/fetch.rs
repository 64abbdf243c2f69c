//! `strata_nn::fetch` against a loopback HTTP server (spawned here) that serves the shared data
//! directory (`../shared/data` beside the repository). Tests that need that data skip, saying
//! so, when it is missing.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use strata_nn::fetch::{fetch, spec, FetchStatus, DATASETS};

fn shared_data() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.join("mnist").is_dir() && dir.join("tinyshakespeare").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: the shared data directory {} is missing",
            dir.display()
        );
        None
    }
}

/// A request the server saw: path and Range header.
type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// A minimal HTTP/1.1 file server on 127.0.0.1: GET with optional `Range: bytes=N-`, one
/// request per connection. `corrupt` flips one byte of the named paths; `ignore_range` answers
/// every request with the whole file.
struct Server {
    base: String,
    log: Log,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(root: PathBuf, corrupt: Vec<(&'static str, usize)>, ignore_range: bool) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log: Log = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (log2, stop2) = (log.clone(), stop.clone());
        let corrupt: BTreeMap<String, usize> = corrupt
            .into_iter()
            .map(|(p, o)| (p.to_string(), o))
            .collect();
        // Bounded: at most 200 connections, and it stops when the test drops the server.
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming().take(200) {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(s) = stream {
                    let _ = serve(s, &root, &corrupt, ignore_range, &log2);
                }
            }
        });
        Server {
            base: format!("http://{addr}"),
            log,
            stop,
            addr,
            thread: Some(thread),
        }
    }
    fn requests(&self) -> Vec<(String, Option<String>)> {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wake the accept loop
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    stream: TcpStream,
    root: &Path,
    corrupt: &BTreeMap<String, usize>,
    ignore_range: bool,
    log: &Log,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = Some(v.trim().to_string());
            }
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    log.lock().unwrap().push((path.clone(), range.clone()));
    let mut out = stream;
    let rel = path.trim_start_matches('/');
    let body = if rel.split('/').any(|c| c == ".." || c.is_empty()) {
        None
    } else {
        std::fs::read(root.join(rel)).ok()
    };
    let Some(mut body) = body else {
        return out.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    };
    if let Some(&offset) = corrupt.get(&path) {
        body[offset] ^= 0x01;
    }
    let start = match (&range, ignore_range) {
        (Some(r), false) => r
            .strip_prefix("bytes=")
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n < body.len()),
        _ => None,
    };
    let (status, from) = match start {
        Some(n) => ("206 Partial Content", n),
        None => ("200 OK", 0),
    };
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len() - from
    );
    out.write_all(header.as_bytes())?;
    out.write_all(&body[from..])?;
    out.flush()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("strata-nn-fetch-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn same_file(a: &Path, b: &Path) -> bool {
    std::fs::read(a).unwrap() == std::fs::read(b).unwrap()
}

#[test]
fn fetches_verifies_and_skips_present_files() {
    let Some(data) = shared_data() else { return };
    let server = Server::start(data.clone(), vec![], false);
    let dest = temp_dir("ok");
    for name in ["tinyshakespeare", "mnist"] {
        let got = fetch(name, &dest, Some(&server.base), false).unwrap();
        assert_eq!(got.len(), spec(name).unwrap().files.len());
        for f in &got {
            assert_eq!(f.status, FetchStatus::Downloaded, "{}", f.path.display());
            let file_name = f.path.file_name().unwrap();
            assert!(same_file(&f.path, &data.join(name).join(file_name)));
            assert_eq!(
                f.url.as_deref(),
                Some(format!("{}/{name}/{}", server.base, file_name.to_str().unwrap()).as_str())
            );
        }
    }
    let n = server.requests().len();
    assert_eq!(n, 5);
    // A second run finds everything present and downloads nothing.
    let again = fetch("mnist", &dest, Some(&server.base), false).unwrap();
    assert!(again.iter().all(|f| f.status == FetchStatus::Present));
    assert_eq!(server.requests().len(), n);
    // No partial files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dest.join("mnist"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty());
    // The downloaded files load as a dataset.
    let ds = strata_nn::data::load_mnist(dest.join("mnist"), strata_nn::data::Split::Test).unwrap();
    assert_eq!(strata_nn::data::Dataset::len(&ds), 10_000);
    std::fs::remove_dir_all(&dest).unwrap();
}

#[test]
fn a_corrupted_file_fails_the_checksum_with_a_clear_error() {
    let Some(data) = shared_data() else { return };
    let server = Server::start(
        data,
        vec![("/mnist/train-labels-idx1-ubyte.gz", 1000)],
        false,
    );
    let dest = temp_dir("corrupt");
    let err = fetch("mnist", &dest, Some(&server.base), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("sha256 mismatch"), "{err}");
    assert!(err.contains("train-labels-idx1-ubyte.gz"), "{err}");
    assert!(
        err.contains("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
        "the error names the expected sum: {err}"
    );
    assert!(err.contains(&server.base), "the error names the URL: {err}");
    // The verified first file is kept; the corrupt one left nothing behind.
    let dir = dest.join("mnist");
    assert!(dir.join("train-images-idx3-ubyte.gz").is_file());
    assert!(!dir.join("train-labels-idx1-ubyte.gz").exists());
    assert!(!dir.join(".train-labels-idx1-ubyte.gz.part").exists());
    std::fs::remove_dir_all(&dest).unwrap();
}

#[test]
fn an_interrupted_download_resumes_with_a_range_request() {
    let Some(data) = shared_data() else { return };
    let original = std::fs::read(data.join("tinyshakespeare/input.txt")).unwrap();
    for ignore_range in [false, true] {
        let server = Server::start(data.clone(), vec![], ignore_range);
        let dest = temp_dir(&format!("resume-{ignore_range}"));
        let dir = dest.join("tinyshakespeare");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".input.txt.part"), &original[..500_000]).unwrap();
        let got = fetch("tinyshakespeare", &dest, Some(&server.base), false).unwrap();
        assert_eq!(got[0].status, FetchStatus::Downloaded);
        assert_eq!(std::fs::read(&got[0].path).unwrap(), original);
        let reqs = server.requests();
        assert_eq!(reqs.len(), 1, "{reqs:?}");
        assert_eq!(reqs[0].1.as_deref(), Some("bytes=500000-"));
        std::fs::remove_dir_all(&dest).unwrap();
    }
}

#[test]
fn a_bad_partial_download_is_redone_from_scratch() {
    let Some(data) = shared_data() else { return };
    let server = Server::start(data.clone(), vec![], false);
    let dest = temp_dir("bad-part");
    let dir = dest.join("tinyshakespeare");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".input.txt.part"), vec![b'x'; 1000]).unwrap();
    // A stale file at the destination with the wrong content is replaced too.
    std::fs::write(dir.join("input.txt"), b"stale").unwrap();
    let got = fetch("tinyshakespeare", &dest, Some(&server.base), false).unwrap();
    assert!(same_file(
        &got[0].path,
        &data.join("tinyshakespeare/input.txt")
    ));
    let ranges: Vec<Option<String>> = server.requests().into_iter().map(|r| r.1).collect();
    assert_eq!(ranges, [Some("bytes=1000-".to_string()), None]);
    std::fs::remove_dir_all(&dest).unwrap();
}

#[test]
fn missing_files_and_unknown_datasets_are_clear_errors() {
    let empty = temp_dir("empty-root");
    let server = Server::start(empty.clone(), vec![], false);
    let dest = temp_dir("missing");
    let err = fetch("tinyshakespeare", &dest, Some(&server.base), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("404") && err.contains("/tinyshakespeare/input.txt"),
        "{err}"
    );
    let err = fetch("cifar10", &dest, None, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown dataset 'cifar10'") && err.contains("mnist"),
        "{err}"
    );
    std::fs::remove_dir_all(&dest).unwrap();
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn embedded_sums_are_the_ones_in_sources_md() {
    let Some(data) = shared_data() else { return };
    for d in DATASETS {
        let sources = data.join(d.name).join("SOURCES.md");
        let Ok(text) = std::fs::read_to_string(&sources) else {
            eprintln!("skipped {}: {} is missing", d.name, sources.display());
            continue;
        };
        for f in d.files {
            // Table rows: | file | bytes | sha256 | ...
            let row = text
                .lines()
                .find(|l| l.starts_with(&format!("| {} |", f.name)))
                .unwrap_or_else(|| panic!("{}: no row for {}", sources.display(), f.name));
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            assert_eq!(cells[2].replace(',', ""), f.bytes.to_string(), "{}", f.name);
            assert_eq!(cells[3], f.sha256, "{} in {}", f.name, d.name);
        }
    }
}
