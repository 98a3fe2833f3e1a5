//! Numeric functions: rounding, powers, aggregates ($sum, $max, $min, $average), $number,
//! $formatBase and a basic $formatNumber. Results that are not finite are errors. Must not
//! evaluate expressions.

use crate::error::{Result, err};
use crate::eval::Ev;
use crate::value::{Val, js_number};

type Args<'a> = &'a [Option<Val>];

fn n_arg(args: Args<'_>, i: usize) -> Option<f64> {
    match args.get(i) {
        Some(Some(Val::Num(n))) => Some(*n),
        _ => None,
    }
}

fn num(n: f64) -> Result<Option<Val>> {
    if n.is_finite() {
        // No negative zero in JSON output.
        Ok(Some(Val::Num(if n == 0.0 { 0.0 } else { n })))
    } else {
        Err(err("D1001", format!("Number out of range: {n}"), None))
    }
}

fn unary(args: Args<'_>, f: fn(f64) -> f64) -> Result<Option<Val>> {
    n_arg(args, 0).map_or(Ok(None), |n| num(f(n)))
}

pub(super) fn abs(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    unary(args, f64::abs)
}

pub(super) fn floor(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    unary(args, f64::floor)
}

pub(super) fn ceil(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    unary(args, f64::ceil)
}

pub(super) fn sqrt(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    match n_arg(args, 0) {
        None => Ok(None),
        Some(n) if n < 0.0 => Err(err(
            "D3060",
            format!(
                "The sqrt function cannot be applied to a negative number: {}",
                js_number(n)
            ),
            None,
        )),
        Some(n) => num(n.sqrt()),
    }
}

pub(super) fn power(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let (Some(b), Some(e)) = (n_arg(args, 0), n_arg(args, 1)) else {
        return Ok(None);
    };
    let r = b.powf(e);
    if !r.is_finite() {
        return Err(err(
            "D3061",
            format!(
                "The power function has resulted in a value that cannot be represented as a JSON number: base={}, exponent={}",
                js_number(b),
                js_number(e)
            ),
            None,
        ));
    }
    num(r)
}

/// Shifts the decimal point of `n` by `by` places through its decimal text, as jsonata-js
/// does to avoid binary rounding noise.
fn shift(n: f64, by: i32) -> f64 {
    let s = js_number(n);
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.trim_start_matches('+').parse().unwrap_or(0);
    format!("{m}e{}", e + by).parse().unwrap_or(n)
}

/// jsonata-js rounding: to `precision` decimal places, halves to even.
pub(super) fn round_half_even(n: f64, precision: i32) -> f64 {
    let x = if precision != 0 {
        shift(n, precision)
    } else {
        n
    };
    // JavaScript's Math.round (half up), then the half-to-even correction.
    let mut r = (x + 0.5).floor();
    if (r - x).abs() == 0.5 && (r % 2.0).abs() == 1.0 {
        r -= 1.0;
    }
    if precision != 0 {
        r = shift(r, -precision);
    }
    r
}

pub(super) fn round(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(n) = n_arg(args, 0) else {
        return Ok(None);
    };
    #[allow(clippy::cast_possible_truncation)]
    let precision = n_arg(args, 1).map_or(0, |p| p.trunc().clamp(-300.0, 300.0) as i32);
    num(round_half_even(n, precision))
}

fn numbers(args: Args<'_>) -> Option<Vec<f64>> {
    match args.first()? {
        Some(Val::Arr(a)) => Some(
            a.items
                .iter()
                .filter_map(|v| if let Val::Num(n) = v { Some(*n) } else { None })
                .collect(),
        ),
        Some(Val::Num(n)) => Some(vec![*n]),
        _ => None,
    }
}

pub(super) fn sum(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    numbers(args).map_or(Ok(None), |ns| num(ns.iter().sum()))
}

pub(super) fn max(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    match numbers(args) {
        Some(ns) if !ns.is_empty() => num(ns.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        _ => Ok(None),
    }
}

pub(super) fn min(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    match numbers(args) {
        Some(ns) if !ns.is_empty() => num(ns.iter().copied().fold(f64::INFINITY, f64::min)),
        _ => Ok(None),
    }
}

pub(super) fn average(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    match numbers(args) {
        #[allow(clippy::cast_precision_loss)]
        Some(ns) if !ns.is_empty() => num(ns.iter().sum::<f64>() / ns.len() as f64),
        _ => Ok(None),
    }
}

pub(super) fn number(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let v = match args.first() {
        Some(Some(v)) => v,
        _ => return Ok(None),
    };
    let bad = || err("D3030", "Unable to cast value to a number", None);
    match v {
        Val::Num(n) => num(*n),
        Val::Bool(b) => num(if *b { 1.0 } else { 0.0 }),
        Val::Str(s) => {
            let t: &str = s;
            let radix = [
                ("0x", 16),
                ("0X", 16),
                ("0o", 8),
                ("0O", 8),
                ("0b", 2),
                ("0B", 2),
            ]
            .iter()
            .find_map(|(p, r)| t.strip_prefix(p).map(|rest| (rest, *r)));
            if let Some((digits, r)) = radix {
                #[allow(clippy::cast_precision_loss)]
                return u64::from_str_radix(digits, r)
                    .map_err(|_| bad())
                    .and_then(|n| num(n as f64));
            }
            let body = t.strip_prefix('-').unwrap_or(t);
            let ok = body.starts_with(|c: char| c.is_ascii_digit())
                && body
                    .chars()
                    .all(|c| c.is_ascii_digit() || ".eE+-".contains(c));
            match t.parse::<f64>() {
                Ok(n) if ok && n.is_finite() => num(n),
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

pub(super) fn format_base(_: &mut Ev<'_>, args: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    let Some(n) = n_arg(args, 0) else {
        return Ok(None);
    };
    let radix = n_arg(args, 1).unwrap_or(10.0);
    if !(2.0..=36.0).contains(&radix) {
        return Err(err(
            "D3100",
            format!(
                "The radix of the formatBase function must be between 2 and 36.  It was given {}",
                js_number(radix)
            ),
            None,
        ));
    }
    let mut v = (n.abs() + 0.5).floor();
    if (v - n.abs()).abs() == 0.5 && v % 2.0 == 1.0 {
        v -= 1.0;
    }
    let mut digits = Vec::new();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (mut m, r) = (v.min(9e15) as u64, radix as u64);
    loop {
        #[allow(clippy::cast_possible_truncation)]
        digits.push(std::char::from_digit((m % r) as u32, r as u32).unwrap_or('0'));
        m /= r;
        if m == 0 {
            break;
        }
    }
    if n < 0.0 && v != 0.0 {
        digits.push('-');
    }
    Ok(Some(Val::str(&digits.iter().rev().collect::<String>())))
}

/// `$random()`: a number in [0, 1). Not for cryptography: a xorshift seeded from the clock
/// and a per-process counter.
pub(super) fn random(_: &mut Ev<'_>, _: Args<'_>, _: &Option<Val>) -> Result<Option<Val>> {
    static COUNTER: std::sync::atomic::AtomicU64 =
        std::sync::atomic::AtomicU64::new(0x9E37_79B9_7F4A_7C15);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    let mut x =
        COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, std::sync::atomic::Ordering::Relaxed) ^ nanos;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    // The top 53 bits as a fraction of 2^53: uniform in [0, 1).
    #[allow(clippy::cast_precision_loss)]
    Ok(Some(Val::Num((x >> 11) as f64 / (1u64 << 53) as f64)))
}
