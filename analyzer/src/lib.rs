//! powersweep's analyzer: turns the samples of a sweep into statistics, costs, a
//! recommendation per strategy, a lambda-power-tuning.show link, and the results files.
//!
//! It owns the arithmetic and the rendering; it must not invoke anything, read the clock
//! or touch AWS: the state machine (through the `analyzer` Lambda binary) and the CLI
//! both hand it data and take the [`AnalyzerOutput`] back.
//!
//! The core types:
//! - [`AnalyzerInput`]: what the state machine passes (schema below); its `samples` are
//!   parsed into [`Sample`]s by [`parse_samples`].
//! - [`analyze`]: input in, [`AnalyzerOutput`] out: one [`Row`] per (memory, threads),
//!   [`Recommendations`] per [`Strategy`], and the visualization URL.
//! - [`write_results_files`]: writes `results.json`, `results.csv` and a self-contained
//!   `report.html` for an [`AnalyzerOutput`].
//!
//! # Input schema (camelCase JSON)
//! ```text
//! {
//!   "workload": "pbkdf2",               // label only
//!   "memorySizes": [512, 1024],         // optional: every (memory, threads) pair listed
//!   "threads": [1, 2],                  //   here gets a row, even one without samples
//!   "repetitions": 3,                   // optional, informational
//!   "strategy": "cost" | "speed" | "balanced",          // default "balanced"
//!   "balancedWeight": 0.5,              // 0 = fastest … 1 = cheapest; default 0.5
//!   "discardTopBottom": 0.2,            // fraction dropped at each end; [0, 0.5)
//!   "architecture": "x86_64" | "arm64", // prices (the function's own); default "x86_64"
//!   "region": "us-east-1",              // prices; unknown regions fall back to us-east-1
//!   "allowedExceptions": ["Job.guest"], // job errors that count as measurements
//!   "includeSamples": false,            // copy every sample into the output's `samples`
//!   "autoOptimize": false,              // write `optimizeTo` for the state machine
//!   "samples": [ … ]                    // samples, nested in arrays to any depth
//! }
//! ```
//!
//! The same Lambda answers the state machine's `Plan` step, `{"plan": <settings>}`, with the
//! sweep's layout ([`plan`], [`event::answer`]).
//! A sample is one of
//! - a measurement: `{"memoryMb", "threads", "durationMs", "cpuMs"?, "cold"?, "initMs"?,
//!   "maxRssMb"?, "vcpus"?, "errors"?, "report"?}`, where `errors` is the host's error list
//!   (or a count; a non-empty list makes the sample a failure) and `report` Lambda's REPORT
//!   line for the invocation (text or JSON log format, see [`lambda_report`]). A row whose
//!   every success has a `report` takes durations and billing from Lambda's figures, with
//!   the host's job time beside them; a `report` that cannot be read fails its sample
//!   (`Powersweep.UnreadableReport`);
//! - a failed invocation: `{"memoryMb", "threads", "error", "cause"?}` (a States error
//!   caught by the state machine: `Sandbox.Timedout`, `Runtime.OutOfMemory`, …); `cause`
//!   is a string or the whole catch object `{"Error", "Cause"?}`, whose `Cause` is used.
//!
//! Nesting is free because Step Functions has no flatten: a Map of Maps of Maps yields
//! arrays of arrays of arrays, and the analyzer accepts that shape as is.
//!
//! # Example
//! ```
//! use powersweep_analyzer::{analyze, AnalyzerInput, Strategy};
//!
//! let input: AnalyzerInput = serde_json::from_value(serde_json::json!({
//!     "workload": "pbkdf2",
//!     "strategy": "speed",
//!     "samples": [[
//!         [{"memoryMb": 1024, "threads": 1, "durationMs": 200.0, "errors": []}],
//!         [{"memoryMb": 1024, "threads": 2, "durationMs": 120.0, "errors": []}],
//!     ]],
//! }))?;
//! let output = analyze(&input)?;
//! assert_eq!(output.rows.len(), 2);
//! let fastest = output.recommendation.speed.as_ref().expect("two good rows");
//! assert_eq!((fastest.memory_mb, fastest.threads), (1024, 2));
//! assert_eq!(output.recommendation.strategy, Strategy::Speed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub use crate::analyze::analyze;
pub use crate::error::Error;
pub use crate::input::{
    AnalyzerInput, Measurement, Outcome, Sample, parse_samples, parse_samples_allowing,
};
pub use crate::lambda_report::{LambdaReport, LambdaReportError};
pub use crate::output::{
    AnalyzerOutput, AutoOptimized, DurationSource, LocalRun, ModelRun, OptimizeTo, PricingInfo,
    Recommendation, Recommendations, Row, RowModel, SampleRecord,
};
pub use crate::plan::{PlanInput, Slot, SweepLayout, plan};
pub use crate::power_tuning_link::{
    DecodedPowerTuningLink, DecodedSeries, PowerTuningLinkError, Series, decode_url, encode_url,
};
pub use crate::pricing::{Architecture, Pricing};
pub use crate::recommend::{Strategy, TIE_FRACTION};
pub use crate::results_files::{RESULTS_FILES, ResultsFilesError, write_results_files};

mod analyze;
mod error;
pub mod event;
mod input;
pub mod lambda_report;
pub mod map_run;
mod output;
pub mod plan;
mod power_tuning_link;
mod pricing;
mod recommend;
mod results_files;
pub mod safe_text;
mod stats;
