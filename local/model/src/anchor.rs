//! The anchor: how fast a Lambda vCPU of each architecture is, in this machine's terms, from one
//! published Lambda measurement of a reference kernel.
//!
//! The published measurement is AWS's Rust sample (aws-samples/sample-rust-multithread-lambda,
//! README at 9b991f4, lines 156–178): 20 bcrypt hashes at cost 10 (bcrypt 0.15, native,
//! provided.al2023, us-east-1), means of 20 warm invocations, timed by the handler. One point
//! per architecture anchors, the one thread at 1,536 MB: 1,885 ms on arm64, 1,671 ms on x86_64.
//! The model's own rules (share 1,536 / 1,769 vCPU, a quota per CFS period) turn that point
//! into `R`, the ms one hash needs on one Lambda vCPU ([`Reference::lambda_ms`]); no other
//! published point is used for it. The other ten points check the model
//! ([`Reference::check`]), never adjust it.
//!
//! On this machine the same kernel is timed right after each calibration sample of the
//! workload, on the same thread ([`Pair`]). Whatever slows this core (another process on a
//! hyperthread sibling, the frequency, a noisy hypervisor) slows both alike, so each pair's
//! `fuel/ms × r_here / R` — the workload's speed on a Lambda vCPU — stays put while each
//! factor moves. The median over pairs is the anchored speed ([`anchor`]).
//!
//! Pure: the kernel is run and timed by the caller; this module holds the published figures
//! and the arithmetic. Must not be fitted to the published table: one point per
//! architecture, and the check is reported as it comes out.

use crate::calibration::quantile;
use crate::lambda::{self, Architecture, CFS_PERIOD_MS, VCPU_MB};
use crate::schedule::{self, Phase};
use serde::{Deserialize, Serialize};

/// One published measurement: a job of the reference kernel on Lambda.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublishedRun {
    /// The function's architecture.
    pub architecture: Architecture,
    /// The function's memory size, MB.
    pub memory_mb: u32,
    /// Threads the job ran on.
    pub threads: usize,
    /// The job's duration as published, ms.
    pub duration_ms: f64,
}

/// A reference kernel and what was published of it on Lambda.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reference {
    /// What one run of the kernel is.
    pub kernel: &'static str,
    /// Runs per published job (tasks, one per thread at a time).
    pub runs_per_job: usize,
    /// Where the figures come from.
    pub source: &'static str,
    /// Every published job, the anchors among them.
    pub published: &'static [PublishedRun],
}

/// AWS's bcrypt sample: 20 hashes at cost 10 per job.
pub const BCRYPT_SAMPLE: Reference = Reference {
    kernel: "bcrypt cost 10 (bcrypt 0.15, native)",
    runs_per_job: 20,
    source: "aws-samples/sample-rust-multithread-lambda README (9b991f4), means of 20 warm invocations",
    published: &[
        run(Architecture::Arm64, 1536, 1, 1885.0),
        run(Architecture::Arm64, 2048, 2, 1334.0),
        run(Architecture::Arm64, 4096, 3, 685.0),
        run(Architecture::Arm64, 6144, 4, 463.0),
        run(Architecture::Arm64, 8192, 5, 338.0),
        run(Architecture::Arm64, 10240, 6, 280.0),
        run(Architecture::X86_64, 1536, 1, 1671.0),
        run(Architecture::X86_64, 2048, 2, 1253.0),
        run(Architecture::X86_64, 4096, 3, 892.0),
        run(Architecture::X86_64, 6144, 4, 429.0),
        run(Architecture::X86_64, 8192, 5, 330.0),
        run(Architecture::X86_64, 10240, 6, 292.0),
    ],
};

const fn run(architecture: Architecture, memory_mb: u32, threads: usize, ms: f64) -> PublishedRun {
    PublishedRun {
        architecture,
        memory_mb,
        threads,
        duration_ms: ms,
    }
}

/// One calibration sample with the reference kernel timed right after it, on one thread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    /// Which of the workload's tasks the sample ran: tasks may differ in speed, which is
    /// the workload's, not the machine's noise.
    pub task: usize,
    /// The workload's guest work in the sample.
    pub fuel: u64,
    /// Thread CPU ms the sample took.
    pub ms: f64,
    /// Thread CPU ms of one published run of the reference kernel here.
    pub reference_ms: f64,
}

/// What a result says of its anchor (results.json, the table, the CSV, report.html): what a
/// Lambda vCPU of one architecture is in this machine's terms, and how that was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Anchor {
    /// The architecture of the Lambda vCPU.
    pub architecture: Architecture,
    /// A Lambda vCPU ÷ a core here, in speed, for this workload (`X`).
    pub vcpu_speed: f64,
    /// How `vcpu_speed` was found.
    #[serde(flatten)]
    pub how: How,
}

/// How an anchor's speed was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum How {
    /// From the reference kernel, timed here against its published Lambda time.
    #[serde(rename_all = "camelCase")]
    Anchored {
        /// The reference kernel.
        kernel: String,
        /// Where its Lambda figure comes from.
        source: String,
        /// One run of the kernel on one Lambda vCPU of the architecture, ms.
        lambda_ms: f64,
        /// One run of the kernel on one core here, ms: this machine's native speed.
        here_ms: f64,
    },
    /// The reference could not anchor; one core here stands in (`vcpu_speed` 1).
    NotAnchored {
        /// Why, in one line.
        reason: String,
    },
    /// Given, not measured (`--vcpu-speed`, or the cross-check's core).
    Given {
        /// By what.
        reason: String,
    },
}

impl Anchor {
    /// The anchor of `architecture` from pairs timed here, or this core when they cannot
    /// anchor (the reason kept); `here_units_per_ms` is this core's calibrated speed.
    pub fn measured(
        reference: &Reference,
        architecture: Architecture,
        pairs: &[Pair],
        here_units_per_ms: f64,
    ) -> Self {
        let found = anchored_speed(reference, architecture, pairs)
            .map(|a| (a.units_per_ms / here_units_per_ms, a));
        Anchor::from_result(reference, architecture, found)
    }

    /// The anchor of `architecture` from runs of the reference kernel alone (no workload to
    /// pair them with), or this core when they cannot anchor.
    pub fn alone(reference: &Reference, architecture: Architecture, runs_ms: &[f64]) -> Self {
        let found = reference_alone(reference, architecture, runs_ms).map(|a| (a.units_per_ms, a));
        Anchor::from_result(reference, architecture, found)
    }

    /// An anchor given rather than measured.
    pub fn given(architecture: Architecture, vcpu_speed: f64, reason: impl Into<String>) -> Self {
        Anchor {
            architecture,
            vcpu_speed,
            how: How::Given {
                reason: reason.into(),
            },
        }
    }

    fn from_result(
        reference: &Reference,
        architecture: Architecture,
        found: Result<(f64, AnchoredSpeed), AnchorError>,
    ) -> Self {
        match found {
            Ok((vcpu_speed, a)) => Anchor {
                architecture,
                vcpu_speed,
                how: How::Anchored {
                    kernel: reference.kernel.into(),
                    source: reference.source.into(),
                    lambda_ms: a.lambda_ms,
                    here_ms: a.here_ms,
                },
            },
            Err(e) => Anchor {
                architecture,
                vcpu_speed: 1.0,
                how: How::NotAnchored {
                    reason: e.to_string(),
                },
            },
        }
    }

    /// Whether the speed was measured against the reference.
    pub fn is_anchored(&self) -> bool {
        matches!(self.how, How::Anchored { .. })
    }

    /// One line for people: what a Lambda vCPU of the architecture is here, and why.
    pub fn describe(&self) -> String {
        let (architecture, x) = (self.architecture, self.vcpu_speed);
        match &self.how {
            How::Anchored {
                kernel,
                source,
                lambda_ms,
                here_ms,
            } => format!(
                "a Lambda vCPU ({architecture}) = {x:.3}x a core here for this workload (anchor: {kernel}, {lambda_ms:.1} ms on a Lambda vCPU, {here_ms:.1} ms here; {source})"
            ),
            How::NotAnchored { reason } => format!(
                "a Lambda vCPU ({architecture}) = {x:.3}x a core here: not anchored ({reason}); one core here stands in"
            ),
            How::Given { reason } => {
                format!("a Lambda vCPU ({architecture}) = {x:.3}x a core here: given by {reason}")
            }
        }
    }
}

/// Why a reference could not anchor.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnchorError {
    /// No published point for the architecture.
    #[error("no published {kernel} figure for {architecture}")]
    NoFigure {
        /// The kernel.
        kernel: &'static str,
        /// The architecture asked for.
        architecture: Architecture,
    },
    /// Too few samples with a reference timing.
    #[error("the reference kernel was timed {0} times; at least {MIN_PAIRS} are needed")]
    TooFew(usize),
    /// The kernel ran far slower here than on Lambda: this is no machine to anchor on.
    #[error(
        "the reference kernel is too slow to time here: {here_ms:.0} ms a run against {lambda_ms:.0} ms on a Lambda vCPU (over {MAX_SLOWDOWN}x)"
    )]
    TooSlow {
        /// Here, ms per run.
        here_ms: f64,
        /// On Lambda, ms per run.
        lambda_ms: f64,
    },
    /// The pairs disagree too much for their median to be trusted.
    #[error(
        "the reference kernel is too noisy to anchor on: the middle half of the anchored speeds spans {spread:.2}x (at most {MAX_SPREAD}x)"
    )]
    TooNoisy {
        /// p75 ÷ p25 of the anchored speeds.
        spread: f64,
    },
}

/// Fewest pairs an anchor is made from.
pub const MIN_PAIRS: usize = 5;
/// Most a run of the kernel here may exceed its Lambda time.
pub const MAX_SLOWDOWN: f64 = 20.0;
/// Widest p75 ÷ p25 of the anchored speeds that is still an anchor.
pub const MAX_SPREAD: f64 = 1.5;

impl Reference {
    /// The published run that anchors `architecture`: its fewest threads, then least memory.
    pub fn anchor_run(&self, architecture: Architecture) -> Option<&PublishedRun> {
        self.published
            .iter()
            .filter(|r| r.architecture == architecture)
            .min_by_key(|r| (r.threads, r.memory_mb))
    }

    /// ms of one run of the kernel on one Lambda vCPU of `architecture`: the work that makes
    /// the model give the anchor run's published duration (runs split over its threads, the
    /// share of its memory size at today's 1,769 MB per vCPU, Lambda's 20 ms period).
    ///
    /// # Errors
    /// [`AnchorError::NoFigure`] when nothing was published for `architecture`.
    pub fn lambda_ms(&self, architecture: Architecture) -> Result<f64, AnchorError> {
        let at = self.anchor_run(architecture).ok_or(AnchorError::NoFigure {
            kernel: self.kernel,
            architecture,
        })?;
        // The modeled duration grows with the work: bisect for the work that gives the
        // published time (to well below a microsecond).
        let (mut low, mut high) = (0.0, at.duration_ms);
        for _ in 0..100 {
            let mid = (low + high) / 2.0;
            if self.modeled_ms(at, mid) < at.duration_ms {
                low = mid;
            } else {
                high = mid;
            }
        }
        Ok((low + high) / 2.0)
    }

    /// Every published run of `architecture` beside what the model gives for it from the
    /// anchor alone: `(published, modeled ms)`.
    ///
    /// # Errors
    /// [`AnchorError::NoFigure`] when nothing was published for `architecture`.
    pub fn check(
        &self,
        architecture: Architecture,
    ) -> Result<Vec<(PublishedRun, f64)>, AnchorError> {
        let per_run = self.lambda_ms(architecture)?;
        Ok(self
            .published
            .iter()
            .filter(|r| r.architecture == architecture)
            .map(|r| (*r, self.modeled_ms(r, per_run)))
            .collect())
    }

    /// The model's duration of `at`'s job when one run takes `per_run` ms on a vCPU.
    fn modeled_ms(&self, at: &PublishedRun, per_run: f64) -> f64 {
        let tasks = vec![vec![Phase::Compute(per_run)]; self.runs_per_job];
        let cpu = lambda::cpu(at.memory_mb, VCPU_MB, CFS_PERIOD_MS);
        schedule::duration_ms(&[], &tasks, at.threads, cpu)
    }
}

/// The workload's speed on a Lambda vCPU of `architecture`, in fuel units per ms, from pairs
/// of (workload sample, reference run) timed on one thread here: the median over pairs of
/// `fuel/ms × here/lambda`. Also returns the median reference time here, and the spread.
///
/// # Errors
/// Too few pairs, a kernel far slower here than on Lambda, or pairs too scattered.
pub fn anchored_speed(
    reference: &Reference,
    architecture: Architecture,
    pairs: &[Pair],
) -> Result<AnchoredSpeed, AnchorError> {
    let lambda_ms = reference.lambda_ms(architecture)?;
    let usable: Vec<&Pair> = pairs
        .iter()
        .filter(|p| p.fuel > 0 && p.ms > 0.0 && p.reference_ms > 0.0)
        .filter(|p| p.ms.is_finite() && p.reference_ms.is_finite())
        .collect();
    if usable.len() < MIN_PAIRS {
        return Err(AnchorError::TooFew(usable.len()));
    }
    let mut here: Vec<f64> = usable.iter().map(|p| p.reference_ms).collect();
    let here_ms = quantile(&mut here, 0.5);
    if here_ms > lambda_ms * MAX_SLOWDOWN {
        return Err(AnchorError::TooSlow { here_ms, lambda_ms });
    }
    let speed = |p: &Pair| p.fuel as f64 / p.ms * p.reference_ms / lambda_ms;
    let mut speeds: Vec<f64> = usable.iter().map(|p| speed(p)).collect();
    let units_per_ms = quantile(&mut speeds, 0.5);
    // The noise is each pair against its own task's median: tasks may differ in speed.
    let mut by_task: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    for p in &usable {
        by_task.entry(p.task).or_default().push(speed(p));
    }
    let mut relative: Vec<f64> = Vec::with_capacity(usable.len());
    for task in by_task.values_mut() {
        let median = quantile(task, 0.5);
        relative.extend(task.iter().map(|s| s / median));
    }
    let spread = quantile(&mut relative, 0.75) / quantile(&mut relative, 0.25);
    // NaN (no spread to speak of) is refused too.
    if spread.is_nan() || spread > MAX_SPREAD {
        return Err(AnchorError::TooNoisy { spread });
    }
    Ok(AnchoredSpeed {
        units_per_ms,
        here_ms,
        lambda_ms,
        spread,
    })
}

/// A workload's anchored speed and what it rests on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnchoredSpeed {
    /// Fuel units per ms of one Lambda vCPU.
    pub units_per_ms: f64,
    /// One run of the kernel here, ms (median).
    pub here_ms: f64,
    /// One run of the kernel on the Lambda vCPU, ms.
    pub lambda_ms: f64,
    /// p75 ÷ p25 of the pairs' anchored speeds.
    pub spread: f64,
}

/// The speed of a Lambda vCPU over a core here from reference runs alone (no workload to pair
/// them with, e.g. under a given `--calibration`): the fast end (p10) of the times here, as
/// calibration takes the fast end of a workload's samples. The result's `units_per_ms` is
/// that ratio (`X`), not a workload's speed.
///
/// # Errors
/// Too few runs, or a kernel far slower here than on Lambda.
pub fn reference_alone(
    reference: &Reference,
    architecture: Architecture,
    runs_ms: &[f64],
) -> Result<AnchoredSpeed, AnchorError> {
    let lambda_ms = reference.lambda_ms(architecture)?;
    let mut usable: Vec<f64> = runs_ms
        .iter()
        .copied()
        .filter(|ms| ms.is_finite() && *ms > 0.0)
        .collect();
    if usable.len() < MIN_PAIRS {
        return Err(AnchorError::TooFew(usable.len()));
    }
    let here_ms = quantile(&mut usable, 0.1);
    if here_ms > lambda_ms * MAX_SLOWDOWN {
        return Err(AnchorError::TooSlow { here_ms, lambda_ms });
    }
    Ok(AnchoredSpeed {
        units_per_ms: here_ms / lambda_ms,
        here_ms,
        lambda_ms,
        spread: 1.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prints the check (`cargo test -p powersweep-model print_the_check -- --nocapture`).
    #[test]
    fn print_the_check() {
        for arch in Architecture::ALL {
            let per = BCRYPT_SAMPLE.lambda_ms(arch).unwrap();
            println!("{arch}: one hash = {per:.2} ms on a Lambda vCPU");
            for (run, modeled) in BCRYPT_SAMPLE.check(arch).unwrap() {
                println!(
                    "  {:>5} MB x {} threads: published {:>6.0} ms, modeled {:>6.0} ms, {:+.1}%",
                    run.memory_mb,
                    run.threads,
                    run.duration_ms,
                    modeled,
                    (modeled / run.duration_ms - 1.0) * 100.0
                );
            }
        }
    }

    #[test]
    fn the_anchor_run_gives_back_its_published_time() {
        for arch in Architecture::ALL {
            let at = BCRYPT_SAMPLE.anchor_run(arch).unwrap();
            assert_eq!((at.memory_mb, at.threads), (1536, 1));
            let checked = BCRYPT_SAMPLE.check(arch).unwrap();
            let (run, modeled) = checked[0];
            assert_eq!(run, *at);
            assert!((modeled - at.duration_ms).abs() < 1e-3, "{arch}: {modeled}");
        }
        // 1,671 ms for 20 hashes at 0.868 vCPU: about 72.5 ms a hash on a full vCPU (the
        // periods make it a hair more than the fluid's 1,671 × 0.868 / 20 = 72.55).
        let x86 = BCRYPT_SAMPLE.lambda_ms(Architecture::X86_64).unwrap();
        let fluid = 1671.0 * 1536.0 / VCPU_MB / 20.0;
        assert!((x86 - fluid).abs() / fluid < 0.005, "{x86} vs {fluid}");
        let arm = BCRYPT_SAMPLE.lambda_ms(Architecture::Arm64).unwrap();
        assert!((arm / x86 - 1885.0 / 1671.0).abs() < 0.001);
        let none = Reference {
            published: &BCRYPT_SAMPLE.published[..6],
            ..BCRYPT_SAMPLE
        };
        assert!(matches!(
            none.lambda_ms(Architecture::X86_64),
            Err(AnchorError::NoFigure { .. })
        ));
    }

    fn pairs(list: &[(f64, f64)]) -> Vec<Pair> {
        list.iter()
            .map(|&(ms, reference_ms)| Pair {
                task: 0,
                fuel: 1_000_000,
                ms,
                reference_ms,
            })
            .collect()
    }

    #[test]
    fn a_slowdown_that_hits_both_leaves_the_anchored_speed_alone() {
        let lambda = BCRYPT_SAMPLE.lambda_ms(Architecture::X86_64).unwrap();
        // Here a hash takes 60 ms and a sample 10 ms; then a sibling halves the core's speed.
        let idle = pairs(&[(10.0, 60.0); 8]);
        let busy = pairs(&[
            (10.0, 60.0),
            (20.0, 120.0),
            (20.0, 121.0),
            (10.0, 60.0),
            (19.0, 115.0),
            (20.0, 119.0),
            (20.0, 120.0),
            (20.0, 120.0),
        ]);
        let a = anchored_speed(&BCRYPT_SAMPLE, Architecture::X86_64, &idle).unwrap();
        let b = anchored_speed(&BCRYPT_SAMPLE, Architecture::X86_64, &busy).unwrap();
        assert!((a.units_per_ms - 1e5 * 60.0 / lambda).abs() < 1e-6);
        assert!((b.units_per_ms / a.units_per_ms - 1.0).abs() < 0.01);
        assert_eq!(a.here_ms, 60.0);
    }

    #[test]
    fn too_few_too_slow_and_too_noisy_are_refused() {
        let few = anchored_speed(
            &BCRYPT_SAMPLE,
            Architecture::Arm64,
            &pairs(&[(10.0, 60.0); 4]),
        );
        assert_eq!(few, Err(AnchorError::TooFew(4)));
        let slow = anchored_speed(
            &BCRYPT_SAMPLE,
            Architecture::Arm64,
            &pairs(&[(10.0, 5000.0); 6]),
        );
        assert!(
            slow.unwrap_err().to_string().contains("too slow"),
            "a run of 5 s against 82 ms"
        );
        let noisy = pairs(&[
            (10.0, 60.0),
            (30.0, 60.0),
            (10.0, 60.0),
            (30.0, 60.0),
            (10.0, 60.0),
            (30.0, 60.0),
        ]);
        let err = anchored_speed(&BCRYPT_SAMPLE, Architecture::Arm64, &noisy).unwrap_err();
        assert!(matches!(err, AnchorError::TooNoisy { .. }), "{err}");
        assert!(err.to_string().contains("too noisy"));
        // Two tasks of steadily different speeds are the workload, not noise.
        let mut uneven = pairs(&[(10.0, 60.0); 4]);
        uneven.extend(
            pairs(&[(30.0, 60.0); 4])
                .into_iter()
                .map(|p| Pair { task: 1, ..p }),
        );
        let a = anchored_speed(&BCRYPT_SAMPLE, Architecture::Arm64, &uneven).unwrap();
        assert!((a.spread - 1.0).abs() < 1e-12, "{a:?}");
    }

    #[test]
    fn an_anchor_says_how_it_was_found_in_results_json() {
        let good = Anchor::measured(
            &BCRYPT_SAMPLE,
            Architecture::X86_64,
            &pairs(&[(10.0, 60.0); 8]),
            1e5,
        );
        assert!(good.is_anchored());
        let json = serde_json::to_value(&good).unwrap();
        assert_eq!(json["status"], "anchored", "{json}");
        assert_eq!(json["hereMs"], 60.0, "{json}");
        assert_eq!(serde_json::from_value::<Anchor>(json).unwrap(), good);
        let bad = Anchor::measured(&BCRYPT_SAMPLE, Architecture::Arm64, &[], 1e5);
        assert_eq!(bad.vcpu_speed, 1.0);
        assert!(
            bad.describe()
                .contains("not anchored (the reference kernel was timed 0 times")
        );
        let given = Anchor::given(Architecture::Arm64, 2.0, "--vcpu-speed 2");
        assert_eq!(serde_json::to_value(&given).unwrap()["status"], "given");
        assert!(given.describe().ends_with("given by --vcpu-speed 2"));
    }

    #[test]
    fn the_reference_alone_takes_its_fast_end() {
        let lambda = BCRYPT_SAMPLE.lambda_ms(Architecture::X86_64).unwrap();
        let runs = [60.0, 61.0, 90.0, 60.5, 120.0, 60.2, 61.5, 60.1, 95.0, 60.0];
        let a = reference_alone(&BCRYPT_SAMPLE, Architecture::X86_64, &runs).unwrap();
        assert!((a.here_ms - 60.0).abs() < 0.1, "{a:?}");
        assert!((a.units_per_ms - a.here_ms / lambda).abs() < 1e-12);
    }
}
