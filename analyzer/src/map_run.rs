//! The samples of a distributed `Sweep`: its `ResultWriter` wrote each round's output to S3
//! and put only the manifest's location in the state, so an event's `samples` may be that
//! location (`{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}`). [`gather`] puts
//! the rounds' outputs in its place, reading the objects through the caller.
//!
//! Must not do I/O itself: the Lambda reads the objects from S3, the CLI from its local S3.

use serde_json::Value;

use crate::event::EventError;

/// The error type of an unreadable map run (a missing object, a manifest or result file that
/// is not what a `ResultWriter` writes).
pub const UNREADABLE: &str = "Analyzer.ResultsUnreadable";

/// powersweep's bound on the samples one event may gather, bytes of result files: an
/// analysis holds them all in memory (about 2 KB a sample once parsed). 12,000 invocations
/// write about 10 MB.
pub const MAX_GATHERED_BYTES: usize = 512 << 20;

/// An S3 object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// Where an event's samples are, if they are a `ResultWriter`'s output: the analysis's
/// `samples`, or a probe's (`{"probe": {"samples": …}}`).
pub fn manifest(event: &Value) -> Option<ObjectRef> {
    let samples = event
        .get("samples")
        .or_else(|| event.get("probe").and_then(|p| p.get("samples")))?;
    let details = samples.get("ResultWriterDetails")?;
    Some(ObjectRef {
        bucket: details.get("Bucket")?.as_str()?.to_owned(),
        key: details.get("Key")?.as_str()?.to_owned(),
    })
}

/// The result files a manifest lists: the succeeded child executions' (a failed round fails
/// the `Sweep`, which is then not analyzed).
///
/// # Errors
/// [`UNREADABLE`] when the text is not a `ResultWriter` manifest.
pub fn result_files(manifest_text: &str) -> Result<Vec<ObjectRef>, EventError> {
    let manifest: Value = serde_json::from_str(manifest_text)
        .map_err(|e| unreadable(format!("the map run's manifest is not JSON: {e}")))?;
    let bucket = manifest["DestinationBucket"]
        .as_str()
        .ok_or_else(|| unreadable("the map run's manifest names no DestinationBucket".into()))?;
    let files = manifest["ResultFiles"]["SUCCEEDED"]
        .as_array()
        .ok_or_else(|| unreadable("the map run's manifest lists no SUCCEEDED files".into()))?;
    files
        .iter()
        .map(|f| {
            f["Key"]
                .as_str()
                .map(|key| ObjectRef {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                })
                .ok_or_else(|| unreadable(format!("a result file without a Key: {f}")))
        })
        .collect()
}

/// Appends the output of each child execution a result file records.
///
/// # Errors
/// [`UNREADABLE`] when the text is not a `ResultWriter` result file.
pub fn outputs(file_text: &str, into: &mut Vec<Value>) -> Result<(), EventError> {
    let records: Vec<Value> = serde_json::from_str(file_text)
        .map_err(|e| unreadable(format!("a result file is not a JSON array: {e}")))?;
    for record in records {
        let output = record["Output"]
            .as_str()
            .ok_or_else(|| unreadable("a succeeded round has no Output".into()))?;
        into.push(
            serde_json::from_str(output)
                .map_err(|e| unreadable(format!("a round's Output is not JSON: {e}")))?,
        );
    }
    Ok(())
}

/// Replaces an event's `samples` location by the rounds' outputs, reading each object with
/// `read`; an event whose samples are already there is left as it is.
///
/// # Errors
/// [`UNREADABLE`] naming the object that could not be read or parsed, or the bound passed.
pub fn gather(
    event: &mut Value,
    mut read: impl FnMut(&ObjectRef) -> Result<String, String>,
) -> Result<(), EventError> {
    let Some(manifest_ref) = manifest(event) else {
        return Ok(());
    };
    let fetch = |read: &mut dyn FnMut(&ObjectRef) -> Result<String, String>, r: &ObjectRef| {
        read(r).map_err(|e| unreadable(format!("{r}: {e}")))
    };
    let files = result_files(&fetch(&mut read, &manifest_ref)?)?;
    let mut rounds = Vec::new();
    let mut bytes = 0usize;
    for file in &files {
        let text = fetch(&mut read, file)?;
        bytes += text.len();
        if bytes > MAX_GATHERED_BYTES {
            return Err(unreadable(format!(
                "the map run's result files pass {} MiB, the most one analysis reads",
                MAX_GATHERED_BYTES >> 20
            )));
        }
        outputs(&text, &mut rounds)?;
    }
    let slot = if event.get("samples").is_some() {
        event.get_mut("samples")
    } else {
        event.get_mut("probe").and_then(|p| p.get_mut("samples"))
    };
    if let Some(slot) = slot {
        *slot = Value::Array(rounds);
    }
    Ok(())
}

fn unreadable(message: String) -> EventError {
    EventError {
        error_type: UNREADABLE.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn store() -> HashMap<String, String> {
        let manifest = json!({"DestinationBucket": "b", "MapRunArn": "arn",
            "ResultFiles": {"FAILED": [], "PENDING": [], "SUCCEEDED": [{"Key": "p/r/SUCCEEDED_0.json", "Size": 1}]}});
        let records = json!([
            {"Output": "[[{\"memoryMb\":512}]]", "Status": "SUCCEEDED"},
            {"Output": "[[{\"memoryMb\":1024}]]", "Status": "SUCCEEDED"},
        ]);
        HashMap::from([
            ("p/r/manifest.json".to_owned(), manifest.to_string()),
            ("p/r/SUCCEEDED_0.json".to_owned(), records.to_string()),
        ])
    }

    fn location() -> Value {
        json!({"MapRunArn": "arn", "ResultWriterDetails": {"Bucket": "b", "Key": "p/r/manifest.json"}})
    }

    #[test]
    fn a_map_runs_location_becomes_its_rounds_outputs() {
        let objects = store();
        let read = |r: &ObjectRef| objects.get(&r.key).cloned().ok_or("absent".to_owned());
        let mut event = json!({"workload": "w", "samples": location()});
        gather(&mut event, read).unwrap();
        assert_eq!(
            event["samples"],
            json!([[[{"memoryMb": 512}]], [[{"memoryMb": 1024}]]])
        );
        let mut probe = json!({"probe": {"workload": "w", "samples": location()}});
        gather(&mut probe, read).unwrap();
        assert_eq!(probe["probe"]["samples"][1], json!([[{"memoryMb": 1024}]]));
        // Samples already in the event are left alone.
        let mut inline = json!({"samples": [[{"memoryMb": 1}]]});
        gather(&mut inline, |_| unreachable!()).unwrap();
        assert_eq!(inline["samples"], json!([[{"memoryMb": 1}]]));
    }

    #[test]
    fn a_missing_or_broken_object_is_named() {
        let mut objects = store();
        objects.remove("p/r/SUCCEEDED_0.json");
        let read = |r: &ObjectRef| objects.get(&r.key).cloned().ok_or("NoSuchKey".to_owned());
        let err = gather(&mut json!({"samples": location()}), read).unwrap_err();
        assert_eq!(err.error_type, UNREADABLE);
        assert!(
            err.message
                .contains("s3://b/p/r/SUCCEEDED_0.json: NoSuchKey"),
            "{}",
            err.message
        );
        let err = gather(&mut json!({"samples": location()}), |_| Ok("[".into())).unwrap_err();
        assert!(
            err.message.contains("manifest is not JSON"),
            "{}",
            err.message
        );
    }
}
