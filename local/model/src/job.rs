//! One job's Lambda duration from its metered work: timelines → phases → the scheduler.
//!
//! A step's guest work of `f` fuel becomes `f / (units_per_ms · speed)` ms of compute, where
//! `units_per_ms` is the calibration and `speed` how much faster one Lambda vCPU is than one
//! core of this machine (1 by default). A host call becomes its measured host CPU (compute,
//! on the share) followed by a wait: the latency model's sample less that CPU, or, for kinds
//! the model does not cover, the measured wall time less the CPU. The task's non-blocking
//! host CPU (libcalls) is compute at its end.
//!
//! Must not measure or read anything: everything arrives as arguments.

use crate::latency::LatencyModel;
use crate::schedule::{self, Cpu, Phase};
use crate::work::{JobWork, Timeline};
use serde::{Deserialize, Serialize};

/// How work turns into time.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Fuel units per ms of one core of this machine (the calibration).
    pub units_per_ms: f64,
    /// One Lambda vCPU ÷ one core of this machine, in speed (1 = as fast).
    pub vcpu_speed: f64,
    /// How I/O waits are modeled.
    pub latency: LatencyModel,
}

/// What the model derived for one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Modeled {
    /// The job's duration as Lambda would run it, ms.
    pub duration_ms: f64,
    /// The same job on one thread at the same memory size, ms.
    pub one_thread_ms: f64,
    /// CPU work of the job at one vCPU (guest work and host CPU), ms.
    pub work_ms: f64,
    /// Time threads spent waiting in host calls, summed over threads, ms.
    pub io_wait_ms: f64,
    /// `one_thread_ms / (threads × duration_ms)`: 1 when N threads are N times as fast.
    pub parallel_efficiency: f64,
    /// Guest work, fuel units.
    pub fuel: u64,
    /// Host calls that blocked.
    pub calls: u64,
}

/// The job's Lambda duration on `threads` threads with `cpu`.
pub fn model(work: &JobWork, threads: usize, cpu: Cpu, params: &Params) -> Modeled {
    let mut ordinal = 0u64;
    let plan = phases(&work.plan, params, &mut ordinal);
    let tasks: Vec<Vec<Phase>> = work
        .tasks
        .iter()
        .map(|t| phases(t, params, &mut ordinal))
        .collect();
    let threads = threads.max(1);
    let duration_ms = schedule::duration_ms(&plan, &tasks, threads, cpu);
    let one_thread_ms = if threads == 1 {
        duration_ms
    } else {
        schedule::duration_ms(&plan, &tasks, 1, cpu)
    };
    let (mut work_ms, mut io_wait_ms) = (0.0, 0.0);
    for phase in plan.iter().chain(tasks.iter().flatten()) {
        match phase {
            Phase::Compute(ms) => work_ms += ms,
            Phase::Wait(ms) => io_wait_ms += ms,
        }
    }
    let parallel_efficiency = if duration_ms > 0.0 {
        one_thread_ms / (threads as f64 * duration_ms)
    } else {
        1.0
    };
    Modeled {
        duration_ms,
        one_thread_ms,
        work_ms,
        io_wait_ms,
        parallel_efficiency,
        fuel: work.fuel(),
        calls: work.calls().map(|c| u64::from(c.count)).sum(),
    }
}

fn phases(timeline: &Timeline, params: &Params, ordinal: &mut u64) -> Vec<Phase> {
    let per_ms = params.units_per_ms * params.vcpu_speed;
    let cpu = |ms: f64| Phase::Compute(ms.max(0.0) / params.vcpu_speed);
    let mut out = Vec::with_capacity(timeline.steps.len() * 3 + 1);
    for step in &timeline.steps {
        out.push(Phase::Compute(step.fuel as f64 / per_ms));
        for call in &step.calls {
            let host_cpu = call.cpu_ms.max(0.0);
            let waited = params
                .latency
                .wait_ms(call.kind, call.count, *ordinal)
                .unwrap_or(call.wall_ms);
            *ordinal += u64::from(call.count);
            out.push(cpu(host_cpu));
            out.push(Phase::Wait((waited - host_cpu).max(0.0)));
        }
    }
    out.push(cpu(timeline.host_cpu_ms));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::work::{CallKind, HostCall};

    fn params(latency: LatencyModel) -> Params {
        Params {
            units_per_ms: 1000.0,
            vcpu_speed: 1.0,
            latency,
        }
    }

    fn cpu(memory_mb: u32) -> Cpu {
        Cpu {
            vcpus: f64::from(memory_mb) / 1769.0,
            cores: 2,
            period_ms: 0.0,
        }
    }

    fn writer(calls: usize, wall_ms: f64) -> Timeline {
        let mut t = Timeline::default();
        for _ in 0..calls {
            t.record(
                100,
                Some(HostCall {
                    kind: CallKind::PutItem,
                    count: 1,
                    wall_ms,
                    cpu_ms: 0.2,
                }),
            );
        }
        t
    }

    #[test]
    fn fuel_becomes_ms_through_the_calibration_and_the_speed_knob() {
        let mut t = Timeline::default();
        t.record(1_000_000, None);
        let work = JobWork {
            plan: Timeline::default(),
            tasks: vec![t],
        };
        let m = model(&work, 1, cpu(1769), &params(LatencyModel::Measured));
        assert!((m.duration_ms - 1000.0).abs() < 1e-6);
        assert!((m.work_ms - 1000.0).abs() < 1e-6);
        let faster = Params {
            vcpu_speed: 2.0,
            ..params(LatencyModel::Measured)
        };
        assert!((model(&work, 1, cpu(1769), &faster).duration_ms - 500.0).abs() < 1e-6);
    }

    #[test]
    fn the_latency_model_replaces_what_moto_answered_in() {
        // Against moto each put took 2 ms; DynamoDB in-region takes ~8.
        let work = JobWork {
            plan: Timeline::default(),
            tasks: vec![writer(50, 2.0), writer(50, 2.0)],
        };
        let measured = model(&work, 1, cpu(1024), &params(LatencyModel::Measured));
        let modeled = model(&work, 1, cpu(1024), &params(LatencyModel::default()));
        assert!((measured.io_wait_ms - 100.0 * 1.8).abs() < 1e-6);
        let mean = crate::latency::DYNAMODB_PUT_ITEM.mean_ms();
        assert!((modeled.io_wait_ms / 100.0 - (mean - 0.2)).abs() < 0.3);
        assert_eq!(modeled.calls, 100);
        // The same work gives the same number every time.
        assert_eq!(
            modeled,
            model(&work, 1, cpu(1024), &params(LatencyModel::default()))
        );
        // And threads overlap the waits: two threads at 1,024 MB are nearly twice as fast.
        let two = model(&work, 2, cpu(1024), &params(LatencyModel::default()));
        assert!(modeled.duration_ms / two.duration_ms > 1.6);
        assert!(two.parallel_efficiency > 0.8 && two.parallel_efficiency <= 1.0 + 1e-9);
    }
}
