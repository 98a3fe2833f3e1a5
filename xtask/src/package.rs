//! `cargo xtask package [--arch A]`: the Lambda deployment zips that `template.yaml` points
//! at, in the folder of their architecture: `build/lambda/<arch>/host.zip` (`bootstrap` +
//! `guests/*.wasm` + their `.cwasm`) and `build/lambda/<arch>/analyzer.zip` (the analyzer,
//! named `bootstrap`). The template deploys both architectures' `host.zip` and the arm64
//! `analyzer.zip`, so a deployment needs a run for each architecture.
//!
//! Owns the build, strip, glibc check and zip layout, for either architecture on either
//! machine (cross.rs finds the cross toolchain). The `.cwasm` come from the host's own engine
//! configuration for the target (`powersweep_host::precompile_for_target`), never from a
//! second one. Must not be part of CI's test command: it builds release binaries and is slow
//! (CI runs it, and `cargo xtask smoke` on the zip, as steps of their own).

use crate::arch::{self, Arch, ToolNames};
use crate::cross::Toolchain;
use crate::util::{LAMBDA_DIR, cargo, lambda_dir, root, run_cmd, shown, target_dir};
use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Amazon Linux 2023 (`provided.al2023`) ships glibc 2.34: the newest symbol version the
/// binaries may need.
const AL2023_GLIBC: (u32, u32) = (2, 34);

/// The guest built only for the host's tests; not a user workload, so not shipped.
const TEST_ONLY_GUEST: &str = "testbed";

/// Flags of `cargo xtask package`.
#[derive(ClapArgs)]
pub struct Args {
    /// Lambda architecture to package for (default: this machine's).
    #[arg(long, value_enum)]
    arch: Option<Arch>,
    /// The base folder: `host.zip` and `analyzer.zip` go to `<OUT>/<arch>/`.
    #[arg(long, default_value = LAMBDA_DIR)]
    out: PathBuf,
}

/// Builds, checks and zips.
pub fn run(args: Args) -> Result<()> {
    let native = arch::native();
    let arch = match (args.arch, native) {
        (Some(a), _) => a,
        (None, Some(n)) => n,
        (None, None) => bail!(
            "this machine ({}) is not a Lambda architecture; pass `--arch x86_64` or `--arch arm64`",
            std::env::consts::ARCH
        ),
    };
    let cross = if Some(arch) == native {
        None
    } else {
        Some(Toolchain::find(arch)?)
    };
    let base = if args.out.is_absolute() {
        args.out.clone()
    } else {
        root().join(&args.out)
    };
    let out = lambda_dir(&base, arch);
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    let mut cargo = match &cross {
        None => {
            eprintln!(
                "building bootstrap and analyzer for {} (release)…",
                arch.triple()
            );
            let mut cargo = cargo();
            cargo.args(["build", "--release"]);
            cargo
        }
        Some(toolchain) => {
            eprintln!(
                "cross-building bootstrap and analyzer (release) with {}…",
                toolchain.describe()
            );
            toolchain.cargo_build()
        }
    };
    cargo.current_dir(root()).args([
        "-p",
        "powersweep-host",
        "--bin",
        "bootstrap",
        "-p",
        "powersweep-analyzer",
        "--bin",
        "analyzer",
    ]);
    run_cmd(&mut cargo)?;
    let (release, strip) = match &cross {
        None => (target_dir().join("release"), "strip".to_string()),
        Some(toolchain) => (toolchain.release_dir(), toolchain.strip()),
    };

    // Stripped copies in a scratch folder: the release profile keeps line tables (for the
    // tests' backtraces), which make `bootstrap` ~200 MB; Lambda needs none of it.
    let scratch = tempfile::tempdir().context("no temporary folder")?;
    let bootstrap = stripped_copy(&release.join("bootstrap"), scratch.path(), &strip)?;
    let analyzer = stripped_copy(&release.join("analyzer"), scratch.path(), &strip)?;
    for binary in [&bootstrap, &analyzer] {
        check_glibc(binary, arch)?;
        let built = arch::of_elf(&std::fs::read(binary)?);
        if built != Some(arch) {
            bail!(
                "{} was built for {}, not {}: the cross build did not take",
                binary.display(),
                built.map_or("another instruction set", |a| a.as_str()),
                arch.as_str()
            );
        }
    }

    let guests = guest_files(arch)?;
    let host_zip = out.join("host.zip");
    let mut entries = vec![Entry::executable("bootstrap", std::fs::read(&bootstrap)?)];
    entries.extend(guests);
    write_zip(&host_zip, &entries)?;
    let analyzer_zip = out.join("analyzer.zip");
    write_zip(
        &analyzer_zip,
        &[Entry::executable("bootstrap", std::fs::read(&analyzer)?)],
    )?;

    for (zip, what) in [(&host_zip, &entries[..]), (&analyzer_zip, &[][..])] {
        let size = std::fs::metadata(zip)?.len();
        eprintln!(
            "wrote {} ({:.1} MB{})",
            zip.display(),
            size as f64 / 1e6,
            if what.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    what.iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    let smoke = if Some(arch) == native && base == root().join(LAMBDA_DIR) {
        "cargo xtask smoke".to_string()
    } else {
        format!("cargo xtask smoke {}", shown(&host_zip))
    };
    // What `cargo xtask deploy` still lacks, by the command that builds it.
    let mut missing: Vec<(Arch, Vec<String>)> = Vec::new();
    for (a, zip) in crate::deploy::ZIPS {
        let path = lambda_dir(&base, a).join(zip);
        if path.is_file() {
            continue;
        }
        match missing.iter_mut().find(|(m, _)| *m == a) {
            Some((_, paths)) => paths.push(shown(&path)),
            None => missing.push((a, vec![shown(&path)])),
        }
    }
    let still_missing: Vec<String> = missing
        .iter()
        .map(|(a, paths)| format!("{} (`cargo xtask package --arch {a}`)", paths.join(" and ")))
        .collect();
    if still_missing.is_empty() {
        eprintln!("check it with `{smoke}`; deploy with `cargo xtask deploy -- --guided`");
    } else {
        eprintln!(
            "check it with `{smoke}`; `cargo xtask deploy` also needs {}",
            still_missing.join(", ")
        );
    }
    Ok(())
}

/// Copies `binary` into `dir` and strips it (debug info and symbols; the dynamic symbols that
/// the loader needs stay).
fn stripped_copy(binary: &Path, dir: &Path, strip: &str) -> Result<PathBuf> {
    let name = binary
        .file_name()
        .context("binary path without a file name")?;
    let copy = dir.join(name);
    std::fs::copy(binary, &copy)
        .with_context(|| format!("cannot copy {} (was it built?)", binary.display()))?;
    run_cmd(Command::new(strip).arg(&copy))
        .with_context(|| format!("cannot strip {} with `{strip}`", copy.display()))?;
    Ok(copy)
}

/// Fails when `binary` needs a glibc newer than Amazon Linux 2023's, naming the symbols.
fn check_glibc(binary: &Path, arch: Arch) -> Result<()> {
    let newer = powersweep_test_support::glibc_symbols_newer_than(binary, AL2023_GLIBC)?;
    if !newer.is_empty() {
        let list = newer
            .iter()
            .map(|(sym, ver)| format!("{sym}@{ver}"))
            .collect::<Vec<_>>()
            .join(", ");
        bail!(
            "{} needs a glibc newer than 2.34 (Amazon Linux 2023) for {list}; build against \
             glibc 2.34 with `pip install cargo-zigbuild ziglang` and \
             `cargo zigbuild --release --target {}.2.34` (zig links against any glibc \
             version; `cargo xtask package` does not do this itself)",
            binary.display(),
            arch.triple()
        );
    }
    Ok(())
}

/// One file in a zip.
struct Entry {
    name: String,
    bytes: Vec<u8>,
    mode: u32,
}

impl Entry {
    fn executable(name: &str, bytes: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            bytes,
            mode: 0o755,
        }
    }

    fn file(name: String, bytes: Vec<u8>) -> Self {
        Self {
            name,
            bytes,
            mode: 0o644,
        }
    }
}

/// `guests/<name>.wasm` and `guests/<name>.cwasm` (compiled for `arch`) for every shipped guest.
fn guest_files(arch: Arch) -> Result<Vec<Entry>> {
    let dist = root().join("guests/dist");
    let mut names: Vec<String> = std::fs::read_dir(&dist)
        .with_context(|| format!("cannot list {}", dist.display()))?
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "wasm").then_some(())?;
            path.file_stem()?.to_str().map(str::to_string)
        })
        .filter(|name| name != TEST_ONLY_GUEST)
        .collect();
    names.sort();
    if names.is_empty() {
        bail!(
            "no guests in {}; run `cargo xtask build-guests`",
            dist.display()
        );
    }
    let mut entries = Vec::new();
    for name in names {
        let wasm = std::fs::read(dist.join(format!("{name}.wasm")))?;
        // For the target's baseline CPU even on a native build: the packaging machine may
        // have features (AVX-512, say) that Lambda's CPUs lack, and the host would then refuse
        // the `.cwasm` and compile at every cold start.
        let cwasm = powersweep_host::precompile_for_target(&wasm, arch.triple())
            .map_err(|e| anyhow::anyhow!("cannot precompile guest `{name}`: {e:#}"))?;
        entries.push(Entry::file(format!("guests/{name}.cwasm"), cwasm));
        entries.push(Entry::file(format!("guests/{name}.wasm"), wasm));
    }
    Ok(entries)
}

fn write_zip(path: &Path, entries: &[Entry]) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut zip = zip::ZipWriter::new(file);
    for entry in entries {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(entry.mode);
        zip.start_file(entry.name.as_str(), options)?;
        zip.write_all(&entry.bytes)?;
    }
    zip.finish()
        .with_context(|| format!("cannot finish {}", path.display()))?;
    Ok(())
}
