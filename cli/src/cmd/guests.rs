//! `powersweep guests`: the workloads in the guests folder, one line each.

use crate::input::guests_dir;
use crate::terminal::escape;
use anyhow::{Result, bail};
use powersweep_host::{Host, HostConfig};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `powersweep guests`.
#[derive(clap::Args)]
pub struct Args {
    /// Folder of built workloads (default: guests/dist here, else the built-in ones).
    #[arg(long)]
    guests: Option<PathBuf>,
}

pub async fn run(args: Args) -> Result<ExitCode> {
    let dir = guests_dir(args.guests);
    crate::input::check_guests_folder(&dir)?;
    let host = Host::new(HostConfig::new(&dir), tokio::runtime::Handle::current())?;
    let names = host.available();
    if names.is_empty() {
        bail!(
            "no workloads in `{}`; build them with `cargo xtask build-guests`",
            dir.display()
        );
    }
    let lines = tokio::task::spawn_blocking(move || {
        names
            .iter()
            .map(|name| match host.describe(name) {
                Ok(text) => format!("{:<12} {}", escape(name), escape(&text)),
                Err(e) => format!(
                    "{:<12} (unusable: {})",
                    escape(name),
                    // With its causes: an unreadable file says why.
                    escape(&format!("{:#}", anyhow::Error::new(e)))
                ),
            })
            .collect::<Vec<_>>()
    })
    .await?;
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(ExitCode::SUCCESS)
}
