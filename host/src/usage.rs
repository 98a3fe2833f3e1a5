//! Process-wide measurements: CPU time, peak RSS, visible cores. Read-only; no policy here.

use std::time::Duration;

/// CPU time (user + system) of the whole process so far.
pub fn process_cpu_time() -> Duration {
    let usage = rusage();
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Peak resident set size of the process, MB.
pub fn max_rss_mb() -> f64 {
    // Linux reports ru_maxrss in KiB.
    rusage().ru_maxrss as f64 / 1024.0
}

/// Cores the process may run on (the affinity mask, as `nproc` counts them). Unlike
/// `available_parallelism`, this ignores CFS quotas, as Lambda's guests see all their cores
/// however small the CPU share.
pub fn visible_cores() -> usize {
    // SAFETY: `set` is a plain bitmask the kernel fills; its size is passed alongside.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
            return libc::CPU_COUNT(&set).max(1) as usize;
        }
    }
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

fn rusage() -> libc::rusage {
    // SAFETY: getrusage fills the zeroed struct; RUSAGE_SELF is always valid.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    }
}

/// Voluntary context switches of the calling thread so far: it went to sleep (a wait, a
/// blocking call), as opposed to being preempted, which the kernel counts separately.
pub fn thread_voluntary_switches() -> i64 {
    // SAFETY: getrusage fills the zeroed struct; RUSAGE_THREAD is valid on Linux.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_THREAD, &mut usage);
        usage
    };
    usage.ru_nvcsw
}
