//! Running one attempt of a Task state: effective parameters → the registered handler →
//! result. Retry and Catch wrap this (see `recover` in `eval/mod.rs`).
//!
//! `TimeoutSeconds` is measured in real time even under a virtual clock: the handler runs in
//! real time, and a virtual sleep would end at once.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Here, Vars};
use crate::error::{Failure, StatesError};
use crate::history::EventType;
use crate::spec::Task;
use crate::spec::state::task::Seconds;
use crate::task::TaskRequest;

/// `resourceType` and `resource` as the history shows them.
fn split_resource(r: &str) -> (String, String) {
    if let Some(rest) = r.strip_prefix("arn:aws:states:::") {
        let mut it = rest.splitn(2, ':');
        let ty = it.next().unwrap_or_default().to_owned();
        return (ty, it.next().unwrap_or_default().to_owned());
    }
    let ty = r.split(':').nth(2).unwrap_or_default().to_owned();
    (ty, r.to_owned())
}

pub(super) async fn run(
    here: &Here<'_>,
    t: &Task,
    raw: &Value,
    vars: &mut Vars,
    retry_count: u32,
) -> Result<Value, Failure> {
    let io = &here.state.io;
    let exec = here.exec;
    let eff = here.select_path(&io.input_path, raw.clone(), vars)?;
    let (params, timeout, heartbeat) = {
        let mut env = here.env(&eff, vars);
        env.retry_count = Some(retry_count);
        let params = match &io.parameters {
            _ if io.jsonata.is_some() => here.jsonata_arguments(raw, vars)?,
            Some(tpl) => env.template(tpl).map_err(|e| here.err(e))?,
            None => eff.clone(),
        };
        let seconds = |field: &str, seconds: &Seconds| match seconds {
            Seconds::None => Ok(None),
            Seconds::Fixed(n) => Ok(Some(*n)),
            Seconds::Jsonata(v) => {
                let states = super::jsonata::States {
                    input: Some(raw),
                    ..Default::default()
                };
                let env = here.jsonata_env(states, vars);
                let n = here.jsonata_typed(v, field, &env, "positive integer", |v| {
                    v.as_u64().is_some_and(|n| n > 0)
                })?;
                Ok(n.as_u64())
            }
            Seconds::Path(p) => match env.lookup(p).map_err(|e| here.err(e))? {
                // AWS's words for a path to nothing, recorded for both fields
                // (test_base_scenarios.py `test_invalid_jsonpath`, 2025-01-02).
                None => Err(here.no_results(p)),
                Some(v) => match v.as_u64() {
                    Some(n) if n > 0 => Ok(Some(n)),
                    _ => Err(here.fail(
                        StatesError::Runtime,
                        &format!(
                            "The {field}Path field does not reference a positive integer: {p}"
                        ),
                    )),
                },
            },
        };
        let timeout = seconds("TimeoutSeconds", &t.timeout)?;
        let heartbeat = seconds("HeartbeatSeconds", &t.heartbeat)?;
        if let (Some(h), Some(t)) = (heartbeat, timeout)
            && h >= t
        {
            return Err(here.fail(
                StatesError::Runtime,
                &format!(
                    "The heartbeat of {h} seconds is not smaller than the timeout of {t} seconds"
                ),
            ));
        }
        (params, timeout, heartbeat)
    };
    let Some(handler) = exec.tasks.resolve(&t.resource) else {
        return Err(here.fail(
            StatesError::Runtime,
            &format!(
                "No task handler is registered for the resource '{}'.",
                t.resource
            ),
        ));
    };
    let (rtype, rname) = split_resource(&t.resource);
    let scheduled = exec.record(here.prev, EventType::TaskScheduled, || {
        let mut d = json!({"resourceType": rtype, "resource": rname, "region": exec.config.region, "parameters": params.to_string()});
        if let Some(o) = d.as_object_mut() {
            if let Some(n) = timeout {
                o.insert("timeoutInSeconds".into(), n.into());
            }
            if let Some(n) = heartbeat {
                o.insert("heartbeatInSeconds".into(), n.into());
            }
        }
        d
    });
    let started = exec.record(
        scheduled,
        EventType::TaskStarted,
        || json!({"resourceType": rtype, "resource": rname}),
    );
    let request = TaskRequest {
        resource: t.resource.clone(),
        parameters: params,
        state_name: here.state.name.clone(),
        execution_arn: exec.meta.execution_arn.clone(),
        retry_count,
        timeout: timeout.map(Duration::from_secs),
    };
    let call = handler.call(request);
    let outcome = match timeout {
        Some(n) => match tokio::time::timeout(Duration::from_secs(n), call).await {
            Ok(r) => r,
            Err(_) => {
                exec.record(started, EventType::TaskTimedOut, || {
                    json!({"resourceType": rtype, "resource": rname, "error": "States.Timeout", "cause": ""})
                });
                return Err(Failure::states(
                    StatesError::Timeout,
                    format!("The task did not finish within {n} seconds."),
                ));
            }
        },
        None => call.await,
    };
    match outcome {
        Ok(result) => {
            exec.record(started, EventType::TaskSucceeded, || {
                json!({"resourceType": rtype, "resource": rname, "output": result.to_string(), "outputDetails": {"truncated": false}})
            });
            here.finish(raw, result, vars)
        }
        Err(e) => {
            exec.record(started, EventType::TaskFailed, || {
                json!({"resourceType": rtype, "resource": rname, "error": e.error, "cause": e.cause})
            });
            Err(Failure::custom(Some(e.error), Some(e.cause)))
        }
    }
}
