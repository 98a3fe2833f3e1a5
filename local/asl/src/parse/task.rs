//! A Task state's fields and body: its resource, timeout and heartbeat (a heartbeat is only
//! validated and recorded: heartbeats need callback tasks, which run no differently here).

use crate::error::{ParseError, ParseErrorKind as K};
use crate::spec::state::task::Seconds;
use crate::spec::{Body, Lang, Task};

use super::fields::Obj;
use super::{R, reference_path};

/// The fields of a Task state beside the common ones.
pub(super) const FIELDS: &[&str] = &[
    "Next",
    "End",
    "Resource",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "TimeoutSeconds",
    "TimeoutSecondsPath",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "Credentials",
    "Assign",
];

pub(super) fn body(obj: &Obj<'_>, lang: Lang) -> R<Body> {
    let timeout = seconds(obj, "TimeoutSeconds", lang)?;
    let heartbeat = seconds(obj, "HeartbeatSeconds", lang)?;
    if let (Seconds::Fixed(h), Seconds::Fixed(t)) = (&heartbeat, &timeout)
        && h >= t
    {
        return Err(ParseError::new(
            obj.at("HeartbeatSeconds"),
            K::Invalid("must be smaller than TimeoutSeconds".into()),
        ));
    }
    Ok(Body::Task(Box::new(Task {
        resource: obj.req_str("Resource")?.to_owned(),
        timeout,
        heartbeat,
    })))
}

fn seconds(obj: &Obj<'_>, field: &str, lang: Lang) -> R<Seconds> {
    if let (Lang::Jsonata, Some(v @ serde_json::Value::String(_))) = (lang, obj.get(field)) {
        return super::jsonata::value(v, &obj.at(field)).map(Seconds::Jsonata);
    }
    let path_field = format!("{field}Path");
    match (obj.opt_u64(field)?, obj.opt_str(&path_field)?) {
        (Some(_), Some(_)) => Err(ParseError::new(
            obj.ptr(),
            K::Invalid(format!("`{field}` and `{path_field}` are exclusive")),
        )),
        (Some(0), None) => Err(ParseError::new(
            obj.at(field),
            K::Invalid("must be a positive integer".into()),
        )),
        (Some(n), None) => Ok(Seconds::Fixed(n)),
        (None, Some(p)) => Ok(Seconds::Path(reference_path(p, &obj.at(&path_field))?)),
        (None, None) => Ok(Seconds::None),
    }
}
