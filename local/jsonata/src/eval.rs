//! The evaluator: walks an [`Expr`] against an input within a [`Scope`] of variables. This
//! file owns dispatch, scopes and the run-away limits (depth, total work and the memory
//! [`Budget`]); paths, operators and function application live in the child modules. Must not
//! parse text.

mod apply;
mod ops;
mod path;
mod transform;
mod tuples;

pub(crate) use path::lookup;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::Environment;
use crate::ast::{Expr, Kind};
use crate::error::{Result, err};
use crate::functions;
use crate::value::{Arr, Func, Val, truthy};

/// Deepest nesting of evaluations (recursive lambdas count here): keeps the Rust stack safe.
pub(crate) const MAX_DEPTH: usize = 3000;
/// Most evaluation steps one `evaluate` may take before giving up.
/// (About a second of work in a release build; an endless tail recursion ends here.)
const MAX_STEPS: u64 = 10_000_000;
/// Largest array a range or sequence may build (jsonata-js's own range cap).
pub(crate) const MAX_ITEMS: usize = 10_000_000;

/// Most bytes one evaluation may hold: room for jsonata-js's own largest range (10 million
/// items) several times over, far below what takes a machine down. Counted by
/// [`meter::MeteredAlloc`](crate::meter::MeteredAlloc) where a binary installs it, and
/// checked in advance for allocations whose size is known before they happen.
pub const MAX_EVALUATION_BYTES: usize = 1 << 30;

/// What one evaluation may still allocate: the thread's [`meter`](crate::meter) reading when
/// it started, against [`MAX_EVALUATION_BYTES`]. The one place that decides "too much".
#[derive(Clone, Copy)]
pub(crate) struct Budget {
    start: isize,
}

impl Budget {
    pub(crate) fn start() -> Budget {
        Budget {
            start: crate::meter::live_bytes(),
        }
    }

    /// Bytes allocated on this thread since the evaluation started and not yet freed.
    fn held(self) -> usize {
        let held = crate::meter::live_bytes().wrapping_sub(self.start);
        usize::try_from(held).unwrap_or(0)
    }

    /// Fails with U1004 once the evaluation holds more than [`MAX_EVALUATION_BYTES`].
    pub(crate) fn check(self) -> Result<()> {
        self.reserve(0)
    }

    /// Fails with U1004 when `more` bytes on top of what the evaluation holds would exceed
    /// [`MAX_EVALUATION_BYTES`]. For an allocation whose size is known before it happens and
    /// may dwarf what is held: the meter would see it only once made.
    pub(crate) fn reserve(self, more: usize) -> Result<()> {
        if self.held().saturating_add(more) > MAX_EVALUATION_BYTES {
            return Err(over_budget());
        }
        Ok(())
    }

    /// Appends `piece` to `out`, for a string a built-in writes piece by piece with no step
    /// in between: checks the growth of `out`'s buffer (doubling, as `String` does) first.
    pub(crate) fn push_str(self, out: &mut String, piece: &str) -> Result<()> {
        let need = out.len().saturating_add(piece.len());
        if need > out.capacity() {
            let grown = need.max(out.capacity().saturating_mul(2));
            self.reserve(grown)?;
            out.reserve_exact(grown - out.len());
        }
        out.push_str(piece);
        Ok(())
    }
}

/// U1004: the evaluation would hold more than [`MAX_EVALUATION_BYTES`].
pub(crate) fn over_budget() -> crate::Error {
    let limit = if MAX_EVALUATION_BYTES.is_multiple_of(1 << 30) {
        format!("{} GiB", MAX_EVALUATION_BYTES >> 30)
    } else {
        format!("{} MiB", MAX_EVALUATION_BYTES >> 20)
    };
    err(
        "U1004",
        format!(
            "The evaluation holds more than {limit} (powersweep's memory limit for one JSONata evaluation)"
        ),
        None,
    )
}

/// Variables visible at one point: a frame and its parent.
#[derive(Default)]
pub(crate) struct Scope {
    vars: RefCell<HashMap<String, Option<Val>>>,
    parent: Option<Rc<Scope>>,
}

impl Scope {
    pub(crate) fn child(parent: &Rc<Scope>) -> Rc<Scope> {
        Rc::new(Scope {
            vars: RefCell::default(),
            parent: Some(Rc::clone(parent)),
        })
    }

    /// Binds `name` in this frame (`None`: bound to undefined, still shadowing outer frames).
    pub(crate) fn set(&self, name: &str, v: Option<Val>) {
        self.vars.borrow_mut().insert(name.to_owned(), v);
    }

    /// `Some(binding)` when `name` is bound in this frame or an outer one.
    fn get(&self, name: &str) -> Option<Option<Val>> {
        if let Some(v) = self.vars.borrow().get(name) {
            return Some(v.clone());
        }
        self.parent.as_ref().and_then(|p| p.get(name))
    }
}

/// One evaluation's state.
pub(crate) struct Ev<'e> {
    pub(crate) env: &'e Environment,
    depth: usize,
    steps: u64,
    /// What the evaluation may still allocate; checked at every step.
    pub(crate) budget: Budget,
    /// The evaluation's clock reading: every `$now()`/`$millis()` in one evaluation agrees.
    pub(crate) now_ms: i64,
    /// Scopes that `:=` wrote to: a lambda bound in the scope it closes over is an `Rc`
    /// cycle, broken by [`Ev::release`] once the result is out.
    bound: Vec<std::rc::Weak<Scope>>,
}

impl<'e> Ev<'e> {
    pub(crate) fn new(env: &'e Environment) -> Ev<'e> {
        Ev {
            env,
            depth: 0,
            steps: 0,
            budget: Budget::start(),
            bound: Vec::new(),
            now_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        }
    }

    /// Evaluates a whole expression against the caller's input.
    pub(crate) fn run(&mut self, e: &Expr, input: Option<Val>) -> Result<Option<Val>> {
        let root = Rc::new(Scope::default());
        for (k, v) in &self.env.variables {
            root.set(k, Some(Val::from_json(v)));
        }
        root.set("$", input.clone());
        // An input array is wrapped so that paths map over it while `$` is still the array.
        let input = match input {
            Some(v @ Val::Arr(_)) => Some(Val::Arr(Rc::new(Arr {
                items: vec![v],
                seq: true,
                outer: true,
                ..Arr::default()
            }))),
            other => other,
        };
        let r = self.eval(e, &input, &root)?;
        Ok(r.map(|v| match v {
            Val::Arr(a) if a.seq => Val::array(a.items.clone()),
            other => other,
        }))
    }

    fn enter(&mut self, pos: usize) -> Result<()> {
        self.depth += 1;
        self.steps += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                "U1001",
                "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.",
                Some(pos),
            ));
        }
        if self.steps > MAX_STEPS {
            return Err(err("U1002", "Evaluation took too many steps", Some(pos)));
        }
        self.budget.check()
    }

    /// Clears the scopes `:=` bound functions in, so that closures referring to their own
    /// scope are freed. Call only when no value of this evaluation is used any more.
    pub(crate) fn release(&mut self) {
        for s in self.bound.drain(..) {
            if let Some(s) = s.upgrade() {
                s.vars.borrow_mut().clear();
            }
        }
    }

    /// Counts one unit of work without nesting deeper.
    pub(crate) fn tick(&mut self) -> Result<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(err("U1002", "Evaluation took too many steps", None));
        }
        self.budget.check()
    }

    /// Evaluates `e`; `None` is undefined.
    pub(crate) fn eval(
        &mut self,
        e: &Expr,
        input: &Option<Val>,
        scope: &Rc<Scope>,
    ) -> Result<Option<Val>> {
        self.eval_with(e, input, scope, true)
    }

    /// Evaluates `e`, applying its `[…]` filters only when `filters` (a tuple-stream step
    /// applies them itself, to tuples).
    pub(crate) fn eval_with(
        &mut self,
        e: &Expr,
        input: &Option<Val>,
        scope: &Rc<Scope>,
        filters: bool,
    ) -> Result<Option<Val>> {
        self.enter(e.pos)?;
        let r = crate::with_stack(|| self.eval_inner(e, input, scope, filters));
        self.depth -= 1;
        r.map_err(|mut x| {
            if x.position.is_none() {
                x.position = Some(e.pos);
            }
            x
        })
    }

    fn eval_inner(
        &mut self,
        e: &Expr,
        input: &Option<Val>,
        scope: &Rc<Scope>,
        filters: bool,
    ) -> Result<Option<Val>> {
        let mut r = match &e.kind {
            Kind::Num(n) => Some(Val::Num(*n)),
            Kind::Str(s) => Some(Val::str(s)),
            Kind::Bool(b) => Some(Val::Bool(*b)),
            Kind::Null => Some(Val::Null),
            Kind::Regex(re) => Some(Val::Func(Rc::new(Func::Regex(re.clone())))),
            Kind::Name(n) => path::lookup(input, n)?,
            Kind::Var(v) => self.variable(v, input, scope),
            Kind::Wildcard => path::wildcard(input)?,
            Kind::Descendants => path::descendants(input)?,
            Kind::Parent(label) => scope.get(&parent_label(*label)).flatten(),
            Kind::Path(steps) => self.path(steps, e, input, scope)?,
            Kind::Neg(x) => match self.eval(x, input, scope)? {
                None => None,
                Some(Val::Num(n)) => Some(Val::Num(-n)),
                Some(_) => {
                    return Err(err(
                        "D1002",
                        "Cannot negate a non-numeric value",
                        Some(e.pos),
                    ));
                }
            },
            Kind::Array { items, cons } => self.array(items, *cons, input, scope)?,
            Kind::Object(pairs) => Some(self.group(pairs, input, scope)?),
            Kind::Binary(op, l, r) => self.binary(*op, l, r, input, scope)?,
            Kind::Condition(c, t, f) => {
                if truthy(&self.eval(c, input, scope)?).unwrap_or(false) {
                    self.eval(t, input, scope)?
                } else if let Some(f) = f {
                    self.eval(f, input, scope)?
                } else {
                    None
                }
            }
            Kind::Block(items) => {
                let inner = Scope::child(scope);
                let mut last = None;
                for item in items {
                    last = self.eval(item, input, &inner)?;
                }
                last
            }
            Kind::Bind(name, value) => {
                let v = self.eval(value, input, scope)?;
                if matches!(v, Some(Val::Func(_))) {
                    self.bound.push(Rc::downgrade(scope));
                }
                scope.set(name, v.clone());
                v
            }
            Kind::Lambda(def) => Some(Val::Func(Rc::new(Func::Lambda {
                def: def.clone(),
                scope: scope.clone(),
                input: input.clone(),
            }))),
            Kind::Call {
                func,
                args,
                partial,
            } => self.call(func, args, *partial, None, input, scope)?,
            Kind::Placeholder => {
                return Err(err(
                    "S0215",
                    "A ? placeholder may only be a function argument",
                    Some(e.pos),
                ));
            }
            Kind::Apply(l, r) => self.apply_chain(l, r, input, scope)?,
            Kind::IndexStage(_) => None,
            Kind::Sort(_) => {
                return Err(err(
                    "S0216",
                    "Order-by must follow a path step",
                    Some(e.pos),
                ));
            }
            Kind::Transform(def) => Some(Val::Func(Rc::new(Func::Transform {
                def: def.clone(),
                scope: scope.clone(),
            }))),
        };
        for f in e.filters.iter().filter(|_| filters) {
            r = self.filter(f, r, scope)?;
        }
        if let (Some(g), false) = (&e.group, matches!(e.kind, Kind::Path(_))) {
            r = Some(self.group(g, &r, scope)?);
        }
        Ok(collapse(r, e.keep_array))
    }

    fn variable(&self, name: &str, input: &Option<Val>, scope: &Rc<Scope>) -> Option<Val> {
        if name.is_empty() {
            return match input {
                Some(Val::Arr(a)) if a.outer => a.items.first().cloned(),
                other => other.clone(),
            };
        }
        if let Some(v) = scope.get(name) {
            return v;
        }
        if let Some(f) = self.env.functions.get(name) {
            return Some(Val::Func(Rc::new(Func::Native(f.clone()))));
        }
        functions::lookup(name).map(|b| Val::Func(Rc::new(Func::Builtin(b))))
    }

    fn array(
        &mut self,
        items: &[Expr],
        cons: bool,
        input: &Option<Val>,
        scope: &Rc<Scope>,
    ) -> Result<Option<Val>> {
        let mut out = Vec::new();
        for item in items {
            let Some(v) = self.eval(item, input, scope)? else {
                continue;
            };
            match (&item.kind, v) {
                (Kind::Array { .. }, v) => out.push(v),
                (_, Val::Arr(a)) => out.extend(a.items.iter().cloned()),
                (_, v) => out.push(v),
            }
            if out.len() > MAX_ITEMS {
                return Err(err(
                    "D2014",
                    "The size of the sequence allocated by the range operator must not exceed 1e7",
                    None,
                ));
            }
        }
        Ok(Some(Val::Arr(Rc::new(Arr {
            items: out,
            cons,
            ..Arr::default()
        }))))
    }
}

/// The variable name a `%` label is bound under (`!` cannot start a user's variable).
pub(crate) fn parent_label(label: usize) -> String {
    format!("!{label}")
}

/// jsonata-js's end-of-`evaluate` rule: an empty sequence is undefined, a one-item sequence
/// is its item unless `[]` asked to keep it.
pub(crate) fn collapse(r: Option<Val>, keep_array: bool) -> Option<Val> {
    match r {
        Some(Val::Arr(mut a)) if a.seq => {
            if keep_array && !a.keep {
                Rc::make_mut(&mut a).keep = true;
            }
            match a.items.len() {
                0 => None,
                1 if !a.keep => a.items.first().cloned(),
                _ => Some(Val::Arr(a)),
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::{Environment, Expression};

    fn run(text: &str, input: &Value) -> Result<Option<Value>, String> {
        Expression::parse(text)
            .and_then(|e| e.evaluate(Some(input), &Environment::default()))
            .map_err(|e| e.code)
    }

    /// `yields!(expression, input => expected)`; `expected` is `None` for undefined.
    macro_rules! yields {
        ($text:expr, $input:expr => $want:expr) => {
            assert_eq!(run($text, &$input), Ok($want), "{}", $text)
        };
    }

    /// `fails!(expression, input => code)`.
    macro_rules! fails {
        ($text:expr, $input:expr => $code:expr) => {
            assert_eq!(run($text, &$input), Err($code.to_owned()), "{}", $text)
        };
    }

    #[test]
    fn core_language() {
        let order = json!({"Account": {"Order": [
            {"OrderID": "a", "Product": [{"Price": 2, "Quantity": 3}, {"Price": 1.5, "Quantity": 2}]},
            {"OrderID": "b", "Product": [{"Price": 10, "Quantity": 1}]}
        ]}});
        yields!("Account.Order.OrderID", order => Some(json!(["a", "b"])));
        yields!("Account.Order[0].OrderID", order => Some(json!("a")));
        yields!("Account.Order[-1].OrderID", order => Some(json!("b")));
        yields!("Account.Order.Product.Price", order => Some(json!([2, 1.5, 10])));
        yields!("$sum(Account.Order.Product.(Price * Quantity))", order => Some(json!(19)));
        yields!("Account.Order[OrderID = 'b'].Product.Price", order => Some(json!(10)));
        yields!("Account.Order[0].OrderID[]", order => Some(json!(["a"])));
        yields!("Account.Order.Product^(>Price).Price", order => Some(json!([10, 2, 1.5])));
        yields!("Account.Order{OrderID: $count(Product)}", order => Some(json!({"a": 2, "b": 1})));
        yields!("Account.Order#$i[$i = 1].OrderID", order => Some(json!("b")));
        yields!("Account.Order.Product[%.OrderID = 'b'].Price", order => Some(json!(10)));
        yields!("nothing", order => None);
        yields!("[1..3]", json!(null) => Some(json!([1, 2, 3])));
        yields!("1 + 2 * 3 - 4 / 2", json!(null) => Some(json!(5)));
        yields!("'a' & 1 & true", json!(null) => Some(json!("a1true")));
        yields!("3 in [1, 2, 3] and $not(false)", json!(null) => Some(json!(true)));
        yields!("($x := 5; $f := function($n){ $n * $x }; $f(2))", json!(null) => Some(json!(10)));
        yields!("$map([1, 2], λ($v, $i){ $v + $i })", json!(null) => Some(json!([1, 3])));
        yields!("($add := function($a, $b){ $a + $b }; $inc := $add(?, 1); $inc(41))", json!(null) => Some(json!(42)));
        yields!("'hello' ~> $uppercase() ~> $substring(1, 3)", json!(null) => Some(json!("ELL")));
        yields!("$replace('a-b-c', /-(\\w)/, '+$1')", json!(null) => Some(json!("a+b+c")));
        yields!("$ ~> |a|{'c': 3}, ['b']|", json!({"a": {"b": 1, "d": 2}}) => Some(json!({"a": {"c": 3, "d": 2}})));
        yields!("$fromMillis(0)", json!(null) => Some(json!("1970-01-01T00:00:00.000Z")));
        yields!("$formatNumber(1234.5, '#,##0.00')", json!(null) => Some(json!("1,234.50")));
        yields!("$string(10 / 4)", json!(null) => Some(json!("2.5")));
        yields!("$", json!([1, 2]) => Some(json!([1, 2])));
    }

    #[test]
    fn errors_carry_jsonata_codes() {
        fails!("1 +", json!(null) => "S0207");
        fails!("'a' + 1", json!(null) => "T2001");
        fails!("$unknown()", json!(null) => "T1006");
        fails!("$substring('a', 1, 2, 3)", json!(null) => "T0410");
        fails!("$substring(1)", json!(null) => "T0411");
        fails!("$error('boom')", json!(null) => "D3137");
        fails!("[1..20000000]", json!(null) => "D2014");
        fails!("1/0", json!(null) => "D1001");
    }

    #[test]
    fn host_functions_and_variables_shadow_built_ins() {
        let mut env = Environment::default();
        env.bind("x", json!(2));
        env.register("string", std::sync::Arc::new(|_| Ok(Some(json!("mine")))));
        let e = Expression::parse("[$x, $string(1)]").map_err(|e| e.code);
        assert_eq!(
            e.and_then(|e| e.evaluate(None, &env).map_err(|e| e.code)),
            Ok(Some(json!([2, "mine"])))
        );
    }

    /// `$c` holds `$b` a thousand times, which holds `$a` (1000 numbers) a thousand times:
    /// about 50 KB held, a billion numbers written out; `$e` is two levels more.
    const SHARED: &str = "$a := [1..1000]; $b := $map([1..1000], function(){ $a }); $c := $map([1..1000], function(){ $b }); $d := $map([1..1000], function(){ $c }); $e := $map([1..10], function(){ $d })";

    fn shared(tail: &str) -> String {
        format!("({SHARED}; {tail})")
    }

    #[test]
    fn the_memory_limit_error_names_the_limit() {
        let e = Expression::parse("$pad('x', 2e9)")
            .and_then(|e| e.evaluate(None, &Environment::default()));
        let e = e
            .err()
            .unwrap_or_else(|| crate::error::err("none", "", None));
        assert_eq!(e.code, "U1004");
        assert_eq!(
            e.message,
            "The evaluation holds more than 1 GiB (powersweep's memory limit for one JSONata evaluation)"
        );
        assert_eq!(crate::MAX_EVALUATION_BYTES, 1 << 30);
    }

    #[test]
    fn a_result_that_fits_in_json_is_returned() {
        yields!(&shared("$count($b)"), json!(null) => Some(json!(1000)));
        let b = run(&shared("$b"), &json!(null));
        assert_eq!(
            b.map(|v| v.map(|v| v.to_string().len())),
            Ok(Some(3_895_001))
        );
    }

    #[test]
    fn a_result_whose_json_would_pass_the_limit_is_u1004() {
        fails!(&shared("$c"), json!(null) => "U1004");
        fails!(&shared("{'c': $c}"), json!(null) => "U1004");
    }

    #[test]
    fn host_functions_get_arguments_that_fit_in_json() {
        let mut env = Environment::default();
        env.register(
            "len",
            std::sync::Arc::new(|args| {
                Ok(Some(json!(
                    args.first()
                        .cloned()
                        .flatten()
                        .map_or(0, |v| v.to_string().len())
                )))
            }),
        );
        let run = |text: &str| {
            Expression::parse(text)
                .and_then(|e| e.evaluate(None, &env))
                .map_err(|e| e.code)
        };
        assert_eq!(run(&shared("$len($b)")), Ok(Some(json!(3_895_001))));
        assert_eq!(run(&shared("$len($c)")), Err("U1004".to_owned()));
    }

    #[test]
    fn paths_over_a_value_shared_in_itself_stop_at_the_sequence_limit() {
        // As SHARED, with objects at the bottom.
        let objects = |tail: &str| {
            format!(
                "($a := $map([1..1000], function($i){{ {{'x': $i}} }}); $b := $map([1..1000], function(){{ $a }}); $c := $map([1..1000], function(){{ $b }}); $d := $map([1..1000], function(){{ $c }}); {tail})"
            )
        };
        yields!(&objects("$count($b.x)"), json!(null) => Some(json!(1_000_000)));
        yields!(&objects("$count($b.*)"), json!(null) => Some(json!(1_000_000)));
        // One step over `$d` flattens a thousand `$c`s, each a billion items.
        fails!(&objects("$d.x"), json!(null) => "D2014");
        fails!(&objects("$d.*"), json!(null) => "D2014");
        fails!(&objects("$d.**"), json!(null) => "D2014");
        fails!(&objects("$lookup($c, 'x')"), json!(null) => "D2014");
    }

    #[test]
    fn a_transform_keeps_shared_values_shared() {
        yields!(&shared("$count($e ~> |$|{'y': 1}|)"), json!(null) => Some(json!(10)));
        yields!(
            "($o := {'x': 1}; [$o, $o] ~> |x|{'y': 2}|)",
            json!(null) => Some(json!([{"x": 1}, {"x": 1}]))
        );
        yields!(
            "({'a': {'x': 1}} ~> |a|{'y': 2}|)",
            json!(null) => Some(json!({"a": {"x": 1, "y": 2}}))
        );
    }

    #[test]
    fn expressions_can_be_shared_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Expression>();
        shareable::<Environment>();
    }
}
