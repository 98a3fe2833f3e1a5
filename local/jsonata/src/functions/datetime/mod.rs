//! $fromMillis and $toMillis: XPath date-time pictures (`[Y0001]-[M01]-[D01]`) as jsonata-js
//! implements them, plus ISO 8601 without a picture. Works in UTC with an optional `±hhmm`
//! offset. This file holds the two entry points and the calendar arithmetic; pictures are
//! read in `picture`, written in `format` and read back in `parse`. Must not read the clock
//! except for the date of a time-only $toMillis.

mod format;
mod parse;
mod picture;

use crate::error::{Result, err};
use crate::eval::Ev;
use crate::value::Val;

pub(super) const DAY_MS: i64 = 86_400_000;
pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(super) const DAYS: [&str; 8] = [
    "",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const ISO_PICTURE: &str = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";

/// Days since 1970-01-01 of a civil date (month 1-12).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1-12, day) of a day number.
pub(super) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

type Args<'a> = &'a [Option<Val>];

/// Bytes formatting one digit of a marker's minimum width costs at worst: `integer::format`
/// holds the digits as text and as `char`s (4 bytes each) at once, and a digit of another
/// family than 0-9 takes up to 4 bytes of UTF-8.
const BYTES_PER_DIGIT: usize = 16;

pub(super) fn from_millis(ev: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(Some(Val::Num(n))) = args.first() else {
        return Ok(None);
    };
    let picture = match args.get(1) {
        Some(Some(Val::Str(p))) => p.to_string(),
        _ => ISO_PICTURE.to_owned(),
    };
    let (oh, om) = match args.get(2) {
        Some(Some(Val::Str(tz))) => {
            let v: i64 = tz
                .trim_start_matches('+')
                .parse::<i64>()
                .unwrap_or(0)
                .clamp(-9999, 9999);
            (v / 100, v % 100)
        }
        _ => (0, 0),
    };
    #[allow(clippy::cast_possible_truncation)]
    let ms = n.floor().clamp(-8.64e15, 8.64e15) as i64 + (oh * 60 + om) * 60_000;
    let parts = picture::analyse(&picture)?;
    // A width modifier (`[Y,2000000000]`) pads with that many digits.
    let digits = parts.iter().fold(0usize, |sum, part| match part {
        picture::Part::Marker(m) => sum.saturating_add(m.int.as_ref().map_or(0, |f| f.mandatory)),
        picture::Part::Literal(_) => sum,
    });
    ev.budget.reserve(digits.saturating_mul(BYTES_PER_DIGIT))?;
    let mut out = String::new();
    for part in parts {
        match part {
            picture::Part::Literal(l) => out.push_str(&l),
            picture::Part::Marker(m) => out.push_str(&format::format_marker(ms, &m, oh, om)?),
        }
    }
    Ok(Some(Val::str(&out)))
}

pub(super) fn to_millis(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(Some(Val::Str(s))) = args.first() else {
        return Ok(None);
    };
    #[allow(clippy::cast_precision_loss)]
    match args.get(1) {
        Some(Some(Val::Str(p))) => {
            Ok(parse::parse_with_picture(s, p)?.map(|ms| Val::Num(ms as f64)))
        }
        _ => match parse::parse_iso(s) {
            Some(ms) => Ok(Some(Val::Num(ms as f64))),
            None => Err(err(
                "D3110",
                format!("The timestamp {s} cannot be parsed"),
                None,
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::parse::parse_iso;
    use super::*;

    #[test]
    fn iso_round_trip() {
        assert_eq!(
            parse_iso("2018-02-01T09:42:13.123+0000"),
            Some(1_517_478_133_123)
        );
        assert_eq!(parse_iso("2018"), Some(1_514_764_800_000));
        assert_eq!(parse_iso("foo"), None);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
    }

    fn run(text: &str) -> std::result::Result<Option<serde_json::Value>, String> {
        crate::Expression::parse(text)
            .and_then(|e| e.evaluate(None, &crate::Environment::default()))
            .map_err(|e| e.code)
    }

    #[test]
    fn a_width_within_the_memory_limit_pads() {
        assert_eq!(
            run("$fromMillis(0, '[Y,6]-[M,3]')"),
            Ok(Some(serde_json::json!("001970-001")))
        );
    }

    #[test]
    fn a_width_past_the_memory_limit_is_u1004() {
        assert_eq!(
            run("$fromMillis(0, '[Y,2000000000]')"),
            Err("U1004".to_owned())
        );
    }
}
