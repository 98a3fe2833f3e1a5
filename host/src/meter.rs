//! Work metering: per task, a timeline of guest work (wasmtime fuel) and of the host calls
//! that blocked the guest, for the model that computes Lambda's duration from work.
//!
//! How: the engine consumes fuel (about one unit per wasm instruction, the same count every
//! run for deterministic code), and wasmtime's call hook marks every exit from and return to
//! guest code. At each exit the fuel burned since the last one is the guest's work; between
//! exit and return the host's wall and thread-CPU time are the call's. Calls our capabilities
//! name (DynamoDB, log) are recorded with their kind; other exits (WASI calls, libcalls such
//! as `memory.grow` or the epoch tick) are recorded only when they blocked, else their CPU is
//! added to the task's host CPU. "Blocked" means the thread went to sleep (a voluntary
//! context switch), not that the call took long: on a busy machine a thread is preempted in
//! the middle of a libcall, and that wait is this machine's, not the workload's.
//!
//! Off unless the host is configured to meter (fuel makes guest code slower; what it costs:
//! docs/model.md, "Metering"). Must not model anything: it only records what happened.

use crate::throttle::thread_cpu_time;
use crate::usage::thread_voluntary_switches;
use powersweep_model::work::{CallKind, HostCall, Timeline};
use std::time::{Duration, Instant};

/// Fuel a metered store starts with: effectively endless (a job cannot burn 2^62 units).
pub(crate) const FUEL_TANK: u64 = 1 << 62;

/// The meter of one store (one guest thread).
#[derive(Debug, Default)]
pub(crate) struct Meter {
    timeline: Timeline,
    /// Fuel left at the last boundary.
    mark: u64,
    /// Guest work since the last recorded step.
    pending: u64,
    /// When the current host call began (wall, thread CPU, voluntary context switches).
    call: Option<(Instant, Duration, i64)>,
    nesting: Nesting,
    /// What the current host call is, when a capability said so.
    kind: Option<CallKind>,
}

impl Meter {
    /// A task begins with `fuel` left in the store.
    pub(crate) fn start(&mut self, fuel: u64) {
        *self = Meter {
            mark: fuel,
            ..Meter::default()
        };
    }

    /// The guest calls out, with `fuel` left.
    pub(crate) fn enter(&mut self, fuel: u64) {
        if !self.nesting.enter() {
            return;
        }
        self.pending += self.mark.saturating_sub(fuel);
        self.mark = fuel;
        self.kind = None;
        self.call = Some((
            Instant::now(),
            thread_cpu_time(),
            thread_voluntary_switches(),
        ));
    }

    /// A capability names the call in progress.
    pub(crate) fn name(&mut self, kind: CallKind) {
        self.kind = Some(kind);
    }

    /// The call returns to the guest.
    pub(crate) fn leave(&mut self) {
        if !self.nesting.leave() {
            return;
        }
        let Some((started, cpu_before, switches)) = self.call.take() else {
            return;
        };
        let wall = started.elapsed();
        let cpu = thread_cpu_time().saturating_sub(cpu_before);
        let kind = match self.kind.take() {
            Some(kind) => kind,
            None if thread_voluntary_switches() > switches => CallKind::Wasi,
            None => {
                self.timeline.host_cpu_ms += ms(cpu);
                return;
            }
        };
        let fuel = std::mem::take(&mut self.pending);
        self.timeline.record(
            fuel,
            Some(HostCall {
                kind,
                count: 1,
                wall_ms: ms(wall),
                cpu_ms: ms(cpu),
            }),
        );
    }

    /// The task ended with `fuel` left: its timeline.
    pub(crate) fn finish(&mut self, fuel: u64) -> Timeline {
        self.pending += self.mark.saturating_sub(fuel);
        let pending = std::mem::take(&mut self.pending);
        let mut timeline = std::mem::take(&mut self.timeline);
        timeline.record(pending, None);
        timeline
    }
}

/// The thread's CPU time spent outside guest code, for timing unmetered guests
/// (calibration, which times guest code on the same clock).
#[derive(Debug, Default)]
pub(crate) struct HostClock {
    /// Thread CPU time spent in host calls so far.
    pub(crate) total: Duration,
    /// Wall time spent in host calls so far.
    pub(crate) wall: Duration,
    since: Option<(Duration, std::time::Instant)>,
    nesting: Nesting,
}

impl HostClock {
    /// The guest calls out.
    pub(crate) fn enter(&mut self) {
        if self.nesting.enter() {
            self.since = Some((thread_cpu_time(), std::time::Instant::now()));
        }
    }

    /// The call returns to the guest.
    pub(crate) fn leave(&mut self) {
        if self.nesting.leave()
            && let Some((cpu, wall)) = self.since.take()
        {
            self.total += thread_cpu_time().saturating_sub(cpu);
            self.wall += wall.elapsed();
        }
    }
}

/// Nesting of host exits: wasmtime reports some calls twice (the component trampoline and
/// the host function inside it), and only the outermost pair is the guest's call.
#[derive(Debug, Default)]
struct Nesting(u32);

impl Nesting {
    /// An exit from guest code; true when it is the outermost.
    fn enter(&mut self) -> bool {
        self.0 += 1;
        self.0 == 1
    }

    /// A return towards guest code; true when it is back in the guest.
    fn leave(&mut self) -> bool {
        self.0 = self.0.saturating_sub(1);
        self.0 == 0
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_split_at_named_and_blocking_calls_only() {
        let mut m = Meter::default();
        m.start(1_000);
        // A libcall that returns at once: its fuel carries on into the next step.
        m.enter(900);
        m.leave();
        // A DynamoDB put, reported twice by wasmtime (nested).
        m.enter(800);
        m.enter(800);
        m.name(CallKind::PutItem);
        m.leave();
        m.leave();
        // A sleep.
        m.enter(750);
        std::thread::sleep(Duration::from_millis(2));
        m.leave();
        let t = m.finish(700);
        assert_eq!(t.fuel(), 300);
        let kinds: Vec<_> = t
            .steps
            .iter()
            .map(|s| (s.fuel, s.calls.first().map(|c| c.kind)))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (200, Some(CallKind::PutItem)),
                (50, Some(CallKind::Wasi)),
                (50, None)
            ]
        );
        assert!(t.steps[1].calls[0].wall_ms >= 2.0);
    }
}
