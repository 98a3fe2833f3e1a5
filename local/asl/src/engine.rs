//! [`Engine`] (handlers + clock + settings) starts [`Execution`]s of a [`StateMachine`]; an
//! execution's history can be read while it runs, and it ends in an [`Outcome`].
//!
//! Owns execution setup and teardown (ARNs, the `ExecutionStarted`/`…Succeeded`/`…Failed`
//! events). It must not interpret states; `eval/` does.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::eval::{Exec, Meta, run_execution};
use crate::history::History;
use crate::machine::StateMachine;
use crate::task::TaskRegistry;

/// AWS's quota of history events per Standard execution (a hard quota).
pub const HISTORY_EVENTS_QUOTA: u64 = 25_000;

/// powersweep's bound on what one execution's recorded history holds, bytes (about: the
/// JSON text of its events). Not an AWS quota: it stays when `--lift-quotas` lifts those,
/// so that a machine that loops stops here instead of taking the computer's memory. It is
/// far above what any execution within AWS's quotas records for a sweep.
pub const MAX_HISTORY_BYTES: u64 = 1 << 30;

/// AWS's largest state input or output, in bytes of JSON text (a hard quota).
pub const PAYLOAD_QUOTA_BYTES: usize = 262_144;

/// AWS's largest state machine definition, in bytes (a hard quota).
pub const DEFINITION_QUOTA_BYTES: usize = 1_048_576;

/// AWS's longest Standard execution, in seconds: one year (365 days). Past it the execution
/// times out with `States.Timeout`, as one with a shorter top-level `TimeoutSeconds` does.
pub const EXECUTION_QUOTA_SECONDS: u64 = 365 * 24 * 60 * 60;

/// Settings of an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Record history events (default true). Off, only ids are counted; useful for benchmarks.
    pub record_history: bool,
    /// The largest state output or execution input, in bytes of JSON text (AWS: 262,144).
    /// `None` disables the check.
    pub payload_limit: Option<usize>,
    /// The most history events an execution may have, its end included (AWS's quota for
    /// Standard workflows, [`HISTORY_EVENTS_QUOTA`], by default). Past it the execution fails
    /// with `States.Runtime`, as on AWS. `None` lifts it (memory then grows with the history).
    pub max_history_events: Option<u64>,
    /// The most bytes one execution's recorded history may hold ([`MAX_HISTORY_BYTES`] by
    /// default): powersweep's bound, not AWS's, so that lifting the quotas never lifts the
    /// machine's memory. Past it the execution fails with `States.Runtime`. `None` lifts it.
    pub max_history_bytes: Option<u64>,
    /// The longest an execution may run on its clock ([`EXECUTION_QUOTA_SECONDS`] by
    /// default; a top-level `TimeoutSeconds` may shorten it). `None` lifts it.
    pub max_execution_seconds: Option<u64>,
    /// Fail the execution with `States.Runtime` after this many state transitions (Map
    /// iterations and branches count too). `None` (the default) means no limit; AWS's own
    /// limit is 25,000 history events, which a 10,000-item inline Map already exceeds.
    pub max_transitions: Option<u64>,
    /// Region used in ARNs (default `us-east-1`).
    pub region: String,
    /// Account id used in ARNs (default `123456789012`).
    pub account: String,
    /// `$$.Execution.RoleArn`.
    pub role_arn: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            record_history: true,
            payload_limit: Some(PAYLOAD_QUOTA_BYTES),
            max_history_events: Some(HISTORY_EVENTS_QUOTA),
            max_history_bytes: Some(MAX_HISTORY_BYTES),
            max_execution_seconds: Some(EXECUTION_QUOTA_SECONDS),
            max_transitions: None,
            region: "us-east-1".into(),
            account: "123456789012".into(),
            role_arn: "arn:aws:iam::123456789012:role/powersweep-local".into(),
        }
    }
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It succeeded with this output.
    Succeeded(Value),
    /// It failed. Either part may be absent (a `Fail` state without `Error`/`Cause`).
    Failed {
        /// The error name.
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
}

impl Outcome {
    /// The output, if the execution succeeded.
    pub fn output(&self) -> Option<&Value> {
        match self {
            Outcome::Succeeded(v) => Some(v),
            Outcome::Failed { .. } => None,
        }
    }

    /// The outcome as the CLI prints it: the output, or `{"error": …, "cause": …}`.
    pub fn to_json(&self) -> Value {
        match self {
            Outcome::Succeeded(v) => v.clone(),
            Outcome::Failed { error, cause } => json!({"error": error, "cause": cause}),
        }
    }
}

/// Runs state machines: task handlers, a clock and settings.
#[derive(Clone)]
pub struct Engine {
    tasks: Arc<TaskRegistry>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("tasks", &self.tasks)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine with these task handlers, the system clock and default settings.
    pub fn new(tasks: TaskRegistry) -> Engine {
        Engine {
            tasks: Arc::new(tasks),
            clock: Arc::new(SystemClock),
            config: EngineConfig::default(),
        }
    }

    /// Uses another clock, e.g. a [`VirtualClock`](crate::VirtualClock) so that `Wait`
    /// states and retry delays take no real time. Task `TimeoutSeconds` stay in real time.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Engine {
        self.clock = clock;
        self
    }

    /// Replaces the settings.
    pub fn with_config(mut self, config: EngineConfig) -> Engine {
        self.config = config;
        self
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Starts an execution with a generated name; see [`Engine::start_named`].
    pub fn start(&self, machine: &StateMachine, input: Value) -> Execution {
        self.start_named(machine, &uuid::Uuid::new_v4().to_string(), input)
    }

    /// Starts an execution on the current tokio runtime and returns at once.
    ///
    /// # Panics
    /// When called outside a tokio runtime (as `tokio::spawn` does).
    pub fn start_named(&self, machine: &StateMachine, name: &str, input: Value) -> Execution {
        let cfg = &self.config;
        let sm_arn = format!(
            "arn:aws:states:{}:{}:stateMachine:{}",
            cfg.region, cfg.account, machine.name
        );
        let arn = format!(
            "arn:aws:states:{}:{}:execution:{}:{name}",
            cfg.region, cfg.account, machine.name
        );
        let history = Arc::new(History::new(
            cfg.record_history,
            cfg.max_history_events,
            cfg.max_history_bytes,
        ));
        let start_time = self.clock.now();
        let limit = match (machine.root.timeout_seconds, cfg.max_execution_seconds) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let deadline = limit.map(|s| {
            start_time + chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000))
        });
        let exec = Arc::new(Exec {
            tasks: self.tasks.clone(),
            clock: self.clock.clone(),
            history: history.clone(),
            config: cfg.clone(),
            meta: Meta {
                execution_arn: arn.clone(),
                execution_name: name.to_owned(),
                start_time,
                input: input.clone(),
                state_machine_arn: sm_arn.clone(),
                state_machine_name: machine.name.clone(),
            },
            deadline,
            transitions: AtomicU64::new(0),
        });
        let root = machine.root.clone();
        let handle = tokio::spawn(run_execution(exec, root, input));
        Execution {
            arn,
            history,
            handle,
        }
    }

    /// Runs an execution to its end.
    ///
    /// # Panics
    /// When called outside a tokio runtime.
    pub async fn run(&self, machine: &StateMachine, input: Value) -> Outcome {
        self.start(machine, input).wait().await
    }
}

/// A running (or finished) execution.
#[derive(Debug)]
pub struct Execution {
    arn: String,
    history: Arc<History>,
    handle: JoinHandle<Outcome>,
}

impl Execution {
    /// The execution ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The history, readable (and subscribable) while the execution runs.
    pub fn history(&self) -> &Arc<History> {
        &self.history
    }

    /// True once the execution has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Stops the execution (its running tasks are dropped).
    pub fn abort(&self) {
        self.handle.abort();
    }

    /// Waits for the end of the execution.
    pub async fn wait(self) -> Outcome {
        match self.handle.await {
            Ok(o) => o,
            Err(e) if e.is_cancelled() => Outcome::Failed {
                error: Some("States.Runtime".into()),
                cause: Some("The execution was aborted.".into()),
            },
            Err(e) => Outcome::Failed {
                error: Some("States.Runtime".into()),
                cause: Some(format!("The engine failed unexpectedly: {e}")),
            },
        }
    }
}
