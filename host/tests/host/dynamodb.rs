//! The DynamoDB writer against moto on 127.0.0.1, and the capability's refusals.

use super::support::{config, host_with, run, runtime};
use powersweep_host::{ErrorKind, HostConfig};
use serde_json::json;
use std::collections::BTreeSet;

fn host_for(table: &str, endpoint: &str) -> powersweep_host::Host {
    host_with(HostConfig {
        allowed_tables: vec![table.to_string()],
        dynamodb_endpoint: Some(endpoint.to_string()),
        ..config()
    })
}

fn check_table(table: &str, run_id: &str, items: u64) {
    let url = powersweep_test_support::moto_url();
    let found = runtime().block_on(async {
        let client = powersweep_test_support::dynamodb(url).await;
        powersweep_test_support::scan_all(&client, table).await
    });
    assert_eq!(found.len() as u64, items, "items in {table}");
    let mut indexes = BTreeSet::new();
    for item in &found {
        let pk = item["pk"].as_s().expect("pk is S");
        assert!(pk.starts_with(&format!("{run_id}#20")), "{pk}");
        let rk: u64 = item["rk"].as_n().expect("rk is N").parse().unwrap();
        assert!(indexes.insert(rk), "rk {rk} written twice");
        let expires: u64 = item["expires_in"]
            .as_n()
            .expect("expires_in is N")
            .parse()
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(
            expires > now + 7 * 3600 && expires <= now + 8 * 3600 + 60,
            "{expires}"
        );
        assert_eq!(item.len(), 3, "only pk, rk, expires_in");
    }
    assert_eq!(indexes, (0..items).collect(), "none lost");
}

#[test]
fn single_and_batch_on_one_and_two_threads_write_exactly_the_items() {
    let url = powersweep_test_support::moto_url();
    for (mode, threads, items) in [
        ("single", 1, 30),
        ("single", 2, 30),
        ("batch", 1, 60),
        ("batch", 2, 61),
    ] {
        let table = runtime().block_on(async {
            let client = powersweep_test_support::dynamodb(url).await;
            powersweep_test_support::create_table(&client, &format!("writer-{mode}-{threads}"))
                .await
        });
        let host = host_for(&table, url);
        let run_id = format!("run-{mode}-{threads}");
        let r = run(
            &host,
            "ddb-writer",
            threads,
            json!({"table": table, "items": items, "mode": mode, "runId": run_id}),
        );
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let written: u64 = r
            .results
            .iter()
            .map(|v| v["written"].as_u64().unwrap())
            .sum();
        assert_eq!(written, items);
        assert_eq!(r.written_items, items, "the host's own count");
        if threads == 2 {
            let used: BTreeSet<usize> = r.tasks.iter().map(|t| t.thread).collect();
            assert_eq!(used.len(), 2, "{:?}", r.tasks);
        }
        check_table(&table, &run_id, items);
    }
}

#[test]
fn a_failed_job_reports_what_it_had_written() {
    let url = powersweep_test_support::moto_url();
    let table = runtime().block_on(async {
        let client = powersweep_test_support::dynamodb(url).await;
        powersweep_test_support::create_table(&client, "written-then-failed").await
    });
    let host = host_for(&table, url);
    let put = json!({"mode": "put", "table": table});
    // Obeyed: two puts, nothing failed.
    let r = run(&host, "testbed", 1, json!({"tasks": [put, put]}));
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.written_items, 2);
    // Violated: the job fails after three puts (and a refused one, which wrote nothing).
    let refused = json!({"mode": "put", "table": "forbidden"});
    let r = run(
        &host,
        "testbed",
        2,
        json!({"tasks": [put, put, refused, put, {"mode": "error"}]}),
    );
    assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
    assert_eq!(r.written_items, 3, "what the failed job had written");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["writtenItems"], 3, "{json}");
}

#[test]
fn a_table_not_on_the_allowlist_is_refused() {
    let host = host_for("allowed", "http://127.0.0.1:9");
    let r = run(
        &host,
        "testbed",
        1,
        json!({"tasks": [{"mode": "put", "table": "forbidden"}]}),
    );
    assert_eq!(
        (r.errors[0].task, r.errors[0].kind),
        (Some(0), ErrorKind::Guest)
    );
    assert!(
        r.errors[0]
            .message
            .contains("not on the host's allowlist (allowed)"),
        "{}",
        r.errors[0].message
    );
}

#[test]
fn dynamodb_unreachable_is_an_error_naming_the_item() {
    // Port 9 (discard) is closed on 127.0.0.1: connections are refused at once.
    let host = host_for("t", "http://127.0.0.1:9");
    let r = run(
        &host,
        "ddb-writer",
        1,
        json!({"table": "t", "items": 3, "tasks": 1}),
    );
    assert_eq!(
        (r.errors[0].task, r.errors[0].kind),
        (Some(0), ErrorKind::Guest),
        "{:?}",
        r.errors
    );
    assert!(
        r.errors[0]
            .message
            .contains("writing item 0: dynamodb error"),
        "{}",
        r.errors[0].message
    );
    let ok = run(&host, "testbed", 1, json!({"tasks": [{"mode": "echo"}]}));
    assert!(ok.errors.is_empty(), "host still usable");
}
