//! The in-process CPU throttle: a token bucket shared by all guest threads, used when the
//! emulator cannot cap the process with a cgroup.
//!
//! Lambda gives a function `memory / 1769` vCPUs of CPU time per second, spread over all its
//! cores. Each guest thread, at every epoch tick, charges the CPU time it used since the last
//! tick (its own thread CPU clock) to the bucket; the bucket refills at `vcpus` CPU-seconds
//! per second, and a thread that finds it empty sleeps until its debt is repaid. Time spent
//! in host calls (DynamoDB) is not CPU time and is not charged, as on Lambda.
//!
//! Must not be used when a cgroup already caps the process: the two would compound.

use crate::error::ConfigError;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How much CPU time may be spent ahead of the refill: small, so bursts stay short, as the
/// CFS period does on Lambda.
const BURST: Duration = Duration::from_millis(10);

/// A CPU budget of `vcpus` CPU-seconds per second, shared by the threads that charge it.
#[derive(Debug)]
pub struct Throttle {
    vcpus: f64,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// CPU nanoseconds that may still be spent; negative is debt.
    tokens: f64,
    refilled: Instant,
}

impl Throttle {
    /// A throttle granting `vcpus` (e.g. 0.5 for 885 MB at 1,769 MB per vCPU).
    ///
    /// # Errors
    /// When `vcpus` is not a positive finite number.
    pub fn new(vcpus: f64) -> Result<Self, ConfigError> {
        if !(vcpus.is_finite() && vcpus > 0.0) {
            return Err(ConfigError::BadShare(vcpus));
        }
        let bucket = Bucket {
            tokens: 0.0,
            refilled: Instant::now(),
        };
        Ok(Self {
            vcpus,
            bucket: Mutex::new(bucket),
        })
    }

    /// The share this throttle grants.
    pub fn vcpus(&self) -> f64 {
        self.vcpus
    }

    /// Charges `used` CPU time and returns how long the caller must sleep to stay within the
    /// share (zero when there is credit).
    pub fn charge(&self, used: Duration) -> Duration {
        let now = Instant::now();
        let mut bucket = match self.bucket.lock() {
            Ok(b) => b,
            // A poisoned bucket only means another thread panicked mid-update; the numbers
            // are still usable.
            Err(poisoned) => poisoned.into_inner(),
        };
        let refill = now.duration_since(bucket.refilled).as_nanos() as f64 * self.vcpus;
        let burst = BURST.as_nanos() as f64 * self.vcpus;
        bucket.tokens = (bucket.tokens + refill).min(burst) - used.as_nanos() as f64;
        bucket.refilled = now;
        if bucket.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_nanos((-bucket.tokens / self.vcpus) as u64)
        }
    }
}

/// CPU time the calling thread has used.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_nonsense_shares() {
        assert!(Throttle::new(0.0).is_err());
        assert!(Throttle::new(f64::NAN).is_err());
        assert!(Throttle::new(-1.0).is_err());
    }

    #[test]
    fn debt_is_repaid_at_the_share() {
        let t = Throttle::new(0.5).unwrap();
        // 10 ms of CPU at half a vCPU needs ~20 ms of wall time; only the order matters here.
        let sleep = t.charge(Duration::from_millis(10));
        assert!(sleep >= Duration::from_millis(15), "{sleep:?}");
        assert!(sleep <= Duration::from_millis(21), "{sleep:?}");
    }

    #[test]
    fn a_quarter_vcpu_is_at_least_twice_as_slow_as_a_whole_one() {
        // Coarse on purpose (no timing assertion): compare simulated wall times.
        let simulate = |vcpus: f64| {
            let t = Throttle::new(vcpus).unwrap();
            (0..100)
                .map(|_| t.charge(Duration::from_millis(1)))
                .sum::<Duration>()
        };
        assert!(simulate(0.25) >= simulate(1.0) * 2);
    }
}
