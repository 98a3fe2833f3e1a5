//! Calibration and the anchor: the workload's own tasks run in this process (two hosts: one
//! metered for the fuel of each task, one unmetered for timing them, with DynamoDB calls dry
//! so nothing is written twice), the reference kernel timed after each sample, and what a
//! Lambda vCPU of each architecture is made of them.
//!
//! Must not compute a speed itself: `powersweep_model::{calibration, anchor}` do.

use super::JobLimits;
use anyhow::{Context, Result, bail};
use powersweep_analyzer::Architecture;
use powersweep_host::{ErrorKind, Host, HostConfig, JobEvent, Sampling, TimedRun};
use powersweep_model::Calibration;
use powersweep_model::anchor::{self, Anchor, BCRYPT_SAMPLE, How, Pair};
use powersweep_model::calibration::{MIN_JOB_FUEL, MIN_SAMPLES, Sample};
use std::time::Duration;

/// Shortest calibration sample, ms: short tasks repeat until a sample lasts this long.
const SAMPLE_MS: f64 = 5.0;

/// How long the reference kernel is timed alone when there is no workload to pair it with.
const REFERENCE_ALONE: Duration = Duration::from_millis(500);

/// What calibration timed: the workload with the reference beside it, or the reference alone
/// under a calibration that was given or skipped.
pub(super) enum Timed {
    /// The share is of the wall clock the timing thread had a core (CPU ÷ wall time).
    Paired(Calibration, Vec<Pair>, f64),
    Alone(Calibration, Vec<f64>),
}

impl Timed {
    /// `calibration` with the reference kernel timed alone beside it when `anchoring`.
    pub(super) fn alone(calibration: Calibration, anchoring: bool) -> Self {
        let runs = if anchoring {
            time_reference_alone(REFERENCE_ALONE)
        } else {
            Vec::new()
        };
        Timed::Alone(calibration, runs)
    }

    pub(super) fn calibration(&self) -> &Calibration {
        match self {
            Timed::Paired(c, ..) | Timed::Alone(c, _) => c,
        }
    }

    /// The share of the wall clock the thread that timed the workload had a core.
    pub(super) fn busy_share(&self) -> Option<f64> {
        match self {
            Timed::Paired(_, _, share) => Some(*share),
            Timed::Alone(..) => None,
        }
    }

    /// The anchor of `architecture`; this core, and a warning, when the reference could not
    /// anchor.
    pub(super) fn anchor(&self, architecture: Architecture) -> Anchor {
        let anchor = match self {
            Timed::Paired(calibration, pairs, _) => Anchor::measured(
                &BCRYPT_SAMPLE,
                architecture,
                pairs,
                calibration.units_per_ms,
            ),
            Timed::Alone(_, runs) => Anchor::alone(&BCRYPT_SAMPLE, architecture, runs),
        };
        if let How::NotAnchored { reason } = &anchor.how {
            eprintln!(
                "warning: {reason}; a Lambda vCPU ({architecture}) is taken as one core here"
            );
        }
        anchor
    }
}

/// Fuel of each task from one metered run, then timed unmetered samples of the same tasks,
/// each followed by the reference kernel when `anchoring`. The job runs within `limits`:
/// its memory is the largest size swept, and a run that goes on past
/// [`JobLimits::calibration_timeout`] (guest code, or a blocking host call such as a sleep)
/// is left there. A job that cannot finish within those limits fails every invocation of
/// the sweep the same way, so it is not calibrated: the sweep goes on at a nominal speed,
/// says why, and its rows show the timeouts and out-of-memory errors Lambda would give.
pub(super) fn calibrate(
    config: HostConfig,
    event: &JobEvent,
    limits: JobLimits,
    budget: Duration,
    anchoring: bool,
) -> Result<Timed> {
    let runtime = tokio::runtime::Handle::current();
    let dry = HostConfig {
        dry_io: true,
        memory_mb: limits.memory_mb,
        cpu_vcpus: None,
        ..config
    };
    let timeout = limits.calibration_timeout();
    let single = JobEvent {
        threads: 1,
        timeout_ms: Some(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)),
        ..event.clone()
    };
    let too_long = format!(
        "the job did not finish within {:.1} s alone on one thread here at {} MB ({} × its timeout of {:.1} s × {} thread{}, the fastest any row could run it)",
        timeout.as_secs_f64(),
        limits.memory_mb,
        super::VCPU_MARGIN,
        limits.timeout.as_secs_f64(),
        limits.threads,
        if limits.threads == 1 { "" } else { "s" },
    );
    let metered = HostConfig {
        meter: true,
        ..dry.clone()
    };
    let (job, handle) = (single.clone(), runtime.clone());
    let response = within(
        "counting the job's work (one metered run)",
        timeout + BLOCKING_GRACE,
        move || {
            let metered = Host::new(metered, handle)?;
            // Loaded apart from the run so that a file that is no workload is named as such, not
            // as a failed calibration.
            metered
                .workload(&job.workload)
                .with_context(|| format!("workload `{}`", job.workload))?;
            Ok(metered.run(&job))
        },
    )?;
    let response = match response {
        Some(response) => response?,
        None => return unfinished(&too_long, anchoring),
    };
    if let Some(e) = response.errors.first() {
        match e.kind {
            ErrorKind::Deadline => return unfinished(&format!("{too_long}: {e}"), anchoring),
            ErrorKind::MemoryLimit => {
                let why = format!(
                    "the job needs more memory than the largest size swept, {} MB: {e}",
                    limits.memory_mb
                );
                return unfinished(&why, anchoring);
            }
            _ => bail!("calibration: the job failed: {e}"),
        }
    }
    let work = response
        .work
        .clone()
        .context("calibration: the metered host reported no work")?;
    let task_ms: Vec<f64> = response.tasks.iter().map(|t| t.ms).collect();
    let fuel: Vec<u64> = work.tasks.iter().map(|t| t.fuel()).collect();
    if work.fuel() < MIN_JOB_FUEL {
        let mut skipped = Calibration::given(NOMINAL_UNITS_PER_MS)?;
        skipped.source = format!(
            "not calibrated: the job does {} fuel units of guest work (under {MIN_JOB_FUEL}); its compute time is negligible and taken at a nominal {NOMINAL_UNITS_PER_MS:.0} units per ms",
            work.fuel()
        );
        return Ok(Timed::alone(skipped, anchoring));
    }
    // Twice the model's fewest samples, as ever; a slow workload (a task longer than the
    // whole budget, each sample a whole task) gets the fewest the model and anchor take.
    let slow = task_ms.iter().any(|&ms| ms * 1e-3 >= budget.as_secs_f64());
    let fewest = MIN_SAMPLES.max(anchor::MIN_PAIRS);
    let sampling = Sampling {
        budget,
        min_samples: if slow { fewest } else { fewest * 2 },
        sample_ms: SAMPLE_MS,
        run_limit: timeout,
    };
    announce(&sampling, &task_ms, anchoring);
    let longest = sampling.longest(fuel.len());
    let runs = within(
        "timing the job's tasks",
        longest + BLOCKING_GRACE,
        move || {
            let unmetered = Host::new(dry, runtime)?;
            let mut kernel = crate::reference_kernel::run;
            let reference = anchoring.then_some(&mut kernel as &mut dyn FnMut());
            unmetered
                .time_tasks(&single, sampling, reference)
                .map_err(|e| anyhow::anyhow!("calibration: {e}"))
        },
    )?
    .with_context(|| {
        format!(
            "calibration: timing the job's tasks did not end within {:.0} s",
            longest.as_secs_f64()
        )
    })??;
    let timed: Vec<&TimedRun> = runs.iter().filter(|r| fuel[r.task] > 0).collect();
    let sample = |r: &TimedRun| Sample {
        fuel: fuel[r.task] * u64::from(r.repeats),
        ms: r.guest_ms,
    };
    let samples: Vec<Sample> = timed.iter().map(|r| sample(r)).collect();
    let pairs: Vec<Pair> = timed
        .iter()
        .filter_map(|r| {
            let Sample { fuel, ms } = sample(r);
            Some(Pair {
                task: r.task,
                fuel,
                ms,
                reference_ms: r.reference_ms? / crate::reference_kernel::published_runs_per_run(),
            })
        })
        .collect();
    let calibration = Calibration::from_samples(&samples).context("calibration")?;
    let (cpu, wall) = timed
        .iter()
        .fold((0.0, 0.0), |(c, w), r| (c + r.guest_ms, w + r.wall_ms));
    let share = if wall > 0.0 { cpu / wall } else { 1.0 };
    Ok(Timed::Paired(calibration, pairs, share))
}

/// Sampling longer than this is announced up front, with how long it will take.
const ANNOUNCED: Duration = Duration::from_secs(10);

/// Says how long sampling will take when the tasks are slow: their metered run (`task_ms`,
/// slower than the unmetered runs to come) gives an upper estimate; with `anchoring`, the
/// reference kernel runs as long again after each sample.
fn announce(sampling: &Sampling, task_ms: &[f64], anchoring: bool) {
    let Some(slowest) = task_ms.iter().copied().reduce(f64::max) else {
        return;
    };
    let warm_ups: f64 = task_ms
        .iter()
        .filter(|&&ms| !sampling.keeps_warm_up(ms))
        .sum();
    let samples = slowest * sampling.min_samples as f64 * if anchoring { 2.0 } else { 1.0 };
    let estimate = Duration::try_from_secs_f64((warm_ups + samples) / 1e3)
        .unwrap_or(Duration::MAX)
        .max(sampling.budget);
    if estimate >= ANNOUNCED {
        eprintln!(
            "calibrating: one run of a task takes up to {:.1} s here; timing {} of them takes up to {:.0} s (--calibration skips calibrating)…",
            slowest / 1e3,
            sampling.min_samples,
            estimate.as_secs_f64()
        );
    }
}

/// How long past its limit a job may take to come back from a blocking host call before
/// calibration gives up on it (guest code itself stops within an epoch tick).
const BLOCKING_GRACE: Duration = Duration::from_secs(1);

/// Runs `f` (calibration's `what`) on a thread of its own and waits at most `limit` for its
/// answer (`None` past it), saying every [`PROGRESS_EVERY`] how long it has taken so far. A
/// job in a blocking host call (a WASI sleep) cannot be stopped from outside: the thread is
/// then left to the process's exit, as Lambda leaves an environment it ends.
fn within<T: Send + 'static>(
    what: &str,
    limit: Duration,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<Option<Result<T>>> {
    use std::sync::mpsc::RecvTimeoutError;
    let (sent, answer) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("calibration".into())
        .spawn(move || {
            let _ = sent.send(f());
        })
        .context("cannot start the calibration thread")?;
    let started = std::time::Instant::now();
    loop {
        let left = limit.saturating_sub(started.elapsed());
        match answer.recv_timeout(left.min(PROGRESS_EVERY)) {
            Ok(result) => return Ok(Some(result)),
            Err(RecvTimeoutError::Timeout) if left > PROGRESS_EVERY => eprintln!(
                "calibrating: {what}, {:.0} s so far (at most {:.0} s)…",
                started.elapsed().as_secs_f64(),
                limit.as_secs_f64()
            ),
            Err(RecvTimeoutError::Timeout) => return Ok(None),
            Err(RecvTimeoutError::Disconnected) => {
                bail!("calibration: its thread ended without an answer")
            }
        }
    }
}

/// How often a long calibration says it is still at work.
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

/// A job that cannot finish within its limits: a nominal speed, marked untrusted with the
/// reason (every invocation will fail as Lambda's would, whatever the speed).
fn unfinished(why: &str, anchoring: bool) -> Result<Timed> {
    let mut nominal = Calibration::given(NOMINAL_UNITS_PER_MS)?;
    nominal.source = "not calibrated".into();
    nominal.warning = Some(format!(
        "{why}. Every invocation will fail the same way; the run goes on at a nominal speed to show how (raise --timeout, or sweep larger sizes, to measure it)"
    ));
    Ok(Timed::alone(nominal, anchoring))
}

/// Runs of the reference kernel alone for `budget`, each scaled to a published run, ms.
fn time_reference_alone(budget: Duration) -> Vec<f64> {
    let started = std::time::Instant::now();
    let per_run = crate::reference_kernel::published_runs_per_run();
    let mut runs = Vec::new();
    // The first run is a warm-up.
    crate::reference_kernel::run();
    while started.elapsed() < budget || runs.len() < anchor::MIN_PAIRS {
        let t = powersweep_host::thread_cpu_time();
        crate::reference_kernel::run();
        let ms = powersweep_host::thread_cpu_time()
            .saturating_sub(t)
            .as_secs_f64()
            * 1e3;
        runs.push(ms / per_run);
    }
    runs
}

/// A stand-in speed for jobs with no guest work to time (about what this VM does).
const NOMINAL_UNITS_PER_MS: f64 = 1_000_000.0;

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(ms: impl Fn(usize) -> f64) -> Vec<Pair> {
        (0..8)
            .map(|i| Pair {
                task: 0,
                fuel: 1_000_000,
                ms: ms(i),
                reference_ms: 60.0,
            })
            .collect()
    }

    #[test]
    fn a_reference_that_anchors_gives_the_ratio_of_the_kernel_here_and_on_lambda() {
        let timed = Timed::Paired(Calibration::given(1e6).unwrap(), pairs(|_| 1.0), 1.0);
        let a = timed.anchor(Architecture::X86_64);
        let lambda = BCRYPT_SAMPLE.lambda_ms(Architecture::X86_64).unwrap();
        assert!((a.vcpu_speed - 60.0 / lambda).abs() < 1e-9, "{a:?}");
        assert!(
            matches!(a.how, How::Anchored { here_ms, .. } if here_ms == 60.0),
            "{a:?}"
        );
    }

    #[test]
    fn a_reference_that_cannot_anchor_leaves_this_core_and_says_why() {
        // Samples alternately 1 and 3 ms beside an unmoved kernel: too noisy to anchor on.
        let timed = Timed::Paired(
            Calibration::given(1e6).unwrap(),
            pairs(|i| if i % 2 == 0 { 1.0 } else { 3.0 }),
            1.0,
        );
        let a = timed.anchor(Architecture::Arm64);
        assert_eq!(a.vcpu_speed, 1.0);
        assert!(
            matches!(&a.how, How::NotAnchored { reason } if reason.contains("too noisy")),
            "{a:?}"
        );
        assert!(a.describe().contains("one core here stands in"), "{a:?}");
        // Too few runs of the kernel alone (under a given calibration): the same.
        let alone = Timed::Alone(Calibration::given(1e6).unwrap(), vec![60.0; 3]);
        let a = alone.anchor(Architecture::X86_64);
        assert_eq!(a.vcpu_speed, 1.0);
        assert!(a.describe().contains("timed 3 times"), "{a:?}");
    }
}
