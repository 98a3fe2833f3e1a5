//! Array functions that need no callback: $append, $count, $distinct, $reverse, $shuffle,
//! $zip. Must not evaluate expressions.

use super::{append, items};
use crate::error::Result;
use crate::eval::Ev;
use crate::value::{ARR_BYTES, VAL_BYTES, Val, deep_equal};

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

pub(super) fn zip(ev: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let lists: Vec<&[Val]> = args
        .iter()
        .map(|a| match a {
            None => &[][..],
            Some(Val::Arr(a)) => &a.items[..],
            Some(v) => std::slice::from_ref(v),
        })
        .collect();
    let n = lists.iter().map(|l| l.len()).min().unwrap_or(0);
    // A row per item, an item per list: one array passed many times makes many times
    // what is held.
    let row = ARR_BYTES.saturating_add(lists.len().saturating_mul(VAL_BYTES));
    ev.budget.reserve(n.saturating_mul(row))?;
    let rows = (0..n)
        .map(|i| Val::array(lists.iter().filter_map(|l| l.get(i).cloned()).collect()))
        .collect();
    Ok(Some(Val::array(rows)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::functions::evaluate_for_tests as run;

    #[test]
    fn zip_within_the_memory_limit_zips() {
        assert_eq!(
            run("$zip([1, 2, 3], [4, 5], 6)"),
            Ok(Some(json!([[1, 4, 6]])))
        );
        assert_eq!(
            run("$zip([1, 2], [3, 4])"),
            Ok(Some(json!([[1, 3], [2, 4]])))
        );
    }

    #[test]
    fn zip_of_one_array_passed_many_times_past_the_limit_is_u1004() {
        let a = vec!["$a"; 60].join(", ");
        assert_eq!(
            run(&format!("($a := [1..1e6]; $zip({a}))")),
            Err("U1004".to_owned())
        );
    }
}
