//! `cargo xtask deploy [--zips DIR] [-- SAM-ARGS…]`: `sam deploy`, once every zip
//! `template.yaml` deploys is there and holds a `bootstrap` of its function's architecture
//! (the folder it is in): Lambda would otherwise accept an x86_64 `bootstrap` on an arm64
//! function and fail every invocation with `Runtime.InvalidEntrypoint`.
//!
//! Owns the list of zips a deployment needs, reading their architecture, and the check of the
//! `sam` command line. Must not build or change the zips, and must not talk to AWS itself (sam
//! does, with the user's configuration).

use crate::arch::{self, Arch};
use crate::util::{LAMBDA_DIR, lambda_dir, root, run_cmd, shown};
use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Flags of `cargo xtask deploy`.
#[derive(ClapArgs)]
pub struct Args {
    /// The folder with the zips, a subfolder per architecture (`x86_64/`, `arm64/`), as
    /// `cargo xtask package` writes them.
    #[arg(long, default_value = LAMBDA_DIR)]
    zips: PathBuf,
    /// Passed on to `sam deploy` as given (e.g. `--guided`, `--stack-name`,
    /// `--parameter-overrides`).
    #[arg(last = true)]
    sam: Vec<String>,
}

/// The zips a deployment needs, each in the folder of its function's architecture, as
/// `template.yaml`'s `CodeUri`s name them: a host function per architecture, and the analyzer
/// on arm64.
pub const ZIPS: [(Arch, &str); 3] = [
    (Arch::X86_64, "host.zip"),
    (Arch::Arm64, "host.zip"),
    (Arch::Arm64, "analyzer.zip"),
];

pub fn run(args: Args) -> Result<()> {
    check_overrides(&args.sam)?;
    let base = if args.zips.is_absolute() {
        args.zips.clone()
    } else {
        root().join(&args.zips)
    };
    check_zips(&base)?;
    if !crate::util::on_path("sam") {
        bail!(
            "deploying needs the AWS SAM CLI (`sam`), which is not on the PATH; install it with `pip install aws-sam-cli`"
        );
    }
    let zips: Vec<String> = ZIPS
        .iter()
        .map(|(a, zip)| format!("{} ({a})", shown(&lambda_dir(&base, *a).join(zip))))
        .collect();
    eprintln!("deploying {}", zips.join(", "));
    run_cmd(
        Command::new("sam")
            .current_dir(root())
            .arg("deploy")
            .args(&args.sam),
    )
}

/// Fails, in one line, naming every zip of [`ZIPS`] under `base` that is missing or not of
/// its folder's architecture, and the commands that build them.
fn check_zips(base: &Path) -> Result<()> {
    let mut problems = Vec::new();
    let mut rebuild: Vec<Arch> = Vec::new();
    for (arch, zip) in ZIPS {
        let path = lambda_dir(base, arch).join(zip);
        if let Some(problem) = zip_problem(&path, arch) {
            problems.push(format!("{} {problem}", shown(&path)));
            if !rebuild.contains(&arch) {
                rebuild.push(arch);
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let commands: Vec<String> = rebuild
        .iter()
        .map(|a| format!("`cargo xtask package --arch {a}`"))
        .collect();
    bail!("{}: run {}", problems.join("; "), commands.join(" and "))
}

/// What keeps the zip at `path` from serving a function of `arch`, if anything.
fn zip_problem(path: &Path, arch: Arch) -> Option<String> {
    if !path.exists() {
        return Some("is missing".into());
    }
    let bootstrap = match read_bootstrap(path) {
        Ok(bytes) => bytes,
        Err(why) => return Some(why),
    };
    match arch::of_elf(&bootstrap) {
        Some(found) if found == arch => None,
        Some(found) => Some(format!("holds an {found} `bootstrap`, not {arch}")),
        None => Some("holds a `bootstrap` that is not an x86_64 or arm64 executable".into()),
    }
}

/// The bytes of the zip's `bootstrap`, or what is wrong with the zip.
fn read_bootstrap(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot be read ({e})"))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| format!("is not a zip ({e})"))?;
    let mut entry = archive
        .by_name("bootstrap")
        .map_err(|_| "has no `bootstrap`".to_string())?;
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read ({e})"))?;
    Ok(bytes)
}

/// Refuses a `--parameter-overrides` that sets `Architecture`: `template.yaml` has no such
/// parameter (each function has its own architecture), and sam drops an override of a
/// parameter the template lacks without a word, so it would do nothing.
fn check_overrides(user: &[String]) -> Result<()> {
    let mut overrides = Vec::new();
    let mut in_overrides = false;
    for arg in user {
        if let Some(value) = arg.strip_prefix("--parameter-overrides=") {
            overrides.push(value);
            in_overrides = false;
        } else if arg == "--parameter-overrides" {
            in_overrides = true;
        } else if in_overrides && !arg.starts_with('-') {
            overrides.push(arg.as_str());
        } else {
            in_overrides = false;
        }
    }
    for value in overrides.iter().flat_map(|o| o.split_whitespace()) {
        let value = value.trim_start_matches("ParameterKey=");
        let key = value.split(['=', ',']).next().unwrap_or_default();
        if key == "Architecture" {
            bail!(
                "--parameter-overrides sets Architecture, but template.yaml has no such \
                 parameter: each function has its own architecture (a host function for \
                 x86_64 and one for arm64, the analyzer on arm64); drop the override"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn other_overrides_pass_and_an_architecture_override_is_refused() {
        for ok in [
            &["--guided"][..],
            &[
                "--parameter-overrides",
                "HostTimeoutSeconds=60",
                "-t",
                "t.yaml",
            ],
            &["--parameter-overrides=HostTimeoutSeconds=60"],
            &[
                "--parameter-overrides",
                "ParameterKey=HostTimeoutSeconds,ParameterValue=60",
            ],
            // Not an override: a value of another flag.
            &["--stack-name", "Architecture=arm64"],
        ] {
            check_overrides(&strings(ok)).unwrap();
        }
        for refused in [
            &["--parameter-overrides", "Architecture=arm64"][..],
            &["--parameter-overrides=Architecture=x86_64"],
            &[
                "--parameter-overrides",
                "HostTimeoutSeconds=60 Architecture=arm64",
            ],
            &[
                "--parameter-overrides",
                "HostTimeoutSeconds=60",
                "Architecture=arm64",
            ],
            &[
                "--parameter-overrides",
                "ParameterKey=Architecture,ParameterValue=x86_64",
            ],
        ] {
            let e = check_overrides(&strings(refused)).unwrap_err().to_string();
            assert!(
                e.contains("sets Architecture, but template.yaml has no such parameter"),
                "{refused:?}: {e}"
            );
        }
    }

    #[test]
    fn the_right_zips_pass_a_wrong_architecture_or_a_missing_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        for (arch, zip) in ZIPS {
            write_zip(&lambda_dir(base, arch).join(zip), arch);
        }
        check_zips(base).unwrap();

        // An x86_64 `bootstrap` in the arm64 folder.
        let arm_host = lambda_dir(base, Arch::Arm64).join("host.zip");
        write_zip(&arm_host, Arch::X86_64);
        let e = check_zips(base).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{} holds an x86_64 `bootstrap`, not arm64: run `cargo xtask package --arch arm64`",
                arm_host.display()
            )
        );

        write_zip(&arm_host, Arch::Arm64);
        let x86_host = lambda_dir(base, Arch::X86_64).join("host.zip");
        std::fs::remove_file(&x86_host).unwrap();
        let e = check_zips(base).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{} is missing: run `cargo xtask package --arch x86_64`",
                x86_host.display()
            )
        );

        // Nothing packaged yet: every zip, and both commands, in one line.
        let e = check_zips(&base.join("none")).unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
        assert_eq!(e.matches("is missing").count(), 3, "{e}");
        assert!(
            e.ends_with(
                "run `cargo xtask package --arch x86_64` and `cargo xtask package --arch arm64`"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_zip_without_a_lambda_bootstrap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("host.zip");
        std::fs::write(&path, b"not a zip").unwrap();
        assert!(
            zip_problem(&path, Arch::Arm64)
                .unwrap()
                .starts_with("is not a zip")
        );
        let file = std::fs::File::create(&path).unwrap();
        let mut w = zip::ZipWriter::new(file);
        w.start_file("bootstrap", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, b"#!/bin/sh\n").unwrap();
        w.finish().unwrap();
        assert_eq!(
            zip_problem(&path, Arch::Arm64).unwrap(),
            "holds a `bootstrap` that is not an x86_64 or arm64 executable"
        );
    }

    /// The zips `deploy` checks are the ones `template.yaml` deploys, each on a function of
    /// its folder's architecture; a template that moved a function to the other architecture
    /// without its zip is caught.
    #[test]
    fn the_zips_are_the_templates_each_on_its_folders_architecture() {
        let template = std::fs::read_to_string(root().join("template.yaml")).unwrap();
        let expected: Vec<(String, String)> = ZIPS
            .iter()
            .map(|(a, zip)| {
                let uri = lambda_dir(Path::new(LAMBDA_DIR), *a).join(zip);
                (uri.display().to_string(), a.to_string())
            })
            .collect();
        let mut found = template_functions(&template);
        found.sort();
        let mut sorted = expected.clone();
        sorted.sort();
        assert_eq!(found, sorted);

        let moved = template.replacen(
            "CodeUri: build/lambda/arm64/host.zip\n      Architectures:\n        - arm64",
            "CodeUri: build/lambda/arm64/host.zip\n      Architectures:\n        - x86_64",
            1,
        );
        assert_ne!(
            moved, template,
            "the arm64 host's lines moved; update this test"
        );
        let mut found = template_functions(&moved);
        found.sort();
        assert_ne!(found, sorted);
    }

    /// `(CodeUri, architecture)` of every function in a template laid out as `template.yaml`
    /// is (two-space resources, `Architectures` a list of one).
    fn template_functions(template: &str) -> Vec<(String, String)> {
        let mut functions = Vec::new();
        let mut uri = None;
        let mut arch = None;
        let mut in_architectures = false;
        let lines = template.lines().chain(std::iter::once("  End:"));
        for line in lines {
            let starts_resource = line.starts_with("  ")
                && !line.starts_with("   ")
                && line.trim_end().ends_with(':');
            if starts_resource || !(line.is_empty() || line.starts_with(' ')) {
                if let (Some(u), Some(a)) = (uri.take(), arch.take()) {
                    functions.push((u, a));
                }
                uri = None;
                arch = None;
            }
            let trimmed = line.trim();
            if in_architectures {
                arch = trimmed.strip_prefix("- ").map(str::to_string);
            }
            if let Some(value) = trimmed.strip_prefix("CodeUri: ") {
                uri = Some(value.to_string());
            }
            in_architectures = trimmed == "Architectures:";
        }
        functions
    }

    /// A zip at `path` whose `bootstrap` is an ELF header for `arch`.
    fn write_zip(path: &Path, arch: Arch) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let machine = match arch {
            Arch::X86_64 => 0x3E,
            Arch::Arm64 => 0xB7,
        };
        let file = std::fs::File::create(path).unwrap();
        let mut w = zip::ZipWriter::new(file);
        w.start_file("bootstrap", zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut w, &elf_header(machine)).unwrap();
        w.finish().unwrap();
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
