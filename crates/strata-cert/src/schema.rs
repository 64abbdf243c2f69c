//! The certificate format `strata.bab-certificate.v1` (documented in `CERTIFICATES.md`).
//!
//! A certificate says: for the network and property named by file and sha256, and for every
//! case (input box) of the property, a set of leaves whose regions cover the case's box and on
//! each of which every disjunct of the unsafe set is refuted by a linear (or interval) lower
//! bound. Each leaf carries everything the checker needs to recompute those bounds.
//!
//! Numbers are `f64` and are written by `serde_json` in shortest round-trip form and read back
//! with its `float_roundtrip` parser, so a write/read round trip is bit-exact. Every number is
//! therefore a dyadic rational, which is what lets the checker work exactly without gcds.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The value of [`Certificate::format`].
pub const FORMAT: &str = "strata.bab-certificate.v1";

/// A certificate that a property holds for a network (the verifier's `unsat`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// Always [`FORMAT`].
    pub format: String,
    /// The ONNX network the proof is about.
    pub network: FileRef,
    /// The VNN-LIB property the proof is about.
    pub property: FileRef,
    /// One proof per case of the property (an input box with its unsafe set), in the order of
    /// `strata_io::vnnlib::Property::cases`.
    pub cases: Vec<CaseProof>,
}

/// A file named by its name (informational) and the sha256 of its bytes (checked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// The file name as the verifier saw it (not checked: files move).
    pub file: String,
    /// Lowercase hex sha256 of the file's bytes.
    pub sha256: String,
}

/// The proof for one case: a root box and the leaves of the branch-and-bound tree over it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseProof {
    /// The root input region; it must contain the property's box for this case.
    pub root: InputBox,
    /// The leaves of the branch-and-bound tree. Their paths must form a complete binary tree:
    /// at every internal node both sides are present and all leaves below it agree on the split.
    pub leaves: Vec<Leaf>,
}

/// An axis-aligned box `lower ≤ x ≤ upper` (closed on both sides).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputBox {
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

/// One branching decision on the way from the root to a leaf.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "split", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Input split: `x[dim] ≤ value` (side `below`) or `x[dim] ≥ value` (side `above`).
    Input { dim: usize, value: f64, side: Side },
    /// ReLU split on the pre-activation `z` of `neuron` in ReLU layer `layer` (0-based, in
    /// network order): `z ≥ 0` (phase `active`) or `z ≤ 0` (phase `inactive`).
    Relu {
        layer: usize,
        neuron: usize,
        phase: Phase,
    },
}

/// Which half of an input split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Below,
    Above,
}

/// Which half of a ReLU split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Active,
    Inactive,
}

/// A leaf of the tree: its region and the bounds that refute every unsafe disjunct on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leaf {
    /// The splits from the root to this leaf, root first.
    pub path: Vec<Step>,
    /// The leaf's input box: the root box cut by the path's input splits (checked equal).
    #[serde(rename = "box")]
    pub input_box: InputBox,
    /// Per ReLU layer, in network order: the claimed pre-activation bounds and the lower
    /// relaxation slopes.
    pub layers: Vec<LayerBounds>,
    /// One refutation per disjunct of the case's unsafe set (any order; each disjunct once).
    pub specs: Vec<SpecProof>,
}

/// Claimed bounds of one ReLU layer's pre-activations on a leaf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerBounds {
    /// Lower bounds `l` of the pre-activations `z` over the leaf region.
    pub lower: Vec<f64>,
    /// Upper bounds `u`.
    pub upper: Vec<f64>,
    /// Lower relaxation slope `α ∈ [0, 1]` per neuron (`relu(z) ≥ α·z`), used where the neuron
    /// is unstable (`l < 0 < u`) and not split; ignored elsewhere.
    pub slopes: Vec<f64>,
}

/// The refutation of one unsafe disjunct on a leaf: one of its rows `c·y ≤ d` is shown to
/// fail everywhere on the leaf, i.e. `c·y − d > 0`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecProof {
    /// Index of the disjunct in the case's unsafe set.
    pub disjunct: usize,
    /// Index of the refuted row in that disjunct.
    pub row: usize,
    /// Per ReLU layer lower slopes to use for this objective instead of the leaf's
    /// [`LayerBounds::slopes`] (alpha-CROWN optimises slopes per objective); absent: the leaf's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slopes: Option<Vec<Vec<f64>>>,
    /// Multipliers `β ≥ 0` for ReLU split constraints on the path (beta-CROWN); absent: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub betas: Vec<SplitMultiplier>,
    /// What proves `c·y − d > 0` on the leaf.
    pub witness: Witness,
}

/// A Lagrange multiplier for the split constraint on `neuron` of ReLU layer `layer`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitMultiplier {
    pub layer: usize,
    pub neuron: usize,
    pub beta: f64,
}

/// A claimed lower bound of `c·y − d` on a leaf.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Witness {
    /// `c·y − d ≥ coeffs·x + constant` for every input `x` of the leaf region; the checker
    /// derives its own linear bound by back-substitution and requires the claimed one to lie
    /// below it on the leaf box and to be positive on the whole box.
    Linear { coeffs: Vec<f64>, constant: f64 },
    /// `c·y − d ≥ lower` (with `lower > 0`) by interval arithmetic through the last affine map
    /// from the (checked) bounds of the last ReLU layer, or from the box without ReLU layers.
    Ibp { lower: f64 },
}

/// A certificate file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CertFileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a {FORMAT} certificate: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: format is {found:?}, expected {FORMAT:?}")]
    Format { path: PathBuf, found: String },
    #[error("{path}: {what} is not finite (JSON has no infinities; write a finite bound)")]
    NotFinite { path: PathBuf, what: String },
}

impl Certificate {
    /// A certificate with the format tag set.
    pub fn new(network: FileRef, property: FileRef, cases: Vec<CaseProof>) -> Self {
        Certificate {
            format: FORMAT.to_string(),
            network,
            property,
            cases,
        }
    }

    /// Reads a certificate, checking the format tag (numbers are parsed bit-exactly).
    pub fn read(path: impl AsRef<Path>) -> Result<Self, CertFileError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| CertFileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&bytes, path)
    }

    /// Parses certificate JSON; `path` names it in errors.
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<Self, CertFileError> {
        // Check the tag first so a wrong file says so rather than naming a missing field.
        let tag: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|source| CertFileError::Json {
                path: path.to_path_buf(),
                source,
            })?;
        match tag.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => {}
            other => {
                return Err(CertFileError::Format {
                    path: path.to_path_buf(),
                    found: other.unwrap_or("<missing>").to_string(),
                })
            }
        }
        serde_json::from_slice(bytes).map_err(|source| CertFileError::Json {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The certificate as JSON text (compact; every `f64` in shortest round-trip form).
    pub fn to_json(&self, path: &Path) -> Result<String, CertFileError> {
        if let Some(what) = self.first_non_finite() {
            return Err(CertFileError::NotFinite {
                path: path.to_path_buf(),
                what,
            });
        }
        serde_json::to_string(self).map_err(|source| CertFileError::Json {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Writes the certificate to a temporary file next to `path`, then renames it over `path`,
    /// so a reader never sees a half-written certificate.
    pub fn write_atomic(&self, path: impl AsRef<Path>) -> Result<(), CertFileError> {
        let path = path.as_ref();
        let text = self.to_json(path)?;
        let io = |source| CertFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".tmp{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io(e)
        })
    }

    /// The first non-finite number, named by its place (JSON would write it as `null`).
    fn first_non_finite(&self) -> Option<String> {
        let bad = |v: &[f64]| v.iter().position(|x| !x.is_finite());
        for (c, case) in self.cases.iter().enumerate() {
            for (name, v) in [("lower", &case.root.lower), ("upper", &case.root.upper)] {
                if let Some(i) = bad(v) {
                    return Some(format!("cases[{c}].root.{name}[{i}]"));
                }
            }
            for (k, leaf) in case.leaves.iter().enumerate() {
                let at = format!("cases[{c}].leaves[{k}]");
                let b = &leaf.input_box;
                for (name, v) in [("box.lower", &b.lower), ("box.upper", &b.upper)] {
                    if let Some(i) = bad(v) {
                        return Some(format!("{at}.{name}[{i}]"));
                    }
                }
                for (j, layer) in leaf.layers.iter().enumerate() {
                    for (name, v) in [
                        ("lower", &layer.lower),
                        ("upper", &layer.upper),
                        ("slopes", &layer.slopes),
                    ] {
                        if let Some(i) = bad(v) {
                            return Some(format!("{at}.layers[{j}].{name}[{i}]"));
                        }
                    }
                }
                for (s, spec) in leaf.specs.iter().enumerate() {
                    let ok = match &spec.witness {
                        Witness::Linear { coeffs, constant } => {
                            bad(coeffs).is_none() && constant.is_finite()
                        }
                        Witness::Ibp { lower } => lower.is_finite(),
                    } && spec.slopes.iter().flatten().all(|v| bad(v).is_none())
                        && spec.betas.iter().all(|b| b.beta.is_finite());
                    if !ok {
                        return Some(format!("{at}.specs[{s}]"));
                    }
                }
                for (p, step) in leaf.path.iter().enumerate() {
                    if let Step::Input { value, .. } = step {
                        if !value.is_finite() {
                            return Some(format!("{at}.path[{p}].value"));
                        }
                    }
                }
            }
        }
        None
    }
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl FileRef {
    /// Names `path` by its file name and the sha256 of `bytes` (its contents).
    pub fn of_bytes(path: &Path, bytes: &[u8]) -> Self {
        FileRef {
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256: sha256_hex(bytes),
        }
    }
}
