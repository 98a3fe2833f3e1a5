//! A panic (a bug of ours) ends as one line on the terminal and a file with the details: the
//! message, where, the thread and a backtrace. A user sees what happened and what to attach
//! to an issue, not 60–140 lines of frames between their results.
//!
//! Installed once by `main`; must not exit or unwind itself (the panic carries on as it
//! would: the thread ends, a runtime task fails, the command reports the error it becomes).

use std::backtrace::Backtrace;
use std::panic::PanicHookInfo;
use std::path::{Path, PathBuf};

/// Routes every panic to [`report`], details into `folder`.
pub fn install(folder: PathBuf) {
    std::panic::set_hook(Box::new(move |info| {
        let line = report(&folder, info, &Backtrace::force_capture());
        crate::terminal::print_error(&line);
    }));
}

/// Writes the details to a new file in `folder`; the one line to print.
fn report(folder: &Path, info: &PanicHookInfo<'_>, backtrace: &Backtrace) -> String {
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    let location = info.location().map_or_else(
        || "unknown place".into(),
        |l| format!("{}:{}", l.file(), l.line()),
    );
    let thread = std::thread::current();
    let details = format!(
        "powersweep {} panicked\nmessage: {message}\nat: {location}\nthread: {}\nargs: {:?}\n\nbacktrace:\n{backtrace}\n",
        env!("CARGO_PKG_VERSION"),
        thread.name().unwrap_or("unnamed"),
        std::env::args().collect::<Vec<_>>(),
    );
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    let file = folder.join(format!(
        "powersweep-panic-{}-{stamp}.txt",
        std::process::id()
    ));
    let whereto = match std::fs::write(&file, details) {
        Ok(()) => format!("details in {}", file.display()),
        Err(e) => format!(
            "the details could not be written to {} ({e})",
            file.display()
        ),
    };
    format!(
        "internal error (a bug in powersweep): {message} at {location}; {whereto}: please attach it to an issue"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_one_line_and_a_file_with_the_backtrace() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().to_owned();
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = lines.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let line = report(&folder, info, &Backtrace::force_capture());
            seen.lock().unwrap().push(line);
        }));
        let unwound = std::thread::spawn(|| panic!("a test's panic: {}", 42)).join();
        std::panic::set_hook(previous);
        assert!(unwound.is_err());
        let lines = lines.lock().unwrap();
        let ours: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("a test's panic"))
            .collect();
        assert_eq!(ours.len(), 1, "{lines:?}");
        let line = ours[0];
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.contains("a test's panic: 42 at cli/src/panic_report.rs:"),
            "{line}"
        );
        let file = line
            .split("details in ")
            .nth(1)
            .and_then(|rest| rest.split(": please").next())
            .unwrap();
        let details = std::fs::read_to_string(file).unwrap();
        assert!(details.contains("message: a test's panic: 42"), "{details}");
        assert!(details.contains("backtrace:"), "{details}");
    }
}
