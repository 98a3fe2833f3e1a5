//! Resolves the parent operator `%` after parsing (jsonata-js `seekParent` /
//! `resolveAncestry`): each `%` is matched with the path step whose input it means, that step
//! gets a label to bind its input to, and the `%` reads that label. Must not evaluate.

use std::sync::Arc;

use crate::ast::{Expr, Kind};
use crate::error::{Result, err};

/// Slots: one per `%`, with how many steps up it still has to climb and its label.
#[derive(Default)]
struct Slots {
    level: Vec<usize>,
    label: Vec<usize>,
}

/// Resolves every `%` in `e`.
///
/// # Errors
/// S0217 when a `%` has no step to be the parent of.
pub(crate) fn resolve(e: &mut Expr) -> Result<()> {
    let mut slots = Slots::default();
    if !process(e, &mut slots)?.is_empty() {
        return Err(err(
            "S0217",
            "The object representing the 'parent' cannot be derived from this expression",
            Some(e.pos),
        ));
    }
    relabel(e, &slots);
    Ok(())
}

/// Processes `e` and its children; returns the slots still seeking a parent from here.
fn process(e: &mut Expr, s: &mut Slots) -> Result<Vec<usize>> {
    let mut pending = match &mut e.kind {
        Kind::Parent(slot) => {
            *slot = s.level.len();
            s.level.push(1);
            s.label.push(*slot);
            vec![*slot]
        }
        Kind::Path(steps) => process_path(steps, s)?,
        Kind::Lambda(def) => {
            // A lambda's body cannot see the parent of where it is called.
            if let Some(def) = Arc::get_mut(def) {
                process(&mut def.body, s)?;
            }
            Vec::new()
        }
        Kind::Call { func, args, .. } => {
            // The called function's own `%`s do not seek a parent here (jsonata-js).
            process(func, s)?;
            let mut out = Vec::new();
            for a in args {
                out.extend(process(a, s)?);
            }
            out
        }
        Kind::Transform(def) => {
            if let Some(def) = Arc::get_mut(def) {
                process(&mut def.pattern, s)?;
                process(&mut def.update, s)?;
                if let Some(d) = &mut def.delete {
                    process(d, s)?;
                }
            }
            Vec::new()
        }
        _ => {
            let mut out = Vec::new();
            for child in children(e) {
                out.extend(process(child, s)?);
            }
            out
        }
    };
    // Predicates: a `%` one level up inside a predicate is this node's own input.
    let mut filters = std::mem::take(&mut e.filters);
    for f in &mut filters {
        for slot in process(f, s)? {
            match s.level.get(slot).copied() {
                Some(1) => seek_parent(e, slot, s)?,
                Some(l) if l > 1 => s.level[slot] = l - 1,
                _ => {}
            }
            pending.push(slot);
        }
    }
    e.filters = filters;
    if let Some(group) = &mut e.group {
        for (k, v) in group {
            process(k, s)?;
            process(v, s)?;
        }
    }
    Ok(pending)
}

fn process_path(steps: &mut [Expr], s: &mut Slots) -> Result<Vec<usize>> {
    let mut path_pending = Vec::new();
    for k in 0..steps.len() {
        let step_pending = process(&mut steps[k], s)?;
        if k == 0 {
            if matches!(steps[0].kind, Kind::Parent(_)) {
                path_pending.extend(step_pending);
            }
            continue;
        }
        for slot in step_pending {
            let mut idx = k as isize - 1;
            while s.level.get(slot).is_some_and(|l| *l > 0) {
                if idx < 0 {
                    path_pending.push(slot);
                    break;
                }
                let mut st = idx as usize;
                idx -= 1;
                // Contiguous focus-binding steps count as one.
                while idx >= 0 && steps[st].focus.is_some() && steps[idx as usize].focus.is_some() {
                    st = idx as usize;
                    idx -= 1;
                }
                seek_parent(&mut steps[st], slot, s)?;
            }
        }
    }
    Ok(path_pending)
}

fn seek_parent(node: &mut Expr, slot: usize, s: &mut Slots) -> Result<()> {
    let Some(level) = s.level.get(slot).copied() else {
        return Ok(());
    };
    match &mut node.kind {
        Kind::Name(_) | Kind::Wildcard => {
            let level = level.saturating_sub(1);
            s.level[slot] = level;
            if level == 0 {
                if let Some(existing) = node.ancestor {
                    s.label[slot] = s.label.get(existing).copied().unwrap_or(existing);
                }
                node.ancestor = Some(slot);
            }
        }
        Kind::Parent(_) => s.level[slot] = level + 1,
        Kind::Block(items) => {
            if let Some(last) = items.last_mut() {
                node.tuple = true;
                seek_parent(last, slot, s)?;
            }
        }
        Kind::Path(steps) => {
            node.tuple = true;
            let mut idx = steps.len();
            while idx > 0 && s.level.get(slot).is_some_and(|l| *l > 0) {
                idx -= 1;
                seek_parent(&mut steps[idx], slot, s)?;
            }
        }
        _ => {
            return Err(err(
                "S0217",
                "The object representing the 'parent' cannot be derived from this expression",
                Some(node.pos),
            ));
        }
    }
    Ok(())
}

/// After resolution: slot numbers become labels, so `%`s that share a step share its label.
fn relabel(e: &mut Expr, s: &Slots) {
    if let Kind::Parent(slot) = &mut e.kind {
        *slot = s.label.get(*slot).copied().unwrap_or(*slot);
    }
    if let Some(a) = &mut e.ancestor {
        *a = s.label.get(*a).copied().unwrap_or(*a);
    }
    match &mut e.kind {
        Kind::Lambda(def) => {
            if let Some(def) = Arc::get_mut(def) {
                relabel(&mut def.body, s);
            }
        }
        Kind::Transform(def) => {
            if let Some(def) = Arc::get_mut(def) {
                relabel(&mut def.pattern, s);
                relabel(&mut def.update, s);
                if let Some(d) = &mut def.delete {
                    relabel(d, s);
                }
            }
        }
        _ => {
            for c in children(e) {
                relabel(c, s);
            }
        }
    }
    for f in &mut e.filters {
        relabel(f, s);
    }
    if let Some(group) = &mut e.group {
        for (k, v) in group {
            relabel(k, s);
            relabel(v, s);
        }
    }
}

/// The sub-expressions inside a node's kind (not its filters or group).
fn children(e: &mut Expr) -> Vec<&mut Expr> {
    match &mut e.kind {
        Kind::Path(steps) | Kind::Block(steps) => steps.iter_mut().collect(),
        Kind::Array { items, .. } => items.iter_mut().collect(),
        Kind::Object(pairs) => pairs.iter_mut().flat_map(|(k, v)| [k, v]).collect(),
        Kind::Neg(x) | Kind::Bind(_, x) => vec![&mut **x],
        Kind::Binary(_, l, r) | Kind::Apply(l, r) => vec![&mut **l, &mut **r],
        Kind::Condition(c, t, f) => {
            let mut v = vec![&mut **c, &mut **t];
            if let Some(f) = f {
                v.push(&mut **f);
            }
            v
        }
        Kind::Call { func, args, .. } => std::iter::once(&mut **func)
            .chain(args.iter_mut())
            .collect(),
        Kind::Sort(terms) => terms.iter_mut().map(|t| &mut t.expr).collect(),
        _ => Vec::new(),
    }
}
