//! Typed ASL: what a definition means once it has been parsed and validated.
//!
//! Owns the data types only; it must not parse JSON (see `parse/`) or run anything (see
//! `eval/`). Transitions are resolved to state indexes at load time so that running a state
//! machine never looks a name up.

mod jsonata;
pub(crate) mod state;
mod template;

pub(crate) use jsonata::{JValue, JsonataIo};
pub(crate) use state::*;
pub(crate) use template::{Expr, Template};

use crate::path::JsonPath;

/// A state's query language (`QueryLanguage`; a state without one takes its machine's, and
/// a definition without one is JSONPath).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Lang {
    #[default]
    JsonPath,
    Jsonata,
}

/// A set of states with a start: the whole definition, a Parallel branch, or a Map's
/// item processor.
#[derive(Debug)]
pub(crate) struct Machine {
    pub(crate) start: usize,
    pub(crate) states: Vec<State>,
    pub(crate) timeout_seconds: Option<u64>,
}

/// One state.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) name: String,
    pub(crate) io: Io,
    pub(crate) body: Body,
    /// `None` means `End`.
    pub(crate) next: Option<usize>,
}

/// What a state does.
#[derive(Debug)]
pub(crate) enum Body {
    Pass(Pass),
    Task(Box<Task>),
    Choice(Choice),
    Wait(Wait),
    Succeed,
    Fail(Fail),
    Parallel(Box<Parallel>),
    Map(Box<Map>),
}

impl Body {
    pub(crate) fn state_type(&self) -> crate::StateType {
        use crate::StateType as T;
        match self {
            Body::Pass(_) => T::Pass,
            Body::Task(_) => T::Task,
            Body::Choice(_) => T::Choice,
            Body::Wait(_) => T::Wait,
            Body::Succeed => T::Succeed,
            Body::Fail(_) => T::Fail,
            Body::Parallel(_) => T::Parallel,
            Body::Map(_) => T::Map,
        }
    }
}

/// `InputPath`, `OutputPath` (and, where allowed, `ResultPath`): absent means `$`, `null`
/// means "nothing".
#[derive(Debug, Clone, Default)]
pub(crate) enum PathField {
    #[default]
    Root,
    Null,
    Path(JsonPath),
}

/// The data-flow fields every state may have (absent ones stay at their defaults).
#[derive(Debug, Default)]
pub(crate) struct Io {
    pub(crate) input_path: PathField,
    pub(crate) output_path: PathField,
    pub(crate) result_path: PathField,
    pub(crate) parameters: Option<Template>,
    pub(crate) result_selector: Option<Template>,
    pub(crate) assign: Option<Template>,
    pub(crate) retry: Vec<Retrier>,
    pub(crate) catch: Vec<Catcher>,
    /// Set when the state's query language is JSONata: its fields replace the JSONPath ones
    /// above, which then stay at their defaults.
    pub(crate) jsonata: Option<Box<JsonataIo>>,
}

/// One `Retry` entry.
#[derive(Debug, Clone)]
pub(crate) struct Retrier {
    pub(crate) error_equals: Vec<String>,
    pub(crate) interval_seconds: f64,
    pub(crate) max_attempts: u32,
    pub(crate) backoff_rate: f64,
    pub(crate) max_delay_seconds: Option<f64>,
    pub(crate) jitter_full: bool,
}

/// One `Catch` entry.
#[derive(Debug)]
pub(crate) struct Catcher {
    pub(crate) error_equals: Vec<String>,
    pub(crate) next: usize,
    pub(crate) result_path: PathField,
    pub(crate) assign: Option<Template>,
    /// JSONata mode: `Output` and `Assign` of the error output.
    pub(crate) jsonata: Option<Box<JsonataIo>>,
}
