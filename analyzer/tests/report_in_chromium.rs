//! `report.html` in a real browser: Debian's headless `chromium` loads the written report,
//! and the test checks the rendered DOM has both charts, and takes a screenshot. It owns
//! nothing but this check; it must not judge layout beyond what the DOM shows.
//!
//! Without chromium the test prints a note and passes, unless `CI=true`: there a missing
//! browser is a failure, so the check cannot silently stop running.
//! Install with `apt-get install -y chromium`.

use std::path::{Path, PathBuf};
use std::process::Command;

use powersweep_analyzer::{AnalyzerInput, analyze, write_results_files};
use serde_json::json;

/// A sweep shaped like the demo: one thread stops gaining at 1,769 MB (one vCPU), two
/// keep going, and 128 MB runs out of memory.
fn sweep() -> powersweep_analyzer::AnalyzerOutput {
    let mut samples = Vec::new();
    for memory in [512u32, 1024, 1769, 2368, 3008] {
        let mut per_threads = Vec::new();
        for threads in [1u32, 2] {
            let share_mb = memory.min(threads * 1769);
            let ms = 1_769_000.0 / f64::from(share_mb);
            let reps: Vec<_> = (0..3)
                .map(|rep| json!({"memoryMb": memory, "threads": threads, "durationMs": ms * (1.0 + 0.01 * f64::from(rep)), "cold": rep == 0, "errors": []}))
                .collect();
            per_threads.push(reps);
        }
        samples.push(per_threads);
    }
    samples.push(vec![vec![json!({"memoryMb": 128, "threads": 1, "error": "Runtime.OutOfMemory", "cause": "{\"errorType\":\"Runtime.OutOfMemory\",\"errorMessage\":\"Runtime exited with error: signal: killed\"}"})]]);
    let input: AnalyzerInput = serde_json::from_value(json!({
        "workload": "pbkdf2",
        "memorySizes": [128, 512, 1024, 1769, 2368, 3008],
        "threads": [1, 2],
        "strategy": "balanced",
        "architecture": "arm64",
        "samples": samples,
    }))
    .expect("input");
    analyze(&input).expect("analysis")
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let output = Command::new("which").arg(name).output().ok()?;
            output
                .status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
        })
}

/// Runs headless chromium on `page` with `extra` arguments; returns stdout.
fn run_chromium(browser: &Path, profile: &Path, page: &Path, extra: &[String]) -> String {
    let output = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        output.status.success(),
        "chromium failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn report_renders_both_charts_in_chromium() {
    let Some(browser) = chromium() else {
        powersweep_test_support::prerequisite_missing(
            "report_renders_both_charts_in_chromium",
            "chromium is not installed (apt-get install -y chromium)",
        );
        return;
    };
    // Kept after the run so the screenshot can be looked at.
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-in-chromium");
    let files = write_results_files(&sweep(), &out_dir).expect("write report");
    let page = files
        .iter()
        .find(|p| p.ends_with("report.html"))
        .expect("report.html written")
        .canonicalize()
        .expect("absolute path");
    let profile = tempfile::tempdir().expect("profile dir");

    // The DOM after parsing: both charts are real SVG elements with their lines.
    let dom = run_chromium(&browser, profile.path(), &page, &["--dump-dom".to_owned()]);
    assert!(
        dom.contains("<svg id=\"duration-chart\""),
        "no duration chart in the DOM"
    );
    assert!(
        dom.contains("<svg id=\"cost-chart\""),
        "no cost chart in the DOM"
    );
    assert_eq!(dom.matches("<polyline").count(), 4, "two lines per chart");
    assert_eq!(
        dom.matches("class=\"recommended\"").count(),
        2,
        "the recommendation is marked on both charts"
    );
    assert!(dom.contains("<table id=\"failures\">") && dom.contains("Runtime.OutOfMemory"));
    assert!(
        !dom.contains("This page isn"),
        "chromium showed an error page"
    );

    let screenshot = out_dir.join("report.png");
    let _ = std::fs::remove_file(&screenshot);
    run_chromium(
        &browser,
        profile.path(),
        &page,
        &[
            format!("--screenshot={}", screenshot.display()),
            "--window-size=1200,1600".to_owned(),
        ],
    );
    let png = std::fs::read(&screenshot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot is not a real PNG"
    );
    eprintln!("screenshot: {}", screenshot.display());
}
