//! A Map state's fields and body: its item processor, items path, item selector, and the
//! concurrency and tolerated-failure limits (numbers or paths). A distributed Map's own fields
//! (reader, batcher, writer, label) are `distributed.rs`'s.

use std::sync::Arc;

use crate::error::{ParseError, ParseErrorKind as K};
use crate::spec::state::map::{Limit, LimitF};
use crate::spec::{Lang, Map};

use super::fields::Obj;
use super::{R, machine, reference_path, template};

/// The fields of a Map state beside the common ones.
pub(super) const FIELDS: &[&str] = &[
    "ItemProcessor",
    "Iterator",
    "ItemsPath",
    "ItemSelector",
    "Parameters",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ResultPath",
    "ResultSelector",
    "OutputPath",
    "InputPath",
    "Next",
    "End",
    "Retry",
    "Catch",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "ItemReader",
    "ResultWriter",
    "ItemBatcher",
    "Label",
    "Assign",
];

pub(super) fn body(obj: &Obj<'_>, lang: Lang) -> R<Map> {
    let (field, proc) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
        (Some(p), None) => ("ItemProcessor", p),
        (None, Some(p)) => ("Iterator", p),
        (Some(_), Some(_)) => {
            return Err(ParseError::new(
                obj.ptr(),
                K::Invalid("`ItemProcessor` and `Iterator` are exclusive".into()),
            ));
        }
        (None, None) => return Err(ParseError::new(obj.ptr(), K::MissingField("ItemProcessor"))),
    };
    let po = Obj::new(proc, obj.at(field))?;
    po.only(&[
        "StartAt",
        "States",
        "Comment",
        "ProcessorConfig",
        "QueryLanguage",
    ])?;
    let distributed = super::distributed::fields(obj, &po, lang)?;
    let processor = Arc::new(machine(&po, None, super::language(&po, lang)?)?);
    let jsonata = |field: &str| {
        obj.get(field)
            .filter(|_| lang == Lang::Jsonata)
            .map(|v| super::jsonata::value(v, &obj.at(field)))
            .transpose()
    };
    let (items, selector) = (jsonata("Items")?, jsonata("ItemSelector")?);
    let item_selector = match (obj.get("ItemSelector"), obj.get("Parameters")) {
        _ if lang == Lang::Jsonata => None,
        (Some(_), Some(_)) => {
            return Err(ParseError::new(
                obj.ptr(),
                K::Invalid("`ItemSelector` and `Parameters` are exclusive".into()),
            ));
        }
        (Some(v), None) => Some(template(v, &obj.at("ItemSelector"))?),
        (None, Some(v)) => Some(template(v, &obj.at("Parameters"))?),
        (None, None) => None,
    };
    let items_path = obj
        .opt_str("ItemsPath")?
        .map(|p| reference_path(p, &obj.at("ItemsPath")))
        .transpose()?;
    // JSONata mode: a limit may be an expression, evaluated when the state runs.
    let expression = |f: &str| -> R<Option<crate::spec::JValue>> {
        match obj.get(f) {
            Some(v @ serde_json::Value::String(_)) if lang == Lang::Jsonata => {
                super::jsonata::value(v, &obj.at(f)).map(Some)
            }
            _ => Ok(None),
        }
    };
    let limit = |f: &str| limit(obj, f, lang);
    let tolerated_percentage = match expression("ToleratedFailurePercentage")? {
        Some(v) => Some(LimitF::Jsonata(v)),
        None => tolerated_percentage(obj)?,
    };
    Ok(Map {
        processor,
        items_path,
        item_selector,
        max_concurrency: limit("MaxConcurrency")?,
        tolerated_count: limit("ToleratedFailureCount")?,
        tolerated_percentage,
        items,
        selector,
        distributed,
    })
}

/// An integer field given literally, through its `…Path`, or (JSONata) as an expression.
pub(super) fn limit(obj: &Obj<'_>, f: &str, lang: Lang) -> R<Limit> {
    if let Some(v @ serde_json::Value::String(_)) = obj.get(f)
        && lang == Lang::Jsonata
    {
        return Ok(Limit::Jsonata(super::jsonata::value(v, &obj.at(f))?));
    }
    let pf = format!("{f}Path");
    match (obj.opt_u64(f)?, obj.opt_str(&pf)?) {
        (Some(_), Some(_)) => Err(ParseError::new(
            obj.ptr(),
            K::Invalid(format!("`{f}` and `{pf}` are exclusive")),
        )),
        (Some(n), None) => Ok(Limit::Fixed(n)),
        (None, Some(p)) => Ok(Limit::Path(reference_path(p, &obj.at(&pf))?)),
        (None, None) => Ok(Limit::None),
    }
}

/// `ToleratedFailurePercentage` as a number, or its Path.
fn tolerated_percentage(obj: &Obj<'_>) -> R<Option<LimitF>> {
    Ok(
        match (
            obj.get("ToleratedFailurePercentage"),
            obj.opt_str("ToleratedFailurePercentagePath")?,
        ) {
            (Some(_), Some(_)) => {
                return Err(ParseError::new(
                    obj.ptr(),
                    K::Invalid("`ToleratedFailurePercentage` and its Path are exclusive".into()),
                ));
            }
            (Some(v), None) => match v.as_f64() {
                Some(f) if (0.0..=100.0).contains(&f) => Some(LimitF::Fixed(f)),
                _ => {
                    return Err(ParseError::new(
                        obj.at("ToleratedFailurePercentage"),
                        K::WrongType("a number from 0 to 100"),
                    ));
                }
            },
            (None, Some(p)) => Some(LimitF::Path(reference_path(
                p,
                &obj.at("ToleratedFailurePercentagePath"),
            )?)),
            (None, None) => None,
        },
    )
}
