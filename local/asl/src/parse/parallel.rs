//! A Parallel state's fields and body: its branches, each a state machine of its own.

use std::sync::Arc;

use crate::error::{ParseError, ParseErrorKind as K};
use crate::spec::{Body, Lang, Parallel};

use super::fields::Obj;
use super::{R, machine};

/// The fields of a Parallel state beside the common ones.
pub(super) const FIELDS: &[&str] = &[
    "Branches",
    "Next",
    "End",
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "Assign",
];

pub(super) fn body(obj: &Obj<'_>, lang: Lang) -> R<Body> {
    let branches = obj.req_arr("Branches")?;
    if branches.is_empty() {
        return Err(ParseError::new(
            obj.at("Branches"),
            K::Invalid("a Parallel state needs at least one branch".into()),
        ));
    }
    let mut out = Vec::with_capacity(branches.len());
    for (i, b) in branches.iter().enumerate() {
        let bo = Obj::new(b, format!("{}/{i}", obj.at("Branches")))?;
        bo.only(&["StartAt", "States", "Comment", "QueryLanguage"])?;
        let branch_lang = super::language(&bo, lang)?;
        out.push(Arc::new(machine(&bo, None, branch_lang)?));
    }
    Ok(Body::Parallel(Box::new(Parallel { branches: out })))
}
