//! A distributed Map's `ItemReader`: reads the S3 object through the task handler registered
//! for `arn:aws:states:::s3:getObject` and splits its text into items (a JSON array, or one
//! JSON value per line).
//!
//! The engine knows no S3: the handler gets `{"Bucket", "Key", …}` (the evaluated
//! `Parameters` / `Arguments`) and answers `{"Body": "<the object's text>"}`, as the
//! `aws-sdk:s3:getObject` integration does. Must not run the items.

use serde_json::{Value, json};

use super::{Here, Vars};
use crate::error::{Failure, StatesError};
use crate::spec::state::distributed::{Args, InputType, ItemReader};
use crate::task::TaskRequest;

/// powersweep's bound on one object an `ItemReader` reads, bytes of text: the items are held
/// in memory while the Map runs. Not AWS's (it reads objects of gigabytes, in pieces).
pub const MAX_ITEM_READER_BYTES: usize = 256 << 20;

/// The items, and `$$.Map.Item.Source` for them (`S3://bucket/key`, upper case as AWS's page
/// on the context object writes it).
pub(super) struct Read {
    pub(super) items: Vec<Value>,
    pub(super) source: String,
}

pub(super) async fn read(
    here: &Here<'_>,
    reader: &ItemReader,
    raw: &Value,
    eff: &Value,
    vars: &Vars,
) -> Result<Read, Failure> {
    let params = args(here, &reader.args, "ItemReader", raw, eff, vars)?;
    let (bucket, key) = match (params["Bucket"].as_str(), params["Key"].as_str()) {
        (Some(b), Some(k)) => (b.to_owned(), k.to_owned()),
        _ => {
            return Err(here.fail(
                StatesError::Runtime,
                &format!("The ItemReader needs a string Bucket and Key, got {params}"),
            ));
        }
    };
    let max_items = super::map::limit(
        here,
        &reader.max_items,
        "MaxItemsPath",
        None,
        raw,
        eff,
        vars,
    )?
    .filter(|&n| n > 0);
    let body = call(here, &reader.resource, params).await?;
    let Some(text) = body["Body"].as_str() else {
        return Err(here.fail(
            StatesError::Runtime,
            &format!(
                "The ItemReader's {} answered without a Body",
                reader.resource
            ),
        ));
    };
    if text.len() > MAX_ITEM_READER_BYTES {
        return Err(here.fail(
            StatesError::Runtime,
            &format!(
                "The object s3://{bucket}/{key} has {} bytes; this engine reads at most {MAX_ITEM_READER_BYTES} (its memory bound for one ItemReader)",
                text.len()
            ),
        ));
    }
    let limit = max_items.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let items = match reader.input_type {
        InputType::Json => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(mut items)) => {
                items.truncate(limit);
                items
            }
            Ok(_) => {
                return Err(here.fail(
                    StatesError::ItemReaderFailed,
                    &format!("The object s3://{bucket}/{key} is not a JSON array"),
                ));
            }
            Err(e) => {
                return Err(here.fail(
                    StatesError::ItemReaderFailed,
                    &format!("The object s3://{bucket}/{key} is not valid JSON: {e}"),
                ));
            }
        },
        InputType::Jsonl => {
            let mut items = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if items.len() >= limit {
                    break;
                }
                if line.trim().is_empty() {
                    continue;
                }
                items.push(serde_json::from_str(line).map_err(|e| {
                    here.fail(
                        StatesError::ItemReaderFailed,
                        &format!(
                            "Line {} of s3://{bucket}/{key} is not valid JSON: {e}",
                            n + 1
                        ),
                    )
                })?);
            }
            items
        }
    };
    Ok(Read {
        items,
        source: format!("S3://{bucket}/{key}"),
    })
}

/// `Parameters` (a template on the effective input) or `Arguments` (JSONata on the input).
pub(super) fn args(
    here: &Here<'_>,
    args: &Args,
    field: &str,
    raw: &Value,
    eff: &Value,
    vars: &Vars,
) -> Result<Value, Failure> {
    match args {
        Args::Path(t) => here.env(eff, vars).template(t).map_err(|e| here.err(e)),
        Args::Jsonata(v) => {
            let states = super::jsonata::States {
                input: Some(raw),
                ..Default::default()
            };
            here.jsonata_value(v, field, &here.jsonata_env(states, vars))
        }
    }
}

/// One call of a resource's handler, outside any Task state: the reader's get and the
/// writer's puts. A failure keeps the handler's error name.
pub(super) async fn call(
    here: &Here<'_>,
    resource: &str,
    parameters: Value,
) -> Result<Value, Failure> {
    let Some(handler) = here.exec.tasks.resolve(resource) else {
        return Err(here.fail(
            StatesError::Runtime,
            &format!("No task handler is registered for the resource '{resource}'."),
        ));
    };
    let request = TaskRequest {
        resource: resource.to_owned(),
        parameters,
        state_name: here.state.name.clone(),
        execution_arn: here.exec.meta.execution_arn.clone(),
        retry_count: 0,
        timeout: None,
    };
    handler
        .call(request)
        .await
        .map_err(|e| Failure::custom(Some(e.error), Some(e.cause)))
        .map(|v| if v.is_null() { json!({}) } else { v })
}
