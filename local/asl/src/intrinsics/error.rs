//! Why evaluating an intrinsic function failed. The text becomes the cause of
//! `States.IntrinsicFailure` ("The evaluation of the intrinsic function failed: …"), so each
//! variant's words are what a user reads. Must not hold anything but the failure.

/// A failed call of a `States.*` function.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IntrinsicError {
    /// The function got another number of arguments, e.g. "2 argument(s)".
    #[error("expected {expected}, got {got}")]
    Arity {
        /// What it takes.
        expected: &'static str,
        /// What it got.
        got: usize,
    },
    /// An argument has the wrong JSON type: "`what` must be `kind`".
    #[error("{what} must be {kind}")]
    Type {
        /// Which argument.
        what: &'static str,
        /// What it must be ("an array", "a string", "an integer").
        kind: &'static str,
    },
    /// An argument's value is outside what the function accepts.
    #[error("{0}")]
    Value(String),
    /// `States.Base64Decode` of text that is not base64.
    #[error("not base64: {0}")]
    Base64(#[source] base64::DecodeError),
    /// `States.StringToJson` of text that is not JSON.
    #[error("not JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// A path argument the caller could not resolve (the caller's words).
    #[error("{0}")]
    Path(String),
    /// The failure of the named function, prefixed with its name.
    #[error("{name}: {source}")]
    In {
        /// `States.…`.
        name: String,
        /// What went wrong in it.
        #[source]
        source: Box<IntrinsicError>,
    },
}

impl IntrinsicError {
    /// An argument value the function does not accept.
    pub(crate) fn value(reason: impl Into<String>) -> Self {
        IntrinsicError::Value(reason.into())
    }
}

/// Why an intrinsic call expression does not parse. Its text follows "invalid intrinsic
/// function: " in the `States.Runtime` / definition error a user reads.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallSyntaxError {
    /// Text after the closing parenthesis of the outermost call.
    #[error("unexpected `{0}` after the call")]
    Trailing(String),
    /// Calls nested deeper than the engine follows.
    #[error("calls nested too deeply (more than {0})")]
    TooDeep(usize),
    /// A name without an argument list.
    #[error("expected `(` after the function name")]
    NoArguments,
    /// A name that is not one of the `States.*` functions.
    #[error("unknown function `{0}`")]
    Unknown(String),
    /// Arguments not separated by `,` or not closed by `)`.
    #[error("expected `,` or `)` in the arguments of {0}")]
    Separator(String),
    /// A path argument that does not parse.
    #[error(transparent)]
    Path(#[from] crate::path::PathError),
    /// An argument that is no literal, path or call.
    #[error("invalid argument `{0}`")]
    Argument(String),
    /// A backslash before a character that is not one of the four AWS reserves: AWS rejects
    /// the definition (recorded for `\"`).
    #[error("`\\{0}` is not an escape in a string literal (only \\', \\{{, \\}} and \\\\ are)")]
    Escape(char),
    /// A `'…` without its closing quote.
    #[error("unterminated string literal")]
    Unterminated,
}
