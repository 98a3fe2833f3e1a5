//! The Pass state: passes its input (or `Result`) on.

use serde_json::Value;

/// `Result`, if given, replaces the effective input as the state's result.
#[derive(Debug)]
pub(crate) struct Pass {
    pub(crate) result: Option<Value>,
}
