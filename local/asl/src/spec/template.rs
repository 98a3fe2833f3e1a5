//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, `Assign`) and the
//! value expressions inside them (a path or an intrinsic call).
//!
//! Owns the compiled form: `"key.$"` entries become [`Template::Expr`] with the `.$`
//! stripped, and subtrees without any `.$` collapse into one literal so that evaluating them
//! is a clone.

use serde_json::Value;

use crate::intrinsics::Call;
use crate::path::JsonPath;

/// A value computed at run time: `$.x`, `$$.Map.Item.Value`, `$var`, or `States.Format(…)`.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Path(JsonPath),
    Call(Call),
}

/// A compiled payload template.
#[derive(Debug, Clone)]
pub(crate) enum Template {
    Literal(Value),
    /// The field name (without `.$`, for error messages) and its expression.
    Expr(String, Expr),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
}
