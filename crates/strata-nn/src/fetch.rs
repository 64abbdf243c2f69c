//! Downloading the datasets (`strata data fetch mnist|fashion-mnist|tinyshakespeare`).
//!
//! Each file comes from the dataset's canonical mirrors, tried in order, and is checked against
//! its published size and sha256 (the sums of `shared/data/*/SOURCES.md`). A download goes to
//! a hidden `.<file>.part` next to its destination and is renamed into place only once
//! verified, so an interrupted run never leaves a file that looks complete; the next run
//! resumes the `.part` with an HTTP range request (a server that ignores the range sends the
//! whole file again, which is fine). A file already present with the right sum is not fetched.
//!
//! Files land in `<dest_dir>/<dataset>/`, the layout [`crate::data::dataset_dir`] reads. A
//! `base_url_override` replaces the mirrors: file `f` of dataset `d` is then fetched from
//! `<base>/<d>/<f>`, i.e. the override serves a copy of a whole data directory (a local mirror,
//! or the loopback server of the tests).

use crate::{NnError, Result};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One file of a dataset, with its published size and sha256.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteFile {
    pub name: &'static str,
    pub bytes: u64,
    pub sha256: &'static str,
}

/// A downloadable dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DatasetSpec {
    /// The dataset's name and directory name.
    pub name: &'static str,
    /// Base URLs (ending in `/`), tried in order.
    pub mirrors: &'static [&'static str],
    pub files: &'static [RemoteFile],
}

/// The datasets [`fetch`] knows, with the sums from `shared/data/*/SOURCES.md`.
pub const DATASETS: &[DatasetSpec] = &[
    DatasetSpec {
        name: "mnist",
        // torchvision's mirror list, and the CVDF mirror TensorFlow uses.
        mirrors: &[
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ],
        files: &[
            RemoteFile {
                name: "train-images-idx3-ubyte.gz",
                bytes: 9_912_422,
                sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            },
            RemoteFile {
                name: "train-labels-idx1-ubyte.gz",
                bytes: 28_881,
                sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            },
            RemoteFile {
                name: "t10k-images-idx3-ubyte.gz",
                bytes: 1_648_877,
                sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            },
            RemoteFile {
                name: "t10k-labels-idx1-ubyte.gz",
                bytes: 4_542,
                sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            },
        ],
    },
    DatasetSpec {
        name: "fashion-mnist",
        // zalandoresearch/fashion-mnist's own mirror (torchvision's).
        mirrors: &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        files: &[
            RemoteFile {
                name: "train-images-idx3-ubyte.gz",
                bytes: 26_421_880,
                sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            },
            RemoteFile {
                name: "train-labels-idx1-ubyte.gz",
                bytes: 29_515,
                sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            },
            RemoteFile {
                name: "t10k-images-idx3-ubyte.gz",
                bytes: 4_422_102,
                sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            },
            RemoteFile {
                name: "t10k-labels-idx1-ubyte.gz",
                bytes: 5_148,
                sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            },
        ],
    },
    DatasetSpec {
        name: "tinyshakespeare",
        // karpathy/char-rnn, the file's origin.
        mirrors: &[
            "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/",
        ],
        files: &[RemoteFile {
            name: "input.txt",
            bytes: 1_115_394,
            sha256: "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        }],
    },
];

/// The spec of dataset `name`.
pub fn spec(name: &str) -> Result<&'static DatasetSpec> {
    DATASETS.iter().find(|d| d.name == name).ok_or_else(|| {
        NnError::invalid(
            "fetch",
            format!(
                "unknown dataset '{name}' (known: {})",
                DATASETS
                    .iter()
                    .map(|d| d.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// What [`fetch`] did with one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchStatus {
    /// Already present with the right sha256; nothing was downloaded.
    Present,
    /// Downloaded (possibly resuming a partial download) and verified.
    Downloaded,
}

/// One file of a fetched dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedFile {
    pub path: PathBuf,
    pub status: FetchStatus,
    /// The URL it came from (`None` when it was already present).
    pub url: Option<String>,
}

/// Downloads dataset `dataset` into `dest_dir/<dataset>/`, verifying every file's size and
/// sha256 (see the [module docs](self)); `progress` draws a progress bar on stderr.
pub fn fetch(
    dataset: &str,
    dest_dir: &Path,
    base_url_override: Option<&str>,
    progress: bool,
) -> Result<Vec<FetchedFile>> {
    let spec = spec(dataset)?;
    let dir = dest_dir.join(spec.name);
    fs::create_dir_all(&dir)
        .map_err(|e| NnError::file(&dir, "", format!("cannot create the directory: {e}")))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut out = Vec::with_capacity(spec.files.len());
    for file in spec.files {
        let dest = dir.join(file.name);
        if dest.is_file() && verify(&dest, file).is_ok() {
            if progress {
                eprintln!("{}: present, sha256 ok", dest.display());
            }
            out.push(FetchedFile {
                path: dest,
                status: FetchStatus::Present,
                url: None,
            });
            continue;
        }
        let urls: Vec<String> = match base_url_override {
            Some(base) => vec![format!(
                "{}/{}/{}",
                base.trim_end_matches('/'),
                spec.name,
                file.name
            )],
            None => spec
                .mirrors
                .iter()
                .map(|m| format!("{m}{}", file.name))
                .collect(),
        };
        let part = dir.join(format!(".{}.part", file.name));
        let mut failures = Vec::new();
        let mut done = None;
        for url in &urls {
            match download_verified(&agent, url, &part, file, progress) {
                Ok(()) => {
                    done = Some(url.clone());
                    break;
                }
                Err(e) => failures.push(e.to_string()),
            }
        }
        let Some(url) = done else {
            return Err(if failures.len() == 1 {
                NnError::fetch(&urls[0], strip_url(&failures[0], &urls[0]))
            } else {
                NnError::invalid(
                    "fetch",
                    format!(
                        "{} of {}: every mirror failed:\n  {}",
                        file.name,
                        spec.name,
                        failures.join("\n  ")
                    ),
                )
            });
        };
        fs::rename(&part, &dest).map_err(|e| {
            NnError::file(
                &dest,
                "",
                format!("cannot move {} into place: {e}", part.display()),
            )
        })?;
        if progress {
            eprintln!("{}: downloaded from {url}, sha256 ok", dest.display());
        }
        out.push(FetchedFile {
            path: dest,
            status: FetchStatus::Downloaded,
            url: Some(url),
        });
    }
    Ok(out)
}

/// `msg` without a leading `"<url>: "` (so a single failure is not prefixed twice).
fn strip_url(msg: &str, url: &str) -> String {
    msg.strip_prefix(url)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(msg)
        .to_string()
}

/// Downloads `url` into `part` (resuming what is there) and checks it; a resumed download that
/// fails the check is retried once from scratch. On a checksum failure the `.part` is deleted.
fn download_verified(
    agent: &ureq::Agent,
    url: &str,
    part: &Path,
    file: &RemoteFile,
    progress: bool,
) -> Result<()> {
    let existing = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    if existing > file.bytes {
        let _ = fs::remove_file(part);
    }
    let resumed = download(agent, url, part, file, progress)?;
    match verify(part, file) {
        Ok(()) => Ok(()),
        Err(_) if resumed => {
            let _ = fs::remove_file(part);
            download(agent, url, part, file, progress)?;
            verify(part, file).map_err(|msg| {
                let _ = fs::remove_file(part);
                NnError::fetch(url, msg)
            })
        }
        Err(msg) => {
            let _ = fs::remove_file(part);
            Err(NnError::fetch(url, msg))
        }
    }
}

/// Fetches `url` into `part`, appending to a partial download when the server honours the
/// range; returns whether it resumed.
fn download(
    agent: &ureq::Agent,
    url: &str,
    part: &Path,
    file: &RemoteFile,
    progress: bool,
) -> Result<bool> {
    let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    if have == file.bytes {
        return Ok(true); // complete already: only the check remains
    }
    let mut request = agent.get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let mut response = request
        .call()
        .map_err(|e| NnError::fetch(url, format!("request failed: {e}")))?;
    let status = response.status().as_u16();
    let resumed = have > 0 && status == 206;
    if !resumed && status != 200 {
        return Err(NnError::fetch(
            url,
            format!("unexpected HTTP status {status}"),
        ));
    }
    let mut out = if resumed {
        OpenOptions::new().append(true).open(part)
    } else {
        File::create(part)
    }
    .map_err(|e| NnError::file(part, "", format!("cannot write: {e}")))?;
    let bar = if progress {
        let bar = indicatif::ProgressBar::new(file.bytes);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(file.name);
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let start = if resumed { have } else { 0 };
    bar.set_position(start);
    let mut written = start;
    let mut reader = response.body_mut().as_reader();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf).map_err(|e| {
            NnError::fetch(
                url,
                format!("download interrupted after {written} bytes: {e}"),
            )
        })?;
        if n == 0 {
            break;
        }
        written += n as u64;
        if written > file.bytes {
            bar.abandon();
            return Err(NnError::fetch(
                url,
                format!(
                    "the server sent more than the expected {} bytes",
                    file.bytes
                ),
            ));
        }
        out.write_all(&buf[..n])
            .map_err(|e| NnError::file(part, "", format!("cannot write: {e}")))?;
        bar.set_position(written);
    }
    out.sync_all()
        .map_err(|e| NnError::file(part, "", format!("cannot write: {e}")))?;
    bar.finish_and_clear();
    Ok(resumed)
}

/// Checks `path` against the published size and sha256; the error says what differed.
fn verify(path: &Path, file: &RemoteFile) -> Result<(), String> {
    let mut f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        len += n as u64;
        hasher.update(&buf[..n]);
    }
    if len != file.bytes {
        return Err(format!(
            "{}: size mismatch: expected {} bytes, got {len}",
            file.name, file.bytes
        ));
    }
    let got: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if got != file.sha256 {
        return Err(format!(
            "{}: sha256 mismatch: expected {}, got {got} (the download was deleted)",
            file.name, file.sha256
        ));
    }
    Ok(())
}
