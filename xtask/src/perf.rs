//! `cargo xtask perf`: what the real `bootstrap` costs around a job under the emulator:
//! the cold start (process start to first `next`: Lambda's Init Duration, and the host's own
//! `initMs`) with precompiled guests, and a warm invocation's overhead beyond the job (the
//! REPORT's Duration minus the job's `durationMs`) on a testbed `echo` job.
//!
//! Owns the measurement and its printout. Must not change the emulator or the host; prints
//! numbers against the targets (init < 30 ms, warm overhead < 1 ms) and never fails on them,
//! so it can run on a busy machine without lying about what it measured.

use crate::util::{build_bootstrap, invoke, median, number, quantile, task_root};
use anyhow::{Result, bail};
use clap::Args as ClapArgs;
use powersweep_emulator::{Emulator, EmulatorConfig, FunctionSpec};
use serde_json::json;
use std::path::Path;
use std::time::Instant;

/// Flags of `cargo xtask perf`.
#[derive(ClapArgs)]
pub struct Args {
    /// Memory size of the function, MB (1,769 = one vCPU).
    #[arg(long, default_value_t = 1769)]
    memory: u32,
    /// Cold starts to measure (each a new function).
    #[arg(long, default_value_t = 10)]
    cold: usize,
    /// Warm invocations to measure.
    #[arg(long, default_value_t = 200)]
    warm: usize,
}

/// Measures and prints.
pub fn run(args: Args) -> Result<()> {
    if args.cold == 0 || args.warm == 0 {
        bail!("--cold and --warm must be at least 1");
    }
    let bootstrap = build_bootstrap()?;
    let root = task_root()?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let emu = Emulator::start(EmulatorConfig::default())
            .await
            .map_err(|e| anyhow::anyhow!("cannot start the emulator: {e}"))?;
        let result = measure(&emu, &args, &bootstrap, root.path()).await;
        emu.shutdown().await;
        let left = emu.leftovers();
        if !left.is_empty() {
            bail!("the emulator left processes or cgroups behind: {left:?}");
        }
        result
    })
}

/// The echo job: one task that returns its input, so the job is nearly all overhead.
fn echo_event() -> Vec<u8> {
    json!({"workload": "testbed", "threads": 1, "payload": {"tasks": [{"mode": "echo"}]}})
        .to_string()
        .into_bytes()
}

async fn measure(emu: &Emulator, args: &Args, bootstrap: &Path, task_root: &Path) -> Result<()> {
    let spec = |name: String| FunctionSpec {
        name,
        bootstrap: bootstrap.to_path_buf(),
        task_root: task_root.to_path_buf(),
        memory_mb: args.memory,
        timeout_s: 30,
        environment: Default::default(),
        architecture: None,
    };
    // Page the binary and the .cwasm files into the page cache first: a Lambda cold start
    // reads them from a warm local cache too, and the first run here would measure the disk.
    emu.create_function(spec("perf-prime".into()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    invoke(emu, "perf-prime", echo_event()).await?;
    emu.delete_function("perf-prime", None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let (mut init, mut host_init, mut first, mut cold_total) = (vec![], vec![], vec![], vec![]);
    for i in 0..args.cold {
        let name = format!("perf-cold-{i}");
        emu.create_function(spec(name.clone()))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let started = Instant::now();
        let (out, body) = invoke(emu, &name, echo_event()).await?;
        cold_total.push(started.elapsed().as_secs_f64() * 1e3);
        if !out.cold {
            bail!("{name}: the first invocation was not cold");
        }
        init.push(out.report.init_duration_ms.unwrap_or(f64::NAN));
        host_init.push(number(&body, "initMs")?);
        first.push(out.report.duration_ms);
        emu.delete_function(&name, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }

    emu.create_function(spec("perf-warm".into()))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    invoke(emu, "perf-warm", echo_event()).await?;
    let (mut overhead, mut duration, mut job, mut roundtrip) = (vec![], vec![], vec![], vec![]);
    for _ in 0..args.warm {
        let started = Instant::now();
        let (out, body) = invoke(emu, "perf-warm", echo_event()).await?;
        roundtrip.push(started.elapsed().as_secs_f64() * 1e3);
        if out.cold {
            bail!("perf-warm: a warm invocation was cold");
        }
        let job_ms = number(&body, "durationMs")?;
        duration.push(out.report.duration_ms);
        job.push(job_ms);
        overhead.push(out.report.duration_ms - job_ms);
    }

    let line = |what: &str, v: &[f64], target: &str| {
        println!(
            "| {what} | {:.2} | {:.2} | {:.2} | {target} |",
            median(v),
            quantile(v, 0.9),
            v.iter().copied().fold(f64::INFINITY, f64::min)
        );
    };
    println!();
    println!(
        "bootstrap under the emulator ({}), {} MB, precompiled guests; testbed echo job; {} cold starts, {} warm invocations",
        emu.cpu_mode(),
        args.memory,
        args.cold,
        args.warm
    );
    println!("| measure | median ms | p90 ms | min ms | target |");
    println!("| --- | ---: | ---: | ---: | --- |");
    line(
        "cold: Init Duration (process start → first `next`)",
        &init,
        "< 30 ms",
    );
    line(
        "cold: host `initMs` (engine + loading the .cwasm)",
        &host_init,
        "",
    );
    line("cold: first invocation's Duration", &first, "");
    line(
        "cold: process start → first response (emulator call)",
        &cold_total,
        "",
    );
    line(
        "warm: Duration − job `durationMs` (runtime overhead)",
        &overhead,
        "< 1 ms",
    );
    line("warm: job `durationMs` of the echo job", &job, "");
    line("warm: REPORT Duration", &duration, "");
    line("warm: whole `Invoke` call in the emulator", &roundtrip, "");
    let (init_med, over_med) = (median(&init), median(&overhead));
    println!();
    println!(
        "{} init {init_med:.1} ms (target < 30 ms); {} warm overhead {over_med:.2} ms (target < 1 ms)",
        if init_med < 30.0 { "PASS" } else { "MISS" },
        if over_med < 1.0 { "PASS" } else { "MISS" },
    );
    Ok(())
}
