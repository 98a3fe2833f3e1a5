//! Functions about values themselves and the clock: $boolean, $not, $exists, $type, $error,
//! $assert, $now, $millis, $eval. Must not evaluate expressions except $eval's text.

use crate::error::{Result, err};
use crate::eval::Ev;
use crate::value::{Val, truthy};

type Args<'a> = &'a [Option<Val>];

fn arg(args: Args<'_>, i: usize) -> Option<Val> {
    args.get(i).cloned().flatten()
}

pub(super) fn boolean(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    Ok(truthy(&arg(args, 0)).map(Val::Bool))
}

pub(super) fn not(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    Ok(truthy(&arg(args, 0)).map(|b| Val::Bool(!b)))
}

pub(super) fn exists(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    Ok(Some(Val::Bool(arg(args, 0).is_some())))
}

pub(super) fn type_of(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    Ok(arg(args, 0).map(|v| Val::str(v.type_name())))
}

pub(super) fn error(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let msg = match arg(args, 0) {
        Some(Val::Str(s)) => s.to_string(),
        _ => "$error() function evaluated".into(),
    };
    Err(err("D3137", msg, None))
}

pub(super) fn assert(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    if let Some(Val::Bool(true)) = arg(args, 0) {
        return Ok(None);
    }
    let msg = match arg(args, 1) {
        Some(Val::Str(s)) => s.to_string(),
        _ => "$assert() statement failed".into(),
    };
    Err(err("D3141", msg, None))
}

pub(super) fn millis(ev: &mut Ev<'_>, _: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    #[allow(clippy::cast_precision_loss)]
    Ok(Some(Val::Num(ev.now_ms as f64)))
}

/// `$now(picture?, timezone?)`: the evaluation's clock reading, formatted as $fromMillis does.
pub(super) fn now(ev: &mut Ev<'_>, args: Args<'_>, input: &Option<Val>) -> Result<Option<Val>> {
    #[allow(clippy::cast_precision_loss)]
    let ms = Some(Val::Num(ev.now_ms as f64));
    super::datetime::from_millis(ev, &[ms, arg(args, 0), arg(args, 1)], input)
}

/// `$eval(text, context?)`: parses and evaluates `text` against `context` (or the current
/// context) with the host's variables; D3120 when it does not parse, D3121 when it fails.
pub(super) fn eval(ev: &mut Ev<'_>, args: Args<'_>, input: &Option<Val>) -> Result<Option<Val>> {
    let Some(Val::Str(text)) = arg(args, 0) else {
        return Ok(None);
    };
    let ast = crate::parser::parse(&text).map_err(|e| {
        err(
            "D3120",
            format!(
                "Syntax error in expression passed to function eval: {}",
                e.message
            ),
            None,
        )
    })?;
    let context = arg(args, 1).or_else(|| input.clone());
    ev.run(&ast, context).map_err(|e| {
        err(
            "D3121",
            format!(
                "Dynamic error evaluating the expression passed to function eval: {}",
                e.message
            ),
            None,
        )
    })
}

/// `$clone(value)`: values are immutable here, so the value itself is its copy.
pub(super) fn clone(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    Ok(arg(args, 0))
}
