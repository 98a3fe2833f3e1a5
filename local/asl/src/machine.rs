//! [`StateMachine`]: a loaded and validated definition, ready to run many times.
//!
//! Owns the entry point from text to [`spec`](crate::spec). It must not run anything.

use std::str::FromStr;
use std::sync::Arc;

use serde_json::Value;

use crate::error::{ParseError, ParseErrorKind};
use crate::spec::Machine;

/// A validated ASL definition (JSONPath query language).
///
/// Cheap to clone: the parsed states are shared.
#[derive(Debug, Clone)]
pub struct StateMachine {
    pub(crate) root: Arc<Machine>,
    pub(crate) name: String,
}

impl StateMachine {
    /// Parses and validates a definition.
    ///
    /// # Errors
    /// A [`ParseError`] whose [`location`](ParseError::location) is the JSON pointer of the
    /// field at fault: text that is not JSON, missing `StartAt`, transitions to unknown
    /// states, unreachable states, states without `Next`/`End`, unknown fields, bad paths or
    /// intrinsic calls, JSONata expressions that do not parse.
    pub fn parse(text: &str) -> Result<StateMachine, ParseError> {
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| ParseError::new("", ParseErrorKind::Json(e.to_string())))?;
        StateMachine::from_value(&doc)
    }

    /// Like [`StateMachine::parse`] for a definition already parsed as JSON.
    ///
    /// # Errors
    /// As [`StateMachine::parse`].
    pub fn from_value(doc: &Value) -> Result<StateMachine, ParseError> {
        Ok(StateMachine {
            root: Arc::new(crate::parse::definition(doc)?),
            name: "StateMachine".to_owned(),
        })
    }

    /// Sets the name used in ARNs and `$$.StateMachine.Name` (default `StateMachine`).
    pub fn with_name(mut self, name: impl Into<String>) -> StateMachine {
        self.name = name.into();
        self
    }

    /// The state machine's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name of the first state.
    pub fn start_at(&self) -> &str {
        &self.root.states[self.root.start].name
    }

    /// The names of the top-level states, in definition order.
    pub fn state_names(&self) -> impl Iterator<Item = &str> {
        self.root.states.iter().map(|s| s.name.as_str())
    }
}

impl FromStr for StateMachine {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StateMachine::parse(s)
    }
}
