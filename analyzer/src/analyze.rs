//! From samples to [`AnalyzerOutput`]: grouping by (architecture, memory, threads), statistics, costs,
//! speed-ups, error rows, and the choice of rows for the visualization. It owns how
//! those pieces combine; it must not define a statistic, a price or a ranking rule
//! (`stats.rs`, `pricing.rs`, `recommend.rs` do).

use std::collections::BTreeMap;

use crate::output::ArchitecturePrice;
use crate::power_tuning_link::{BASE_URL, Series, encode_url};
use crate::recommend::recommend;
use crate::{
    AnalyzerInput, AnalyzerOutput, Architecture, DurationSource, Error, LambdaReport, Measurement,
    OptimizeTo, Outcome, Pricing, PricingInfo, Row, Sample, SampleRecord, parse_samples_allowing,
    stats::summarize,
};

/// Checks the settings of `input` (not its samples): what the state machine's `Plan` step
/// checks before a sweep starts, so that a bad one never costs a sweep.
///
/// # Errors
/// [`Error::InvalidSetting`] when `discardTopBottom` is not in `[0, 0.5)` or
/// `balancedWeight` not in `[0, 1]`.
pub fn check_settings(input: &AnalyzerInput) -> Result<(), Error> {
    let discard = input.discard_top_bottom;
    if !(0.0..0.5).contains(&discard) {
        return Err(Error::InvalidSetting {
            field: "discardTopBottom",
            reason: format!("must be at least 0 and below 0.5, found {discard}"),
        });
    }
    let weight = input.balanced_weight;
    if !(0.0..=1.0).contains(&weight) {
        return Err(Error::InvalidSetting {
            field: "balancedWeight",
            reason: format!("must be between 0 and 1, found {weight}"),
        });
    }
    // Rows are per architecture: two functions of one would be averaged into one row.
    let listed = &input.architectures;
    if let Some(twice) = listed
        .iter()
        .enumerate()
        .find(|(i, a)| listed[..*i].contains(a))
    {
        return Err(Error::InvalidSetting {
            field: "architectures",
            reason: format!(
                "two functions of architecture {}: sweep one function per architecture",
                twice.1
            ),
        });
    }
    Ok(())
}

/// Analyzes what the state machine sent.
///
/// # Errors
/// - [`Error::InvalidSetting`] when `discardTopBottom` is not in `[0, 0.5)` or
///   `balancedWeight` not in `[0, 1]`;
/// - [`Error::InvalidSample`] for a malformed sample (see [`parse_samples`]);
/// - [`Error::NoSamples`] when there is neither a sample nor a configuration listed.
pub fn analyze(input: &AnalyzerInput) -> Result<AnalyzerOutput, Error> {
    let samples = parse_samples_allowing(&input.samples, &input.allowed_exceptions)?;
    analyze_samples(input, &samples)
}

/// Analyzes `samples` with the settings of `input` (its `samples` field is ignored):
/// for callers that already hold parsed samples.
///
/// # Errors
/// As [`analyze`], except for sample parsing.
pub fn analyze_samples(input: &AnalyzerInput, samples: &[Sample]) -> Result<AnalyzerOutput, Error> {
    check_settings(input)?;
    let (discard, weight) = (input.discard_top_bottom, input.balanced_weight);

    let architectures = if input.architectures.is_empty() {
        vec![input.architecture]
    } else {
        input.architectures.clone()
    };
    // BTreeMap: rows come out ordered by architecture, then memory, then threads.
    let mut groups: BTreeMap<(Architecture, u32, u32), Vec<&Sample>> = BTreeMap::new();
    for sample in samples {
        let architecture = sample.architecture.unwrap_or(architectures[0]);
        groups
            .entry((architecture, sample.memory_mb, sample.threads))
            .or_default()
            .push(sample);
    }
    // A configuration asked for but without any sample still gets a row, so a report
    // never silently drops one.
    for &architecture in &architectures {
        for memory_mb in &input.memory_sizes {
            for threads in &input.threads {
                groups
                    .entry((architecture, *memory_mb, *threads))
                    .or_default();
            }
        }
    }
    if groups.is_empty() {
        return Err(Error::NoSamples);
    }

    let prices: BTreeMap<Architecture, Pricing> = groups
        .keys()
        .map(|(a, _, _)| *a)
        .chain(architectures.iter().copied())
        .map(|a| (a, Pricing::lookup(input.region.as_deref(), a)))
        .collect();
    let mut rows: Vec<Row> = groups
        .iter()
        .map(|((architecture, memory_mb, threads), group)| {
            let mut row = row(*memory_mb, *threads, group, discard, &prices[architecture]);
            row.architecture = Some(*architecture);
            row
        })
        .collect();
    fill_speedups(&mut rows);

    let several = prices.len() > 1;
    let recommendation = recommend(&rows, input.strategy, weight, several);
    // The function to optimize is the chosen row's; a row of no listed function (a sample
    // naming another architecture) is not applied to another function.
    let function_of = |chosen: &crate::Recommendation| {
        let architecture = chosen.architecture.unwrap_or(architectures[0]);
        architectures.iter().position(|&a| a == architecture)
    };
    let optimize_to = match (input.auto_optimize, recommendation.chosen()) {
        (true, Some(chosen)) => function_of(chosen).map(|function| OptimizeTo {
            function,
            architecture: chosen.architecture,
            memory_mb: chosen.memory_mb,
            threads: chosen.threads,
            variables: [(
                crate::plan::THREADS_VARIABLE.to_owned(),
                chosen.threads.to_string(),
            )]
            .into(),
        }),
        _ => None,
    };
    // The comparison link shows one architecture: the chosen one's.
    let shown = recommendation
        .chosen()
        .and_then(|c| c.architecture)
        .unwrap_or(architectures[0]);
    let visualization = visualization(
        &rows
            .iter()
            .filter(|r| r.architecture == Some(shown))
            .cloned()
            .collect::<Vec<_>>(),
    );
    let by_architecture = if several {
        prices
            .values()
            .map(|p| ArchitecturePrice {
                architecture: p.architecture,
                gb_second_usd: p.gb_second_usd,
            })
            .collect()
    } else {
        Vec::new()
    };
    let pricing = prices[&architectures[0]].clone();
    let Pricing {
        region,
        price_region,
        architecture,
        gb_second_usd,
        request_usd,
        note,
    } = pricing;
    Ok(AnalyzerOutput {
        workload: input.workload.clone(),
        architecture,
        architectures: if architectures.len() > 1 {
            architectures
        } else {
            Vec::new()
        },
        pricing: PricingInfo {
            region,
            price_region,
            gb_second_usd,
            request_usd,
            note,
            by_architecture,
        },
        discard_top_bottom: discard,
        rows,
        recommendation,
        visualization,
        local: None,
        samples: input
            .include_samples
            .then(|| samples.iter().map(record).collect()),
        optimize_to,
        auto_optimized: None,
    })
}

/// One sample as `includeSamples` shows it.
fn record(sample: &Sample) -> SampleRecord {
    let (memory_mb, threads) = (sample.memory_mb, sample.threads);
    match &sample.outcome {
        Outcome::Ok(m) => SampleRecord {
            memory_mb,
            threads,
            duration_ms: Some(m.report.map_or(m.duration_ms, |r| r.duration_ms)),
            billed_duration_ms: m.report.map(|r| r.billed_duration_ms),
            cold: Some(m.cold),
            init_ms: m
                .cold
                .then(|| m.report.and_then(|r| r.init_duration_ms).or(m.init_ms))
                .flatten(),
            error: m.allowed_error.clone(),
            cause: None,
            written_items: sample.written_items,
        },
        Outcome::Failed { error, cause } => SampleRecord {
            memory_mb,
            threads,
            duration_ms: None,
            billed_duration_ms: None,
            cold: None,
            init_ms: None,
            error: Some(error.clone()),
            cause: Some(cause.clone()),
            written_items: sample.written_items,
        },
    }
}

fn row(memory_mb: u32, threads: u32, group: &[&Sample], discard: f64, pricing: &Pricing) -> Row {
    let mut ok: Vec<&Measurement> = Vec::with_capacity(group.len());
    let mut first_failure: Option<(&str, &str)> = None;
    let mut errors = 0;
    let (mut written_items, mut written_by_failed, mut failed_unanswered) = (0u64, 0u64, 0u32);
    for sample in group {
        written_items = written_items.saturating_add(sample.written_items.unwrap_or(0));
        match &sample.outcome {
            Outcome::Ok(m) => ok.push(m),
            Outcome::Failed { error, cause } => {
                errors += 1;
                first_failure.get_or_insert((error, cause));
                match sample.written_items {
                    Some(n) => written_by_failed = written_by_failed.saturating_add(n),
                    None => failed_unanswered += 1,
                }
            }
        }
    }
    // Lambda's durations only when every success has them: a row's statistics never mix the
    // two clocks. (INIT and memory are per sample: Lambda's where the sample has a REPORT.)
    let reports: Option<Vec<LambdaReport>> = ok.iter().map(|m| m.report).collect();
    // `billed` is the billed ms of an average invocation: the trimmed mean of Lambda's
    // per-invocation Billed Durations (each already a whole ms, so the mean is not rounded
    // again: a second rounding would add up to 1 ms to a row and tilt close costs), or the
    // trimmed mean duration rounded up to 1 ms as Lambda would bill it.
    let (source, durations, billed) = match reports.filter(|r| !r.is_empty()) {
        Some(reports) => {
            // The warm cost of an invocation: a cold start's Billed Duration also holds its
            // INIT, and the sweep's first invocation of each version (always its first
            // thread count) is cold, so INIT would tilt every comparison of thread counts.
            // What INIT adds is `initCostUsd`, per cold start.
            let billed: Vec<f64> = reports
                .iter()
                .map(|r| match r.init_duration_ms {
                    Some(_) => Pricing::billed_ms(r.duration_ms) as f64,
                    None => r.billed_duration_ms as f64,
                })
                .collect();
            (
                DurationSource::LambdaReport,
                reports.iter().map(|r| r.duration_ms).collect::<Vec<_>>(),
                summarize(&billed, discard).map(|s| s.trimmed_mean),
            )
        }
        None => {
            let durations: Vec<f64> = ok.iter().map(|m| m.duration_ms).collect();
            let billed =
                summarize(&durations, discard).map(|s| Pricing::billed_ms(s.trimmed_mean) as f64);
            (DurationSource::Job, durations, billed)
        }
    };
    let summary = summarize(&durations, discard);
    let cost = billed.map(|billed| pricing.cost_per_invocation(memory_mb, billed));
    let (error, cause) = match (first_failure, group.is_empty()) {
        (Some((e, c)), _) => (Some(e.to_owned()), Some(c.to_owned())),
        (None, true) => (
            Some("Powersweep.NoSamples".to_owned()),
            Some("no sample of this configuration reached the analyzer".to_owned()),
        ),
        (None, false) => (None, None),
    };
    let inits: Vec<f64> = ok
        .iter()
        .filter(|m| m.cold)
        .filter_map(|m| m.report.and_then(|r| r.init_duration_ms).or(m.init_ms))
        .collect();
    Row {
        architecture: None,
        memory_mb,
        threads,
        n: u32::try_from(group.len()).unwrap_or(u32::MAX),
        errors,
        allowed_errors: u32::try_from(ok.iter().filter(|m| m.allowed_error.is_some()).count())
            .unwrap_or(u32::MAX),
        cold_starts: u32::try_from(ok.iter().filter(|m| m.cold).count()).unwrap_or(u32::MAX),
        mean_ms: summary.map(|s| s.mean),
        trimmed_mean_ms: summary.map(|s| s.trimmed_mean),
        p50_ms: summary.map(|s| s.p50),
        p90_ms: summary.map(|s| s.p90),
        p99_ms: summary.map(|s| s.p99),
        min_ms: summary.map(|s| s.min),
        max_ms: summary.map(|s| s.max),
        std_dev_ms: summary.and_then(|s| s.std_dev),
        mean_cpu_ms: mean(ok.iter().filter_map(|m| m.cpu_ms)),
        duration_source: source,
        mean_job_ms: mean(ok.iter().map(|m| m.duration_ms)),
        mean_init_ms: mean(inits.iter().copied()),
        init_cost_usd: mean(inits.iter().copied()).map(|init| {
            pricing.cost_per_invocation(memory_mb, Pricing::billed_ms(init) as f64)
                - pricing.request_usd
        }),
        max_memory_used_mb: ok
            .iter()
            .filter_map(|m| {
                m.report
                    .map(|r| r.max_memory_used_mb)
                    .or(m.max_rss_mb.map(|mb| mb.ceil() as u64))
            })
            .max(),
        vcpus: ok.iter().filter_map(|m| m.vcpus).max(),
        billed_ms: billed.map(|b| b.round() as u64),
        cost_per_invocation_usd: cost,
        cost_per_million_usd: cost.map(|c| c * 1e6),
        speedup_vs_one_thread: None,
        written_items,
        written_by_failed,
        failed_unanswered,
        error,
        cause,
        capped_vcpus: None,
        modeled: None,
    }
}

/// The mean of `values`, `None` when there are none.
fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// `speedupVsOneThread` = trimmed mean at 1 thread / this row's, at the same architecture
/// and memory.
fn fill_speedups(rows: &mut [Row]) {
    let single: BTreeMap<(Option<Architecture>, u32), f64> = rows
        .iter()
        .filter(|r| r.threads == 1)
        .filter_map(|r| Some(((r.architecture, r.memory_mb), r.trimmed_mean_ms?)))
        .collect();
    for row in rows.iter_mut() {
        let key = (row.architecture, row.memory_mb);
        row.speedup_vs_one_thread = match (single.get(&key), row.trimmed_mean_ms) {
            (Some(one), Some(this)) if this > 0.0 => Some(one / this),
            _ => None,
        };
    }
}

/// The comparison link: the fewest threads (1 in any sensible sweep) against the most,
/// over the memory sizes where each succeeded. A single thread count gives a plain
/// (non-comparison) link.
fn visualization(rows: &[Row]) -> Option<String> {
    let good = |threads: u32| -> Option<Series> {
        let points: Vec<&Row> = rows
            .iter()
            .filter(|r| r.threads == threads && !r.is_error())
            .collect();
        if points.is_empty() {
            return None;
        }
        Some(Series {
            label: match threads {
                1 => "1 thread".to_owned(),
                n => format!("{n} threads"),
            },
            memory_mb: points.iter().map(|r| r.memory_mb).collect(),
            times_ms: points.iter().filter_map(|r| r.trimmed_mean_ms).collect(),
            costs_usd: points
                .iter()
                .filter_map(|r| r.cost_per_invocation_usd)
                .collect(),
        })
    };
    let mut counts: Vec<u32> = rows
        .iter()
        .filter(|r| !r.is_error())
        .map(|r| r.threads)
        .collect();
    counts.sort_unstable();
    counts.dedup();
    let (&fewest, &most) = (counts.first()?, counts.last()?);
    let first = good(fewest)?;
    if fewest == most {
        return Some(encode_url(BASE_URL, &first, None));
    }
    let second = good(most)?;
    Some(encode_url(BASE_URL, &first, Some(&second)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Architecture, Strategy, decode_url};
    use serde_json::json;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= 1e-9 * b.abs().max(1e-12))
    }

    fn ok(memory: u32, threads: u32, ms: f64) -> serde_json::Value {
        json!({"memoryMb": memory, "threads": threads, "durationMs": ms, "cpuMs": ms * f64::from(threads), "cold": false, "errors": []})
    }

    /// Two memory sizes × two thread counts, as the state machine nests them
    /// (version → threads → repetitions), plus an out-of-memory configuration.
    fn input() -> AnalyzerInput {
        let samples = json!([
            [
                [ok(1024, 1, 400.0), ok(1024, 1, 120.0), ok(1024, 1, 100.0), ok(1024, 1, 130.0), ok(1024, 1, 110.0)],
                [ok(1024, 2, 60.0), ok(1024, 2, 61.0), ok(1024, 2, 62.0), ok(1024, 2, 63.0), ok(1024, 2, 64.0)]
            ],
            [
                [ok(2048, 1, 100.0), ok(2048, 1, 100.0), ok(2048, 1, 100.0)],
                [ok(2048, 2, 50.0), {"memoryMb": 2048, "threads": 2, "error": "Sandbox.Timedout", "cause": "{\"errorMessage\":\"timed out\"}"}, ok(2048, 2, 50.0)]
            ],
            [
                [{"memoryMb": 128, "threads": 1, "error": "Runtime.OutOfMemory", "cause": "oom"},
                 {"memoryMb": 128, "threads": 1, "error": "Runtime.OutOfMemory", "cause": "oom"}]
            ]
        ]);
        serde_json::from_value(json!({
            "workload": "pbkdf2",
            "memorySizes": [128, 1024, 2048],
            "threads": [1, 2],
            "strategy": "cost",
            "architecture": "arm64",
            "region": "us-east-1",
            "samples": samples,
        }))
        .unwrap()
    }

    fn find(out: &AnalyzerOutput, memory: u32, threads: u32) -> &Row {
        out.rows
            .iter()
            .find(|r| r.memory_mb == memory && r.threads == threads)
            .unwrap()
    }

    /// A sample with Lambda's REPORT line beside the host's job time.
    fn reported(ms: f64, report_ms: f64, billed: u64, init: Option<f64>) -> serde_json::Value {
        let init_field = init.map_or(String::new(), |i| format!("Init Duration: {i} ms\t"));
        json!({"memoryMb": 1024, "threads": 1, "durationMs": ms, "cold": init.is_some(),
               "initMs": 3.0, "maxRssMb": 40.2, "vcpus": 2, "errors": [],
               "report": format!("REPORT RequestId: r\tDuration: {report_ms} ms\tBilled Duration: {billed} ms\tMemory Size: 1024 MB\tMax Memory Used: 45 MB\t{init_field}")})
    }

    fn one_row(samples: serde_json::Value) -> Row {
        let input: AnalyzerInput =
            serde_json::from_value(json!({"workload": "w", "samples": samples})).unwrap();
        analyze(&input).unwrap().rows.remove(0)
    }

    #[test]
    fn lambda_report_figures_make_the_row_when_every_success_has_them() {
        // Durations 101, 102, 103 (job 100 each); billed 130 (cold: 101 + init 28.1 → 130),
        // 103, 104. The cold one counts as its Duration, 101 ms: discard 0.2 of 3 trims
        // nothing, billed mean (101 + 103 + 104) / 3 = 102.667 ms (shown as 103).
        let r = one_row(json!([
            reported(100.0, 101.0, 130, Some(28.1)),
            reported(100.0, 102.0, 103, None),
            reported(100.0, 103.0, 104, None),
        ]));
        assert_eq!(r.duration_source, DurationSource::LambdaReport);
        assert!(close(r.trimmed_mean_ms, 102.0) && close(r.mean_job_ms, 100.0));
        assert_eq!(r.billed_ms, Some(103));
        assert_eq!((r.cold_starts, r.mean_init_ms), (1, Some(28.1)));
        assert_eq!((r.max_memory_used_mb, r.vcpus), (Some(45), Some(2)));
        // x86_64 (the default) us-east-1: 0.0000166667 × 1 GB × 0.308 s / 3 + 0.0000002
        assert!(close(
            r.cost_per_invocation_usd,
            0.0000166667 * 0.308 / 3.0 + 0.0000002
        ));
        // INIT 28.1 → 29 ms billed: 0.0000166667 × 1 GB × 0.029 s
        assert!(close(r.init_cost_usd, 0.000_000_483_334_3));
    }

    #[test]
    fn a_row_with_one_sample_lacking_a_report_uses_the_job_time_throughout() {
        let r = one_row(json!([
            reported(100.0, 101.0, 130, Some(28.1)),
            {"memoryMb": 1024, "threads": 1, "durationMs": 100.0, "cold": false, "maxRssMb": 40.2},
        ]));
        assert_eq!(r.duration_source, DurationSource::Job);
        assert!(close(r.trimmed_mean_ms, 100.0));
        assert_eq!(r.billed_ms, Some(100));
        // The cold start's init is still Lambda's; the memory the larger of the two.
        assert_eq!(
            (r.mean_init_ms, r.max_memory_used_mb),
            (Some(28.1), Some(45))
        );
    }

    #[test]
    fn an_unreadable_report_fails_its_sample_by_name() {
        let mut bad = reported(100.0, 101.0, 102, None);
        bad["report"] = json!("END RequestId: r");
        let r = one_row(json!([bad, reported(100.0, 101.0, 102, None)]));
        assert_eq!((r.n, r.errors), (2, 1));
        assert_eq!(r.error.as_deref(), Some("Powersweep.UnreadableReport"));
        assert!(r.cause.as_deref().unwrap().contains("not a REPORT record"));
        assert_eq!(r.duration_source, DurationSource::LambdaReport);
    }

    #[test]
    fn statistics_and_costs_by_hand() {
        let out = analyze(&input()).unwrap();
        assert_eq!(out.rows.len(), 6, "{:#?}", out.rows);

        // 1024 MB, 1 thread: 100 110 120 130 400 (see stats.rs for the arithmetic):
        // mean 172, trimmed (k = 1) 120, p50 120, p90 292, p99 389.2.
        // billed ceil(120) = 120 ms; arm64 us-east-1:
        // 0.0000133334 × 1 GB × 0.120 s + 0.0000002 = 0.000001800008 → 1.800008 per million
        let r = find(&out, 1024, 1);
        assert_eq!((r.n, r.errors, r.cold_starts), (5, 0, 0));
        assert!(close(r.mean_ms, 172.0) && close(r.trimmed_mean_ms, 120.0));
        assert!(close(r.p50_ms, 120.0) && close(r.p90_ms, 292.0) && close(r.p99_ms, 389.2));
        assert!(close(r.min_ms, 100.0) && close(r.max_ms, 400.0));
        assert_eq!(r.billed_ms, Some(120));
        assert!(close(r.cost_per_invocation_usd, 0.000_001_800_008));
        assert!(close(r.cost_per_million_usd, 1.800_008));
        assert!(close(r.speedup_vs_one_thread, 1.0));
        // cpuMs = durationMs × 1 here: mean 172
        assert!(close(r.mean_cpu_ms, 172.0));

        // 1024 MB, 2 threads: 60..64, trimmed (61 + 62 + 63) / 3 = 62, billed 62 ms:
        // 0.0000133334 × 1 × 0.062 + 0.0000002 = 0.0000008266708 + 0.0000002 = 0.0000010266708
        // speedup 120 / 62 = 1.935483870967742
        let r = find(&out, 1024, 2);
        assert!(close(r.trimmed_mean_ms, 62.0));
        assert!(close(r.cost_per_invocation_usd, 0.000_001_026_670_8));
        assert!(close(r.speedup_vs_one_thread, 120.0 / 62.0));

        // 2048 MB, 2 threads: one timeout out of three; statistics over 50, 50 (k = floor(2 × 0.2) = 0)
        // billed 50 ms: 0.0000133334 × 2 GB × 0.05 s + 0.0000002 = 0.00000133334 + 0.0000002 = 0.00000153334
        // speedup 100 / 50 = 2
        let r = find(&out, 2048, 2);
        assert_eq!((r.n, r.errors), (3, 1));
        assert!(close(r.trimmed_mean_ms, 50.0));
        assert!(close(r.cost_per_invocation_usd, 0.000_001_533_34));
        assert!(close(r.speedup_vs_one_thread, 2.0));
        assert_eq!(r.error.as_deref(), Some("Sandbox.Timedout"));
        assert!(!r.is_error());
    }

    #[test]
    fn error_rows_are_kept() {
        let out = analyze(&input()).unwrap();
        // 128 MB, 1 thread: every sample ran out of memory.
        let r = find(&out, 128, 1);
        assert!(r.is_error());
        assert_eq!((r.n, r.errors), (2, 2));
        assert_eq!(
            (r.error.as_deref(), r.cause.as_deref()),
            (Some("Runtime.OutOfMemory"), Some("oom"))
        );
        assert_eq!(
            (
                r.trimmed_mean_ms,
                r.cost_per_invocation_usd,
                r.speedup_vs_one_thread
            ),
            (None, None, None)
        );
        // 128 MB, 2 threads was asked for but never sampled: still a row.
        let r = find(&out, 128, 2);
        assert!(r.is_error());
        assert_eq!((r.n, r.errors), (0, 0));
        assert_eq!(r.error.as_deref(), Some("Powersweep.NoSamples"));
        // Nulls, not missing keys, in results.json.
        let json = serde_json::to_value(r).unwrap();
        assert_eq!(json["trimmedMeanMs"], serde_json::Value::Null);
        assert_eq!(json["memoryMb"], 128);
    }

    #[test]
    fn recommendation_per_strategy() {
        let out = analyze(&input()).unwrap();
        let rec = &out.recommendation;
        assert_eq!(rec.strategy, Strategy::Cost);
        // Candidates (no failure): 1024/1 ($1.800008/M, 120 ms), 1024/2 ($1.0266708/M, 62 ms),
        // 2048/1 (billed 100: 0.0000133334 × 2 × 0.1 + 0.0000002 = $2.86668/M, 100 ms).
        // 2048/2 had a timeout and 128 MB failed, so neither may win.
        let at = |r: &Option<crate::Recommendation>| r.as_ref().map(|r| (r.memory_mb, r.threads));
        assert_eq!(at(&rec.cost), Some((1024, 2)));
        assert_eq!(at(&rec.speed), Some((1024, 2)));
        // weight 0.5, max cost 2.86668, max time 120:
        //   1024/1: 0.5 × 1.800008/2.86668 + 0.5 × 120/120 = 0.3140 + 0.5    = 0.8140
        //   1024/2: 0.5 × 1.0266708/2.86668 + 0.5 × 62/120 = 0.1791 + 0.2583 = 0.4374 ← least
        //   2048/1: 0.5 × 1 + 0.5 × 100/120                = 0.5    + 0.4167 = 0.9167
        assert_eq!(at(&rec.balanced), Some((1024, 2)));
        assert!(rec.balanced.as_ref().unwrap().reason.contains("0.437"));
        assert_eq!(rec.chosen(), rec.cost.as_ref());
    }

    #[test]
    fn visualization_decodes_back_to_the_rows() {
        let out = analyze(&input()).unwrap();
        let url = out.visualization.as_deref().unwrap();
        let decoded = decode_url(url).unwrap();
        // 1 thread: 128 MB failed, so 1024 and 2048; 2 threads: 1024 and 2048.
        let first = &decoded.first;
        assert_eq!(first.label, "1 thread");
        assert_eq!(first.memory_mb, [1024, 2048]);
        assert_eq!(first.times_ms, [120.0, 100.0]);
        assert_eq!(
            first.costs_usd,
            [0.000_001_800_008_f64 as f32, 0.000_002_866_68_f64 as f32]
        );
        let second = decoded.second.as_ref().unwrap();
        assert_eq!(second.label, "2 threads");
        assert_eq!(second.memory_mb, [1024, 2048]);
        assert_eq!(second.times_ms, [62.0, 50.0]);
        assert_eq!(
            second.costs_usd,
            [0.000_001_026_670_8_f64 as f32, 0.000_001_533_34_f64 as f32]
        );
    }

    #[test]
    fn one_thread_count_gives_a_plain_link() {
        let input: AnalyzerInput =
            serde_json::from_value(json!({"samples": [ok(512, 1, 10.0)]})).unwrap();
        let out = analyze(&input).unwrap();
        let decoded = decode_url(out.visualization.as_deref().unwrap()).unwrap();
        assert_eq!(decoded.first.memory_mb, [512]);
        assert_eq!(decoded.second, None);
    }

    #[test]
    fn x86_and_unknown_region_prices() {
        let mut input = input();
        input.architecture = Architecture::X86_64;
        input.region = Some("mars-north-1".into());
        let out = analyze(&input).unwrap();
        // 0.0000166667 × 1 × 0.12 + 0.0000002 = 0.000002000004 + 0.0000002 = 0.000002200004
        assert!(close(
            find(&out, 1024, 1).cost_per_invocation_usd,
            0.000_002_200_004
        ));
        assert_eq!(out.pricing.price_region, "us-east-1");
        assert!(
            out.pricing
                .note
                .as_deref()
                .unwrap()
                .contains("mars-north-1")
        );
    }

    #[test]
    fn bad_settings_are_rejected() {
        macro_rules! rejects {
            ($field:ident, $value:expr, $name:expr) => {
                let mut input = input();
                input.$field = $value;
                match analyze(&input) {
                    Err(Error::InvalidSetting { field, .. }) => assert_eq!(field, $name),
                    other => panic!("expected InvalidSetting, got {other:?}"),
                }
            };
        }
        rejects!(discard_top_bottom, 0.5, "discardTopBottom");
        rejects!(discard_top_bottom, -0.1, "discardTopBottom");
        rejects!(discard_top_bottom, f64::NAN, "discardTopBottom");
        rejects!(balanced_weight, 1.5, "balancedWeight");
        rejects!(balanced_weight, f64::NAN, "balancedWeight");
        let empty: AnalyzerInput = serde_json::from_value(json!({"samples": []})).unwrap();
        assert!(matches!(analyze(&empty), Err(Error::NoSamples)));
    }

    #[test]
    fn output_round_trips_through_json() {
        let out = analyze(&input()).unwrap();
        let text = serde_json::to_string(&out).unwrap();
        let back: AnalyzerOutput = serde_json::from_str(&text).unwrap();
        assert_eq!(back, out);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        for key in ["rows", "recommendation", "visualization", "pricing"] {
            assert!(value.get(key).is_some(), "{key}");
        }
        assert_eq!(value["recommendation"]["strategy"], "cost");
    }
}
