//! String functions: $string, $substring…, $pad, $trim, case, $contains, $split, $join,
//! $match, $replace, base64 and URL coding. Offsets count characters (Unicode scalar values).
//! Must not evaluate expressions except through `Ev::apply` for a replacement function.

use std::sync::Arc;

use base64::Engine as _;

use super::{regex_all, regex_match_object};
use crate::error::{Result, err};
use crate::eval::Ev;
use crate::value::{Func, Val, stringify};

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

pub(super) fn string(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(v) = arg(args, 0) else {
        return Ok(None);
    };
    let pretty = matches!(arg(args, 1), Some(Val::Bool(true)));
    out(&stringify(v, pretty)?)
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

pub(super) fn pad(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    let width = n_arg(args, 1).unwrap_or(0.0).trunc();
    let fill = s_arg(args, 2)
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| Arc::from(" "));
    let len = s.chars().count();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let target = (width.abs().min(1e7)) as usize;
    if target <= len {
        return out(&s);
    }
    let padding: String = fill.chars().cycle().take(target - len).collect();
    if width > 0.0 {
        out(&format!("{s}{padding}"))
    } else {
        out(&format!("{padding}{s}"))
    }
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

fn no_empty_matches(m: &[(usize, std::ops::Range<usize>, Vec<String>)]) -> Result<()> {
    if m.iter().any(|(_, r, _)| r.is_empty()) {
        return Err(err(
            "D1004",
            "Regular expression matches zero length string",
            None,
        ));
    }
    Ok(())
}

pub(super) fn split(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    let limit = limit_arg(args, 2, "D3020", "split")?;
    let mut parts: Vec<String> = if let Some(re) = matcher(arg(args, 1))? {
        let ms = regex_all(&re, &s);
        no_empty_matches(&ms)?;
        let mut parts = Vec::new();
        let mut at = 0;
        for (_, r, _) in ms {
            parts.push(s.get(at..r.start).unwrap_or("").to_owned());
            at = r.end;
        }
        parts.push(s.get(at..).unwrap_or("").to_owned());
        parts
    } else {
        let sep = s_arg(args, 1).unwrap_or_else(|| Arc::from(""));
        if sep.is_empty() {
            s.chars().map(String::from).collect()
        } else {
            s.split(&*sep).map(str::to_owned).collect()
        }
    };
    if let Some(l) = limit {
        parts.truncate(l);
    }
    Ok(Some(Val::array(
        parts.iter().map(|p| Val::str(p)).collect(),
    )))
}

pub(super) fn join(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
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
    let ms = regex_all(&re, &s);
    no_empty_matches(&ms)?;
    let mut items = Vec::new();
    let mut at = 0;
    for (i, (_, r, _)) in ms.iter().enumerate() {
        if limit.is_some_and(|l| i >= l) {
            break;
        }
        let from = s.get(..r.start).map_or(0, |p| p.chars().count());
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

/// `$1`-style substitution in a replacement string (jsonata-js rules).
fn substitute(replacement: &str, whole: &str, groups: &[String]) -> String {
    let mut out = String::new();
    let chars: Vec<char> = replacement.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.get(i) {
            Some('$') => {
                out.push('$');
                i += 1;
            }
            Some('0') => {
                out.push_str(whole);
                i += 1;
            }
            Some(d) if d.is_ascii_digit() => {
                let max_digits = if groups.is_empty() {
                    1
                } else {
                    groups.len().to_string().len()
                };
                let digits: String = chars[i..]
                    .iter()
                    .take(max_digits)
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                let mut n: usize = digits.parse().unwrap_or(0);
                let mut used = digits.len();
                if used > 1 && n > groups.len() {
                    used -= 1;
                    n = digits.get(..used).and_then(|d| d.parse().ok()).unwrap_or(0);
                }
                if let Some(g) = n.checked_sub(1).and_then(|k| groups.get(k)) {
                    out.push_str(g);
                }
                i += used;
            }
            _ => out.push('$'),
        }
    }
    out
}

pub(super) fn replace(ev: &mut Ev<'_>, args: Args<'_>, input: &Option<Val>) -> Result<Option<Val>> {
    let Some(s) = s_arg(args, 0) else {
        return Ok(None);
    };
    let limit = limit_arg(args, 3, "D3011", "replace")?;
    let replacement = arg(args, 2).cloned();
    if let Some(re) = matcher(arg(args, 1))? {
        let ms = regex_all(&re, &s);
        no_empty_matches(&ms)?;
        let mut r = String::new();
        let mut at = 0;
        for (i, (start, range, groups)) in ms.into_iter().enumerate() {
            if limit.is_some_and(|l| i >= l) {
                break;
            }
            r.push_str(s.get(at..range.start).unwrap_or(""));
            let whole = s.get(range.clone()).unwrap_or("");
            match &replacement {
                Some(Val::Str(rep)) => r.push_str(&substitute(rep, whole, &groups)),
                Some(f @ Val::Func(_)) => {
                    let mut o = crate::value::Obj::new();
                    o.insert("match".into(), Val::str(whole));
                    #[allow(clippy::cast_precision_loss)]
                    o.insert("index".into(), Val::Num(start as f64));
                    o.insert(
                        "groups".into(),
                        Val::array(groups.iter().map(|g| Val::str(g)).collect()),
                    );
                    match ev.apply(f, vec![Some(Val::object(o))], input)? {
                        Some(Val::Str(x)) => r.push_str(&x),
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
            at = range.end;
        }
        r.push_str(s.get(at..).unwrap_or(""));
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
    let r = match limit {
        Some(l) => s.replacen(&*pat, &rep, l),
        None => s.replace(&*pat, &rep),
    };
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
