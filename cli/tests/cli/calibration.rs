//! Calibration runs the workload in the command's own process, where no Lambda ends it: it
//! must keep the job's limits all the same. A job that spins or sleeps past its timeout, or
//! allocates past the largest memory size swept, is given up on within seconds (not
//! calibrated, with the reason) instead of holding the command or taking the machine's
//! memory, and its invocations fail as Lambda's would.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `powersweep <args>` in the checkout, killing it (and failing) after `limit`; the
/// output and the process's peak resident memory, kB (VmHWM, read while it ran).
fn run_watched(args: &[&str], limit: Duration) -> (Output, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_powersweep"))
        .current_dir(powersweep_test_support::root())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run powersweep");
    let status = format!("/proc/{}/status", child.id());
    let started = Instant::now();
    let mut peak_kb = 0;
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("`powersweep {}` still ran after {limit:?}", args.join(" "));
        }
        let hwm = std::fs::read_to_string(&status).unwrap_or_default();
        if let Some(kb) = hwm
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().expect("output"), peak_kb)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn invoke(timeout: &str, memory: &str, task: &str) -> (Output, u64) {
    let payload = format!(r#"{{"tasks":[{task}]}}"#);
    run_watched(
        &[
            "invoke",
            "--workload",
            "testbed",
            "--timeout",
            timeout,
            "--memory",
            memory,
            "--payload",
            &payload,
        ],
        Duration::from_secs(60),
    )
}

fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stderr(out)))
}

#[test]
fn a_job_that_spins_or_sleeps_past_its_timeout_is_not_calibrated_and_times_out() {
    // Guest code: stopped at 2 × the 2 s timeout × 1 thread; the invocation then times out
    // as on Lambda, its Duration the timeout.
    let (out, _) = invoke("2", "512", r#"{"mode":"spin"}"#);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("warning: the calibration cannot be trusted: the job did not finish within 4.0 s alone on one thread"),
        "{err}"
    );
    let printed = stdout_json(&out);
    assert_eq!(printed["report"]["duration"], 2000.0, "{printed}");
    assert!(err.contains("Sandbox.Timedout"), "{err}");
    // A blocking host call the host cannot interrupt: calibration stops waiting for it.
    let started = Instant::now();
    let (out, _) = invoke("1", "512", r#"{"mode":"sleep","ms":600000}"#);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("the job did not finish within 2.0 s"), "{err}");
    assert!(err.contains("Sandbox.Timedout"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "the 600 s sleep held the command for {:?}",
        started.elapsed()
    );
}

#[test]
fn calibration_gives_the_job_no_more_memory_than_the_largest_size_swept() {
    // Violated: 4,000 MB at 128 MB is refused by the guest's memory limit, in calibration
    // and in the invocation.
    let (out, peak_kb) = invoke("10", "128", r#"{"mode":"alloc","mb":4000}"#);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the job needs more memory than the largest size swept, 128 MB"),
        "{err}"
    );
    assert!(
        peak_kb < 1024 * 1024,
        "the command reached {peak_kb} kB with a job limited to 128 MB"
    );
    // Obeyed: 64 MB fits in 128 MB, and the job is answered.
    let (out, _) = invoke("10", "128", r#"{"mode":"alloc","mb":64}"#);
    assert!(out.status.success(), "{}", stderr(&out));
}
