//! The `model` CPU mode on the CLI's side: its flags, the calibration run before any
//! invocation, and the [`WorkModel`] the emulator asks for each invocation's duration.
//!
//! Calibration runs the workload's own tasks in this process (two hosts: one metered for the
//! fuel of each task, one unmetered for timing them), with DynamoDB calls dry so nothing is
//! written twice. Must not hold sweep policy (`cmd/sweep.rs`) nor the model's equations
//! (`powersweep-model`).

use anyhow::{Context, Result, bail};
use powersweep_analyzer::{Architecture, ModelRun, RowModel};
use powersweep_emulator::{DurationModel, Modeled as EmulatorModeled};
use powersweep_host::{Host, HostConfig, JobEvent, TimedRun};
use powersweep_model::anchor::{self, Anchor, BCRYPT_SAMPLE, Pair};
use powersweep_model::calibration::{MIN_JOB_FUEL, MIN_SAMPLES, Sample};
use powersweep_model::lambda::{CFS_PERIOD_MS, MAX_CFS_PERIOD_MS};
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
    /// Use this speed (fuel units per ms of one core here) instead of calibrating.
    #[arg(long)]
    pub calibration: Option<f64>,
    /// How much faster one Lambda vCPU is than one core of this machine (1 = as fast). By
    /// default it is measured: a reference kernel (bcrypt, as AWS's Lambda sample published
    /// it per architecture) is timed beside the workload (0.01–100).
    #[arg(long)]
    pub vcpu_speed: Option<f64>,
    /// Lambda's CFS period in ms: the share is a quota of share × period of CPU per period
    /// (0 makes it a fluid share; the CPU-capped modes need 1–1000).
    #[arg(long, default_value_t = CFS_PERIOD_MS)]
    pub cfs_period_ms: f64,
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

/// How long the reference kernel is timed alone when there is no workload to pair it with.
const REFERENCE_ALONE: Duration = Duration::from_millis(500);

/// The model of a run: its parameters per architecture and how they were obtained.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Turns work into time, per architecture swept.
    pub params: BTreeMap<Architecture, Params>,
    /// The CFS period, ms (0: fluid).
    pub cfs_period_ms: f64,
    /// For results.json and the table.
    pub run: ModelRun,
}

impl ModelArgs {
    /// Checks the flags of the model that the CPU-capped modes share: the CFS period, whose
    /// kernel form must be 1–1000 ms.
    pub fn check_period(&self, capped: bool) -> Result<()> {
        let p = self.cfs_period_ms;
        if !(p.is_finite() && (0.0..=MAX_CFS_PERIOD_MS).contains(&p)) {
            bail!("--cfs-period-ms must be 0–{MAX_CFS_PERIOD_MS} ms (0: a fluid share), got {p}");
        }
        if capped && p < 1.0 {
            bail!(
                "--cfs-period-ms {p}: a CPU-capped mode needs a period of 1–{MAX_CFS_PERIOD_MS} ms (the kernel enforces the share per period); 0 is for --cpu-mode model"
            );
        }
        Ok(())
    }

    /// The CFS period for the emulator's cgroups, µs.
    pub fn cfs_period_us(&self) -> u64 {
        (self.cfs_period_ms * 1000.0).round() as u64
    }

    /// Checks the flags, then calibrates on `event` (unless `--calibration` is given) and
    /// anchors each of `architectures` (unless `--vcpu-speed` is given). Prints both.
    /// `config` is the host configuration (tables, guests).
    pub async fn prepare(
        &self,
        config: &HostConfig,
        event: &JobEvent,
        architectures: &[Architecture],
    ) -> Result<Setup> {
        let latency = match self.io_latency.strip_prefix('@') {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read --io-latency file `{path}`"))?;
                LatencyModel::parse(&text).with_context(|| format!("--io-latency file `{path}`"))?
            }
            None => LatencyModel::parse(&self.io_latency).context("--io-latency")?,
        };
        if let Some(x) = self.vcpu_speed
            && !(x.is_finite() && (0.01..=100.0).contains(&x))
        {
            bail!(
                "--vcpu-speed must be a factor of 0.01–100 (1 = a Lambda vCPU is as fast as a core here), got {x}"
            );
        }
        if let Some(c) = self.calibration
            && !(c.is_finite() && (1.0..=1e12).contains(&c))
        {
            bail!("--calibration must be 1–1e12 fuel units per ms, got {c}");
        }
        if !(self.calibration_seconds.is_finite()
            && (0.1..=600.0).contains(&self.calibration_seconds))
        {
            bail!(
                "--calibration-seconds must be 0.1–600, got {}",
                self.calibration_seconds
            );
        }
        self.check_period(false)?;
        let anchoring = self.vcpu_speed.is_none();
        let timed = match self.calibration {
            Some(speed) => {
                let calibration = Calibration::given(speed).context("--calibration")?;
                let runs = if anchoring {
                    tokio::task::spawn_blocking(|| time_reference_alone(REFERENCE_ALONE)).await?
                } else {
                    Vec::new()
                };
                Timed::Alone(calibration, runs)
            }
            None => {
                eprintln!(
                    "calibrating: timing {} on this machine{}…",
                    event.workload,
                    if anchoring {
                        ", with the reference kernel beside it"
                    } else {
                        ""
                    }
                );
                let (config, event) = (config.clone(), event.clone());
                let budget = Duration::from_secs_f64(self.calibration_seconds);
                tokio::task::spawn_blocking(move || calibrate(config, &event, budget, anchoring))
                    .await??
            }
        };
        let calibration = timed.calibration().clone();
        eprintln!("calibration: {}", calibration.describe());
        let mut params = BTreeMap::new();
        let mut anchors = Vec::new();
        for &architecture in architectures {
            let anchor = match self.vcpu_speed {
                Some(x) => given_anchor(architecture, x),
                None => timed.anchor(architecture),
            };
            eprintln!("anchor: {}", anchor.describe());
            params.insert(
                architecture,
                Params {
                    units_per_ms: calibration.units_per_ms,
                    vcpu_speed: anchor.vcpu_speed,
                    latency: latency.clone(),
                },
            );
            anchors.push(anchor);
        }
        let run = ModelRun {
            calibration,
            latency: latency.describe(),
            anchors,
            cfs_period_ms: self.cfs_period_ms,
        };
        Ok(Setup {
            params,
            cfs_period_ms: self.cfs_period_ms,
            run,
        })
    }
}

/// The anchor of `--vcpu-speed X`.
fn given_anchor(architecture: Architecture, x: f64) -> Anchor {
    Anchor {
        architecture: architecture.as_str().into(),
        kernel: String::new(),
        source: String::new(),
        lambda_ms: 0.0,
        here_ms: 0.0,
        vcpu_speed: x,
        status: format!("given by --vcpu-speed {x}"),
    }
}

/// What calibration timed: the workload with the reference beside it, or the reference alone
/// under a calibration that was given or skipped.
enum Timed {
    Paired(Calibration, Vec<Pair>),
    Alone(Calibration, Vec<f64>),
}

impl Timed {
    fn calibration(&self) -> &Calibration {
        match self {
            Timed::Paired(c, _) | Timed::Alone(c, _) => c,
        }
    }

    /// The anchor of `architecture`; this core when the reference could not anchor.
    fn anchor(&self, architecture: Architecture) -> Anchor {
        let arch = architecture.as_str();
        let here = self.calibration().units_per_ms;
        let measured = match self {
            Timed::Paired(_, pairs) => anchor::anchored_speed(&BCRYPT_SAMPLE, arch, pairs)
                .map(|a| (a.units_per_ms / here, a.here_ms)),
            Timed::Alone(_, runs) => anchor::reference_alone(&BCRYPT_SAMPLE, arch, runs),
        };
        let lambda_ms = BCRYPT_SAMPLE.lambda_ms(arch).unwrap_or(0.0);
        let mut anchor = Anchor {
            architecture: arch.into(),
            kernel: BCRYPT_SAMPLE.kernel.into(),
            source: BCRYPT_SAMPLE.source.into(),
            lambda_ms,
            here_ms: 0.0,
            vcpu_speed: 1.0,
            status: anchor::ANCHORED.into(),
        };
        match measured {
            Ok((x, here_ms)) => {
                anchor.vcpu_speed = x;
                anchor.here_ms = here_ms;
            }
            Err(e) => {
                eprintln!("warning: {e}; a Lambda vCPU ({arch}) is taken as one core here");
                anchor.status = format!("not anchored ({e}); one core here stands in");
            }
        }
        anchor
    }
}

/// Fuel of each task from one metered run, then timed unmetered samples of the same tasks,
/// each followed by the reference kernel when `anchoring`.
fn calibrate(
    config: HostConfig,
    event: &JobEvent,
    budget: Duration,
    anchoring: bool,
) -> Result<Timed> {
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
        let runs = if anchoring {
            time_reference_alone(REFERENCE_ALONE)
        } else {
            Vec::new()
        };
        return Ok(Timed::Alone(skipped, runs));
    }
    let unmetered = Host::new(dry, runtime)?;
    let mut kernel = crate::reference_kernel::run;
    let reference = anchoring.then_some(&mut kernel as &mut dyn FnMut());
    let runs = unmetered
        .time_tasks(&single, budget, MIN_SAMPLES * 2, SAMPLE_MS, reference)
        .map_err(|e| anyhow::anyhow!("calibration: {e}"))?;
    let timed: Vec<&TimedRun> = runs.iter().filter(|r| fuel[r.task] > 0).collect();
    let samples: Vec<Sample> = timed
        .iter()
        .map(|r| Sample {
            fuel: fuel[r.task] * u64::from(r.repeats),
            ms: r.guest_ms,
        })
        .collect();
    let pairs: Vec<Pair> = timed
        .iter()
        .filter_map(|r| {
            Some(Pair {
                fuel: fuel[r.task] * u64::from(r.repeats),
                ms: r.guest_ms,
                reference_ms: r.reference_ms? / crate::reference_kernel::published_runs_per_run(),
            })
        })
        .collect();
    let calibration = Calibration::from_samples(&samples).context("calibration")?;
    Ok(Timed::Paired(calibration, pairs))
}

/// Runs of the reference kernel alone for `budget`, each scaled to a published run, ms.
fn time_reference_alone(budget: Duration) -> Vec<f64> {
    let started = std::time::Instant::now();
    let per_run = crate::reference_kernel::published_runs_per_run();
    let mut runs = Vec::new();
    // The first run is a warm-up.
    crate::reference_kernel::run();
    while started.elapsed() < budget || runs.len() < anchor::MIN_PAIRS {
        let t = powersweep_host::thread_cpu_time();
        crate::reference_kernel::run();
        let ms = powersweep_host::thread_cpu_time()
            .saturating_sub(t)
            .as_secs_f64()
            * 1e3;
        runs.push(ms / per_run);
    }
    runs
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
            cfs_period_ms: setup.cfs_period_ms,
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
        let architecture: Architecture = serde_json::from_value(Value::from(function.architecture))
            .map_err(|_| format!("unknown architecture `{}`", function.architecture))?;
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
                .entry((architecture, memory_mb, threads as u32))
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
