//! [`Host`]: the per-process owner of the engine, the linker and the loaded workloads, and
//! its configuration. Builds everything once per cold start; jobs only instantiate.
//! Running a job is `job.rs`, timing unmetered runs for calibration `calibrate.rs`: both are
//! `impl Host` in this module's children, so the host's fields stay private to it.

mod calibrate;
mod job;

pub use calibrate::{Reference, Sampling, TimedRun};

use crate::bindings;
use crate::caps::dynamo::{Dynamo, DynamoSettings};
use crate::engine::{self, Ticking};
use crate::error::{ConfigError, LoadError};
use crate::state::GuestState;
use crate::throttle::Throttle;
use crate::workload::Workload;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

/// How the host is set up; in Lambda it comes from the environment ([`HostConfig::from_env`]).
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Folder holding `<name>.wasm` (and optionally `<name>.cwasm`) workloads.
    pub guests_dir: PathBuf,
    /// The function's memory size, MB: the memory budget of a job's guests.
    pub memory_mb: u32,
    /// DynamoDB tables workloads may write.
    pub allowed_tables: Vec<String>,
    /// A DynamoDB endpoint overriding the AWS configuration.
    pub dynamodb_endpoint: Option<String>,
    /// Throttle guest threads to this many vCPUs in-process (when no cgroup does it).
    pub cpu_vcpus: Option<f64>,
    /// A job's time limit when neither the event nor the invocation sets one.
    pub default_timeout_ms: u64,
    /// The thread count of an event without `threads` (`POWERSWEEP_THREADS`, else 1).
    pub default_threads: usize,
    /// Meter each task's work (fuel, host calls) and report it in the response's `work`.
    /// Excludes `cpu_vcpus`: the throttle's pauses would be metered as waits.
    pub meter: bool,
    /// Answer DynamoDB calls without sending them (items are still checked): for timing a
    /// workload's own work, as calibration does, without writing anything twice.
    pub dry_io: bool,
    /// Load `<name>.cwasm` beside a component. Precompiled code is native code loaded
    /// outside the sandbox (wasmtime's unsafe deserialize), so only from where powersweep
    /// put it: a deployment package ([`HostConfig::from_env`]: the zip `cargo xtask package`
    /// built, or the task root the local emulator made). Off for any other folder.
    pub trust_precompiled: bool,
}

impl HostConfig {
    /// Defaults for running locally: 1,769 MB (one vCPU), no tables, 15 minutes.
    pub fn new(guests_dir: impl Into<PathBuf>) -> Self {
        Self {
            guests_dir: guests_dir.into(),
            memory_mb: 1769,
            allowed_tables: Vec::new(),
            dynamodb_endpoint: None,
            cpu_vcpus: None,
            default_timeout_ms: 15 * 60 * 1000,
            default_threads: 1,
            meter: false,
            dry_io: false,
            trust_precompiled: false,
        }
    }

    /// The configuration of a Lambda execution environment (see [`crate::env`]).
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable when one is set but unusable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let root = var(crate::env::TASK_ROOT).unwrap_or_else(|| ".".into());
        let mut config = Self::new(PathBuf::from(root).join("guests"));
        config.trust_precompiled = true;
        if let Some(mb) = var(crate::env::MEMORY_SIZE) {
            config.memory_mb = mb.parse().map_err(|source| ConfigError::NotAnInteger {
                var: crate::env::MEMORY_SIZE,
                value: mb.clone(),
                source,
            })?;
        }
        if let Some(tables) = var(crate::env::ALLOWED_TABLES) {
            config.allowed_tables = tables.split(',').map(|t| t.trim().to_string()).collect();
        }
        if let Some(vcpus) = var(crate::env::CPU_VCPUS) {
            config.cpu_vcpus = Some(vcpus.parse().map_err(|source| ConfigError::NotANumber {
                var: crate::env::CPU_VCPUS,
                value: vcpus.clone(),
                source,
            })?);
        }
        if let Some(threads) = var(crate::env::THREADS) {
            config.default_threads = thread_count(&threads)?;
        }
        if let Some(meter) = var(crate::env::METER) {
            config.meter = match meter.as_str() {
                "1" | "true" => true,
                "0" | "false" => false,
                _ => {
                    return Err(ConfigError::NotASwitch {
                        var: crate::env::METER,
                        value: meter,
                    });
                }
            };
        }
        Ok(config)
    }
}

/// `POWERSWEEP_THREADS`: a thread count in `1..=MAX_THREADS`.
fn thread_count(value: &str) -> Result<usize, ConfigError> {
    value
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=crate::MAX_THREADS).contains(n))
        .ok_or_else(|| ConfigError::BadThreadCount {
            var: crate::env::THREADS,
            value: value.to_owned(),
            most: crate::MAX_THREADS,
        })
}

/// The per-process host: one engine, one linker, the workloads loaded so far.
pub struct Host {
    engine: Engine,
    /// Tells the epoch ticker when guests run; hold [`Ticking::busy`] around guest code.
    ticking: Arc<Ticking>,
    linker: Linker<GuestState>,
    config: HostConfig,
    dynamo: Arc<Dynamo>,
    throttle: Option<Arc<Throttle>>,
    workloads: Mutex<HashMap<String, Arc<Workload>>>,
    /// Set until the first job has run; that job reports the cold start.
    cold: AtomicBool,
    /// What setting up the host (and preloading) cost, charged to the first job's `initMs`.
    setup: Mutex<Duration>,
}

impl Host {
    /// Builds the engine and the linker. DynamoDB calls of guests run on `runtime`.
    ///
    /// # Errors
    /// When the engine cannot be built or the CPU share is nonsense.
    pub fn new(config: HostConfig, runtime: tokio::runtime::Handle) -> Result<Self, LoadError> {
        let started = Instant::now();
        if config.meter && config.cpu_vcpus.is_some() {
            return Err(ConfigError::MeterWithThrottle.into());
        }
        let (engine, ticking) = engine::build(config.meter).map_err(LoadError::engine)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(LoadError::engine)?;
        bindings::Workload::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)
            .map_err(LoadError::engine)?;
        let throttle = match config.cpu_vcpus {
            Some(vcpus) => Some(Arc::new(Throttle::new(vcpus)?)),
            None => None,
        };
        let settings = DynamoSettings {
            allowed_tables: config.allowed_tables.clone(),
            endpoint: config.dynamodb_endpoint.clone(),
            dry: config.dry_io,
        };
        Ok(Self {
            dynamo: Dynamo::new(settings, runtime),
            engine,
            ticking,
            linker,
            config,
            throttle,
            workloads: Mutex::new(HashMap::new()),
            cold: AtomicBool::new(true),
            setup: Mutex::new(started.elapsed()),
        })
    }

    /// The configuration the host runs with.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// The workload called `name`, loaded on first use and kept.
    ///
    /// # Errors
    /// Unknown names (with the list of known ones), files that are not workloads.
    pub fn workload(&self, name: &str) -> Result<Arc<Workload>, LoadError> {
        crate::workload::check_name(name)?;
        if let Some(w) = self.lock().get(name) {
            return Ok(w.clone());
        }
        let dir = &self.config.guests_dir;
        let (cwasm, wasm) = (
            dir.join(format!("{name}.cwasm")),
            dir.join(format!("{name}.wasm")),
        );
        let loaded = if self.config.trust_precompiled && cwasm.exists() {
            Workload::load(&self.engine, &self.linker, name, &cwasm).or_else(|e| {
                tracing::warn!(
                    "precompiled {} unusable, compiling the component: {e}",
                    cwasm.display()
                );
                Workload::load(&self.engine, &self.linker, name, &wasm)
            })
        } else if wasm.exists() {
            Workload::load(&self.engine, &self.linker, name, &wasm)
        } else {
            Err(LoadError::Unknown {
                name: name.to_string(),
                available: self.available(),
            })
        };
        let workload = Arc::new(loaded?);
        self.lock().insert(name.to_string(), workload.clone());
        Ok(workload)
    }

    /// Loads a component from any path, e.g. one a user is developing.
    ///
    /// # Errors
    /// As [`Host::workload`].
    pub fn workload_from_file(&self, path: &std::path::Path) -> Result<Arc<Workload>, LoadError> {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("workload");
        if !self.config.trust_precompiled && path.extension().is_some_and(|e| e == "cwasm") {
            return Err(LoadError::UntrustedPrecompiled { path: path.into() });
        }
        Ok(Arc::new(Workload::load(
            &self.engine,
            &self.linker,
            name,
            path,
        )?))
    }

    /// The names of the workloads in the guests folder, sorted.
    pub fn available(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.config.guests_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let path = e.path();
                let ext = path.extension()?.to_str()?;
                (ext == "wasm" || (ext == "cwasm" && self.config.trust_precompiled))
                    .then(|| path.file_stem()?.to_str().map(str::to_string))?
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Loads every workload of the guests folder now, so that a Lambda cold start pays for
    /// it during INIT (before the first `next`), as Lambda bills and reports it.
    ///
    /// Returns the workloads that failed to load. They do not stop the others: one unusable
    /// file in the folder must not break every workload; invoking it reports its error.
    pub fn preload_all(&self) -> Vec<(String, LoadError)> {
        let started = Instant::now();
        let failed = self
            .available()
            .into_iter()
            .filter_map(|name| self.workload(&name).err().map(|e| (name, e)))
            .collect();
        *self.setup.lock().unwrap_or_else(|p| p.into_inner()) += started.elapsed();
        failed
    }

    /// Returns whether this is the first job, and the set-up cost to report for it.
    fn take_cold_start(&self) -> Option<Duration> {
        self.cold
            .swap(false, Ordering::AcqRel)
            .then(|| *self.setup.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Workload>>> {
        self.workloads
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_thread_count_is_checked() {
        assert_eq!(thread_count("2").unwrap(), 2);
        assert_eq!(thread_count(" 64 ").unwrap(), 64);
        for bad in ["0", "65", "-1", "two", "1.5"] {
            let e = thread_count(bad).unwrap_err().to_string();
            assert!(
                e.contains("POWERSWEEP_THREADS must be a thread count from 1 to 64"),
                "{e}"
            );
        }
    }
}
