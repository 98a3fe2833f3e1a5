//! Calling functions: evaluating a call's arguments, partial application with `?`, `~>`
//! chaining, and applying any function value (lambda, built-in, host-registered, partial,
//! chain) after its signature check. Must not know what any built-in does.

use std::rc::Rc;

use super::{Ev, Scope};
use crate::ast::{Expr, Kind};
use crate::error::{Result, err};
use crate::functions::signature;
use crate::value::{Func, Slot, Val};

/// What applying a function gave: a value, or a tail call still to make.
enum Next {
    Done(Option<Val>),
    Tail(Val, Vec<Option<Val>>, Option<Val>),
}

impl Ev<'_> {
    /// `func(args)`; `context` is the `~>` left-hand side, inserted as the first argument.
    pub(super) fn call(
        &mut self,
        func: &Expr,
        args: &[Expr],
        partial: bool,
        context: Option<Option<Val>>,
        input: &Option<Val>,
        scope: &Rc<Scope>,
    ) -> Result<Option<Val>> {
        let f = self.eval(func, input, scope)?;
        let Some(f @ Val::Func(_)) = f else {
            if let (Kind::Path(steps), false) = (&func.kind, partial)
                && let Some(Expr {
                    kind: Kind::Name(n),
                    ..
                }) = steps.first()
                && self.variable(n, &None, scope).is_some()
            {
                return Err(err(
                    "T1005",
                    format!("Attempted to invoke a non-function. Did you mean ${n}?"),
                    Some(func.pos),
                ));
            }
            let code = if partial { "T1008" } else { "T1006" };
            if partial
                && let Kind::Path(steps) = &func.kind
                && let Some(Expr {
                    kind: Kind::Name(n),
                    ..
                }) = steps.first()
                && self.variable(n, &None, scope).is_some()
            {
                return Err(err(
                    "T1007",
                    format!("Attempted to partially apply a non-function. Did you mean ${n}?"),
                    Some(func.pos),
                ));
            }
            return Err(err(
                code,
                "Attempted to invoke a non-function",
                Some(func.pos),
            ));
        };
        if partial {
            let mut slots = Vec::new();
            if let Some(c) = context {
                slots.push(Slot::Given(c));
            }
            for a in args {
                if matches!(a.kind, Kind::Placeholder) {
                    slots.push(Slot::Hole);
                } else {
                    slots.push(Slot::Given(self.eval(a, input, scope)?));
                }
            }
            return Ok(Some(Val::Func(Rc::new(Func::Partial { func: f, slots }))));
        }
        let mut values = Vec::with_capacity(args.len() + 1);
        if let Some(c) = context {
            values.push(c);
        }
        for a in args {
            values.push(self.eval(a, input, scope)?);
        }
        self.apply(&f, values, input)
    }

    /// `lhs ~> rhs`.
    pub(super) fn apply_chain(
        &mut self,
        l: &Expr,
        r: &Expr,
        input: &Option<Val>,
        scope: &Rc<Scope>,
    ) -> Result<Option<Val>> {
        if let Kind::Call {
            func,
            args,
            partial: false,
        } = &r.kind
            && r.filters.is_empty()
        {
            let keep = r.keep_array;
            let ctx = self.eval(l, input, scope)?;
            let r = self.call(func, args, false, Some(ctx), input, scope)?;
            return Ok(super::collapse(r, keep));
        }
        let lv = self.eval(l, input, scope)?;
        let f = self.eval(r, input, scope)?;
        let Some(f @ Val::Func(_)) = f else {
            return Err(err(
                "T2006",
                "The right side of the function application operator ~> must be a function",
                Some(r.pos),
            ));
        };
        if let Some(lf @ Val::Func(_)) = lv {
            return Ok(Some(Val::Func(Rc::new(Func::Chain(lf, f)))));
        }
        self.apply(&f, vec![lv], &None)
    }

    /// Applies a function value to arguments; `input` is the context for `-` signatures.
    pub(crate) fn apply(
        &mut self,
        f: &Val,
        args: Vec<Option<Val>>,
        input: &Option<Val>,
    ) -> Result<Option<Val>> {
        let Val::Func(func) = f else {
            return Err(err("T1006", "Attempted to invoke a non-function", None));
        };
        let unwrapped;
        let input = match input {
            Some(Val::Arr(a)) if a.outer => {
                unwrapped = a.items.first().cloned();
                &unwrapped
            }
            other => other,
        };
        self.enter(0)?;
        let mut r = self.apply_inner(func, args, input);
        // Trampoline: a lambda whose body ends in a call to a lambda hands that call back here
        // instead of recursing, so tail recursion runs in constant depth (as in jsonata-js).
        while let Ok(Next::Tail(f, args, input)) = r {
            r = match self.tick() {
                Err(e) => Err(e),
                Ok(()) => match &f {
                    Val::Func(g) => self.apply_inner(g, args, &input),
                    _ => Err(err("T1006", "Attempted to invoke a non-function", None)),
                },
            };
        }
        self.depth -= 1;
        r.map(|n| match n {
            Next::Done(v) => v,
            Next::Tail(..) => None,
        })
    }

    /// Evaluates a lambda body, returning a call in tail position unevaluated.
    fn tail_eval(&mut self, e: &Expr, input: &Option<Val>, scope: &Rc<Scope>) -> Result<Next> {
        let plain = e.filters.is_empty()
            && e.group.is_none()
            && !e.keep_array
            && e.focus.is_none()
            && !e.is_tuple();
        if plain {
            match &e.kind {
                Kind::Call {
                    func,
                    args,
                    partial: false,
                } => {
                    if let Some(f @ Val::Func(_)) = self.eval(func, input, scope)?
                        && matches!(&f, Val::Func(g) if matches!(**g, Func::Lambda { .. }))
                    {
                        let mut values = Vec::with_capacity(args.len());
                        for a in args {
                            values.push(self.eval(a, input, scope)?);
                        }
                        return Ok(Next::Tail(f, values, input.clone()));
                    }
                }
                Kind::Condition(c, t, f) => {
                    if crate::value::truthy(&self.eval(c, input, scope)?).unwrap_or(false) {
                        return self.tail_eval(t, input, scope);
                    }
                    return match f {
                        Some(f) => self.tail_eval(f, input, scope),
                        None => Ok(Next::Done(None)),
                    };
                }
                Kind::Block(items) => {
                    if let Some((last, init)) = items.split_last() {
                        let inner = Scope::child(scope);
                        for item in init {
                            self.eval(item, input, &inner)?;
                        }
                        return self.tail_eval(last, input, &inner);
                    }
                }
                _ => {}
            }
        }
        Ok(Next::Done(self.eval(e, input, scope)?))
    }

    fn apply_inner(
        &mut self,
        func: &Rc<Func>,
        args: Vec<Option<Val>>,
        input: &Option<Val>,
    ) -> Result<Next> {
        match &**func {
            Func::Lambda {
                def,
                scope,
                input: captured,
            } => {
                let args = match &def.signature {
                    Some(sig) => {
                        signature::validate(&signature::parse(sig), args, input, "lambda")?
                    }
                    None => args,
                };
                let frame = Scope::child(scope);
                for (i, p) in def.params.iter().enumerate() {
                    frame.set(p, args.get(i).cloned().flatten());
                }
                self.tail_eval(&def.body, captured, &frame)
            }
            Func::Builtin(b) => {
                let args = signature::validate(&b.params(), args, input, b.name)?;
                (b.f)(self, &args, input).map(Next::Done)
            }
            Func::Native(f) => {
                // JSON holds a sub-value shared in many places once per place.
                let bytes = args.iter().flatten().fold(0usize, |sum, a| {
                    sum.saturating_add(crate::value::json_bytes(a))
                });
                self.budget.reserve(bytes)?;
                for a in args.iter().flatten() {
                    crate::value::check_finite(a)?;
                }
                let json: Vec<Option<serde_json::Value>> = args
                    .iter()
                    .map(|a| a.as_ref().and_then(Val::to_json))
                    .collect();
                Ok(Next::Done(f(&json)?.map(|v| Val::from_json(&v))))
            }
            Func::Partial { func, slots } => {
                let mut given = args.into_iter();
                let full = slots
                    .iter()
                    .map(|s| match s {
                        Slot::Hole => given.next().flatten(),
                        Slot::Given(v) => v.clone(),
                    })
                    .collect();
                self.apply(func, full, input).map(Next::Done)
            }
            Func::Chain(first, then) => {
                let mid = self.apply(first, args, input)?;
                self.apply(then, vec![mid], input).map(Next::Done)
            }
            Func::Transform { def, scope } => {
                let args =
                    signature::validate(&signature::parse("<(oa):o>"), args, input, "transform")?;
                self.transform(def, args.into_iter().next().flatten(), scope)
                    .map(Next::Done)
            }
            Func::Regex(re) => {
                let s = match args.first() {
                    Some(Some(Val::Str(s))) => s.clone(),
                    _ => return Ok(Next::Done(None)),
                };
                Ok(Next::Done(crate::functions::regex_match_object(re, &s, 0)))
            }
        }
    }
}
