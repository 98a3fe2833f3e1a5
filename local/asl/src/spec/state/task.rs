//! The Task state: hands its effective parameters to the handler for `Resource`.

use crate::path::JsonPath;

/// A Task's own fields (data flow, Retry and Catch live in [`super::super::Io`]).
#[derive(Debug)]
pub(crate) struct Task {
    pub(crate) resource: String,
    pub(crate) timeout: Seconds,
}

/// A duration given literally or through a path.
#[derive(Debug, Default)]
pub(crate) enum Seconds {
    #[default]
    None,
    Fixed(u64),
    Path(JsonPath),
}
