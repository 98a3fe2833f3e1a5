//! A local engine for the Amazon States Language (AWS Step Functions), in both query
//! languages: JSONPath and JSONata (`QueryLanguage` at the top or per state; JSONata
//! expressions are `powersweep-jsonata`'s, `$states` and AWS's added functions are bound
//! here, in `eval/jsonata.rs` and `jsonata_functions.rs`).
//!
//! - [`StateMachine::parse`] loads and validates a definition; a [`ParseError`] names the
//!   field at fault by JSON pointer.
//! - An [`Engine`] holds the [`TaskRegistry`] (resource ARN → [`TaskHandler`]), a [`Clock`]
//!   ([`SystemClock`] or [`VirtualClock`]) and [`EngineConfig`].
//! - [`Engine::start`] returns an [`Execution`] whose [`History`] can be read while it runs,
//!   and whose [`Execution::wait`] gives the [`Outcome`]: `Succeeded(output)` or
//!   `Failed { error, cause }`.
//! - [`lambda`] adapts a Lambda implementation to `lambda:invoke` and `aws-sdk:lambda:*`.
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use powersweep_asl::{Engine, Outcome, StateMachine, TaskError, TaskRegistry, VirtualClock, handler_fn};
//! use serde_json::json;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let definition = r#"{
//!   "StartAt": "Double",
//!   "States": {
//!     "Double": {"Type": "Task", "Resource": "arn:local:double", "ResultPath": "$.doubled", "Next": "Wait"},
//!     "Wait":   {"Type": "Wait", "Seconds": 3600, "End": true}
//!   }
//! }"#;
//! // 1. Load and validate.
//! let machine = StateMachine::parse(definition).expect("valid definition");
//! // 2. Register a handler per resource ARN.
//! let tasks = TaskRegistry::new().with("arn:local:double", handler_fn(|req| async move {
//!     let n = req.parameters["n"].as_i64().ok_or_else(|| TaskError::new("BadInput", "n must be an integer"))?;
//!     Ok(json!(n * 2))
//! }));
//! // 3. Run it; with a virtual clock the one-hour Wait takes no time.
//! let engine = Engine::new(tasks).with_clock(Arc::new(VirtualClock::new()));
//! let execution = engine.start(&machine, json!({"n": 21}));
//! let history = execution.history().clone();
//! let outcome = execution.wait().await;
//! assert_eq!(outcome, Outcome::Succeeded(json!({"n": 21, "doubled": 42})));
//! assert_eq!(history.snapshot().last().unwrap().event_type.name(), "ExecutionSucceeded");
//! # });
//! ```

#![deny(missing_docs)]

pub use clock::{Clock, Sleep, SystemClock, VirtualClock};
pub use engine::{
    DEFINITION_QUOTA_BYTES, EXECUTION_QUOTA_SECONDS, Engine, EngineConfig, Execution,
    HISTORY_EVENTS_QUOTA, MAX_HISTORY_BYTES, Outcome, PAYLOAD_QUOTA_BYTES,
};
pub use error::{Failure, ParseError, ParseErrorKind, StatesError};
pub use history::{EventType, Full, History, HistoryEvent, StateType};
pub use intrinsics::CallSyntaxError;
pub use machine::StateMachine;
pub use path::{JsonPath, PathError, Root as PathRoot};
pub use task::{
    FnHandler, TaskError, TaskFuture, TaskHandler, TaskRegistry, TaskRequest, handler_fn,
};

mod clock;
mod engine;
mod error;
mod eval;
mod history;
mod intrinsics;
mod jsonata_functions;
pub mod lambda;
mod machine;
mod parse;
mod path;
mod spec;
mod task;
