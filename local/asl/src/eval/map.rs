//! Running an inline Map state: one tokio task per item, at most `MaxConcurrency` at a time
//! and never more than [`INLINE_MAX_CONCURRENCY`], results in item order, failures counted
//! against the tolerated threshold.

use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::{Here, Vars, raw_text, run_machine};
use crate::error::{Failure, StatesError};
use crate::history::EventType;
use crate::spec::Map;
use crate::spec::state::map::{Limit, LimitF};

/// The most iterations an inline Map runs at once, whatever its `MaxConcurrency` says (AWS:
/// "In this mode, the Map state supports up to 40 concurrent iterations", Using Map state in
/// Inline mode). It also bounds memory: a Map of 1,000 items each mapping 1,000 items once
/// spawned a million tasks (600 MB) before the history quota stopped it.
pub const INLINE_MAX_CONCURRENCY: usize = 40;

pub(super) async fn run(
    here: &Here<'_>,
    m: &Map,
    raw: &Value,
    vars: &mut Vars,
) -> Result<Value, Failure> {
    let io = &here.state.io;
    let exec = here.exec;
    let eff = here.select_path(&io.input_path, raw.clone(), vars)?;
    let (inputs, max_concurrency, tolerated_count, tolerated_pct) = {
        let env = here.env(&eff, vars);
        let jsonata = io.jsonata.is_some();
        let states = super::jsonata::States {
            input: Some(raw),
            ..Default::default()
        };
        let items = match (&m.items, &m.items_path) {
            (Some(v), _) => here.jsonata_typed(
                v,
                "Items",
                &here.jsonata_env(states, vars),
                "array",
                Value::is_array,
            )?,
            (None, _) if jsonata && !eff.is_array() => {
                return Err(here.fail(
                    StatesError::QueryEvaluationError,
                    &format!("Map state input must be an array but was: {eff}"),
                ));
            }
            (None, None) => eff.clone(),
            (None, Some(p)) => env
                .lookup(p)
                .map_err(|e| here.err(e))?
                .ok_or_else(|| here.no_results(p))?,
        };
        let Value::Array(items) = items else {
            return Err(here.fail(
                StatesError::Runtime,
                &format!("Items of the Map state must be a JSON array, got '{items}'"),
            ));
        };
        // AWS reads these numbers from JSON numbers or numeric strings ("2" was recorded as
        // accepted for every Map `*Path` field).
        let number = |v: &Value| match v {
            Value::String(s) => s.trim().parse::<f64>().ok(),
            other => other.as_f64(),
        };
        let lookup = |p: &crate::path::JsonPath| {
            env.lookup(p)
                .map_err(|e| here.err(e))
                .map(|v| v.unwrap_or(Value::Null))
        };
        // `negative`: AWS's cause for a negative value, where it has its own (a negative
        // MaxConcurrency is "not a valid integer" here; AWS was recorded hanging on it).
        let limit = |l: &Limit,
                     field: &str,
                     negative: Option<&str>|
         -> Result<Option<u64>, Failure> {
            match l {
                Limit::None => Ok(None),
                Limit::Fixed(n) => Ok(Some(*n)),
                Limit::Jsonata(v) => {
                    let field = field.strip_suffix("Path").unwrap_or(field);
                    let n = here.jsonata_typed(
                        v,
                        field,
                        &here.jsonata_env(states, vars),
                        "non-negative integer",
                        |v| v.as_u64().is_some(),
                    )?;
                    Ok(n.as_u64())
                }
                Limit::Path(p) => {
                    let v = lookup(p)?;
                    match (number(&v), negative) {
                        (Some(n), Some(cause)) if n < 0.0 => {
                            Err(here.fail(StatesError::Runtime, cause))
                        }
                        (Some(n), _) if n >= 0.0 && n.fract() == 0.0 && n <= u64::MAX as f64 => {
                            Ok(Some(n as u64))
                        }
                        _ => Err(here.fail(
                            StatesError::Runtime,
                            &format!("The {field} field refers to value \"{}\" which is not a valid integer: {p}", raw_text(&v)),
                        )),
                    }
                }
            }
        };
        let max_concurrency = limit(&m.max_concurrency, "MaxConcurrencyPath", None)?.unwrap_or(0);
        let tolerated_count = limit(
            &m.tolerated_count,
            "ToleratedFailureCountPath",
            Some("ToleratedFailureCount cannot be negative."),
        )?;
        let tolerated_pct = match &m.tolerated_percentage {
            None => None,
            Some(LimitF::Fixed(f)) => Some(*f),
            Some(LimitF::Jsonata(v)) => here
                .jsonata_typed(
                    v,
                    "ToleratedFailurePercentage",
                    &here.jsonata_env(states, vars),
                    "number from 0 to 100",
                    |v| v.as_f64().is_some_and(|f| (0.0..=100.0).contains(&f)),
                )?
                .as_f64(),
            Some(LimitF::Path(p)) => {
                let v = lookup(p)?;
                match number(&v) {
                    Some(f) if (0.0..=100.0).contains(&f) => Some(f),
                    Some(_) => {
                        return Err(here.fail(
                            StatesError::Runtime,
                            "ToleratedFailurePercentage must be between 0 and 100.",
                        ));
                    }
                    None => {
                        return Err(here.fail(
                            StatesError::Runtime,
                            &format!("The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: {p}", raw_text(&v)),
                        ));
                    }
                }
            }
        };
        let inputs: Vec<Value> = match &m.item_selector {
            None if m.selector.is_some() => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let states = super::jsonata::States {
                        input: Some(raw),
                        map_item: Some((i, item)),
                        ..Default::default()
                    };
                    let env = here.jsonata_env(states, vars);
                    if let Some(s) = &m.selector {
                        out.push(here.jsonata_value(s, "ItemSelector", &env)?);
                    }
                }
                out
            }
            None => items,
            Some(t) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let mut env = here.env(&eff, vars);
                    env.map_item = Some((i, item));
                    out.push(env.template(t).map_err(|e| here.err(e))?);
                }
                out
            }
        };
        (inputs, max_concurrency, tolerated_count, tolerated_pct)
    };

    let total = inputs.len();
    let started = exec.record(
        here.prev,
        EventType::MapStateStarted,
        || json!({"length": total}),
    );
    let scope = vars.inner();
    let limit = match usize::try_from(max_concurrency) {
        Ok(0) | Err(_) => INLINE_MAX_CONCURRENCY,
        Ok(n) => n.min(INLINE_MAX_CONCURRENCY),
    };
    let tolerance_given = tolerated_count.is_some() || tolerated_pct.is_some();
    let exceeded = |failed: usize| {
        tolerated_count.is_some_and(|c| failed as u64 > c)
            || tolerated_pct
                .is_some_and(|p| total > 0 && (failed as f64 * 100.0 / total as f64) > p)
            || !tolerance_given
    };
    let mut results = vec![Value::Null; total];
    let mut failed = 0usize;
    let mut pending = inputs.into_iter().enumerate();
    let mut set = JoinSet::new();
    loop {
        if let Some(quota) = exec.history.full() {
            set.abort_all();
            return Err(Failure::history_full(quota));
        }
        while set.len() < limit {
            let Some((i, input)) = pending.next() else {
                break;
            };
            let exec2 = exec.clone();
            let proc = m.processor.clone();
            let vars = scope.clone();
            let name = here.state.name.clone();
            set.spawn(async move {
                let it = exec2.record(
                    started,
                    EventType::MapIterationStarted,
                    || json!({"name": name, "index": i}),
                );
                let r = run_machine(exec2.clone(), proc, input, vars, it).await;
                let ty = if r.is_ok() {
                    EventType::MapIterationSucceeded
                } else {
                    EventType::MapIterationFailed
                };
                exec2.record(it, ty, || json!({"name": name, "index": i}));
                (i, r)
            });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        let failure = match joined {
            Ok((i, Ok(v))) => {
                if let Some(slot) = results.get_mut(i) {
                    *slot = v;
                }
                continue;
            }
            Ok((i, Err(f))) => {
                failed += 1;
                if let Some(slot) = results.get_mut(i) {
                    *slot = json!({"Error": f.error, "Cause": f.cause});
                }
                f
            }
            Err(e) => Failure::states(
                StatesError::Runtime,
                format!("a Map iteration stopped unexpectedly: {e}"),
            ),
        };
        if failure.error.as_deref() == Some("States.Runtime") || exceeded(failed) {
            set.abort_all();
            exec.record(started, EventType::MapStateFailed, || Value::Null);
            let mut out = if tolerance_given && failure.error.as_deref() != Some("States.Runtime") {
                Failure::states(
                    StatesError::ExceedToleratedFailureThreshold,
                    "The specified tolerated failure threshold was exceeded",
                )
            } else {
                failure
            };
            out.from_branch = true;
            return Err(out);
        }
    }
    exec.record(started, EventType::MapStateSucceeded, || Value::Null);
    here.finish(raw, Value::Array(results), vars)
}
