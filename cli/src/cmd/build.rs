//! `powersweep build [DIR]`: turns a workload project (Rust, Python or JavaScript, as
//! `powersweep new` makes them) into `NAME.wasm` in the guests folder the other commands
//! read, NAME being the project folder's name. The toolchains are `powersweep-toolchain`'s;
//! this only names the output and checks that the host can run it.

use crate::input::guests_dir;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `powersweep build`.
#[derive(clap::Args)]
pub struct Args {
    /// The project folder (default: here).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Folder to write NAME.wasm into (default: guests/dist here, else the built-in ones').
    #[arg(long)]
    guests: Option<PathBuf>,
}

pub async fn run(args: Args) -> Result<ExitCode> {
    let dir = std::path::absolute(&args.dir)
        .with_context(|| format!("cannot resolve `{}`", args.dir.display()))?;
    if !dir.is_dir() {
        let what = if dir.exists() {
            "is a file, not a folder"
        } else {
            "does not exist"
        };
        bail!(
            "the project folder `{}` {what}: give the folder `powersweep new` made",
            args.dir.display()
        );
    }
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .context("the project folder has no name")?;
    crate::cmd::new::check_name(&name)
        .with_context(|| format!("the project folder `{}` names the workload", dir.display()))?;
    let guests = guests_dir(args.guests);
    std::fs::create_dir_all(&guests)
        .with_context(|| format!("cannot create `{}`", guests.display()))?;
    let out = guests.join(format!("{name}.wasm"));
    eprintln!("building {}…", dir.display());
    let started = std::time::Instant::now();
    let language = {
        let (dir, out) = (dir.clone(), out.clone());
        tokio::task::spawn_blocking(move || powersweep_toolchain::build(&dir, &out))
            .await
            .context("the build thread failed")??
    };
    // The host must be able to run it: a missing export or a wrong WIT version is named now.
    let check = {
        let guests = guests.clone();
        let name = name.clone();
        tokio::task::spawn_blocking(move || {
            let host = powersweep_host::Host::new(
                powersweep_host::HostConfig::new(&guests),
                tokio::runtime::Handle::current(),
            )?;
            host.describe(&name).map_err(anyhow::Error::from)
        })
    };
    match check.await.context("the check thread failed")? {
        Ok(description) => {
            let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            println!(
                "built {} ({language}, {:.1} MB, {:.1} s): {}",
                out.display(),
                size as f64 / 1e6,
                started.elapsed().as_secs_f64(),
                crate::terminal::escape(&description)
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&out);
            bail!("built `{name}`, but the host cannot run it: {e:#}")
        }
    }
}
