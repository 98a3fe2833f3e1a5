//! Reading what users pass on the command line: JSON inline or `@file`, and where the
//! guests live. Errors are lowercase and name the fix.

use anyhow::{Context, Result};
use serde_json::Value;
use std::path::PathBuf;

/// Parses `--payload`: JSON text, or `@path` to read it from a file.
pub fn json_arg(flag: &str, text: &str) -> Result<Value> {
    let (source, text) = match text.strip_prefix('@') {
        Some(path) => {
            let body = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {flag} file `{path}`"))?;
            (format!("file `{path}`"), body)
        }
        None => ("text".to_string(), text.to_string()),
    };
    serde_json::from_str(&text).with_context(|| format!("{flag} {source} is not valid JSON"))
}

/// The folder of built workloads: `--guests`, else `POWERSWEEP_GUESTS`, else `guests/dist`
/// here, else the one of the source tree this binary was built from.
pub fn guests_dir(flag: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = flag.or_else(|| std::env::var_os("POWERSWEEP_GUESTS").map(PathBuf::from)) {
        return dir;
    }
    let here = PathBuf::from("guests/dist");
    if here.is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../guests/dist")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_file() {
        assert_eq!(json_arg("--payload", r#"{"a":1}"#).unwrap()["a"], 1);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.json");
        std::fs::write(&file, "[1,2]").unwrap();
        assert_eq!(
            json_arg("--payload", &format!("@{}", file.display())).unwrap()[1],
            2
        );
        let err = json_arg("--payload", "{nope").unwrap_err();
        assert!(format!("{err:#}").contains("--payload text is not valid JSON"));
        let err = json_arg("--payload", "@/no/such/file").unwrap_err();
        assert!(format!("{err:#}").contains("cannot read --payload file"));
    }
}
