//! DynamoDB JSON (the wire format of the DynamoDB API and the AWS CLI) into the SDK's
//! `AttributeValue`s. Pure conversion: no I/O, no policy.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Parses one item: an object of attribute names to typed values (`{"S": "x"}`, …).
pub fn parse_item(text: &str) -> Result<HashMap<String, AttributeValue>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("item is not JSON: {e}"))?;
    let Value::Object(attrs) = value else {
        return Err("item must be a JSON object of attributes".into());
    };
    if attrs.is_empty() {
        return Err("item has no attributes".into());
    }
    attributes(attrs)
}

fn attributes(attrs: Map<String, Value>) -> Result<HashMap<String, AttributeValue>, String> {
    attrs
        .into_iter()
        .map(|(name, v)| {
            attribute(v)
                .map(|a| (name.clone(), a))
                .map_err(|e| format!("attribute `{name}`: {e}"))
        })
        .collect()
}

fn attribute(value: Value) -> Result<AttributeValue, String> {
    let Value::Object(typed) = value else {
        return Err("expected an object such as {\"S\": \"text\"}".into());
    };
    let mut entries = typed.into_iter();
    let (Some((kind, inner)), None) = (entries.next(), entries.next()) else {
        return Err("expected exactly one type key such as \"S\" or \"N\"".into());
    };
    let string = |v: Value| match v {
        Value::String(s) => Ok(s),
        other => Err(format!("`{kind}` needs a string, got {other}")),
    };
    let strings = |v: Value| match v {
        Value::Array(items) => items.into_iter().map(string).collect::<Result<Vec<_>, _>>(),
        other => Err(format!("`{kind}` needs an array of strings, got {other}")),
    };
    let blob = |s: String| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map(Blob::new)
            .map_err(|e| format!("`{kind}` is not base64: {e}"))
    };
    Ok(match kind.as_str() {
        "S" => AttributeValue::S(string(inner)?),
        "N" => AttributeValue::N(string(inner)?),
        "B" => AttributeValue::B(blob(string(inner)?)?),
        "BOOL" => AttributeValue::Bool(inner.as_bool().ok_or("`BOOL` needs true or false")?),
        "NULL" => AttributeValue::Null(inner.as_bool().ok_or("`NULL` needs true")?),
        "SS" => AttributeValue::Ss(strings(inner)?),
        "NS" => AttributeValue::Ns(strings(inner)?),
        "BS" => AttributeValue::Bs(
            strings(inner)?
                .into_iter()
                .map(blob)
                .collect::<Result<_, _>>()?,
        ),
        "M" => match inner {
            Value::Object(m) => AttributeValue::M(attributes(m)?),
            other => return Err(format!("`M` needs an object, got {other}")),
        },
        "L" => match inner {
            Value::Array(items) => {
                AttributeValue::L(items.into_iter().map(attribute).collect::<Result<_, _>>()?)
            }
            other => return Err(format!("`L` needs an array, got {other}")),
        },
        other => return Err(format!("unknown DynamoDB type `{other}`")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type() {
        let item = parse_item(
            r#"{"s":{"S":"x"},"n":{"N":"1.5"},"b":{"B":"AQI="},"t":{"BOOL":true},"z":{"NULL":true},
                "ss":{"SS":["a"]},"ns":{"NS":["1"]},"bs":{"BS":["AQ=="]},
                "m":{"M":{"k":{"S":"v"}}},"l":{"L":[{"N":"2"}]}}"#,
        )
        .unwrap();
        assert_eq!(item["s"], AttributeValue::S("x".into()));
        assert_eq!(item["b"], AttributeValue::B(Blob::new(vec![1, 2])));
        assert_eq!(
            item["l"],
            AttributeValue::L(vec![AttributeValue::N("2".into())])
        );
        assert_eq!(item.len(), 10);
    }

    #[test]
    fn errors_name_the_attribute() {
        assert!(parse_item("[]").unwrap_err().contains("object"));
        assert!(parse_item("{}").unwrap_err().contains("no attributes"));
        assert!(parse_item(r#"{"pk":"x"}"#).unwrap_err().contains("`pk`"));
        assert!(
            parse_item(r#"{"pk":{"S":1}}"#)
                .unwrap_err()
                .contains("needs a string")
        );
        assert!(
            parse_item(r#"{"pk":{"S":"a","N":"1"}}"#)
                .unwrap_err()
                .contains("exactly one")
        );
        assert!(
            parse_item(r#"{"pk":{"X":"a"}}"#)
                .unwrap_err()
                .contains("unknown DynamoDB type")
        );
        assert!(
            parse_item(r#"{"pk":{"B":"%%"}}"#)
                .unwrap_err()
                .contains("base64")
        );
    }
}
