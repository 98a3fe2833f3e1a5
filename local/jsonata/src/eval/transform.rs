//! The transform operator `| pattern | update, delete |`: a copy of the argument in which
//! every object the pattern selects is merged with the update object and loses the deleted
//! keys. Values are shared and immutable here, so "the objects selected" are found by
//! pointer identity and the tree is rebuilt around them. Must not parse.

use std::collections::HashMap;
use std::rc::Rc;

use super::{Ev, Scope};
use crate::ast::TransformDef;
use crate::error::{Result, err};
use crate::value::{Obj, Val};

/// What to do to one selected object.
struct Change {
    update: Option<Rc<Obj>>,
    delete: Vec<String>,
}

impl Ev<'_> {
    pub(super) fn transform(
        &mut self,
        def: &TransformDef,
        obj: Option<Val>,
        scope: &Rc<Scope>,
    ) -> Result<Option<Val>> {
        let Some(obj) = obj else { return Ok(None) };
        let matches = self.eval(&def.pattern, &Some(obj.clone()), scope)?;
        let matches = match matches {
            None => Vec::new(),
            Some(Val::Arr(a)) => a.items.clone(),
            Some(v) => vec![v],
        };
        let mut changes: HashMap<*const Obj, Change> = HashMap::new();
        for m in matches {
            let Val::Obj(o) = &m else { continue };
            let update = match self.eval(&def.update, &Some(m.clone()), scope)? {
                None => None,
                Some(Val::Obj(u)) => Some(u),
                Some(_) => {
                    return Err(err(
                        "T2011",
                        "The insert/update clause of the transform expression must evaluate to an object",
                        Some(def.update.pos),
                    ));
                }
            };
            let mut delete = Vec::new();
            if let Some(d) = &def.delete {
                match self.eval(d, &Some(m.clone()), scope)? {
                    None => {}
                    Some(Val::Str(s)) => delete.push(s.to_string()),
                    Some(Val::Arr(a)) if a.items.iter().all(|v| matches!(v, Val::Str(_))) => {
                        delete.extend(a.items.iter().filter_map(|v| {
                            if let Val::Str(s) = v {
                                Some(s.to_string())
                            } else {
                                None
                            }
                        }));
                    }
                    Some(_) => {
                        return Err(err(
                            "T2012",
                            "The delete clause of the transform expression must evaluate to a string or array of strings",
                            Some(d.pos),
                        ));
                    }
                }
            }
            changes.insert(Rc::as_ptr(o), Change { update, delete });
        }
        Ok(Some(rebuild(&obj, &changes, &mut HashMap::new())))
    }
}

/// A copy of `v` with `changes` made. A sub-value held in several places is copied once
/// (`done`, by address) and shared again: copied at each place, a value that holds one array
/// in itself level after level would grow exponentially.
fn rebuild(
    v: &Val,
    changes: &HashMap<*const Obj, Change>,
    done: &mut HashMap<*const (), Val>,
) -> Val {
    let Some(_nest) = crate::value::Nest::enter() else {
        return v.clone();
    };
    let key = crate::value::shared(v);
    if let Some(copy) = key.and_then(|k| done.get(&k)) {
        return copy.clone();
    }
    let copy = match v {
        Val::Arr(a) => {
            let mut a2 = (**a).clone();
            a2.items = a.items.iter().map(|i| rebuild(i, changes, done)).collect();
            Val::Arr(Rc::new(a2))
        }
        Val::Obj(o) => {
            let mut out: Obj = o
                .iter()
                .map(|(k, v)| (k.clone(), rebuild(v, changes, done)))
                .collect();
            if let Some(c) = changes.get(&Rc::as_ptr(o)) {
                if let Some(u) = &c.update {
                    for (k, v) in u.iter() {
                        out.insert(k.clone(), v.clone());
                    }
                }
                for k in &c.delete {
                    out.shift_remove(k);
                }
            }
            Val::object(out)
        }
        other => other.clone(),
    };
    if let Some(k) = key {
        done.insert(k, copy.clone());
    }
    copy
}
