//! `results.csv`: one line per row of the output, for spreadsheets. It owns the column
//! order and quoting (RFC 4180); it must not round numbers (a spreadsheet formats them).

use std::fmt::Write as _;

use crate::AnalyzerOutput;

/// The header, in column order; names match `results.json`'s keys.
const COLUMNS: &[&str] = &[
    "architecture",
    "memoryMb",
    "threads",
    "n",
    "errors",
    "coldStarts",
    "meanMs",
    "trimmedMeanMs",
    "p50Ms",
    "p90Ms",
    "p99Ms",
    "minMs",
    "maxMs",
    "stdDevMs",
    "meanCpuMs",
    "billedMs",
    "costPerInvocationUsd",
    "costPerMillionUsd",
    "speedupVsOneThread",
    "cappedVcpus",
    "modeledWorkMs",
    "modeledIoWaitMs",
    "parallelEfficiency",
    "measuredMs",
    "reusedJobs",
    "lambdaVcpuSpeed",
    "anchor",
    "durationSource",
    "meanJobMs",
    "meanInitMs",
    "initCostUsd",
    "maxMemoryUsedMb",
    "vcpus",
    "error",
    "cause",
];

/// Renders the rows as CSV with a header line; absent values are empty fields.
pub fn render_csv(output: &AnalyzerOutput) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for r in &output.rows {
        let fields = [
            output.architecture_of(r).to_string(),
            r.memory_mb.to_string(),
            r.threads.to_string(),
            r.n.to_string(),
            r.errors.to_string(),
            r.cold_starts.to_string(),
            num(r.mean_ms),
            num(r.trimmed_mean_ms),
            num(r.p50_ms),
            num(r.p90_ms),
            num(r.p99_ms),
            num(r.min_ms),
            num(r.max_ms),
            num(r.std_dev_ms),
            num(r.mean_cpu_ms),
            r.billed_ms.map(|b| b.to_string()).unwrap_or_default(),
            num(r.cost_per_invocation_usd),
            num(r.cost_per_million_usd),
            num(r.speedup_vs_one_thread),
            num(r.capped_vcpus),
            num(r.modeled.as_ref().map(|m| m.work_ms)),
            num(r.modeled.as_ref().map(|m| m.io_wait_ms)),
            num(r.modeled.as_ref().map(|m| m.parallel_efficiency)),
            num(r.modeled.as_ref().and_then(|m| m.measured_ms)),
            r.modeled
                .as_ref()
                .map(|m| m.reused.to_string())
                .unwrap_or_default(),
            num(output.anchor_of(r).map(|a| a.vcpu_speed)),
            quote(
                &output
                    .anchor_of(r)
                    .map(|a| a.describe())
                    .unwrap_or_default(),
            ),
            serde_json::to_value(r.duration_source)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            num(r.mean_job_ms),
            num(r.mean_init_ms),
            num(r.init_cost_usd),
            r.max_memory_used_mb
                .map(|m| m.to_string())
                .unwrap_or_default(),
            r.vcpus.map(|v| v.to_string()).unwrap_or_default(),
            quote(r.error.as_deref().unwrap_or("")),
            quote(r.cause.as_deref().unwrap_or("")),
        ];
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{}", fields.join(","));
    }
    out
}

/// A text cell: controls and direction overrides escaped (a workload's message must not
/// reorder or split the sheet), a leading `=`, `+`, `-` or `@` preceded by `'` so that a
/// spreadsheet shows it rather than running it as a formula (OWASP's "CSV injection"), then
/// quoted when it holds a comma or a quote (quotes doubled).
fn quote(field: &str) -> String {
    let mut field = crate::safe_text::escape(field).into_owned();
    if field.starts_with(['=', '+', '-', '@']) {
        field.insert(0, '\'');
    }
    if field.contains([',', '"']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results_files::fixture;

    #[test]
    fn one_line_per_row_with_the_header() {
        let out = fixture::output();
        let csv = render_csv(&out);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), out.rows.len() + 1);
        assert!(lines[0].starts_with("architecture,memoryMb,threads,n,errors,"));
        // 512 MB, 1 thread: 1000 / (512 / 1769) = 3455.078125 ms + 0, 1, 2 → trimmed mean
        // (k = floor(3 × 0.2) = 0) = 3455.078125 + 1 = 3456.078125
        let line = lines
            .iter()
            .find(|l| l.starts_with("x86_64,512,1,"))
            .unwrap();
        assert!(line.contains(",3456.078125,"), "{line}");
    }

    #[test]
    fn error_rows_keep_their_cause_quoted() {
        let csv = render_csv(&fixture::output());
        let line = csv
            .lines()
            .find(|l| l.starts_with("x86_64,128,1,"))
            .unwrap();
        // n = 1, errors = 1, no statistics; the cause's quotes are doubled.
        assert!(
            line.starts_with(
                "x86_64,128,1,1,1,0,,,,,,,,,,,,,,,,,,,,,,job,,,,,,Runtime.OutOfMemory,\"{\"\"errorType\"\""
            ),
            "{line}"
        );
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert!(!csv.contains("bcrypt"), "no anchor outside the model mode");
        assert_eq!(quote("plain"), "plain");
    }

    #[test]
    fn a_cell_can_neither_run_a_formula_nor_hide_text() {
        assert_eq!(quote("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for lead in ["+1", "-1", "@SUM(A1)"] {
            assert_eq!(quote(lead), format!("'{lead}"));
        }
        assert_eq!(
            quote("a\u{1b}[2Jb\r\nc\u{202e}d"),
            "a\\u{1b}[2Jb\\r\\nc\\u{202e}d"
        );
    }

    #[test]
    fn every_row_names_its_anchor_in_the_model_mode() {
        let csv = render_csv(&fixture::modeled_output());
        let line = csv
            .lines()
            .find(|l| l.starts_with("x86_64,512,1,"))
            .unwrap();
        assert!(line.contains(",0.7466,\"a Lambda vCPU (x86_64) = 0.747x a core here for this workload (anchor: bcrypt cost 10, 72.6 ms on a Lambda vCPU, 54.2 ms here; a sample, somewhere)\","), "{line}");
    }
}
