//! strata-cert: re-checks Strata's verification certificates in exact arithmetic, with no
//! dependency on the verifier that wrote them, and reads and checks TorchLean's certificate
//! files. The format is described in `CERTIFICATES.md` and [`schema`].
#![forbid(unsafe_code)]

pub mod check;
pub mod exact;
pub mod network;
pub mod schema;
pub mod torchlean;

pub use check::{check_certificate, check_files, root_of, CheckError, CheckReport};
pub use network::{lower, LowerError, Network};
pub use schema::{
    sha256_hex, CaseProof, CertFileError, Certificate, FileRef, InputBox, LayerBounds, Leaf, Phase,
    Side, SpecProof, SplitMultiplier, Step, Witness, FORMAT,
};
