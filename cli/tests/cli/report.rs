//! `powersweep report`: the table and the report files again from a results.json, and one-line
//! errors for files that are not one.

use powersweep_analyzer::{AnalyzerInput, AnalyzerOutput, analyze};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Output};

/// A small but complete analyzer output: 1024 and 1769 MB × 1 and 2 threads, three
/// repetitions each, and 128 MB out of memory (two error rows).
pub fn sample_output() -> AnalyzerOutput {
    let mut samples = Vec::new();
    for memory in [1024u32, 1769] {
        for threads in [1u32, 2] {
            let ms = 1_769_000.0 / f64::from(memory.min(threads * 1769));
            for rep in 0..3 {
                samples.push(json!({"memoryMb": memory, "threads": threads,
                    "durationMs": ms + f64::from(rep), "cpuMs": ms, "cold": rep == 0, "errors": []}));
            }
        }
    }
    for threads in [1, 2] {
        samples.push(json!({"memoryMb": 128, "threads": threads,
            "error": "Runtime.OutOfMemory", "cause": "{\"errorType\":\"Runtime.OutOfMemory\"}"}));
    }
    let input: AnalyzerInput = serde_json::from_value(json!({
        "workload": "pbkdf2", "strategy": "speed", "architecture": "arm64", "samples": samples,
    }))
    .expect("sample input");
    analyze(&input).expect("sample analyzes")
}

pub fn powersweep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_powersweep"))
        .args(args)
        .output()
        .expect("run powersweep")
}

/// Every row has a line starting with its memory and thread count, and the
/// recommendation and the three files are there.
pub fn assert_rendered(output: &AnalyzerOutput, stdout: &str, dir: &Path) {
    for row in &output.rows {
        let found = stdout.lines().any(|line| {
            let cells: Vec<&str> = line.trim_start_matches('*').split_whitespace().collect();
            cells.len() >= 2
                && cells[0] == row.memory_mb.to_string()
                && cells[1] == row.threads.to_string()
        });
        assert!(
            found,
            "no line for {} MB x {} threads in\n{stdout}",
            row.memory_mb, row.threads
        );
    }
    assert!(stdout.contains("error Runtime.OutOfMemory"), "{stdout}");
    assert!(
        stdout.contains("recommendation (strategy speed):"),
        "{stdout}"
    );
    assert!(stdout.contains("* speed"), "{stdout}");
    for name in ["results.json", "results.csv", "report.html"] {
        let path = dir.join(name);
        assert!(path.is_file(), "{} is missing", path.display());
        assert!(
            stdout.contains(&format!("wrote {}", path.display())),
            "{stdout}"
        );
    }
    let back: AnalyzerOutput =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_eq!(&back, output);
}

/// Exit 1, nothing on stdout, one `error: …` line on stderr containing `expected`: the last,
/// after at most the estimate `sweep` prints before it starts an execution.
pub fn assert_one_line_error(out: &Output, expected: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = stderr.lines().collect();
    let (last, before) = lines.split_last().expect("an error line");
    assert!(
        before.iter().all(|l| l.starts_with("plan: ")
            || l.starts_with("estimate on AWS")
            || l.starts_with("  ")),
        "one line after the estimate: {stderr}"
    );
    let stderr = last.to_string();
    assert!(stderr.starts_with("error: "), "{stderr}");
    for part in expected {
        assert!(stderr.contains(part), "`{part}` not in: {stderr}");
    }
}

#[test]
fn report_renders_the_table_and_writes_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let output = sample_output();
    let results = dir.path().join("results.json");
    std::fs::write(&results, serde_json::to_string(&output).unwrap()).unwrap();
    let out_dir = dir.path().join("again");
    let run = powersweep(&[
        "report",
        results.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_rendered(&output, &stdout, &out_dir);
}

#[test]
fn report_writes_next_to_the_results_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let output = sample_output();
    let results = dir.path().join("results.json");
    std::fs::write(&results, serde_json::to_string_pretty(&output).unwrap()).unwrap();
    let run = powersweep(&["report", results.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_rendered(&output, &String::from_utf8_lossy(&run.stdout), dir.path());
}

#[test]
fn report_of_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let run = powersweep(&["report", missing.to_str().unwrap()]);
    assert_one_line_error(
        &run,
        &[
            "does not exist",
            "powersweep report powersweep-out/results.json",
        ],
    );
}

#[test]
fn report_of_a_file_that_is_not_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    std::fs::write(&path, "memory,threads\n512,1\n").unwrap();
    let run = powersweep(&["report", path.to_str().unwrap()]);
    assert_one_line_error(
        &run,
        &["is not JSON", "pass the results.json a sweep wrote"],
    );
}

#[test]
fn report_of_json_that_is_not_results() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    std::fs::write(&path, r#"{"workload": "pbkdf2", "rows": "many"}"#).unwrap();
    let run = powersweep(&["report", path.to_str().unwrap()]);
    assert_one_line_error(
        &run,
        &[
            "is not a powersweep results file",
            "pass the results.json a sweep wrote",
        ],
    );
    assert!(!dir.path().join("report.html").exists());
}
