//! Array functions that need no callback: $append, $count, $distinct, $reverse, $shuffle,
//! $zip. Must not evaluate expressions.

use super::{append, items};
use crate::error::Result;
use crate::eval::Ev;
use crate::value::{Val, deep_equal};

type Args<'a> = &'a [Option<Val>];

fn arg(args: Args<'_>, i: usize) -> Option<Val> {
    args.get(i).cloned().flatten()
}

pub(super) fn append_fn(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    Ok(match append(arg(args, 0), arg(args, 1)) {
        Some(Val::Arr(a)) => Some(Val::array(a.items.clone())),
        other => other,
    })
}

pub(super) fn count(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    #[allow(clippy::cast_precision_loss)]
    Ok(Some(Val::Num(items(&arg(args, 0)).len() as f64)))
}

pub(super) fn reverse(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(v) = arg(args, 0) else {
        return Ok(None);
    };
    let mut xs = items(&Some(v));
    xs.reverse();
    Ok(Some(Val::array(xs)))
}

pub(super) fn distinct(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(v) = arg(args, 0) else {
        return Ok(None);
    };
    let Val::Arr(a) = &v else { return Ok(Some(v)) };
    let mut out: Vec<Val> = Vec::new();
    for item in &a.items {
        if !out.iter().any(|o| deep_equal(o, item)) {
            out.push(item.clone());
        }
    }
    Ok(Some(Val::array(out)))
}

pub(super) fn shuffle(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(v) = arg(args, 0) else {
        return Ok(None);
    };
    let mut xs = items(&Some(v));
    // A small xorshift seeded from the clock: no cryptographic need here.
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0x9E37_79B9, |d| d.subsec_nanos() as u64 | 1);
    for i in (1..xs.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        #[allow(clippy::cast_possible_truncation)]
        let j = (seed % (i as u64 + 1)) as usize;
        xs.swap(i, j);
    }
    Ok(Some(Val::array(xs)))
}

pub(super) fn zip(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let lists: Vec<Vec<Val>> = args.iter().map(items).collect();
    let n = lists.iter().map(Vec::len).min().unwrap_or(0);
    let rows = (0..n)
        .map(|i| Val::array(lists.iter().filter_map(|l| l.get(i).cloned()).collect()))
        .collect();
    Ok(Some(Val::array(rows)))
}
