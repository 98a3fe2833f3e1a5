//! Runs the executions recorded on AWS (`../shared/asl-conformance/cases.jsonl`, outside the
//! repository) and compares outcomes. Skips with a note when the file is absent.
//!
//! Comparison rules (from the corpus README): a string `<...>` in the expected value matches
//! any string, and `<...>` inside a longer string matches any run of characters; a string
//! output that is JSON text is compared parsed. The LocalStack placeholder `"date"` matches any
//! ISO-8601 timestamp string, `start-time`, `entered-time` and `snf_role_arn` any string, and
//! the account `111111111111` in an ARN any account. Errors must match exactly; causes are compared the same way,
//! and mismatches are printed (they do not fail a case).
//!
//! Another corpus: `POWERSWEEP_ASL_CASES=/path/cases.jsonl`. Run one case: `CASE='substring of id' cargo test -p powersweep-asl --test conformance -- --ignored one_case --nocapture`.

use std::path::PathBuf;
use std::sync::Arc;

use powersweep_asl::{Engine, Outcome, StateMachine, TaskRegistry, VirtualClock};
use serde_json::Value;

/// The recorded cases: `POWERSWEEP_ASL_CASES` names another file of the same format (e.g.
/// more recordings), else `../shared/asl-conformance/cases.jsonl` beside the checkout.
fn corpus() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("POWERSWEEP_ASL_CASES") {
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/asl-conformance/cases.jsonl");
    p.exists().then_some(p)
}

/// Glob match where each `<...>` in `pattern` stands for any run of characters.
fn placeholder_match(pattern: &str, s: &str) -> bool {
    let mut parts = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('<') {
        match rest[open..].find('>') {
            Some(close) => {
                parts.push(&rest[..open]);
                rest = &rest[open + close + 1..];
            }
            None => break,
        }
    }
    parts.push(rest);
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !s.starts_with(part) {
                return false;
            }
            pos = part.len();
        } else if i == parts.len() - 1 {
            return s.len() >= pos + part.len() && s.ends_with(part);
        } else {
            match s[pos..].find(part) {
                Some(j) => pos += j + part.len(),
                None => return false,
            }
        }
    }
    true
}

fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(e), Value::String(a)) => {
            if e == "date" {
                return chrono::DateTime::parse_from_rfc3339(a).is_ok();
            }
            // The recording's timestamps and role, whatever ours are.
            if matches!(e.as_str(), "start-time" | "entered-time" | "snf_role_arn") {
                return true;
            }
            // The recording's account inside an ARN stands for any account.
            let e = &e.replace(":111111111111:", ":<account>:");
            if placeholder_match(e, a) {
                return true;
            }
            // JSON text in a string was parsed when recorded.
            serde_json::from_str::<Value>(a)
                .is_ok_and(|v| (v.is_object() || v.is_array()) && matches(expected, &v))
        }
        (e, Value::String(a)) if e.is_object() || e.is_array() => {
            serde_json::from_str::<Value>(a).is_ok_and(|v| matches(e, &v))
        }
        (Value::Object(e), Value::Object(a)) => {
            e.len() == a.len()
                && e.iter()
                    .all(|(k, v)| a.get(k).is_some_and(|x| matches(v, x)))
        }
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y))
        }
        (Value::Number(e), Value::Number(a)) => e.as_f64() == a.as_f64(),
        (e, a) => e == a,
    }
}

enum Verdict {
    Pass { cause_note: Option<String> },
    Fail(String),
}

async fn run_case(case: &Value) -> Verdict {
    let machine = match StateMachine::from_value(&case["definition"]) {
        Ok(m) => m,
        Err(e) => return Verdict::Fail(format!("definition rejected: {e}")),
    };
    let engine = Engine::new(TaskRegistry::new()).with_clock(Arc::new(VirtualClock::new()));
    let outcome = engine.run(&machine, case["input"].clone()).await;
    let exp = &case["expected"];
    match (exp["status"].as_str(), outcome) {
        (Some("SUCCEEDED"), Outcome::Succeeded(out)) => {
            if matches(&exp["output"], &out) {
                Verdict::Pass { cause_note: None }
            } else {
                Verdict::Fail(format!(
                    "output differs:\n  expected {}\n  actual   {}",
                    exp["output"], out
                ))
            }
        }
        (Some("FAILED"), Outcome::Failed { error, cause }) => {
            let want_error = exp["error"].as_str();
            if want_error != error.as_deref() {
                return Verdict::Fail(format!(
                    "error differs: expected {want_error:?}, got {error:?} (cause {cause:?})"
                ));
            }
            let want_cause = exp["cause"].as_str();
            let cause_ok = match (want_cause, cause.as_deref()) {
                (None, None) => true,
                (Some(w), Some(c)) => placeholder_match(w, c),
                _ => false,
            };
            Verdict::Pass {
                cause_note: (!cause_ok)
                    .then(|| format!("cause differs: expected {want_cause:?}, got {cause:?}")),
            }
        }
        (_, Outcome::Succeeded(out)) => Verdict::Fail(format!(
            "expected failure {}, but succeeded with {out}",
            exp["error"]
        )),
        (_, Outcome::Failed { error, cause }) => Verdict::Fail(format!(
            "expected success, failed with {error:?}: {cause:?}"
        )),
    }
}

fn cases() -> Option<Vec<Value>> {
    let path = corpus()?;
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
    )
}

/// The share of the JSONata cases that must pass (issue 13 asks for 90%; 64 of 64 passed when
/// this was set).
const JSONATA_FLOOR_PERCENT: usize = 95;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let Some(cases) = cases() else {
        // Not `prerequisite_missing`: the recorded cases live outside the repository, and
        // the project's rule is that tests skip loudly where they are absent, CI included.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!! SKIPPED conformance: ../shared/asl-conformance/cases.jsonl not found !!!!!\n"
        );
        return;
    };
    // Per query language: passed, total, passed with a different cause text.
    let mut tally = [(0, 0, 0); 2];
    for case in &cases {
        let id = case["id"].as_str().unwrap_or("?");
        let lang = usize::from(case["query_language"] == "JSONata");
        let verdict = run_case(case).await;
        let (pass, total, causes) = &mut tally[lang];
        *total += 1;
        match verdict {
            Verdict::Pass { cause_note } => {
                *pass += 1;
                if let Some(n) = cause_note {
                    *causes += 1;
                    println!("CAUSE  {id}: {n}");
                }
            }
            Verdict::Fail(why) => println!("FAIL   {id}: {why}"),
        }
    }
    for (name, (pass, total, causes)) in ["JSONPath", "JSONata"].iter().zip(tally) {
        println!("{name}: {pass}/{total} pass ({causes} with a different cause text)");
    }
    let [(jp_pass, jp_total, _), (ja_pass, ja_total, _)] = tally;
    assert!(
        jp_pass * 100 >= jp_total * 95,
        "JSONPath conformance below 95%: {jp_pass}/{jp_total}"
    );
    assert!(
        ja_pass * 100 >= ja_total * JSONATA_FLOOR_PERCENT,
        "JSONata conformance below {JSONATA_FLOOR_PERCENT}%: {ja_pass}/{ja_total}"
    );
}

#[tokio::test]
#[ignore = "runs one case chosen with CASE=…"]
async fn one_case() {
    let (Some(cases), Ok(want)) = (cases(), std::env::var("CASE")) else {
        println!("set CASE to part of a case id");
        return;
    };
    for case in cases
        .iter()
        .filter(|c| c["id"].as_str().is_some_and(|id| id.contains(&want)))
    {
        match run_case(case).await {
            Verdict::Pass { cause_note } => {
                println!("PASS {} {}", case["id"], cause_note.unwrap_or_default())
            }
            Verdict::Fail(why) => println!("FAIL {}: {why}", case["id"]),
        }
    }
}
