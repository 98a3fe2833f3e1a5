//! Running a Map in `DISTRIBUTED` mode as AWS does: a Map Run whose items (from the state
//! input or an `ItemReader`), after `ItemSelector` and `ItemBatcher`, each run as a child
//! execution with its own history, quotas and `$$` context; at most `MaxConcurrency` at once
//! (AWS's ceiling, [`DISTRIBUTED_MAX_CONCURRENCY`], when 0 or absent); failures counted
//! against the tolerated threshold; results in item order, or written to S3 by a
//! `ResultWriter`.
//!
//! Memory holds the items, the running children and the results the state returns (bounded
//! by the payload quota, checked as they come); with a `ResultWriter`, one result file at a
//! time. The parent's history records the Map Run, not the children's events. Must not parse.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use chrono::Duration as ChronoDuration;
use serde_json::{Map as JsonMap, Value, json};
use tokio::task::JoinSet;

use super::map::{Settings, items, select};
use super::result_writer::{Status, Writer};
use super::{
    Exec, Here, MapItem, Meta, STATE_DATA_SOURCE, Vars, format_timestamp, json_len, run_execution,
};
use crate::Outcome;
use crate::error::{Failure, StatesError};
use crate::history::{EventType, History};
use crate::spec::Map;
use crate::spec::state::distributed::{Args, Distributed, ExecutionType, ItemBatcher};

/// The most child executions a distributed Map runs at once (AWS: "up to 10,000 parallel
/// child workflow executions"), also when `MaxConcurrency` is 0 or absent.
pub const DISTRIBUTED_MAX_CONCURRENCY: usize = 10_000;

/// The longest an `EXPRESS` child execution runs (AWS's quota for Express workflows: five
/// minutes); past it the child fails with `States.Timeout`.
pub const EXPRESS_CHILD_SECONDS: i64 = 300;

pub(super) async fn run(
    here: &Here<'_>,
    m: &Map,
    d: &Distributed,
    raw: &Value,
    vars: &mut Vars,
) -> Result<Value, Failure> {
    let exec = here.exec;
    let eff = here.select_path(&here.state.io.input_path, raw.clone(), vars)?;
    let (items, source) = match &d.reader {
        Some(r) => {
            let read = super::item_reader::read(here, r, raw, &eff, vars).await?;
            (read.items, read.source)
        }
        None => (
            items(here, m, raw, &eff, vars)?,
            STATE_DATA_SOURCE.to_owned(),
        ),
    };
    let settings = Settings::eval(here, m, raw, &eff, vars)?;
    let batching = d
        .batcher
        .as_ref()
        .map(|b| Batching::eval(here, b, raw, &eff, vars))
        .transpose()?;

    let cfg = &exec.config;
    let run_id = uuid::Uuid::new_v4().to_string();
    // Without a Label, AWS names the Map Run and its children with a generated one.
    let generated;
    let label = match d.label.as_deref() {
        Some(l) => l,
        None => {
            generated = uuid::Uuid::new_v4().to_string();
            &generated
        }
    };
    let machine = &exec.meta.state_machine_name;
    let map_run_arn = format!(
        "arn:aws:states:{}:{}:mapRun:{machine}/{label}:{run_id}",
        cfg.region, cfg.account
    );
    let children = Children {
        state_machine_arn: format!(
            "arn:aws:states:{}:{}:stateMachine:{machine}/{label}",
            cfg.region, cfg.account
        ),
        state_machine_name: format!("{machine}/{label}"),
        execution_type: d.execution_type,
        records: d.writer.is_some(),
    };
    let mut writer = d
        .writer
        .as_ref()
        .map(|w| Writer::new(here, w, raw, &eff, vars, &map_run_arn, &run_id))
        .transpose()?;

    let total = items.len();
    // AWS records the length of items from the state input, and 0 for an ItemReader's.
    let length = if d.reader.is_some() { 0 } else { total };
    let started = exec.record(
        here.prev,
        EventType::MapStateStarted,
        || json!({"length": length}),
    );
    let run_started = exec.record(
        started,
        EventType::MapRunStarted,
        || json!({"mapRunArn": map_run_arn}),
    );
    let limit = match usize::try_from(settings.max_concurrency) {
        Ok(0) | Err(_) => DISTRIBUTED_MAX_CONCURRENCY,
        Ok(n) => n.min(DISTRIBUTED_MAX_CONCURRENCY),
    };
    let tolerance = settings.tolerance;
    let mut next_item = 0usize;
    let mut next_child = 0usize;
    let mut results: Vec<Value> = Vec::new();
    let mut result_bytes = 0usize;
    let mut failed_items = 0u64;
    let mut set = JoinSet::new();
    let outcome: Result<(), Failure> = loop {
        if let Some(quota) = exec.history.full() {
            break Err(Failure::history_full(quota));
        }
        while set.len() < limit && next_item < total {
            let first = next_item;
            let input = match &batching {
                None => {
                    next_item += 1;
                    let item = MapItem {
                        index: first,
                        value: &items[first],
                        source: &source,
                    };
                    select(here, m, raw, &eff, vars, item)?
                }
                Some(b) => {
                    let (input, end) = b.batch(here, m, raw, &eff, vars, &items, first, &source)?;
                    next_item = end;
                    input
                }
            };
            let child = children.start(exec, next_child, input, m.processor.clone());
            let count = next_item - first;
            set.spawn(async move { (child.await, count) });
            next_child += 1;
            if writer.is_none() {
                results.push(Value::Null);
            }
        }
        let Some(joined) = set.join_next().await else {
            break Ok(());
        };
        let ((index, record, outcome), count) = match joined {
            Ok(done) => done,
            Err(e) => {
                break Err(Failure::states(
                    StatesError::Runtime,
                    format!("a child execution stopped unexpectedly: {e}"),
                ));
            }
        };
        let failure = match outcome {
            Outcome::Succeeded(output) => {
                match writer.as_mut() {
                    Some(w) => w.add(here, Status::Succeeded, &record).await?,
                    None => {
                        result_bytes += json_len(&output) + 1;
                        if let Some(slot) = results.get_mut(index) {
                            *slot = output;
                        }
                    }
                }
                None
            }
            Outcome::Failed { error, cause } => {
                failed_items += count as u64;
                match writer.as_mut() {
                    Some(w) => w.add(here, Status::Failed, &record).await?,
                    None => {
                        let mut out = JsonMap::new();
                        if let Some(e) = &error {
                            out.insert("Error".into(), e.clone().into());
                        }
                        if let Some(c) = &cause {
                            out.insert("Cause".into(), c.clone().into());
                        }
                        let out = Value::Object(out);
                        result_bytes += json_len(&out) + 1;
                        if let Some(slot) = results.get_mut(index) {
                            *slot = out;
                        }
                    }
                }
                Some(Failure::custom(error, cause))
            }
        };
        if let Some(limit) = cfg.payload_limit
            && result_bytes > limit
        {
            break Err(Failure::states(
                StatesError::DataLimitExceeded,
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    here.state.name
                ),
            ));
        }
        if let Some(f) = failure
            && tolerance.exceeded(failed_items, total as u64)
        {
            let mut out = if tolerance.given() {
                Failure::states(
                    StatesError::ExceedToleratedFailureThreshold,
                    "The specified tolerated failure threshold was exceeded",
                )
            } else {
                f
            };
            out.from_branch = true;
            break Err(out);
        }
    };
    if let Err(f) = outcome {
        set.abort_all();
        exec.record(
            run_started,
            EventType::MapRunFailed,
            || json!({"error": f.error, "cause": f.cause}),
        );
        exec.record(started, EventType::MapStateFailed, || Value::Null);
        return Err(f);
    }
    let result = match writer {
        Some(w) => w.finish(here).await?,
        None => Value::Array(results),
    };
    exec.record(run_started, EventType::MapRunSucceeded, || Value::Null);
    exec.record(started, EventType::MapStateSucceeded, || Value::Null);
    here.finish(raw, result, vars)
}

/// What the children of one Map Run share.
struct Children {
    state_machine_arn: String,
    state_machine_name: String,
    execution_type: ExecutionType,
    /// Whether each child's record is built: only a `ResultWriter` writes them.
    records: bool,
}

impl Children {
    /// Child `index` as a future that runs it and answers `(index, record, outcome)`, the
    /// record shaped as a `ResultWriter` file holds it (`DescribeExecution`'s fields), or
    /// null when no writer needs it (it copies the child's input and output as text).
    fn start(
        &self,
        parent: &Arc<Exec>,
        index: usize,
        input: Value,
        processor: Arc<crate::spec::Machine>,
    ) -> impl std::future::Future<Output = (usize, Value, Outcome)> + Send + 'static {
        let cfg = parent.config.clone();
        let name = uuid::Uuid::new_v4().to_string();
        let (region, account) = (&cfg.region, &cfg.account);
        let machine = &self.state_machine_name;
        let arn = match self.execution_type {
            ExecutionType::Standard => {
                format!("arn:aws:states:{region}:{account}:execution:{machine}:{name}")
            }
            ExecutionType::Express => format!(
                "arn:aws:states:{region}:{account}:express:{machine}:{name}:{}",
                uuid::Uuid::new_v4()
            ),
        };
        let start_time = parent.clock.now();
        let deadline = match self.execution_type {
            ExecutionType::Express => {
                Some(start_time + ChronoDuration::seconds(EXPRESS_CHILD_SECONDS))
            }
            ExecutionType::Standard => cfg.max_execution_seconds.map(|s| {
                start_time + ChronoDuration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000))
            }),
        };
        let history = Arc::new(History::new(
            cfg.record_history,
            cfg.max_history_events,
            cfg.max_history_bytes,
        ));
        let record_base = self.records.then(|| {
            json!({
                "ExecutionArn": arn,
                "Input": input.to_string(),
                "InputDetails": {"Included": true},
                "Name": name,
                "RedriveCount": 0,
                "StartDate": format_timestamp(start_time),
                "StateMachineArn": self.state_machine_arn,
            })
        });
        let exec = Arc::new(Exec {
            tasks: parent.tasks.clone(),
            clock: parent.clock.clone(),
            history,
            config: cfg,
            meta: Meta {
                execution_arn: arn,
                execution_name: name,
                start_time,
                input: input.clone(),
                state_machine_arn: self.state_machine_arn.clone(),
                state_machine_name: self.state_machine_name.clone(),
            },
            deadline,
            transitions: AtomicU64::new(0),
        });
        let parent_history = parent.history.clone();
        async move {
            let clock = exec.clock.clone();
            let history = exec.history.clone();
            let outcome = run_execution(exec, processor, input).await;
            parent_history.add_transitions(history.transitions());
            let mut record = record_base.unwrap_or_default();
            if let Some(o) = record.as_object_mut() {
                o.insert("StopDate".into(), format_timestamp(clock.now()).into());
                match &outcome {
                    Outcome::Succeeded(output) => {
                        o.insert("Output".into(), output.to_string().into());
                        o.insert("OutputDetails".into(), json!({"Included": true}));
                        o.insert("Status".into(), "SUCCEEDED".into());
                        o.insert("RedriveStatus".into(), "NOT_REDRIVABLE".into());
                        o.insert(
                            "RedriveStatusReason".into(),
                            "Execution is SUCCEEDED and cannot be redriven".into(),
                        );
                    }
                    Outcome::Failed { error, cause } => {
                        if let Some(e) = error {
                            o.insert("Error".into(), e.clone().into());
                        }
                        if let Some(c) = cause {
                            o.insert("Cause".into(), c.clone().into());
                        }
                        o.insert("Status".into(), "FAILED".into());
                        o.insert("RedriveStatus".into(), "REDRIVABLE".into());
                    }
                }
            }
            (index, record, outcome)
        }
    }
}

/// `ItemBatcher`'s limits and `BatchInput`, evaluated once when the Map starts.
struct Batching {
    /// 0: no limit of its own.
    max_items: usize,
    /// 0: only AWS's payload quota.
    max_bytes: usize,
    batch_input: Option<Value>,
}

impl Batching {
    fn eval(
        here: &Here<'_>,
        b: &ItemBatcher,
        raw: &Value,
        eff: &Value,
        vars: &Vars,
    ) -> Result<Batching, Failure> {
        let size = |l, field| -> Result<usize, Failure> {
            let n = super::map::limit(here, l, field, None, raw, eff, vars)?.unwrap_or(0);
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        };
        let batch_input = match &b.batch_input {
            None => None,
            Some(Args::Path(t)) => Some(here.env(eff, vars).template(t).map_err(|e| here.err(e))?),
            Some(Args::Jsonata(v)) => {
                let states = super::jsonata::States {
                    input: Some(raw),
                    ..Default::default()
                };
                Some(here.jsonata_value(v, "BatchInput", &here.jsonata_env(states, vars))?)
            }
        };
        Ok(Batching {
            max_items: size(&b.max_items, "MaxItemsPerBatchPath")?,
            max_bytes: size(&b.max_bytes, "MaxInputBytesPerBatchPath")?
                .min(here.exec.config.payload_limit.unwrap_or(usize::MAX)),
            batch_input,
        })
    }

    /// The batch that starts at item `first`: `{"Items": [...], ...BatchInput}` and the index
    /// after its last item. A batch holds at least one item, then as many as its limits allow.
    #[allow(clippy::too_many_arguments)]
    fn batch(
        &self,
        here: &Here<'_>,
        m: &Map,
        raw: &Value,
        eff: &Value,
        vars: &Vars,
        items: &[Value],
        first: usize,
        source: &str,
    ) -> Result<(Value, usize), Failure> {
        let base = match &self.batch_input {
            Some(input) => json!({"BatchInput": input, "Items": []}),
            None => json!({"Items": []}),
        };
        let mut bytes = json_len(&base);
        let mut selected = Vec::new();
        let mut end = first;
        while end < items.len() && (self.max_items == 0 || selected.len() < self.max_items) {
            let item = MapItem {
                index: end,
                value: &items[end],
                source,
            };
            let input = select(here, m, raw, eff, vars, item)?;
            let len = json_len(&input) + usize::from(!selected.is_empty());
            if self.max_bytes > 0 && bytes + len > self.max_bytes && !selected.is_empty() {
                break;
            }
            bytes += len;
            selected.push(input);
            end += 1;
        }
        let mut batch = base;
        batch["Items"] = Value::Array(selected);
        Ok((batch, end))
    }
}
