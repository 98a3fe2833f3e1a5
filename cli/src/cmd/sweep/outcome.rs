//! What a sweep's execution answered and what it means for the user: the analysis shown
//! and written, a probe's lines, what autoOptimize applied, and the exit code.

use super::Args;
use anyhow::{Context, Result, bail};
use powersweep_analyzer::AnalyzerOutput;
use serde_json::Value;
use std::process::ExitCode;

/// What a sweep's execution answered: an analysis, or (power-tuning's `dryRun`) the samples
/// of one invocation per configuration.
pub(super) enum Finished {
    Analysis(Box<AnalyzerOutput>),
    Probe(Value),
}

impl Finished {
    pub(super) fn parse(output: Value) -> Result<Finished> {
        if output.get("dryRun").and_then(Value::as_bool) == Some(true) {
            return Ok(Finished::Probe(
                output.get("samples").cloned().unwrap_or(Value::Null),
            ));
        }
        Ok(Finished::Analysis(Box::new(parse_output(output)?)))
    }
}

/// Shows an execution's answer; the exit code says whether it was a success.
pub(super) fn finish(output: Finished, args: &Args) -> Result<ExitCode> {
    match output {
        Finished::Probe(samples) => probe_result(&samples, &args.allowed_exceptions),
        Finished::Analysis(output) => {
            crate::cmd::report::show(&output, &args.out)?;
            optimized(&output, args.auto_optimize)?;
            recommended(&output)
        }
    }
}

/// `--probe`: one line per configuration, and exit 1 when any failed.
pub(super) fn probe_result(samples: &Value, allowed: &[String]) -> Result<ExitCode> {
    let samples = powersweep_analyzer::parse_samples_allowing(samples, allowed)
        .context("the probe's samples cannot be read")?;
    let mut failed = 0;
    println!("probe: each configuration invoked once, nothing analyzed");
    for sample in &samples {
        let what = match &sample.outcome {
            powersweep_analyzer::Outcome::Ok(m) => format!(
                "ok, {:.1} ms{}",
                m.report.map_or(m.duration_ms, |r| r.duration_ms),
                if m.cold { " (cold)" } else { "" }
            ),
            powersweep_analyzer::Outcome::Failed { error, cause } => {
                failed += 1;
                format!(
                    "{}: {}",
                    crate::terminal::escape(error),
                    crate::terminal::escape(cause)
                )
            }
        };
        println!(
            "  {:>5} MB × {:>2} threads  {what}",
            sample.memory_mb, sample.threads
        );
    }
    if failed > 0 {
        bail!("{failed} of {} configurations failed", samples.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// Says what `--auto-optimize` applied; fails (the results are written) when it could not.
pub(super) fn optimized(output: &AnalyzerOutput, asked: bool) -> Result<()> {
    let Some(done) = &output.auto_optimized else {
        if asked {
            // The state machine applies nothing when no configuration qualified.
            bail!(
                "auto-optimize applied nothing: no configuration succeeded in every invocation (the results are written)"
            );
        }
        return Ok(());
    };
    if let Some(error) = &done.error {
        let applied = match (done.memory_mb, done.threads, &done.version) {
            (Some(m), Some(t), Some(v)) => format!(
                "$LATEST and version {v} have {m} MB and {}={t}, the alias was not moved",
                powersweep_host::env::THREADS
            ),
            (Some(m), Some(t), None) => format!(
                "$LATEST has {m} MB and {}={t}, no version was published",
                powersweep_host::env::THREADS
            ),
            _ => "nothing was applied".to_owned(),
        };
        bail!(
            "auto-optimize failed ({applied}; the sweep's results are written): {}: {}",
            crate::terminal::escape(error),
            crate::terminal::escape(done.cause.as_deref().unwrap_or(""))
        );
    }
    let what = format!(
        "{} MB, {}={}",
        done.memory_mb.map(|m| m.to_string()).unwrap_or_default(),
        powersweep_host::env::THREADS,
        done.threads.map(|t| t.to_string()).unwrap_or_default()
    );
    match (&done.alias, &done.version) {
        (Some(alias), Some(version)) => {
            println!("auto-optimized: $LATEST and version {version} (alias {alias}) have {what}")
        }
        _ => println!("auto-optimized: $LATEST has {what}"),
    }
    Ok(())
}

/// Success only when the sweep recommends a configuration: a configuration qualifies only
/// when none of its invocations failed, so a sweep whose every row had a failure has nothing
/// to recommend, and scripts must not read the run as a result (its files are written).
pub(super) fn recommended(output: &AnalyzerOutput) -> Result<ExitCode> {
    if output.rows.is_empty() || output.recommendation.chosen().is_some() {
        return Ok(ExitCode::SUCCESS);
    }
    let first = output
        .rows
        .iter()
        .find_map(|r| {
            r.error
                .as_ref()
                .map(|e| (e, r.cause.as_deref().unwrap_or("")))
        })
        .map(|(e, cause)| format!("; the first: {e}: {cause}"))
        .unwrap_or_default();
    let failed: u64 = output.rows.iter().map(|r| u64::from(r.errors)).sum();
    let total: u64 = output.rows.iter().map(|r| u64::from(r.n)).sum();
    if output.rows.iter().all(|r| r.errors >= r.n) {
        bail!("every invocation of every configuration failed{first}");
    }
    bail!(
        "nothing to recommend: every configuration had failed invocations ({failed} of {total} failed){first}"
    );
}

pub(super) fn parse_output(output: Value) -> Result<AnalyzerOutput> {
    serde_json::from_value(output).context(
        "the state machine's output is not an analyzer output; is the ARN the `StateMachineArn` output of powersweep's stack?",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 512 and 1024 MB, two invocations each; `failing` of them failed at each size.
    fn sweep(failing: [usize; 2]) -> AnalyzerOutput {
        let mut samples = Vec::new();
        for (memory, failing) in [512u32, 1024].into_iter().zip(failing) {
            for i in 0..2 {
                samples.push(if i < failing {
                    json!({"memoryMb": memory, "threads": 1, "error": "States.TaskFailed", "cause": "moto went away"})
                } else {
                    json!({"memoryMb": memory, "threads": 1, "durationMs": 100.0, "cold": false, "errors": []})
                });
            }
        }
        let input: powersweep_analyzer::AnalyzerInput =
            serde_json::from_value(json!({"workload": "w", "samples": samples})).unwrap();
        powersweep_analyzer::analyze(&input).unwrap()
    }

    #[test]
    fn a_sweep_succeeds_only_when_it_recommends() {
        assert!(recommended(&sweep([0, 1])).is_ok());
        let err = recommended(&sweep([1, 1])).unwrap_err().to_string();
        assert!(
            err.starts_with("nothing to recommend: every configuration had failed invocations (2 of 4 failed); the first: States.TaskFailed: moto went away"),
            "{err}"
        );
        let err = recommended(&sweep([2, 2])).unwrap_err().to_string();
        assert!(
            err.starts_with("every invocation of every configuration failed"),
            "{err}"
        );
    }
}
