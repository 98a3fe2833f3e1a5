//! `powersweep report results.json [--out DIR]`: the table and the report files again, from
//! a results file a sweep wrote, without running anything.
//!
//! It also owns [`show`], the ending every sweep shares (table on stdout, files written,
//! their paths printed), so that `sweep`, `sweep --aws` and `report` print the same thing.

use anyhow::{Context, Result, anyhow, bail};
use powersweep_analyzer::AnalyzerOutput;
use powersweep_input::ReadError;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Flags of `powersweep report`.
#[derive(clap::Args)]
pub struct Args {
    /// The results.json a sweep wrote (e.g. powersweep-out/results.json).
    results: PathBuf,
    /// Folder to write results.json, results.csv and report.html into (default: the
    /// folder of the results file).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub async fn run(args: Args) -> Result<ExitCode> {
    let output = read_results(&args.results)?;
    let out = args.out.unwrap_or_else(|| folder_of(&args.results));
    show(&output, &out)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints the table of `output` on stdout, writes the three report files into `out` and
/// prints their paths.
///
/// # Errors
/// When a file cannot be written (the message names it) or stdout is closed.
pub fn show(output: &AnalyzerOutput, out: &Path) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(crate::table::render(output).as_bytes())?;
    let files = match powersweep_analyzer::write_results_files(output, out) {
        Ok(files) => files,
        Err(e) => {
            // Never lose a sweep's results to a folder that went bad while it ran.
            let kept = keep_elsewhere(output);
            return Err(anyhow!(e)).with_context(|| {
                format!(
                    "cannot write the report, check `--out {}`; the results are in {kept}",
                    out.display()
                )
            });
        }
    };
    writeln!(stdout)?;
    for file in files {
        writeln!(stdout, "wrote {}", file.display())?;
    }
    stdout.flush()?;
    Ok(())
}

/// Writes `results.json` into a new temporary folder and says where, or why not.
fn keep_elsewhere(output: &AnalyzerOutput) -> String {
    let kept = tempfile::Builder::new()
        .prefix("powersweep-results-")
        .tempdir()
        .map(tempfile::TempDir::keep)
        .map_err(anyhow::Error::from)
        .and_then(|dir| {
            let file = dir.join("results.json");
            std::fs::write(&file, serde_json::to_string_pretty(output)?)?;
            Ok(file)
        });
    match kept {
        Ok(file) => format!("`{}` (`powersweep report` renders them)", file.display()),
        Err(e) => format!("no file either ({e})"),
    }
}

/// Reads and checks a results file; each error says what to pass instead.
fn read_results(path: &Path) -> Result<AnalyzerOutput> {
    const FIX: &str =
        "pass the results.json a sweep wrote, e.g. `powersweep report powersweep-out/results.json`";
    let text = match powersweep_input::read_text(path, crate::input::RESULTS_LIMIT) {
        Ok(text) => text,
        Err(ReadError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            bail!("`{}` does not exist: {FIX}", path.display())
        }
        Err(e) => bail!("{e}: {FIX}"),
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow!("`{}` is not JSON ({e}): {FIX}", path.display()))?;
    serde_json::from_value(value).map_err(|e| {
        anyhow!(
            "`{}` is not a powersweep results file ({e}): {FIX}",
            path.display()
        )
    })
}

/// The folder a file is in; `.` for a bare file name.
fn folder_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_of_a_bare_name_is_here() {
        assert_eq!(folder_of(Path::new("results.json")), Path::new("."));
        assert_eq!(folder_of(Path::new("out/results.json")), Path::new("out"));
    }

    #[test]
    fn errors_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let err = |path: &Path| format!("{:#}", read_results(path).unwrap_err());
        assert!(err(&dir.path().join("nope.json")).contains("does not exist"));
        let text = dir.path().join("text.json");
        std::fs::write(&text, "hello").unwrap();
        assert!(err(&text).contains("is not JSON"));
        let other = dir.path().join("other.json");
        std::fs::write(&other, r#"{"rows": 3}"#).unwrap();
        assert!(err(&other).contains("is not a powersweep results file"));
        assert!(err(dir.path()).contains("is a folder"));
    }
}
