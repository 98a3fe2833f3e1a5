//! Writes one component of a date-time picture for a moment: numbers through the integer
//! pictures, month and day names, am/pm, time-zone offsets, ISO weeks. Must not parse.

use super::picture::Marker;
use super::{DAY_MS, DAYS, MONTHS, civil_from_days, days_from_civil};
use crate::error::{Result, err};
use crate::functions::integer::{self, Case, IntFormat, Primary};

/// Start (ms) of ISO week 1 of the month (`month` 0-11) of `year`.
fn start_of_first_week(year: i64, month: i64) -> i64 {
    let first = days_from_civil(year, month + 1, 1) * DAY_MS;
    let mut dow = (days_from_civil(year, month + 1, 1) + 4).rem_euclid(7);
    if dow == 0 {
        dow = 7;
    }
    if dow > 4 {
        first + (8 - dow) * DAY_MS
    } else {
        first - (dow - 1) * DAY_MS
    }
}

fn next_month(y: i64, m: i64) -> (i64, i64) {
    if m == 11 { (y + 1, 0) } else { (y, m + 1) }
}

fn prev_month(y: i64, m: i64) -> (i64, i64) {
    if m == 0 { (y - 1, 11) } else { (y, m - 1) }
}

/// The numeric value of a component at `ms` (already shifted to local time).
fn fragment(ms: i64, c: char) -> i64 {
    let days = ms.div_euclid(DAY_MS);
    let (y, mo, d) = civil_from_days(days);
    let today = days * DAY_MS;
    let tod = ms.rem_euclid(DAY_MS);
    let weeks = |start: i64, end: i64| (end - start).div_euclid(7 * DAY_MS) + 1;
    match c {
        'Y' => y,
        'M' => mo,
        'D' => d,
        'd' => days - days_from_civil(y, 1, 1) + 1,
        'F' => {
            let w = (days + 4).rem_euclid(7);
            if w == 0 { 7 } else { w }
        }
        'W' => {
            let mut week = weeks(start_of_first_week(y, 0), today);
            if week > 52 {
                if today >= start_of_first_week(y + 1, 0) {
                    week = 1;
                }
            } else if week < 1 {
                week = weeks(start_of_first_week(y - 1, 0), today);
            }
            week
        }
        'w' => {
            let mut week = weeks(start_of_first_week(y, mo - 1), today);
            if week > 4 {
                let (ny, nm) = next_month(y, mo - 1);
                if today >= start_of_first_week(ny, nm) {
                    week = 1;
                }
            } else if week < 1 {
                let (py, pm) = prev_month(y, mo - 1);
                week = weeks(start_of_first_week(py, pm), today);
            }
            week
        }
        'X' => {
            if ms < start_of_first_week(y, 0) {
                y - 1
            } else if ms >= start_of_first_week(y + 1, 0) {
                y + 1
            } else {
                y
            }
        }
        'x' => {
            let (ny, nm) = next_month(y, mo - 1);
            if ms < start_of_first_week(y, mo - 1) {
                prev_month(y, mo - 1).1 + 1
            } else if ms >= start_of_first_week(ny, nm) {
                nm + 1
            } else {
                mo
            }
        }
        'H' => tod / 3_600_000,
        'h' => {
            let h = (tod / 3_600_000) % 12;
            if h == 0 { 12 } else { h }
        }
        'm' => tod / 60_000 % 60,
        's' => tod / 1000 % 60,
        'f' => tod % 1000,
        _ => 0,
    }
}

fn cased(s: &str, case: Option<Case>) -> String {
    match case {
        Some(Case::Upper) => s.to_uppercase(),
        Some(Case::Lower) => s.to_lowercase(),
        _ => s.to_owned(),
    }
}

pub(super) fn format_marker(ms: i64, m: &Marker, offset_h: i64, offset_m: i64) -> Result<String> {
    let c = m.component;
    let int = |v: i64| {
        m.int
            .as_ref()
            .map_or(Ok(v.to_string()), |f| integer::format(v, f))
    };
    if "YMDdFWwXxHhms".contains(c) {
        let mut v = fragment(ms, c);
        if c == 'Y' && m.year_digits != -1 {
            v %= 10i64.pow(u32::try_from(m.year_digits).unwrap_or(0).min(18));
        }
        if let Some(case) = m.names {
            let name = match c {
                'M' | 'x' => MONTHS
                    .get(usize::try_from(v - 1).unwrap_or(0))
                    .copied()
                    .unwrap_or(""),
                'F' => DAYS
                    .get(usize::try_from(v).unwrap_or(0))
                    .copied()
                    .unwrap_or(""),
                _ => {
                    return Err(err(
                        "D3133",
                        format!("The {c} component cannot be represented as a name"),
                        None,
                    ));
                }
            };
            let mut s = cased(name, Some(case));
            if let Some(max) = m.width.1 {
                s = s.chars().take(max).collect();
            }
            return Ok(s);
        }
        return int(v);
    }
    match c {
        'f' => int(fragment(ms, 'f')),
        'Z' | 'z' => {
            let offset = offset_h * 100 + offset_m;
            let f = m.int.clone().unwrap_or_else(|| IntFormat {
                primary: Primary::Decimal,
                case: Case::Lower,
                ordinal: false,
                zero: 0x30,
                mandatory: 2,
                optional: 0,
                regular: None,
                separators: Vec::new(),
            });
            let mut s = if f.regular.is_some() {
                integer::format(offset, &f)?
            } else {
                match f.mandatory {
                    1 | 2 => {
                        let mut s = integer::format(offset_h, &f)?;
                        if offset_m != 0 {
                            s.push_str(&format!(":{:02}", offset_m.abs()));
                        }
                        s
                    }
                    3 | 4 => integer::format(offset, &f)?,
                    n => {
                        return Err(err(
                            "D3134",
                            format!(
                                "The timezone integer format specifier cannot have more than four digits: {n}"
                            ),
                            None,
                        ));
                    }
                }
            };
            if offset >= 0 {
                s.insert(0, '+');
            }
            if c == 'z' {
                s.insert_str(0, "GMT");
            }
            if offset == 0 && m.pres2 == Some('t') {
                s = "Z".into();
            }
            Ok(s)
        }
        'P' => {
            let pm = fragment(ms, 'H') >= 12;
            let s = if pm { "pm" } else { "am" };
            Ok(if m.names == Some(Case::Upper) {
                s.to_uppercase()
            } else {
                s.to_owned()
            })
        }
        'C' | 'E' => Ok("ISO".into()),
        _ => Ok(String::new()),
    }
}
