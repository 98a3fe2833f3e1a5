//! Reads JSON text straight into the evaluator's value, keeping object keys in document order
//! (`serde_json::Value` sorts them, which `$keys`, `$each` and `$string` would show). Must not
//! evaluate; nesting depth is bounded by serde_json's own recursion limit.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::value::{Obj, Val};

/// A `Val` read from JSON.
pub(crate) struct JsonVal(pub(crate) Val);

struct V;

impl<'de> Visitor<'de> for V {
    type Value = JsonVal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<JsonVal, E> {
        Ok(JsonVal(Val::Bool(v)))
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonVal, E> {
        Ok(JsonVal(Val::Num(v as f64)))
    }

    #[allow(clippy::cast_precision_loss)]
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonVal, E> {
        Ok(JsonVal(Val::Num(v as f64)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonVal, E> {
        Ok(JsonVal(Val::Num(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonVal, E> {
        Ok(JsonVal(Val::str(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<JsonVal, E> {
        Ok(JsonVal(Val::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonVal, A::Error> {
        let mut items = Vec::new();
        while let Some(JsonVal(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(JsonVal(Val::array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonVal, A::Error> {
        let mut o = Obj::new();
        while let Some((k, JsonVal(v))) = map.next_entry::<String, JsonVal>()? {
            o.insert(k, v);
        }
        Ok(JsonVal(Val::object(o)))
    }
}

impl<'de> de::Deserialize<'de> for JsonVal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<JsonVal, D::Error> {
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order() {
        let JsonVal(v) =
            serde_json::from_str(r#"{"b": 1, "a": [true, null, "x", 2.5]}"#).expect("valid JSON");
        let Val::Obj(o) = v else { panic!("an object") };
        assert_eq!(o.keys().collect::<Vec<_>>(), ["b", "a"]);
    }
}
