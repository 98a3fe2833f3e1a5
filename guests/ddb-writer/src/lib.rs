//! The DynamoDB writer workload: writes N items through the host's `dynamodb` interface.
//!
//! This file binds the WIT world to [`job`] and performs the writes; item layout and
//! planning are plain functions in `job` so that they are tested natively.

pub mod job;

use powersweep::workload::dynamodb::{self, DdbError};

wit_bindgen::generate!({ path: "../wit", world: "workload" });

struct DdbWriter;

impl Guest for DdbWriter {
    fn describe() -> String {
        "writes N items to a DynamoDB table, one put-item each or batches of 25 (I/O-bound)".into()
    }

    fn plan(payload: String) -> Result<Vec<String>, String> {
        job::plan(&payload, job::now_unix_ms()?)
    }

    fn run(task: String) -> Result<String, String> {
        let task: job::Task =
            serde_json::from_str(&task).map_err(|e| format!("invalid ddb-writer task: {e}"))?;
        let written = match task.mode {
            job::Mode::Single => {
                for index in task.from..task.to {
                    let item = job::item(&task, index, job::now_unix_ms()?);
                    dynamodb::put_item(&task.table, &item).map_err(|e| describe(&e, index))?;
                }
                task.to - task.from
            }
            job::Mode::Batch => {
                for chunk in job::batches(task.from, task.to) {
                    let now = job::now_unix_ms()?;
                    let items: Vec<String> =
                        chunk.clone().map(|i| job::item(&task, i, now)).collect();
                    dynamodb::batch_put(&task.table, &items)
                        .map_err(|e| describe(&e, chunk.start))?;
                }
                task.to - task.from
            }
        };
        Ok(serde_json::json!({ "written": written, "from": task.from, "to": task.to }).to_string())
    }
}

/// One line naming the item where the write failed and why.
fn describe(error: &DdbError, index: u64) -> String {
    let (kind, message) = match error {
        DdbError::AccessDenied(m) => ("access denied", m),
        DdbError::InvalidItem(m) => ("invalid item", m),
        DdbError::Throttled(m) => ("throttled", m),
        DdbError::Service(m) => ("dynamodb error", m),
    };
    format!("writing item {index}: {kind}: {message}")
}

export!(DdbWriter);
