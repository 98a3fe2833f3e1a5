//! `powersweep sweep --aws` against moto's Step Functions: state machines whose output has
//! the analyzer's shape (a Pass state's `Result`), one that fails, and Ctrl-C while one runs.
//!
//! moto runs definitions only after `POST /moto-api/config` with
//! `{"stepfunctions":{"execute_state_machine":true}}`, and keeps such state machines in a
//! backend of their own, so every test sets it before creating its state machine.

use crate::report::{assert_one_line_error, assert_rendered, sample_output};
use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const ROLE: &str = "arn:aws:iam::123456789012:role/x";

fn moto() -> &'static str {
    powersweep_tests::moto_url()
}

/// Tells moto to run executions (otherwise they stay RUNNING forever).
fn enable_execution(url: &str) {
    let body = r#"{"stepfunctions":{"execute_state_machine":true}}"#;
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(address).expect("connect to moto");
    write!(
        stream,
        "POST /moto-api/config HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 20"),
        "moto config: {response}"
    );
}

async fn client(url: &str) -> aws_sdk_sfn::Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("t", "t", None, None, "test"))
        .build();
    aws_sdk_sfn::Client::from_conf(config)
}

/// Creates a state machine named after the test (plus time, so reruns on one moto work).
async fn state_machine(name: &str, definition: Value) -> (aws_sdk_sfn::Client, String) {
    let url = moto();
    enable_execution(url);
    let client = client(url).await;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let created = client
        .create_state_machine()
        .name(format!("{name}-{nanos}"))
        .definition(definition.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect("create state machine in moto");
    (client, created.state_machine_arn().to_owned())
}

fn sweep_command(arn: &str, out: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_powersweep"));
    cmd.args(["sweep", "--aws", "--state-machine-arn", arn, "--out"])
        .arg(out)
        .args([
            "--memory",
            "1024,1769",
            "--threads",
            "1,2",
            "--repetitions",
            "3",
        ])
        .env("AWS_ENDPOINT_URL", moto())
        .env("AWS_REGION", "us-east-1")
        .env("POWERSWEEP_POLL_MS", "100")
        // The dummy credentials for a loopback endpoint are part of what is tested.
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL_SFN");
    cmd
}

fn sweep(arn: &str, out: &std::path::Path) -> Output {
    sweep_command(arn, out).output().expect("run powersweep")
}

#[tokio::test]
async fn sweep_aws_renders_the_execution_output() {
    let output = sample_output();
    // A Map first, so that the history holds iterations as a real sweep's does.
    let definition = json!({
        "StartAt": "Configurations",
        "States": {
            "Configurations": {
                "Type": "Map",
                "ItemsPath": "$.memorySizes",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "One",
                    "States": {"One": {"Type": "Pass", "End": true}}
                },
                "ResultPath": null,
                "Next": "Analysis"
            },
            "Analysis": {"Type": "Pass", "Result": output, "End": true}
        }
    });
    let (_, arn) = state_machine("ok", definition).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = sweep(&arn, &out);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "stderr: {}\nstdout: {stdout}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_rendered(&output, &stdout, &out);
}

#[tokio::test]
async fn sweep_aws_failed_execution_is_one_line_with_error_and_cause() {
    let definition = json!({
        "StartAt": "Boom",
        "States": {"Boom": {"Type": "Fail", "Error": "Powersweep.TestFailure", "Cause": "the host function does not exist"}}
    });
    let (_, arn) = state_machine("fail", definition).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = sweep(&arn, &out);
    assert_one_line_error(
        &run,
        &[
            "the execution failed: Powersweep.TestFailure: the host function does not exist",
            "execution arn:aws:states:us-east-1:",
        ],
    );
    assert!(!out.join("results.json").exists());
}

#[tokio::test]
async fn sweep_aws_output_that_is_not_an_analyzer_output() {
    let definition = json!({
        "StartAt": "Odd",
        "States": {"Odd": {"Type": "Pass", "Result": {"hello": "world"}, "End": true}}
    });
    let (_, arn) = state_machine("odd", definition).await;
    let dir = tempfile::tempdir().unwrap();
    let run = sweep(&arn, &dir.path().join("out"));
    assert_one_line_error(&run, &["not an analyzer output"]);
}

#[tokio::test]
async fn sweep_aws_unknown_state_machine() {
    let _ = state_machine(
        "unused",
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:no-such-machine";
    let run = sweep(arn, &dir.path().join("out"));
    assert_one_line_error(&run, &["does not exist", "--state-machine-arn"]);
}

#[test]
fn sweep_aws_malformed_arn() {
    let dir = tempfile::tempdir().unwrap();
    let run = sweep("my-state-machine", &dir.path().join("out"));
    assert_one_line_error(&run, &["not a state machine ARN", "StateMachineArn"]);
}

#[tokio::test]
async fn ctrl_c_leaves_the_execution_running_and_names_it() {
    let definition = json!({
        "StartAt": "Slow",
        "States": {"Slow": {"Type": "Wait", "Seconds": 60, "End": true}}
    });
    let (client, arn) = state_machine("slow", definition).await;
    let dir = tempfile::tempdir().unwrap();
    let child = sweep_command(&arn, &dir.path().join("out"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run powersweep");

    // Interrupt only once the execution exists, and the command has had time to follow it.
    let started = Instant::now();
    let execution_arn = loop {
        let listed = client
            .list_executions()
            .state_machine_arn(&arn)
            .send()
            .await
            .unwrap();
        if let Some(e) = listed.executions().first() {
            break e.execution_arn().to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no execution started"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let run = child.wait_with_output().unwrap();
    assert_one_line_error(
        &run,
        &[
            "stopped following, the execution keeps running on AWS",
            &execution_arn,
        ],
    );

    let described = client
        .describe_execution()
        .execution_arn(&execution_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(described.status(), &ExecutionStatus::Running);
    client
        .stop_execution()
        .execution_arn(&execution_arn)
        .send()
        .await
        .unwrap();
}
