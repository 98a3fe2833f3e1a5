//! The results of a sweep as plain text for the terminal: one line per (architecture, memory,
//! threads), then the recommendation of each strategy and the visualization link. The
//! architecture is a column only when the sweep had several.
//!
//! It owns layout only; every figure comes from the [`AnalyzerOutput`] as is, so the table,
//! `results.csv` and `report.html` can never disagree.

use powersweep_analyzer::{AnalyzerOutput, Row, Strategy};

/// The marker in front of a recommended row and of the chosen recommendation.
const CHOSEN: &str = "*";

/// Longest cause shown in an error row; the whole cause is in `results.json`.
const MAX_CAUSE: usize = 80;

/// The table, the recommendations and the visualization URL, ending in a newline.
///
/// A row is marked with `*` when the strategy the user chose recommends it, and its last
/// column names every strategy that recommends it. An error row (every sample failed)
/// shows its error and cause instead of figures.
pub fn render(output: &AnalyzerOutput) -> String {
    let mut text = String::new();
    let pricing = &output.pricing;
    text.push_str(&format!(
        "workload {}, prices of {} ({} per GB-s, ${} per million requests), trimmed mean drops {}% at each end\n",
        crate::terminal::escape(&output.workload),
        pricing.price_region,
        pricing.describe_gb_second(),
        round(pricing.request_usd * 1e6, 4),
        round(output.discard_top_bottom * 100.0, 1),
    ));
    if let Some(note) = &pricing.note {
        text.push_str(&format!("note: {note}\n"));
    }
    text.push('\n');
    text.push_str(&rows_table(output));
    text.push_str(&caveats(output));
    text.push('\n');
    text.push_str(&recommendations(output));
    match &output.visualization {
        Some(url) => text.push_str(&format!("\nvisualization: {url}\n")),
        None => text.push_str("\nvisualization: none (no thread count has a successful row)\n"),
    }
    text
}

/// The strategies in the order the report lists them.
const STRATEGIES: [Strategy; 3] = [Strategy::Balanced, Strategy::Cost, Strategy::Speed];

fn rows_table(output: &AnalyzerOutput) -> String {
    let header = [
        "",
        "memory MB",
        "threads",
        "n",
        "errors",
        "trimmed ms",
        "sd %",
        "p90 ms",
        "$/1M inv",
        "speedup",
        "vCPU used",
        "cold",
        "init ms",
        "max MB",
        "cores",
        "",
    ];
    let several = output.several_architectures();
    let mut header: Vec<String> = header.map(String::from).to_vec();
    if several {
        header.insert(1, "arch".into());
    }
    // Numbers are right-aligned; the marker, the architecture and the notes are not.
    let columns = header.len();
    let mut right = vec![true; columns];
    (right[0], right[columns - 1]) = (false, false);
    if several {
        right[1] = false;
    }
    let mut lines: Vec<Vec<String>> = vec![header];
    for row in &output.rows {
        let recommended_by: Vec<&str> = STRATEGIES
            .iter()
            .filter(|&&s| {
                output
                    .recommendation
                    .for_strategy(s)
                    .is_some_and(|r| r.is_for(row, output.architecture))
            })
            .map(|s| s.as_str())
            .collect();
        let chosen = recommended_by.contains(&output.recommendation.strategy.as_str());
        let mut note = Vec::new();
        if !recommended_by.is_empty() {
            note.push(format!("<- {}", recommended_by.join(", ")));
        }
        if let Some(vcpus) = row.capped_vcpus {
            note.push(format!("capped at {vcpus:.2} vCPUs"));
        }
        if let Some(m) = &row.modeled {
            note.push(format!(
                "work {:.0} ms, I/O wait {:.0} ms, efficiency {:.2}",
                m.work_ms, m.io_wait_ms, m.parallel_efficiency
            ));
        }
        let figures = if row.is_error() {
            note.insert(0, failure(row));
            ["-", "-", "-", "-", "-", "-"].map(String::from)
        } else {
            if row.errors > 0 {
                note.insert(0, format!("some failed: {}", failure(row)));
            }
            [
                opt(row.trimmed_mean_ms, |v| format!("{v:.1}")),
                opt(spread(row), |v| format!("{v:.0}")),
                opt(row.p90_ms, |v| format!("{v:.1}")),
                opt(row.cost_per_million_usd, usd),
                opt(row.speedup_vs_one_thread, |v| format!("{v:.2}x")),
                opt(vcpus_used(row), |v| format!("{v:.2}")),
            ]
        };
        let [trimmed, sd, p90, cost, speedup, used] = figures;
        let lambda = [
            row.cold_starts.to_string(),
            opt(row.mean_init_ms, |v| format!("{v:.1}")),
            opt(row.max_memory_used_mb, |v| v.to_string()),
            opt(row.vcpus, |v| v.to_string()),
        ];
        let [cold, init, memory, cores] = lambda;
        let mut line = vec![
            if chosen { CHOSEN } else { "" }.to_string(),
            row.memory_mb.to_string(),
            row.threads.to_string(),
            row.n.to_string(),
            row.errors.to_string(),
            trimmed,
            sd,
            p90,
            cost,
            speedup,
            used,
            cold,
            init,
            memory,
            cores,
            note.join("; "),
        ];
        if several {
            line.insert(1, output.architecture_of(row).to_string());
        }
        lines.push(line);
    }
    let mut widths = vec![0usize; columns];
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .zip(&right)
            .map(|((cell, &width), &right)| {
                if right {
                    format!("{cell:>width$}")
                } else {
                    format!("{cell:<width$}")
                }
            })
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

/// The `--cross-check` table: each row's modeled duration beside the one measured under a
/// CPU cap, their ratio, and the wall time each run took.
pub fn cross_check(
    modeled: &AnalyzerOutput,
    capped: &AnalyzerOutput,
    modeled_wall: std::time::Duration,
    capped_wall: std::time::Duration,
) -> String {
    let mut text = format!(
        "\ncross-check: model vs {} (medians; ratio = capped / modeled; sd % of the capped run)\n",
        capped
            .local
            .as_ref()
            .map_or("a CPU cap".to_string(), |l| l.cpu_mode.clone())
    );
    text.push_str(&format!(
        "{:>9}  {:>7}  {:>11}  {:>11}  {:>6}  {:>5}\n",
        "memory MB", "threads", "modeled ms", "capped ms", "ratio", "sd %"
    ));
    for row in &modeled.rows {
        let key = |o: &AnalyzerOutput, r: &Row| (o.architecture_of(r), r.memory_mb, r.threads);
        let other = capped
            .rows
            .iter()
            .find(|r| key(capped, r) == key(modeled, row));
        // Medians: a capped run's slow spells (this machine's) are outliers, not the row.
        let (a, b) = (row.p50_ms, other.and_then(|r| r.p50_ms));
        let ratio = match (a, b) {
            (Some(a), Some(b)) if a > 0.0 => format!("{:.2}", b / a),
            _ => "-".into(),
        };
        let mut note = String::new();
        if let Some(vcpus) = other.and_then(|r| r.capped_vcpus) {
            note = format!("  capped at {vcpus:.2} vCPUs");
        }
        text.push_str(&format!(
            "{:>9}  {:>7}  {:>11}  {:>11}  {:>6}  {:>5}{note}\n",
            if modeled.several_architectures() {
                format!("{} {}", modeled.architecture_of(row), row.memory_mb)
            } else {
                row.memory_mb.to_string()
            },
            row.threads,
            opt(a, |v| format!("{v:.1}")),
            opt(b, |v| format!("{v:.1}")),
            ratio,
            opt(other.and_then(spread), |v| format!("{v:.0}")),
        ));
    }
    text.push_str(&format!(
        "wall time: model {:.1} s (calibration included), capped {:.1} s ({:.1}x)\n",
        modeled_wall.as_secs_f64(),
        capped_wall.as_secs_f64(),
        capped_wall.as_secs_f64() / modeled_wall.as_secs_f64().max(1e-9)
    ));
    text
}

/// The standard deviation as a percentage of the mean: how far apart the repetitions of one
/// configuration were, so differences between rows smaller than this read as noise.
fn spread(row: &Row) -> Option<f64> {
    Some(100.0 * row.std_dev_ms? / row.mean_ms.filter(|m| *m > 0.0)?)
}

/// CPU time over wall time: the vCPUs the job really kept busy. It shows the CPU model at
/// work whatever the machine's speed (0.29 at 512 MB, at most 1 for one thread).
/// In the `model` mode, the CPU work the model scheduled over the modeled duration (the CPU
/// time measured here says nothing about Lambda's).
fn vcpus_used(row: &Row) -> Option<f64> {
    let duration = row.mean_ms.filter(|m| *m > 0.0)?;
    match &row.modeled {
        Some(m) => Some(m.work_ms / duration),
        None => Some(row.mean_cpu_ms? / duration),
    }
}

/// A line under the table when configurations were capped or repetitions far apart.
fn caveats(output: &AnalyzerOutput) -> String {
    let mut text = String::new();
    let good = || output.rows.iter().filter(|r| !r.is_error());
    let source = good().next().map(|r| r.duration_source);
    match source {
        Some(source) if good().all(|r| r.duration_source == source) => {
            text.push_str(&format!("figures: {}\n", source.describe()));
        }
        Some(_) => text.push_str(
            "figures: rows differ (durationSource in results.json): some from Lambda's REPORT, some from the host's job time\n",
        ),
        None => {}
    }
    if let Some(model) = output.local.as_ref().and_then(|l| l.model.as_ref()) {
        text.push_str(&format!(
            "durations: modeled from measured work on a Lambda vCPU (calibration {}; I/O: {})\n",
            model.calibration.describe(),
            model.latency,
        ));
        for line in model.cpu_lines() {
            text.push_str(&format!("cpu: {line}\n"));
        }
    }
    let reused = output.reused_jobs();
    if reused > 0 {
        text.push_str(&format!(
            "reused: {reused} jobs were answered from an earlier run of the same job (no host calls, the same fuel twice): their durations are modeled from that run's work; --no-reuse runs every one\n"
        ));
    }
    if let Some(local) = &output.local
        && output.rows.iter().any(|r| r.capped_vcpus.is_some())
    {
        text.push_str(&format!(
            "capped: those memory sizes ask for more vCPUs than this machine has cores ({}); Lambda would run them faster\n",
            local.host_cores
        ));
    }
    text.push_str(&writes(&output.rows));
    let worst = output.rows.iter().filter_map(spread).fold(0.0f64, f64::max);
    if worst >= NOISY_PERCENT {
        text.push_str(&format!(
            "noise: repetitions of one configuration were up to {worst:.0}% apart (sd % column); differences of that size are not significant (more --repetitions narrow it)\n"
        ));
    }
    text
}

/// What the sweep wrote to DynamoDB, when failed invocations wrote some of it: without this
/// line a count of the table's items would not match the successful invocations' work.
fn writes(rows: &[Row]) -> String {
    let sum = |f: &dyn Fn(&Row) -> u64| rows.iter().map(f).fold(0u64, u64::saturating_add);
    let (all, by_failed) = (sum(&|r| r.written_items), sum(&|r| r.written_by_failed));
    let unanswered = sum(&|r| u64::from(r.failed_unanswered));
    if all == 0 || (by_failed == 0 && unanswered == 0) {
        return String::new();
    }
    let mut line = format!(
        "written: the invocations wrote {all} DynamoDB items, {by_failed} of them by invocations that then failed"
    );
    if unanswered > 0 {
        line.push_str(&format!(
            "; {unanswered} failed invocations ended without their host's answer (a timeout, a crash), and what they wrote is not counted"
        ));
    }
    line.push('\n');
    line
}

/// A spread (sd %) from which the table warns that differences may be noise.
const NOISY_PERCENT: f64 = 5.0;

fn recommendations(output: &AnalyzerOutput) -> String {
    let chosen = output.recommendation.strategy;
    let mut text = format!("recommendation (strategy {chosen}):\n");
    for strategy in STRATEGIES {
        let marker = if strategy == chosen { CHOSEN } else { " " };
        let line = match output.recommendation.for_strategy(strategy) {
            Some(r) => format!("{}: {}", r.config(output.several_architectures()), r.reason),
            None => "none: no configuration succeeded in every sample".to_string(),
        };
        text.push_str(&format!("{marker} {:<8}  {line}\n", strategy.as_str()));
    }
    text
}

/// `error: cause` of a row's first failure, on one line and cut to [`MAX_CAUSE`].
fn failure(row: &Row) -> String {
    let error = crate::terminal::escape(row.error.as_deref().unwrap_or("failed"));
    match row
        .cause
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => format!("error {error}"),
        Some(cause) => {
            let one_line = cause.split_whitespace().collect::<Vec<_>>().join(" ");
            let one_line = crate::terminal::escape(&one_line);
            let cut: String = one_line.chars().take(MAX_CAUSE).collect();
            let ellipsis = if cut.len() < one_line.len() {
                "..."
            } else {
                ""
            };
            format!("error {error}: {cut}{ellipsis}")
        }
    }
}

fn opt<T>(value: Option<T>, show: impl Fn(T) -> String) -> String {
    value.map_or_else(|| "-".to_string(), show)
}

/// Dollars with about four significant digits: costs per million span $0.2 to $100s.
fn usd(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.2}")
    } else if value >= 1.0 {
        format!("{value:.3}")
    } else {
        format!("{value:.4}")
    }
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use powersweep_analyzer::{AnalyzerInput, analyze};
    use serde_json::json;

    /// 1024, 1769 and 3008 MB × 1 and 2 threads, plus 128 MB that ran out of memory.
    fn output(strategy: &str) -> AnalyzerOutput {
        let mut samples = Vec::new();
        for memory in [1024u32, 1769, 3008] {
            for threads in [1u32, 2] {
                let ms = 1_769_000.0 / f64::from(memory.min(threads * 1769));
                for rep in 0..3 {
                    let duration = ms + f64::from(rep);
                    samples.push(json!({"memoryMb": memory, "threads": threads,
                        "durationMs": duration, "cpuMs": duration * 0.25, "errors": []}));
                }
            }
        }
        for threads in [1, 2] {
            samples.push(json!({"memoryMb": 128, "threads": threads,
                "error": "Runtime.OutOfMemory", "cause": "killed\nat 128 MB"}));
        }
        let input: AnalyzerInput = serde_json::from_value(json!({
            "workload": "pbkdf2", "strategy": strategy, "samples": samples,
        }))
        .unwrap();
        analyze(&input).unwrap()
    }

    #[test]
    fn what_failed_invocations_wrote_is_counted_so_the_table_reconciles() {
        let analyzed = |samples: Vec<serde_json::Value>| {
            let input: AnalyzerInput = serde_json::from_value(json!({
                "workload": "ddb-writer", "samples": samples,
            }))
            .unwrap();
            caveats(&analyze(&input).unwrap())
        };
        let ok = |n: u64| json!({"memoryMb": 512, "threads": 1, "durationMs": 50.0, "errors": [], "writtenItems": n});
        let failed = |n: u64| {
            json!({"memoryMb": 512, "threads": 1, "durationMs": 50.0,
            "errors": [{"task": 0, "kind": "guest", "message": "put-item failed"}], "writtenItems": n})
        };
        // Obeyed: every invocation succeeded; nothing to reconcile.
        let text = analyzed(vec![ok(100), ok(100)]);
        assert!(!text.contains("written:"), "{text}");
        // Violated: one failed after writing 87 items, one timed out without an answer.
        let timed_out =
            json!({"memoryMb": 512, "threads": 1, "error": "Sandbox.Timedout", "cause": {}});
        let text = analyzed(vec![ok(100), failed(87), timed_out]);
        assert!(
            text.contains("wrote 187 DynamoDB items, 87 of them by invocations that then failed; 1 failed invocations ended without their host's answer"),
            "{text}"
        );
    }

    fn line<'a>(text: &'a str, starts: &str) -> &'a str {
        text.lines()
            .find(|l| l.trim_start_matches(['*', ' ']).starts_with(starts))
            .unwrap_or_else(|| panic!("no line starting with {starts:?} in\n{text}"))
    }

    #[test]
    fn every_row_has_a_line() {
        let out = output("balanced");
        let text = render(&out);
        for row in &out.rows {
            let prefix = format!("{}  ", row.memory_mb);
            let found = text.lines().any(|l| {
                let l = l.trim_start_matches(['*', ' ']);
                l.starts_with(&prefix)
                    && l[prefix.len()..]
                        .trim_start()
                        .starts_with(&row.threads.to_string())
            });
            assert!(
                found,
                "no line for {} MB x {}:\n{text}",
                row.memory_mb, row.threads
            );
        }
    }

    #[test]
    fn error_rows_show_the_error_on_one_line() {
        let text = render(&output("balanced"));
        let l = line(&text, "128");
        assert!(
            l.contains("error Runtime.OutOfMemory: killed at 128 MB"),
            "{l}"
        );
        assert!(l.contains(" - "), "figures of an error row are dashes: {l}");
    }

    #[test]
    fn chosen_row_and_recommendation_are_marked() {
        let out = output("speed");
        let text = render(&out);
        let speed = out.recommendation.speed.as_ref().unwrap();
        assert_eq!((speed.memory_mb, speed.threads), (3008, 2));
        let marked: Vec<&str> = text.lines().filter(|l| l.starts_with(CHOSEN)).collect();
        assert_eq!(marked.len(), 2, "one row and one recommendation:\n{text}");
        assert!(
            marked[0].contains("3008") && marked[0].contains("<- ") && marked[0].contains("speed")
        );
        assert!(marked[1].starts_with("* speed"), "{}", marked[1]);
        assert!(text.contains("recommendation (strategy speed):"));
    }

    #[test]
    fn figures_are_formatted() {
        let out = output("cost");
        let text = render(&out);
        let row = out
            .rows
            .iter()
            .find(|r| (r.memory_mb, r.threads) == (1024, 1))
            .unwrap();
        let l = line(&text, "1024");
        assert!(
            l.contains(&format!("{:.1}", row.trimmed_mean_ms.unwrap())),
            "{l}"
        );
        assert!(l.contains(&usd(row.cost_per_million_usd.unwrap())), "{l}");
        assert!(l.contains("1.00x"), "{l}");
        assert!(l.contains(" 0.25"), "vCPU used = cpuMs / durationMs: {l}");
        assert!(text.contains("visualization: https://"), "{text}");
    }

    #[test]
    fn capped_rows_and_noise_are_called_out() {
        let mut out = output("balanced");
        let quiet = render(&out);
        assert!(
            !quiet.contains("capped") && !quiet.contains("noise:"),
            "{quiet}"
        );
        out.local = Some(powersweep_analyzer::LocalRun {
            cpu_mode: "cgroup v1".into(),
            vcpu_mb: 1769.0,
            host_cores: 1,
            model: None,
        });
        for row in out.rows.iter_mut().filter(|r| r.memory_mb == 3008) {
            row.capped_vcpus = Some(1.0);
        }
        // sd 20% of the mean on one row.
        let row = out.rows.iter_mut().find(|r| r.memory_mb == 1024).unwrap();
        row.std_dev_ms = row.mean_ms.map(|m| m * 0.2);
        let text = render(&out);
        assert!(
            line(&text, "3008").contains("capped at 1.00 vCPUs"),
            "{text}"
        );
        assert!(text.contains("than this machine has cores (1)"), "{text}");
        assert!(line(&text, "1024").contains(" 20 "), "{text}");
        assert!(
            text.contains("noise: repetitions of one configuration were up to 20% apart"),
            "{text}"
        );
    }

    /// Not a check: `cargo test … table::tests::show -- --nocapture --ignored` prints a table.
    #[test]
    #[ignore]
    fn show() {
        println!("{}", render(&output("balanced")));
    }

    #[test]
    fn usd_keeps_four_digits() {
        assert_eq!(usd(0.21234), "0.2123");
        assert_eq!(usd(23.0312), "23.031");
        assert_eq!(usd(123.456), "123.46");
    }
}
