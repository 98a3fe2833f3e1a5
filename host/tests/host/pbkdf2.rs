//! The PBKDF2 guest against an independent implementation (ring), and across thread counts.

use super::support::{host, run};
use ring::pbkdf2;
use serde_json::{Value, json};
use std::num::NonZeroU32;

fn expected(hash: &str, password: &str, salt: &str, iterations: u32, len: usize) -> String {
    let algorithm = match hash {
        "sha256" => pbkdf2::PBKDF2_HMAC_SHA256,
        _ => pbkdf2::PBKDF2_HMAC_SHA512,
    };
    let mut out = vec![0u8; len];
    pbkdf2::derive(
        algorithm,
        NonZeroU32::new(iterations).unwrap(),
        salt.as_bytes(),
        password.as_bytes(),
        &mut out,
    );
    hex::encode(out)
}

fn keys(results: &[Value]) -> Vec<(String, String, String)> {
    results
        .iter()
        .map(|r| {
            let s = |k: &str| {
                r[k].as_str()
                    .unwrap_or_else(|| panic!("no `{k}` in {r}"))
                    .to_string()
            };
            (s("password"), s("salt"), s("key"))
        })
        .collect()
}

#[test]
fn matches_ring_for_both_hashes_and_many_parameters() {
    let host = host();
    let passwords = [
        "password",
        "",
        "pässwörd",
        "a much longer password than a block of sha",
    ];
    for hash in ["sha256", "sha512"] {
        for (iterations, salt, key_length) in [
            (1, "salt", 16),
            (2, "NaCl", 32),
            (1000, "a1b2c3", 64),
            (4096, "x", 100),
        ] {
            let payload = json!({"passwords": passwords, "iterations": iterations, "hash": hash,
                                 "salt": salt, "keyLength": key_length});
            let response = run(&host, "pbkdf2", 2, payload);
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            for (password, got_salt, key) in keys(&response.results) {
                assert_eq!(got_salt, salt);
                assert_eq!(
                    key,
                    expected(hash, &password, salt, iterations, key_length),
                    "{hash} {iterations} {salt} {key_length}"
                );
            }
        }
    }
}

#[test]
fn random_salts_are_64_hex_and_the_key_matches_them() {
    let response = run(&host(), "pbkdf2", 1, json!({"iterations": 10}));
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let keys = keys(&response.results);
    assert_eq!(keys.len(), 4, "the default job has 4 passwords");
    for (password, salt, key) in keys {
        assert_eq!(salt.len(), 64);
        assert!(salt.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(key, expected("sha512", &password, &salt, 10, 64));
    }
}

#[test]
fn one_two_and_four_threads_agree_and_two_threads_really_run_in_parallel() {
    let host = host();
    let payload = json!({"iterations": 30000, "salt": "fixed"});
    let one = run(&host, "pbkdf2", 1, payload.clone());
    let two = run(&host, "pbkdf2", 2, payload.clone());
    let four = run(&host, "pbkdf2", 4, payload);
    for r in [&one, &two, &four] {
        assert!(r.errors.is_empty(), "{:?}", r.errors);
    }
    assert_eq!(one.results, two.results);
    assert_eq!(one.results, four.results);
    let threads: std::collections::BTreeSet<usize> = two.tasks.iter().map(|t| t.thread).collect();
    assert_eq!(
        threads.into_iter().collect::<Vec<_>>(),
        vec![0, 1],
        "{:?}",
        two.tasks
    );
    // Two tasks on different threads whose time windows overlap ran at the same time.
    let overlap = two.tasks.iter().any(|a| {
        two.tasks.iter().any(|b| {
            a.thread != b.thread && a.start_ms < b.start_ms + b.ms && b.start_ms < a.start_ms + a.ms
        })
    });
    assert!(overlap, "{:?}", two.tasks);
    assert_eq!(
        two.tasks.iter().map(|t| t.index).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
}

#[test]
fn response_reports_measurements_and_cold_start() {
    let host = host();
    let first = run(&host, "pbkdf2", 1, json!({"iterations": 100}));
    let second = run(&host, "pbkdf2", 1, json!({"iterations": 100}));
    assert!(first.cold && !second.cold);
    assert!(first.init_ms > 0.0 && second.init_ms == 0.0);
    assert_eq!(first.memory_mb, 1769);
    assert!(first.vcpus >= 1 && first.max_rss_mb > 0.0 && first.duration_ms > 0.0);
    let json = serde_json::to_value(&first).unwrap();
    for key in [
        "workload",
        "threads",
        "results",
        "tasks",
        "durationMs",
        "cpuMs",
        "memoryMb",
        "vcpus",
        "cold",
        "initMs",
        "maxRssMb",
        "errors",
    ] {
        assert!(json.get(key).is_some(), "missing {key} in {json}");
    }
}
