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
        // With `--target`, RUSTFLAGS reach the target's crates only, not the build scripts.
        .env(
            "RUSTFLAGS",
            lambda_rustflags(self.triple, &std::env::var("RUSTFLAGS").unwrap_or_default()),
        )
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

/// The caller's RUSTFLAGS (`given`), and for arm64 the cfg that builds the host without a
/// compiler: on Lambda it loads the code its package ships, precompiled for the aarch64
/// baseline every Graviton has (host/Cargo.toml). The x86_64 host keeps its compiler: its
/// code assumes AVX2, and a host without it compiles the component instead.
fn lambda_rustflags(triple: &str, given: &str) -> String {
    if triple.starts_with("aarch64") {
        format!("{given} --cfg powersweep_precompiled_only")
            .trim()
            .to_string()
    } else {
        given.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::lambda_rustflags;

    #[test]
    fn only_the_arm64_host_goes_without_a_compiler_and_the_callers_flags_stay() {
        assert_eq!(
            lambda_rustflags("aarch64-unknown-linux-gnu", ""),
            "--cfg powersweep_precompiled_only"
        );
        assert_eq!(
            lambda_rustflags("aarch64-unknown-linux-gnu", "-C debuginfo=0"),
            "-C debuginfo=0 --cfg powersweep_precompiled_only"
        );
        assert_eq!(
            lambda_rustflags("x86_64-unknown-linux-gnu", "-C debuginfo=0"),
            "-C debuginfo=0"
        );
    }
}
