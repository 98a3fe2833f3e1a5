//! The functions Step Functions adds to JSONata: `$partition`, `$range`, `$hash`,
//! `$random`, `$uuid` and `$parse` ("Step Functions provided JSONata functions" in AWS's
//! developer guide), registered into each evaluation's environment.
//!
//! Must not hold JSONata's own library (`powersweep-jsonata`) nor know states.

use std::sync::Arc;

use powersweep_jsonata::{Environment, Error, NativeFn};
use serde_json::{Number, Value};

/// AWS's cap on generated arrays (`$range`, as `States.ArrayRange`: 1,000 items).
const MAX_ITEMS: usize = 1000;

/// Registers every AWS function into `env`.
pub(crate) fn register(env: &mut Environment) {
    let functions: [(&str, NativeFn); 6] = [
        ("partition", Arc::new(partition)),
        ("range", Arc::new(range)),
        ("hash", Arc::new(hash)),
        ("random", Arc::new(random)),
        (
            "uuid",
            Arc::new(|_: &[Option<Value>]| {
                Ok(Some(Value::String(uuid::Uuid::new_v4().to_string())))
            }),
        ),
        ("parse", Arc::new(parse)),
    ];
    for (name, f) in functions {
        env.register(name, f);
    }
}

fn error(function: &str, message: impl std::fmt::Display) -> Error {
    Error {
        code: "D3050".into(),
        message: format!("${function}: {message}"),
        position: None,
    }
}

fn arg(args: &[Option<Value>], i: usize) -> Option<&Value> {
    args.get(i).and_then(Option::as_ref)
}

/// An argument that must be a whole number.
fn integer(args: &[Option<Value>], i: usize, function: &str, what: &str) -> Result<i64, Error> {
    arg(args, i)
        .and_then(Value::as_f64)
        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
        .map(|f| f as i64)
        .ok_or_else(|| error(function, format!("{what} must be an integer")))
}

/// `$partition(array, size)`: the array in chunks of `size` items (the last may be shorter).
fn partition(args: &[Option<Value>]) -> Result<Option<Value>, Error> {
    let items = match arg(args, 0) {
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
        None => return Ok(None),
    };
    let size = integer(args, 1, "partition", "the chunk size")?;
    if size <= 0 {
        return Err(error("partition", "the chunk size must be positive"));
    }
    let chunks = items
        .chunks(usize::try_from(size).unwrap_or(usize::MAX))
        .map(|c| Value::Array(c.to_vec()))
        .collect();
    Ok(Some(Value::Array(chunks)))
}

/// `$range(start, end, step)`: `start`, `start + step`, … up to `end` inclusive; a single
/// item is returned alone, not in an array.
fn range(args: &[Option<Value>]) -> Result<Option<Value>, Error> {
    let start = integer(args, 0, "range", "the start")?;
    let end = integer(args, 1, "range", "the end")?;
    let step = integer(args, 2, "range", "the step")?;
    if step == 0 {
        return Err(error("range", "the step must not be 0"));
    }
    let mut out = Vec::new();
    let mut n = start;
    while (step > 0 && n <= end) || (step < 0 && n >= end) {
        if out.len() == MAX_ITEMS {
            return Err(error(
                "range",
                format!("the result would have more than {MAX_ITEMS} items"),
            ));
        }
        out.push(Value::Number(Number::from(n)));
        n = n.saturating_add(step);
    }
    // AWS gives a one-item range as the item, like a JSONata sequence of one: LocalStack's
    // recording `test_array_jsonata.py::TestArrayJSONata::test_array_range#exec_hist_resp_2`
    // has `$range(1, 9, 9)` → `1`. Only here: `$partition` keeps `[[0]]` (`test_array_partition`
    // `#exec_hist_resp_0`), `States.ArrayRange(1, 9, 9)` gives `[1]` (`test_array.py`), and an
    // empty range stays `[]` (nothing recorded).
    if out.len() == 1 {
        return Ok(out.pop());
    }
    Ok(Some(Value::Array(out)))
}

/// `$hash(value, algorithm)`: the hex digest of a string (other values: of their JSON).
fn hash(args: &[Option<Value>]) -> Result<Option<Value>, Error> {
    let Some(value) = arg(args, 0) else {
        return Ok(None);
    };
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let algorithm = match arg(args, 1) {
        Some(Value::String(a)) => a.as_str(),
        _ => return Err(error("hash", "the algorithm must be a string")),
    };
    crate::intrinsics::digest_hex(text.as_bytes(), algorithm)
        .map(|h| Some(Value::String(h)))
        .ok_or_else(|| {
            error(
                "hash",
                format!("unknown algorithm `{algorithm}` (MD5, SHA-1, SHA-256, SHA-384, SHA-512)"),
            )
        })
}

/// `$random([seed])`: a number in [0, 1); with a seed, the same number for the same seed.
fn random(args: &[Option<Value>]) -> Result<Option<Value>, Error> {
    let bits = match arg(args, 0) {
        None => uuid::Uuid::new_v4().as_u64_pair().0,
        Some(seed) => {
            // SplitMix64 of the seed's text: deterministic, well mixed, no crate needed.
            let mut z = seed
                .to_string()
                .bytes()
                .fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                });
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
    };
    let unit = (bits >> 11) as f64 / (1u64 << 53) as f64;
    Ok(Number::from_f64(unit).map(Value::Number))
}

/// `$parse(text)`: the JSON value a string holds.
fn parse(args: &[Option<Value>]) -> Result<Option<Value>, Error> {
    match arg(args, 0) {
        None => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| error("parse", format!("not JSON: {e}"))),
        Some(_) => Err(error("parse", "the argument must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A native function's shape, as `powersweep-jsonata` calls it.
    type Native = fn(&[Option<Value>]) -> Result<Option<Value>, Error>;

    fn call(f: Native, args: Vec<Value>) -> Result<Option<Value>, Error> {
        f(&args.into_iter().map(Some).collect::<Vec<_>>())
    }

    #[test]
    fn partition_chunks_and_refuses_a_bad_size() {
        assert_eq!(
            call(partition, vec![json!([1, 2, 3, 4, 5]), json!(2)]).unwrap(),
            Some(json!([[1, 2], [3, 4], [5]]))
        );
        assert!(call(partition, vec![json!([1]), json!(0)]).is_err());
        assert!(call(partition, vec![json!([1]), json!(1.5)]).is_err());
    }

    #[test]
    fn range_is_inclusive_both_ways_and_bounded() {
        assert_eq!(
            call(range, vec![json!(0), json!(10), json!(5)]).unwrap(),
            Some(json!([0, 5, 10]))
        );
        assert_eq!(
            call(range, vec![json!(3), json!(1), json!(-1)]).unwrap(),
            Some(json!([3, 2, 1]))
        );
        assert!(call(range, vec![json!(0), json!(1), json!(0)]).is_err());
        assert!(call(range, vec![json!(0), json!(5000), json!(1)]).is_err());
    }

    /// Evaluates `text` with the AWS functions registered, as a JSONata state does.
    fn evaluate(text: &str) -> Option<Value> {
        let mut env = Environment::default();
        register(&mut env);
        powersweep_jsonata::Expression::parse(text)
            .and_then(|e| e.evaluate(None, &env))
            .unwrap()
    }

    /// LocalStack's AWS recording `test_array_jsonata.py::TestArrayJSONata::test_array_range`
    /// `exec_hist_resp_2`: `$range(1, 9, 9)` gave `1`, not `[1]`, while `exec_hist_resp_3`
    /// gave `[1, 3, 5, 7, 9]` for `$range(1, 9, 2)`.
    #[test]
    fn range_of_one_item_is_that_item() {
        // Obeyed: one item is the item; more stay an array.
        assert_eq!(evaluate("$range(1, 9, 9)"), Some(json!(1)));
        assert_eq!(evaluate("$range(1, 9, 2)"), Some(json!([1, 3, 5, 7, 9])));
        // An array constructor keeps it an array, as for any JSONata singleton.
        assert_eq!(evaluate("[$range(1, 9, 9)]"), Some(json!([1])));
        assert_eq!(evaluate("$count($range(1, 9, 9))"), Some(json!(1)));
        // Violated form: `[1]` is what AWS did not return.
        assert_ne!(evaluate("$range(1, 9, 9)"), Some(json!([1])));
    }

    /// The collapse is `$range`'s alone: AWS recorded `$partition([0], n)` for n = 1..5 as
    /// `[[0]]` (`test_array_jsonata.py::TestArrayJSONata::test_array_partition`
    /// `exec_hist_resp_0`…`_4`), a one-chunk array kept whole.
    #[test]
    fn partition_of_one_chunk_stays_an_array_of_it() {
        assert_eq!(evaluate("$partition([0], 1)"), Some(json!([[0]])));
        assert_eq!(evaluate("$partition([0], 5)"), Some(json!([[0]])));
        assert_eq!(evaluate("$partition([0, 1], 5)"), Some(json!([[0, 1]])));
        assert_ne!(evaluate("$partition([0], 1)"), Some(json!([0])));
    }

    #[test]
    fn hash_random_and_parse() {
        assert_eq!(
            call(hash, vec![json!("abc"), json!("SHA-256")]).unwrap(),
            Some(json!(
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            ))
        );
        assert!(call(hash, vec![json!("abc"), json!("SHA-3")]).is_err());
        let r = call(random, vec![json!(7)]).unwrap().unwrap();
        assert_eq!(call(random, vec![json!(7)]).unwrap().unwrap(), r, "seeded");
        assert!((0.0..1.0).contains(&r.as_f64().unwrap()));
        assert_eq!(
            call(parse, vec![json!("{\"a\":[1]}")]).unwrap(),
            Some(json!({"a": [1]}))
        );
        assert!(call(parse, vec![json!("{")]).is_err());
    }
}
