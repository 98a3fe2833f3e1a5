//! `cargo xtask …`: the project's automation, in Rust so that it runs wherever cargo does.
//!
//! Each command lives in a file of its own; this file only parses the flags and dispatches.
//! Must not hold build logic itself.

mod build_guests;
mod util;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// powersweep's project automation.
#[derive(Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build every guest into a component in guests/dist/.
    BuildGuests(build_guests::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::BuildGuests(args) => build_guests::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
