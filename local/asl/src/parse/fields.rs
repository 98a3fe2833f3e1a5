//! Typed access to the fields of one JSON object, with the JSON pointer of each field so that
//! every error says where it is.
//!
//! Owns field-level type checks; it must not know which fields a state needs.

use serde_json::{Map, Value};

use crate::error::{ParseError, ParseErrorKind as K};

type R<T> = Result<T, ParseError>;

/// Appends one reference token to a JSON pointer, escaping `~` and `/` (RFC 6901).
pub(crate) fn pointer(base: &str, token: &str) -> String {
    format!("{base}/{}", token.replace('~', "~0").replace('/', "~1"))
}

/// A JSON object and where it is.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    ptr: String,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(v: &'a Value, ptr: String) -> R<Obj<'a>> {
        match v {
            Value::Object(map) => Ok(Obj { map, ptr }),
            _ => Err(ParseError::new(ptr, K::WrongType("an object"))),
        }
    }

    pub(crate) fn ptr(&self) -> &str {
        &self.ptr
    }

    pub(crate) fn map(&self) -> &'a Map<String, Value> {
        self.map
    }

    pub(crate) fn at(&self, field: &str) -> String {
        pointer(&self.ptr, field)
    }

    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field)
    }

    /// Rejects any field not in `allowed`.
    pub(crate) fn only(&self, allowed: &[&str]) -> R<()> {
        self.only_with(&[], allowed)
    }

    pub(crate) fn only_with(&self, common: &[&str], allowed: &[&str]) -> R<()> {
        match self
            .map
            .keys()
            .find(|k| !common.contains(&k.as_str()) && !allowed.contains(&k.as_str()))
        {
            Some(k) => Err(ParseError::new(self.at(k), K::UnknownField(k.clone()))),
            None => Ok(()),
        }
    }

    pub(crate) fn req_str(&self, field: &'static str) -> R<&'a str> {
        self.opt_str(field)?
            .ok_or_else(|| ParseError::new(self.ptr.clone(), K::MissingField(field)))
    }

    pub(crate) fn opt_str(&self, field: &str) -> R<Option<&'a str>> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ParseError::new(self.at(field), K::WrongType("a string"))),
        }
    }

    pub(crate) fn opt_bool(&self, field: &str) -> R<Option<bool>> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ParseError::new(self.at(field), K::WrongType("a boolean"))),
        }
    }

    pub(crate) fn opt_u64(&self, field: &str) -> R<Option<u64>> {
        match self.map.get(field) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                ParseError::new(self.at(field), K::WrongType("a non-negative integer"))
            }),
        }
    }

    pub(crate) fn req_obj(&self, field: &'static str) -> R<Obj<'a>> {
        let v = self
            .map
            .get(field)
            .ok_or_else(|| ParseError::new(self.ptr.clone(), K::MissingField(field)))?;
        Obj::new(v, self.at(field))
    }

    pub(crate) fn opt_arr(&self, field: &str) -> R<Option<&'a Vec<Value>>> {
        match self.map.get(field) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(ParseError::new(self.at(field), K::WrongType("an array"))),
        }
    }

    pub(crate) fn req_arr(&self, field: &'static str) -> R<&'a Vec<Value>> {
        self.opt_arr(field)?
            .ok_or_else(|| ParseError::new(self.ptr.clone(), K::MissingField(field)))
    }
}
