//! The `model` CPU mode: the duration model's answer becomes the REPORT's Duration, the
//! billing and the timeout; the measured time stays beside it.

use std::sync::Arc;
use std::time::Duration;

use powersweep_emulator::{
    CpuModeChoice, DurationModel, Emulator, EmulatorConfig, Modeled, ModeledFunction, StartError,
};
use serde_json::{Value, json};

use crate::util::{config, invoke, json, shutdown_clean, spec};

/// Models the fake runtime's echo: the duration is the event's `modelMs`; without it the
/// response cannot be modeled.
#[derive(Debug)]
struct FromEvent;

impl DurationModel for FromEvent {
    fn model(
        &self,
        function: &ModeledFunction<'_>,
        response: &[u8],
        replay_of: Option<&str>,
    ) -> Result<Modeled, String> {
        let body: Value = serde_json::from_slice(response).map_err(|e| e.to_string())?;
        let ms = body["event"]["modelMs"].as_f64().ok_or("no modelMs")?;
        let payload = json!({"modeledMs": ms, "memoryMb": function.memory_mb,
            "lambdaVcpus": function.cpu.lambda_vcpus, "architecture": function.architecture,
            "meter": body["env"]["POWERSWEEP_METER"], "count": body["count"], "replayOf": replay_of});
        Ok(Modeled {
            duration: Duration::from_secs_f64(ms / 1e3),
            payload: serde_json::to_vec(&payload).map_err(|e| e.to_string())?,
            stopped_at_deadline: body["event"]["stopped"] == true,
        })
    }

    /// An event marked `pure` is; its signature is the event (the echo's pid and count
    /// differ every run, as a real job's timings do).
    fn signature(&self, response: &[u8]) -> Option<Vec<u8>> {
        let body: Value = serde_json::from_slice(response).ok()?;
        (body["event"]["pure"] == true).then(|| body["event"].to_string().into_bytes())
    }
}

async fn modeled() -> Emulator {
    Emulator::start(EmulatorConfig {
        duration_model: Some(Arc::new(FromEvent)),
        ..config(CpuModeChoice::Model)
    })
    .await
    .expect("emulator starts")
}

async fn reusing() -> Emulator {
    Emulator::start(EmulatorConfig {
        duration_model: Some(Arc::new(FromEvent)),
        reuse_work: true,
        ..config(CpuModeChoice::Model)
    })
    .await
    .expect("emulator starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pure_job_answered_twice_alike_is_answered_from_the_first_run_on_sizes_as_large() {
    let emu = reusing().await;
    // Same bootstrap, code and variables: the same job at two memory sizes.
    emu.create_function(spec("small", 512, 30)).unwrap();
    emu.create_function(spec("large", 2048, 30)).unwrap();
    let event = json!({"mode": "echo", "modelMs": 40.0, "pure": true});
    let first = invoke(&emu, "small", event.clone()).await;
    let second = invoke(&emu, "small", event.clone()).await;
    for out in [&first, &second] {
        assert!(json(out)["replayOf"].is_null(), "{}", out.log);
        assert!(out.report.measured_duration_ms.is_some());
    }
    let third = invoke(&emu, "small", event.clone()).await;
    assert_eq!(json(&third)["replayOf"], first.report.request_id.as_str());
    assert_eq!(
        json(&third)["count"],
        json(&first)["count"],
        "the first run's answer"
    );
    assert_eq!(third.report.duration_ms, 40.0, "modeled afresh");
    assert_eq!(
        third.report.measured_duration_ms, None,
        "nothing ran, nothing measured"
    );
    assert!(
        third.log.contains(&format!(
            "answered from {}: the same job, already run twice",
            first.report.request_id
        )),
        "{}",
        third.log
    );
    // The larger size's cold start runs; its warm invocation may reuse the 512 MB run.
    let cold = invoke(&emu, "large", event.clone()).await;
    assert!(
        json(&cold)["replayOf"].is_null(),
        "a cold start always runs"
    );
    let warm = invoke(&emu, "large", event.clone()).await;
    assert_eq!(json(&warm)["memoryMb"], 2048);
    assert!(json(&warm)["replayOf"].is_string(), "{}", warm.log);
    assert_eq!(emu.reused_invocations(), 2);
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impure_job_or_one_from_a_smaller_size_always_runs() {
    let emu = reusing().await;
    emu.create_function(spec("small", 512, 30)).unwrap();
    emu.create_function(spec("large", 2048, 30)).unwrap();
    let impure = json!({"mode": "echo", "modelMs": 40.0});
    for _ in 0..4 {
        let out = invoke(&emu, "small", impure.clone()).await;
        assert!(json(&out)["replayOf"].is_null(), "{}", out.log);
    }
    let pure = json!({"mode": "echo", "modelMs": 40.0, "pure": true});
    for _ in 0..4 {
        invoke(&emu, "large", pure.clone()).await;
    }
    // `small` is warm (the impure jobs): its first pure job still runs.
    let out = invoke(&emu, "small", pure.clone()).await;
    assert!(
        json(&out)["replayOf"].is_null(),
        "a 2,048 MB run may not fit in 512 MB: {}",
        out.log
    );
    let out = invoke(&emu, "small", pure.clone()).await;
    assert!(
        json(&out)["replayOf"].is_string(),
        "the 512 MB run, now the smallest, is kept: {}",
        out.log
    );
    assert_eq!(emu.reused_invocations(), 3);
    shutdown_clean(emu).await;
}

#[tokio::test]
async fn reuse_without_the_model_mode_is_refused() {
    let e = Emulator::start(EmulatorConfig {
        reuse_work: true,
        ..config(CpuModeChoice::InProcess)
    })
    .await;
    assert!(matches!(e, Err(StartError::Config(_))), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_modeled_duration_is_reported_and_billed_and_the_measured_one_kept() {
    let emu = modeled().await;
    assert_eq!(emu.cpu_mode().to_string(), "model");
    // 10,240 MB asks for 5.79 vCPUs: the model gets Lambda's share, whatever this machine has.
    emu.create_function(spec("f", 10_240, 30)).unwrap();
    invoke(&emu, "f", json!({"mode": "echo", "modelMs": 1.0})).await;
    let out = invoke(&emu, "f", json!({"mode": "echo", "modelMs": 1234.5})).await;
    assert_eq!(out.function_error, None, "{}", out.log);
    assert_eq!(out.report.duration_ms, 1234.5);
    assert_eq!(out.report.billed_duration_ms, 1235);
    let measured = out.report.measured_duration_ms.expect("measured kept");
    assert!(
        measured < 1234.5,
        "an echo does not take a second: {measured}"
    );
    let body = json(&out);
    assert_eq!(body["modeledMs"], 1234.5, "the model's payload is returned");
    assert_eq!(body["meter"], "1", "the host is told to meter");
    assert!((body["lambdaVcpus"].as_f64().unwrap() - 10_240.0 / 1769.0).abs() < 1e-9);
    assert_eq!(body["architecture"], "x86_64", "Lambda's default");
    // The model is told each function's architecture: its vCPU is what the duration is on.
    let arm = powersweep_emulator::FunctionSpec {
        architecture: Some("arm64".into()),
        ..spec("g", 1024, 30)
    };
    emu.create_function(arm).unwrap();
    let body = json(&invoke(&emu, "g", json!({"mode": "echo", "modelMs": 5.0})).await);
    assert_eq!(body["architecture"], "arm64");
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modeled_duration_past_the_timeout_is_a_timeout() {
    let emu = modeled().await;
    emu.create_function(spec("f", 512, 2)).unwrap();
    let out = invoke(&emu, "f", json!({"mode": "echo", "modelMs": 5000.0})).await;
    assert_eq!(
        out.error_type.as_deref(),
        Some("Sandbox.Timedout"),
        "{}",
        out.log
    );
    assert_eq!(out.report.duration_ms, 2000.0);
    assert!(
        out.log.contains(
            "Task timed out after 2.00 seconds (modeled: the job would take 5.00 s on Lambda)"
        ),
        "{}",
        out.log
    );
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_stopped_at_its_deadline_here_is_a_timeout_however_short_its_finished_part() {
    let emu = modeled().await;
    emu.create_function(spec("f", 512, 2)).unwrap();
    // Obeyed: a job that finished is its modeled duration.
    let done = invoke(&emu, "f", json!({"mode": "echo", "modelMs": 30.0})).await;
    assert_eq!(done.error_type, None, "{}", done.log);
    assert_eq!(done.report.duration_ms, 30.0);
    // Violated: the same finished part, but the job was stopped at its deadline.
    let stopped = json!({"mode": "echo", "modelMs": 30.0, "stopped": true});
    let out = invoke(&emu, "f", stopped).await;
    assert_eq!(
        out.error_type.as_deref(),
        Some("Sandbox.Timedout"),
        "{}",
        out.log
    );
    assert_eq!(out.report.duration_ms, 2000.0, "the timeout, as on Lambda");
    assert!(
        out.log.contains("reached its deadline on this machine"),
        "{}",
        out.log
    );
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_the_model_cannot_read_keeps_its_measured_duration_and_says_why() {
    let emu = modeled().await;
    emu.create_function(spec("f", 512, 5)).unwrap();
    let out = invoke(&emu, "f", json!({"mode": "echo"})).await;
    assert_eq!(out.function_error, None, "{}", out.log);
    assert_eq!(
        Some(out.report.duration_ms),
        out.report.measured_duration_ms
    );
    assert!(
        out.log
            .contains("the duration model could not use this response (no modelMs)"),
        "{}",
        out.log
    );
    assert!(
        json(&out)["event"].is_object(),
        "the function's own payload is returned"
    );
    shutdown_clean(emu).await;
}

#[tokio::test]
async fn the_model_mode_and_a_duration_model_come_together() {
    let without = Emulator::start(config(CpuModeChoice::Model)).await;
    assert!(matches!(without, Err(StartError::Config(_))), "{without:?}");
    let stray = Emulator::start(EmulatorConfig {
        duration_model: Some(Arc::new(FromEvent)),
        ..config(CpuModeChoice::InProcess)
    })
    .await;
    assert!(matches!(stray, Err(StartError::Config(_))), "{stray:?}");
}
