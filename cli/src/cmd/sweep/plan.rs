//! The validated sweep ([`Plan`]): presets, every check made before anything starts, the
//! layout the state machine's `Plan` step will make, the size and cost of one execution, and
//! the state machine's input. Must not start anything.

use super::{Args, local_concurrency};
use crate::estimate::{Optimize, Shape};
use crate::input::json_arg;
use anyhow::{Context, Result, bail};
use powersweep_analyzer::{Architecture, PlanInput, Pricing, Strategy, SweepLayout};
use powersweep_asl::HISTORY_EVENTS_QUOTA;
use powersweep_emulator::DEFAULT_VCPU_MB;
use serde_json::{Value, json};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
pub(super) enum Preset {
    /// PBKDF2-HMAC-SHA512 of 4 passwords, 1,000,000 iterations; 512–3008 MB; 1 and 2 threads; 5 repetitions; 1792 MB per vCPU.
    #[value(name = "pbkdf2-2019")]
    Pbkdf2_2019,
    /// 100 single DynamoDB writes; 512–3008 MB; 1 and 2 threads; 5 repetitions; 1792 MB per vCPU.
    #[value(name = "dynamodb-2019")]
    Dynamodb2019,
    /// AWS's multithread Rust sample: 20 bcrypt hashes at cost 10; 1536–10240 MB; 1–6 threads; x86_64 and arm64; 3 repetitions.
    #[value(name = "bcrypt-aws")]
    BcryptAws,
}

impl Preset {
    /// The name on the command line.
    fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}

/// A validated sweep: everything checked before the first invocation.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) workload: String,
    pub(super) payload: Value,
    pub(super) memory: Vec<u32>,
    pub(super) threads: Vec<usize>,
    pub(super) repetitions: u32,
    pub(super) strategy: Strategy,
    pub(super) balanced_weight: f64,
    pub(super) discard_top_bottom: f64,
    pub(super) vcpu_mb: f64,
    /// One host function each, in this order.
    pub(super) architectures: Vec<Architecture>,
    /// Whether `--architecture` was given (on AWS, without it the state machine sweeps its
    /// default function, or `--function-name`).
    pub(super) architectures_given: bool,
    /// A sweep on this machine (its functions are the emulated ones of `architectures`).
    pub(super) local: bool,
    pub(super) max_concurrency: u32,
    pub(super) options: Options,
    /// What the state machine's `Plan` step will lay out (the same function, run here first).
    pub(super) layout: SweepLayout,
}

/// power-tuning's execution options, as the state machine's input names them.
#[derive(Debug, Clone, Default)]
pub(super) struct Options {
    pub(super) dry_run: bool,
    pub(super) only_cold_starts: bool,
    pub(super) sleep_between_runs_ms: Option<f64>,
    pub(super) allowed_exceptions: Vec<String>,
    pub(super) auto_optimize: bool,
    pub(super) auto_optimize_alias: Option<String>,
    pub(super) include_samples: bool,
}

/// The 2019 memory sizes (Lambda's maximum was 3,008 MB then).
const MEMORY_2019: [u32; 5] = [512, 1024, 1792, 2368, 3008];
/// The sizes of AWS's multithread Rust sample (`powersweep_model::anchor::BCRYPT_SAMPLE`).
const MEMORY_BCRYPT_AWS: [u32; 6] = [1536, 2048, 4096, 6144, 8192, 10240];
/// The demo: the same curve around today's 1,769 MB per vCPU.
const MEMORY_DEMO: [u32; 5] = [512, 1024, 1769, 2368, 3008];
/// Iterations of the demo: ~0.25 s per password at one vCPU here, so ~2 minutes in all.
const DEMO_ITERATIONS: u64 = 250_000;
/// The demo's passwords: one task each. Eight small tasks rather than four large ones, so
/// that two threads pulling from the work queue finish together: with four, a thread whose
/// core is briefly slower leaves the other running alone at the end, and 2 threads at
/// 3,008 MB used ~1.5 of their 1.7 vCPUs instead of ~1.68.
const DEMO_PASSWORDS: [&str; 8] = [
    "demo-1", "demo-2", "demo-3", "demo-4", "demo-5", "demo-6", "demo-7", "demo-8",
];

impl Plan {
    pub(super) fn from_args(args: &Args, local: bool) -> Result<Self> {
        let mut plan = match (args.preset, &args.workload) {
            (Some(Preset::Pbkdf2_2019), _) => {
                Plan::base("pbkdf2", json!({}), &MEMORY_2019, 5, 1792.0)
            }
            (Some(Preset::Dynamodb2019), _) => {
                let table = args
                    .allow_table
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "powersweep-items".into());
                Plan::base(
                    "ddb-writer",
                    json!({"table": table, "items": 100, "mode": "single"}),
                    &MEMORY_2019,
                    5,
                    1792.0,
                )
            }
            (Some(Preset::BcryptAws), _) => {
                let mut plan = Plan::base(
                    "bcrypt",
                    json!({"count": 20, "cost": 10}),
                    &MEMORY_BCRYPT_AWS,
                    3,
                    DEFAULT_VCPU_MB,
                );
                plan.threads = (1..=6).collect();
                plan.architectures = vec![Architecture::X86_64, Architecture::Arm64];
                plan.architectures_given = true;
                plan
            }
            (None, Some(workload)) => {
                Plan::base(workload, json!({}), &MEMORY_DEMO, 3, DEFAULT_VCPU_MB)
            }
            (None, None) => Plan::base(
                "pbkdf2",
                json!({"iterations": DEMO_ITERATIONS, "passwords": DEMO_PASSWORDS}),
                &MEMORY_DEMO,
                3,
                DEFAULT_VCPU_MB,
            ),
        };
        if let Some(w) = &args.workload {
            if let Some(preset) = args.preset
                && *w != plan.workload
                && args.payload.is_none()
            {
                bail!(
                    "--preset {} has a payload for `{}`, not for `{w}`: give --payload for `{w}` too",
                    preset.name(),
                    plan.workload
                );
            }
            plan.workload = w.clone();
        }
        if let Some(p) = &args.payload {
            plan.payload = json_arg("--payload", p, powersweep_emulator::MAX_REQUEST_BYTES)?;
            if plan.payload.is_null() {
                bail!("--payload null: give a JSON object, or {{}} for the workload's defaults");
            }
        }
        if let Some(m) = &args.memory {
            plan.memory = m.clone();
        }
        if let Some(t) = &args.threads {
            plan.threads = t.clone();
        }
        plan.repetitions = args.repetitions.unwrap_or(plan.repetitions);
        plan.strategy = args.strategy.unwrap_or(plan.strategy);
        plan.balanced_weight = args.balanced_weight.unwrap_or(plan.balanced_weight);
        plan.discard_top_bottom = args.discard_top_bottom.unwrap_or(plan.discard_top_bottom);
        plan.vcpu_mb = args.vcpu_mb.unwrap_or(plan.vcpu_mb);
        plan.local = local;
        if let Some(architectures) = &args.architecture {
            plan.architectures = architectures.clone();
            plan.architectures_given = true;
        }
        if plan.architectures_given && args.function_name.is_some() {
            bail!(
                "--function-name sweeps that one function, whose architecture is its own: leave --architecture{} out (it names the stack's host function of each architecture)",
                if args.preset.is_some() {
                    " and --preset"
                } else {
                    ""
                }
            );
        }
        if args.probe && (args.auto_optimize || args.cross_check) {
            bail!(
                "--probe invokes each configuration once and analyzes nothing: there is nothing for --auto-optimize or --cross-check to use"
            );
        }
        plan.options = Options {
            dry_run: args.probe,
            only_cold_starts: args.only_cold_starts,
            sleep_between_runs_ms: args.sleep_between_runs_ms,
            allowed_exceptions: args.allowed_exceptions.clone(),
            auto_optimize: args.auto_optimize,
            auto_optimize_alias: args.auto_optimize_alias.clone(),
            include_samples: args.include_samples,
        };
        plan.max_concurrency = args.max_concurrency.unwrap_or(if local {
            local_concurrency(
                args.cpu_mode,
                args.model.io_latency == "measured",
                plan.memory.len(),
            )
        } else {
            plan.memory.len() as u32
        });
        plan.validate()?;
        plan.layout = plan.lay_out()?;
        plan.check_quotas(local && args.lift_quotas)?;
        Ok(plan)
    }

    pub(super) fn base(
        workload: &str,
        payload: Value,
        memory: &[u32],
        repetitions: u32,
        vcpu_mb: f64,
    ) -> Self {
        Plan {
            workload: workload.into(),
            payload,
            memory: memory.to_vec(),
            threads: vec![1, 2],
            repetitions,
            strategy: Strategy::Balanced,
            balanced_weight: 0.5,
            discard_top_bottom: 0.2,
            vcpu_mb,
            architectures: vec![Architecture::X86_64],
            architectures_given: false,
            local: true,
            max_concurrency: 1,
            options: Options::default(),
            layout: SweepLayout {
                functions: Vec::new(),
                payloads: Vec::new(),
                publish: Vec::new(),
                groups: Vec::new(),
                rounds: Vec::new(),
                sleep_seconds: 0,
                invocations: 0,
                discard_top_bottom: 0.2,
            },
        }
    }

    fn validate(&mut self) -> Result<()> {
        if self.memory.is_empty() || self.threads.is_empty() {
            bail!("give at least one memory size (--memory) and one thread count (--threads)");
        }
        let range = powersweep_emulator::MEMORY_RANGE_MB;
        if let Some(m) = self.memory.iter().find(|m| !range.contains(*m)) {
            bail!(
                "--memory {m} is outside Lambda's {}–{} MB",
                range.start(),
                range.end()
            );
        }
        if let Some(t) = self
            .threads
            .iter()
            .find(|t| !(1..=powersweep_host::MAX_THREADS).contains(*t))
        {
            bail!(
                "--threads {t} is outside 1–{}",
                powersweep_host::MAX_THREADS
            );
        }
        if self.repetitions == 0 {
            bail!("--repetitions must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.balanced_weight) {
            bail!(
                "--balanced-weight must be between 0 and 1, got {}",
                self.balanced_weight
            );
        }
        if !(0.0..0.5).contains(&self.discard_top_bottom) {
            bail!(
                "--discard-top-bottom must be at least 0 and below 0.5, got {}",
                self.discard_top_bottom
            );
        }
        if !(f64::from(*range.start())..=f64::from(*range.end())).contains(&self.vcpu_mb) {
            bail!(
                "--vcpu-mb must be a number of MB between {} and {} (1769 today, 1792 in 2019), got {:?}",
                range.start(),
                range.end(),
                self.vcpu_mb
            );
        }
        if self.max_concurrency == 0 {
            bail!("--max-concurrency must be at least 1");
        }
        self.memory.sort_unstable();
        self.memory.dedup();
        self.threads.sort_unstable();
        self.threads.dedup();
        Ok(())
    }

    /// The layout the state machine's `Plan` step will make, by the same function: a bad
    /// option fails here, named by its flag, before anything starts.
    pub(super) fn lay_out(&self) -> Result<SweepLayout> {
        let mut input = self.input(None);
        // The state machine's defaults name the deployed host function of each architecture;
        // for the layout here any name will do.
        input["hostFunctions"] = self
            .architectures
            .iter()
            .map(|a| (a.as_str().to_string(), json!(format!("{a} host function"))))
            .collect::<serde_json::Map<_, _>>()
            .into();
        if input.get("architectures").is_none() {
            // On AWS without --architecture: the state machine's default function.
            input["functionName"] = json!("the deployed host function");
        }
        let input: PlanInput = serde_json::from_value(input)
            .context("the sweep's settings do not make a plan input")?;
        powersweep_analyzer::plan(&input).map_err(|e| match e {
            powersweep_analyzer::Error::InvalidSetting { field, reason } => {
                anyhow::anyhow!("{}: {reason}", flag_of(field))
            }
            other => anyhow::anyhow!(other),
        })
    }

    /// The size of one execution of this plan.
    pub(super) fn shape(&self) -> Shape {
        let mut shape = Shape::new(
            &self.layout,
            (self.architectures.len() * self.memory.len() * self.threads.len()) as u64,
        );
        shape.dry_run = self.options.dry_run;
        shape.include_samples = self.options.include_samples;
        shape.optimize = match (
            self.options.auto_optimize,
            &self.options.auto_optimize_alias,
        ) {
            (false, _) => Optimize::No,
            (true, None) => Optimize::Latest,
            (true, Some(_)) => Optimize::WithAlias,
        };
        shape.payload_bytes = self.payload.to_string().len() as u64;
        shape
    }

    pub(super) fn invocations(&self) -> u64 {
        self.layout.invocations
    }

    /// Fails when one execution of this plan would pass AWS's quotas (see
    /// [`Shape::check_quotas`]), unless they are lifted.
    pub(super) fn check_quotas(&self, lift_quotas: bool) -> Result<()> {
        if lift_quotas {
            return Ok(());
        }
        self.shape().check_quotas(self.repetitions, |repetitions| {
            let fewer = Plan {
                repetitions,
                ..self.clone()
            };
            fewer
                .lay_out()
                .ok()
                .map(|layout| Plan { layout, ..fewer }.shape())
        })
    }

    /// The state machine's input. `function_name` (AWS only) sweeps that function; locally,
    /// and on AWS with `--architecture`, the architectures name the host functions.
    pub(super) fn input(&self, function_name: Option<&str>) -> Value {
        let mut input = json!({
            "workload": self.workload,
            "payload": self.payload,
            "memorySizes": self.memory,
            "threads": self.threads,
            "repetitions": self.repetitions,
            "strategy": self.strategy.as_str(),
            "balancedWeight": self.balanced_weight,
            "discardTopBottom": self.discard_top_bottom,
            "maxConcurrency": self.max_concurrency,
            "dryRun": self.options.dry_run,
            "onlyColdStarts": self.options.only_cold_starts,
            "sleepBetweenRunsMs": self.options.sleep_between_runs_ms.unwrap_or(0.0),
            "allowedExceptions": self.options.allowed_exceptions,
            "autoOptimize": self.options.auto_optimize,
            "includeSamples": self.options.include_samples,
        });
        if let Some(alias) = &self.options.auto_optimize_alias {
            input["autoOptimizeAlias"] = json!(alias);
        }
        match function_name {
            Some(name) => input["functionName"] = json!(name),
            None if self.local || self.architectures_given => {
                let names: Vec<&str> = self.architectures.iter().map(|a| a.as_str()).collect();
                input["architectures"] = json!(names);
            }
            // On AWS the state machine's own default function.
            None => {}
        }
        input
    }
}

/// The flag of a state machine input field, for errors found by the planner.
fn flag_of(field: &str) -> &'static str {
    match field {
        "payload" => "--payload",
        "memorySizes" => "--memory",
        "threads" => "--threads",
        "repetitions" => "--repetitions",
        "sleepBetweenRunsMs" => "--sleep-between-runs-ms",
        "allowedExceptions" => "--allowed-exceptions",
        "autoOptimizeAlias" => "--auto-optimize-alias",
        "architectures" | "functionNames" => "--architecture",
        _ => "a setting",
    }
}

/// What the sweep will invoke and cost, before it starts (stderr; stdout with `--dry-run`).
pub(super) fn estimate(args: &Args, plan: &Plan) -> String {
    let shape = plan.shape();
    let layout = &plan.layout;
    let mut text = format!(
        "plan: {} invocations of {} ({}{} sizes × {} thread counts × {} rounds{}), {} versions published{}\n",
        layout.invocations,
        plan.workload,
        match plan.architectures.len() {
            1 => String::new(),
            n => format!("{n} architectures × "),
        },
        plan.memory.len(),
        plan.threads.len(),
        layout.rounds.len(),
        if layout.payloads.len() > 1 {
            format!(", {} weighted payloads", layout.payloads.len())
        } else {
            String::new()
        },
        layout.publish.len(),
        if layout.sleep_seconds > 0 {
            format!(
                ", a {} s pause before each invocation",
                layout.sleep_seconds
            )
        } else {
            String::new()
        },
    );
    let region = args
        .state_machine_arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(3))
        .filter(|r| !r.is_empty());
    // Each function gets as many invocations as the others, at its own architecture's price.
    let prices: Vec<Pricing> = plan
        .architectures
        .iter()
        .map(|&a| Pricing::lookup(region, a))
        .collect();
    let timeout = (!args.aws).then_some(args.timeout);
    text.push_str(&format!(
        "estimate on AWS{}:\n",
        match (args.aws, plan.architectures_given) {
            (false, _) => " (locally nothing is billed)",
            (true, true) => "",
            (true, false) => {
                " (at x86_64 prices: the deployed function's own architecture is read when the sweep runs, and arm64 is about 20% cheaper per GB-s)"
            }
        }
    ));
    for line in shape.cost_lines(&prices, timeout) {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str(&format!(
        "  history: about {} events of AWS's {HISTORY_EVENTS_QUOTA}, state at most {} KB of 256\n",
        shape.history_events(),
        shape.state_bytes().div_ceil(1024)
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `Parameters` of a state of the embedded state machine, found by name at any depth.
    fn parameters(name: &str) -> Value {
        fn find(v: &Value, name: &str) -> Option<Value> {
            let states = v.get("States")?.as_object()?;
            if let Some(state) = states.get(name) {
                return state.get("Parameters").cloned();
            }
            states
                .values()
                .find_map(|s| find(s.get("ItemProcessor").or(s.get("Iterator"))?, name))
        }
        let machine: Value = serde_json::from_str(crate::embedded::STATE_MACHINE).unwrap();
        find(&machine, name).unwrap_or_else(|| panic!("no state {name}"))
    }

    #[test]
    fn a_sample_fits_its_estimate() {
        let widest = 123_456.789_012_345_67_f64;
        let id = "8c1e6c1a-5c1e-4d2e-9f0a-0123456789ab";
        let text = format!(
            "REPORT RequestId: {id}\tDuration: 899999.99 ms\tBilled Duration: 910000 ms\tMemory Size: 10240 MB\tMax Memory Used: 10240 MB\tInit Duration: 10000.00 ms\t"
        );
        let json_format = json!({"time": "2026-11-30T21:00:00.000Z", "type": "platform.report",
            "record": {"requestId": id, "metrics": {"durationMs": widest,
            "billedDurationMs": 910000, "memorySizeMB": 10240, "maxMemoryUsedMB": 10240,
            "initDurationMs": widest}, "status": "success"}})
        .to_string();
        for report in [text, json_format] {
            let sample = json!({
                "architecture": "x86_64",
                "memoryMb": 10240, "threads": 64, "durationMs": widest, "cpuMs": widest,
                "cold": false, "initMs": widest, "maxRssMb": widest, "vcpus": 6, "errors": [],
                "writtenItems": u64::MAX, "report": report,
            });
            // The state machine's Sample builds exactly these fields.
            let built: Vec<String> = parameters("Sample")
                .as_object()
                .unwrap()
                .keys()
                .map(|k| k.trim_end_matches(".$").to_string())
                .collect();
            let mut ours: Vec<String> = sample.as_object().unwrap().keys().cloned().collect();
            ours.sort();
            let mut built = built.clone();
            built.sort();
            assert_eq!(ours, built);
            let bytes = sample.to_string().len() as u64;
            assert!(
                bytes <= crate::estimate::SAMPLE_BYTES,
                "{bytes} bytes: {sample}"
            );
        }
    }

    #[test]
    fn the_analysis_fits_its_estimate() {
        // 10 sizes × 6 threads, every row with every figure and a cold start.
        let report = "REPORT RequestId: 8c1e6c1a-5c1e-4d2e-9f0a-0123456789ab\tDuration: 123456.78 ms\tBilled Duration: 123600 ms\tMemory Size: 10240 MB\tMax Memory Used: 10240 MB\tInit Duration: 123.45 ms\t";
        let memory: Vec<u32> = (1..=10).map(|i| 128 + i * 1011).collect();
        let threads = [1u32, 2, 3, 4, 5, 6];
        let samples: Vec<Value> = memory
            .iter()
            .flat_map(|&m| threads.iter().map(move |&t| (m, t)))
            .map(|(m, t)| {
                json!({"memoryMb": m, "threads": t, "durationMs": 123_456.789_012_345_67_f64 / f64::from(t),
                       "cpuMs": 98_765.432_109_876_54, "cold": true, "initMs": 12.345_678_901_234_567,
                       "maxRssMb": 1_234.567_890_123_456_7, "vcpus": 6, "errors": [],
                       "writtenItems": 1_000_000_000_000u64, "report": report})
            })
            .collect();
        let input: powersweep_analyzer::AnalyzerInput = serde_json::from_value(json!({
            "workload": "a-workload-with-a-long-name", "memorySizes": memory, "threads": threads,
            "samples": samples}))
        .unwrap();
        let output = powersweep_analyzer::analyze(&input).unwrap();
        let bytes = json!({"output": output}).to_string().len() as u64;
        let rows = (memory.len() * threads.len()) as u64;
        // What includeSamples adds per sample: one record each, an allowed error named.
        let mut with_samples = input.clone();
        with_samples.include_samples = true;
        with_samples.allowed_exceptions = vec!["Job.a-long-error-kind-name".into()];
        let records = powersweep_analyzer::analyze(&with_samples)
            .unwrap()
            .samples
            .unwrap();
        for mut record in records {
            record.error = Some("Job.a-long-error-kind-name".into());
            let record_bytes = serde_json::to_string(&record).unwrap().len() as u64;
            assert!(
                record_bytes < crate::estimate::SAMPLE_RECORD_BYTES,
                "{record_bytes}"
            );
        }
        assert!(
            bytes
                <= rows * crate::estimate::ROW_BYTES
                    + crate::estimate::STATE_BYTES_BESIDE_SAMPLES / 2,
            "{bytes} bytes for {rows} rows"
        );
    }

    #[test]
    fn the_emulator_knows_every_architecture_the_prices_do() {
        // Two lists by necessity (the emulator validates Lambda's API, the analyzer prices);
        // this keeps them the same.
        for a in [Architecture::X86_64, Architecture::Arm64] {
            assert!(
                powersweep_emulator::ARCHITECTURES.contains(&a.as_str()),
                "{a}"
            );
        }
        assert_eq!(powersweep_emulator::ARCHITECTURES.len(), 2);
        assert_eq!(
            powersweep_emulator::ARCHITECTURES[0],
            Architecture::default().as_str()
        );
    }

    #[test]
    fn auto_optimize_sets_the_variable_the_host_reads() {
        // Two constants by necessity (the analyzer does not depend on the host); this keeps
        // them one name.
        assert_eq!(
            powersweep_analyzer::plan::THREADS_VARIABLE,
            powersweep_host::env::THREADS
        );
    }

    /// Obeyed/violated: 12,000 invocations fit (each round is a child execution and the
    /// samples go to S3); copying every sample into the analysis does not, and says so.
    #[test]
    fn a_sweep_of_any_size_fits_unless_its_samples_are_copied_into_the_state() {
        let sizes = [128, 256, 512, 1024, 1536, 2048, 3008, 4096, 6144, 10240];
        let mut plan = Plan::base("w", json!({}), &sizes, 300, 1769.0);
        plan.threads = vec![1, 2, 4, 6];
        plan.layout = plan.lay_out().unwrap();
        assert_eq!(plan.invocations(), 12_000);
        plan.check_quotas(false).unwrap();
        plan.options.include_samples = true;
        let e = plan.check_quotas(false).unwrap_err().to_string();
        assert!(
            e.contains("KB of the execution's state") && e.contains("--include-samples"),
            "{e}"
        );
        assert!(plan.check_quotas(true).is_ok());
    }

    /// Rows are what still grows: the analysis holds ~1 KB a row in the execution's state
    /// (before a round, ~580 bytes a row, would pass its own), so too many are refused with
    /// the advice to sweep fewer, whatever the repetitions.
    #[test]
    fn too_many_rows_are_refused_whatever_the_repetitions() {
        let sizes: Vec<u32> = (0..100).map(|i| 128 + 64 * i).collect();
        let mut plan = Plan::base("w", json!({}), &sizes, 1, 1769.0);
        plan.threads = (1..=64).collect();
        plan.layout = plan.lay_out().unwrap();
        let e = plan.check_quotas(false).unwrap_err().to_string();
        assert!(e.contains("sweep fewer sizes or thread counts"), "{e}");
    }
}
