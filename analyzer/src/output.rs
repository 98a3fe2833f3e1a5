//! The analyzer's output, `results.json`: [`AnalyzerOutput`] and its parts. It owns the
//! shape and spelling of the file (camelCase, `null` for what could not be measured);
//! it must not compute anything, so the CLI can read a file back without the samples.

use serde::{Deserialize, Serialize};

use crate::{Architecture, Strategy};

/// Everything a sweep's report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyzerOutput {
    /// The workload's name.
    pub workload: String,
    /// The architecture prices were taken for (the first function's with several).
    pub architecture: Architecture,
    /// With several functions, their architectures in the state machine's order (each row
    /// says its own; `pricing` is the first's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<Architecture>,
    /// Which prices were used.
    pub pricing: PricingInfo,
    /// Fraction dropped at each end for the trimmed mean.
    pub discard_top_bottom: f64,
    /// One row per (memory, threads), by memory then threads.
    pub rows: Vec<Row>,
    /// The best configuration per strategy, and which one the user chose.
    pub recommendation: Recommendations,
    /// A lambda-power-tuning.show comparison URL (1 thread against the largest thread
    /// count), or `None` when no thread count has a successful row.
    pub visualization: Option<String>,
    /// How a local sweep emulated Lambda; `None` for a sweep on AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalRun>,
    /// Every invocation, in the order the samples came (asked for with `includeSamples`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<Vec<SampleRecord>>,
    /// With `autoOptimize`: what the state machine applies to the function (the chosen
    /// strategy's recommendation); absent when nothing qualified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimize_to: Option<OptimizeTo>,
    /// Written by the state machine after `autoOptimize`: what it applied, or why it could
    /// not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_optimized: Option<AutoOptimized>,
}

impl AnalyzerOutput {
    /// Jobs of a local `model` sweep answered from an earlier identical run (0 elsewhere).
    pub fn reused_jobs(&self) -> usize {
        self.rows
            .iter()
            .filter_map(|r| r.modeled.as_ref())
            .map(|m| m.reused)
            .sum()
    }

    /// The anchor behind a row's durations in a local `model` sweep: what a Lambda vCPU of
    /// its architecture is in this machine's terms.
    pub fn anchor_of(&self, row: &Row) -> Option<&powersweep_model::anchor::Anchor> {
        self.local
            .as_ref()?
            .model
            .as_ref()?
            .anchor(self.architecture_of(row))
    }

    /// A row's architecture: its own, else the output's (older results).
    pub fn architecture_of(&self, row: &Row) -> Architecture {
        row.architecture.unwrap_or(self.architecture)
    }

    /// Whether the rows span more than one architecture: then every place that names a row
    /// names its architecture too.
    pub fn several_architectures(&self) -> bool {
        self.architectures.len() > 1
    }
}

/// One invocation as the analyzer read it (`includeSamples`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SampleRecord {
    /// Memory size, MB.
    pub memory_mb: u32,
    /// Thread count.
    pub threads: u32,
    /// The duration the row's statistics use (Lambda's REPORT, else the job time), ms.
    pub duration_ms: Option<f64>,
    /// Lambda's Billed Duration, when a REPORT came with the sample.
    pub billed_duration_ms: Option<u64>,
    /// Whether the invocation was a cold start.
    pub cold: Option<bool>,
    /// Init Duration of a cold start, ms.
    pub init_ms: Option<f64>,
    /// The error of a failed invocation, or an allowed one.
    pub error: Option<String>,
    /// What the failure said.
    pub cause: Option<String>,
    /// Items the job wrote to DynamoDB, failed or not, when its host answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_items: Option<u64>,
}

impl Recommendation {
    /// Whether this recommends `row`; a missing architecture (older results) is `default`.
    pub fn is_for(&self, row: &Row, default: Architecture) -> bool {
        (
            self.architecture.unwrap_or(default),
            self.memory_mb,
            self.threads,
        ) == (
            row.architecture.unwrap_or(default),
            row.memory_mb,
            row.threads,
        )
    }

    /// The configuration's name: `3008 MB × 2 threads`, with the architecture first when
    /// the sweep had several.
    pub fn config(&self, several: bool) -> String {
        config_name(
            self.architecture.filter(|_| several),
            self.memory_mb,
            self.threads,
        )
    }
}

/// A configuration's name: `[arm64 ]3008 MB × 2 thread[s]`.
pub fn config_name(architecture: Option<Architecture>, memory_mb: u32, threads: u32) -> String {
    format!(
        "{}{memory_mb} MB × {threads} thread{}",
        architecture.map(|a| format!("{a} ")).unwrap_or_default(),
        if threads == 1 { "" } else { "s" }
    )
}

/// What `autoOptimize` applies: the memory size, and the thread count as the host's
/// environment variable (merged into the function's own variables by the state machine).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptimizeTo {
    /// Which function: an index into the state machine's list of functions (0 with one).
    #[serde(default)]
    pub function: usize,
    /// Its architecture, with several functions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// Memory size, MB.
    pub memory_mb: u32,
    /// Thread count.
    pub threads: u32,
    /// `{"POWERSWEEP_THREADS": "<threads>"}`.
    pub variables: std::collections::BTreeMap<String, String>,
}

/// What the state machine's `autoOptimize` steps did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoOptimized {
    /// The memory size the function now has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u32>,
    /// The default thread count it now has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
    /// The version published with it (with an alias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The alias pointed at that version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Why optimizing failed (the sweep's results stand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the failure said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// The emulation behind a local sweep's figures, so a results file says how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalRun {
    /// How CPU was capped, e.g. `cgroup v1` or `in-process`.
    pub cpu_mode: String,
    /// MB of memory per vCPU.
    pub vcpu_mb: f64,
    /// Cores of the machine: shares above this are capped (not in the `model` mode).
    pub host_cores: u32,
    /// In the `model` mode: how durations were computed from measured work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelRun>,
}

/// How a `model`-mode sweep turned measured work into Lambda durations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelRun {
    /// This machine's speed for the workload.
    pub calibration: powersweep_model::Calibration,
    /// The I/O latency model, in one line.
    pub latency: String,
    /// What a Lambda vCPU of each architecture swept is in this machine's terms, and how that
    /// was found (empty in results of versions before the anchor: a vCPU was a core here).
    #[serde(default)]
    pub anchors: Vec<powersweep_model::anchor::Anchor>,
    /// The CFS period the share was enforced over, ms (0: a fluid share, as in results of
    /// versions before the period).
    #[serde(default)]
    pub cfs_period_ms: f64,
}

impl ModelRun {
    /// The anchor of `architecture`, if it was swept.
    pub fn anchor(&self, architecture: Architecture) -> Option<&powersweep_model::anchor::Anchor> {
        self.anchors.iter().find(|a| a.architecture == architecture)
    }

    /// How the share was enforced, for people.
    pub fn describe_period(&self) -> String {
        if self.cfs_period_ms > 0.0 {
            format!(
                "the share is a quota per {} ms CFS period",
                self.cfs_period_ms
            )
        } else {
            "the share is a fluid (no CFS period)".into()
        }
    }

    /// What a Lambda vCPU is here, one line per architecture swept, then how the share was
    /// enforced ("a Lambda vCPU = 1x a core here" for results that predate anchors).
    pub fn cpu_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.anchors.iter().map(|a| a.describe()).collect();
        if lines.is_empty() {
            lines.push("a Lambda vCPU = 1x a core here (results from before anchors)".into());
        }
        lines.push(self.describe_period());
        lines
    }
}

/// What the model derived for one configuration, means over its successful samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RowModel {
    /// CPU work of a job at one vCPU, ms.
    pub work_ms: f64,
    /// Time a job's threads waited in host calls (summed over threads), ms.
    pub io_wait_ms: f64,
    /// One-thread duration ÷ (threads × this duration).
    pub parallel_efficiency: f64,
    /// What the job really took here, uncapped and metered, ms: the mean of the jobs that
    /// ran (`None` when every one was answered from an earlier run).
    pub measured_ms: Option<f64>,
    /// Jobs answered from an earlier identical run instead of running (work reuse).
    #[serde(default)]
    pub reused: usize,
}

/// The prices behind the costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PricingInfo {
    /// The region asked for.
    pub region: String,
    /// The region whose prices were used.
    pub price_region: String,
    /// USD per GB-second (the first function's architecture).
    pub gb_second_usd: f64,
    /// USD per request.
    pub request_usd: f64,
    /// Set when prices of another region stood in.
    pub note: Option<String>,
    /// With several functions: USD per GB-second of each architecture, as the rows were
    /// priced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_architecture: Vec<ArchitecturePrice>,
}

/// What one architecture's GB-second cost in a sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchitecturePrice {
    /// The architecture.
    pub architecture: Architecture,
    /// USD per GB-second.
    pub gb_second_usd: f64,
}

impl PricingInfo {
    /// The GB-second prices for people: `x86_64 $a, arm64 $b` with several architectures,
    /// else `$a`.
    pub fn describe_gb_second(&self) -> String {
        if self.by_architecture.is_empty() {
            return format!("${}", self.gb_second_usd);
        }
        let prices: Vec<String> = self
            .by_architecture
            .iter()
            .map(|p| format!("{} ${}", p.architecture, p.gb_second_usd))
            .collect();
        prices.join(", ")
    }
}

/// Statistics and cost of one configuration.
///
/// An *error row* is one whose every sample failed: its statistics and costs are `None`
/// (JSON `null`) and `error`/`cause` tell the first failure. A row with some failures
/// keeps its statistics (over the successes) and also names the first failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// The function's architecture (absent in results of versions before several could be
    /// swept: then the output's `architecture`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// Memory size, MB.
    pub memory_mb: u32,
    /// Thread count.
    pub threads: u32,
    /// Samples, failed ones included.
    pub n: u32,
    /// Failed samples.
    pub errors: u32,
    /// Samples whose job failed with an allowed exception, counted as measurements.
    #[serde(default)]
    pub allowed_errors: u32,
    /// Successful samples that were cold starts.
    pub cold_starts: u32,
    /// Mean duration, ms.
    pub mean_ms: Option<f64>,
    /// Trimmed mean duration, ms: what costs and recommendations use.
    pub trimmed_mean_ms: Option<f64>,
    /// Median duration, ms.
    pub p50_ms: Option<f64>,
    /// 90th percentile, ms.
    pub p90_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// Fastest sample, ms.
    pub min_ms: Option<f64>,
    /// Slowest sample, ms.
    pub max_ms: Option<f64>,
    /// Sample standard deviation of the durations, ms (`None` below two successes).
    #[serde(default)]
    pub std_dev_ms: Option<f64>,
    /// Mean CPU time, ms, when the host reported it.
    pub mean_cpu_ms: Option<f64>,
    /// Where the duration statistics come from: Lambda's REPORT or the host's job time.
    #[serde(default)]
    pub duration_source: DurationSource,
    /// The host's own job time (plan and tasks), mean, ms: beside Lambda's Duration, it
    /// shows what the runtime around the job costs.
    #[serde(default)]
    pub mean_job_ms: Option<f64>,
    /// Mean INIT of the cold starts, ms: Lambda's Init Duration, else the host's own init.
    #[serde(default)]
    pub mean_init_ms: Option<f64>,
    /// What INIT adds to a cold start's bill, USD (the mean Init Duration, rounded up to
    /// 1 ms, at this memory size's price): the row's cost per invocation is the warm one.
    #[serde(default)]
    pub init_cost_usd: Option<f64>,
    /// The most memory any invocation used, MB: Lambda's Max Memory Used, else the host's
    /// peak resident memory.
    #[serde(default)]
    pub max_memory_used_mb: Option<u64>,
    /// Cores the function saw (`nproc`: Lambda shows 2 up to 3,008 MB, then more).
    #[serde(default)]
    pub vcpus: Option<u32>,
    /// Billed ms of an average invocation, rounded for display (costs use the unrounded
    /// figure): the trimmed mean of Lambda's Billed Durations, or the trimmed mean duration
    /// rounded up to 1 ms (see `duration_source`).
    pub billed_ms: Option<u64>,
    /// Cost of one invocation, USD, request charge included.
    pub cost_per_invocation_usd: Option<f64>,
    /// Cost of a million invocations, USD.
    pub cost_per_million_usd: Option<f64>,
    /// Trimmed mean at 1 thread (same memory) divided by this row's.
    pub speedup_vs_one_thread: Option<f64>,
    /// Items the row's invocations wrote to DynamoDB, as their hosts answered, failed
    /// invocations included.
    #[serde(default)]
    pub written_items: u64,
    /// Of those, what failed invocations had written before they failed: the table holds
    /// them too.
    #[serde(default)]
    pub written_by_failed: u64,
    /// Failed invocations that ended without the host's answer (a timeout, a crash): what
    /// they had written is not known.
    #[serde(default)]
    pub failed_unanswered: u32,
    /// First failure's error name, when any sample failed.
    pub error: Option<String>,
    /// First failure's cause.
    pub cause: Option<String>,
    /// Set by a local sweep when this memory size asks for more vCPUs than the machine has
    /// cores: the vCPUs the row really got. Its durations are slower than Lambda's would be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capped_vcpus: Option<f64>,
    /// Set by a `model`-mode local sweep: what the model derived for this configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modeled: Option<RowModel>,
}

/// What a row's durations are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DurationSource {
    /// Lambda's REPORT `Duration`; billing from its `Billed Duration` (of a cold start, its
    /// Duration: what INIT adds is the row's `init_cost_usd`).
    LambdaReport,
    /// The host's job time (no REPORT reached the analyzer); billing rounds it up to 1 ms.
    #[default]
    Job,
}

impl DurationSource {
    /// How the table and report name it.
    pub fn describe(self) -> &'static str {
        match self {
            DurationSource::LambdaReport => {
                "Lambda's REPORT Duration; cost per invocation from the Billed Duration of warm invocations (INIT, billed on cold starts, is the init cost apart)"
            }
            DurationSource::Job => "the host's job time, billed rounded up to 1 ms",
        }
    }
}

impl Row {
    /// Whether no sample of this configuration succeeded.
    pub fn is_error(&self) -> bool {
        self.trimmed_mean_ms.is_none()
    }
}

/// The recommended configuration for each strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendations {
    /// The strategy the user chose.
    pub strategy: Strategy,
    /// The weight used for [`Strategy::Balanced`].
    pub balanced_weight: f64,
    /// Cheapest per invocation (ties: faster).
    pub cost: Option<Recommendation>,
    /// Fastest trimmed mean (ties: cheaper).
    pub speed: Option<Recommendation>,
    /// Lowest `w × cost / max cost + (1 − w) × time / max time`.
    pub balanced: Option<Recommendation>,
}

impl Recommendations {
    /// The recommendation of the strategy the user chose, if any row qualified.
    pub fn chosen(&self) -> Option<&Recommendation> {
        self.for_strategy(self.strategy)
    }

    /// The recommendation of `strategy`.
    pub fn for_strategy(&self, strategy: Strategy) -> Option<&Recommendation> {
        match strategy {
            Strategy::Cost => self.cost.as_ref(),
            Strategy::Speed => self.speed.as_ref(),
            Strategy::Balanced => self.balanced.as_ref(),
        }
    }
}

/// One recommended configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    /// The function's architecture (absent in results of versions that swept one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    /// Memory size, MB.
    pub memory_mb: u32,
    /// Thread count.
    pub threads: u32,
    /// Why, in one sentence with the figures.
    pub reason: String,
}
