//! power-tuning's execution options on `powersweep sweep`, end to end through the real state
//! machine on the local engine and emulator: `--probe` (dryRun), `--only-cold-starts`,
//! weighted payloads, `--allowed-exceptions`, `--sleep-between-runs-ms`, `--auto-optimize`
//! with an alias, `--include-samples`, and `--dry-run` (the estimate alone).

use crate::sweep::{history_line, read_results, row, sweep, testbed_sweep, text};

/// Skips the calibration (a fixed speed): these tests are about the options, not the model.
const FIXED_CALIBRATION: &str = "30000000";

#[test]
fn cold_starts_weighted_payloads_pauses_samples_and_an_optimized_alias() {
    let dir = tempfile::tempdir().unwrap();
    // Two payloads of the same job, one twice the work of the other, one round each.
    let payload = r#"[
        {"payload": {"iterations": 20000, "passwords": ["a", "b", "c", "d"]}, "weight": 1},
        {"payload": {"iterations": 40000, "passwords": ["a", "b", "c", "d"]}, "weight": 1}]"#;
    let started = std::time::Instant::now();
    let out = sweep(
        dir.path(),
        &[
            "--payload",
            payload,
            "--memory",
            "3008",
            "--threads",
            "1,2",
            "--repetitions",
            "2",
            "--strategy",
            "speed",
            "--calibration",
            FIXED_CALIBRATION,
            "--only-cold-starts",
            "--sleep-between-runs-ms",
            "1",
            "--include-samples",
            "--auto-optimize",
            "--auto-optimize-alias",
            "live",
        ],
    );
    let stderr = text(&out.stderr);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{stdout}");
    // The estimate came first, and the engine counted what it said.
    assert!(stderr.contains("4 invocations of pbkdf2"), "{stderr}");
    assert!(stderr.contains("4 versions published"), "{stderr}");
    assert!(
        stderr.contains("a 1 s pause before each invocation"),
        "{stderr}"
    );
    let (events, transitions, estimated, estimated_transitions) = history_line(&stderr);
    assert_eq!(
        (events, transitions),
        (estimated, estimated_transitions),
        "{stderr}"
    );
    // Four pauses of a second, two at a time at most.
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));

    let results = read_results(dir.path());
    for threads in [1, 2] {
        let r = row(&results, 3008, threads);
        assert_eq!(
            (r["n"].as_u64(), r["coldStarts"].as_u64()),
            (Some(2), Some(2)),
            "{r}"
        );
    }
    let samples = results["samples"].as_array().expect("--include-samples");
    assert_eq!(samples.len(), 4, "{results}");
    assert!(samples.iter().all(|s| s["cold"] == true), "{results}");
    // Each configuration ran each payload once: the durations differ about twofold.
    for threads in [1, 2] {
        let mut ms: Vec<f64> = samples
            .iter()
            .filter(|s| s["threads"] == threads)
            .filter_map(|s| s["durationMs"].as_f64())
            .collect();
        ms.sort_by(f64::total_cmp);
        assert!(ms.len() == 2 && ms[1] / ms[0] > 1.6, "{threads}: {ms:?}");
    }

    // Two threads win on speed at 3,008 MB; the alias runs that without being told.
    let optimized = &results["autoOptimized"];
    assert_eq!(optimized["memoryMb"], 3008, "{results}");
    assert_eq!(optimized["threads"], 2, "{results}");
    assert_eq!(optimized["alias"], "live", "{results}");
    let version = optimized["version"].as_str().expect("a version");
    assert!(
        stdout.contains(&format!(
            "auto-optimized: $LATEST and version {version} (alias live) have 3008 MB, POWERSWEEP_THREADS=2"
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "checked: a job through alias live (version {version}) without `threads` ran on 2 thread(s) at 3008 MB"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("cleanup: 0 published versions left (and the auto-optimized one)"),
        "{stderr}"
    );
}

#[test]
fn a_probe_invokes_each_configuration_once_and_analyzes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let args = |payload: &'static str| {
        vec![
            "--cpu-mode",
            "in-process",
            "--workload",
            "testbed",
            "--payload",
            payload,
            "--memory",
            "256,512",
            "--threads",
            "1,2",
            "--repetitions",
            "9",
            "--probe",
        ]
    };
    let out = sweep(dir.path(), &args(r#"{"tasks":[{"mode":"echo"}]}"#));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains(" MB × ")).collect();
    assert_eq!(lines.len(), 4, "one invocation per configuration: {stdout}");
    assert!(lines.iter().all(|l| l.contains("ok, ")), "{stdout}");
    assert!(!dir.path().join("results.json").exists(), "no analysis");

    let out = sweep(dir.path(), &args(r#"{"tasks":[{"mode":"error"}]}"#));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("4 of 4 configurations failed"), "{stderr}");
    assert!(
        text(&out.stdout).contains("Job.guest"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn allowed_exceptions_count_as_measurements() {
    let dir = tempfile::tempdir().unwrap();
    let failing = r#"{"tasks":[{"mode":"error"}]}"#;
    let strict = testbed_sweep(dir.path(), failing, "512", "2");
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));

    let out = sweep(
        dir.path(),
        &[
            "--cpu-mode",
            "in-process",
            "--workload",
            "testbed",
            "--payload",
            failing,
            "--memory",
            "512",
            "--threads",
            "1",
            "--repetitions",
            "2",
            "--allowed-exceptions",
            "Job.trap,Job.guest",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r = row(&read_results(dir.path()), 512, 1).clone();
    assert_eq!(
        (r["errors"].as_u64(), r["allowedErrors"].as_u64()),
        (Some(0), Some(2)),
        "{r}"
    );
    assert!(r["trimmedMeanMs"].as_f64().is_some(), "{r}");
}

#[test]
fn dry_run_prints_the_estimate_and_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = sweep(dir.path(), &["--dry-run", "--only-cold-starts"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for expected in [
        "30 invocations of pbkdf2",
        "30 versions published",
        "requests",
        "GB-s per second",
        "state transitions",
        "history: about",
    ] {
        assert!(stdout.contains(expected), "{expected}: {stdout}");
    }
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
    assert!(!dir.path().join("results.json").exists());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
