//! A sweep on this machine: the state machine on the local ASL engine against the Lambda
//! emulator (with the in-process analyzer), progress, cleanup checks, the history count,
//! and the check of an auto-optimized alias. `run_local` reads as the phases, one function
//! each: start the functions, execute, wind down, fill in the rows.

use super::Args;
use super::outcome::Finished;
use super::plan::Plan;
use crate::input::{check_workload, guests_dir};
use crate::local::{ANALYZER_ARN, LocalLambda, LocalSettings, host_function};
use crate::local_s3::{LOCAL_RESULTS_BUCKET, LocalS3};
use crate::modeled::{Setup, WorkModel};
use crate::progress::Progress;
use crate::signals::Interrupted;
use anyhow::{Context, Result, bail};
use powersweep_analyzer::{Architecture, LocalRun};
use powersweep_asl::{
    Engine, EngineConfig, HISTORY_EVENTS_QUOTA, History, Outcome, StateMachine, TaskRegistry,
};
use powersweep_emulator::{CpuModeChoice, CpuShare};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub(super) async fn run_local(
    args: &Args,
    inputs: &LocalInputs,
    plan: &Plan,
    cpu_mode: CpuModeChoice,
    model: Option<&Setup>,
) -> Result<Finished> {
    let machine = &inputs.machine;
    let work_model = model.map(WorkModel::new);
    let lambda = start_lambda(args, &inputs.guests, plan, cpu_mode, work_model.clone()).await?;
    let emulator = lambda.emulator();
    let local = LocalRun {
        cpu_mode: emulator.cpu_mode().to_string(),
        vcpu_mb: plan.vcpu_mb,
        host_cores: u32::try_from(powersweep_emulator::host_cores()).unwrap_or(u32::MAX),
        model: model.map(|setup| setup.run.clone()),
    };
    // In the `model` mode Lambda's share is computed, not enforced: nothing is capped.
    let capped: Vec<(u32, CpuShare)> = plan
        .memory
        .iter()
        .map(|&memory| (memory, emulator.cpu_share(memory)))
        .filter(|(_, share)| share.capped && model.is_none())
        .collect();
    for (memory, share) in &capped {
        eprintln!(
            "note: {memory} MB asks for {:.2} vCPUs but this machine has {} cores: its results are capped at {:.2}",
            share.lambda_vcpus, local.host_cores, share.vcpus
        );
    }

    let (outcome, history, s3) = execute(args, plan, &lambda, machine).await;
    let cleanup = wind_down(&lambda, plan, &outcome).await;
    // A signal ends here: "interrupted by SIGTERM; every local environment was stopped".
    let outcome = outcome?;
    for line in cleanup {
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
            // The rounds' raw samples, each with its REPORT line, where AWS keeps them in the
            // results bucket: nothing of a sweep too large for --include-samples is lost.
            let folder = args.out.join(RESULT_FILES_FOLDER);
            let (_, bytes) = s3.size();
            let files = s3.write_to(&folder)?;
            if !files.is_empty() {
                eprintln!(
                    "samples: the rounds' result files are in {} ({} files, {} KB; as in the results bucket on AWS)",
                    folder.display(),
                    files.len(),
                    bytes.div_ceil(1024)
                );
            }
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
                let found: Vec<_> = output
                    .rows
                    .iter()
                    .map(|row| {
                        let key = (output.architecture_of(row), row.memory_mb, row.threads);
                        rows.get(&key).cloned()
                    })
                    .collect();
                for (row, modeled) in output.rows.iter_mut().zip(found) {
                    row.modeled = modeled;
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

/// Where in `--out` a local sweep puts what its rounds wrote to S3, at their keys.
pub(super) const RESULT_FILES_FOLDER: &str = "s3";

/// What a local sweep reads before anything runs, once: the guests folder (with the
/// workload checked in it) and the state machine.
pub(super) struct LocalInputs {
    guests: PathBuf,
    machine: StateMachine,
}

impl LocalInputs {
    /// Reads and checks both; every error here comes before calibration.
    pub(super) fn read(args: &Args, workload: &str) -> Result<Self> {
        let guests = guests_dir(args.guests.clone());
        check_workload(&guests, workload)?;
        Ok(Self {
            guests,
            machine: local_machine(args)?,
        })
    }

    /// The guests folder.
    pub(super) fn guests(&self) -> &Path {
        &self.guests
    }
}

/// The state machine the sweep runs, its placeholders filled with the local functions.
fn local_machine(args: &Args) -> Result<StateMachine> {
    let (text, source) =
        crate::input::state_machine(args.state_machine.as_deref(), args.lift_quotas)?;
    let text = text
        .replace("${HostFunctionName}", host_function(Architecture::X86_64))
        .replace(
            "${HostFunctionArm64Name}",
            host_function(Architecture::Arm64),
        )
        .replace("${AnalyzerFunctionArn}", ANALYZER_ARN)
        .replace("${ResultsBucketName}", LOCAL_RESULTS_BUCKET);
    StateMachine::parse(&text).with_context(|| format!("invalid state machine {source}"))
}

/// The emulator with the host function and the analyzer, and a line saying how it runs CPU.
async fn start_lambda(
    args: &Args,
    guests: &Path,
    plan: &Plan,
    cpu_mode: CpuModeChoice,
    work_model: Option<Arc<WorkModel>>,
) -> Result<LocalLambda> {
    let settings = LocalSettings {
        guests_dir: guests.to_owned(),
        vcpu_mb: plan.vcpu_mb,
        cpu_mode,
        memory_mb: 1769,
        timeout_s: args.timeout,
        environment: crate::local::host_environment(
            &args.allow_table,
            args.dynamodb_endpoint.as_deref(),
        ),
        duration_model: work_model.map(|m| m as Arc<dyn powersweep_emulator::DurationModel>),
        reuse_work: !args.model.no_reuse,
        cfs_period_us: args.model.cgroup_period_us(),
        architectures: plan.architectures.clone(),
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
    Ok(lambda)
}

/// The execution on the local engine, with AWS's quotas unless lifted and a progress bar that
/// counts invocations; a signal ends it early.
async fn execute(
    args: &Args,
    plan: &Plan,
    lambda: &LocalLambda,
    machine: &StateMachine,
) -> (Result<Outcome, Interrupted>, Arc<History>, LocalS3) {
    let progress = Arc::new(Progress::new(plan.invocations()));
    let s3 = LocalS3::default();
    let done = Arc::new(AtomicU64::new(0));
    let service = {
        let (progress, done) = (progress.clone(), done.clone());
        lambda.service(s3.clone(), move |payload| {
            progress.set_done(done.fetch_add(1, Ordering::AcqRel) + 1);
            if let (Some(m), Some(t)) = (payload["memoryMb"].as_u64(), payload["threads"].as_u64())
            {
                progress.set_message(format!("{m} MB × {t} threads"));
            }
        })
    };
    let mut tasks = TaskRegistry::new();
    powersweep_asl::lambda::register_lambda(&mut tasks, service);
    s3.register(&mut tasks);
    let config = EngineConfig {
        max_history_events: (!args.lift_quotas).then_some(HISTORY_EVENTS_QUOTA),
        max_execution_seconds: (!args.lift_quotas)
            .then_some(powersweep_asl::EXECUTION_QUOTA_SECONDS),
        ..EngineConfig::default()
    };
    let execution = Engine::new(tasks)
        .with_config(config)
        .start(machine, plan.input(None));
    let history = execution.history().clone();
    let outcome = tokio::select! {
        outcome = execution.wait() => Ok(outcome),
        signal = crate::signals::interrupted() => Err(signal),
    };
    progress.finish();
    (outcome, history, s3)
}

/// Checks what the sweep left behind, runs the auto-optimized alias once, and stops every
/// local environment. Returns the lines to print if the sweep was not interrupted.
async fn wind_down(
    lambda: &LocalLambda,
    plan: &Plan,
    outcome: &Result<Outcome, Interrupted>,
) -> Vec<String> {
    // autoOptimize left a version behind an alias on purpose; everything else must be gone.
    let optimized = match outcome {
        Ok(Outcome::Succeeded(output)) => output.get("autoOptimized").cloned(),
        _ => None,
    };
    // The function autoOptimize changed: `optimizeTo.function` indexes the plan's functions,
    // as the state machine's PickOptimized reads it, and locally they are the architectures'.
    let optimized_function = match outcome {
        Ok(Outcome::Succeeded(output)) => output["optimizeTo"]["function"]
            .as_u64()
            .and_then(|i| plan.architectures.get(usize::try_from(i).ok()?))
            .copied()
            .unwrap_or(plan.architectures[0]),
        _ => plan.architectures[0],
    };
    let optimized_function = host_function(optimized_function);
    let kept = optimized
        .as_ref()
        .and_then(|o| o["version"].as_str())
        .map(|v| (optimized_function.to_string(), v.to_owned()));
    let mut left = lambda.versions_left();
    left.retain(|v| Some(v) != kept.as_ref());
    let memory: Vec<String> = lambda
        .memory_mb()
        .into_iter()
        .map(|(name, mb)| {
            let mb = mb.map(|m| m.to_string()).unwrap_or_else(|| "?".into());
            if plan.architectures.len() > 1 {
                format!("{name} {mb} MB")
            } else {
                format!("{mb} MB")
            }
        })
        .collect();
    let alias_check = match (&optimized, plan.layout.payloads.first()) {
        (Some(o), Some(payload)) => match o["alias"].as_str() {
            Some(alias) => {
                Some(check_alias(lambda, optimized_function, alias, &plan.workload, payload).await)
            }
            None => None,
        },
        _ => None,
    };
    lambda.shutdown().await;
    let cleanup = format!(
        "cleanup: {} published versions left{}, host memory {} {}",
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
        memory.join(", ")
    );
    std::iter::once(cleanup).chain(alias_check).collect()
}

/// One job through the alias `--auto-optimize-alias` pointed, without `threads`: the line
/// says what it ran with, so a local sweep shows that the optimized configuration works.
async fn check_alias(
    lambda: &LocalLambda,
    function: &str,
    alias: &str,
    workload: &str,
    payload: &Value,
) -> String {
    let request = powersweep_emulator::InvokeRequest {
        function_name: function.into(),
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
