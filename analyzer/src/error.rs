//! The analyzer's error type. It owns the wording of what can be wrong with an input;
//! it must not describe I/O (that is [`crate::ResultsFilesError`]).

/// Why an input could not be analyzed.
///
/// Every variant names the field or the JSON pointer of the sample at fault, so that a
/// state machine execution's error shows where its data went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is out of range (`discardTopBottom`, `balancedWeight`).
    #[error("invalid `{field}`: {reason}")]
    InvalidSetting {
        /// The input field, as spelled in JSON.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A sample is malformed.
    #[error("invalid sample at {at}: {reason}")]
    InvalidSample {
        /// JSON pointer into `samples`, e.g. `/0/1/2`.
        at: String,
        /// What is wrong with it.
        reason: String,
    },
    /// There is nothing to analyze: no sample and no configuration listed.
    #[error("no samples to analyze, and no `memorySizes` × `threads` to report on")]
    NoSamples,
}

impl Error {
    /// A stable, dotted name for this error, used as the Lambda `errorType`
    /// (so that a state machine `Catch` can match on it).
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::InvalidSetting { .. } => "Analyzer.InvalidSetting",
            Error::InvalidSample { .. } => "Analyzer.InvalidSample",
            Error::NoSamples => "Analyzer.NoSamples",
        }
    }
}
