//! The fidelity experiment's measuring: every (memory, threads) configuration once per round,
//! through the emulator and the real `bootstrap`, or through the host library alone.
//!
//! Must not judge: it returns samples; `report.rs` compares them with the model.

use super::{Args, BASELINE_MB, Row, Sample, event, payload};
use crate::util;
use anyhow::{Result, bail};
use powersweep_emulator::{CpuModeChoice, Emulator, EmulatorConfig, FunctionSpec, host_cores};
use powersweep_host::{Host, HostConfig};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Instant;

/// Thread counts measured at every memory size.
const THREADS: [usize; 2] = [1, 2];

/// Runs every configuration `args.repetitions` times in one CPU mode; returns the mode that
/// was really used (the emulator's word, not the flag) and the rows.
pub(super) async fn emulated(
    mode: CpuModeChoice,
    args: &Args,
    bootstrap: &Path,
    task_root: &Path,
    iterations: u32,
) -> Result<(String, Vec<Row>)> {
    let config = EmulatorConfig {
        vcpu_mb: args.vcpu_mb,
        cpu_mode: mode,
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(config)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the emulator in {mode:?} mode: {e}"))?;
    let label = emu.cpu_mode().to_string();
    eprintln!("measuring in {label} mode…");
    let result = emulated_in(&emu, args, bootstrap, task_root, iterations).await;
    for &memory_mb in &args.memory {
        // Best effort: a function that was never created is not an error worth hiding `result`.
        let _ = emu.delete_function(&function_name(memory_mb), None).await;
    }
    emu.shutdown().await;
    let left = emu.leftovers();
    if !left.is_empty() {
        bail!("the emulator left processes or cgroups behind: {left:?}");
    }
    Ok((label, result?))
}

fn function_name(memory_mb: u32) -> String {
    format!("fidelity-{memory_mb}")
}

async fn emulated_in(
    emu: &Emulator,
    args: &Args,
    bootstrap: &Path,
    task_root: &Path,
    iterations: u32,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for &memory_mb in &args.memory {
        let name = function_name(memory_mb);
        emu.create_function(FunctionSpec {
            name: name.clone(),
            bootstrap: bootstrap.to_path_buf(),
            task_root: task_root.to_path_buf(),
            memory_mb,
            timeout_s: 300,
            environment: Default::default(),
            architecture: None,
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        // The cold start and the first pass over the code are not what we measure; each
        // function keeps its warm environment for all rounds.
        invoke(emu, &name, 2, (iterations / 100).max(100)).await?;
        let share = emu.cpu_share(memory_mb);
        rows.extend(THREADS.map(|threads| Row {
            memory_mb,
            threads,
            vcpus: share.vcpus,
            capped: share.capped,
            samples: Vec::new(),
        }));
    }
    for round in 0..args.repetitions {
        let started = Instant::now();
        for index in rotated(rows.len(), round) {
            let row = &mut rows[index];
            let sample =
                invoke(emu, &function_name(row.memory_mb), row.threads, iterations).await?;
            row.samples.push(sample);
        }
        progress(round, args.repetitions, started, &rows);
    }
    Ok(rows)
}

/// The same experiment with the host library in this process, its throttle set to each share.
pub(super) fn throttle_only(args: &Args, task_root: &Path, iterations: u32) -> Result<Vec<Row>> {
    eprintln!("measuring the throttle alone (host library in this process)…");
    let runtime = tokio::runtime::Runtime::new()?;
    let mut hosts = Vec::new();
    let mut rows = Vec::new();
    for &memory_mb in &args.memory {
        let vcpus = (f64::from(memory_mb) / args.vcpu_mb).min(host_cores() as f64);
        let mut config = HostConfig::new(task_root.join("guests"));
        config.memory_mb = memory_mb;
        config.cpu_vcpus = Some(vcpus);
        hosts
            .push(Host::new(config, runtime.handle().clone()).map_err(|e| anyhow::anyhow!("{e}"))?);
        rows.extend(THREADS.map(|threads| Row {
            memory_mb,
            threads,
            vcpus,
            capped: false,
            samples: Vec::new(),
        }));
    }
    for round in 0..args.repetitions {
        let started = Instant::now();
        for index in rotated(rows.len(), round) {
            let row = &mut rows[index];
            let host = &hosts[index / THREADS.len()];
            let response = host.run(&event(row.threads, iterations));
            if let Some(e) = response.errors.first() {
                bail!("job failed: {e}");
            }
            row.samples.push(Sample {
                ms: response.duration_ms,
                cpu_ms: response.cpu_ms,
            });
        }
        progress(round, args.repetitions, started, &rows);
    }
    Ok(rows)
}

/// The order of one round: every configuration once, starting one further each round, so no
/// configuration always runs right after the long low-memory jobs.
fn rotated(len: usize, round: usize) -> impl Iterator<Item = usize> {
    (0..len).map(move |i| (i + round) % len)
}

fn progress(round: usize, rounds: usize, started: Instant, rows: &[Row]) {
    let baseline = rows
        .iter()
        .find(|r| r.memory_mb == BASELINE_MB && r.threads == 1)
        .and_then(|r| r.samples.last());
    eprintln!(
        "  round {}/{rounds} took {:.0} s{}",
        round + 1,
        started.elapsed().as_secs_f64(),
        baseline.map_or(String::new(), |s| format!(
            " (baseline this round: {:.0} ms, {:.0} ms CPU)",
            s.ms, s.cpu_ms
        ))
    );
}

/// One invocation; returns the job's own `durationMs` and `cpuMs`.
async fn invoke(emu: &Emulator, name: &str, threads: usize, iterations: u32) -> Result<Sample> {
    let event = json!({"workload": "pbkdf2", "threads": threads, "payload": payload(iterations)});
    let (_, body) = util::invoke(emu, name, serde_json::to_vec(&event)?).await?;
    if let Some(errors) = body.get("errors").and_then(Value::as_array)
        && !errors.is_empty()
    {
        bail!(
            "{name}: the job had errors: {}",
            Value::from(errors.clone())
        );
    }
    Ok(Sample {
        ms: util::number(&body, "durationMs")?,
        cpu_ms: util::number(&body, "cpuMs")?,
    })
}
