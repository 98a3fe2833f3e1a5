//! `report.html`: one self-contained page (inline CSS and SVG, no script, no fetched
//! resource) with the recommendation, duration and cost charts, every row, and the
//! failed configurations. It owns the page's layout and wording; it must not compute
//! figures beyond formatting them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::chart::{self, Chart, Line, escape};
use crate::output::config_name;
use crate::recommend::money;
use crate::{AnalyzerOutput, Architecture, Recommendation, Row, Strategy};

const STYLE: &str = r#"
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #111; padding: 0 16px; }
h1 { font-size: 1.6em; margin-bottom: 4px; }
h2 { font-size: 1.2em; margin-top: 28px; }
.meta { color: #444; margin-top: 0; }
.note { background: #fff4d6; border-left: 4px solid #e0a800; padding: 6px 10px; }
.recs { display: flex; gap: 12px; flex-wrap: wrap; }
.rec { border: 1px solid #ccc; border-radius: 6px; padding: 10px 14px; flex: 1 1 280px; }
.rec.chosen { border: 2px solid #111; background: #f4f8ff; }
.rec h3 { margin: 0 0 4px; font-size: 1em; }
.rec .config { font-size: 1.3em; font-weight: bold; }
.rec .why { color: #333; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.9em; margin-top: 8px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: right; }
th { background: #f3f3f3; }
td.text { text-align: left; }
tr.error td { background: #fde8e8; }
tr.partial td { background: #fff8e1; }
tr.chosen-row td { font-weight: bold; }
code { word-break: break-all; white-space: pre-wrap; }
svg { max-width: 100%; height: auto; }
"#;

/// Renders the whole page.
pub fn render_html(output: &AnalyzerOutput) -> String {
    let chosen = output.recommendation.chosen();
    let strategy = output.recommendation.strategy;
    let mut s = String::new();
    // Writing to a String cannot fail; results are ignored throughout.
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>powersweep: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&output.workload)
    );
    let _ = writeln!(
        s,
        "<h1>powersweep report: {}</h1>",
        escape(&output.workload)
    );
    let pricing = &output.pricing;
    let several = output.several_architectures();
    let arch = if several {
        let names: Vec<&str> = output.architectures.iter().map(|a| a.as_str()).collect();
        names.join(", ")
    } else {
        output.architecture.to_string()
    };
    let gbs = pricing.describe_gb_second();
    let _ = writeln!(
        s,
        "<p class=\"meta\">Architecture {arch} · prices of {region}: {gbs} per GB-second, ${req} per million requests · trimmed mean drops {discard}% of samples at each end · strategy <strong>{strategy}</strong>{weight}</p>",
        region = escape(&pricing.price_region),
        req = pricing.request_usd * 1e6,
        discard = output.discard_top_bottom * 100.0,
        weight = match strategy {
            Strategy::Balanced => format!(" (weight {})", output.recommendation.balanced_weight),
            _ => String::new(),
        },
    );
    if let Some(note) = &pricing.note {
        let _ = writeln!(s, "<p class=\"note\">{}</p>", escape(note));
    }
    if let Some(local) = &output.local
        && let Some(model) = &local.model
    {
        let reused = output.reused_jobs();
        let ran = if reused == 0 {
            "each job ran uncapped and metered on this machine".to_string()
        } else {
            format!(
                "jobs ran uncapped and metered on this machine ({reused} repeats of a job without host calls already metered twice alike were answered from that run)"
            )
        };
        let _ = writeln!(
            s,
            "<p class=\"meta\" id=\"local\">Modeled from measured work: {ran}; every Lambda duration was computed from the job's work (calibration: {}), 1 vCPU = {} MB; {}; I/O: {}.</p>",
            escape(&model.calibration.describe()),
            local.vcpu_mb,
            escape(&model.cpu_lines().join("; ")),
            escape(&model.latency)
        );
    } else if let Some(local) = &output.local {
        let _ = writeln!(
            s,
            "<p class=\"meta\" id=\"local\">Measured with the local Lambda emulator: CPU capped by {}, 1 vCPU = {} MB, {} cores on this machine.</p>",
            escape(&local.cpu_mode),
            local.vcpu_mb,
            local.host_cores
        );
    }
    let mut sources: Vec<&str> = output
        .rows
        .iter()
        .filter(|r| !r.is_error())
        .map(|r| r.duration_source.describe())
        .collect();
    sources.sort_unstable();
    sources.dedup();
    if !sources.is_empty() {
        let _ = writeln!(
            s,
            "<p class=\"meta\" id=\"figures\">Durations and costs: {}.</p>",
            escape(&sources.join("; "))
        );
    }
    if output.rows.iter().any(|r| r.capped_vcpus.is_some()) {
        s.push_str("<p class=\"note\">Rows marked <em>capped</em> asked for more vCPUs than this machine has cores; on Lambda they would run faster.</p>\n");
    }

    // Recommendations, the chosen strategy first and outlined.
    s.push_str("<h2>Recommendation</h2>\n<div class=\"recs\" id=\"recommendations\">\n");
    let mut order = vec![strategy];
    order.extend(
        [Strategy::Cost, Strategy::Speed, Strategy::Balanced]
            .into_iter()
            .filter(|x| *x != strategy),
    );
    for each in order {
        let rec = output.recommendation.for_strategy(each);
        let class = if each == strategy {
            "rec chosen"
        } else {
            "rec"
        };
        let _ = write!(
            s,
            "<div class=\"{class}\" data-strategy=\"{each}\"><h3>{each}{}</h3>",
            if each == strategy {
                " (your choice)"
            } else {
                ""
            }
        );
        match rec {
            Some(r) => {
                let _ = write!(
                    s,
                    "<div class=\"config\">{}</div><div class=\"why\">{}</div>",
                    r.config(several),
                    escape(&r.reason)
                );
            }
            None => s.push_str("<div class=\"config\">none</div><div class=\"why\">no configuration ran without failures</div>"),
        }
        s.push_str("</div>\n");
    }
    s.push_str("</div>\n");

    let caption = chosen.map(|r| format!("{} ({strategy})", r.config(several)));
    let _ = writeln!(
        s,
        "<h2>Duration against memory</h2>\n{}",
        duration_chart(output, chosen, caption.clone())
    );
    let _ = writeln!(
        s,
        "<h2>Cost against memory</h2>\n{}",
        cost_chart(output, chosen, caption)
    );

    s.push_str("<h2>All configurations</h2>\n");
    rows_table(&mut s, &output.rows, chosen, several, output.architecture);
    s.push_str("<h2>Failed configurations</h2>\n");
    failures_table(&mut s, &output.rows, several);

    if let Some(url) = &output.visualization {
        let _ = writeln!(
            s,
            "<p>Compare 1 thread with the most threads on <a href=\"{}\">lambda-power-tuning.show</a> (opens the public viewer; the data travel in the link's fragment, which is not sent to the server).</p>",
            escape(url)
        );
    }
    s.push_str("</body>\n</html>\n");
    s
}

/// The architecture to name, when the sweep had several.
fn shown(architecture: Option<Architecture>, several: bool) -> Option<Architecture> {
    architecture.filter(|_| several)
}

/// Rows grouped by architecture and thread count, as chart lines.
fn lines(
    rows: &[Row],
    several: bool,
    y: impl Fn(&Row) -> Option<f64>,
    tip: impl Fn(&Row, f64) -> String,
) -> Vec<Line> {
    type Points = Vec<(f64, f64, String)>;
    let mut by_threads: BTreeMap<(Option<Architecture>, u32), Points> = BTreeMap::new();
    for row in rows {
        let key = (shown(row.architecture, several), row.threads);
        let points = by_threads.entry(key).or_default();
        if let Some(value) = y(row) {
            points.push((f64::from(row.memory_mb), value, tip(row, value)));
        }
    }
    by_threads
        .into_iter()
        .filter(|(_, points)| !points.is_empty())
        .map(|((architecture, threads), points)| Line {
            label: format!(
                "{}{threads} thread{}",
                architecture.map(|a| format!("{a}, ")).unwrap_or_default(),
                if threads == 1 { "" } else { "s" }
            ),
            points,
        })
        .collect()
}

fn failed(rows: &[Row], several: bool) -> Vec<(f64, String)> {
    rows.iter()
        .filter(|r| r.is_error())
        .map(|r| {
            (
                f64::from(r.memory_mb),
                format!(
                    "{} failed: {}",
                    config_name(shown(r.architecture, several), r.memory_mb, r.threads),
                    r.error.as_deref().unwrap_or("unknown error")
                ),
            )
        })
        .collect()
}

fn marker(
    rows: &[Row],
    chosen: Option<&Recommendation>,
    default: Architecture,
    y: impl Fn(&Row) -> Option<f64>,
    caption: Option<String>,
) -> Option<(f64, f64, String)> {
    let chosen = chosen?;
    let row = rows.iter().find(|r| chosen.is_for(r, default))?;
    Some((f64::from(row.memory_mb), y(row)?, caption?))
}

fn duration_chart(
    output: &AnalyzerOutput,
    chosen: Option<&Recommendation>,
    caption: Option<String>,
) -> String {
    let y = |r: &Row| r.trimmed_mean_ms;
    let several = output.several_architectures();
    chart::render(&Chart {
        id: "duration-chart",
        title: format!("Duration against memory, {}", output.workload),
        x_label: "Memory (MB)",
        y_label: "Duration, trimmed mean (ms)",
        y_prefix: "",
        lines: lines(&output.rows, several, y, |r, v| {
            let name = config_name(shown(r.architecture, several), r.memory_mb, r.threads);
            format!("{name}: {v:.1} ms")
        }),
        failed: failed(&output.rows, several),
        marker: marker(&output.rows, chosen, output.architecture, y, caption),
    })
}

fn cost_chart(
    output: &AnalyzerOutput,
    chosen: Option<&Recommendation>,
    caption: Option<String>,
) -> String {
    let y = |r: &Row| r.cost_per_million_usd;
    let several = output.several_architectures();
    chart::render(&Chart {
        id: "cost-chart",
        title: format!("Cost against memory, {}", output.workload),
        x_label: "Memory (MB)",
        y_label: "Cost per million invocations (USD)",
        y_prefix: "$",
        lines: lines(&output.rows, several, y, |r, v| {
            let name = config_name(shown(r.architecture, several), r.memory_mb, r.threads);
            format!("{name}: ${} per million", money(v))
        }),
        failed: failed(&output.rows, several),
        marker: marker(&output.rows, chosen, output.architecture, y, caption),
    })
}

fn rows_table(
    s: &mut String,
    rows: &[Row],
    chosen: Option<&Recommendation>,
    several: bool,
    default: Architecture,
) {
    s.push_str("<table id=\"rows\">\n<tr><th>Memory (MB)</th><th>Threads</th><th>n</th><th>Errors</th><th>Trimmed mean (ms)</th><th>Mean</th><th>p50</th><th>p90</th><th>p99</th><th>Min</th><th>Max</th><th>SD</th><th>Billed (ms)</th><th>$ per million</th><th>Speed-up vs 1 thread</th><th>Job (ms)</th><th>Cold starts</th><th>Init (ms)</th><th>Init $ per million cold starts</th><th>Max memory (MB)</th><th>Cores</th></tr>\n");
    let ms = |v: Option<f64>| {
        v.map(|v| format!("{v:.1}"))
            .unwrap_or_else(|| "—".to_owned())
    };
    for r in rows {
        let is_chosen = chosen.is_some_and(|c| c.is_for(r, default));
        let class = if r.is_error() {
            "error"
        } else if r.errors > 0 {
            "partial"
        } else if is_chosen {
            "chosen-row"
        } else {
            ""
        };
        let _ = write!(
            s,
            "<tr class=\"{class}\"><td>{}{}{}</td><td>{}</td><td>{}</td><td>{}</td>",
            shown(r.architecture, several)
                .map(|a| format!("{a} "))
                .unwrap_or_default(),
            r.memory_mb,
            r.capped_vcpus
                .map(|v| format!(" <em class=\"capped\">capped at {v:.2} vCPUs</em>"))
                .unwrap_or_default(),
            r.threads,
            r.n,
            r.errors
        );
        if r.is_error() {
            let _ = writeln!(
                s,
                "<td class=\"text\" colspan=\"17\">failed: {}</td></tr>",
                escape(r.error.as_deref().unwrap_or("unknown error"))
            );
            continue;
        }
        let _ = writeln!(
            s,
            "<td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ms(r.trimmed_mean_ms),
            if is_chosen { " ◀" } else { "" },
            ms(r.mean_ms),
            ms(r.p50_ms),
            ms(r.p90_ms),
            ms(r.p99_ms),
            ms(r.min_ms),
            ms(r.max_ms),
            ms(r.std_dev_ms),
            r.billed_ms
                .map(|b| b.to_string())
                .unwrap_or_else(|| "—".to_owned()),
            r.cost_per_million_usd
                .map(money)
                .unwrap_or_else(|| "—".to_owned()),
            r.speedup_vs_one_thread
                .map(|x| format!("{x:.2}×"))
                .unwrap_or_else(|| "—".to_owned()),
            ms(r.mean_job_ms),
            r.cold_starts,
            ms(r.mean_init_ms),
            r.init_cost_usd
                .map(|c| money(c * 1e6))
                .unwrap_or_else(|| "—".to_owned()),
            r.max_memory_used_mb
                .map(|m| m.to_string())
                .unwrap_or_else(|| "—".to_owned()),
            r.vcpus
                .map(|v| v.to_string())
                .unwrap_or_else(|| "—".to_owned()),
        );
    }
    s.push_str("</table>\n");
}

fn failures_table(s: &mut String, rows: &[Row], several: bool) {
    let failing: Vec<&Row> = rows
        .iter()
        .filter(|r| r.errors > 0 || r.is_error())
        .collect();
    if failing.is_empty() {
        s.push_str("<p id=\"failures\">None: every sample of every configuration succeeded.</p>\n");
        return;
    }
    s.push_str("<table id=\"failures\">\n<tr><th>Memory (MB)</th><th>Threads</th><th>Failed</th><th>Error</th><th>Cause (first failure)</th></tr>\n");
    for r in failing {
        let _ = writeln!(
            s,
            "<tr class=\"{}\"><td>{}{}</td><td>{}</td><td>{} of {}</td><td class=\"text\">{}</td><td class=\"text\"><code>{}</code></td></tr>",
            if r.is_error() { "error" } else { "partial" },
            shown(r.architecture, several)
                .map(|a| format!("{a} "))
                .unwrap_or_default(),
            r.memory_mb,
            r.threads,
            r.errors,
            r.n,
            escape(r.error.as_deref().unwrap_or("")),
            escape(r.cause.as_deref().unwrap_or("")),
        );
    }
    s.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results_files::fixture;

    #[test]
    fn page_is_self_contained_with_both_charts() {
        let html = render_html(&fixture::output());
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(
            html.contains("<svg id=\"duration-chart\"") && html.contains("<svg id=\"cost-chart\"")
        );
        // No script and nothing fetched: the only URL is the outbound viewer link.
        assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("<link"));
        assert_eq!(html.matches("href=").count(), 1);
        // Two thread counts → two lines per chart.
        assert_eq!(html.matches("<polyline").count(), 4);
    }

    #[test]
    fn a_modeled_page_names_its_anchor_and_period() {
        let html = render_html(&fixture::modeled_output());
        assert!(
            html.contains("a Lambda vCPU (x86_64) = 0.747x a core here for this workload (anchor: bcrypt cost 10, 72.6 ms on a Lambda vCPU, 54.2 ms here; a sample, somewhere); the share is a quota per 20 ms CFS period"),
            "{html}"
        );
    }

    #[test]
    fn recommendation_and_failures_are_shown_escaped() {
        let out = fixture::output();
        let html = render_html(&out);
        let chosen = out.recommendation.chosen().unwrap();
        assert!(html.contains("class=\"rec chosen\" data-strategy=\"balanced\""));
        assert!(html.contains(&format!(
            "{} MB × {} thread",
            chosen.memory_mb, chosen.threads
        )));
        assert_eq!(
            html.matches("class=\"recommended\"").count(),
            2,
            "a ring on each chart"
        );
        // The 128 MB rows failed: in the table, and as crosses on both charts.
        assert!(html.contains("<table id=\"failures\">"));
        assert!(html.contains("&lt;killed&gt; &amp; gone"));
        assert!(!html.contains("<killed>"));
        assert!(html.contains("pbkdf2 &lt;demo&gt;"));
        assert_eq!(html.matches("class=\"failed\"").count(), 4);
    }
}
