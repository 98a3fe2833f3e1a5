//! Lambda's own figures for one invocation, read from its REPORT log record: the last line
//! of the log tail `LogType: Tail` returns, which the state machine passes on as `report`.
//! Both of Lambda's log formats are read: text (`REPORT RequestId: …\tDuration: 2.36 ms\t…`)
//! and JSON (`{"type": "platform.report", "record": {"metrics": {"durationMs": …}}}`).
//!
//! Owns the parsing only; it must not decide which figures a row uses (`analyze.rs` does).

use serde_json::Value;

/// What Lambda's REPORT says about one invocation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LambdaReport {
    /// `Duration`, ms: from the event to the response, as Lambda measured it.
    pub duration_ms: f64,
    /// `Billed Duration`, ms: what the invocation costs (INIT included on a custom runtime's
    /// cold start).
    pub billed_duration_ms: u64,
    /// `Init Duration`, ms, on a cold start.
    pub init_duration_ms: Option<f64>,
    /// `Max Memory Used`, MB.
    pub max_memory_used_mb: u64,
}

/// Why a line is not a REPORT this module can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LambdaReportError {
    /// Neither a text REPORT line nor a JSON `platform.report` record.
    #[error("not a REPORT record: {0}")]
    NotAReport(String),
    /// The log ends with X-Ray's line after the REPORT.
    #[error(
        "the log ends with X-Ray's line, not Lambda's REPORT: turn active tracing off on the host function (template.yaml leaves it off)"
    )]
    XRay,
    /// A JSON line that does not parse.
    #[error("not JSON ({reason}): {line}")]
    NotJson {
        /// serde_json's message.
        reason: String,
        /// The line, shortened.
        line: String,
    },
    /// A figure is absent or not a non-negative number.
    #[error("no number `{field}` in {line}")]
    BadField {
        /// The field's name as the line spells it.
        field: String,
        /// The line, shortened.
        line: String,
    },
}

/// Parses a REPORT line in either log format.
///
/// # Errors
/// [`LambdaReportError`] saying what is missing or malformed.
pub fn parse(line: &str) -> Result<LambdaReport, LambdaReportError> {
    let line = line.trim();
    if line.starts_with('{') {
        parse_json(line)
    } else if line.starts_with("REPORT ") {
        parse_text(line)
    } else if line.starts_with("XRAY ") {
        Err(LambdaReportError::XRay)
    } else {
        Err(LambdaReportError::NotAReport(shorten(line)))
    }
}

fn bad_field(field: &str, line: &str) -> LambdaReportError {
    LambdaReportError::BadField {
        field: field.to_owned(),
        line: shorten(line),
    }
}

fn parse_text(line: &str) -> Result<LambdaReport, LambdaReportError> {
    // Fields are `Name: value unit`, tab-separated.
    let field = |name: &str| -> Option<&str> {
        line.split('\t')
            .filter_map(|f| f.trim().strip_prefix(name)?.strip_prefix(':'))
            .map(|rest| rest.split_whitespace().next().unwrap_or_default())
            .next()
    };
    let number = |name: &str| -> Result<Option<f64>, LambdaReportError> {
        field(name)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite() && *n >= 0.0)
                    .ok_or_else(|| bad_field(name, line))
            })
            .transpose()
    };
    let required = |name: &str| -> Result<f64, LambdaReportError> {
        number(name)?.ok_or_else(|| bad_field(name, line))
    };
    Ok(LambdaReport {
        duration_ms: required("Duration")?,
        billed_duration_ms: required("Billed Duration")? as u64,
        init_duration_ms: number("Init Duration")?,
        max_memory_used_mb: required("Max Memory Used")? as u64,
    })
}

fn parse_json(line: &str) -> Result<LambdaReport, LambdaReportError> {
    let record: Value = serde_json::from_str(line).map_err(|e| LambdaReportError::NotJson {
        reason: e.to_string(),
        line: shorten(line),
    })?;
    if record["type"] != "platform.report" {
        return Err(LambdaReportError::NotAReport(shorten(line)));
    }
    let metrics = &record["record"]["metrics"];
    let number = |name: &str| {
        metrics[name]
            .as_f64()
            .filter(|n| n.is_finite() && *n >= 0.0)
    };
    let required = |name: &str| number(name).ok_or_else(|| bad_field(name, line));
    Ok(LambdaReport {
        duration_ms: required("durationMs")?,
        billed_duration_ms: required("billedDurationMs")? as u64,
        init_duration_ms: number("initDurationMs"),
        max_memory_used_mb: required("maxMemoryUsedMB")? as u64,
    })
}

/// At most 200 characters of `s`, for error messages.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cold_text_report() {
        let line = "REPORT RequestId: 0f3e\tDuration: 2.36 ms\tBilled Duration: 139 ms\t\
                    Memory Size: 128 MB\tMax Memory Used: 39 MB\tInit Duration: 135.53 ms\t";
        assert_eq!(
            parse(line),
            Ok(LambdaReport {
                duration_ms: 2.36,
                billed_duration_ms: 139,
                init_duration_ms: Some(135.53),
                max_memory_used_mb: 39,
            })
        );
    }

    #[test]
    fn a_warm_text_report_has_no_init() {
        let line = "REPORT RequestId: a\tDuration: 1002.10 ms\tBilled Duration: 1003 ms\t\
                    Memory Size: 1769 MB\tMax Memory Used: 61 MB\t";
        let report = parse(line).unwrap();
        assert_eq!(report.init_duration_ms, None);
        assert_eq!(report.billed_duration_ms, 1003);
    }

    #[test]
    fn a_json_platform_report() {
        let line = r#"{"time":"2026-11-30T21:00:00.000Z","type":"platform.report","record":{"requestId":"a","metrics":{"durationMs":2.36,"billedDurationMs":139,"memorySizeMB":128,"maxMemoryUsedMB":39,"initDurationMs":135.53},"status":"success"}}"#;
        assert_eq!(
            parse(line),
            Ok(LambdaReport {
                duration_ms: 2.36,
                billed_duration_ms: 139,
                init_duration_ms: Some(135.53),
                max_memory_used_mb: 39,
            })
        );
    }

    #[test]
    fn other_lines_and_broken_fields_are_named() {
        let bad = |field: &str, e: LambdaReportError| matches!(e, LambdaReportError::BadField { field: f, .. } if f == field);
        assert!(matches!(
            parse("END RequestId: a"),
            Err(LambdaReportError::NotAReport(_))
        ));
        let e = parse("XRAY TraceId: 1-5e\tSegmentId: 07\tSampled: true").unwrap_err();
        assert!(e.to_string().contains("turn active tracing off"), "{e}");
        let e = parse("REPORT RequestId: a\tDuration: fast ms\t").unwrap_err();
        assert!(bad("Duration", e));
        let e = parse("REPORT RequestId: a\tDuration: 1 ms\t").unwrap_err();
        assert!(bad("Billed Duration", e));
        let e = parse(r#"{"type":"platform.start","record":{}}"#).unwrap_err();
        assert!(matches!(e, LambdaReportError::NotAReport(_)), "{e}");
        let e = parse(r#"{"type":"platform.report","record":{"metrics":{"durationMs":1}}}"#)
            .unwrap_err();
        assert!(bad("billedDurationMs", e));
        assert!(matches!(
            parse("{nope"),
            Err(LambdaReportError::NotJson { .. })
        ));
    }
}
