//! A host over the committed guests, and a shared runtime for their DynamoDB calls.

use powersweep_host::{Host, HostConfig, JobEvent, JobResponse};
use serde_json::Value;
use std::sync::OnceLock;

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Runtime::new().expect("tokio runtime"))
}

pub fn config() -> HostConfig {
    HostConfig::new(powersweep_test_support::guests_dir())
}

pub fn host_with(config: HostConfig) -> Host {
    Host::new(config, runtime().handle().clone()).expect("host")
}

pub fn host() -> Host {
    host_with(config())
}

pub fn event(workload: &str, threads: usize, payload: Value) -> JobEvent {
    JobEvent {
        workload: workload.into(),
        threads,
        payload,
        timeout_ms: None,
    }
}

pub fn run(host: &Host, workload: &str, threads: usize, payload: Value) -> JobResponse {
    host.run(&event(workload, threads, payload))
}
