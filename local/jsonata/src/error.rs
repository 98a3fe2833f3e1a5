//! Builds the crate's [`Error`](crate::Error) from a jsonata-js error code. Owns nothing else:
//! the codes themselves are chosen where the failure is detected.

use crate::Error;

/// An error with `code`, `message` and, when known, the character offset in the expression.
pub(crate) fn err(code: &str, message: impl Into<String>, position: Option<usize>) -> Error {
    Error {
        code: code.to_owned(),
        message: message.into(),
        position,
    }
}

/// Shorthand for the crate's result type.
pub(crate) type Result<T> = std::result::Result<T, Error>;
