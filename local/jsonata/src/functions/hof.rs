//! Higher-order functions: $map, $filter, $reduce, $single, $sift, $sort. A callback gets as
//! many of (value, index/key, whole) as it declares parameters. Must not parse.

use super::{items, merge_sort};
use crate::error::{Result, err};
use crate::eval::Ev;
use crate::value::{Obj, Val, truthy};

type Args<'a> = &'a [Option<Val>];

fn arg(args: Args<'_>, i: usize) -> Option<Val> {
    args.get(i).cloned().flatten()
}

fn arity(f: &Val) -> usize {
    match f {
        Val::Func(func) => func.arity(),
        _ => 0,
    }
}

/// The first `arity` of (item, index, array).
fn hof_args(f: &Val, item: &Val, i: usize, all: &Val) -> Vec<Option<Val>> {
    #[allow(clippy::cast_precision_loss)]
    let full = [
        Some(item.clone()),
        Some(Val::Num(i as f64)),
        Some(all.clone()),
    ];
    full.iter().take(arity(f).clamp(1, 3)).cloned().collect()
}

pub(super) fn map(ev: &mut Ev<'_>, args: Args<'_>, input: &Option<Val>) -> Result<Option<Val>> {
    let (Some(a), Some(f)) = (arg(args, 0), arg(args, 1)) else {
        return Ok(None);
    };
    let xs = items(&Some(a.clone()));
    let mut out = Vec::new();
    for (i, x) in xs.iter().enumerate() {
        if let Some(r) = ev.apply(&f, hof_args(&f, x, i, &a), input)? {
            out.push(r);
        }
    }
    Ok(Some(Val::seq(out)))
}

pub(super) fn filter(ev: &mut Ev<'_>, args: Args<'_>, input: &Option<Val>) -> Result<Option<Val>> {
    let (Some(a), Some(f)) = (arg(args, 0), arg(args, 1)) else {
        return Ok(None);
    };
    let xs = items(&Some(a.clone()));
    let mut out = Vec::new();
    for (i, x) in xs.iter().enumerate() {
        if truthy(&ev.apply(&f, hof_args(&f, x, i, &a), input)?).unwrap_or(false) {
            out.push(x.clone());
        }
    }
    Ok(Some(Val::seq(out)))
}

pub(super) fn single(ev: &mut Ev<'_>, args: Args<'_>, input: &Option<Val>) -> Result<Option<Val>> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let f = arg(args, 1);
    let xs = items(&Some(a.clone()));
    let mut found = None;
    for (i, x) in xs.iter().enumerate() {
        let keep = match &f {
            Some(f) => truthy(&ev.apply(f, hof_args(f, x, i, &a), input)?).unwrap_or(false),
            None => true,
        };
        if keep {
            if found.is_some() {
                return Err(err(
                    "D3138",
                    "The $single() function expected exactly 1 matching result.  Instead it matched more.",
                    None,
                ));
            }
            found = Some(x.clone());
        }
    }
    match found {
        Some(v) => Ok(Some(v)),
        None => Err(err(
            "D3139",
            "The $single() function expected exactly 1 matching result.  Instead it matched 0.",
            None,
        )),
    }
}

pub(super) fn reduce(ev: &mut Ev<'_>, args: Args<'_>, input: &Option<Val>) -> Result<Option<Val>> {
    let (Some(a), Some(f)) = (arg(args, 0), arg(args, 1)) else {
        return Ok(None);
    };
    let n = arity(&f);
    if n < 2 {
        return Err(err(
            "D3050",
            "The second argument of reduce function must be a function with at least two arguments",
            None,
        ));
    }
    let xs = items(&Some(a.clone()));
    let (mut acc, start) = match arg(args, 2) {
        Some(init) => (Some(init), 0),
        None => (xs.first().cloned(), 1),
    };
    for (i, x) in xs.iter().enumerate().skip(start) {
        #[allow(clippy::cast_precision_loss)]
        let full = [
            acc.clone(),
            Some(x.clone()),
            Some(Val::Num(i as f64)),
            Some(a.clone()),
        ];
        acc = ev.apply(&f, full.iter().take(n.min(4)).cloned().collect(), input)?;
    }
    Ok(acc)
}

pub(super) fn sift(ev: &mut Ev<'_>, args: Args<'_>, input: &Option<Val>) -> Result<Option<Val>> {
    let (Some(Val::Obj(o)), Some(f)) = (arg(args, 0), arg(args, 1)) else {
        return Ok(None);
    };
    let mut out = Obj::new();
    for (k, v) in o.iter() {
        let full = [
            Some(v.clone()),
            Some(Val::str(k)),
            Some(Val::Obj(o.clone())),
        ];
        let call = full.iter().take(arity(&f).clamp(1, 3)).cloned().collect();
        if truthy(&ev.apply(&f, call, input)?).unwrap_or(false) {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(if out.is_empty() {
        None
    } else {
        Some(Val::object(out))
    })
}

pub(super) fn sort(ev: &mut Ev<'_>, args: Args<'_>, input: &Option<Val>) -> Result<Option<Val>> {
    let Some(a) = arg(args, 0) else {
        return Ok(None);
    };
    let xs = items(&Some(a));
    if xs.len() <= 1 {
        return Ok(Some(Val::array(xs)));
    }
    let sorted = match arg(args, 1) {
        Some(f) => merge_sort(xs, &mut |x: &Val, y: &Val| {
            Ok(
                truthy(&ev.apply(&f, vec![Some(x.clone()), Some(y.clone())], input)?)
                    .unwrap_or(false),
            )
        })?,
        None => {
            let all_num = xs.iter().all(|v| matches!(v, Val::Num(_)));
            let all_str = xs.iter().all(|v| matches!(v, Val::Str(_)));
            if !all_num && !all_str {
                return Err(err(
                    "D3070",
                    "The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function",
                    None,
                ));
            }
            merge_sort(xs, &mut |x: &Val, y: &Val| {
                Ok(match (x, y) {
                    (Val::Num(a), Val::Num(b)) => a > b,
                    (Val::Str(a), Val::Str(b)) => a > b,
                    _ => false,
                })
            })?
        }
    };
    Ok(Some(Val::array(sorted)))
}
