//! The state machine and the shipped workloads, built into the binary, so that an installed
//! `powersweep` (`cargo install --locked --path cli`) runs from any directory. Must not decide which
//! source wins over a folder the user has (`input.rs` does) and must not hold test-only
//! workloads.

use anyhow::{Context, Result};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// `statemachine/powersweep.asl.json` as it was when this binary was built.
pub const STATE_MACHINE: &str = include_str!("../../statemachine/powersweep.asl.json");

/// The shipped workloads of `guests/dist/` (the testbed is for tests only).
const GUESTS: [(&str, &[u8]); 3] = [
    ("pbkdf2", include_bytes!("../../guests/dist/pbkdf2.wasm")),
    ("bcrypt", include_bytes!("../../guests/dist/bcrypt.wasm")),
    (
        "ddb-writer",
        include_bytes!("../../guests/dist/ddb-writer.wasm"),
    ),
];

/// A folder holding the built-in workloads, written once per build of this binary under the
/// user's cache (`$XDG_CACHE_HOME` or `~/.cache`, else the temporary folder), and checked
/// against the bytes built in at every use: a changed or missing file is written again.
///
/// # Errors
/// When the folder cannot be written.
pub fn guests_folder() -> Result<PathBuf> {
    // The XDG spec: an empty or relative value is to be ignored (a relative one would put the
    // cache wherever the command happens to run).
    let xdg = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .filter(|p| p.is_absolute())
        .unwrap_or_else(std::env::temp_dir)
        .join("powersweep");
    guests_folder_in(&base)
}

fn guests_folder_in(base: &Path) -> Result<PathBuf> {
    let mut hasher = std::hash::DefaultHasher::new();
    GUESTS.hash(&mut hasher);
    let dir = base.join(format!(
        "guests-{}-{:016x}",
        env!("CARGO_PKG_VERSION"),
        hasher.finish()
    ));
    if dir.is_dir() {
        if intact(&dir) {
            return Ok(dir);
        }
        eprintln!(
            "warning: the built-in workloads in {} were changed or removed; writing them again",
            dir.display()
        );
        replace_aside(&dir)?;
    }
    std::fs::create_dir_all(base).with_context(|| format!("cannot create {}", base.display()))?;
    // Written beside it and renamed, so that a concurrent run never sees half a folder.
    let partial = tempfile::Builder::new()
        .prefix(".guests-")
        .tempdir_in(base)
        .with_context(|| format!("cannot write in {}", base.display()))?;
    for (name, bytes) in GUESTS {
        std::fs::write(partial.path().join(format!("{name}.wasm")), bytes)?;
    }
    match std::fs::rename(partial.path(), &dir) {
        Ok(()) => {
            let _ = partial.keep();
            Ok(dir)
        }
        // Another run got there first.
        Err(_) if dir.is_dir() => Ok(dir),
        Err(e) => Err(e).with_context(|| format!("cannot create {}", dir.display())),
    }
}

/// Whether every built-in workload in `dir` is byte for byte the one built in.
fn intact(dir: &Path) -> bool {
    GUESTS.iter().all(|(name, bytes)| {
        let limit = powersweep_input::Limit {
            bytes: bytes.len() as u64,
            why: "the built-in workload's size",
        };
        powersweep_input::read(&dir.join(format!("{name}.wasm")), limit)
            .is_ok_and(|found| found == *bytes)
    })
}

/// Moves a damaged folder out of the way (renamed, then removed), so that the fresh one can
/// take its name even while another run still reads the old files.
fn replace_aside(dir: &Path) -> Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    let aside = tempfile::Builder::new()
        .prefix(".damaged-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot write in {}", parent.display()))?;
    let target = aside.path().join("guests");
    match std::fs::rename(dir, &target) {
        Ok(()) => Ok(()),
        // Another run moved it first.
        Err(_) if !dir.exists() => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot replace {}", dir.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_workload_is_built_in() {
        let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../guests/dist");
        let mut shipped: Vec<String> = std::fs::read_dir(&dist)
            .unwrap()
            .filter_map(|e| {
                let path = e.ok()?.path();
                (path.extension()? == "wasm")
                    .then(|| path.file_stem()?.to_str().map(String::from))?
            })
            .filter(|name| name != "testbed")
            // Python and JavaScript workloads are built there on demand, never committed
            // (see .gitignore): tens of MB each.
            .filter(|name| !name.ends_with("-py") && !name.ends_with("-js"))
            .collect();
        shipped.sort();
        let mut built_in: Vec<String> = GUESTS.iter().map(|(n, _)| n.to_string()).collect();
        built_in.sort();
        assert_eq!(built_in, shipped, "add the new workload to GUESTS");
    }

    #[test]
    fn the_built_in_folder_is_written_once_and_reused() {
        let cache = tempfile::tempdir().unwrap();
        let first = guests_folder_in(cache.path()).unwrap();
        let second = guests_folder_in(cache.path()).unwrap();
        assert_eq!(first, second);
        assert!(first.starts_with(cache.path()));
        assert!(first.join("pbkdf2.wasm").is_file());
    }

    #[test]
    fn a_changed_or_missing_built_in_workload_is_written_again() {
        let cache = tempfile::tempdir().unwrap();
        let dir = guests_folder_in(cache.path()).unwrap();
        // Another component in pbkdf2's place, and bcrypt gone.
        std::fs::copy(dir.join("ddb-writer.wasm"), dir.join("pbkdf2.wasm")).unwrap();
        std::fs::remove_file(dir.join("bcrypt.wasm")).unwrap();
        assert!(!intact(&dir));
        assert_eq!(guests_folder_in(cache.path()).unwrap(), dir);
        assert!(intact(&dir));
        assert_eq!(std::fs::read(dir.join("pbkdf2.wasm")).unwrap(), GUESTS[0].1);
    }
}
