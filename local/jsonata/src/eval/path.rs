//! Paths: field lookup with auto-mapping over arrays, `*`, `**`, steps and how their results
//! flatten, `[…]` filters, `{…}` grouping and `^(…)` ordering — jsonata-js's sequence rules.
//! Must not implement operators or functions.

use std::rc::Rc;

use super::{Ev, MAX_ITEMS, Scope};
use crate::ast::{Expr, Kind, SortTerm};
use crate::error::{Result, err};
use crate::functions::merge_sort;
use crate::value::{Arr, Obj, Val, stringify, truthy};

/// D2014 for a sequence past [`MAX_ITEMS`] built in one go: an array that holds itself
/// level after level flattens into exponentially many items.
fn too_many() -> crate::Error {
    err("D2014", "Sequence too large", None)
}

/// `input.key`, mapped over arrays and flattened one level.
pub(crate) fn lookup(input: &Option<Val>, key: &str) -> Result<Option<Val>> {
    let Some(_nest) = crate::value::Nest::enter() else {
        return Ok(None);
    };
    Ok(match input {
        Some(Val::Arr(a)) => {
            let mut out = Vec::new();
            for item in &a.items {
                match lookup(&Some(item.clone()), key)? {
                    Some(Val::Arr(r)) => out.extend(r.items.iter().cloned()),
                    Some(v) => out.push(v),
                    None => {}
                }
                if out.len() > MAX_ITEMS {
                    return Err(too_many());
                }
            }
            Some(Val::seq(out))
        }
        Some(Val::Obj(o)) => o.get(key).cloned(),
        _ => None,
    })
}

/// All the values of every key, arrays flattened.
pub(crate) fn wildcard(input: &Option<Val>) -> Result<Option<Val>> {
    let input = match input {
        Some(Val::Arr(a)) if a.outer => a.items.first().cloned(),
        other => other.clone(),
    };
    let mut out = Vec::new();
    let values: Vec<Val> = match &input {
        Some(Val::Obj(o)) => o.values().cloned().collect(),
        Some(Val::Arr(a)) => a.items.clone(),
        _ => Vec::new(),
    };
    for v in values {
        match v {
            Val::Arr(_) => flatten_into(&v, &mut out)?,
            v => out.push(v),
        }
        if out.len() > MAX_ITEMS {
            return Err(too_many());
        }
    }
    Ok(Some(Val::seq(out)))
}

fn flatten_into(v: &Val, out: &mut Vec<Val>) -> Result<()> {
    let Some(_nest) = crate::value::Nest::enter() else {
        out.push(v.clone());
        return Ok(());
    };
    match v {
        Val::Arr(a) => {
            for i in &a.items {
                flatten_into(i, out)?;
            }
        }
        v => out.push(v.clone()),
    }
    if out.len() > MAX_ITEMS {
        return Err(too_many());
    }
    Ok(())
}

/// Every value at any depth below (and including) the input.
pub(crate) fn descendants(input: &Option<Val>) -> Result<Option<Val>> {
    let Some(input) = input.as_ref() else {
        return Ok(None);
    };
    let mut out = Vec::new();
    recurse(input, &mut out)?;
    if out.len() == 1 {
        return Ok(out.pop());
    }
    Ok(Some(Val::seq(out)))
}

fn recurse(v: &Val, out: &mut Vec<Val>) -> Result<()> {
    let Some(_nest) = crate::value::Nest::enter() else {
        out.push(v.clone());
        return Ok(());
    };
    match v {
        Val::Arr(a) => {
            for i in &a.items {
                recurse(i, out)?;
            }
        }
        Val::Obj(o) => {
            out.push(v.clone());
            for i in o.values() {
                recurse(i, out)?;
            }
        }
        v => out.push(v.clone()),
    }
    if out.len() > MAX_ITEMS {
        return Err(too_many());
    }
    Ok(())
}

/// Gives an item to sort its context value and scope.
pub(super) type ContextOf<'a, T> = dyn Fn(&T) -> (Option<Val>, Rc<Scope>) + 'a;

/// One plain (non-tuple) path step, for the tuple-stream module.
pub(super) fn step_public(
    ev: &mut Ev<'_>,
    step: &Expr,
    inputs: &[Option<Val>],
    scope: &Rc<Scope>,
    last: bool,
) -> Result<Val> {
    ev.step(step, inputs, scope, last)
}

impl Ev<'_> {
    pub(super) fn path(
        &mut self,
        steps: &[Expr],
        e: &Expr,
        input: &Option<Val>,
        scope: &Rc<Scope>,
    ) -> Result<Option<Val>> {
        let first_is_var = matches!(steps.first().map(|s| &s.kind), Some(Kind::Var(_)));
        let mut seq: Vec<Option<Val>> = match input {
            Some(Val::Arr(a)) if !first_is_var => a.items.iter().cloned().map(Some).collect(),
            other => vec![other.clone()],
        };
        if steps.iter().any(Expr::is_tuple) {
            return self.tuple_path(steps, e, seq, input, scope);
        }
        let mut result = Val::seq(Vec::new());
        for (i, step) in steps.iter().enumerate() {
            result = match &step.kind {
                // A leading array constructor is evaluated once, not per input item.
                Kind::Array { cons: true, .. } if i == 0 => {
                    let whole = match input {
                        Some(Val::Arr(a)) if first_is_var => Some(Val::Arr(a.clone())),
                        other => other.clone(),
                    };
                    self.eval(step, &whole, scope)?
                        .unwrap_or_else(|| Val::seq(Vec::new()))
                }
                _ => self.step(step, &seq, scope, i + 1 == steps.len())?,
            };
            match &result {
                Val::Arr(a) if a.items.is_empty() => break,
                Val::Arr(a) => seq = a.items.iter().cloned().map(Some).collect(),
                other => seq = vec![Some(other.clone())],
            }
        }
        if steps.iter().any(|s| s.keep_array)
            && let Val::Arr(a) = &mut result
        {
            if a.cons && !a.seq {
                result = Val::Arr(Rc::new(Arr {
                    items: vec![result.clone()],
                    seq: true,
                    keep: true,
                    ..Arr::default()
                }));
            } else {
                Rc::make_mut(a).keep = true;
            }
        }
        let mut r = Some(result);
        if let Some(g) = &e.group {
            r = Some(self.group(g, &r, scope)?);
        }
        Ok(r)
    }

    fn step(
        &mut self,
        step: &Expr,
        inputs: &[Option<Val>],
        scope: &Rc<Scope>,
        last: bool,
    ) -> Result<Val> {
        if let Kind::Sort(terms) = &step.kind {
            let items: Vec<Val> = inputs.iter().flatten().cloned().collect();
            let mut r = Some(Val::seq(self.sort(terms, items, scope)?));
            for f in &step.filters {
                r = self.filter(f, r, scope)?;
            }
            return Ok(r.unwrap_or_else(|| Val::seq(Vec::new())));
        }
        let mut results = Vec::new();
        for item in inputs {
            if let Some(v) = self.eval(step, item, scope)? {
                results.push(v);
            }
        }
        if last
            && results.len() == 1
            && let Some(Val::Arr(a)) = results.first()
            && !a.seq
        {
            return Ok(results.swap_remove(0));
        }
        let mut out = Vec::new();
        for r in results {
            match r {
                Val::Arr(a) if !a.cons => out.extend(a.items.iter().cloned()),
                v => out.push(v),
            }
            if out.len() > MAX_ITEMS {
                return Err(err("D2014", "Sequence too large", Some(step.pos)));
            }
        }
        Ok(Val::seq(out))
    }

    /// `input[pred]`: an index, indexes, or a boolean per item.
    pub(super) fn filter(
        &mut self,
        pred: &Expr,
        input: Option<Val>,
        scope: &Rc<Scope>,
    ) -> Result<Option<Val>> {
        let items: Vec<Val> = match input {
            None => Vec::new(),
            Some(Val::Arr(a)) => a.items.clone(),
            Some(v) => vec![v],
        };
        let len = items.len() as f64;
        let index_of = |n: f64| {
            let i = n.floor();
            if i < 0.0 { len + i } else { i }
        };
        if let Kind::Num(n) = pred.kind
            && pred.filters.is_empty()
        {
            let i = index_of(n);
            if i < 0.0 || i >= len {
                return Ok(Some(Val::seq(Vec::new())));
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            return Ok(match items.get(i as usize) {
                Some(v @ Val::Arr(_)) => Some(v.clone()),
                Some(v) => Some(Val::seq(vec![v.clone()])),
                None => Some(Val::seq(Vec::new())),
            });
        }
        let mut out = Vec::new();
        for (idx, item) in items.iter().enumerate() {
            let r = self.eval(pred, &Some(item.clone()), scope)?;
            let nums: Option<Vec<f64>> = match &r {
                Some(Val::Num(n)) => Some(vec![*n]),
                Some(Val::Arr(a))
                    if !a.items.is_empty() && a.items.iter().all(|v| matches!(v, Val::Num(_))) =>
                {
                    Some(
                        a.items
                            .iter()
                            .filter_map(|v| if let Val::Num(n) = v { Some(*n) } else { None })
                            .collect(),
                    )
                }
                _ => None,
            };
            match nums {
                Some(ns) => {
                    for n in ns {
                        if index_of(n) == idx as f64 {
                            out.push(item.clone());
                        }
                    }
                }
                None => {
                    if truthy(&r).unwrap_or(false) {
                        out.push(item.clone());
                    }
                }
            }
        }
        Ok(Some(Val::seq(out)))
    }

    /// `{k: v}` over the input's items: items grouped by key, then each value evaluated
    /// against its group.
    pub(crate) fn group(
        &mut self,
        pairs: &[(Expr, Expr)],
        input: &Option<Val>,
        scope: &Rc<Scope>,
    ) -> Result<Val> {
        let items: Vec<Option<Val>> = match input {
            Some(Val::Arr(a)) if a.items.is_empty() => vec![None],
            Some(Val::Arr(a)) => a.items.iter().cloned().map(Some).collect(),
            other => vec![other.clone()],
        };
        let mut groups: indexmap::IndexMap<String, (Option<Val>, usize)> =
            indexmap::IndexMap::new();
        for item in &items {
            for (pi, (k, _)) in pairs.iter().enumerate() {
                let key = match self.eval(k, item, scope)? {
                    None => continue,
                    Some(Val::Str(s)) => s.to_string(),
                    Some(other) => {
                        return Err(err(
                            "T1003",
                            format!(
                                "Key in object structure must evaluate to a string; got: {}",
                                stringify(&other, false, self.budget).unwrap_or_default()
                            ),
                            Some(k.pos),
                        ));
                    }
                };
                match groups.get_mut(&key) {
                    Some((data, idx)) => {
                        if *idx != pi {
                            return Err(err(
                                "D1009",
                                format!("Multiple key definitions evaluate to same key: {key}"),
                                Some(k.pos),
                            ));
                        }
                        *data = crate::functions::append(data.take(), item.clone());
                    }
                    None => {
                        groups.insert(key, (item.clone(), pi));
                    }
                }
            }
        }
        let mut out = Obj::new();
        for (key, (data, pi)) in groups {
            let Some((_, vexpr)) = pairs.get(pi) else {
                continue;
            };
            if let Some(v) = self.eval(vexpr, &data, scope)? {
                out.insert(key, v);
            }
        }
        Ok(Val::object(out))
    }

    fn sort(&mut self, terms: &[SortTerm], items: Vec<Val>, scope: &Rc<Scope>) -> Result<Vec<Val>> {
        self.sort_by(terms, items, &|v: &Val| (Some(v.clone()), scope.clone()))
    }

    /// Stable sort by order-by terms, each item giving its own context and scope.
    pub(super) fn sort_by<T>(
        &mut self,
        terms: &[SortTerm],
        items: Vec<T>,
        ctx: &ContextOf<'_, T>,
    ) -> Result<Vec<T>> {
        merge_sort(items, &mut |a: &T, b: &T| {
            for t in terms {
                let (ca, sa) = ctx(a);
                let (cb, sb) = ctx(b);
                let aa = self.eval(&t.expr, &ca, &sa)?;
                let bb = self.eval(&t.expr, &cb, &sb)?;
                let ord = match (&aa, &bb) {
                    (None, None) => continue,
                    (None, _) => return Ok(true),
                    (_, None) => return Ok(false),
                    (Some(Val::Num(x)), Some(Val::Num(y))) => x.partial_cmp(y),
                    (Some(Val::Str(x)), Some(Val::Str(y))) => Some(x.cmp(y)),
                    (
                        Some(x @ (Val::Num(_) | Val::Str(_))),
                        Some(y @ (Val::Num(_) | Val::Str(_))),
                    ) => {
                        let _ = (x, y);
                        return Err(err(
                            "T2007",
                            "Type mismatch when comparing values in order-by clause",
                            Some(t.expr.pos),
                        ));
                    }
                    _ => {
                        return Err(err(
                            "T2008",
                            "The expressions within an order-by clause must evaluate to numeric or string values",
                            Some(t.expr.pos),
                        ));
                    }
                };
                match ord {
                    Some(std::cmp::Ordering::Equal) | None => continue,
                    Some(o) => return Ok((o == std::cmp::Ordering::Greater) != t.descending),
                }
            }
            Ok(false)
        })
    }
}
