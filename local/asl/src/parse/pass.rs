//! A Pass state's fields and body (its `Result`).

use crate::spec::{Body, Pass};

use super::fields::Obj;

/// The fields of a Pass state beside the common ones.
pub(super) const FIELDS: &[&str] = &[
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Parameters",
    "Result",
    "ResultPath",
    "Assign",
];

pub(super) fn body(obj: &Obj<'_>) -> Body {
    Body::Pass(Pass {
        result: obj.get("Result").cloned(),
    })
}
