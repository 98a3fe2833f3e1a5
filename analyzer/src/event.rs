//! The analyzer Lambda's one entry point, shared by the deployed binary and the CLI's
//! in-process stand-in so that both answer the same event the same way: `{"plan": {…}}` is
//! the state machine's `Plan` step ([`crate::plan`]), `{"probe": {"workload", "samples"}}` its
//! `dryRun` output (the samples handed back as they are), anything else an analysis
//! ([`crate::analyze`]). Samples a distributed `Sweep` wrote to S3 are gathered first by the
//! caller ([`crate::map_run::gather`]). It owns the dispatch and the error names; it must not
//! log or do I/O.

use serde_json::Value;

use crate::{AnalyzerInput, PlanInput, analyze, plan};

/// A failed event, as the Lambda answers it (`errorType`, `errorMessage`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct EventError {
    /// `Analyzer.InvalidInput` (the event has the wrong shape), or the library's
    /// [`crate::Error::error_type`].
    pub error_type: String,
    /// What is wrong.
    pub message: String,
}

impl EventError {
    fn new(error_type: &str, message: impl Into<String>) -> Self {
        EventError {
            error_type: error_type.to_owned(),
            message: message.into(),
        }
    }
}

impl From<crate::Error> for EventError {
    fn from(e: crate::Error) -> Self {
        EventError::new(e.error_type(), e.to_string())
    }
}

/// Answers one event: a plan request or an analysis.
///
/// # Errors
/// [`EventError`] with the Lambda error type the state machine sees.
pub fn answer(event: Value) -> Result<Value, EventError> {
    let serialize = |e: serde_json::Error| EventError::new("Analyzer.Serialization", e.to_string());
    if let Some(settings) = event.get("plan") {
        let not_a_sweep = |e: serde_json::Error| {
            EventError::new(
                "Analyzer.InvalidInput",
                format!("the settings are not a sweep's: {e}"),
            )
        };
        let input: PlanInput = serde_json::from_value(settings.clone()).map_err(not_a_sweep)?;
        let layout = plan(&input)?;
        // What the analysis will read of the same settings, checked now rather than after
        // every invocation has run.
        let analysis: AnalyzerInput =
            serde_json::from_value(settings.clone()).map_err(not_a_sweep)?;
        crate::analyze::check_settings(&analysis)?;
        return serde_json::to_value(layout).map_err(serialize);
    }
    if let Some(probe) = event.get("probe") {
        if crate::map_run::manifest(&event).is_some() {
            return Err(EventError::new(
                crate::map_run::UNREADABLE,
                "the probe's samples are still in S3: gather them first",
            ));
        }
        // power-tuning's dryRun: no analysis, but the samples must be samples.
        let samples = probe.get("samples").cloned().unwrap_or(Value::Null);
        crate::parse_samples_allowing(&samples, &[]).map_err(EventError::from)?;
        return Ok(serde_json::json!({
            "dryRun": true,
            "workload": probe.get("workload").cloned().unwrap_or(Value::Null),
            "samples": samples,
        }));
    }
    let input: AnalyzerInput = serde_json::from_value(event).map_err(|e| {
        EventError::new(
            "Analyzer.InvalidInput",
            format!("the event is not an analyzer input: {e}"),
        )
    })?;
    serde_json::to_value(analyze(&input)?).map_err(serialize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_plan_request_is_planned_and_its_errors_are_named() {
        let out = answer(
            json!({"plan": {"memorySizes": [128], "threads": [1], "repetitions": 2,
                                         "workload": "ignored", "functionName": "f"}}),
        )
        .unwrap();
        assert_eq!(out["functions"], json!(["f"]));
        assert_eq!(out["publish"], json!([{"function": 0, "memoryMb": 128}]));
        assert_eq!(out["invocations"], 2);
        let e = answer(
            json!({"plan": {"memorySizes": [128], "threads": [1], "repetitions": 0,
                                       "functionName": "f"}}),
        )
        .unwrap_err();
        assert_eq!(e.error_type, "Analyzer.InvalidSetting");
        let e = answer(json!({"plan": {"threads": [1]}})).unwrap_err();
        assert_eq!(e.error_type, "Analyzer.InvalidInput");
        assert!(e.message.contains("memorySizes"), "{e}");
        // The analysis's own settings are checked before the sweep, not after it.
        let base = json!({"memorySizes": [128], "threads": [1], "repetitions": 1,
                          "functionName": "f"});
        for (field, bad, error_type) in [
            ("strategy", json!("cheapest"), "Analyzer.InvalidInput"),
            ("includeSamples", json!(null), "Analyzer.InvalidInput"),
            ("discardTopBottom", json!(0.7), "Analyzer.InvalidSetting"),
            ("balancedWeight", json!(2), "Analyzer.InvalidSetting"),
        ] {
            let mut settings = base.clone();
            settings[field] = bad;
            let e = answer(json!({ "plan": settings })).unwrap_err();
            assert_eq!(e.error_type, error_type, "{field}: {e}");
        }
    }

    #[test]
    fn anything_else_is_an_analysis() {
        let out = answer(
            json!({"samples": [{"memoryMb": 128, "threads": 1, "durationMs": 5.0}],
                                "autoOptimize": true, "includeSamples": true}),
        )
        .unwrap();
        assert_eq!(out["rows"][0]["memoryMb"], 128);
        assert_eq!(out["optimizeTo"]["variables"]["POWERSWEEP_THREADS"], "1");
        assert_eq!(out["samples"][0]["durationMs"], 5.0);
        let e = answer(json!({"strategy": "cheapest"})).unwrap_err();
        assert_eq!(e.error_type, "Analyzer.InvalidInput");
    }
}
