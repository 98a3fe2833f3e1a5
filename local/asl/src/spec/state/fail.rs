//! The Fail state: ends the execution (or branch) with an error and a cause.

use crate::spec::Expr;

/// `Error`/`ErrorPath` and `Cause`/`CausePath`; each may be absent.
#[derive(Debug)]
pub(crate) struct Fail {
    pub(crate) error: Option<Text>,
    pub(crate) cause: Option<Text>,
}

/// A literal string or one computed from a path or intrinsic.
#[derive(Debug)]
pub(crate) enum Text {
    Literal(String),
    Expr(Expr),
    /// JSONata mode: `{% expr %}`.
    Jsonata(crate::spec::JValue),
}
