//! One line per intrinsic function, sorted by name.

use super::Call;
use serde_json::{Value, json};

fn run(expr: &str) -> Result<Value, String> {
    let input = json!({"arr": [1, 2, 2, 3], "s": "a,b", "obj": {"k": 1}, "n": null});
    let call = Call::parse(expr).map_err(|e| e.to_string())?;
    call.eval(&|p| {
        p.query(&input)
            .ok_or_else(|| super::IntrinsicError::Path(format!("no {p}")))
    })
    .map_err(|e| e.to_string())
}

macro_rules! yields {
    ($name:ident, $expr:expr, $($want:tt)+) => {
        #[test]
        fn $name() {
            assert_eq!(run($expr), Ok(json!($($want)+)), "{}", $expr);
        }
    };
}

macro_rules! fails {
    ($name:ident, $expr:expr) => {
        #[test]
        fn $name() {
            assert!(run($expr).is_err(), "{}", $expr);
        }
    };
}

yields!(
    array,
    "States.Array(1, 'a', $.n, true)",
    [1, "a", null, true]
);
yields!(array_contains, "States.ArrayContains($.arr, 3)", true);
yields!(array_get_item, "States.ArrayGetItem($.arr, 3)", 3);
fails!(
    array_get_item_out_of_bounds,
    "States.ArrayGetItem($.arr, 9)"
);
yields!(array_length, "States.ArrayLength($.arr)", 4);
yields!(
    array_partition,
    "States.ArrayPartition($.arr, 3)",
    [[1, 2, 2], [3]]
);
yields!(array_range, "States.ArrayRange(1, 9, 2)", [1, 3, 5, 7, 9]);
fails!(array_range_too_long, "States.ArrayRange(0, 5000, 1)");
yields!(array_unique, "States.ArrayUnique($.arr)", [1, 2, 3]);
yields!(
    base64_decode,
    "States.Base64Decode('SGVsbG8gV29ybGQ=')",
    "Hello World"
);
// A log tail cut inside a character: the broken byte is replaced, the rest kept.
yields!(
    base64_decode_replaces_a_broken_first_character,
    "States.Base64Decode('qVJFUE9SVA==')",
    "\u{fffd}REPORT"
);
yields!(
    base64_encode,
    "States.Base64Encode('Hello World')",
    "SGVsbG8gV29ybGQ="
);
yields!(
    format,
    "States.Format('x={} o={}', $.arr, $.obj)",
    "x=[1, 2, 2, 3] o={k=1}"
);
yields!(
    format_escapes,
    "States.Format('\\{\\} {} it\\'s', 1)",
    "{} 1 it's"
);
fails!(format_count_mismatch, "States.Format('{} {}', 1)");
yields!(
    hash,
    "States.Hash('input data', 'SHA-1')",
    "aaff4a450a104cd177d28d18d74485e8cae074b7"
);
yields!(
    hash_md5,
    "States.Hash('', 'MD5')",
    "d41d8cd98f00b204e9800998ecf8427e"
);
yields!(json_merge, "States.JsonMerge($.obj, States.StringToJson('{\"j\":2}'), false)", {"k": 1, "j": 2});
fails!(json_merge_deep, "States.JsonMerge($.obj, $.obj, true)");
yields!(json_to_string, "States.JsonToString($.obj)", "{\"k\":1}");
yields!(math_add, "States.MathAdd(-1.5, 2)", 1);
yields!(math_random_seeded, "States.MathRandom(5, 6, 42)", 5);
yields!(
    nested,
    "States.ArrayGetItem(States.StringSplit($.s, ','), 1)",
    "b"
);
yields!(
    string_split,
    "States.StringSplit('a,,b;c', ',;')",
    ["a", "b", "c"]
);
yields!(string_to_json, "States.StringToJson(' ')", null);

#[test]
fn uuid_is_v4() {
    let v = run("States.UUID()").unwrap();
    assert_eq!(v.as_str().map(str::len), Some(36));
}

#[test]
fn rejects_bad_calls() {
    for bad in [
        "States.Nope()",
        "States.Array(",
        "States.Array('x)",
        "States.Array(1) x",
        "States.Array(foo)",
    ] {
        assert!(Call::parse(bad).is_err(), "{bad}");
    }
}
