//! The emulator: its configuration, the CPU mode decision, the pools of warm environments per
//! version, and the invoker that turns one `Invoke` into an event, a wait and a REPORT.
//!
//! Owns which environment serves an invocation (warm reuse, cold start, the per-version limit),
//! the interpretation of outcomes (response, function error, crash, OOM kill, timeout), and
//! shutdown. It must not speak HTTP (`runtime_api.rs`), write cgroup files (`cgroup.rs`) or
//! start processes itself (`environment.rs`).
//!
//! The warm-environment pools are `pools.rs`; one invocation on one environment (event,
//! wait, REPORT, how it ended) is `invocation.rs`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;

use crate::aliases::AliasConfiguration;
use crate::cgroup::{
    CgroupV1, CgroupV2, CpuMode, DEFAULT_CFS_PERIOD_US, NoCgroup, ResourceControl,
};
use crate::cpu_model::{self, CpuShare, DEFAULT_VCPU_MB};
use crate::duration_model::DurationModel;
use crate::environment::Environment;
use crate::error::{ErrorType, LambdaApiError, StartError};
use crate::registry::{ConfigUpdate, FunctionConfiguration, FunctionSpec, Registry};
use crate::report::Report;
use crate::reuse::WorkReuse;
use crate::runtime_api::MAX_REQUEST_BYTES;

mod invocation;
mod pools;

use invocation::Run;
use pools::{Pool, PoolKey};

/// How the emulator should cap CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum CpuModeChoice {
    /// A cgroup if one can be created, else in-process.
    #[default]
    Auto,
    /// A cgroup, or fail to start.
    Cgroup,
    /// Never a cgroup: pass the share in `POWERSWEEP_CPU_VCPUS`.
    InProcess,
    /// No cap: the host meters its work and [`EmulatorConfig::duration_model`] computes the
    /// duration (required in this mode).
    Model,
}

/// Settings of one emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// MB of memory per vCPU: 1,769 today, 1,792 reproduces 2019 Lambda.
    pub vcpu_mb: f64,
    /// Environments per function version; one more concurrent invocation gets
    /// `TooManyRequestsException`.
    pub max_environments_per_version: usize,
    /// How to cap CPU.
    pub cpu_mode: CpuModeChoice,
    /// The host's cores (for visible cores and the `capped` flag).
    pub host_cores: usize,
    /// CFS period in microseconds (see [`DEFAULT_CFS_PERIOD_US`] for why 20 ms).
    pub cfs_period_us: u64,
    /// How long `LastUpdateStatus` stays `InProgress` after an update.
    pub update_delay: Duration,
    /// How long a runtime may take from start to its first `next` (Lambda: 10 s).
    pub init_timeout: Duration,
    /// Region used in ARNs and `AWS_REGION`.
    pub region: String,
    /// Account id used in ARNs.
    pub account_id: String,
    /// The duration model of [`CpuModeChoice::Model`].
    pub duration_model: Option<Arc<dyn DurationModel>>,
    /// In the `model` mode, answer a warm invocation of a pure job that has twice given the
    /// same answer from that answer instead of running it again (the rules are `reuse.rs`).
    pub reuse_work: bool,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            vcpu_mb: DEFAULT_VCPU_MB,
            max_environments_per_version: 10,
            cpu_mode: CpuModeChoice::Auto,
            host_cores: cpu_model::host_cores(),
            cfs_period_us: DEFAULT_CFS_PERIOD_US,
            update_delay: Duration::from_millis(100),
            init_timeout: Duration::from_secs(10),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            duration_model: None,
            reuse_work: false,
        }
    }
}

/// How the caller wants the log (`LogType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogType {
    /// No log in the output.
    #[default]
    None,
    /// The last 4 KB of the invocation's log, base64, in `log_result`.
    Tail,
}

impl LogType {
    /// `LogType` as Lambda's API spells it (`None` or `Tail`; absent is `None`).
    ///
    /// # Errors
    /// `InvalidParameterValueException` for any other value.
    pub fn from_name(name: Option<&str>) -> Result<Self, LambdaApiError> {
        match name {
            None | Some("None") => Ok(LogType::None),
            Some("Tail") => Ok(LogType::Tail),
            Some(other) => Err(LambdaApiError::invalid(format!(
                "'LogType' must be None or Tail, got {other}"
            ))),
        }
    }
}

/// An `Invoke` request (synchronous, `RequestResponse`).
#[derive(Debug, Clone, Default)]
pub struct InvokeRequest {
    /// Name, partial ARN or ARN, optionally with `:qualifier`.
    pub function_name: String,
    /// `$LATEST` or a version number.
    pub qualifier: Option<String>,
    /// The event; must be JSON (empty means `{}`).
    pub payload: Vec<u8>,
    /// Whether to return the log tail.
    pub log_type: LogType,
}

/// An `Invoke` answer. A function error is a successful call with `function_error` set.
#[derive(Debug, Clone)]
pub struct InvokeOutput {
    /// 200 (Lambda answers 200 for function errors too).
    pub status_code: u16,
    /// `$LATEST` or the version that ran.
    pub executed_version: String,
    /// `Some("Unhandled")` when the function failed; `payload` is then `{errorType, errorMessage}`.
    pub function_error: Option<String>,
    /// The error type of a function error (`Sandbox.Timedout`, `Runtime.ExitError`, …).
    pub error_type: Option<String>,
    /// Base64 of the last 4 KB of the log, when `LogType::Tail` was asked.
    pub log_result: Option<String>,
    /// The response (or error) payload.
    pub payload: Vec<u8>,
    /// The REPORT figures.
    pub report: Report,
    /// The whole log of this invocation (init output on a cold start, START … REPORT).
    pub log: String,
    /// Whether this invocation started a new environment.
    pub cold: bool,
    /// The CPU this configuration got.
    pub cpu: CpuShare,
}

/// What is left of an emulator's environments (for "no leftovers" checks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Bootstrap processes still alive.
    pub pids: Vec<i32>,
    /// Environment cgroup directories still present.
    pub cgroup_dirs: Vec<PathBuf>,
}

impl Leftovers {
    /// True when nothing is left.
    pub fn is_empty(&self) -> bool {
        self.pids.is_empty() && self.cgroup_dirs.is_empty()
    }
}

/// A local Lambda: functions, versions, and real bootstrap processes serving them.
///
/// Dropping it kills every environment and removes its cgroups (best effort); prefer
/// [`Emulator::shutdown`], which waits for the processes to exit.
#[derive(Debug)]
pub struct Emulator {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: EmulatorConfig,
    control: Box<dyn ResourceControl>,
    fallback_reason: Option<String>,
    registry: Mutex<Registry>,
    pools: Mutex<HashMap<PoolKey, Pool>>,
    envs: Mutex<HashMap<String, Arc<Environment>>>,
    history: Mutex<Vec<(i32, Vec<PathBuf>)>>,
    seq: AtomicU64,
    id: u64,
    shut: AtomicBool,
    /// Environments being started: [`Emulator::shutdown`] waits for them, or a signal in the
    /// middle of a cold start would leave that environment's cgroups behind.
    starting: AtomicUsize,
    started: tokio::sync::Notify,
    reuse: WorkReuse,
}

/// Counts one environment start in [`Inner::starting`] for as long as it lives.
struct Starting<'a>(&'a Inner);

impl<'a> Starting<'a> {
    fn enter(inner: &'a Inner) -> Self {
        inner.starting.fetch_add(1, Ordering::SeqCst);
        Starting(inner)
    }
}

impl Drop for Starting<'_> {
    fn drop(&mut self) {
        self.0.starting.fetch_sub(1, Ordering::SeqCst);
        self.0.started.notify_waiters();
    }
}

/// How long [`Emulator::shutdown`] waits for environments that are being started.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(30);

static EMULATORS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section here leaves the data consistent, so a poisoned lock is usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Emulator {
    /// Start an emulator: decide the CPU mode (creating the `powersweep-<pid>` cgroup parents in
    /// cgroup mode). Environments, each with its own Runtime API port on 127.0.0.1, start on
    /// demand. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`StartError::Config`] for out-of-range settings; [`StartError::CgroupUnavailable`]
    /// when `CpuModeChoice::Cgroup` is forced and no cgroup can be created.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, StartError> {
        if !(config.vcpu_mb.is_finite() && config.vcpu_mb > 0.0) {
            return Err(StartError::Config(format!(
                "vcpu_mb must be positive, got {}",
                config.vcpu_mb
            )));
        }
        if config.max_environments_per_version == 0 {
            return Err(StartError::Config(
                "max_environments_per_version must be at least 1".into(),
            ));
        }
        if !(1_000..=1_000_000).contains(&config.cfs_period_us) {
            return Err(StartError::Config(format!(
                "cfs_period_us must be 1000–1000000, got {}",
                config.cfs_period_us
            )));
        }
        if (config.cpu_mode == CpuModeChoice::Model) != config.duration_model.is_some() {
            return Err(StartError::Config(
                "the model CPU mode needs a duration model, and only it uses one".into(),
            ));
        }
        if config.reuse_work && config.duration_model.is_none() {
            return Err(StartError::Config(
                "reusing work needs the model CPU mode".into(),
            ));
        }
        // Groups of powersweep processes that were killed (SIGKILL cannot be caught) would
        // pile up otherwise. Best effort, and whatever our own mode.
        crate::cgroup::remove_stale_parents();
        let (control, fallback_reason): (Box<dyn ResourceControl>, Option<String>) =
            match config.cpu_mode {
                CpuModeChoice::InProcess => (Box::new(NoCgroup(CpuMode::InProcess)), None),
                CpuModeChoice::Model => (Box::new(NoCgroup(CpuMode::Model)), None),
                CpuModeChoice::Cgroup => (discover_cgroup()?, None),
                CpuModeChoice::Auto => match discover_cgroup() {
                    Ok(c) => (c, None),
                    Err(e) => {
                        tracing::info!(error = %e, "no cgroup, using the in-process throttle");
                        (Box::new(NoCgroup(CpuMode::InProcess)), Some(e.to_string()))
                    }
                },
            };
        let registry = Registry::new(
            config.region.clone(),
            config.account_id.clone(),
            config.update_delay,
        );
        Ok(Emulator {
            inner: Arc::new(Inner {
                config,
                control,
                fallback_reason,
                registry: Mutex::new(registry),
                pools: Mutex::new(HashMap::new()),
                envs: Mutex::new(HashMap::new()),
                history: Mutex::new(Vec::new()),
                seq: AtomicU64::new(0),
                id: EMULATORS.fetch_add(1, Ordering::SeqCst),
                shut: AtomicBool::new(false),
                starting: AtomicUsize::new(0),
                started: tokio::sync::Notify::new(),
                reuse: WorkReuse::default(),
            }),
        })
    }

    /// The CPU mode in use (print it: results differ in fidelity).
    pub fn cpu_mode(&self) -> CpuMode {
        self.inner.control.mode()
    }

    /// In `Auto` mode, why no cgroup could be used (None when a cgroup is in use or not tried).
    pub fn cgroup_fallback_reason(&self) -> Option<&str> {
        self.inner.fallback_reason.as_deref()
    }

    /// Invocations answered from an earlier identical run instead of running (`reuse_work`).
    pub fn reused_invocations(&self) -> u64 {
        self.inner.reuse.replayed()
    }

    /// The emulator's settings.
    pub fn config(&self) -> &EmulatorConfig {
        &self.inner.config
    }

    /// The CPU a memory size gets on this host with this emulator's settings.
    pub fn cpu_share(&self, memory_mb: u32) -> CpuShare {
        let c = &self.inner.config;
        cpu_model::cpu_share(memory_mb, c.vcpu_mb, c.host_cores)
    }

    /// `CreateFunction`.
    ///
    /// # Errors
    /// `InvalidParameterValueException` (name, memory, timeout), `ResourceConflictException`
    /// (exists).
    pub fn create_function(
        &self,
        spec: FunctionSpec,
    ) -> Result<FunctionConfiguration, LambdaApiError> {
        self.check_running()?;
        lock(&self.inner.registry).create(spec)
    }

    /// `GetFunctionConfiguration`.
    ///
    /// # Errors
    /// `ResourceNotFoundException`, `InvalidParameterValueException` (bad name).
    pub fn get_function_configuration(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionConfiguration, LambdaApiError> {
        lock(&self.inner.registry).configuration(function_name, qualifier)
    }

    /// `UpdateFunctionConfiguration` of `$LATEST`. `LastUpdateStatus` is `InProgress` for
    /// `update_delay`, during which another update or a publish gets
    /// `ResourceConflictException`. Warm `$LATEST` environments are discarded.
    ///
    /// # Errors
    /// `ResourceNotFoundException`, `ResourceConflictException`,
    /// `InvalidParameterValueException`.
    pub fn update_function_configuration(
        &self,
        function_name: &str,
        update: ConfigUpdate,
    ) -> Result<FunctionConfiguration, LambdaApiError> {
        self.check_running()?;
        lock(&self.inner.registry).update(function_name, update)
    }

    /// `PublishVersion`: snapshot `$LATEST` as a new numbered version (or return the last one
    /// when nothing changed, as Lambda does).
    ///
    /// # Errors
    /// `ResourceNotFoundException`, `ResourceConflictException` (update in progress).
    pub fn publish_version(
        &self,
        function_name: &str,
        description: Option<&str>,
    ) -> Result<FunctionConfiguration, LambdaApiError> {
        self.check_running()?;
        lock(&self.inner.registry).publish(function_name, description)
    }

    /// `CreateAlias`: `alias` of `function_name` points at `version` (`$LATEST` or published).
    ///
    /// # Errors
    /// `ValidationException` (a name Lambda rejects), `ResourceConflictException` (exists),
    /// `ResourceNotFoundException` (function or version).
    pub fn create_alias(
        &self,
        function_name: &str,
        alias: &str,
        version: &str,
        description: &str,
    ) -> Result<AliasConfiguration, LambdaApiError> {
        self.check_running()?;
        lock(&self.inner.registry).create_alias(function_name, alias, version, description)
    }

    /// `UpdateAlias`: point it elsewhere and/or change its description. Invocations through
    /// the alias run the new version from then on.
    ///
    /// # Errors
    /// `ResourceNotFoundException` (function, alias or version).
    pub fn update_alias(
        &self,
        function_name: &str,
        alias: &str,
        version: Option<&str>,
        description: Option<&str>,
    ) -> Result<AliasConfiguration, LambdaApiError> {
        self.check_running()?;
        lock(&self.inner.registry).update_alias(function_name, alias, version, description)
    }

    /// `GetAlias`.
    ///
    /// # Errors
    /// `ResourceNotFoundException`.
    pub fn get_alias(
        &self,
        function_name: &str,
        alias: &str,
    ) -> Result<AliasConfiguration, LambdaApiError> {
        lock(&self.inner.registry).get_alias(function_name, alias)
    }

    /// `DeleteAlias` (a missing alias is not an error, as in Lambda).
    ///
    /// # Errors
    /// `ResourceNotFoundException` (function).
    pub fn delete_alias(&self, function_name: &str, alias: &str) -> Result<(), LambdaApiError> {
        lock(&self.inner.registry).delete_alias(function_name, alias)
    }

    /// `DeleteFunction`: the whole function (no qualifier) or one version. Its environments are
    /// killed (busy ones when their invocation ends).
    ///
    /// # Errors
    /// `ResourceNotFoundException`; `InvalidParameterValueException` for `$LATEST`.
    pub async fn delete_function(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<(), LambdaApiError> {
        let (name, versions) = lock(&self.inner.registry).delete(function_name, qualifier)?;
        let mut doomed = Vec::new();
        {
            let mut pools = lock(&self.inner.pools);
            for version in versions {
                let key = PoolKey {
                    function: name.clone(),
                    version,
                };
                if let Some(pool) = pools.remove(&key) {
                    doomed.extend(pool.idle);
                }
            }
        }
        for env in doomed {
            self.inner.destroy(&env).await;
        }
        Ok(())
    }

    /// `Invoke` (synchronous). Function failures are `Ok` with `function_error` set.
    ///
    /// # Errors
    /// `InvalidRequestContentException` (payload not JSON), `ResourceNotFoundException`,
    /// `TooManyRequestsException` (all environments of the version busy, limit reached),
    /// `ServiceException` (an environment could not be created).
    pub async fn invoke(&self, request: InvokeRequest) -> Result<InvokeOutput, LambdaApiError> {
        self.check_running()?;
        let InvokeRequest {
            function_name,
            qualifier,
            payload,
            log_type,
        } = request;
        if payload.len() > MAX_REQUEST_BYTES {
            return Err(LambdaApiError::new(
                ErrorType::RequestEntityTooLarge,
                format!(
                    "Request must be smaller than {MAX_REQUEST_BYTES} bytes for the InvokeFunction operation"
                ),
            ));
        }
        let payload = if payload.iter().all(u8::is_ascii_whitespace) {
            b"{}".to_vec()
        } else {
            payload
        };
        if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
            return Err(LambdaApiError::new(
                ErrorType::InvalidRequestContent,
                format!("Could not parse request body into json: {e}"),
            ));
        }
        let (target, invoked_arn) = {
            let registry = lock(&self.inner.registry);
            let (name, q) = registry.parse_name(&function_name, qualifier.as_deref())?;
            let target = registry.target(&name, q.as_deref())?;
            let arn = registry.arn(&name, q.as_deref());
            (target, arn)
        };
        let cpu = self.cpu_share(target.config.memory_mb);
        let key = PoolKey {
            function: target.name.clone(),
            version: target.version.clone(),
        };
        let (env, cold) = self.acquire(&key, &target, &cpu).await?;
        let run = Run {
            inner: &self.inner,
            env: &env,
            target: &target,
            invoked_arn,
            cold,
            cpu,
        };
        let (out, keep) = run.execute(payload).await;
        self.release(&key, target.config.generation, env, keep)
            .await;
        let mut out = out;
        if log_type == LogType::Tail {
            let bytes = out.log.as_bytes();
            let tail = &bytes[bytes.len().saturating_sub(4096)..];
            out.log_result = Some(base64::engine::general_purpose::STANDARD.encode(tail));
        }
        Ok(out)
    }

    /// Kill every environment, wait for the processes, remove the cgroups. Later calls fail
    /// with `ServiceException`.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.shut.store(true, Ordering::SeqCst);
        lock(&inner.pools).clear();
        let waited = tokio::time::timeout(SHUTDOWN_WAIT, async {
            loop {
                let started = inner.started.notified();
                let envs: Vec<_> = lock(&inner.envs).values().cloned().collect();
                for env in envs {
                    inner.destroy(&env).await;
                }
                // A start under way sees `shut` when it ends and destroys what it made.
                if inner.starting.load(Ordering::SeqCst) == 0 {
                    break;
                }
                started.await;
            }
        })
        .await;
        if waited.is_err() {
            tracing::warn!(
                "environments still starting after {SHUTDOWN_WAIT:?}; their cgroups may stay until the next run"
            );
        }
        inner.control.remove_parent();
    }

    /// What is still alive or present of the environments this emulator ever started.
    pub fn leftovers(&self) -> Leftovers {
        let mut left = Leftovers::default();
        for (pid, dirs) in lock(&self.inner.history).iter() {
            if *pid > 0 && process_alive(*pid) {
                left.pids.push(*pid);
            }
            left.cgroup_dirs
                .extend(dirs.iter().filter(|d| d.exists()).cloned());
        }
        left
    }

    fn check_running(&self) -> Result<(), LambdaApiError> {
        if self.inner.shut.load(Ordering::SeqCst) {
            Err(LambdaApiError::service("the emulator is shut down"))
        } else {
            Ok(())
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let envs: Vec<_> = lock(&self.envs).drain().map(|(_, e)| e).collect();
        for env in envs {
            env.destroy_blocking();
        }
        self.control.remove_parent();
    }
}

fn discover_cgroup() -> Result<Box<dyn ResourceControl>, crate::cgroup::CgroupError> {
    match CgroupV1::discover() {
        Ok(c) => Ok(Box::new(c)),
        Err(v1) => match CgroupV2::discover() {
            Ok(c) => Ok(Box::new(c)),
            Err(v2) => Err(crate::cgroup::CgroupError::NotAvailable(format!(
                "v1: {v1}; v2: {v2}"
            ))),
        },
    }
}

/// Alive and not a zombie.
fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

fn epoch_ms() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
}
