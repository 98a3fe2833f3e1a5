//! The crate's error types: [`ParseError`] for definitions that do not load, and the runtime
//! error names of ASL ([`StatesError`]) with the value an execution fails with ([`Failure`]).
//!
//! Owns the exact spelling of every `States.*` name and the matching rules of `ErrorEquals`.
//! It must not decide *when* an error happens; the evaluator does.

use std::fmt;

use crate::path::PathError;

/// A definition that could not be loaded, with the JSON pointer of the offending field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at {}, {kind}", if location.is_empty() { "/" } else { location.as_str() })]
pub struct ParseError {
    location: String,
    kind: ParseErrorKind,
}

impl ParseError {
    pub(crate) fn new(location: impl Into<String>, kind: ParseErrorKind) -> Self {
        ParseError {
            location: location.into(),
            kind,
        }
    }

    /// The JSON pointer (RFC 6901) of the field at fault, e.g. `/States/Foo/Next`; empty for
    /// the whole document.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// What is wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }
}

/// What is wrong with a definition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The text is not JSON.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// A required field is absent.
    #[error("missing required field `{0}`")]
    MissingField(&'static str),
    /// A field this state type does not know.
    #[error("unknown field `{0}`")]
    UnknownField(String),
    /// A field has the wrong JSON type.
    #[error("expected {0}")]
    WrongType(&'static str),
    /// `Next`, `Default`, `StartAt` … names a state that does not exist.
    #[error("unknown state `{0}`")]
    UnknownState(String),
    /// No path leads from `StartAt` to this state.
    #[error("state `{0}` cannot be reached from StartAt")]
    Unreachable(String),
    /// A state that must transition has neither `Next` nor `End: true`.
    #[error("state needs `Next` or `End: true`")]
    NoTransition,
    /// A state has both `Next` and `End`.
    #[error("state has both `Next` and `End`")]
    BothNextAndEnd,
    /// A path does not parse, or is not allowed here.
    #[error("{0}")]
    Path(#[from] PathError),
    /// An intrinsic function call does not parse.
    #[error("invalid intrinsic function: {0}")]
    Intrinsic(#[source] crate::intrinsics::CallSyntaxError),
    /// Any other rule of the ASL specification.
    #[error("{0}")]
    Invalid(String),
    /// A valid ASL feature this engine does not implement.
    #[error("{0} is not supported yet")]
    Unsupported(String),
}

/// Declares [`StatesError`] from one list of variants and AWS names, so that the enum, its
/// names and its parser cannot drift apart.
macro_rules! states_errors {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )*) => {
        /// The predefined ASL error names. `Display` prints the exact AWS string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum StatesError {
            $( $(#[$doc])* $variant, )*
        }

        impl StatesError {
            /// The exact AWS name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( StatesError::$variant => $name, )*
                }
            }

            /// Parses an exact `States.*` name.
            pub fn from_name(name: &str) -> Option<StatesError> {
                match name {
                    $( $name => Some(StatesError::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

states_errors! {
    /// `States.ALL`: wildcard for any error except `States.Runtime` and `States.DataLimitExceeded`.
    All => "States.ALL",
    /// `States.DataLimitExceeded`: a payload exceeded the size limit.
    DataLimitExceeded => "States.DataLimitExceeded",
    /// `States.ExceedToleratedFailureThreshold`: a Map had more failed items than tolerated.
    ExceedToleratedFailureThreshold => "States.ExceedToleratedFailureThreshold",
    /// `States.ItemReaderFailed`: a distributed Map's `ItemReader` could not read its items.
    ItemReaderFailed => "States.ItemReaderFailed",
    /// `States.ResultWriterFailed`: a distributed Map's `ResultWriter` could not write.
    ResultWriterFailed => "States.ResultWriterFailed",
    /// `States.HeartbeatTimeout`.
    HeartbeatTimeout => "States.HeartbeatTimeout",
    /// `States.IntrinsicFailure`: an intrinsic function failed.
    IntrinsicFailure => "States.IntrinsicFailure",
    /// `States.NoChoiceMatched`: no Choice rule matched and there is no Default.
    NoChoiceMatched => "States.NoChoiceMatched",
    /// `States.ParameterPathFailure`.
    ParameterPathFailure => "States.ParameterPathFailure",
    /// `States.QueryEvaluationError`: a JSONata expression failed, returned nothing, or
    /// returned a value of the wrong type for its field.
    QueryEvaluationError => "States.QueryEvaluationError",
    /// `States.Permissions`.
    Permissions => "States.Permissions",
    /// `States.ResultPathMatchFailure`: ResultPath cannot be applied to the input.
    ResultPathMatchFailure => "States.ResultPathMatchFailure",
    /// `States.Runtime`: a failure in the engine's data processing; never caught by `States.ALL`.
    Runtime => "States.Runtime",
    /// `States.BranchFailed`: a branch of a Parallel or Map failed.
    BranchFailed => "States.BranchFailed",
    /// `States.TaskFailed`: wildcard for a failing task (anything but `States.Timeout`).
    TaskFailed => "States.TaskFailed",
    /// `States.Timeout`: a task or the execution ran longer than `TimeoutSeconds`.
    Timeout => "States.Timeout",
}

impl fmt::Display for StatesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a state (and then an execution) failed: AWS's `{error, cause}`. Both may be absent,
/// as with a `Fail` state that names neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The error name, e.g. `States.TaskFailed` or a custom name.
    pub error: Option<String>,
    /// Human-readable detail.
    pub cause: Option<String>,
    /// True when the failure came out of a Parallel branch or a Map iteration, which makes
    /// `States.BranchFailed` match it.
    pub(crate) from_branch: bool,
}

impl Failure {
    /// The failure that ends an execution whose history reached `limit` events, worded as AWS
    /// words it.
    pub(crate) fn history_full(full: crate::history::Full) -> Failure {
        use crate::history::Full;
        let cause = match full {
            Full::Events(limit) => {
                format!("The execution reached the maximum number of history events ({limit}).")
            }
            Full::Bytes(max) => format!(
                "The execution's history reached {} MiB, powersweep's memory bound for one execution (not an AWS quota: --lift-quotas lifts AWS's quotas, not this bound).",
                max >> 20
            ),
        };
        Failure::states(StatesError::Runtime, cause)
    }

    /// A failure with a predefined name.
    pub fn states(error: StatesError, cause: impl Into<String>) -> Failure {
        Failure {
            error: Some(error.as_str().to_owned()),
            cause: Some(cause.into()),
            from_branch: false,
        }
    }

    /// A failure with any name.
    pub fn custom(error: Option<String>, cause: Option<String>) -> Failure {
        Failure {
            error,
            cause,
            from_branch: false,
        }
    }

    /// Whether an `ErrorEquals` entry matches this failure, with ASL's wildcard rules.
    pub fn matches(&self, pattern: &str) -> bool {
        let name = self.error.as_deref();
        let uncatchable = matches!(name, Some("States.Runtime" | "States.DataLimitExceeded"));
        match pattern {
            "States.ALL" => !uncatchable,
            "States.TaskFailed" => {
                !uncatchable
                    && name != Some("States.Timeout")
                    && name != Some("States.HeartbeatTimeout")
            }
            "States.BranchFailed" => self.from_branch && !uncatchable,
            p => name == Some(p),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            self.error.as_deref().unwrap_or("(no error)"),
            self.cause.as_deref().unwrap_or("(no cause)")
        )
    }
}

impl std::error::Error for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in [
            "States.ALL",
            "States.Runtime",
            "States.TaskFailed",
            "States.Timeout",
            "States.BranchFailed",
        ] {
            assert_eq!(
                StatesError::from_name(n).map(|e| e.to_string()).as_deref(),
                Some(n)
            );
        }
    }

    #[test]
    fn all_does_not_catch_runtime() {
        let rt = Failure::states(StatesError::Runtime, "x");
        assert!(!rt.matches("States.ALL"));
        assert!(rt.matches("States.Runtime"));
        let custom = Failure::custom(Some("Oops".into()), None);
        assert!(
            custom.matches("States.ALL")
                && custom.matches("States.TaskFailed")
                && custom.matches("Oops")
        );
        assert!(!Failure::states(StatesError::Timeout, "t").matches("States.TaskFailed"));
    }

    #[test]
    fn parse_error_display_names_location() {
        let e = ParseError::new(
            "/States/Foo/Next",
            ParseErrorKind::UnknownState("Bar".into()),
        );
        assert_eq!(e.to_string(), "at /States/Foo/Next, unknown state `Bar`");
    }
}
