//! `cargo xtask bench`: the foundation issue's benchmarks, each against a baseline measured in
//! the same run: PBKDF2 in the guest against the same crates compiled natively (software and
//! hardware SHA, `xtask/native-pbkdf2`), instantiating a component from its `InstancePre`
//! with the pooling allocator, and the 2-thread speedup of the 4-password job.
//!
//! Owns the measurement and the printed ratios. Must not assert on timings (it prints the
//! targets next to the numbers) and must not build the native baseline into the root
//! workspace (see `xtask/native-pbkdf2/Cargo.toml` for why).

use crate::util::{cargo, median, quantile, root, run_cmd, target_dir};
use anyhow::{Context, Result, bail};
use clap::Args as ClapArgs;
use powersweep_host::{Host, HostConfig, JobEvent, JobResponse};
use serde_json::{Value, json};
use std::process::Command;

/// Keep in step with `xtask/native-pbkdf2/src/main.rs`.
const SALT: &str = "powersweep-bench-salt";
const KEY_LENGTH: u32 = 64;

/// Flags of `cargo xtask bench`.
#[derive(ClapArgs)]
pub struct Args {
    /// PBKDF2 iterations per password.
    #[arg(long, default_value_t = 100_000)]
    iterations: u32,
    /// Passwords in the job (one task each).
    #[arg(long, default_value_t = 4)]
    passwords: u32,
    /// Repetitions of each timed run; the median is reported.
    #[arg(long, default_value_t = 5)]
    repetitions: usize,
    /// Instantiations to time.
    #[arg(long, default_value_t = 2000)]
    instantiations: usize,
    /// Only the cost of work metering (skips the native baselines' builds).
    #[arg(long)]
    metering_only: bool,
    /// Only the instantiation table (every workload in guests/dist, Python and JavaScript
    /// ones included when `powersweep build` put them there).
    #[arg(long)]
    instantiation_only: bool,
}

/// Runs the three benchmarks and prints their tables.
pub fn run(args: Args) -> Result<()> {
    if args.iterations == 0 || args.passwords == 0 || args.repetitions == 0 {
        bail!("--iterations, --passwords and --repetitions must be positive");
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let host = Host::new(
        HostConfig::new(root().join("guests/dist")),
        runtime.handle().clone(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.instantiation_only {
        return instantiation(&host, &args);
    }
    metering(&runtime, &args)?;
    if args.metering_only {
        return Ok(());
    }
    let soft_bin = build_native(true)?;
    let hw_bin = build_native(false)?;

    // Interleaved, one run of each per repetition, so a busy moment of the machine hits the
    // guest and its baselines alike; medians per column.
    let mut columns: [Vec<f64>; 8] = Default::default();
    for _ in 0..args.repetitions {
        let soft = run_native(&soft_bin, &args)?;
        let hw = run_native(&hw_bin, &args)?;
        for (h, (hash, key)) in [("sha256", "Sha256"), ("sha512", "Sha512")]
            .into_iter()
            .enumerate()
        {
            // Guest time = the tasks' own time (no plan, no instantiation), as the native side.
            let guest: f64 = job(&host, &args, hash, 1)?.tasks.iter().map(|t| t.ms).sum();
            let field =
                |v: &Value, name: String| v.get(&name).and_then(Value::as_f64).unwrap_or(f64::NAN);
            columns[h * 4].push(guest);
            columns[h * 4 + 1].push(field(&soft, format!("pbkdf2{key}Ms")));
            columns[h * 4 + 2].push(field(&hw, format!("pbkdf2{key}Ms")));
            columns[h * 4 + 3].push(field(&hw, format!("ring{key}Ms")));
        }
    }
    println!();
    println!(
        "PBKDF2, {} passwords × {} iterations, {KEY_LENGTH}-byte key, 1 thread, median of {} interleaved runs (ms; ratio = guest / native)",
        args.passwords, args.iterations, args.repetitions
    );
    println!(
        "| hash | guest ms | native soft ms | guest/soft (target ≤ 1.25) | native hw ms | guest/hw | ring ms | guest/ring |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (h, hash) in ["sha256", "sha512"].into_iter().enumerate() {
        let [guest, soft_ms, hw_ms, ring_ms] = [0, 1, 2, 3].map(|c| median(&columns[h * 4 + c]));
        println!(
            "| {hash} | {guest:.1} | {soft_ms:.1} | {:.2} | {hw_ms:.1} | {:.2} | {ring_ms:.1} | {:.2} |",
            guest / soft_ms,
            guest / hw_ms,
            guest / ring_ms
        );
    }

    instantiation(&host, &args)?;

    println!();
    println!(
        "Thread speedup of the {}-password job (sha512, {} iterations; wall `durationMs`, median of {}) on {} cores",
        args.passwords,
        args.iterations,
        args.repetitions,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| threads | ms | speedup over 1 thread | target |");
    println!("| ---: | ---: | ---: | --- |");
    let mut one = f64::NAN;
    for threads in [1usize, 2] {
        let ms = median(
            &(0..args.repetitions)
                .map(|_| job(&host, &args, "sha512", threads).map(|r| r.duration_ms))
                .collect::<Result<Vec<f64>>>()?,
        );
        if threads == 1 {
            one = ms;
        }
        println!(
            "| {threads} | {ms:.1} | {:.2} | {} |",
            one / ms,
            if threads == 2 { "≥ 1.85" } else { "" }
        );
    }
    Ok(())
}

/// What metering costs: the same 1-thread jobs on a metered host (fuel and call hook) and on
/// an unmetered one, interleaved, as the ratio of their median wall times.
fn metering(runtime: &tokio::runtime::Runtime, args: &Args) -> Result<()> {
    let metered = Host::new(
        HostConfig {
            meter: true,
            dry_io: true,
            allowed_tables: vec!["bench".into()],
            ..HostConfig::new(root().join("guests/dist"))
        },
        runtime.handle().clone(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let plain = Host::new(
        HostConfig {
            dry_io: true,
            allowed_tables: vec!["bench".into()],
            ..HostConfig::new(root().join("guests/dist"))
        },
        runtime.handle().clone(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let jobs = [
        (
            "pbkdf2 sha512",
            "pbkdf2",
            json!({"iterations": args.iterations, "passwords": ["a", "b", "c", "d"]}),
        ),
        (
            "ddb-writer, 100 dry puts",
            "ddb-writer",
            json!({"table": "bench", "items": 100, "mode": "single"}),
        ),
    ];
    println!();
    println!(
        "Work metering (fuel + call hook), 1 thread, median of {} interleaved runs; DynamoDB calls dry",
        args.repetitions * 2
    );
    println!("| job | unmetered ms | metered ms | metered / unmetered |");
    println!("| --- | ---: | ---: | ---: |");
    for (label, workload, payload) in jobs {
        let event = JobEvent {
            workload: workload.into(),
            threads: 1,
            payload,
            timeout_ms: None,
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..args.repetitions * 2 {
            for (host, out) in [(&plain, &mut a), (&metered, &mut b)] {
                let r = host.run(&event);
                if let Some(e) = r.errors.first() {
                    bail!("{label}: {e}");
                }
                out.push(r.tasks.iter().map(|t| t.ms).sum::<f64>());
            }
        }
        let (a, b) = (median(&a), median(&b));
        println!("| {label} | {a:.2} | {b:.2} | {:.2} |", b / a);
    }
    Ok(())
}

/// One guest job, failing on job errors.
fn job(host: &Host, args: &Args, hash: &str, threads: usize) -> Result<JobResponse> {
    let passwords: Vec<String> = (0..args.passwords)
        .map(|i| format!("password{i}"))
        .collect();
    let event = JobEvent {
        workload: "pbkdf2".into(),
        threads,
        payload: json!({
            "passwords": passwords,
            "iterations": args.iterations,
            "hash": hash,
            "salt": SALT,
            "keyLength": KEY_LENGTH,
        }),
        timeout_ms: None,
    };
    let response = host.run(&event);
    if let Some(e) = response.errors.first() {
        bail!("guest job failed: {e}");
    }
    Ok(response)
}

/// Builds the native baseline (`soft`: the software SHA backend) and returns its binary.
fn build_native(soft: bool) -> Result<std::path::PathBuf> {
    let manifest = root().join("xtask/native-pbkdf2/Cargo.toml");
    // One target folder per feature set, so switching does not rebuild the other each time.
    let flavour = if soft { "soft" } else { "hw" };
    let target = target_dir().join(format!("native-pbkdf2-{flavour}"));
    let mut build = cargo();
    build
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target);
    if soft {
        build.args(["--features", "soft"]);
    }
    run_cmd(&mut build)?;
    Ok(target.join("release/native-pbkdf2"))
}

/// One run of the native baseline over the job's passwords; its JSON.
fn run_native(binary: &std::path::Path, args: &Args) -> Result<Value> {
    let output = Command::new(binary)
        .args([
            args.passwords.to_string(),
            args.iterations.to_string(),
            "1".into(),
        ])
        .output()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    if !output.status.success() {
        bail!(
            "{} failed: {}",
            binary.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    serde_json::from_slice(&output.stdout).context("native baseline printed no JSON")
}

/// How long instantiating each workload takes, as each job thread does it.
fn instantiation(host: &Host, args: &Args) -> Result<()> {
    println!();
    println!(
        "Instantiation from InstancePre (pooling allocator; fresh Store + instance, as each job thread), {} runs (µs)",
        args.instantiations
    );
    println!("| workload | median µs | p90 µs | p99 µs | target |");
    println!("| --- | ---: | ---: | ---: | --- |");
    let dist = root().join("guests/dist");
    let names = ["pbkdf2", "testbed", "ddb-writer", "pbkdf2-py", "pbkdf2-js"]
        .into_iter()
        .filter(|name| dist.join(format!("{name}.wasm")).exists());
    for name in names {
        // Warm the pool's slots first: the first use of a slot maps its memory.
        for _ in 0..50 {
            host.time_instantiation(name)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        let us: Vec<f64> = (0..args.instantiations)
            .map(|_| {
                host.time_instantiation(name)
                    .map(|d| d.as_secs_f64() * 1e6)
                    .map_err(|e| anyhow::anyhow!("{e}"))
            })
            .collect::<Result<_>>()?;
        // The 50 µs target is for Rust guests; an interpreter's instance is larger.
        let target = if name.ends_with("-py") || name.ends_with("-js") {
            "—"
        } else {
            "≤ 50 µs"
        };
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {target} |",
            median(&us),
            quantile(&us, 0.9),
            quantile(&us, 0.99)
        );
    }
    Ok(())
}
