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
use crate::lambda::{self, CFS_PERIOD_MS, VCPU_MB};
use crate::schedule::{self, Phase};
use serde::{Deserialize, Serialize};

/// One published measurement: a job of the reference kernel on Lambda.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublishedRun {
    /// `x86_64` or `arm64`.
    pub architecture: &'static str,
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
        run("arm64", 1536, 1, 1885.0),
        run("arm64", 2048, 2, 1334.0),
        run("arm64", 4096, 3, 685.0),
        run("arm64", 6144, 4, 463.0),
        run("arm64", 8192, 5, 338.0),
        run("arm64", 10240, 6, 280.0),
        run("x86_64", 1536, 1, 1671.0),
        run("x86_64", 2048, 2, 1253.0),
        run("x86_64", 4096, 3, 892.0),
        run("x86_64", 6144, 4, 429.0),
        run("x86_64", 8192, 5, 330.0),
        run("x86_64", 10240, 6, 292.0),
    ],
};

const fn run(architecture: &'static str, memory_mb: u32, threads: usize, ms: f64) -> PublishedRun {
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
    /// The workload's guest work in the sample.
    pub fuel: u64,
    /// Thread CPU ms the sample took.
    pub ms: f64,
    /// Thread CPU ms of one run of the reference kernel here.
    pub reference_ms: f64,
}

/// What a result says of its anchor (results.json, the table, the CSV, report.html).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Anchor {
    /// The architecture of the Lambda vCPU.
    pub architecture: String,
    /// The reference kernel.
    pub kernel: String,
    /// Where its Lambda figure comes from.
    pub source: String,
    /// One run of the kernel on one Lambda vCPU of the architecture, ms.
    pub lambda_ms: f64,
    /// One run of the kernel on one core here, ms (the median over the samples).
    pub here_ms: f64,
    /// A Lambda vCPU ÷ a core here, in speed, for this workload (`X`): the anchored speed
    /// over this machine's calibrated one.
    pub vcpu_speed: f64,
    /// [`ANCHORED`]; or why this core stands in for a Lambda vCPU (`X` = 1), or that `X`
    /// was given.
    pub status: String,
}

impl Anchor {
    /// One line for people: what a Lambda vCPU of the architecture is here, and why.
    pub fn describe(&self) -> String {
        if self.status == ANCHORED {
            format!(
                "a Lambda vCPU ({}) = {:.3}x a core here for this workload (anchor: {}, {:.1} ms on a Lambda vCPU, {:.1} ms here; {})",
                self.architecture,
                self.vcpu_speed,
                self.kernel,
                self.lambda_ms,
                self.here_ms,
                self.source
            )
        } else {
            format!(
                "a Lambda vCPU ({}) = {:.3}x a core here: {}",
                self.architecture, self.vcpu_speed, self.status
            )
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
        architecture: String,
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

/// [`Anchor::status`] of an anchor that holds.
pub const ANCHORED: &str = "anchored";

/// Fewest pairs an anchor is made from.
pub const MIN_PAIRS: usize = 5;
/// Most a run of the kernel here may exceed its Lambda time.
pub const MAX_SLOWDOWN: f64 = 20.0;
/// Widest p75 ÷ p25 of the anchored speeds that is still an anchor.
pub const MAX_SPREAD: f64 = 1.5;

impl Reference {
    /// The published run that anchors `architecture`: its fewest threads, then least memory.
    pub fn anchor_run(&self, architecture: &str) -> Option<&PublishedRun> {
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
    pub fn lambda_ms(&self, architecture: &str) -> Result<f64, AnchorError> {
        let at = self
            .anchor_run(architecture)
            .ok_or_else(|| AnchorError::NoFigure {
                kernel: self.kernel,
                architecture: architecture.into(),
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
    pub fn check(&self, architecture: &str) -> Result<Vec<(PublishedRun, f64)>, AnchorError> {
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
    architecture: &str,
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
    let mut speeds: Vec<f64> = usable
        .iter()
        .map(|p| p.fuel as f64 / p.ms * p.reference_ms / lambda_ms)
        .collect();
    let units_per_ms = quantile(&mut speeds, 0.5);
    let spread = quantile(&mut speeds, 0.75) / quantile(&mut speeds, 0.25);
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
/// calibration takes the fast end of a workload's samples.
///
/// # Errors
/// Too few runs, or a kernel far slower here than on Lambda.
pub fn reference_alone(
    reference: &Reference,
    architecture: &str,
    runs_ms: &[f64],
) -> Result<(f64, f64), AnchorError> {
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
    Ok((here_ms / lambda_ms, here_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prints the check (`cargo test -p powersweep-model print_the_check -- --nocapture`).
    #[test]
    fn print_the_check() {
        for arch in ["x86_64", "arm64"] {
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
        for arch in ["x86_64", "arm64"] {
            let at = BCRYPT_SAMPLE.anchor_run(arch).unwrap();
            assert_eq!((at.memory_mb, at.threads), (1536, 1));
            let checked = BCRYPT_SAMPLE.check(arch).unwrap();
            let (run, modeled) = checked[0];
            assert_eq!(run, *at);
            assert!((modeled - at.duration_ms).abs() < 1e-3, "{arch}: {modeled}");
        }
        // 1,671 ms for 20 hashes at 0.868 vCPU: about 72.5 ms a hash on a full vCPU (the
        // periods make it a hair more than the fluid's 1,671 × 0.868 / 20 = 72.55).
        let x86 = BCRYPT_SAMPLE.lambda_ms("x86_64").unwrap();
        let fluid = 1671.0 * 1536.0 / VCPU_MB / 20.0;
        assert!((x86 - fluid).abs() / fluid < 0.005, "{x86} vs {fluid}");
        let arm = BCRYPT_SAMPLE.lambda_ms("arm64").unwrap();
        assert!((arm / x86 - 1885.0 / 1671.0).abs() < 0.001);
        assert!(matches!(
            BCRYPT_SAMPLE.lambda_ms("riscv64"),
            Err(AnchorError::NoFigure { .. })
        ));
    }

    fn pairs(list: &[(f64, f64)]) -> Vec<Pair> {
        list.iter()
            .map(|&(ms, reference_ms)| Pair {
                fuel: 1_000_000,
                ms,
                reference_ms,
            })
            .collect()
    }

    #[test]
    fn a_slowdown_that_hits_both_leaves_the_anchored_speed_alone() {
        let lambda = BCRYPT_SAMPLE.lambda_ms("x86_64").unwrap();
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
        let a = anchored_speed(&BCRYPT_SAMPLE, "x86_64", &idle).unwrap();
        let b = anchored_speed(&BCRYPT_SAMPLE, "x86_64", &busy).unwrap();
        assert!((a.units_per_ms - 1e5 * 60.0 / lambda).abs() < 1e-6);
        assert!((b.units_per_ms / a.units_per_ms - 1.0).abs() < 0.01);
        assert_eq!(a.here_ms, 60.0);
    }

    #[test]
    fn too_few_too_slow_and_too_noisy_are_refused() {
        let few = anchored_speed(&BCRYPT_SAMPLE, "arm64", &pairs(&[(10.0, 60.0); 4]));
        assert_eq!(few, Err(AnchorError::TooFew(4)));
        let slow = anchored_speed(&BCRYPT_SAMPLE, "arm64", &pairs(&[(10.0, 5000.0); 6]));
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
        let err = anchored_speed(&BCRYPT_SAMPLE, "arm64", &noisy).unwrap_err();
        assert!(matches!(err, AnchorError::TooNoisy { .. }), "{err}");
        assert!(err.to_string().contains("too noisy"));
    }

    #[test]
    fn the_reference_alone_takes_its_fast_end() {
        let lambda = BCRYPT_SAMPLE.lambda_ms("x86_64").unwrap();
        let runs = [60.0, 61.0, 90.0, 60.5, 120.0, 60.2, 61.5, 60.1, 95.0, 60.0];
        let (speed, here) = reference_alone(&BCRYPT_SAMPLE, "x86_64", &runs).unwrap();
        assert!((here - 60.0).abs() < 0.1, "{here}");
        assert!((speed - here / lambda).abs() < 1e-12);
    }
}
