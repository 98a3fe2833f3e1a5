//! `powersweep sweep`: the main job. Validates the plan, runs `statemachine/powersweep.asl.json`
//! (locally on the ASL engine and the Lambda emulator, or on AWS with `--aws`), then prints
//! the table and the recommendation and writes the report files.
//!
//! Two layers of arguments: clap's raw [`Args`], then a validated [`Plan`] built before any
//! invocation, so a bad flag never costs a sweep.

use crate::input::{guests_dir, json_arg};
use crate::local::{ANALYZER_ARN, HOST_FUNCTION, LocalLambda, LocalSettings};
use crate::modeled::{ModelArgs, Setup, WorkModel};
use crate::progress::Progress;
use anyhow::{Context, Result, bail};
use powersweep_analyzer::{AnalyzerOutput, Architecture, LocalRun, Strategy};
use powersweep_asl::{
    Engine, EngineConfig, HISTORY_EVENTS_QUOTA, Outcome, PAYLOAD_QUOTA_BYTES, StateMachine,
    TaskRegistry,
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
}

/// Polls of `getFunctionConfiguration` allowed per memory size on AWS, where an update takes
/// a second or more (locally the first check finds it done).
const AWS_POLLS_PER_SIZE: u64 = 3;
/// Events of one poll: `WaitForUpdate`, `CountPoll` and `IsUpdateDone` (entered and exited
/// each) and `CheckUpdate` (entered, scheduled, started, succeeded, exited).
const EVENTS_PER_POLL: u64 = 11;
/// Share of the history quota kept free for what the estimate does not count: retried
/// invocations (throttling: three events a retry) and error rows.
const HISTORY_HEADROOM: f64 = 0.1;
/// The most one sample takes in the execution's state, bytes: the widest figures (10,240 MB,
/// 64 threads, 17-digit durations) and a cold start's REPORT in Lambda's JSON log format (the
/// text format's line is ~120 bytes shorter); the test `a_sample_fits_its_estimate` builds
/// both.
const SAMPLE_BYTES: u64 = 560;
/// What the analyzer's output adds to the state per row (it sits beside the samples until
/// the end), bytes; the test `the_analysis_fits_its_estimate` measures a wide one.
const ROW_BYTES: u64 = 1024;
/// The state around the samples and rows (settings, versions, rounds, the recommendations
/// and the link) beside the payload, bytes.
const STATE_BYTES_BESIDE_SAMPLES: u64 = 6144;
/// Share of the state quota kept free for what the estimate does not count (long error
/// causes of failed samples).
const STATE_HEADROOM: f64 = 0.1;

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
        let most = powersweep_asl::ARRAY_RANGE_MAX_ITEMS;
        if self.repetitions as usize > most {
            bail!(
                "--repetitions {} is more than {most}: the state machine plans its rounds with States.ArrayRange, which makes at most {most} items",
                self.repetitions
            );
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

    /// The history events an execution of this plan makes, with AWS's allowances: counted on
    /// the local engine (its history has AWS's event types; not yet checked against AWS) for
    /// 1–3 sizes, thread counts and rounds, all successful (the CLI test
    /// `a_plan_past_the_history_quota_is_refused_and_the_largest_accepted_one_runs` compares
    /// it with the engine's count), plus [`AWS_POLLS_PER_SIZE`] extra polls per size for the
    /// updates AWS applies in the background. See [`HISTORY_HEADROOM`] for what it leaves out.
    fn history_events(&self) -> u64 {
        self.local_history_events()
            + AWS_POLLS_PER_SIZE * EVENTS_PER_POLL * self.memory.len() as u64
    }

    /// The history events of this plan on the local engine, where every update is done at the
    /// first check and no invocation fails: 43 for the execution, 30 per size (publish and
    /// clean up), 6 per round, 8 per size in a round and 9 per invocation.
    fn local_history_events(&self) -> u64 {
        let (s, t, r) = (
            self.memory.len() as u64,
            self.threads.len() as u64,
            u64::from(self.repetitions),
        );
        43 + 30 * s + 6 * r + 8 * r * s + 9 * r * s * t
    }

    /// The bytes of the execution's state at its largest, once every sample is in and the
    /// analysis beside them (`Analyze`'s output): what Step Functions caps at
    /// [`PAYLOAD_QUOTA_BYTES`].
    fn state_bytes(&self) -> u64 {
        self.invocations() * SAMPLE_BYTES
            + (self.memory.len() * self.threads.len()) as u64 * ROW_BYTES
            + self.payload.to_string().len() as u64
            + STATE_BYTES_BESIDE_SAMPLES
            + 8 * u64::from(self.repetitions)
    }

    /// Fails when the plan would not fit one execution on AWS: its history events, or its
    /// samples in the state, naming the most repetitions that fit both.
    fn check_quotas(&self, lift_quotas: bool) -> Result<()> {
        let most_events = HISTORY_EVENTS_QUOTA as f64 * (1.0 - HISTORY_HEADROOM);
        let most_bytes = PAYLOAD_QUOTA_BYTES as f64 * (1.0 - STATE_HEADROOM);
        let fits = |plan: &Plan| {
            plan.history_events() as f64 <= most_events && plan.state_bytes() as f64 <= most_bytes
        };
        if lift_quotas || fits(self) {
            return Ok(());
        }
        let advice = (1..self.repetitions)
            .rev()
            .find(|&r| {
                fits(&Plan {
                    repetitions: r,
                    ..self.clone()
                })
            })
            .map(|r| format!("--repetitions {r} fits"))
            .unwrap_or_else(|| "sweep fewer sizes or thread counts".into());
        let events = self.history_events();
        if events as f64 > most_events {
            bail!(
                "this plan makes about {events} Step Functions history events, more than one execution may have (AWS's quota: {HISTORY_EVENTS_QUOTA}, less {:.0}% for retries): {advice}; locally, --lift-quotas runs it anyway",
                HISTORY_HEADROOM * 100.0
            )
        }
        bail!(
            "the samples of this plan take about {} KB of the execution's state, more than one state may hold (AWS's quota: {} KB, less {:.0}% for error causes): {advice}; locally, --lift-quotas runs it anyway",
            self.state_bytes() / 1024,
            PAYLOAD_QUOTA_BYTES / 1024,
            STATE_HEADROOM * 100.0
        )
    }

    fn invocations(&self) -> u64 {
        (self.memory.len() * self.threads.len()) as u64 * u64::from(self.repetitions)
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
        });
        if let Some(name) = function_name {
            input["functionName"] = json!(name);
        }
        input
    }
}

pub async fn run(args: Args) -> Result<ExitCode> {
    let local = !args.aws;
    let plan = Plan::from_args(&args, local)?;
    crate::cmd::report::check_out(&args.out)?;
    if !local {
        let output = run_aws(&args, &plan).await?;
        crate::cmd::report::show(&output, &args.out)?;
        return all_failed(&output);
    }
    if args.cross_check && args.cpu_mode != CpuModeChoice::Model {
        bail!("--cross-check compares the `model` mode with a CPU cap: leave --cpu-mode at model");
    }
    let choice = args.cpu_mode;
    let guests = guests_dir(args.guests.clone());
    check_workload(&guests, &plan.workload)?;
    // Calibration is part of the model mode's cost: the wall time includes it.
    let started = std::time::Instant::now();
    let setup = match choice {
        CpuModeChoice::Model => {
            let event = powersweep_host::JobEvent {
                workload: plan.workload.clone(),
                threads: 1,
                payload: plan.payload.clone(),
                timeout_ms: None,
            };
            let config = crate::modeled::host_config(&guests, &args.allow_table);
            Some(args.model.prepare(&config, &event).await?)
        }
        _ => None,
    };
    let output = run_local(&args, &plan, choice, setup.as_ref()).await?;
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
        let capped = run_local(&args, &capped_plan, CpuModeChoice::Auto, None).await?;
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
    all_failed(&output)
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

async fn run_aws(args: &Args, plan: &Plan) -> Result<AnalyzerOutput> {
    let arn = args
        .state_machine_arn
        .as_deref()
        .context("--aws needs --state-machine-arn")?;
    let progress = Progress::new(plan.invocations());
    let result =
        crate::aws::run_execution(arn, &plan.input(args.function_name.as_deref()), &progress).await;
    progress.finish();
    parse_output(result?)
}

async fn run_local(
    args: &Args,
    plan: &Plan,
    cpu_mode: CpuModeChoice,
    model: Option<&Setup>,
) -> Result<AnalyzerOutput> {
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
    let left = lambda.versions_left();
    let memory = lambda.memory_mb();
    lambda.shutdown().await;
    // A signal ends here: "interrupted by SIGTERM; every local environment was stopped".
    let outcome = outcome?;
    eprintln!(
        "cleanup: {} published versions left, host memory back at {} MB",
        left.len(),
        memory.map(|m| m.to_string()).unwrap_or_else(|| "?".into())
    );
    eprintln!(
        "history: {} events, {} estimated (on AWS about {} with update polls; AWS's quota: {HISTORY_EVENTS_QUOTA} per execution)",
        history.last_id(),
        plan.local_history_events(),
        plan.history_events()
    );
    match outcome {
        Outcome::Succeeded(output) => {
            let mut output = parse_output(output)?;
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
            Ok(output)
        }
        Outcome::Failed { error, cause } => bail!(
            "the sweep failed: {}: {}",
            error.unwrap_or_else(|| "unknown error".into()),
            cause.unwrap_or_default()
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
            assert!(bytes <= SAMPLE_BYTES, "{bytes} bytes: {sample}");
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
        assert!(
            bytes <= rows * ROW_BYTES + STATE_BYTES_BESIDE_SAMPLES / 2,
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
        let plan = Plan::base("w", json!({}), &[256, 512], 300, 1769.0);
        assert!(plan.history_events() < 22_500);
        let e = plan.check_quotas(false).unwrap_err().to_string();
        assert!(e.contains("KB of the execution's state"), "{e}");
        let fits: u32 = e
            .split("--repetitions ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|r| r.parse().ok())
            .unwrap_or_else(|| panic!("{e}"));
        let smaller = Plan {
            repetitions: fits,
            ..plan.clone()
        };
        smaller.check_quotas(false).unwrap();
        let one_more = Plan {
            repetitions: fits + 1,
            ..plan
        };
        assert!(one_more.check_quotas(false).is_err());
        assert!(one_more.check_quotas(true).is_ok());
    }
}
