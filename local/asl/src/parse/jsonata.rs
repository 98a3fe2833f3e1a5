//! JSONata-mode parsing: which fields a JSONata state may have, `{% … %}` values compiled
//! into [`JValue`]s, and the bodies whose fields differ from JSONPath mode (Choice rules with
//! `Condition`, Wait and Fail fields that may be expressions).
//!
//! Must not evaluate anything; the expressions are only parsed (a syntax error is a
//! definition error, as AWS refuses such a definition).

use std::collections::HashMap;
use std::sync::Arc;

use powersweep_jsonata::Expression;
use serde_json::Value;

use super::fields::Obj;
use super::{R, target};
use crate::StateType;
use crate::error::{ParseError, ParseErrorKind as K};
use crate::spec::state::fail::Text;
use crate::spec::{ChoiceRule, Condition, JValue, JsonataIo, Wait};

/// Fields of JSONPath mode a JSONata state may not have.
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "ItemsPath",
    "Result",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
];

/// The fields a JSONata state of type `ty` may have beside the common ones: its JSONPath
/// fields without the JSONPath-only ones, plus `Output` (all but Fail), `Arguments` (Task,
/// Parallel) and `Items` (Map).
pub(super) fn fields(ty: StateType, jsonpath: &[&'static str]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = jsonpath
        .iter()
        .copied()
        .filter(|f| !JSONPATH_ONLY.contains(f))
        .collect();
    if ty != StateType::Fail {
        out.push("Output");
    }
    if matches!(ty, StateType::Task | StateType::Parallel) {
        out.push("Arguments");
    }
    if ty == StateType::Map {
        out.push("Items");
    }
    out
}

/// The `{% … %}` text inside a string, if the whole string is one.
fn expression_text(s: &str) -> Option<&str> {
    s.strip_prefix("{%")?.strip_suffix("%}").map(str::trim)
}

/// Compiles a field's value.
pub(crate) fn value(v: &Value, at: &str) -> R<JValue> {
    fn go(v: &Value, at: &str, depth: usize) -> R<JValue> {
        if depth > 128 {
            return Err(ParseError::new(at, K::Invalid("nested too deeply".into())));
        }
        Ok(match v {
            Value::String(s) => match expression_text(s) {
                Some(text) => JValue::Expr(Arc::new(Expression::parse(text).map_err(|e| {
                    ParseError::new(
                        at,
                        K::Invalid(format!("the JSONata expression '{text}' is invalid: {e}")),
                    )
                })?)),
                None => JValue::Literal(v.clone()),
            },
            Value::Object(m) => {
                let fields: Vec<(String, JValue)> = m
                    .iter()
                    .map(|(k, x)| Ok((k.clone(), go(x, &super::pointer(at, k), depth + 1)?)))
                    .collect::<R<_>>()?;
                if fields.iter().all(|(_, f)| matches!(f, JValue::Literal(_))) {
                    JValue::Literal(v.clone())
                } else {
                    JValue::Object(fields)
                }
            }
            Value::Array(a) => {
                let items: Vec<JValue> = a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| go(x, &format!("{at}/{i}"), depth + 1))
                    .collect::<R<_>>()?;
                if items.iter().all(|f| matches!(f, JValue::Literal(_))) {
                    JValue::Literal(v.clone())
                } else {
                    JValue::Array(items)
                }
            }
            other => JValue::Literal(other.clone()),
        })
    }
    go(v, at, 0)
}

fn opt_value(obj: &Obj<'_>, field: &str) -> R<Option<JValue>> {
    obj.get(field).map(|v| value(v, &obj.at(field))).transpose()
}

/// `Arguments`, `Output` and `Assign` of a state (or of a Catch or Choice rule).
pub(super) fn io(obj: &Obj<'_>) -> R<Box<JsonataIo>> {
    let assign = match obj.get("Assign") {
        None => None,
        Some(v @ Value::Object(_)) => Some(value(v, &obj.at("Assign"))?),
        Some(_) => return Err(ParseError::new(obj.at("Assign"), K::WrongType("an object"))),
    };
    Ok(Box::new(JsonataIo {
        arguments: opt_value(obj, "Arguments")?,
        output: opt_value(obj, "Output")?,
        assign,
        uses_context: true,
    }))
}

/// One Choice rule: `Condition`, `Next`, and the rule's own `Output` and `Assign`.
pub(super) fn rule(ro: &Obj<'_>, index: &HashMap<String, usize>) -> R<ChoiceRule> {
    ro.only(&["Condition", "Next", "Output", "Assign", "Comment"])?;
    let condition = ro
        .get("Condition")
        .ok_or_else(|| ParseError::new(ro.ptr(), K::MissingField("Condition")))?;
    Ok(ChoiceRule {
        condition: Condition::Jsonata(value(condition, &ro.at("Condition"))?),
        next: target(ro, "Next", index)?,
        assign: None,
        jsonata: Some(io(ro)?),
    })
}

/// A Wait state: `Seconds` or `Timestamp`, each a literal or an expression.
pub(super) fn wait(obj: &Obj<'_>) -> R<Wait> {
    type Make = fn(JValue) -> Wait;
    let kinds: [(&str, Make); 2] = [
        ("Seconds", Wait::SecondsJsonata),
        ("Timestamp", Wait::TimestampJsonata),
    ];
    for (field, make) in kinds {
        if let Some(Value::String(s)) = obj.get(field)
            && expression_text(s).is_some()
        {
            if obj.get("Seconds").is_some() && obj.get("Timestamp").is_some() {
                return Err(ParseError::new(
                    obj.ptr(),
                    K::Invalid("a Wait state needs exactly one of Seconds, Timestamp".into()),
                ));
            }
            return Ok(make(value(&Value::String(s.clone()), &obj.at(field))?));
        }
    }
    super::wait::body(obj)
}

/// A Fail state's `Error` or `Cause`: a literal string or an expression.
pub(super) fn text(obj: &Obj<'_>, field: &str) -> R<Option<Text>> {
    match obj.opt_str(field)? {
        None => Ok(None),
        Some(s) if expression_text(s).is_some() => Ok(Some(Text::Jsonata(value(
            &Value::String(s.to_owned()),
            &obj.at(field),
        )?))),
        Some(s) => Ok(Some(Text::Literal(s.to_owned()))),
    }
}
