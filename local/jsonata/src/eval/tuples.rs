//! Tuple streams: paths with `@$focus` or `#$index` steps, where each result carries the
//! variables bound along the way (jsonata-js `evaluateTupleStep`). Filters, order-by and
//! grouping then see those variables. Must not implement plain path steps.

use std::rc::Rc;

use super::{Ev, Scope};
use crate::ast::{Expr, Kind};
use crate::error::{Result, err};
use crate::functions::append;
use crate::value::{Obj, Val, stringify, truthy};

/// One tuple: `@` is the context value, the rest are bound variables.
#[derive(Clone, Default)]
pub(super) struct Tuple {
    at: Option<Val>,
    vars: Vec<(String, Val)>,
}

impl Tuple {
    fn set(&mut self, name: &str, v: Val) {
        match self.vars.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = v,
            None => self.vars.push((name.to_owned(), v)),
        }
    }

    /// A scope with this tuple's variables bound over `scope`.
    fn frame(&self, scope: &Rc<Scope>) -> Rc<Scope> {
        let f = Scope::child(scope);
        for (k, v) in &self.vars {
            f.set(k, Some(v.clone()));
        }
        f
    }
}

fn num(i: usize) -> Val {
    #[allow(clippy::cast_precision_loss)]
    Val::Num(i as f64)
}

impl Ev<'_> {
    pub(super) fn tuple_path(
        &mut self,
        steps: &[Expr],
        e: &Expr,
        seq: Vec<Option<Val>>,
        input: &Option<Val>,
        scope: &Rc<Scope>,
    ) -> Result<Option<Val>> {
        let tuples = self.tuple_stream(steps, seq, input, scope)?;
        if let Some(g) = &e.group {
            return Ok(Some(self.group_tuples(g, &tuples, scope)?));
        }
        let mut out = Val::seq(tuples.into_iter().filter_map(|t| t.at).collect());
        if steps.iter().any(|s| s.keep_array)
            && let Val::Arr(a) = &mut out
        {
            Rc::make_mut(a).keep = true;
        }
        Ok(Some(out))
    }

    /// A path's steps as a tuple stream (plain steps first, then tuple steps).
    fn tuple_stream(
        &mut self,
        steps: &[Expr],
        mut seq: Vec<Option<Val>>,
        input: &Option<Val>,
        scope: &Rc<Scope>,
    ) -> Result<Vec<Tuple>> {
        let mut tuples: Option<Vec<Tuple>> = None;
        let mut plain;
        for (i, step) in steps.iter().enumerate() {
            let in_tuples = tuples.is_some() || step.is_tuple();
            if i == 0 && matches!(step.kind, Kind::Array { cons: true, .. }) {
                plain = self
                    .eval(step, input, scope)?
                    .unwrap_or_else(|| Val::seq(Vec::new()));
            } else if in_tuples {
                tuples = Some(self.tuple_step(step, &seq, tuples.take(), scope)?);
                continue;
            } else {
                plain = super::path::step_public(self, step, &seq, scope, i + 1 == steps.len())?;
            }
            match &plain {
                Val::Arr(a) if a.items.is_empty() => break,
                Val::Arr(a) => seq = a.items.iter().cloned().map(Some).collect(),
                other => seq = vec![Some(other.clone())],
            }
        }
        Ok(tuples.unwrap_or_else(|| {
            seq.into_iter()
                .map(|at| Tuple {
                    at,
                    vars: Vec::new(),
                })
                .collect()
        }))
    }

    /// A step that is itself a path (or a block ending in one) carrying ancestry: its own
    /// tuples, merged into each incoming tuple.
    fn nested_tuples(
        &mut self,
        step: &Expr,
        t: &Tuple,
        scope: &Rc<Scope>,
    ) -> Result<Option<Vec<Tuple>>> {
        let frame = t.frame(scope);
        let inner = match &step.kind {
            Kind::Path(inner) => inner,
            Kind::Block(items) => {
                let Some((last, init)) = items.split_last() else {
                    return Ok(None);
                };
                let Kind::Path(inner) = &last.kind else {
                    return Ok(None);
                };
                if !last.tuple {
                    return Ok(None);
                }
                let block = Scope::child(&frame);
                for item in init {
                    self.eval(item, &t.at, &block)?;
                }
                let input = match &t.at {
                    Some(Val::Arr(a)) => a.items.iter().cloned().map(Some).collect(),
                    other => vec![other.clone()],
                };
                let nested = self.tuple_stream(inner, input, &t.at, &block)?;
                return Ok(Some(self.merge_nested(t, nested)));
            }
            _ => return Ok(None),
        };
        let input = match &t.at {
            Some(Val::Arr(a)) => a.items.iter().cloned().map(Some).collect(),
            other => vec![other.clone()],
        };
        let nested = self.tuple_stream(inner, input, &t.at, &frame)?;
        Ok(Some(self.merge_nested(t, nested)))
    }

    fn merge_nested(&self, t: &Tuple, nested: Vec<Tuple>) -> Vec<Tuple> {
        nested
            .into_iter()
            .map(|n| {
                let mut m = t.clone();
                m.at = n.at;
                for (k, v) in n.vars {
                    m.set(&k, v);
                }
                m
            })
            .collect()
    }

    fn tuple_step(
        &mut self,
        step: &Expr,
        input: &[Option<Val>],
        tuples: Option<Vec<Tuple>>,
        scope: &Rc<Scope>,
    ) -> Result<Vec<Tuple>> {
        if let Kind::Sort(terms) = &step.kind {
            let sorted = match tuples {
                Some(ts) => self.sort_by(terms, ts, &|t: &Tuple| (t.at.clone(), t.frame(scope)))?,
                None => {
                    let items: Vec<Val> = input.iter().flatten().cloned().collect();
                    let sorted =
                        self.sort_by(terms, items, &|v: &Val| (Some(v.clone()), scope.clone()))?;
                    sorted
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let mut t = Tuple {
                                at: Some(v),
                                vars: Vec::new(),
                            };
                            if let Some(ix) = &step.index {
                                t.set(ix, num(i));
                            }
                            t
                        })
                        .collect()
                }
            };
            return self.stages(step, sorted, scope);
        }
        let tuples = tuples.unwrap_or_else(|| {
            input
                .iter()
                .map(|v| Tuple {
                    at: v.clone(),
                    vars: Vec::new(),
                })
                .collect()
        });
        let mut out = Vec::new();
        for t in &tuples {
            if step.tuple
                && let Some(nested) = self.nested_tuples(step, t, scope)?
            {
                out.extend(nested);
                continue;
            }
            let frame = t.frame(scope);
            let Some(res) = self.eval_with(step, &t.at, &frame, false)? else {
                continue;
            };
            let items = match res {
                Val::Arr(a) => a.items.clone(),
                v => vec![v],
            };
            for (bb, item) in items.into_iter().enumerate() {
                let mut nt = t.clone();
                match &step.focus {
                    Some(f) => nt.set(f, item),
                    None => nt.at = Some(item),
                }
                if let Some(ix) = &step.index {
                    nt.set(ix, num(bb));
                }
                if let (Some(label), Some(parent)) = (step.ancestor, &t.at) {
                    nt.set(&super::parent_label(label), parent.clone());
                }
                out.push(nt);
            }
        }
        self.stages(step, out, scope)
    }

    /// A tuple step's filters and `#` stages, in order.
    fn stages(
        &mut self,
        step: &Expr,
        mut tuples: Vec<Tuple>,
        scope: &Rc<Scope>,
    ) -> Result<Vec<Tuple>> {
        for f in &step.filters {
            if let Kind::IndexStage(name) = &f.kind {
                for (i, t) in tuples.iter_mut().enumerate() {
                    t.set(name, num(i));
                }
                continue;
            }
            tuples = self.filter_tuples(f, tuples, scope)?;
        }
        Ok(tuples)
    }

    fn filter_tuples(
        &mut self,
        pred: &Expr,
        tuples: Vec<Tuple>,
        scope: &Rc<Scope>,
    ) -> Result<Vec<Tuple>> {
        #[allow(clippy::cast_precision_loss)]
        let len = tuples.len() as f64;
        let index_of = |n: f64| {
            let i = n.floor();
            if i < 0.0 { len + i } else { i }
        };
        if let (Kind::Num(n), true) = (&pred.kind, pred.filters.is_empty()) {
            let i = index_of(*n);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            return Ok(if i < 0.0 {
                Vec::new()
            } else {
                tuples.get(i as usize).cloned().into_iter().collect()
            });
        }
        let mut out = Vec::new();
        for (idx, t) in tuples.iter().enumerate() {
            let frame = t.frame(scope);
            let r = self.eval(pred, &t.at, &frame)?;
            #[allow(clippy::cast_precision_loss)]
            let keep = match &r {
                Some(Val::Num(n)) => index_of(*n) == idx as f64,
                Some(Val::Arr(a))
                    if !a.items.is_empty() && a.items.iter().all(|v| matches!(v, Val::Num(_))) =>
                {
                    a.items
                        .iter()
                        .any(|v| matches!(v, Val::Num(n) if index_of(*n) == idx as f64))
                }
                _ => truthy(&r).unwrap_or(false),
            };
            if keep {
                out.push(t.clone());
            }
        }
        Ok(out)
    }

    fn group_tuples(
        &mut self,
        pairs: &[(Expr, Expr)],
        tuples: &[Tuple],
        scope: &Rc<Scope>,
    ) -> Result<Val> {
        let mut groups: indexmap::IndexMap<String, (Vec<Tuple>, usize)> = indexmap::IndexMap::new();
        for t in tuples {
            let frame = t.frame(scope);
            for (pi, (k, _)) in pairs.iter().enumerate() {
                let key = match self.eval(k, &t.at, &frame)? {
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
                        data.push(t.clone());
                    }
                    None => {
                        groups.insert(key, (vec![t.clone()], pi));
                    }
                }
            }
        }
        let mut out = Obj::new();
        for (key, (data, pi)) in groups {
            let Some((_, vexpr)) = pairs.get(pi) else {
                continue;
            };
            // The group's tuples merged: each variable (and `@`) becomes the sequence of its values.
            let mut merged = Tuple::default();
            for t in &data {
                merged.at = append(merged.at.take(), t.at.clone());
                for (k, v) in &t.vars {
                    let prev = merged
                        .vars
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone());
                    if let Some(nv) = append(prev, Some(v.clone())) {
                        merged.set(k, nv);
                    }
                }
            }
            let frame = merged.frame(scope);
            if let Some(v) = self.eval(vexpr, &merged.at, &frame)? {
                out.insert(key, v);
            }
        }
        Ok(Val::object(out))
    }
}
