//! A global allocator that counts the bytes each thread holds, so that an evaluation can be
//! stopped when it holds more than [`MAX_EVALUATION_BYTES`](crate::MAX_EVALUATION_BYTES).
//! A JSONata evaluation runs synchronously on one thread (its values are `Rc`), so the
//! growth of that thread's count since the evaluation started is what the evaluation holds.
//!
//! A binary opts in:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: powersweep_jsonata::meter::MeteredAlloc = powersweep_jsonata::meter::MeteredAlloc;
//! # fn main() {}
//! ```
//!
//! Where no [`MeteredAlloc`] is installed the count never moves and the limit is only the
//! checks made before allocations whose size is known in advance (`$pad`, `$join`, `&`,
//! `$string`, the result's conversion to JSON, …).
//!
//! Must not allocate, lock, panic or touch anything but the two thread-local counters: it
//! runs inside every allocation of the process, thread teardown included. Memory freed by
//! another thread than the one that allocated it moves each thread's count the wrong way;
//! only differences taken on one thread during one evaluation mean anything.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// [`System`] with a per-thread count of the bytes allocated and not yet freed.
#[derive(Debug, Default, Clone, Copy)]
pub struct MeteredAlloc;

thread_local! {
    // `const` and no destructor: reading these never allocates and never registers a
    // destructor, so the allocator cannot recurse into itself.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Adds `delta` bytes (negative when freed) to this thread's count. `try_with`: during the
/// thread's teardown the counters may be gone, and an allocation then is simply not counted.
/// Wrapping: cross-thread frees make a count drift without bound over a long-lived thread.
fn count(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get().wrapping_add(delta);
        live.set(now);
        if delta > 0 {
            let _ = PEAK.try_with(|peak| {
                if now > peak.get() {
                    peak.set(now);
                }
            });
        }
    });
}

/// `Layout` sizes never exceed `isize::MAX`, so this never saturates.
fn signed(size: usize) -> isize {
    isize::try_from(size).unwrap_or(isize::MAX)
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds `GlobalAlloc`'s
// contract; the counting around it neither allocates nor unwinds.
unsafe impl GlobalAlloc for MeteredAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees about `layout` are passed on unchanged.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(signed(layout.size()));
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(signed(layout.size()));
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator (so from `System`)
        // with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        count(-signed(layout.size()));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and the caller guarantees `new_size` is valid.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(signed(new_size).wrapping_sub(signed(layout.size())));
        }
        p
    }
}

/// Bytes this thread has allocated and not freed since it started (0 forever without a
/// [`MeteredAlloc`]). Only differences between two readings on the same thread mean
/// anything.
pub fn live_bytes() -> isize {
    LIVE.try_with(Cell::get).unwrap_or(0)
}

/// The highest [`live_bytes`] this thread has reached since it started or since the last
/// [`reset_peak`].
pub fn peak_bytes() -> isize {
    PEAK.try_with(Cell::get).unwrap_or(0)
}

/// Starts a new high-water mark for [`peak_bytes`] at the current [`live_bytes`].
pub fn reset_peak() {
    let live = live_bytes();
    let _ = PEAK.try_with(|peak| peak.set(live));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_this_thread_holds() {
        let before = live_bytes();
        let block = vec![0u8; 1 << 20];
        let held = live_bytes() - before;
        assert!(held >= 1 << 20, "{held}");
        drop(block);
        assert!(live_bytes() - before < 1 << 20);
    }

    #[test]
    fn the_peak_remembers_what_was_freed() {
        reset_peak();
        let start = live_bytes();
        drop(vec![0u8; 4 << 20]);
        assert!(peak_bytes() - start >= 4 << 20);
        reset_peak();
        assert_eq!(peak_bytes(), live_bytes());
    }

    #[test]
    fn other_threads_do_not_count_here() {
        let before = live_bytes();
        let kept = std::thread::spawn(|| vec![0u8; 8 << 20])
            .join()
            .unwrap_or_default();
        assert!(live_bytes() - before < 1 << 20);
        drop(kept);
    }
}
