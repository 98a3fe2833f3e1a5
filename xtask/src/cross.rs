//! How this machine builds the Lambda binaries for the other architecture (`cargo xtask
//! package --arch`): rustup's Rust target where it is installed, else Debian's `rustc-web` +
//! `rust-web-src` with `-Z build-std` (the route the guests take); Debian's cross gcc links
//! and compiles the C inside ring and aws-lc, and its binutils strip.
//!
//! Owns choosing the route and naming what is missing, in one line with the package that
//! provides it. Must not decide what is packaged or check the result (package.rs does).

use crate::arch::{Arch, ToolNames};
use crate::util::{DEBIAN_RUST_SRC, DEBIAN_RUSTC, cargo, on_path, rustup_has, target_dir};
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the Rust standard library for a target comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `rustup target add <triple>` is installed.
    Rustup,
    /// Debian's stable rustc, building std from `rust-web-src` (needs `RUSTC_BOOTSTRAP`).
    DebianBuildStd,
}

/// A cross toolchain for one target triple, checked to be complete.
pub struct Toolchain {
    triple: &'static str,
    /// The GNU prefix of the cross binutils and gcc (`aarch64-linux-gnu`).
    gnu: &'static str,
    route: Route,
}

impl Toolchain {
    /// Finds a complete toolchain for `arch`, or fails naming the first missing piece and
    /// the Debian package that provides it.
    pub fn find(arch: Arch) -> Result<Self> {
        let (triple, gnu, debian_arch) = (arch.triple(), arch.gnu(), arch.debian());
        let gcc_package = format!("gcc-{}", gnu.replace('_', "-"));
        for (tool, package) in [
            (format!("{gnu}-gcc"), gcc_package.clone()),
            (
                format!("{gnu}-strip"),
                format!("binutils-{}", gnu.replace('_', "-")),
            ),
        ] {
            if !on_path(&tool) {
                bail!(
                    "cross-building for {triple} needs `{tool}`, which is not on the PATH; \
                     install it with `apt-get install {package} libc6-dev-{debian_arch}-cross`"
                );
            }
        }
        let libc = PathBuf::from(format!("/usr/{gnu}/lib/libc.so"));
        if !libc.exists() {
            bail!(
                "cross-building for {triple} needs its C library ({} is missing); install it \
                 with `apt-get install libc6-dev-{debian_arch}-cross`",
                libc.display()
            );
        }
        let route = if rustup_has(triple) {
            Route::Rustup
        } else if Path::new(DEBIAN_RUSTC).exists() && Path::new(DEBIAN_RUST_SRC).exists() {
            Route::DebianBuildStd
        } else {
            bail!(
                "cross-building for {triple} needs its Rust standard library: `rustup target \
                 add {triple}`, or Debian's compiler and library source with `apt-get install \
                 rustc-web rust-web-src`"
            );
        };
        Ok(Toolchain { triple, gnu, route })
    }

    /// `cargo build --release --target <triple>` with the linker, C compiler and (on the
    /// Debian route) the compiler and `-Z build-std` set; the caller adds what to build.
    pub fn cargo_build(&self) -> Command {
        let mut cmd = cargo();
        let upper = self.triple.to_uppercase().replace('-', "_");
        let lower = self.triple.replace('-', "_");
        cmd.env(
            format!("CARGO_TARGET_{upper}_LINKER"),
            format!("{}-gcc", self.gnu),
        )
        .env(format!("CC_{lower}"), format!("{}-gcc", self.gnu))
        .env(format!("AR_{lower}"), format!("{}-ar", self.gnu))
        .env("CARGO_TARGET_DIR", self.target_dir())
        // A build for Lambda alone: the host compiles for its own architecture and goes
        // without cranelift's other backend (host/Cargo.toml). With `--target`, RUSTFLAGS
        // reach the target's crates only, not the build scripts.
        .env("RUSTFLAGS", lambda_rustflags())
        .args(["build", "--release", "--locked", "--target", self.triple]);
        if self.route == Route::DebianBuildStd {
            // rustc-web is a stable compiler; build-std needs its unstable flags.
            cmd.env("RUSTC", DEBIAN_RUSTC)
                .env("RUSTC_BOOTSTRAP", "1")
                .args(["-Z", "build-std=std,panic_abort"]);
        }
        cmd
    }

    /// Where [`Self::cargo_build`] leaves the release binaries.
    pub fn release_dir(&self) -> PathBuf {
        self.target_dir().join(self.triple).join("release")
    }

    /// The target's `strip`.
    pub fn strip(&self) -> String {
        format!("{}-strip", self.gnu)
    }

    /// What the build uses, for the progress line.
    pub fn describe(&self) -> String {
        match self.route {
            Route::Rustup => format!("rustup's {} target, {}-gcc", self.triple, self.gnu),
            Route::DebianBuildStd => format!(
                "Debian's rustc with -Z build-std for {}, {}-gcc",
                self.triple, self.gnu
            ),
        }
    }

    /// The Debian route builds with another compiler: its artifacts get a folder of their own
    /// so that they never evict the workspace's (rustup-built) ones.
    fn target_dir(&self) -> PathBuf {
        match self.route {
            Route::Rustup => target_dir(),
            Route::DebianBuildStd => target_dir().join("debian-cross"),
        }
    }
}

/// The caller's RUSTFLAGS, and the cfg that makes a build the Lambda binary's alone.
fn lambda_rustflags() -> String {
    let given = std::env::var("RUSTFLAGS").unwrap_or_default();
    format!("{given} --cfg powersweep_lambda_only")
        .trim()
        .to_string()
}
