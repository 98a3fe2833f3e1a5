//! Payload parsing, planning and the key derivation of the PBKDF2 workload.
//!
//! Must stay free of WIT bindings: the host's tests and benchmarks compare it with other
//! implementations natively.

use pbkdf2::pbkdf2_hmac;
use serde::{Deserialize, Serialize};
use sha2::{Sha256, Sha512};
use workload_support::parse;

/// The job's payload; every field is optional (defaults are the 2019 experiment's).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Payload {
    /// Passwords to hash, one task each.
    pub passwords: Option<Vec<String>>,
    /// PBKDF2 iterations.
    pub iterations: Option<u32>,
    /// The HMAC hash.
    pub hash: Option<Hash>,
    /// Length of the derived key in bytes.
    pub key_length: Option<usize>,
    /// A salt for every password; when absent, a random one per password.
    pub salt: Option<String>,
}

/// The hash function under HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hash {
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

/// One task: everything needed to derive one key, so that `run` needs no shared state.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// The password.
    pub password: String,
    /// The salt, used as its UTF-8 bytes.
    pub salt: String,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// The HMAC hash.
    pub hash: Hash,
    /// Length of the derived key in bytes.
    pub key_length: usize,
}

/// What `run` returns for one task.
#[derive(Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Derived {
    /// The password.
    pub password: String,
    /// The salt that was used.
    pub salt: String,
    /// The derived key, lowercase hex.
    pub key: String,
}

/// The original experiment's passwords.
const DEFAULT_PASSWORDS: [&str; 4] = ["password", "password1", "password2", "password3"];
/// Keys longer than this are a mistake, not a workload (PBKDF2 would recompute every block).
const MAX_KEY_LENGTH: usize = 1024;

/// Splits the job into one task per password, choosing random salts where none was given.
pub fn plan(payload: &str) -> Result<Vec<String>, String> {
    let payload: Payload = if payload.trim().is_empty() {
        Payload::default()
    } else {
        parse(payload).map_err(|e| format!("invalid pbkdf2 payload: {e}"))?
    };
    let iterations = payload.iterations.unwrap_or(1_000_000);
    if iterations == 0 {
        return Err("invalid pbkdf2 payload: `iterations` must be at least 1".into());
    }
    let key_length = payload.key_length.unwrap_or(64);
    if key_length == 0 || key_length > MAX_KEY_LENGTH {
        return Err(format!(
            "invalid pbkdf2 payload: `keyLength` must be 1..={MAX_KEY_LENGTH} bytes, got {key_length}"
        ));
    }
    let passwords = payload
        .passwords
        .unwrap_or_else(|| DEFAULT_PASSWORDS.iter().map(|p| p.to_string()).collect());
    if passwords.is_empty() {
        return Err("invalid pbkdf2 payload: `passwords` is empty".into());
    }
    let hash = payload.hash.unwrap_or(Hash::Sha512);
    passwords
        .into_iter()
        .map(|password| {
            let salt = match &payload.salt {
                Some(salt) => salt.clone(),
                None => random_salt()?,
            };
            let task = Task {
                password,
                salt,
                iterations,
                hash,
                key_length,
            };
            serde_json::to_string(&task).map_err(|e| e.to_string())
        })
        .collect()
}

/// Derives the key of one task.
pub fn run(task: &str) -> Result<String, String> {
    let task: Task = serde_json::from_str(task).map_err(|e| format!("invalid pbkdf2 task: {e}"))?;
    let key = derive(&task);
    let derived = Derived {
        password: task.password,
        salt: task.salt,
        key: hex::encode(key),
    };
    serde_json::to_string(&derived).map_err(|e| e.to_string())
}

/// PBKDF2 of one task, the hot loop of the workload.
pub fn derive(task: &Task) -> Vec<u8> {
    let mut key = vec![0u8; task.key_length];
    let (password, salt) = (task.password.as_bytes(), task.salt.as_bytes());
    match task.hash {
        Hash::Sha256 => pbkdf2_hmac::<Sha256>(password, salt, task.iterations, &mut key),
        Hash::Sha512 => pbkdf2_hmac::<Sha512>(password, salt, task.iterations, &mut key),
    }
    key
}

/// 32 random bytes as 64 hex characters, as the original experiment made its salts.
fn random_salt() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no randomness for a salt: {e}"))?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_2019_experiment() {
        let tasks = plan("{}").unwrap();
        assert_eq!(tasks.len(), 4);
        let first: Task = serde_json::from_str(&tasks[0]).unwrap();
        assert_eq!(first.password, "password");
        assert_eq!(first.iterations, 1_000_000);
        assert_eq!(first.hash, Hash::Sha512);
        assert_eq!(first.key_length, 64);
        assert_eq!(first.salt.len(), 64);
        let second: Task = serde_json::from_str(&tasks[1]).unwrap();
        assert_ne!(
            first.salt, second.salt,
            "each password gets its own random salt"
        );
    }

    #[test]
    fn rfc7914_test_vector() {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, dkLen=64.
        let task = Task {
            password: "passwd".into(),
            salt: "salt".into(),
            iterations: 1,
            hash: Hash::Sha256,
            key_length: 64,
        };
        assert!(hex::encode(derive(&task)).starts_with("55ac046e56e3089fec1691c22544b605"));
    }

    #[test]
    fn bad_payloads_are_named() {
        assert!(
            plan("{\"iterations\": \"many\"}")
                .unwrap_err()
                .contains("iterations")
        );
        assert!(
            plan("{\"iterations\": 0}")
                .unwrap_err()
                .contains("iterations")
        );
        assert!(plan("{\"hash\": \"md5\"}").unwrap_err().contains("md5"));
        assert!(
            plan("{\"keyLength\": 0}")
                .unwrap_err()
                .contains("keyLength")
        );
        assert!(
            plan("{\"passwords\": []}")
                .unwrap_err()
                .contains("passwords")
        );
        assert!(plan("{\"pasword\": []}").unwrap_err().contains("pasword"));
        assert!(plan("[1,").unwrap_err().contains("invalid pbkdf2 payload"));
    }
}
