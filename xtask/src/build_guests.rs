//! `cargo xtask build-guests [--check]`: builds every Rust guest into a component in
//! `guests/dist/`, by whichever route the machine has (`powersweep-toolchain`'s
//! `rust` module: rustup's `wasm32-wasip2`, else Debian's `rustc-web` with `-Z build-std`).
//!
//! Builds must be reproducible across checkouts (CI compares `dist/` byte for byte), so paths
//! are remapped out of the binaries. Must not decide anything about how the host runs guests.
//! The Python and JavaScript workloads are built with `powersweep build` instead: their
//! components are tens of MB and not committed.

use crate::util::{root, target_dir};
use anyhow::{Context, Result, bail};
use powersweep_toolchain::rust;

/// Flags of `build-guests`.
#[derive(clap::Args)]
pub struct Args {
    /// Rebuild and fail if the result differs from what guests/dist/ holds.
    #[arg(long)]
    check: bool,
}

/// Each guest: its folder under guests/ and the name of the core module cargo writes.
const GUESTS: [(&str, &str); 4] = [
    ("pbkdf2", "pbkdf2_workload"),
    ("bcrypt", "bcrypt_workload"),
    ("ddb-writer", "ddb_writer_workload"),
    ("testbed", "testbed_workload"),
];

pub fn run(args: Args) -> Result<()> {
    let guests = root().join("guests");
    let route = rust::route()?;
    let artifacts = rust::cargo_build(&guests, route, &target_dir().join("guests"), true)?;
    let built = GUESTS
        .iter()
        .map(|(name, module)| {
            Ok((
                name.to_string(),
                rust::component(&artifacts, module, route)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
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
