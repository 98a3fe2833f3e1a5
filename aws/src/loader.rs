//! The one place an AWS client's configuration starts: the SDK's defaults (region, the
//! credential chain, retries) with our HTTPS client, rustls on the `ring` provider.
//!
//! Why our own client: the SDK's default one is rustls on `aws-lc`, a C library that takes a
//! minute of every cold build, where `ring` is already built for the tests and xtask. Every
//! client (DynamoDB, Step Functions) and the credential providers behind them use it. Must not
//! set anything a service cares about (timeouts, endpoints): the callers do.

use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// `aws_config::defaults` for the latest behavior version, with the HTTPS client.
pub fn loader() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client())
}

/// The HTTP(S) client every AWS client uses, for one built without [`loader`] (a client of a
/// test's moto, say): the SDK crates are built without a default one.
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
