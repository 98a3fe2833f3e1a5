//! A local AWS Lambda: functions and versions with Lambda's API, real `bootstrap` processes
//! served the Runtime API on 127.0.0.1, and Lambda's CPU and memory model enforced with cgroups
//! (or, where none can be created, by the host throttling itself).
//!
//! - [`Emulator`] holds the registry and the environments; its typed methods are Lambda's
//!   actions (`create_function`, `invoke`, `update_function_configuration`, …) and
//!   [`Emulator::call`] takes and answers AWS's JSON shapes, for the ASL engine.
//! - Each invocation yields an [`InvokeOutput`] with a typed [`Report`] (Lambda's REPORT line).
//! - [`cpu_share`] is the CPU model: memory → vCPUs and visible cores, [`CpuMode`] says how it
//!   is enforced, or, in the `model` mode, that a [`DurationModel`] computes durations from
//!   the work the host metered instead; with [`EmulatorConfig::reuse_work`], a repeat of a
//!   job that made no host calls and did the same work twice is answered from that run.
//!
//! The bootstrap gets Lambda's variables (`AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port of its own
//! environment>`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, …) and, in in-process mode only,
//! [`ENV_CPU_VCPUS`] with its share as a float; always [`ENV_VISIBLE_CORES`] (Lambda's visible
//! cores, which the CPU affinity also enforces).
//!
//! # Example
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use powersweep_emulator::{Emulator, EmulatorConfig, FunctionSpec, InvokeRequest, LogType};
//! let emu = Emulator::start(EmulatorConfig::default()).await?;
//! println!("CPU mode: {}", emu.cpu_mode());
//! emu.create_function(FunctionSpec {
//!     name: "host".into(),
//!     bootstrap: "target/release/bootstrap".into(),
//!     task_root: ".".into(),
//!     memory_mb: 1769,
//!     timeout_s: 60,
//!     environment: Default::default(),
//!     architecture: None,
//! })?;
//! let out = emu
//!     .invoke(InvokeRequest {
//!         function_name: "host".into(),
//!         payload: br#"{"workload":"pbkdf2","threads":1,"payload":{}}"#.to_vec(),
//!         log_type: LogType::Tail,
//!         ..Default::default()
//!     })
//!     .await?;
//! println!("{}", out.report.line());
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub use crate::aliases::AliasConfiguration;
pub use crate::cgroup::{CgroupError, CgroupVersion, CpuMode};
pub use crate::cpu_model::{CpuShare, DEFAULT_VCPU_MB, MEMORY_RANGE_MB, cpu_share, host_cores};
pub use crate::duration_model::{DurationModel, Modeled, ModeledFunction};
pub use crate::emulator::{
    CpuModeChoice, Emulator, EmulatorConfig, InvokeOutput, InvokeRequest, Leftovers, LogType,
};
pub use crate::environment::{ENV_CPU_VCPUS, ENV_METER, ENV_VISIBLE_CORES};
pub use crate::error::{ErrorType, LambdaApiError, StartError};
pub use crate::registry::{
    ARCHITECTURES, ConfigUpdate, EnvironmentResponse, FunctionConfiguration, FunctionSpec, LATEST,
    TIMEOUT_RANGE_S,
};
pub use crate::report::{Report, billed_ms};
pub use crate::runtime_api::MAX_REQUEST_BYTES;

mod aliases;
mod api;
mod cgroup;
mod cpu_model;
mod duration_model;
mod emulator;
mod environment;
mod error;
mod registry;
mod report;
mod reuse;
mod runtime_api;
