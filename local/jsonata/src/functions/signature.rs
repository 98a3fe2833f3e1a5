//! Function signatures (`<s-nn?:s>`): parsing them, and checking and completing a call's
//! arguments against one the way jsonata-js does — undefined matches anything, a missing
//! first `-` argument is the context, a single value passed for an array parameter is wrapped.
//! Must not call the function.

use crate::error::{Result, err};
use crate::value::Val;

/// One parameter of a signature.
#[derive(Debug, Clone, Default)]
pub(crate) struct Param {
    /// The symbols it accepts (`s`, `n`, `b`, `l`, `a`, `o`, `f`).
    accepts: String,
    /// Declared as an array (`a`, `a<n>`).
    array: bool,
    /// Item type of `a<…>`.
    item: Option<char>,
    optional: bool,
    variadic: bool,
    context: bool,
}

fn expand(c: char) -> &'static str {
    match c {
        'x' => "snblaof",
        'j' => "snblao",
        'u' => "snbl",
        'a' => "a",
        's' => "s",
        'n' => "n",
        'b' => "b",
        'l' => "l",
        'o' => "o",
        'f' => "f",
        _ => "",
    }
}

/// Checks a lambda's signature text the way jsonata-js's parser does.
///
/// # Errors
/// S0401 for a type parameter on a type other than `a` or `f`; S0402 for a parameterised
/// type inside a choice group.
pub(crate) fn check(sig: &str, pos: usize) -> Result<()> {
    let mut prev = ' ';
    let mut in_choice = false;
    for c in sig.trim_start_matches('<').chars() {
        match c {
            '(' => in_choice = true,
            ')' => in_choice = false,
            '<' if in_choice => {
                return Err(err(
                    "S0402",
                    "Choice groups containing parameterized types are not supported",
                    Some(pos),
                ));
            }
            '<' if prev != 'a' && prev != 'f' => {
                return Err(err(
                    "S0401",
                    format!(
                        "Type parameters can only be applied to functions and arrays, not {prev}"
                    ),
                    Some(pos),
                ));
            }
            _ => {}
        }
        prev = c;
    }
    Ok(())
}

/// Parses `<…>`; unknown characters are skipped (the return type after `:` is ignored).
pub(crate) fn parse(sig: &str) -> Vec<Param> {
    let chars: Vec<char> = sig.trim_start_matches('<').chars().collect();
    let mut params: Vec<Param> = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            ':' | '>' => break,
            '(' => {
                let mut p = Param::default();
                while let Some(&d) = chars.get(i) {
                    i += 1;
                    if d == ')' {
                        break;
                    }
                    p.accepts.push_str(expand(d));
                    p.array |= d == 'a';
                }
                params.push(p);
            }
            '<' => {
                // A subtype: `a<n>` records the item type, `f<…>` is skipped.
                let start = i;
                let mut depth = 1;
                while let Some(&d) = chars.get(i) {
                    i += 1;
                    match d {
                        '<' => depth += 1,
                        '>' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                if let Some(p) = params.last_mut()
                    && p.array
                {
                    p.item = chars.get(start).copied().filter(|c| *c != '>');
                }
            }
            '?' => {
                if let Some(p) = params.last_mut() {
                    p.optional = true;
                }
            }
            '+' => {
                if let Some(p) = params.last_mut() {
                    p.variadic = true;
                }
            }
            '-' => {
                if let Some(p) = params.last_mut() {
                    p.context = true;
                }
            }
            c => {
                let accepts = expand(c);
                if !accepts.is_empty() {
                    params.push(Param {
                        accepts: accepts.into(),
                        array: c == 'a',
                        ..Param::default()
                    });
                }
            }
        }
    }
    params
}

impl Param {
    pub(crate) fn is_optional(&self) -> bool {
        self.optional
    }
}

/// Does a parameter take this argument (undefined fits every parameter)?
fn fits(p: &Param, a: &Option<Val>) -> bool {
    match a {
        None => true,
        // An array parameter also takes a single value, which gets wrapped.
        Some(v) => {
            p.accepts.contains(v.symbol())
                || (p.array && !v.is_func() && p.accepts.len() == 1)
                || (p.array && p.item.is_some_and(|t| v.symbol() == t))
        }
    }
}

/// Backtracking match of arguments to parameters; `counts[i]` is how many arguments
/// parameter `i` took (greedy first, like a regex).
fn matches(params: &[Param], args: &[Option<Val>], counts: &mut Vec<usize>) -> bool {
    let Some((p, rest)) = params.split_first() else {
        return args.is_empty();
    };
    let max_take = if p.variadic {
        args.iter().take_while(|a| fits(p, a)).count()
    } else {
        usize::from(args.first().is_some_and(|a| fits(p, a)))
    };
    let min_take = usize::from(!(p.optional || p.context));
    let mut take = max_take;
    loop {
        if take < min_take {
            return false;
        }
        counts.push(take);
        if matches(rest, args.get(take..).unwrap_or(&[]), counts) {
            return true;
        }
        counts.pop();
        if take == 0 {
            return false;
        }
        take -= 1;
    }
}

/// Checks `args` against `params`, returns them completed (context inserted, single values
/// wrapped for array parameters).
///
/// # Errors
/// T0410 when they do not fit, T0411 when the context does not, T0412 for a wrong array item.
pub(crate) fn validate(
    params: &[Param],
    args: Vec<Option<Val>>,
    context: &Option<Val>,
    name: &str,
) -> Result<Vec<Option<Val>>> {
    let mut counts = Vec::new();
    if !matches(params, &args, &mut counts) {
        // The first argument a left-to-right scan cannot place is the one reported.
        let mut ai = 0;
        for p in params {
            if args.get(ai).is_some_and(|a| fits(p, a)) {
                ai += 1;
            }
        }
        return Err(err(
            "T0410",
            format!(
                "Argument {} of function {name} does not match function signature",
                ai + 1
            ),
            None,
        ));
    }
    let mut out = Vec::with_capacity(params.len());
    let mut it = args.into_iter();
    for (i, (p, n)) in params.iter().zip(counts).enumerate() {
        if n == 0 {
            if p.context && i == 0 {
                if !fits(p, context) {
                    return Err(err(
                        "T0411",
                        format!(
                            "Context value is not a compatible type with argument {} of function {name}",
                            i + 1
                        ),
                        None,
                    ));
                }
                out.push(context.clone().map(|v| wrap(p, v)));
            } else {
                out.push(None);
            }
            continue;
        }
        for _ in 0..n {
            let a = it.next().flatten();
            if let (Some(v), Some(t)) = (&a, p.item) {
                let bad = match v {
                    Val::Arr(arr) => arr.items.iter().any(|v| v.symbol() != t),
                    v => v.symbol() != t,
                };
                if bad {
                    return Err(err(
                        "T0412",
                        format!(
                            "Argument {} of function {name} must be an array of {}",
                            i + 1,
                            item_name(t)
                        ),
                        None,
                    ));
                }
            }
            out.push(a.map(|v| wrap(p, v)));
        }
    }
    Ok(out)
}

fn wrap(p: &Param, v: Val) -> Val {
    if p.array && !matches!(v, Val::Arr(_)) && !p.accepts.contains(v.symbol()) {
        Val::array(vec![v])
    } else {
        v
    }
}

fn item_name(t: char) -> &'static str {
    match t {
        'n' => "numbers",
        's' => "strings",
        'b' => "booleans",
        'o' => "objects",
        'a' => "arrays",
        _ => "values",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_inserted_when_missing() {
        let p = parse("<s-nn?:s>");
        let r = validate(
            &p,
            vec![Some(Val::Num(1.0))],
            &Some(Val::str("abc")),
            "substring",
        );
        assert!(matches!(
            r.as_deref(),
            Ok([Some(Val::Str(_)), Some(Val::Num(_)), None])
        ));
    }

    #[test]
    fn wrong_type_is_t0410() {
        let p = parse("<s-:s>");
        let r = validate(&p, vec![Some(Val::Num(1.0))], &None, "uppercase");
        assert_eq!(r.err().map(|e| e.code), Some("T0410".into()));
    }
}
