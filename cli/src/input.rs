//! Reading what users pass on the command line: JSON inline or `@file`, and where the
//! guests live. Errors are lowercase and name the fix.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Parses `--payload`: JSON text, or `@path` to read it from a file (a FIFO and
/// `/dev/stdin` too). At most `limit` bytes are read: an endless source (`@/dev/zero`) is an
/// error, not a hang.
pub fn json_arg(flag: &str, text: &str, limit: usize) -> Result<Value> {
    let (source, text) = match text.strip_prefix('@') {
        Some(path) => {
            let cannot = || format!("cannot read {flag} file `{path}`");
            let mut body = Vec::new();
            std::fs::File::open(path)
                .with_context(cannot)?
                .take(limit as u64 + 1)
                .read_to_end(&mut body)
                .with_context(cannot)?;
            if body.len() > limit {
                bail!(
                    "{flag} file `{path}` is larger than {limit} bytes, Lambda's limit for an invocation payload"
                );
            }
            (
                format!("file `{path}`"),
                String::from_utf8_lossy(&body).into_owned(),
            )
        }
        None if text.len() > limit => {
            bail!("{flag} is larger than {limit} bytes, Lambda's limit for an invocation payload")
        }
        None => ("text".to_string(), text.to_string()),
    };
    serde_json::from_str(&text).with_context(|| format!("{flag} {source} is not valid JSON"))
}

/// The folder of built workloads: `--guests`, else `POWERSWEEP_GUESTS`, else `guests/dist`
/// here (a checkout), else the workloads built into this binary.
pub fn guests_dir(flag: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = flag.or_else(|| std::env::var_os("POWERSWEEP_GUESTS").map(PathBuf::from)) {
        return dir;
    }
    let here = PathBuf::from("guests/dist");
    if here.is_dir() {
        return here;
    }
    crate::embedded::guests_folder().unwrap_or_else(|e| {
        eprintln!("warning: cannot unpack the built-in workloads ({e:#}); give --guests");
        here
    })
}

/// Fails before anything runs when `workload` cannot be one of `guests`: a name that could
/// reach outside the folder, or no such file (with the list of the ones there). Whether the
/// file is a workload is for the host to say when it loads it.
pub fn check_workload(guests: &Path, workload: &str) -> Result<()> {
    powersweep_host::check_name(workload)?;
    if guests.join(format!("{workload}.wasm")).exists() {
        return Ok(());
    }
    let host = powersweep_host::Host::new(
        powersweep_host::HostConfig::new(guests),
        tokio::runtime::Handle::current(),
    )?;
    bail!(
        "{}",
        powersweep_host::LoadError::Unknown {
            name: workload.to_string(),
            available: host.available()
        }
    );
}

/// The state machine's text and where it came from: `--state-machine`, else
/// `statemachine/powersweep.asl.json` here (a checkout), else the one built into this binary.
///
/// # Errors
/// When a file that was named or found cannot be read.
pub fn state_machine(flag: Option<&Path>) -> Result<(String, String)> {
    let here = Path::new("statemachine/powersweep.asl.json");
    let path = match flag {
        Some(p) => p,
        None if here.exists() => here,
        None => return Ok((crate::embedded::STATE_MACHINE.to_owned(), "built in".into())),
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the state machine `{}`", path.display()))?;
    Ok((text, format!("`{}`", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_file() {
        let json_arg = |flag: &str, text: &str| json_arg(flag, text, 1024);
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

    #[test]
    fn an_endless_file_is_read_up_to_the_limit_and_refused() {
        let started = std::time::Instant::now();
        let err = json_arg("--payload", "@/dev/zero", 1 << 20).unwrap_err();
        assert!(
            format!("{err:#}").contains("is larger than 1048576 bytes"),
            "{err:#}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        let big = format!("[{}1]", "1,".repeat(600));
        let err = json_arg("--payload", &big, 1024).unwrap_err();
        assert!(format!("{err:#}").contains("is larger than 1024 bytes"));
        assert!(json_arg("--payload", &big, 4096).is_ok());
    }
}
