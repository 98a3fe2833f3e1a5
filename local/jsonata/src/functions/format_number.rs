//! $formatNumber: XPath F&O 3.1 `format-number` as jsonata-js implements it (sub-pictures,
//! grouping, minimum/maximum digits, percent and per-mille, exponents, custom digit
//! families through the options object). Must not evaluate expressions.

use super::numeric::round_half_even;
use crate::error::{Result, err};
use crate::eval::Ev;
use crate::value::Val;

struct Props {
    decimal: char,
    grouping: char,
    exponent: char,
    minus: String,
    percent: char,
    per_mille: String,
    zero: char,
    digit: char,
    pattern: char,
}

struct Parts {
    prefix: String,
    suffix: String,
    active: Vec<char>,
    mantissa: Vec<char>,
    exponent: Option<Vec<char>>,
    integer: Vec<char>,
    fraction: Vec<char>,
    sub: Vec<char>,
}

struct Pic {
    int_groups: Vec<usize>,
    regular: usize,
    min_int: usize,
    scaling: i32,
    prefix: String,
    frac_groups: Vec<usize>,
    min_frac: usize,
    max_frac: usize,
    min_exp: usize,
    suffix: String,
    sub: String,
}

fn first_char(v: Option<&Val>, default: char) -> char {
    match v {
        Some(Val::Str(s)) => s.chars().next().unwrap_or(default),
        _ => default,
    }
}

impl Props {
    fn from(options: Option<&Val>) -> Props {
        let o = match options {
            Some(Val::Obj(o)) => Some(o),
            _ => None,
        };
        let get = |k: &str| o.and_then(|o| o.get(k));
        let text = |k: &str, d: &str| match get(k) {
            Some(Val::Str(s)) => s.to_string(),
            _ => d.to_owned(),
        };
        Props {
            decimal: first_char(get("decimal-separator"), '.'),
            grouping: first_char(get("grouping-separator"), ','),
            exponent: first_char(get("exponent-separator"), 'e'),
            minus: text("minus-sign", "-"),
            percent: first_char(get("percent"), '%'),
            per_mille: text("per-mille", "\u{2030}"),
            zero: first_char(get("zero-digit"), '0'),
            digit: first_char(get("digit"), '#'),
            pattern: first_char(get("pattern-separator"), ';'),
        }
    }

    fn is_digit(&self, c: char) -> bool {
        (c as u32) >= self.zero as u32 && (c as u32) < self.zero as u32 + 10
    }

    fn is_active(&self, c: char) -> bool {
        self.is_digit(c)
            || c == self.decimal
            || c == self.exponent
            || c == self.grouping
            || c == self.digit
            || c == self.pattern
    }

    fn to_family(&self, s: &str) -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    char::from_u32(self.zero as u32 + (c as u32 - 0x30)).unwrap_or(c)
                } else {
                    c
                }
            })
            .collect()
    }
}

fn find(hay: &[char], c: char) -> Option<usize> {
    hay.iter().position(|x| *x == c)
}

fn rfind(hay: &[char], c: char) -> Option<usize> {
    hay.iter().rposition(|x| *x == c)
}

fn split_parts(sub: &[char], p: &Props) -> Parts {
    let start = sub
        .iter()
        .position(|c| p.is_active(*c) && *c != p.exponent)
        .unwrap_or(sub.len());
    let end = sub
        .iter()
        .rposition(|c| p.is_active(*c) && *c != p.exponent)
        .map_or(start, |i| i + 1)
        .max(start);
    let prefix: String = sub[..start].iter().collect();
    let suffix: String = sub[end..].iter().collect();
    let active = sub[start..end].to_vec();
    let exp_pos = sub
        .iter()
        .skip(start)
        .position(|c| *c == p.exponent)
        .map(|i| i + start);
    let (mantissa, exponent) = match exp_pos {
        Some(e) if e <= end => {
            let rel = e - start;
            (
                active[..rel.min(active.len())].to_vec(),
                Some(active.get(rel + 1..).unwrap_or(&[]).to_vec()),
            )
        }
        _ => (active.clone(), None),
    };
    let (integer, fraction) = match find(&mantissa, p.decimal) {
        Some(d) => (mantissa[..d].to_vec(), mantissa[d + 1..].to_vec()),
        None => (mantissa.clone(), suffix.chars().collect()),
    };
    Parts {
        prefix,
        suffix,
        active,
        mantissa,
        exponent,
        integer,
        fraction,
        sub: sub.to_vec(),
    }
}

fn validate(parts: &Parts, p: &Props) -> Result<()> {
    let sub = &parts.sub;
    let count = |c: char| sub.iter().filter(|x| **x == c).count();
    let pm: Vec<char> = p.per_mille.chars().collect();
    let has_pm = pm.first().is_some_and(|c| sub.contains(c));
    let mut code = None;
    let dec = find(sub, p.decimal);
    if count(p.decimal) > 1 {
        code = Some("D3081");
    }
    if count(p.percent) > 1 {
        code = Some("D3082");
    }
    if pm.first().is_some_and(|c| count(*c) > 1) {
        code = Some("D3083");
    }
    if sub.contains(&p.percent) && has_pm {
        code = Some("D3084");
    }
    if !parts
        .mantissa
        .iter()
        .any(|c| p.is_digit(*c) || *c == p.digit)
    {
        code = Some("D3085");
    }
    if parts.active.iter().any(|c| !p.is_active(*c)) {
        code = Some("D3086");
    }
    match dec {
        Some(d) => {
            if (d > 0 && sub.get(d - 1) == Some(&p.grouping)) || sub.get(d + 1) == Some(&p.grouping)
            {
                code = Some("D3087");
            }
        }
        None => {
            if parts.integer.last() == Some(&p.grouping) {
                code = Some("D3088");
            }
        }
    }
    if sub
        .windows(2)
        .any(|w| w[0] == p.grouping && w[1] == p.grouping)
    {
        code = Some("D3089");
    }
    if let Some(o) = find(&parts.integer, p.digit)
        && parts.integer[..o].iter().any(|c| p.is_digit(*c))
    {
        code = Some("D3090");
    }
    if let Some(o) = rfind(&parts.fraction, p.digit)
        && parts.fraction[o..].iter().any(|c| p.is_digit(*c))
    {
        code = Some("D3091");
    }
    if let Some(e) = &parts.exponent {
        if !e.is_empty() && (sub.contains(&p.percent) || has_pm) {
            code = Some("D3092");
        }
        if e.is_empty() || e.iter().any(|c| !p.is_digit(*c)) {
            code = Some("D3093");
        }
    }
    match code {
        Some(c) => Err(err(c, "Invalid picture string for $formatNumber", None)),
        None => Ok(()),
    }
}

fn analyse(parts: &Parts, p: &Props) -> Pic {
    let digitish = |c: &char| p.is_digit(*c) || *c == p.digit;
    let groups = |part: &[char], to_left: bool| -> Vec<usize> {
        part.iter()
            .enumerate()
            .filter(|(_, c)| **c == p.grouping)
            .map(|(i, _)| {
                if to_left {
                    part[..i].iter().filter(|c| digitish(c)).count()
                } else {
                    part[i..].iter().filter(|c| digitish(c)).count()
                }
            })
            .collect()
    };
    let int_groups = groups(&parts.integer, false);
    let regular = {
        let gcd = |mut a: usize, mut b: usize| {
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a
        };
        let factor = int_groups.iter().fold(0, |g, x| gcd(g, *x));
        if factor == 0 || (1..=int_groups.len()).any(|i| !int_groups.contains(&(i * factor))) {
            0
        } else {
            factor
        }
    };
    let frac_groups = groups(&parts.fraction, true);
    let mut min_int = parts.integer.iter().filter(|c| p.is_digit(**c)).count();
    let scaling = i32::try_from(min_int).unwrap_or(0);
    let mut min_frac = parts.fraction.iter().filter(|c| p.is_digit(**c)).count();
    let mut max_frac = parts.fraction.iter().filter(|c| digitish(c)).count();
    let exp = parts.exponent.is_some();
    if min_int == 0 && max_frac == 0 {
        if exp {
            min_frac = 1;
            max_frac = 1;
        } else {
            min_int = 1;
        }
    }
    if exp && min_int == 0 && parts.integer.contains(&p.digit) {
        min_int = 1;
    }
    if min_int == 0 && min_frac == 0 {
        min_frac = 1;
    }
    let min_exp = parts
        .exponent
        .as_ref()
        .map_or(0, |e| e.iter().filter(|c| p.is_digit(**c)).count());
    Pic {
        int_groups,
        regular,
        min_int,
        scaling,
        prefix: parts.prefix.clone(),
        frac_groups,
        min_frac,
        max_frac,
        min_exp,
        suffix: parts.suffix.clone(),
        sub: parts.sub.iter().collect(),
    }
}

pub(super) fn format_number(
    _: &mut Ev<'_>,
    args: &[Option<Val>],
    _: &Option<Val>,
) -> Result<Option<Val>> {
    let Some(Some(Val::Num(value))) = args.first() else {
        return Ok(None);
    };
    let Some(Some(Val::Str(picture))) = args.get(1) else {
        return Ok(None);
    };
    let p = Props::from(args.get(2).and_then(Option::as_ref));
    let subs: Vec<Vec<char>> = picture
        .split(p.pattern)
        .map(|s| s.chars().collect())
        .collect();
    if subs.len() > 2 {
        return Err(err(
            "D3080",
            "The picture string must not contain more than one pattern separator",
            None,
        ));
    }
    let parts: Vec<Parts> = subs.iter().map(|s| split_parts(s, &p)).collect();
    for part in &parts {
        validate(part, &p)?;
    }
    let mut pics: Vec<Pic> = parts.iter().map(|x| analyse(x, &p)).collect();
    if pics.len() == 1
        && let Some(first) = parts.first()
    {
        let mut neg = analyse(first, &p);
        neg.prefix = format!("{}{}", p.minus, neg.prefix);
        pics.push(neg);
    }
    let Some(pic) = pics.get(usize::from(*value < 0.0)) else {
        return Ok(None);
    };
    let mut adjusted = *value;
    if pic.sub.contains(p.percent) {
        adjusted *= 100.0;
    } else if p
        .per_mille
        .chars()
        .next()
        .is_some_and(|c| pic.sub.contains(c))
    {
        adjusted *= 1000.0;
    }
    let (mut mantissa, mut exponent) = (adjusted, None);
    if pic.min_exp > 0 {
        let max_m = 10f64.powi(pic.scaling);
        let min_m = 10f64.powi(pic.scaling - 1);
        let mut e = 0i32;
        let mut guard = 0;
        while mantissa.abs() < min_m && mantissa != 0.0 && guard < 400 {
            mantissa *= 10.0;
            e -= 1;
            guard += 1;
        }
        while mantissa.abs() > max_m && guard < 800 {
            mantissa /= 10.0;
            e += 1;
            guard += 1;
        }
        exponent = Some(e);
    }
    let max_frac = pic.max_frac.min(100);
    let rounded = round_half_even(mantissa, i32::try_from(max_frac).unwrap_or(0));
    let fixed = p.to_family(&format!("{:.*}", max_frac, rounded.abs()));
    let mut s: Vec<char> = fixed
        .chars()
        .map(|c| if c == '.' { p.decimal } else { c })
        .collect();
    if !s.contains(&p.decimal) {
        s.push(p.decimal);
    }
    while s.first() == Some(&p.zero) {
        s.remove(0);
    }
    while s.last() == Some(&p.zero) {
        s.pop();
    }
    let dp = find(&s, p.decimal).unwrap_or(s.len());
    let pad_left = pic.min_int.saturating_sub(dp);
    let pad_right = pic.min_frac.saturating_sub(s.len() - dp - 1);
    let mut out: Vec<char> = std::iter::repeat_n(p.zero, pad_left)
        .chain(s)
        .chain(std::iter::repeat_n(p.zero, pad_right))
        .collect();
    let mut dp = find(&out, p.decimal).unwrap_or(out.len());
    if let Some(count) = dp.saturating_sub(1).checked_div(pic.regular) {
        for g in 1..=count {
            out.insert(dp - g * pic.regular, p.grouping);
        }
    } else {
        for pos in &pic.int_groups {
            if *pos <= dp {
                out.insert(dp - pos, p.grouping);
                dp += 1;
            }
        }
    }
    let dp = find(&out, p.decimal).unwrap_or(out.len());
    for pos in &pic.frac_groups {
        let at = pos + dp + 1;
        if at <= out.len() {
            out.insert(at, p.grouping);
        }
    }
    if out.last() == Some(&p.decimal) {
        out.pop();
    }
    let mut text: String = out.into_iter().collect();
    if let Some(e) = exponent {
        let digits = p.to_family(&e.unsigned_abs().to_string());
        let pad = pic.min_exp.saturating_sub(digits.chars().count());
        text.push(p.exponent);
        if e < 0 {
            text.push_str(&p.minus);
        }
        text.extend(std::iter::repeat_n(p.zero, pad));
        text.push_str(&digits);
    }
    Ok(Some(Val::str(&format!(
        "{}{text}{}",
        pic.prefix, pic.suffix
    ))))
}
