//! Rust workloads: a cargo project (or the guests workspace) built for WebAssembly.
//!
//! Two routes, chosen by what the machine has:
//! - rustup with the `wasm32-wasip2` target: rustc links a component directly;
//! - Debian's `rustc-web` + `rust-web-src` + `lld-19` + `wasi-libc`: `-Z build-std` for
//!   `wasm32-wasip1`, then wit-component turns the core module into a component with the
//!   WASI reactor adapter (a library, not a command: no `main`).

use std::path::{Path, PathBuf};
use std::process::Command;

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};

use crate::{BuildError, read};

/// Debian's compiler (`rustc-web`) and its library sources (`rust-web-src`).
pub const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
/// Where `rust-web-src` puts the standard library's sources.
pub const DEBIAN_RUST_SRC: &str = "/usr/lib/rustlib/src/rust/library";
/// The rest of the Debian route: the linker and the WASI C library.
const DEBIAN_LINKER: &str = "/usr/bin/wasm-ld-19";
const DEBIAN_WASI_LIBC: &str = "/usr/lib/wasm32-wasi/libc.a";

/// How this machine can build wasm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// rustup's own `wasm32-wasip2` target.
    Wasip2,
    /// Debian's rustc-web with `-Z build-std`, then componentized here.
    DebianWasip1,
}

impl Route {
    /// The target triple cargo builds for.
    pub fn triple(self) -> &'static str {
        match self {
            Route::Wasip2 => "wasm32-wasip2",
            Route::DebianWasip1 => "wasm32-wasip1",
        }
    }
}

/// Whether rustup has the standard library for `triple` installed.
pub fn rustup_has(triple: &str) -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| {
            o.status.success()
                && String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.trim() == triple)
        })
}

/// The route this machine has.
///
/// # Errors
/// [`BuildError::Missing`] naming the first piece of the Debian route that is absent.
pub fn route() -> Result<Route, BuildError> {
    if rustup_has("wasm32-wasip2") {
        return Ok(Route::Wasip2);
    }
    for piece in [
        DEBIAN_RUSTC,
        DEBIAN_RUST_SRC,
        DEBIAN_LINKER,
        DEBIAN_WASI_LIBC,
    ] {
        if !Path::new(piece).exists() {
            return Err(BuildError::Missing {
                tool: "a wasm toolchain for Rust",
                install: "`rustup target add wasm32-wasip2`, or Debian's route: `apt-get install rustc-web rust-web-src lld-19 wasi-libc`",
            });
        }
    }
    Ok(Route::DebianWasip1)
}

/// Flags that keep this machine's paths out of the binaries, so builds are reproducible.
fn remap_flags(project: &Path) -> String {
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    format!(
        "--remap-path-prefix={}=/guests --remap-path-prefix={}=/cargo",
        project.display(),
        cargo_home.display()
    )
}

/// `cargo build --release` of the project (or workspace) in `dir` by `route`, into
/// `target_dir`; `locked` adds `--locked`. Returns the folder the artifacts are in.
///
/// # Errors
/// [`BuildError::Failed`] with the end of cargo's output.
pub fn cargo_build(
    dir: &Path,
    route: Route,
    target_dir: &Path,
    locked: bool,
) -> Result<PathBuf, BuildError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir)
        .args(["build", "--release", "--target", route.triple()]);
    if locked {
        cmd.arg("--locked");
    }
    match route {
        Route::Wasip2 => {
            cmd.env("RUSTFLAGS", remap_flags(dir));
        }
        Route::DebianWasip1 => {
            cmd.env("RUSTC", DEBIAN_RUSTC)
                // rustc-web is a stable compiler; build-std needs its unstable flags.
                .env("RUSTC_BOOTSTRAP", "1")
                .env(
                    "RUSTFLAGS",
                    format!(
                        "-C linker={DEBIAN_LINKER} -C link-self-contained=no -L native=/usr/lib/wasm32-wasi {}",
                        remap_flags(dir)
                    ),
                )
                .args(["-Z", "build-std=std,panic_abort"]);
        }
    }
    crate::tool::run("cargo build", &mut cmd)?;
    Ok(target_dir.join(route.triple()).join("release"))
}

/// The component of the module `module` (cargo's file stem) that [`cargo_build`] put in
/// `artifacts`: read as is on the wasip2 route, componentized on the Debian route.
///
/// # Errors
/// [`BuildError::Io`] or [`BuildError::Componentize`].
pub fn component(artifacts: &Path, module: &str, route: Route) -> Result<Vec<u8>, BuildError> {
    let path = artifacts.join(format!("{module}.wasm"));
    let bytes = read(path.clone())?;
    match route {
        Route::Wasip2 => Ok(bytes),
        Route::DebianWasip1 => componentize(&bytes).map_err(|e| BuildError::Componentize {
            path,
            source: e.into(),
        }),
    }
}

/// Wraps a core module (with its embedded WIT) into a component, adapting WASI preview 1
/// imports to preview 2 with the reactor adapter.
fn componentize(core: &[u8]) -> anyhow::Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .module(core)?
        .validate(true)
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .encode()
}

/// A single-package cargo project (what `powersweep new --lang rust` makes).
///
/// # Errors
/// As [`route`], [`cargo_build`] and [`component`]; [`BuildError::Failed`] when the project
/// has no `cdylib` target.
pub fn build_project(dir: &Path) -> Result<Vec<u8>, BuildError> {
    let route = route()?;
    let name = cdylib_name(dir)?;
    let artifacts = cargo_build(dir, route, &dir.join("target"), false)?;
    component(&artifacts, &name, route)
}

/// The file name (without `.wasm`) cargo gives the project's `cdylib`: its `[lib] name`,
/// else the package name, with `-` as `_`. Cargo says it (`cargo metadata`), so a manifest
/// is never parsed here.
fn cdylib_name(dir: &Path) -> Result<String, BuildError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let step = "cargo metadata";
    let out = crate::tool::stdout(
        step,
        Command::new(cargo).current_dir(dir).args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
        ]),
    )?;
    let failed = |status: &str, output: String| BuildError::Failed {
        step: step.into(),
        status: status.into(),
        output,
    };
    let metadata: serde_json::Value =
        serde_json::from_slice(&out).map_err(|e| failed("unreadable output", e.to_string()))?;
    let is_cdylib = |t: &&serde_json::Value| {
        t["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"))
    };
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["targets"].as_array().into_iter().flatten())
        .find(is_cdylib)
        .and_then(|t| t["name"].as_str())
        .map(|name| name.replace('-', "_"))
        .ok_or_else(|| {
            failed(
                "no cdylib target",
                format!(
                    "{}: a workload is a library with `crate-type = [\"cdylib\"]` under [lib]",
                    dir.join("Cargo.toml").display()
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(manifest: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
        dir
    }

    #[test]
    fn the_module_is_named_as_cargo_names_the_cdylib() {
        let plain = project(
            "[package]\nname = \"my-job\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n",
        );
        assert_eq!(cdylib_name(plain.path()).unwrap(), "my_job");
        // A first `name =` that is not the package's: a line-by-line reading took this one.
        let renamed = project(
            "[package]\n# name = \"comment\"\nversion = \"0.1.0\"\nname = \"my-job\"\nedition = \"2021\"\n\n[lib]\nname = \"other_name\"\ncrate-type = [\"cdylib\"]\n",
        );
        assert_eq!(cdylib_name(renamed.path()).unwrap(), "other_name");
    }

    #[test]
    fn a_project_without_a_cdylib_is_named_in_one_line() {
        let rlib = project("[package]\nname = \"x\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
        let e = cdylib_name(rlib.path()).unwrap_err().to_string();
        assert!(e.contains("no cdylib target"), "{e}");
        assert!(e.contains("crate-type = [\"cdylib\"]"), "{e}");
        let broken = project("[package\n");
        let e = cdylib_name(broken.path()).unwrap_err().to_string();
        assert!(e.starts_with("cargo metadata failed"), "{e}");
    }
}
