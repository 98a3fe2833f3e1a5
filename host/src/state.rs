//! What one `Store` holds: the WASI context (nothing granted), the memory limiter, the
//! deadline, the throttle and the host capabilities. One store per thread per job; never
//! shared across threads.

use crate::caps::dynamo::DynamoCap;
use crate::limits::{Deadline, MemoryLimiter};
use crate::meter::Meter;
use crate::throttle::{Throttle, thread_cpu_time};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Guest stderr kept per store, enough for a panic message.
const STDERR_CAPACITY: usize = 16 * 1024;

/// The data of one guest store.
pub struct GuestState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) deadline: Deadline,
    throttle: Option<Arc<Throttle>>,
    /// This thread's CPU clock at the last throttle charge.
    cpu_seen: Duration,
    stderr: MemoryOutputPipe,
    pub(crate) dynamo: DynamoCap,
    /// For log lines: which workload and task is speaking.
    pub(crate) workload: Arc<str>,
    pub(crate) task: Option<usize>,
    /// Set when the host meters work (see `meter.rs`).
    pub(crate) meter: Option<Meter>,
    /// Wall time spent in host calls: calibration times guest code alone (`calibrate.rs`).
    pub(crate) outside: crate::meter::HostClock,
    /// Items this store's DynamoDB calls wrote since the job last took the count.
    pub(crate) written: u64,
}

impl GuestState {
    /// A state granting nothing but clocks and randomness through WASI.
    pub fn new(
        workload: Arc<str>,
        limiter: MemoryLimiter,
        deadline: Deadline,
        throttle: Option<Arc<Throttle>>,
        dynamo: DynamoCap,
    ) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        // Deny by default: no preopens, no environment, no arguments, no sockets.
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter,
            deadline,
            throttle,
            cpu_seen: thread_cpu_time(),
            stderr,
            dynamo,
            workload,
            task: None,
            meter: None,
            outside: Default::default(),
            written: 0,
        }
    }

    /// Tells the meter, if any, what the host call in progress is.
    pub(crate) fn name_call(&mut self, kind: powersweep_model::CallKind) {
        if let Some(meter) = &mut self.meter {
            meter.name(kind);
        }
    }

    /// Called at every epoch tick: stop at the deadline, else pay the throttle.
    pub fn on_tick(&mut self) -> wasmtime::Result<()> {
        self.deadline.check()?;
        if let Some(throttle) = &self.throttle {
            let now = thread_cpu_time();
            let pause = throttle.charge(now.saturating_sub(self.cpu_seen));
            if !pause.is_zero() {
                std::thread::sleep(pause);
            }
            // Re-read after sleeping: the sleep itself costs a little CPU we need not charge.
            self.cpu_seen = thread_cpu_time();
        }
        Ok(())
    }

    /// What the guest last said on stderr that explains a trap: a Rust panic's location and
    /// message (two lines, joined), else the last meaningful line.
    pub fn last_stderr_line(&self) -> Option<String> {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("note: run with `RUST_BACKTRACE"))
            .collect();
        if let Some(at) = lines.iter().rposition(|l| l.contains(" panicked at ")) {
            return Some(
                lines[at..]
                    .iter()
                    .take(2)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        lines.last().map(|l| l.to_string())
    }
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
