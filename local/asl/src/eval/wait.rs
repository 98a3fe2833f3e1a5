//! Running a Wait state on the execution's clock (instant under a virtual clock).

use std::time::Duration;

use serde_json::Value;

use super::{Here, MAX_SLEEP, Vars, parse_timestamp, raw_text};
use crate::error::{Failure, StatesError};
use crate::spec::Wait;

pub(super) async fn eval(
    here: &Here<'_>,
    w: &Wait,
    raw: Value,
    vars: &mut Vars,
) -> Result<(Value, Option<usize>), Failure> {
    let io = &here.state.io;
    let eff = here.select_path(&io.input_path, raw, vars)?;
    let clock = &here.exec.clock;
    let jsonata_env = || {
        let states = super::jsonata::States {
            input: Some(&eff),
            ..Default::default()
        };
        here.jsonata_env(states, vars)
    };
    let duration = match w {
        Wait::SecondsJsonata(v) => {
            let n = here.jsonata_typed(v, "Seconds", &jsonata_env(), "integer", |v| {
                v.as_u64().is_some()
            })?;
            Duration::from_secs(n.as_u64().unwrap_or(0))
        }
        Wait::TimestampJsonata(v) => {
            let t = here.jsonata_typed(v, "Timestamp", &jsonata_env(), "timestamp", |v| {
                v.as_str().and_then(parse_timestamp).is_some()
            })?;
            match t.as_str().and_then(parse_timestamp) {
                Some(t) => (t - clock.now()).to_std().unwrap_or_default(),
                None => Duration::ZERO,
            }
        }
        Wait::Seconds(n) => Duration::from_secs(*n),
        Wait::Timestamp(t) => (*t - clock.now()).to_std().unwrap_or_default(),
        Wait::SecondsPath(p) => {
            let found = here.env(&eff, vars).lookup(p).map_err(|e| here.err(e))?;
            let Some(v) = found else {
                return Err(here.fail(
                    StatesError::Runtime,
                    &format!("The SecondsPath parameter does not reference an input value: {p}"),
                ));
            };
            match v.as_i64() {
                Some(n) if n < 0 => {
                    return Err(here.fail(
                        StatesError::Runtime,
                        &format!(
                            "The SecondsPath parameter references a negative value: {p} == {n}"
                        ),
                    ));
                }
                Some(n) => Duration::from_secs(n.unsigned_abs()),
                None => {
                    return Err(here.fail(
                        StatesError::Runtime,
                        &format!(
                            "The SecondsPath parameter cannot be parsed as a long value: {p} == {}",
                            raw_text(&v)
                        ),
                    ));
                }
            }
        }
        Wait::TimestampPath(p) => {
            let v = here
                .env(&eff, vars)
                .lookup(p)
                .map_err(|e| here.err(e))?
                .unwrap_or(Value::Null);
            match v.as_str().and_then(parse_timestamp) {
                Some(t) => (t - clock.now()).to_std().unwrap_or_default(),
                None => {
                    return Err(here.fail(
                        StatesError::Runtime,
                        &format!(
                            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p} == {}",
                            raw_text(&v)
                        ),
                    ));
                }
            }
        }
    };
    // AWS keeps a wait's delay in 31 bits of seconds (recorded: 24,855 days waits, 24,856
    // days fails).
    if duration.as_secs() > i32::MAX as u64 {
        return Err(here.fail(StatesError::Runtime, "Wait state delay is too long."));
    }
    // A wait past the execution's deadline (its TimeoutSeconds, or AWS's one-year quota) ends
    // there: the execution times out rather than waiting on.
    if let Some(deadline) = here.exec.deadline {
        let left = (deadline - clock.now()).to_std().unwrap_or_default();
        if duration > left {
            clock.sleep(left.min(MAX_SLEEP)).await;
            return Err(Failure::states(
                StatesError::Timeout,
                "The execution timed out.",
            ));
        }
    }
    clock.sleep(duration.min(MAX_SLEEP)).await;
    if let Some(j) = &io.jsonata {
        let states = super::jsonata::States {
            input: Some(&eff),
            ..Default::default()
        };
        return Ok((here.jsonata_finish(j, states, vars, "")?, here.state.next));
    }
    let assigned = here.assign(io.assign.as_ref(), &eff, vars)?;
    let out = here.select_path(&io.output_path, eff, vars)?;
    vars.apply(assigned);
    Ok((out, here.state.next))
}
