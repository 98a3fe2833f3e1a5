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
