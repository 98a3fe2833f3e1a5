//! String functions: $string, $substring…, $pad, $trim, case, $contains, $split, $join,
//! $match, $replace, base64 and URL coding. Offsets count characters (Unicode scalar values).
//! Must not evaluate expressions except through `Ev::apply` for a replacement function.

use std::sync::Arc;

use base64::Engine as _;

use super::{Found, regex_all, regex_match_object};
use crate::error::{Result, err};
use crate::eval::Ev;
use crate::value::{ARR_BYTES, Func, SMALL_OBJ_BYTES, Val, str_bytes, stringify};

type Args<'a> = &'a [Option<Val>];

fn arg(args: Args<'_>, i: usize) -> Option<&Val> {
    args.get(i).and_then(Option::as_ref)
}

fn s_arg(args: Args<'_>, i: usize) -> Option<Arc<str>> {
    match arg(args, i) {
        Some(Val::Str(s)) => Some(Arc::from(&**s)),
        _ => None,
    }
}

fn n_arg(args: Args<'_>, i: usize) -> Option<f64> {
    match arg(args, i) {
        Some(Val::Num(n)) => Some(*n),
        _ => None,
    }
}

fn regex_of(v: Option<&Val>) -> Option<Arc<regex::Regex>> {
    match v {
        Some(Val::Func(f)) => match &**f {
            Func::Regex(r) => Some(r.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The regex in a pattern argument; any other function is not a matcher this crate runs.
fn matcher(v: Option<&Val>) -> Result<Option<Arc<regex::Regex>>> {
    match (regex_of(v), v) {
        (Some(r), _) => Ok(Some(r)),
        (None, Some(Val::Func(_))) => Err(err(
            "T1010",
            "The matcher function argument passed to a function does not return the correct object structure",
            None,
        )),
        _ => Ok(None),
    }
}

fn out(s: &str) -> Result<Option<Val>> {
    Ok(Some(Val::str(s)))
}

pub(super) fn string(ev: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(v) = arg(args, 0) else {
        return Ok(None);
    };
    let pretty = matches!(arg(args, 1), Some(Val::Bool(true)));
    out(&stringify(v, pretty, ev.budget)?)
}

/// JavaScript `slice` bounds on a length.
fn slice_bound(i: f64, len: usize) -> usize {
    #[allow(clippy::cast_precision_loss)]
    let len_f = len as f64;
    let i = if i < 0.0 {
        (len_f + i).max(0.0)
    } else {
        i.min(len_f)
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let r = i as usize;
    r
}

pub(super) fn substring(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    let chars: Vec<char> = s.chars().collect();
    #[allow(clippy::cast_precision_loss)]
    let len = chars.len() as f64;
    let mut start = n_arg(args, 1).unwrap_or(0.0).trunc();
    if len + start < 0.0 {
        start = 0.0;
    }
    let end = match n_arg(args, 2) {
        Some(l) if l <= 0.0 => return out(""),
        Some(l) => {
            let l = l.trunc();
            if start >= 0.0 {
                start + l
            } else {
                len + start + l
            }
        }
        None => len,
    };
    let (a, b) = (
        slice_bound(start, chars.len()),
        slice_bound(end, chars.len()),
    );
    let r: String = chars.get(a..b.max(a)).unwrap_or(&[]).iter().collect();
    out(&r)
}

pub(super) fn substring_before(
    _: &mut Ev<'_>,
    args: Args<'_>,
    _: &Option<Val>,
) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    let Some(sep) = s_arg(args, 1) else {
        return out(&s);
    };
    out(s.find(&*sep).map_or(&*s, |i| &s[..i]))
}

pub(super) fn substring_after(
    _: &mut Ev<'_>,
    args: Args<'_>,
    _: &Option<Val>,
) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    let Some(sep) = s_arg(args, 1) else {
        return out(&s);
    };
    out(s.find(&*sep).map_or(&*s, |i| &s[i + sep.len()..]))
}

pub(super) fn lowercase(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    s_arg(args, 0).map_or(Ok(None), |s| out(&s.to_lowercase()))
}

pub(super) fn uppercase(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    s_arg(args, 0).map_or(Ok(None), |s| out(&s.to_uppercase()))
}

pub(super) fn length(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    #[allow(clippy::cast_precision_loss)]
    Ok(s_arg(args, 0).map(|s| Val::Num(s.chars().count() as f64)))
}

pub(super) fn trim(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    // Runs of space, tab, CR and LF become one space; then the ends are trimmed.
    let mut r = String::new();
    let mut in_ws = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            if !in_ws {
                r.push(' ');
            }
            in_ws = true;
        } else {
            r.push(c);
            in_ws = false;
        }
    }
    out(r.trim_matches(' '))
}

pub(super) fn pad(ev: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    let width = n_arg(args, 1).unwrap_or(0.0).trunc();
    let fill = s_arg(args, 2)
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| Arc::from(" "));
    let len = s.chars().count();
    // Saturates: a width past any string is the memory limit's error below.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let target = width.abs() as usize;
    if target <= len {
        return out(&s);
    }
    let missing = target - len;
    let fill_chars = fill.chars().count();
    let bytes = s
        .len()
        .saturating_add((missing / fill_chars).saturating_mul(fill.len()))
        .saturating_add(
            fill.chars()
                .take(missing % fill_chars)
                .map(char::len_utf8)
                .sum(),
        );
    // The width is the caller's number: the text, and its copy into the value.
    ev.budget.reserve(bytes.saturating_mul(2))?;
    let mut r = String::with_capacity(bytes);
    let padding = fill.chars().cycle().take(missing);
    if width > 0.0 {
        r.push_str(&s);
        r.extend(padding);
    } else {
        r.extend(padding);
        r.push_str(&s);
    }
    out(&r)
}

pub(super) fn contains(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    if let Some(re) = matcher(arg(args, 1))? {
        return Ok(Some(Val::Bool(re.is_match(&s))));
    }
    let t = s_arg(args, 1).unwrap_or_else(|| Arc::from(""));
    Ok(Some(Val::Bool(s.contains(&*t))))
}

fn limit_arg(args: Args<'_>, i: usize, code: &str, what: &str) -> Result<Option<usize>> {
    match n_arg(args, i) {
        None => Ok(None),
        Some(n) if n < 0.0 => Err(err(
            code,
            format!("Third argument of {what} function must evaluate to a positive number"),
            None,
        )),
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(n) => Ok(Some(n.floor() as usize)),
    }
}

fn no_empty_matches(m: &[Found]) -> Result<()> {
    if m.iter().any(|f| f.range.is_empty()) {
        return Err(err(
            "D1004",
            "Regular expression matches zero length string",
            None,
        ));
    }
    Ok(())
}

pub(super) fn split(ev: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    let limit = limit_arg(args, 2, "D3020", "split")?;
    let matches = match matcher(arg(args, 1))? {
        Some(re) => {
            let ms = regex_all(&re, &s, ev.budget)?;
            no_empty_matches(&ms)?;
            Some(ms)
        }
        None => None,
    };
    let sep = s_arg(args, 1).unwrap_or_else(|| Arc::from(""));
    let count = match &matches {
        Some(ms) => ms.len() + 1,
        None if sep.is_empty() => s.chars().count(),
        None => s.matches(&*sep).count() + 1,
    };
    let count = limit.map_or(count, |l| count.min(l));
    // A value per part: splitting at every character makes many times the string's size.
    ev.budget
        .reserve(count.saturating_mul(str_bytes(0)).saturating_add(s.len()))?;
    let mut items = Vec::with_capacity(count);
    match &matches {
        Some(ms) => {
            let mut at = 0;
            let ends = ms.iter().map(|m| m.range.clone());
            let parts = ends.chain(std::iter::once(s.len()..s.len())).map(|r| {
                let part = s.get(at..r.start).unwrap_or("");
                at = r.end;
                part
            });
            items.extend(parts.take(count).map(Val::str));
        }
        None if sep.is_empty() => {
            items.extend(s.split_inclusive(|_| true).take(count).map(Val::str));
        }
        None => items.extend(s.split(&*sep).take(count).map(Val::str)),
    }
    Ok(Some(Val::array(items)))
}

pub(super) fn join(ev: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(Val::Arr(a)) = arg(args, 0) else {
        return Ok(None);
    };
    let sep = s_arg(args, 1).unwrap_or_else(|| Arc::from(""));
    let parts: Vec<&str> = a
        .items
        .iter()
        .filter_map(|v| {
            if let Val::Str(s) = v {
                Some(&**s)
            } else {
                None
            }
        })
        .collect();
    // One string held many times in the array is written out each time: the text, and its
    // copy into the value.
    let bytes = parts
        .iter()
        .fold(0usize, |sum, p| sum.saturating_add(p.len()))
        .saturating_add(sep.len().saturating_mul(parts.len().saturating_sub(1)));
    ev.budget.reserve(bytes.saturating_mul(2))?;
    out(&parts.join(&sep))
}

pub(super) fn match_fn(
    ev: &mut Ev<'_>,
    args: Args<'_>,
    input: &Option<Val>,
) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    if let Some(f @ Val::Func(_)) = arg(args, 1)
        && regex_of(Some(f)).is_none()
    {
        let limit = limit_arg(args, 2, "D3040", "match")?;
        return custom_matches(ev, f, &s, limit, input);
    }
    let Some(re) = matcher(arg(args, 1))? else {
        return Err(err(
            "T0410",
            "Argument 2 of function match does not match function signature",
            None,
        ));
    };
    let limit = limit_arg(args, 2, "D3040", "match")?;
    let ms = regex_all(&re, &s, ev.budget)?;
    no_empty_matches(&ms)?;
    let ms = ms.get(..limit.unwrap_or(ms.len())).unwrap_or(&ms);
    // An object per match, with its text and its groups' texts: a pattern that matches
    // every character makes hundreds of times the string's size.
    let bytes = ms.iter().fold(0usize, |sum, m| {
        let groups = m
            .groups
            .iter()
            .map(|g| str_bytes(g.as_ref().map_or(0, ExactSizeIterator::len)));
        sum.saturating_add(
            SMALL_OBJ_BYTES + ARR_BYTES + str_bytes(m.range.len()) + groups.sum::<usize>(),
        )
    });
    ev.budget.reserve(bytes)?;
    let mut items = Vec::new();
    let mut at = 0;
    for m in ms {
        let from = m.start;
        if let Some(m) = regex_match_object(&re, &s, from.max(at)) {
            items.push(m);
        }
        at = from + 1;
    }
    Ok(Some(Val::seq(items)))
}

/// $match with a user's matcher function (jsonata-js's matcher protocol): it returns
/// `{match, start, end, groups, next}` and `next()` gives the following match.
fn custom_matches(
    ev: &mut Ev<'_>,
    f: &Val,
    s: &str,
    limit: Option<usize>,
    input: &Option<Val>,
) -> Result<Option<Val>> {
    let bad = || {
        err(
            "T1010",
            "The matcher function argument passed to function match does not return the correct object structure",
            None,
        )
    };
    let mut items = Vec::new();
    let mut next = ev.apply(f, vec![Some(Val::str(s))], input)?;
    while let Some(Val::Obj(m)) = next {
        if limit.is_some_and(|l| items.len() >= l) {
            break;
        }
        let (Some(matched), Some(start)) = (m.get("match"), m.get("start")) else {
            return Err(bad());
        };
        let mut o = crate::value::Obj::new();
        o.insert("match".into(), matched.clone());
        o.insert("index".into(), start.clone());
        o.insert(
            "groups".into(),
            m.get("groups")
                .cloned()
                .unwrap_or_else(|| Val::array(Vec::new())),
        );
        items.push(Val::object(o));
        next = match m.get("next") {
            Some(n @ Val::Func(_)) => ev.apply(n, Vec::new(), input)?,
            _ => None,
        };
    }
    Ok(Some(Val::seq(items)))
}

/// A piece of a replacement string.
enum Piece {
    Text(String),
    /// `$0`.
    Whole,
    /// `$1`… (0-based here).
    Group(usize),
}

/// Reads a replacement string once for a regex with `groups` capture groups (jsonata-js's
/// `$n` rules: as many digits as the group count has, one fewer where that names no group).
fn template(replacement: &str, groups: usize) -> Vec<Piece> {
    let chars: Vec<char> = replacement.chars().collect();
    let mut pieces = Vec::new();
    let mut text = String::new();
    let flush = |text: &mut String, pieces: &mut Vec<Piece>| {
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(text)));
        }
    };
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        if c != '$' {
            text.push(c);
            continue;
        }
        match chars.get(i) {
            Some('$') => {
                text.push('$');
                i += 1;
            }
            Some('0') => {
                flush(&mut text, &mut pieces);
                pieces.push(Piece::Whole);
                i += 1;
            }
            Some(d) if d.is_ascii_digit() => {
                let max_digits = if groups == 0 {
                    1
                } else {
                    groups.to_string().len()
                };
                let digits: String = chars[i..]
                    .iter()
                    .take(max_digits)
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                let mut n: usize = digits.parse().unwrap_or(0);
                let mut used = digits.len();
                if used > 1 && n > groups {
                    used -= 1;
                    n = digits.get(..used).and_then(|d| d.parse().ok()).unwrap_or(0);
                }
                if let Some(k) = n.checked_sub(1).filter(|k| *k < groups) {
                    flush(&mut text, &mut pieces);
                    pieces.push(Piece::Group(k));
                }
                i += used;
            }
            _ => text.push('$'),
        }
    }
    flush(&mut text, &mut pieces);
    pieces
}

/// A replacement for one match, piece by piece, to `emit` (which writes it or counts it).
fn substitute(pieces: &[Piece], whole: &str, groups: &[&str], emit: &mut dyn FnMut(&str)) {
    for piece in pieces {
        match piece {
            Piece::Text(t) => emit(t),
            Piece::Whole => emit(whole),
            Piece::Group(k) => emit(groups.get(*k).copied().unwrap_or("")),
        }
    }
}

pub(super) fn replace(ev: &mut Ev<'_>, args: Args<'_>, input: &Option<Val>) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    let limit = limit_arg(args, 3, "D3011", "replace")?;
    let replacement = arg(args, 2).cloned();
    if let Some(re) = matcher(arg(args, 1))? {
        let ms = regex_all(&re, &s, ev.budget)?;
        no_empty_matches(&ms)?;
        let ms = ms.get(..limit.unwrap_or(ms.len())).unwrap_or(&ms);
        let text = |r: &std::ops::Range<usize>| s.get(r.clone()).unwrap_or("");
        let groups_of = |m: &Found| -> Vec<&str> {
            m.groups
                .iter()
                .map(|g| g.as_ref().map_or("", text))
                .collect()
        };
        let mut r = String::new();
        let pieces = match &replacement {
            Some(Val::Str(rep)) => template(rep, re.captures_len().saturating_sub(1)),
            _ => Vec::new(),
        };
        if let (Some(Val::Str(_)), false) = (&replacement, ms.is_empty()) {
            // Every match may become the whole replacement (`$0$0…` repeats it): size the
            // text first; the text, and its copy into the value.
            let mut len = s.len();
            for m in ms {
                len = len.saturating_sub(m.range.len());
                let mut count = |piece: &str| len = len.saturating_add(piece.len());
                substitute(&pieces, text(&m.range), &groups_of(m), &mut count);
            }
            ev.budget.reserve(len.saturating_mul(2))?;
            r.reserve_exact(len);
        }
        let mut at = 0;
        for m in ms {
            ev.budget
                .push_str(&mut r, s.get(at..m.range.start).unwrap_or(""))?;
            let whole = text(&m.range);
            let groups = groups_of(m);
            match &replacement {
                Some(Val::Str(_)) => substitute(&pieces, whole, &groups, &mut |p| r.push_str(p)),
                Some(f @ Val::Func(_)) => {
                    let mut o = crate::value::Obj::new();
                    o.insert("match".into(), Val::str(whole));
                    #[allow(clippy::cast_precision_loss)]
                    o.insert("index".into(), Val::Num(m.start as f64));
                    o.insert(
                        "groups".into(),
                        Val::array(groups.iter().map(|g| Val::str(g)).collect()),
                    );
                    match ev.apply(f, vec![Some(Val::object(o))], input)? {
                        Some(Val::Str(x)) => ev.budget.push_str(&mut r, &x)?,
                        _ => {
                            return Err(err(
                                "D3012",
                                "Attempted to replace a matched string with a non-string value",
                                None,
                            ));
                        }
                    }
                }
                _ => {
                    return Err(err(
                        "T0410",
                        "Argument 3 of function replace does not match function signature",
                        None,
                    ));
                }
            }
            at = m.range.end;
        }
        ev.budget.push_str(&mut r, s.get(at..).unwrap_or(""))?;
        // Its copy into the value.
        ev.budget.reserve(r.len())?;
        return out(&r);
    }
    let pat = s_arg(args, 1).unwrap_or_else(|| Arc::from(""));
    if pat.is_empty() {
        return Err(err(
            "D3010",
            "Second argument of replace function cannot be an empty string",
            None,
        ));
    }
    let Some(Val::Str(rep)) = replacement else {
        return Err(err(
            "T0410",
            "Argument 3 of function replace does not match function signature",
            None,
        ));
    };
    let found = s.match_indices(&*pat).take(limit.unwrap_or(usize::MAX));
    let count = found.clone().count();
    // A short pattern matched many times by a long replacement: size the text first; the
    // text, and its copy into the value.
    let len = (s.len() - count * pat.len()).saturating_add(count.saturating_mul(rep.len()));
    ev.budget.reserve(len.saturating_mul(2))?;
    let mut r = String::with_capacity(len);
    let mut at = 0;
    for (i, _) in found {
        r.push_str(s.get(at..i).unwrap_or(""));
        r.push_str(&rep);
        at = i + pat.len();
    }
    r.push_str(s.get(at..).unwrap_or(""));
    out(&r)
}

pub(super) fn base64encode(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    s_arg(args, 0).map_or(Ok(None), |s| {
        out(&base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
    })
}

pub(super) fn base64decode(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.as_bytes())
        .map_err(|e| err("D3137", format!("Invalid base64: {e}"), None))?;
    out(&String::from_utf8_lossy(&bytes))
}

fn percent_encode(s: &str, keep: &str) -> String {
    let mut r = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || keep.contains(c) {
            r.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                r.push_str(&format!("%{b:02X}"));
            }
        }
    }
    r
}

pub(super) fn encode_url_component(
    _: &mut Ev<'_>,
    args: Args<'_>,
    _: &Option<Val>,
) -> Result<Option<Val>> {
    s_arg(args, 0).map_or(Ok(None), |s| out(&percent_encode(&s, "-_.!~*'()")))
}

pub(super) fn encode_url(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    s_arg(args, 0).map_or(Ok(None), |s| {
        out(&percent_encode(&s, "-_.!~*'();,/?:@&=+$#"))
    })
}

pub(super) fn decode_url(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    let bad = || {
        err(
            "D3140",
            format!("Malformed URL passed to $decodeUrl(): {s}"),
            None,
        )
    };
    let b = s.as_bytes();
    let mut bytes = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or_else(bad)?;
            bytes.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            bytes.push(c);
            i += 1;
        }
    }
    out(&String::from_utf8(bytes).map_err(|_| bad())?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::functions::evaluate_for_tests as run;

    /// `yields!(expression => expected)`.
    macro_rules! yields {
        ($text:expr => $want:expr) => {
            assert_eq!(run($text), Ok(Some(json!($want))), "{}", $text)
        };
    }

    /// `over_limit!(expression)`: U1004, the memory limit, before the allocation.
    macro_rules! over_limit {
        ($text:expr) => {
            assert_eq!(run($text), Err("U1004".to_owned()), "{}", $text)
        };
    }

    #[test]
    fn pad_within_the_memory_limit_pads() {
        yields!("$pad('x', 5)" => "x    ");
        yields!("$pad('x', -5, '#')" => "####x");
        yields!("$pad('ab', 7, '12')" => "ab12121");
        yields!("$pad('abc', 2)" => "abc");
        // Past the 10 million characters it used to stop at without saying so.
        yields!("$length($pad('x', 2e7))" => 20_000_000);
    }

    #[test]
    fn pad_past_the_memory_limit_is_u1004() {
        over_limit!("$pad('x', 2e9)");
        over_limit!("$pad('x', -2e9)");
        over_limit!("$pad('x', 1e300)");
    }

    #[test]
    fn join_within_the_memory_limit_joins() {
        yields!("$join(['a', 'b', 'c'], '-')" => "a-b-c");
        yields!("($s := $pad('', 1000, 'x'); $length($join($map([1..1000], function(){ $s }))))" => 1_000_000);
    }

    #[test]
    fn join_of_one_string_held_many_times_past_the_limit_is_u1004() {
        over_limit!("($s := $pad('', 10000, 'x'); $join($map([1..200000], function(){ $s })))");
    }

    #[test]
    fn concatenation_within_the_memory_limit_concatenates() {
        yields!("'a' & 1 & [2] & null" => "a1[2]null");
        yields!("($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f('x', 20)))" => 1_048_576);
    }

    #[test]
    fn concatenation_doubling_past_the_limit_is_u1004() {
        over_limit!("($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $f('x', 40))");
    }

    #[test]
    fn replace_within_the_memory_limit_replaces() {
        yields!("$replace('a-b-c', '-', '+')" => "a+b+c");
        yields!("$replace('a-b-c', '-', '+', 1)" => "a+b-c");
        yields!("$replace('abc', /(b)/, '[$1$0$$]')" => "a[bb$]c");
        yields!("$replace('abc', /b|(z)/, '<$1>')" => "a<>c");
        yields!("$replace('abcdefghijkl', /(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)/, '$11$10$1')" => "kjal");
        yields!("$replace('ab', /(a)/, '$2')" => "b");
        yields!("$replace('ab', /a/, '$')" => "$b");
        yields!("$replace('aa', /a/, function($m){ $m.match & $m.index })" => "a0a1");
    }

    #[test]
    fn replace_growing_past_the_limit_is_u1004() {
        let many = "$s := $pad('', 100000, 'a'); $r := $pad('', 20000, 'b')";
        over_limit!(&format!("({many}; $replace($s, 'a', $r))"));
        over_limit!(&format!("({many}; $replace($s, /a/, $r))"));
        over_limit!(&format!("({many}; $replace($s, /a/, function(){{ $r }}))"));
    }

    #[test]
    fn split_within_the_memory_limit_splits() {
        yields!("$split('a,b,c', ',')" => ["a", "b", "c"]);
        yields!("$split('a,b,c', ',', 2)" => ["a", "b"]);
        yields!("$split('abc', '')" => ["a", "b", "c"]);
        yields!("$split('', '')" => Vec::<String>::new());
        yields!("$split('', ',')" => [""]);
        yields!("$split('a1b22c', /[0-9]+/)" => ["a", "b", "c"]);
        yields!("$split('a1b22c', /[0-9]+/, 2)" => ["a", "b"]);
        yields!("$split('1a1', /1/)" => ["", "a", ""]);
    }

    #[test]
    fn split_into_more_parts_than_the_limit_holds_is_u1004() {
        over_limit!("$split($pad('', 5e7, 'a'), '')");
        over_limit!("$split($pad('', 5e7, ','), ',')");
    }

    #[test]
    fn match_past_the_limit_is_u1004() {
        yields!("$count($match($pad('', 1000, 'a'), /a/))" => 1000);
        over_limit!("$match($pad('', 3e6, 'a'), /a/)");
    }

    #[test]
    fn string_of_a_value_shared_past_the_limit_is_u1004() {
        let shared = "$a := [1..1000]; $b := $map([1..1000], function(){ $a }); $c := $map([1..1000], function(){ $b })";
        // 1000 × "[1,2,…,1000]" (3894 bytes) with its commas and brackets.
        yields!(&format!("({shared}; $length($string($b)))") => 3_895_001);
        over_limit!(&format!("({shared}; $string($c))"));
        over_limit!(&format!("({shared}; $string($c, true))"));
        over_limit!(&format!("({shared}; '' & $c)"));
    }
}
