//! Paths and process helpers shared by the xtask commands. No command logic here.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Runs a command, failing with its command line when it does not succeed.
pub fn run_cmd(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

/// The cargo target directory the workspace uses (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Builds the real `bootstrap` (release) and returns its path in the target directory.
pub fn build_bootstrap() -> Result<PathBuf> {
    eprintln!("building bootstrap (release)…");
    run_cmd(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root())
            .args([
                "build",
                "--release",
                "--quiet",
                "-p",
                "powersweep-host",
                "--bin",
                "bootstrap",
            ]),
    )?;
    Ok(target_dir().join("release/bootstrap"))
}

/// A Lambda task root in a temporary folder: `guests/` holds every component of `guests/dist`
/// and its `.cwasm`, precompiled with the host's engine, as `cargo xtask package` ships them.
pub fn task_root() -> Result<tempfile::TempDir> {
    let root_dir = tempfile::tempdir().context("no temporary folder")?;
    let guests = root_dir.path().join("guests");
    std::fs::create_dir(&guests)?;
    let dist = root().join("guests/dist");
    for entry in
        std::fs::read_dir(&dist).with_context(|| format!("cannot list {}", dist.display()))?
    {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "wasm") {
            continue;
        }
        let (Some(stem), Some(name)) = (path.file_stem(), path.file_name()) else {
            continue;
        };
        let bytes = std::fs::read(&path)?;
        let cwasm = powersweep_host::precompile(&bytes)
            .map_err(|e| anyhow::anyhow!("cannot precompile {}: {e:#}", path.display()))?;
        std::fs::write(guests.join(name), &bytes)?;
        std::fs::write(guests.join(stem).with_extension("cwasm"), cwasm)?;
    }
    Ok(root_dir)
}

/// The median of `values` (NaN when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The `q` quantile (0–1) of `values`, nearest rank (NaN when empty).
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}
