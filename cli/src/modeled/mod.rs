//! The `model` CPU mode on the CLI's side: its flags and the [`Setup`] of a run (calibration
//! and anchor, made before any invocation), then the [`WorkModel`] the emulator asks for each
//! invocation's duration.
//!
//! Calibrating and anchoring is `calibrate.rs`; turning a metered response into a modeled
//! one, `work_model.rs`. Must not hold sweep policy (`cmd/sweep/`) nor the model's equations
//! (`powersweep-model`).

mod calibrate;
mod work_model;

pub use work_model::WorkModel;

use anyhow::{Context, Result, bail};
use calibrate::{Timed, calibrate};
use powersweep_analyzer::{Architecture, ModelRun};
use powersweep_host::{HostConfig, JobEvent};
use powersweep_model::anchor::Anchor;
use powersweep_model::lambda::{CFS_PERIOD_MS, MAX_CFS_PERIOD_MS, MIN_CFS_PERIOD_MS};
use powersweep_model::{Calibration, LatencyModel, Params};
use std::collections::BTreeMap;
use std::path::Path;
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
    /// Why `vcpu_speed` is set when no flag set it (the cross-check's core), for the results.
    #[arg(skip)]
    pub vcpu_speed_reason: Option<String>,
    /// Lambda's CFS period in ms: the share is a quota of share × period of CPU per period
    /// (1–1000; 0 makes it a fluid share, in the model mode only).
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

/// The limits every invocation of the job has, which calibration keeps too (it runs the job
/// in this process, where nothing else would stop it): the function's timeout, and the
/// largest memory size and thread count swept.
#[derive(Debug, Clone, Copy)]
pub struct JobLimits {
    /// The function's timeout.
    pub timeout: Duration,
    /// The largest memory size any invocation gets, MB: a job that needs more fails on every
    /// row, so it fails calibration too.
    pub memory_mb: u32,
    /// The most threads any invocation runs the job on.
    pub threads: usize,
}

impl JobLimits {
    /// How long calibration lets the job run on one thread before it gives up: no row can
    /// finish a job that takes longer. A row runs it on up to `threads` threads, and a Lambda
    /// vCPU may be faster than a core here (the anchor that says by how much is measured
    /// during calibration, after this run), hence the margin of [`VCPU_MARGIN`].
    pub fn calibration_timeout(&self) -> Duration {
        self.timeout
            .saturating_mul(u32::try_from(self.threads).unwrap_or(u32::MAX))
            .saturating_mul(VCPU_MARGIN)
    }
}

/// How much faster than a core here a Lambda vCPU may be when calibration decides that a job
/// cannot finish in time. A bound's margin, not a model constant: it only decides when
/// calibration gives up, never a duration.
pub const VCPU_MARGIN: u32 = 2;

/// The model of a run: its parameters per architecture and how they were obtained.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Turns work into time, per architecture swept.
    pub params: BTreeMap<Architecture, Params>,
    /// For results.json and the table (the CFS period among it).
    pub run: ModelRun,
}

impl ModelArgs {
    /// Checks the flag the model shares with the CPU-capped modes: the CFS period, 1–1000 ms
    /// (the kernel's range), or 0 for a fluid share in the model mode only (`capped`: a
    /// cgroup will enforce it).
    pub fn check_period(&self, capped: bool) -> Result<()> {
        let p = self.cfs_period_ms;
        let range = MIN_CFS_PERIOD_MS..=MAX_CFS_PERIOD_MS;
        if !(p.is_finite() && (p == 0.0 || range.contains(&p))) {
            bail!(
                "--cfs-period-ms must be 0 (a fluid share) or {MIN_CFS_PERIOD_MS}–{MAX_CFS_PERIOD_MS} ms, got {p:?}"
            );
        }
        if capped && p == 0.0 {
            bail!(
                "--cfs-period-ms 0: a CPU-capped mode needs a period of {MIN_CFS_PERIOD_MS}–{MAX_CFS_PERIOD_MS} ms (the kernel enforces the share per period); 0 is for --cpu-mode model"
            );
        }
        Ok(())
    }

    /// The period a cgroup enforces the share over, µs, when one is given (`None`: the
    /// emulator's, Lambda's 20 ms; checked to be 1–1,000 ms wherever a cgroup uses it).
    pub fn cgroup_period_us(&self) -> Option<u64> {
        (self.cfs_period_ms >= MIN_CFS_PERIOD_MS)
            .then(|| (self.cfs_period_ms * 1000.0).round() as u64)
    }

    /// Checks the flags, then calibrates on `event` within `limits` (unless `--calibration`
    /// is given) and anchors each of `architectures` (unless `--vcpu-speed` is given). Prints
    /// both. `config` is the host configuration (tables, guests).
    pub async fn prepare(
        &self,
        config: &HostConfig,
        event: &JobEvent,
        limits: JobLimits,
        architectures: &[Architecture],
    ) -> Result<Setup> {
        let latency = match self.io_latency.strip_prefix('@') {
            Some(path) => {
                let text =
                    powersweep_input::read_text(Path::new(path), crate::input::LATENCY_TABLE_LIMIT)
                        .context("--io-latency file")?;
                LatencyModel::parse(&text).with_context(|| format!("--io-latency file `{path}`"))?
            }
            None => LatencyModel::parse(&self.io_latency).context("--io-latency")?,
        };
        if let Some(x) = self.vcpu_speed
            && !(x.is_finite() && (0.01..=100.0).contains(&x))
        {
            bail!(
                "--vcpu-speed must be a factor of 0.01–100 (1 = a Lambda vCPU is as fast as a core here), got {x:?}"
            );
        }
        if let Some(c) = self.calibration
            && !(c.is_finite() && (1.0..=1e12).contains(&c))
        {
            bail!("--calibration must be 1–1e12 fuel units per ms, got {c:?}");
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
                tokio::task::spawn_blocking(move || Timed::alone(calibration, anchoring)).await?
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
                tokio::task::spawn_blocking(move || {
                    calibrate(config, &event, limits, budget, anchoring)
                })
                .await??
            }
        };
        let mut calibration = timed.calibration().clone();
        let mut params = BTreeMap::new();
        let mut anchors = Vec::new();
        for &architecture in architectures {
            let anchor = match self.vcpu_speed {
                Some(x) => {
                    let reason = self
                        .vcpu_speed_reason
                        .clone()
                        .unwrap_or_else(|| format!("--vcpu-speed {x}"));
                    Anchor::given(architecture, x, reason)
                }
                None => timed.anchor(architecture),
            };
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
        // Measured anchors correct for whatever slowed the core; a given speed does not.
        let corrected = anchors.iter().all(Anchor::is_anchored);
        if let Some(share) = timed.busy_share() {
            calibration.note_busy(share, corrected);
        }
        eprintln!("calibration: {}", calibration.describe());
        for anchor in &anchors {
            eprintln!("anchor: {}", anchor.describe());
        }
        if let Some(warning) = &calibration.warning {
            eprintln!("warning: the calibration cannot be trusted: {warning}");
        }
        let run = ModelRun {
            calibration,
            latency: latency.describe(),
            anchors,
            cfs_period_ms: self.cfs_period_ms,
        };
        Ok(Setup { params, run })
    }
}

/// The host configuration calibration runs with: the sweep's guests and tables.
pub fn host_config(guests: &Path, allow_table: &[String]) -> HostConfig {
    HostConfig {
        allowed_tables: allow_table.to_vec(),
        ..HostConfig::new(guests)
    }
}
