//! Object functions: $keys, $lookup, $merge, $spread, $each. Keys keep insertion order.
//! Must not evaluate expressions except through `Ev::apply` for $each's callback.

use super::items;
use crate::error::Result;
use crate::eval::Ev;
use crate::value::{Obj, SMALL_OBJ_BYTES, Sizes, VAL_BYTES, Val, shared};

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
    crate::eval::lookup(&arg(args, 0), &key)
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

/// Bytes [`spread_into`] allocates for `v`, from above: an object of its own per key, with
/// arrays held in many places counted each time (so sized once per address).
fn spread_bytes(v: &Val, memo: &mut Sizes<usize>) -> usize {
    let Some(_nest) = crate::value::Nest::enter() else {
        return VAL_BYTES;
    };
    let key = shared(v);
    if let Some(known) = key.and_then(|k| memo.get(&k)) {
        return *known;
    }
    let size = match v {
        Val::Arr(a) => a
            .items
            .iter()
            .fold(0usize, |sum, i| sum.saturating_add(spread_bytes(i, memo))),
        Val::Obj(o) => o.keys().fold(0usize, |sum, k| {
            sum.saturating_add(SMALL_OBJ_BYTES + k.len())
        }),
        _ => VAL_BYTES,
    };
    if let Some(k) = key {
        memo.insert(k, size);
    }
    size
}

pub(super) fn spread(ev: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(v) = arg(args, 0) else {
        return Ok(None);
    };
    if let Val::Func(_) | Val::Null | Val::Bool(_) | Val::Num(_) | Val::Str(_) = v {
        return Ok(Some(v));
    }
    ev.budget.reserve(spread_bytes(&v, &mut Sizes::new()))?;
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::functions::evaluate_for_tests as run;

    #[test]
    fn spread_within_the_memory_limit_spreads() {
        assert_eq!(
            run("$spread([{'a': 1, 'b': 2}, [{'c': 3}], 4])"),
            Ok(Some(json!([{"a": 1}, {"b": 2}, {"c": 3}, 4])))
        );
    }

    #[test]
    fn spread_of_one_object_held_many_times_past_the_limit_is_u1004() {
        assert_eq!(
            run("($o := {'a': 1, 'b': 2, 'c': 3}; $spread($map([1..1e6], function(){ $o })))"),
            Err("U1004".to_owned())
        );
    }
}
