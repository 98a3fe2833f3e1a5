//! The Lambda side of the host: serve job events through the Lambda Runtime API with
//! `lambda_runtime` until the environment is shut down. The `bootstrap` binary is this and
//! nothing else; `powersweep` runs the same code when started as `bootstrap` locally.
//!
//! An event without `threads` runs on `POWERSWEEP_THREADS` (else 1) threads. A bad event is a function error (`BadEvent`) and the process serves the next invocation;
//! a job whose tasks failed is a normal response whose `errors` say so.

use crate::{Host, HostConfig, JobEvent, JobResponse};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Room left between the job's deadline and Lambda's, to send the response before the kill.
const RESPONSE_MARGIN: Duration = Duration::from_millis(100);

/// JSON logs on stdout, as CloudWatch (and the emulator's log tail) expect. `POWERSWEEP_LOG`
/// sets the filter (default `info`).
pub fn init_logs() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("POWERSWEEP_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_current_span(false)
        .without_time()
        .init();
}

/// Sets the host up from the Lambda environment, loads every workload (INIT), then serves
/// invocations until the runtime stops.
///
/// # Errors
/// Configuration or start-up failures, which Lambda reports as an INIT error.
pub async fn serve() -> Result<(), lambda_runtime::Error> {
    let config = HostConfig::from_env()?;
    tracing::info!(guests = %config.guests_dir.display(), memory_mb = config.memory_mb, throttle = ?config.cpu_vcpus, "host starting");
    let host = Arc::new(Host::new(config, tokio::runtime::Handle::current())?);
    // Load (and deserialize the precompiled) workloads during INIT, before the first `next`.
    for (name, error) in host.preload_all() {
        tracing::warn!(workload = %name, "unusable, the others are served: {error}");
    }
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        handle(host.clone(), event)
    }))
    .await
}

async fn handle(host: Arc<Host>, event: LambdaEvent<Value>) -> Result<JobResponse, Diagnostic> {
    let (payload, context) = event.into_parts();
    let names_threads = payload.get("threads").is_some();
    let mut job: JobEvent = serde_path_to_error::deserialize(payload).map_err(|e| Diagnostic {
        error_type: "BadEvent".into(),
        error_message: format!("invalid job event at `{}`: {}", e.path(), e.inner()),
    })?;
    // An event without `threads` runs on the function's configured count (autoOptimize's).
    if !names_threads {
        job.threads = host.config().default_threads;
    }
    let deadline = instant_of(context.deadline)
        .checked_sub(RESPONSE_MARGIN)
        .unwrap_or_else(Instant::now);
    let response = tokio::task::spawn_blocking(move || host.run_with_deadline(&job, deadline))
        .await
        .map_err(|e| Diagnostic {
            error_type: "HostFault".into(),
            error_message: format!("job thread failed: {e}"),
        })?;
    if let Some(first) = response.errors.first() {
        tracing::warn!(workload = %response.workload, errors = response.errors.len(), "job had errors; first: {first}");
    }
    Ok(response)
}

/// Lambda's deadline is epoch milliseconds; guests need an `Instant`.
fn instant_of(deadline_epoch_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Instant::now() + Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms))
}
