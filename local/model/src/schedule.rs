//! The share scheduler: how long tasks take on N threads under Lambda's CPU share, enforced
//! per CFS period as Lambda enforces it.
//!
//! The rules, as Lambda and the host behave:
//! - The share `S` = memory / MB-per-vCPU is one budget over all visible cores `C`, enforced
//!   as a CFS quota: `Q = S · P` ms of CPU per period of `P` ms (about 20 ms on Lambda:
//!   pwrdrvr/lambda-throttling, and lambda-dispatch issue 246), summed over all threads.
//! - Within a period the `k` threads that want CPU each run at `r = min(1, C / k)` of one
//!   core (never faster than a core; `C` cores shared when `k > C`), spending the quota at
//!   `k · r` ms per ms. When the quota is spent, every computing thread waits for the next
//!   period, whose quota is `Q` again (an unused quota does not carry over). The first
//!   period starts with the invocation.
//! - A thread waiting in a host call (an I/O wait) wants no CPU: it spends none of the quota
//!   and its wait passes in real time, overlapping with other threads' work and waits.
//! - The job runs its serial part (the workload's `plan`) on one thread first, then
//!   `min(N, tasks)` threads pull tasks from one queue in task order, as the host does: a
//!   thread takes the next task the moment it finishes one.
//!
//! So CPU work `w` that fits in one period's quota (`w ≤ Q`, one thread) takes `w`, at full
//! core speed: 1 ms of work at 128 MB (Q = 1.45 ms) takes 1 ms. Longer work takes whole
//! periods: one thread needs `n = ⌈w / Q⌉` periods and finishes `(w − (n−1)·Q)` ms into the
//! last, so `d = (n − 1) · P + w − (n − 1) · Q`, which tends to the fluid `w / S` as `n` grows
//! (2 s at 128 MB: 27,640.6 ms fluid, 27,640.0 ms with periods).
//!
//! With `P = 0` the share is a fluid instead (the model before periods): at every instant
//! the `k` computing threads each run at `min(1, min(S, C) / k)`; one thread takes
//! `Σw / min(1, S)`, `N` equal tasks on `N` threads `Σw / min(N, S, C)`.
//!
//! Pure: event-driven simulation over phases and period boundaries, no I/O, no clocks.

/// One piece of a task: CPU work or a wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// CPU work, ms on one core.
    Compute(f64),
    /// A wait that uses no CPU, ms.
    Wait(f64),
}

/// The CPU a memory size buys on Lambda, and how the share is enforced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cpu {
    /// The share, in vCPUs (memory / MB per vCPU).
    pub vcpus: f64,
    /// The cores the function sees.
    pub cores: usize,
    /// The CFS period over which the share is a quota, ms; 0 makes the share a fluid.
    pub period_ms: f64,
}

impl Cpu {
    /// Cores the threads may run on at once.
    fn cores(self) -> f64 {
        self.cores.max(1) as f64
    }

    /// CPU all threads together may use at once in the fluid model.
    fn budget(self) -> f64 {
        self.vcpus.min(self.cores())
    }

    /// The quota of one period, ms of CPU, or `None` for the fluid model. A period under a
    /// microsecond is its limit, the fluid (and would cost a loop turn per period).
    fn quota_ms(self) -> Option<f64> {
        (self.period_ms.is_finite() && self.period_ms >= MIN_PERIOD_MS)
            .then_some(self.vcpus * self.period_ms)
    }
}

/// A thread's progress through its current task.
#[derive(Debug, Clone, Copy)]
struct Running {
    task: usize,
    phase: usize,
    left: f64,
}

/// Where the job is in time and in the current period's quota; carried from the serial part
/// into the tasks, since the periods run on regardless of what the job does.
#[derive(Debug, Clone, Copy)]
struct Clock {
    now: f64,
    period_end: f64,
    quota_left: f64,
}

/// Below this many ms a phase counts as finished (float residue of the simulation).
const EPSILON_MS: f64 = 1e-9;

/// The shortest period simulated as periods, ms; shorter ones are the fluid share.
const MIN_PERIOD_MS: f64 = 1e-3;

/// The job's duration in ms: `serial` alone on one thread, then `tasks` on `threads` threads
/// pulling from one queue, all under `cpu`. Infinite when the share is not a positive number
/// (no CPU: the work would never finish).
pub fn duration_ms(serial: &[Phase], tasks: &[Vec<Phase>], threads: usize, cpu: Cpu) -> f64 {
    if !(cpu.vcpus.is_finite() && cpu.vcpus > 0.0) {
        return f64::INFINITY;
    }
    let mut clock = Clock {
        now: 0.0,
        period_end: cpu.period_ms,
        quota_left: cpu.quota_ms().unwrap_or(0.0),
    };
    simulate(&[serial], 1, cpu, &mut clock);
    simulate(tasks, threads, cpu, &mut clock);
    clock.now
}

fn simulate<T: AsRef<[Phase]>>(tasks: &[T], threads: usize, cpu: Cpu, clock: &mut Clock) {
    let workers = threads.max(1).min(tasks.len());
    let mut next_task = 0;
    let pull = |next_task: &mut usize| -> Option<Running> {
        let task = *next_task;
        (task < tasks.len()).then(|| {
            *next_task += 1;
            Running {
                task,
                phase: 0,
                left: amount(tasks[task].as_ref().first()),
            }
        })
    };
    let mut running: Vec<Option<Running>> = (0..workers).map(|_| pull(&mut next_task)).collect();
    loop {
        // Skip finished phases and tasks (zero-length ones included) before timing the next.
        for slot in running.iter_mut() {
            while let Some(r) = slot {
                if r.left > EPSILON_MS {
                    break;
                }
                r.phase += 1;
                match tasks[r.task].as_ref().get(r.phase) {
                    Some(p) => r.left = amount(Some(p)),
                    None => *slot = pull(&mut next_task),
                }
            }
        }
        let computing = running
            .iter()
            .flatten()
            .filter(|r| is_compute(tasks, r))
            .count();
        if running.iter().all(Option::is_none) {
            return;
        }
        let k = computing as f64;
        let (rate, spend) = match cpu.quota_ms() {
            None if computing == 0 => (0.0, 0.0),
            None => ((cpu.budget() / k).min(1.0), 0.0),
            Some(_) if computing == 0 || clock.quota_left <= EPSILON_MS => (0.0, 0.0),
            Some(_) => {
                let rate = (cpu.cores() / k).min(1.0);
                (rate, rate * k)
            }
        };
        if let Some(quota) = cpu.quota_ms()
            && skip_whole_periods(&mut running, tasks, cpu, quota, clock)
        {
            continue;
        }
        let mut step = running
            .iter()
            .flatten()
            .map(|r| match (is_compute(tasks, r), rate > 0.0) {
                (true, true) => r.left / rate,
                (true, false) => f64::INFINITY,
                (false, _) => r.left,
            })
            .fold(f64::INFINITY, f64::min);
        if cpu.quota_ms().is_some() {
            if spend > 0.0 {
                step = step.min(clock.quota_left / spend);
            }
            step = step.min(clock.period_end - clock.now);
        }
        if !step.is_finite() {
            return;
        }
        let step = step.max(0.0);
        clock.now += step;
        clock.quota_left -= spend * step;
        for r in running.iter_mut().flatten() {
            r.left -= if is_compute(tasks, r) {
                rate * step
            } else {
                step
            };
        }
        if let Some(quota) = cpu.quota_ms()
            && clock.now >= clock.period_end - EPSILON_MS
        {
            clock.period_end += cpu.period_ms;
            clock.quota_left = quota;
        }
    }
}

/// At the start of a period in which every thread computes and none finishes, whole periods
/// repeat exactly: each thread does `min(Q, k·r·P) / k` of its phase per period. Skips all
/// but the last of them at once, so a 15-minute job at 128 MB is not 45,000 loop turns.
/// Returns whether it skipped.
fn skip_whole_periods<T: AsRef<[Phase]>>(
    running: &mut [Option<Running>],
    tasks: &[T],
    cpu: Cpu,
    quota: f64,
    clock: &mut Clock,
) -> bool {
    let at_period_start = (clock.period_end - clock.now - cpu.period_ms).abs() <= EPSILON_MS;
    let all_compute = running.iter().flatten().all(|r| is_compute(tasks, r));
    if !at_period_start || !all_compute {
        return false;
    }
    let k = running.iter().flatten().count() as f64;
    let per_thread = quota.min(k * (cpu.cores() / k).min(1.0) * cpu.period_ms) / k;
    let least = running
        .iter()
        .flatten()
        .map(|r| r.left)
        .fold(f64::INFINITY, f64::min);
    let periods = (least / per_thread).floor() - 1.0;
    if !(periods >= 2.0 && per_thread > 0.0) {
        return false;
    }
    for r in running.iter_mut().flatten() {
        r.left -= periods * per_thread;
    }
    clock.now += periods * cpu.period_ms;
    clock.period_end += periods * cpu.period_ms;
    true
}

fn is_compute<T: AsRef<[Phase]>>(tasks: &[T], r: &Running) -> bool {
    matches!(tasks[r.task].as_ref().get(r.phase), Some(Phase::Compute(_)))
}

fn amount(phase: Option<&Phase>) -> f64 {
    match phase {
        Some(Phase::Compute(ms) | Phase::Wait(ms)) if ms.is_finite() => ms.max(0.0),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VCPU_MB: f64 = 1769.0;

    fn cpu(memory_mb: u32) -> Cpu {
        let cores = match memory_mb {
            0..=3008 => 2,
            3009..=5307 => 3,
            5308..=7076 => 4,
            7077..=8845 => 5,
            _ => 6,
        };
        Cpu {
            vcpus: f64::from(memory_mb) / VCPU_MB,
            cores,
            period_ms: 0.0,
        }
    }

    /// The same size with the share enforced per period of `period_ms`.
    fn periodic(memory_mb: u32, period_ms: f64) -> Cpu {
        Cpu {
            period_ms,
            ..cpu(memory_mb)
        }
    }

    fn equal(n: usize, ms: f64) -> Vec<Vec<Phase>> {
        vec![vec![Phase::Compute(ms)]; n]
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn one_thread_at_512_mb_takes_work_over_the_share() {
        let d = duration_ms(&[], &equal(1, 1000.0), 1, cpu(512));
        assert!(close(d, 1000.0 / (512.0 / VCPU_MB)), "{d}");
        assert!((1000.0 / d - 0.289).abs() < 0.001);
    }

    #[test]
    fn four_equal_tasks_on_two_threads_at_3008_mb_are_1_70x_faster() {
        let one = duration_ms(&[], &equal(4, 250.0), 1, cpu(3008));
        let two = duration_ms(&[], &equal(4, 250.0), 2, cpu(3008));
        assert!(close(one, 1000.0));
        assert!((one / two - 1.70).abs() < 0.005, "{}", one / two);
    }

    #[test]
    fn four_threads_at_1769_mb_are_no_faster_than_one() {
        let one = duration_ms(&[], &equal(4, 250.0), 1, cpu(1769));
        let four = duration_ms(&[], &equal(4, 250.0), 4, cpu(1769));
        assert!(close(one, four), "{one} vs {four}");
    }

    #[test]
    fn a_task_that_mostly_waits_gains_from_a_second_thread_even_at_512_mb() {
        // 90% waiting: 10 ms of CPU and 90 ms of I/O wait per task, 4 tasks.
        let task = vec![Phase::Compute(10.0), Phase::Wait(90.0)];
        let tasks = vec![task; 4];
        let one = duration_ms(&[], &tasks, 1, cpu(512));
        let two = duration_ms(&[], &tasks, 2, cpu(512));
        // One thread: each task 10/0.2894 + 90 = 124.55 ms, four in a row.
        assert!(close(one, 4.0 * (10.0 / (512.0 / VCPU_MB) + 90.0)), "{one}");
        // Two threads start together and share 0.289 vCPU while both compute (20 ms of work
        // at 0.289 = 69.1 ms), then wait 90 ms side by side: 2 × 159.1 ms.
        let share = 512.0 / VCPU_MB;
        assert!(close(two, 2.0 * (20.0 / share + 90.0)), "{two}");
        assert!(one / two > 1.5, "{}", one / two);
    }

    #[test]
    fn visible_cores_cap_what_threads_can_use() {
        // 10,240 MB is 5.79 vCPUs on 6 cores: 6 threads get 5.79, 3 threads 3.
        let six = duration_ms(&[], &equal(6, 100.0), 6, cpu(10_240));
        let three = duration_ms(&[], &equal(6, 100.0), 3, cpu(10_240));
        assert!(close(six, 600.0 / (10_240.0 / VCPU_MB)), "{six}");
        assert!(close(three, 200.0), "{three}");
    }

    #[test]
    fn the_serial_part_runs_alone_first() {
        let d = duration_ms(&[Phase::Compute(50.0)], &equal(2, 100.0), 2, cpu(3538));
        assert!(close(d, 150.0), "{d}");
    }

    #[test]
    fn the_queue_balances_uneven_tasks() {
        // Tasks 300, 100, 100, 100 on two unthrottled threads: thread 0 takes 300 alone while
        // thread 1 runs the three short ones: 300 ms, not 400.
        let tasks: Vec<_> = [300.0, 100.0, 100.0, 100.0]
            .iter()
            .map(|&ms| vec![Phase::Compute(ms)])
            .collect();
        let d = duration_ms(&[], &tasks, 2, cpu(3538));
        assert!(close(d, 300.0), "{d}");
    }

    #[test]
    fn no_share_never_finishes_and_a_vanishing_period_is_the_fluid() {
        for vcpus in [0.0, -1.0, f64::NAN] {
            let none = Cpu { vcpus, ..cpu(128) };
            assert_eq!(duration_ms(&[], &equal(1, 1.0), 1, none), f64::INFINITY);
        }
        let tiny = duration_ms(&[], &equal(1, 100.0), 1, periodic(512, 1e-9));
        let fluid = duration_ms(&[], &equal(1, 100.0), 1, cpu(512));
        assert!(close(tiny, fluid), "{tiny} vs {fluid}");
    }

    #[test]
    fn waits_overlap_across_threads() {
        let tasks = vec![vec![Phase::Wait(100.0)]; 4];
        assert!(close(duration_ms(&[], &tasks, 4, cpu(128)), 100.0));
        assert!(close(duration_ms(&[], &tasks, 1, cpu(128)), 400.0));
        assert_eq!(duration_ms(&[], &[], 2, cpu(128)), 0.0);
    }

    #[test]
    fn work_within_one_period_quota_runs_at_full_core_speed() {
        // 128 MB: Q = 128/1769 × 20 = 1.447 ms of CPU in the first period.
        let d = duration_ms(&[], &equal(1, 1.0), 1, periodic(128, 20.0));
        assert!(close(d, 1.0), "{d}");
        assert!(d < 2.0);
        // The fluid share stretches the same millisecond to 13.8 ms.
        let fluid = duration_ms(&[], &equal(1, 1.0), 1, cpu(128));
        assert!(close(fluid, 1769.0 / 128.0), "{fluid}");
    }

    #[test]
    fn past_the_quota_a_thread_waits_for_the_next_period() {
        // 2 ms at 128 MB: 1.447 ms in the first period, the rest 0.553 ms into the second.
        let q = 128.0 / VCPU_MB * 20.0;
        let d = duration_ms(&[], &equal(1, 2.0), 1, periodic(128, 20.0));
        assert!(close(d, 20.0 + 2.0 - q), "{d}");
    }

    #[test]
    fn long_work_comes_out_as_the_fluid_share() {
        // 2 s at 128 MB: n = ⌈2000 / Q⌉ = 1,383 periods, d = (n−1)·P + w − (n−1)·Q.
        let q = 128.0 / VCPU_MB * 20.0;
        let n = (2000.0 / q).ceil();
        let d = duration_ms(&[], &equal(1, 2000.0), 1, periodic(128, 20.0));
        assert!(close(d, (n - 1.0) * 20.0 + 2000.0 - (n - 1.0) * q), "{d}");
        let fluid = duration_ms(&[], &equal(1, 2000.0), 1, cpu(128));
        assert!(((d - fluid) / fluid).abs() < 0.01, "{d} vs {fluid}");
        // Two threads at 512 MB share each period's quota: 2 × 1 s of work.
        let q = 512.0 / VCPU_MB * 20.0;
        let n = (2000.0 / q).ceil();
        let d = duration_ms(&[], &equal(2, 1000.0), 2, periodic(512, 20.0));
        assert!(
            close(d, (n - 1.0) * 20.0 + (2000.0 - (n - 1.0) * q) / 2.0),
            "{d}"
        );
    }

    #[test]
    fn two_threads_spend_the_quota_twice_as_fast() {
        // 512 MB: Q = 5.788 ms. One task of 4 ms fits in it; two on two threads spend it in
        // 2.894 ms, wait to 20 ms, and finish 1.106 ms into the second period.
        let q = 512.0 / VCPU_MB * 20.0;
        let one = duration_ms(&[], &equal(1, 4.0), 1, periodic(512, 20.0));
        assert!(close(one, 4.0), "{one}");
        let two = duration_ms(&[], &equal(2, 4.0), 2, periodic(512, 20.0));
        assert!(close(two, 20.0 + 4.0 - q / 2.0), "{two}");
        // On one thread the same 8 ms run 5.788 ms, then 2.212 ms after the pause.
        let serial = duration_ms(&[], &equal(2, 4.0), 1, periodic(512, 20.0));
        assert!(close(serial, 20.0 + 8.0 - q), "{serial}");
    }

    #[test]
    fn waits_spend_none_of_the_quota() {
        // 128 MB, Q = 1.447: 1 ms of work, a 30 ms wait across the period boundary, 1 ms more
        // in the second period's fresh quota.
        let task = vec![Phase::Compute(1.0), Phase::Wait(30.0), Phase::Compute(1.0)];
        let d = duration_ms(&[], &[task], 1, periodic(128, 20.0));
        assert!(close(d, 32.0), "{d}");
        // Four threads waiting 100 ms each overlap, whatever the period.
        let tasks = vec![vec![Phase::Wait(100.0)]; 4];
        assert!(close(
            duration_ms(&[], &tasks, 4, periodic(128, 20.0)),
            100.0
        ));
    }

    #[test]
    fn the_periods_run_on_from_the_serial_part_into_the_tasks() {
        // 1 ms of plan and 1 ms of task at 128 MB share the first period's 1.447 ms.
        let q = 128.0 / VCPU_MB * 20.0;
        let d = duration_ms(
            &[Phase::Compute(1.0)],
            &equal(1, 1.0),
            1,
            periodic(128, 20.0),
        );
        assert!(close(d, 20.0 + 2.0 - q), "{d}");
    }

    #[test]
    fn above_the_cores_the_quota_never_binds_a_thread_past_one_core() {
        // 3,538 MB is two vCPUs: one thread of 100 ms runs at one core, unthrottled.
        let d = duration_ms(&[], &equal(1, 100.0), 1, periodic(3538, 20.0));
        assert!(close(d, 100.0), "{d}");
        // 10,240 MB on 6 cores, 6 threads: 5.79 vCPUs, spent at 6 per ms: the fluid's time.
        let six = duration_ms(&[], &equal(6, 100.0), 6, periodic(10_240, 20.0));
        let fluid = duration_ms(&[], &equal(6, 100.0), 6, cpu(10_240));
        assert!(((six - fluid) / fluid).abs() < 0.01, "{six} vs {fluid}");
    }

    proptest! {
        #[test]
        fn more_share_is_never_slower_and_bounds_hold(
            work in proptest::collection::vec((0.0f64..500.0, 0.0f64..200.0), 1..12),
            threads in 1usize..8,
            memory in 128u32..10_240,
        ) {
            let tasks: Vec<Vec<Phase>> = work
                .iter()
                .map(|&(c, w)| vec![Phase::Compute(c), Phase::Wait(w), Phase::Compute(c / 2.0)])
                .collect();
            let small = cpu(memory);
            let big = cpu(10_240);
            let d = duration_ms(&[], &tasks, threads, small);
            let d_big = duration_ms(&[], &tasks, threads, big);
            prop_assert!(d.is_finite() && d >= 0.0);
            prop_assert!(d_big <= d * (1.0 + 1e-9) + 1e-9);
            // Never faster than the longest task at one core, nor than all work on the budget.
            let cpu_total: f64 = work.iter().map(|&(c, _)| 1.5 * c).sum();
            let longest = work.iter().map(|&(c, w)| 1.5 * c + w).fold(0.0, f64::max);
            prop_assert!(d + 1e-6 >= longest);
            prop_assert!(d + 1e-6 >= cpu_total / small.budget().min(threads as f64));
            // Never slower than everything in a row at the share of one thread.
            let serial: f64 = work.iter().map(|&(c, w)| 1.5 * c / small.vcpus.min(1.0) + w).sum();
            prop_assert!(d <= serial * (1.0 + 1e-9) + 1e-6);
        }

        #[test]
        fn periods_keep_the_bounds_and_one_thread_is_never_slower_than_the_fluid(
            work in proptest::collection::vec((0.0f64..500.0, 0.0f64..200.0), 1..12),
            threads in 1usize..8,
            memory in 128u32..10_240,
            period in 1.0f64..100.0,
        ) {
            let tasks: Vec<Vec<Phase>> = work
                .iter()
                .map(|&(c, w)| vec![Phase::Compute(c), Phase::Wait(w), Phase::Compute(c / 2.0)])
                .collect();
            let at = periodic(memory, period);
            let d = duration_ms(&[], &tasks, threads, at);
            prop_assert!(d.is_finite() && d >= 0.0);
            let cpu_total: f64 = work.iter().map(|&(c, _)| 1.5 * c).sum();
            let longest = work.iter().map(|&(c, w)| 1.5 * c + w).fold(0.0, f64::max);
            prop_assert!(d + 1e-6 >= longest);
            prop_assert!(d + 1e-6 >= cpu_total / at.cores().min(threads as f64));
            // Pure compute on one thread: never slower than the fluid share, and never faster
            // than it by more than one period (f − p = (w − (n−1)·Q)(1/S − 1) ≤ P − Q).
            let compute: Vec<Vec<Phase>> = vec![vec![Phase::Compute(cpu_total)]];
            let p = duration_ms(&[], &compute, 1, at);
            let f = duration_ms(&[], &compute, 1, cpu(memory));
            prop_assert!(p <= f * (1.0 + 1e-9) + 1e-6, "{} > {}", p, f);
            prop_assert!(p + period + 1e-6 >= f, "{} vs {}", p, f);
        }
    }
}
