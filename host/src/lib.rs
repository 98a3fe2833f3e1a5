//! The powersweep host: runs one job of a WebAssembly workload on N threads and measures it.
//!
//! The core types:
//! - [`Host`]: one per process (one per Lambda execution environment). It owns the wasmtime
//!   `Engine`, the `Linker` with the host capabilities, and the workloads loaded so far.
//! - [`Workload`]: a component that implements `powersweep:workload/workload`, compiled once
//!   and pre-instantiated (`InstancePre`), so each thread's instance is cheap.
//! - [`JobEvent`] in, [`JobResponse`] out: the Lambda payload and the answer, camelCase JSON.
//!
//! ```no_run
//! use powersweep_host::{Host, HostConfig, JobEvent};
//!
//! let runtime = tokio::runtime::Runtime::new()?;
//! let host = Host::new(HostConfig::new("guests/dist"), runtime.handle().clone())?;
//! let event: JobEvent = serde_json::from_str(
//!     r#"{"workload": "pbkdf2", "threads": 2, "payload": {"iterations": 1000}}"#,
//! )?;
//! let response = host.run(&event);
//! assert!(response.errors.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod bindings;
mod caps;
mod engine;
mod error;
#[cfg(not(powersweep_precompiled_only))]
mod guests_folder;
mod host;
pub mod lambda;
mod limits;
mod meter;
mod protocol;
mod state;
mod throttle;
mod usage;
mod workload;

pub use bindings::{CONTRACT_PACKAGE, CONTRACT_VERSION};
#[cfg(not(powersweep_precompiled_only))]
pub use engine::{precompile, precompile_for_target};
pub use error::{ConfigError, LoadError};
#[cfg(not(powersweep_precompiled_only))]
pub use guests_folder::precompile_folder;
pub use host::{Host, HostConfig};
pub use host::{Reference, Sampling, TimedRun};
pub use protocol::{ErrorKind, JobError, JobEvent, JobResponse, MAX_THREADS, TaskTiming};
pub use throttle::{Throttle, thread_cpu_time};
pub use workload::{MAX_COMPONENT_BYTES, Workload, check_name};

/// Names of the environment variables the host reads, in one place for the emulator and docs.
pub mod env {
    /// Memory of the function in MB; set by Lambda (and the emulator).
    pub const MEMORY_SIZE: &str = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";
    /// The deployment package's root; workloads are in its `guests/` folder.
    pub const TASK_ROOT: &str = "LAMBDA_TASK_ROOT";
    /// Comma-separated DynamoDB tables workloads may write.
    pub const ALLOWED_TABLES: &str = "POWERSWEEP_ALLOWED_TABLES";
    /// When set (a float, in vCPUs), the host throttles its guest threads to this CPU share
    /// itself; the emulator sets it when it cannot use a cgroup.
    pub const CPU_VCPUS: &str = "POWERSWEEP_CPU_VCPUS";
    /// When `1`, the host meters each task's work (fuel and host calls) and reports it in
    /// the response's `work`; the emulator sets it in its `model` CPU mode.
    pub const METER: &str = "POWERSWEEP_METER";
    /// The thread count of an event that names none (1 when unset); the state machine's
    /// `autoOptimize` sets it to the winning count.
    pub const THREADS: &str = "POWERSWEEP_THREADS";
}
