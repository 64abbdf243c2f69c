//! Where datasets live: `--data DIR` if given, else the `STRATA_DATA` environment variable.
//! Each dataset is a subdirectory named after it (`mnist/`, `fashion-mnist/`,
//! `tinyshakespeare/`), the layout [`crate::fetch::fetch`] writes.

use crate::{NnError, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variable naming the data directory.
pub const DATA_ENV: &str = "STRATA_DATA";

/// The data directory: `cli` (the `--data DIR` option) if given, else `$STRATA_DATA`. An error
/// says which was tried and why it failed.
pub fn data_root(cli: Option<&Path>) -> Result<PathBuf> {
    resolve_data_root(cli, std::env::var_os(DATA_ENV))
}

/// [`data_root`] with the environment value passed in (for tests and embedding).
pub fn resolve_data_root(cli: Option<&Path>, env: Option<OsString>) -> Result<PathBuf> {
    let (dir, from) = match (cli, env.filter(|v| !v.is_empty())) {
        (Some(d), _) => (d.to_path_buf(), "--data".to_string()),
        (None, Some(v)) => (PathBuf::from(v), format!("${DATA_ENV}")),
        (None, None) => {
            return Err(NnError::invalid(
                "data",
                format!(
                    "no data directory: pass --data DIR or set {DATA_ENV} \
                     (`strata data fetch <dataset>` downloads a dataset into it)"
                ),
            ))
        }
    };
    if !dir.is_dir() {
        return Err(NnError::file(
            &dir,
            "",
            format!("the data directory (from {from}) does not exist or is not a directory"),
        ));
    }
    Ok(dir)
}

/// The directory of dataset `name` under the data directory ([`data_root`]).
pub fn dataset_dir(cli: Option<&Path>, name: &str) -> Result<PathBuf> {
    let root = data_root(cli)?;
    let dir = root.join(name);
    if !dir.is_dir() {
        return Err(NnError::file(
            &dir,
            "",
            format!(
                "dataset '{name}' not found (looked in {}); `strata data fetch {name}` \
                 downloads it",
                dir.display()
            ),
        ));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_wins_over_env_and_errors_say_where_they_looked() {
        let tmp = std::env::temp_dir();
        let got = resolve_data_root(Some(&tmp), Some("/nonexistent-env".into())).unwrap();
        assert_eq!(got, tmp);
        let got = resolve_data_root(None, Some(tmp.clone().into_os_string())).unwrap();
        assert_eq!(got, tmp);
        let e = resolve_data_root(None, None).unwrap_err().to_string();
        assert!(e.contains("--data DIR") && e.contains("STRATA_DATA"), "{e}");
        let e = resolve_data_root(None, Some("/nonexistent-strata-data".into()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/nonexistent-strata-data") && e.contains("$STRATA_DATA"),
            "{e}"
        );
        let e = resolve_data_root(Some(Path::new("/nonexistent-cli")), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/nonexistent-cli") && e.contains("--data"),
            "{e}"
        );
    }
}
