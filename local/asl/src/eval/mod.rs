//! The runner: walks a [`Machine`] state by state, applies ASL's data flow, records
//! history, and handles Retry and Catch.
//!
//! Owns the per-execution context ([`Exec`]), variable scopes ([`Vars`]) and the path /
//! template evaluation environment ([`Env`]). The work of each state kind lives in its own
//! file. It must not parse definitions.

mod choice;
mod distributed;
mod fail;
mod item_reader;
mod jsonata;
mod map;
mod parallel;
mod pass;
mod result_writer;
mod task;
mod wait;

use std::cell::OnceCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map as JsonMap, Value, json};

use crate::clock::Clock;
use crate::error::{Failure, StatesError};
use crate::history::{EventType, History};
use crate::intrinsics::IntrinsicError;
use crate::path::{self, JsonPath, Root};
use crate::spec::{Body, Expr, Machine, PathField, State, Template};
use crate::task::TaskRegistry;
use crate::{EngineConfig, Outcome};

/// Longest real or virtual sleep we ask for; longer waits are capped (about 10 years).
const MAX_SLEEP: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Parses an ISO-8601 timestamp with an offset, as AWS requires (`T` separator, `Z` or ±hh:mm).
pub(crate) fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    if !s.contains('T') {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

pub(crate) fn format_timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// What every state of one execution shares.
pub(crate) struct Exec {
    pub(crate) tasks: Arc<TaskRegistry>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) history: Arc<History>,
    pub(crate) config: EngineConfig,
    pub(crate) meta: Meta,
    pub(crate) deadline: Option<DateTime<Utc>>,
    pub(crate) transitions: AtomicU64,
}

/// The execution's identity, for the context object.
pub(crate) struct Meta {
    pub(crate) execution_arn: String,
    pub(crate) execution_name: String,
    pub(crate) start_time: DateTime<Utc>,
    pub(crate) input: Value,
    pub(crate) state_machine_arn: String,
    pub(crate) state_machine_name: String,
}

impl Exec {
    /// Records an event if history is on; `details` is only built when it is.
    pub(crate) fn record(&self, prev: u64, ty: EventType, details: impl FnOnce() -> Value) -> u64 {
        let d = if self.history.is_recording() {
            details()
        } else {
            Value::Null
        };
        self.history.push(prev, self.clock.now(), ty, d)
    }
}

/// A value as AWS quotes it in a cause: a string's own text, anything else as JSON.
pub(super) fn raw_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Workflow variables visible to a state: the enclosing scopes (read-only, shared) and this
/// scope's own assignments.
#[derive(Debug, Clone, Default)]
pub(crate) struct Vars {
    outer: Option<Arc<JsonMap<String, Value>>>,
    local: JsonMap<String, Value>,
}

impl Vars {
    fn get(&self, name: &str) -> Option<&Value> {
        self.local
            .get(name)
            .or_else(|| self.outer.as_ref().and_then(|o| o.get(name)))
    }

    /// Every variable visible here, the inner scope's last (it shadows).
    fn visible(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.outer
            .iter()
            .flat_map(|o| o.iter())
            .filter(|(k, _)| !self.local.contains_key(*k))
            .chain(self.local.iter())
    }

    /// The scope a Map iteration or Parallel branch starts with: everything visible here,
    /// frozen; its own assignments stay inside it.
    fn inner(&self) -> Vars {
        if self.local.is_empty() {
            return Vars {
                outer: self.outer.clone(),
                local: JsonMap::new(),
            };
        }
        let mut all = self.outer.as_deref().cloned().unwrap_or_default();
        all.extend(self.local.iter().map(|(k, v)| (k.clone(), v.clone())));
        Vars {
            outer: Some(Arc::new(all)),
            local: JsonMap::new(),
        }
    }

    fn apply(&mut self, assigned: Option<JsonMap<String, Value>>) {
        if let Some(a) = assigned {
            self.local.extend(a);
        }
    }
}

/// One entry into one state: where runtime errors point.
pub(crate) struct Here<'a> {
    pub(crate) exec: &'a Arc<Exec>,
    pub(crate) state: &'a State,
    pub(crate) entered_id: u64,
    pub(crate) entered: DateTime<Utc>,
    pub(crate) prev: u64,
}

/// An error while evaluating a path, template or intrinsic, before it gets the state's
/// prefix.
pub(crate) struct EvalError {
    kind: StatesError,
    detail: String,
}

impl EvalError {
    fn runtime(detail: String) -> EvalError {
        EvalError {
            kind: StatesError::Runtime,
            detail,
        }
    }
}

impl Here<'_> {
    /// A failure raised by the engine in this state, worded as AWS words it.
    pub(crate) fn fail(&self, kind: StatesError, detail: &str) -> Failure {
        Failure::states(
            kind,
            format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {detail}",
                self.state.name, self.entered_id
            ),
        )
    }

    pub(crate) fn err(&self, e: EvalError) -> Failure {
        self.fail(e.kind, &e.detail)
    }

    /// AWS's failure for a `*Path` field (InputPath, ItemsPath, TimeoutSecondsPath …) whose
    /// path selects nothing.
    pub(crate) fn no_results(&self, p: &JsonPath) -> Failure {
        self.fail(
            StatesError::Runtime,
            &format!(
                "Invalid path '{p}' : No results for path: {}",
                p.normalized()
            ),
        )
    }

    pub(crate) fn env<'b>(&'b self, input: &'b Value, vars: &'b Vars) -> Env<'b> {
        Env {
            input,
            here: self,
            vars,
            retry_count: None,
            map_item: None,
            ctx: OnceCell::new(),
        }
    }

    /// `InputPath` (and `OutputPath`): `$` keeps the value, `null` gives `{}`.
    pub(crate) fn select_path(
        &self,
        field: &PathField,
        value: Value,
        vars: &Vars,
    ) -> Result<Value, Failure> {
        match field {
            PathField::Root => Ok(value),
            PathField::Null => Ok(Value::Object(JsonMap::new())),
            PathField::Path(p) => {
                let env = self.env(&value, vars);
                env.lookup(p)
                    .map_err(|e| self.err(e))?
                    .ok_or_else(|| self.no_results(p))
            }
        }
    }

    /// `ResultPath`: where the result goes in the raw input.
    pub(crate) fn place_result(
        &self,
        field: &PathField,
        raw: &Value,
        result: Value,
    ) -> Result<Value, Failure> {
        match field {
            PathField::Root => Ok(result),
            PathField::Null => Ok(raw.clone()),
            PathField::Path(p) => {
                let mut out = raw.clone();
                path::set_reference(&mut out, p.segments(), result).map_err(|_| {
                    self.fail(
                        StatesError::ResultPathMatchFailure,
                        &format!("Unable to apply ReferencePath {p} to input '{}'", raw),
                    )
                })?;
                Ok(out)
            }
        }
    }

    /// Evaluates an `Assign` block against `value` (the state result, or the error output in
    /// a Catch); the caller applies it once the state has completed.
    pub(crate) fn assign(
        &self,
        t: Option<&Template>,
        value: &Value,
        vars: &Vars,
    ) -> Result<Option<JsonMap<String, Value>>, Failure> {
        let Some(t) = t else { return Ok(None) };
        match self.env(value, vars).template(t).map_err(|e| self.err(e))? {
            Value::Object(m) => Ok(Some(m)),
            _ => Ok(None),
        }
    }

    /// What Task, Map and Parallel do after their work: ResultSelector, Assign, ResultPath,
    /// OutputPath.
    pub(crate) fn finish(
        &self,
        raw: &Value,
        result: Value,
        vars: &mut Vars,
    ) -> Result<Value, Failure> {
        let io = &self.state.io;
        if let Some(j) = &io.jsonata {
            let states = jsonata::States {
                input: Some(raw),
                result: Some(&result),
                ..jsonata::States::default()
            };
            return self.jsonata_finish(j, states, vars, "");
        }
        let result = match &io.result_selector {
            Some(t) => self
                .env(&result, vars)
                .template(t)
                .map_err(|e| self.err(e))?,
            None => result,
        };
        let assigned = self.assign(io.assign.as_ref(), &result, vars)?;
        let out = self.place_result(&io.result_path, raw, result)?;
        let out = self.select_path(&io.output_path, out, vars)?;
        vars.apply(assigned);
        Ok(out)
    }
}

/// The item a Map's `ItemSelector` is evaluated for: `$$.Map.Item`.
#[derive(Clone, Copy)]
pub(crate) struct MapItem<'a> {
    pub(crate) index: usize,
    pub(crate) value: &'a Value,
    /// Where the item was read from (`$$.Map.Item.Source`), e.g. [`STATE_DATA_SOURCE`].
    pub(crate) source: &'a str,
}

impl MapItem<'_> {
    /// `$$.Map`.
    fn context(&self) -> Value {
        json!({"Item": {"Index": self.index, "Value": self.value, "Source": self.source}})
    }
}

/// `$$.Map.Item.Source` of an item from the state input.
pub(crate) const STATE_DATA_SOURCE: &str = "STATE_DATA";

/// What `$`, `$$` and `$name` mean while one field is evaluated.
pub(crate) struct Env<'a> {
    input: &'a Value,
    here: &'a Here<'a>,
    vars: &'a Vars,
    retry_count: Option<u32>,
    map_item: Option<MapItem<'a>>,
    /// The context object, built only if a `$$` path is used.
    ctx: OnceCell<Value>,
}

impl Env<'_> {
    fn context(&self) -> &Value {
        self.ctx.get_or_init(|| {
            let m = &self.here.exec.meta;
            let mut state = json!({"Name": self.here.state.name, "EnteredTime": format_timestamp(self.here.entered)});
            if let (Some(n), Some(o)) = (self.retry_count, state.as_object_mut()) {
                o.insert("RetryCount".into(), n.into());
            }
            let mut ctx = json!({
                "Execution": {
                    "Id": m.execution_arn,
                    "Input": m.input,
                    "Name": m.execution_name,
                    "RoleArn": self.here.exec.config.role_arn,
                    "StartTime": format_timestamp(m.start_time),
                    "RedriveCount": 0,
                },
                "StateMachine": {"Id": m.state_machine_arn, "Name": m.state_machine_name},
                "State": state,
            });
            if let (Some(item), Some(o)) = (self.map_item, ctx.as_object_mut()) {
                o.insert("Map".into(), item.context());
            }
            ctx
        })
    }

    /// The context object without `Execution`, for paths that start elsewhere.
    fn small_context(&self, key: &str) -> Value {
        let m = &self.here.exec.meta;
        let mut ctx = JsonMap::new();
        match key {
            "Map" => {
                if let Some(item) = self.map_item {
                    ctx.insert("Map".into(), item.context());
                }
            }
            "StateMachine" => {
                ctx.insert(
                    "StateMachine".into(),
                    json!({"Id": m.state_machine_arn, "Name": m.state_machine_name}),
                );
            }
            "State" => {
                let mut state = json!({"Name": self.here.state.name, "EnteredTime": format_timestamp(self.here.entered)});
                if let (Some(n), Some(o)) = (self.retry_count, state.as_object_mut()) {
                    o.insert("RetryCount".into(), n.into());
                }
                ctx.insert("State".into(), state);
            }
            _ => {}
        }
        Value::Object(ctx)
    }

    /// The value of a path, `None` when it selects nothing.
    pub(crate) fn lookup(&self, p: &JsonPath) -> Result<Option<Value>, EvalError> {
        let root = match p.root() {
            Root::Input => self.input,
            // `$$.Map…`, `$$.State…` and `$$.StateMachine…` do not need the (possibly large)
            // execution input, so they get a small context instead of the full one.
            Root::Context => match p.segments().first() {
                Some(path::Segment::Child(k)) if k != "Execution" => {
                    let small = self.small_context(k);
                    return Ok(p.query(&small));
                }
                _ => self.context(),
            },
            Root::Variable(name) => self.vars.get(name).ok_or_else(|| {
                EvalError::runtime(format!(
                    "Invalid path '{p}': The variable '{name}' is not defined."
                ))
            })?,
        };
        Ok(p.query(root))
    }

    fn expr(&self, e: &Expr, field: &str) -> Result<Value, EvalError> {
        match e {
            Expr::Path(p) => self.lookup(p)?.ok_or_else(|| {
                EvalError::runtime(format!(
                    "The JSONPath '{p}' specified for the field '{field}' could not be found in the input '{}'",
                    self.input
                ))
            }),
            Expr::Call(c) => c
                .eval(&|p| match self.lookup(p) {
                    Ok(Some(v)) => Ok(v),
                    Ok(None) => Err(IntrinsicError::Path(format!(
                        "The JsonPath '{p}' could not be found in the input '{}'",
                        self.input
                    ))),
                    Err(e) => Err(IntrinsicError::Path(e.detail)),
                })
                .map_err(|detail| EvalError {
                    kind: StatesError::IntrinsicFailure,
                    detail: format!("The evaluation of the intrinsic function failed: {detail}"),
                }),
        }
    }

    /// Evaluates a payload template.
    pub(crate) fn template(&self, t: &Template) -> Result<Value, EvalError> {
        Ok(match t {
            Template::Literal(v) => v.clone(),
            Template::Expr(name, e) => self.expr(e, &format!("{name}.$"))?,
            Template::Object(fields) => {
                let mut m = JsonMap::new();
                for (k, t) in fields {
                    m.insert(k.clone(), self.template(t)?);
                }
                Value::Object(m)
            }
            Template::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|t| self.template(t))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    /// A field such as `ErrorPath`, evaluated to a value.
    pub(crate) fn field(&self, e: &Expr, field: &str) -> Result<Value, EvalError> {
        self.expr(e, field)
    }
}

/// A boxed future, so that Map and Parallel can run machines recursively on tokio tasks.
pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Counts bytes of a value's JSON text without building it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(crate) fn json_len(v: &Value) -> usize {
    let mut c = Counter(0);
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

/// Runs one execution, its first and last events included: the top-level one an
/// [`Engine`](crate::Engine) starts, and each child execution of a distributed Map.
pub(crate) async fn run_execution(exec: Arc<Exec>, root: Arc<Machine>, input: Value) -> Outcome {
    let sm_arn = exec.meta.state_machine_arn.clone();
    let started = exec.record(0, EventType::ExecutionStarted, || {
        json!({"input": input.to_string(), "inputDetails": {"truncated": false}, "roleArn": exec.config.role_arn, "stateMachineArn": sm_arn})
    });
    let too_big = exec
        .config
        .payload_limit
        .is_some_and(|l| json_len(&input) > l);
    let result = if too_big {
        Err(Failure::states(
            StatesError::DataLimitExceeded,
            "The execution input exceeds the maximum number of bytes service limit.",
        ))
    } else {
        run_machine(exec.clone(), root, input, Vars::default(), started).await
    };
    let last = exec.history.last_id().max(started);
    // Whatever the machine did after its history was full, it ends here.
    let result = match exec.history.full() {
        Some(limit) => Err(Failure::history_full(limit)),
        None => result,
    };
    match result {
        Ok(output) => {
            exec.record(
                last,
                EventType::ExecutionSucceeded,
                || json!({"output": output.to_string(), "outputDetails": {"truncated": false}}),
            );
            Outcome::Succeeded(output)
        }
        Err(f) => {
            let ty = if f.error.as_deref() == Some("States.Timeout")
                && exec.deadline.is_some_and(|d| exec.clock.now() >= d)
            {
                EventType::ExecutionTimedOut
            } else {
                EventType::ExecutionFailed
            };
            exec.record(last, ty, || json!({"error": f.error, "cause": f.cause}));
            Outcome::Failed {
                error: f.error,
                cause: f.cause,
            }
        }
    }
}

/// Runs a machine from its start state to its end.
pub(crate) fn run_machine(
    exec: Arc<Exec>,
    machine: Arc<Machine>,
    input: Value,
    vars: Vars,
    prev: u64,
) -> BoxFuture<Result<Value, Failure>> {
    Box::pin(async move {
        let mut vars = vars;
        let mut prev = prev;
        let mut idx = machine.start;
        let mut input = input;
        loop {
            let state = &machine.states[idx];
            let n = exec.transitions.fetch_add(1, Ordering::Relaxed);
            if let Some(max) = exec.config.max_transitions
                && n >= max
            {
                return Err(Failure::states(
                    StatesError::Runtime,
                    format!("The execution exceeded the limit of {max} state transitions."),
                ));
            }
            if let Some(limit) = exec.history.full() {
                return Err(Failure::history_full(limit));
            }
            let entered = exec.clock.now();
            if let Some(d) = exec.deadline
                && entered > d
            {
                return Err(Failure::states(
                    StatesError::Timeout,
                    "The execution timed out.",
                ));
            }
            let ty = state.body.state_type();
            let entered_id = exec.record(prev, EventType::StateEntered(ty), || {
                json!({"name": state.name, "input": input.to_string(), "inputDetails": {"truncated": false}})
            });
            let here = Here {
                exec: &exec,
                state,
                entered_id,
                entered,
                prev: entered_id,
            };
            let (out, next) = eval_state(&here, input, &mut vars).await?;
            let text = exec.history.is_recording().then(|| out.to_string());
            if let Some(limit) = exec.config.payload_limit {
                let len = text.as_ref().map_or_else(|| json_len(&out), String::len);
                if len > limit {
                    return Err(Failure::states(
                        StatesError::DataLimitExceeded,
                        format!(
                            "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                            state.name
                        ),
                    ));
                }
            }
            prev = exec.record(entered_id, EventType::StateExited(ty), || {
                json!({"name": state.name, "output": text.unwrap_or_default(), "outputDetails": {"truncated": false}})
            });
            match next {
                Some(i) => {
                    idx = i;
                    input = out;
                }
                None => return Ok(out),
            }
        }
    })
}

async fn eval_state(
    here: &Here<'_>,
    raw: Value,
    vars: &mut Vars,
) -> Result<(Value, Option<usize>), Failure> {
    match &here.state.body {
        Body::Pass(p) => pass::eval(here, p, raw, vars),
        Body::Choice(c) => choice::eval(here, c, raw, vars),
        Body::Wait(w) => wait::eval(here, w, raw, vars).await,
        Body::Succeed => {
            if let Some(j) = &here.state.io.jsonata {
                let states = jsonata::States {
                    input: Some(&raw),
                    ..jsonata::States::default()
                };
                return Ok((here.jsonata_finish(j, states, vars, "")?, None));
            }
            let eff = here.select_path(&here.state.io.input_path, raw, vars)?;
            Ok((
                here.select_path(&here.state.io.output_path, eff, vars)?,
                None,
            ))
        }
        Body::Fail(f) => Err(fail::eval(here, f, &raw, vars)),
        Body::Task(_) | Body::Parallel(_) | Body::Map(_) => recover(here, raw, vars).await,
    }
}

/// Runs a Task, Parallel or Map with its `Retry` and `Catch`.
async fn recover(
    here: &Here<'_>,
    raw: Value,
    vars: &mut Vars,
) -> Result<(Value, Option<usize>), Failure> {
    let io = &here.state.io;
    let mut counts = vec![0u32; io.retry.len()];
    let mut retry_count = 0u32;
    loop {
        let attempt = match &here.state.body {
            Body::Task(t) => task::run(here, t, &raw, vars, retry_count).await,
            Body::Parallel(p) => parallel::run(here, p, &raw, vars).await,
            Body::Map(m) => map::run(here, m, &raw, vars).await,
            _ => unreachable!("recover is only called for Task, Parallel and Map"),
        };
        let failure = match attempt {
            Ok(out) => return Ok((out, here.state.next)),
            Err(f) => f,
        };
        if let Some(i) = io
            .retry
            .iter()
            .position(|r| r.error_equals.iter().any(|e| failure.matches(e)))
        {
            let r = &io.retry[i];
            if let Some(limit) = here.exec.history.full() {
                return Err(Failure::history_full(limit));
            }
            if counts[i] < r.max_attempts {
                let mut delay = r.interval_seconds
                    * r.backoff_rate
                        .powi(i32::try_from(counts[i]).unwrap_or(i32::MAX));
                if let Some(max) = r.max_delay_seconds {
                    delay = delay.min(max);
                }
                if r.jitter_full {
                    let unit =
                        (uuid::Uuid::new_v4().as_u64_pair().0 >> 11) as f64 / (1u64 << 53) as f64;
                    delay *= unit;
                }
                counts[i] += 1;
                retry_count += 1;
                let d = Duration::try_from_secs_f64(delay)
                    .unwrap_or(MAX_SLEEP)
                    .min(MAX_SLEEP);
                here.exec.clock.sleep(d).await;
                continue;
            }
        }
        if let Some((ci, c)) = io
            .catch
            .iter()
            .enumerate()
            .find(|(_, c)| c.error_equals.iter().any(|e| failure.matches(e)))
        {
            let mut err = JsonMap::new();
            if let Some(e) = &failure.error {
                err.insert("Error".into(), Value::String(e.clone()));
            }
            if let Some(c) = &failure.cause {
                err.insert("Cause".into(), Value::String(c.clone()));
            }
            let err = Value::Object(err);
            if let Some(j) = &c.jsonata {
                let states = jsonata::States {
                    input: Some(&raw),
                    error_output: Some(&err),
                    ..jsonata::States::default()
                };
                let out = here.jsonata_finish(j, states, vars, &format!("Catch[{ci}]/"))?;
                return Ok((out, Some(c.next)));
            }
            let assigned = here.assign(c.assign.as_ref(), &err, vars)?;
            let out = here.place_result(&c.result_path, &raw, err)?;
            vars.apply(assigned);
            return Ok((out, Some(c.next)));
        }
        return Err(failure);
    }
}
