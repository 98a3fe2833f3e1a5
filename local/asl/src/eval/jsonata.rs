//! JSONata mode at run time: the `$states` variable, workflow variables and AWS's added
//! functions bound for each evaluation, `{% … %}` fields evaluated with AWS's errors, and the
//! `Output`/`Assign` step that ends every JSONata state.
//!
//! Must not parse expressions (parsed once, in `parse/jsonata.rs`) nor hold a state's own
//! logic (each state's file calls in here).

use powersweep_jsonata::{Environment, Error as JsonataError};
use serde_json::{Map as JsonMap, Value};

use super::{Here, Vars};
use crate::error::{Failure, StatesError};
use crate::spec::{JValue, JsonataIo};

/// What `$states` holds for one evaluation beside `context`.
#[derive(Default, Clone, Copy)]
pub(crate) struct States<'a> {
    pub(crate) input: Option<&'a Value>,
    pub(crate) result: Option<&'a Value>,
    pub(crate) error_output: Option<&'a Value>,
    /// A Map item `(index, value)`, for `$states.context.Map.Item`.
    pub(crate) map_item: Option<super::MapItem<'a>>,
}

/// JSON's type name as AWS words it in causes.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Here<'_> {
    /// The evaluation environment: `$states`, every visible workflow variable, AWS's
    /// functions.
    pub(crate) fn jsonata_env(&self, states: States<'_>, vars: &Vars) -> Environment {
        let mut env = Environment::default();
        crate::jsonata_functions::register(&mut env);
        for (name, value) in vars.visible() {
            env.bind(name, value.clone());
        }
        let mut s = JsonMap::new();
        let uses_context = self
            .state
            .io
            .jsonata
            .as_ref()
            .is_none_or(|j| j.uses_context);
        if uses_context {
            let mut e = self.env(states.input.unwrap_or(&Value::Null), vars);
            e.map_item = states.map_item;
            s.insert("context".into(), e.context().clone());
        }
        for (key, v) in [
            ("input", states.input),
            ("result", states.result),
            ("errorOutput", states.error_output),
        ] {
            if let Some(v) = v {
                s.insert(key.into(), v.clone());
            }
        }
        env.bind("states", Value::Object(s));
        env
    }

    /// Evaluates a field; `field` names it in causes (`Output/result` inside an object).
    pub(crate) fn jsonata_value(
        &self,
        v: &JValue,
        field: &str,
        env: &Environment,
    ) -> Result<Value, Failure> {
        match v {
            JValue::Literal(v) => Ok(v.clone()),
            JValue::Expr(e) => match e.evaluate(None, env) {
                Ok(Some(v)) => Ok(v),
                Ok(None) => Err(self.fail(
                    StatesError::QueryEvaluationError,
                    &format!(
                        "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                        e.text()
                    ),
                )),
                Err(err) => Err(self.jsonata_error(e.text(), field, &err)),
            },
            JValue::Object(fields) => {
                let mut m = JsonMap::new();
                for (k, v) in fields {
                    m.insert(k.clone(), self.jsonata_value(v, &format!("{field}/{k}"), env)?);
                }
                Ok(Value::Object(m))
            }
            JValue::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| self.jsonata_value(v, &format!("{field}[{i}]"), env))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
        }
    }

    /// An expression that threw, worded after AWS's other JSONata causes.
    fn jsonata_error(&self, text: &str, field: &str, err: &JsonataError) -> Failure {
        self.fail(
            StatesError::QueryEvaluationError,
            &format!(
                "The JSONata expression '{text}' specified for the field '{field}' threw an error during evaluation. {}: {}",
                err.code, err.message
            ),
        )
    }

    /// A field that must evaluate to a JSON type, else AWS's "unexpected result type".
    pub(crate) fn jsonata_typed(
        &self,
        v: &JValue,
        field: &str,
        env: &Environment,
        expected: &str,
        ok: impl Fn(&Value) -> bool,
    ) -> Result<Value, Failure> {
        let value = self.jsonata_value(v, field, env)?;
        if ok(&value) {
            return Ok(value);
        }
        let text = match v {
            JValue::Expr(e) => e.text().to_owned(),
            _ => value.to_string(),
        };
        Err(self.fail(
            StatesError::QueryEvaluationError,
            &format!(
                "The JSONata expression '{text}' specified for the field '{field}' returned an unexpected result type. Expected '{expected}', but was '{}' for value: {value}",
                type_name(&value)
            ),
        ))
    }

    /// `Arguments` of a Task or Parallel: the state input when absent.
    pub(crate) fn jsonata_arguments(&self, raw: &Value, vars: &Vars) -> Result<Value, Failure> {
        match self
            .state
            .io
            .jsonata
            .as_ref()
            .and_then(|j| j.arguments.as_ref())
        {
            None => Ok(raw.clone()),
            Some(a) => {
                let states = States {
                    input: Some(raw),
                    ..States::default()
                };
                self.jsonata_value(a, "Arguments", &self.jsonata_env(states, vars))
            }
        }
    }

    /// `Output` and `Assign`: both see the variables as they were before the state, then the
    /// assignments take effect. The output defaults to the result, else the input.
    /// `prefix` names where the fields sit: `""` for the state's own, `Choices[i]/` or
    /// `Catch[i]/` for a rule's or a catcher's (AWS names them so in causes).
    pub(crate) fn jsonata_finish(
        &self,
        io: &JsonataIo,
        states: States<'_>,
        vars: &mut Vars,
        prefix: &str,
    ) -> Result<Value, Failure> {
        let env = self.jsonata_env(states, vars);
        let out = match &io.output {
            Some(o) => self.jsonata_value(o, &format!("{prefix}Output"), &env)?,
            None => states
                .error_output
                .or(states.result)
                .or(states.input)
                .cloned()
                .unwrap_or(Value::Null),
        };
        let assigned = match &io.assign {
            None => None,
            // Assign is an object (checked when parsed), so it evaluates to one.
            Some(a) => match self.jsonata_value(a, &format!("{prefix}Assign"), &env)? {
                Value::Object(m) => Some(m),
                _ => None,
            },
        };
        vars.apply(assigned);
        Ok(out)
    }
}
