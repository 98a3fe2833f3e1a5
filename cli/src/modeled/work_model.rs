//! The emulator's duration model in the `model` mode: the host's metered response in, the
//! modeled one out, per function's architecture; and what must repeat for a job to be
//! answered from an earlier run (work reuse).
//!
//! Must not calibrate (`calibrate.rs`) nor hold the equations (`powersweep-model`).

use super::Setup;
use powersweep_analyzer::{Architecture, RowModel};
use powersweep_emulator::{DurationModel, Modeled as EmulatorModeled};
use powersweep_model::schedule::Cpu;
use powersweep_model::{JobWork, Modeled, Params};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One modeled job: the model's figures and the measured duration, ms (`None`: answered
/// from an earlier run).
type Seen = (Modeled, Option<f64>);

/// The emulator's duration model: the host's metered response in, the modeled one out
/// (`durationMs` modeled, `measuredMs` what it took here, `modeled` the model's figures).
#[derive(Debug)]
pub struct WorkModel {
    params: BTreeMap<Architecture, Params>,
    cfs_period_ms: f64,
    /// Every modeled job's figures by (architecture, memory, threads), for the rows.
    seen: Mutex<BTreeMap<RowKey, Vec<Seen>>>,
}

/// A row of the results: (architecture, memory MB, threads).
pub type RowKey = (Architecture, u32, u32);

impl WorkModel {
    /// The model of `setup`.
    pub fn new(setup: &Setup) -> Arc<Self> {
        Arc::new(Self {
            params: setup.params.clone(),
            cfs_period_ms: setup.run.cfs_period_ms,
            seen: Mutex::default(),
        })
    }

    /// Means of what the model derived for each (architecture, memory, threads).
    pub fn rows(&self) -> BTreeMap<RowKey, RowModel> {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.iter()
            .map(|(key, jobs)| {
                let mean = |values: Vec<f64>| {
                    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
                };
                let of = |f: &dyn Fn(&Modeled) -> f64| {
                    mean(jobs.iter().map(|(m, _)| f(m)).collect()).unwrap_or(0.0)
                };
                let measured: Vec<f64> = jobs.iter().filter_map(|(_, ms)| *ms).collect();
                let row = RowModel {
                    work_ms: of(&|m| m.work_ms),
                    io_wait_ms: of(&|m| m.io_wait_ms),
                    parallel_efficiency: of(&|m| m.parallel_efficiency),
                    reused: jobs.len() - measured.len(),
                    measured_ms: mean(measured),
                };
                (*key, row)
            })
            .collect()
    }
}

impl DurationModel for WorkModel {
    fn model(
        &self,
        function: &powersweep_emulator::ModeledFunction<'_>,
        response: &[u8],
        replay_of: Option<&str>,
    ) -> Result<EmulatorModeled, String> {
        let (memory_mb, cpu) = (function.memory_mb, function.cpu);
        let architecture: Architecture =
            function.architecture.parse().map_err(|e| format!("{e}"))?;
        let params = self
            .params
            .get(&architecture)
            .ok_or_else(|| format!("no model of {architecture}: it was not calibrated"))?;
        let mut body: Value =
            serde_json::from_slice(response).map_err(|e| format!("not JSON: {e}"))?;
        let object = body.as_object_mut().ok_or("not a JSON object")?;
        let work = object
            .remove("work")
            .ok_or("no `work`: the job did not run its tasks, or the host is not metering")?;
        let work: JobWork =
            serde_json::from_value(work).map_err(|e| format!("unreadable `work`: {e}"))?;
        let threads = object.get("threads").and_then(Value::as_u64).unwrap_or(1) as usize;
        let lambda = Cpu {
            vcpus: cpu.lambda_vcpus,
            cores: cpu.lambda_cores,
            period_ms: self.cfs_period_ms,
        };
        let modeled = powersweep_model::model(&work, threads, lambda, params);
        // Checked before anything is recorded: an infinite or NaN duration is no answer.
        let duration = Duration::try_from_secs_f64(modeled.duration_ms.max(0.0) / 1e3)
            .map_err(|_| format!("the model gave no duration ({} ms)", modeled.duration_ms))?;
        let measured = match replay_of {
            // The job did not run: what the response says of its run (times, cold start,
            // memory, the size it ran at) belongs to the run it was recorded from.
            Some(id) => {
                // null, not absent: the state machine selects every field of a response.
                for stale in ["cpuMs", "maxRssMb"] {
                    object.insert(stale.into(), Value::Null);
                }
                object.remove("tasks");
                object.insert("memoryMb".into(), memory_mb.into());
                object.insert("vcpus".into(), cpu.visible_cores.into());
                object.insert("cold".into(), false.into());
                object.insert("initMs".into(), 0.into());
                object.insert("reusedFrom".into(), id.into());
                None
            }
            None => Some(
                object
                    .get("durationMs")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0),
            ),
        };
        let duration_ms = (modeled.duration_ms * 1e3).round() / 1e3;
        object.insert("measuredMs".into(), measured.into());
        object.insert("durationMs".into(), duration_ms.into());
        object.insert(
            "modeled".into(),
            serde_json::to_value(&modeled).map_err(|e| e.to_string())?,
        );
        let errors = object.get("errors").and_then(Value::as_array);
        let ok = errors.is_none_or(Vec::is_empty);
        // The host stopped the job at the invocation's deadline: the work of the task it
        // stopped is not in `work`, so the sum above is short of the truth.
        let stopped_at_deadline = errors.is_some_and(|e| {
            e.iter()
                .any(|e| e.get("kind") == Some(&Value::from("deadline")))
        });
        if ok {
            self.seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry((architecture, memory_mb, threads as u32))
                .or_default()
                .push((modeled.clone(), measured));
        }
        Ok(EmulatorModeled {
            duration,
            payload: serde_json::to_vec(&body).map_err(|e| e.to_string())?,
            stopped_at_deadline,
        })
    }

    fn signature(&self, response: &[u8]) -> Option<Vec<u8>> {
        pure_signature(response)
    }
}

/// What must repeat for a job to be answered from an earlier run: the fuel of its plan and
/// of each task, in order, step by step. Results are not in it: a job may draw random inputs
/// (the PBKDF2 demo draws its salts) and still do the same work every run, and the modeled
/// duration depends on the work alone; a replayed response says whose results it carries.
/// `None` for a job that failed, was not metered, or made a host call that blocked (a write
/// must really happen, and its wait is drawn afresh).
fn pure_signature(response: &[u8]) -> Option<Vec<u8>> {
    let body: Value = serde_json::from_slice(response).ok()?;
    let failed = body
        .get("errors")
        .and_then(Value::as_array)
        .is_none_or(|e| !e.is_empty());
    let work: JobWork = serde_json::from_value(body.get("work")?.clone()).ok()?;
    if failed || work.calls().next().is_some() {
        return None;
    }
    let fuel: Vec<Vec<u64>> = std::iter::once(&work.plan)
        .chain(&work.tasks)
        .map(|t| t.steps.iter().map(|s| s.fuel).collect())
        .collect();
    serde_json::to_vec(&fuel).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn response(results: Value, fuel: &[u64], calls: Value, errors: Value) -> Vec<u8> {
        let tasks: Vec<Value> = fuel
            .iter()
            .map(|f| json!({"steps": [{"fuel": f, "calls": calls}], "hostCpuMs": 0.05}))
            .collect();
        json!({"workload": "w", "threads": 1, "results": results, "errors": errors,
               "durationMs": 12.5, "work": {"plan": {"steps": [{"fuel": 9}]}, "tasks": tasks}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn the_same_work_signs_alike_whatever_the_results_and_times() {
        let a = response(json!(["salt-1"]), &[100, 200], json!([]), json!([]));
        let b = response(json!(["salt-2"]), &[100, 200], json!([]), json!([]));
        assert!(pure_signature(&a).is_some());
        assert_eq!(pure_signature(&a), pure_signature(&b));
        let other = response(json!(["salt-1"]), &[100, 201], json!([]), json!([]));
        assert_ne!(pure_signature(&a), pure_signature(&other));
        let reordered = response(json!(["salt-1"]), &[200, 100], json!([]), json!([]));
        assert_ne!(pure_signature(&a), pure_signature(&reordered));
    }

    #[test]
    fn host_calls_errors_or_no_work_are_never_signed() {
        let put = json!([{"kind": "put-item", "wallMs": 1.0, "cpuMs": 0.1}]);
        let log = json!([{"kind": "log", "wallMs": 1.0, "cpuMs": 0.1}]);
        for calls in [put, log] {
            assert_eq!(
                pure_signature(&response(json!([1]), &[5], calls, json!([]))),
                None
            );
        }
        let failed = response(json!([null]), &[5], json!([]), json!([{"task": 0}]));
        assert_eq!(pure_signature(&failed), None);
        let unmetered = json!({"results": [1], "errors": []}).to_string();
        assert_eq!(pure_signature(unmetered.as_bytes()), None);
        assert_eq!(pure_signature(b"not json"), None);
    }
}
