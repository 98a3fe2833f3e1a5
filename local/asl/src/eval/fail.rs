//! Running a Fail state: computes the error and cause (literal, path or intrinsic).

use serde_json::Value;

use super::{Here, Vars};
use crate::error::Failure;
use crate::spec::Fail;
use crate::spec::state::fail::Text;

pub(super) fn eval(here: &Here<'_>, f: &Fail, raw: &Value, vars: &Vars) -> Failure {
    let env = here.env(raw, vars);
    let text = |t: &Option<Text>, field: &str| -> Result<Option<String>, Failure> {
        match t {
            None => Ok(None),
            Some(Text::Literal(s)) => Ok(Some(s.clone())),
            Some(Text::Jsonata(v)) => {
                let states = super::jsonata::States {
                    input: Some(raw),
                    ..Default::default()
                };
                let field = field.strip_suffix("Path").unwrap_or(field);
                match here.jsonata_value(v, field, &here.jsonata_env(states, vars))? {
                    Value::String(s) => Ok(Some(s)),
                    other => Ok(Some(other.to_string())),
                }
            }
            Some(Text::Expr(e)) => match env.field(e, field).map_err(|e| here.err(e))? {
                Value::String(s) => Ok(Some(s)),
                other => Ok(Some(other.to_string())),
            },
        }
    };
    let error = match text(&f.error, "ErrorPath") {
        Ok(e) => e,
        Err(failure) => return failure,
    };
    match text(&f.cause, "CausePath") {
        Ok(cause) => Failure::custom(error, cause),
        Err(failure) => failure,
    }
}
