//! Local mode: AWS replaced on one machine. The emulator plays Lambda, running this very
//! binary as the host's `bootstrap` (see `main.rs`), the analyzer runs in-process, and both
//! are offered to the ASL engine under the ARNs the state machine uses.
//!
//! Must not hold sweep policy (which sizes, how many repetitions): that is `cmd/sweep/`.

use anyhow::{Context, Result};
use powersweep_analyzer::Architecture;
use powersweep_asl::lambda::{
    InvokeRequest, InvokeResponse, LambdaFuture, LambdaService, ServiceError,
};
use powersweep_emulator::{
    CpuModeChoice, DurationModel, Emulator, EmulatorConfig, FunctionSpec, LambdaApiError, LogType,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The host function's name in the emulator (the x86_64 one; see [`host_function`]).
pub const HOST_FUNCTION: &str = "powersweep-host";

/// The emulated host function of `architecture`: one per architecture, as the template
/// deploys them; both run this machine's binary, and the model times each on its own vCPU.
pub fn host_function(architecture: Architecture) -> &'static str {
    match architecture {
        Architecture::X86_64 => HOST_FUNCTION,
        Architecture::Arm64 => "powersweep-host-arm64",
    }
}
/// The analyzer's ARN as the state machine is given it (`${AnalyzerFunctionArn}`).
pub const ANALYZER_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:powersweep-analyzer";

/// How the local Lambda is set up.
#[derive(Debug, Clone)]
pub struct LocalSettings {
    /// The built workloads.
    pub guests_dir: PathBuf,
    /// MB of memory per vCPU (1769 today, 1792 in 2019).
    pub vcpu_mb: f64,
    /// cgroup, in-process throttle, or whichever works.
    pub cpu_mode: CpuModeChoice,
    /// The host function's memory before any sweep changes it.
    pub memory_mb: u32,
    /// The host function's timeout, seconds.
    pub timeout_s: u32,
    /// Extra environment of the host function (allowed tables, DynamoDB endpoint).
    pub environment: BTreeMap<String, String>,
    /// The duration model of the `model` CPU mode.
    pub duration_model: Option<Arc<dyn DurationModel>>,
    /// Answer repeats of a pure job from an earlier run (the `model` mode only).
    pub reuse_work: bool,
    /// The CFS period of the cgroup modes, µs (the emulator's default, Lambda's 20 ms, when
    /// `None`; the `model` mode's period is the model's).
    pub cfs_period_us: Option<u64>,
    /// The architectures of the host functions to create, one function each (its prices and
    /// its vCPU in the model); all run on this machine's.
    pub architectures: Vec<Architecture>,
    /// The one workload the run needs: only it is precompiled into the task root (a
    /// Python component takes seconds to compile, and a sweep of another would pay for it).
    /// `None` takes every workload of the folder.
    pub workload: Option<String>,
}

/// The emulator with the host function created in it.
pub struct LocalLambda {
    emulator: Arc<Emulator>,
    functions: Vec<&'static str>,
    /// (function, version) of every version published.
    published: Arc<Mutex<Vec<(String, String)>>>,
    /// Holds `bootstrap` and `guests/`; removed on drop.
    _task_root: tempfile::TempDir,
}

impl LocalLambda {
    /// Starts the emulator and creates the host function.
    pub async fn start(settings: &LocalSettings) -> Result<Self> {
        crate::signals::prepare_local_run();
        let meter = matches!(settings.cpu_mode, CpuModeChoice::Model);
        let guests_dir = settings.guests_dir.clone();
        let only = settings.workload.clone();
        let task_root =
            tokio::task::spawn_blocking(move || task_root(&guests_dir, meter, only.as_deref()))
                .await
                .context("preparing the task root failed")??;
        let config = EmulatorConfig {
            vcpu_mb: settings.vcpu_mb,
            cpu_mode: settings.cpu_mode,
            duration_model: settings.duration_model.clone(),
            reuse_work: settings.reuse_work && settings.duration_model.is_some(),
            cfs_period_us: settings
                .cfs_period_us
                .unwrap_or(EmulatorConfig::default().cfs_period_us),
            // An update is applied before the emulator answers; a delay would only make the
            // state machine's poll wait a second per memory size (5 s of a 20 s sweep).
            update_delay: std::time::Duration::ZERO,
            ..EmulatorConfig::default()
        };
        let emulator = Emulator::start(config)
            .await
            .context("cannot start the local Lambda emulator")?;
        let mut functions = Vec::with_capacity(settings.architectures.len());
        for &architecture in &settings.architectures {
            let name = host_function(architecture);
            emulator
                .create_function(FunctionSpec {
                    name: name.into(),
                    bootstrap: task_root.path().join("bootstrap"),
                    task_root: task_root.path().into(),
                    memory_mb: settings.memory_mb,
                    timeout_s: settings.timeout_s,
                    environment: settings.environment.clone(),
                    architecture: Some(architecture.as_str().into()),
                })
                .map_err(api_error)?;
            functions.push(name);
        }
        Ok(Self {
            emulator: Arc::new(emulator),
            functions,
            published: Arc::default(),
            _task_root: task_root,
        })
    }

    /// The emulator, for direct invocations.
    pub fn emulator(&self) -> &Arc<Emulator> {
        &self.emulator
    }

    /// The Lambda service the ASL engine sees: the emulator, plus the in-process analyzer.
    /// `on_invoke` is told of every host invocation that finished (for progress).
    /// The analyzer reads the samples a distributed Map wrote from `s3`.
    pub fn service(
        &self,
        s3: crate::local_s3::LocalS3,
        on_invoke: impl Fn(&Value) + Send + Sync + 'static,
    ) -> Arc<dyn LambdaService> {
        Arc::new(LocalService {
            emulator: self.emulator.clone(),
            on_invoke: Box::new(on_invoke),
            published: self.published.clone(),
            s3,
        })
    }

    /// Versions of the host functions that were published and still exist, as
    /// `(function, version)`: after a sweep there must be none (the state machine deletes
    /// what it published).
    pub fn versions_left(&self) -> Vec<(String, String)> {
        let published = self.published.lock().map(|p| p.clone()).unwrap_or_default();
        published
            .into_iter()
            .filter(|(function, version)| {
                self.emulator
                    .get_function_configuration(function, Some(version))
                    .is_ok()
            })
            .collect()
    }

    /// Each host function's memory now (`$LATEST`), by name.
    pub fn memory_mb(&self) -> Vec<(&'static str, Option<u32>)> {
        self.functions
            .iter()
            .map(|&name| {
                let memory = self
                    .emulator
                    .get_function_configuration(name, None)
                    .ok()
                    .map(|c| c.memory_size);
                (name, memory)
            })
            .collect()
    }

    /// Stops every environment and removes its cgroups.
    pub async fn shutdown(&self) {
        self.emulator.shutdown().await;
    }
}

/// The host function's own environment: the tables it may write and where DynamoDB is.
pub fn host_environment(
    allow_table: &[String],
    dynamodb_endpoint: Option<&str>,
) -> BTreeMap<String, String> {
    let mut environment = BTreeMap::new();
    if !allow_table.is_empty() {
        environment.insert(
            powersweep_host::env::ALLOWED_TABLES.to_string(),
            allow_table.join(","),
        );
    }
    if let Some(url) = dynamodb_endpoint {
        environment.insert("AWS_ENDPOINT_URL_DYNAMODB".to_string(), url.to_string());
    }
    environment
}

/// A task root like a deployment package: `bootstrap` (this binary) and `guests/`, each
/// component beside its code precompiled for the environments' engine (metered in the model
/// mode). Compiling here, uncapped and once, rather than in each environment: at 128 MB an
/// environment has 0.07 vCPU, and every environment of a sweep compiled every guest.
fn task_root(guests_dir: &Path, meter: bool, only: Option<&str>) -> Result<tempfile::TempDir> {
    let dir = tempfile::Builder::new()
        .prefix(&crate::stale::task_root_prefix())
        .tempdir()?;
    let exe = std::env::current_exe().context("cannot find the powersweep executable")?;
    std::os::unix::fs::symlink(&exe, dir.path().join("bootstrap"))?;
    let guests = dir.path().join("guests");
    std::fs::create_dir(&guests)?;
    let failed = powersweep_host::precompile_folder(guests_dir, &guests, meter, only)
        .with_context(|| {
            format!(
                "cannot read the guests folder `{}`; build it with `cargo xtask build-guests`",
                guests_dir.display()
            )
        })?;
    for (name, error) in failed {
        eprintln!(
            "warning: workload `{}` is unusable, the others are not affected: {}",
            crate::terminal::escape(&name),
            crate::terminal::escape(&error.to_string())
        );
    }
    Ok(dir)
}

/// One line for an emulator API error.
pub fn api_error(e: LambdaApiError) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", e.error_type, e.message)
}

struct LocalService {
    emulator: Arc<Emulator>,
    on_invoke: Box<dyn Fn(&Value) + Send + Sync>,
    published: Arc<Mutex<Vec<(String, String)>>>,
    s3: crate::local_s3::LocalS3,
}

impl LambdaService for LocalService {
    fn invoke(&self, request: InvokeRequest) -> LambdaFuture<'_, InvokeResponse> {
        Box::pin(async move {
            if is_analyzer(&request.function_name) {
                return Ok(analyze(request.payload, &self.s3));
            }
            let payload = serde_json::to_vec(&request.payload).map_err(|e| ServiceError {
                exception: "InvalidRequestContentException".into(),
                message: e.to_string(),
                status_code: 400,
            })?;
            let log_type =
                LogType::from_name(request.log_type.as_deref()).map_err(service_error)?;
            let out = self
                .emulator
                .invoke(powersweep_emulator::InvokeRequest {
                    function_name: request.function_name,
                    qualifier: request.qualifier,
                    payload,
                    log_type,
                })
                .await
                .map_err(service_error)?;
            let payload = serde_json::from_slice(&out.payload).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&out.payload).into_owned())
            });
            (self.on_invoke)(&payload);
            Ok(InvokeResponse {
                payload,
                executed_version: out.executed_version,
                function_error: out.function_error,
                log_result: out.log_result,
            })
        })
    }

    fn call(&self, action: &str, params: Value) -> LambdaFuture<'_, Value> {
        let action = action.to_string();
        Box::pin(async move {
            let out = self
                .emulator
                .call(&action, params)
                .await
                .map_err(service_error)?;
            if action.eq_ignore_ascii_case("publishVersion")
                && let (Some(function), Some(version), Ok(mut published)) = (
                    out["FunctionName"].as_str(),
                    out["Version"].as_str(),
                    self.published.lock(),
                )
            {
                published.push((function.to_string(), version.to_string()));
            }
            Ok(out)
        })
    }
}

fn is_analyzer(function_name: &str) -> bool {
    function_name == ANALYZER_ARN || function_name.rsplit(':').next() == Some("powersweep-analyzer")
}

/// The analyzer Lambda, in-process: same entry point, same error types as the deployed one;
/// samples a distributed Map wrote are read from the local S3 as the deployed one reads S3.
fn analyze(mut payload: Value, s3: &crate::local_s3::LocalS3) -> InvokeResponse {
    if let Err(e) = powersweep_analyzer::map_run::gather(&mut payload, s3.reader()) {
        return function_error(&e.error_type, e.message);
    }
    match powersweep_analyzer::event::answer(payload) {
        Ok(output) => InvokeResponse {
            payload: output,
            executed_version: "$LATEST".into(),
            function_error: None,
            log_result: None,
        },
        Err(e) => function_error(&e.error_type, e.message),
    }
}

fn function_error(error_type: &str, message: String) -> InvokeResponse {
    InvokeResponse {
        payload: serde_json::json!({"errorType": error_type, "errorMessage": message}),
        executed_version: "$LATEST".into(),
        function_error: Some("Unhandled".into()),
        log_result: None,
    }
}

fn service_error(e: LambdaApiError) -> ServiceError {
    ServiceError {
        exception: e.error_type.to_string(),
        message: e.message,
        status_code: e.error_type.http_status(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan refuses an alias name before anything changes (`analyzer::plan::check_alias`)
    /// and the emulator refuses it as Lambda would (`aliases.rs`): two copies of one rule,
    /// which must agree, or a name would pass the plan and fail after the sweep.
    #[tokio::test]
    async fn the_plan_and_the_emulator_accept_the_same_alias_names() {
        let emulator = Emulator::start(EmulatorConfig {
            cpu_mode: CpuModeChoice::InProcess,
            ..EmulatorConfig::default()
        })
        .await
        .unwrap();
        emulator
            .create_function(FunctionSpec {
                name: "f".into(),
                bootstrap: "/nonexistent".into(),
                task_root: std::env::temp_dir(),
                memory_mb: 128,
                timeout_s: 3,
                environment: BTreeMap::new(),
                architecture: None,
            })
            .unwrap();
        let version = emulator.publish_version("f", None).unwrap().version;
        let names = [
            "live".to_string(),
            "a-b_C9".into(),
            "7x".into(),
            String::new(),
            "123".into(),
            "0".into(),
            "v1.0".into(),
            "a b".into(),
            "é".into(),
            "x".repeat(128),
            "x".repeat(129),
        ];
        for name in names {
            let plan = powersweep_analyzer::plan::check_alias(&name).is_ok();
            let lambda = emulator.create_alias("f", &name, &version, "").is_ok();
            assert_eq!(
                plan, lambda,
                "{name:?}: plan says {plan}, emulator {lambda}"
            );
        }
        emulator.shutdown().await;
    }
}
