//! Time for the engine: the [`Clock`] trait, the real [`SystemClock`] and the [`VirtualClock`]
//! under which `Wait` states and retry delays take no real time.
//!
//! Owns "what time is it" and "sleep". It must not know about states; task timeouts are
//! deliberately *not* measured with this clock (see [`crate::Engine`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A boxed sleep future.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of time for an execution.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
    /// A future that completes after `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// Wall-clock time; sleeps with `tokio::time::sleep`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Simulated time: starts at a given instant and only moves when something sleeps.
///
/// A sleep of `d` that starts at virtual time `t` moves the clock to `max(now, t + d)` and
/// returns at once, so concurrent sleeps overlap as they would in real time instead of adding
/// up.
#[derive(Debug)]
pub struct VirtualClock {
    start: DateTime<Utc>,
    /// Nanoseconds since `start`.
    offset: std::sync::Arc<AtomicU64>,
}

impl VirtualClock {
    /// A virtual clock starting at the current wall-clock time.
    pub fn new() -> VirtualClock {
        VirtualClock::starting_at(Utc::now())
    }

    /// A virtual clock starting at `start`.
    pub fn starting_at(start: DateTime<Utc>) -> VirtualClock {
        VirtualClock {
            start,
            offset: Default::default(),
        }
    }

    /// How much virtual time has passed since the start.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.offset.load(Ordering::Acquire))
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        VirtualClock::new()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> DateTime<Utc> {
        let nanos = i64::try_from(self.offset.load(Ordering::Acquire)).unwrap_or(i64::MAX);
        self.start + chrono::Duration::nanoseconds(nanos)
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        let now = self.offset.load(Ordering::Acquire);
        let wake = now.saturating_add(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX));
        self.offset.fetch_max(wake, Ordering::AcqRel);
        // Yield so that a virtual sleep is still a scheduling point, like a real one.
        Box::pin(tokio::task::yield_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn virtual_sleep_is_instant_and_advances() {
        let c = VirtualClock::new();
        let t0 = c.now();
        let real = std::time::Instant::now();
        c.sleep(Duration::from_secs(3600)).await;
        assert!(real.elapsed() < Duration::from_secs(1));
        assert_eq!((c.now() - t0).num_seconds(), 3600);
    }
}
