//! One execution environment: a real bootstrap process with Lambda's environment variables, its
//! own Runtime API listener, its cgroup, its captured log, and how it dies.
//!
//! Owns process start (joining the cgroup and setting the CPU affinity *before* exec), log
//! capture, exit watching and teardown (kill the process group and everything left in the
//! cgroup, then remove the cgroup). It must not decide which environment serves an invocation,
//! nor interpret an invocation's outcome; the invoker in `emulator.rs` does that.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::{mpsc, oneshot, watch};

use crate::cgroup::{CpuMode, EnvCgroup, EnvLimits, ResourceControl};
use crate::runtime_api::{self, EnvChannel, Event, Lifecycle};

/// The variable that carries the CPU share to a host that throttles itself (in-process mode).
pub const ENV_CPU_VCPUS: &str = "POWERSWEEP_CPU_VCPUS";

/// The variable that carries Lambda's visible cores at this memory size (both modes).
pub const ENV_VISIBLE_CORES: &str = "POWERSWEEP_VISIBLE_CORES";
/// Set to `1` in the `model` CPU mode: the host meters its work for the duration model (the
/// host's `env::METER`).
pub const ENV_METER: &str = "POWERSWEEP_METER";

/// Keep at most this much of an invocation's log (the tail), in bytes.
const LOG_CAP_BYTES: usize = 1 << 20;

/// Why an environment could not be started.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SpawnError {
    #[error("creating the environment's cgroup: {0}")]
    Cgroup(#[from] crate::cgroup::CgroupError),
    #[error("binding the Runtime API listener: {0}")]
    Bind(#[source] std::io::Error),
    #[error("starting {path}: {source}")]
    Exec {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What is needed to start one environment.
#[derive(Debug, Clone)]
pub(crate) struct SpawnSpec {
    /// Unique name (log stream, cgroup directory).
    pub name: String,
    pub bootstrap: PathBuf,
    pub task_root: PathBuf,
    /// Lambda's variables and the function's own, except `AWS_LAMBDA_RUNTIME_API`.
    pub env: BTreeMap<String, String>,
    pub visible_cores: usize,
    pub limits: EnvLimits,
}

/// How the process ended.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExitInfo {
    pub status: Option<ExitStatus>,
}

impl ExitInfo {
    /// Lambda's wording: `exit status 3`, `signal: killed`.
    pub fn describe(&self) -> String {
        use std::os::unix::process::ExitStatusExt;
        match self.status {
            Some(s) => match (s.code(), s.signal()) {
                (Some(code), _) => format!("exit status {code}"),
                (None, Some(libc::SIGKILL)) => "signal: killed".into(),
                (None, Some(sig)) => format!("signal: {sig}"),
                (None, None) => "exited".into(),
            },
            None => "lost (wait failed)".into(),
        }
    }
}

/// A running environment.
#[derive(Debug)]
pub(crate) struct Environment {
    pub name: String,
    pub pid: i32,
    pub runtime_api: SocketAddr,
    pub started: Instant,
    channel: Arc<EnvChannel>,
    events: Mutex<Option<mpsc::Sender<Event>>>,
    exit: watch::Receiver<Option<ExitInfo>>,
    cgroup: Mutex<EnvCgroup>,
    log: Arc<LogSink>,
    server_stop: Mutex<Option<oneshot::Sender<()>>>,
    readers: tokio::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    dead: AtomicBool,
    /// Held through [`Environment::destroy`]: a second caller (shutdown while an invocation
    /// releases the environment) waits until the cgroup is really gone.
    teardown: tokio::sync::Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Our critical sections never leave the data half-updated.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Environment {
    /// Start the bootstrap in a new cgroup with its own Runtime API listener.
    pub async fn spawn(
        spec: SpawnSpec,
        control: &dyn ResourceControl,
    ) -> Result<Arc<Environment>, SpawnError> {
        let mut cgroup = control.create(&spec.name, &spec.limits)?;
        let listener = match TcpListener::bind(("127.0.0.1", 0)).await {
            Ok(l) => l,
            Err(e) => {
                remove_cgroup(cgroup).await;
                return Err(SpawnError::Bind(e));
            }
        };
        let runtime_api = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => {
                remove_cgroup(cgroup).await;
                return Err(SpawnError::Bind(e));
            }
        };
        let (channel, events) = EnvChannel::new();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let app = runtime_api::routes().with_state(channel.clone());
        tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop_rx.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "runtime API server ended with an error");
            }
        });

        let mut cmd = Command::new(&spec.bootstrap);
        cmd.env_clear()
            .envs(&spec.env)
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string())
            .current_dir(&spec.task_root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        match control.mode() {
            CpuMode::InProcess => {
                cmd.env(ENV_CPU_VCPUS, format!("{}", spec.limits.vcpus));
            }
            CpuMode::Model => {
                cmd.env(ENV_METER, "1");
            }
            CpuMode::Cgroup(_) => {}
        }
        let fds = cgroup.procs_fds();
        let cpus = affinity_set(spec.visible_cores);
        // SAFETY: the hook runs between fork and exec in the child and only makes
        // async-signal-safe system calls (write, sched_setaffinity, prctl) on memory prepared
        // before the fork; it allocates nothing and takes no locks.
        unsafe {
            cmd.pre_exec(move || {
                for &fd in &fds {
                    // "0" means "the writing process": the child joins before it execs.
                    let n = libc::write(fd, b"0\n".as_ptr().cast(), 2);
                    if n < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                if let Some(set) = &cpus {
                    libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set);
                }
                // If the emulator dies, its environments die with it.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
                Ok(())
            });
        }
        let started = Instant::now();
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(source) => {
                let _ = stop_tx.send(());
                remove_cgroup(cgroup).await;
                return Err(SpawnError::Exec {
                    path: spec.bootstrap.clone(),
                    source,
                });
            }
        };
        // The pid is known for a child that was just spawned and not yet waited for.
        let pid = child.id().map_or(0, |p| p as i32);
        // The cgroup no longer needs its open `cgroup.procs` handles.
        cgroup.close_procs();

        let log = Arc::new(LogSink::default());
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(tokio::spawn(read_lines(
                out,
                log.clone(),
                spec.name.clone(),
            )));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(tokio::spawn(read_lines(
                err,
                log.clone(),
                spec.name.clone(),
            )));
        }
        let (exit_tx, exit_rx) = watch::channel(None);
        tokio::spawn(async move {
            let status = child.wait().await.ok();
            let _ = exit_tx.send(Some(ExitInfo { status }));
        });

        Ok(Arc::new(Environment {
            name: spec.name,
            pid,
            runtime_api,
            started,
            channel,
            events: Mutex::new(Some(events)),
            exit: exit_rx,
            cgroup: Mutex::new(cgroup),
            log,
            server_stop: Mutex::new(Some(stop_tx)),
            readers: tokio::sync::Mutex::new(readers),
            dead: AtomicBool::new(false),
            teardown: tokio::sync::Mutex::new(()),
        }))
    }

    /// Watch the runtime's lifecycle (ready, init error).
    pub fn lifecycle(&self) -> watch::Receiver<Lifecycle> {
        self.channel.lifecycle()
    }

    /// Watch for the process's exit.
    pub fn exit(&self) -> watch::Receiver<Option<ExitInfo>> {
        self.exit.clone()
    }

    /// Hand an event to the runtime. Fails when the environment is being torn down.
    pub async fn send(&self, event: Event) -> Result<(), Event> {
        let tx = lock(&self.events).clone();
        match tx {
            Some(tx) => tx.send(event).await.map_err(|e| e.0),
            None => Err(event),
        }
    }

    /// Forget an invocation's pending answer (after a timeout or crash).
    pub fn forget(&self, request_id: &str) {
        self.channel.forget(request_id);
    }

    /// Take the log captured since the last call.
    pub fn take_log(&self) -> String {
        self.log.take()
    }

    /// Let the log readers catch up with what the process wrote before it answered (or died).
    ///
    /// A live process's pipes are not closed, so we can only yield to the reader tasks; a dead
    /// one's readers end at EOF, and we wait for that (briefly).
    pub async fn settle_output(&self) {
        if self.is_dead() {
            let mut readers = self.readers.lock().await;
            for handle in readers.iter_mut() {
                let _ = tokio::time::timeout(Duration::from_millis(200), handle).await;
            }
            readers.clear();
        } else {
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
        }
    }

    /// Whether the environment was torn down or its process exited.
    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::SeqCst) || self.exit.borrow().is_some()
    }

    /// How many times the OOM killer struck this environment.
    pub fn oom_kills(&self) -> u64 {
        lock(&self.cgroup).oom_kills()
    }

    /// Peak memory in bytes: the cgroup's peak, else the process's `VmHWM`, else 0.
    pub fn max_memory_bytes(&self) -> u64 {
        if let Some(b) = lock(&self.cgroup).max_memory_bytes() {
            return b;
        }
        vm_hwm_bytes(self.pid).unwrap_or(0)
    }

    /// INIT is over (the runtime called `next`): from now on the environment gets its
    /// memory size's share, not INIT's.
    pub fn end_init(&self) {
        if let Err(e) = lock(&self.cgroup).end_init() {
            tracing::warn!(env = %self.name, "INIT's CPU quota stays: {e}");
        }
    }

    /// The environment's cgroup directories (empty in in-process mode).
    pub fn cgroup_dirs(&self) -> Vec<PathBuf> {
        lock(&self.cgroup).dirs().to_vec()
    }

    /// Kill the process group and everything in the cgroup, now. Idempotent, non-blocking.
    pub fn kill(&self) {
        self.dead.store(true, Ordering::SeqCst);
        if self.pid > 0 && self.exit.borrow().is_none() {
            // SAFETY: kill(2) with a negative pid signals our child's process group, which
            // `process_group(0)` made equal to its pid.
            unsafe {
                libc::kill(-self.pid, libc::SIGKILL);
            }
        }
        // Processes that left the group (setsid) are still in the cgroup.
        for pid in lock(&self.cgroup).pids() {
            // SAFETY: signalling a pid read from our own environment's cgroup.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }

    /// Tear down: kill, wait for the exit, stop the listener, remove the cgroup.
    pub async fn destroy(&self) {
        let _teardown = self.teardown.lock().await;
        self.kill();
        lock(&self.events).take();
        let mut exit = self.exit.clone();
        let _ = tokio::time::timeout(Duration::from_secs(5), exit.wait_for(|e| e.is_some())).await;
        if let Some(stop) = lock(&self.server_stop).take() {
            let _ = stop.send(());
        }
        let cgroup = std::mem::take(&mut *lock(&self.cgroup));
        remove_cgroup(cgroup).await;
    }

    /// Best-effort synchronous teardown for `Drop` paths: kill, then try to remove the cgroup.
    pub fn destroy_blocking(&self) {
        self.kill();
        lock(&self.events).take();
        if let Some(stop) = lock(&self.server_stop).take() {
            let _ = stop.send(());
        }
        let mut cgroup = std::mem::take(&mut *lock(&self.cgroup));
        if let Err(e) = cgroup.remove_blocking(Duration::from_millis(500)) {
            tracing::warn!(env = %self.name, error = %e, "could not remove cgroup");
        }
    }
}

async fn remove_cgroup(mut cgroup: EnvCgroup) {
    if cgroup.dirs().is_empty() {
        return;
    }
    let result =
        tokio::task::spawn_blocking(move || cgroup.remove_blocking(Duration::from_secs(2))).await;
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "could not remove an environment cgroup"),
        Err(e) => tracing::warn!(error = %e, "cgroup removal task failed"),
    }
}

/// The first `n` CPUs this process may run on, as a `cpu_set_t` (None: leave the default).
fn affinity_set(n: usize) -> Option<libc::cpu_set_t> {
    // SAFETY: cpu_set_t is a plain bit array; all-zero is the empty set, and the CPU_* helpers
    // only index within it.
    unsafe {
        let mut current: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut current) != 0 {
            return None;
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        let mut taken = 0;
        for cpu in 0..libc::CPU_SETSIZE as usize {
            if taken == n {
                break;
            }
            if libc::CPU_ISSET(cpu, &current) {
                libc::CPU_SET(cpu, &mut set);
                taken += 1;
            }
        }
        (taken > 0).then_some(set)
    }
}

/// `VmHWM` (peak resident set) of a live process, in bytes.
fn vm_hwm_bytes(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The captured output of an environment since the last `take`.
#[derive(Debug, Default)]
struct LogSink {
    buf: Mutex<String>,
}

impl LogSink {
    fn push_line(&self, line: &str) {
        let mut buf = lock(&self.buf);
        buf.push_str(line);
        buf.push('\n');
        if buf.len() > LOG_CAP_BYTES {
            let mut cut = buf.len() - LOG_CAP_BYTES / 2;
            while !buf.is_char_boundary(cut) {
                cut += 1;
            }
            buf.drain(..cut);
        }
    }

    fn take(&self) -> String {
        std::mem::take(&mut *lock(&self.buf))
    }
}

async fn read_lines<R: AsyncRead + Unpin>(stream: R, log: Arc<LogSink>, env: String) {
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                tracing::debug!(target: "powersweep_emulator::function", env = %env, "{text}");
                log.push_line(text);
            }
        }
    }
}
