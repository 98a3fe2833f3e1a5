//! A Fail state's fields and body: its error and cause, literal or from a path or intrinsic.

use crate::error::{ParseError, ParseErrorKind as K};
use crate::spec::state::fail::Text;
use crate::spec::{Body, Fail, Lang};

use super::fields::Obj;
use super::{R, expr};

/// The fields of a Fail state beside the common ones.
pub(super) const FIELDS: &[&str] = &["Error", "ErrorPath", "Cause", "CausePath"];

pub(super) fn body(obj: &Obj<'_>, lang: Lang) -> R<Body> {
    if lang == Lang::Jsonata {
        return Ok(Body::Fail(Fail {
            error: super::jsonata::text(obj, "Error")?,
            cause: super::jsonata::text(obj, "Cause")?,
        }));
    }
    Ok(Body::Fail(Fail {
        error: text(obj, "Error")?,
        cause: text(obj, "Cause")?,
    }))
}

fn text(obj: &Obj<'_>, field: &str) -> R<Option<Text>> {
    let path_field = format!("{field}Path");
    match (obj.opt_str(field)?, obj.opt_str(&path_field)?) {
        (Some(_), Some(_)) => Err(ParseError::new(
            obj.ptr(),
            K::Invalid(format!("`{field}` and `{path_field}` are exclusive")),
        )),
        (Some(s), None) => Ok(Some(Text::Literal(s.to_owned()))),
        (None, Some(p)) => Ok(Some(Text::Expr(expr(p, &obj.at(&path_field))?))),
        (None, None) => Ok(None),
    }
}
