//! Errors: the Lambda API errors callers see (named exactly as AWS names them), and the
//! emulator's own start-up failures.
//!
//! Owns only error types and their wording. It must not decide *when* an error happens (that is
//! the registry's and the invoker's job). Function errors (a crash, a timeout, an OOM kill) are
//! not here: they are values in a successful `Invoke` output, as in Lambda.

use std::fmt;

/// The error types of Lambda's control and invoke API that the emulator can return.
///
/// `Display` prints the exact AWS string (`ResourceNotFoundException`, …) so that the ASL
/// engine can match `Retry`/`Catch` on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorType {
    /// The function, version or qualifier does not exist.
    ResourceNotFound,
    /// The resource is being updated (`LastUpdateStatus: InProgress`) or already exists.
    ResourceConflict,
    /// No environment is free and the per-version limit is reached.
    TooManyRequests,
    /// A parameter is outside what Lambda accepts (memory, timeout, qualifier, …).
    InvalidParameterValue,
    /// A request field breaks the API model's constraints (an `Architectures` name Lambda
    /// does not know); Lambda answers these before its own checks.
    Validation,
    /// The invocation payload is not JSON.
    InvalidRequestContent,
    /// The invocation payload is larger than [`crate::MAX_REQUEST_BYTES`]. Lambda's wire name;
    /// the SDKs call it `RequestTooLargeException`.
    RequestEntityTooLarge,
    /// The emulator itself failed (could not start a process, bind a port, …).
    Service,
}

impl ErrorType {
    /// The exact AWS name, e.g. `ResourceConflictException`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::ResourceNotFound => "ResourceNotFoundException",
            ErrorType::ResourceConflict => "ResourceConflictException",
            ErrorType::TooManyRequests => "TooManyRequestsException",
            ErrorType::InvalidParameterValue => "InvalidParameterValueException",
            ErrorType::InvalidRequestContent => "InvalidRequestContentException",
            ErrorType::Validation => "ValidationException",
            ErrorType::RequestEntityTooLarge => "RequestEntityTooLargeException",
            ErrorType::Service => "ServiceException",
        }
    }

    /// The HTTP status Lambda answers with for this error.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorType::ResourceNotFound => 404,
            ErrorType::ResourceConflict => 409,
            ErrorType::TooManyRequests => 429,
            ErrorType::InvalidParameterValue
            | ErrorType::InvalidRequestContent
            | ErrorType::Validation => 400,
            ErrorType::RequestEntityTooLarge => 413,
            ErrorType::Service => 500,
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of the Lambda API: an AWS error type and its message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct LambdaApiError {
    /// Which AWS error this is.
    pub error_type: ErrorType,
    /// The message, worded like AWS's where we know it.
    pub message: String,
}

impl LambdaApiError {
    pub(crate) fn new(error_type: ErrorType, message: impl Into<String>) -> Self {
        LambdaApiError {
            error_type,
            message: message.into(),
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorType::ResourceNotFound, message)
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorType::ResourceConflict, message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorType::InvalidParameterValue, message)
    }

    pub(crate) fn service(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Service, message)
    }
}

/// Why [`Emulator::start`](crate::Emulator::start) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A configuration value is out of range.
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    /// `CpuModeChoice::Cgroup` was forced but no cgroup could be created.
    #[error("cgroup mode was requested but is not available: {0}")]
    CgroupUnavailable(#[from] crate::cgroup::CgroupError),
}
