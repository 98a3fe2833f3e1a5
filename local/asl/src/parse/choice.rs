//! Choice rules: exactly one operator per rule, `Variable` where needed, `Next` only at the
//! top level.
//!
//! Owns the operator table (name → [`Comparison`]); it must not evaluate rules.

use std::collections::HashMap;

use serde_json::Value;

use super::fields::Obj;
use super::{R, assign, reference_path, target};
use crate::error::{ParseError, ParseErrorKind as K};
use crate::spec::{Choice, ChoiceRule, Comparison, Condition, Lang, Operand};

/// Operators that take a value (and have a `…Path` form), with the JSON type they need.
const VALUE_OPS: &[(&str, &str)] = &[
    ("StringEquals", "string"),
    ("StringLessThan", "string"),
    ("StringGreaterThan", "string"),
    ("StringLessThanEquals", "string"),
    ("StringGreaterThanEquals", "string"),
    ("NumericEquals", "number"),
    ("NumericLessThan", "number"),
    ("NumericGreaterThan", "number"),
    ("NumericLessThanEquals", "number"),
    ("NumericGreaterThanEquals", "number"),
    ("BooleanEquals", "boolean"),
    ("TimestampEquals", "timestamp"),
    ("TimestampLessThan", "timestamp"),
    ("TimestampGreaterThan", "timestamp"),
    ("TimestampLessThanEquals", "timestamp"),
    ("TimestampGreaterThanEquals", "timestamp"),
];

const TYPE_OPS: &[&str] = &[
    "IsNull",
    "IsPresent",
    "IsNumeric",
    "IsString",
    "IsBoolean",
    "IsTimestamp",
];

/// The fields of a Choice state beside the common ones.
pub(super) const FIELDS: &[&str] = &["Choices", "Default", "InputPath", "OutputPath", "Assign"];

pub(super) fn choice(obj: &Obj<'_>, index: &HashMap<String, usize>, lang: Lang) -> R<Choice> {
    let rules = obj.req_arr("Choices")?;
    if rules.is_empty() {
        return Err(ParseError::new(
            obj.at("Choices"),
            K::Invalid("`Choices` cannot be empty".into()),
        ));
    }
    let mut out = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        let ro = Obj::new(r, format!("{}/{i}", obj.at("Choices")))?;
        if lang == Lang::Jsonata {
            out.push(super::jsonata::rule(&ro, index)?);
            continue;
        }
        let next = target(&ro, "Next", index)?;
        out.push(ChoiceRule {
            condition: condition(&ro, true, 0)?,
            next,
            assign: assign(&ro)?,
            jsonata: None,
        });
    }
    let default = obj
        .get("Default")
        .map(|_| target(obj, "Default", index))
        .transpose()?;
    Ok(Choice {
        rules: out,
        default,
    })
}

fn condition(obj: &Obj<'_>, top: bool, depth: usize) -> R<Condition> {
    if depth > 64 {
        return Err(ParseError::new(
            obj.ptr(),
            K::Invalid("choice rules nested too deeply".into()),
        ));
    }
    let extra: &[&str] = if top {
        &["Next", "Assign", "Comment"]
    } else {
        &["Comment"]
    };
    let ops: Vec<&String> = obj
        .map()
        .keys()
        .filter(|k| !extra.contains(&k.as_str()) && k.as_str() != "Variable")
        .collect();
    if ops.len() != 1 {
        return Err(ParseError::new(
            obj.ptr(),
            K::Invalid(format!(
                "a choice rule needs exactly one operator, found {}",
                if ops.is_empty() {
                    "none".into()
                } else {
                    format!("{ops:?}")
                }
            )),
        ));
    }
    let op = ops[0].as_str();
    let at = obj.at(op);
    let v = obj.get(op).unwrap_or(&Value::Null);
    let nested =
        |v: &Value, at: String| Obj::new(v, at).and_then(|o| condition(&o, false, depth + 1));
    match op {
        "And" | "Or" => {
            let arr = obj.req_arr(if op == "And" { "And" } else { "Or" })?;
            if arr.is_empty() {
                return Err(ParseError::new(
                    at,
                    K::Invalid(format!("`{op}` cannot be empty")),
                ));
            }
            let cs = arr
                .iter()
                .enumerate()
                .map(|(i, c)| nested(c, format!("{at}/{i}")))
                .collect::<R<Vec<_>>>()?;
            if obj.get("Variable").is_some() {
                return Err(ParseError::new(
                    obj.at("Variable"),
                    K::UnknownField("Variable".into()),
                ));
            }
            return Ok(if op == "And" {
                Condition::And(cs)
            } else {
                Condition::Or(cs)
            });
        }
        "Not" => {
            if obj.get("Variable").is_some() {
                return Err(ParseError::new(
                    obj.at("Variable"),
                    K::UnknownField("Variable".into()),
                ));
            }
            return Ok(Condition::Not(Box::new(nested(v, at)?)));
        }
        _ => {}
    }
    let var = obj.req_str("Variable")?;
    let variable = reference_path_or_path(var, &obj.at("Variable"))?;
    let comparison = comparison(op, v, &at)?;
    Ok(Condition::Test {
        variable,
        comparison,
    })
}

/// `Variable` is a Path; indefinite paths are allowed and yield an array.
fn reference_path_or_path(s: &str, at: &str) -> R<crate::path::JsonPath> {
    crate::path::JsonPath::parse(s).map_err(|e| ParseError::new(at, K::Path(e)))
}

fn comparison(op: &str, v: &Value, at: &str) -> R<Comparison> {
    if TYPE_OPS.contains(&op) {
        let b = v
            .as_bool()
            .ok_or_else(|| ParseError::new(at, K::WrongType("a boolean")))?;
        return Ok(match op {
            "IsNull" => Comparison::IsNull(b),
            "IsPresent" => Comparison::IsPresent(b),
            "IsNumeric" => Comparison::IsNumeric(b),
            "IsString" => Comparison::IsString(b),
            "IsBoolean" => Comparison::IsBoolean(b),
            _ => Comparison::IsTimestamp(b),
        });
    }
    if op == "StringMatches" {
        let s = v
            .as_str()
            .ok_or_else(|| ParseError::new(at, K::WrongType("a string")))?;
        return Ok(Comparison::StringMatches(s.to_owned()));
    }
    let (base, is_path) = match op.strip_suffix("Path") {
        Some(b) => (b, true),
        None => (op, false),
    };
    let (_, ty) = VALUE_OPS.iter().find(|(n, _)| *n == base).ok_or_else(|| {
        ParseError::new(at, K::Invalid(format!("unknown choice operator `{op}`")))
    })?;
    let operand = if is_path {
        let s = v
            .as_str()
            .ok_or_else(|| ParseError::new(at, K::WrongType("a path string")))?;
        Operand::Path(reference_path(s, at)?)
    } else {
        let ok = match *ty {
            "string" => v.is_string(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            _ => v
                .as_str()
                .is_some_and(|s| crate::eval::parse_timestamp(s).is_some()),
        };
        if !ok {
            return Err(ParseError::new(
                at,
                K::WrongType(match *ty {
                    "string" => "a string",
                    "number" => "a number",
                    "boolean" => "a boolean",
                    _ => "an ISO-8601 timestamp string",
                }),
            ));
        }
        Operand::Value(v.clone())
    };
    Ok(match base {
        "StringEquals" => Comparison::StringEquals(operand),
        "StringLessThan" => Comparison::StringLessThan(operand),
        "StringGreaterThan" => Comparison::StringGreaterThan(operand),
        "StringLessThanEquals" => Comparison::StringLessThanEquals(operand),
        "StringGreaterThanEquals" => Comparison::StringGreaterThanEquals(operand),
        "NumericEquals" => Comparison::NumericEquals(operand),
        "NumericLessThan" => Comparison::NumericLessThan(operand),
        "NumericGreaterThan" => Comparison::NumericGreaterThan(operand),
        "NumericLessThanEquals" => Comparison::NumericLessThanEquals(operand),
        "NumericGreaterThanEquals" => Comparison::NumericGreaterThanEquals(operand),
        "BooleanEquals" => Comparison::BooleanEquals(operand),
        "TimestampEquals" => Comparison::TimestampEquals(operand),
        "TimestampLessThan" => Comparison::TimestampLessThan(operand),
        "TimestampGreaterThan" => Comparison::TimestampGreaterThan(operand),
        "TimestampLessThanEquals" => Comparison::TimestampLessThanEquals(operand),
        _ => Comparison::TimestampGreaterThanEquals(operand),
    })
}
