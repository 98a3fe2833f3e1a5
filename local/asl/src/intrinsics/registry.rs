//! The `States.*` functions by name, each a plain `fn(&[ArgValue]) -> Result<Value, IntrinsicError>`.
//!
//! Owns each function's argument checks and AWS's quirks (documented next to each). It must
//! not parse expressions or resolve paths.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::ArgValue;
use super::error::IntrinsicError;

/// The signature every intrinsic has.
pub(crate) type IntrinsicFn = fn(&[ArgValue]) -> Result<Value, IntrinsicError>;

/// Name → function, sorted by name.
const FUNCTIONS: &[(&str, IntrinsicFn)] = &[
    ("States.Array", array),
    ("States.ArrayContains", array_contains),
    ("States.ArrayGetItem", array_get_item),
    ("States.ArrayLength", array_length),
    ("States.ArrayPartition", array_partition),
    ("States.ArrayRange", array_range),
    ("States.ArrayUnique", array_unique),
    ("States.Base64Decode", base64_decode),
    ("States.Base64Encode", base64_encode),
    ("States.Format", format),
    ("States.Hash", hash),
    ("States.JsonMerge", json_merge),
    ("States.JsonToString", json_to_string),
    ("States.MathAdd", math_add),
    ("States.MathRandom", math_random),
    ("States.StringSplit", string_split),
    ("States.StringToJson", string_to_json),
    ("States.UUID", uuid),
];

pub(super) fn lookup(name: &str) -> Option<IntrinsicFn> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Exactly `n` arguments (0 to 3: every fixed arity a function here has).
fn arity(args: &[ArgValue], n: usize) -> Result<(), IntrinsicError> {
    const EXPECTED: [&str; 4] = [
        "0 argument(s)",
        "1 argument(s)",
        "2 argument(s)",
        "3 argument(s)",
    ];
    if args.len() == n {
        Ok(())
    } else {
        Err(IntrinsicError::Arity {
            expected: EXPECTED
                .get(n)
                .copied()
                .unwrap_or("another number of arguments"),
            got: args.len(),
        })
    }
}

fn arr(v: &Value, what: &'static str) -> Result<Vec<Value>, IntrinsicError> {
    v.as_array().cloned().ok_or(IntrinsicError::Type {
        what,
        kind: "an array",
    })
}

fn string<'a>(v: &'a Value, what: &'static str) -> Result<&'a str, IntrinsicError> {
    v.as_str().ok_or(IntrinsicError::Type {
        what,
        kind: "a string",
    })
}

/// An integer argument; AWS accepts `2.0` where it wants an integer.
fn int(v: &Value, what: &'static str) -> Result<i64, IntrinsicError> {
    let not_an_integer = IntrinsicError::Type {
        what,
        kind: "an integer",
    };
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .ok_or(not_an_integer),
        _ => Err(not_an_integer),
    }
}

fn array(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    Ok(Value::Array(args.iter().map(|a| a.value.clone()).collect()))
}

fn array_contains(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 2)?;
    let a = arr(&args[0].value, "the first argument")?;
    Ok(Value::Bool(a.contains(&args[1].value)))
}

fn array_get_item(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 2)?;
    let a = arr(&args[0].value, "the first argument")?;
    let i = int(&args[1].value, "the index")?;
    usize::try_from(i)
        .ok()
        .and_then(|i| a.get(i).cloned())
        .ok_or_else(|| IntrinsicError::value(format!("index {i} is out of bounds")))
}

fn array_length(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 1)?;
    Ok(Value::from(arr(&args[0].value, "the argument")?.len()))
}

fn array_partition(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 2)?;
    let a = arr(&args[0].value, "the first argument")?;
    let n = int(&args[1].value, "the chunk size")?;
    let n = usize::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| IntrinsicError::value("the chunk size must be greater than 0"))?;
    Ok(Value::Array(
        a.chunks(n).map(|c| Value::Array(c.to_vec())).collect(),
    ))
}

/// The most items `States.ArrayRange` makes (AWS's limit).
pub(crate) const ARRAY_RANGE_MAX_ITEMS: usize = 1000;

/// AWS: the end is inclusive, the step may be negative but not zero, and at most
/// [`ARRAY_RANGE_MAX_ITEMS`] items may come out.
fn array_range(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 3)?;
    let (start, end, step) = (
        int(&args[0].value, "start")?,
        int(&args[1].value, "end")?,
        int(&args[2].value, "step")?,
    );
    if step == 0 {
        return Err(IntrinsicError::value("step cannot be 0"));
    }
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i <= end) || (step < 0 && i >= end) {
        if out.len() == ARRAY_RANGE_MAX_ITEMS {
            return Err(IntrinsicError::value(format!(
                "the range would have more than {ARRAY_RANGE_MAX_ITEMS} items"
            )));
        }
        out.push(Value::from(i));
        i = i
            .checked_add(step)
            .ok_or_else(|| IntrinsicError::value("range overflows"))?;
    }
    Ok(Value::Array(out))
}

fn array_unique(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 1)?;
    let mut out: Vec<Value> = Vec::new();
    for v in arr(&args[0].value, "the argument")? {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(Value::Array(out))
}

fn base64_decode(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 1)?;
    let s = string(&args[0].value, "the argument")?;
    if s.len() > 10_000 {
        return Err(IntrinsicError::value(
            "the input is longer than 10,000 characters",
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(IntrinsicError::Base64)?;
    // Malformed UTF-8 becomes U+FFFD instead of an error, as a Java `String` built from bytes
    // does (Step Functions runs on the JVM; no recorded case covers it, so this is an
    // assumption). It matters for Lambda's `LogResult`: the last 4 KB of a log, cut on a
    // byte boundary, may start inside a character, and the REPORT line at its end is wanted.
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

fn base64_encode(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 1)?;
    let s = string(&args[0].value, "the argument")?;
    if s.len() > 10_000 {
        return Err(IntrinsicError::value(
            "the input is longer than 10,000 characters",
        ));
    }
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(s),
    ))
}

/// How AWS (Java) prints a value inside `States.Format`: strings bare, objects as
/// `{k=v, …}`, arrays as `[a, b]`.
fn java_string(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                java_string(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                java_string(x, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `{}` is a placeholder; `\{`, `\}` and `\\` (in a literal template) are escapes.
fn format(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    let first = args
        .first()
        .ok_or_else(|| IntrinsicError::value("expected a template"))?;
    let template = first
        .raw
        .as_deref()
        .map_or_else(|| string(&first.value, "the template"), Ok)?;
    let mut out = String::new();
    let mut next = 1usize;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                let arg = args
                    .get(next)
                    .ok_or_else(|| IntrinsicError::value("more placeholders than arguments"))?;
                java_string(&arg.value, &mut out);
                next += 1;
            }
            c => out.push(c),
        }
    }
    if next != args.len() {
        return Err(IntrinsicError::value("more arguments than placeholders"));
    }
    Ok(Value::String(out))
}

/// The hex digest of `bytes` with one of Step Functions' hash algorithms (`States.Hash` and
/// JSONata's `$hash` share them); `None` for an unknown algorithm.
pub(crate) fn digest_hex(bytes: &[u8], algorithm: &str) -> Option<String> {
    use sha2::Digest as _;
    let digest: Vec<u8> = match algorithm {
        "MD5" => md5::Md5::digest(bytes).to_vec(),
        "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
        "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
        "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
        "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
        _ => return None,
    };
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

fn hash(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 2)?;
    let data = match &args[0].value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if data.len() > 10_000 {
        return Err(IntrinsicError::value(
            "the input is longer than 10,000 characters",
        ));
    }
    let algorithm = string(&args[1].value, "the algorithm")?;
    digest_hex(data.as_bytes(), algorithm)
        .map(Value::String)
        .ok_or_else(|| {
            IntrinsicError::value(format!(
                "unknown algorithm `{algorithm}` (MD5, SHA-1, SHA-256, SHA-384, SHA-512)"
            ))
        })
}

/// AWS only supports the shallow merge: the third argument must be `false`.
fn json_merge(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 3)?;
    let (Value::Object(a), Value::Object(b)) = (&args[0].value, &args[1].value) else {
        return Err(IntrinsicError::value("both arguments must be objects"));
    };
    match args[2].value {
        Value::Bool(false) => {}
        Value::Bool(true) => {
            return Err(IntrinsicError::value(
                "deep merge is not supported; the third argument must be false",
            ));
        }
        _ => {
            return Err(IntrinsicError::value(
                "the third argument must be a boolean",
            ));
        }
    }
    let mut out: Map<String, Value> = a.clone();
    out.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(Value::Object(out))
}

fn json_to_string(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 1)?;
    Ok(Value::String(args[0].value.to_string()))
}

/// AWS rounds each operand as Java's `Math.round` does (half up: -1.5 → -1) before adding.
fn math_add(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 2)?;
    let round = |v: &Value| -> Result<i64, IntrinsicError> {
        let f = v
            .as_f64()
            .ok_or_else(|| IntrinsicError::value("arguments must be numbers"))?;
        let r = (f + 0.5).floor();
        if r.abs() > i32::MAX as f64 {
            Err(IntrinsicError::value("number out of range"))
        } else {
            Ok(r as i64)
        }
    };
    let sum = round(&args[0].value)? + round(&args[1].value)?;
    Ok(Value::from(sum))
}

/// A random integer in `[start, end)`; with a seed the sequence is repeatable.
fn math_random(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    if !(2..=3).contains(&args.len()) {
        return Err(IntrinsicError::Arity {
            expected: "2 or 3 arguments",
            got: args.len(),
        });
    }
    let (start, end) = (int(&args[0].value, "start")?, int(&args[1].value, "end")?);
    if end <= start {
        return Err(IntrinsicError::value("end must be greater than start"));
    }
    let seed = match args.get(2) {
        Some(a) => int(&a.value, "seed")? as u64,
        None => uuid::Uuid::new_v4().as_u64_pair().0,
    };
    // SplitMix64: small, good enough for sampling, and deterministic per seed.
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let span = end.abs_diff(start);
    Ok(Value::from(start.wrapping_add((z % span) as i64)))
}

/// Splits on *any* character of the delimiter and drops empty pieces, as AWS does.
fn string_split(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 2)?;
    let s = string(&args[0].value, "the first argument")?;
    let d = string(&args[1].value, "the delimiter")?;
    Ok(Value::Array(
        s.split(|c| d.contains(c))
            .filter(|p| !p.is_empty())
            .map(|p| Value::String(p.to_owned()))
            .collect(),
    ))
}

/// A blank string parses to `null`.
fn string_to_json(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 1)?;
    let s = string(&args[0].value, "the argument")?;
    if s.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(s).map_err(IntrinsicError::Json)
}

fn uuid(args: &[ArgValue]) -> Result<Value, IntrinsicError> {
    arity(args, 0)?;
    Ok(Value::String(uuid::Uuid::new_v4().to_string()))
}
