//! The bcrypt guest (AWS's multithread Rust sample) against the bcrypt crate run natively.

use super::support::{host, run};
use powersweep_host::ErrorKind;
use serde_json::json;

#[test]
fn four_hashes_on_two_threads_come_back_in_order_and_verify_natively() {
    let response = run(&host(), "bcrypt", 2, json!({"count": 4, "cost": 4}));
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert_eq!(response.results.len(), 4);
    for (i, result) in response.results.iter().enumerate() {
        let password = result["password"]
            .as_str()
            .unwrap_or_else(|| panic!("{result}"));
        let hash = result["hash"]
            .as_str()
            .unwrap_or_else(|| panic!("{result}"));
        assert_eq!(
            password,
            format!("password_{i:06}"),
            "results in task order"
        );
        assert!(hash.starts_with("$2b$04$") && hash.len() == 60, "{hash}");
        assert!(
            ::bcrypt::verify(password, hash).unwrap(),
            "{password} {hash}"
        );
        assert!(!::bcrypt::verify("password_999999", hash).unwrap());
    }
    assert_eq!(
        response.tasks.iter().map(|t| t.index).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
}

#[test]
fn a_fixed_salt_gives_the_crates_published_hash() {
    // bcrypt 0.15.1's own test vector `hash_with_fixed_salt`.
    let payload = json!({"passwords": ["My S3cre7 P@55w0rd!"], "cost": 5,
                         "salt": "2671d48d6cd5c3a6c926140d2f286812"});
    let response = run(&host(), "bcrypt", 1, payload);
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert_eq!(
        response.results[0]["hash"],
        "$2b$05$HlFShUxTu4ZHHfOLJwfmCeDj/kuKFKboanXtDJXxCC7aIPTUgxNDe"
    );
}

#[test]
fn a_bad_payload_is_a_plan_error_naming_the_field() {
    let host = host();
    for (payload, field) in [
        (json!({"cost": 3}), "`cost` must be 4..=31"),
        (json!({"count": 0}), "`count`"),
        (json!({"count": 2, "passwords": ["a"]}), "`passwords`"),
        (json!({"salt": "abc"}), "`salt`"),
        (json!({"cont": 2}), "cont"),
    ] {
        let r = run(&host, "bcrypt", 1, payload.clone());
        assert_eq!(r.errors.len(), 1, "{payload}: {:?}", r.errors);
        assert_eq!(r.errors[0].kind, ErrorKind::Plan, "{payload}");
        assert_eq!(r.errors[0].task, None);
        assert!(
            r.errors[0].message.contains(field),
            "{payload}: {}",
            r.errors[0].message
        );
        assert!(r.results.is_empty());
    }
}
