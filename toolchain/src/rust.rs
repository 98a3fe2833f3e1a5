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

/// A single-package cargo project (what `powersweep new --lang rust` makes): its package
/// name is the module's name.
///
/// # Errors
/// As [`route`], [`cargo_build`] and [`component`].
pub fn build_project(dir: &Path) -> Result<Vec<u8>, BuildError> {
    let route = route()?;
    let manifest = read(dir.join("Cargo.toml"))?;
    let manifest = String::from_utf8_lossy(&manifest);
    let name = manifest
        .lines()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix("name")
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix('='))
                .map(|r| r.trim().trim_matches('"').to_owned())
        })
        .ok_or_else(|| BuildError::Failed {
            step: "reading Cargo.toml".into(),
            status: "no package name".into(),
            output: dir.join("Cargo.toml").display().to_string(),
        })?;
    let artifacts = cargo_build(dir, route, &dir.join("target"), false)?;
    component(&artifacts, &name.replace('-', "_"), route)
}
