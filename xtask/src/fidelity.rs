//! `cargo xtask fidelity`: checks that the emulator gives the real `bootstrap` Lambda's CPU
//! (memory / 1,769 MB vCPUs over 2 cores), in the cgroup and the in-process mode, and prints
//! measured against expected durations with the four targets.
//!
//! Owns the experiment and its verdict. Must not change the emulator or the host: it only
//! observes them. Timings are asserted here (and only here) because this command exists to
//! judge them on an idle machine; the test suite never does.

use crate::util::{build_bootstrap, median, task_root};
use anyhow::{Context, Result, bail};
use clap::{Args as ClapArgs, ValueEnum};
use powersweep_emulator::{
    CpuModeChoice, Emulator, EmulatorConfig, FunctionSpec, InvokeRequest, host_cores,
};
use powersweep_host::{Host, HostConfig, JobEvent};
use serde_json::{Value, json};
use std::path::Path;

/// The memory sizes of the experiment, MB.
const MEMORY_MB: [u32; 6] = [256, 512, 1024, 1769, 2368, 3008];
/// The baseline: one vCPU with today's 1,769 MB per vCPU.
const BASELINE_MB: u32 = 1769;
/// Fixed, so every run hashes the same bytes.
const SALT: &str = "powersweep-fidelity-salt";
/// Two passwords: one task per password, so 2 threads split the work evenly.
const PASSWORDS: [&str; 2] = ["fidelity-a", "fidelity-b"];

/// Which CPU enforcement to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// A cgroup per environment (fails when none can be created).
    Cgroup,
    /// The host's own throttle (`POWERSWEEP_CPU_VCPUS`).
    InProcess,
    /// Both, one after the other.
    Both,
}

/// Flags of `cargo xtask fidelity`.
#[derive(ClapArgs)]
pub struct Args {
    /// CPU mode(s) to measure.
    #[arg(long, value_enum, default_value = "both")]
    mode: ModeArg,
    /// Invocations per configuration; the table shows the median.
    #[arg(long, default_value_t = 3)]
    repetitions: usize,
    /// MB of memory per vCPU (1792 reproduces 2019 Lambda).
    #[arg(long, default_value_t = 1769.0)]
    vcpu_mb: f64,
    /// Seconds the job takes on 1 thread with a whole vCPU (sets the PBKDF2 iterations).
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
    /// Memory sizes to measure, MB (default: all six; targets whose rows are missing fail).
    #[arg(long, value_delimiter = ',', default_values_t = MEMORY_MB)]
    memory: Vec<u32>,
    /// Diagnosis: run the in-process throttle in this process with the host library (no
    /// emulator, no bootstrap), to tell the throttle's errors from the emulator's.
    #[arg(long)]
    throttle_only: bool,
}

/// One configuration's measurements.
struct Row {
    memory_mb: u32,
    threads: usize,
    vcpus: f64,
    capped: bool,
    /// The job's own `durationMs`, per repetition.
    ms: Vec<f64>,
}

impl Row {
    fn median(&self) -> f64 {
        median(&self.ms)
    }
}

/// Runs the experiment in the chosen modes; fails when a target is missed.
pub fn run(args: Args) -> Result<()> {
    if args.repetitions == 0 {
        bail!("--repetitions must be at least 1");
    }
    if !(args.seconds > 0.0 && args.seconds <= 30.0) {
        bail!("--seconds must be in (0, 30]");
    }
    let bootstrap = build_bootstrap()?;
    let root = task_root()?;
    let iterations = calibrate(root.path(), args.seconds)?;
    eprintln!(
        "job: PBKDF2-HMAC-SHA256, {} passwords × {iterations} iterations (≈{:.1} s on one whole core); \
         {} repetitions; {} MB per vCPU; {} host cores",
        PASSWORDS.len(),
        args.seconds,
        args.repetitions,
        args.vcpu_mb,
        host_cores()
    );
    let modes: &[CpuModeChoice] = match args.mode {
        ModeArg::Cgroup => &[CpuModeChoice::Cgroup],
        ModeArg::InProcess => &[CpuModeChoice::InProcess],
        ModeArg::Both => &[CpuModeChoice::Cgroup, CpuModeChoice::InProcess],
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let mut failed = Vec::new();
    if args.throttle_only {
        let rows = measure_throttle_only(&args, root.path(), iterations)?;
        let label = "throttle only";
        let misses = report(label, &rows, args.vcpu_mb);
        failed.extend(misses.into_iter().map(|m| format!("{label}: {m}")));
    }
    for &mode in modes.iter().filter(|_| !args.throttle_only) {
        let (label, rows) =
            runtime.block_on(measure(mode, &args, &bootstrap, root.path(), iterations))?;
        let misses = report(&label, &rows, args.vcpu_mb);
        failed.extend(misses.into_iter().map(|m| format!("{label}: {m}")));
    }
    if !failed.is_empty() {
        bail!(
            "{} target(s) missed:\n  {}",
            failed.len(),
            failed.join("\n  ")
        );
    }
    eprintln!("all targets met");
    Ok(())
}

/// PBKDF2 iterations for which the 2-password job takes `seconds` on one unthrottled thread
/// (what one whole vCPU gives), measured in-process with the host library.
fn calibrate(task_root: &Path, seconds: f64) -> Result<u32> {
    let runtime = tokio::runtime::Runtime::new()?;
    let host = Host::new(
        HostConfig::new(task_root.join("guests")),
        runtime.handle().clone(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let probe = 50_000u32;
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let response = host.run(&event(1, probe));
        if let Some(e) = response.errors.first() {
            bail!("calibration job failed: {e}");
        }
        best = best.min(response.tasks.iter().map(|t| t.ms).sum::<f64>());
    }
    let iterations = f64::from(probe) * seconds * 1000.0 / best;
    Ok((iterations.round() as u32).max(1000))
}

/// The same matrix with the host library in this process, its throttle set to each share.
fn measure_throttle_only(args: &Args, task_root: &Path, iterations: u32) -> Result<Vec<Row>> {
    eprintln!("measuring the throttle alone (host library in this process)…");
    let runtime = tokio::runtime::Runtime::new()?;
    let mut rows = Vec::new();
    for &memory_mb in &args.memory {
        let vcpus = (f64::from(memory_mb) / args.vcpu_mb).min(host_cores() as f64);
        let mut config = HostConfig::new(task_root.join("guests"));
        config.memory_mb = memory_mb;
        config.cpu_vcpus = Some(vcpus);
        let host =
            Host::new(config, runtime.handle().clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut pair = [1usize, 2].map(|threads| Row {
            memory_mb,
            threads,
            vcpus,
            capped: false,
            ms: Vec::new(),
        });
        for _ in 0..args.repetitions {
            for row in &mut pair {
                let response = host.run(&event(row.threads, iterations));
                if let Some(e) = response.errors.first() {
                    bail!("job failed: {e}");
                }
                row.ms.push(response.duration_ms);
            }
        }
        eprintln!(
            "  {memory_mb:>5} MB: 1 thread {:>7.0} ms, 2 threads {:>7.0} ms",
            pair[0].median(),
            pair[1].median()
        );
        rows.extend(pair);
    }
    Ok(rows)
}

fn event(threads: usize, iterations: u32) -> JobEvent {
    JobEvent {
        workload: "pbkdf2".into(),
        threads,
        payload: payload(iterations),
        timeout_ms: None,
    }
}

fn payload(iterations: u32) -> Value {
    json!({
        "passwords": PASSWORDS,
        "iterations": iterations,
        "hash": "sha256",
        "salt": SALT,
    })
}

/// Runs every memory size × thread count × repetition in one CPU mode; returns the mode that
/// was really used (the emulator's word, not the flag) and the rows.
async fn measure(
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
    let result = measure_in(&emu, args, bootstrap, task_root, iterations).await;
    emu.shutdown().await;
    let left = emu.leftovers();
    if !left.is_empty() {
        bail!("the emulator left processes or cgroups behind: {left:?}");
    }
    Ok((label, result?))
}

async fn measure_in(
    emu: &Emulator,
    args: &Args,
    bootstrap: &Path,
    task_root: &Path,
    iterations: u32,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    if !args.memory.contains(&BASELINE_MB) {
        bail!("--memory must include the {BASELINE_MB} MB baseline");
    }
    for &memory_mb in &args.memory {
        let name = format!("fidelity-{memory_mb}");
        emu.create_function(FunctionSpec {
            name: name.clone(),
            bootstrap: bootstrap.to_path_buf(),
            task_root: task_root.to_path_buf(),
            memory_mb,
            timeout_s: 300,
            environment: Default::default(),
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let share = emu.cpu_share(memory_mb);
        // The cold start and the first pass over the code are not what we measure.
        invoke(emu, &name, 2, (iterations / 100).max(100)).await?;
        let mut pair = [1usize, 2].map(|threads| Row {
            memory_mb,
            threads,
            vcpus: share.vcpus,
            capped: share.capped,
            ms: Vec::new(),
        });
        for _ in 0..args.repetitions {
            // Interleaved, so a slow moment of the machine hits both thread counts alike.
            for row in &mut pair {
                row.ms
                    .push(invoke(emu, &name, row.threads, iterations).await?);
            }
        }
        eprintln!(
            "  {memory_mb:>5} MB: 1 thread {:>7.0} ms, 2 threads {:>7.0} ms",
            pair[0].median(),
            pair[1].median()
        );
        rows.extend(pair);
        emu.delete_function(&name, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(rows)
}

/// One invocation; returns the job's own `durationMs`.
async fn invoke(emu: &Emulator, name: &str, threads: usize, iterations: u32) -> Result<f64> {
    let event = json!({"workload": "pbkdf2", "threads": threads, "payload": payload(iterations)});
    let out = emu
        .invoke(InvokeRequest {
            function_name: name.into(),
            payload: serde_json::to_vec(&event)?,
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("invoke {name}: {e}"))?;
    let body: Value = serde_json::from_slice(&out.payload).context("response is not JSON")?;
    if out.function_error.is_some() {
        bail!("{name} failed: {body}");
    }
    if let Some(errors) = body.get("errors").and_then(Value::as_array)
        && !errors.is_empty()
    {
        bail!(
            "{name}: the job had errors: {}",
            Value::from(errors.clone())
        );
    }
    body.get("durationMs")
        .and_then(Value::as_f64)
        .context("response without durationMs")
}

/// Prints the table and the targets; returns the missed targets.
fn report(label: &str, rows: &[Row], vcpu_mb: f64) -> Vec<String> {
    let find = |mb: u32, threads: usize| {
        rows.iter()
            .find(|r| r.memory_mb == mb && r.threads == threads)
    };
    let Some(base) = find(BASELINE_MB, 1) else {
        return vec!["no baseline row".into()];
    };
    // The work in vCPU-milliseconds, from the baseline: one thread uses at most one vCPU.
    let work = base.median() * base.vcpus.min(1.0);
    let expected = |r: &Row| work / r.vcpus.min(r.threads as f64);
    println!();
    println!("CPU mode: {label} ({vcpu_mb} MB per vCPU)");
    println!(
        "| mode | memory MB | vCPUs | threads | measured ms (median) | min–max ms | expected ms | measured/expected |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in rows {
        let (lo, hi) = r.ms.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &m| {
            (lo.min(m), hi.max(m))
        });
        println!(
            "| {label} | {} | {:.3}{} | {} | {:.0} | {lo:.0}–{hi:.0} | {:.0} | {:.3} |",
            r.memory_mb,
            r.vcpus,
            if r.capped { " (capped)" } else { "" },
            r.threads,
            r.median(),
            expected(r),
            r.median() / expected(r),
        );
    }
    let mut verdicts: Vec<(String, bool)> = Vec::new();
    // (a) and (b): 1 thread follows the share below one vCPU and is flat above.
    for r in rows.iter().filter(|r| r.threads == 1) {
        let ratio = r.median() / expected(r);
        let which = if r.memory_mb <= BASELINE_MB { "a" } else { "b" };
        if r.memory_mb == BASELINE_MB {
            continue;
        }
        verdicts.push((
            format!(
                "({which}) 1 thread at {} MB: duration × share = {:.3} of the 1,769 MB duration (within 10%)",
                r.memory_mb, ratio
            ),
            (0.9..=1.1).contains(&ratio),
        ));
    }
    match (find(3008, 1), find(3008, 2)) {
        (Some(one), Some(two)) => {
            let speedup = one.median() / two.median();
            verdicts.push((
                format!(
                    "(c) 2 threads at 3,008 MB: {speedup:.2}× faster than 1 thread (≥ 1.5×, ideal {:.2})",
                    one.vcpus.min(2.0)
                ),
                speedup >= 1.5,
            ));
        }
        _ => verdicts.push(("(c) rows for 3,008 MB missing".into(), false)),
    }
    match (find(1024, 1), find(1024, 2)) {
        (Some(one), Some(two)) => {
            let speedup = one.median() / two.median();
            verdicts.push((
                format!(
                    "(d) 2 threads at 1,024 MB: {speedup:.2}× the speed of 1 thread (no faster, within 10%)"
                ),
                speedup <= 1.1,
            ));
        }
        _ => verdicts.push(("(d) rows for 1,024 MB missing".into(), false)),
    }
    println!();
    for (text, ok) in &verdicts {
        println!("{} {text}", if *ok { "PASS" } else { "FAIL" });
    }
    verdicts
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(text, _)| text)
        .collect()
}
