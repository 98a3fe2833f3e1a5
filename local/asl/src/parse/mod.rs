//! JSON → [`spec`](crate::spec) with validation: every error carries the JSON pointer of
//! the field at fault.
//!
//! Owns the ASL rules that can be checked before running: required and unknown fields,
//! field types, transitions to existing states, reachability, path syntax, intrinsic syntax.
//! It must not evaluate anything.

mod choice;
mod fields;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map as JsonMap, Value};

use crate::error::{ParseError, ParseErrorKind as K};
use crate::intrinsics::{self, Call};
use crate::path::JsonPath;
use crate::spec::*;

use fields::{Obj, pointer};

type R<T> = Result<T, ParseError>;

const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];

/// Parses a whole definition.
pub(crate) fn definition(doc: &Value) -> R<Machine> {
    let obj = Obj::new(doc, String::new())?;
    if let Some(Value::String(lang)) = obj.get("QueryLanguage") {
        check_language(lang, &obj.at("QueryLanguage"))?;
    }
    obj.only(&[
        "StartAt",
        "States",
        "Comment",
        "Version",
        "TimeoutSeconds",
        "QueryLanguage",
    ])?;
    machine(&obj, obj.opt_u64("TimeoutSeconds")?)
}

fn check_language(lang: &str, at: &str) -> R<()> {
    match lang {
        "JSONPath" => Ok(()),
        "JSONata" => Err(ParseError::new(at, K::JsonataUnsupported)),
        _ => Err(ParseError::new(
            at,
            K::Invalid(format!("unknown QueryLanguage `{lang}`")),
        )),
    }
}

fn machine(obj: &Obj<'_>, timeout_seconds: Option<u64>) -> R<Machine> {
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
        states.push(state(name, &s, &index)?);
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

fn state(name: &str, obj: &Obj<'_>, index: &HashMap<String, usize>) -> R<State> {
    if name.is_empty() || name.chars().count() > 80 {
        return Err(ParseError::new(
            obj.ptr(),
            K::Invalid("a state name must be 1 to 80 characters".into()),
        ));
    }
    if let Some(Value::String(lang)) = obj.get("QueryLanguage") {
        check_language(lang, &obj.at("QueryLanguage"))?;
    }
    for jsonata_only in ["Arguments", "Output", "Items"] {
        if obj.get(jsonata_only).is_some() {
            return Err(ParseError::new(obj.at(jsonata_only), K::JsonataUnsupported));
        }
    }
    let ty = obj.req_str("Type")?;
    let (allowed, terminal): (&[&str], bool) = match ty {
        "Pass" => (
            &[
                "Next",
                "End",
                "InputPath",
                "OutputPath",
                "Parameters",
                "Result",
                "ResultPath",
                "Assign",
            ],
            false,
        ),
        "Task" => (
            &[
                "Next",
                "End",
                "Resource",
                "InputPath",
                "OutputPath",
                "Parameters",
                "ResultSelector",
                "ResultPath",
                "Retry",
                "Catch",
                "TimeoutSeconds",
                "TimeoutSecondsPath",
                "HeartbeatSeconds",
                "HeartbeatSecondsPath",
                "Credentials",
                "Assign",
            ],
            false,
        ),
        "Choice" => (
            &["Choices", "Default", "InputPath", "OutputPath", "Assign"],
            true,
        ),
        "Wait" => (
            &[
                "Next",
                "End",
                "Seconds",
                "SecondsPath",
                "Timestamp",
                "TimestampPath",
                "InputPath",
                "OutputPath",
                "Assign",
            ],
            false,
        ),
        "Succeed" => (&["InputPath", "OutputPath"], true),
        "Fail" => (&["Error", "ErrorPath", "Cause", "CausePath"], true),
        "Parallel" => (
            &[
                "Branches",
                "Next",
                "End",
                "InputPath",
                "OutputPath",
                "Parameters",
                "ResultSelector",
                "ResultPath",
                "Retry",
                "Catch",
                "Assign",
            ],
            false,
        ),
        "Map" => (
            &[
                "ItemProcessor",
                "Iterator",
                "ItemsPath",
                "ItemSelector",
                "Parameters",
                "MaxConcurrency",
                "MaxConcurrencyPath",
                "ResultPath",
                "ResultSelector",
                "OutputPath",
                "InputPath",
                "Next",
                "End",
                "Retry",
                "Catch",
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
                "ToleratedFailureCount",
                "ToleratedFailureCountPath",
                "ItemReader",
                "ResultWriter",
                "ItemBatcher",
                "Label",
                "Assign",
            ],
            false,
        ),
        other => {
            return Err(ParseError::new(
                obj.at("Type"),
                K::Invalid(format!("unknown state type `{other}`")),
            ));
        }
    };
    obj.only_with(COMMON, allowed)?;

    let next = if terminal {
        None
    } else {
        match (obj.get("Next"), obj.opt_bool("End")?) {
            (Some(_), Some(true)) => return Err(ParseError::new(obj.ptr(), K::BothNextAndEnd)),
            (Some(_), _) => Some(target(obj, "Next", index)?),
            (None, Some(true)) => None,
            (None, _) => return Err(ParseError::new(obj.ptr(), K::NoTransition)),
        }
    };

    let mut io = Io {
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
            .map(|(i, v)| catcher(&Obj::new(v, format!("{}/{i}", obj.at("Catch")))?, index))
            .collect::<R<_>>()?;
    }

    let body = match ty {
        "Pass" => Body::Pass(Pass {
            result: obj.get("Result").cloned(),
        }),
        "Task" => {
            let timeout = seconds(obj, "TimeoutSeconds")?;
            // Heartbeats need callback tasks, which run no differently here; the field is
            // only validated.
            if let (task::Seconds::Fixed(h), task::Seconds::Fixed(t)) =
                (seconds(obj, "HeartbeatSeconds")?, &timeout)
                && h >= *t
            {
                return Err(ParseError::new(
                    obj.at("HeartbeatSeconds"),
                    K::Invalid("must be smaller than TimeoutSeconds".into()),
                ));
            }
            Body::Task(Box::new(Task {
                resource: obj.req_str("Resource")?.to_owned(),
                timeout,
            }))
        }
        "Choice" => Body::Choice(choice::choice(obj, index)?),
        "Wait" => Body::Wait(wait(obj)?),
        "Succeed" => Body::Succeed,
        "Fail" => Body::Fail(Fail {
            error: text(obj, "Error")?,
            cause: text(obj, "Cause")?,
        }),
        "Parallel" => {
            let branches = obj.req_arr("Branches")?;
            if branches.is_empty() {
                return Err(ParseError::new(
                    obj.at("Branches"),
                    K::Invalid("a Parallel state needs at least one branch".into()),
                ));
            }
            let mut out = Vec::with_capacity(branches.len());
            for (i, b) in branches.iter().enumerate() {
                let bo = Obj::new(b, format!("{}/{i}", obj.at("Branches")))?;
                bo.only(&["StartAt", "States", "Comment"])?;
                out.push(Arc::new(machine(&bo, None)?));
            }
            Body::Parallel(Box::new(Parallel { branches: out }))
        }
        "Map" => Body::Map(Box::new(map(obj)?)),
        _ => unreachable!("state types were checked above"),
    };
    Ok(State {
        name: name.to_owned(),
        io,
        body,
        next,
    })
}

fn assign(obj: &Obj<'_>) -> R<Option<Template>> {
    match obj.get("Assign") {
        None => Ok(None),
        Some(v @ Value::Object(_)) => template(v, &obj.at("Assign")).map(Some),
        Some(_) => Err(ParseError::new(obj.at("Assign"), K::WrongType("an object"))),
    }
}

fn seconds(obj: &Obj<'_>, field: &str) -> R<task::Seconds> {
    let path_field = format!("{field}Path");
    match (obj.opt_u64(field)?, obj.opt_str(&path_field)?) {
        (Some(_), Some(_)) => Err(ParseError::new(
            obj.ptr(),
            K::Invalid(format!("`{field}` and `{path_field}` are exclusive")),
        )),
        (Some(0), None) => Err(ParseError::new(
            obj.at(field),
            K::Invalid("must be a positive integer".into()),
        )),
        (Some(n), None) => Ok(task::Seconds::Fixed(n)),
        (None, Some(p)) => Ok(task::Seconds::Path(reference_path(
            p,
            &obj.at(&path_field),
        )?)),
        (None, None) => Ok(task::Seconds::None),
    }
}

use crate::spec::state::task;

fn text(obj: &Obj<'_>, field: &str) -> R<Option<fail::Text>> {
    let path_field = format!("{field}Path");
    match (obj.opt_str(field)?, obj.opt_str(&path_field)?) {
        (Some(_), Some(_)) => Err(ParseError::new(
            obj.ptr(),
            K::Invalid(format!("`{field}` and `{path_field}` are exclusive")),
        )),
        (Some(s), None) => Ok(Some(fail::Text::Literal(s.to_owned()))),
        (None, Some(p)) => Ok(Some(fail::Text::Expr(expr(p, &obj.at(&path_field))?))),
        (None, None) => Ok(None),
    }
}

use crate::spec::state::fail;

fn wait(obj: &Obj<'_>) -> R<Wait> {
    let given: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
        .into_iter()
        .filter(|f| obj.get(f).is_some())
        .collect();
    if given.len() != 1 {
        return Err(ParseError::new(
            obj.ptr(),
            K::Invalid(
                "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath"
                    .into(),
            ),
        ));
    }
    Ok(match given[0] {
        "Seconds" => Wait::Seconds(obj.opt_u64("Seconds")?.unwrap_or(0)),
        "SecondsPath" => Wait::SecondsPath(reference_path(
            obj.req_str("SecondsPath")?,
            &obj.at("SecondsPath"),
        )?),
        "Timestamp" => {
            let s = obj.req_str("Timestamp")?;
            Wait::Timestamp(crate::eval::parse_timestamp(s).ok_or_else(|| {
                ParseError::new(
                    obj.at("Timestamp"),
                    K::Invalid(format!("`{s}` is not an ISO-8601 timestamp")),
                )
            })?)
        }
        _ => Wait::TimestampPath(reference_path(
            obj.req_str("TimestampPath")?,
            &obj.at("TimestampPath"),
        )?),
    })
}

fn map(obj: &Obj<'_>) -> R<Map> {
    for unsupported in ["ItemReader", "ResultWriter", "ItemBatcher"] {
        if obj.get(unsupported).is_some() {
            return Err(ParseError::new(
                obj.at(unsupported),
                K::Unsupported(format!("Map `{unsupported}` (distributed mode)")),
            ));
        }
    }
    let (field, proc) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
        (Some(p), None) => ("ItemProcessor", p),
        (None, Some(p)) => ("Iterator", p),
        (Some(_), Some(_)) => {
            return Err(ParseError::new(
                obj.ptr(),
                K::Invalid("`ItemProcessor` and `Iterator` are exclusive".into()),
            ));
        }
        (None, None) => return Err(ParseError::new(obj.ptr(), K::MissingField("ItemProcessor"))),
    };
    let po = Obj::new(proc, obj.at(field))?;
    po.only(&["StartAt", "States", "Comment", "ProcessorConfig"])?;
    if let Some(cfg) = po.get("ProcessorConfig") {
        let co = Obj::new(cfg, po.at("ProcessorConfig"))?;
        co.only(&["Mode", "ExecutionType"])?;
        // DISTRIBUTED runs its items as child executions on AWS; locally they run inline,
        // which gives the same results for the item processors we can run.
        match co.opt_str("Mode")? {
            None | Some("INLINE" | "DISTRIBUTED") => {}
            Some(m) => {
                return Err(ParseError::new(
                    co.at("Mode"),
                    K::Invalid(format!("unknown Mode `{m}`")),
                ));
            }
        }
    }
    let processor = Arc::new(machine(&po, None)?);
    let item_selector = match (obj.get("ItemSelector"), obj.get("Parameters")) {
        (Some(_), Some(_)) => {
            return Err(ParseError::new(
                obj.ptr(),
                K::Invalid("`ItemSelector` and `Parameters` are exclusive".into()),
            ));
        }
        (Some(v), None) => Some(template(v, &obj.at("ItemSelector"))?),
        (None, Some(v)) => Some(template(v, &obj.at("Parameters"))?),
        (None, None) => None,
    };
    let items_path = obj
        .opt_str("ItemsPath")?
        .map(|p| reference_path(p, &obj.at("ItemsPath")))
        .transpose()?;
    let limit = |f: &str| -> R<map::Limit> {
        let pf = format!("{f}Path");
        match (obj.opt_u64(f)?, obj.opt_str(&pf)?) {
            (Some(_), Some(_)) => Err(ParseError::new(
                obj.ptr(),
                K::Invalid(format!("`{f}` and `{pf}` are exclusive")),
            )),
            (Some(n), None) => Ok(map::Limit::Fixed(n)),
            (None, Some(p)) => Ok(map::Limit::Path(reference_path(p, &obj.at(&pf))?)),
            (None, None) => Ok(map::Limit::None),
        }
    };
    let tolerated_percentage = match (
        obj.get("ToleratedFailurePercentage"),
        obj.opt_str("ToleratedFailurePercentagePath")?,
    ) {
        (Some(_), Some(_)) => {
            return Err(ParseError::new(
                obj.ptr(),
                K::Invalid("`ToleratedFailurePercentage` and its Path are exclusive".into()),
            ));
        }
        (Some(v), None) => match v.as_f64() {
            Some(f) if (0.0..=100.0).contains(&f) => Some(map::LimitF::Fixed(f)),
            _ => {
                return Err(ParseError::new(
                    obj.at("ToleratedFailurePercentage"),
                    K::WrongType("a number from 0 to 100"),
                ));
            }
        },
        (None, Some(p)) => Some(map::LimitF::Path(reference_path(
            p,
            &obj.at("ToleratedFailurePercentagePath"),
        )?)),
        (None, None) => None,
    };
    Ok(Map {
        processor,
        items_path,
        item_selector,
        max_concurrency: limit("MaxConcurrency")?,
        tolerated_count: limit("ToleratedFailureCount")?,
        tolerated_percentage,
    })
}

use crate::spec::state::map;

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

fn catcher(obj: &Obj<'_>, index: &HashMap<String, usize>) -> R<Catcher> {
    obj.only(&["ErrorEquals", "Next", "ResultPath", "Assign", "Comment"])?;
    Ok(Catcher {
        error_equals: error_equals(obj)?,
        next: target(obj, "Next", index)?,
        result_path: path_field(obj, "ResultPath", true)?,
        assign: assign(obj)?,
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
