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
use calibrate::{REFERENCE_ALONE, Timed, calibrate, time_reference_alone};
use powersweep_analyzer::{Architecture, ModelRun};
use powersweep_host::{HostConfig, JobEvent};
use powersweep_model::anchor::Anchor;
use powersweep_model::lambda::{CFS_PERIOD_MS, MAX_CFS_PERIOD_MS};
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

/// The host configuration calibration runs with: the sweep's guests and tables.
pub fn host_config(guests: &Path, allow_table: &[String]) -> HostConfig {
    HostConfig {
        allowed_tables: allow_table.to_vec(),
        ..HostConfig::new(guests)
    }
}
