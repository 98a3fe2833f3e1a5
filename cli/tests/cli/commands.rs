//! `invoke`, `guests` and `exec` as a user runs them: outputs, exit codes, one-line errors.

use serde_json::Value;
use std::process::{Command, Output};

fn powersweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_powersweep"))
        .current_dir(powersweep_tests::root())
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
