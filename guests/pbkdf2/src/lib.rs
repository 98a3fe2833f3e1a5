//! The PBKDF2 workload: derives a key from each password of the job, one task per password.
//!
//! This file only binds the WIT world to [`job`]; the work itself lives in plain functions
//! there so that it can be tested natively.

pub mod job;

wit_bindgen::generate!({ path: "../wit", world: "workload" });

struct Pbkdf2;

impl Guest for Pbkdf2 {
    fn describe() -> String {
        "PBKDF2-HMAC-SHA512/SHA256 of a list of passwords, one task per password (CPU-bound)".into()
    }

    fn plan(payload: String) -> Result<Vec<String>, String> {
        job::plan(&payload)
    }

    fn run(task: String) -> Result<String, String> {
        job::run(&task)
    }
}

export!(Pbkdf2);
