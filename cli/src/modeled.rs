//! The `model` CPU mode on the CLI's side: its flags, the calibration run before any
//! invocation, and the [`WorkModel`] the emulator asks for each invocation's duration.
//!
//! Calibration runs the workload's own tasks in this process (two hosts: one metered for the
//! fuel of each task, one unmetered for timing them), with DynamoDB calls dry so nothing is
//! written twice. Must not hold sweep policy (`cmd/sweep.rs`) nor the model's equations
//! (`powersweep-model`).

use anyhow::{Context, Result, bail};
use powersweep_analyzer::{ModelRun, RowModel};
use powersweep_emulator::{CpuShare, DurationModel, Modeled as EmulatorModeled};
use powersweep_host::{Host, HostConfig, JobEvent};
use powersweep_model::calibration::{MIN_JOB_FUEL, MIN_SAMPLES, Sample};
use powersweep_model::schedule::Cpu;
use powersweep_model::{Calibration, JobWork, LatencyModel, Modeled, Params};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Flags of the `model` CPU mode, shared by `sweep` and `invoke`.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArgs {
    /// I/O latency of host calls: `default` (DynamoDB in-region, published figures),
    /// `measured` (what the local service answered in), `KIND=P50[/P99],…` in ms
    /// (kinds: put-item, batch-put), or @file.json ({"put-item": {"p50Ms": 5, "p99Ms": 12}}).
    #[arg(long, default_value = "default")]
    pub io_latency: String,
    /// Use this speed (fuel units per ms of one core) instead of calibrating.
    #[arg(long)]
    pub calibration: Option<f64>,
    /// How much faster one Lambda vCPU is than one core of this machine (1 = as fast).
    #[arg(long, default_value_t = 1.0)]
    pub vcpu_speed: f64,
    /// Seconds spent timing the workload for calibration (at least 5 samples are taken).
    #[arg(long, default_value_t = 3.0)]
    pub calibration_seconds: f64,
    /// Run every job. By default a warm invocation of a job that makes no host calls and has
    /// twice done the same work (fuel) is answered from that run: its modeled duration is
    /// the same, and running it again would only take time.
    #[arg(long)]
    pub no_reuse: bool,
}

/// Shortest calibration sample, ms: short tasks repeat until a sample lasts this long.
const SAMPLE_MS: f64 = 5.0;

/// The model of a run: its parameters and how they were obtained.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Turns work into time.
    pub params: Params,
    /// For results.json and the table.
    pub run: ModelRun,
}

impl ModelArgs {
    /// Checks the flags, then calibrates on `event` (unless `--calibration` is given).
    /// Prints the calibration. `config` is the host configuration (tables, guests).
    pub async fn prepare(&self, config: &HostConfig, event: &JobEvent) -> Result<Setup> {
        let latency = match self.io_latency.strip_prefix('@') {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read --io-latency file `{path}`"))?;
                LatencyModel::parse(&text).with_context(|| format!("--io-latency file `{path}`"))?
            }
            None => LatencyModel::parse(&self.io_latency).context("--io-latency")?,
        };
        if !(self.vcpu_speed.is_finite() && self.vcpu_speed > 0.0 && self.vcpu_speed <= 100.0) {
            bail!(
                "--vcpu-speed must be a positive factor (1 = a Lambda vCPU is as fast as a core here), got {}",
                self.vcpu_speed
            );
        }
        if !(self.calibration_seconds.is_finite()
            && (0.1..=600.0).contains(&self.calibration_seconds))
        {
            bail!(
                "--calibration-seconds must be 0.1–600, got {}",
                self.calibration_seconds
            );
        }
        let calibration = match self.calibration {
            Some(speed) => Calibration::given(speed).context("--calibration")?,
            None => {
                eprintln!("calibrating: timing {} on this machine…", event.workload);
                let (config, event) = (config.clone(), event.clone());
                let budget = Duration::from_secs_f64(self.calibration_seconds);
                tokio::task::spawn_blocking(move || calibrate(config, &event, budget)).await??
            }
        };
        eprintln!("calibration: {}", calibration.describe());
        let run = ModelRun {
            calibration: calibration.clone(),
            latency: latency.describe(),
            vcpu_speed: self.vcpu_speed,
        };
        Ok(Setup {
            params: Params {
                units_per_ms: calibration.units_per_ms,
                vcpu_speed: self.vcpu_speed,
                latency,
            },
            run,
        })
    }
}

/// Fuel of each task from one metered run, then timed unmetered samples of the same tasks.
fn calibrate(config: HostConfig, event: &JobEvent, budget: Duration) -> Result<Calibration> {
    let runtime = tokio::runtime::Handle::current();
    let dry = HostConfig {
        dry_io: true,
        // The largest size Lambda has, so that no memory limit binds while the work is counted.
        memory_mb: *powersweep_emulator::MEMORY_RANGE_MB.end(),
        cpu_vcpus: None,
        ..config
    };
    let metered = Host::new(
        HostConfig {
            meter: true,
            ..dry.clone()
        },
        runtime.clone(),
    )?;
    let single = JobEvent {
        threads: 1,
        ..event.clone()
    };
    // Loaded apart from the run so that a file that is no workload is named as such, not as
    // a failed calibration.
    metered
        .workload(&single.workload)
        .with_context(|| format!("workload `{}`", single.workload))?;
    let response = metered.run(&single);
    if let Some(e) = response.errors.first() {
        bail!("calibration: the job failed: {e}");
    }
    let work = response
        .work
        .context("calibration: the metered host reported no work")?;
    let fuel: Vec<u64> = work.tasks.iter().map(|t| t.fuel()).collect();
    drop(metered);
    if work.fuel() < MIN_JOB_FUEL {
        let mut skipped = Calibration::given(NOMINAL_UNITS_PER_MS)?;
        skipped.source = format!(
            "not calibrated: the job does {} fuel units of guest work (under {MIN_JOB_FUEL}); its compute time is negligible and taken at a nominal {NOMINAL_UNITS_PER_MS:.0} units per ms",
            work.fuel()
        );
        return Ok(skipped);
    }
    let unmetered = Host::new(dry, runtime)?;
    let runs = unmetered
        .time_tasks(&single, budget, MIN_SAMPLES * 2, SAMPLE_MS)
        .map_err(|e| anyhow::anyhow!("calibration: {e}"))?;
    let samples: Vec<Sample> = runs
        .iter()
        .filter(|r| fuel[r.task] > 0)
        .map(|r| Sample {
            fuel: fuel[r.task] * u64::from(r.repeats),
            ms: r.guest_ms,
        })
        .collect();
    Calibration::from_samples(&samples).context("calibration")
}

/// A stand-in speed for jobs with no guest work to time (about what this VM does).
const NOMINAL_UNITS_PER_MS: f64 = 1_000_000.0;

/// One modeled job: the model's figures and the measured duration, ms (`None`: answered
/// from an earlier run).
type Seen = (Modeled, Option<f64>);

/// The emulator's duration model: the host's metered response in, the modeled one out
/// (`durationMs` modeled, `measuredMs` what it took here, `modeled` the model's figures).
#[derive(Debug)]
pub struct WorkModel {
    params: Params,
    /// Every modeled job's figures by (memory, threads), for the rows of the results.
    seen: Mutex<BTreeMap<(u32, u32), Vec<Seen>>>,
}

impl WorkModel {
    /// A model with these parameters.
    pub fn new(params: Params) -> Arc<Self> {
        Arc::new(Self {
            params,
            seen: Mutex::default(),
        })
    }

    /// Means of what the model derived for each (memory, threads).
    pub fn rows(&self) -> BTreeMap<(u32, u32), RowModel> {
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
        memory_mb: u32,
        cpu: &CpuShare,
        response: &[u8],
        replay_of: Option<&str>,
    ) -> Result<EmulatorModeled, String> {
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
        };
        let modeled = powersweep_model::model(&work, threads, lambda, &self.params);
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
        let ok = object
            .get("errors")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        if ok {
            self.seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry((memory_mb, threads as u32))
                .or_default()
                .push((modeled.clone(), measured));
        }
        Ok(EmulatorModeled {
            duration: Duration::from_secs_f64(modeled.duration_ms.max(0.0) / 1e3),
            payload: serde_json::to_vec(&body).map_err(|e| e.to_string())?,
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

/// The host configuration calibration runs with: the sweep's guests and tables.
pub fn host_config(guests: &Path, allow_table: &[String]) -> HostConfig {
    HostConfig {
        allowed_tables: allow_table.to_vec(),
        ..HostConfig::new(guests)
    }
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
