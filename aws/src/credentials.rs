//! Credentials for local endpoints: moto and DynamoDB Local do not check them, so a machine
//! with no AWS account gets dummy ones instead of seconds of probing and a failure. Must not
//! touch credentials for any endpoint that is not on this machine.

use aws_credential_types::Credentials;

/// Gives `loader` dummy credentials when `endpoint` is on this machine and the environment
/// names none (no `AWS_ACCESS_KEY_ID`, no `AWS_PROFILE`). Local services (moto, DynamoDB
/// Local) do not check credentials; without this a machine with no AWS account would spend
/// seconds probing for some and then fail. Shared by the host's DynamoDB client and the
/// CLI's Step Functions client.
pub fn with_local_credentials(
    loader: aws_config::ConfigLoader,
    endpoint: Option<&str>,
) -> aws_config::ConfigLoader {
    let named = std::env::var_os("AWS_ACCESS_KEY_ID").is_some()
        || std::env::var_os("AWS_PROFILE").is_some();
    if endpoint.is_some_and(is_loopback) && !named {
        loader.credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "powersweep-local",
        ))
    } else {
        loader
    }
}

/// Whether an endpoint URL points at this machine (a local DynamoDB, moto): such endpoints
/// do not check credentials, so callers may use dummy ones instead of probing for real ones.
pub fn is_loopback(url: &str) -> bool {
    let host = url.split("://").nth(1).unwrap_or(url);
    ["127.", "localhost", "[::1]"]
        .iter()
        .any(|p| host.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:5000"));
        assert!(is_loopback("http://localhost:5000"));
        assert!(is_loopback("http://[::1]:5000"));
        assert!(!is_loopback("https://dynamodb.us-east-1.amazonaws.com"));
    }
}
