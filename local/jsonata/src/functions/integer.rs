//! XPath integer pictures (`#,##0`, `w;o`, `A`, `I`, …) as jsonata-js reads them: analysing a
//! picture, formatting an integer with it, parsing one back. $formatInteger and
//! $parseInteger live here and the date-time pictures reuse it; must not know dates.

use super::words;
use crate::error::{Result, err};
use crate::eval::Ev;
use crate::value::Val;

/// Unicode decimal digit families (the code point of each family's zero).
const ZEROS: &[u32] = &[
    0x30,
    0x0660,
    0x06F0,
    0x07C0,
    0x0966,
    0x09E6,
    0x0A66,
    0x0AE6,
    0x0B66,
    0x0BE6,
    0x0C66,
    0x0CE6,
    0x0D66,
    0x0DE6,
    0x0E50,
    0x0ED0,
    0x0F20,
    0x1040,
    0x1090,
    0x17E0,
    0x1810,
    0x1946,
    0x19D0,
    0x1A80,
    0x1A90,
    0x1B50,
    0x1BB0,
    0x1C40,
    0x1C50,
    0xA620,
    0xA8D0,
    0xA900,
    0xA9D0,
    0xA9F0,
    0xAA50,
    0xABF0,
    0xFF10,
    0x2460 - 1,
];

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Primary {
    Decimal,
    Letters,
    Roman,
    Words,
    Sequence,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Case {
    Lower,
    Upper,
    Title,
}

/// An analysed integer picture.
#[derive(Debug, Clone)]
pub(crate) struct IntFormat {
    pub(crate) primary: Primary,
    pub(crate) case: Case,
    pub(crate) ordinal: bool,
    pub(crate) zero: u32,
    pub(crate) mandatory: usize,
    pub(crate) optional: usize,
    /// `Some((every, char))` for regular grouping; else the explicit (position, char) list.
    pub(crate) regular: Option<(usize, char)>,
    pub(crate) separators: Vec<(usize, char)>,
}

fn digit_family(c: char) -> Option<u32> {
    let cp = c as u32;
    ZEROS
        .iter()
        .copied()
        .find(|z| cp >= *z && cp <= z + 9 && (*z != 0x2460 - 1 || cp > *z))
}

pub(crate) fn analyse(picture: &str) -> Result<IntFormat> {
    let mut f = IntFormat {
        primary: Primary::Decimal,
        case: Case::Lower,
        ordinal: false,
        zero: 0x30,
        mandatory: 0,
        optional: 0,
        regular: None,
        separators: Vec::new(),
    };
    let primary = match picture.rfind(';') {
        Some(i) => {
            f.ordinal = picture[i + 1..].starts_with('o');
            &picture[..i]
        }
        None => picture,
    };
    match primary {
        "A" => (f.primary, f.case) = (Primary::Letters, Case::Upper),
        "a" => f.primary = Primary::Letters,
        "I" => (f.primary, f.case) = (Primary::Roman, Case::Upper),
        "i" => f.primary = Primary::Roman,
        "W" => (f.primary, f.case) = (Primary::Words, Case::Upper),
        "Ww" => (f.primary, f.case) = (Primary::Words, Case::Title),
        "w" => f.primary = Primary::Words,
        _ => {
            let mut zero: Option<u32> = None;
            let mut pos = 0;
            for c in primary.chars().rev() {
                if let Some(z) = digit_family(c) {
                    f.mandatory += 1;
                    pos += 1;
                    match zero {
                        None => zero = Some(z),
                        Some(z0) if z0 != z => {
                            return Err(err(
                                "D3131",
                                "The digits within a decimal-digit-pattern must be from the same decimal digit family",
                                None,
                            ));
                        }
                        Some(_) => {}
                    }
                } else if c == '#' {
                    pos += 1;
                    f.optional += 1;
                } else {
                    f.separators.push((pos, c));
                }
            }
            if f.mandatory == 0 {
                f.primary = Primary::Sequence;
                return Ok(f);
            }
            f.zero = zero.unwrap_or(0x30);
            f.regular = regular_repeat(&f.separators);
        }
    }
    Ok(f)
}

fn regular_repeat(seps: &[(usize, char)]) -> Option<(usize, char)> {
    let (_, c) = *seps.first()?;
    if seps.iter().any(|(_, d)| *d != c) {
        return None;
    }
    let gcd = |mut a: usize, mut b: usize| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let factor = seps.iter().fold(0, |g, (p, _)| gcd(g, *p));
    if factor == 0 {
        return None;
    }
    for i in 1..=seps.len() {
        if !seps.iter().any(|(p, _)| *p == i * factor) {
            return None;
        }
    }
    Some((factor, c))
}

fn apply_case(s: String, case: Case) -> String {
    match case {
        Case::Upper => s.to_uppercase(),
        Case::Lower => s.to_lowercase(),
        Case::Title => s,
    }
}

/// Formats `value` with an analysed picture.
pub(crate) fn format(value: i64, f: &IntFormat) -> Result<String> {
    let negative = value < 0;
    let v = value.unsigned_abs();
    let mut s = match f.primary {
        Primary::Letters => words::to_letters(v, if f.case == Case::Upper { 'A' } else { 'a' }),
        Primary::Roman => apply_case(words::to_roman(v), f.case),
        #[allow(clippy::cast_precision_loss)]
        Primary::Words => apply_case(words::to_words(v as f64, f.ordinal), f.case),
        Primary::Sequence => {
            return Err(err(
                "D3130",
                "Formatting or parsing an integer as a sequence is not supported by this implementation",
                None,
            ));
        }
        Primary::Decimal => {
            let mut d = v.to_string();
            if d.len() < f.mandatory {
                d = format!("{}{d}", "0".repeat(f.mandatory - d.len()));
            }
            let mut chars: Vec<char> = d
                .chars()
                .map(|c| char::from_u32(c as u32 - 0x30 + f.zero).unwrap_or(c))
                .collect();
            match f.regular {
                Some((every, sep)) => {
                    let n = (chars.len().saturating_sub(1)) / every;
                    for i in (1..=n).rev() {
                        let pos = chars.len() - i * every;
                        chars.insert(pos, sep);
                    }
                }
                None => {
                    // Farthest first, so each insertion leaves the nearer positions valid.
                    for (p, c) in f.separators.iter().rev() {
                        if *p <= chars.len() {
                            let pos = chars.len() - p;
                            chars.insert(pos, *c);
                        }
                    }
                }
            }
            let mut s: String = chars.into_iter().collect();
            if f.ordinal {
                s.push_str(words::ordinal_suffix(&s));
            }
            s
        }
    };
    if negative {
        s.insert(0, '-');
    }
    Ok(s)
}

/// Parses text written with an analysed picture.
pub(crate) fn parse(text: &str, f: &IntFormat) -> Result<Option<i64>> {
    let v = match f.primary {
        Primary::Letters => {
            words::from_letters(text, if f.case == Case::Upper { 'A' } else { 'a' })
        }
        Primary::Roman => words::from_roman(text),
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Primary::Words => words::from_words(text)
            .filter(|v| *v < 9.2e18)
            .map(|v| v as u64),
        Primary::Sequence => {
            return Err(err(
                "D3130",
                "Formatting or parsing an integer as a sequence is not supported by this implementation",
                None,
            ));
        }
        Primary::Decimal => {
            let mut digits = String::new();
            for c in text.chars() {
                if let Some(z) = digit_family(c) {
                    digits.push(char::from_u32(c as u32 - z + 0x30).unwrap_or('0'));
                } else if c.is_alphabetic() && f.ordinal {
                    continue;
                }
            }
            digits.parse::<u64>().ok()
        }
    };
    Ok(v.and_then(|v| i64::try_from(v).ok()))
}

type Args<'a> = &'a [Option<Val>];

pub(super) fn format_integer(
    _: &mut Ev<'_>,
    args: Args<'_>,
    _: &Option<Val>,
) -> Result<Option<Val>> {
    let (Some(Some(Val::Num(n))), Some(Some(Val::Str(p)))) = (args.first(), args.get(1)) else {
        return Ok(None);
    };
    let f = analyse(p)?;
    if f.primary == Primary::Words {
        // Words work in floating point (jsonata-js), beyond the integer range.
        let w = apply_case(words::to_words(*n, f.ordinal), f.case);
        return Ok(Some(Val::str(&if *n < 0.0 { format!("-{w}") } else { w })));
    }
    #[allow(clippy::cast_possible_truncation)]
    let v = n.floor().clamp(-9e15, 9e15) as i64;
    Ok(Some(Val::str(&format(v, &f)?)))
}

pub(super) fn parse_integer(
    _: &mut Ev<'_>,
    args: Args<'_>,
    _: &Option<Val>,
) -> Result<Option<Val>> {
    let (Some(Some(Val::Str(s))), Some(Some(Val::Str(p)))) = (args.first(), args.get(1)) else {
        return Ok(None);
    };
    let f = analyse(p)?;
    if f.primary == Primary::Words {
        return Ok(words::from_words(s).map(Val::Num));
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(parse(s, &f)?.map(|v| Val::Num(v as f64)))
}
