//! The evaluator's own value: JSON plus what JSONata adds (sequences with their flags,
//! functions as values), with `Option<Val>` as "maybe undefined". Owns conversion to and from
//! `serde_json::Value`, JavaScript's number printing and JSONata's truthiness and equality;
//! must not evaluate expressions.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Number, Value};

use crate::NativeFn;
use crate::ast::LambdaDef;
use crate::error::{Result, err};
use crate::eval::{Budget, Scope};
use crate::functions::Builtin;

/// An object: keys keep their insertion order. A wrapper only so that dropping a deeply
/// nested value does not recurse (see [`drop_iteratively`]).
#[derive(Clone, Default)]
pub(crate) struct Obj(IndexMap<String, Val>);

impl Obj {
    pub(crate) fn new() -> Obj {
        Obj(IndexMap::new())
    }
}

impl std::ops::Deref for Obj {
    type Target = IndexMap<String, Val>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Obj {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl FromIterator<(String, Val)> for Obj {
    fn from_iter<I: IntoIterator<Item = (String, Val)>>(iter: I) -> Obj {
        Obj(iter.into_iter().collect())
    }
}

impl Drop for Obj {
    fn drop(&mut self) {
        if self.0.values().any(Val::is_container) {
            drop_iteratively(self.0.drain(..).map(|(_, v)| v).collect());
        }
    }
}

impl Drop for Arr {
    fn drop(&mut self) {
        if self.items.iter().any(Val::is_container) {
            drop_iteratively(std::mem::take(&mut self.items));
        }
    }
}

/// Drops values with an explicit stack: a value nested a million deep (tail recursion can
/// build one) must not overflow the stack when it goes away.
fn drop_iteratively(mut stack: Vec<Val>) {
    while let Some(v) = stack.pop() {
        match v {
            Val::Arr(rc) => {
                if let Ok(mut a) = Rc::try_unwrap(rc) {
                    stack.append(&mut a.items);
                }
            }
            Val::Obj(rc) => {
                if let Ok(mut o) = Rc::try_unwrap(rc) {
                    stack.extend(o.0.drain(..).map(|(_, v)| v));
                }
            }
            _ => {}
        }
    }
}

/// Deepest nesting the recursive walks over values (equality, printing, output) follow.
/// Beyond it they give up (an error, or a conservative answer) instead of overflowing.
pub(crate) const MAX_NESTING: usize = 2000;

thread_local! {
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One level of a recursive walk over a value; `None` when [`MAX_NESTING`] is reached.
pub(crate) struct Nest(());

impl Nest {
    pub(crate) fn enter() -> Option<Nest> {
        NESTING.with(|n| {
            if n.get() >= MAX_NESTING {
                None
            } else {
                n.set(n.get() + 1);
                Some(Nest(()))
            }
        })
    }
}

impl Drop for Nest {
    fn drop(&mut self) {
        NESTING.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

fn too_deep() -> crate::Error {
    err(
        "U1003",
        format!("The value nests more than {MAX_NESTING} levels deep"),
        None,
    )
}

/// A value (never undefined: that is `None` around it).
#[derive(Clone)]
pub(crate) enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(Rc<str>),
    Arr(Rc<Arr>),
    Obj(Rc<Obj>),
    Func(Rc<Func>),
}

/// An array, or a JSONata sequence (`seq`): a result that flattens and collapses to its only
/// item.
#[derive(Clone, Default)]
pub(crate) struct Arr {
    pub(crate) items: Vec<Val>,
    /// A sequence rather than an array value.
    pub(crate) seq: bool,
    /// `[]` was used: a one-item sequence stays an array.
    pub(crate) keep: bool,
    /// Built by an array constructor inside a path: not flattened into the path's result.
    pub(crate) cons: bool,
    /// The evaluation's input array, wrapped so that `$` still sees the whole array.
    pub(crate) outer: bool,
}

/// One argument slot of a partial application: a `?` hole or a given value.
#[derive(Clone)]
pub(crate) enum Slot {
    Hole,
    Given(Option<Val>),
}

/// A function value.
pub(crate) enum Func {
    /// `function($x){…}` closed over the scope and input where it was defined.
    Lambda {
        def: Arc<LambdaDef>,
        scope: Rc<Scope>,
        input: Option<Val>,
    },
    /// A built-in library function.
    Builtin(&'static Builtin),
    /// A function registered by the host through `Environment::register`.
    Native(NativeFn),
    /// `f(?, x)`.
    Partial { func: Val, slots: Vec<Slot> },
    /// `f ~> g` where both are functions.
    Chain(Val, Val),
    /// `| pattern | update, delete |`.
    Transform {
        def: Arc<crate::ast::TransformDef>,
        scope: Rc<Scope>,
    },
    /// A regex literal.
    Regex(Arc<regex::Regex>),
}

impl Func {
    /// How many parameters the function declares (used by $map/$filter/… to decide what to pass).
    pub(crate) fn arity(&self) -> usize {
        match self {
            Func::Lambda { def, .. } => def.params.len(),
            Func::Builtin(b) => b.arity(),
            Func::Native(..) => 1,
            Func::Partial { slots, .. } => slots.iter().filter(|s| matches!(s, Slot::Hole)).count(),
            Func::Chain(..) | Func::Regex(_) | Func::Transform { .. } => 1,
        }
    }
}

impl Val {
    pub(crate) fn str(s: &str) -> Val {
        Val::Str(Rc::from(s))
    }

    /// A plain array value.
    pub(crate) fn array(items: Vec<Val>) -> Val {
        Val::Arr(Rc::new(Arr {
            items,
            ..Arr::default()
        }))
    }

    /// A sequence.
    pub(crate) fn seq(items: Vec<Val>) -> Val {
        Val::Arr(Rc::new(Arr {
            items,
            seq: true,
            ..Arr::default()
        }))
    }

    pub(crate) fn object(o: Obj) -> Val {
        Val::Obj(Rc::new(o))
    }

    pub(crate) fn is_container(&self) -> bool {
        matches!(self, Val::Arr(_) | Val::Obj(_))
    }

    pub(crate) fn is_func(&self) -> bool {
        matches!(self, Val::Func(_))
    }

    /// JSONata's type name ($type).
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "boolean",
            Val::Num(_) => "number",
            Val::Str(_) => "string",
            Val::Arr(_) => "array",
            Val::Obj(_) => "object",
            Val::Func(_) => "function",
        }
    }

    /// The signature symbol of this value (jsonata-js `getSymbol`).
    pub(crate) fn symbol(&self) -> char {
        match self {
            Val::Null => 'l',
            Val::Bool(_) => 'b',
            Val::Num(_) => 'n',
            Val::Str(_) => 's',
            Val::Arr(_) => 'a',
            Val::Obj(_) => 'o',
            Val::Func(_) => 'f',
        }
    }

    /// From JSON.
    pub(crate) fn from_json(v: &Value) -> Val {
        crate::with_stack(|| Self::from_json_here(v))
    }

    fn from_json_here(v: &Value) -> Val {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Val::str(s),
            Value::Array(a) => Val::array(a.iter().map(Val::from_json).collect()),
            Value::Object(o) => Val::object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Val::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// To JSON; functions have no JSON form and become `None` (dropped from objects, `null`
    /// in arrays, as `JSON.stringify` does).
    pub(crate) fn to_json(&self) -> Option<Value> {
        crate::with_stack(|| self.to_json_here())
    }

    fn to_json_here(&self) -> Option<Value> {
        // Callers check the depth first ([`check_finite`]); this is the backstop.
        let Some(_nest) = Nest::enter() else {
            return Some(Value::Null);
        };
        Some(match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => num_to_json(*n),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Arr(a) => Value::Array(
                a.items
                    .iter()
                    .map(|v| v.to_json().unwrap_or(Value::Null))
                    .collect(),
            ),
            Val::Obj(o) => Value::Object(
                o.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.to_json()?)))
                    .collect(),
            ),
            Val::Func(_) => return None,
        })
    }
}

/// A JSON number: an integer when the value is integral and fits in an `i64`.
pub(crate) fn num_to_json(n: f64) -> Value {
    // 2^63 is exactly representable; anything below it in magnitude converts without loss.
    if n.fract() == 0.0 && n.abs() < 9.223_372_036_854_776e18 {
        #[allow(clippy::cast_possible_truncation)]
        return Value::Number(Number::from(n as i64));
    }
    Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// JSONata's truthiness (`$boolean`); `None` for undefined.
pub(crate) fn truthy(v: &Option<Val>) -> Option<bool> {
    v.as_ref().map(truthy_val)
}

fn truthy_val(v: &Val) -> bool {
    let Some(_nest) = Nest::enter() else {
        return false;
    };
    match v {
        Val::Null => false,
        Val::Bool(b) => *b,
        Val::Num(n) => *n != 0.0,
        Val::Str(s) => !s.is_empty(),
        Val::Arr(a) => match a.items.as_slice() {
            [] => false,
            [one] => truthy_val(one),
            many => many.iter().any(truthy_val),
        },
        Val::Obj(o) => !o.is_empty(),
        Val::Func(_) => false,
    }
}

/// Deep equality (jsonata-js `isDeepEqual`); functions equal only themselves.
pub(crate) fn deep_equal(a: &Val, b: &Val) -> bool {
    crate::with_stack(|| deep_equal_here(a, b))
}

fn deep_equal_here(a: &Val, b: &Val) -> bool {
    let Some(_nest) = Nest::enter() else {
        return false;
    };
    match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Num(x), Val::Num(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Arr(x), Val::Arr(y)) => {
            x.items.len() == y.items.len()
                && x.items.iter().zip(&y.items).all(|(p, q)| deep_equal(p, q))
        }
        (Val::Obj(x), Val::Obj(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Val::Func(x), Val::Func(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// A number as JavaScript's `String(n)` prints it.
pub(crate) fn js_number(n: f64) -> String {
    if n == 0.0 {
        return "0".into();
    }
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if n.fract() == 0.0 && n.abs() < 1e21 {
        return format!("{n:.0}");
    }
    // Shortest round-trip digits and the decimal exponent, then JavaScript's layout rules.
    let e = format!("{:e}", n.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let sign = if n < 0.0 { "-" } else { "" };
    let len = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if (-6..21).contains(&exp) {
        if exp >= 0 {
            let int_len = usize::try_from(exp + 1).unwrap_or(0);
            if digits.len() <= int_len {
                format!("{sign}{digits}{}", "0".repeat(int_len - digits.len()))
            } else {
                format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..])
            }
        } else {
            let zeros = usize::try_from(-exp - 1).unwrap_or(0);
            format!("{sign}0.{}{digits}", "0".repeat(zeros))
        }
    } else {
        let m = if len > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        let es = if exp >= 0 { "+" } else { "-" };
        format!("{sign}{m}e{es}{}", exp.abs())
    }
}

/// `Number(n.toPrecision(15))`: how JSONata rounds numbers it turns into strings.
pub(crate) fn precision15(n: f64) -> f64 {
    format!("{n:.14e}").parse().unwrap_or(n)
}

/// `$string`: strings as they are, everything else as JSON (functions as `""`). Fails with
/// U1004 before writing a text that would not fit in `budget`.
pub(crate) fn stringify(v: &Val, pretty: bool, budget: Budget) -> Result<String> {
    match v {
        Val::Str(s) => Ok(s.to_string()),
        Val::Num(n) => {
            if !n.is_finite() {
                return Err(err(
                    "D3001",
                    "Attempting to invoke string function on Infinity or NaN",
                    None,
                ));
            }
            Ok(js_number(precision15(*n)))
        }
        Val::Func(_) => Ok(String::new()),
        _ => {
            // A value that holds one sub-value many times is written out in full each time,
            // so the text can dwarf what the evaluation holds: size it before writing it.
            let len = text_len(v, pretty);
            // The text, then the copy callers make of it into a value.
            budget.reserve(len.saturating_mul(2))?;
            let mut out = String::with_capacity(len);
            write_json(v, pretty, 0, &mut out)?;
            Ok(out)
        }
    }
}

/// Heap bytes of one value in an array: its slot. For checks made before building many.
pub(crate) const VAL_BYTES: usize = std::mem::size_of::<Val>();

/// Heap bytes of a string value of `len` bytes in an array: its slot, the `Rc` counts and
/// the text.
pub(crate) fn str_bytes(len: usize) -> usize {
    VAL_BYTES + 2 * std::mem::size_of::<usize>() + len
}

/// Heap bytes of an array value in an array, without its items' slots.
pub(crate) const ARR_BYTES: usize =
    VAL_BYTES + 2 * std::mem::size_of::<usize>() + std::mem::size_of::<Arr>();

/// Heap bytes of an object value of up to 3 small entries in an array, from above (the
/// meter measures about 330 for one entry and 400 for three: the map's table and hasher).
pub(crate) const SMALL_OBJ_BYTES: usize = 512;

/// Sizes already computed for sub-values held in more than one place, by address: without
/// it, sizing a value built by sharing one array in itself level after level would take as
/// long as writing it out.
pub(crate) type Sizes<T> = HashMap<*const (), T>;

/// The address of `v` when it is a container held in more than one place.
pub(crate) fn shared(v: &Val) -> Option<*const ()> {
    match v {
        Val::Arr(a) if Rc::strong_count(a) > 1 => Some(Rc::as_ptr(a).cast()),
        Val::Obj(o) if Rc::strong_count(o) > 1 => Some(Rc::as_ptr(o).cast()),
        _ => None,
    }
}

/// How long [`write_json`] makes `v`'s text, from above (numbers other than small integers
/// count as the longest a number prints).
fn text_len(v: &Val, pretty: bool) -> usize {
    text_size(v, pretty, &mut Sizes::new()).0
}

/// `v`'s text at nesting level 0: its bytes, and how many newlines it has (pretty printing
/// indents each by 2 more bytes per level `v` sits deeper).
fn text_size(v: &Val, pretty: bool, memo: &mut Sizes<(usize, usize)>) -> (usize, usize) {
    crate::with_stack(|| {
        // Deeper than this `write_json` fails anyway.
        let Some(_nest) = Nest::enter() else {
            return (0, 0);
        };
        let key = shared(v);
        if let Some(known) = key.and_then(|k| memo.get(&k)) {
            return *known;
        }
        let newline = usize::from(pretty);
        // An item: a comma after the first, a newline indented one level, the item one
        // level deeper. Then, when there are items, a newline before the closing bracket.
        let mut items = |children: &mut dyn Iterator<Item = &Val>| {
            let (mut bytes, mut lines, mut n) = (2usize, 0usize, 0usize);
            for child in children {
                let (b, l) = text_size(child, pretty, memo);
                let indented = b.saturating_add(l.saturating_mul(2 * newline));
                bytes = bytes
                    .saturating_add(usize::from(n > 0) + 3 * newline)
                    .saturating_add(indented);
                lines = lines.saturating_add(l + newline);
                n += 1;
            }
            if n > 0 {
                bytes = bytes.saturating_add(newline);
                lines = lines.saturating_add(newline);
            }
            (bytes, lines)
        };
        let size = match v {
            Val::Null | Val::Bool(true) => (4, 0),
            Val::Bool(false) => (5, 0),
            Val::Num(n) => (number_len(*n), 0),
            Val::Str(s) => (json_str_len(s), 0),
            Val::Func(_) => (2, 0),
            Val::Arr(a) => items(&mut a.items.iter()),
            Val::Obj(o) => {
                // Keys are sized here; `items` adds the values.
                let keys = o.keys().fold(0usize, |sum, k| {
                    sum.saturating_add(json_str_len(k) + 1 + newline)
                });
                let (b, l) = items(&mut o.values());
                (b.saturating_add(keys), l)
            }
        };
        if let Some(k) = key {
            memo.insert(k, size);
        }
        size
    })
}

/// Bytes [`js_number`] prints for `n` after [`precision15`], from above.
fn number_len(n: f64) -> usize {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        #[allow(clippy::cast_possible_truncation)]
        let i = n as i64;
        return usize::from(i < 0)
            + i.unsigned_abs()
                .checked_ilog10()
                .map_or(1, |d| d as usize + 1);
    }
    // "-1.23456789012345e-308" and "-0.00000123456789012345" are the longest forms.
    24
}

/// Bytes of `s` as a JSON string literal, escapes included (as `serde_json` writes it).
fn json_str_len(s: &str) -> usize {
    s.bytes().fold(2usize, |len, b| {
        len.saturating_add(match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
    })
}

/// Bytes [`Val::to_json`] allocates for `v`, from above: every `serde_json::Value` in an
/// array is a slot of its own and an object entry costs its key and about four slots (its
/// share of a map node), so a value that holds one sub-value many times costs it each time.
pub(crate) fn json_bytes(v: &Val) -> usize {
    json_size(v, &mut Sizes::new())
}

fn json_size(v: &Val, memo: &mut Sizes<usize>) -> usize {
    const SLOT: usize = std::mem::size_of::<Value>();
    crate::with_stack(|| {
        // Deeper than this the conversion stops anyway.
        let Some(_nest) = Nest::enter() else {
            return 0;
        };
        let key = shared(v);
        if let Some(known) = key.and_then(|k| memo.get(&k)) {
            return *known;
        }
        let size = match v {
            Val::Str(s) => s.len(),
            Val::Arr(a) => a.items.iter().fold(0usize, |sum, item| {
                sum.saturating_add(SLOT + json_size(item, memo))
            }),
            Val::Obj(o) => o.iter().fold(0usize, |sum, (k, item)| {
                sum.saturating_add(4 * SLOT + k.len() + json_size(item, memo))
            }),
            Val::Null | Val::Bool(_) | Val::Num(_) | Val::Func(_) => 0,
        };
        if let Some(k) = key {
            memo.insert(k, size);
        }
        size
    })
}

fn write_json(v: &Val, pretty: bool, indent: usize, out: &mut String) -> Result<()> {
    let Some(_nest) = Nest::enter() else {
        return Err(too_deep());
    };
    let nl = |out: &mut String, level: usize| {
        if pretty {
            out.push('\n');
            out.push_str(&"  ".repeat(level));
        }
    };
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Num(n) => {
            if !n.is_finite() {
                return Err(err("D1001", "Number out of range", None));
            }
            out.push_str(&js_number(precision15(*n)));
        }
        Val::Str(s) => out.push_str(&serde_json::to_string(&**s).unwrap_or_default()),
        Val::Func(_) => out.push_str("\"\""),
        Val::Arr(a) => {
            out.push('[');
            for (i, item) in a.items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, indent + 1);
                write_json(item, pretty, indent + 1, out)?;
            }
            if !a.items.is_empty() {
                nl(out, indent);
            }
            out.push(']');
        }
        Val::Obj(o) => {
            out.push('{');
            for (i, (k, item)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, indent + 1);
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                write_json(item, pretty, indent + 1, out)?;
            }
            if !o.is_empty() {
                nl(out, indent);
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Fails with D1001 if any number in `v` is not finite (JSON cannot hold it), and with U1003
/// if `v` nests deeper than [`MAX_NESTING`] (the caller could not even drop such JSON).
pub(crate) fn check_finite(v: &Val) -> Result<()> {
    let Some(_nest) = Nest::enter() else {
        return Err(too_deep());
    };
    match v {
        Val::Num(n) if !n.is_finite() => Err(err(
            "D1001",
            format!("Number out of range: {}", js_number(*n)),
            None,
        )),
        Val::Arr(a) => a.items.iter().try_for_each(check_finite),
        Val::Obj(o) => o.values().try_for_each(check_finite),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_does() {
        assert_eq!(js_number(1.0), "1");
        assert_eq!(js_number(0.1), "0.1");
        assert_eq!(js_number(1e21), "1e+21");
        assert_eq!(js_number(1.5e-7), "1.5e-7");
        assert_eq!(js_number(123.456), "123.456");
        assert_eq!(js_number(-0.000_001), "-0.000001");
        assert_eq!(js_number(precision15(0.1 + 0.2)), "0.3");
    }

    #[test]
    fn text_len_is_the_written_length_and_never_less() {
        let leaf = Val::array(vec![Val::Num(-12.0), Val::str("a\"\n\u{1}é"), Val::Null]);
        let mut o = Obj::new();
        o.insert("k\t".into(), leaf.clone());
        o.insert("b".into(), Val::Bool(false));
        o.insert("e".into(), Val::array(Vec::new()));
        let v = Val::array(vec![Val::object(o), leaf.clone(), leaf, Val::Num(1e21)]);
        let budget = Budget::start();
        for pretty in [false, true] {
            let written = stringify(&v, pretty, budget).map(|t| t.len());
            // Exact but for 1e21, counted as the longest a number prints ("1e+21": 5).
            assert_eq!(
                written.map(|n| n + 24 - 5),
                Ok(text_len(&v, pretty)),
                "{pretty}"
            );
        }
    }

    #[test]
    fn json_bytes_counts_a_shared_value_at_each_place() {
        let leaf = Val::array((0..100).map(f64::from).map(Val::Num).collect());
        let once = json_bytes(&leaf);
        let twice = Val::array(vec![leaf.clone(), leaf]);
        assert_eq!(
            json_bytes(&twice),
            2 * (once + std::mem::size_of::<Value>())
        );
    }

    #[test]
    fn integers_become_json_integers() {
        assert_eq!(num_to_json(3.0), serde_json::json!(3));
        assert_eq!(num_to_json(3.5), serde_json::json!(3.5));
    }
}
