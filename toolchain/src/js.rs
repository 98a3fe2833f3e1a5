//! JavaScript workloads: the project's `app.js` (an ES module exporting `describe`, `plan`
//! and `run`) is bundled with its npm dependencies by esbuild, then `componentize-js` (npm)
//! wraps it with the StarlingMonkey engine. Both tools come from the project's own
//! `package.json`, installed with `npm install` when `node_modules` lacks them.
//!
//! WASI's HTTP interfaces are left out (`-d http -d fetch-event`): the host gives a workload
//! no network, and a component importing them would not link.

use std::path::Path;
use std::process::Command;

use crate::{BuildError, read, tool};

/// Builds `dir/app.js` against `dir/wit`.
///
/// # Errors
/// [`BuildError::Missing`] without node and npm; [`BuildError::Failed`] with the output of
/// the step that failed.
pub fn build(dir: &Path) -> Result<Vec<u8>, BuildError> {
    for node_tool in ["node", "npm"] {
        if !tool::on_path(node_tool) {
            return Err(BuildError::Missing {
                tool: "node and npm",
                install: "apt-get install nodejs npm (Node 20 or newer)",
            });
        }
    }
    let bin = dir.join("node_modules").join(".bin");
    if !tool::is_executable(&bin.join("componentize-js"))
        || !tool::is_executable(&bin.join("esbuild"))
    {
        tool::run(
            "npm install",
            Command::new("npm")
                .current_dir(dir)
                .args(["install", "--no-audit", "--no-fund"]),
        )?;
    }
    let target = dir.join("target");
    std::fs::create_dir_all(&target).map_err(|source| BuildError::Io {
        path: target.clone(),
        source,
    })?;
    tool::run(
        "esbuild",
        Command::new(bin.join("esbuild")).current_dir(dir).args([
            "app.js",
            "--bundle",
            "--format=esm",
            "--platform=neutral",
            "--outfile=target/bundle.js",
        ]),
    )?;
    // componentize-js reads the WIT inside a WASI sandbox rooted at the working directory:
    // a copy in the project (the project's `wit` may be a link out of it), by relative path.
    copy_dir(&dir.join("wit"), &target.join("wit"))?;
    tool::run(
        "componentize-js",
        Command::new(bin.join("componentize-js"))
            .current_dir(dir)
            .args([
                "target/bundle.js",
                "--wit",
                "target/wit",
                "--world-name",
                "workload",
                "-d",
                "http",
                "-d",
                "fetch-event",
                "-o",
                "target/component.wasm",
            ]),
    )?;
    read(target.join("component.wasm"))
}

/// Copies the files of `from` (links followed) into `to`.
fn copy_dir(from: &Path, to: &Path) -> Result<(), BuildError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Io { path, source }
    };
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let path = entry.path();
        if path.is_file() {
            std::fs::copy(&path, to.join(entry.file_name())).map_err(io(&path))?;
        }
    }
    Ok(())
}
