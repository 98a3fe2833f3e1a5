//! Descriptive statistics over one configuration's durations: mean, trimmed mean,
//! percentiles, extremes. It owns the definitions (which percentile, how many samples
//! are trimmed); it must not know about memory, threads or money.

use serde::{Deserialize, Serialize};

/// The statistics of one set of durations, ms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Arithmetic mean of all values.
    pub mean: f64,
    /// Mean after dropping `floor(n × discard)` values at each end (see [`summarize`]).
    pub trimmed_mean: f64,
    /// Median ([`percentile`] 50).
    pub p50: f64,
    /// [`percentile`] 90.
    pub p90: f64,
    /// [`percentile`] 99.
    pub p99: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Sample standard deviation (n − 1 in the denominator) of all values; `None` for one
    /// value. Tells how far apart repetitions were, so a reader can see which differences
    /// between configurations are noise.
    pub std_dev: Option<f64>,
}

/// Summarizes `values`, or `None` when there are none.
///
/// The trimmed mean drops `k = floor(n × discard)` values from each end of the sorted
/// values, as aws-lambda-power-tuning does (with its fixed 20 %), so a cold start or a
/// noisy neighbour does not move the figure the recommendation is based on. `discard`
/// must be in `[0, 0.5)` (the caller validates), which keeps at least one value:
/// `k ≤ n × discard < n / 2`.
///
/// Values must be finite; [`crate::parse_samples`] guarantees that for durations.
pub fn summarize(values: &[f64], discard: f64) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    // The epsilon absorbs binary fractions: 10 × 0.2 must trim 2, not 1.
    let k = ((n as f64) * discard + 1e-9).floor() as usize;
    let k = k.min((n - 1) / 2);
    let kept = &sorted[k..n - k];
    let first = sorted[0];
    let last = sorted[n - 1];
    Some(Summary {
        mean: mean(&sorted),
        trimmed_mean: mean(kept),
        p50: percentile(&sorted, 50.0),
        p90: percentile(&sorted, 90.0),
        p99: percentile(&sorted, 99.0),
        min: first,
        max: last,
        std_dev: std_dev(&sorted),
    })
}

fn std_dev(values: &[f64]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let m = mean(values);
    let squares: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some((squares / (n - 1) as f64).sqrt())
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The `p`-th percentile (0–100) of `sorted` (ascending), by linear interpolation
/// between closest ranks: the position is `h = (n − 1) × p / 100`, the value
/// `x[⌊h⌋] + (h − ⌊h⌋) × (x[⌊h⌋ + 1] − x[⌊h⌋])`.
///
/// This is Hyndman & Fan's type 7, the default of NumPy, R and spreadsheets, so a reader
/// can check a figure with the tool at hand. With few samples p99 lies close to the
/// maximum, which is the honest answer. Returns NaN for an empty slice.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * (p / 100.0).clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn five_values_by_hand() {
        // sorted: 100 110 120 130 400, n = 5
        // mean = 860 / 5 = 172
        // discard 0.2: k = floor(5 × 0.2) = 1 → trimmed = (110 + 120 + 130) / 3 = 120
        // p50: h = 4 × 0.5 = 2 → 120
        // p90: h = 4 × 0.9 = 3.6 → 130 + 0.6 × (400 − 130) = 292
        // p99: h = 4 × 0.99 = 3.96 → 130 + 0.96 × 270 = 389.2
        let s = summarize(&[400.0, 120.0, 100.0, 130.0, 110.0], 0.2).unwrap();
        assert!(close(s.mean, 172.0), "{s:?}");
        assert!(close(s.trimmed_mean, 120.0), "{s:?}");
        assert!(close(s.p50, 120.0), "{s:?}");
        assert!(close(s.p90, 292.0), "{s:?}");
        assert!(close(s.p99, 389.2), "{s:?}");
        assert_eq!((s.min, s.max), (100.0, 400.0));
        // deviations from 172: −72 −62 −52 −42 228; squares 5184 + 3844 + 2704 + 1764 +
        // 51984 = 65480; / (5 − 1) = 16370
        assert!(close(s.std_dev.unwrap(), 16370f64.sqrt()), "{s:?}");
        assert_eq!(summarize(&[5.0], 0.2).unwrap().std_dev, None);
    }

    #[test]
    fn trim_counts_by_hand() {
        macro_rules! trimmed {
            ($values:expr, $discard:expr, $expected:expr) => {
                let s = summarize(&$values, $discard).unwrap();
                assert!(
                    close(s.trimmed_mean, $expected),
                    "{:?} → {}",
                    $values,
                    s.trimmed_mean
                );
            };
        }
        // n = 3, 3 × 0.2 = 0.6 → k = 0: plain mean (1 + 2 + 9) / 3 = 4
        trimmed!([1.0, 2.0, 9.0], 0.2, 4.0);
        // n = 10, 10 × 0.2 = 2 → k = 2: mean of 3..=8 = 33 / 6 = 5.5
        trimmed!(
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            0.2,
            5.5
        );
        // n = 4, discard 0: (1 + 2 + 3 + 10) / 4 = 4
        trimmed!([10.0, 1.0, 2.0, 3.0], 0.0, 4.0);
        // n = 4, 4 × 0.49 = 1.96 → k = 1: (2 + 3) / 2 = 2.5
        trimmed!([10.0, 1.0, 2.0, 3.0], 0.49, 2.5);
        // n = 1 keeps its value whatever the fraction
        trimmed!([7.0], 0.4, 7.0);
    }

    #[test]
    fn percentiles_of_two_values_interpolate() {
        // h = 1 × 0.9 = 0.9 → 10 + 0.9 × 10 = 19
        assert!(close(percentile(&[10.0, 20.0], 90.0), 19.0));
        assert!(close(percentile(&[10.0, 20.0], 50.0), 15.0));
        assert!(percentile(&[], 50.0).is_nan());
        assert_eq!(summarize(&[], 0.2), None);
    }

    proptest! {
        #[test]
        fn order_holds(values in proptest::collection::vec(0.0f64..1e6, 1..40), discard in 0.0f64..0.49) {
            let s = summarize(&values, discard).unwrap();
            prop_assert!(s.min <= s.trimmed_mean + 1e-6 && s.trimmed_mean <= s.max + 1e-6);
            prop_assert!(s.min <= s.mean + 1e-6 && s.mean <= s.max + 1e-6);
            prop_assert!(s.min <= s.p50 && s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max);
        }
    }
}
