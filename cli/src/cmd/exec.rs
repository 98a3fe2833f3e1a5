//! `powersweep exec FILE`: runs any ASL state machine on the local engine.
//!
//! Exit codes: 0 with the output JSON on success; 1 with `{"error", "cause"}` when the
//! execution fails; 2 for a definition or usage error. Task states have no handlers here
//! except Lambda's, which go nowhere: `exec` is for trying definitions, `sweep` for the job.

use crate::input::{definition_limit, json_arg};
use anyhow::Result;
use powersweep_asl::{
    EXECUTION_QUOTA_SECONDS, Engine, EngineConfig, HISTORY_EVENTS_QUOTA, Outcome,
    PAYLOAD_QUOTA_BYTES, StateMachine, TaskRegistry, VirtualClock,
};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Flags of `powersweep exec`.
#[derive(clap::Args)]
pub struct Args {
    /// The state machine definition (ASL JSON, JSONPath mode).
    file: PathBuf,
    /// The execution input: JSON, or @file.json.
    #[arg(long, default_value = "{}")]
    input: String,
    /// Wait and Retry delays take no real time.
    #[arg(long)]
    virtual_time: bool,
    /// Print the execution history (GetExecutionHistory's events) instead of the output.
    #[arg(long)]
    history: bool,
    /// Run past AWS's quotas for Standard workflows (25,000 history events, 1 MB
    /// definitions, 256 KB payloads), which are enforced by default with AWS's errors.
    #[arg(long)]
    lift_quotas: bool,
}

pub async fn run(args: Args) -> Result<ExitCode> {
    let usage = |e: anyhow::Error| {
        crate::terminal::print_error(&format!("{e:#}"));
        Ok(ExitCode::from(2))
    };
    let input = match json_arg(
        "--input",
        &args.input,
        powersweep_emulator::MAX_REQUEST_BYTES,
    ) {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    let text = match powersweep_input::read_text(&args.file, definition_limit(args.lift_quotas)) {
        Ok(t) => t,
        Err(e) => return usage(e.into()),
    };
    let machine = match StateMachine::parse(&text) {
        Ok(m) => m,
        Err(e) => {
            return usage(anyhow::anyhow!(
                "invalid state machine `{}`: {e}",
                args.file.display()
            ));
        }
    };
    let config = EngineConfig {
        max_history_events: (!args.lift_quotas).then_some(HISTORY_EVENTS_QUOTA),
        payload_limit: (!args.lift_quotas).then_some(PAYLOAD_QUOTA_BYTES),
        max_execution_seconds: (!args.lift_quotas).then_some(EXECUTION_QUOTA_SECONDS),
        ..EngineConfig::default()
    };
    let mut engine = Engine::new(TaskRegistry::new()).with_config(config);
    if args.virtual_time {
        engine = engine.with_clock(Arc::new(VirtualClock::new()));
    }
    let execution = engine.start(&machine, input);
    let history = execution.history().clone();
    let outcome = execution.wait().await;
    if args.history {
        println!("{}", serde_json::to_string_pretty(&history.to_json())?);
    } else {
        println!("{}", serde_json::to_string_pretty(&outcome.to_json())?);
    }
    Ok(match outcome {
        Outcome::Succeeded(_) => ExitCode::SUCCESS,
        Outcome::Failed { .. } => ExitCode::FAILURE,
    })
}
