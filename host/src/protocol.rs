//! The job's wire format: the Lambda event in, the response out (camelCase JSON).
//!
//! The state machine, the analyzer and the CLI rely on these shapes; change them only with
//! a version bump of the contract. Must not contain behaviour beyond validation.

use powersweep_model::JobWork;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most threads a job may ask for: far more than Lambda's 6 cores, few enough that a typo
/// cannot exhaust the instance pool.
pub const MAX_THREADS: usize = 64;

/// One job: which workload, on how many threads, with what payload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobEvent {
    /// The workload's name (its file in the guests folder, without `.wasm`).
    pub workload: String,
    /// OS threads to run the tasks on.
    #[serde(default = "one")]
    pub threads: usize,
    /// The workload's payload, handed to its `plan` as JSON text.
    #[serde(default)]
    pub payload: Value,
    /// A deadline for the job in milliseconds, below the invocation's own deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

fn one() -> usize {
    1
}

impl JobEvent {
    /// Checks what serde cannot: the thread count's range.
    pub fn validate(&self) -> Result<(), JobError> {
        if self.threads == 0 || self.threads > MAX_THREADS {
            return Err(JobError::job(
                ErrorKind::BadEvent,
                format!("`threads` must be 1..={MAX_THREADS}, got {}", self.threads),
            ));
        }
        Ok(())
    }
}

/// What the host answers for one job. `errors` is empty when everything went well.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobResponse {
    /// The workload that ran.
    pub workload: String,
    /// Threads requested.
    pub threads: usize,
    /// One result per task, in task order; `null` for a task that failed.
    pub results: Vec<Value>,
    /// Timing of each task that ran, in task order.
    pub tasks: Vec<TaskTiming>,
    /// Wall time of the job (plan and all tasks), milliseconds.
    pub duration_ms: f64,
    /// CPU time the process spent during the job (all threads), milliseconds.
    pub cpu_ms: f64,
    /// The function's memory size in MB.
    pub memory_mb: u32,
    /// Cores visible to the process (what `nproc` says; Lambda shows 2 up to 3,008 MB).
    pub vcpus: usize,
    /// Whether this was the first job of this process (a cold start).
    pub cold: bool,
    /// What the cold start cost: engine set-up and loading the component, milliseconds;
    /// 0 on warm jobs.
    pub init_ms: f64,
    /// Peak resident memory of the process, MB.
    pub max_rss_mb: f64,
    /// What went wrong, if anything.
    pub errors: Vec<JobError>,
    /// Items the job's DynamoDB calls wrote (a batch's unprocessed items not counted),
    /// whether or not the job then failed: what a failed job had already written is in the
    /// table too, and this is how the counts reconcile.
    #[serde(default)]
    pub written_items: u64,
    /// The metered work of the plan and of each task, when the host meters (locally, in the
    /// emulator's `model` CPU mode); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work: Option<JobWork>,
}

/// When and where one task ran.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TaskTiming {
    /// The task's position in the plan.
    pub index: usize,
    /// Which of the job's threads ran it, from 0.
    pub thread: usize,
    /// How long it took, milliseconds.
    pub ms: f64,
    /// When it started, milliseconds after the job started.
    pub start_ms: f64,
}

/// One failure, named by task when it belongs to one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{}{message}", task.map(|t| format!("task {t}: ")).unwrap_or_default())]
pub struct JobError {
    /// The task's index, or `None` for a failure of the whole job.
    pub task: Option<usize>,
    /// What kind of failure.
    pub kind: ErrorKind,
    /// One line for a human.
    pub message: String,
}

impl JobError {
    /// A failure of the whole job.
    pub fn job(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            task: None,
            kind,
            message: message.into(),
        }
    }

    /// A failure of one task.
    pub fn task(task: usize, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            task: Some(task),
            kind,
            message: message.into(),
        }
    }
}

/// The kinds of failure, stable names for programs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The event is malformed (bad JSON, wrong types, threads out of range).
    BadEvent,
    /// The workload could not be found or loaded.
    Load,
    /// Instantiating the component failed.
    Instantiate,
    /// The workload's `plan` returned an error.
    Plan,
    /// The workload's `run` returned an error.
    Guest,
    /// The guest trapped (including a Rust panic, which aborts).
    Trap,
    /// The job's deadline passed; the guest was stopped.
    Deadline,
    /// The guest tried to grow its memory past the function's memory size.
    MemoryLimit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_defaults_and_rejects() {
        let e: JobEvent = serde_json::from_str(r#"{"workload":"pbkdf2"}"#).unwrap();
        assert_eq!((e.threads, e.payload.clone()), (1, Value::Null));
        assert!(serde_json::from_str::<JobEvent>(r#"{"workload":"x","thread":2}"#).is_err());
        assert!(serde_json::from_str::<JobEvent>(r#"{"workload":"x","threads":"2"}"#).is_err());
        let zero = JobEvent {
            threads: 0,
            ..e.clone()
        };
        assert_eq!(zero.validate().unwrap_err().kind, ErrorKind::BadEvent);
        let huge = JobEvent {
            threads: 100_000,
            ..e
        };
        assert!(huge.validate().unwrap_err().message.contains("1..=64"));
    }

    #[test]
    fn errors_name_the_task() {
        let e = JobError::task(3, ErrorKind::Trap, "wasm trap: unreachable");
        assert_eq!(e.to_string(), "task 3: wasm trap: unreachable");
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"task": 3, "kind": "trap", "message": "wasm trap: unreachable"})
        );
    }
}
