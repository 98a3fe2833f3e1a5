//! Lambda's duration computed from the work a job really did, so local answers do not drift
//! with the machine's speed.
//!
//! The pipeline, one module each:
//! - [`work`]: what the host meters per task (guest work in wasmtime fuel, host calls with
//!   their kind, wall and CPU time); the wire format of `work` in a metered job response.
//! - [`calibration`]: fuel units per ms of one core of this machine, from many short timings
//!   of the workload's unmetered code (robust to drift: a high percentile).
//! - [`latency`]: what each I/O host call would wait for the real service in-region.
//! - [`schedule`]: the share scheduler: N threads, one queue, one CPU quota per CFS period
//!   over the visible cores, no thread faster than one core, waits free of the share.
//! - [`job`]: the three together: one job's modeled duration, work, I/O wait and efficiency.
//! - [`lambda`]: what Lambda gives a memory size (share, visible cores, CFS period) and its
//!   architectures.
//! - [`anchor`]: a Lambda vCPU of each architecture in this machine's terms, from one
//!   published run of a reference kernel, and the check against the rest.
//!
//! Everything here is pure: no I/O, no clocks, no threads. The host measures, the emulator
//! and the CLI decide when to model; this crate only computes.
//!
//! ```
//! use powersweep_model::{job, schedule::Cpu, work::{JobWork, Timeline}, LatencyModel};
//! let mut task = Timeline::default();
//! task.record(2_000_000, None); // 2 M fuel units of guest work, no host call
//! let work = JobWork { plan: Timeline::default(), tasks: vec![task.clone(), task] };
//! let params = job::Params { units_per_ms: 1_000.0, vcpu_speed: 1.0, latency: LatencyModel::default() };
//! let at_3008 = Cpu { vcpus: 3008.0 / 1769.0, cores: 2, period_ms: 20.0 };
//! let one = job::model(&work, 1, at_3008, &params);
//! let two = job::model(&work, 2, at_3008, &params);
//! assert_eq!(one.duration_ms.round(), 4000.0);
//! assert!((one.duration_ms / two.duration_ms - 1.70).abs() < 0.01);
//! ```
#![deny(missing_docs)]

pub mod anchor;
pub mod calibration;
pub mod job;
pub mod lambda;
pub mod latency;
pub mod schedule;
pub mod work;

pub use calibration::{Calibration, CalibrationError};
pub use job::{Modeled, Params, model};
pub use latency::{LatencyError, LatencyModel};
pub use work::{CallKind, HostCall, JobWork, Timeline};
