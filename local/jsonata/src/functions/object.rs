//! Object functions: $keys, $lookup, $merge, $spread, $each. Keys keep insertion order.
//! Must not evaluate expressions except through `Ev::apply` for $each's callback.

use super::items;
use crate::error::Result;
use crate::eval::Ev;
use crate::value::{Obj, Val};

type Args<'a> = &'a [Option<Val>];

fn arg(args: Args<'_>, i: usize) -> Option<Val> {
    args.get(i).cloned().flatten()
}

pub(super) fn keys(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let mut out: Vec<String> = Vec::new();
    for v in items(&arg(args, 0)) {
        if let Val::Obj(o) = v {
            for k in o.keys() {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
    }
    Ok(Some(Val::seq(out.iter().map(|k| Val::str(k)).collect())))
}

pub(super) fn lookup(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(Val::Str(key)) = arg(args, 1) else {
        return Ok(None);
    };
    Ok(crate::eval::lookup(&arg(args, 0), &key))
}

pub(super) fn merge(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(v) = arg(args, 0) else {
        return Ok(None);
    };
    let mut out = Obj::new();
    for item in items(&Some(v)) {
        if let Val::Obj(o) = item {
            for (k, v) in o.iter() {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(Some(Val::object(out)))
}

fn spread_into(v: &Val, out: &mut Vec<Val>) {
    let Some(_nest) = crate::value::Nest::enter() else {
        return out.push(v.clone());
    };
    match v {
        Val::Arr(a) => a.items.iter().for_each(|i| spread_into(i, out)),
        Val::Obj(o) => {
            for (k, v) in o.iter() {
                let mut one = Obj::new();
                one.insert(k.clone(), v.clone());
                out.push(Val::object(one));
            }
        }
        v => out.push(v.clone()),
    }
}

pub(super) fn spread(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(v) = arg(args, 0) else {
        return Ok(None);
    };
    if let Val::Func(_) | Val::Null | Val::Bool(_) | Val::Num(_) | Val::Str(_) = v {
        return Ok(Some(v));
    }
    let mut out = Vec::new();
    spread_into(&v, &mut out);
    Ok(Some(Val::seq(out)))
}

pub(super) fn each(ev: &mut Ev<'_>, args: Args<'_>, input: &Option<Val>) -> Result<Option<Val>> {
    let (Some(Val::Obj(o)), Some(f)) = (arg(args, 0), arg(args, 1)) else {
        return Ok(None);
    };
    let arity = match &f {
        Val::Func(func) => func.arity(),
        _ => 0,
    };
    let mut out = Vec::new();
    for (k, v) in o.iter() {
        let all = [
            Some(v.clone()),
            Some(Val::str(k)),
            Some(Val::Obj(o.clone())),
        ];
        let call_args = all.iter().take(arity.clamp(1, 3)).cloned().collect();
        if let Some(r) = ev.apply(&f, call_args, input)? {
            out.push(r);
        }
    }
    Ok(Some(Val::seq(out)))
}
