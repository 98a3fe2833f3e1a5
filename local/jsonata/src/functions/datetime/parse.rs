//! Reads a timestamp back: ISO 8601 text, or text written with a date-time picture (each
//! marker's digits, names or words, then the date rebuilt from the components found).
//! Must not format.

use super::picture::{Marker, Part, analyse};
use super::{DAY_MS, DAYS, MONTHS, civil_from_days, days_from_civil};
use crate::error::{Result, err};
use crate::functions::integer::{self, Primary};

/// ISO 8601 (`2018`, `2018-02-01`, `…T09:42:13.123+0000`, `…Z`) to milliseconds.
pub(super) fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let t = s.get(from..from + len)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let y = num(0, 4)?;
    let (mut mo, mut d, mut i) = (1, 1, 4);
    if b.get(i) == Some(&b'-') {
        mo = num(i + 1, 2)?;
        i += 3;
        if b.get(i) == Some(&b'-') {
            d = num(i + 1, 2)?;
            i += 3;
        }
    }
    let mut ms = days_from_civil(y, mo, d) * DAY_MS;
    if i == b.len() {
        return Some(ms);
    }
    if b.get(i) != Some(&b'T') {
        return None;
    }
    let h = num(i + 1, 2)?;
    let mi = if b.get(i + 3) == Some(&b':') {
        num(i + 4, 2)?
    } else {
        return None;
    };
    i += 6;
    let mut sec = 0;
    if b.get(i) == Some(&b':') {
        sec = num(i + 1, 2)?;
        i += 3;
    }
    let mut frac = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut j = start;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        let digits = s.get(start..j)?;
        let padded: String = digits.chars().chain("000".chars()).take(3).collect();
        frac = padded.parse().ok()?;
        i = j;
    }
    ms += ((h * 60 + mi) * 60 + sec) * 1000 + frac;
    match s.get(i..)? {
        "" | "Z" => Some(ms),
        tz => {
            let sign = match tz.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = tz[1..].chars().filter(char::is_ascii_digit).collect();
            if digits.len() != 4 {
                return None;
            }
            let oh: i64 = digits[..2].parse().ok()?;
            let om: i64 = digits[2..].parse().ok()?;
            Some(ms - sign * (oh * 60 + om) * 60_000)
        }
    }
}

/// Reads one marker's text from the front of `rest`; returns the value and the length used.
fn read_marker(rest: &str, m: &Marker, next_literal: Option<&str>) -> Option<(i64, usize)> {
    let c = m.component;
    if let Some(case) = m.names {
        let _ = case;
        let lower = rest.to_lowercase();
        if c == 'P' {
            return ["am", "pm"]
                .iter()
                .position(|p| lower.starts_with(p))
                .map(|i| (i64::try_from(i).unwrap_or(0), 2));
        }
        let names: &[&str] = if c == 'F' { &DAYS[1..] } else { &MONTHS };
        let min = m.width.0.unwrap_or(0);
        for (i, name) in names.iter().enumerate() {
            let name = name.to_lowercase();
            let take = m
                .width
                .1
                .map_or(name.len(), |max| name.len().min(max).max(min));
            let abbr = &name[..take.min(name.len())];
            if lower.starts_with(&name) {
                return Some((i64::try_from(i).unwrap_or(0) + 1, name.len()));
            }
            if lower.starts_with(abbr) {
                return Some((i64::try_from(i).unwrap_or(0) + 1, abbr.len()));
            }
        }
        return None;
    }
    let f = m.int.as_ref()?;
    let len = match f.primary {
        Primary::Decimal => {
            let adjacent = next_literal.is_none() || next_literal.is_some_and(str::is_empty);
            let fixed = m.width.1.or(if adjacent && m.pres1.chars().count() > 1 {
                Some(f.mandatory)
            } else {
                None
            });
            let mut n = 0;
            let mut digits = 0;
            for ch in rest.chars() {
                if ch.is_numeric()
                    || (f.separators.iter().any(|(_, s)| *s == ch)
                        || f.regular.is_some_and(|(_, s)| s == ch))
                        && digits > 0
                {
                    digits += usize::from(ch.is_numeric());
                    n += ch.len_utf8();
                    if fixed.is_some_and(|k| k > 0 && digits == k) {
                        break;
                    }
                } else {
                    break;
                }
            }
            if f.ordinal {
                let suffix: usize = rest[n..]
                    .chars()
                    .take_while(|c| c.is_alphabetic())
                    .map(char::len_utf8)
                    .sum();
                n += suffix.min(2);
            }
            n
        }
        Primary::Words => match next_literal {
            Some(l) if !l.is_empty() => rest
                .to_lowercase()
                .find(&l.to_lowercase())
                .unwrap_or(rest.len()),
            _ => rest.len(),
        },
        _ => rest
            .chars()
            .take_while(|c| c.is_alphabetic())
            .map(char::len_utf8)
            .sum(),
    };
    let text = rest.get(..len)?;
    let v = integer::parse(text, f).ok()??;
    Some((v, len))
}

pub(super) fn parse_with_picture(s: &str, picture: &str) -> Result<Option<i64>> {
    let parts = analyse(picture)?;
    let mut got: std::collections::HashMap<char, i64> = std::collections::HashMap::new();
    let mut offset_min: i64 = 0;
    let mut rest = s;
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Literal(l) => match rest.strip_prefix(l.as_str()) {
                Some(r) => rest = r,
                None => return Ok(None),
            },
            Part::Marker(m) if m.component == 'Z' || m.component == 'z' => {
                let t = rest.trim_start_matches("GMT");
                let sign = if t.starts_with('-') { -1 } else { 1 };
                let body = t.trim_start_matches(['+', '-']);
                let len: usize = body
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == ':')
                    .map(char::len_utf8)
                    .sum();
                let (hh, mm) = match body[..len].split_once(':') {
                    Some((h, m)) => (h.parse().unwrap_or(0), m.parse().unwrap_or(0)),
                    None if len > 2 => (
                        body[..len - 2].parse().unwrap_or(0),
                        body[len - 2..len].parse().unwrap_or(0),
                    ),
                    None => (body[..len].parse().unwrap_or(0), 0i64),
                };
                offset_min = sign * (hh * 60 + mm);
                rest = &body[len..];
            }
            Part::Marker(m) => {
                if m.names.is_some() && "YDdHhmsfWwXx".contains(m.component) {
                    return Err(err(
                        "D3133",
                        format!(
                            "The {} component cannot be represented as a name",
                            m.component
                        ),
                        None,
                    ));
                }
                let next = match parts.get(i + 1) {
                    Some(Part::Literal(l)) => Some(l.as_str()),
                    Some(Part::Marker(_)) => Some(""),
                    None => None,
                };
                let Some((v, used)) = read_marker(rest, m, next) else {
                    return Ok(None);
                };
                // Bounded so that the date arithmetic below cannot overflow.
                got.insert(m.component, v.clamp(-10_000_000, 10_000_000));
                // Lower-casing can change byte lengths: never cut inside a character.
                let Some(r) = rest.get(used..) else {
                    return Ok(None);
                };
                rest = r;
            }
        }
    }
    if got.is_empty() {
        return Ok(None);
    }
    let has = |c: char| got.contains_key(&c);
    if ["X", "W", "w", "x"].iter().any(|c| c.chars().all(has)) {
        return Err(err(
            "D3136",
            "The date/time picture string is missing specifiers required to parse the timestamp",
            None,
        ));
    }
    let date_gap = has('Y') && has('D') && !has('M');
    let hour = has('H') || has('h');
    let time_gap = (has('m') && !hour) || (has('s') && !has('m')) || (has('f') && !has('s'));
    if date_gap || time_gap {
        return Err(err(
            "D3136",
            "The date/time picture string is missing specifiers required to parse the timestamp",
            None,
        ));
    }
    let today = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
    let (ty, tm, td) = civil_from_days(today.div_euclid(DAY_MS));
    let any_date = ["Y", "M", "D", "d"].iter().any(|c| c.chars().all(has));
    let g = |c: char, default: i64| got.get(&c).copied().unwrap_or(default);
    let (y, mo, d) = if any_date {
        (g('Y', ty), g('M', 1), g('D', 1))
    } else {
        (ty, tm, td)
    };
    let mut days = days_from_civil(y, mo, d);
    if has('d') {
        days = days_from_civil(y, 1, 1) + g('d', 1) - 1;
    }
    let mut h = g('H', 0);
    if has('h') {
        h = g('h', 12) % 12 + if g('P', 0) == 1 { 12 } else { 0 };
    }
    let ms = days * DAY_MS + ((h * 60 + g('m', 0)) * 60 + g('s', 0)) * 1000 + g('f', 0)
        - offset_min * 60_000;
    Ok(Some(ms))
}
