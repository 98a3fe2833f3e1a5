//! The signals that end a local run — SIGINT, SIGTERM, SIGHUP — turned into a future,
//! [`interrupted`], so that `sweep` and `invoke` stop the emulator (its environments and
//! cgroups) and drop the task root before they exit, instead of dying with them in place.
//!
//! [`prepare_local_run`] takes the signals over at the start of a local run, before anything
//! that needs cleaning up exists, so a signal that comes early is kept until the run looks.
//!
//! Must not clean up or exit on the first signal itself: the caller shuts the emulator down
//! and returns an [`Interrupted`] error, so destructors run (the task root is a `TempDir`).
//! The one exception is a later signal, for when that cleanup hangs: it exits at once and
//! leaves the leftovers to the next run's stale sweep (`stale.rs`, the emulator's
//! `cgroup::remove_stale_parents`). Must not touch signals other than these three.

use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

/// A signal that ended a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted {
    /// `SIGINT`, `SIGTERM` or `SIGHUP`.
    pub name: &'static str,
    /// Its number: the shell's exit status for it is 128 + this.
    pub number: i32,
}

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "interrupted by {}; every local environment was stopped",
            self.name
        )
    }
}

impl std::error::Error for Interrupted {}

/// The first signal caught, once [`catch`] ran.
static CAUGHT: OnceLock<watch::Sender<Option<Interrupted>>> = OnceLock::new();

/// Call first thing in a local run, before it creates a task root or cgroups: takes over the
/// signals (see [`catch`]) and removes the task roots that dead runs left
/// ([`crate::stale::remove_stale_task_roots`]).
pub fn prepare_local_run() {
    catch();
    crate::stale::remove_stale_task_roots();
}

/// From now on SIGINT, SIGTERM and SIGHUP no longer kill this process: the first one is kept
/// for [`interrupted`]; another one, a second or more later, exits at once with status
/// 128 + its number, without cleanup. Idempotent. A signal whose handler cannot be installed
/// keeps its default action (with a warning).
///
/// The signals are read on a thread of their own, with a runtime of its own: the command's
/// runtime may have every worker busy (a JSONata evaluation that runs long, a blocking
/// call), and the second signal must end the process whatever they do.
pub fn catch() {
    CAUGHT.get_or_init(|| {
        let (sender, _) = watch::channel(None::<Interrupted>);
        let caught = sender.clone();
        let (installed, ready) = std::sync::mpsc::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read signals: they keep their default action");
                        return;
                    }
                };
                runtime.block_on(listen(caught, installed));
            });
        match spawned {
            // Once the handlers are in place: a signal right after `catch` is caught.
            Ok(_) => {
                let _ = ready.recv();
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read signals: they keep their default action");
            }
        }
        sender
    });
}

/// Installs the handlers, says so on `installed`, then hands the first signal to `caught`
/// and exits on a later one.
async fn listen(
    caught: watch::Sender<Option<Interrupted>>,
    installed: std::sync::mpsc::Sender<()>,
) {
    let [mut int, mut term, mut hup] = [SIGINT, SIGTERM, SIGHUP].map(|caught| {
        signal(SignalKind::from_raw(caught.number))
            .inspect_err(|e| {
                tracing::warn!(signal = caught.name, error = %e, "cannot catch the signal");
            })
            .ok()
    });
    drop(installed);
    let mut first: Option<(Interrupted, Instant)> = None;
    loop {
        let signal = tokio::select! {
            () = recv(&mut int) => SIGINT,
            () = recv(&mut term) => SIGTERM,
            () = recv(&mut hup) => SIGHUP,
        };
        match first {
            None => {
                first = Some((signal, Instant::now()));
                caught.send_replace(Some(signal));
            }
            // The same request delivered twice (a terminal and a supervisor, a double key
            // press): the cleanup under way takes milliseconds.
            Some((_, at)) if at.elapsed() < SAME_REQUEST => {}
            Some((first, _)) => {
                eprintln!(
                    "error: {} after {}: exiting without cleanup; the next run removes what is left",
                    signal.name, first.name
                );
                std::process::exit(128 + signal.number);
            }
        }
    }
}

/// Signals this soon after the first one do not force an exit.
const SAME_REQUEST: Duration = Duration::from_secs(1);

const SIGINT: Interrupted = Interrupted {
    name: "SIGINT",
    number: 2,
};
const SIGTERM: Interrupted = Interrupted {
    name: "SIGTERM",
    number: 15,
};
const SIGHUP: Interrupted = Interrupted {
    name: "SIGHUP",
    number: 1,
};

/// The next delivery of `stream`; never, without a handler (or once the runtime is ending).
async fn recv(stream: &mut Option<Signal>) {
    if let Some(stream) = stream
        && stream.recv().await.is_some()
    {
        return;
    }
    std::future::pending().await
}

/// Completes with the first SIGINT, SIGTERM or SIGHUP caught, at once if it came already.
/// Calls [`catch`], so it works without [`prepare_local_run`] too.
pub async fn interrupted() -> Interrupted {
    catch();
    let Some(sender) = CAUGHT.get() else {
        return std::future::pending().await;
    };
    let mut receiver = sender.subscribe();
    match receiver.wait_for(Option::is_some).await {
        Ok(signal) => signal.unwrap_or_else(|| unreachable!("wait_for checked it")),
        // The sender lives in a static: never closed.
        Err(_) => std::future::pending().await,
    }
}
