//! `cargo xtask deploy [--zips DIR] [-- SAM-ARGS…]`: `sam deploy` with the template's
//! `Architecture` taken from the zips `cargo xtask package` built, so that the two cannot
//! disagree: Lambda would otherwise accept an x86_64 `bootstrap` on an arm64 function and fail
//! every invocation with `Runtime.InvalidEntrypoint`.
//!
//! Owns reading the zips' architecture and the `sam` command line. Must not build or change
//! the zips, and must not talk to AWS itself (sam does, with the user's configuration).

use crate::arch::{self, Arch};
use crate::util::{root, run_cmd};
use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Flags of `cargo xtask deploy`.
#[derive(ClapArgs)]
pub struct Args {
    /// The folder with `host.zip` and `analyzer.zip`.
    #[arg(long, default_value = "build/lambda")]
    zips: PathBuf,
    /// Passed on to `sam deploy` (e.g. `--guided`, `--stack-name`, `--parameter-overrides`).
    #[arg(last = true)]
    sam: Vec<String>,
}

/// The zips of one deployment, each with the function it holds.
const ZIPS: [&str; 2] = ["host.zip", "analyzer.zip"];

pub fn run(args: Args) -> Result<()> {
    let dir = if args.zips.is_absolute() {
        args.zips.clone()
    } else {
        root().join(&args.zips)
    };
    let arch = zips_architecture(&dir)?;
    let sam_args = sam_args(arch, &args.sam)?;
    if !crate::util::on_path("sam") {
        bail!(
            "deploying needs the AWS SAM CLI (`sam`), which is not on the PATH; install it with `pip install aws-sam-cli`"
        );
    }
    eprintln!("deploying the {} zips in {}", arch.as_str(), dir.display());
    run_cmd(
        Command::new("sam")
            .current_dir(root())
            .arg("deploy")
            .args(&sam_args),
    )
}

/// The one architecture of both zips' `bootstrap`, or why there is none.
fn zips_architecture(dir: &Path) -> Result<Arch> {
    let mut found: Vec<(&str, Arch)> = Vec::new();
    for zip in ZIPS {
        let path = dir.join(zip);
        let bootstrap = read_entry(&path, "bootstrap")?;
        let arch = arch::of_elf(&bootstrap).with_context(|| {
            format!(
                "`bootstrap` in {} is not an x86_64 or arm64 executable",
                path.display()
            )
        })?;
        found.push((zip, arch));
    }
    let (first_zip, first) = found[0];
    if let Some((zip, other)) = found.iter().find(|(_, a)| *a != first) {
        bail!(
            "{first_zip} is {} but {zip} is {}: run `cargo xtask package --arch …` once for both",
            first.as_str(),
            other.as_str()
        );
    }
    Ok(first)
}

/// The bytes of `name` inside the zip at `path`.
fn read_entry(path: &Path, name: &str) -> Result<Vec<u8>> {
    let mut archive = crate::util::open_zip(path)?;
    let mut entry = archive
        .by_name(name)
        .with_context(|| format!("{} has no `{name}`", path.display()))?;
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// `sam deploy`'s arguments: the user's, with `Architecture=<the zips'>` added to the
/// parameter overrides. A user's `Architecture` that disagrees with the zips is an error.
fn sam_args(arch: Arch, user: &[String]) -> Result<Vec<String>> {
    let mut args = Vec::new();
    let mut overrides = Vec::new();
    let mut in_overrides = false;
    for arg in user {
        if let Some(value) = arg.strip_prefix("--parameter-overrides=") {
            overrides.push(value.to_string());
            in_overrides = false;
        } else if arg == "--parameter-overrides" {
            in_overrides = true;
        } else if in_overrides && !arg.starts_with('-') {
            overrides.push(arg.clone());
        } else {
            in_overrides = false;
            args.push(arg.clone());
        }
    }
    for value in overrides.iter().flat_map(|o| o.split_whitespace()) {
        let value = value.trim_start_matches("ParameterKey=");
        let Some(given) = value
            .strip_prefix("Architecture=")
            .or_else(|| value.strip_prefix("Architecture,ParameterValue="))
        else {
            continue;
        };
        if given != arch.as_str() {
            bail!(
                "--parameter-overrides sets Architecture={given}, but the zips are {}: package \
                 for {given} (`cargo xtask package --arch {given}`) or drop the override",
                arch.as_str()
            );
        }
    }
    overrides.push(format!("Architecture={}", arch.as_str()));
    args.push("--parameter-overrides".into());
    args.extend(overrides);
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_architecture_comes_from_the_zips_and_other_overrides_are_kept() {
        let args = sam_args(
            Arch::Arm64,
            &strings(&[
                "--guided",
                "--parameter-overrides",
                "HostTimeoutSeconds=60",
                "-t",
                "t.yaml",
            ]),
        )
        .unwrap();
        assert_eq!(
            args,
            strings(&[
                "--guided",
                "-t",
                "t.yaml",
                "--parameter-overrides",
                "HostTimeoutSeconds=60",
                "Architecture=arm64"
            ])
        );
        let args = sam_args(Arch::X86_64, &[]).unwrap();
        assert_eq!(
            args,
            strings(&["--parameter-overrides", "Architecture=x86_64"])
        );
    }

    #[test]
    fn an_override_that_disagrees_with_the_zips_is_refused_one_that_agrees_is_not() {
        for given in [
            "--parameter-overrides=Architecture=x86_64",
            "ParameterKey=Architecture,ParameterValue=x86_64",
        ] {
            let user = if given.starts_with("--") {
                strings(&[given])
            } else {
                strings(&["--parameter-overrides", given])
            };
            let e = sam_args(Arch::Arm64, &user).unwrap_err().to_string();
            assert!(
                e.contains("Architecture=x86_64, but the zips are arm64"),
                "{e}"
            );
        }
        sam_args(
            Arch::Arm64,
            &strings(&["--parameter-overrides", "Architecture=arm64"]),
        )
        .unwrap();
    }

    #[test]
    fn zips_of_two_architectures_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        // The smallest ELF headers `object` accepts for each machine.
        for (zip, machine) in [("host.zip", 0xB7u16), ("analyzer.zip", 0x3E)] {
            let file = std::fs::File::create(dir.path().join(zip)).unwrap();
            let mut w = zip::ZipWriter::new(file);
            w.start_file("bootstrap", zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut w, &elf_header(machine)).unwrap();
            w.finish().unwrap();
        }
        let e = zips_architecture(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("host.zip is arm64 but analyzer.zip is x86_64"),
            "{e}"
        );
        let e = zips_architecture(&dir.path().join("none"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("run `cargo xtask package` first"), "{e}");
    }

    /// A 64-bit little-endian ELF header of an executable for `machine`, with no sections.
    fn elf_header(machine: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2; // 64-bit
        h[5] = 1; // little-endian
        h[6] = 1; // version
        h[16..18].copy_from_slice(&2u16.to_le_bytes()); // executable
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h[20..24].copy_from_slice(&1u32.to_le_bytes());
        h[52..54].copy_from_slice(&64u16.to_le_bytes()); // header size
        h
    }
}
