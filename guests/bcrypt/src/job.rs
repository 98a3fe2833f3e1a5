//! Payload parsing, planning and the hashing of the bcrypt workload.
//!
//! Reproduces the handler of AWS's sample aws-samples/sample-rust-multithread-lambda:
//! `bcrypt::hash(format!("password_{:06}", i), 10)` for `i` in `0..count`, a fresh random salt
//! per hash (bcrypt 0.15). Must stay free of WIT bindings so that it can be tested natively.

use bcrypt::Version;
use serde::{Deserialize, Serialize};
use workload_support::parse;

/// The job's payload; every field is optional (defaults are the sample's).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Payload {
    /// How many hashes, of the sample's passwords `password_000000`, `password_000001`, ….
    pub count: Option<usize>,
    /// The bcrypt cost (log2 of the key expansion rounds).
    pub cost: Option<u32>,
    /// Passwords to hash, one task each, instead of `count` of the sample's.
    pub passwords: Option<Vec<String>>,
    /// A 16-byte salt as 32 hex characters for every hash; when absent, a random one per hash.
    pub salt: Option<String>,
}

/// One task: everything needed to compute one hash, so that `run` needs no shared state.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Task {
    /// The password.
    pub password: String,
    /// The bcrypt cost.
    pub cost: u32,
    /// The 16-byte salt, lowercase hex.
    pub salt: String,
}

/// What `run` returns for one task.
#[derive(Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Hashed {
    /// The password.
    pub password: String,
    /// The bcrypt hash string, `$2b$<cost>$<salt><hash>`.
    pub hash: String,
}

/// The sample's number of hashes per invocation.
pub const DEFAULT_COUNT: usize = 20;
/// The sample's cost.
pub const DEFAULT_COST: u32 = 10;
/// More tasks than this are a mistake, not a workload.
pub const MAX_COUNT: usize = 10_000;
/// The costs bcrypt accepts.
pub const COSTS: std::ops::RangeInclusive<u32> = 4..=31;
/// bcrypt reads at most this many bytes of a password; longer ones are refused, not truncated.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// The sample's `i`-th password.
pub fn sample_password(i: usize) -> String {
    format!("password_{i:06}")
}

/// Splits the job into one task per hash, choosing random salts where none was given.
pub fn plan(payload: &str) -> Result<Vec<String>, String> {
    let payload: Payload = if payload.trim().is_empty() {
        Payload::default()
    } else {
        parse(payload).map_err(|e| format!("invalid bcrypt payload: {e}"))?
    };
    let cost = payload.cost.unwrap_or(DEFAULT_COST);
    check_cost(cost).map_err(|e| format!("invalid bcrypt payload: {e}"))?;
    let passwords = match (payload.count, payload.passwords) {
        (Some(_), Some(_)) => {
            return Err(
                "invalid bcrypt payload: give either `count` or `passwords`, not both".into(),
            );
        }
        (None, Some(passwords)) => {
            if passwords.is_empty() || passwords.len() > MAX_COUNT {
                return Err(format!(
                    "invalid bcrypt payload: `passwords` must hold 1..={MAX_COUNT} passwords, got {}",
                    passwords.len()
                ));
            }
            for (i, password) in passwords.iter().enumerate() {
                check_password(password)
                    .map_err(|e| format!("invalid bcrypt payload: `passwords[{i}]` {e}"))?;
            }
            passwords
        }
        (count, None) => {
            let count = count.unwrap_or(DEFAULT_COUNT);
            if count == 0 || count > MAX_COUNT {
                return Err(format!(
                    "invalid bcrypt payload: `count` must be 1..={MAX_COUNT}, got {count}"
                ));
            }
            (0..count).map(sample_password).collect()
        }
    };
    if let Some(salt) = &payload.salt {
        decode_salt(salt).map_err(|e| format!("invalid bcrypt payload: `salt` {e}"))?;
    }
    passwords
        .into_iter()
        .map(|password| {
            let salt = match &payload.salt {
                Some(salt) => salt.to_ascii_lowercase(),
                None => random_salt()?,
            };
            let task = Task {
                password,
                cost,
                salt,
            };
            serde_json::to_string(&task).map_err(|e| e.to_string())
        })
        .collect()
}

/// Hashes the password of one task.
pub fn run(task: &str) -> Result<String, String> {
    let task: Task = serde_json::from_str(task).map_err(|e| format!("invalid bcrypt task: {e}"))?;
    let salt = decode_salt(&task.salt).map_err(|e| format!("invalid bcrypt task: `salt` {e}"))?;
    let hash = hash(&task.password, task.cost, salt)?;
    let hashed = Hashed {
        password: task.password,
        hash,
    };
    serde_json::to_string(&hashed).map_err(|e| e.to_string())
}

/// bcrypt of one password, the hot loop of the workload, as the `$2b$` string
/// `bcrypt::hash` returns.
pub fn hash(password: &str, cost: u32, salt: [u8; 16]) -> Result<String, String> {
    check_cost(cost)?;
    check_password(password).map_err(|e| format!("the password {e}"))?;
    bcrypt::hash_with_salt(password, cost, salt)
        .map(|parts| parts.format_for_version(Version::TwoB))
        .map_err(|e| format!("bcrypt failed: {e}"))
}

fn check_cost(cost: u32) -> Result<(), String> {
    if COSTS.contains(&cost) {
        Ok(())
    } else {
        Err(format!(
            "`cost` must be {}..={} (bcrypt's range), got {cost}",
            COSTS.start(),
            COSTS.end()
        ))
    }
}

fn check_password(password: &str) -> Result<(), String> {
    let len = password.len();
    if (1..=MAX_PASSWORD_BYTES).contains(&len) {
        Ok(())
    } else {
        Err(format!(
            "must be 1..={MAX_PASSWORD_BYTES} bytes (bcrypt ignores the rest; not truncated here), got {len}"
        ))
    }
}

fn decode_salt(salt: &str) -> Result<[u8; 16], String> {
    let mut bytes = [0u8; 16];
    hex::decode_to_slice(salt, &mut bytes).map_err(|e| {
        format!(
            "must be 16 bytes as 32 hex characters, got {:?} ({e})",
            salt.chars().take(40).collect::<String>()
        )
    })?;
    Ok(bytes)
}

/// 16 random bytes as 32 hex characters, the salt `bcrypt::hash` draws for each hash.
fn random_salt() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no randomness for a salt: {e}"))?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tasks(payload: &str) -> Vec<Task> {
        plan(payload)
            .unwrap()
            .iter()
            .map(|t| serde_json::from_str(t).unwrap())
            .collect()
    }

    fn hashed(task: &Task) -> Hashed {
        serde_json::from_str(&run(&serde_json::to_string(task).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn defaults_are_the_sample() {
        for payload in ["{}", "", "  "] {
            let tasks = tasks(payload);
            assert_eq!(tasks.len(), 20);
            for (i, task) in tasks.iter().enumerate() {
                assert_eq!(task.password, format!("password_{i:06}"));
                assert_eq!(task.cost, 10);
                assert_eq!(task.salt.len(), 32);
                assert!(task.salt.chars().all(|c| c.is_ascii_hexdigit()));
            }
            assert_eq!(tasks[0].password, "password_000000");
            assert_eq!(tasks[19].password, "password_000019");
            assert_ne!(tasks[0].salt, tasks[1].salt, "each hash gets its own salt");
        }
    }

    #[test]
    fn count_cost_passwords_and_salt_are_taken() {
        let three = tasks(r#"{"count": 3, "cost": 4}"#);
        assert_eq!(three.len(), 3);
        assert!(three.iter().all(|t| t.cost == 4));
        let salt = "00112233445566778899AABBCCDDEEFF";
        let given = tasks(&format!(
            r#"{{"passwords": ["a", "pässwörd"], "cost": 31, "salt": "{salt}"}}"#
        ));
        assert_eq!(
            given
                .iter()
                .map(|t| t.password.as_str())
                .collect::<Vec<_>>(),
            ["a", "pässwörd"]
        );
        assert!(given.iter().all(|t| t.cost == 31));
        assert!(given.iter().all(|t| t.salt == salt.to_ascii_lowercase()));
        let max = "x".repeat(72);
        assert_eq!(tasks(&format!(r#"{{"passwords": ["{max}"]}}"#)).len(), 1);
        assert_eq!(tasks(r#"{"count": 10000}"#).len(), 10_000);
    }

    #[test]
    fn bad_payloads_are_named() {
        let err = |payload: &str| plan(payload).unwrap_err();
        assert!(err(r#"{"count": 0}"#).contains("`count` must be 1..=10000, got 0"));
        assert!(err(r#"{"count": 10001}"#).contains("`count`"));
        assert!(err(r#"{"count": -1}"#).contains("count: invalid value"));
        assert!(err(r#"{"cost": 3}"#).contains("`cost` must be 4..=31"));
        assert!(err(r#"{"cost": 32}"#).contains("`cost` must be 4..=31 (bcrypt's range), got 32"));
        assert!(err(r#"{"cost": "ten"}"#).contains("cost: invalid type"));
        assert!(err(r#"{"count": 2, "passwords": ["a", "b"]}"#).contains("not both"));
        assert!(err(r#"{"passwords": []}"#).contains("`passwords` must hold"));
        let long = "x".repeat(73);
        let e = err(&format!(r#"{{"passwords": ["ok", "{long}"]}}"#));
        assert!(e.contains("`passwords[1]`") && e.contains("got 73"), "{e}");
        // 37 two-byte characters: 74 bytes, though only 37 characters.
        let e = err(&format!(r#"{{"passwords": ["{}"]}}"#, "é".repeat(37)));
        assert!(e.contains("got 74"), "{e}");
        assert!(err(r#"{"passwords": [""]}"#).contains("got 0"));
        for salt in ["xyz", "00112233", "0011223344556677889900aabbccddeeff", ""] {
            let e = err(&format!(r#"{{"salt": "{salt}"}}"#));
            assert!(e.contains("`salt` must be 16 bytes as 32 hex"), "{e}");
        }
        assert!(err(r#"{"salt": "zz112233445566778899aabbccddeeff"}"#).contains("`salt`"));
        assert!(err(r#"{"cont": 3}"#).contains("cont"));
        assert!(err("[1,").contains("invalid bcrypt payload"));
    }

    #[test]
    fn bad_tasks_are_refused_too() {
        let task = |cost: u32, salt: &str, password: &str| {
            run(&serde_json::to_string(&Task {
                password: password.into(),
                cost,
                salt: salt.into(),
            })
            .unwrap())
            .unwrap_err()
        };
        let salt = "00".repeat(16);
        assert!(task(3, &salt, "a").contains("`cost`"));
        assert!(task(4, "00", "a").contains("`salt`"));
        assert!(task(4, &salt, &"x".repeat(73)).contains("got 73"));
        assert!(run("{}").unwrap_err().contains("invalid bcrypt task"));
    }

    #[test]
    fn the_crates_published_vectors() {
        // bcrypt 0.15.1's `hash_with_fixed_salt` (published there as `$2y$`; same hash).
        let salt = hex::encode([
            38, 113, 212, 141, 108, 213, 195, 166, 201, 38, 20, 13, 47, 40, 104, 18,
        ]);
        let t = &tasks(&format!(
            r#"{{"passwords": ["My S3cre7 P@55w0rd!"], "cost": 5, "salt": "{salt}"}}"#
        ))[0];
        let h = hashed(t);
        assert_eq!(h.password, "My S3cre7 P@55w0rd!");
        assert_eq!(
            h.hash,
            "$2b$05$HlFShUxTu4ZHHfOLJwfmCeDj/kuKFKboanXtDJXxCC7aIPTUgxNDe"
        );
        assert!(bcrypt::verify("My S3cre7 P@55w0rd!", &h.hash).unwrap());
        // bcrypt 0.15.1's `can_verify_hash_generated_from_python` (Python's bcrypt): its salt,
        // `EGdrhbKUv8Oc9vGiXX0HQO` in bcrypt's base64, is 1887ed8d… in hex.
        let t = &tasks(
            r#"{"passwords": ["correctbatteryhorsestapler"], "cost": 4,
                "salt": "1887ed8dd316c7e41eff1224659d8949"}"#,
        )[0];
        assert_eq!(
            hashed(t).hash,
            "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie"
        );
    }

    #[test]
    fn random_salted_hashes_verify() {
        let tasks = tasks(r#"{"count": 3, "cost": 4}"#);
        let hashes: Vec<Hashed> = tasks.iter().map(hashed).collect();
        for (i, h) in hashes.iter().enumerate() {
            assert_eq!(h.password, sample_password(i));
            assert!(
                h.hash.starts_with("$2b$04$") && h.hash.len() == 60,
                "{}",
                h.hash
            );
            assert!(bcrypt::verify(&h.password, &h.hash).unwrap());
            assert!(!bcrypt::verify("password_999999", &h.hash).unwrap());
        }
        assert_ne!(hashes[0].hash, hashes[1].hash);
        // A 72-byte password hashes (bcrypt's whole limit) and verifies.
        let long = "y".repeat(72);
        let h = hash(&long, 4, [7; 16]).unwrap();
        assert!(bcrypt::verify(&long, &h).unwrap());
    }
}
