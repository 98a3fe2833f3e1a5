//! The built-in function library: one registry of name → [`Builtin`], with the functions
//! themselves grouped by theme in the child modules, and the helpers they share (sequence
//! append, stable sort, regex match objects). Host functions registered on the
//! `Environment` shadow these by name; this module must not know about them.

mod array;
mod datetime;
mod format_number;
mod hof;
mod integer;
mod misc;
mod numeric;
mod object;
pub(crate) mod signature;
mod string;
mod words;

use std::rc::Rc;

use crate::error::Result;
use crate::eval::{Budget, Ev};
use crate::value::{Arr, Obj, Val};

/// What every built-in is: arguments already checked against its signature, and the context.
pub(crate) type BuiltinFn = fn(&mut Ev<'_>, &[Option<Val>], &Option<Val>) -> Result<Option<Val>>;

/// A built-in function.
pub(crate) struct Builtin {
    pub(crate) name: &'static str,
    /// jsonata-js's signature for it.
    pub(crate) sig: &'static str,
    pub(crate) f: BuiltinFn,
}

impl Builtin {
    pub(crate) fn params(&self) -> Vec<signature::Param> {
        signature::parse(self.sig)
    }

    /// jsonata-js counts a built-in's JavaScript parameters before the first defaulted one.
    pub(crate) fn arity(&self) -> usize {
        self.params()
            .iter()
            .take_while(|p| !p.is_optional())
            .count()
    }
}

macro_rules! builtins {
    ($($name:literal $sig:literal $f:path),* $(,)?) => {
        &[$(Builtin { name: $name, sig: $sig, f: $f }),*]
    };
}

/// Every built-in, sorted by name.
static BUILTINS: &[Builtin] = builtins![
    "abs" "<n-:n>" numeric::abs,
    "append" "<xx:a>" array::append_fn,
    "assert" "<bs?:x>" misc::assert,
    "average" "<a<n>:n>" numeric::average,
    "base64decode" "<s-:s>" string::base64decode,
    "base64encode" "<s-:s>" string::base64encode,
    "boolean" "<x-:b>" misc::boolean,
    "ceil" "<n-:n>" numeric::ceil,
    "clone" "<(oa)-:o>" misc::clone,
    "contains" "<s-(sf):b>" string::contains,
    "count" "<a:n>" array::count,
    "decodeUrl" "<s-:s>" string::decode_url,
    "decodeUrlComponent" "<s-:s>" string::decode_url,
    "distinct" "<x:x>" array::distinct,
    "each" "<o-f:a>" object::each,
    "encodeUrl" "<s-:s>" string::encode_url,
    "encodeUrlComponent" "<s-:s>" string::encode_url_component,
    "error" "<s?:x>" misc::error,
    "eval" "<sx?:x>" misc::eval,
    "exists" "<x:b>" misc::exists,
    "filter" "<af>" hof::filter,
    "floor" "<n-:n>" numeric::floor,
    "formatBase" "<n-n?:s>" numeric::format_base,
    "formatInteger" "<n-s:s>" integer::format_integer,
    "formatNumber" "<n-so?:s>" format_number::format_number,
    "fromMillis" "<n-s?s?:s>" datetime::from_millis,
    "join" "<a<s>s?:s>" string::join,
    "keys" "<x-:a<s>>" object::keys,
    "length" "<s-:n>" string::length,
    "lookup" "<x-s:x>" object::lookup,
    "lowercase" "<s-:s>" string::lowercase,
    "map" "<af>" hof::map,
    "match" "<s-f<s:o>n?:a<o>>" string::match_fn,
    "max" "<a<n>:n>" numeric::max,
    "merge" "<a<o>:o>" object::merge,
    "millis" "<:n>" misc::millis,
    "min" "<a<n>:n>" numeric::min,
    "not" "<x-:b>" misc::not,
    "now" "<s?s?:s>" misc::now,
    "number" "<(nsb)-:n>" numeric::number,
    "pad" "<s-ns?:s>" string::pad,
    "parseInteger" "<s-s:n>" integer::parse_integer,
    "power" "<n-n:n>" numeric::power,
    "random" "<:n>" numeric::random,
    "reduce" "<afj?:j>" hof::reduce,
    "replace" "<s-(sf)(sf)n?:s>" string::replace,
    "reverse" "<a:a>" array::reverse,
    "round" "<n-n?:n>" numeric::round,
    "shuffle" "<a:a>" array::shuffle,
    "sift" "<o-f?:o>" hof::sift,
    "single" "<af?>" hof::single,
    "sort" "<af?:a>" hof::sort,
    "split" "<s-(sf)n?:a<s>>" string::split,
    "spread" "<x-:a<o>>" object::spread,
    "sqrt" "<n-:n>" numeric::sqrt,
    "string" "<x-b?:s>" string::string,
    "substring" "<s-nn?:s>" string::substring,
    "substringAfter" "<s-s:s>" string::substring_after,
    "substringBefore" "<s-s:s>" string::substring_before,
    "sum" "<a<n>:n>" numeric::sum,
    "toMillis" "<s-s?:n>" datetime::to_millis,
    "trim" "<s-:s>" string::trim,
    "type" "<x:s>" misc::type_of,
    "uppercase" "<s-:s>" string::uppercase,
    "zip" "<a+>" array::zip,
];

/// The built-in called `name` (without `$`).
pub(crate) fn lookup(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// jsonata-js `fn.append`: both sides as sequences, concatenated.
pub(crate) fn append(a: Option<Val>, b: Option<Val>) -> Option<Val> {
    let (a, b) = match (a, b) {
        (None, b) => return b,
        (a, None) => return a,
        (Some(a), Some(b)) => (a, b),
    };
    let (mut items, seq) = match a {
        Val::Arr(arr) => (arr.items.clone(), arr.seq),
        v => (vec![v], true),
    };
    match b {
        Val::Arr(arr) => items.extend(arr.items.iter().cloned()),
        v => items.push(v),
    }
    Some(Val::Arr(Rc::new(Arr {
        items,
        seq,
        ..Arr::default()
    })))
}

/// The items of an argument that may be a single value (`None`: no items).
pub(crate) fn items(v: &Option<Val>) -> Vec<Val> {
    match v {
        None => Vec::new(),
        Some(Val::Arr(a)) => a.items.clone(),
        Some(v) => vec![v.clone()],
    }
}

/// A stable merge sort whose comparator (`a` goes after `b`?) may fail.
pub(crate) fn merge_sort<T, F>(items: Vec<T>, after: &mut F) -> Result<Vec<T>>
where
    F: FnMut(&T, &T) -> Result<bool>,
{
    if items.len() <= 1 {
        return Ok(items);
    }
    let mut left = items;
    let right = left.split_off(left.len() / 2);
    let left = merge_sort(left, after)?;
    let right = merge_sort(right, after)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => {
                let take_right = after(a, b)?;
                let next = if take_right { r.next() } else { l.next() };
                out.extend(next);
            }
            (Some(_), None) => out.extend(l.by_ref()),
            (None, Some(_)) => out.extend(r.by_ref()),
            (None, None) => return Ok(out),
        }
    }
}

/// The match object JSONata's regex functions produce for the first match at or after
/// `from` (character offsets), or `None`.
pub(crate) fn regex_match_object(re: &regex::Regex, s: &str, from: usize) -> Option<Val> {
    let byte_from = s.char_indices().nth(from).map_or(s.len(), |(b, _)| b);
    let caps = re.captures_at(s, byte_from)?;
    let whole = caps.get(0)?;
    let start = s.get(..whole.start()).map_or(0, |p| p.chars().count());
    let mut o = Obj::new();
    o.insert("match".into(), Val::str(whole.as_str()));
    #[allow(clippy::cast_precision_loss)]
    o.insert("index".into(), Val::Num(start as f64));
    let groups = caps
        .iter()
        .skip(1)
        .map(|g| Val::str(g.map_or("", |m| m.as_str())))
        .collect();
    o.insert("groups".into(), Val::array(groups));
    Some(Val::object(o))
}

/// One match of a regex in a string.
pub(crate) struct Found {
    /// Where it starts, in characters.
    pub(crate) start: usize,
    /// Its bytes.
    pub(crate) range: std::ops::Range<usize>,
    /// Each capture group's bytes; `None` where the group took no part.
    pub(crate) groups: Vec<Option<std::ops::Range<usize>>>,
}

/// Every match of `re` in `s`. Fails with U1004 before collecting more matches than
/// `budget` allows (a short pattern can match at every character of a long string).
pub(crate) fn regex_all(re: &regex::Regex, s: &str, budget: Budget) -> Result<Vec<Found>> {
    let each = std::mem::size_of::<Found>()
        + re.captures_len().saturating_sub(1)
            * std::mem::size_of::<Option<std::ops::Range<usize>>>();
    // At most one match per byte and one more; counting them costs a second search, so
    // only where that bound (twice: the list grows by doubling) does not fit.
    let mut found = Vec::new();
    if budget
        .reserve((s.len() + 1).saturating_mul(each).saturating_mul(2))
        .is_err()
    {
        let n = re.find_iter(s).count();
        budget.reserve(n.saturating_mul(each))?;
        found.reserve_exact(n);
    }
    // Character offsets counted on from the previous match, not from the start each time.
    let (mut byte, mut chars) = (0, 0);
    for caps in re.captures_iter(s) {
        let Some(whole) = caps.get(0) else { continue };
        chars += s.get(byte..whole.start()).map_or(0, |p| p.chars().count());
        byte = whole.start();
        found.push(Found {
            start: chars,
            range: whole.range(),
            groups: caps.iter().skip(1).map(|g| g.map(|m| m.range())).collect(),
        });
    }
    Ok(found)
}

/// Evaluates `text` against no input: the result, or the error's code. For the functions'
/// tests, which check results and codes alone.
#[cfg(test)]
pub(crate) fn evaluate_for_tests(
    text: &str,
) -> std::result::Result<Option<serde_json::Value>, String> {
    crate::Expression::parse(text)
        .and_then(|e| e.evaluate(None, &crate::Environment::default()))
        .map_err(|e| e.code)
}
