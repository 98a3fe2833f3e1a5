//! The `--out` folder of a sweep: checked before the first invocation (a bad `--out` costs
//! nothing), held for the sweep's whole length so that two sweeps cannot mix their files, and
//! removed again when a sweep that created it ends without writing anything there.
//!
//! Must not write the results (the analyzer's `write_results_files` does, each file renamed
//! into place) and must not wait for another sweep: it refuses at once.

use anyhow::{Result, anyhow};
use std::fs::File;
use std::path::{Path, PathBuf};

/// A claim on an `--out` folder: a lock on the folder itself (no lock file is left behind),
/// released when dropped.
#[derive(Debug)]
pub struct OutFolder {
    dir: PathBuf,
    /// Held for the lock; closing it releases it.
    lock: File,
    created: bool,
}

impl OutFolder {
    /// Checks that the report files can be written into `out` (created if missing) and that
    /// no other running sweep holds it.
    ///
    /// # Errors
    /// A one-line message naming `--out` and why.
    pub fn claim(out: &Path) -> Result<Self> {
        let bad = |why: String| anyhow!("--out {}: {why}", out.display());
        if out.exists() && !out.is_dir() {
            return Err(bad("is a file, not a folder".into()));
        }
        let created = !out.exists();
        std::fs::create_dir_all(out).map_err(|e| bad(format!("cannot create the folder ({e})")))?;
        // From here on, dropping `folder` removes what we created.
        let lock = File::open(out).map_err(|e| bad(format!("cannot open the folder ({e})")))?;
        let folder = Self {
            dir: out.to_owned(),
            lock,
            created,
        };
        match folder.lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(bad(
                    "another powersweep sweep is writing there now; give another --out, or wait for it to end".into(),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(bad(format!("cannot lock the folder ({e})")));
            }
        }
        tempfile::Builder::new()
            .prefix(".powersweep-check-")
            .tempfile_in(out)
            .map_err(|e| bad(format!("cannot write in the folder ({e})")))?;
        for name in powersweep_analyzer::RESULTS_FILES {
            let file = out.join(name);
            if file.is_dir() {
                return Err(bad(format!("`{name}` there is a folder")));
            }
            if file.exists() {
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(&file)
                    .map_err(|e| bad(format!("cannot replace `{name}` ({e})")))?;
            }
        }
        Ok(folder)
    }
}

impl Drop for OutFolder {
    fn drop(&mut self) {
        // Only a folder this sweep made, and only while it is empty: `remove_dir` refuses
        // anything else.
        if self.created {
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_on_a_held_folder_is_refused_and_then_granted() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = OutFolder::claim(&out).unwrap();
        let err = OutFolder::claim(&out).unwrap_err().to_string();
        assert!(
            err.contains("another powersweep sweep is writing there now"),
            "{err}"
        );
        std::fs::write(out.join("results.json"), "{}").unwrap();
        drop(first);
        assert!(
            out.join("results.json").is_file(),
            "a folder with results stays"
        );
        drop(OutFolder::claim(&out).unwrap());
    }

    #[test]
    fn a_folder_the_sweep_created_and_left_empty_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        drop(OutFolder::claim(&out).unwrap());
        assert!(!out.exists());
        std::fs::create_dir(&out).unwrap();
        drop(OutFolder::claim(&out).unwrap());
        assert!(out.is_dir(), "a folder the user made stays");
    }

    #[test]
    fn a_file_in_the_way_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::write(&out, "").unwrap();
        let err = OutFolder::claim(&out).unwrap_err().to_string();
        assert!(err.ends_with("is a file, not a folder"), "{err}");
    }
}
