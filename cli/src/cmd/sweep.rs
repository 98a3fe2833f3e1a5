//! `powersweep sweep`: the main job. Validates the plan, runs `statemachine/powersweep.asl.json`
//! (locally on the ASL engine and the Lambda emulator, or on AWS with `--aws`), then prints
//! the table and the recommendation and writes the report files.
//!
//! Two layers of arguments: clap's raw [`Args`], then a validated [`Plan`] built before any
//! invocation, so a bad flag never costs a sweep.

use crate::estimate::{Optimize, Shape};
use crate::input::{guests_dir, json_arg};
use crate::local::{ANALYZER_ARN, HOST_FUNCTION, LocalLambda, LocalSettings};
use crate::modeled::{ModelArgs, Setup, WorkModel};
use crate::progress::Progress;
use anyhow::{Context, Result, bail};
use powersweep_analyzer::{
    AnalyzerOutput, Architecture, LocalRun, PlanInput, Pricing, Strategy, SweepLayout,
};
use powersweep_asl::{
    Engine, EngineConfig, HISTORY_EVENTS_QUOTA, Outcome, StateMachine, TaskRegistry,
};
use powersweep_emulator::{CpuModeChoice, CpuShare};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Flags of `powersweep sweep`. With none, a two-minute PBKDF2 demo runs.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Start from a preset (flags given override it): the 2019 experiments.
    #[arg(long, value_enum)]
    preset: Option<Preset>,
    /// The workload to sweep (see `powersweep guests`).
    #[arg(long)]
    workload: Option<String>,
    /// The workload's payload: JSON, or @file.json.
    #[arg(long)]
    payload: Option<String>,
    /// Memory sizes in MB, comma-separated (128–10240).
    #[arg(long, value_delimiter = ',')]
    memory: Option<Vec<u32>>,
    /// Thread counts, comma-separated (1–64).
    #[arg(long, value_delimiter = ',')]
    threads: Option<Vec<usize>>,
    /// Invocations per (memory, threads).
    #[arg(long)]
    repetitions: Option<u32>,
    /// What to optimise for.
    #[arg(long, value_enum)]
    strategy: Option<Strategy>,
    /// For `balanced`: 0 = only speed matters … 1 = only cost.
    #[arg(long)]
    balanced_weight: Option<f64>,
    /// Fraction of the slowest and fastest samples dropped from each end (0 ≤ x < 0.5).
    #[arg(long)]
    discard_top_bottom: Option<f64>,
    /// MB of memory per vCPU: 1769 today, 1792 reproduces 2019 Lambda.
    #[arg(long)]
    vcpu_mb: Option<f64>,
    /// Local sweeps: the architecture the host function reports, whose prices apply (it runs
    /// on this machine's CPU either way). On AWS the deployed function's own is used.
    #[arg(long, value_enum)]
    architecture: Option<Architecture>,
    /// Where to write results.json, results.csv and report.html.
    #[arg(long, default_value = "powersweep-out")]
    out: PathBuf,
    /// Memory sizes measured at once (locally: 1 under a CPU cap; in the model mode all of
    /// them, or the cores with `--io-latency measured`).
    #[arg(long)]
    max_concurrency: Option<u32>,
    /// The host function's timeout in seconds (a configuration past it is an error row).
    #[arg(long, default_value_t = 300)]
    timeout: u32,
    /// How local durations are made: computed from metered work (`model`), or measured
    /// under a CPU cap (`auto`, `cgroup`, `in-process`).
    #[arg(long, value_enum, default_value = "model")]
    cpu_mode: CpuModeChoice,
    #[command(flatten)]
    model: ModelArgs,
    /// Run past AWS's Step Functions quotas locally (25,000 history events per execution):
    /// for plans too large for one execution on AWS.
    #[arg(long)]
    lift_quotas: bool,
    /// After the `model` sweep, run the same plan under a CPU cap (cgroup where possible)
    /// and print both side by side, with their ratio per row and their wall times.
    #[arg(long)]
    cross_check: bool,
    /// The state machine file (default: statemachine/powersweep.asl.json here, else the one
    /// built into this binary).
    #[arg(long)]
    state_machine: Option<PathBuf>,
    /// Folder of built workloads (default: guests/dist here, else the built-in ones).
    #[arg(long)]
    guests: Option<PathBuf>,
    /// A DynamoDB table the workload may write (repeatable).
    #[arg(long = "allow-table", value_delimiter = ',')]
    allow_table: Vec<String>,
    /// DynamoDB endpoint for the local host, e.g. http://127.0.0.1:5000.
    #[arg(long)]
    dynamodb_endpoint: Option<String>,
    /// Run on AWS: start the deployed state machine instead of the local engine.
    #[arg(long, requires = "state_machine_arn")]
    aws: bool,
    /// The deployed state machine (the `StateMachineArn` output of `sam deploy`).
    #[arg(long)]
    state_machine_arn: Option<String>,
    /// The host function to sweep on AWS (default: the one deployed with the state machine).
    #[arg(long)]
    function_name: Option<String>,
    /// Print what the sweep would invoke and cost, and start nothing.
    #[arg(long)]
    dry_run: bool,
    /// power-tuning's `dryRun`: invoke every configuration once, no analysis (checks
    /// permissions and that every configuration runs).
    #[arg(long)]
    probe: bool,
    /// power-tuning's `onlyColdStarts`: a fresh version for every invocation, so each is a
    /// cold start.
    #[arg(long)]
    only_cold_starts: bool,
    /// power-tuning's `sleepBetweenRunsMs`: a pause before each invocation (Step Functions
    /// waits in whole seconds, so it is rounded up).
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    sleep_between_runs_ms: Option<f64>,
    /// power-tuning's `allowedExceptions`: job errors that count as measurements, e.g.
    /// `Job.guest` (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "ERRORS")]
    allowed_exceptions: Vec<String>,
    /// power-tuning's `autoOptimize`: give the function the chosen memory size and, as its
    /// `POWERSWEEP_THREADS`, the chosen thread count.
    #[arg(long)]
    auto_optimize: bool,
    /// power-tuning's `autoOptimizeAlias`: also publish that configuration as a version and
    /// point this alias at it.
    #[arg(long, requires = "auto_optimize", value_name = "ALIAS")]
    auto_optimize_alias: Option<String>,
    /// power-tuning's `includeOutputResults`, per invocation: every sample in results.json's
    /// `samples`.
    #[arg(long)]
    include_samples: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq)]
enum Preset {
    /// PBKDF2-HMAC-SHA512 of 4 passwords, 1,000,000 iterations; 512–3008 MB; 1 and 2 threads; 5 repetitions; 1792 MB per vCPU.
    #[value(name = "pbkdf2-2019")]
    Pbkdf2_2019,
    /// 100 single DynamoDB writes; 512–3008 MB; 1 and 2 threads; 5 repetitions; 1792 MB per vCPU.
    #[value(name = "dynamodb-2019")]
    Dynamodb2019,
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
struct Plan {
    workload: String,
    payload: Value,
    memory: Vec<u32>,
    threads: Vec<usize>,
    repetitions: u32,
    strategy: Strategy,
    balanced_weight: f64,
    discard_top_bottom: f64,
    vcpu_mb: f64,
    architecture: Architecture,
    max_concurrency: u32,
    options: Options,
    /// What the state machine's `Plan` step will lay out (the same function, run here first).
    layout: SweepLayout,
}

/// power-tuning's execution options, as the state machine's input names them.
#[derive(Debug, Clone, Default)]
struct Options {
    dry_run: bool,
    only_cold_starts: bool,
    sleep_between_runs_ms: Option<f64>,
    allowed_exceptions: Vec<String>,
    auto_optimize: bool,
    auto_optimize_alias: Option<String>,
    include_samples: bool,
}

/// The 2019 memory sizes (Lambda's maximum was 3,008 MB then).
const MEMORY_2019: [u32; 5] = [512, 1024, 1792, 2368, 3008];
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
    fn from_args(args: &Args, local: bool) -> Result<Self> {
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
            (None, Some(workload)) => Plan::base(workload, json!({}), &MEMORY_DEMO, 3, 1769.0),
            (None, None) => Plan::base(
                "pbkdf2",
                json!({"iterations": DEMO_ITERATIONS, "passwords": DEMO_PASSWORDS}),
                &MEMORY_DEMO,
                3,
                1769.0,
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
        plan.architecture = match (args.architecture, local) {
            (Some(_), false) => bail!(
                "--architecture is for local sweeps: on AWS the prices follow the deployed \
                 function's own architecture (the `Architectures` of its configuration)"
            ),
            (architecture, _) => architecture.unwrap_or(Architecture::X86_64),
        };
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

    fn base(
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
            architecture: Architecture::X86_64,
            max_concurrency: 1,
            options: Options::default(),
            layout: SweepLayout {
                payloads: Vec::new(),
                publish: Vec::new(),
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
    fn lay_out(&self) -> Result<SweepLayout> {
        let input: PlanInput = serde_json::from_value(self.input(None))
            .context("the sweep's settings do not make a plan input")?;
        powersweep_analyzer::plan(&input).map_err(|e| match e {
            powersweep_analyzer::Error::InvalidSetting { field, reason } => {
                anyhow::anyhow!("{}: {reason}", flag_of(field))
            }
            other => anyhow::anyhow!(other),
        })
    }

    /// The size of one execution of this plan.
    fn shape(&self) -> Shape {
        let mut shape = Shape::new(
            &self.layout,
            (self.memory.len() * self.threads.len()) as u64,
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

    fn invocations(&self) -> u64 {
        self.layout.invocations
    }

    /// Fails when one execution of this plan would pass AWS's quotas (see
    /// [`Shape::check_quotas`]), unless they are lifted.
    fn check_quotas(&self, lift_quotas: bool) -> Result<()> {
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

    /// The state machine's input.
    fn input(&self, function_name: Option<&str>) -> Value {
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
        if let Some(name) = function_name {
            input["functionName"] = json!(name);
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
        _ => "a setting",
    }
}

/// What the sweep will invoke and cost, before it starts (stderr; stdout with `--dry-run`).
fn estimate(args: &Args, plan: &Plan) -> String {
    let shape = plan.shape();
    let layout = &plan.layout;
    let mut text = format!(
        "plan: {} invocations of {} ({} sizes × {} thread counts × {} rounds{}), {} versions published{}\n",
        layout.invocations,
        plan.workload,
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
    let pricing = Pricing::lookup(region, plan.architecture);
    let timeout = (!args.aws).then_some(args.timeout);
    text.push_str(&format!(
        "estimate on AWS{}:\n",
        if args.aws {
            " (at x86_64 prices: the sweep reads the function's own architecture when it runs, and arm64 is about 20% cheaper per GB-s)"
        } else {
            " (locally nothing is billed)"
        }
    ));
    for line in shape.cost_lines(&pricing, timeout) {
        text.push_str(&format!("  {line}\n"));
    }
    text.push_str(&format!(
        "  history: about {} events of AWS's {HISTORY_EVENTS_QUOTA}, state at most {} KB of 256\n",
        shape.history_events(),
        shape.state_bytes().div_ceil(1024)
    ));
    text
}

pub async fn run(args: Args) -> Result<ExitCode> {
    let local = !args.aws;
    let plan = Plan::from_args(&args, local)?;
    if args.dry_run {
        print!("{}", estimate(&args, &plan));
        return Ok(ExitCode::SUCCESS);
    }
    crate::cmd::report::check_out(&args.out)?;
    if !local {
        // A malformed ARN is refused before anything is printed.
        if let Some(arn) = &args.state_machine_arn {
            crate::aws::arn_region(arn)?;
        }
        eprint!("{}", estimate(&args, &plan));
        let output = run_aws(&args, &plan).await?;
        return finish(output, &args);
    }
    if args.cross_check && args.cpu_mode != CpuModeChoice::Model {
        bail!("--cross-check compares the `model` mode with a CPU cap: leave --cpu-mode at model");
    }
    let choice = args.cpu_mode;
    let guests = guests_dir(args.guests.clone());
    check_workload(&guests, &plan.workload)?;
    eprint!("{}", estimate(&args, &plan));
    // Calibration is part of the model mode's cost: the wall time includes it.
    let started = std::time::Instant::now();
    let setup = match choice {
        CpuModeChoice::Model => {
            let event = powersweep_host::JobEvent {
                workload: plan.workload.clone(),
                threads: 1,
                // Calibrated on the first payload the sweep sends (weighted: the first listed).
                payload: plan.layout.payloads.first().cloned().unwrap_or(Value::Null),
                timeout_ms: None,
            };
            let config = crate::modeled::host_config(&guests, &args.allow_table);
            Some(args.model.prepare(&config, &event).await?)
        }
        _ => None,
    };
    let output = match run_local(&args, &plan, choice, setup.as_ref()).await? {
        Finished::Probe(samples) => {
            return probe_result(&samples, &plan.options.allowed_exceptions);
        }
        Finished::Analysis(output) => output,
    };
    let wall = started.elapsed();
    crate::cmd::report::show(&output, &args.out)?;
    if args.cross_check {
        eprintln!("cross-check: the same plan under a CPU cap…");
        let started = std::time::Instant::now();
        let capped_plan = Plan {
            max_concurrency: args.max_concurrency.unwrap_or(local_concurrency(
                CpuModeChoice::Auto,
                true,
                plan.memory.len(),
            )),
            ..plan.clone()
        };
        let Finished::Analysis(capped) =
            run_local(&args, &capped_plan, CpuModeChoice::Auto, None).await?
        else {
            bail!("the capped run answered a probe, not an analysis");
        };
        let capped_wall = started.elapsed();
        let dir = args.out.join("cross-check");
        powersweep_analyzer::write_report(&capped, &dir)
            .with_context(|| format!("cannot write the cross-check to `{}`", dir.display()))?;
        print!(
            "{}",
            crate::table::cross_check(&output, &capped, wall, capped_wall)
        );
        println!("wrote the capped run's results to {}", dir.display());
    }
    optimized(&output, plan.options.auto_optimize)?;
    all_failed(&output)
}

/// What a sweep's execution answered: an analysis, or (power-tuning's `dryRun`) the samples
/// of one invocation per configuration.
enum Finished {
    Analysis(Box<AnalyzerOutput>),
    Probe(Value),
}

impl Finished {
    fn parse(output: Value) -> Result<Finished> {
        if output.get("dryRun").and_then(Value::as_bool) == Some(true) {
            return Ok(Finished::Probe(
                output.get("samples").cloned().unwrap_or(Value::Null),
            ));
        }
        Ok(Finished::Analysis(Box::new(parse_output(output)?)))
    }
}

/// Shows an execution's answer; the exit code says whether it was a success.
fn finish(output: Finished, args: &Args) -> Result<ExitCode> {
    match output {
        Finished::Probe(samples) => probe_result(&samples, &args.allowed_exceptions),
        Finished::Analysis(output) => {
            crate::cmd::report::show(&output, &args.out)?;
            optimized(&output, args.auto_optimize)?;
            all_failed(&output)
        }
    }
}

/// `--probe`: one line per configuration, and exit 1 when any failed.
fn probe_result(samples: &Value, allowed: &[String]) -> Result<ExitCode> {
    let samples = powersweep_analyzer::parse_samples_allowing(samples, allowed)
        .context("the probe's samples cannot be read")?;
    let mut failed = 0;
    println!("probe: each configuration invoked once, nothing analyzed");
    for sample in &samples {
        let what = match &sample.outcome {
            powersweep_analyzer::Outcome::Ok(m) => format!(
                "ok, {:.1} ms{}",
                m.report.map_or(m.duration_ms, |r| r.duration_ms),
                if m.cold { " (cold)" } else { "" }
            ),
            powersweep_analyzer::Outcome::Failed { error, cause } => {
                failed += 1;
                format!(
                    "{}: {}",
                    crate::terminal::escape(error),
                    crate::terminal::escape(cause)
                )
            }
        };
        println!(
            "  {:>5} MB × {:>2} threads  {what}",
            sample.memory_mb, sample.threads
        );
    }
    if failed > 0 {
        bail!("{failed} of {} configurations failed", samples.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// Says what `--auto-optimize` applied; fails (the results are written) when it could not.
fn optimized(output: &AnalyzerOutput, asked: bool) -> Result<()> {
    let Some(done) = &output.auto_optimized else {
        if asked {
            // The state machine applies nothing when no configuration qualified.
            bail!(
                "auto-optimize applied nothing: no configuration succeeded in every invocation (the results are written)"
            );
        }
        return Ok(());
    };
    if let Some(error) = &done.error {
        let applied = match (done.memory_mb, done.threads, &done.version) {
            (Some(m), Some(t), Some(v)) => format!(
                "$LATEST and version {v} have {m} MB and {}={t}, the alias was not moved",
                powersweep_host::env::THREADS
            ),
            (Some(m), Some(t), None) => format!(
                "$LATEST has {m} MB and {}={t}, no version was published",
                powersweep_host::env::THREADS
            ),
            _ => "nothing was applied".to_owned(),
        };
        bail!(
            "auto-optimize failed ({applied}; the sweep's results are written): {}: {}",
            crate::terminal::escape(error),
            crate::terminal::escape(done.cause.as_deref().unwrap_or(""))
        );
    }
    let what = format!(
        "{} MB, {}={}",
        done.memory_mb.map(|m| m.to_string()).unwrap_or_default(),
        powersweep_host::env::THREADS,
        done.threads.map(|t| t.to_string()).unwrap_or_default()
    );
    match (&done.alias, &done.version) {
        (Some(alias), Some(version)) => {
            println!("auto-optimized: $LATEST and version {version} (alias {alias}) have {what}")
        }
        _ => println!("auto-optimized: $LATEST has {what}"),
    }
    Ok(())
}

/// Success unless every invocation of the sweep failed: then there is nothing to recommend,
/// and scripts must not read the run as a result.
fn all_failed(output: &AnalyzerOutput) -> Result<ExitCode> {
    if !output.rows.is_empty() && output.rows.iter().all(|r| r.errors >= r.n) {
        let first = output
            .rows
            .iter()
            .find_map(|r| {
                r.error
                    .as_ref()
                    .map(|e| (e, r.cause.as_deref().unwrap_or("")))
            })
            .map(|(e, cause)| format!(": the first: {e}: {cause}"))
            .unwrap_or_default();
        bail!("every invocation of every configuration failed{first}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Sizes swept at once locally unless `--max-concurrency` says otherwise. Under a CPU cap,
/// one: sizes would share this machine's cores. In the `model` mode durations do not depend
/// on it (fuel is counted, host CPU is per thread, waits come from the latency model), so
/// every size at once, as on AWS: the cores stay busy through a round's last, longest jobs
/// (19.5 s at two at a time, 17.6 s at five, for the default sweep). With measured latency,
/// as many as there are cores: the local service's answers are part of the result.
fn local_concurrency(mode: CpuModeChoice, measured_latency: bool, sizes: usize) -> u32 {
    match mode {
        CpuModeChoice::Model if measured_latency => powersweep_emulator::host_cores() as u32,
        CpuModeChoice::Model => u32::try_from(sizes).unwrap_or(u32::MAX).max(1),
        CpuModeChoice::Auto | CpuModeChoice::Cgroup | CpuModeChoice::InProcess => 1,
    }
}

/// Fails with the list of workloads when `workload` is not in `guests`.
fn check_workload(guests: &std::path::Path, workload: &str) -> Result<()> {
    if guests.join(format!("{workload}.wasm")).exists() {
        return Ok(());
    }
    let host = powersweep_host::Host::new(
        powersweep_host::HostConfig::new(guests),
        tokio::runtime::Handle::current(),
    )?;
    bail!(
        "{}",
        powersweep_host::LoadError::Unknown {
            name: workload.to_string(),
            available: host.available()
        }
    );
}

async fn run_aws(args: &Args, plan: &Plan) -> Result<Finished> {
    let arn = args
        .state_machine_arn
        .as_deref()
        .context("--aws needs --state-machine-arn")?;
    let progress = Progress::new(plan.invocations());
    let result =
        crate::aws::run_execution(arn, &plan.input(args.function_name.as_deref()), &progress).await;
    progress.finish();
    Finished::parse(result?)
}

async fn run_local(
    args: &Args,
    plan: &Plan,
    cpu_mode: CpuModeChoice,
    model: Option<&Setup>,
) -> Result<Finished> {
    let guests = guests_dir(args.guests.clone());
    let (text, source) = crate::input::state_machine(args.state_machine.as_deref())?;
    let text = text
        .replace("${HostFunctionName}", HOST_FUNCTION)
        .replace("${AnalyzerFunctionArn}", ANALYZER_ARN);
    let machine =
        StateMachine::parse(&text).with_context(|| format!("invalid state machine {source}"))?;

    let environment =
        crate::local::host_environment(&args.allow_table, args.dynamodb_endpoint.as_deref());
    let work_model = model.map(|setup| WorkModel::new(setup.params.clone()));
    let settings = LocalSettings {
        guests_dir: guests,
        vcpu_mb: plan.vcpu_mb,
        cpu_mode,
        memory_mb: 1769,
        timeout_s: args.timeout,
        environment,
        duration_model: work_model
            .clone()
            .map(|m| m as Arc<dyn powersweep_emulator::DurationModel>),
        architecture: plan.architecture,
        workload: Some(plan.workload.clone()),
    };
    let lambda = LocalLambda::start(&settings).await?;
    let emulator = lambda.emulator();
    eprintln!(
        "cpu: {} (1 vCPU = {} MB)",
        emulator.cpu_mode(),
        plan.vcpu_mb
    );
    if let Some(reason) = emulator.cgroup_fallback_reason() {
        eprintln!("note: no cgroup ({reason}); the host throttles itself");
    }
    // In the `model` mode Lambda's share is computed, not enforced: nothing is capped.
    let capped: Vec<(u32, CpuShare)> = plan
        .memory
        .iter()
        .map(|&memory| (memory, emulator.cpu_share(memory)))
        .filter(|(_, share)| share.capped && model.is_none())
        .collect();
    let local = LocalRun {
        cpu_mode: emulator.cpu_mode().to_string(),
        vcpu_mb: plan.vcpu_mb,
        host_cores: u32::try_from(powersweep_emulator::host_cores()).unwrap_or(u32::MAX),
        model: model.map(|setup| setup.run.clone()),
    };
    for (memory, share) in &capped {
        eprintln!(
            "note: {memory} MB asks for {:.2} vCPUs but this machine has {} cores: its results are capped at {:.2}",
            share.lambda_vcpus, local.host_cores, share.vcpus
        );
    }

    let progress = Arc::new(Progress::new(plan.invocations()));
    let done = Arc::new(AtomicU64::new(0));
    let service = {
        let (progress, done) = (progress.clone(), done.clone());
        lambda.service(move |payload| {
            progress.set_done(done.fetch_add(1, Ordering::AcqRel) + 1);
            if let (Some(m), Some(t)) = (payload["memoryMb"].as_u64(), payload["threads"].as_u64())
            {
                progress.set_message(format!("{m} MB × {t} threads"));
            }
        })
    };
    let mut tasks = TaskRegistry::new();
    powersweep_asl::lambda::register_lambda(&mut tasks, service);
    let config = EngineConfig {
        max_history_events: (!args.lift_quotas).then_some(HISTORY_EVENTS_QUOTA),
        max_execution_seconds: (!args.lift_quotas)
            .then_some(powersweep_asl::EXECUTION_QUOTA_SECONDS),
        ..EngineConfig::default()
    };
    let execution = Engine::new(tasks)
        .with_config(config)
        .start(&machine, plan.input(None));
    let history = execution.history().clone();
    let outcome = tokio::select! {
        outcome = execution.wait() => Ok(outcome),
        signal = crate::signals::interrupted() => Err(signal),
    };
    progress.finish();
    // autoOptimize left a version behind an alias on purpose; everything else must be gone.
    let optimized = match &outcome {
        Ok(Outcome::Succeeded(output)) => output.get("autoOptimized").cloned(),
        _ => None,
    };
    let kept = optimized
        .as_ref()
        .and_then(|o| o["version"].as_str())
        .map(str::to_owned);
    let mut left = lambda.versions_left();
    left.retain(|v| Some(v) != kept.as_ref());
    let memory = lambda.memory_mb();
    let alias_check = match (&optimized, plan.layout.payloads.first()) {
        (Some(o), Some(payload)) => match o["alias"].as_str() {
            Some(alias) => Some(check_alias(&lambda, alias, &plan.workload, payload).await),
            None => None,
        },
        _ => None,
    };
    lambda.shutdown().await;
    // A signal ends here: "interrupted by SIGTERM; every local environment was stopped".
    let outcome = outcome?;
    eprintln!(
        "cleanup: {} published versions left{}, host memory {} {} MB",
        left.len(),
        if kept.is_some() {
            " (and the auto-optimized one)"
        } else {
            ""
        },
        if optimized.is_some() {
            "now"
        } else {
            "back at"
        },
        memory.map(|m| m.to_string()).unwrap_or_else(|| "?".into())
    );
    if let Some(line) = alias_check {
        eprintln!("{line}");
    }
    let shape = plan.shape();
    eprintln!(
        "history: {} events, {} state transitions; estimated {} and {} (on AWS about {} events with update polls; AWS's quota: {HISTORY_EVENTS_QUOTA} per execution)",
        history.last_id(),
        history.transitions(),
        shape.local_history_events(),
        shape.local_transitions(),
        shape.history_events()
    );
    match outcome {
        Outcome::Succeeded(output) => {
            let mut output = match Finished::parse(output)? {
                Finished::Analysis(output) => output,
                probe @ Finished::Probe(_) => return Ok(probe),
            };
            for row in &mut output.rows {
                row.capped_vcpus = capped
                    .iter()
                    .find(|(memory, _)| *memory == row.memory_mb)
                    .map(|(_, share)| share.vcpus);
            }
            if let Some(work_model) = &work_model {
                let rows = work_model.rows();
                for row in &mut output.rows {
                    row.modeled = rows.get(&(row.memory_mb, row.threads)).cloned();
                }
            }
            output.local = Some(local);
            Ok(Finished::Analysis(output))
        }
        Outcome::Failed { error, cause } => bail!(
            "the sweep failed: {}: {}",
            error.unwrap_or_else(|| "unknown error".into()),
            cause.unwrap_or_default()
        ),
    }
}

/// One job through the alias `--auto-optimize-alias` pointed, without `threads`: the line
/// says what it ran with, so a local sweep shows that the optimized configuration works.
async fn check_alias(lambda: &LocalLambda, alias: &str, workload: &str, payload: &Value) -> String {
    let request = powersweep_emulator::InvokeRequest {
        function_name: HOST_FUNCTION.into(),
        qualifier: Some(alias.into()),
        payload: json!({"workload": workload, "payload": payload})
            .to_string()
            .into_bytes(),
        log_type: powersweep_emulator::LogType::None,
    };
    match lambda.emulator().invoke(request).await {
        Ok(out) => {
            let answer: Value = serde_json::from_slice(&out.payload).unwrap_or(Value::Null);
            match (answer["threads"].as_u64(), answer["memoryMb"].as_u64()) {
                (Some(threads), Some(memory)) => format!(
                    "checked: a job through alias {alias} (version {}) without `threads` ran on {threads} thread(s) at {memory} MB",
                    out.executed_version
                ),
                _ => format!(
                    "check of alias {alias} failed: {}",
                    crate::terminal::escape(&String::from_utf8_lossy(&out.payload))
                ),
            }
        }
        Err(e) => format!(
            "check of alias {alias} failed: {}: {}",
            e.error_type, e.message
        ),
    }
}

fn parse_output(output: Value) -> Result<AnalyzerOutput> {
    serde_json::from_value(output).context(
        "the state machine's output is not an analyzer output; is the ARN the `StateMachineArn` output of powersweep's stack?",
    )
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
                "memoryMb": 10240, "threads": 64, "durationMs": widest, "cpuMs": widest,
                "cold": false, "initMs": widest, "maxRssMb": widest, "vcpus": 6, "errors": [],
                "report": report,
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
                       "maxRssMb": 1_234.567_890_123_456_7, "vcpus": 6, "errors": [], "report": report})
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
    fn a_plan_under_the_history_quota_can_still_overflow_the_state() {
        let mut plan = Plan::base("w", json!({}), &[256, 512], 300, 1769.0);
        plan.layout = plan.lay_out().unwrap();
        assert!(plan.shape().history_events() < 22_500);
        let e = plan.check_quotas(false).unwrap_err().to_string();
        assert!(e.contains("KB of the execution's state"), "{e}");
        let fits: u32 = e
            .split("--repetitions ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("{e}"));
        let with = |repetitions| {
            let mut p = Plan {
                repetitions,
                ..plan.clone()
            };
            p.layout = p.lay_out().unwrap();
            p
        };
        with(fits).check_quotas(false).unwrap();
        let one_more = with(fits + 1);
        assert!(one_more.check_quotas(false).is_err());
        assert!(one_more.check_quotas(true).is_ok());
    }
}
