//! The Task state: hands its effective parameters to the handler for `Resource`.

use crate::path::JsonPath;

/// A Task's own fields (data flow, Retry and Catch live in [`super::super::Io`]).
#[derive(Debug)]
pub(crate) struct Task {
    pub(crate) resource: String,
    pub(crate) timeout: Seconds,
    /// Checked and recorded, not enforced: heartbeats come from activity workers and
    /// callbacks (`SendTaskHeartbeat`), which tasks here never are.
    pub(crate) heartbeat: Seconds,
}

/// A duration given literally or through a path.
#[derive(Debug, Default)]
pub(crate) enum Seconds {
    #[default]
    None,
    Fixed(u64),
    Path(JsonPath),
    /// JSONata mode: an expression.
    Jsonata(crate::spec::JValue),
}
