//! Every file a user names goes through one bounded reader: an endless device, a FIFO nobody
//! writes to and text that is not UTF-8 are each one line of error within seconds, never a
//! hang, a memory runaway or a silently changed input.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the command in the checkout, killing it (and failing) if it takes longer than 30 s.
fn bounded(args: &[&str]) -> Output {
    bounded_in(&powersweep_test_support::root(), &[], args)
}

/// [`bounded`] in `dir`, with `env` set.
fn bounded_in(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_powersweep"))
        .current_dir(dir)
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run powersweep");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("`powersweep {}` still ran after 30 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn error_line(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    lines[0].to_owned()
}

fn fifo(dir: &Path) -> String {
    let path = dir.join("fifo");
    let made = Command::new("mkfifo").arg(&path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    path.to_string_lossy().into_owned()
}

#[test]
fn endless_devices_and_fifos_are_refused_by_every_command_that_reads_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo(dir.path());
    for source in ["/dev/zero", fifo.as_str()] {
        let at = format!("@{source}");
        for args in [
            vec!["exec", source],
            vec!["exec", source, "--lift-quotas"],
            vec!["report", source],
            vec!["invoke", "--workload", "pbkdf2", "--payload", &at],
            vec!["invoke", "--workload", "pbkdf2", "--io-latency", &at],
        ] {
            let out = bounded(&args);
            let line = error_line(&out);
            assert!(line.contains("is not a regular file"), "{args:?}: {line}");
            assert!(!out.status.success(), "{args:?}");
        }
    }
}

#[test]
fn a_payload_that_is_not_utf8_is_refused_naming_the_byte() {
    let dir = tempfile::tempdir().unwrap();
    let payload = dir.path().join("payload.json");
    std::fs::write(&payload, b"{\"passwords\":[\"caf\xe9\"]}").unwrap();
    let at = format!("@{}", payload.display());
    let out = bounded(&["invoke", "--workload", "pbkdf2", "--payload", &at]);
    assert!(!out.status.success());
    let line = error_line(&out);
    assert!(
        line.contains("the byte at offset 18 is not valid"),
        "{line}"
    );
}

#[test]
fn a_definition_is_read_up_to_the_machines_bound_even_with_lifted_quotas() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; (64 << 20) + 1]).unwrap();
    let big = big.to_string_lossy().into_owned();
    let line = error_line(&bounded(&["exec", &big, "--lift-quotas"]));
    assert!(
        line.contains("larger than 67108864 bytes, powersweep's limit"),
        "{line}"
    );
}

#[test]
fn a_missing_folder_or_a_file_in_its_place_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let file = file.to_string_lossy().into_owned();
    for (path, says) in [
        ("/no/such", "does not exist"),
        (file.as_str(), "is a file, not a folder"),
    ] {
        for args in [
            vec!["guests", "--guests", path],
            vec!["invoke", "--workload", "pbkdf2", "--guests", path],
            vec!["build", path],
        ] {
            let line = error_line(&bounded(&args));
            assert!(
                line.contains(&format!("`{path}` {says}")),
                "{args:?}: {line}"
            );
        }
    }
}

#[test]
fn a_failed_sweep_leaves_no_out_folder_it_made() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("new-out");
    let out_arg = out.to_string_lossy().into_owned();
    let line = error_line(&bounded(&[
        "sweep", "--out", &out_arg, "--guests", "/no/such",
    ]));
    assert!(line.contains("does not exist"), "{line}");
    assert!(!out.exists(), "the failed sweep left {}", out.display());
}

#[test]
fn an_empty_or_relative_xdg_cache_home_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let home_arg = home.to_string_lossy().into_owned();
    for xdg in ["", "relative-cache"] {
        let out = bounded_in(
            &work,
            &[("XDG_CACHE_HOME", xdg), ("HOME", &home_arg)],
            &["guests"],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stray: Vec<_> = std::fs::read_dir(&work).unwrap().collect();
        assert!(stray.is_empty(), "XDG_CACHE_HOME={xdg:?} wrote {stray:?}");
        assert!(home.join(".cache/powersweep").is_dir());
    }
}

#[test]
fn a_dry_run_refuses_what_the_run_would_refuse_without_calibrating() {
    for (args, says) in [
        (vec!["--timeout", "0"], "must be 1–900 seconds"),
        (vec!["--timeout", "901"], "must be 1–900 seconds"),
        (vec!["--workload", "no-such-workload"], "no-such-workload"),
        (
            vec!["--state-machine", "/no/such.json"],
            "cannot read `/no/such.json`",
        ),
        (vec!["--guests", "/no/such"], "`/no/such` does not exist"),
    ] {
        let out = bounded(&[&["sweep", "--dry-run"][..], &args].concat());
        let line = error_line(&out);
        assert!(line.contains(says), "{args:?}: {line}");
        // Answered before calibrating, which would say so on stderr.
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("calibrat"),
            "{args:?}"
        );
    }
}
