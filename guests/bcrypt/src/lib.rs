//! The bcrypt workload: hashes each password of the job with bcrypt, one task per hash, as
//! AWS's multithread Rust Lambda sample (aws-samples/sample-rust-multithread-lambda) does.
//!
//! This file only binds the WIT world to [`job`]; the work itself lives in plain functions
//! there so that it can be tested natively.

pub mod job;

wit_bindgen::generate!({ path: "../wit", world: "workload" });

struct Bcrypt;

impl Guest for Bcrypt {
    fn describe() -> String {
        "bcrypt hashes of a list of passwords, one task per hash (CPU-bound; AWS's multithread Rust sample)".into()
    }

    fn plan(payload: String) -> Result<Vec<String>, String> {
        job::plan(&payload)
    }

    fn run(task: String) -> Result<String, String> {
        job::run(&task)
    }
}

export!(Bcrypt);
