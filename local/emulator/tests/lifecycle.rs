//! Environments' lives: warm reuse, concurrency, crashes, init failures, timeouts, malformed
//! answers. Every test ends by asserting nothing is left behind.

use std::sync::Arc;

use powersweep_emulator::{CpuModeChoice, Emulator, EmulatorConfig, ErrorType};
use serde_json::json;

use crate::util::{config, emulator, invoke, json, request, shutdown_clean, spec};

fn error_type(out: &powersweep_emulator::InvokeOutput) -> String {
    json(out)["errorType"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_reuse_then_cold_after_update() {
    let emu = emulator(CpuModeChoice::InProcess).await;
    emu.create_function(spec("warm", 128, 5)).unwrap();
    let a = invoke(&emu, "warm", json!({"mode": "echo"})).await;
    let b = invoke(&emu, "warm", json!({"mode": "echo"})).await;
    assert!(a.cold && !b.cold);
    assert!(a.report.init_duration_ms.is_some() && b.report.init_duration_ms.is_none());
    assert_eq!(json(&a)["pid"], json(&b)["pid"]);
    assert_eq!(json(&b)["invocation"], 2);
    assert!(b.report.billed_duration_ms >= 1);
    assert!(a.report.billed_duration_ms as f64 >= a.report.init_duration_ms.unwrap());
    emu.update_function_configuration(
        "warm",
        powersweep_emulator::ConfigUpdate {
            memory_mb: Some(256),
            ..Default::default()
        },
    )
    .unwrap();
    let c = invoke(&emu, "warm", json!({"mode": "echo"})).await;
    assert!(c.cold, "a configuration change discards warm environments");
    assert_eq!(json(&c)["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_gets_separate_environments_up_to_the_limit() {
    let emu = Arc::new(
        Emulator::start(EmulatorConfig {
            max_environments_per_version: 2,
            ..config(CpuModeChoice::InProcess)
        })
        .await
        .unwrap(),
    );
    emu.create_function(spec("conc", 128, 5)).unwrap();
    let run = |e: Arc<Emulator>| async move {
        e.invoke(request("conc", json!({"mode": "sleep", "ms": 700})))
            .await
    };
    let (a, b) = tokio::join!(
        tokio::spawn(run(emu.clone())),
        tokio::spawn(run(emu.clone()))
    );
    let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
    assert_ne!(json(&a)["pid"], json(&b)["pid"]);
    // Two busy, a third concurrent one is refused.
    let t1 = tokio::spawn(run(emu.clone()));
    let t2 = tokio::spawn(run(emu.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let third = emu.invoke(request("conc", json!({"mode": "echo"}))).await;
    assert_eq!(third.unwrap_err().error_type, ErrorType::TooManyRequests);
    t1.await.unwrap().unwrap();
    t2.await.unwrap().unwrap();
    let emu = Arc::try_unwrap(emu).expect("sole owner");
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_mid_invocation_replaces_the_environment() {
    let emu = emulator(CpuModeChoice::InProcess).await;
    emu.create_function(spec("crash", 128, 5)).unwrap();
    let first = invoke(&emu, "crash", json!({"mode": "echo"})).await;
    let out = invoke(&emu, "crash", json!({"mode": "crash"})).await;
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(error_type(&out), "Runtime.ExitError");
    assert!(
        json(&out)["errorMessage"]
            .as_str()
            .unwrap()
            .contains("exit status 3")
    );
    assert!(out.log.contains("about to crash"), "{}", out.log);
    let next = invoke(&emu, "crash", json!({"mode": "echo"})).await;
    assert!(next.cold);
    assert_eq!(next.function_error, None);
    assert_ne!(json(&next)["pid"], json(&first)["pid"]);
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_error_is_a_function_error_and_the_environment_stays() {
    let emu = emulator(CpuModeChoice::InProcess).await;
    emu.create_function(spec("err", 128, 5)).unwrap();
    let out = invoke(&emu, "err", json!({"mode": "error"})).await;
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    assert!(
        json(&out)["errorMessage"]
            .as_str()
            .unwrap()
            .contains("on purpose")
    );
    let next = invoke(&emu, "err", json!({"mode": "echo"})).await;
    assert!(!next.cold);
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_that_never_calls_next_times_out_at_init() {
    let emu = Emulator::start(EmulatorConfig {
        init_timeout: std::time::Duration::from_millis(800),
        ..config(CpuModeChoice::InProcess)
    })
    .await
    .unwrap();
    let mut s = spec("never", 128, 3);
    s.environment
        .insert("FAKE_RUNTIME_NEVER_NEXT".into(), "1".into());
    emu.create_function(s).unwrap();
    let out = invoke(&emu, "never", json!({"mode": "echo"})).await;
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(error_type(&out), "Sandbox.Timedout");
    assert!(out.log.contains("Status: timeout"));
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_error_is_reported() {
    let emu = emulator(CpuModeChoice::InProcess).await;
    let mut s = spec("initerr", 128, 3);
    s.environment
        .insert("FAKE_RUNTIME_INIT_ERROR".into(), "1".into());
    emu.create_function(s).unwrap();
    let out = invoke(&emu, "initerr", json!({})).await;
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    // Either the posted init error or the exit that follows it, whichever the emulator saw first.
    let t = error_type(&out);
    assert!(t == "Fake.InitFailed" || t == "Runtime.ExitError", "{t}");
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_response_is_passed_through_and_the_late_post_refused() {
    let emu = emulator(CpuModeChoice::InProcess).await;
    emu.create_function(spec("bad", 128, 5)).unwrap();
    let out = invoke(&emu, "bad", json!({"mode": "malformed"})).await;
    // Lambda does not validate a runtime's response: the bytes come back as they were posted.
    assert_eq!(out.function_error, None);
    assert_eq!(out.payload, b"{\"truncated\": ");
    let answer = emu
        .call(
            "invoke",
            json!({"FunctionName": "bad", "Payload": {"mode": "echo"}}),
        )
        .await
        .unwrap();
    // The environment survived the client's own (refused, 400) second post.
    assert_eq!(answer["Payload"]["invocation"], 2);
    let raw = emu
        .call(
            "invoke",
            json!({"FunctionName": "bad", "Payload": {"mode": "malformed"}}),
        )
        .await
        .unwrap();
    assert_eq!(
        raw["Payload"], "{\"truncated\": ",
        "non-JSON payload comes back as a string"
    );
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_kills_and_the_next_invocation_is_cold() {
    let emu = emulator(CpuModeChoice::InProcess).await;
    emu.create_function(spec("slow", 128, 1)).unwrap();
    let first = invoke(&emu, "slow", json!({"mode": "echo"})).await;
    let out = invoke(&emu, "slow", json!({"mode": "sleep", "ms": 30_000})).await;
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(error_type(&out), "Sandbox.Timedout");
    assert_eq!(
        json(&out)["errorMessage"],
        "Task timed out after 1.00 seconds"
    );
    assert!(out.report.duration_ms >= 1000.0);
    let pid = json(&first)["pid"].as_i64().unwrap() as i32;
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists() || {
            // Reaped may lag a moment; it must at least not be running.
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.contains(") Z")
        }
    );
    let next = invoke(&emu, "slow", json!({"mode": "echo"})).await;
    assert!(next.cold);
    assert_eq!(next.function_error, None);
    shutdown_clean(emu).await;
}
