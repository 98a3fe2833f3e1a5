//! Calibration and the anchor: the workload's own tasks run in this process (two hosts: one
//! metered for the fuel of each task, one unmetered for timing them, with DynamoDB calls dry
//! so nothing is written twice), the reference kernel timed after each sample, and what a
//! Lambda vCPU of each architecture is made of them.
//!
//! Must not compute a speed itself: `powersweep_model::{calibration, anchor}` do.

use anyhow::{Context, Result, bail};
use powersweep_analyzer::Architecture;
use powersweep_host::{Host, HostConfig, JobEvent, TimedRun};
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
    Paired(Calibration, Vec<Pair>),
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
            Timed::Paired(c, _) | Timed::Alone(c, _) => c,
        }
    }

    /// The anchor of `architecture`; this core, and a warning, when the reference could not
    /// anchor.
    pub(super) fn anchor(&self, architecture: Architecture) -> Anchor {
        let anchor = match self {
            Timed::Paired(calibration, pairs) => Anchor::measured(
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
/// each followed by the reference kernel when `anchoring`.
pub(super) fn calibrate(
    config: HostConfig,
    event: &JobEvent,
    budget: Duration,
    anchoring: bool,
) -> Result<Timed> {
    let runtime = tokio::runtime::Handle::current();
    let dry = HostConfig {
        dry_io: true,
        // The largest size Lambda has, so that no memory limit binds while the work is counted.
        memory_mb: *powersweep_emulator::MEMORY_RANGE_MB.end(),
        cpu_vcpus: None,
        ..config
    };
    let metered = Host::new(
        HostConfig {
            meter: true,
            ..dry.clone()
        },
        runtime.clone(),
    )?;
    let single = JobEvent {
        threads: 1,
        ..event.clone()
    };
    // Loaded apart from the run so that a file that is no workload is named as such, not as
    // a failed calibration.
    metered
        .workload(&single.workload)
        .with_context(|| format!("workload `{}`", single.workload))?;
    let response = metered.run(&single);
    if let Some(e) = response.errors.first() {
        bail!("calibration: the job failed: {e}");
    }
    let work = response
        .work
        .context("calibration: the metered host reported no work")?;
    let fuel: Vec<u64> = work.tasks.iter().map(|t| t.fuel()).collect();
    drop(metered);
    if work.fuel() < MIN_JOB_FUEL {
        let mut skipped = Calibration::given(NOMINAL_UNITS_PER_MS)?;
        skipped.source = format!(
            "not calibrated: the job does {} fuel units of guest work (under {MIN_JOB_FUEL}); its compute time is negligible and taken at a nominal {NOMINAL_UNITS_PER_MS:.0} units per ms",
            work.fuel()
        );
        return Ok(Timed::alone(skipped, anchoring));
    }
    let unmetered = Host::new(dry, runtime)?;
    let mut kernel = crate::reference_kernel::run;
    let reference = anchoring.then_some(&mut kernel as &mut dyn FnMut());
    let runs = unmetered
        .time_tasks(&single, budget, MIN_SAMPLES * 2, SAMPLE_MS, reference)
        .map_err(|e| anyhow::anyhow!("calibration: {e}"))?;
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
    Ok(Timed::Paired(calibration, pairs))
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
        let timed = Timed::Paired(Calibration::given(1e6).unwrap(), pairs(|_| 1.0));
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
