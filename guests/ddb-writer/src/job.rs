//! Payload parsing, planning and the item layout of the DynamoDB writer.
//!
//! Items are the 2019 experiment's: `pk` (S: run id, ISO timestamp and a tag of the
//! invocation), `rk` (N: the item's index) and `expires_in` (N: epoch seconds eight hours
//! ahead, for a TTL). The invocation tag is ours: with a run id given, two invocations that
//! write item `rk` in the same millisecond (sizes swept concurrently) would otherwise share a
//! key, and one item would overwrite the other. Must not call the host: everything here is
//! tested natively.

use serde::{Deserialize, Serialize};
use std::ops::Range;
use workload_support::parse;

/// The job's payload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Payload {
    /// The table to write to (the host must allow it).
    pub table: String,
    /// How many items to write.
    pub items: Option<u64>,
    /// One `put-item` per item or batches of 25.
    pub mode: Option<Mode>,
    /// Tags this run's items; random when absent.
    pub run_id: Option<String>,
    /// How many tasks to split the items into; 2, so that two threads each write half.
    pub tasks: Option<u64>,
}

/// How items are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One `put-item` per item.
    Single,
    /// `batch-put` with 25 items per call.
    Batch,
}

/// One task: a contiguous range of item indexes.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// The table.
    pub table: String,
    /// The run id every item's `pk` starts with.
    pub run_id: String,
    /// Random, one per invocation (per `plan`): ends every item's `pk`.
    pub invocation: String,
    /// How to write.
    pub mode: Mode,
    /// First index (inclusive).
    pub from: u64,
    /// Last index (exclusive).
    pub to: u64,
}

/// DynamoDB's `BatchWriteItem` limit.
pub const BATCH_SIZE: u64 = 25;
/// Eight hours, the TTL of the 2019 experiment.
const TTL_SECONDS: u64 = 8 * 3600;
/// A bound that keeps a typo from becoming a bill.
const MAX_ITEMS: u64 = 1_000_000;

/// Splits the items into contiguous ranges, one task each.
pub fn plan(payload: &str, now_ms: u64) -> Result<Vec<String>, String> {
    let payload: Payload =
        parse(payload).map_err(|e| format!("invalid ddb-writer payload: {e}"))?;
    if payload.table.is_empty() {
        return Err("invalid ddb-writer payload: `table` is empty".into());
    }
    let items = payload.items.unwrap_or(100);
    if items > MAX_ITEMS {
        return Err(format!(
            "invalid ddb-writer payload: `items` above {MAX_ITEMS}"
        ));
    }
    let tasks = payload.tasks.unwrap_or(2).clamp(1, items.max(1));
    let run_id = payload
        .run_id
        .unwrap_or_else(|| format!("run-{now_ms:x}-{}", random_tag()));
    let mode = payload.mode.unwrap_or(Mode::Single);
    let invocation = random_tag();
    split(items, tasks)
        .map(|r| {
            let task = Task {
                table: payload.table.clone(),
                run_id: run_id.clone(),
                invocation: invocation.clone(),
                mode,
                from: r.start,
                to: r.end,
            };
            serde_json::to_string(&task).map_err(|e| e.to_string())
        })
        .collect()
}

/// `items` indexes in `tasks` contiguous ranges whose sizes differ by at most one.
pub fn split(items: u64, tasks: u64) -> impl Iterator<Item = Range<u64>> {
    let tasks = tasks.max(1);
    (0..tasks).map(move |t| (items * t / tasks)..(items * (t + 1) / tasks))
}

/// The ranges of one task's `batch-put` calls.
pub fn batches(from: u64, to: u64) -> impl Iterator<Item = Range<u64>> {
    (from..to)
        .step_by(BATCH_SIZE as usize)
        .map(move |start| start..(start + BATCH_SIZE).min(to))
}

/// One item as DynamoDB JSON.
pub fn item(task: &Task, index: u64, now_ms: u64) -> String {
    let (run_id, invocation) = (&task.run_id, &task.invocation);
    serde_json::json!({
        "pk": { "S": format!("{run_id}#{}#{invocation}", iso8601(now_ms)) },
        "rk": { "N": index.to_string() },
        "expires_in": { "N": (now_ms / 1000 + TTL_SECONDS).to_string() },
    })
    .to_string()
}

/// Milliseconds since the Unix epoch, from WASI's wall clock.
pub fn now_unix_ms() -> Result<u64, String> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .map_err(|e| format!("clock before 1970: {e}"))
}

/// `2019-10-01T12:34:56.789Z` for a Unix time in milliseconds (UTC, proleptic Gregorian).
pub fn iso8601(ms: u64) -> String {
    let (days, rem) = ((ms / 86_400_000) as i64, ms % 86_400_000);
    // Howard Hinnant's civil_from_days: a date without a calendar crate in the guest.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

fn random_tag() -> String {
    let mut bytes = [0u8; 4];
    // Uniqueness only matters between runs that share a millisecond; zeros are acceptable.
    let _ = getrandom::getrandom(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_every_index_once() {
        for (items, tasks) in [(100, 2), (7, 3), (1, 2), (0, 2), (25, 4)] {
            let all: Vec<u64> = split(items, tasks).flatten().collect();
            assert_eq!(
                all,
                (0..items).collect::<Vec<_>>(),
                "{items} items in {tasks} tasks"
            );
        }
    }

    #[test]
    fn batches_hold_at_most_25() {
        let b: Vec<_> = batches(0, 60).collect();
        assert_eq!(b, vec![0..25, 25..50, 50..60]);
    }

    #[test]
    fn iso8601_known_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_569_933_296_789), "2019-10-01T12:34:56.789Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn item_layout() {
        let tasks = plan(r#"{"table":"t","runId":"r1"}"#, 0).unwrap();
        let task: Task = serde_json::from_str(&tasks[0]).unwrap();
        let v: serde_json::Value = serde_json::from_str(&item(&task, 7, 1_000_000)).unwrap();
        assert_eq!(v["rk"]["N"], "7");
        assert_eq!(v["expires_in"]["N"], (1000 + 8 * 3600).to_string());
        assert!(
            v["pk"]["S"]
                .as_str()
                .unwrap()
                .starts_with("r1#1970-01-01T00:16:40")
        );
        assert!(v["pk"]["S"].as_str().unwrap().ends_with(&task.invocation));
    }

    #[test]
    fn two_invocations_with_one_run_id_never_share_a_key() {
        let one = |_| -> Task {
            let tasks = plan(r#"{"table":"t","runId":"r"}"#, 0).unwrap();
            serde_json::from_str(&tasks[0]).unwrap()
        };
        let (a, b) = (one(0), one(1));
        assert_eq!(a.invocation.len(), 8);
        assert_ne!(a.invocation, b.invocation);
        assert_ne!(
            item(&a, 3, 42),
            item(&b, 3, 42),
            "same run, index and millisecond"
        );
    }

    #[test]
    fn bad_payloads_are_named() {
        assert!(plan("{}", 0).unwrap_err().contains("table"));
        assert!(
            plan(r#"{"table":"t","items":"ten"}"#, 0)
                .unwrap_err()
                .contains("items")
        );
        assert!(
            plan(r#"{"table":"t","mode":"bulk"}"#, 0)
                .unwrap_err()
                .contains("bulk")
        );
    }

    #[test]
    fn two_tasks_by_default() {
        let tasks = plan(r#"{"table":"t","runId":"r"}"#, 0).unwrap();
        assert_eq!(tasks.len(), 2);
        let t: Task = serde_json::from_str(&tasks[1]).unwrap();
        assert_eq!((t.from, t.to, t.mode), (50, 100, Mode::Single));
    }
}
