//! Paths and process helpers shared by the xtask commands. No command logic here.

use crate::arch::{self, Arch};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `cargo xtask package` writes the Lambda zips and `template.yaml`'s `CodeUri`s point:
/// a folder per architecture (see [`lambda_dir`]).
pub const LAMBDA_DIR: &str = "build/lambda";

/// The folder of `arch`'s zips (`host.zip`, `analyzer.zip`) under `base`: `base/<arch>`, named
/// as Lambda names the architecture (`x86_64`, `arm64`).
pub fn lambda_dir(base: &Path, arch: Arch) -> PathBuf {
    base.join(arch.as_str())
}

/// The command that writes the zip at `path`: with `--arch` when its folder names one.
pub fn package_command(path: &Path) -> String {
    let folder = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|f| f.to_str());
    match folder.and_then(arch::named) {
        Some(arch) => format!("cargo xtask package --arch {arch}"),
        None => "cargo xtask package".into(),
    }
}

/// `path` relative to the workspace root when it is inside it, for messages.
pub fn shown(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

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

/// A `cargo` command for a nested build, without the variables `cargo run` set for xtask.
///
/// Why: some build scripts (ring's) rerun when `CARGO_MANIFEST_DIR` changes, so a nested
/// build that inherits xtask's would rebuild ring and everything above it (the AWS SDK, a few
/// minutes) and the next plain `cargo build` would do it again.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let set_by_cargo_run = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || matches!(
                name,
                "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
            );
        if set_by_cargo_run {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// Builds the real `bootstrap` (release) and returns its path in the target directory.
pub fn build_bootstrap() -> Result<PathBuf> {
    eprintln!("building bootstrap (release)…");
    run_cmd(cargo().current_dir(root()).args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "powersweep-host",
        "--bin",
        "bootstrap",
    ]))?;
    Ok(target_dir().join("release/bootstrap"))
}

/// A Lambda task root in a temporary folder: `guests/` holds every component of `guests/dist`
/// and its `.cwasm`, precompiled with the host's engine, as `cargo xtask package` ships them.
pub fn task_root() -> Result<tempfile::TempDir> {
    let root_dir = tempfile::tempdir().context("no temporary folder")?;
    let guests = root_dir.path().join("guests");
    std::fs::create_dir(&guests)?;
    let dist = root().join("guests/dist");
    let failed = powersweep_host::precompile_folder(&dist, &guests, false, None)
        .with_context(|| format!("cannot lay out {}", dist.display()))?;
    if let Some((name, error)) = failed.first() {
        bail!("cannot precompile guest `{name}`: {error}");
    }
    Ok(root_dir)
}

/// Opens a zip `cargo xtask package` writes, saying how to make it when it is missing.
pub fn open_zip(path: &Path) -> Result<zip::ZipArchive<std::fs::File>> {
    let file = std::fs::File::open(path).with_context(|| {
        format!(
            "cannot open {} (run `{}` first)",
            path.display(),
            package_command(path)
        )
    })?;
    zip::ZipArchive::new(file).with_context(|| format!("{} is not a zip", path.display()))
}

/// Debian's stable compiler (`rustc-web`) and the standard library's source
/// (`rust-web-src`): the route to wasm and to the other Lambda architecture where rustup
/// lacks the target. One definition, the toolchain crate's, as is `on_path`.
pub use powersweep_toolchain::on_path;
pub use powersweep_toolchain::rust::{DEBIAN_RUST_SRC, DEBIAN_RUSTC, rustup_has};

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

/// Invokes `name` synchronously with `payload`; returns the emulator's output and the response
/// body, failing on a function error or a body that is not JSON.
pub async fn invoke(
    emu: &powersweep_emulator::Emulator,
    name: &str,
    payload: Vec<u8>,
) -> Result<(powersweep_emulator::InvokeOutput, serde_json::Value)> {
    let out = emu
        .invoke(powersweep_emulator::InvokeRequest {
            function_name: name.into(),
            payload,
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("invoke {name}: {e}"))?;
    let body: serde_json::Value =
        serde_json::from_slice(&out.payload).context("response is not JSON")?;
    if out.function_error.is_some() {
        bail!("{name} failed: {body}");
    }
    Ok((out, body))
}

/// The number at `key` of a response body.
pub fn number(body: &serde_json::Value, key: &str) -> Result<f64> {
    body.get(key)
        .and_then(serde_json::Value::as_f64)
        .with_context(|| format!("response without `{key}`: {body}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_command_names_the_architecture_of_the_zips_folder() {
        let base = Path::new(LAMBDA_DIR);
        assert_eq!(
            package_command(&lambda_dir(base, Arch::Arm64).join("host.zip")),
            "cargo xtask package --arch arm64"
        );
        assert_eq!(
            package_command(&lambda_dir(base, Arch::X86_64).join("analyzer.zip")),
            "cargo xtask package --arch x86_64"
        );
        // A folder that names no architecture (the layout before one folder per architecture).
        assert_eq!(
            package_command(&base.join("host.zip")),
            "cargo xtask package"
        );
    }
}
