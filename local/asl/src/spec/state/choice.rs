//! The Choice state: rules that pick the next state.

use serde_json::Value;

use crate::path::JsonPath;

/// The rules, in order, and the fallback.
#[derive(Debug)]
pub(crate) struct Choice {
    pub(crate) rules: Vec<ChoiceRule>,
    pub(crate) default: Option<usize>,
}

/// A top-level rule: a condition, where to go, and what to assign.
#[derive(Debug)]
pub(crate) struct ChoiceRule {
    pub(crate) condition: Condition,
    pub(crate) next: usize,
    pub(crate) assign: Option<super::super::Template>,
    /// JSONata mode: the rule's own `Output` and `Assign`, used when it matches.
    pub(crate) jsonata: Option<Box<crate::spec::JsonataIo>>,
}

/// A boolean expression.
#[derive(Debug)]
pub(crate) enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Test {
        variable: JsonPath,
        comparison: Comparison,
    },
    /// JSONata mode: `Condition`, which must evaluate to a boolean.
    Jsonata(crate::spec::JValue),
}

/// The comparison operators of ASL. The `…Path` forms carry [`Operand::Path`].
#[derive(Debug)]
pub(crate) enum Comparison {
    StringEquals(Operand),
    StringLessThan(Operand),
    StringGreaterThan(Operand),
    StringLessThanEquals(Operand),
    StringGreaterThanEquals(Operand),
    StringMatches(String),
    NumericEquals(Operand),
    NumericLessThan(Operand),
    NumericGreaterThan(Operand),
    NumericLessThanEquals(Operand),
    NumericGreaterThanEquals(Operand),
    BooleanEquals(Operand),
    TimestampEquals(Operand),
    TimestampLessThan(Operand),
    TimestampGreaterThan(Operand),
    TimestampLessThanEquals(Operand),
    TimestampGreaterThanEquals(Operand),
    IsNull(bool),
    IsPresent(bool),
    IsNumeric(bool),
    IsString(bool),
    IsBoolean(bool),
    IsTimestamp(bool),
}

/// The right-hand side of a comparison.
#[derive(Debug)]
pub(crate) enum Operand {
    Value(Value),
    Path(JsonPath),
}
