//! `cargo xtask package`: the Lambda deployment zips that `template.yaml` points at,
//! `build/lambda/host.zip` (`bootstrap` + `guests/*.wasm` + their `.cwasm`) and
//! `build/lambda/analyzer.zip` (the analyzer, named `bootstrap`).
//!
//! Owns the build, strip, glibc check and zip layout. Must not precompile for another
//! architecture than the one it runs on (the `.cwasm` must come from the host's own engine
//! configuration, `powersweep_host::precompile`), and must not be part of CI's test command:
//! it builds release binaries and is slow.

use crate::util::{cargo, root, run_cmd, target_dir};
use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Amazon Linux 2023 (`provided.al2023`) ships glibc 2.34: the newest symbol version the
/// binaries may need.
const AL2023_GLIBC: (u32, u32) = (2, 34);

/// The guest built only for the host's tests; not a user workload, so not shipped.
const TEST_ONLY_GUEST: &str = "testbed";

/// Lambda's instruction sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Arch {
    /// Intel/AMD (`x86_64` in `template.yaml`).
    #[value(name = "x86_64")]
    X86_64,
    /// Graviton (`arm64` in `template.yaml`).
    Arm64,
}

impl Arch {
    fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }

    fn native() -> Option<Arch> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Arch::X86_64),
            "aarch64" => Some(Arch::Arm64),
            _ => None,
        }
    }

    fn lambda_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }
}

/// Flags of `cargo xtask package`.
#[derive(ClapArgs)]
pub struct Args {
    /// Lambda architecture to package for (default: this machine's).
    #[arg(long, value_enum)]
    arch: Option<Arch>,
    /// Where to write `host.zip` and `analyzer.zip`.
    #[arg(long, default_value = "build/lambda")]
    out: PathBuf,
}

/// Builds, checks and zips.
pub fn run(args: Args) -> Result<()> {
    let native = Arch::native();
    let arch = match (args.arch, native) {
        (Some(a), _) => a,
        (None, Some(n)) => n,
        (None, None) => bail!(
            "this machine ({}) is not a Lambda architecture; pass `--arch x86_64` or `--arch arm64`",
            std::env::consts::ARCH
        ),
    };
    let cross = Some(arch) != native;
    if cross {
        require_rust_target(arch)?;
    }
    let out = if args.out.is_absolute() {
        args.out.clone()
    } else {
        root().join(&args.out)
    };
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;

    eprintln!(
        "building bootstrap and analyzer for {} (release)…",
        arch.triple()
    );
    let mut cargo = cargo();
    cargo.current_dir(root()).args([
        "build",
        "--release",
        "-p",
        "powersweep-host",
        "--bin",
        "bootstrap",
        "-p",
        "powersweep-analyzer",
        "--bin",
        "analyzer",
    ]);
    if cross {
        cargo.args(["--target", arch.triple()]);
    }
    run_cmd(&mut cargo)?;
    let release = if cross {
        target_dir().join(arch.triple()).join("release")
    } else {
        target_dir().join("release")
    };

    // Stripped copies in a scratch folder: the release profile keeps line tables (for the
    // tests' backtraces), which make `bootstrap` ~200 MB; Lambda needs none of it.
    let scratch = tempfile::tempdir().context("no temporary folder")?;
    let bootstrap = stripped_copy(&release.join("bootstrap"), scratch.path(), arch, cross)?;
    let analyzer = stripped_copy(&release.join("analyzer"), scratch.path(), arch, cross)?;
    check_glibc(&bootstrap)?;
    check_glibc(&analyzer)?;

    let guests = guest_files(arch, cross)?;
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
    eprintln!(
        "deploy with `sam deploy --guided --parameter-overrides Architecture={}`",
        arch.lambda_name()
    );
    Ok(())
}

/// Fails with what to do when the Rust target of `arch` is not installed.
fn require_rust_target(arch: Arch) -> Result<()> {
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let installed = match &listed {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| l.trim() == arch.triple()),
        _ => false,
    };
    if !installed {
        bail!(
            "packaging for {arch} needs the Rust target `{triple}`, which is not installed here{how}; \
             install it with `rustup target add {triple}` (plus a linker for it, e.g. \
             `cargo zigbuild`), or run `cargo xtask package` on an {arch} machine",
            arch = arch.lambda_name(),
            triple = arch.triple(),
            how = if listed.is_err() {
                " (no `rustup` on the PATH)"
            } else {
                ""
            },
        );
    }
    Ok(())
}

/// Copies `binary` into `dir` and strips it (debug info and symbols; the dynamic symbols that
/// the loader needs stay).
fn stripped_copy(binary: &Path, dir: &Path, arch: Arch, cross: bool) -> Result<PathBuf> {
    let name = binary
        .file_name()
        .context("binary path without a file name")?;
    let copy = dir.join(name);
    std::fs::copy(binary, &copy)
        .with_context(|| format!("cannot copy {} (was it built?)", binary.display()))?;
    // The host's `strip` only knows the host's architecture; a cross build needs the target's.
    let strip = if cross {
        let cpu = arch.triple().split('-').next().unwrap_or_default();
        format!("{cpu}-linux-gnu-strip")
    } else {
        "strip".to_string()
    };
    run_cmd(Command::new(&strip).arg(&copy))
        .with_context(|| format!("cannot strip {} with `{strip}`", copy.display()))?;
    Ok(copy)
}

/// Fails when `binary` needs a glibc newer than Amazon Linux 2023's, naming the symbols.
fn check_glibc(binary: &Path) -> Result<()> {
    let newer = powersweep_tests::glibc_symbols_newer_than(binary, AL2023_GLIBC)
        .map_err(anyhow::Error::msg)?;
    if !newer.is_empty() {
        let list = newer
            .iter()
            .map(|(sym, ver)| format!("{sym}@{ver}"))
            .collect::<Vec<_>>()
            .join(", ");
        bail!(
            "{} needs a glibc newer than 2.34 (Amazon Linux 2023) for {list}; build against \
             glibc 2.34 with `pip install cargo-zigbuild ziglang` and \
             `cargo zigbuild --release --target x86_64-unknown-linux-gnu.2.34`",
            binary.display()
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

/// `guests/<name>.wasm` and, for a native build, `guests/<name>.cwasm` for every shipped guest.
fn guest_files(arch: Arch, cross: bool) -> Result<Vec<Entry>> {
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
    if cross {
        // Precompiling for another architecture would need a second engine configuration
        // that can drift from the host's; the host compiles the `.wasm` at cold start instead.
        eprintln!(
            "warning: no .cwasm for {}: precompiling only works on the target architecture; \
             cold starts will compile the components",
            arch.lambda_name()
        );
    }
    let mut entries = Vec::new();
    for name in names {
        let wasm = std::fs::read(dist.join(format!("{name}.wasm")))?;
        if !cross {
            let cwasm = powersweep_host::precompile(&wasm, false)
                .map_err(|e| anyhow::anyhow!("cannot precompile guest `{name}`: {e:#}"))?;
            entries.push(Entry::file(format!("guests/{name}.cwasm"), cwasm));
        }
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
