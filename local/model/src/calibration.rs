//! Calibration: this machine's speed for a workload, in fuel units per ms of one core, from
//! many short timings of the workload's own tasks on unmetered code.
//!
//! Why a high percentile: the machine's speed drifts (a shared hypervisor makes the same work
//! take up to 2.5× longer for seconds at a time), and a slow spell only ever makes a sample
//! slower, never faster. The fast end of many short samples is therefore the machine's own
//! speed, and it recurs from run to run; a mean or median moves with however many slow
//! spells the run happened to meet. [`SPEED_QUANTILE`] of the speeds, not the maximum, so one
//! lucky sample (a timer edge) cannot set it.
//!
//! Must not time anything itself: the host runs the samples and hands in (fuel, ms) pairs.

use serde::{Deserialize, Serialize};

/// Which quantile of the samples' speeds is the calibrated speed.
pub const SPEED_QUANTILE: f64 = 0.9;
/// Fewest samples a calibration accepts.
pub const MIN_SAMPLES: usize = 5;
/// Shortest sample worth timing, ms: below it the cost of entering the guest and reading the
/// clock (~10 µs) is more than 1% of the sample.
pub const MIN_SAMPLE_MS: f64 = 1.0;
/// Least guest work (fuel) a job must do for its compute time to matter at all: about 10 µs
/// at this machine's speed. Below it the job is all waiting, and calibration is skipped.
pub const MIN_JOB_FUEL: u64 = 100_000;

/// One timing: `fuel` units of the workload's guest work took `ms` on one core, unmetered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Guest work, from a metered run of the same task.
    pub fuel: u64,
    /// Wall time of the unmetered run, ms.
    pub ms: f64,
}

/// The calibrated speed and what it rests on (printed with every result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Calibration {
    /// Fuel units per ms of one core of this machine, unmetered.
    pub units_per_ms: f64,
    /// How many samples were timed.
    pub samples: usize,
    /// The quantile of the samples' speeds used.
    pub quantile: f64,
    /// Slowest sample speed ÷ fastest: how much the machine drifted meanwhile.
    pub drift: f64,
    /// Median sample length, ms.
    pub sample_ms: f64,
    /// Where the speed came from: `measured` or `given` (the user's `--calibration`).
    pub source: String,
    /// Why the speed may be wrong, when something says so ([`Calibration::note_busy`]);
    /// printed with every result that rests on it. (Samples that disagree are not: slow
    /// spells are what the high quantile is for.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The least share of the wall clock the timing thread must have had a core for a speed
/// that nothing corrects (no reference kernel beside it) to be trusted. The thread's CPU
/// clock does not count the waits, but a machine that busy also shares its caches and
/// hyperthreads, which slow the core itself.
pub const BUSY_SHARE: f64 = 0.8;

/// Why a calibration could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrationError {
    /// Fewer than [`MIN_SAMPLES`] samples.
    #[error("calibration needs at least {MIN_SAMPLES} timings, got {0}")]
    TooFewSamples(usize),
    /// Samples too short to time.
    #[error(
        "calibration samples of {0:.3} ms are too short to time: each must take at least {MIN_SAMPLE_MS} ms (run more work per sample)"
    )]
    TooShort(f64),
    /// A sample with no work or a non-positive time.
    #[error("calibration sample {index} is unusable: {fuel} fuel in {ms} ms")]
    Unusable {
        /// Its position.
        index: usize,
        /// Its fuel.
        fuel: u64,
        /// Its time.
        ms: f64,
    },
    /// A given speed that is not a positive number.
    #[error("a calibration must be a positive number of fuel units per ms, got {0:?}")]
    BadSpeed(f64),
}

impl Calibration {
    /// The calibration from timed samples.
    ///
    /// # Errors
    /// Too few samples, samples shorter than [`MIN_SAMPLE_MS`], or samples without work.
    pub fn from_samples(samples: &[Sample]) -> Result<Self, CalibrationError> {
        if samples.len() < MIN_SAMPLES {
            return Err(CalibrationError::TooFewSamples(samples.len()));
        }
        let mut speeds = Vec::with_capacity(samples.len());
        let mut lengths = Vec::with_capacity(samples.len());
        for (index, s) in samples.iter().enumerate() {
            if s.fuel == 0 || !(s.ms.is_finite() && s.ms > 0.0) {
                return Err(CalibrationError::Unusable {
                    index,
                    fuel: s.fuel,
                    ms: s.ms,
                });
            }
            speeds.push(s.fuel as f64 / s.ms);
            lengths.push(s.ms);
        }
        let sample_ms = quantile(&mut lengths, 0.5);
        if sample_ms < MIN_SAMPLE_MS {
            return Err(CalibrationError::TooShort(sample_ms));
        }
        let units_per_ms = quantile(&mut speeds, SPEED_QUANTILE);
        let (slowest, fastest) = (speeds[0], speeds[speeds.len() - 1]);
        Ok(Calibration {
            units_per_ms,
            samples: samples.len(),
            quantile: SPEED_QUANTILE,
            drift: fastest / slowest,
            sample_ms,
            source: "measured".into(),
            warning: None,
        })
    }

    /// A speed the user gave (e.g. measured once on a Lambda vCPU), not measured here.
    ///
    /// # Errors
    /// When `units_per_ms` is not a positive, finite number.
    pub fn given(units_per_ms: f64) -> Result<Self, CalibrationError> {
        if !(units_per_ms.is_finite() && units_per_ms > 0.0) {
            return Err(CalibrationError::BadSpeed(units_per_ms));
        }
        Ok(Calibration {
            units_per_ms,
            samples: 0,
            quantile: SPEED_QUANTILE,
            drift: 1.0,
            sample_ms: 0.0,
            source: "given".into(),
            warning: None,
        })
    }

    /// Notes that the timing thread had a core only `share` of the wall time. With a
    /// reference kernel timed beside the samples (`corrected`), the anchor absorbs what
    /// that did to the core's speed; without one, under [`BUSY_SHARE`] the speed may be too
    /// low, and the calibration says so.
    pub fn note_busy(&mut self, share: f64, corrected: bool) {
        if corrected || !share.is_finite() || share >= BUSY_SHARE || self.warning.is_some() {
            return;
        }
        self.warning = Some(format!(
            "the machine was busy: the timing thread had a core {:.0}% of the time (under {:.0}%), and no reference kernel corrected for what that does to a core's speed; every duration rests on it: rerun on a quiet machine, or give --calibration with a speed measured on one",
            share * 100.0,
            BUSY_SHARE * 100.0
        ));
    }

    /// One line for people: the speed, where it came from and, when measured, how.
    pub fn describe(&self) -> String {
        let how = if self.samples == 0 {
            self.source.clone()
        } else {
            format!(
                "{}: p{:.0} of {} samples of {:.1} ms, drift {:.2}x",
                self.source,
                self.quantile * 100.0,
                self.samples,
                self.sample_ms,
                self.drift
            )
        };
        let warning = self
            .warning
            .as_ref()
            .map(|w| format!("; UNTRUSTED: {w}"))
            .unwrap_or_default();
        format!(
            "{:.0} fuel units per ms of one core ({how}{warning})",
            self.units_per_ms
        )
    }
}

/// Linear-interpolated quantile `q` of `values` (sorted in place).
pub(crate) fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let at = q * (values.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    values[lo] + (values[hi] - values[lo]) * (at - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(ms: &[f64]) -> Vec<Sample> {
        ms.iter()
            .map(|&ms| Sample {
                fuel: 1_000_000,
                ms,
            })
            .collect()
    }

    #[test]
    fn slow_spells_do_not_move_the_speed() {
        // Ten samples at the machine's speed, then the same ten with four slow spells (2×).
        let fast = [10.0, 10.1, 10.0, 10.2, 10.0, 10.1, 10.0, 10.0, 10.1, 10.0];
        let mut drifting = fast;
        for i in [1, 4, 5, 8] {
            drifting[i] *= 2.0;
        }
        let a = Calibration::from_samples(&samples(&fast)).unwrap();
        let b = Calibration::from_samples(&samples(&drifting)).unwrap();
        assert!((a.units_per_ms - b.units_per_ms).abs() / a.units_per_ms < 0.01);
        assert!(b.drift > 1.9, "the drift is reported: {}", b.drift);
        // A mean would have moved by 40%.
        assert_eq!(a.source, "measured");
    }

    #[test]
    fn a_busy_machine_without_a_reference_is_called_untrusted() {
        let fast = [10.0, 10.1, 10.0, 10.2, 10.0, 10.1, 10.0, 10.0];
        let mut trusted = Calibration::from_samples(&samples(&fast)).unwrap();
        assert_eq!(trusted.warning, None);
        // A busy machine with the reference beside the samples: the anchor corrects it.
        trusted.note_busy(0.4, true);
        assert_eq!(trusted.warning, None);
        // A busy machine and nothing to correct it: untrusted, and it says so.
        trusted.note_busy(0.4, false);
        let warning = trusted.warning.clone().expect("a warning");
        assert!(warning.contains("a core 40% of the time"), "{warning}");
        assert!(
            trusted
                .describe()
                .contains("UNTRUSTED: the machine was busy")
        );
        // A thread that had its core: trusted.
        let mut quiet = Calibration::from_samples(&samples(&fast)).unwrap();
        quiet.note_busy(0.95, false);
        assert_eq!(quiet.warning, None);
    }

    #[test]
    fn refuses_too_few_too_short_and_empty_samples() {
        assert_eq!(
            Calibration::from_samples(&samples(&[10.0; 4])),
            Err(CalibrationError::TooFewSamples(4))
        );
        let short = Calibration::from_samples(&samples(&[0.2; 8])).unwrap_err();
        assert!(short.to_string().contains("at least 1 ms"), "{short}");
        let mut none = samples(&[10.0; 6]);
        none[3].fuel = 0;
        assert!(matches!(
            Calibration::from_samples(&none),
            Err(CalibrationError::Unusable { index: 3, .. })
        ));
        assert!(Calibration::given(-1.0).is_err());
        assert!(Calibration::given(f64::NAN).is_err());
        assert_eq!(Calibration::given(5e5).unwrap().source, "given");
        assert_eq!(
            Calibration::given(5e5).unwrap().describe(),
            "500000 fuel units per ms of one core (given)",
            "no samples, no sample figures"
        );
    }
}
