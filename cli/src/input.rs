//! Reading what users pass on the command line: JSON inline or `@file`, and where the
//! guests live. Errors are lowercase and name the fix.

use anyhow::{Context, Result, bail};
use powersweep_input::Limit;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Parses `--payload`: JSON text, or `@path` to read it from a regular file of at most
/// `limit` bytes (Lambda's limit for an invocation payload), UTF-8 as it is (a replaced byte
/// would be another payload).
pub fn json_arg(flag: &str, text: &str, limit: usize) -> Result<Value> {
    let (source, text) = match text.strip_prefix('@') {
        Some(path) => {
            let limit = Limit {
                bytes: limit as u64,
                why: "Lambda's limit for an invocation payload",
            };
            let text = powersweep_input::read_text(Path::new(path), limit)
                .with_context(|| format!("{flag} file"))?;
            (format!("file `{path}`"), text)
        }
        None if text.len() > limit => {
            bail!("{flag} is larger than {limit} bytes, Lambda's limit for an invocation payload")
        }
        None => ("text".to_string(), text.to_string()),
    };
    serde_json::from_str(&text).with_context(|| format!("{flag} {source} is not valid JSON"))
}

/// The most a state machine file may hold: AWS's quota on a definition, or with
/// `--lift-quotas` this machine's own bound (lifting AWS's quotas lifts no memory bound).
pub fn definition_limit(lift_quotas: bool) -> Limit {
    if lift_quotas {
        Limit {
            bytes: 64 << 20,
            why: "powersweep's limit for a state machine even with --lift-quotas",
        }
    } else {
        Limit {
            bytes: powersweep_asl::DEFINITION_QUOTA_BYTES as u64,
            why: "AWS's quota on a state machine definition (--lift-quotas runs it anyway)",
        }
    }
}

/// The most a `--io-latency @file` may hold (a table of a few lines per call kind).
pub const LATENCY_TABLE_LIMIT: Limit = Limit {
    bytes: 1 << 20,
    why: "powersweep's limit for a latency table",
};

/// The most a results file `report` reads: a 100,000-invocation sweep's is ~60 MB.
pub const RESULTS_LIMIT: Limit = Limit {
    bytes: 256 << 20,
    why: "powersweep's limit for a results file",
};

/// `--dynamodb-endpoint`: `aws` (the AWS configuration's DynamoDB, asked for by name), or an
/// `http://` or `https://` URL with a host; checked when the command line is read.
pub fn endpoint_arg(text: &str) -> std::result::Result<String, String> {
    if text == AWS_ENDPOINT {
        return Ok(text.to_owned());
    }
    let uri: http::Uri = text
        .parse()
        .map_err(|e| format!("not a URL ({e}); give e.g. http://127.0.0.1:5123, or `aws`"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => Ok(text.to_owned()),
        (Some(other), _) if other != "http" && other != "https" => {
            Err(format!("the scheme must be http or https, not `{other}`"))
        }
        _ => Err("not a URL with a host; give e.g. http://127.0.0.1:5123, or `aws`".into()),
    }
}

/// What `--dynamodb-endpoint` says for "the AWS configuration's endpoint".
const AWS_ENDPOINT: &str = "aws";

/// Where a local run's DynamoDB calls go: the endpoint given, or `None` for the AWS
/// configuration's, which a local run reaches only when asked for by name (`aws`): without
/// an endpoint, the SDK's credential chain would probe the instance-metadata address and
/// the failure would blame credentials.
///
/// # Errors
/// When tables are allowed but no endpoint is given.
pub fn dynamodb_endpoint(given: Option<&str>, allow_table: &[String]) -> Result<Option<String>> {
    match given {
        Some(AWS_ENDPOINT) => Ok(None),
        Some(url) => Ok(Some(url.to_owned())),
        None if allow_table.is_empty() => Ok(None),
        None => bail!(
            "--allow-table needs --dynamodb-endpoint: a local DynamoDB's URL (e.g. moto's, http://127.0.0.1:5123), or `aws` for the account your AWS configuration names"
        ),
    }
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

/// Fails unless `guests` is a folder, naming the path and where it came from.
pub fn check_guests_folder(guests: &Path) -> Result<()> {
    let from = "(--guests, or POWERSWEEP_GUESTS)";
    if !guests.exists() {
        bail!(
            "the guests folder `{}` does not exist {from}",
            guests.display()
        );
    }
    if !guests.is_dir() {
        bail!(
            "the guests folder `{}` is a file, not a folder {from}",
            guests.display()
        );
    }
    Ok(())
}

/// Fails before anything runs when `workload` cannot be one of `guests`: a name that could
/// reach outside the folder, or no such file (with the list of the ones there). Whether the
/// file is a workload is for the host to say when it loads it.
pub fn check_workload(guests: &Path, workload: &str) -> Result<()> {
    check_guests_folder(guests)?;
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
/// When a file that was named or found cannot be read, or is past [`definition_limit`].
pub fn state_machine(flag: Option<&Path>, lift_quotas: bool) -> Result<(String, String)> {
    let here = Path::new("statemachine/powersweep.asl.json");
    let path = match flag {
        Some(p) => p,
        None if here.exists() => here,
        None => return Ok((crate::embedded::STATE_MACHINE.to_owned(), "built in".into())),
    };
    let text = powersweep_input::read_text(path, definition_limit(lift_quotas))
        .context("cannot use it as the state machine")?;
    Ok((text, format!("`{}`", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_a_url_with_a_host_or_aws_by_name() {
        assert!(endpoint_arg("http://127.0.0.1:5123").is_ok());
        assert!(endpoint_arg("https://dynamodb.eu-west-1.amazonaws.com").is_ok());
        assert!(endpoint_arg("aws").is_ok());
        for (bad, says) in [
            ("not a url", "not a URL"),
            ("ftp://127.0.0.1", "the scheme must be http or https"),
            ("127.0.0.1:5123", "not a URL"),
            ("http://", "not a URL"),
        ] {
            let err = endpoint_arg(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        let tables = ["t".to_string()];
        assert!(dynamodb_endpoint(None, &tables).is_err());
        assert_eq!(dynamodb_endpoint(Some("aws"), &tables).unwrap(), None);
        assert_eq!(dynamodb_endpoint(None, &[]).unwrap(), None);
        let url = Some("http://127.0.0.1:1");
        assert_eq!(dynamodb_endpoint(url, &tables).unwrap().as_deref(), url);
    }

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
        assert!(
            format!("{err:#}").starts_with("--payload file: cannot read `/no/such/file`"),
            "{err:#}"
        );
    }

    #[test]
    fn an_endless_device_and_a_text_past_the_limit_are_refused() {
        let err = json_arg("--payload", "@/dev/zero", 1 << 20).unwrap_err();
        assert!(
            format!("{err:#}").contains("`/dev/zero` is not a regular file"),
            "{err:#}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.json");
        std::fs::write(&file, vec![b' '; 1025]).unwrap();
        let err = json_arg("--payload", &format!("@{}", file.display()), 1024).unwrap_err();
        assert!(
            format!("{err:#}").contains("is larger than 1024 bytes, Lambda's limit"),
            "{err:#}"
        );
        let big = format!("[{}1]", "1,".repeat(600));
        let err = json_arg("--payload", &big, 1024).unwrap_err();
        assert!(format!("{err:#}").contains("is larger than 1024 bytes"));
        assert!(json_arg("--payload", &big, 4096).is_ok());
    }
}
