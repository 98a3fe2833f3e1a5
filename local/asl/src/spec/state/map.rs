//! The Map state: what every Map has; a distributed one's own fields are in
//! [`distributed`](super::distributed).

use std::sync::Arc;

use super::distributed::Distributed;
use crate::path::JsonPath;
use crate::spec::{Machine, Template};

/// A Map's own fields.
#[derive(Debug)]
pub(crate) struct Map {
    pub(crate) processor: Arc<Machine>,
    pub(crate) items_path: Option<JsonPath>,
    pub(crate) item_selector: Option<Template>,
    pub(crate) max_concurrency: Limit,
    pub(crate) tolerated_count: Limit,
    pub(crate) tolerated_percentage: Option<LimitF>,
    /// JSONata mode: `Items` (default: the state input, which must be an array).
    pub(crate) items: Option<crate::spec::JValue>,
    /// JSONata mode: `ItemSelector`, with `$states.context.Map.Item` bound.
    pub(crate) selector: Option<crate::spec::JValue>,
    /// `ProcessorConfig.Mode: DISTRIBUTED`: items run as child executions.
    pub(crate) distributed: Option<Distributed>,
}

/// An integer given literally or through a path.
#[derive(Debug)]
pub(crate) enum Limit {
    None,
    Fixed(u64),
    Path(JsonPath),
    /// JSONata mode: an expression.
    Jsonata(crate::spec::JValue),
}

/// A percentage given literally or through a path.
#[derive(Debug)]
pub(crate) enum LimitF {
    Fixed(f64),
    Path(JsonPath),
    /// JSONata mode: an expression.
    Jsonata(crate::spec::JValue),
}
