//! Signals end local runs without leftovers (issue 11): after SIGINT, SIGTERM or SIGHUP of
//! `sweep` or `invoke` in the cgroup mode, no environment process, no `powersweep-<pid>`
//! cgroup and no `powersweep-task-<pid>-*` task root is left; and what a SIGKILL leaves, the
//! next run removes. Every wait is bounded: a run that does not stop is killed and fails.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Until the run has an environment with a process in its cgroup (task root, emulator start,
/// a cold start, on a busy 2-core machine).
const START_WAIT: Duration = Duration::from_secs(60);
/// From the signal to the exit.
const EXIT_WAIT: Duration = Duration::from_secs(20);

/// A job that sleeps long enough never to end by itself during a test.
const SLEEP_PAYLOAD: &str = r#"{"tasks":[{"mode":"sleep","ms":30000}]}"#;

/// Whether this machine lets powersweep create cgroups. If not, a loud `SKIPPED: <why>` on
/// stderr and `false` — except under `CI=true`, where a skipped test would hide a broken
/// runner: there it fails with the reason.
fn cgroups_or_skip(test: &str) -> bool {
    static AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();
    match AVAILABLE.get_or_init(cgroups_available) {
        Ok(()) => true,
        Err(why) => {
            powersweep_test_support::prerequisite_missing(test, why);
            false
        }
    }
}

fn cgroups_available() -> Result<(), String> {
    if effective_uid() != Some(0) {
        return Err("not root: powersweep cannot create cgroups".into());
    }
    if hierarchies().is_empty() {
        return Err("no cgroup hierarchy at /sys/fs/cgroup/{cpu,memory} or /sys/fs/cgroup".into());
    }
    // The real thing: can a cgroup-mode run start here?
    let dir = tempfile::tempdir().unwrap();
    let mut child = powersweep(
        &[
            "invoke",
            "--cpu-mode",
            "cgroup",
            "--workload",
            "testbed",
            "--payload",
            r#"{"tasks":[{"mode":"echo"}]}"#,
        ],
        dir.path(),
    );
    let status = wait_bounded(&mut child, Duration::from_secs(120))
        .unwrap_or_else(|| panic!("a quick cgroup invoke did not end in 120 s"));
    let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
    match status.success() {
        true => Ok(()),
        false if stderr.contains("cgroup") => Err(format!("cgroups unusable: {}", stderr.trim())),
        false => panic!("a quick cgroup invoke failed, not for cgroups: {stderr}"),
    }
}

/// `powersweep <args>` in the workspace root, stdout and stderr into files of `dir` (a pipe
/// nobody reads could fill up and stall it).
fn powersweep(args: &[&str], dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_powersweep"))
        .current_dir(powersweep_test_support::root())
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(dir.join("stdout")).unwrap())
        .stderr(File::create(dir.join("stderr")).unwrap())
        .spawn()
        .expect("run powersweep")
}

/// The exit status within `limit`, or `None` (the child is then killed and reaped).
fn wait_bounded(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait for powersweep") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn send(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -s {signal} {pid} failed");
}

/// Where powersweep's groups may be: the v1 `cpu` and `memory` hierarchies, else the unified.
fn hierarchies() -> Vec<PathBuf> {
    let v1: Vec<PathBuf> = ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory"]
        .iter()
        .map(PathBuf::from)
        .filter(|d| d.join("cgroup.procs").exists())
        .collect();
    if !v1.is_empty() {
        return v1;
    }
    let v2 = PathBuf::from("/sys/fs/cgroup");
    if v2.join("cgroup.controllers").exists() {
        vec![v2]
    } else {
        Vec::new()
    }
}

/// Every `powersweep-<pid>` group, in every hierarchy (searched a few levels deep).
fn parent_groups(pid: u32) -> Vec<PathBuf> {
    fn walk(dir: &Path, name: &str, depth: u32, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if entry.file_name() == name {
                found.push(entry.path());
            } else if depth > 0 {
                walk(&entry.path(), name, depth - 1, found);
            }
        }
    }
    let name = format!("powersweep-{pid}");
    let mut found = Vec::new();
    for hierarchy in hierarchies() {
        walk(&hierarchy, &name, 8, &mut found);
    }
    found
}

/// The processes in the environment groups under `parents`.
fn environment_pids(parents: &[PathBuf]) -> Vec<i32> {
    let mut pids = Vec::new();
    for parent in parents {
        let Ok(entries) = std::fs::read_dir(parent) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let procs = std::fs::read_to_string(entry.path().join("cgroup.procs"));
                pids.extend(
                    procs
                        .unwrap_or_default()
                        .lines()
                        .filter_map(|l| l.trim().parse::<i32>().ok()),
                );
            }
        }
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// The names of the groups in `parent`.
fn subgroups(parent: &Path) -> Vec<String> {
    std::fs::read_dir(parent)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The task roots named after `pid`.
fn task_roots(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("powersweep-task-{pid}-");
    std::fs::read_dir(std::env::temp_dir())
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `pid` has exec'd a `bootstrap` (before its exec it is a fork of powersweep).
fn runs_bootstrap(pid: i32) -> bool {
    argv0(pid).is_some_and(|a| a.ends_with("/bootstrap"))
}

fn argv0(pid: i32) -> Option<String> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let first = cmdline.split(|&b| b == 0).next()?;
    Some(String::from_utf8_lossy(first).into_owned())
}

/// Live processes started from one of `task_roots` (the environments' `bootstrap`).
fn processes_from(task_roots: &[PathBuf]) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            argv0(pid).is_some_and(|a| task_roots.iter().any(|r| Path::new(&a).starts_with(r)))
                && alive(pid)
        })
        .collect()
}

/// Alive and not a zombie.
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .next()?
                .to_string();
            Some(state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A run that is serving a job: its groups, its environments' processes, its task roots.
struct Running {
    child: Child,
    out: tempfile::TempDir,
    parents: Vec<PathBuf>,
    pids: Vec<i32>,
    task_roots: Vec<PathBuf>,
}

/// When a test sends its signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moment {
    /// As soon as an environment's group exists: its cold start is under way.
    ColdStart,
    /// Once an environment's process runs the bootstrap, and half a second more: a job runs.
    Serving,
}

impl Running {
    /// Start `powersweep <args>` and wait (bounded) for `moment`.
    fn start(args: &[&str], moment: Moment) -> Running {
        let out = tempfile::tempdir().unwrap();
        let mut child = powersweep(args, out.path());
        let pid = child.id();
        let deadline = Instant::now() + START_WAIT;
        let mut parents = Vec::new();
        loop {
            if parents.is_empty() {
                parents = parent_groups(pid);
            }
            let ready = match moment {
                Moment::ColdStart => parents.iter().any(|p| !subgroups(p).is_empty()),
                Moment::Serving => environment_pids(&parents).into_iter().any(runs_bootstrap),
            };
            if ready {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "powersweep ended ({status}) before an environment ran: {}",
                    std::fs::read_to_string(out.path().join("stderr")).unwrap_or_default()
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no environment in a powersweep-{pid} cgroup after {START_WAIT:?}");
            }
            std::thread::sleep(Duration::from_millis(match moment {
                Moment::ColdStart => 1,
                Moment::Serving => 20,
            }));
        }
        if moment == Moment::Serving {
            std::thread::sleep(Duration::from_millis(500));
        }
        let task_roots = task_roots(pid);
        assert!(
            !task_roots.is_empty(),
            "no task root named powersweep-task-{pid}-* in {}",
            std::env::temp_dir().display()
        );
        let pids = environment_pids(&parents);
        Running {
            child,
            out,
            parents,
            pids,
            task_roots,
        }
    }

    /// Send `signal`, wait (bounded) for the exit; the exit status, its stderr and how long it took.
    fn signal(mut self, signal: &str) -> (Self, ExitStatus, String, Duration) {
        let sent = Instant::now();
        send(self.child.id(), signal);
        let status = wait_bounded(&mut self.child, EXIT_WAIT).unwrap_or_else(|| {
            panic!("powersweep did not exit within {EXIT_WAIT:?} of {signal}; killed")
        });
        let took = sent.elapsed();
        let stderr = std::fs::read_to_string(self.out.path().join("stderr")).unwrap_or_default();
        eprintln!("{signal}: exited ({status}) {took:?} after the signal");
        (self, status, stderr, took)
    }

    /// No process, group or task root of this run is left.
    fn assert_nothing_left(&self) {
        let pid = self.child.id();
        // The CLI waits for its environments; allow the kernel a moment all the same.
        let deadline = Instant::now() + Duration::from_secs(2);
        while (self.pids.iter().any(|&p| alive(p)) || !processes_from(&self.task_roots).is_empty())
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        let alive: Vec<i32> = self.pids.iter().copied().filter(|&p| alive(p)).collect();
        assert!(alive.is_empty(), "environment processes left: {alive:?}");
        let strays = processes_from(&self.task_roots);
        assert!(strays.is_empty(), "bootstrap processes left: {strays:?}");
        let stderr = std::fs::read_to_string(self.out.path().join("stderr")).unwrap_or_default();
        let groups: Vec<String> = self
            .parents
            .iter()
            .filter(|p| p.exists())
            .map(|p| format!("{} {:?}", p.display(), subgroups(p)))
            .collect();
        assert!(groups.is_empty(), "cgroups left: {groups:?}\n{stderr}");
        assert!(parent_groups(pid).is_empty(), "{:?}", parent_groups(pid));
        let roots: Vec<&PathBuf> = self.task_roots.iter().filter(|p| p.exists()).collect();
        assert!(roots.is_empty(), "task roots left: {roots:?}");
        assert!(task_roots(pid).is_empty(), "{:?}", task_roots(pid));
    }
}

impl Drop for Running {
    /// A failed test must not leave its run going.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sweep_args(out: &Path) -> Vec<String> {
    [
        "sweep",
        "--cpu-mode",
        "cgroup",
        "--workload",
        "testbed",
        "--payload",
        r#"{"tasks":[{"mode":"sleep","ms":2000}]}"#,
        "--memory",
        "512",
        "--threads",
        "1",
        "--repetitions",
        "20",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([out.display().to_string()])
    .collect()
}

fn interrupted_cleanly(status: ExitStatus, stderr: &str, signal: &str) {
    let number = match signal {
        "SIGHUP" => 1,
        "SIGINT" => 2,
        "SIGTERM" => 15,
        other => panic!("no number for {other}"),
    };
    assert_eq!(
        status.code(),
        Some(128 + number),
        "the shell's code: {stderr}"
    );
    let line = format!("error: interrupted by {signal}; every local environment was stopped");
    assert!(stderr.contains(&line), "{stderr}");
}

#[test]
fn sigterm_of_a_cgroup_sweep_leaves_no_process_cgroup_or_task_root() {
    if !cgroups_or_skip("sigterm_of_a_cgroup_sweep_leaves_no_process_cgroup_or_task_root") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let args = sweep_args(out.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = Running::start(&args, Moment::Serving);
    let (run, status, stderr, _) = run.signal("TERM");
    interrupted_cleanly(status, &stderr, "SIGTERM");
    run.assert_nothing_left();
}

fn invoke_signal_leaves_nothing(test: &str, signal: &str, moment: Moment) {
    if !cgroups_or_skip(test) {
        return;
    }
    let run = Running::start(
        &[
            "invoke",
            "--cpu-mode",
            "cgroup",
            "--workload",
            "testbed",
            "--threads",
            "1",
            "--payload",
            SLEEP_PAYLOAD,
        ],
        moment,
    );
    let (run, status, stderr, took) = run.signal(signal);
    interrupted_cleanly(status, &stderr, &format!("SIG{signal}"));
    assert!(
        took < Duration::from_secs(10),
        "the job sleeps 30 s; the signal must not wait for it: {took:?}"
    );
    run.assert_nothing_left();
}

#[test]
fn sigint_of_a_cgroup_invoke_leaves_nothing() {
    invoke_signal_leaves_nothing(
        "sigint_of_a_cgroup_invoke_leaves_nothing",
        "INT",
        Moment::Serving,
    );
}

#[test]
fn sigterm_of_a_cgroup_invoke_during_its_cold_start_leaves_nothing() {
    invoke_signal_leaves_nothing(
        "sigterm_of_a_cgroup_invoke_during_its_cold_start_leaves_nothing",
        "TERM",
        Moment::ColdStart,
    );
}

#[test]
fn sigterm_of_a_cgroup_invoke_leaves_nothing() {
    invoke_signal_leaves_nothing(
        "sigterm_of_a_cgroup_invoke_leaves_nothing",
        "TERM",
        Moment::Serving,
    );
}

#[test]
fn sighup_of_a_cgroup_invoke_leaves_nothing() {
    invoke_signal_leaves_nothing(
        "sighup_of_a_cgroup_invoke_leaves_nothing",
        "HUP",
        Moment::Serving,
    );
}

/// `Emulator::shutdown` does not wait for a cold start under way: the sweep's state machine
/// keeps that invocation going, its environment is stopped by the emulator after the CLI has
/// returned, and the runtime's end cancels the removal of its group (and so of
/// `powersweep-<pid>`). `invoke` waits for its own invocation; `sweep` cannot reach the
/// state machine's. Fails within its five tries (2 runs of 2 here); the next run removes
/// the leftovers.
#[test]
fn sigterm_of_a_cgroup_sweep_during_a_cold_start_leaves_nothing() {
    if !cgroups_or_skip("sigterm_of_a_cgroup_sweep_during_a_cold_start_leaves_nothing") {
        return;
    }
    for _ in 0..5 {
        let out = tempfile::tempdir().unwrap();
        let args = sweep_args(out.path());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = Running::start(&args, Moment::ColdStart);
        let (run, status, stderr, _) = run.signal("TERM");
        interrupted_cleanly(status, &stderr, "SIGTERM");
        run.assert_nothing_left();
    }
}

#[test]
fn what_a_sigkilled_sweep_leaves_the_next_invoke_removes() {
    if !cgroups_or_skip("what_a_sigkilled_sweep_leaves_the_next_invoke_removes") {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let args = sweep_args(out.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = Running::start(&args, Moment::Serving);
    let (run, status, stderr, _) = run.signal("KILL");
    assert_eq!(status.code(), None, "killed by a signal: {stderr}");
    // SIGKILL cannot be caught: the groups and the task root stay (until some powersweep
    // starts: other tests run at the same time, so look at once).
    let groups: Vec<&PathBuf> = run.parents.iter().filter(|p| p.exists()).collect();
    let roots: Vec<&PathBuf> = run.task_roots.iter().filter(|p| p.exists()).collect();
    assert!(
        !groups.is_empty() && !roots.is_empty(),
        "a SIGKILL should leave the groups and the task root: {groups:?} {roots:?}"
    );
    // The environments die with the CLI (PR_SET_PDEATHSIG).
    let deadline = Instant::now() + Duration::from_secs(5);
    while run.pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }

    let next = tempfile::tempdir().unwrap();
    let mut child = powersweep(
        &[
            "invoke",
            "--cpu-mode",
            "in-process",
            "--workload",
            "testbed",
            "--payload",
            r#"{"tasks":[{"mode":"echo"}]}"#,
        ],
        next.path(),
    );
    let status = wait_bounded(&mut child, Duration::from_secs(120))
        .unwrap_or_else(|| panic!("a quick invoke did not end in 120 s"));
    let stderr = std::fs::read_to_string(next.path().join("stderr")).unwrap_or_default();
    assert!(status.success(), "{stderr}");
    run.assert_nothing_left();
}

/// A state machine that keeps the engine evaluating JSONata (about a second of work each
/// time) for as long as it is let: the command's runtime has its workers busy when the
/// signals come.
const BUSY_MACHINE: &str = r#"{"QueryLanguage": "JSONata", "StartAt": "Spin", "States": {
  "Spin": {"Type": "Pass", "Output": "{% $sum($map([1..2000000], function($v) {$v % 7})) %}", "Next": "Spin"}}}"#;

#[test]
fn signals_end_a_sweep_whose_engine_is_busy_evaluating_jsonata() {
    let dir = tempfile::tempdir().unwrap();
    let machine = dir.path().join("busy.asl.json");
    std::fs::write(&machine, BUSY_MACHINE).unwrap();
    let out = dir.path().join("out");
    let mut child = powersweep(
        &[
            "sweep",
            "--workload",
            "pbkdf2",
            "--memory",
            "512",
            "--threads",
            "1",
            "--repetitions",
            "1",
            // No calibration: the machine starts at once.
            "--calibration",
            "1000000",
            "--vcpu-speed",
            "1",
            "--state-machine",
            machine.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    // Until the engine is in its loop: the emulator and the machine start within seconds.
    std::thread::sleep(Duration::from_secs(8));
    if let Some(status) = child.try_wait().unwrap() {
        panic!(
            "the sweep ended ({status}) before the signal: {}",
            std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default()
        );
    }
    let sent = Instant::now();
    send(child.id(), "TERM");
    // If the first signal's cleanup were held up, a second one must end it at once.
    let status = match wait_bounded_keep(&mut child, Duration::from_secs(5)) {
        Some(status) => status,
        None => {
            send(child.id(), "TERM");
            wait_bounded(&mut child, Duration::from_secs(5))
                .unwrap_or_else(|| panic!("a second SIGTERM did not end the sweep within 5 s"))
        }
    };
    let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
    eprintln!(
        "exited ({status}) {:?} after the first SIGTERM",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(143), "128 + SIGTERM: {stderr}");
    assert!(
        stderr.contains("interrupted by SIGTERM") || stderr.contains("SIGTERM after SIGTERM"),
        "{stderr}"
    );
}

/// Like [`wait_bounded`], but leaves the child running when it did not exit in time.
fn wait_bounded_keep(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait for powersweep") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}
