//! Choosing a configuration: [`Strategy`] and the rules behind each recommendation. It
//! owns the ranking (including ties); it must not compute statistics or costs, it only
//! reads the [`Row`]s.
//!
//! A row with any failed sample is never recommended: a configuration that ran out of
//! memory once will do it again in production.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::{Recommendation, Recommendations, Row};

/// What the user optimizes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Cheapest per invocation.
    Cost,
    /// Fastest.
    Speed,
    /// A weighted mix of both (see [`Recommendations::balanced`]).
    #[default]
    Balanced,
}

impl Strategy {
    /// The name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Cost => "cost",
            Strategy::Speed => "speed",
            Strategy::Balanced => "balanced",
        }
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row fit to be recommended, with the two figures the rules use.
#[derive(Clone)]
struct Candidate<'a> {
    row: &'a Row,
    time: f64,
    cost: f64,
}

/// Relative difference below which two rows' costs, durations or balanced scores tie.
///
/// 1%: between rows of one sweep the model's error is smaller than its error against Lambda
/// (its check against AWS's bcrypt sample is off by 0.4–5.6% at most sizes), but not zero:
/// the CFS period and the task queue make durations step, and for work that scales with the
/// share every size costs the same GB-seconds, so a 0.1% difference in cost flips with the
/// calibration from run to run. Lambda's billing adds one ms of each row on top (for cost).
pub const TIE_FRACTION: f64 = 0.01;

/// What a recommendation says when it won a tie: how many tied, by what, and the rule.
/// Configurations are named with their architecture when the sweep had several.
fn tie_note(
    tied: &[Candidate<'_>],
    chosen: &Candidate<'_>,
    several: bool,
    by: &str,
    rule: &str,
) -> String {
    let others: Vec<String> = tied
        .iter()
        .filter(|c| !std::ptr::eq(c.row, chosen.row))
        .map(|c| {
            let name = crate::output::config_name(
                c.row.architecture.filter(|_| several),
                c.row.memory_mb,
                c.row.threads,
            );
            // "512 MB × 1 thread" is long in a list: "512 MB × 1".
            name.trim_end_matches(" threads")
                .trim_end_matches(" thread")
                .to_string()
        })
        .collect();
    if others.is_empty() {
        return String::new();
    }
    let named = match others.len() {
        n if n <= TIES_NAMED => others.join(", "),
        n => format!(
            "{} and {} more",
            others[..TIES_NAMED].join(", "),
            n - TIES_NAMED
        ),
    };
    format!(
        " (ties on {by} within {:.0}% with {named}: {rule} of them)",
        TIE_FRACTION * 100.0
    )
}

/// Configurations a tie note names before it counts the rest.
const TIES_NAMED: usize = 4;

/// The candidates that tie with the best by `tie`.
fn within<'r>(
    candidates: &[Candidate<'r>],
    tie: impl Fn(&Candidate<'r>) -> bool,
) -> Vec<Candidate<'r>> {
    candidates.iter().filter(|c| tie(c)).cloned().collect()
}

/// What one billed millisecond of `c` costs (its request charge spread in, a slight
/// overestimate); 0 when the row has no billed duration.
fn one_billed_ms(c: &Candidate<'_>) -> f64 {
    match c.row.billed_ms {
        Some(ms) if ms > 0 => c.cost / ms as f64,
        _ => 0.0,
    }
}

/// Recommendations for all strategies over `rows`; `weight` is in `[0, 1]`.
/// `several`: the sweep had more than one architecture, so configurations are named with
/// theirs.
pub(crate) fn recommend(
    rows: &[Row],
    strategy: Strategy,
    weight: f64,
    several: bool,
) -> Recommendations {
    let candidates: Vec<Candidate<'_>> = rows
        .iter()
        .filter(|row| row.errors == 0)
        .filter_map(|row| {
            Some(Candidate {
                row,
                time: row.trimmed_mean_ms?,
                cost: row.cost_per_invocation_usd?,
            })
        })
        .collect();

    // Differences the model and Lambda's billing cannot resolve are ties, and the other
    // objective breaks them (see TIE_FRACTION).
    let cheapest = candidates
        .iter()
        .map(|c| c.cost)
        .fold(f64::INFINITY, f64::min);
    let tied = within(&candidates, |c| {
        c.cost - cheapest <= one_billed_ms(c).max(TIE_FRACTION * cheapest)
    });
    let cost = pick(&tied, |a, b| {
        a.time.total_cmp(&b.time).then(a.cost.total_cmp(&b.cost))
    })
    .map(|c| {
        recommendation(
            c.row,
            format!(
                "cheapest: ${} per million invocations at {:.1} ms{}",
                money(c.cost * 1e6),
                c.time,
                tie_note(&tied, c, several, "cost", "the fastest")
            ),
        )
    });

    let fastest = candidates
        .iter()
        .map(|c| c.time)
        .fold(f64::INFINITY, f64::min);
    let tied = within(&candidates, |c| c.time - fastest <= TIE_FRACTION * fastest);
    let speed = pick(&tied, |a, b| {
        a.cost.total_cmp(&b.cost).then(a.time.total_cmp(&b.time))
    })
    .map(|c| {
        recommendation(
            c.row,
            format!(
                "fastest: {:.1} ms at ${} per million invocations{}",
                c.time,
                money(c.cost * 1e6),
                tie_note(&tied, c, several, "duration", "the cheapest")
            ),
        )
    });

    // As aws-lambda-power-tuning's balanced strategy: each figure is divided by its
    // maximum over the candidates, so both lie in (0, 1] and the weight trades them.
    let max_cost = candidates.iter().map(|c| c.cost).fold(0.0, f64::max);
    let max_time = candidates.iter().map(|c| c.time).fold(0.0, f64::max);
    let score = |c: &Candidate<'_>| {
        let cost = if max_cost > 0.0 {
            c.cost / max_cost
        } else {
            0.0
        };
        let time = if max_time > 0.0 {
            c.time / max_time
        } else {
            0.0
        };
        weight * cost + (1.0 - weight) * time
    };
    let best = candidates.iter().map(score).fold(f64::INFINITY, f64::min);
    let tied = within(&candidates, |c| score(c) - best <= TIE_FRACTION * best);
    let balanced = pick(&tied, |a, b| {
        a.cost.total_cmp(&b.cost).then(a.time.total_cmp(&b.time))
    })
    .map(|c| {
        recommendation(
            c.row,
            format!(
                "best balance (weight {weight}: {weight} × cost/max cost + {} × time/max time = {:.3}): {:.1} ms at ${} per million invocations{}",
                round3(1.0 - weight),
                score(c),
                c.time,
                money(c.cost * 1e6),
                tie_note(&tied, c, several, "score", "the cheapest")
            ),
        )
    });

    Recommendations {
        strategy,
        balanced_weight: weight,
        cost,
        speed,
        balanced,
    }
}

/// The least candidate under `order`; remaining ties go to fewer threads, then less
/// memory (the simpler configuration), then x86_64 before arm64 (Lambda's default).
fn pick<'a, 'r>(
    candidates: &'a [Candidate<'r>],
    order: impl Fn(&Candidate<'r>, &Candidate<'r>) -> Ordering,
) -> Option<&'a Candidate<'r>> {
    candidates.iter().min_by(|a, b| {
        order(a, b)
            .then(a.row.threads.cmp(&b.row.threads))
            .then(a.row.memory_mb.cmp(&b.row.memory_mb))
            .then(a.row.architecture.cmp(&b.row.architecture))
    })
}

fn recommendation(row: &Row, reason: String) -> Recommendation {
    Recommendation {
        architecture: row.architecture,
        memory_mb: row.memory_mb,
        threads: row.threads,
        reason,
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Dollars with four significant decimals, enough to tell configurations apart.
pub(crate) fn money(usd: f64) -> String {
    if usd >= 1.0 {
        format!("{usd:.4}")
    } else {
        format!("{usd:.6}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(memory_mb: u32, threads: u32, time: f64, cost: f64) -> Row {
        Row {
            architecture: None,
            memory_mb,
            threads,
            n: 3,
            errors: 0,
            allowed_errors: 0,
            cold_starts: 0,
            mean_ms: Some(time),
            trimmed_mean_ms: Some(time),
            p50_ms: Some(time),
            p90_ms: Some(time),
            p99_ms: Some(time),
            min_ms: Some(time),
            max_ms: Some(time),
            std_dev_ms: Some(0.0),
            mean_cpu_ms: None,
            duration_source: Default::default(),
            mean_job_ms: None,
            mean_init_ms: None,
            init_cost_usd: None,
            max_memory_used_mb: None,
            vcpus: None,
            billed_ms: Some(time.ceil() as u64),
            cost_per_invocation_usd: Some(cost),
            cost_per_million_usd: Some(cost * 1e6),
            speedup_vs_one_thread: None,
            written_items: 0,
            written_by_failed: 0,
            failed_unanswered: 0,
            error: None,
            cause: None,
            capped_vcpus: None,
            modeled: None,
        }
    }

    fn at(r: &Option<Recommendation>) -> (u32, u32) {
        let r = r.as_ref().expect("a recommendation");
        (r.memory_mb, r.threads)
    }

    #[test]
    fn each_strategy_by_hand() {
        // (memory, threads, time ms, cost)
        let rows = [
            row(512, 1, 400.0, 4.0),  // cheapest
            row(1024, 1, 210.0, 4.2), //
            row(1024, 2, 120.0, 4.8), // balanced
            row(2048, 2, 100.0, 8.0), // fastest
        ];
        // weight 0.5, max cost 8, max time 400:
        //   512/1:  0.5 × 4/8   + 0.5 × 400/400 = 0.25  + 0.5    = 0.75
        //   1024/1: 0.5 × 4.2/8 + 0.5 × 210/400 = 0.2625 + 0.2625 = 0.525
        //   1024/2: 0.5 × 4.8/8 + 0.5 × 120/400 = 0.3   + 0.15   = 0.45  ← least
        //   2048/2: 0.5 × 8/8   + 0.5 × 100/400 = 0.5   + 0.125  = 0.625
        let r = recommend(&rows, Strategy::Balanced, 0.5, false);
        assert_eq!(at(&r.cost), (512, 1));
        assert_eq!(at(&r.speed), (2048, 2));
        assert_eq!(at(&r.balanced), (1024, 2));
        assert!(
            r.balanced.as_ref().unwrap().reason.contains("0.450"),
            "{:?}",
            r.balanced
        );
        assert_eq!(r.chosen(), r.balanced.as_ref());
        // weight 1 is pure cost, weight 0 pure speed
        assert_eq!(
            at(&recommend(&rows, Strategy::Cost, 1.0, false).balanced),
            (512, 1)
        );
        assert_eq!(
            at(&recommend(&rows, Strategy::Cost, 0.0, false).balanced),
            (2048, 2)
        );
        assert_eq!(
            recommend(&rows, Strategy::Speed, 0.5, false).chosen(),
            r.speed.as_ref()
        );
    }

    #[test]
    fn ties_go_to_the_faster_then_the_simpler() {
        let rows = [
            row(1024, 2, 100.0, 5.0),
            row(512, 1, 200.0, 5.0),
            row(256, 1, 100.0, 5.0),
        ];
        // cost tie at 5.0 → faster (100 ms): 1024/2 and 256/1 → fewer threads → 256/1
        assert_eq!(
            at(&recommend(&rows, Strategy::Cost, 0.5, false).cost),
            (256, 1)
        );
        // Within 1% of the cheapest is a tie (0.22% here), and the faster wins, saying so.
        let near = [row(512, 1, 3700.0, 31.20), row(3008, 2, 630.0, 31.27)];
        let r = recommend(&near, Strategy::Cost, 0.5, false);
        assert_eq!(at(&r.cost), (3008, 2));
        let reason = &r.cost.as_ref().unwrap().reason;
        assert!(
            reason.contains("ties on cost within 1% with 512 MB × 1: the fastest of them"),
            "{reason}"
        );
        // 1.3% above the cheapest is not a tie.
        let apart = [row(512, 1, 3700.0, 31.20), row(3008, 2, 630.0, 31.60)];
        let r = recommend(&apart, Strategy::Cost, 0.5, false);
        assert_eq!(at(&r.cost), (512, 1));
        assert!(!r.cost.unwrap().reason.contains("ties"));
        // Where one billed ms of the row is more than 1% (a 50 ms job), it is the tie.
        let short = [row(512, 1, 200.0, 1.000), row(3008, 2, 50.0, 1.015)];
        assert_eq!(
            at(&recommend(&short, Strategy::Cost, 0.5, false).cost),
            (3008, 2)
        );
        // Speed: durations within 1% tie and the cheaper wins.
        let quick = [row(3008, 2, 630.0, 31.60), row(2048, 2, 634.0, 31.20)];
        let r = recommend(&quick, Strategy::Speed, 0.5, false);
        assert_eq!(at(&r.speed), (2048, 2));
        assert!(
            r.speed
                .unwrap()
                .reason
                .contains("ties on duration within 1%")
        );
        // Issue 24's two default runs: 1,769 MB × 1 at $56.6427, 3,008 MB × 2 at $56.6980.
        let issue = [row(1769, 1, 1075.0, 56.6427), row(3008, 2, 632.0, 56.6980)];
        assert_eq!(
            at(&recommend(&issue, Strategy::Cost, 0.5, false).cost),
            (3008, 2)
        );
        // Measured: the default demo, two runs, 0.11% and 0.12% apart.
        for (cheap, fast) in [(31.400, 31.435), (31.592, 31.631)] {
            let rows = [row(512, 1, 3743.6, cheap), row(3008, 2, 637.3, fast)];
            assert_eq!(
                at(&recommend(&rows, Strategy::Cost, 0.5, false).cost),
                (3008, 2)
            );
        }
    }

    #[test]
    fn a_tie_note_names_four_then_counts_and_names_architectures_when_several() {
        let mut rows: Vec<Row> = (1..=6)
            .map(|t| row(512 * t, 1, 1000.0 / f64::from(t), 10.0))
            .collect();
        let r = recommend(&rows, Strategy::Cost, 0.5, false);
        let reason = &r.cost.as_ref().unwrap().reason;
        assert!(
            reason.contains("with 512 MB × 1, 1024 MB × 1, 1536 MB × 1, 2048 MB × 1 and 1 more:"),
            "{reason}"
        );
        rows.truncate(2);
        rows[0].architecture = Some(crate::Architecture::Arm64);
        rows[1].architecture = Some(crate::Architecture::X86_64);
        let r = recommend(&rows, Strategy::Cost, 0.5, true);
        let cost = r.cost.unwrap();
        assert_eq!(cost.architecture, Some(crate::Architecture::X86_64));
        assert!(
            cost.reason.contains("with arm64 512 MB × 1:"),
            "{}",
            cost.reason
        );
    }

    #[test]
    fn failed_rows_are_never_recommended() {
        let mut broken = row(128, 1, 1.0, 0.1);
        broken.errors = 1;
        let mut dead = row(256, 1, 1.0, 0.1);
        dead.trimmed_mean_ms = None;
        let rows = [broken, dead, row(1024, 1, 50.0, 1.0)];
        let r = recommend(&rows, Strategy::Cost, 0.5, false);
        assert_eq!(at(&r.cost), (1024, 1));
        assert_eq!(at(&r.speed), (1024, 1));
        let none = recommend(&rows[..2], Strategy::Cost, 0.5, false);
        assert_eq!((none.cost, none.speed, none.balanced), (None, None, None));
    }
}
