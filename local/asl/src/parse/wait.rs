//! A Wait state's fields and body: exactly one of Seconds, SecondsPath, Timestamp,
//! TimestampPath.

use crate::error::{ParseError, ParseErrorKind as K};
use crate::spec::Wait;

use super::fields::Obj;
use super::{R, reference_path};

/// The fields of a Wait state beside the common ones.
pub(super) const FIELDS: &[&str] = &[
    "Next",
    "End",
    "Seconds",
    "SecondsPath",
    "Timestamp",
    "TimestampPath",
    "InputPath",
    "OutputPath",
    "Assign",
];

pub(super) fn body(obj: &Obj<'_>) -> R<Wait> {
    let given: Vec<&str> = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"]
        .into_iter()
        .filter(|f| obj.get(f).is_some())
        .collect();
    if given.len() != 1 {
        return Err(ParseError::new(
            obj.ptr(),
            K::Invalid(
                "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath"
                    .into(),
            ),
        ));
    }
    Ok(match given[0] {
        "Seconds" => Wait::Seconds(obj.opt_u64("Seconds")?.unwrap_or(0)),
        "SecondsPath" => Wait::SecondsPath(reference_path(
            obj.req_str("SecondsPath")?,
            &obj.at("SecondsPath"),
        )?),
        "Timestamp" => {
            let s = obj.req_str("Timestamp")?;
            Wait::Timestamp(crate::eval::parse_timestamp(s).ok_or_else(|| {
                ParseError::new(
                    obj.at("Timestamp"),
                    K::Invalid(format!("`{s}` is not an ISO-8601 timestamp")),
                )
            })?)
        }
        _ => Wait::TimestampPath(reference_path(
            obj.req_str("TimestampPath")?,
            &obj.at("TimestampPath"),
        )?),
    })
}
