//! `powersweep invoke`: one job of a workload, printed as the response JSON.
//!
//! In-process for now: the job runs inside this process, without the Lambda emulator.

use crate::input::{guests_dir, json_arg};
use anyhow::{Result, bail};
use powersweep_host::{Host, HostConfig, JobEvent};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Memory of the function, MB (the guests' memory budget).
    #[arg(long, default_value_t = 1769)]
    memory: u32,
    /// Stop the job after this many seconds.
    #[arg(long, default_value_t = 900.0)]
    timeout: f64,
    /// A DynamoDB table workloads may write (repeatable).
    #[arg(
        long = "allow-table",
        env = "POWERSWEEP_ALLOWED_TABLES",
        value_delimiter = ','
    )]
    allow_table: Vec<String>,
    /// DynamoDB endpoint, e.g. http://127.0.0.1:5000 (default: the AWS configuration).
    #[arg(long)]
    dynamodb_endpoint: Option<String>,
    /// Folder of built workloads (default: guests/dist).
    #[arg(long)]
    guests: Option<PathBuf>,
}

pub async fn run(args: Args) -> Result<ExitCode> {
    let payload = json_arg("--payload", &args.payload)?;
    if !(128..=10_240).contains(&args.memory) {
        bail!("--memory must be 128..=10240 MB, got {}", args.memory);
    }
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        bail!("--timeout must be a positive number of seconds");
    }
    let event = JobEvent {
        workload: args.workload,
        threads: args.threads,
        payload,
        timeout_ms: Some((args.timeout * 1000.0) as u64),
    };
    let mut config = HostConfig::new(guests_dir(args.guests));
    config.memory_mb = args.memory;
    config.allowed_tables = args.allow_table;
    config.dynamodb_endpoint = args.dynamodb_endpoint;
    let host = Host::new(config, tokio::runtime::Handle::current())?;
    let response = tokio::task::spawn_blocking(move || host.run(&event)).await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    match response.errors.first() {
        None => Ok(ExitCode::SUCCESS),
        Some(first) => {
            let more = response.errors.len() - 1;
            let tail = if more > 0 {
                format!(" (and {more} more errors)")
            } else {
                String::new()
            };
            eprintln!("error: {first}{tail}");
            Ok(ExitCode::FAILURE)
        }
    }
}
