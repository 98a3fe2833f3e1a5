//! A line chart as inline SVG: axes with ticks and labels, one polyline per series, a
//! legend, failed configurations as crosses on the x axis, and a ring around the
//! recommended point. It owns geometry and drawing; it must not know what the numbers
//! mean (the caller passes labels and formatted tooltips) and must emit no script and no
//! reference to anything outside the document.

use std::fmt::Write as _;

/// Colours for the series, in order; distinguishable in print and for most colour
/// vision deficiencies (the Tableau 10 palette).
const PALETTE: &[&str] = &[
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
];

/// Dash patterns, in order: where two thread counts measure the same (below one vCPU),
/// their lines coincide, and a dashed line over a solid one keeps both visible.
const DASHES: &[&str] = &["none", "9 5", "3 4", "12 4 3 4"];

const WIDTH: f64 = 820.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 96.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 64.0;

/// One line.
pub(crate) struct Line {
    /// Legend text.
    pub label: String,
    /// `(x, y, tooltip)`, any order; drawn sorted by x.
    pub points: Vec<(f64, f64, String)>,
}

/// What to draw.
pub(crate) struct Chart {
    /// `id` of the `<svg>` element.
    pub id: &'static str,
    /// Accessible name of the chart.
    pub title: String,
    /// Axis labels.
    pub x_label: &'static str,
    /// Axis labels.
    pub y_label: &'static str,
    /// Prefix of y tick labels (`$`), if any.
    pub y_prefix: &'static str,
    /// The lines.
    pub lines: Vec<Line>,
    /// x of configurations that failed entirely, with a tooltip.
    pub failed: Vec<(f64, String)>,
    /// The recommended point and its caption.
    pub marker: Option<(f64, f64, String)>,
}

/// Renders `chart` as an `<svg>` element.
pub(crate) fn render(chart: &Chart) -> String {
    let xs = chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .chain(chart.failed.iter().map(|f| f.0));
    let (x_min, x_max) = bounds(xs).unwrap_or((0.0, 1.0));
    // Room on both sides so the first and last points are not on the frame.
    let pad = ((x_max - x_min) * 0.05).max(x_max.abs() * 0.05).max(1.0);
    let (x_lo, x_hi) = (x_min - pad, x_max + pad);
    let y_max = chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let y_ticks = ticks(0.0, if y_max > 0.0 { y_max * 1.08 } else { 1.0 });
    let y_step = tick_step(&y_ticks);
    let y_hi = y_ticks.last().copied().unwrap_or(1.0);
    let x_ticks: Vec<f64> = ticks(x_lo, x_hi)
        .into_iter()
        .filter(|t| (x_lo..=x_hi).contains(t))
        .collect();
    let x_step = tick_step(&x_ticks);

    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let px = |x: f64| LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w;
    let py = |y: f64| TOP + plot_h - y / y_hi * plot_h;

    let mut s = String::new();
    // Writing to a String cannot fail; results are ignored throughout.
    let _ = write!(
        s,
        r#"<svg id="{id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{title}" font-family="system-ui, sans-serif" font-size="12">"#,
        id = chart.id,
        title = escape(&chart.title),
    );
    let _ = write!(s, "<title>{}</title>", escape(&chart.title));
    let _ = write!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#999"/>"##
    );

    // Grid and tick labels.
    for t in &y_ticks {
        let y = py(*t);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#333">{prefix}{label}</text>"##,
            x2 = LEFT + plot_w,
            tx = LEFT - 8.0,
            ty = y + 4.0,
            prefix = chart.y_prefix,
            label = fmt_tick(*t, y_step),
        );
    }
    for t in &x_ticks {
        let x = px(*t);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{y2}" stroke="#f0f0f0"/><text x="{x:.1}" y="{ty}" text-anchor="middle" fill="#333">{label}</text>"##,
            y2 = TOP + plot_h,
            ty = TOP + plot_h + 18.0,
            label = fmt_tick(*t, x_step),
        );
    }
    // Axis labels.
    let _ = write!(
        s,
        r##"<text x="{x}" y="{y}" text-anchor="middle" font-size="13" fill="#111">{label}</text>"##,
        x = LEFT + plot_w / 2.0,
        y = HEIGHT - 18.0,
        label = escape(chart.x_label),
    );
    let _ = write!(
        s,
        r##"<text transform="translate(20 {y}) rotate(-90)" text-anchor="middle" font-size="13" fill="#111">{label}</text>"##,
        y = TOP + plot_h / 2.0,
        label = escape(chart.y_label),
    );

    // Lines and points.
    for (index, line) in chart.lines.iter().enumerate() {
        let colour = PALETTE[index % PALETTE.len()];
        let mut points = line.points.clone();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let path: Vec<String> = points
            .iter()
            .map(|(x, y, _)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline class="series" data-label="{label}" fill="none" stroke="{colour}" stroke-width="2.5" stroke-dasharray="{dash}" points="{points}"/>"#,
            label = escape(&line.label),
            dash = DASHES[index % DASHES.len()],
            points = path.join(" "),
        );
        for (x, y, tip) in &points {
            let _ = write!(
                s,
                r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="4" fill="{colour}"><title>{tip}</title></circle>"#,
                cx = px(*x),
                cy = py(*y),
                tip = escape(tip),
            );
        }
    }

    // Failed configurations: red crosses on the x axis (there is no y to plot).
    for (x, tip) in &chart.failed {
        let (cx, cy) = (px(*x), TOP + plot_h);
        let _ = write!(
            s,
            r##"<g class="failed" stroke="#d62728" stroke-width="2.5"><title>{tip}</title><line x1="{a:.1}" y1="{b:.1}" x2="{c:.1}" y2="{d:.1}"/><line x1="{a:.1}" y1="{d:.1}" x2="{c:.1}" y2="{b:.1}"/></g>"##,
            tip = escape(tip),
            a = cx - 6.0,
            b = cy - 6.0,
            c = cx + 6.0,
            d = cy + 6.0,
        );
    }

    // The recommendation: a ring and a caption kept inside the plot.
    if let Some((x, y, caption)) = &chart.marker {
        let (cx, cy) = (px(*x), py(*y));
        let caption_y = if cy - 18.0 < TOP + 12.0 {
            cy + 26.0
        } else {
            cy - 16.0
        };
        let anchor = if cx > LEFT + plot_w * 0.7 {
            "end"
        } else {
            "start"
        };
        let _ = write!(
            s,
            r##"<g class="recommended"><circle cx="{cx:.1}" cy="{cy:.1}" r="10" fill="none" stroke="#111" stroke-width="2.5"/><text x="{tx:.1}" y="{caption_y:.1}" text-anchor="{anchor}" font-weight="bold" fill="#111">{caption}</text></g>"##,
            tx = if anchor == "end" { cx + 6.0 } else { cx - 6.0 },
            caption = escape(caption),
        );
    }

    // Legend, right of the plot.
    let lx = LEFT + plot_w + 18.0;
    let mut ly = TOP + 12.0;
    for (index, line) in chart.lines.iter().enumerate() {
        let colour = PALETTE[index % PALETTE.len()];
        let _ = write!(
            s,
            r##"<line x1="{lx}" x2="{x2}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="3" stroke-dasharray="{dash}"/><text x="{tx}" y="{ty}" fill="#111">{label}</text>"##,
            x2 = lx + 24.0,
            dash = DASHES[index % DASHES.len()],
            tx = lx + 32.0,
            ty = ly + 4.0,
            label = escape(&line.label),
        );
        ly += 20.0;
    }
    if !chart.failed.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{lx}" y="{ty}" fill="#d62728" font-weight="bold">✕</text><text x="{tx}" y="{ty}" fill="#111">failed (no data)</text>"##,
            tx = lx + 32.0,
            ty = ly + 4.0,
        );
        ly += 20.0;
    }
    if chart.marker.is_some() {
        let _ = write!(
            s,
            r##"<circle cx="{cx}" cy="{ly}" r="7" fill="none" stroke="#111" stroke-width="2"/><text x="{tx}" y="{ty}" fill="#111">recommended</text>"##,
            cx = lx + 12.0,
            tx = lx + 32.0,
            ty = ly + 4.0,
        );
    }
    s.push_str("</svg>");
    s
}

fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// Round tick values (1, 2 or 5 × 10ⁿ apart) covering `[lo, hi]`: about six of them,
/// the first at or below `lo`, the last at or above `hi`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).abs();
    if !span.is_finite() || span == 0.0 {
        return vec![lo];
    }
    let raw = span / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor() as i64;
    let last = (hi / step).ceil() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

fn tick_step(ticks: &[f64]) -> f64 {
    match ticks {
        [a, b, ..] => b - a,
        _ => 1.0,
    }
}

/// A tick label with as many decimals as the step needs (0.00002 → 5 decimals).
fn fmt_tick(value: f64, step: f64) -> String {
    let decimals = if step > 0.0 && step < 1.0 {
        // The epsilon keeps 1e-5 at 5 decimals when log10 lands a hair off −5.
        (-step.log10() - 1e-9).ceil() as usize
    } else {
        0
    };
    format!("{value:.decimals$}")
}

/// Escapes text for HTML and SVG content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(
            ticks(0.0, 1080.0),
            [0.0, 200.0, 400.0, 600.0, 800.0, 1000.0, 1200.0]
        );
        assert_eq!(ticks(0.0, 3.5), [0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(ticks(5.0, 5.0), [5.0]);
        let small = ticks(0.0, 0.000_012);
        assert!(
            small.last().unwrap() >= &0.000_012 && small.len() <= 8,
            "{small:?}"
        );
    }

    #[test]
    fn tick_labels_keep_the_needed_decimals() {
        assert_eq!(fmt_tick(400.0, 200.0), "400");
        assert_eq!(fmt_tick(0.5, 0.5), "0.5");
        assert_eq!(fmt_tick(0.00002, 0.00001), "0.00002");
    }

    #[test]
    fn draws_lines_legend_failures_and_marker() {
        let chart = Chart {
            id: "c",
            title: "t <x>".into(),
            x_label: "Memory (MB)",
            y_label: "ms",
            y_prefix: "",
            lines: vec![
                Line {
                    label: "1 thread".into(),
                    points: vec![(1024.0, 100.0, "a".into()), (512.0, 200.0, "b".into())],
                },
                Line {
                    label: "2 threads".into(),
                    points: vec![(1024.0, 50.0, "c".into())],
                },
            ],
            failed: vec![(128.0, "oom & more".into())],
            marker: Some((1024.0, 50.0, "recommended".into())),
        };
        let svg = render(&chart);
        assert!(svg.starts_with("<svg id=\"c\"") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("aria-label=\"t &lt;x&gt;\""));
        assert!(svg.contains("oom &amp; more"));
        assert!(svg.contains("class=\"recommended\""));
        assert!(svg.contains(">Memory (MB)</text>"));
        assert!(!svg.contains("<script") && !svg.contains("href"));
    }
}
