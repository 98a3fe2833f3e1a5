//! Lambda's limits on a function's settings, with its validation messages. Pure checks: no
//! state.

use crate::cpu_model::MEMORY_RANGE_MB;
use crate::error::LambdaApiError;

/// Lambda's timeout range, in seconds.
pub use powersweep_model::lambda::TIMEOUT_RANGE_S;

/// Lambda's instruction sets as its `Architectures` field names them; the first is Lambda's
/// default. A local function runs on this machine's CPU whatever it says; the name is what the
/// function reports, so that prices follow it as they do on AWS.
pub const ARCHITECTURES: [&str; 2] = ["x86_64", "arm64"];

pub(super) fn check_memory(mb: u32) -> Result<(), LambdaApiError> {
    check_range("MemorySize", mb, &MEMORY_RANGE_MB, "MB")
}

pub(super) fn check_timeout(s: u32) -> Result<(), LambdaApiError> {
    check_range("Timeout", s, &TIMEOUT_RANGE_S, "seconds")
}

/// Lambda's message for a numeric setting outside its range.
fn check_range(
    field: &str,
    value: u32,
    range: &std::ops::RangeInclusive<u32>,
    unit: &str,
) -> Result<(), LambdaApiError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(LambdaApiError::invalid(format!(
            "'{field}' value {value} failed to satisfy constraint: Member must have value between {} and {} {unit}",
            range.start(),
            range.end()
        )))
    }
}

/// The architecture a new function gets, with Lambda's validation message for another name.
pub(super) fn check_architecture(architecture: Option<String>) -> Result<String, LambdaApiError> {
    match architecture {
        None => Ok(ARCHITECTURES[0].to_string()),
        Some(a) if ARCHITECTURES.contains(&a.as_str()) => Ok(a),
        Some(a) => Err(LambdaApiError::new(
            crate::error::ErrorType::Validation,
            format!(
                "1 validation error detected: Value '[{a}]' at 'architectures' failed to satisfy \
             constraint: Member must satisfy constraint: [Member must satisfy enum value set: \
             [{}]]",
                ARCHITECTURES.join(", ")
            ),
        )),
    }
}

pub(super) fn check_name(name: &str) -> Result<(), LambdaApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(LambdaApiError::invalid(format!(
            "'FunctionName' {name:?} must match [a-zA-Z0-9-_]{{1,64}}"
        )))
    }
}
