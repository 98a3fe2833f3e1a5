//! JSONata-mode values: a field's JSON with `{% … %}` expressions at its leaves, compiled
//! once. A string that is exactly `{% expr %}` is an expression; any other value is literal.
//!
//! Owns the data only; parsing the expressions is `powersweep-jsonata`'s, evaluating the
//! fields `eval/jsonata.rs`'s.

use std::sync::Arc;

use powersweep_jsonata::Expression;
use serde_json::Value;

/// A JSON value whose strings may be JSONata expressions.
#[derive(Debug, Clone)]
pub(crate) enum JValue {
    /// No expression inside: used as is.
    Literal(Value),
    /// `{% expr %}`: the parsed expression (its text is kept for causes).
    Expr(Arc<Expression>),
    /// An object with at least one expression inside.
    Object(Vec<(String, JValue)>),
    /// An array with at least one expression inside.
    Array(Vec<JValue>),
}

/// The JSONata-mode data-flow fields of a state (`Arguments`, `Output`, `Assign`).
#[derive(Debug, Default)]
pub(crate) struct JsonataIo {
    /// Task and Parallel: their input (default: the state input).
    pub(crate) arguments: Option<JValue>,
    /// The state output (default: the result for Task, Map and Parallel, else the input).
    pub(crate) output: Option<JValue>,
    /// Workflow variables to set (an object).
    pub(crate) assign: Option<JValue>,
    /// Whether any expression of the state may read `$states.context`: building the context
    /// object for every evaluation was most of a JSONata state's cost.
    pub(crate) uses_context: bool,
}
