//! The analyzer's input: [`AnalyzerInput`] as the state machine sends it, and the
//! samples inside it. It owns parsing and validating samples; it must not compute
//! statistics (that is `stats.rs` and `analyze.rs`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Architecture, Error, LambdaReport, Strategy};

/// Everything the analyzer needs; the schema is in the crate documentation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzerInput {
    /// The workload's name; a label in the output and the report.
    #[serde(default)]
    pub workload: String,
    /// Memory sizes asked for; with `threads`, each pair gets a row even without samples.
    #[serde(default)]
    pub memory_sizes: Vec<u32>,
    /// Thread counts asked for.
    #[serde(default)]
    pub threads: Vec<u32>,
    /// Repetitions asked for; informational.
    #[serde(default)]
    pub repetitions: Option<u32>,
    /// The strategy the user chose; all three are computed anyway.
    #[serde(default)]
    pub strategy: Strategy,
    /// Weight of cost against time for [`Strategy::Balanced`]: 0 = fastest, 1 = cheapest.
    #[serde(default = "default_balanced_weight")]
    pub balanced_weight: f64,
    /// Fraction of samples dropped at each end before the trimmed mean, in `[0, 0.5)`.
    #[serde(default = "default_discard_top_bottom")]
    pub discard_top_bottom: f64,
    /// The function's architecture; selects the price. With several functions, the first's
    /// (and the architecture of a sample that names none).
    #[serde(default)]
    pub architecture: Architecture,
    /// The architectures of the functions swept, in the order the state machine lists the
    /// functions (`optimizeTo.function` is an index into it); empty means `[architecture]`.
    #[serde(default)]
    pub architectures: Vec<Architecture>,
    /// The AWS region; selects the price. `None` means us-east-1.
    #[serde(default)]
    pub region: Option<String>,
    /// The samples, nested in arrays to any depth (see [`parse_samples`]).
    #[serde(default)]
    pub samples: Value,
    /// Error names whose samples count as measurements (power-tuning's `allowedExceptions`):
    /// a job error such as `Job.guest` that the function is expected to raise.
    #[serde(default)]
    pub allowed_exceptions: Vec<String>,
    /// Copy every sample into the output's `samples` (power-tuning's `includeOutputResults`).
    #[serde(default)]
    pub include_samples: bool,
    /// Say what `autoOptimize` should apply: the output's `optimizeTo`.
    #[serde(default)]
    pub auto_optimize: bool,
}

fn default_balanced_weight() -> f64 {
    0.5
}

fn default_discard_top_bottom() -> f64 {
    0.2
}

/// One invocation of one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The architecture of the function invoked, when the sample names it.
    pub architecture: Option<Architecture>,
    /// Memory size of the function version invoked, MB.
    pub memory_mb: u32,
    /// Threads the job ran on.
    pub threads: u32,
    /// What came back.
    pub outcome: Outcome,
    /// Items the job's DynamoDB calls wrote, failed or not, as its host answered (`None`:
    /// no answer came, as after a timeout or a crash, or the host is older).
    pub written_items: Option<u64>,
}

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The job ran to the end; its measurements.
    Ok(Measurement),
    /// The invocation failed (States error) or a task of the job failed (host errors).
    Failed {
        /// Error name: the Lambda `errorType`, or the failing task's error kind.
        error: String,
        /// Details: the error's JSON text, or the failing task's message.
        cause: String,
    },
}

/// What the host measured for one successful job.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Wall time of the job, ms (what the statistics are about).
    pub duration_ms: f64,
    /// CPU time of the job, ms, when reported.
    pub cpu_ms: Option<f64>,
    /// Whether this invocation was the sandbox's first.
    pub cold: bool,
    /// Init cost of a cold start, ms, when reported.
    pub init_ms: Option<f64>,
    /// Peak resident memory, MB, when reported.
    pub max_rss_mb: Option<f64>,
    /// Cores the function saw (`nproc`), when reported.
    pub vcpus: Option<u32>,
    /// Lambda's REPORT for the invocation, when the state machine passed its log's last line.
    pub report: Option<LambdaReport>,
    /// The job's error, when it failed with one of the allowed exceptions (counted anyway).
    pub allowed_error: Option<String>,
}

/// Flattens `samples` (arrays nested to any depth, objects at the leaves) into [`Sample`]s.
///
/// `null` leaves are skipped: they are what an empty Map branch produces.
///
/// # Errors
/// [`Error::InvalidSample`] with the JSON pointer of the first leaf that is not a sample:
/// a missing or zero `memoryMb`/`threads`, a success without a finite, non-negative
/// `durationMs`, or a value that is neither an array nor an object.
pub fn parse_samples(samples: &Value) -> Result<Vec<Sample>, Error> {
    parse_samples_allowing(samples, &[])
}

/// [`parse_samples`], where a job that failed with an error named in `allowed` still counts
/// as a measurement (its `allowed_error` names it). A failed invocation (`error`) has no
/// duration, so it stays a failure whatever its name.
///
/// # Errors
/// As [`parse_samples`].
pub fn parse_samples_allowing(samples: &Value, allowed: &[String]) -> Result<Vec<Sample>, Error> {
    let mut out = Vec::new();
    let mut pointer = String::new();
    walk(samples, &mut pointer, allowed, &mut out)?;
    Ok(out)
}

fn walk(
    value: &Value,
    pointer: &mut String,
    allowed: &[String],
    out: &mut Vec<Sample>,
) -> Result<(), Error> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&index.to_string());
                walk(item, pointer, allowed, out)?;
                pointer.truncate(len);
            }
            Ok(())
        }
        Value::Object(object) => {
            out.push(parse_one(object, pointer, allowed)?);
            Ok(())
        }
        other => Err(invalid(
            pointer,
            format!("expected an array or a sample object, found {other}"),
        )),
    }
}

fn invalid(pointer: &str, reason: impl Into<String>) -> Error {
    Error::InvalidSample {
        at: if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer.to_owned()
        },
        reason: reason.into(),
    }
}

fn parse_one(
    object: &Map<String, Value>,
    pointer: &str,
    allowed: &[String],
) -> Result<Sample, Error> {
    let memory_mb = positive_u32(object, "memoryMb", pointer)?;
    let threads = positive_u32(object, "threads", pointer)?;
    let architecture = match object.get("architecture") {
        None | Some(Value::Null) => None,
        Some(name) => Some(serde_json::from_value(name.clone()).map_err(|_| {
            invalid(
                pointer,
                format!("`architecture` must be \"x86_64\" or \"arm64\", found {name}"),
            )
        })?),
    };

    // A caught States error: the state machine's error row.
    if let Some(error) = object.get("error").filter(|v| !v.is_null()) {
        let error = text(error);
        let cause = object.get("cause").map(cause_text).unwrap_or_default();
        return Ok(Sample {
            architecture,
            memory_mb,
            threads,
            outcome: Outcome::Failed { error, cause },
            written_items: None,
        });
    }

    let written_items = object.get("writtenItems").and_then(Value::as_u64);
    // The job ran but a task failed: the host reports it in `errors`. An allowed error
    // leaves the sample a measurement that names it.
    let mut allowed_error = None;
    if let Some(outcome) = job_failure(object.get("errors"), pointer)? {
        match outcome {
            Outcome::Failed { error, .. } if every_error_allowed(object.get("errors"), allowed) => {
                allowed_error = Some(error);
            }
            outcome => {
                return Ok(Sample {
                    architecture,
                    memory_mb,
                    threads,
                    outcome,
                    written_items,
                });
            }
        }
    }

    let duration_ms = match object.get("durationMs").and_then(Value::as_f64) {
        Some(ms) if ms.is_finite() && ms >= 0.0 => ms,
        Some(ms) => {
            return Err(invalid(
                pointer,
                format!("`durationMs` must be finite and not negative, found {ms}"),
            ));
        }
        None => {
            return Err(invalid(
                pointer,
                "a successful sample needs a number `durationMs`",
            ));
        }
    };
    let optional = |key: &str| {
        object
            .get(key)
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite())
    };
    // A REPORT that cannot be read fails the sample, visibly, rather than mixing the host's
    // job time into a row of Lambda's durations.
    let report = match object.get("report") {
        None | Some(Value::Null) => None,
        Some(line) => match crate::lambda_report::parse(&text(line)) {
            Ok(report) => Some(report),
            Err(cause) => {
                return Ok(Sample {
                    architecture,
                    memory_mb,
                    threads,
                    outcome: Outcome::Failed {
                        error: "Powersweep.UnreadableReport".to_owned(),
                        cause: cause.to_string(),
                    },
                    written_items,
                });
            }
        },
    };
    Ok(Sample {
        architecture,
        memory_mb,
        threads,
        outcome: Outcome::Ok(Measurement {
            duration_ms,
            cpu_ms: optional("cpuMs"),
            cold: object.get("cold").and_then(Value::as_bool).unwrap_or(false),
            init_ms: optional("initMs"),
            max_rss_mb: optional("maxRssMb"),
            vcpus: object
                .get("vcpus")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok()),
            report,
            allowed_error,
        }),
        written_items,
    })
}

/// Whether every error of the host's list is named (`Job.<kind>`) in `allowed`; a bare
/// count names none.
fn every_error_allowed(errors: Option<&Value>, allowed: &[String]) -> bool {
    let Some(Value::Array(list)) = errors else {
        return false;
    };
    !allowed.is_empty()
        && list.iter().all(|e| {
            let kind = e.get("kind").map(text).unwrap_or_default();
            allowed.contains(&format!("Job.{kind}"))
        })
}

/// `errors` is the host's list of `{task, kind, message}`, or (from a slimmer state
/// machine) just its length. Empty, zero or absent means the job succeeded.
fn job_failure(errors: Option<&Value>, pointer: &str) -> Result<Option<Outcome>, Error> {
    match errors {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(count)) => match count.as_u64() {
            Some(0) => Ok(None),
            Some(n) => Ok(Some(Outcome::Failed {
                error: "Job.TaskFailed".to_owned(),
                cause: format!("{n} task(s) of the job failed"),
            })),
            None => Err(invalid(
                pointer,
                format!("`errors` must be a list or a count, found {count}"),
            )),
        },
        Some(Value::Array(list)) => {
            let Some(first) = list.first() else {
                return Ok(None);
            };
            let kind = first
                .get("kind")
                .map(text)
                .unwrap_or_else(|| "unknown".to_owned());
            // `task` is null for a failure of the job as a whole (planning, a bad event).
            let whom = match first.get("task") {
                None | Some(Value::Null) => "job".to_owned(),
                Some(task) => format!("task {}", text(task)),
            };
            let message = first.get("message").map(text).unwrap_or_default();
            let more = match list.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            Ok(Some(Outcome::Failed {
                error: format!("Job.{kind}"),
                cause: format!("{whom}: {message}{more}"),
            }))
        }
        Some(other) => Err(invalid(
            pointer,
            format!("`errors` must be a list or a count, found {other}"),
        )),
    }
}

fn positive_u32(object: &Map<String, Value>, key: &str, pointer: &str) -> Result<u32, Error> {
    let value = object
        .get(key)
        .ok_or_else(|| invalid(pointer, format!("missing `{key}`")))?;
    // Accept 1024.0 as well as 1024: JSON from other tools does not always keep integers.
    let number = value
        .as_u64()
        .or_else(|| {
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
                .map(|f| f as u64)
        })
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            invalid(
                pointer,
                format!("`{key}` must be a positive integer, found {value}"),
            )
        })?;
    Ok(number)
}

/// The state machine passes the whole catch object `{"Error", "Cause"?}` as `cause`
/// (a path to an absent `Cause` would fail the execution); take `Cause` out of it.
fn cause_text(value: &Value) -> String {
    match value.get("Cause") {
        Some(cause) => text(cause),
        None if value.get("Error").is_some() => String::new(),
        None => text(value),
    }
}

/// A string as itself, anything else as its JSON text (a Cause may arrive as an object).
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_arrays_of_any_depth_are_flattened_in_order() {
        let samples = json!([
            [[{"memoryMb": 512, "threads": 1, "durationMs": 10.0, "errors": []}]],
            [{"memoryMb": 512, "threads": 2, "durationMs": 5.0}],
            null,
            {"memoryMb": 1024, "threads": 1, "error": "Runtime.OutOfMemory", "cause": "{\"errorType\":\"Runtime.OutOfMemory\"}"}
        ]);
        let parsed = parse_samples(&samples).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!((parsed[0].memory_mb, parsed[0].threads), (512, 1));
        assert_eq!((parsed[1].memory_mb, parsed[1].threads), (512, 2));
        assert_eq!(
            parsed[2].outcome,
            Outcome::Failed {
                error: "Runtime.OutOfMemory".into(),
                cause: "{\"errorType\":\"Runtime.OutOfMemory\"}".into()
            }
        );
    }

    #[test]
    fn cause_may_be_the_whole_catch_object() {
        let samples = json!([
            {"memoryMb": 128, "threads": 1, "error": "Sandbox.Timedout",
             "cause": {"Error": "Sandbox.Timedout", "Cause": "{\"errorMessage\":\"timed out\"}"}},
            {"memoryMb": 128, "threads": 1, "error": "States.Timeout", "cause": {"Error": "States.Timeout"}},
            {"memoryMb": 128, "threads": 1, "error": "X", "cause": {"other": 1}}
        ]);
        let causes: Vec<String> = parse_samples(&samples)
            .unwrap()
            .into_iter()
            .map(|s| match s.outcome {
                Outcome::Failed { cause, .. } => cause,
                Outcome::Ok(_) => panic!("expected a failure"),
            })
            .collect();
        assert_eq!(
            causes,
            ["{\"errorMessage\":\"timed out\"}", "", "{\"other\":1}"]
        );
    }

    #[test]
    fn an_allowed_job_error_is_a_measurement_and_another_is_not() {
        let samples = json!([
            {"memoryMb": 128, "threads": 1, "durationMs": 3.0,
             "errors": [{"task": 0, "kind": "guest", "message": "expected"}]},
            {"memoryMb": 128, "threads": 1, "durationMs": 4.0,
             "errors": [{"task": 0, "kind": "trap", "message": "unreachable"}]},
            {"memoryMb": 128, "threads": 1, "error": "Job.guest", "cause": "no duration"},
            {"memoryMb": 128, "threads": 2, "durationMs": 5.0,
             "errors": [{"task": 0, "kind": "guest", "message": "expected"},
                        {"task": 1, "kind": "trap", "message": "not allowed"}]}
        ]);
        let allowed = ["Job.guest".to_owned()];
        let parsed = parse_samples_allowing(&samples, &allowed).unwrap();
        match &parsed[0].outcome {
            Outcome::Ok(m) => {
                assert_eq!(m.duration_ms, 3.0);
                assert_eq!(m.allowed_error.as_deref(), Some("Job.guest"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&parsed[1].outcome, Outcome::Failed { error, .. } if error == "Job.trap"));
        assert!(
            matches!(&parsed[2].outcome, Outcome::Failed { error, .. } if error == "Job.guest")
        );
        // One error that is not allowed fails the sample, whichever comes first.
        assert!(matches!(&parsed[3].outcome, Outcome::Failed { .. }));
        // Without the list, the same samples all fail.
        let strict = parse_samples(&samples).unwrap();
        assert!(
            strict
                .iter()
                .all(|s| matches!(s.outcome, Outcome::Failed { .. }))
        );
    }

    #[test]
    fn host_error_list_makes_a_failed_sample() {
        let samples = json!([{"memoryMb": 128, "threads": 2, "durationMs": 3.0,
            "errors": [{"task": 1, "kind": "trap", "message": "unreachable"},
                       {"task": 2, "kind": "trap", "message": "unreachable"}]}]);
        let parsed = parse_samples(&samples).unwrap();
        assert_eq!(
            parsed[0].outcome,
            Outcome::Failed {
                error: "Job.trap".into(),
                cause: "task 1: unreachable (and 1 more)".into()
            }
        );
    }

    #[test]
    fn job_level_error_has_no_task() {
        let samples = json!([{"memoryMb": 128, "threads": 1, "durationMs": 0.0,
            "errors": [{"task": null, "kind": "plan", "message": "bad payload"}]}]);
        let parsed = parse_samples(&samples).unwrap();
        assert_eq!(
            parsed[0].outcome,
            Outcome::Failed {
                error: "Job.plan".into(),
                cause: "job: bad payload".into()
            }
        );
    }

    #[test]
    fn error_count_makes_a_failed_sample_and_zero_does_not() {
        let samples = json!([
            {"memoryMb": 128, "threads": 1, "durationMs": 3.0, "errors": 2},
            {"memoryMb": 128, "threads": 1, "durationMs": 3.0, "errors": 0}
        ]);
        let parsed = parse_samples(&samples).unwrap();
        assert!(matches!(parsed[0].outcome, Outcome::Failed { .. }));
        assert!(matches!(parsed[1].outcome, Outcome::Ok(_)));
    }

    #[test]
    fn bad_samples_name_their_pointer() {
        macro_rules! rejects {
            ($samples:expr, $at:expr, $needle:expr) => {
                match parse_samples(&$samples) {
                    Err(Error::InvalidSample { at, reason }) => {
                        assert_eq!(at, $at);
                        assert!(reason.contains($needle), "{reason}");
                    }
                    other => panic!("expected InvalidSample, got {other:?}"),
                }
            };
        }
        rejects!(
            json!([[{"threads": 1, "durationMs": 1.0}]]),
            "/0/0",
            "memoryMb"
        );
        rejects!(
            json!([{"memoryMb": 0, "threads": 1, "durationMs": 1.0}]),
            "/0",
            "positive"
        );
        rejects!(json!([{"memoryMb": 128, "threads": 1}]), "/0", "durationMs");
        rejects!(
            json!([{"memoryMb": 128, "threads": 1, "durationMs": -1.0}]),
            "/0",
            "negative"
        );
        rejects!(json!([1, 2]), "/0", "expected an array");
        rejects!(json!("x"), "/", "expected an array");
        rejects!(
            json!([{"memoryMb": 128, "threads": 1, "durationMs": 1.0, "errors": "x"}]),
            "/0",
            "errors"
        );
    }

    #[test]
    fn input_defaults_follow_the_documented_schema() {
        let input: AnalyzerInput = serde_json::from_value(json!({"samples": []})).unwrap();
        assert_eq!(input.strategy, Strategy::Balanced);
        assert_eq!(input.balanced_weight, 0.5);
        assert_eq!(input.discard_top_bottom, 0.2);
        assert_eq!(input.architecture, Architecture::X86_64);
        assert_eq!(input.region, None);
    }
}
