//! The WIT implementation of `powersweep:workload/dynamodb`: guest calls become SDK calls on
//! the host's tokio runtime while the guest's thread waits (the guest sees a plain call).
//!
//! DynamoDB failures are values (`ddb-error`) for the guest to handle, never traps.

use super::DynamoCap;
use super::item::parse_item;
use crate::bindings::powersweep::workload::dynamodb::{DdbError, Host};
use crate::state::GuestState;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use powersweep_model::CallKind;
use std::time::Duration;

/// DynamoDB's `BatchWriteItem` limit.
const MAX_BATCH: usize = 25;
/// Rounds of re-sending unprocessed items before giving up.
const UNPROCESSED_ATTEMPTS: u32 = 8;

impl Host for GuestState {
    fn put_item(&mut self, table: String, item: String) -> Result<(), DdbError> {
        self.name_call(CallKind::PutItem);
        let cap = self.dynamo.clone();
        cap.check(&table)?;
        let item = parse_item(&item).map_err(DdbError::InvalidItem)?;
        if cap.0.dry {
            return Ok(());
        }
        let put = cap.block_on(async {
            let client = cap.0.client().await;
            client
                .put_item()
                .table_name(&table)
                .set_item(Some(item))
                .send()
                .await
                .map(drop)
                .map_err(classify)
        });
        if put.is_ok() {
            self.written += 1;
        }
        put
    }

    fn batch_put(&mut self, table: String, items: Vec<String>) -> Result<(), DdbError> {
        self.name_call(CallKind::BatchPut);
        let cap = self.dynamo.clone();
        cap.check(&table)?;
        if items.len() > MAX_BATCH {
            return Err(DdbError::InvalidItem(format!(
                "a batch holds at most {MAX_BATCH} items, got {}",
                items.len()
            )));
        }
        if items.is_empty() {
            return Ok(());
        }
        let mut requests = Vec::with_capacity(items.len());
        for (i, text) in items.iter().enumerate() {
            let item =
                parse_item(text).map_err(|e| DdbError::InvalidItem(format!("item {i}: {e}")))?;
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(|e| DdbError::InvalidItem(format!("item {i}: {e}")))?;
            requests.push(WriteRequest::builder().put_request(put).build());
        }
        if cap.0.dry {
            return Ok(());
        }
        // Items DynamoDB took, counted even when a later round fails.
        let mut wrote = 0u64;
        let sent = cap.block_on(async {
            let client = cap.0.client().await;
            let mut pending = requests;
            for attempt in 0..UNPROCESSED_ATTEMPTS {
                if attempt > 0 {
                    // Backoff as DynamoDB asks for unprocessed items: 50 ms, 100 ms, … 3.2 s.
                    tokio::time::sleep(Duration::from_millis(50 << (attempt - 1).min(6))).await;
                }
                let asked = pending.len();
                let out = client
                    .batch_write_item()
                    .request_items(&table, pending)
                    .send()
                    .await
                    .map_err(classify)?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&table))
                    .unwrap_or_default();
                wrote += asked.saturating_sub(pending.len()) as u64;
                if pending.is_empty() {
                    return Ok(());
                }
            }
            Err(DdbError::Throttled(format!(
                "{} items still unprocessed after {UNPROCESSED_ATTEMPTS} attempts",
                pending.len()
            )))
        });
        self.written += wrote;
        sent
    }
}

impl DynamoCap {
    fn check(&self, table: &str) -> Result<(), DdbError> {
        if self.0.allowed.contains(table) {
            return Ok(());
        }
        let mut allowed: Vec<&str> = self.0.allowed.iter().map(String::as_str).collect();
        allowed.sort_unstable();
        Err(DdbError::AccessDenied(format!(
            "table `{table}` is not on the host's allowlist ({})",
            if allowed.is_empty() {
                "empty".to_string()
            } else {
                allowed.join(", ")
            }
        )))
    }

    fn block_on<T>(&self, fut: impl Future<Output = T>) -> T {
        // Guest threads are plain OS threads outside the runtime, so blocking here is allowed
        // and parks only this guest.
        self.0.runtime.block_on(fut)
    }
}

fn classify<E, R>(err: SdkError<E, R>) -> DdbError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let code = err.code().unwrap_or_default().to_string();
    let message = powersweep_aws::one_line(&err);
    match code.as_str() {
        "ProvisionedThroughputExceededException"
        | "ThrottlingException"
        | "RequestLimitExceeded" => DdbError::Throttled(message),
        _ => DdbError::Service(message),
    }
}
