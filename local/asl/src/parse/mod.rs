//! JSON → [`spec`](crate::spec) with validation: every error carries the JSON pointer of
//! the field at fault.
//!
//! Owns the ASL rules that can be checked before running: required and unknown fields,
//! field types, transitions to existing states, reachability, path syntax, intrinsic syntax.
//! It must not evaluate anything.
//!
//! Laid out like `spec/` and `eval/`: this file holds the machine, the checks every state
//! shares (name, type, transitions, paths, templates, Retry, Catch, Assign); each state type's
//! own fields and body are in its file (`pass.rs`, `task.rs`, `choice.rs`, `wait.rs`,
//! `fail.rs`, `parallel.rs`, `map.rs`).

mod choice;
mod distributed;
mod fail;
mod fields;
mod jsonata;
mod map;
mod parallel;
mod pass;
mod task;
mod wait;

use std::collections::HashMap;

use serde_json::{Map as JsonMap, Value};

use crate::StateType;
use crate::error::{ParseError, ParseErrorKind as K};
use crate::intrinsics::{self, Call};
use crate::path::JsonPath;
use crate::spec::*;

use fields::{Obj, pointer};

type R<T> = Result<T, ParseError>;

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];

/// The fields of a Succeed state beside [`COMMON`] (it has no body of its own).
const SUCCEED_FIELDS: &[&str] = &["InputPath", "OutputPath"];

/// Parses a whole definition.
pub(crate) fn definition(doc: &Value) -> R<Machine> {
    let obj = Obj::new(doc, String::new())?;
    let lang = language(&obj, Lang::JsonPath)?;
    obj.only(&[
        "StartAt",
        "States",
        "Comment",
        "Version",
        "TimeoutSeconds",
        "QueryLanguage",
    ])?;
    machine(&obj, obj.opt_u64("TimeoutSeconds")?, lang)
}

/// The `QueryLanguage` of an object, else `inherited`. JSONPath states may switch to
/// JSONata, not the other way round (AWS refuses a JSONPath state in a JSONata machine).
fn language(obj: &Obj<'_>, inherited: Lang) -> R<Lang> {
    match obj.opt_str("QueryLanguage")? {
        None => Ok(inherited),
        Some("JSONPath") if inherited == Lang::Jsonata => Err(ParseError::new(
            obj.at("QueryLanguage"),
            K::Invalid("a state cannot use JSONPath when the state machine uses JSONata".into()),
        )),
        Some("JSONPath") => Ok(Lang::JsonPath),
        Some("JSONata") => Ok(Lang::Jsonata),
        Some(other) => Err(ParseError::new(
            obj.at("QueryLanguage"),
            K::Invalid(format!("unknown QueryLanguage `{other}`")),
        )),
    }
}

/// A machine whose states default to `lang`.
fn machine(obj: &Obj<'_>, timeout_seconds: Option<u64>, lang: Lang) -> R<Machine> {
    let start_at = obj.req_str("StartAt")?;
    let states_obj = obj.req_obj("States")?;
    let map = states_obj.map();
    if map.is_empty() {
        return Err(ParseError::new(
            states_obj.ptr(),
            K::Invalid("`States` is empty".into()),
        ));
    }
    let index: HashMap<String, usize> = map
        .keys()
        .enumerate()
        .map(|(i, k)| (k.clone(), i))
        .collect();
    let start = *index
        .get(start_at)
        .ok_or_else(|| ParseError::new(obj.at("StartAt"), K::UnknownState(start_at.to_owned())))?;
    let mut states = Vec::with_capacity(map.len());
    for (name, v) in map {
        let s = Obj::new(v, pointer(states_obj.ptr(), name))?;
        states.push(state(name, &s, &index, lang)?);
    }
    let m = Machine {
        start,
        states,
        timeout_seconds,
    };
    check_reachable(&m, states_obj.ptr())?;
    Ok(m)
}

fn check_reachable(m: &Machine, ptr: &str) -> R<()> {
    let mut seen = vec![false; m.states.len()];
    let mut todo = vec![m.start];
    while let Some(i) = todo.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let s = &m.states[i];
        todo.extend(s.next);
        todo.extend(s.io.catch.iter().map(|c| c.next));
        if let Body::Choice(c) = &s.body {
            todo.extend(c.rules.iter().map(|r| r.next));
            todo.extend(c.default);
        }
    }
    match seen.iter().position(|s| !s) {
        Some(i) => {
            let name = &m.states[i].name;
            Err(ParseError::new(
                pointer(ptr, name),
                K::Unreachable(name.clone()),
            ))
        }
        None => Ok(()),
    }
}

fn target(obj: &Obj<'_>, field: &'static str, index: &HashMap<String, usize>) -> R<usize> {
    let name = obj.req_str(field)?;
    index
        .get(name)
        .copied()
        .ok_or_else(|| ParseError::new(obj.at(field), K::UnknownState(name.to_owned())))
}

/// One state: its name and language checked, its fields checked against its type, then its
/// transition, data flow and body, each parsed by a function of its own.
fn state(name: &str, obj: &Obj<'_>, index: &HashMap<String, usize>, lang: Lang) -> R<State> {
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ParseError::new(
            obj.ptr(),
            K::Invalid("a state name must be 1 to 80 characters".into()),
        ));
    }
    let lang = language(obj, lang)?;
    if lang == Lang::JsonPath {
        for jsonata_only in ["Arguments", "Output", "Items"] {
            if obj.get(jsonata_only).is_some() {
                return Err(ParseError::new(
                    obj.at(jsonata_only),
                    K::Invalid(format!(
                        "`{jsonata_only}` is a JSONata field: set \"QueryLanguage\": \"JSONata\" on the state or the machine"
                    )),
                ));
            }
        }
    }
    let ty = state_type(obj)?;
    let (allowed, terminal) = type_fields(ty);
    if lang == Lang::Jsonata {
        obj.only_with(COMMON, &jsonata::fields(ty, allowed))?;
    } else {
        obj.only_with(COMMON, allowed)?;
    }
    Ok(State {
        name: name.to_owned(),
        next: if terminal {
            None
        } else {
            transition(obj, index)?
        },
        io: io(obj, index, lang)?,
        body: body(ty, obj, index, lang)?,
    })
}

/// `Type`, read once: the fields and the body follow from it.
fn state_type(obj: &Obj<'_>) -> R<StateType> {
    Ok(match obj.req_str("Type")? {
        "Pass" => StateType::Pass,
        "Task" => StateType::Task,
        "Choice" => StateType::Choice,
        "Wait" => StateType::Wait,
        "Succeed" => StateType::Succeed,
        "Fail" => StateType::Fail,
        "Parallel" => StateType::Parallel,
        "Map" => StateType::Map,
        other => {
            return Err(ParseError::new(
                obj.at("Type"),
                K::Invalid(format!("unknown state type `{other}`")),
            ));
        }
    })
}

/// The fields a state type allows, and whether it ends a branch by itself (no `Next`/`End`).
fn type_fields(ty: StateType) -> (&'static [&'static str], bool) {
    match ty {
        StateType::Pass => (pass::FIELDS, false),
        StateType::Task => (task::FIELDS, false),
        StateType::Choice => (choice::FIELDS, true),
        StateType::Wait => (wait::FIELDS, false),
        StateType::Succeed => (SUCCEED_FIELDS, true),
        StateType::Fail => (fail::FIELDS, true),
        StateType::Parallel => (parallel::FIELDS, false),
        StateType::Map => (map::FIELDS, false),
    }
}

/// `Next` or `End: true`, exactly one of them.
fn transition(obj: &Obj<'_>, index: &HashMap<String, usize>) -> R<Option<usize>> {
    match (obj.get("Next"), obj.opt_bool("End")?) {
        (Some(_), Some(true)) => Err(ParseError::new(obj.ptr(), K::BothNextAndEnd)),
        (Some(_), _) => Ok(Some(target(obj, "Next", index)?)),
        (None, Some(true)) => Ok(None),
        (None, _) => Err(ParseError::new(obj.ptr(), K::NoTransition)),
    }
}

/// The data-flow fields in the state's language, with `Retry` and `Catch`.
fn io(obj: &Obj<'_>, index: &HashMap<String, usize>, lang: Lang) -> R<Io> {
    let mut io = if lang == Lang::Jsonata {
        let mut j = jsonata::io(obj)?;
        // A word search, so it errs on the side of building the context.
        j.uses_context = serde_json::to_string(obj.map()).is_ok_and(|t| t.contains("context"));
        Io {
            jsonata: Some(j),
            ..Io::default()
        }
    } else {
        jsonpath_io(obj)?
    };
    if let Some(r) = obj.opt_arr("Retry")? {
        io.retry = r
            .iter()
            .enumerate()
            .map(|(i, v)| retrier(&Obj::new(v, format!("{}/{i}", obj.at("Retry")))?))
            .collect::<R<_>>()?;
    }
    if let Some(c) = obj.opt_arr("Catch")? {
        io.catch = c
            .iter()
            .enumerate()
            .map(|(i, v)| {
                catcher(
                    &Obj::new(v, format!("{}/{i}", obj.at("Catch")))?,
                    index,
                    lang,
                )
            })
            .collect::<R<_>>()?;
    }
    Ok(io)
}

/// What the state does, parsed by its type's file.
fn body(ty: StateType, obj: &Obj<'_>, index: &HashMap<String, usize>, lang: Lang) -> R<Body> {
    Ok(match ty {
        StateType::Pass => pass::body(obj),
        StateType::Task => task::body(obj, lang)?,
        StateType::Choice => Body::Choice(choice::choice(obj, index, lang)?),
        StateType::Wait if lang == Lang::Jsonata => Body::Wait(jsonata::wait(obj)?),
        StateType::Wait => Body::Wait(wait::body(obj)?),
        StateType::Succeed => Body::Succeed,
        StateType::Fail => fail::body(obj, lang)?,
        StateType::Parallel => parallel::body(obj, lang)?,
        StateType::Map => Body::Map(Box::new(map::body(obj, lang)?)),
    })
}

/// The JSONPath data-flow fields of a state.
fn jsonpath_io(obj: &Obj<'_>) -> R<Io> {
    Ok(Io {
        input_path: path_field(obj, "InputPath", false)?,
        output_path: path_field(obj, "OutputPath", false)?,
        result_path: path_field(obj, "ResultPath", true)?,
        parameters: obj
            .get("Parameters")
            .map(|v| template(v, &obj.at("Parameters")))
            .transpose()?,
        result_selector: obj
            .get("ResultSelector")
            .map(|v| template(v, &obj.at("ResultSelector")))
            .transpose()?,
        assign: assign(obj)?,
        retry: Vec::new(),
        catch: Vec::new(),
        jsonata: None,
    })
}

fn assign(obj: &Obj<'_>) -> R<Option<Template>> {
    match obj.get("Assign") {
        None => Ok(None),
        Some(v @ Value::Object(_)) => template(v, &obj.at("Assign")).map(Some),
        Some(_) => Err(ParseError::new(obj.at("Assign"), K::WrongType("an object"))),
    }
}

fn retrier(obj: &Obj<'_>) -> R<Retrier> {
    obj.only(&[
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    ])?;
    let backoff_rate = match obj.get("BackoffRate") {
        None => 2.0,
        Some(v) => v.as_f64().filter(|f| *f >= 1.0).ok_or_else(|| {
            ParseError::new(obj.at("BackoffRate"), K::WrongType("a number ≥ 1.0"))
        })?,
    };
    let jitter_full = match obj.opt_str("JitterStrategy")? {
        None | Some("NONE") => false,
        Some("FULL") => true,
        Some(o) => {
            return Err(ParseError::new(
                obj.at("JitterStrategy"),
                K::Invalid(format!("unknown JitterStrategy `{o}`")),
            ));
        }
    };
    let interval = obj.opt_u64("IntervalSeconds")?.unwrap_or(1);
    if interval == 0 {
        return Err(ParseError::new(
            obj.at("IntervalSeconds"),
            K::Invalid("must be a positive integer".into()),
        ));
    }
    Ok(Retrier {
        error_equals: error_equals(obj)?,
        interval_seconds: interval as f64,
        max_attempts: u32::try_from(obj.opt_u64("MaxAttempts")?.unwrap_or(3)).unwrap_or(u32::MAX),
        backoff_rate,
        max_delay_seconds: obj.opt_u64("MaxDelaySeconds")?.map(|n| n as f64),
        jitter_full,
    })
}

fn catcher(obj: &Obj<'_>, index: &HashMap<String, usize>, lang: Lang) -> R<Catcher> {
    if lang == Lang::Jsonata {
        obj.only(&["ErrorEquals", "Next", "Output", "Assign", "Comment"])?;
        return Ok(Catcher {
            error_equals: error_equals(obj)?,
            next: target(obj, "Next", index)?,
            result_path: PathField::Root,
            assign: None,
            jsonata: Some(jsonata::io(obj)?),
        });
    }
    obj.only(&["ErrorEquals", "Next", "ResultPath", "Assign", "Comment"])?;
    Ok(Catcher {
        error_equals: error_equals(obj)?,
        next: target(obj, "Next", index)?,
        result_path: path_field(obj, "ResultPath", true)?,
        assign: assign(obj)?,
        jsonata: None,
    })
}

fn error_equals(obj: &Obj<'_>) -> R<Vec<String>> {
    let arr = obj.req_arr("ErrorEquals")?;
    if arr.is_empty() {
        return Err(ParseError::new(
            obj.at("ErrorEquals"),
            K::Invalid("`ErrorEquals` cannot be empty".into()),
        ));
    }
    let names: Vec<String> = arr
        .iter()
        .map(|v| {
            v.as_str().map(str::to_owned).ok_or_else(|| {
                ParseError::new(obj.at("ErrorEquals"), K::WrongType("an array of strings"))
            })
        })
        .collect::<R<_>>()?;
    if names.iter().any(|n| n == "States.ALL") && names.len() > 1 {
        return Err(ParseError::new(
            obj.at("ErrorEquals"),
            K::Invalid("`States.ALL` must appear alone".into()),
        ));
    }
    Ok(names)
}

/// `InputPath`/`OutputPath` are Paths; `ResultPath` is a reference path into `$`.
fn path_field(obj: &Obj<'_>, field: &str, reference: bool) -> R<PathField> {
    match obj.get(field) {
        None => Ok(PathField::Root),
        Some(Value::Null) => Ok(PathField::Null),
        Some(Value::String(s)) => {
            let at = obj.at(field);
            let p = if reference {
                reference_path(s, &at)?
            } else {
                path(s, &at)?
            };
            if reference && *p.root() != crate::path::Root::Input {
                return Err(ParseError::new(
                    at,
                    K::Invalid("ResultPath must start with `$.`".into()),
                ));
            }
            Ok(if s == "$" {
                PathField::Root
            } else {
                PathField::Path(p)
            })
        }
        Some(_) => Err(ParseError::new(
            obj.at(field),
            K::WrongType("a string or null"),
        )),
    }
}

fn path(s: &str, at: &str) -> R<JsonPath> {
    JsonPath::parse(s).map_err(|e| ParseError::new(at, K::Path(e)))
}

fn reference_path(s: &str, at: &str) -> R<JsonPath> {
    let p = path(s, at)?;
    if !p.is_definite() {
        return Err(ParseError::new(
            at,
            K::Invalid(format!(
                "`{s}` must be a reference path (no wildcards, filters or slices)"
            )),
        ));
    }
    Ok(p)
}

pub(crate) fn expr(s: &str, at: &str) -> R<Expr> {
    if intrinsics::is_call(s) {
        Call::parse(s)
            .map(Expr::Call)
            .map_err(|e| ParseError::new(at, K::Intrinsic(e)))
    } else {
        path(s, at).map(Expr::Path)
    }
}

/// Compiles a payload template; subtrees without `.$` keys become literals.
pub(crate) fn template(v: &Value, at: &str) -> R<Template> {
    fn go(v: &Value, at: &str, depth: usize) -> R<Template> {
        Ok(match v {
            Value::Object(m) => obj_template(m, at, depth)?,
            Value::Array(a) => {
                let items: Vec<Template> = a
                    .iter()
                    .enumerate()
                    .map(|(i, x)| go(x, &format!("{at}/{i}"), depth + 1))
                    .collect::<R<_>>()?;
                if items.iter().all(|t| matches!(t, Template::Literal(_))) {
                    Template::Literal(v.clone())
                } else {
                    Template::Array(items)
                }
            }
            other => Template::Literal(other.clone()),
        })
    }
    fn obj_template(m: &JsonMap<String, Value>, at: &str, depth: usize) -> R<Template> {
        let mut out = Vec::with_capacity(m.len());
        let mut dynamic = false;
        for (k, v) in m {
            let here = pointer(at, k);
            if let Some(name) = k.strip_suffix(".$") {
                let s = v.as_str().ok_or_else(|| {
                    ParseError::new(&here, K::WrongType("a path or intrinsic function string"))
                })?;
                out.push((
                    name.to_owned(),
                    Template::Expr(name.to_owned(), expr(s, &here)?),
                ));
                dynamic = true;
            } else {
                let t = go(v, &here, depth + 1)?;
                dynamic |= !matches!(t, Template::Literal(_));
                out.push((k.clone(), t));
            }
        }
        Ok(if dynamic {
            Template::Object(out)
        } else {
            Template::Literal(Value::Object(m.clone()))
        })
    }
    go(v, at, 0)
}

#[cfg(test)]
mod tests;
