//! `invoke`, `guests` and `exec` as a user runs them: outputs, exit codes, one-line errors.

use serde_json::Value;
use std::process::{Command, Output};

fn powersweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_powersweep"))
        .current_dir(powersweep_test_support::root())
        .args(args)
        .output()
        .expect("run powersweep")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Failed commands say one line, starting with `error:`, and never show a backtrace.
fn one_line_error(out: &Output, code: i32, contains: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains(contains), "{err}");
    assert!(
        !err.contains("backtrace") && !err.contains("panicked at cli"),
        "{err}"
    );
}

#[test]
fn invoke_through_the_emulator_reports_like_lambda() {
    let out = powersweep(&[
        "invoke",
        "--workload",
        "pbkdf2",
        "--threads",
        "2",
        "--memory",
        "1024",
        "--payload",
        r#"{"iterations": 1000}"#,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let response: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(response["results"].as_array().map(Vec::len), Some(4));
    assert_eq!(response["memoryMb"], 1024);
    assert_eq!(response["cold"], true);
    let report = &response["report"];
    assert_eq!(report["memorySize"], 1024);
    assert!(report["duration"].as_f64().unwrap() > 0.0);
    assert!(
        report["billedDuration"].as_u64().unwrap() >= report["duration"].as_f64().unwrap() as u64
    );
    assert!(
        report["initDuration"].as_f64().is_some(),
        "a cold start has an Init Duration: {report}"
    );
    assert!(
        report["line"]
            .as_str()
            .unwrap()
            .starts_with("REPORT RequestId: ")
    );
    assert!(
        stderr(&out).contains("cpu: "),
        "says which CPU mode it used"
    );
}

#[test]
fn invoke_errors_are_one_line() {
    one_line_error(
        &powersweep(&["invoke", "--workload", "nope"]),
        1,
        "unknown workload `nope`",
    );
    one_line_error(
        &powersweep(&["invoke", "--workload", "pbkdf2", "--payload", "{bad"]),
        1,
        "--payload text is not valid JSON",
    );
    one_line_error(
        &powersweep(&["invoke", "--workload", "pbkdf2", "--threads", "0"]),
        1,
        "`threads` must be 1..=64",
    );
    one_line_error(
        &powersweep(&["invoke", "--workload", "pbkdf2", "--memory", "64"]),
        1,
        "--memory must be 128..=10240",
    );
    let panic = powersweep(&[
        "invoke",
        "--in-process",
        "--workload",
        "testbed",
        "--payload",
        r#"{"tasks":[{"mode":"panic"}]}"#,
    ]);
    one_line_error(&panic, 1, "task 0: wasm trap");
    let response: Value =
        serde_json::from_slice(&panic.stdout).expect("the response is still printed");
    assert_eq!(response["errors"][0]["kind"], "trap");
    let typo = powersweep(&[
        "invoke",
        "--in-process",
        "--workload",
        "pbkdf2",
        "--payload",
        r#"{"iterations": "many"}"#,
    ]);
    one_line_error(&typo, 1, "iterations: invalid type");
}

#[test]
fn a_workload_that_cannot_load_is_named_before_anything_runs() {
    let escape = powersweep(&["invoke", "--workload", "../pbkdf2"]);
    one_line_error(&escape, 1, "invalid workload name `../pbkdf2`");
    assert!(
        !stderr(&escape).contains("calibrating"),
        "{}",
        stderr(&escape)
    );
    // A file of the right name that is no component: the host's reason, not a failed job.
    let guests = tempfile::tempdir().unwrap();
    std::fs::write(guests.path().join("bad.wasm"), "not wasm").unwrap();
    let dir = guests.path().to_str().unwrap();
    let garbage = powersweep(&["invoke", "--guests", dir, "--workload", "bad"]);
    one_line_error(&garbage, 1, "workload `bad`: ");
    let err = stderr(&garbage);
    assert!(err.contains("is not a WebAssembly file"), "{err}");
    assert!(!err.contains("the job failed"), "{err}");
    // The obeyed side: a real component in the same folder runs.
    std::fs::copy(
        powersweep_test_support::guests_dir().join("pbkdf2.wasm"),
        guests.path().join("pbkdf2.wasm"),
    )
    .unwrap();
    let ok = powersweep(&[
        "invoke",
        "--in-process",
        "--guests",
        dir,
        "--workload",
        "pbkdf2",
        "--payload",
        r#"{"iterations": 1000}"#,
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
}

#[test]
fn guests_lists_every_workload_with_its_description() {
    let out = powersweep(&["guests"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["pbkdf2", "ddb-writer", "testbed"] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(name) && l.len() > name.len() + 10),
            "{text}"
        );
    }
}

#[test]
fn exec_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path.to_string_lossy().into_owned()
    };
    let ok = write(
        "ok.json",
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"Next":"P"},"P":{"Type":"Pass","Parameters":{"sum.$":"States.MathAdd($.a, 1)"},"End":true}}}"#,
    );
    let out = powersweep(&["exec", &ok, "--input", r#"{"a": 41}"#, "--virtual-time"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        serde_json::json!({"sum": 42})
    );
    let history = powersweep(&[
        "exec",
        &ok,
        "--input",
        r#"{"a": 1}"#,
        "--virtual-time",
        "--history",
    ]);
    let events: Value = serde_json::from_slice(&history.stdout).unwrap();
    assert!(
        events.to_string().contains("ExecutionSucceeded"),
        "{events}"
    );

    let fail = write(
        "fail.json",
        r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"on purpose"}}}"#,
    );
    let out = powersweep(&["exec", &fail]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        serde_json::json!({"error": "Boom", "cause": "on purpose"})
    );

    let bad = write(
        "bad.json",
        r#"{"StartAt":"Nowhere","States":{"P":{"Type":"Pass","End":true}}}"#,
    );
    one_line_error(&powersweep(&["exec", &bad]), 2, "Nowhere");
    one_line_error(&powersweep(&["exec", "/no/such.json"]), 2, "cannot read");
}

/// A guests folder with one good component beside a broken one and a FIFO.
fn mixed_guests() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        powersweep_test_support::guests_dir().join("testbed.wasm"),
        dir.path().join("testbed.wasm"),
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.wasm"), b"\0asm\x0d\0\x01\0 garbage").unwrap();
    let made = Command::new("mkfifo")
        .arg(dir.path().join("fifo.wasm"))
        .status()
        .unwrap();
    assert!(made.success());
    dir
}

#[test]
fn guests_names_unusable_files_without_hanging_on_a_fifo() {
    let dir = mixed_guests();
    let guests = dir.path().to_string_lossy().into_owned();
    let out = powersweep(&["guests", "--guests", &guests]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.lines()
            .any(|l| l.starts_with("fifo") && l.contains("not a regular file")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("broken") && l.contains("unusable")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("testbed") && l.contains("misbehaves")),
        "{text}"
    );
}

#[test]
fn one_unusable_component_leaves_the_others_invocable_through_the_emulator() {
    let dir = mixed_guests();
    let guests = dir.path().to_string_lossy().into_owned();
    let out = powersweep(&[
        "invoke",
        "--guests",
        &guests,
        "--cpu-mode",
        "cgroup",
        "--workload",
        "testbed",
        "--payload",
        r#"{"tasks":[{"mode":"echo"}]}"#,
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    // Only the workload invoked is loaded (and precompiled): `powersweep guests` is where the
    // broken one is named.
    assert!(!err.contains("broken"), "{err}");
    let response: Value = serde_json::from_slice(&out.stdout).expect("JSON response");
    assert_eq!(response["errors"], serde_json::json!([]), "{response}");
}

#[test]
fn text_from_a_workload_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_string_lossy().into_owned();
    let out = powersweep(&[
        "sweep",
        "--cpu-mode",
        "in-process",
        "--workload",
        "testbed",
        "--payload",
        "{\"planError\":\"plain \\u001b[2J\\u001b[31mred\\r\\nsecond line\"}",
        "--memory",
        "1024",
        "--threads",
        "1",
        "--repetitions",
        "1",
        "--out",
        &out_dir,
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "a raw escape reached stderr: {err:?}"
    );
    let error_line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line: {err:?}"));
    assert!(error_line.contains("\\u{1b}[2J"), "{err:?}");
    assert!(error_line.ends_with("second line"), "one line: {err:?}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(!table.contains('\u{1b}'), "{table:?}");

    // `invoke` prints a failed job's first error itself.
    let out = powersweep(&[
        "invoke",
        "--in-process",
        "--workload",
        "testbed",
        "--payload",
        "{\"planError\":\"plain \\u001b[2J\\u001b[31mred\\r\\nsecond line\"}",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "a raw escape reached stderr: {err:?}"
    );
    assert!(err.contains("\\u{1b}[2J"), "{err:?}");
}

#[test]
fn an_in_process_deadline_ends_a_blocking_host_call() {
    let started = std::time::Instant::now();
    let out = powersweep(&[
        "invoke",
        "--in-process",
        "--workload",
        "testbed",
        "--timeout",
        "2",
        "--payload",
        r#"{"tasks":[{"mode":"sleep","ms":30000}]}"#,
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("Sandbox.Timedout"), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "the 30 s sleep was waited out: {err}"
    );
    // The obeyed side: a sleep inside the timeout returns its answer.
    let out = powersweep(&[
        "invoke",
        "--in-process",
        "--workload",
        "testbed",
        "--timeout",
        "2",
        "--payload",
        r#"{"tasks":[{"mode":"sleep","ms":200}]}"#,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn lambdas_smallest_memory_size_starts_under_a_cpu_cap() {
    // At 128 MB an environment gets 0.07 vCPU; compiling the guests there took ~10 s and
    // INIT timed out. They are precompiled outside the capped process now.
    let out = powersweep(&[
        "invoke",
        "--cpu-mode",
        "cgroup",
        "--memory",
        "128",
        "--workload",
        "pbkdf2",
        "--payload",
        r#"{"iterations":1000,"passwords":["a"]}"#,
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let response: Value = serde_json::from_slice(&out.stdout).expect("JSON response");
    assert_eq!(response["errors"], serde_json::json!([]), "{response}");
    let init = response["report"]["initDuration"]
        .as_f64()
        .unwrap_or_else(|| panic!("a cold start reports its INIT: {response}"));
    assert!(init < 10_000.0, "INIT within Lambda's 10 s: {init} ms");
}

#[test]
fn exec_enforces_aws_quotas_unless_lifted() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.json");
    let comment = "x".repeat(1_100_000);
    std::fs::write(
        &huge,
        format!(r#"{{"StartAt":"P","States":{{"P":{{"Type":"Pass","Comment":"{comment}","End":true}}}}}}"#),
    )
    .unwrap();
    let huge = huge.to_string_lossy().into_owned();
    let out = powersweep(&["exec", &huge]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("is larger than 1048576 bytes, AWS's quota on a state machine definition"),
        "{}",
        stderr(&out)
    );
    let out = powersweep(&["exec", &huge, "--lift-quotas"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let looping = dir.path().join("loop.json");
    std::fs::write(
        &looping,
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":0,"Next":"C"},
        "C":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":false,"Next":"W"}],"Default":"D"},
        "D":{"Type":"Succeed"}}}"#,
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = powersweep(&["exec", &looping.to_string_lossy(), "--virtual-time"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["error"], "States.Runtime");
    assert_eq!(
        outcome["cause"],
        "The execution reached the maximum number of history events (25000)."
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn an_installed_binary_runs_from_any_directory() {
    // No checkout here: the state machine and the shipped workloads come from the binary.
    let cwd = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_powersweep"))
            .current_dir(cwd.path())
            .env("XDG_CACHE_HOME", cache.path())
            .env_remove("POWERSWEEP_GUESTS")
            .args(args)
            .output()
            .expect("run powersweep")
    };
    let out = run(&["guests"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["bcrypt", "ddb-writer", "pbkdf2"], "{listed}");

    let out = run(&[
        "sweep",
        "--cpu-mode",
        "in-process",
        "--memory",
        "1024",
        "--threads",
        "1",
        "--repetitions",
        "1",
        "--payload",
        r#"{"iterations":1000,"passwords":["a"]}"#,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(cwd.path().join("powersweep-out/results.json").is_file());
}
