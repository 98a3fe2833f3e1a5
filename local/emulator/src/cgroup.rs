//! Resource control for environments: one cgroup per environment (v1 `cpu` + `memory`
//! hierarchies, or one v2 cgroup), behind the small [`ResourceControl`] trait, with a no-op
//! fallback for when no cgroup can be created.
//!
//! Owns cgroup discovery, creation, limits, accounting reads and removal. It must not start or
//! kill processes (`environment.rs` does that: it opens `cgroup.procs` here and writes the
//! child's pid from a `pre_exec` hook, so the child is limited *before* it execs).
//!
//! Layout: `<our own cgroup>/powersweep-<pid>/<environment>` in each hierarchy. We nest under the
//! cgroup this process already lives in (read from `/proc/self/cgroup`) rather than under the
//! hierarchy root, so environments stay inside whatever limits the caller was given.
//!
//! A process that dies without removing its groups (SIGKILL cannot be caught) leaves its
//! `powersweep-<pid>` behind; [`remove_stale_parents`], called at every emulator start, removes
//! those of processes that no longer exist.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The cgroup period the emulator uses by default, in microseconds: Lambda's own
/// ([`powersweep_model::lambda::CFS_PERIOD_MS`], 20 ms, measured), rather than the kernel's
/// 100 ms default, so that the capped modes and the model compare like with like.
pub const DEFAULT_CFS_PERIOD_US: u64 = (powersweep_model::lambda::CFS_PERIOD_MS * 1000.0) as u64;

/// How the emulator caps an environment's CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuMode {
    /// One cgroup per environment enforces the CPU quota and the memory limit.
    Cgroup(CgroupVersion),
    /// No cgroup: the host throttles itself from `POWERSWEEP_CPU_VCPUS`; memory is not capped
    /// by the emulator (the host caps wasm memory from `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`).
    InProcess,
    /// No cap at all: the host meters its work (`POWERSWEEP_METER`) and the emulator's
    /// duration model computes Lambda's duration from it (see `duration_model.rs`).
    Model,
}

impl fmt::Display for CpuMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpuMode::Cgroup(CgroupVersion::V1) => f.write_str("cgroup v1"),
            CpuMode::Cgroup(CgroupVersion::V2) => f.write_str("cgroup v2"),
            CpuMode::InProcess => f.write_str("in-process"),
            CpuMode::Model => f.write_str("model"),
        }
    }
}

/// Which cgroup interface is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    /// Separate `cpu` and `memory` hierarchies (`cpu.cfs_quota_us`, `memory.limit_in_bytes`).
    V1,
    /// The unified hierarchy (`cpu.max`, `memory.max`).
    V2,
}

/// Why a cgroup could not be found, created or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CgroupError {
    /// No usable cgroup hierarchy with the controllers we need.
    #[error("no usable cgroup hierarchy: {0}")]
    NotAvailable(String),
    /// A cgroup file or directory operation failed.
    #[error("cgroup {op} {path}: {source}")]
    Io {
        /// What we tried (`mkdir`, `write`, `rmdir`, …).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> CgroupError + 'a {
    move |source| CgroupError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// The limits of one environment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EnvLimits {
    /// CPU budget in vCPUs (over all cores together).
    pub vcpus: f64,
    /// CPU budget until the runtime's first `next` (see `cpu_model::INIT_VCPUS`), then
    /// [`EnvLimits::vcpus`] ([`EnvCgroup::end_init`]).
    pub init_vcpus: f64,
    /// Memory limit in MB.
    pub memory_mb: u32,
    /// CFS period in microseconds.
    pub period_us: u64,
}

/// Creates per-environment resource controls. The trait keeps the cgroup versions and the
/// no-op fallback interchangeable for the invoker.
pub(crate) trait ResourceControl: Send + Sync + fmt::Debug {
    /// Which mode this control implements.
    fn mode(&self) -> CpuMode;
    /// Create the controls for one environment named `name` (unique within this process).
    fn create(&self, name: &str, limits: &EnvLimits) -> Result<EnvCgroup, CgroupError>;
    /// Remove the `powersweep-<pid>` parents if they are empty (best effort).
    fn remove_parent(&self);
}

/// The cgroup(s) of one environment; empty in in-process mode.
#[derive(Debug, Default)]
pub(crate) struct EnvCgroup {
    version: Option<CgroupVersion>,
    /// Every directory we created for this environment (cpu and memory in v1, one in v2).
    dirs: Vec<PathBuf>,
    /// The directory holding the memory files.
    memory_dir: Option<PathBuf>,
    /// The CPU file and the quota to write into it when INIT ends.
    run_quota: Option<(PathBuf, String)>,
    /// `cgroup.procs` of every directory, opened for writing before fork.
    procs: Vec<File>,
}

impl EnvCgroup {
    /// Raw descriptors of the `cgroup.procs` files, for the `pre_exec` hook.
    pub fn procs_fds(&self) -> Vec<RawFd> {
        self.procs.iter().map(|f| f.as_raw_fd()).collect()
    }

    /// Lowers the CPU quota from INIT's to the invocations' (idempotent).
    ///
    /// # Errors
    /// When the quota cannot be written; the environment then keeps INIT's share.
    pub fn end_init(&mut self) -> Result<(), CgroupError> {
        match self.run_quota.take() {
            Some((file, quota)) => write_file(&file, &quota),
            None => Ok(()),
        }
    }

    /// Close the `cgroup.procs` handles once the child has exec'd.
    pub fn close_procs(&mut self) {
        self.procs.clear();
    }

    /// The directories created for this environment (for tests and diagnostics).
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Every pid still in this environment's cgroup.
    pub fn pids(&self) -> Vec<i32> {
        let Some(dir) = self.dirs.first() else {
            return Vec::new();
        };
        fs::read_to_string(dir.join("cgroup.procs"))
            .map(|s| s.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    /// Peak memory use of the environment since it was created, in bytes, if known.
    pub fn max_memory_bytes(&self) -> Option<u64> {
        let dir = self.memory_dir.as_ref()?;
        let file = match self.version? {
            CgroupVersion::V1 => "memory.max_usage_in_bytes",
            CgroupVersion::V2 => "memory.peak",
        };
        fs::read_to_string(dir.join(file)).ok()?.trim().parse().ok()
    }

    /// How many times the kernel's OOM killer killed a process of this environment.
    pub fn oom_kills(&self) -> u64 {
        let (Some(dir), Some(version)) = (self.memory_dir.as_ref(), self.version) else {
            return 0;
        };
        let file = match version {
            CgroupVersion::V1 => "memory.oom_control",
            CgroupVersion::V2 => "memory.events",
        };
        let Ok(text) = fs::read_to_string(dir.join(file)) else {
            return 0;
        };
        text.lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Remove the directories, waiting up to `wait` for the kernel to let the last task go.
    /// Blocking: call it from `spawn_blocking` in async code.
    pub fn remove_blocking(&mut self, wait: Duration) -> Result<(), CgroupError> {
        self.procs.clear();
        let deadline = Instant::now() + wait;
        // v1: remove in reverse creation order; each is independent.
        while let Some(dir) = self.dirs.last() {
            match fs::remove_dir(dir) {
                Ok(()) => {
                    self.dirs.pop();
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    self.dirs.pop();
                }
                Err(e) if Instant::now() < deadline && e.raw_os_error() == Some(libc::EBUSY) => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(io_err("rmdir", dir)(e)),
            }
        }
        Ok(())
    }
}

/// No cgroup at all, in the mode it stands for: `InProcess` (the host throttles itself) or
/// `Model` (nothing is capped; durations are computed).
#[derive(Debug)]
pub(crate) struct NoCgroup(pub(crate) CpuMode);

impl ResourceControl for NoCgroup {
    fn mode(&self) -> CpuMode {
        self.0
    }
    fn create(&self, _name: &str, _limits: &EnvLimits) -> Result<EnvCgroup, CgroupError> {
        Ok(EnvCgroup::default())
    }
    fn remove_parent(&self) {}
}

/// cgroup v1: a `cpu` parent and a `memory` parent.
#[derive(Debug)]
pub(crate) struct CgroupV1 {
    cpu_parent: PathBuf,
    memory_parent: PathBuf,
}

/// cgroup v2: one parent with `cpu` and `memory` enabled for its children.
#[derive(Debug)]
pub(crate) struct CgroupV2 {
    parent: PathBuf,
}

fn write_file(path: &Path, value: &str) -> Result<(), CgroupError> {
    fs::write(path, value).map_err(io_err("write", path))
}

fn mkdir(path: &Path) -> Result<(), CgroupError> {
    match fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_err("mkdir", path)(e)),
    }
}

fn open_procs(dir: &Path) -> Result<File, CgroupError> {
    let path = dir.join("cgroup.procs");
    // Rust opens with O_CLOEXEC, so the descriptor does not leak into the bootstrap.
    OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(io_err("open", &path))
}

/// The quota for `vcpus` over `period_us`, in microseconds (the kernel's minimum is 1 ms).
pub(crate) fn quota_us(vcpus: f64, period_us: u64) -> u64 {
    ((vcpus * period_us as f64).round() as u64).max(1000)
}

/// Keep cgroup names to a safe alphabet.
pub(crate) fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl CgroupV1 {
    /// Find the v1 `cpu` and `memory` hierarchies and create our parents in them.
    pub fn discover() -> Result<Self, CgroupError> {
        let mounts = Mounts::read()?;
        let cpu = mounts.v1_dir("cpu")?;
        let memory = mounts.v1_dir("memory")?;
        let name = format!("powersweep-{}", std::process::id());
        let control = CgroupV1 {
            cpu_parent: cpu.join(&name),
            memory_parent: memory.join(&name),
        };
        mkdir(&control.cpu_parent)?;
        if let Err(e) = mkdir(&control.memory_parent) {
            control.remove_parent();
            return Err(e);
        }
        Ok(control)
    }
}

impl ResourceControl for CgroupV1 {
    fn mode(&self) -> CpuMode {
        CpuMode::Cgroup(CgroupVersion::V1)
    }

    fn create(&self, name: &str, limits: &EnvLimits) -> Result<EnvCgroup, CgroupError> {
        let name = sanitize(name);
        let mut env = EnvCgroup {
            version: Some(CgroupVersion::V1),
            ..EnvCgroup::default()
        };
        let cpu = self.cpu_parent.join(&name);
        let memory = self.memory_parent.join(&name);
        let result = (|| {
            mkdir(&cpu)?;
            env.dirs.push(cpu.clone());
            write_file(
                &cpu.join("cpu.cfs_period_us"),
                &limits.period_us.to_string(),
            )?;
            let file = cpu.join("cpu.cfs_quota_us");
            write_file(
                &file,
                &quota_us(limits.init_vcpus, limits.period_us).to_string(),
            )?;
            env.run_quota = Some((file, quota_us(limits.vcpus, limits.period_us).to_string()));
            mkdir(&memory)?;
            env.dirs.push(memory.clone());
            let bytes = u64::from(limits.memory_mb) * 1024 * 1024;
            write_file(&memory.join("memory.limit_in_bytes"), &bytes.to_string())?;
            // Without this, swap would let the environment exceed its memory (when swap exists).
            let memsw = memory.join("memory.memsw.limit_in_bytes");
            if memsw.exists() {
                write_file(&memsw, &bytes.to_string())?;
            }
            env.memory_dir = Some(memory.clone());
            env.procs.push(open_procs(&cpu)?);
            env.procs.push(open_procs(&memory)?);
            Ok(())
        })();
        match result {
            Ok(()) => Ok(env),
            Err(e) => {
                let _ = env.remove_blocking(Duration::ZERO);
                Err(e)
            }
        }
    }

    fn remove_parent(&self) {
        // ENOTEMPTY/EBUSY when another emulator in this process still has environments.
        let _ = fs::remove_dir(&self.cpu_parent);
        let _ = fs::remove_dir(&self.memory_parent);
    }
}

impl CgroupV2 {
    /// Find the unified hierarchy with `cpu` and `memory`, create our parent and enable both
    /// controllers for its children.
    ///
    /// # Errors
    /// Fails where the controllers cannot be delegated, e.g. when our own cgroup holds processes
    /// and is not the root (cgroup v2's "no internal processes" rule).
    pub fn discover() -> Result<Self, CgroupError> {
        let mounts = Mounts::read()?;
        let own = mounts.v2_dir()?;
        let controllers = fs::read_to_string(own.join("cgroup.controllers"))
            .map_err(io_err("read", &own.join("cgroup.controllers")))?;
        let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
        if !(has("cpu") && has("memory")) {
            return Err(CgroupError::NotAvailable(format!(
                "{} lacks the cpu or memory controller",
                own.display()
            )));
        }
        write_file(&own.join("cgroup.subtree_control"), "+cpu +memory")?;
        let parent = own.join(format!("powersweep-{}", std::process::id()));
        mkdir(&parent)?;
        let control = CgroupV2 { parent };
        if let Err(e) = write_file(
            &control.parent.join("cgroup.subtree_control"),
            "+cpu +memory",
        ) {
            control.remove_parent();
            return Err(e);
        }
        Ok(control)
    }
}

impl ResourceControl for CgroupV2 {
    fn mode(&self) -> CpuMode {
        CpuMode::Cgroup(CgroupVersion::V2)
    }

    fn create(&self, name: &str, limits: &EnvLimits) -> Result<EnvCgroup, CgroupError> {
        let dir = self.parent.join(sanitize(name));
        let mut env = EnvCgroup {
            version: Some(CgroupVersion::V2),
            ..EnvCgroup::default()
        };
        let result = (|| {
            mkdir(&dir)?;
            env.dirs.push(dir.clone());
            let cpu_max =
                |vcpus| format!("{} {}", quota_us(vcpus, limits.period_us), limits.period_us);
            let file = dir.join("cpu.max");
            write_file(&file, &cpu_max(limits.init_vcpus))?;
            env.run_quota = Some((file, cpu_max(limits.vcpus)));
            let bytes = u64::from(limits.memory_mb) * 1024 * 1024;
            write_file(&dir.join("memory.max"), &bytes.to_string())?;
            let swap = dir.join("memory.swap.max");
            if swap.exists() {
                write_file(&swap, "0")?;
            }
            env.memory_dir = Some(dir.clone());
            env.procs.push(open_procs(&dir)?);
            Ok(())
        })();
        match result {
            Ok(()) => Ok(env),
            Err(e) => {
                let _ = env.remove_blocking(Duration::ZERO);
                Err(e)
            }
        }
    }

    fn remove_parent(&self) {
        let _ = fs::remove_dir(&self.parent);
    }
}

/// Remove the `powersweep-<pid>` groups, with their environment groups (deepest first), that
/// processes which no longer exist left in our own cgroup of the v1 `cpu` and `memory`
/// hierarchies and of the unified one. Our own pid counts as alive. A group that still holds
/// a process is left, and so are its ancestors. Best effort: logs what it removed (info) and
/// what it could not (debug), and never fails.
pub(crate) fn remove_stale_parents() {
    let mounts = match Mounts::read() {
        Ok(mounts) => mounts,
        Err(e) => {
            tracing::debug!(error = %e, "no stale cgroup sweep");
            return;
        }
    };
    let mut dirs: Vec<PathBuf> = [
        mounts.v1_dir("cpu"),
        mounts.v1_dir("memory"),
        mounts.v2_dir(),
    ]
    .into_iter()
    .filter_map(Result::ok)
    .collect();
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(parent_pid) else {
                continue;
            };
            if !entry.file_type().is_ok_and(|t| t.is_dir()) || pid_exists(pid) {
                continue;
            }
            let path = entry.path();
            if remove_tree(&path) {
                tracing::info!(
                    path = %path.display(),
                    pid,
                    "removed the cgroup of a powersweep process that no longer exists"
                );
            }
        }
    }
}

/// The pid in a `powersweep-<pid>` group name.
fn parent_pid(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("powersweep-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether `pid` is this process or any other that `/proc` lists (a zombie counts: in doubt,
/// alive).
fn pid_exists(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Remove the group `dir` and every group below it, deepest first. A group with a process in
/// its `cgroup.procs` is left (and so, necessarily, are its ancestors). Whether `dir` is gone.
fn remove_tree(dir: &Path) -> bool {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            // `DirEntry::file_type` does not follow symlinks (cgroupfs has none anyway).
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_tree(&entry.path());
            }
        }
    }
    let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    if procs.lines().any(|l| !l.trim().is_empty()) {
        tracing::debug!(path = %dir.display(), "stale cgroup still holds processes; left");
        return false;
    }
    match fs::remove_dir(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => true,
        Err(e) => {
            tracing::debug!(path = %dir.display(), error = %e, "cannot remove a stale cgroup");
            false
        }
    }
}

/// `/proc/self/mountinfo` and `/proc/self/cgroup`, read once.
struct Mounts {
    mountinfo: String,
    own: String,
}

impl Mounts {
    fn read() -> Result<Self, CgroupError> {
        let mountinfo = Path::new("/proc/self/mountinfo");
        let own = Path::new("/proc/self/cgroup");
        Ok(Mounts {
            mountinfo: fs::read_to_string(mountinfo).map_err(io_err("read", mountinfo))?,
            own: fs::read_to_string(own).map_err(io_err("read", own))?,
        })
    }

    /// Our own cgroup directory in the v1 hierarchy that has `controller`.
    fn v1_dir(&self, controller: &str) -> Result<PathBuf, CgroupError> {
        let (mount_root, mount_point) = self
            .mountinfo
            .lines()
            .find_map(|line| {
                let (left, right) = line.split_once(" - ")?;
                let mut r = right.split_whitespace();
                let (fstype, _source, opts) = (r.next()?, r.next()?, r.next()?);
                if fstype != "cgroup" || !opts.split(',').any(|o| o == controller) {
                    return None;
                }
                let l: Vec<&str> = left.split_whitespace().collect();
                Some((l.get(3)?.to_string(), l.get(4)?.to_string()))
            })
            .ok_or_else(|| {
                CgroupError::NotAvailable(format!("no cgroup v1 `{controller}` hierarchy"))
            })?;
        let own = self
            .own
            .lines()
            .find_map(|line| {
                let mut parts = line.splitn(3, ':');
                let (_id, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
                ctrls
                    .split(',')
                    .any(|c| c == controller)
                    .then(|| path.to_string())
            })
            .ok_or_else(|| {
                CgroupError::NotAvailable(format!("not in a cgroup v1 `{controller}` hierarchy"))
            })?;
        Ok(join_cgroup(&mount_point, &mount_root, &own))
    }

    /// Our own cgroup directory in the unified (v2) hierarchy.
    fn v2_dir(&self) -> Result<PathBuf, CgroupError> {
        let (mount_root, mount_point) = self
            .mountinfo
            .lines()
            .find_map(|line| {
                let (left, right) = line.split_once(" - ")?;
                if right.split_whitespace().next()? != "cgroup2" {
                    return None;
                }
                let l: Vec<&str> = left.split_whitespace().collect();
                Some((l.get(3)?.to_string(), l.get(4)?.to_string()))
            })
            .ok_or_else(|| CgroupError::NotAvailable("no cgroup2 mount".into()))?;
        let own = self
            .own
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .ok_or_else(|| CgroupError::NotAvailable("no cgroup2 entry for self".into()))?;
        Ok(join_cgroup(&mount_point, &mount_root, own))
    }
}

/// The directory of cgroup `own` in a hierarchy mounted at `mount_point` whose root is
/// `mount_root` (not `/` inside containers).
fn join_cgroup(mount_point: &str, mount_root: &str, own: &str) -> PathBuf {
    let relative = own
        .strip_prefix(mount_root)
        .filter(|_| mount_root != "/")
        .unwrap_or(own);
    Path::new(mount_point).join(relative.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_is_share_times_period_with_the_kernel_minimum() {
        assert_eq!(quota_us(0.25, 20_000), 5_000);
        assert_eq!(quota_us(1.7, 100_000), 170_000);
        assert_eq!(quota_us(0.0724, 10_000), 1_000);
    }

    #[test]
    fn cgroup_paths_join_mount_and_own_path() {
        assert_eq!(
            join_cgroup("/sys/fs/cgroup/memory", "/", "/a/b"),
            PathBuf::from("/sys/fs/cgroup/memory/a/b")
        );
        assert_eq!(
            join_cgroup("/sys/fs/cgroup/cpu", "/", "/"),
            PathBuf::from("/sys/fs/cgroup/cpu")
        );
        assert_eq!(
            join_cgroup("/sys/fs/cgroup", "/docker/x", "/docker/x/y"),
            PathBuf::from("/sys/fs/cgroup/y")
        );
    }

    #[test]
    fn only_powersweep_pid_groups_are_stale_candidates() {
        assert_eq!(parent_pid("powersweep-1234"), Some(1234));
        assert_eq!(parent_pid("powersweep-"), None);
        assert_eq!(parent_pid("powersweep-+12"), None);
        assert_eq!(parent_pid("powersweep-12-x"), None);
        assert_eq!(parent_pid("other-12"), None);
        assert!(pid_exists(std::process::id()));
        // Above the largest pid_max Linux allows (2^22).
        assert!(!pid_exists(99_999_999));
    }

    #[test]
    fn stale_trees_go_deepest_first_but_busy_groups_stay() {
        let root = tempfile::tempdir().unwrap();
        let free = root.path().join("powersweep-1");
        fs::create_dir_all(free.join("env-a")).unwrap();
        fs::create_dir_all(free.join("env-b")).unwrap();
        assert!(remove_tree(&free));
        assert!(!free.exists());

        let busy = root.path().join("powersweep-2");
        fs::create_dir_all(busy.join("env-idle")).unwrap();
        fs::create_dir_all(busy.join("env-busy")).unwrap();
        fs::write(busy.join("env-busy/cgroup.procs"), "4242\n").unwrap();
        assert!(!remove_tree(&busy));
        assert!(!busy.join("env-idle").exists());
        assert!(busy.join("env-busy/cgroup.procs").exists());
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(sanitize("f:$LATEST/1"), "f__LATEST_1");
    }
}
