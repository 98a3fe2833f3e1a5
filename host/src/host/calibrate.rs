//! What calibration needs from the host: the workload's own tasks run again and again on one
//! thread, unmetered, each run timed without the time spent in host calls. The CLI pairs
//! these timings with the fuel of a metered run of the same tasks to learn this machine's
//! speed for the workload (`powersweep_model::calibration`).
//!
//! Must not compute the speed (that is the model's) nor be used on a host that meters: fuel
//! would slow the code being timed. Host calls should be dry (`HostConfig::dry_io`), so
//! running a task again writes nothing again.

use super::Host;
use super::job::run_task;
use crate::limits::{Deadline, MemoryBudget};
use crate::protocol::{ErrorKind, JobError, JobEvent};
use std::time::{Duration, Instant};
use wasmtime::CallHook;

/// One timed sample: task `task` run `repeats` times back to back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimedRun {
    /// The task's index in the plan.
    pub task: usize,
    /// How many times it ran in this sample.
    pub repeats: u32,
    /// Wall time in guest code, ms (host calls excluded).
    pub guest_ms: f64,
}

/// Most repeats of one task in one sample: a task this short is all call overhead.
const MAX_REPEATS: u32 = 100_000;

impl Host {
    /// Runs the tasks of `event`'s plan round-robin on one thread until `budget` has passed
    /// and at least `min_samples` samples exist, each sample lasting at least `sample_ms`
    /// (short tasks repeat within a sample). The first run of each task is a warm-up and is
    /// not returned.
    ///
    /// # Errors
    /// The workload fails to load, plan, or run a task; or the plan has no tasks.
    pub fn time_tasks(
        &self,
        event: &JobEvent,
        budget: Duration,
        min_samples: usize,
        sample_ms: f64,
    ) -> Result<Vec<TimedRun>, JobError> {
        let _ticking = self.ticking.busy();
        let workload = self
            .workload(&event.workload)
            .map_err(|e| JobError::job(ErrorKind::Load, e.to_string()))?;
        let limit = (budget * 4).max(Duration::from_secs(60));
        let deadline = Deadline::after(Instant::now(), limit.as_millis() as u64);
        let memory = MemoryBudget::new(self.config.memory_mb);
        let tasks = self.plan(&workload, event, deadline, &memory, &mut None)?;
        if tasks.is_empty() {
            return Err(JobError::job(
                ErrorKind::Plan,
                "the plan has no tasks: nothing to calibrate on",
            ));
        }
        let (mut store, bindings) = self.instantiate(&workload, deadline, &memory)?;
        store.call_hook(|mut ctx, hook| {
            let clock = &mut ctx.data_mut().outside;
            match hook {
                CallHook::CallingHost => clock.enter(),
                CallHook::ReturningFromHost => clock.leave(),
                CallHook::CallingWasm | CallHook::ReturningFromWasm => {}
            }
            Ok(())
        });
        let mut run = |index: usize, times: u32| -> Result<f64, JobError> {
            store.data_mut().outside = Default::default();
            let started = Instant::now();
            for _ in 0..times {
                run_task(&mut store, &bindings, index, &tasks[index])?;
            }
            let guest = started.elapsed().saturating_sub(store.data().outside.total);
            Ok(guest.as_secs_f64() * 1e3)
        };
        let mut repeats = Vec::with_capacity(tasks.len());
        for index in 0..tasks.len() {
            let warm_up = run(index, 1)?;
            let times = (sample_ms / warm_up.max(1e-6))
                .ceil()
                .clamp(1.0, f64::from(MAX_REPEATS));
            repeats.push(times as u32);
        }
        let started = Instant::now();
        let mut samples = Vec::new();
        for index in (0..tasks.len()).cycle() {
            if started.elapsed() >= budget && samples.len() >= min_samples {
                break;
            }
            let guest_ms = run(index, repeats[index])?;
            samples.push(TimedRun {
                task: index,
                repeats: repeats[index],
                guest_ms,
            });
        }
        Ok(samples)
    }
}
