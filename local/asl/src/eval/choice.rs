//! Running a Choice state: the first matching rule wins, else `Default`, else
//! `States.NoChoiceMatched`. A type mismatch makes a comparison false, never an error.

use std::cmp::Ordering;

use serde_json::Value;

use super::{Env, EvalError, Here, Vars, parse_timestamp};
use crate::error::{Failure, StatesError};
use crate::spec::{Choice, Comparison as C, Condition, JsonataIo, Operand};

pub(super) fn eval(
    here: &Here<'_>,
    c: &Choice,
    raw: Value,
    vars: &mut Vars,
) -> Result<(Value, Option<usize>), Failure> {
    let io = &here.state.io;
    if let Some(j) = &io.jsonata {
        return jsonata(here, c, j, raw, vars);
    }
    let eff = here.select_path(&io.input_path, raw, vars)?;
    let (next, assign) = {
        let env = here.env(&eff, vars);
        let mut pick = None;
        for rule in &c.rules {
            if test(&env, &rule.condition).map_err(|e| here.err(e))? {
                pick = Some((rule.next, rule.assign.as_ref()));
                break;
            }
        }
        match (pick, c.default) {
            (Some(p), _) => p,
            (None, Some(d)) => (d, io.assign.as_ref()),
            (None, None) => {
                return Err(here.fail(StatesError::NoChoiceMatched, "No Matches!"));
            }
        }
    };
    let assigned = here.assign(assign, &eff, vars)?;
    let out = here.select_path(&io.output_path, eff, vars)?;
    vars.apply(assigned);
    Ok((out, Some(next)))
}

/// JSONata mode: the first rule whose `Condition` is true wins; its `Output` and `Assign`
/// (else the state's) end the state.
fn jsonata(
    here: &Here<'_>,
    c: &Choice,
    io: &JsonataIo,
    raw: Value,
    vars: &mut Vars,
) -> Result<(Value, Option<usize>), Failure> {
    let states = super::jsonata::States {
        input: Some(&raw),
        ..Default::default()
    };
    let env = here.jsonata_env(states, vars);
    let mut pick = None;
    for (i, rule) in c.rules.iter().enumerate() {
        let Condition::Jsonata(v) = &rule.condition else {
            continue;
        };
        let field = format!("Choices[{i}]/Condition");
        let holds = here.jsonata_typed(v, &field, &env, "boolean", Value::is_boolean)?;
        if holds == Value::Bool(true) {
            pick = Some((rule.next, rule.jsonata.as_deref(), i));
            break;
        }
    }
    let (next, own, i) = match (pick, c.default) {
        (Some(p), _) => p,
        (None, Some(d)) => (d, None, 0),
        (None, None) => return Err(here.fail(StatesError::NoChoiceMatched, "No Matches!")),
    };
    // A matched rule's own Output and Assign come first; AWS names them under its index.
    let own = own.filter(|o| o.output.is_some() || o.assign.is_some());
    let prefix = own.map_or_else(String::new, |_| format!("Choices[{i}]/"));
    let merged = JsonataIo {
        uses_context: io.uses_context,
        arguments: None,
        output: own
            .and_then(|o| o.output.clone())
            .or_else(|| io.output.clone()),
        assign: own
            .and_then(|o| o.assign.clone())
            .or_else(|| io.assign.clone()),
    };
    Ok((
        here.jsonata_finish(&merged, states, vars, &prefix)?,
        Some(next),
    ))
}

fn test(env: &Env<'_>, c: &Condition) -> Result<bool, EvalError> {
    match c {
        Condition::And(cs) => {
            for c in cs {
                if !test(env, c)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Condition::Or(cs) => {
            for c in cs {
                if test(env, c)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Condition::Not(c) => Ok(!test(env, c)?),
        // JSONata rules are tested by `jsonata` above; a JSONPath Choice never holds one.
        Condition::Jsonata(_) => Ok(false),
        Condition::Test {
            variable,
            comparison,
        } => {
            let value = env.lookup(variable)?;
            if let C::IsPresent(want) = comparison {
                return Ok(value.is_some() == *want);
            }
            let Some(v) = value else {
                return Err(EvalError::runtime(format!(
                    "Invalid path '{variable}': The choice state's condition path references an invalid value."
                )));
            };
            compare(env, &v, comparison)
        }
    }
}

fn operand(env: &Env<'_>, o: &Operand) -> Result<Value, EvalError> {
    match o {
        Operand::Value(v) => Ok(v.clone()),
        Operand::Path(p) => env.lookup(p)?.ok_or_else(|| {
            EvalError::runtime(format!(
                "Invalid path '{p}': The choice state's condition path references an invalid value."
            ))
        }),
    }
}

fn compare(env: &Env<'_>, v: &Value, c: &C) -> Result<bool, EvalError> {
    let str_cmp = |o: &Operand| -> Result<Option<Ordering>, EvalError> {
        let r = operand(env, o)?;
        Ok(match (v.as_str(), r.as_str()) {
            (Some(a), Some(b)) => Some(a.cmp(b)),
            _ => None,
        })
    };
    let num_cmp = |o: &Operand| -> Result<Option<Ordering>, EvalError> {
        let r = operand(env, o)?;
        Ok(match (v.as_f64(), r.as_f64()) {
            (Some(a), Some(b)) if v.is_number() && r.is_number() => a.partial_cmp(&b),
            _ => None,
        })
    };
    let ts_cmp = |o: &Operand| -> Result<Option<Ordering>, EvalError> {
        let r = operand(env, o)?;
        Ok(
            match (
                v.as_str().and_then(parse_timestamp),
                r.as_str().and_then(parse_timestamp),
            ) {
                (Some(a), Some(b)) => Some(a.cmp(&b)),
                _ => None,
            },
        )
    };
    use Ordering::*;
    Ok(match c {
        C::StringEquals(o) => str_cmp(o)? == Some(Equal),
        C::StringLessThan(o) => str_cmp(o)? == Some(Less),
        C::StringGreaterThan(o) => str_cmp(o)? == Some(Greater),
        C::StringLessThanEquals(o) => matches!(str_cmp(o)?, Some(Less | Equal)),
        C::StringGreaterThanEquals(o) => matches!(str_cmp(o)?, Some(Greater | Equal)),
        C::StringMatches(pattern) => v.as_str().is_some_and(|s| glob(pattern, s)),
        C::NumericEquals(o) => num_cmp(o)? == Some(Equal),
        C::NumericLessThan(o) => num_cmp(o)? == Some(Less),
        C::NumericGreaterThan(o) => num_cmp(o)? == Some(Greater),
        C::NumericLessThanEquals(o) => matches!(num_cmp(o)?, Some(Less | Equal)),
        C::NumericGreaterThanEquals(o) => matches!(num_cmp(o)?, Some(Greater | Equal)),
        C::BooleanEquals(o) => {
            let r = operand(env, o)?;
            v.is_boolean() && r.is_boolean() && *v == r
        }
        C::TimestampEquals(o) => ts_cmp(o)? == Some(Equal),
        C::TimestampLessThan(o) => ts_cmp(o)? == Some(Less),
        C::TimestampGreaterThan(o) => ts_cmp(o)? == Some(Greater),
        C::TimestampLessThanEquals(o) => matches!(ts_cmp(o)?, Some(Less | Equal)),
        C::TimestampGreaterThanEquals(o) => matches!(ts_cmp(o)?, Some(Greater | Equal)),
        C::IsNull(b) => v.is_null() == *b,
        C::IsPresent(b) => *b,
        C::IsNumeric(b) => v.is_number() == *b,
        C::IsString(b) => v.is_string() == *b,
        C::IsBoolean(b) => v.is_boolean() == *b,
        C::IsTimestamp(b) => v.as_str().and_then(parse_timestamp).is_some() == *b,
    })
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` are literal.
pub(crate) fn glob(pattern: &str, s: &str) -> bool {
    enum Tok {
        Star,
        Ch(char),
    }
    let mut toks = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => toks.push(Tok::Ch(it.next().unwrap_or('\\'))),
            '*' => toks.push(Tok::Star),
            c => toks.push(Tok::Ch(c)),
        }
    }
    let s: Vec<char> = s.chars().collect();
    // Iterative wildcard matching with backtracking to the last star: O(n·m) worst case.
    let (mut p, mut i, mut star, mut mark) = (0usize, 0usize, None, 0usize);
    while i < s.len() {
        match toks.get(p) {
            Some(Tok::Ch(c)) if *c == s[i] => {
                p += 1;
                i += 1;
            }
            Some(Tok::Star) => {
                star = Some(p);
                mark = i;
                p += 1;
            }
            _ => match star {
                Some(sp) => {
                    p = sp + 1;
                    mark += 1;
                    i = mark;
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| matches!(t, Tok::Star))
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn string_matches() {
        assert!(glob("log-*.txt", "log-2024.txt"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "acd"));
        assert!(glob("a\\*b", "a*b"));
        assert!(!glob("a\\*b", "axb"));
        assert!(glob("*.*.*", "a.b.c"));
    }
}
