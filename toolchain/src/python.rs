//! Python workloads: `componentize-py` (PyPI) builds `app.py` and the modules beside it into a
//! component that bundles CPython. Each host thread instantiates its own interpreter, so
//! threads run Python in parallel: no GIL between them.

use std::path::Path;
use std::process::Command;

use crate::{BuildError, read, tool};

/// The componentize-py release the project is tested with.
pub const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

/// Builds `dir/app.py` (its class `WitWorld`) against `dir/wit`.
///
/// # Errors
/// [`BuildError::Missing`] without componentize-py; [`BuildError::Failed`] with its output.
pub fn build(dir: &Path) -> Result<Vec<u8>, BuildError> {
    if !tool::on_path("componentize-py") {
        return Err(BuildError::Missing {
            tool: "componentize-py",
            install: "pip install componentize-py==0.25.1",
        });
    }
    let out = dir.join("target").join("component.wasm");
    std::fs::create_dir_all(dir.join("target")).map_err(|source| BuildError::Io {
        path: dir.join("target"),
        source,
    })?;
    tool::run(
        "componentize-py",
        Command::new("componentize-py")
            .current_dir(dir)
            .args([
                "-d",
                "wit",
                "-w",
                "workload",
                "componentize",
                "-p",
                ".",
                "app",
                "-o",
            ])
            .arg(&out),
    )?;
    read(out)
}
