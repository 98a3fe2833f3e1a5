//! `powersweep sweep`: the main job. Validates the plan, runs `statemachine/powersweep.asl.json`
//! (locally on the ASL engine and the Lambda emulator, or on AWS with `--aws`), then prints
//! the table and the recommendation and writes the report files.
//!
//! Two layers of arguments: clap's raw [`Args`], then a validated [`Plan`] built before any
//! invocation, so a bad flag never costs a sweep.
//!
//! The plan and its estimate are `plan.rs`; the local run on the engine and emulator
//! `local_run.rs`; what an execution's answer means for the user `outcome.rs`.

mod local_run;
mod outcome;
mod plan;

use local_run::{LocalInputs, run_local};
use outcome::{Finished, finish, optimized, probe_result, recommended};
use plan::{Plan, Preset, estimate};

use crate::modeled::ModelArgs;
use crate::progress::Progress;
use anyhow::{Context, Result, bail};
use powersweep_analyzer::{Architecture, Strategy};
use powersweep_emulator::CpuModeChoice;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// The architectures to sweep, comma-separated (x86_64, arm64): one host function each,
    /// every memory size × thread count on each, with its own vCPU speed and price. Locally
    /// each is an emulated function on this machine; with `--aws`, the stack's host function
    /// of each architecture.
    #[arg(long, value_enum, value_delimiter = ',')]
    architecture: Option<Vec<Architecture>>,
    /// Where to write results.json, results.csv and report.html.
    #[arg(long, default_value = "powersweep-out")]
    out: PathBuf,
    /// Memory sizes measured at once (locally: 1 under a CPU cap; in the model mode all of
    /// them, or the cores with `--io-latency measured`).
    #[arg(long)]
    max_concurrency: Option<u32>,
    /// The host function's timeout in seconds, 1–900 as Lambda allows (a configuration past
    /// it is an error row).
    #[arg(long, default_value_t = 300, value_parser = timeout_seconds)]
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
    /// DynamoDB endpoint for the local host, e.g. http://127.0.0.1:5123 (moto), or `aws` for
    /// the one your AWS configuration names; needed with --allow-table.
    #[arg(long, value_parser = crate::input::endpoint_arg)]
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

/// `--timeout`: Lambda's range, checked when the command line is read.
fn timeout_seconds(text: &str) -> std::result::Result<u32, String> {
    let range = powersweep_emulator::TIMEOUT_RANGE_S;
    text.parse::<u32>()
        .ok()
        .filter(|s| range.contains(s))
        .ok_or_else(|| {
            format!(
                "must be {}–{} seconds, as Lambda allows",
                range.start(),
                range.end()
            )
        })
}

pub async fn run(mut args: Args) -> Result<ExitCode> {
    let local = !args.aws;
    let plan = Plan::from_args(&args, local)?;
    let inputs = if local {
        args.dynamodb_endpoint =
            crate::input::dynamodb_endpoint(args.dynamodb_endpoint.as_deref(), &args.allow_table)?;
        // All a local run can check before it calibrates (seconds) or --dry-run answers.
        Some(LocalInputs::read(&args, &plan.workload)?)
    } else {
        None
    };
    if args.dry_run {
        print!("{}", estimate(&args, &plan));
        return Ok(ExitCode::SUCCESS);
    }
    // Held until the sweep ends: no other sweep writes into the same folder meanwhile.
    let _out = crate::out_folder::OutFolder::claim(&args.out)?;
    let Some(inputs) = inputs else {
        // A malformed ARN is refused before anything is printed.
        if let Some(arn) = &args.state_machine_arn {
            crate::aws::arn_region(arn)?;
        }
        eprint!("{}", estimate(&args, &plan));
        let output = run_aws(&args, &plan).await?;
        return finish(output, &args);
    };
    if args.cross_check && args.cpu_mode != CpuModeChoice::Model {
        bail!("--cross-check compares the `model` mode with a CPU cap: leave --cpu-mode at model");
    }
    if args.cross_check && args.model.vcpu_speed.is_some_and(|x| x != 1.0) {
        bail!(
            "--cross-check runs the model on this machine's core (--vcpu-speed 1), as the capped run is: leave --vcpu-speed out"
        );
    }
    args.model
        .check_period(args.cross_check || args.cpu_mode != CpuModeChoice::Model)?;
    let choice = args.cpu_mode;
    let guests = inputs.guests();
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
            let config = crate::modeled::host_config(guests, &args.allow_table);
            let mut model = args.model.clone();
            if args.cross_check {
                // The capped run measures this machine's core: the model must too.
                model.vcpu_speed = Some(1.0);
                model.vcpu_speed_reason =
                    Some("--cross-check (the capped run measures this machine's core)".into());
            }
            let limits = crate::modeled::JobLimits {
                timeout: std::time::Duration::from_secs(u64::from(args.timeout)),
                memory_mb: plan.memory.iter().copied().max().unwrap_or(128),
                threads: plan.threads.iter().copied().max().unwrap_or(1),
            };
            Some(
                model
                    .prepare(&config, &event, limits, &plan.architectures)
                    .await?,
            )
        }
        _ => None,
    };
    let output = match run_local(&args, &inputs, &plan, choice, setup.as_ref()).await? {
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
            run_local(&args, &inputs, &capped_plan, CpuModeChoice::Auto, None).await?
        else {
            bail!("the capped run answered a probe, not an analysis");
        };
        let capped_wall = started.elapsed();
        let dir = args.out.join("cross-check");
        powersweep_analyzer::write_results_files(&capped, &dir)
            .with_context(|| format!("cannot write the cross-check to `{}`", dir.display()))?;
        print!(
            "{}",
            crate::table::cross_check(&output, &capped, wall, capped_wall)
        );
        println!("wrote the capped run's results to {}", dir.display());
    }
    optimized(&output, plan.options.auto_optimize)?;
    recommended(&output)
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

async fn run_aws(args: &Args, plan: &Plan) -> Result<Finished> {
    let arn = args
        .state_machine_arn
        .as_deref()
        .context("--aws needs --state-machine-arn")?;
    let progress = Progress::new(plan.invocations());
    let result = crate::aws::run_execution(
        arn,
        &plan.input(args.function_name.as_deref()),
        plan.invocations(),
        &progress,
    )
    .await;
    progress.finish();
    Finished::parse(result?)
}

#[cfg(test)]
mod tests {
    use clap::{Args as _, Command};

    /// The help text cannot quote a constant, so this keeps its limits equal to the ones
    /// `plan.rs` enforces.
    #[test]
    fn help_states_the_limits_the_plan_enforces() {
        let cmd = super::Args::augment_args(Command::new("sweep"));
        let help = |id: &str| {
            cmd.get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_help())
                .map(ToString::to_string)
                .unwrap_or_default()
        };
        let memory = powersweep_emulator::MEMORY_RANGE_MB;
        let want = format!("({}–{})", memory.start(), memory.end());
        assert!(help("memory").contains(&want), "{}", help("memory"));
        let want = format!("(1–{})", powersweep_host::MAX_THREADS);
        assert!(help("threads").contains(&want), "{}", help("threads"));
    }
}
