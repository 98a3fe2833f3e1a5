//! The fluid-share scheduler: how long tasks take on N threads under Lambda's CPU share.
//!
//! The rules, as Lambda and the host behave:
//! - The share `S` = memory / MB-per-vCPU is one budget over all visible cores `C`, enforced
//!   as a CFS quota; the model treats it as a fluid: at every instant the `k` threads that
//!   want CPU each run at rate `r = min(1, min(S, C) / k)` of one core. No thread runs faster
//!   than one core (`r ≤ 1`), and all of them together never get more than `S`.
//! - A thread waiting in a host call (an I/O wait) wants no CPU: it uses none of the share
//!   and its wait passes in real time, overlapping with other threads' work and waits.
//! - The job runs its serial part (the workload's `plan`) on one thread first, then
//!   `min(N, tasks)` threads pull tasks from one queue in task order, as the host does: a
//!   thread takes the next task the moment it finishes one.
//!
//! So a compute phase of `w` ms (at one core) takes `w / r` ms, and the job's duration is
//! the time the last thread finishes. With only compute, one thread takes `Σw / min(1, S)`;
//! `N` equal tasks on `N` threads take `Σw / min(N, S, C)`.
//!
//! Pure: event-driven simulation over phases, no I/O, no clocks.

/// One piece of a task: CPU work or a wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// CPU work, ms on one core.
    Compute(f64),
    /// A wait that uses no CPU, ms.
    Wait(f64),
}

/// The CPU a memory size buys on Lambda.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cpu {
    /// The share, in vCPUs (memory / MB per vCPU).
    pub vcpus: f64,
    /// The cores the function sees.
    pub cores: usize,
}

impl Cpu {
    /// CPU all threads together may use at once.
    fn budget(self) -> f64 {
        self.vcpus.min(self.cores.max(1) as f64)
    }
}

/// A thread's progress through its current task.
#[derive(Debug, Clone, Copy)]
struct Running {
    task: usize,
    phase: usize,
    left: f64,
}

/// Below this many ms a phase counts as finished (float residue of the simulation).
const EPSILON_MS: f64 = 1e-9;

/// The job's duration in ms: `serial` alone on one thread, then `tasks` on `threads` threads
/// pulling from one queue, all under `cpu`.
pub fn duration_ms(serial: &[Phase], tasks: &[Vec<Phase>], threads: usize, cpu: Cpu) -> f64 {
    simulate(&[serial], 1, cpu) + simulate(tasks, threads, cpu)
}

fn simulate<T: AsRef<[Phase]>>(tasks: &[T], threads: usize, cpu: Cpu) -> f64 {
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
    let mut now = 0.0;
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
        let rate = if computing == 0 {
            0.0
        } else {
            (cpu.budget() / computing as f64).min(1.0)
        };
        let step = running
            .iter()
            .flatten()
            .map(|r| {
                if is_compute(tasks, r) {
                    r.left / rate
                } else {
                    r.left
                }
            })
            .fold(f64::INFINITY, f64::min);
        if !step.is_finite() {
            return now;
        }
        now += step;
        for r in running.iter_mut().flatten() {
            r.left -= if is_compute(tasks, r) {
                rate * step
            } else {
                step
            };
        }
    }
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
    fn waits_overlap_across_threads() {
        let tasks = vec![vec![Phase::Wait(100.0)]; 4];
        assert!(close(duration_ms(&[], &tasks, 4, cpu(128)), 100.0));
        assert!(close(duration_ms(&[], &tasks, 1, cpu(128)), 400.0));
        assert_eq!(duration_ms(&[], &[], 2, cpu(128)), 0.0);
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
    }
}
