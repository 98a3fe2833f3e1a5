//! Running a Parallel state: every branch on its own tokio task, results in branch order.
//! The first failing branch cancels the others and fails the state with its error.

use serde_json::Value;
use tokio::task::JoinSet;

use super::{Here, Vars, run_machine};
use crate::error::{Failure, StatesError};
use crate::history::EventType;
use crate::spec::Parallel;

pub(super) async fn run(
    here: &Here<'_>,
    p: &Parallel,
    raw: &Value,
    vars: &mut Vars,
) -> Result<Value, Failure> {
    let io = &here.state.io;
    let exec = here.exec;
    let eff = here.select_path(&io.input_path, raw.clone(), vars)?;
    let input = match &io.parameters {
        _ if io.jsonata.is_some() => here.jsonata_arguments(raw, vars)?,
        Some(t) => here.env(&eff, vars).template(t).map_err(|e| here.err(e))?,
        None => eff,
    };
    let started = exec.record(here.prev, EventType::ParallelStateStarted, || Value::Null);
    let scope = vars.inner();
    let mut set = JoinSet::new();
    for (i, branch) in p.branches.iter().enumerate() {
        let fut = run_machine(
            exec.clone(),
            branch.clone(),
            input.clone(),
            scope.clone(),
            started,
        );
        set.spawn(async move { (i, fut.await) });
    }
    let mut results = vec![Value::Null; p.branches.len()];
    while let Some(joined) = set.join_next().await {
        let failure = match joined {
            Ok((i, Ok(v))) => {
                if let Some(slot) = results.get_mut(i) {
                    *slot = v;
                }
                continue;
            }
            Ok((_, Err(mut f))) => {
                f.from_branch = true;
                f
            }
            Err(e) => Failure::states(
                StatesError::Runtime,
                format!("a branch stopped unexpectedly: {e}"),
            ),
        };
        set.abort_all();
        exec.record(started, EventType::ParallelStateFailed, || Value::Null);
        return Err(failure);
    }
    exec.record(started, EventType::ParallelStateSucceeded, || Value::Null);
    here.finish(raw, Value::Array(results), vars)
}
