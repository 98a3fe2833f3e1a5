//! The results files of an [`AnalyzerOutput`]: `results.json`, `results.csv` and a
//! self-contained `report.html`. It owns file names and writing; it must not compute figures (they all
//! come from the output) and must not reference anything outside the files it writes.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::AnalyzerOutput;

mod chart;
mod csv;
mod html;

pub use self::csv::render_csv;
pub use self::html::render_html;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResultsFilesError {
    /// Creating the directory or writing a file failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The output could not be serialized (a non-finite number, for one).
    #[error("cannot serialize results: {0}")]
    Json(#[from] serde_json::Error),
}

/// The files [`write_results_files`] writes into its folder, in order.
pub const RESULTS_FILES: [&str; 3] = ["results.json", "results.csv", "report.html"];

/// Writes `results.json`, `results.csv` and `report.html` into `dir` (created if
/// missing), and returns their paths in that order. Existing files are replaced, each at
/// once (written beside it, then renamed): a reader never sees half a file, and a failed
/// write leaves the old one.
///
/// # Errors
/// [`ResultsFilesError::Io`] naming the path that failed, or [`ResultsFilesError::Json`].
///
/// # Example
/// ```no_run
/// # fn run(output: &powersweep_analyzer::AnalyzerOutput) -> Result<(), powersweep_analyzer::ResultsFilesError> {
/// let files = powersweep_analyzer::write_results_files(output, "powersweep-out".as_ref())?;
/// assert!(files[2].ends_with("report.html"));
/// # Ok(()) }
/// ```
pub fn write_results_files(
    output: &AnalyzerOutput,
    dir: &Path,
) -> Result<Vec<PathBuf>, ResultsFilesError> {
    std::fs::create_dir_all(dir).map_err(|source| ResultsFilesError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut json = serde_json::to_string_pretty(output)?;
    json.push('\n');
    let files = RESULTS_FILES
        .into_iter()
        .zip([json, render_csv(output), render_html(output)]);
    let mut written = Vec::with_capacity(files.len());
    for (name, contents) in files {
        let path = dir.join(name);
        let io = |source| ResultsFilesError::Io {
            path: path.clone(),
            source,
        };
        let mut partial = tempfile::Builder::new()
            .prefix(&format!(".{name}-"))
            .tempfile_in(dir)
            .map_err(io)?;
        partial.write_all(contents.as_bytes()).map_err(io)?;
        partial.persist(&path).map_err(|e| io(e.error))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
pub(crate) mod fixture {
    //! One analyzed sweep shared by the renderers' tests.

    use crate::{AnalyzerInput, AnalyzerOutput, analyze};
    use serde_json::json;

    /// 512/1024/1769/3008 MB × 1/2 threads, with 128 MB out of memory.
    pub(crate) fn output() -> AnalyzerOutput {
        let mut samples = Vec::new();
        for memory in [512u32, 1024, 1769, 3008] {
            for threads in [1u32, 2] {
                // One vCPU at 1769 MB: one thread stops gaining there, two keep going.
                // 1000 ms of CPU work spread over min(memory, threads × 1769) MB of share;
                // one division keeps the values exact (1769000 / 512 = 3455.078125).
                let share_mb = memory.min(threads * 1769);
                let ms = 1_769_000.0 / f64::from(share_mb);
                for rep in 0..3 {
                    samples.push(json!({"memoryMb": memory, "threads": threads,
                        "durationMs": ms + f64::from(rep), "cold": rep == 0, "errors": []}));
                }
            }
        }
        for threads in [1, 2] {
            samples.push(json!({"memoryMb": 128, "threads": threads,
                "error": "Runtime.OutOfMemory", "cause": "{\"errorType\":\"Runtime.OutOfMemory\",\"errorMessage\":\"<killed> & gone\"}"}));
        }
        let input: AnalyzerInput = serde_json::from_value(json!({
            "workload": "pbkdf2 <demo>", "strategy": "balanced", "samples": samples,
        }))
        .expect("fixture input");
        analyze(&input).expect("fixture analyzes")
    }

    /// The same sweep as a local `model` run anchored on x86_64.
    pub(crate) fn modeled_output() -> AnalyzerOutput {
        let mut out = output();
        let anchor = powersweep_model::anchor::Anchor {
            architecture: crate::Architecture::X86_64,
            vcpu_speed: 0.7466,
            how: powersweep_model::anchor::How::Anchored {
                kernel: "bcrypt cost 10".into(),
                source: "a sample, somewhere".into(),
                lambda_ms: 72.6,
                here_ms: 54.2,
            },
        };
        out.local = Some(crate::LocalRun {
            cpu_mode: "model".into(),
            vcpu_mb: 1769.0,
            host_cores: 2,
            model: Some(crate::ModelRun {
                calibration: powersweep_model::Calibration::given(3.5e7).expect("a speed"),
                latency: "measured".into(),
                anchors: vec![anchor],
                cfs_period_ms: 20.0,
            }),
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_three_files_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let out = fixture::output();
        let target = dir.path().join("nested/out");
        let files = write_results_files(&out, &target).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["results.json", "results.csv", "report.html"]);
        let back: AnalyzerOutput =
            serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
        assert_eq!(back.rows.len(), out.rows.len());
        assert_eq!(back.recommendation, out.recommendation);
    }

    #[test]
    fn unwritable_directory_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "x").unwrap();
        match write_results_files(&fixture::output(), &blocker.join("sub")) {
            Err(ResultsFilesError::Io { path, .. }) => assert!(path.ends_with("file/sub")),
            other => panic!("expected Io, got {other:?}"),
        }
    }
}
