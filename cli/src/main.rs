//! `powersweep`: which Lambda memory size and how many threads suit a workload.
//!
//! This file parses the command line, sets up logging and dispatches to `cmd/<name>.rs`;
//! it holds no command logic.

mod aws;
mod cmd;
mod embedded;
mod estimate;
mod input;
mod local;
mod local_s3;
mod modeled;
mod out_folder;
mod panic_report;
mod progress;
mod reference_kernel;
mod signals;
mod stale;
mod table;
mod terminal;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Find the Lambda memory size and thread count that suit a WebAssembly workload.
#[derive(Parser)]
#[command(name = "powersweep", version, about)]
struct Cli {
    /// More of powersweep's logs on stderr (-v: debug, -vv: trace); a dependency's by
    /// RUST_LOG (e.g. `RUST_LOG=cranelift=debug`).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one job of a workload and print the response JSON.
    Invoke(cmd::invoke::Args),
    /// List the workloads in the guests folder.
    Guests(cmd::guests::Args),
    /// Run any ASL state machine file on the local engine.
    Exec(cmd::exec::Args),
    /// Sweep memory sizes × thread counts and recommend one (the main job).
    Sweep(Box<cmd::sweep::Args>),
    /// Render the report again from a results.json file.
    Report(cmd::report::Args),
    /// Create a workload project from a template (Rust, Python or JavaScript).
    New(cmd::new::Args),
    /// Build a workload project into NAME.wasm in the guests folder.
    Build(cmd::build::Args),
}

// The command evaluates JSONata for the local engine: the metered allocator lets each
// evaluation see what it holds and stop at `powersweep_jsonata::MAX_EVALUATION_BYTES`.
#[global_allocator]
static ALLOC: powersweep_jsonata::meter::MeteredAlloc = powersweep_jsonata::meter::MeteredAlloc;

fn main() -> ExitCode {
    // Locally the emulator starts this very binary as the host's `bootstrap` (a symlink in
    // its task root), so `cargo run` builds one binary and both sides are the same build.
    if std::env::args_os()
        .next()
        .is_some_and(|a| std::path::Path::new(&a).ends_with("bootstrap"))
    {
        return run_bootstrap();
    }
    panic_report::install(std::env::temp_dir());
    let cli = Cli::parse();
    // Our crates' logs only (their targets all start with `powersweep`): at trace, cranelift
    // alone writes ~100 MB for one job. RUST_LOG asks for any other target by name.
    let filter = match cli.verbose {
        0 => "warn",
        1 => "warn,powersweep=debug",
        _ => "warn,powersweep=trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            terminal::print_error(&format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Invoke(args) => cmd::invoke::run(args).await,
            Command::Guests(args) => cmd::guests::run(args).await,
            Command::Exec(args) => cmd::exec::run(args).await,
            Command::Sweep(args) => cmd::sweep::run(*args).await,
            Command::Report(args) => cmd::report::run(args).await,
            Command::New(args) => cmd::new::run(args).await,
            Command::Build(args) => cmd::build::run(args).await,
        }
    });
    // The command is over (its results written, its environments stopped). A worker may
    // still be inside a poll that does not yield (an interrupted run's JSONata evaluation, a
    // blocking host call): dropping the runtime would wait for it, so it gets this long.
    runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            terminal::print_error(&format!("{e:#}"));
            // A shell reports a run ended by a signal as 128 + its number; so do we, after
            // cleaning up, so that scripts can tell an interruption from a failure.
            match e.downcast_ref::<signals::Interrupted>() {
                Some(signal) => ExitCode::from(u8::try_from(128 + signal.number).unwrap_or(1)),
                None => ExitCode::FAILURE,
            }
        }
    }
}

/// How long the command's tasks get to stop once it has its answer.
const RUNTIME_SHUTDOWN: std::time::Duration = std::time::Duration::from_secs(1);

/// Serves as the Lambda host, exactly as the packaged `bootstrap` does.
fn run_bootstrap() -> ExitCode {
    powersweep_host::lambda::init_logs();
    let served = tokio::runtime::Runtime::new()
        .map_err(|e| e.to_string())
        .and_then(|rt| {
            rt.block_on(powersweep_host::lambda::serve())
                .map_err(|e| e.to_string())
        });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bootstrap: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `powersweep guests | head` must not end in an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
