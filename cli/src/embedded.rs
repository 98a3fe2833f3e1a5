//! The state machine and the shipped workloads, built into the binary, so that an installed
//! `powersweep` (`cargo install --path cli`) runs from any directory. Must not decide which
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
/// user's cache (`$XDG_CACHE_HOME` or `~/.cache`, else the temporary folder).
///
/// # Errors
/// When the folder cannot be written.
pub fn guests_folder() -> Result<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
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
        return Ok(dir);
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
}
