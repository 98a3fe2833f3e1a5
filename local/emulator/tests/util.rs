//! Shared helpers: start an emulator, register the fake runtime, invoke with JSON, and assert
//! that nothing (process or cgroup) is left behind.

use std::collections::BTreeMap;
use std::path::PathBuf;

use powersweep_emulator::{
    CpuModeChoice, Emulator, EmulatorConfig, FunctionSpec, InvokeOutput, InvokeRequest, LogType,
};
use serde_json::Value;

/// The test-only runtime built from `src/bin/fake_runtime.rs`.
pub fn fake_runtime() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fake-runtime"))
}

/// Whether `test` can run here: cgroups can be created. If not, says so loudly (and fails
/// under `CI=true`, see `powersweep_test_support::prerequisite_missing`); the caller returns.
pub async fn cgroups_or_skip(test: &str) -> bool {
    let available = cgroups_available().await;
    if !available {
        powersweep_test_support::prerequisite_missing(test, "no cgroup can be created here");
    }
    available
}

/// Whether this machine lets us create cgroups (root with v1 or delegated v2).
async fn cgroups_available() -> bool {
    match Emulator::start(config(CpuModeChoice::Cgroup)).await {
        Ok(e) => {
            e.shutdown().await;
            true
        }
        Err(_) => false,
    }
}

pub fn config(mode: CpuModeChoice) -> EmulatorConfig {
    EmulatorConfig {
        cpu_mode: mode,
        init_timeout: std::time::Duration::from_secs(5),
        ..EmulatorConfig::default()
    }
}

pub async fn emulator(mode: CpuModeChoice) -> Emulator {
    Emulator::start(config(mode))
        .await
        .expect("emulator starts")
}

pub fn spec(name: &str, memory_mb: u32, timeout_s: u32) -> FunctionSpec {
    FunctionSpec {
        name: name.into(),
        bootstrap: fake_runtime(),
        task_root: std::env::temp_dir(),
        memory_mb,
        timeout_s,
        environment: BTreeMap::new(),
        architecture: None,
    }
}

pub fn request(name: &str, event: Value) -> InvokeRequest {
    InvokeRequest {
        function_name: name.into(),
        qualifier: None,
        payload: event.to_string().into_bytes(),
        log_type: LogType::Tail,
    }
}

pub async fn invoke(emu: &Emulator, name: &str, event: Value) -> InvokeOutput {
    emu.invoke(request(name, event))
        .await
        .expect("invoke call succeeds")
}

pub fn json(out: &InvokeOutput) -> Value {
    serde_json::from_slice(&out.payload).expect("payload is JSON")
}

/// Shut down and assert that no process and no cgroup of this emulator is left.
pub async fn shutdown_clean(emu: Emulator) {
    emu.shutdown().await;
    let left = emu.leftovers();
    assert!(left.is_empty(), "leftovers after shutdown: {left:?}");
}
