//! `powersweep sweep` end to end on small parameters: the real ASL file on the local engine,
//! the emulator, and the host started as `bootstrap` through the Runtime API.

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};

pub(crate) fn sweep(out: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_powersweep"))
        .current_dir(powersweep_test_support::root())
        .arg("sweep")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run powersweep")
}

pub(crate) fn read_results(out: &Path) -> Value {
    let text = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    serde_json::from_str(&text).expect("results.json is JSON")
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(crate) fn row(results: &Value, memory: u64, threads: u64) -> &Value {
    results["rows"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["memoryMb"] == memory && r["threads"] == threads)
        })
        .unwrap_or_else(|| panic!("no row for {memory} MB × {threads} threads in {results}"))
}

#[test]
fn small_pbkdf2_sweep_has_every_row_and_leaves_no_version() {
    let dir = tempfile::tempdir().unwrap();
    let out = sweep(
        dir.path(),
        &[
            "--workload",
            "pbkdf2",
            "--payload",
            r#"{"iterations": 2000}"#,
            "--memory",
            "256,512,1024",
            "--threads",
            "1,2",
            "--repetitions",
            "2",
        ],
    );
    let stderr = text(&out.stderr);
    assert!(
        out.status.success(),
        "stderr: {stderr}\nstdout: {}",
        text(&out.stdout)
    );
    assert!(
        stderr.contains("cleanup: 0 published versions left, host memory back at 1769 MB"),
        "{stderr}"
    );
    let results = read_results(dir.path());
    assert_eq!(
        results["rows"].as_array().map(Vec::len),
        Some(6),
        "{results}"
    );
    for memory in [256, 512, 1024] {
        for threads in [1, 2] {
            let r = row(&results, memory, threads);
            assert_eq!(
                (r["n"].as_u64(), r["errors"].as_u64()),
                (Some(2), Some(0)),
                "{r}"
            );
        }
    }
    for file in ["results.json", "results.csv", "report.html"] {
        assert!(dir.path().join(file).exists(), "{file}");
    }
}

#[test]
fn memory_sizes_beyond_the_machines_cores_are_marked_capped() {
    let dir = tempfile::tempdir().unwrap();
    // At 128 MB per vCPU, 10,240 MB asks for 80 vCPUs: more than any machine here has.
    let out = sweep(
        dir.path(),
        &[
            "--workload",
            "pbkdf2",
            "--payload",
            r#"{"iterations": 1000}"#,
            "--memory",
            "128,10240",
            "--threads",
            "1",
            "--repetitions",
            "1",
            "--vcpu-mb",
            "128",
            "--cpu-mode",
            "auto",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let results = read_results(dir.path());
    let cores = std::thread::available_parallelism().unwrap().get() as f64;
    assert_eq!(
        row(&results, 10240, 1)["cappedVcpus"].as_f64(),
        Some(cores),
        "{results}"
    );
    assert!(
        row(&results, 128, 1).get("cappedVcpus").is_none(),
        "{results}"
    );
    assert_eq!(results["local"]["vcpuMb"], 128.0, "{results}");
    assert!(results["local"]["cpuMode"].is_string(), "{results}");
    let capped_line = stdout
        .lines()
        .find(|l| l.contains("10240"))
        .unwrap_or_default();
    assert!(capped_line.contains("capped at"), "{stdout}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        html.contains("capped at"),
        "report.html does not mark the capped row"
    );
}

#[test]
fn the_model_mode_caps_nothing_and_says_how_durations_were_made() {
    let dir = tempfile::tempdir().unwrap();
    // At 128 MB per vCPU, 10,240 MB is 80 vCPUs on Lambda's 6 cores: the model gives it the
    // cores, which no machine here has, so 4 tasks on 4 threads take a quarter of 1 thread.
    // A fluid share (no CFS period): within a period a short job may burst onto both cores
    // of 128 MB, which the unit tests of the scheduler cover.
    let out = sweep(
        dir.path(),
        &[
            "--workload",
            "pbkdf2",
            "--payload",
            r#"{"iterations": 20000, "passwords": ["a", "b", "c", "d"]}"#,
            "--memory",
            "128,10240",
            "--threads",
            "1,4",
            "--repetitions",
            "1",
            "--vcpu-mb",
            "128",
            "--calibration-seconds",
            "0.5",
            "--cfs-period-ms",
            "0",
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(stderr.contains("calibration: "), "{stderr}");
    let results = read_results(dir.path());
    assert_eq!(results["local"]["cpuMode"], "model", "{results}");
    let model = &results["local"]["model"];
    assert!(
        model["calibration"]["unitsPerMs"].as_f64().unwrap() > 0.0,
        "{results}"
    );
    assert!(
        model["latency"].as_str().unwrap().contains("put-item"),
        "{results}"
    );
    let ms = |m, t| row(&results, m, t)["trimmedMeanMs"].as_f64().unwrap();
    for (m, t) in [(128, 1), (128, 4), (10240, 1), (10240, 4)] {
        let r = row(&results, m, t);
        assert!(r.get("cappedVcpus").is_none(), "{r}");
        assert!(r["modeled"]["workMs"].as_f64().unwrap() > 0.0, "{r}");
    }
    // The same work gives these ratios whatever the machine's speed (fuel is counted).
    let speedup = ms(10240, 1) / ms(10240, 4);
    assert!((speedup - 4.0).abs() < 0.05, "{speedup}");
    assert!(
        (ms(128, 1) / ms(128, 4) - 1.0).abs() < 0.02,
        "one vCPU: threads do not help"
    );
    assert!(stdout.contains("modeled from measured work"), "{stdout}");
    assert!(!stdout.contains("capped"), "{stdout}");
}

/// A two-size, three-round PBKDF2 sweep at a given speed (no calibration to differ).
fn repeated_pbkdf2(out: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "--workload",
        "pbkdf2",
        "--payload",
        r#"{"iterations": 20000, "passwords": ["a", "b"]}"#,
        "--memory",
        "512,1024",
        "--threads",
        "1",
        "--repetitions",
        "3",
        "--calibration",
        "30000000",
        // Given, so that neither run times the reference kernel (alone, its fast end moves
        // by a percent or so with the load of the other tests).
        "--vcpu-speed",
        "1",
    ];
    args.extend_from_slice(extra);
    let done = sweep(out, &args);
    assert!(done.status.success(), "stderr: {}", text(&done.stderr));
    let mut results = read_results(out);
    results["stdout"] = text(&done.stdout).into();
    results
}

#[test]
fn repeats_of_a_job_without_host_calls_are_answered_from_its_runs_and_model_the_same() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let reused = repeated_pbkdf2(a.path(), &[]);
    let every = repeated_pbkdf2(b.path(), &["--no-reuse"]);
    let count = |results: &Value| -> u64 {
        results["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["modeled"]["reused"].as_u64().unwrap())
            .sum()
    };
    // Round 1 runs both sizes (cold starts always run, and confirm the work twice); the
    // later rounds are answered from the 512 MB run, which fits both sizes.
    assert_eq!(count(&reused), 4, "{reused}");
    let stdout = reused["stdout"].as_str().unwrap();
    assert!(
        stdout.contains("reused: 4 jobs were answered from an earlier run"),
        "{stdout}"
    );
    assert_eq!(count(&every), 0, "{every}");
    assert!(!every["stdout"].as_str().unwrap().contains("reused:"));
    for memory in [512, 1024] {
        let ms = |r: &Value| row(r, memory, 1)["trimmedMeanMs"].as_f64().unwrap();
        let (x, y) = (ms(&reused), ms(&every));
        // The same fuel; only the host's own CPU outside guest code (measured) differs.
        assert!(
            (x / y - 1.0).abs() < 0.01,
            "{memory} MB: {x} ms reused vs {y} ms run every time"
        );
        assert!(
            row(&reused, memory, 1)["modeled"]["measuredMs"]
                .as_f64()
                .unwrap()
                > 0.0,
            "the jobs that ran were measured"
        );
    }
}

#[test]
fn bad_model_flags_are_one_line_errors_before_any_invocation() {
    let dir = tempfile::tempdir().unwrap();
    for (flags, expected) in [
        (
            vec!["--io-latency", "get-item=5"],
            "unknown latency key `get-item`",
        ),
        (vec!["--io-latency", "put-item=-2"], "positive"),
        (vec!["--io-latency", "put-item=fast"], "not a number"),
        (vec!["--vcpu-speed", "0"], "--vcpu-speed"),
        (
            vec!["--vcpu-speed", "1e300"],
            "--vcpu-speed must be a factor of 0.01–100",
        ),
        (vec!["--calibration=-5"], "--calibration must be 1–1e12"),
        (
            vec!["--calibration", "1e-300"],
            "--calibration must be 1–1e12",
        ),
        (vec!["--cross-check", "--cpu-mode", "auto"], "--cross-check"),
        (
            vec!["--cross-check", "--vcpu-speed", "2"],
            "--cross-check runs the model on this machine's core",
        ),
        (
            vec!["--cfs-period-ms=-1"],
            "--cfs-period-ms must be 0 (a fluid share) or 1–1000 ms",
        ),
        (
            vec!["--cfs-period-ms", "1001"],
            "--cfs-period-ms must be 0 (a fluid share) or 1–1000 ms",
        ),
        (
            vec!["--cfs-period-ms", "NaN"],
            "--cfs-period-ms must be 0 (a fluid share) or 1–1000 ms",
        ),
        (
            vec!["--cfs-period-ms", "0.5"],
            "--cfs-period-ms must be 0 (a fluid share) or 1–1000 ms",
        ),
        (
            vec!["--cfs-period-ms", "0", "--cpu-mode", "cgroup"],
            "a CPU-capped mode needs a period of 1–1000 ms",
        ),
        (
            vec!["--cfs-period-ms", "0", "--cross-check"],
            "a CPU-capped mode needs a period of 1–1000 ms",
        ),
    ] {
        let mut args = vec!["--memory", "512", "--threads", "1", "--repetitions", "1"];
        args.extend(flags.iter().copied());
        let out = sweep(dir.path(), &args);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{flags:?} was accepted");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{flags:?}: {stderr}");
        assert!(errors[0].contains(expected), "{flags:?}: {stderr}");
        assert!(
            !stderr.contains("calibrating"),
            "{flags:?} checked too late: {stderr}"
        );
    }
}

#[test]
fn out_of_memory_and_timeout_are_error_rows() {
    let dir = tempfile::tempdir().unwrap();
    // 200 MB of guest memory does not fit in 128 MB and fits in 512 MB.
    let payload = r#"{"tasks": [{"mode": "alloc", "mb": 200}]}"#;
    let out = sweep(
        dir.path(),
        &[
            "--workload",
            "testbed",
            "--payload",
            payload,
            "--memory",
            "128,512",
            "--threads",
            "1",
            "--repetitions",
            "1",
        ],
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let results = read_results(dir.path());
    assert_eq!(row(&results, 128, 1)["errors"], 1, "{results}");
    assert_eq!(row(&results, 512, 1)["errors"], 0, "{results}");

    // A host call that sleeps past the 1 s timeout: Lambda's own timeout kills it.
    let dir = tempfile::tempdir().unwrap();
    let payload = r#"{"tasks": [{"mode": "sleep", "ms": 2500}]}"#;
    let out = sweep(
        dir.path(),
        &[
            "--workload",
            "testbed",
            "--payload",
            payload,
            "--memory",
            "256",
            "--threads",
            "1",
            "--repetitions",
            "1",
            "--timeout",
            "1",
        ],
    );
    // Its only row failed, so the sweep exits 1 (nothing to recommend) and keeps the row.
    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));
    let results = read_results(dir.path());
    let r = row(&results, 256, 1);
    assert_eq!(r["errors"], 1, "{r}");
    assert_eq!(r["error"], "Sandbox.Timedout", "{r}");
}

#[test]
fn dynamodb_writer_sweep_leaves_exactly_the_expected_items() {
    let url = powersweep_test_support::moto_url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let table = rt.block_on(async {
        let client = powersweep_test_support::dynamodb(url).await;
        powersweep_test_support::create_table(&client, "sweep-writer").await
    });
    let dir = tempfile::tempdir().unwrap();
    let payload =
        format!(r#"{{"table": "{table}", "items": 20, "mode": "single", "runId": "e2e"}}"#);
    let out = sweep(
        dir.path(),
        &[
            "--preset",
            "dynamodb-2019",
            "--payload",
            &payload,
            "--memory",
            "512,1024",
            "--threads",
            "1,2",
            "--repetitions",
            "3",
            "--allow-table",
            &table,
            "--dynamodb-endpoint",
            url,
        ],
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let results = read_results(dir.path());
    for r in results["rows"].as_array().unwrap() {
        assert_eq!(r["errors"], 0, "{r}");
        assert_eq!(
            r["modeled"]["reused"], 0,
            "a job that writes always runs: {r}"
        );
    }
    let items = rt.block_on(async {
        let client = powersweep_test_support::dynamodb(url).await;
        powersweep_test_support::scan_all(&client, &table).await
    });
    // 2 memory sizes × 2 thread counts × 3 repetitions × 20 items.
    assert_eq!(items.len(), 240);
    let mut per_rk = std::collections::BTreeMap::new();
    for item in &items {
        assert!(item["pk"].as_s().unwrap().starts_with("e2e#"));
        *per_rk
            .entry(item["rk"].as_n().unwrap().parse::<u64>().unwrap())
            .or_insert(0) += 1;
    }
    assert_eq!(per_rk.len(), 20);
    assert!(
        per_rk.values().all(|n| *n == 12),
        "each index once per invocation: {per_rk:?}"
    );
}

#[test]
fn bad_plans_are_rejected_before_any_invocation() {
    let dir = tempfile::tempdir().unwrap();
    for (args, message) in [
        (vec!["--workload", "nope"], "unknown workload `nope`"),
        (
            vec!["--workload", "../nope"],
            "invalid workload name `../nope`",
        ),
        (vec!["--memory", "64"], "outside Lambda's 128–10240 MB"),
        (vec!["--memory", "20000"], "outside Lambda's 128–10240 MB"),
        (vec!["--threads", "0"], "--threads 0 is outside 1–64"),
        (vec!["--threads", "65"], "--threads 65 is outside 1–64"),
        (
            vec!["--repetitions", "0"],
            "--repetitions must be at least 1",
        ),
        (
            vec!["--balanced-weight", "2"],
            "--balanced-weight must be between 0 and 1",
        ),
        (
            vec!["--payload", "{nope"],
            "--payload text is not valid JSON",
        ),
        (
            vec!["--repetitions", "1001", "--only-cold-starts"],
            "Step Functions history events",
        ),
        (
            vec!["--auto-optimize", "--auto-optimize-alias", "42"],
            "--auto-optimize-alias: \"42\" is all digits",
        ),
        (
            vec!["--auto-optimize", "--auto-optimize-alias", "my alias"],
            "may hold only letters, digits",
        ),
        (
            vec![
                "--payload",
                r#"[{"payload": {}, "weight": 1}, {"payload": {}, "weight": 0}]"#,
            ],
            "--payload: weighted payload 1: `weight` must be a number above 0, found 0",
        ),
        (
            vec!["--payload", r#"[{"payload": {}, "weight": -2}]"#],
            "`weight` must be a number above 0, found -2",
        ),
        (
            vec!["--allowed-exceptions", "Job.guest,,Job.trap"],
            "--allowed-exceptions: item 1 must be a non-empty error name",
        ),
        (
            vec!["--probe", "--auto-optimize"],
            "nothing for --auto-optimize or --cross-check to use",
        ),
        (
            vec!["--sleep-between-runs-ms", "-1"],
            "--sleep-between-runs-ms: must be a number of ms from 0",
        ),
        (vec!["--vcpu-mb", "1e300"], "got 1e300"),
        (vec!["--vcpu-mb", "NaN"], "--vcpu-mb must be a number of MB"),
        (
            vec!["--payload", "null"],
            "--payload null: give a JSON object",
        ),
        (
            vec!["--preset", "pbkdf2-2019", "--workload", "testbed"],
            "give --payload for `testbed` too",
        ),
        (
            vec!["--payload", "@/dev/zero"],
            "`/dev/zero` is not a regular file",
        ),
    ] {
        let out = sweep(dir.path(), &args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
        assert!(!dir.path().join("results.json").exists());
    }
    let out = sweep(dir.path(), &["--strategy", "cheapest"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap rejects an invalid strategy as usage"
    );
    assert!(text(&out.stderr).contains("invalid value 'cheapest'"));
}

#[test]
fn a_bad_out_is_refused_before_any_invocation() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    for (out, message) in [
        (file.clone(), "is a file, not a folder"),
        (file.join("below"), "cannot create the folder"),
        ("/proc/powersweep-out".into(), "cannot create the folder"),
    ] {
        let started = std::time::Instant::now();
        let result = sweep(&out, &[]);
        let stderr = text(&result.stderr);
        assert_eq!(result.status.code(), Some(1), "{}: {stderr}", out.display());
        assert!(stderr.contains(message), "{}: {stderr}", out.display());
        assert!(
            !stderr.contains("calibrating"),
            "checked before any work: {stderr}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}

/// An in-process sweep of the testbed at one thread: fast, and whatever `payload` asks of it.
pub(crate) fn testbed_sweep(out: &Path, payload: &str, memory: &str, repetitions: &str) -> Output {
    testbed_sweep_with(out, payload, memory, repetitions, &[])
}

/// [`testbed_sweep`] with more flags.
pub(crate) fn testbed_sweep_with(
    out: &Path,
    payload: &str,
    memory: &str,
    repetitions: &str,
    more: &[&str],
) -> Output {
    let mut args = vec![
        "--cpu-mode",
        "in-process",
        "--workload",
        "testbed",
        "--payload",
        payload,
        "--memory",
        memory,
        "--threads",
        "1",
        "--repetitions",
        repetitions,
    ];
    args.extend_from_slice(more);
    sweep(out, &args)
}

#[test]
fn prices_follow_the_architecture_the_function_reports() {
    let echo = r#"{"tasks":[{"mode":"echo"}]}"#;
    let mut prices = Vec::new();
    for architecture in [None, Some("arm64")] {
        let dir = tempfile::tempdir().unwrap();
        let more: Vec<&str> = architecture
            .map(|a| ["--architecture", a])
            .into_iter()
            .flatten()
            .collect();
        let out = testbed_sweep_with(dir.path(), echo, "1024", "2", &more);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let results = read_results(dir.path());
        assert_eq!(
            results["architecture"],
            architecture.unwrap_or("x86_64"),
            "{results}"
        );
        prices.push(results["pricing"]["gbSecondUsd"].as_f64().unwrap());
        // Lambda's own figures reached the row: REPORT durations, its memory, cores and INIT.
        let r = row(&results, 1024, 1);
        assert_eq!(r["durationSource"], "lambdaReport", "{r}");
        assert_eq!(
            (r["coldStarts"].as_u64(), r["vcpus"].as_u64()),
            (Some(1), Some(2)),
            "{r}"
        );
        assert!(r["meanInitMs"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["maxMemoryUsedMb"].as_u64().unwrap() > 0, "{r}");
        assert!(r["initCostUsd"].as_f64().unwrap() > 0.0, "{r}");
    }
    // Graviton's GB-second is 20% cheaper.
    assert!(prices[1] < prices[0] * 0.85, "{prices:?}");
}

#[test]
fn a_sweep_in_which_everything_failed_exits_1_and_keeps_its_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = testbed_sweep(dir.path(), r#"{"tasks":[{"mode":"error"}]}"#, "1024", "1");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("every invocation of every configuration failed"),
        "{stderr}"
    );
    assert!(stderr.contains("the task failed on purpose"), "{stderr}");
    let results = read_results(dir.path());
    assert_eq!(row(&results, 1024, 1)["errors"], 1);
}

#[test]
fn a_sweep_with_one_good_row_exits_0() {
    // The obeyed side of the pair above: errors in some rows are results, not a failure.
    let dir = tempfile::tempdir().unwrap();
    let out = testbed_sweep(
        dir.path(),
        r#"{"tasks":[{"mode":"alloc","mb":300}]}"#,
        "256,1024",
        "1",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let results = read_results(dir.path());
    assert_eq!(row(&results, 256, 1)["errors"], 1, "{results}");
    assert_eq!(row(&results, 1024, 1)["errors"], 0, "{results}");
}

/// `history: N events, T state transitions; estimated N' and T' …` of a sweep's stderr:
/// (N, T, N', T').
pub(crate) fn history_line(stderr: &str) -> (u64, u64, u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("history: "))
        .unwrap_or_else(|| panic!("no history line: {stderr}"));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[1], numbers[2], numbers[3])
}

/// What still grows with repetitions is the execution's own history when every invocation
/// publishes its version (`--only-cold-starts`); the rounds are child executions, so
/// without it the same plan fits.
#[test]
fn a_plan_past_the_history_quota_is_refused_and_the_largest_accepted_one_runs() {
    let dir = tempfile::tempdir().unwrap();
    let echo = r#"{"tasks":[{"mode":"echo"}]}"#;
    let cold = |repetitions: &str| {
        testbed_sweep_with(
            dir.path(),
            echo,
            "256,512",
            repetitions,
            &["--only-cold-starts"],
        )
    };
    let refused = cold("1000");
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Step Functions history events"), "{stderr}");
    let fits: String = stderr
        .split("--repetitions ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no repetitions that fit: {stderr}"))
        .to_string();
    assert!(!dir.path().join("results.json").exists());

    // The largest plan the CLI accepts runs on the local engine with the quota on.
    let ran = cold(&fits);
    let stderr = text(&ran.stderr);
    assert!(ran.status.success(), "--repetitions {fits}: {stderr}");
    let (events, transitions, estimated, estimated_transitions) = history_line(&stderr);
    assert_eq!(
        (events, transitions),
        (estimated, estimated_transitions),
        "the estimate is the engine's count: {stderr}"
    );
    assert!(events <= 25_000, "{stderr}");
    let results = read_results(dir.path());
    let n: u64 = fits.parse().unwrap();
    assert_eq!(row(&results, 512, 1)["n"], n);
}

/// Both architectures in one local sweep: an emulated host function each, every size and
/// thread count on each, each timed on its own anchored vCPU and priced at its own rate.
#[test]
fn both_architectures_are_swept_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = sweep(
        dir.path(),
        &[
            "--workload",
            "pbkdf2",
            "--payload",
            r#"{"iterations": 100000, "passwords": ["a", "b"]}"#,
            "--memory",
            "1024,3008",
            "--threads",
            "1,2",
            "--repetitions",
            "1",
            "--architecture",
            "x86_64,arm64",
            "--calibration-seconds",
            "0.5",
        ],
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(stderr.contains("0 published versions left"), "{stderr}");
    let results = read_results(dir.path());
    assert_eq!(results["architectures"], json!(["x86_64", "arm64"]));
    let rows = results["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 8, "{results}");
    let find = |arch: &str, memory: u64, threads: u64| {
        rows.iter()
            .find(|r| {
                r["architecture"] == arch && r["memoryMb"] == memory && r["threads"] == threads
            })
            .unwrap_or_else(|| panic!("no {arch} {memory} × {threads} row in {results}"))
    };
    // One calibration, two anchors: the arm64 vCPU is slower by the published ratio of the
    // reference kernel (1,885 ms against 1,671 ms), so the same work takes that much longer
    // on it, and the job as long give or take the one CFS period it ends in.
    let anchors = results["local"]["model"]["anchors"].as_array().unwrap();
    assert_eq!(anchors.len(), 2, "{results}");
    assert!(
        anchors.iter().all(|a| a["status"] == "anchored"),
        "{results}"
    );
    let work = |r: &Value| r["modeled"]["workMs"].as_f64().unwrap();
    let ratio = work(find("arm64", 1024, 1)) / work(find("x86_64", 1024, 1));
    assert!((ratio - 1885.0 / 1671.0).abs() < 0.005, "{ratio}");
    let ms = |r: &Value| r["trimmedMeanMs"].as_f64().unwrap();
    let (arm, x86) = (ms(find("arm64", 1024, 1)), ms(find("x86_64", 1024, 1)));
    assert!(
        (arm - x86 * ratio).abs() <= 20.0,
        "{arm} vs {x86} × {ratio}"
    );
    // arm64's GB-s is 20% cheaper: cheaper per invocation despite the slower vCPU.
    let cost = |r: &Value| r["costPerInvocationUsd"].as_f64().unwrap();
    assert!(cost(find("arm64", 1024, 1)) < cost(find("x86_64", 1024, 1)));
    let chosen = &results["recommendation"]["cost"];
    assert_eq!(chosen["architecture"], "arm64", "{results}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("arch"), "{stdout}");
    assert!(stdout.contains("cost      arm64 "), "{stdout}");
    let csv = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
    assert_eq!(csv.lines().filter(|l| l.starts_with("arm64,")).count(), 4);
}

#[test]
fn an_architecture_given_twice_or_unknown_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (flags, expected) in [
        (
            vec!["--architecture", "arm64,arm64"],
            "--architecture: arm64 is listed twice",
        ),
        (vec!["--architecture", "riscv64"], "invalid value 'riscv64'"),
    ] {
        let out = sweep(dir.path(), &flags);
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{flags:?} was accepted");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{flags:?}: {stderr}");
        assert!(errors[0].contains(expected), "{flags:?}: {stderr}");
    }
}

/// The rounds' raw samples are kept beside results.json, at their keys in the results
/// bucket (`s3/powersweep/<execution>/<map run>/`): every invocation's sample, REPORT line
/// included, whatever `--include-samples` says.
#[test]
fn the_rounds_result_files_keep_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let echo = r#"{"tasks":[{"mode":"echo"}]}"#;
    let out = testbed_sweep(dir.path(), echo, "256,512", "3");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("samples: the rounds' result files are in"),
        "{stderr}"
    );
    fn find(dir: &Path, name: &str) -> Option<std::path::PathBuf> {
        for entry in std::fs::read_dir(dir).ok()? {
            let path = entry.ok()?.path();
            if path.is_dir() {
                if let Some(found) = find(&path, name) {
                    return Some(found);
                }
            } else if path.file_name().is_some_and(|n| n == name) {
                return Some(path);
            }
        }
        None
    }
    let s3 = dir.path().join("s3");
    let manifest = find(&s3, "manifest.json").unwrap_or_else(|| panic!("no manifest: {stderr}"));
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    let mut reports = 0;
    for file in manifest["ResultFiles"]["SUCCEEDED"].as_array().unwrap() {
        let text = std::fs::read_to_string(s3.join(file["Key"].as_str().unwrap())).unwrap();
        let records: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(records.len(), 3, "one record per round");
        for record in records {
            let round: Value = serde_json::from_str(record["Output"].as_str().unwrap()).unwrap();
            let mut stack = vec![round];
            while let Some(v) = stack.pop() {
                match v {
                    Value::Array(items) => stack.extend(items),
                    sample => {
                        assert!(
                            sample["report"]
                                .as_str()
                                .is_some_and(|r| r.starts_with("REPORT")),
                            "{sample}"
                        );
                        reports += 1;
                    }
                }
            }
        }
    }
    assert_eq!(reports, 6, "2 sizes × 3 rounds");
}
