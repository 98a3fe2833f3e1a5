//! The Runtime API contract: the real `lambda_runtime` client against our server, and the exact
//! paths, headers and status codes checked over raw HTTP.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use powersweep_emulator::{CpuModeChoice, FunctionSpec};
use serde_json::json;

use crate::util::{emulator, invoke, json, shutdown_clean, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_client_gets_context_and_lambda_variables() {
    let emu = emulator(CpuModeChoice::InProcess).await;
    let mut s = spec("contract", 256, 7);
    s.environment.insert("FAKE_OWN_VAR".into(), "mine".into());
    emu.create_function(s).unwrap();
    let before = chrono::Utc::now().timestamp_millis() as u64;
    let out = invoke(&emu, "contract", json!({"mode": "echo", "x": 1})).await;
    assert_eq!(out.function_error, None, "{}", out.log);
    let v = json(&out);
    assert_eq!(v["event"], json!({"mode": "echo", "x": 1}));
    assert_eq!(v["requestId"], out.report.request_id);
    let deadline = v["deadlineMs"].as_u64().unwrap();
    assert!(
        deadline >= before + 6_000 && deadline <= before + 60_000,
        "deadline is epoch ms = now + timeout: {deadline} vs {before}"
    );
    assert_eq!(
        v["functionArn"],
        "arn:aws:lambda:us-east-1:123456789012:function:contract"
    );
    assert!(v["traceId"].as_str().unwrap().starts_with("Root=1-"));
    let env = &v["env"];
    assert!(
        env["AWS_LAMBDA_RUNTIME_API"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    for (k, want) in [
        ("AWS_LAMBDA_FUNCTION_NAME", "contract"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/contract"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("_HANDLER", "bootstrap"),
        ("TZ", ":UTC"),
        ("FAKE_OWN_VAR", "mine"),
    ] {
        assert_eq!(env[k], want, "{k}");
    }
    for k in [
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "POWERSWEEP_CPU_VCPUS",
    ] {
        assert!(env[k].is_string(), "{k} missing");
    }
    let vcpus: f64 = env["POWERSWEEP_CPU_VCPUS"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((vcpus - 256.0 / 1769.0).abs() < 1e-6);
    // The tail holds Lambda's lines.
    let tail = out.log_result.as_deref().unwrap();
    use base64::Engine as _;
    let tail = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(tail)
            .unwrap(),
    )
    .unwrap();
    assert!(tail.contains(&format!(
        "START RequestId: {} Version: $LATEST",
        v["requestId"].as_str().unwrap()
    )));
    assert!(tail.contains("END RequestId: "));
    assert!(tail.contains("REPORT RequestId: ") && tail.contains("Init Duration: "));
    shutdown_clean(emu).await;
}

/// A raw HTTP/1.1 exchange; returns (status, lowercase headers, body).
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, Vec<(String, String)>, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_paths_headers_and_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("bootstrap");
    std::fs::write(
        &script,
        "#!/bin/sh\necho \"$AWS_LAMBDA_RUNTIME_API\" > \"$LAMBDA_TASK_ROOT/api.tmp\"\nmv \"$LAMBDA_TASK_ROOT/api.tmp\" \"$LAMBDA_TASK_ROOT/api\"\nexec sleep 60\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let emu = Arc::new(emulator(CpuModeChoice::InProcess).await);
    emu.create_function(FunctionSpec {
        bootstrap: script,
        task_root: dir.path().to_path_buf(),
        ..spec("raw", 128, 10)
    })
    .unwrap();
    let e = emu.clone();
    let call = tokio::spawn(async move {
        e.call(
            "invoke",
            json!({"FunctionName": "raw", "Payload": {"hello": "world"}}),
        )
        .await
    });
    let api_file = dir.path().join("api");
    let start = Instant::now();
    while !api_file.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "bootstrap did not start"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let addr = std::fs::read_to_string(&api_file)
        .unwrap()
        .trim()
        .to_string();
    let a = addr.clone();
    let (status, headers, body) = tokio::task::spawn_blocking(move || {
        http(&a, "GET", "/2018-06-01/runtime/invocation/next", b"")
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"hello":"world"}"#);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    let id = header(&headers, "lambda-runtime-aws-request-id")
        .unwrap()
        .to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    let deadline: u64 = header(&headers, "lambda-runtime-deadline-ms")
        .unwrap()
        .parse()
        .unwrap();
    assert!(deadline > chrono::Utc::now().timestamp_millis() as u64);
    assert_eq!(
        header(&headers, "lambda-runtime-invoked-function-arn"),
        Some("arn:aws:lambda:us-east-1:123456789012:function:raw")
    );
    assert!(
        header(&headers, "lambda-runtime-trace-id")
            .unwrap()
            .starts_with("Root=1-")
    );

    let a = addr.clone();
    let id2 = id.clone();
    let (bad, good) = tokio::task::spawn_blocking(move || {
        let bad = http(
            &a,
            "POST",
            "/2018-06-01/runtime/invocation/not-an-id/response",
            b"{}",
        );
        let good = http(
            &a,
            "POST",
            &format!("/2018-06-01/runtime/invocation/{id2}/response"),
            br#"{"ok":true}"#,
        );
        (bad, good)
    })
    .await
    .unwrap();
    assert_eq!(bad.0, 400);
    assert!(bad.2.contains("InvalidRequestID"));
    assert_eq!(good.0, 202);
    let answer = call.await.unwrap().unwrap();
    assert_eq!(answer["StatusCode"], 200);
    assert_eq!(answer["ExecutedVersion"], "$LATEST");
    assert_eq!(answer["Payload"], json!({"ok": true}));
    assert!(answer.get("FunctionError").is_none());
    let emu = Arc::try_unwrap(emu).expect("no other owner");
    shutdown_clean(emu).await;
}
