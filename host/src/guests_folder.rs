//! A guests folder laid out as a deployment package lays it out: each component beside its
//! code precompiled for the engine that will run it. Locally this is what keeps compiling out
//! of the emulated environments: at 128 MB an environment has 0.07 vCPU, and compiling the
//! shipped guests there took ~10 s of INIT. Must not run or instantiate anything.

use crate::error::LoadError;
use crate::workload::read_component;
use std::path::Path;

/// Fills `dest` (an existing, empty folder) from the components (`*.wasm`) of `src`: a link to
/// each component and its `.cwasm` for an engine built with `meter` (see
/// [`crate::precompile`]).
///
/// A component that cannot be read or compiled is still linked, so that invoking it reports
/// why, and the others stay usable; it is returned with its error.
///
/// # Errors
/// When `src` cannot be listed or `dest` written.
pub fn precompile_folder(
    src: &Path,
    dest: &Path,
    meter: bool,
    only: Option<&str>,
) -> std::io::Result<Vec<(String, LoadError)>> {
    let mut failed = Vec::new();
    let mut components: Vec<_> = std::fs::read_dir(src)?
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let stem = path.file_stem()?.to_str()?.to_string();
            (path.extension()? == "wasm" && only.is_none_or(|o| o == stem)).then_some((stem, path))
        })
        .collect();
    components.sort();
    for (name, path) in components {
        let absolute = std::path::absolute(&path)?;
        std::os::unix::fs::symlink(&absolute, dest.join(format!("{name}.wasm")))?;
        let compiled = read_component(&path).and_then(|bytes| {
            crate::precompile(&bytes, meter).map_err(|e| LoadError::NotWorkload {
                path: path.clone(),
                reason: crate::workload::one_line(&e),
            })
        });
        match compiled {
            Ok(code) => std::fs::write(dest.join(format!("{name}.cwasm")), code)?,
            Err(e) => failed.push((name, e)),
        }
    }
    Ok(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../guests/dist")
    }

    #[test]
    fn every_shipped_component_gets_its_code_and_a_bad_one_does_not_stop_the_others() {
        let src = tempfile::tempdir().unwrap();
        std::fs::copy(dist().join("testbed.wasm"), src.path().join("testbed.wasm")).unwrap();
        std::fs::write(src.path().join("broken.wasm"), b"\0asm but not really").unwrap();
        std::fs::write(src.path().join("notes.txt"), b"not a component").unwrap();
        let dest = tempfile::tempdir().unwrap();

        let failed = precompile_folder(src.path(), dest.path(), false, None).unwrap();

        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0].0, "broken");
        assert!(dest.path().join("testbed.cwasm").is_file());
        assert!(dest.path().join("broken.wasm").exists());
        assert!(!dest.path().join("broken.cwasm").exists());
        assert!(!dest.path().join("notes.wasm").exists());
    }
}
