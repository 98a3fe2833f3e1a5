//! Running a build tool: found on the PATH (or at a path), its output kept so that a failure
//! is one line with the end of what it printed.

use std::path::Path;
use std::process::Command;

use crate::BuildError;

/// Whether `tool` is an executable file in a folder of `PATH`.
pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| is_executable(&dir.join(tool))))
}

pub(crate) fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `cmd`; a failure is [`BuildError::Failed`] with the last lines of its output.
pub(crate) fn run(step: &str, cmd: &mut Command) -> Result<(), BuildError> {
    stdout(step, cmd).map(drop)
}

/// Runs `cmd` and returns what it printed on stdout; a failure as [`run`].
pub(crate) fn stdout(step: &str, cmd: &mut Command) -> Result<Vec<u8>, BuildError> {
    let output = cmd.output().map_err(|e| BuildError::Failed {
        step: step.to_owned(),
        status: "did not start".to_owned(),
        output: e.to_string(),
    })?;
    if output.status.success() {
        return Ok(output.stdout);
    }
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Err(BuildError::Failed {
        step: step.to_owned(),
        status: output.status.to_string(),
        output: summary(&text),
    })
}

/// The lines of a tool's output that say what went wrong: its error lines (at most three,
/// the first ones: later ones tend to repeat them), else its last three lines. A stack trace
/// ends with where the tool failed, not why.
fn summary(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| {
            let lower = l.to_ascii_lowercase();
            lower.starts_with("error") || lower.contains("error:")
        })
        .take(3)
        .collect();
    if errors.is_empty() {
        lines[lines.len().saturating_sub(3)..].join(" | ")
    } else {
        errors.join(" | ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_summed_up_by_its_error_lines() {
        let trace = "file:///x/componentize.js:616\n    throw new Error(msg);\n\nError: Unable to extract expected exports list\nError: \"source.js\" does not export a \"run\" function\n  Try defining it:\n    at async cli.js:84:7\nNode.js v20";
        assert_eq!(
            summary(trace),
            "Error: Unable to extract expected exports list | Error: \"source.js\" does not export a \"run\" function"
        );
        assert_eq!(summary("a\nb\nc\nd"), "b | c | d");
    }
}
