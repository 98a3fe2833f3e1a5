//! A loaded workload: a component checked against the world and pre-instantiated once, so
//! that each thread's instance costs microseconds. Must not run jobs.

use crate::bindings;
use crate::error::LoadError;
use crate::state::GuestState;
use powersweep_input::Limit;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

/// The largest component (or precompiled code) the host reads: Lambda's limit on an unzipped
/// deployment package, 250 MB, which holds every workload of a function.
pub const MAX_COMPONENT_BYTES: u64 = 250 * 1024 * 1024;

/// Checks that `name` can name a workload: letters, digits, `-` and `_` only, so that it
/// cannot reach outside the guests folder.
///
/// # Errors
/// [`LoadError::BadName`].
pub fn check_name(name: &str) -> Result<(), LoadError> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(LoadError::BadName(name.to_string()));
    }
    Ok(())
}

/// The limit on a component file, with its reason.
const COMPONENT_LIMIT: Limit = Limit {
    bytes: MAX_COMPONENT_BYTES,
    why: "Lambda's limit for an unzipped deployment package",
};

/// Reads a component file: a regular file (after links) of at most [`MAX_COMPONENT_BYTES`].
///
/// # Errors
/// [`LoadError::Read`].
pub fn read_component(path: &Path) -> Result<Vec<u8>, LoadError> {
    Ok(powersweep_input::read(path, COMPONENT_LIMIT)?)
}

/// A component that implements `powersweep:workload/workload`, ready to instantiate.
pub struct Workload {
    name: Arc<str>,
    source: PathBuf,
    pub(crate) pre: bindings::WorkloadPre<GuestState>,
}

impl Workload {
    /// The workload's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file it was loaded from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    pub(crate) fn name_arc(&self) -> Arc<str> {
        self.name.clone()
    }

    /// Loads `path`: a `.cwasm` made by `cargo xtask package` for this wasmtime and this
    /// architecture, or a component (`.wasm`) that is compiled here.
    pub(crate) fn load(
        engine: &Engine,
        linker: &Linker<GuestState>,
        name: &str,
        path: &Path,
    ) -> Result<Self, LoadError> {
        let component = if path.extension().is_some_and(|e| e == "cwasm") {
            powersweep_input::check(path, COMPONENT_LIMIT)?;
            // SAFETY: `deserialize_file` trusts the file to be wasmtime's own output. It is:
            // `cargo xtask package` writes it next to the component in our deployment package,
            // or the CLI precompiles it into the task root it made for the local emulator; and
            // wasmtime itself rejects files from another version or engine configuration.
            unsafe { Component::deserialize_file(engine, path) }.map_err(|e| {
                LoadError::NotWorkload {
                    path: path.into(),
                    reason: format!("{e}"),
                }
            })?
        } else {
            compile(engine, &read_component(path)?, path)?
        };
        Self::from_component(linker, name, component, path)
    }

    pub(crate) fn from_component(
        linker: &Linker<GuestState>,
        name: &str,
        component: Component,
        path: &Path,
    ) -> Result<Self, LoadError> {
        let not_workload = |e: wasmtime::Error| LoadError::NotWorkload {
            path: path.into(),
            reason: one_line(&e),
        };
        check_contract_version(&component, path)?;
        let pre = linker.instantiate_pre(&component).map_err(not_workload)?;
        let pre = bindings::WorkloadPre::new(pre).map_err(not_workload)?;
        Ok(Self {
            name: name.into(),
            source: path.into(),
            pre,
        })
    }
}

/// Refuses a component that imports an interface of another version of the contract, so that
/// the user reads "rebuild it" rather than wasmtime's "no matching implementation". A
/// component that imports nothing of the contract runs with any version: only the world's
/// unversioned exports remain, and those have not changed.
fn check_contract_version(component: &Component, path: &Path) -> Result<(), LoadError> {
    use bindings::{CONTRACT_PACKAGE, CONTRACT_VERSION};
    let ty = component.component_type();
    let prefix = format!("{CONTRACT_PACKAGE}/");
    for (name, _) in ty.imports(component.engine()) {
        let Some(found) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split_once('@'))
            .map(|(_, version)| version)
        else {
            continue;
        };
        if found != CONTRACT_VERSION {
            return Err(LoadError::ContractVersion {
                path: path.into(),
                found: found.to_string(),
            });
        }
    }
    Ok(())
}

/// Compiles component bytes, telling "not wasm" apart from "not a component". A host built
/// with `--cfg powersweep_precompiled_only` (the arm64 Lambda binary) has no compiler and
/// names what it needs instead.
pub(crate) fn compile(engine: &Engine, bytes: &[u8], path: &Path) -> Result<Component, LoadError> {
    if !bytes.starts_with(b"\0asm") {
        return Err(LoadError::NotWasm { path: path.into() });
    }
    #[cfg(powersweep_precompiled_only)]
    {
        let _ = engine;
        Err(LoadError::NotWorkload {
            path: path.into(),
            reason: "this host loads precompiled code only (the arm64 Lambda binary has no compiler): package the workload with `cargo xtask package`, which writes its .cwasm beside it".into(),
        })
    }
    #[cfg(not(powersweep_precompiled_only))]
    Component::from_binary(engine, bytes).map_err(|e| LoadError::NotWorkload {
        path: path.into(),
        reason: one_line(&e),
    })
}

/// An error chain on one line, as users get it.
pub(crate) fn one_line(e: &wasmtime::Error) -> String {
    e.chain()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(": ")
        .replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::check_name;
    use crate::LoadError;

    #[test]
    fn workload_names_stay_inside_the_guests_folder() {
        for ok in ["pbkdf2", "ddb-writer", "my_job2"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../pbkdf2",
            "a/b",
            "pbkdf2.wasm",
            ".",
            "/etc/passwd",
            "é",
        ] {
            assert!(
                matches!(check_name(bad), Err(LoadError::BadName(n)) if n == bad),
                "{bad}"
            );
        }
    }
}
