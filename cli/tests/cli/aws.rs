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

fn moto() -> &'static str {
    powersweep_test_support::moto_url()
}

/// One HTTP/1.1 request to moto; the whole response.
fn http(url: &str, head: &str, body: &str) -> String {
    let address = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(address).expect("connect to moto");
    write!(
        stream,
        "{head}\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 20"), "moto: {response}");
    response
}

/// Tells moto to run executions (otherwise they stay RUNNING forever).
fn enable_execution(url: &str) {
    http(
        url,
        "POST /moto-api/config HTTP/1.1\r\nContent-Type: application/json",
        r#"{"stepfunctions":{"execute_state_machine":true}}"#,
    );
}

/// Credentials of a fresh AWS account in moto: (account, key id, secret, session token).
///
/// moto 5.2's StartExecution deep-copies the state machine together with its backend, which
/// fails (500, "cannot pickle '_thread.RLock'") once any execution exists in that account
/// and region. So each test starts its one execution in an account of its own, reached
/// through STS AssumeRole, which moto lets point at any account.
fn fresh_account(url: &str) -> (String, String, String, String) {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let account = format!("{:012}", (nanos / 1000 + n * 7919) % 1_000_000_000_000);
    // moto routes by the credential scope's service and does not check the signature.
    let head = "POST / HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=0";
    let body = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleSessionName=powersweep-test&RoleArn=arn%3Aaws%3Aiam%3A%3A{account}%3Arole%2Fx"
    );
    let response = http(url, head, &body);
    let field = |name: &str| {
        let open = format!("<{name}>");
        let start = response
            .find(&open)
            .unwrap_or_else(|| panic!("no {name} in {response}"))
            + open.len();
        let end = start + response[start..].find('<').unwrap();
        response[start..end].to_owned()
    };
    (
        account,
        field("AccessKeyId"),
        field("SecretAccessKey"),
        field("SessionToken"),
    )
}

/// A state machine in a fresh account, and how to reach it.
struct Machine {
    client: aws_sdk_sfn::Client,
    arn: String,
    key: String,
    secret: String,
    token: String,
}

/// Creates a state machine named after the test in an account of its own.
async fn state_machine(name: &str, definition: Value) -> Machine {
    let url = moto();
    enable_execution(url);
    let (account, key, secret, token) = fresh_account(url);
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(powersweep_aws::http_client())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(
            &key,
            &secret,
            Some(token.clone()),
            None,
            "test",
        ))
        .build();
    let client = aws_sdk_sfn::Client::from_conf(config);
    let created = client
        .create_state_machine()
        .name(name)
        .definition(definition.to_string())
        .role_arn(format!("arn:aws:iam::{account}:role/x"))
        .send()
        .await
        .expect("create state machine in moto");
    let arn = created.state_machine_arn().to_owned();
    assert!(arn.contains(&account), "{arn} is not in account {account}");
    Machine {
        client,
        arn,
        key,
        secret,
        token,
    }
}

/// `powersweep sweep --aws` on moto, with dummy credentials unless `machine` gives some.
fn sweep_command(arn: &str, machine: Option<&Machine>, out: &std::path::Path) -> Command {
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
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL_SFN");
    if let Some(m) = machine {
        cmd.env("AWS_ACCESS_KEY_ID", &m.key)
            .env("AWS_SECRET_ACCESS_KEY", &m.secret)
            .env("AWS_SESSION_TOKEN", &m.token);
    }
    cmd
}

fn sweep(machine: &Machine, out: &std::path::Path) -> Output {
    sweep_command(&machine.arn, Some(machine), out)
        .output()
        .expect("run powersweep")
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
    let machine = state_machine("ok", definition).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = sweep(&machine, &out);
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
    let machine = state_machine("fail", definition).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = sweep(&machine, &out);
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
    let machine = state_machine("odd", definition).await;
    let dir = tempfile::tempdir().unwrap();
    let run = sweep(&machine, &dir.path().join("out"));
    assert_one_line_error(&run, &["not an analyzer output"]);
}

#[tokio::test]
async fn sweep_aws_unknown_state_machine() {
    moto();
    let dir = tempfile::tempdir().unwrap();
    // No credentials given: the loopback endpoint gets dummy ones.
    let arn = "arn:aws:states:us-east-1:123456789012:stateMachine:no-such-machine";
    let run = sweep_command(arn, None, &dir.path().join("out"))
        .output()
        .unwrap();
    assert_one_line_error(&run, &["does not exist", "--state-machine-arn"]);
}

#[test]
fn sweep_aws_malformed_arn() {
    let dir = tempfile::tempdir().unwrap();
    let run = sweep_command("my-state-machine", None, &dir.path().join("out"))
        .output()
        .unwrap();
    assert_one_line_error(&run, &["not a state machine ARN", "StateMachineArn"]);
}

/// `--architecture` on AWS names the stack's host function of each architecture: the
/// execution gets them as `architectures`, which the state machine resolves through its
/// `hostFunctions` (moto runs no Lambda task, so the machine here is a Pass that answers
/// with an analysis; the input it was given is the check).
#[tokio::test]
async fn sweep_aws_sends_the_architectures_to_sweep() {
    let output = sample_output();
    let definition = json!({
        "StartAt": "Analysis",
        "States": {"Analysis": {"Type": "Pass", "Result": output, "End": true}}
    });
    let machine = state_machine("architectures", definition).await;
    let dir = tempfile::tempdir().unwrap();
    let run = sweep_command(&machine.arn, Some(&machine), &dir.path().join("out"))
        .args(["--architecture", "x86_64,arm64"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let listed = machine
        .client
        .list_executions()
        .state_machine_arn(&machine.arn)
        .send()
        .await
        .unwrap();
    let execution = listed.executions().first().expect("one execution");
    let described = machine
        .client
        .describe_execution()
        .execution_arn(execution.execution_arn())
        .send()
        .await
        .unwrap();
    let input: Value = serde_json::from_str(described.input().unwrap()).unwrap();
    assert_eq!(
        input["architectures"],
        json!(["x86_64", "arm64"]),
        "{input}"
    );
    assert!(input.get("functionName").is_none(), "{input}");
}

#[test]
fn sweep_aws_architecture_and_function_name_exclude_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let run = sweep_command(
        "arn:aws:states:us-east-1:123456789012:stateMachine:powersweep",
        None,
        &dir.path().join("out"),
    )
    .args(["--architecture", "arm64", "--function-name", "mine"])
    .output()
    .unwrap();
    assert_one_line_error(&run, &["--function-name sweeps that one function"]);
    // The bcrypt preset sweeps both architectures: the same.
    let run = sweep_command(
        "arn:aws:states:us-east-1:123456789012:stateMachine:powersweep",
        None,
        &dir.path().join("out"),
    )
    .args(["--preset", "bcrypt-aws", "--function-name", "mine"])
    .output()
    .unwrap();
    assert_one_line_error(&run, &["leave --architecture and --preset out"]);
}

#[tokio::test]
async fn ctrl_c_leaves_the_execution_running_and_names_it() {
    let definition = json!({
        "StartAt": "Slow",
        "States": {"Slow": {"Type": "Wait", "Seconds": 60, "End": true}}
    });
    let machine = state_machine("slow", definition).await;
    let (client, arn) = (&machine.client, &machine.arn);
    let dir = tempfile::tempdir().unwrap();
    let child = sweep_command(arn, Some(&machine), &dir.path().join("out"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run powersweep");

    // Interrupt only once the execution exists, and the command has had time to follow it.
    let started = Instant::now();
    let execution_arn = loop {
        let listed = client
            .list_executions()
            .state_machine_arn(arn)
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

/// How far moto goes with Distributed Map, and the local engine beside it. moto 5.2 (with
/// LocalStack's interpreter inside) runs a Distributed Map and its `ResultWriter`, writing the
/// manifest but no result files; it runs no Lambda Task, so powersweep's own state machine
/// stops there at `Plan`, and the local engine runs that file whole. What moto does run is
/// checked against the local engine: the same events in the parent's history, the Map Run's
/// ARN `…:mapRun:<machine>/<Label>:<run id>`, the manifest at `<Prefix>/<run id>/manifest.json`,
/// and the manifest's fields.
#[tokio::test]
async fn moto_runs_a_distributed_map_as_the_local_engine_does() {
    // Bucket names are global in moto, whatever the account: one of this run's own.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let bucket = format!("powersweep-results-{nanos}");
    let definition = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "Label": "rounds",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                          "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                         "Parameters": {"Bucket": bucket, "Prefix": "runs"}},
        "End": true}}});
    let machine = state_machine("distributed", definition.clone()).await;
    // The bucket, in the state machine's account (moto reads the account from the key).
    http(
        moto(),
        &format!(
            "PUT /{bucket} HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential={}/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0\r\nX-Amz-Security-Token: {}",
            machine.key, machine.token
        ),
        "",
    );
    let started = machine
        .client
        .start_execution()
        .state_machine_arn(&machine.arn)
        .input("[1, 2, 3]")
        .send()
        .await
        .expect("start in moto");
    let execution = started.execution_arn();
    let deadline = Instant::now() + Duration::from_secs(30);
    let described = loop {
        let d = machine
            .client
            .describe_execution()
            .execution_arn(execution)
            .send()
            .await
            .unwrap();
        if d.status() != &ExecutionStatus::Running || Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        described.status(),
        &ExecutionStatus::Succeeded,
        "{described:?}"
    );
    let moto_out: Value = serde_json::from_str(described.output().unwrap()).unwrap();
    let history = machine
        .client
        .get_execution_history()
        .execution_arn(execution)
        .send()
        .await
        .unwrap();
    let moto_events: Vec<String> = history
        .events()
        .iter()
        .map(|e| e.r#type().as_str().to_owned())
        .collect();

    // The same definition on the local engine, with an S3 that keeps what is put.
    let put = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let kept = put.clone();
    let tasks = powersweep_asl::TaskRegistry::new().with(
        "arn:aws:states:::s3:putObject",
        powersweep_asl::handler_fn(move |r| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push(r.parameters);
                Ok(json!({}))
            }
        }),
    );
    let local_machine = powersweep_asl::StateMachine::parse(&definition.to_string()).unwrap();
    let local = powersweep_asl::Engine::new(tasks).start(&local_machine, json!([1, 2, 3]));
    let local_history = local.history().clone();
    let local_out = local
        .wait()
        .await
        .output()
        .cloned()
        .expect("the local run succeeds");
    let local_events: Vec<String> = local_history
        .snapshot()
        .iter()
        .map(|e| e.event_type.name())
        .collect();
    assert_eq!(local_events, moto_events);

    for out in [&moto_out, &local_out] {
        let arn = out["MapRunArn"].as_str().unwrap();
        let (head, run_id) = arn.rsplit_once(':').unwrap();
        assert!(
            head.contains(":mapRun:") && head.ends_with("/rounds"),
            "{out}"
        );
        assert_eq!(out["ResultWriterDetails"]["Bucket"], bucket.as_str());
        assert_eq!(
            out["ResultWriterDetails"]["Key"],
            format!("runs/{run_id}/manifest.json"),
            "{out}"
        );
    }
    let manifest = put
        .lock()
        .unwrap()
        .iter()
        .find(|p| {
            p["Key"]
                .as_str()
                .is_some_and(|k| k.ends_with("manifest.json"))
        })
        .cloned()
        .unwrap();
    let manifest: Value = serde_json::from_str(manifest["Body"].as_str().unwrap()).unwrap();
    let fields: Vec<&String> = manifest.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["DestinationBucket", "MapRunArn", "ResultFiles"]);
    let moto_manifest = http(
        moto(),
        &format!(
            "GET /{bucket}/{} HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential={}/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0\r\nX-Amz-Security-Token: {}",
            moto_out["ResultWriterDetails"]["Key"].as_str().unwrap(),
            machine.key,
            machine.token
        ),
        "",
    );
    for field in [
        "DestinationBucket",
        "MapRunArn",
        "ResultFiles",
        "SUCCEEDED",
        "FAILED",
        "PENDING",
    ] {
        assert!(moto_manifest.contains(field), "{moto_manifest}");
    }
}
