//! A distributed Map's `ResultWriter`: the child executions' records go to S3 as AWS lays
//! them out (`<Prefix>/<map run id>/SUCCEEDED_0.json`, `FAILED_0.json`, … and a
//! `manifest.json` listing them), through the task handler registered for
//! `arn:aws:states:::s3:putObject` (parameters `{"Bucket", "Key", "Body"}`).
//!
//! Records are written as they come, a file at a time, so memory holds at most one file per
//! status however many children ran. Must not run children.

use serde_json::{Value, json};

use super::item_reader::call;
use super::{Here, Vars};
use crate::error::{Failure, StatesError};
use crate::spec::state::distributed::ResultWriter;

/// The largest result file this engine writes before it starts the next, bytes. AWS starts
/// another past 5 GB; a smaller file keeps local memory bounded, and a reader that follows the
/// manifest (as it must) reads both layouts alike.
pub const RESULT_FILE_BYTES: usize = 64 << 20;

/// The statuses a child execution's record is filed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Succeeded,
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
        }
    }
}

/// The files of one status: the one being filled, and those written.
#[derive(Default)]
struct Files {
    buffer: String,
    written: Vec<Value>,
}

pub(super) struct Writer {
    resource: String,
    bucket: String,
    /// `<Prefix>/<map run id>` (no leading slash when the prefix is empty).
    folder: String,
    map_run_arn: String,
    succeeded: Files,
    failed: Files,
}

impl Writer {
    pub(super) fn new(
        here: &Here<'_>,
        w: &ResultWriter,
        raw: &Value,
        eff: &Value,
        vars: &Vars,
        map_run_arn: &str,
        map_run_id: &str,
    ) -> Result<Writer, Failure> {
        let params = super::item_reader::args(here, &w.args, "ResultWriter", raw, eff, vars)?;
        let Some(bucket) = params["Bucket"].as_str().filter(|b| !b.is_empty()) else {
            return Err(here.fail(
                StatesError::Runtime,
                &format!("The ResultWriter needs a string Bucket, got {params}"),
            ));
        };
        let prefix = match &params["Prefix"] {
            Value::Null => "",
            Value::String(p) => p.trim_end_matches('/'),
            other => {
                return Err(here.fail(
                    StatesError::Runtime,
                    &format!("The ResultWriter's Prefix must be a string, got {other}"),
                ));
            }
        };
        let folder = if prefix.is_empty() {
            map_run_id.to_owned()
        } else {
            format!("{prefix}/{map_run_id}")
        };
        Ok(Writer {
            resource: w.resource.clone(),
            bucket: bucket.to_owned(),
            folder,
            map_run_arn: map_run_arn.to_owned(),
            succeeded: Files::default(),
            failed: Files::default(),
        })
    }

    /// Files one child execution's record; writes a file when it is full.
    pub(super) async fn add(
        &mut self,
        here: &Here<'_>,
        status: Status,
        record: &Value,
    ) -> Result<(), Failure> {
        let text = record.to_string();
        let files = self.files(status);
        if !files.buffer.is_empty() && files.buffer.len() + text.len() + 2 > RESULT_FILE_BYTES {
            self.flush(here, status).await?;
        }
        let files = self.files(status);
        files
            .buffer
            .push(if files.buffer.is_empty() { '[' } else { ',' });
        files.buffer.push_str(&text);
        Ok(())
    }

    /// Writes what is left and the manifest; the Map's result says where the manifest is.
    pub(super) async fn finish(mut self, here: &Here<'_>) -> Result<Value, Failure> {
        for status in [Status::Succeeded, Status::Failed] {
            self.flush(here, status).await?;
        }
        let key = format!("{}/manifest.json", self.folder);
        let manifest = json!({
            "DestinationBucket": self.bucket,
            "MapRunArn": self.map_run_arn,
            "ResultFiles": {
                "FAILED": self.failed.written,
                "PENDING": [],
                "SUCCEEDED": self.succeeded.written,
            },
        });
        self.put(here, &key, manifest.to_string()).await?;
        Ok(json!({
            "MapRunArn": self.map_run_arn,
            "ResultWriterDetails": {"Bucket": self.bucket, "Key": key},
        }))
    }

    fn files(&mut self, status: Status) -> &mut Files {
        match status {
            Status::Succeeded => &mut self.succeeded,
            Status::Failed => &mut self.failed,
        }
    }

    async fn flush(&mut self, here: &Here<'_>, status: Status) -> Result<(), Failure> {
        let files = self.files(status);
        if files.buffer.is_empty() {
            return Ok(());
        }
        let mut body = std::mem::take(&mut files.buffer);
        let n = files.written.len();
        body.push(']');
        let key = format!("{}/{}_{n}.json", self.folder, status.as_str());
        let size = body.len();
        self.put(here, &key, body).await?;
        self.files(status)
            .written
            .push(json!({"Key": key, "Size": size}));
        Ok(())
    }

    async fn put(&self, here: &Here<'_>, key: &str, body: String) -> Result<(), Failure> {
        let params = json!({"Bucket": self.bucket, "Key": key, "Body": body});
        call(here, &self.resource, params)
            .await
            .map(|_| ())
            .map_err(|f| {
                here.fail(
                    StatesError::ResultWriterFailed,
                    &format!(
                        "Writing s3://{}/{key} failed: {}: {}",
                        self.bucket,
                        f.error.unwrap_or_default(),
                        f.cause.unwrap_or_default()
                    ),
                )
            })
    }
}
