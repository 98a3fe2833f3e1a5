//! Running one job: `plan` once, then the tasks on N OS threads, each with its own `Store`
//! and instance, results kept in task order, every task timed. Failures become values in
//! the response; the host stays usable for the next job.
//!
//! Must not parse events from the wire (see `protocol`) or know about Lambda.

use super::Host;
use crate::bindings;
use crate::caps::dynamo::DynamoCap;
use crate::limits::{Deadline, DeadlineExceeded, MemoryBudget, MemoryLimitExceeded, MemoryLimiter};
use crate::meter::{FUEL_TANK, Meter};
use crate::protocol::{ErrorKind, JobError, JobEvent, JobResponse, TaskTiming};
use crate::state::GuestState;
use crate::usage;
use crate::workload::{Workload, one_line};
use powersweep_model::{JobWork, Timeline};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};
use wasmtime::{CallHook, Store, UpdateDeadline};

/// What one task produced.
struct Outcome {
    result: Result<Value, JobError>,
    timing: TaskTiming,
    /// Its metered work, when the host meters.
    work: Option<Timeline>,
    /// Items its DynamoDB calls wrote.
    written: u64,
}

impl Host {
    /// Runs a job to completion (or its deadline) and reports it. Never fails: errors are in
    /// the response's `errors`.
    pub fn run(&self, event: &JobEvent) -> JobResponse {
        let limit = event.timeout_ms.unwrap_or(self.config.default_timeout_ms);
        self.run_until(event, Deadline::after(Instant::now(), limit))
    }

    /// Like [`Host::run`], stopping guests at `deadline` (e.g. a Lambda invocation's deadline).
    pub fn run_with_deadline(&self, event: &JobEvent, deadline: Instant) -> JobResponse {
        let now = Instant::now();
        let mut limit = deadline.saturating_duration_since(now).as_millis() as u64;
        if let Some(ms) = event.timeout_ms {
            limit = limit.min(ms);
        }
        self.run_until(event, Deadline::after(now, limit))
    }

    /// The workload's own one-line description (its `describe` export).
    ///
    /// # Errors
    /// When the workload cannot be loaded, instantiated, or traps.
    pub fn describe(&self, name: &str) -> Result<String, JobError> {
        let _ticking = self.ticking.busy();
        let workload = self
            .workload(name)
            .map_err(|e| JobError::job(ErrorKind::Load, e.to_string()))?;
        let deadline = Deadline::after(Instant::now(), 10_000);
        let (mut store, bindings) = self.instantiate(
            &workload,
            deadline,
            &MemoryBudget::new(self.config.memory_mb),
        )?;
        bindings
            .call_describe(&mut store)
            .map_err(|e| failure(None, ErrorKind::Trap, &e, &store))
    }

    /// Benchmark hook (`cargo xtask bench`), not API: instantiates `name` from its
    /// `InstancePre` into a fresh store, as each job thread does, and returns how long that
    /// took (store creation included).
    #[doc(hidden)]
    pub fn time_instantiation(&self, name: &str) -> Result<Duration, JobError> {
        let _ticking = self.ticking.busy();
        let workload = self
            .workload(name)
            .map_err(|e| JobError::job(ErrorKind::Load, e.to_string()))?;
        let budget = MemoryBudget::new(self.config.memory_mb);
        let deadline = Deadline::after(Instant::now(), 10_000);
        let started = Instant::now();
        let instance = self.instantiate(&workload, deadline, &budget)?;
        let elapsed = started.elapsed();
        drop(instance);
        Ok(elapsed)
    }

    fn run_until(&self, event: &JobEvent, deadline: Deadline) -> JobResponse {
        let _ticking = self.ticking.busy();
        let started = Instant::now();
        let cpu_before = usage::process_cpu_time();
        let cold = self.take_cold_start();
        let mut response = JobResponse {
            workload: event.workload.clone(),
            threads: event.threads,
            results: Vec::new(),
            tasks: Vec::new(),
            duration_ms: 0.0,
            cpu_ms: 0.0,
            memory_mb: self.config.memory_mb,
            vcpus: usage::visible_cores(),
            cold: cold.is_some(),
            init_ms: 0.0,
            max_rss_mb: 0.0,
            errors: Vec::new(),
            written_items: 0,
            work: None,
        };
        let loading = Instant::now();
        let workload = event.validate().and_then(|()| {
            self.workload(&event.workload)
                .map_err(|e| JobError::job(ErrorKind::Load, e.to_string()))
        });
        if let Some(setup) = cold {
            // A cold start pays for the engine and for loading the component.
            response.init_ms = ms(setup + loading.elapsed());
        }
        match workload {
            Ok(workload) => self.run_loaded(&workload, event, deadline, &mut response),
            Err(e) => response.errors.push(e),
        }
        response.duration_ms = ms(started.elapsed());
        response.cpu_ms = ms(usage::process_cpu_time().saturating_sub(cpu_before));
        response.max_rss_mb = usage::max_rss_mb();
        response
    }

    fn run_loaded(
        &self,
        workload: &Workload,
        event: &JobEvent,
        deadline: Deadline,
        out: &mut JobResponse,
    ) {
        let budget = MemoryBudget::new(self.config.memory_mb);
        let mut plan_work = None;
        let planned = self.plan(workload, event, deadline, &budget, &mut plan_work);
        let tasks = match planned {
            Ok((tasks, written)) => {
                out.written_items += written;
                tasks
            }
            Err(e) => return out.errors.push(e),
        };
        let outcomes = self.run_tasks(workload, &tasks, event.threads, deadline, &budget);
        let mut work = plan_work.map(|plan| JobWork {
            plan,
            tasks: Vec::with_capacity(tasks.len()),
        });
        for (index, outcome) in outcomes.into_iter().enumerate() {
            let (outcome, timeline) = match outcome {
                Some(Outcome {
                    result,
                    timing,
                    work,
                    written,
                }) => {
                    out.written_items += written;
                    (Some((result, timing)), work)
                }
                None => (None, None),
            };
            if let Some(work) = &mut work {
                work.tasks.push(timeline.unwrap_or_default());
            }
            match outcome {
                Some((result, timing)) => {
                    out.tasks.push(timing);
                    match result {
                        Ok(value) => out.results.push(value),
                        Err(e) => {
                            out.results.push(Value::Null);
                            out.errors.push(e);
                        }
                    }
                }
                None => {
                    // Only when this task's thread could not even instantiate: say so.
                    out.results.push(Value::Null);
                    out.errors.push(JobError::task(
                        index,
                        ErrorKind::Instantiate,
                        "the task never ran: its thread could not instantiate the workload",
                    ));
                }
            }
        }
        out.work = work;
    }

    pub(crate) fn plan(
        &self,
        workload: &Workload,
        event: &JobEvent,
        deadline: Deadline,
        budget: &Arc<MemoryBudget>,
        work: &mut Option<Timeline>,
    ) -> Result<(Vec<String>, u64), JobError> {
        let payload = match &event.payload {
            Value::Null => "{}".to_string(),
            other => other.to_string(),
        };
        let mut store = self.store(workload, deadline, budget);
        let instance = workload
            .pre
            .instantiate(&mut store)
            .map_err(|e| failure(None, ErrorKind::Instantiate, &e, &store))?;
        start_metering(&mut store);
        let planned = instance.call_plan(&mut store, &payload);
        *work = finish_metering(&mut store);
        let tasks = planned
            .map_err(|e| failure(None, ErrorKind::Trap, &e, &store))?
            .map_err(|message| JobError::job(ErrorKind::Plan, format!("plan failed: {message}")))?;
        Ok((tasks, store.data().written))
    }

    /// Runs `tasks` on up to `threads` threads, pulling from a shared queue so a slow task
    /// does not hold back the others. Returns one outcome per task, in task order.
    fn run_tasks(
        &self,
        workload: &Workload,
        tasks: &[String],
        threads: usize,
        deadline: Deadline,
        budget: &Arc<MemoryBudget>,
    ) -> Vec<Option<Outcome>> {
        let slots: Vec<Mutex<Option<Outcome>>> = tasks.iter().map(|_| Mutex::new(None)).collect();
        let threads = threads.min(tasks.len());
        let next = AtomicUsize::new(0);
        // Everyone instantiates first, then all start together: otherwise the first thread
        // ready would take tasks before the others exist and 2 threads would look like 1.
        let ready = Barrier::new(threads);
        let job_start = Instant::now();
        std::thread::scope(|scope| {
            for thread in 0..threads {
                let (slots, next, ready) = (&slots, &next, &ready);
                scope.spawn(move || {
                    self.worker(
                        workload, tasks, thread, deadline, budget, slots, next, ready, job_start,
                    )
                });
            }
        });
        slots
            .into_iter()
            .map(|s| s.into_inner().unwrap_or_else(|p| p.into_inner()))
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn worker(
        &self,
        workload: &Workload,
        tasks: &[String],
        thread: usize,
        deadline: Deadline,
        budget: &Arc<MemoryBudget>,
        slots: &[Mutex<Option<Outcome>>],
        next: &AtomicUsize,
        ready: &Barrier,
        job_start: Instant,
    ) {
        let mut instance = self.instantiate(workload, deadline, budget);
        ready.wait();
        loop {
            let index = next.fetch_add(1, Ordering::AcqRel);
            let Some(task) = tasks.get(index) else { break };
            let start = Instant::now();
            let mut work = None;
            let mut written = 0;
            let result = match &mut instance {
                Ok((store, bindings)) => {
                    store.data_mut().task = Some(index);
                    store.data_mut().written = 0;
                    start_metering(store);
                    let ran = run_task(store, bindings, index, task);
                    work = finish_metering(store);
                    written = store.data().written;
                    ran.map(|text| serde_json::from_str(&text).unwrap_or(Value::String(text)))
                }
                Err(e) => Err(JobError {
                    task: Some(index),
                    ..e.clone()
                }),
            };
            let timing = TaskTiming {
                index,
                thread,
                ms: ms(start.elapsed()),
                start_ms: ms(start - job_start),
            };
            let trapped = matches!(&result, Err(e) if e.kind != ErrorKind::Guest);
            if let Some(slot) = slots.get(index) {
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(Outcome {
                    result,
                    timing,
                    work,
                    written,
                });
            }
            if trapped {
                // A trapped instance cannot be entered again: drop it (returning its memory)
                // and give the next task a fresh one.
                drop(std::mem::replace(
                    &mut instance,
                    Err(JobError::job(
                        ErrorKind::Instantiate,
                        "replacing a trapped instance",
                    )),
                ));
                instance = self.instantiate(workload, deadline, budget);
            }
        }
    }

    pub(crate) fn instantiate(
        &self,
        workload: &Workload,
        deadline: Deadline,
        budget: &Arc<MemoryBudget>,
    ) -> Result<(Store<GuestState>, bindings::Workload), JobError> {
        let mut store = self.store(workload, deadline, budget);
        match workload.pre.instantiate(&mut store) {
            Ok(bindings) => Ok((store, bindings)),
            Err(e) => Err(failure(None, ErrorKind::Instantiate, &e, &store)),
        }
    }

    fn store(
        &self,
        workload: &Workload,
        deadline: Deadline,
        budget: &Arc<MemoryBudget>,
    ) -> Store<GuestState> {
        let state = GuestState::new(
            workload.name_arc(),
            MemoryLimiter::new(budget.clone()),
            deadline,
            self.throttle.clone(),
            DynamoCap(self.dynamo.clone()),
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        if self.config.meter {
            // Cannot fail: the engine consumes fuel exactly when the host meters.
            let _ = store.set_fuel(FUEL_TANK);
            store.data_mut().meter = Some(Meter::default());
            store.call_hook(|mut ctx, hook| {
                match hook {
                    CallHook::CallingHost => {
                        let fuel = ctx.get_fuel().unwrap_or(0);
                        if let Some(meter) = &mut ctx.data_mut().meter {
                            meter.enter(fuel);
                        }
                    }
                    CallHook::ReturningFromHost => {
                        if let Some(meter) = &mut ctx.data_mut().meter {
                            meter.leave();
                        }
                    }
                    CallHook::CallingWasm | CallHook::ReturningFromWasm => {}
                }
                Ok(())
            });
        }
        // Every tick: the deadline and the throttle. One tick is 1 ms, so this costs a
        // function call per millisecond of guest time.
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut ctx| {
            ctx.data_mut().on_tick()?;
            Ok(UpdateDeadline::Continue(1))
        });
        store
    }
}

/// Runs task `index` once on an instance: its output, or the guest's error or trap named.
pub(crate) fn run_task(
    store: &mut Store<GuestState>,
    bindings: &bindings::Workload,
    index: usize,
    task: &str,
) -> Result<String, JobError> {
    match bindings.call_run(&mut *store, task) {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(message)) => Err(JobError::task(
            index,
            ErrorKind::Guest,
            format!("the workload returned an error: {message}"),
        )),
        Err(trap) => Err(failure(Some(index), ErrorKind::Trap, &trap, store)),
    }
}

/// Starts a task's timeline, when the store is metered.
fn start_metering(store: &mut Store<GuestState>) {
    let fuel = store.get_fuel().unwrap_or(0);
    if let Some(meter) = &mut store.data_mut().meter {
        meter.start(fuel);
    }
}

/// Ends a task's timeline: `None` unless the store is metered.
fn finish_metering(store: &mut Store<GuestState>) -> Option<Timeline> {
    let fuel = store.get_fuel().unwrap_or(0);
    store.data_mut().meter.as_mut().map(|m| m.finish(fuel))
}

/// Names a wasmtime failure: deadline, memory limit, or trap (with the guest's last stderr
/// line, where a Rust panic leaves its message).
fn failure(
    task: Option<usize>,
    default: ErrorKind,
    err: &wasmtime::Error,
    store: &Store<GuestState>,
) -> JobError {
    let (kind, mut message) = if let Some(d) = err.downcast_ref::<DeadlineExceeded>() {
        (ErrorKind::Deadline, d.to_string())
    } else if let Some(m) = err.downcast_ref::<MemoryLimitExceeded>() {
        (ErrorKind::MemoryLimit, m.to_string())
    } else if let Some(trap) = err.downcast_ref::<wasmtime::Trap>() {
        (ErrorKind::Trap, trap.to_string())
    } else {
        (default, one_line(err))
    };
    if kind == ErrorKind::Trap
        && let Some(line) = store.data().last_stderr_line()
    {
        message = format!("{message}; guest stderr: {line}");
    }
    JobError {
        task,
        kind,
        message,
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}
