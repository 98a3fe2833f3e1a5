//! The analyzer as a Lambda function: the state machine's `Plan` step invokes it with the
//! sweep's settings (`{"plan": …}`) and its `Analyze` step with an analyzer input, and gets
//! the layout or the [`powersweep_analyzer::AnalyzerOutput`] back. It owns
//! the Lambda wiring and JSON logging only; every figure comes from the library.
//!
//! Errors reach the state machine as `errorType` `Analyzer.InvalidInput` (the event is
//! not an input), or the library's [`powersweep_analyzer::Error::error_type`].

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use powersweep_analyzer::event::answer;
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
    let (payload, context) = event.into_parts();
    let planning = payload.get("plan").is_some();
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
