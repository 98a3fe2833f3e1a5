//! The Lambda API through the generic `call` entry point (the ASL bridge's view): shapes,
//! validation and error types.

use std::sync::Arc;
use std::time::Duration;

use powersweep_emulator::{CpuModeChoice, Emulator, EmulatorConfig, ErrorType};
use serde_json::json;

use crate::util::{config, emulator, shutdown_clean, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payload_that_is_not_json_is_refused() {
    let emu = emulator(CpuModeChoice::InProcess).await;
    emu.create_function(spec("p", 128, 3)).unwrap();
    let e = emu
        .call(
            "invoke",
            json!({"FunctionName": "p", "Payload": "{not json"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.error_type, ErrorType::InvalidRequestContent);
    assert_eq!(e.error_type.to_string(), "InvalidRequestContentException");
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_over_6_mib_is_refused_and_one_at_the_limit_is_not() {
    use powersweep_emulator::MAX_REQUEST_BYTES;
    let emu = emulator(CpuModeChoice::InProcess).await;
    emu.create_function(spec("p", 128, 3)).unwrap();
    // A JSON string of exactly `len` bytes.
    let payload = |len: usize| format!("\"{}\"", "x".repeat(len - 2));
    let e = emu
        .call(
            "invoke",
            json!({"FunctionName": "p", "Payload": payload(MAX_REQUEST_BYTES + 1)}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.error_type.to_string(), "RequestEntityTooLargeException");
    assert_eq!(e.error_type.http_status(), 413);
    assert!(e.message.contains("6291456 bytes"), "{}", e.message);
    // At the limit the request is accepted (the fake runtime may then fail it: not our
    // concern here, only that the size check let it through).
    let at_limit = emu
        .call(
            "invoke",
            json!({"FunctionName": "p", "Payload": payload(MAX_REQUEST_BYTES)}),
        )
        .await;
    if let Err(e) = at_limit {
        assert_ne!(
            e.error_type,
            ErrorType::RequestEntityTooLarge,
            "{}",
            e.message
        );
    }
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_outside_128_to_10240_is_invalid() {
    let emu = emulator(CpuModeChoice::InProcess).await;
    for mb in [64, 127, 10_241] {
        let e = emu.create_function(spec("m", mb, 3)).unwrap_err();
        assert_eq!(e.error_type, ErrorType::InvalidParameterValue, "{mb}");
    }
    emu.create_function(spec("m", 10_240, 3)).unwrap();
    for mb in [0, 127, 10_241] {
        let e = emu
            .call(
                "updateFunctionConfiguration",
                json!({"FunctionName": "m", "MemorySize": mb}),
            )
            .await
            .unwrap_err();
        assert_eq!(e.error_type, ErrorType::InvalidParameterValue, "{mb}");
    }
    let e = emu
        .call(
            "updateFunctionConfiguration",
            json!({"FunctionName": "m", "Timeout": 901}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.error_type, ErrorType::InvalidParameterValue);
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_invoke_delete_version_then_not_found() {
    let emu = Emulator::start(EmulatorConfig {
        update_delay: Duration::from_millis(50),
        ..config(CpuModeChoice::InProcess)
    })
    .await
    .unwrap();
    emu.create_function(spec("v", 128, 3)).unwrap();
    emu.call(
        "updateFunctionConfiguration",
        json!({"FunctionName": "v", "MemorySize": 512}),
    )
    .await
    .unwrap();
    // Wait the update out, as the state machine does.
    loop {
        let c = emu
            .call("getFunctionConfiguration", json!({"FunctionName": "v"}))
            .await
            .unwrap();
        assert_eq!(c["State"], "Active");
        if c["LastUpdateStatus"] == "Successful" {
            break;
        }
        assert_eq!(c["LastUpdateStatus"], "InProgress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let v = emu
        .call("publishVersion", json!({"FunctionName": "v"}))
        .await
        .unwrap();
    assert_eq!(v["Version"], "1");
    assert_eq!(v["MemorySize"], 512);
    assert_eq!(
        v["FunctionArn"],
        "arn:aws:lambda:us-east-1:123456789012:function:v:1"
    );
    let out = emu
        .call(
            "invoke",
            json!({"FunctionName": "v", "Qualifier": "1", "Payload": {"mode": "echo"}, "LogType": "Tail"}),
        )
        .await
        .unwrap();
    assert_eq!(out["ExecutedVersion"], "1");
    assert_eq!(
        out["Payload"]["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
        "512"
    );
    assert!(out["LogResult"].is_string());
    emu.call(
        "deleteFunction",
        json!({"FunctionName": "v", "Qualifier": "1"}),
    )
    .await
    .unwrap();
    for params in [
        json!({"FunctionName": "v", "Qualifier": "1", "Payload": {}}),
        json!({"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:v:1", "Payload": {}}),
    ] {
        let e = emu.call("invoke", params).await.unwrap_err();
        assert_eq!(e.error_type, ErrorType::ResourceNotFound);
    }
    let e = emu
        .call(
            "deleteFunction",
            json!({"FunctionName": "v", "Qualifier": "$LATEST"}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.error_type, ErrorType::InvalidParameterValue);
    emu.call("deleteFunction", json!({"FunctionName": "v"}))
        .await
        .unwrap();
    let e = emu
        .call("getFunctionConfiguration", json!({"FunctionName": "v"}))
        .await
        .unwrap_err();
    assert_eq!(e.error_type, ErrorType::ResourceNotFound);
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_conflict_while_the_first_is_in_progress() {
    let emu = Arc::new(
        Emulator::start(EmulatorConfig {
            update_delay: Duration::from_secs(2),
            ..config(CpuModeChoice::InProcess)
        })
        .await
        .unwrap(),
    );
    emu.create_function(spec("u", 128, 3)).unwrap();
    let update = |e: Arc<Emulator>, mb: u32| async move {
        e.call(
            "updateFunctionConfiguration",
            json!({"FunctionName": "u", "MemorySize": mb}),
        )
        .await
    };
    let (a, b) = tokio::join!(
        tokio::spawn(update(emu.clone(), 256)),
        tokio::spawn(update(emu.clone(), 512))
    );
    let results = [a.unwrap(), b.unwrap()];
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(e) if e.error_type == ErrorType::ResourceConflict))
        .count();
    assert_eq!((ok, conflicts), (1, 1), "{results:?}");
    let winner = results.iter().find_map(|r| r.as_ref().ok()).unwrap();
    assert_eq!(winner["LastUpdateStatus"], "InProgress");
    let e = emu
        .call("publishVersion", json!({"FunctionName": "u"}))
        .await
        .unwrap_err();
    assert_eq!(e.error_type, ErrorType::ResourceConflict);
    let emu = Arc::try_unwrap(emu).expect("sole owner");
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_function_and_action() {
    let emu = emulator(CpuModeChoice::InProcess).await;
    let e = emu
        .call("invoke", json!({"FunctionName": "nope", "Payload": {}}))
        .await
        .unwrap_err();
    assert_eq!(e.error_type, ErrorType::ResourceNotFound);
    let e = emu.call("listFunctions", json!({})).await.unwrap_err();
    assert_eq!(e.error_type, ErrorType::InvalidParameterValue);
    shutdown_clean(emu).await;
}
