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
    /// Wall time of the same guest code, ms: beside `guest_ms`, how much of the time the
    /// thread had a core (on a busy machine, it waits for one).
    pub wall_ms: f64,
    /// Thread CPU time of one run of the reference kernel, ms, timed right after this
    /// sample (`None` without a reference).
    pub reference_ms: Option<f64>,
}

/// Work timed beside the workload's, on the same thread, right after each sample.
pub type Reference<'a> = &'a mut dyn FnMut();

/// Most repeats of one task in one sample: a task this short is all call overhead.
const MAX_REPEATS: u32 = 100_000;

/// How [`Host::time_tasks`] samples a workload.
#[derive(Debug, Clone, Copy)]
pub struct Sampling {
    /// Sampling goes on until this much wall time has passed and `min_samples` exist.
    pub budget: Duration,
    /// The fewest samples.
    pub min_samples: usize,
    /// The shortest sample, ms of thread CPU time: shorter tasks repeat within one.
    pub sample_ms: f64,
    /// The longest one run of a task may take (the job's own limit).
    pub run_limit: Duration,
}

impl Sampling {
    /// The longest sampling a plan of `tasks` tasks can take, past which the host stops the
    /// guest: the budget, then a warm-up of every task and `min_samples` runs, each as long
    /// as a run may be.
    pub fn longest(&self, tasks: usize) -> Duration {
        let runs = u32::try_from(tasks.saturating_add(self.min_samples)).unwrap_or(u32::MAX);
        self.budget
            .saturating_add(self.run_limit.saturating_mul(runs.saturating_add(1)))
    }

    /// Whether a task whose one run took `one_ms` keeps its warm-up run as a sample: a run
    /// longer than the whole budget is a slow workload's, what a first run costs more (a
    /// fresh memory's page faults) is a vanishing part of it, and timing it again would only
    /// lengthen a calibration that already takes minutes.
    pub fn keeps_warm_up(&self, one_ms: f64) -> bool {
        one_ms * 1e-3 >= self.budget.as_secs_f64()
    }
}

impl Host {
    /// Runs the tasks of `event`'s plan round-robin on one thread until `sampling.budget`
    /// has passed (on the wall clock) and at least `sampling.min_samples` samples exist, each
    /// sample lasting at least `sampling.sample_ms` of thread CPU time (short tasks repeat
    /// within a sample). After each sample, `reference` (one run of a reference kernel) runs
    /// as often as it takes to last as long as the sample, and its time per run is kept
    /// beside the sample. The first run of each task and of the reference is a warm-up and is
    /// not returned, unless the task is slow ([`Sampling`]); the host stops the guest after
    /// [`Sampling::longest`].
    ///
    /// # Errors
    /// The workload fails to load, plan, or run a task; or the plan has no tasks.
    pub fn time_tasks(
        &self,
        event: &JobEvent,
        sampling: Sampling,
        mut reference: Option<Reference<'_>>,
    ) -> Result<Vec<TimedRun>, JobError> {
        let _ticking = self.ticking.busy();
        let workload = self
            .workload(&event.workload)
            .map_err(|e| JobError::job(ErrorKind::Load, e.to_string()))?;
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let memory = MemoryBudget::new(self.config.memory_mb);
        let planning = Deadline::after(Instant::now(), millis(sampling.run_limit));
        let (tasks, _) = self.plan(&workload, event, planning, &memory, &mut None)?;
        if tasks.is_empty() {
            return Err(JobError::job(
                ErrorKind::Plan,
                "the plan has no tasks: nothing to calibrate on",
            ));
        }
        let deadline = Deadline::after(Instant::now(), millis(sampling.longest(tasks.len())));
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
        // Thread CPU and wall ms of `times` runs of a task, host calls excluded from both.
        let mut run = |index: usize, times: u32| -> Result<(f64, f64), JobError> {
            store.data_mut().outside = Default::default();
            let (started, wall) = (thread_cpu_time(), Instant::now());
            for _ in 0..times {
                run_task(&mut store, &bindings, index, &tasks[index])?;
            }
            let outside = &store.data().outside;
            let guest = (thread_cpu_time().saturating_sub(started)).saturating_sub(outside.total);
            let wall = wall.elapsed().saturating_sub(outside.wall);
            Ok((guest.as_secs_f64() * 1e3, wall.as_secs_f64() * 1e3))
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
        let mut kept = Vec::new();
        for index in 0..tasks.len() {
            let (one, wall) = run(index, 1)?;
            let times = times_for(one, sampling.sample_ms);
            repeats.push(times);
            lengths.push(one * f64::from(times));
            if times == 1 && sampling.keeps_warm_up(one) {
                kept.push((index, (one, wall)));
            }
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
        let mut kept = kept.into_iter();
        for index in (0..tasks.len()).cycle() {
            if started.elapsed() >= sampling.budget && samples.len() >= sampling.min_samples {
                break;
            }
            // A kept warm-up stands for this task's first sample; its reference runs now.
            let (guest_ms, wall_ms) = match kept.as_slice().first() {
                Some(&(task, ms)) if task == index => {
                    kept.next();
                    ms
                }
                _ => run(index, repeats[index])?,
            };
            let reference_ms = reference
                .as_mut()
                .zip(reference_repeats.as_ref())
                .map(|(kernel, times)| time_kernel(kernel, times[index]) / f64::from(times[index]));
            samples.push(TimedRun {
                task: index,
                repeats: repeats[index],
                guest_ms,
                wall_ms,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sampling(budget_ms: u64, min_samples: usize, run_limit_s: u64) -> Sampling {
        Sampling {
            budget: Duration::from_millis(budget_ms),
            min_samples,
            sample_ms: 5.0,
            run_limit: Duration::from_secs(run_limit_s),
        }
    }

    #[test]
    fn a_run_longer_than_the_budget_keeps_its_warm_up() {
        let s = sampling(3000, 5, 60);
        assert!(!s.keeps_warm_up(2999.0));
        assert!(s.keeps_warm_up(3000.0));
        assert!(
            s.keeps_warm_up(75_000.0),
            "a 75 s task is not run twice more"
        );
    }

    #[test]
    fn the_longest_sampling_covers_a_warm_up_of_each_task_and_every_sample_at_the_run_limit() {
        let s = sampling(3000, 5, 60);
        // 3 s, then (4 warm-ups + 5 samples + 1 for planning) × 60 s.
        assert_eq!(s.longest(4), Duration::from_secs(3 + 10 * 60));
        let huge = Sampling {
            run_limit: Duration::MAX,
            ..s
        };
        assert_eq!(huge.longest(usize::MAX), Duration::MAX, "saturates");
    }
}
