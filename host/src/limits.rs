//! The limits a guest runs under: a memory budget shared by all the stores of one job, and
//! the job's deadline. Only the mechanics live here; the job runner decides the numbers.
//!
//! A guest-visible WIT error is a value; hitting a limit is a trap carrying one of the
//! marker errors below, so that the runner can name the cause precisely.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use wasmtime::ResourceLimiter;

/// The trap payload when a guest runs past its deadline.
#[derive(Debug, thiserror::Error)]
#[error("deadline exceeded: the job ran longer than its {limit_ms} ms")]
pub struct DeadlineExceeded {
    /// The job's time limit.
    pub limit_ms: u64,
}

/// The trap payload when a guest grows memory past the budget.
#[derive(Debug, thiserror::Error)]
#[error(
    "memory limit exceeded: growing linear memory to {desired_mb} MB would pass the function's {limit_mb} MB"
)]
pub struct MemoryLimitExceeded {
    /// The function's memory size.
    pub limit_mb: u32,
    /// What this memory would have grown to.
    pub desired_mb: usize,
}

/// Linear memory all the instances of one job may hold together: the function's memory
/// size, as Lambda caps the whole environment, not each thread.
#[derive(Debug)]
pub struct MemoryBudget {
    limit_mb: u32,
    remaining: AtomicUsize,
}

impl MemoryBudget {
    /// A budget of `limit_mb` MiB.
    pub fn new(limit_mb: u32) -> Arc<Self> {
        Arc::new(Self {
            limit_mb,
            remaining: AtomicUsize::new(limit_mb as usize * (1 << 20)),
        })
    }

    fn take(&self, bytes: usize) -> bool {
        self.remaining
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(bytes)
            })
            .is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.remaining.fetch_add(bytes, Ordering::AcqRel);
    }
}

/// One store's share of a [`MemoryBudget`]; returns what it holds when the store drops.
pub struct MemoryLimiter {
    budget: Arc<MemoryBudget>,
    held: usize,
}

impl MemoryLimiter {
    /// A limiter drawing on `budget`.
    pub fn new(budget: Arc<MemoryBudget>) -> Self {
        Self { budget, held: 0 }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let extra = desired.saturating_sub(current);
        if self.budget.take(extra) {
            self.held += extra;
            Ok(true)
        } else {
            // An error, not `Ok(false)`: a refused grow makes Rust guests abort with a bare
            // `unreachable`, and the user deserves to see the real cause.
            Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit_mb: self.budget.limit_mb,
                desired_mb: desired >> 20,
            }))
        }
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

impl Drop for MemoryLimiter {
    fn drop(&mut self) {
        self.budget.give_back(self.held);
    }
}

/// When the job must stop, and the limit to quote when it does.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    /// The instant after which guests are stopped.
    pub at: Instant,
    /// The limit as given, for messages.
    pub limit_ms: u64,
}

impl Deadline {
    /// `limit_ms` from `start`.
    pub fn after(start: Instant, limit_ms: u64) -> Self {
        Self {
            at: start + std::time::Duration::from_millis(limit_ms),
            limit_ms,
        }
    }

    /// The trap to raise when the deadline has passed.
    pub fn check(&self) -> wasmtime::Result<()> {
        if Instant::now() >= self.at {
            return Err(wasmtime::Error::new(DeadlineExceeded {
                limit_ms: self.limit_ms,
            }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_shared_and_returned() {
        let budget = MemoryBudget::new(2);
        let mut a = MemoryLimiter::new(budget.clone());
        let mut b = MemoryLimiter::new(budget.clone());
        assert!(a.memory_growing(0, 1 << 20, None).unwrap());
        assert!(b.memory_growing(0, 1 << 20, None).unwrap());
        let err = a.memory_growing(1 << 20, 2 << 20, None).unwrap_err();
        assert!(err.downcast_ref::<MemoryLimitExceeded>().is_some());
        drop(b);
        assert!(
            a.memory_growing(1 << 20, 2 << 20, None).unwrap(),
            "b's share came back"
        );
    }
}
