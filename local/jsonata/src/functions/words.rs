//! Integer ↔ text the XPath way (jsonata-js `datetime.js`): English words, Roman numerals,
//! letter sequences and ordinal suffixes. Pure conversions; must not know pictures.

const FEW: [&str; 20] = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
];
const ORDINALS: [&str; 20] = [
    "Zeroth",
    "First",
    "Second",
    "Third",
    "Fourth",
    "Fifth",
    "Sixth",
    "Seventh",
    "Eighth",
    "Ninth",
    "Tenth",
    "Eleventh",
    "Twelfth",
    "Thirteenth",
    "Fourteenth",
    "Fifteenth",
    "Sixteenth",
    "Seventeenth",
    "Eighteenth",
    "Nineteenth",
];
const DECADES: [&str; 9] = [
    "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred",
];
const MAGNITUDES: [&str; 4] = ["Thousand", "Million", "Billion", "Trillion"];

/// `n` in English words, Title Case ("One Hundred and Two"); `ordinal` for "Second".
/// Works in floating point as jsonata-js does, so 1e46 is "Ten Billion Trillion Trillion
/// Trillion".
pub(crate) fn to_words(n: f64, ordinal: bool) -> String {
    words(n.abs().floor(), false, ordinal)
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn idx(n: f64) -> usize {
    n as usize
}

fn words(num: f64, prev: bool, ord: bool) -> String {
    let and = if prev { " and " } else { "" };
    if num <= 19.0 {
        let i = idx(num).min(19);
        format!("{and}{}", if ord { ORDINALS[i] } else { FEW[i] })
    } else if num < 100.0 {
        let (tens, rem) = ((num / 10.0).floor(), num % 10.0);
        let mut w = format!("{and}{}", DECADES[idx(tens - 2.0).min(8)]);
        if rem > 0.0 {
            w.push('-');
            w.push_str(&words(rem, false, ord));
        } else if ord {
            w.pop();
            w.push_str("ieth");
        }
        w
    } else if num < 1000.0 {
        let (h, rem) = ((num / 100.0).floor(), num % 100.0);
        let mut w = format!(
            "{}{} Hundred",
            if prev { ", " } else { "" },
            FEW[idx(h).min(19)]
        );
        if rem > 0.0 {
            w.push_str(&words(rem, true, ord));
        } else if ord {
            w.push_str("th");
        }
        w
    } else {
        let mag = idx((num.log10() / 3.0).floor()).clamp(1, MAGNITUDES.len());
        let factor = 10f64.powi(i32::try_from(mag * 3).unwrap_or(12));
        let mant = (num / factor).floor();
        let rem = num - mant * factor;
        let mut w = format!(
            "{}{} {}",
            if prev { ", " } else { "" },
            words(mant, false, false),
            MAGNITUDES[mag - 1]
        );
        if rem > 0.0 {
            w.push_str(&words(rem, true, ord));
        } else if ord {
            w.push_str("th");
        }
        w
    }
}

fn word_value(w: &str) -> Option<u64> {
    let w = w.to_lowercase();
    for (i, f) in FEW.iter().enumerate() {
        if f.to_lowercase() == w || ORDINALS[i].to_lowercase() == w {
            return Some(i as u64);
        }
    }
    for (i, d) in DECADES.iter().enumerate() {
        let l = d.to_lowercase();
        let ieth = format!("{}ieth", &l[..l.len() - 1]);
        if l == w || ieth == w {
            return Some((i as u64 + 2) * 10);
        }
    }
    if w == "hundredth" {
        return Some(100);
    }
    for (i, m) in MAGNITUDES.iter().enumerate() {
        let l = m.to_lowercase();
        if l == w || format!("{l}th") == w {
            return Some(10u64.pow(u32::try_from((i + 1) * 3).unwrap_or(0)));
        }
    }
    None
}

/// English words back to a number; `None` when a word is not a number word.
pub(crate) fn from_words(text: &str) -> Option<f64> {
    let normal = text
        .to_lowercase()
        .replace(", ", " ")
        .replace(" and ", " ")
        .replace('-', " ");
    let mut segs: Vec<f64> = vec![0.0];
    for part in normal.split_whitespace() {
        #[allow(clippy::cast_precision_loss)]
        let v = word_value(part)? as f64;
        if v < 100.0 {
            let mut top = segs.pop().unwrap_or(0.0);
            if top >= 1000.0 {
                segs.push(top);
                top = 0.0;
            }
            segs.push(top + v);
        } else {
            let top = segs.pop().unwrap_or(0.0);
            segs.push(top * v);
        }
    }
    Some(segs.iter().sum())
}

const ROMAN: [(u64, &str); 13] = [
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
];

/// Lower-case Roman numerals.
pub(crate) fn to_roman(mut n: u64) -> String {
    let mut s = String::new();
    for (v, l) in ROMAN {
        while n >= v {
            s.push_str(l);
            n -= v;
        }
    }
    s
}

pub(crate) fn from_roman(s: &str) -> Option<u64> {
    let val = |c: char| match c.to_ascii_lowercase() {
        'i' => Some(1u64),
        'v' => Some(5),
        'x' => Some(10),
        'l' => Some(50),
        'c' => Some(100),
        'd' => Some(500),
        'm' => Some(1000),
        _ => None,
    };
    let vals: Option<Vec<u64>> = s.chars().map(val).collect();
    let vals = vals?;
    let mut total: i64 = 0;
    for (i, v) in vals.iter().enumerate() {
        let v = i64::try_from(*v).unwrap_or(0);
        if vals
            .get(i + 1)
            .is_some_and(|n| i64::try_from(*n).unwrap_or(0) > v)
        {
            total -= v;
        } else {
            total += v;
        }
    }
    u64::try_from(total).ok()
}

/// 1 → "a", 27 → "aa" (with `base` 'a' or 'A').
pub(crate) fn to_letters(mut n: u64, base: char) -> String {
    let mut out = Vec::new();
    while n > 0 {
        let c = u32::try_from((n - 1) % 26).unwrap_or(0) + base as u32;
        out.push(char::from_u32(c).unwrap_or('?'));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

pub(crate) fn from_letters(s: &str, base: char) -> Option<u64> {
    let mut n: u64 = 0;
    for c in s.chars() {
        let d = (c as u32).checked_sub(base as u32)?;
        if d >= 26 {
            return None;
        }
        n = n.checked_mul(26)?.checked_add(u64::from(d) + 1)?;
    }
    Some(n)
}

/// "st", "nd", "rd" or "th" for a decimal digit string.
pub(crate) fn ordinal_suffix(digits: &str) -> &'static str {
    let mut rev = digits.chars().rev();
    let last = rev.next();
    let tens = rev.next();
    if tens == Some('1') {
        return "th";
    }
    match last {
        Some('1') => "st",
        Some('2') => "nd",
        Some('3') => "rd",
        _ => "th",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        assert_eq!(to_words(730.0, false), "Seven Hundred and Thirty");
        assert_eq!(to_words(1000.0, true), "One Thousandth");
        assert_eq!(
            from_words(
                "four million, three hundred and twenty-seven thousand, seven hundred and thirty"
            ),
            Some(4_327_730.0)
        );
        assert_eq!(from_words("nineteen hundred and eighty-four"), Some(1984.0));
        assert_eq!(
            to_words(1e46, false),
            "Ten Billion Trillion Trillion Trillion"
        );
        assert_eq!(to_roman(2018), "mmxviii");
        assert_eq!(from_roman("MCMLXXXIV"), Some(1984));
        assert_eq!(to_letters(12, 'a'), "l");
        assert_eq!(from_letters("FZPH", 'A'), Some(123_456));
    }
}
