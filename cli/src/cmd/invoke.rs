//! `powersweep invoke`: one job of a workload, printed as the response JSON with a `report`
//! object (Lambda's REPORT figures).
//!
//! By default the job goes through the local Lambda emulator, under Lambda's CPU and memory
//! model for `--memory`; `--in-process` runs it in this process instead (no emulator, no CPU
//! cap: quicker for developing a workload).

use crate::input::{check_workload, guests_dir, json_arg};
use crate::local::{LocalLambda, LocalSettings, api_error, host_function};
use crate::modeled::{ModelArgs, WorkModel};
use anyhow::{Context, Result, bail};
use powersweep_emulator::{CpuModeChoice, InvokeRequest, LogType};
use powersweep_host::{Host, HostConfig, JobEvent, JobResponse};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Flags of `powersweep invoke`.
#[derive(clap::Args)]
pub struct Args {
    /// The workload's name (see `powersweep guests`).
    #[arg(long)]
    workload: String,
    /// OS threads to run the tasks on.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// The workload's payload: JSON, or @file.json.
    #[arg(long, default_value = "{}")]
    payload: String,
    /// Memory of the function, MB: its CPU share and memory cap.
    #[arg(long, default_value_t = 1769)]
    memory: u32,
    /// The function's timeout, seconds.
    #[arg(long, default_value_t = 300.0)]
    timeout: f64,
    /// MB of memory per vCPU: 1769 today, 1792 reproduces 2019 Lambda.
    #[arg(long, default_value_t = powersweep_emulator::DEFAULT_VCPU_MB)]
    vcpu_mb: f64,
    /// The function's architecture: whose Lambda vCPU the modeled duration is on.
    #[arg(long, value_enum, default_value = "x86_64")]
    architecture: powersweep_analyzer::Architecture,
    /// Run in this process, without the emulator (no CPU cap).
    #[arg(long)]
    in_process: bool,
    /// How the duration is made: computed from metered work (`model`), or measured under a
    /// CPU cap (`auto`, `cgroup`, `in-process`).
    #[arg(long, value_enum, default_value = "model")]
    cpu_mode: CpuModeChoice,
    #[command(flatten)]
    model: ModelArgs,
    /// A DynamoDB table workloads may write (repeatable).
    #[arg(
        long = "allow-table",
        env = "POWERSWEEP_ALLOWED_TABLES",
        value_delimiter = ','
    )]
    allow_table: Vec<String>,
    /// DynamoDB endpoint, e.g. http://127.0.0.1:5123 (moto), or `aws` for the one your AWS
    /// configuration names; needed with --allow-table.
    #[arg(long, value_parser = crate::input::endpoint_arg)]
    dynamodb_endpoint: Option<String>,
    /// Folder of built workloads (default: guests/dist here, else the built-in ones).
    #[arg(long)]
    guests: Option<PathBuf>,
}

pub async fn run(mut args: Args) -> Result<ExitCode> {
    args.dynamodb_endpoint =
        crate::input::dynamodb_endpoint(args.dynamodb_endpoint.as_deref(), &args.allow_table)?;
    let payload = json_arg(
        "--payload",
        &args.payload,
        powersweep_emulator::MAX_REQUEST_BYTES,
    )?;
    let range = powersweep_emulator::MEMORY_RANGE_MB;
    if !range.contains(&args.memory) {
        bail!(
            "--memory must be {}..={} MB, got {}",
            range.start(),
            range.end(),
            args.memory
        );
    }
    let seconds = powersweep_emulator::TIMEOUT_RANGE_S;
    if !(f64::from(*seconds.start())..=f64::from(*seconds.end())).contains(&args.timeout) {
        bail!(
            "--timeout must be {}..={} seconds, as Lambda allows, got {}",
            seconds.start(),
            seconds.end(),
            args.timeout
        );
    }
    if !(f64::from(*range.start())..=f64::from(*range.end())).contains(&args.vcpu_mb) {
        bail!(
            "--vcpu-mb must be a number of MB between {} and {} (1769 today, 1792 in 2019), got {:?}",
            range.start(),
            range.end(),
            args.vcpu_mb
        );
    }
    let event = JobEvent {
        workload: args.workload.clone(),
        threads: args.threads,
        payload,
        timeout_ms: None,
    };
    if let Err(e) = event.validate() {
        bail!("{}", e.message);
    }
    args.model
        .check_period(!args.in_process && args.cpu_mode != CpuModeChoice::Model)?;
    let guests = guests_dir(args.guests.clone());
    check_workload(&guests, &args.workload)?;
    if args.in_process {
        in_process(args, event, guests).await
    } else {
        emulated(args, event, guests).await
    }
}

async fn in_process(args: Args, event: JobEvent, guests: PathBuf) -> Result<ExitCode> {
    let mut config = HostConfig::new(guests);
    config.memory_mb = args.memory;
    config.allowed_tables = args.allow_table;
    config.dynamodb_endpoint = args.dynamodb_endpoint;
    let event = JobEvent {
        timeout_ms: Some((args.timeout * 1000.0) as u64),
        ..event
    };
    let host = Host::new(config, tokio::runtime::Handle::current())?;
    // Epochs stop guest code at the deadline, but not a host call that blocks (a WASI sleep,
    // a DynamoDB call): Lambda ends the whole environment then, and so does this process. A
    // plain thread, not `spawn_blocking`: the runtime would wait for it on the way out.
    let (sent, answer) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("in-process-job".into())
        .spawn(move || {
            let _ = sent.send(host.run(&event));
        })
        .context("cannot start the job's thread")?;
    let limit = Duration::from_secs_f64(args.timeout) + IN_PROCESS_GRACE;
    let response = match tokio::time::timeout(limit, answer).await {
        Ok(answer) => answer.context("the job's thread ended without an answer")?,
        Err(_) => bail!(
            "Sandbox.Timedout: the job was still in a blocking host call (a sleep or a DynamoDB call) {:.1} s after its --timeout of {} s; Lambda would end the environment here",
            IN_PROCESS_GRACE.as_secs_f64(),
            args.timeout
        ),
    };
    println!("{}", serde_json::to_string_pretty(&response)?);
    Ok(exit_for(&response))
}

/// How long past its timeout an in-process job may take to come back from a host call
/// before the process gives up on it (guest code itself stops within an epoch tick).
const IN_PROCESS_GRACE: Duration = Duration::from_secs(1);

async fn emulated(args: Args, event: JobEvent, guests: PathBuf) -> Result<ExitCode> {
    let environment =
        crate::local::host_environment(&args.allow_table, args.dynamodb_endpoint.as_deref());
    let duration_model = match args.cpu_mode {
        CpuModeChoice::Model => {
            let config = crate::modeled::host_config(&guests, &args.allow_table);
            let setup = args
                .model
                .prepare(
                    &config,
                    &event,
                    crate::modeled::JobLimits {
                        timeout: Duration::from_secs_f64(args.timeout),
                        memory_mb: args.memory,
                        threads: args.threads,
                    },
                    &[args.architecture],
                )
                .await?;
            Some(WorkModel::new(&setup) as std::sync::Arc<dyn powersweep_emulator::DurationModel>)
        }
        _ => None,
    };
    let settings = LocalSettings {
        guests_dir: guests,
        vcpu_mb: args.vcpu_mb,
        cpu_mode: args.cpu_mode,
        duration_model,
        reuse_work: !args.model.no_reuse,
        memory_mb: args.memory,
        timeout_s: args.timeout.ceil() as u32,
        environment,
        architectures: vec![args.architecture],
        cfs_period_us: args.model.cgroup_period_us(),
        workload: Some(args.workload.clone()),
    };
    let lambda = LocalLambda::start(&settings).await?;
    let share = lambda.emulator().cpu_share(args.memory);
    let modeled = args.cpu_mode == CpuModeChoice::Model;
    // Modeled durations use Lambda's whole share: nothing is capped by this machine.
    let capped = share.capped && !modeled;
    eprintln!(
        "cpu: {} ({:.2} vCPUs at {} MB{})",
        lambda.emulator().cpu_mode(),
        if modeled {
            share.lambda_vcpus
        } else {
            share.vcpus
        },
        args.memory,
        if capped {
            ", capped: this machine has fewer cores than Lambda would give"
        } else {
            ""
        }
    );
    let mut invocation = std::pin::pin!(lambda.emulator().invoke(InvokeRequest {
        function_name: host_function(args.architecture).into(),
        qualifier: None,
        payload: serde_json::to_vec(&event)?,
        log_type: LogType::Tail,
    }));
    let result = tokio::select! {
        result = &mut invocation => result,
        signal = crate::signals::interrupted() => {
            // The invocation is driven while the emulator shuts down: `shutdown` waits for a
            // cold start under way, and that start runs in this future (a running job ends
            // as its environment is killed).
            let _ = tokio::join!(
                lambda.shutdown(),
                tokio::time::timeout(Duration::from_secs(10), &mut invocation)
            );
            // The task root goes when `lambda` is dropped, on the way out.
            return Err(signal.into());
        }
    };
    lambda.shutdown().await;
    let out = result.map_err(api_error)?;
    // The host's answer, typed, straight from its bytes; the printed JSON is that answer with
    // the emulator's REPORT beside it.
    let response: Option<JobResponse> = serde_json::from_slice(&out.payload).ok();
    let mut printed: Value = serde_json::from_slice(&out.payload)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&out.payload).into_owned()));
    let report = json!({
        "duration": out.report.duration_ms,
        "billedDuration": out.report.billed_duration_ms,
        "initDuration": out.report.init_duration_ms,
        "memorySize": out.report.memory_size_mb,
        "maxMemoryUsed": out.report.max_memory_used_mb,
        "cpuMode": lambda.emulator().cpu_mode().to_string(),
        "capped": capped,
        "measuredDuration": out.report.measured_duration_ms,
        "line": out.report.line(),
    });
    if let Value::Object(map) = &mut printed {
        map.insert("report".into(), report);
    } else {
        printed = json!({"payload": printed, "report": report});
    }
    println!("{}", serde_json::to_string_pretty(&printed)?);
    if let Some(kind) = &out.function_error {
        let error_type = out.error_type.clone().unwrap_or_else(|| kind.clone());
        let message = printed["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        crate::terminal::print_error(&format!("the function failed: {error_type}: {message}"));
        return Ok(ExitCode::FAILURE);
    }
    Ok(response.as_ref().map(exit_for).unwrap_or(ExitCode::FAILURE))
}

/// Exit 1 with the first error on one line when a task failed.
fn exit_for(response: &JobResponse) -> ExitCode {
    match response.errors.first() {
        None => ExitCode::SUCCESS,
        Some(first) => {
            let more = response.errors.len() - 1;
            let tail = if more > 0 {
                format!(" (and {more} more errors)")
            } else {
                String::new()
            };
            crate::terminal::print_error(&format!("{first}{tail}"));
            ExitCode::FAILURE
        }
    }
}
