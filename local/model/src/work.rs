//! The metered work of one job, as the host reports it in `work` of its response: per task, a
//! timeline of guest work (wasmtime fuel) and host calls (kind, wall and CPU time).
//!
//! Owns the wire shape (camelCase JSON) and the bounded recording of timelines. It must not
//! read clocks or fuel itself: the host's meter measures and hands the figures in.

use serde::{Deserialize, Serialize};

/// Steps one timeline keeps before it coarsens (see [`Timeline::record`]). A task making
/// more host calls than this still reports every call's time and count, only grouped.
pub const MAX_STEPS: usize = 4096;

/// What one job did, measured in units that do not drift with the machine's speed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobWork {
    /// The `plan` call: runs alone, before any task.
    pub plan: Timeline,
    /// One timeline per task, in task order (the order the host's queue hands them out).
    pub tasks: Vec<Timeline>,
}

impl JobWork {
    /// Guest work of the whole job, fuel units.
    pub fn fuel(&self) -> u64 {
        self.plan.fuel() + self.tasks.iter().map(Timeline::fuel).sum::<u64>()
    }

    /// Every host call of the job, in order: the plan's, then each task's.
    pub fn calls(&self) -> impl Iterator<Item = &HostCall> {
        std::iter::once(&self.plan)
            .chain(&self.tasks)
            .flat_map(|t| t.steps.iter().flat_map(|s| s.calls.iter()))
    }
}

/// One task's work in order: guest work, then the host calls that followed it, and so on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// CPU ms the host spent for this task outside guest code without blocking (wasmtime
    /// libcalls such as `memory.grow`, WASI calls that return at once): work on the share.
    #[serde(default)]
    pub host_cpu_ms: f64,
}

/// Guest work up to a host call, then the call(s).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Guest work before the calls, in wasmtime fuel (about one unit per wasm instruction).
    pub fuel: u64,
    /// The calls that followed; at most one per kind once a timeline has been coarsened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<HostCall>,
}

/// One host call that blocked its guest (or several of one kind, once coarsened).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostCall {
    /// What was called.
    pub kind: CallKind,
    /// How many calls this stands for.
    #[serde(default = "one")]
    pub count: u32,
    /// Wall time the guest waited, ms (what the local stand-in answered in).
    pub wall_ms: f64,
    /// CPU ms the host spent on the guest's thread during the call(s).
    pub cpu_ms: f64,
}

fn one() -> u32 {
    1
}

/// The kinds of host call. The I/O kinds have a latency model; the others keep their
/// measured time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallKind {
    /// `dynamodb.put-item`.
    PutItem,
    /// `dynamodb.batch-put`.
    BatchPut,
    /// `host.log`.
    Log,
    /// Anything else that blocked: a WASI call (e.g. a sleep), a libcall.
    Wasi,
}

impl CallKind {
    /// Every kind, in a stable order.
    pub const ALL: [CallKind; 4] = [
        CallKind::PutItem,
        CallKind::BatchPut,
        CallKind::Log,
        CallKind::Wasi,
    ];

    /// The kinds that stand for a remote service, whose latency the model may replace.
    pub const IO: [CallKind; 2] = [CallKind::PutItem, CallKind::BatchPut];

    /// The wire name (`put-item`, …).
    pub fn name(self) -> &'static str {
        match self {
            CallKind::PutItem => "put-item",
            CallKind::BatchPut => "batch-put",
            CallKind::Log => "log",
            CallKind::Wasi => "wasi",
        }
    }
}

impl std::fmt::Display for CallKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Timeline {
    /// Guest work of this timeline, fuel units.
    pub fn fuel(&self) -> u64 {
        self.steps.iter().map(|s| s.fuel).sum()
    }

    /// Records guest work of `fuel` units followed by `call` (or, with `None`, the task's
    /// trailing work). Past [`MAX_STEPS`] neighbouring steps are merged pairwise, so memory
    /// stays bounded however many calls a task makes; totals per kind are kept exactly.
    pub fn record(&mut self, fuel: u64, call: Option<HostCall>) {
        self.steps.push(Step {
            fuel,
            calls: call.into_iter().collect(),
        });
        if self.steps.len() > MAX_STEPS {
            self.coarsen();
        }
    }

    fn coarsen(&mut self) {
        let steps = std::mem::take(&mut self.steps);
        let mut merged = Vec::with_capacity(steps.len() / 2 + 1);
        let mut pairs = steps.into_iter();
        while let Some(mut first) = pairs.next() {
            if let Some(second) = pairs.next() {
                first.fuel += second.fuel;
                for call in second.calls {
                    match first.calls.iter_mut().find(|c| c.kind == call.kind) {
                        Some(same) => {
                            same.count += call.count;
                            same.wall_ms += call.wall_ms;
                            same.cpu_ms += call.cpu_ms;
                        }
                        None => first.calls.push(call),
                    }
                }
            }
            merged.push(first);
        }
        self.steps = merged;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(wall_ms: f64) -> HostCall {
        HostCall {
            kind: CallKind::PutItem,
            count: 1,
            wall_ms,
            cpu_ms: 0.1,
        }
    }

    #[test]
    fn wire_shape_is_camel_case_and_kinds_kebab_case() {
        let mut t = Timeline::default();
        t.record(10, Some(put(2.0)));
        t.record(5, None);
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"steps": [
                {"fuel": 10, "calls": [{"kind": "put-item", "count": 1, "wallMs": 2.0, "cpuMs": 0.1}]},
                {"fuel": 5}
            ], "hostCpuMs": 0.0})
        );
        let back: Timeline = serde_json::from_value(json).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn coarsening_bounds_steps_and_keeps_totals() {
        let mut t = Timeline::default();
        for i in 0..10_000u64 {
            let call = if i % 3 == 0 {
                HostCall {
                    kind: CallKind::Log,
                    count: 1,
                    wall_ms: 0.01,
                    cpu_ms: 0.01,
                }
            } else {
                put(1.0)
            };
            t.record(7, Some(call));
        }
        assert!(t.steps.len() <= MAX_STEPS);
        assert_eq!(t.fuel(), 70_000);
        let work = JobWork {
            plan: Timeline::default(),
            tasks: vec![t],
        };
        let count = |kind| -> u32 {
            work.calls()
                .filter(|c| c.kind == kind)
                .map(|c| c.count)
                .sum()
        };
        assert_eq!(count(CallKind::Log), 3334);
        assert_eq!(count(CallKind::PutItem), 6666);
        let wall: f64 = work
            .calls()
            .filter(|c| c.kind == CallKind::PutItem)
            .map(|c| c.wall_ms)
            .sum();
        assert!((wall - 6666.0).abs() < 1e-6);
    }
}
