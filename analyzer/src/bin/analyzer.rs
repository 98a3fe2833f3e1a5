//! The analyzer as a Lambda function: the state machine's `Plan` step invokes it with the
//! sweep's settings (`{"plan": …}`) and its `Analyze` step with an analyzer input, and gets
//! the layout or the [`powersweep_analyzer::AnalyzerOutput`] back. It owns the Lambda
//! wiring, JSON logging, and reading from S3 the samples the distributed `Sweep` wrote there
//! (the library says which objects); every figure comes from the library.
//!
//! Errors reach the state machine as `errorType` `Analyzer.InvalidInput` (the event is
//! not an input), or the library's [`powersweep_analyzer::Error::error_type`].

use std::collections::HashMap;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use powersweep_analyzer::event::answer;
use powersweep_analyzer::map_run::{self, ObjectRef};
use serde_json::Value;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    // JSON lines, so CloudWatch Logs Insights can query fields; no ANSI colours.
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_ansi(false)
        .with_current_span(false)
        .init();
    lambda_runtime::run(service_fn(handle)).await
}

/// One invocation: a plan request or an analysis (see [`powersweep_analyzer::event`]).
/// Takes a raw `Value` so that a bad event gets our error type and message instead of the
/// runtime's generic deserialization error.
pub(crate) async fn handle(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let (mut payload, context) = event.into_parts();
    let planning = payload.get("plan").is_some();
    if let Some(manifest) = map_run::manifest(&payload) {
        let objects = fetch_map_run(&manifest).await;
        map_run::gather(&mut payload, |r| {
            objects
                .get(&r.key)
                .cloned()
                .unwrap_or_else(|| Err(format!("{r} was not read")))
        })
        .map_err(|e| Diagnostic {
            error_type: e.error_type,
            error_message: e.message,
        })?;
    }
    let output = answer(payload).map_err(|e| {
        tracing::warn!(request_id = %context.request_id, error = %e, "event refused");
        Diagnostic {
            error_type: e.error_type,
            error_message: e.message,
        }
    })?;
    tracing::info!(
        request_id = %context.request_id,
        event = if planning { "plan" } else { "analysis" },
        "answered"
    );
    Ok(output)
}

/// The manifest and every result file it lists, by key (or why one could not be read).
async fn fetch_map_run(manifest: &ObjectRef) -> HashMap<String, Result<String, String>> {
    let config = powersweep_aws::loader().load().await;
    let s3 = aws_sdk_s3::Client::new(&config);
    let mut objects = HashMap::new();
    let text = get(&s3, manifest).await;
    let files = match &text {
        Ok(t) => map_run::result_files(t).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    objects.insert(manifest.key.clone(), text);
    for file in files {
        let text = get(&s3, &file).await;
        objects.insert(file.key, text);
    }
    objects
}

async fn get(s3: &aws_sdk_s3::Client, r: &ObjectRef) -> Result<String, String> {
    let out = s3
        .get_object()
        .bucket(&r.bucket)
        .key(&r.key)
        .send()
        .await
        .map_err(|e| powersweep_aws::one_line(&e))?;
    let bytes = out.body.collect().await.map_err(|e| e.to_string())?;
    String::from_utf8(bytes.into_bytes().to_vec()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Context;
    use serde_json::json;

    async fn call(payload: Value) -> Result<Value, Diagnostic> {
        handle(LambdaEvent::new(payload, Context::default())).await
    }

    #[tokio::test]
    async fn answers_with_the_analyzer_output() {
        let out = call(json!({
            "workload": "pbkdf2",
            "strategy": "speed",
            "samples": [[[{"memoryMb": 512, "threads": 1, "durationMs": 10.0, "errors": []}]]]
        }))
        .await
        .unwrap();
        assert_eq!(out["rows"][0]["memoryMb"], 512);
        assert_eq!(out["recommendation"]["speed"]["memoryMb"], 512);
    }

    #[tokio::test]
    async fn bad_events_get_typed_errors() {
        let err = call(json!({"strategy": "cheapest"})).await.unwrap_err();
        assert_eq!(err.error_type, "Analyzer.InvalidInput");
        assert!(
            err.error_message.contains("cheapest"),
            "{}",
            err.error_message
        );
        let err = call(json!({"samples": [{"threads": 1}]}))
            .await
            .unwrap_err();
        assert_eq!(err.error_type, "Analyzer.InvalidSample");
        let err = call(json!({"samples": [], "discardTopBottom": 0.7}))
            .await
            .unwrap_err();
        assert_eq!(err.error_type, "Analyzer.InvalidSetting");
    }
}
