//! The `dynamodb` capability: which tables a workload may write, and the shared SDK client.
//!
//! Deny by default: only tables on the host's allowlist (its configuration, never the job's
//! payload) can be written. The client is created on first use, once per process, from the
//! standard AWS configuration (`AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL` work).

mod host;
mod item;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Region;
use powersweep_aws::with_local_credentials;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;
use tokio::sync::OnceCell;

/// Where and how to reach DynamoDB.
#[derive(Debug, Clone, Default)]
pub struct DynamoSettings {
    /// Tables workloads may write.
    pub allowed_tables: Vec<String>,
    /// An endpoint that overrides the AWS configuration (e.g. `http://127.0.0.1:5000`).
    pub endpoint: Option<String>,
    /// Check and parse every call but send none (calibration runs tasks again and again).
    pub dry: bool,
}

/// The per-process part: settings and the lazily built client.
pub struct Dynamo {
    allowed: HashSet<String>,
    endpoint: Option<String>,
    dry: bool,
    client: OnceCell<Client>,
    runtime: Handle,
}

impl Dynamo {
    /// A capability for `settings`, whose SDK calls run on `runtime`.
    pub fn new(settings: DynamoSettings, runtime: Handle) -> Arc<Self> {
        let DynamoSettings {
            allowed_tables,
            endpoint,
            dry,
        } = settings;
        Arc::new(Self {
            allowed: allowed_tables
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect(),
            endpoint,
            dry,
            client: OnceCell::new(),
            runtime,
        })
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| build_client(self.endpoint.clone()))
            .await
    }
}

/// What one store holds: a handle on the process's [`Dynamo`].
#[derive(Clone)]
pub struct DynamoCap(pub Arc<Dynamo>);

async fn build_client(endpoint: Option<String>) -> Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(30))
        .build();
    let mut loader = powersweep_aws::loader()
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3));
    if let Some(url) = &endpoint {
        loader = loader.endpoint_url(url);
    }
    let endpoint = endpoint
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok())
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
    loader = with_local_credentials(loader, endpoint.as_deref());
    let sdk = loader.load().await;
    let mut config = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if sdk.region().is_none() {
        config = config.region(Region::new("us-east-1"));
    }
    Client::from_conf(config.build())
}
