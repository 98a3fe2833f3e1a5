//! Task roots (`<temp dir>/powersweep-task-<pid>-XXXX`, see `local.rs`) that runs which ended
//! without cleaning up left behind — killed by SIGKILL, crashed, or a second signal — and
//! their removal at the start of the next local run. (The emulator removes stale cgroups.)
//!
//! Must not remove anything but directories, owned by our effective uid, whose name carries
//! the pid of a process that no longer exists; never follow a symlink (a task root holds
//! symlinks to this binary and to the guests' files).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

const PREFIX: &str = "powersweep-task-";

/// The name prefix of this process's task root: `powersweep-task-<pid>-`.
pub fn task_root_prefix() -> String {
    format!("{PREFIX}{}-", std::process::id())
}

/// Remove the task roots of dead powersweep processes from the temp folder (best effort:
/// what cannot be removed is logged at debug).
pub fn remove_stale_task_roots() {
    remove_stale_task_roots_in(&std::env::temp_dir());
}

fn remove_stale_task_roots_in(dir: &Path) -> usize {
    let Some(uid) = effective_uid() else {
        return 0;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(owner_pid) else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let path = entry.path();
        // lstat: a symlink is not a directory here, and is never followed.
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_dir() && meta.uid() == uid => {}
            _ => continue,
        }
        // `remove_dir_all` unlinks the symlinks inside instead of following them.
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {
                removed += 1;
                tracing::info!(path = %path.display(), pid, "removed the task root of a powersweep process that no longer exists");
            }
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "cannot remove a stale task root");
            }
        }
    }
    removed
}

/// The pid in `powersweep-task-<pid>-XXXX`.
fn owner_pid(name: &str) -> Option<u32> {
    let (digits, random) = name.strip_prefix(PREFIX)?.split_once('-')?;
    if digits.is_empty() || random.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Our effective uid, from `/proc/self/status` (`Uid: real effective saved fs`).
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_owner_pid() {
        assert_eq!(
            owner_pid(&format!("{}abc", task_root_prefix())),
            Some(std::process::id())
        );
        assert_eq!(owner_pid("powersweep-task-12-x1Y"), Some(12));
        assert_eq!(owner_pid("powersweep-task-x1Y"), None);
        assert_eq!(owner_pid("powersweep-task-12-"), None);
        assert_eq!(owner_pid("powersweep-task-+1-ab"), None);
        assert_eq!(owner_pid("other-12-ab"), None);
    }

    #[test]
    fn only_dead_owners_roots_go_and_symlinks_are_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep"), "x").unwrap();
        // 99999999 is above the largest pid_max Linux allows (2^22): never a live process.
        let dead = tmp.path().join("powersweep-task-99999999-abc");
        std::fs::create_dir(&dead).unwrap();
        std::os::unix::fs::symlink(&outside, dead.join("dir-link")).unwrap();
        std::os::unix::fs::symlink(outside.join("keep"), dead.join("file-link")).unwrap();
        let mine = tmp.path().join(format!("{}abc", task_root_prefix()));
        std::fs::create_dir(&mine).unwrap();
        let old_style = tmp.path().join("powersweep-task-abc");
        std::fs::create_dir(&old_style).unwrap();
        let linked = tmp.path().join("powersweep-task-99999998-abc");
        std::os::unix::fs::symlink(&outside, &linked).unwrap();

        assert_eq!(remove_stale_task_roots_in(tmp.path()), 1);
        assert!(!dead.exists());
        assert!(outside.join("keep").exists());
        assert!(mine.exists() && old_style.exists());
        assert!(linked.symlink_metadata().is_ok());
    }
}
