//! Running an inline Map state: one tokio task per item, at most `MaxConcurrency` at a time
//! and never more than [`INLINE_MAX_CONCURRENCY`], results in item order, failures counted
//! against the tolerated threshold.

use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::{Here, MapItem, STATE_DATA_SOURCE, Vars, raw_text, run_machine};
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
    if let Some(d) = &m.distributed {
        return super::distributed::run(here, m, d, raw, vars).await;
    }
    let eff = here.select_path(&here.state.io.input_path, raw.clone(), vars)?;
    let items = items(here, m, raw, &eff, vars)?;
    let settings = Settings::eval(here, m, raw, &eff, vars)?;
    let inputs = items
        .iter()
        .enumerate()
        .map(|(index, value)| {
            let item = MapItem {
                index,
                value,
                source: STATE_DATA_SOURCE,
            };
            select(here, m, raw, &eff, vars, item)
        })
        .collect::<Result<Vec<_>, _>>()?;
    drop(items);
    let Settings {
        max_concurrency,
        tolerance,
    } = settings;
    let exec = here.exec;
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
    let tolerance_given = tolerance.given();
    let exceeded = |failed: usize| tolerance.exceeded(failed as u64, total as u64);
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

/// The items of a Map without an `ItemReader`: `Items` (JSONata), `ItemsPath`, or the
/// effective input itself.
pub(super) fn items(
    here: &Here<'_>,
    m: &Map,
    raw: &Value,
    eff: &Value,
    vars: &Vars,
) -> Result<Vec<Value>, Failure> {
    let jsonata = here.state.io.jsonata.is_some();
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
        (None, Some(p)) => here
            .env(eff, vars)
            .lookup(p)
            .map_err(|e| here.err(e))?
            .ok_or_else(|| here.no_results(p))?,
    };
    match items {
        Value::Array(items) => Ok(items),
        other => Err(here.fail(
            StatesError::Runtime,
            &format!("Items of the Map state must be a JSON array, got '{other}'"),
        )),
    }
}

/// One item's input to its iteration: `ItemSelector` (or `Parameters`) applied, else the
/// item itself.
pub(super) fn select(
    here: &Here<'_>,
    m: &Map,
    raw: &Value,
    eff: &Value,
    vars: &Vars,
    item: MapItem<'_>,
) -> Result<Value, Failure> {
    if let Some(s) = &m.selector {
        let states = super::jsonata::States {
            input: Some(raw),
            map_item: Some(item),
            ..Default::default()
        };
        return here.jsonata_value(s, "ItemSelector", &here.jsonata_env(states, vars));
    }
    match &m.item_selector {
        None => Ok(item.value.clone()),
        Some(t) => {
            let mut env = here.env(eff, vars);
            env.map_item = Some(item);
            env.template(t).map_err(|e| here.err(e))
        }
    }
}

/// How many failed iterations a Map tolerates.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tolerance {
    pub(super) count: Option<u64>,
    pub(super) percentage: Option<f64>,
}

impl Tolerance {
    /// Whether `ToleratedFailureCount` or `…Percentage` was given at all: without them the
    /// first failure fails the Map with its own error.
    pub(super) fn given(&self) -> bool {
        self.count.is_some() || self.percentage.is_some()
    }

    /// Whether `failed` of `total` is past the threshold (the first failure, when none was
    /// given).
    pub(super) fn exceeded(&self, failed: u64, total: u64) -> bool {
        self.count.is_some_and(|c| failed > c)
            || self
                .percentage
                .is_some_and(|p| total > 0 && (failed as f64 * 100.0 / total as f64) > p)
            || (!self.given() && failed > 0)
    }
}

/// A Map's limits, evaluated when it starts.
pub(super) struct Settings {
    /// 0: no limit of its own.
    pub(super) max_concurrency: u64,
    pub(super) tolerance: Tolerance,
}

impl Settings {
    pub(super) fn eval(
        here: &Here<'_>,
        m: &Map,
        raw: &Value,
        eff: &Value,
        vars: &Vars,
    ) -> Result<Settings, Failure> {
        let states = super::jsonata::States {
            input: Some(raw),
            ..Default::default()
        };
        let max_concurrency = limit(
            here,
            &m.max_concurrency,
            "MaxConcurrencyPath",
            None,
            raw,
            eff,
            vars,
        )?
        .unwrap_or(0);
        let count = limit(
            here,
            &m.tolerated_count,
            "ToleratedFailureCountPath",
            Some("ToleratedFailureCount cannot be negative."),
            raw,
            eff,
            vars,
        )?;
        let percentage = match &m.tolerated_percentage {
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
                let v = here
                    .env(eff, vars)
                    .lookup(p)
                    .map_err(|e| here.err(e))?
                    .unwrap_or(Value::Null);
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
        Ok(Settings {
            max_concurrency,
            tolerance: Tolerance { count, percentage },
        })
    }
}

/// AWS reads these numbers from JSON numbers or numeric strings ("2" was recorded as
/// accepted for every Map `*Path` field).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.trim().parse::<f64>().ok(),
        other => other.as_f64(),
    }
}

/// An integer limit of a Map (or of its reader or batcher): literal, from a path, or a
/// JSONata expression. `field` is the `…Path` field's name, as causes quote it; `negative`
/// is AWS's cause for a negative value where it has its own (a negative MaxConcurrency is
/// "not a valid integer" here; AWS was recorded hanging on it).
pub(super) fn limit(
    here: &Here<'_>,
    l: &Limit,
    field: &str,
    negative: Option<&str>,
    raw: &Value,
    eff: &Value,
    vars: &Vars,
) -> Result<Option<u64>, Failure> {
    match l {
        Limit::None => Ok(None),
        Limit::Fixed(n) => Ok(Some(*n)),
        Limit::Jsonata(v) => {
            let states = super::jsonata::States {
                input: Some(raw),
                ..Default::default()
            };
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
            let v = here
                .env(eff, vars)
                .lookup(p)
                .map_err(|e| here.err(e))?
                .unwrap_or(Value::Null);
            match (number(&v), negative) {
                (Some(n), Some(cause)) if n < 0.0 => Err(here.fail(StatesError::Runtime, cause)),
                (Some(n), _) if n >= 0.0 && n.fract() == 0.0 && n <= u64::MAX as f64 => {
                    Ok(Some(n as u64))
                }
                _ => Err(here.fail(
                    StatesError::Runtime,
                    &format!(
                        "The {field} field refers to value \"{}\" which is not a valid integer: {p}",
                        raw_text(&v)
                    ),
                )),
            }
        }
    }
}
