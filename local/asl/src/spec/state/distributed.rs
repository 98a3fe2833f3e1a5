//! What a Map state in `DISTRIBUTED` mode adds to an inline one: the child executions' type,
//! where the items come from (`ItemReader`), how they are grouped (`ItemBatcher`), where the
//! results go (`ResultWriter`) and the run's `Label`.
//!
//! Owns the data only: the rules are checked in `parse/distributed.rs`, the run is
//! `eval/distributed.rs`'s.

use crate::spec::state::map::Limit;
use crate::spec::{JValue, Template};

/// The `Mode: DISTRIBUTED` half of a Map.
#[derive(Debug)]
pub(crate) struct Distributed {
    pub(crate) execution_type: ExecutionType,
    pub(crate) reader: Option<ItemReader>,
    pub(crate) batcher: Option<ItemBatcher>,
    pub(crate) writer: Option<ResultWriter>,
    /// `Label`: names the Map Run and its child executions (default: the state's name).
    pub(crate) label: Option<String>,
}

/// `ProcessorConfig.ExecutionType`: how each child execution runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExecutionType {
    /// Exactly once, up to a year, its own 25,000-event history.
    Standard,
    /// At least once, up to five minutes.
    Express,
}

/// A field given as JSONPath `Parameters` (a payload template) or JSONata `Arguments`.
#[derive(Debug)]
pub(crate) enum Args {
    Path(Template),
    Jsonata(JValue),
}

/// `ItemReader`: the items are an S3 object's content.
#[derive(Debug)]
pub(crate) struct ItemReader {
    /// The resource the engine calls to read the object (`arn:aws:states:::s3:getObject`).
    pub(crate) resource: String,
    /// `Bucket` and `Key`.
    pub(crate) args: Args,
    pub(crate) input_type: InputType,
    /// `ReaderConfig.MaxItems`: read at most this many items (0 or absent: all).
    pub(crate) max_items: Limit,
}

/// `ReaderConfig.InputType`: how the object's text becomes items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InputType {
    /// A JSON array; its elements are the items.
    Json,
    /// One JSON value per line.
    Jsonl,
}

/// `ItemBatcher`: each child execution gets `{"Items": [...]}` plus `BatchInput`.
#[derive(Debug)]
pub(crate) struct ItemBatcher {
    pub(crate) max_items: Limit,
    pub(crate) max_bytes: Limit,
    pub(crate) batch_input: Option<Args>,
}

/// `ResultWriter`: the child executions' results are written to S3 and the state's result is
/// where.
#[derive(Debug)]
pub(crate) struct ResultWriter {
    /// The resource the engine calls to write each object (`arn:aws:states:::s3:putObject`).
    pub(crate) resource: String,
    /// `Bucket` and `Prefix`.
    pub(crate) args: Args,
}
