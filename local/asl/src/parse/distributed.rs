//! A Map's distributed fields: `ProcessorConfig` (`Mode`, `ExecutionType`), `ItemReader`,
//! `ItemBatcher`, `ResultWriter` and `Label`, with the rules AWS checks when it creates the
//! state machine (these fields only in `DISTRIBUTED` mode, an S3 bucket for the writer, a
//! label AWS can put in an ARN).
//!
//! Must not evaluate anything: paths and expressions are parsed here, run in
//! `eval/distributed.rs`.

use crate::error::{ParseError, ParseErrorKind as K};
use crate::spec::Lang;
use crate::spec::state::distributed::{
    Args, Distributed, ExecutionType, InputType, ItemBatcher, ItemReader, ResultWriter,
};
use crate::spec::state::map::Limit;

use super::R;
use super::fields::Obj;
use super::map::limit;

/// The resource an `ItemReader` reads an S3 object with.
pub(crate) const S3_GET_OBJECT: &str = "arn:aws:states:::s3:getObject";
/// The resource a `ResultWriter` writes its objects with.
pub(crate) const S3_PUT_OBJECT: &str = "arn:aws:states:::s3:putObject";
/// AWS's longest `Label` ("up to 40 characters", Map state in Distributed mode).
pub(crate) const MAX_LABEL_CHARS: usize = 40;

/// The fields only a distributed Map may have.
const DISTRIBUTED_ONLY: &[&str] = &["ItemReader", "ItemBatcher", "ResultWriter", "Label"];

/// The distributed half of the Map state `map`, whose `ItemProcessor` is `processor`; `None`
/// for an inline Map.
pub(super) fn fields(map: &Obj<'_>, processor: &Obj<'_>, lang: Lang) -> R<Option<Distributed>> {
    let config = processor
        .get("ProcessorConfig")
        .map(|c| Obj::new(c, processor.at("ProcessorConfig")))
        .transpose()?;
    if let Some(c) = &config {
        c.only(&["Mode", "ExecutionType"])?;
    }
    let mode = config
        .as_ref()
        .map(|c| c.opt_str("Mode"))
        .transpose()?
        .flatten();
    match mode {
        None | Some("INLINE") => {
            if let Some(field) = DISTRIBUTED_ONLY.iter().find(|f| map.get(f).is_some()) {
                return Err(ParseError::new(
                    map.at(field),
                    K::Invalid(format!(
                        "The field '{field}' is only supported for Map states in DISTRIBUTED mode (ProcessorConfig.Mode)"
                    )),
                ));
            }
            if let Some(c) = config.as_ref().filter(|c| c.get("ExecutionType").is_some()) {
                return Err(ParseError::new(
                    c.at("ExecutionType"),
                    K::Invalid("ExecutionType is only supported in DISTRIBUTED mode".into()),
                ));
            }
            return Ok(None);
        }
        Some("DISTRIBUTED") => {}
        Some(m) => {
            return Err(ParseError::new(
                map.at("ItemProcessor"),
                K::Invalid(format!("unknown Mode `{m}`")),
            ));
        }
    }
    let Some(config) = config else {
        unreachable!("a Mode was read from the ProcessorConfig")
    };
    let execution_type = match config.opt_str("ExecutionType")? {
        Some("STANDARD") => ExecutionType::Standard,
        Some("EXPRESS") => ExecutionType::Express,
        Some(other) => {
            return Err(ParseError::new(
                config.at("ExecutionType"),
                K::Invalid(format!(
                    "unknown ExecutionType `{other}` (STANDARD or EXPRESS)"
                )),
            ));
        }
        None => {
            return Err(ParseError::new(
                config.ptr(),
                K::MissingField("ExecutionType"),
            ));
        }
    };
    Ok(Some(Distributed {
        execution_type,
        reader: map
            .get("ItemReader")
            .map(|v| reader(&Obj::new(v, map.at("ItemReader"))?, lang))
            .transpose()?,
        batcher: map
            .get("ItemBatcher")
            .map(|v| batcher(&Obj::new(v, map.at("ItemBatcher"))?, lang))
            .transpose()?,
        writer: map
            .get("ResultWriter")
            .map(|v| writer(&Obj::new(v, map.at("ResultWriter"))?, lang))
            .transpose()?,
        label: map
            .opt_str("Label")?
            .map(|l| label(l, &map.at("Label")))
            .transpose()?,
    }))
}

fn reader(obj: &Obj<'_>, lang: Lang) -> R<ItemReader> {
    obj.only(&["Resource", "ReaderConfig", args_field(lang)])?;
    let resource = obj.req_str("Resource")?;
    if resource != S3_GET_OBJECT {
        return Err(ParseError::new(
            obj.at("Resource"),
            K::Unsupported(format!(
                "ItemReader resource `{resource}` (this engine reads JSON and JSON Lines objects with {S3_GET_OBJECT})"
            )),
        ));
    }
    let config = obj.req_obj("ReaderConfig")?;
    config.only(&[
        "InputType",
        "MaxItems",
        "MaxItemsPath",
        "CSVHeaderLocation",
        "CSVHeaders",
        "CSVDelimiter",
        "ManifestType",
    ])?;
    let input_type = match config.req_str("InputType")? {
        "JSON" => InputType::Json,
        "JSONL" => InputType::Jsonl,
        other @ ("CSV" | "MANIFEST" | "PARQUET") => {
            return Err(ParseError::new(
                config.at("InputType"),
                K::Unsupported(format!("ItemReader InputType {other}")),
            ));
        }
        other => {
            return Err(ParseError::new(
                config.at("InputType"),
                K::Invalid(format!("unknown InputType `{other}`")),
            ));
        }
    };
    Ok(ItemReader {
        resource: resource.to_owned(),
        args: s3_args(obj, lang)?,
        input_type,
        max_items: limit(&config, "MaxItems", lang)?,
    })
}

fn batcher(obj: &Obj<'_>, lang: Lang) -> R<ItemBatcher> {
    obj.only(&[
        "MaxItemsPerBatch",
        "MaxItemsPerBatchPath",
        "MaxInputBytesPerBatch",
        "MaxInputBytesPerBatchPath",
        "BatchInput",
    ])?;
    let max_items = limit(obj, "MaxItemsPerBatch", lang)?;
    let max_bytes = limit(obj, "MaxInputBytesPerBatch", lang)?;
    if matches!((&max_items, &max_bytes), (Limit::None, Limit::None)) {
        return Err(ParseError::new(
            obj.ptr(),
            K::Invalid(
                "an ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch (or their Path)"
                    .into(),
            ),
        ));
    }
    let batch_input = match obj.get("BatchInput") {
        None => None,
        Some(v) if lang == Lang::Jsonata => Some(Args::Jsonata(super::jsonata::value(
            v,
            &obj.at("BatchInput"),
        )?)),
        Some(v) => Some(Args::Path(super::template(v, &obj.at("BatchInput"))?)),
    };
    Ok(ItemBatcher {
        max_items,
        max_bytes,
        batch_input,
    })
}

fn writer(obj: &Obj<'_>, lang: Lang) -> R<ResultWriter> {
    obj.only(&["Resource", args_field(lang), "WriterConfig"])?;
    if obj.get("WriterConfig").is_some() {
        return Err(ParseError::new(
            obj.at("WriterConfig"),
            K::Unsupported("ResultWriter `WriterConfig`".into()),
        ));
    }
    let resource = obj.req_str("Resource")?;
    if resource != S3_PUT_OBJECT {
        return Err(ParseError::new(
            obj.at("Resource"),
            K::Invalid(format!(
                "a ResultWriter's Resource must be {S3_PUT_OBJECT}, not `{resource}`"
            )),
        ));
    }
    Ok(ResultWriter {
        resource: resource.to_owned(),
        args: s3_args(obj, lang)?,
    })
}

/// `Parameters` (JSONPath) or `Arguments` (JSONata) naming an S3 `Bucket` (required, as a
/// value or a path) and a `Key` or `Prefix`.
fn s3_args(obj: &Obj<'_>, lang: Lang) -> R<Args> {
    let field = args_field(lang);
    let params = obj.req_obj(match lang {
        Lang::Jsonata => "Arguments",
        Lang::JsonPath => "Parameters",
    })?;
    if params.get("Bucket").is_none() && params.get("Bucket.$").is_none() {
        return Err(ParseError::new(params.ptr(), K::MissingField("Bucket")));
    }
    let value = obj.get(field).unwrap_or(&serde_json::Value::Null);
    Ok(match lang {
        Lang::Jsonata => Args::Jsonata(super::jsonata::value(value, &obj.at(field))?),
        Lang::JsonPath => Args::Path(super::template(value, &obj.at(field))?),
    })
}

fn args_field(lang: Lang) -> &'static str {
    match lang {
        Lang::Jsonata => "Arguments",
        Lang::JsonPath => "Parameters",
    }
}

/// A `Label`: AWS puts it in the Map Run's and the child executions' ARNs, so it is short and
/// has none of the characters an ARN or a name may not hold.
fn label(text: &str, at: &str) -> R<String> {
    let bad = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(*c));
    if text.chars().count() > MAX_LABEL_CHARS || text.is_empty() || bad.is_some() {
        return Err(ParseError::new(
            at.to_owned(),
            K::Invalid(format!(
                "a Label has 1 to {MAX_LABEL_CHARS} characters, none of them whitespace or <>{{}}[]?*\"#%\\^|~`$&,;:/"
            )),
        ));
    }
    Ok(text.to_owned())
}
