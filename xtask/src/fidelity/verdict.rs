//! The fidelity verdict: the table of measured against expected durations and the four
//! targets, once on the raw durations and once on work-normalized ones.
//!
//! Must not measure. The arithmetic of the model lives here: one thread uses at most one vCPU,
//! two threads at most `min(2, share)`.

use super::{BASELINE_MB, Row};

/// How a row's duration is read: raw or work-normalized.
type Duration = dyn Fn(&Row) -> f64;

/// Prints the tables and verdicts; returns the missed work-normalized targets.
pub(super) fn print(label: &str, rows: &[Row], vcpu_mb: f64) -> Vec<String> {
    let one_thread_cpu: Vec<f64> = rows
        .iter()
        .filter(|r| r.threads == 1)
        .flat_map(|r| r.samples.iter().map(|s| s.cpu_ms))
        .collect();
    // The CPU time of the same 1-thread job, on average: what the machine needed for the
    // work. A sample that needed more CPU ran on a slower machine, by that factor.
    let work_cpu_ms = mean(&one_thread_cpu);
    let raw = |r: &Row| mean(&r.samples.iter().map(|s| s.ms).collect::<Vec<_>>());
    let normalized = move |r: &Row| {
        mean(
            &r.samples
                .iter()
                .map(|s| s.ms * work_cpu_ms / s.cpu_ms)
                .collect::<Vec<_>>(),
        )
    };
    let (lo, hi) = min_max(&one_thread_cpu);
    println!();
    println!("CPU mode: {label} ({vcpu_mb} MB per vCPU)");
    println!(
        "machine speed: the same 1-thread job needed {lo:.0}–{hi:.0} ms of CPU ({:.2}× apart; \
         coefficient of variation {:.1}%)",
        hi / lo,
        100.0 * std_dev(&one_thread_cpu) / work_cpu_ms
    );
    println!(
        "| memory MB | vCPUs | threads | n | mean ms | min–max ms | expected ms | ratio | mean CPU ms | normalized ms | expected | ratio |"
    );
    println!(
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let expected_raw = expectation(rows, &raw);
    let expected_norm = expectation(rows, &normalized);
    for r in rows {
        let ms: Vec<f64> = r.samples.iter().map(|s| s.ms).collect();
        let (lo, hi) = min_max(&ms);
        let cpu = mean(&r.samples.iter().map(|s| s.cpu_ms).collect::<Vec<_>>());
        println!(
            "| {} | {:.3}{} | {} | {} | {:.0} | {lo:.0}–{hi:.0} | {:.0} | {:.3} | {cpu:.0} | {:.0} | {:.0} | {:.3} |",
            r.memory_mb,
            r.vcpus,
            if r.capped { " (capped)" } else { "" },
            r.threads,
            r.samples.len(),
            raw(r),
            expected_raw(r),
            raw(r) / expected_raw(r),
            normalized(r),
            expected_norm(r),
            normalized(r) / expected_norm(r),
        );
    }
    println!();
    for (text, ok) in verdicts(rows, &raw) {
        println!("{} (raw) {text}", if ok { "PASS" } else { "FAIL" });
    }
    let judged = verdicts(rows, &normalized);
    for (text, ok) in &judged {
        println!(
            "{} (work-normalized) {text}",
            if *ok { "PASS" } else { "FAIL" }
        );
    }
    judged
        .into_iter()
        .filter(|(_, ok)| !ok)
        .map(|(text, _)| text)
        .collect()
}

/// The model's duration for each row, from the 1-thread baseline's duration: the work in
/// vCPU-milliseconds divided by the vCPUs the row can use.
fn expectation<'a>(rows: &'a [Row], duration: &'a Duration) -> impl Fn(&Row) -> f64 + 'a {
    let work = rows
        .iter()
        .find(|r| r.memory_mb == BASELINE_MB && r.threads == 1)
        .map_or(f64::NAN, |base| duration(base) * base.vcpus.min(1.0));
    move |r: &Row| work / r.vcpus.min(r.threads as f64)
}

/// The four targets on `duration`.
fn verdicts(rows: &[Row], duration: &Duration) -> Vec<(String, bool)> {
    let find = |mb: u32, threads: usize| {
        rows.iter()
            .find(|r| r.memory_mb == mb && r.threads == threads)
    };
    let expected = expectation(rows, duration);
    let mut out: Vec<(String, bool)> = Vec::new();
    // (a) and (b): 1 thread follows the share below one vCPU and is flat above.
    for r in rows
        .iter()
        .filter(|r| r.threads == 1 && r.memory_mb != BASELINE_MB)
    {
        let ratio = duration(r) / expected(r);
        let which = if r.memory_mb < BASELINE_MB { "a" } else { "b" };
        out.push((
            format!(
                "({which}) 1 thread at {} MB: duration × share = {ratio:.3} of the 1,769 MB duration (within 10%)",
                r.memory_mb
            ),
            (0.9..=1.1).contains(&ratio),
        ));
    }
    match (find(3008, 1), find(3008, 2)) {
        (Some(one), Some(two)) => {
            let speedup = duration(one) / duration(two);
            out.push((
                format!(
                    "(c) 2 threads at 3,008 MB: {speedup:.2}× faster than 1 thread (≥ 1.5×, ideal {:.2})",
                    one.vcpus.min(2.0)
                ),
                speedup >= 1.5,
            ));
        }
        _ => out.push(("(c) rows for 3,008 MB missing".into(), false)),
    }
    match (find(1024, 1), find(1024, 2)) {
        (Some(one), Some(two)) => {
            let speedup = duration(one) / duration(two);
            out.push((
                format!(
                    "(d) 2 threads at 1,024 MB: {speedup:.2}× the speed of 1 thread (no faster, within 10%)"
                ),
                speedup <= 1.1,
            ));
        }
        _ => out.push(("(d) rows for 1,024 MB missing".into(), false)),
    }
    out
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn std_dev(values: &[f64]) -> f64 {
    let m = mean(values);
    (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
        (lo.min(v), hi.max(v))
    })
}
