//! What calibration needs from the host: the workload's own tasks run again and again on one
//! thread, unmetered, each run timed without the time spent in host calls. The CLI pairs
//! these timings with the fuel of a metered run of the same tasks to learn this machine's
//! speed for the workload (`powersweep_model::calibration`).
//!
//! Everything is timed on the thread's own CPU clock (`CLOCK_THREAD_CPUTIME_ID`), not the
//! wall: while another process has the core, this thread's clock stops, so time-sharing
//! cannot slow a sample. What still can (a busy hyperthread sibling, the frequency) slows the
//! core itself; for that a reference kernel, given by the caller, is timed right after each
//! sample on the same thread, so both see the same core and their ratio stays put.
//!
//! Must not compute the speed (that is the model's) nor be used on a host that meters: fuel
//! would slow the code being timed. Host calls should be dry (`HostConfig::dry_io`), so
//! running a task again writes nothing again.

use super::Host;
use super::job::run_task;
use crate::limits::{Deadline, MemoryBudget};
use crate::protocol::{ErrorKind, JobError, JobEvent};
use crate::throttle::thread_cpu_time;
use std::time::{Duration, Instant};
use wasmtime::CallHook;

/// One timed sample: task `task` run `repeats` times back to back, then the reference kernel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimedRun {
    /// The task's index in the plan.
    pub task: usize,
    /// How many times it ran in this sample.
    pub repeats: u32,
    /// Thread CPU time in guest code, ms (host calls excluded).
    pub guest_ms: f64,
    /// Thread CPU time of one run of the reference kernel, ms, timed right after this
    /// sample (`None` without a reference).
    pub reference_ms: Option<f64>,
}

/// Work timed beside the workload's, on the same thread, right after each sample.
pub type Reference<'a> = &'a mut dyn FnMut();

/// Most repeats of one task in one sample: a task this short is all call overhead.
const MAX_REPEATS: u32 = 100_000;

impl Host {
    /// Runs the tasks of `event`'s plan round-robin on one thread until `budget` has passed
    /// (on the wall clock) and at least `min_samples` samples exist, each sample lasting at
    /// least `sample_ms` of thread CPU time (short tasks repeat within a sample). After each
    /// sample, `reference` (one run of a reference kernel) runs as often as it takes to last
    /// as long as the sample, and its time per run is kept beside the sample. The first run of each
    /// task and of the reference is a warm-up and is not returned.
    ///
    /// # Errors
    /// The workload fails to load, plan, or run a task; or the plan has no tasks.
    pub fn time_tasks(
        &self,
        event: &JobEvent,
        budget: Duration,
        min_samples: usize,
        sample_ms: f64,
        mut reference: Option<Reference<'_>>,
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
            let started = thread_cpu_time();
            for _ in 0..times {
                run_task(&mut store, &bindings, index, &tasks[index])?;
            }
            let guest = (thread_cpu_time().saturating_sub(started))
                .saturating_sub(store.data().outside.total);
            Ok(guest.as_secs_f64() * 1e3)
        };
        let times_for = |one_ms: f64, length_ms: f64| {
            (length_ms / one_ms.max(1e-6))
                .ceil()
                .clamp(1.0, f64::from(MAX_REPEATS)) as u32
        };
        // Each task's sample, and the reference run after it, last about as long as the
        // sample: a slow spell then covers both alike.
        let mut repeats = Vec::with_capacity(tasks.len());
        let mut lengths = Vec::with_capacity(tasks.len());
        for index in 0..tasks.len() {
            let one = run(index, 1)?;
            let times = times_for(one, sample_ms);
            repeats.push(times);
            lengths.push(one * f64::from(times));
        }
        let reference_repeats: Option<Vec<u32>> = reference.as_mut().map(|kernel| {
            let one = time_kernel(kernel, 1);
            lengths
                .iter()
                .map(|&length| times_for(one, length))
                .collect()
        });
        let started = Instant::now();
        let mut samples = Vec::new();
        for index in (0..tasks.len()).cycle() {
            if started.elapsed() >= budget && samples.len() >= min_samples {
                break;
            }
            let guest_ms = run(index, repeats[index])?;
            let reference_ms = reference
                .as_mut()
                .zip(reference_repeats.as_ref())
                .map(|(kernel, times)| time_kernel(kernel, times[index]) / f64::from(times[index]));
            samples.push(TimedRun {
                task: index,
                repeats: repeats[index],
                guest_ms,
                reference_ms,
            });
        }
        Ok(samples)
    }
}

/// Thread CPU ms of `times` runs of `kernel`.
fn time_kernel(kernel: &mut dyn FnMut(), times: u32) -> f64 {
    let started = thread_cpu_time();
    for _ in 0..times {
        kernel();
    }
    thread_cpu_time().saturating_sub(started).as_secs_f64() * 1e3
}
