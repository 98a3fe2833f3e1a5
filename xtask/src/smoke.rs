//! `cargo xtask smoke [ZIP]`: proves a packaged zip runs (by default
//! `build/lambda/<this machine's architecture>/host.zip`, the one `cargo xtask package`
//! writes without `--arch`). Its `bootstrap` (under `qemu-<cpu>` when the zip is for the
//! other architecture) answers a PBKDF2 job through the local emulator's Runtime API, from the
//! zip's own precompiled guests, and the keys are checked against ring, and that the zip's
//! `.cwasm` are there and were used.
//!
//! Owns unpacking, the emulator run and the checks. Must not build anything: it tests the zip
//! as `cargo xtask package` left it, so a stale or broken zip fails here as it would on Lambda.

use crate::arch::{self, Arch, ToolNames};
use crate::util::{LAMBDA_DIR, lambda_dir, root};
use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use powersweep_emulator::{CpuModeChoice, Emulator, EmulatorConfig, FunctionSpec, InvokeRequest};
use serde_json::json;
use std::io::Read;
use std::num::NonZeroU32;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Flags of `cargo xtask smoke`.
#[derive(ClapArgs)]
pub struct Args {
    /// The zip `cargo xtask package` wrote (default: build/lambda/<this machine's
    /// architecture>/host.zip; another architecture's runs under qemu).
    zip: Option<PathBuf>,
}

/// The job: a few passwords on two threads, few iterations (emulated code is 10-50x slower).
const PASSWORDS: [&str; 4] = ["password", "", "pässwörd", "correct horse battery staple"];
const ITERATIONS: u32 = 2_000;
const SALT: &str = "powersweep-smoke";
const KEY_LENGTH: usize = 64;

/// The host's line when a `.cwasm` is refused (host.rs `Host::workload`): the zip's
/// precompiled code must load, or every cold start on Lambda compiles instead.
const CWASM_REFUSED: &str = "unusable, compiling the component";

pub fn run(args: Args) -> Result<()> {
    let zip = match args.zip {
        Some(zip) => zip,
        None => {
            let native = arch::native().with_context(|| {
                format!(
                    "this machine ({}) is not a Lambda architecture; name the zip, e.g. \
                     `cargo xtask smoke {LAMBDA_DIR}/arm64/host.zip`",
                    std::env::consts::ARCH
                )
            })?;
            lambda_dir(Path::new(LAMBDA_DIR), native).join("host.zip")
        }
    };
    let zip = if zip.is_absolute() {
        zip
    } else {
        root().join(zip)
    };
    let task_root = tempfile::tempdir().context("no temporary folder")?;
    unzip(&zip, task_root.path())?;
    check_precompiled(task_root.path())?;
    let bootstrap = task_root.path().join("bootstrap");
    let arch = arch::of_elf(&std::fs::read(&bootstrap).context("the zip has no `bootstrap`")?)
        .context("`bootstrap` in the zip is not an x86_64 or arm64 executable")?;
    let scratch = tempfile::tempdir().context("no temporary folder")?;
    let runner = if Some(arch) == arch::native() {
        bootstrap.clone()
    } else {
        emulated(arch, &bootstrap, scratch.path())?
    };
    eprintln!(
        "smoke test of {} ({}{})",
        zip.display(),
        arch.as_str(),
        if runner == bootstrap {
            ""
        } else {
            ", under qemu"
        }
    );

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let emu = Emulator::start(EmulatorConfig {
            // Any machine: no cgroup needed, and at 10,240 MB the share never throttles.
            cpu_mode: CpuModeChoice::InProcess,
            // An emulated cold start is far slower than Lambda's 10 s allows for a native one.
            init_timeout: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the emulator: {e}"))?;
        let result = check(&emu, &runner, task_root.path()).await;
        emu.shutdown().await;
        result
    })
}

/// Creates the function, runs the job and checks the answer.
async fn check(emu: &Emulator, runner: &Path, task_root: &Path) -> Result<()> {
    emu.create_function(FunctionSpec {
        name: "smoke".into(),
        bootstrap: runner.to_path_buf(),
        task_root: task_root.to_path_buf(),
        memory_mb: 10_240,
        timeout_s: 600,
        environment: Default::default(),
        architecture: None,
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let event = json!({"workload": "pbkdf2", "threads": 2, "payload": {
        "passwords": PASSWORDS, "iterations": ITERATIONS, "salt": SALT,
        "keyLength": KEY_LENGTH, "hash": "sha512"}});
    let out = emu
        .invoke(InvokeRequest {
            function_name: "smoke".into(),
            payload: event.to_string().into_bytes(),
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("invoke: {e}"))?;
    let body: serde_json::Value = serde_json::from_slice(&out.payload)
        .with_context(|| format!("the response is not JSON; the function's log:\n{}", out.log))?;
    if out.function_error.is_some() {
        bail!("the job failed: {body}\nthe function's log:\n{}", out.log);
    }
    if out.log.contains(CWASM_REFUSED) {
        bail!(
            "the zip's precompiled guests were refused by its own bootstrap:\n{}",
            out.log
        );
    }
    let results = body["results"]
        .as_array()
        .with_context(|| format!("no `results` in {body}"))?;
    if results.len() != PASSWORDS.len() {
        bail!(
            "{} results for {} passwords: {body}",
            results.len(),
            PASSWORDS.len()
        );
    }
    for result in results {
        let password = result["password"].as_str().unwrap_or_default();
        let expected = expected_key(password);
        if result["key"].as_str() != Some(expected.as_str()) {
            bail!("wrong key for {password:?}: {result}, expected {expected}");
        }
    }
    eprintln!(
        "ok: {} keys match ring; {}",
        results.len(),
        out.report.line().trim_end()
    );
    Ok(())
}

/// Every guest in the zip has its `.cwasm`: without one the host compiles the component at
/// every cold start, silently.
fn check_precompiled(task_root: &Path) -> Result<()> {
    let guests = task_root.join("guests");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&guests).context("the zip has no `guests/` folder")? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wasm") && !path.with_extension("cwasm").is_file()
        {
            missing.push(
                path.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    if !missing.is_empty() {
        bail!("the zip has no precompiled code for {}", missing.join(", "));
    }
    Ok(())
}

/// PBKDF2-HMAC-SHA512 of `password` by ring, hex.
fn expected_key(password: &str) -> String {
    let mut key = [0u8; KEY_LENGTH];
    let iterations = NonZeroU32::new(ITERATIONS).unwrap_or(NonZeroU32::MIN);
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA512,
        iterations,
        SALT.as_bytes(),
        password.as_bytes(),
        &mut key,
    );
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// A script that runs `bootstrap` under qemu-user with the target's C library, written into
/// `dir` (not the task root: that stays exactly the zip).
fn emulated(arch: Arch, bootstrap: &Path, dir: &Path) -> Result<PathBuf> {
    let qemu = arch.qemu();
    if !crate::util::on_path(qemu) {
        bail!(
            "running the {} zip on this machine needs `{qemu}`; install it with \
             `apt-get install qemu-user libc6-{}-cross`",
            arch.as_str(),
            arch.debian()
        );
    }
    check_qemu_version(qemu)?;
    let sysroot = format!("/usr/{}", arch.gnu());
    let script = dir.join("bootstrap-under-qemu");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec {qemu} -L {sysroot} '{}' \"$@\"\n",
            bootstrap.display()
        ),
    )?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    Ok(script)
}

/// The oldest qemu-user that runs the host: 7.x keeps a descriptor for every page of the
/// guest's address space, and wasmtime's pooling allocator reserves terabytes of it (the
/// instance pool), so qemu 7.2 (Debian 12's own) used 24 GB and was killed; 8.0 keeps page
/// flags in an interval tree.
const QEMU_MIN_MAJOR: u32 = 8;

fn check_qemu_version(qemu: &str) -> Result<()> {
    let out = std::process::Command::new(qemu)
        .arg("--version")
        .output()
        .with_context(|| format!("cannot run `{qemu} --version`"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let major = text
        .split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .and_then(|v| v.split('.').next()?.parse::<u32>().ok());
    match major {
        Some(m) if m >= QEMU_MIN_MAJOR => Ok(()),
        _ => bail!(
            "`{qemu}` is too old ({}): qemu-user before {QEMU_MIN_MAJOR}.0 runs out of memory on \
             wasmtime's address-space reservations; on Debian 12 install a newer one with \
             `apt-get install -t bookworm-backports qemu-user`",
            text.lines().next().unwrap_or("no version").trim()
        ),
    }
}

/// Extracts every file of `zip` into `dir`, keeping the executable bit.
fn unzip(zip: &Path, dir: &Path) -> Result<()> {
    let mut archive = crate::util::open_zip(zip)?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        let Some(name) = entry.enclosed_name() else {
            bail!(
                "{} holds an entry outside its root: {}",
                zip.display(),
                entry.name()
            );
        };
        let path = dir.join(name);
        if entry.is_dir() {
            std::fs::create_dir_all(&path)?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        std::fs::write(&path, bytes)?;
        if let Some(mode) = entry.unix_mode() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o777))?;
        }
    }
    Ok(())
}
