//! `cargo xtask build-guests [--check]`: builds every guest into a component in `guests/dist/`.
//!
//! Two routes, chosen by what the machine has (see guests/README.md):
//! - rustup with the `wasm32-wasip2` target: rustc links a component directly;
//! - Debian's `rustc-web` + `rust-web-src` + `lld-19` + `wasi-libc`: `-Z build-std` for
//!   `wasm32-wasip1`, then `wit-component` turns the core module into a component with the
//!   WASI reactor adapter.
//!
//! Builds must be reproducible across checkouts (CI compares `dist/` byte for byte), so paths
//! are remapped out of the binaries. Must not decide anything about how the host runs guests.

use crate::util::{DEBIAN_RUST_SRC, DEBIAN_RUSTC, cargo, root, run_cmd, rustup_has, target_dir};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};

/// Flags of `build-guests`.
#[derive(clap::Args)]
pub struct Args {
    /// Rebuild and fail if the result differs from what guests/dist/ holds.
    #[arg(long)]
    check: bool,
}

/// Each guest: its folder under guests/ and the name of the core module cargo writes.
const GUESTS: [(&str, &str); 3] = [
    ("pbkdf2", "pbkdf2_workload"),
    ("ddb-writer", "ddb_writer_workload"),
    ("testbed", "testbed_workload"),
];

/// How this machine can build wasm.
enum Route {
    /// rustup's own `wasm32-wasip2` target.
    Wasip2,
    /// Debian's rustc-web with `-Z build-std`, then componentized here.
    DebianWasip1,
}

pub fn run(args: Args) -> Result<()> {
    let guests = root().join("guests");
    let route = route()?;
    let out = target_dir().join("guests");
    let built = match route {
        Route::Wasip2 => build_wasip2(&guests, &out)?,
        Route::DebianWasip1 => build_debian(&guests, &out)?,
    };
    let dist = guests.join("dist");
    std::fs::create_dir_all(&dist)?;
    let mut stale = Vec::new();
    for (name, component) in built {
        let path = dist.join(format!("{name}.wasm"));
        if args.check {
            let committed = std::fs::read(&path).unwrap_or_default();
            if committed != component {
                stale.push(path.display().to_string());
            }
        } else {
            std::fs::write(&path, &component)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("{} ({} KiB)", path.display(), component.len() / 1024);
        }
    }
    if !stale.is_empty() {
        bail!(
            "guests/dist/ is stale: {} differ from a fresh build; run `cargo xtask build-guests` and commit guests/dist/",
            stale.join(", ")
        );
    }
    if args.check {
        println!("guests/dist/ matches a fresh build");
    }
    Ok(())
}

fn route() -> Result<Route> {
    let rustup_has_wasip2 = rustup_has("wasm32-wasip2");
    if rustup_has_wasip2 {
        return Ok(Route::Wasip2);
    }
    let debian = [
        DEBIAN_RUSTC,
        DEBIAN_RUST_SRC,
        "/usr/bin/wasm-ld-19",
        "/usr/lib/wasm32-wasi/libc.a",
    ];
    match debian.iter().find(|p| !Path::new(p).exists()) {
        None => Ok(Route::DebianWasip1),
        Some(missing) => bail!(
            "no wasm toolchain: neither `rustup target add wasm32-wasip2` nor Debian's route \
             ({missing} is missing; `apt-get install rustc-web rust-web-src lld-19 wasi-libc`)"
        ),
    }
}

/// Flags that keep machine-specific paths out of the binaries, so builds are reproducible.
fn remap_flags(guests: &Path) -> String {
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    format!(
        "--remap-path-prefix={}=/guests --remap-path-prefix={}=/cargo",
        guests.display(),
        cargo_home.display()
    )
}

fn build_wasip2(guests: &Path, out: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    run_cmd(
        cargo()
            .current_dir(guests)
            .env("CARGO_TARGET_DIR", out)
            .env("RUSTFLAGS", remap_flags(guests))
            .args([
                "build",
                "--release",
                "--locked",
                "--target",
                "wasm32-wasip2",
            ]),
    )?;
    GUESTS
        .iter()
        .map(|(name, module)| {
            let path = out.join(format!("wasm32-wasip2/release/{module}.wasm"));
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            Ok((name.to_string(), bytes))
        })
        .collect()
}

fn build_debian(guests: &Path, out: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let flags = format!(
        "-C linker=/usr/bin/wasm-ld-19 -C link-self-contained=no -L native=/usr/lib/wasm32-wasi {}",
        remap_flags(guests)
    );
    run_cmd(
        cargo()
            .current_dir(guests)
            .env("RUSTC", DEBIAN_RUSTC)
            // rustc-web is a stable compiler; build-std needs its unstable flags.
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_TARGET_DIR", out)
            .env("RUSTFLAGS", flags)
            .args([
                "build",
                "--release",
                "--locked",
                "--target",
                "wasm32-wasip1",
            ])
            .args(["-Z", "build-std=std,panic_abort"]),
    )?;
    GUESTS
        .iter()
        .map(|(name, module)| {
            let path = out.join(format!("wasm32-wasip1/release/{module}.wasm"));
            let core =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let component =
                componentize(&core).with_context(|| format!("componentizing {name}"))?;
            Ok((name.to_string(), component))
        })
        .collect()
}

/// Wraps a core module (with its embedded WIT) into a component, adapting WASI preview 1
/// imports to preview 2 with the reactor adapter (a library, not a command: no `main`).
fn componentize(core: &[u8]) -> Result<Vec<u8>> {
    wit_component::ComponentEncoder::default()
        .module(core)?
        .validate(true)
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?
        .encode()
}
