//! The Wait state: delays for a time or until an instant.

use chrono::{DateTime, Utc};

use crate::path::JsonPath;

/// Exactly one of the four ways to say how long.
#[derive(Debug)]
pub(crate) enum Wait {
    Seconds(u64),
    SecondsPath(JsonPath),
    Timestamp(DateTime<Utc>),
    TimestampPath(JsonPath),
    /// JSONata mode: `Seconds` given as an expression.
    SecondsJsonata(crate::spec::JValue),
    /// JSONata mode: `Timestamp` given as an expression.
    TimestampJsonata(crate::spec::JValue),
}
