//! `cargo xtask …`: the project's automation, in Rust so that it runs wherever cargo does.
//!
//! Each command lives in a file of its own; this file only parses the flags and dispatches.
//! Must not hold build logic itself.

mod arch;
mod bench;
mod build_guests;
mod cross;
mod deploy;
mod fidelity;
mod package;
mod perf;
mod smoke;
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
    /// Build the Lambda deployment zips (build/lambda/<arch>/host.zip, analyzer.zip).
    Package(package::Args),
    /// `sam deploy`, once each packaged zip is there and of its function's architecture.
    Deploy(deploy::Args),
    /// Run a packaged host.zip (default: this machine's architecture's; under qemu for the
    /// other architecture) on a PBKDF2 job.
    Smoke(smoke::Args),
    /// Check the emulator's CPU model: a CPU-bound job at several memory sizes and threads.
    Fidelity(fidelity::Args),
    /// Cold start and warm overhead of the real bootstrap under the emulator.
    Perf(perf::Args),
    /// Benchmarks: guest against native PBKDF2, instantiation, 2-thread speedup.
    Bench(bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::BuildGuests(args) => build_guests::run(args),
        Command::Package(args) => package::run(args),
        Command::Deploy(args) => deploy::run(args),
        Command::Smoke(args) => smoke::run(args),
        Command::Fidelity(args) => fidelity::run(args),
        Command::Perf(args) => perf::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
