//! The execution history: events shaped like `GetExecutionHistory`'s, readable while the
//! execution runs.
//!
//! Owns the event list and its numbering. It must not interpret events; the evaluator
//! decides what to record. Recording can be switched off ([`crate::EngineConfig`]) for
//! benchmarks; event ids are still handed out, because runtime error messages cite them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use tokio::sync::watch;

/// The kind of state an event is about, as it appears in event type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum StateType {
    Pass,
    Task,
    Choice,
    Wait,
    Succeed,
    Fail,
    Parallel,
    Map,
}

impl StateType {
    /// The name used in ASL (`"Pass"`, `"Task"` …).
    pub fn as_str(self) -> &'static str {
        match self {
            StateType::Pass => "Pass",
            StateType::Task => "Task",
            StateType::Choice => "Choice",
            StateType::Wait => "Wait",
            StateType::Succeed => "Succeed",
            StateType::Fail => "Fail",
            StateType::Parallel => "Parallel",
            StateType::Map => "Map",
        }
    }
}

/// The `type` of a history event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum EventType {
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionFailed,
    ExecutionTimedOut,
    StateEntered(StateType),
    StateExited(StateType),
    TaskScheduled,
    TaskStarted,
    TaskSucceeded,
    TaskFailed,
    TaskTimedOut,
    MapStateStarted,
    MapStateSucceeded,
    MapStateFailed,
    MapIterationStarted,
    MapIterationSucceeded,
    MapIterationFailed,
    MapRunStarted,
    MapRunSucceeded,
    MapRunFailed,
    ParallelStateStarted,
    ParallelStateSucceeded,
    ParallelStateFailed,
}

impl EventType {
    /// The AWS event type name, e.g. `PassStateEntered`.
    pub fn name(self) -> String {
        match self {
            EventType::StateEntered(t) => format!("{}StateEntered", t.as_str()),
            EventType::StateExited(t) => format!("{}StateExited", t.as_str()),
            other => format!("{other:?}"),
        }
    }

    /// The key AWS puts the details under, e.g. `stateEnteredEventDetails`.
    fn details_key(self) -> Option<&'static str> {
        Some(match self {
            EventType::ExecutionStarted => "executionStartedEventDetails",
            EventType::ExecutionSucceeded => "executionSucceededEventDetails",
            EventType::ExecutionFailed => "executionFailedEventDetails",
            EventType::ExecutionTimedOut => "executionTimedOutEventDetails",
            EventType::StateEntered(_) => "stateEnteredEventDetails",
            EventType::StateExited(_) => "stateExitedEventDetails",
            EventType::TaskScheduled => "taskScheduledEventDetails",
            EventType::TaskStarted => "taskStartedEventDetails",
            EventType::TaskSucceeded => "taskSucceededEventDetails",
            EventType::TaskFailed => "taskFailedEventDetails",
            EventType::TaskTimedOut => "taskTimedOutEventDetails",
            EventType::MapStateStarted => "mapStateStartedEventDetails",
            EventType::MapIterationStarted => "mapIterationStartedEventDetails",
            EventType::MapIterationSucceeded => "mapIterationSucceededEventDetails",
            EventType::MapIterationFailed => "mapIterationFailedEventDetails",
            EventType::MapRunStarted => "mapRunStartedEventDetails",
            EventType::MapRunFailed => "mapRunFailedEventDetails",
            _ => return None,
        })
    }
}

/// About what an event holds in memory, bytes: the event itself (twice: the list grows by
/// doubling), and its details as serde_json lays them out. A walk, not a serialisation: it
/// runs on every event, under the history's lock. Measured against the process's peak
/// (`exec --lift-quotas` of a counting loop, 800,000 events: 1.22 GB, ~1.5 KB an event), the
/// objects dominate: each is a B-tree node of 11 (String, Value) slots however few it uses.
fn approx_bytes(details: &Value) -> u64 {
    /// A B-tree node: 11 keys (String, 24 bytes) and 11 values (Value, 32), and its header.
    const OBJECT: u64 = 11 * (24 + 32) + 32;
    /// What one heap allocation costs beyond its bytes (the allocator's header, rounding).
    const ALLOCATION: u64 = 16;
    let mut stack = vec![details];
    let mut bytes = 2 * std::mem::size_of::<HistoryEvent>() as u64;
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => bytes += s.len() as u64 + ALLOCATION,
            Value::Array(a) => {
                bytes += 32 * a.len() as u64 + ALLOCATION;
                stack.extend(a);
            }
            Value::Object(o) => {
                // Past 11 entries a node more for each 11.
                bytes += OBJECT * (o.len() as u64).div_ceil(11).max(1) + ALLOCATION;
                for (k, v) in o {
                    bytes += k.len() as u64 + ALLOCATION;
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
    bytes
}

/// One history event.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    /// 1-based, in order of recording.
    pub id: u64,
    /// The event this one follows in its branch of the execution (0 for the first).
    pub previous_event_id: u64,
    /// When it happened, on the execution's clock.
    pub timestamp: DateTime<Utc>,
    /// What happened.
    pub event_type: EventType,
    /// The details object (`{"name": …, "input": …}` …); `Null` when the type has none.
    pub details: Value,
}

impl Serialize for HistoryEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("previousEventId", &self.previous_event_id)?;
        m.serialize_entry(
            "timestamp",
            &self.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true),
        )?;
        m.serialize_entry("type", &self.event_type.name())?;
        if let Some(key) = self.event_type.details_key()
            && !self.details.is_null()
        {
            m.serialize_entry(key, &self.details)?;
        }
        m.end()
    }
}

/// The events of one execution. Shared between the running execution and its readers.
#[derive(Debug)]
pub struct History {
    events: Mutex<Vec<HistoryEvent>>,
    next_id: AtomicU64,
    record: bool,
    changed: watch::Sender<u64>,
    /// The most events an execution may have, its end included (AWS: 25,000).
    limit: Option<u64>,
    /// The most bytes the recorded events may hold (powersweep's bound, not AWS's).
    max_bytes: Option<u64>,
    /// What the recorded events hold so far, bytes (about: their JSON text).
    bytes: AtomicU64,
    /// Set when an event was refused for a limit: the execution must fail now.
    full: OnceLock<Full>,
    /// States entered so far: what Step Functions bills for a Standard workflow (a state
    /// transition), counted whether or not events are recorded.
    transitions: AtomicU64,
}

/// Which limit a full history reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// AWS's quota of events (its value).
    Events(u64),
    /// powersweep's bound on the bytes a recorded history holds (its value).
    Bytes(u64),
}

impl History {
    pub(crate) fn new(record: bool, limit: Option<u64>, max_bytes: Option<u64>) -> History {
        History {
            events: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            record,
            changed: watch::Sender::new(0),
            limit,
            max_bytes,
            bytes: AtomicU64::new(0),
            full: OnceLock::new(),
            transitions: AtomicU64::new(0),
        }
    }

    /// States entered so far, those of a distributed Map's child executions included once
    /// they end (Step Functions bills a Standard workflow per state transition, children's
    /// too).
    pub fn transitions(&self) -> u64 {
        self.transitions.load(Ordering::Relaxed)
    }

    /// Counts a child execution's transitions in this one's.
    pub(crate) fn add_transitions(&self, n: u64) {
        self.transitions.fetch_add(n, Ordering::Relaxed);
    }

    /// The limit, once an event was refused for it. As on AWS, the last event the machine
    /// produced is `limit - 1` and the execution's end is event `limit`; a history that
    /// reached its bytes ends with the event after the last it holds.
    pub fn full(&self) -> Option<Full> {
        self.full.get().copied()
    }

    /// Whether events are recorded (ids are handed out either way).
    pub fn is_recording(&self) -> bool {
        self.record
    }

    pub(crate) fn push(
        &self,
        previous: u64,
        timestamp: DateTime<Utc>,
        event_type: EventType,
        details: Value,
    ) -> u64 {
        let end = matches!(
            event_type,
            EventType::ExecutionSucceeded
                | EventType::ExecutionFailed
                | EventType::ExecutionTimedOut
        );
        // The id is taken under the lock so that the list stays sorted by id and the limit
        // is exact.
        let id = {
            let mut events = self.events.lock().unwrap_or_else(|p| p.into_inner());
            let id = self.next_id.load(Ordering::Relaxed);
            if !end && let Some(limit) = self.limit.filter(|&limit| id >= limit) {
                let _ = self.full.set(Full::Events(limit));
                return id - 1;
            }
            if !end
                && self.record
                && let Some(max) = self.max_bytes
            {
                let held = self.bytes.load(Ordering::Relaxed) + approx_bytes(&details);
                if held > max {
                    let _ = self.full.set(Full::Bytes(max));
                    return id - 1;
                }
                self.bytes.store(held, Ordering::Relaxed);
            }
            self.next_id.store(id + 1, Ordering::Relaxed);
            if matches!(event_type, EventType::StateEntered(_)) {
                self.transitions.fetch_add(1, Ordering::Relaxed);
            }
            if !self.record {
                return id;
            }
            events.push(HistoryEvent {
                id,
                previous_event_id: previous,
                timestamp,
                event_type,
                details,
            });
            id
        };
        self.changed.send_replace(id);
        id
    }

    /// The id of the latest event (0 before the first).
    pub fn last_id(&self) -> u64 {
        self.next_id.load(Ordering::Relaxed).saturating_sub(1)
    }

    /// How many events have been recorded so far.
    pub fn len(&self) -> usize {
        self.events.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// True when nothing has been recorded yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of every event so far.
    pub fn snapshot(&self) -> Vec<HistoryEvent> {
        self.since(0)
    }

    /// A copy of the events after the first `skip`, for readers that poll.
    pub fn since(&self, skip: usize) -> Vec<HistoryEvent> {
        let events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        events.get(skip..).map(<[_]>::to_vec).unwrap_or_default()
    }

    /// A receiver that sees the id of the latest event each time one is recorded; use
    /// `changed().await` on it to follow an execution live.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// The history as `GetExecutionHistory` returns it: `{"events": [...]}`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({ "events": self.snapshot() })
    }
}
