//! Run-away expressions end in an error, never a hang, a panic or a stack overflow.

use powersweep_jsonata::{Environment, Expression};
use proptest::prelude::*;
use serde_json::json;

fn code_of(text: &str) -> Option<String> {
    let env = Environment::default();
    Expression::parse(text)
        .and_then(|e| e.evaluate(Some(&json!({"a": [1, 2, {"b": "c"}]})), &env))
        .err()
        .map(|e| e.code)
}

#[test]
fn unbounded_recursion_is_u1001_even_on_a_small_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(|| code_of("($f := function($n){ 1 + $f($n + 1) }; $f(0))"))
        .expect("thread starts");
    assert_eq!(worker.join().ok().flatten().as_deref(), Some("U1001"));
}

#[test]
fn huge_ranges_are_d2014() {
    assert_eq!(code_of("[1..100000000]").as_deref(), Some("D2014"));
}

#[test]
fn deep_parse_nesting_is_an_error() {
    assert!(code_of(&"[".repeat(100_000)).is_some());
    assert!(code_of(&"-".repeat(100_000)).is_some());
}

#[test]
fn allocations_sized_in_advance_are_u1004_without_a_metered_allocator() {
    // This binary installs no `MeteredAlloc`: nothing is counted, and only these checks,
    // made before the allocation, hold.
    assert_eq!(code_of("$pad('x', 2e9)").as_deref(), Some("U1004"));
    assert_eq!(
        code_of("($s := $pad('', 10000, 'x'); $join($map([1..200000], function(){ $s })))")
            .as_deref(),
        Some("U1004")
    );
    assert_eq!(
        code_of("($a := [1..1000]; $b := $map([1..1000], function(){ $a }); $string($map([1..1000], function(){ $b })))")
            .as_deref(),
        Some("U1004")
    );
    assert_eq!(powersweep_jsonata::meter::live_bytes(), 0);
}

#[test]
fn non_finite_results_are_d1001() {
    assert_eq!(code_of("10e300 * 10e300").as_deref(), Some("D1001"));
}

fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("a.b".to_owned()),
        Just("$".to_owned()),
        Just("$$".to_owned()),
        Just("1".to_owned()),
        Just("-2.5".to_owned()),
        Just("'s'".to_owned()),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("[1..3]".to_owned()),
        Just("{'k': a}".to_owned()),
        Just("*".to_owned()),
        Just("**".to_owned()),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    atom().prop_recursive(4, 32, 3, |inner| {
        let ops = prop_oneof![
            Just("+"),
            Just("-"),
            Just("*"),
            Just("/"),
            Just("%"),
            Just("="),
            Just("!="),
            Just("<"),
            Just(">="),
            Just("&"),
            Just("and"),
            Just("or"),
            Just("in"),
            Just(".."),
            Just("."),
        ];
        let funcs = prop_oneof![
            Just("$string"),
            Just("$number"),
            Just("$count"),
            Just("$sum"),
            Just("$keys"),
            Just("$reverse"),
            Just("$substring"),
            Just("$split"),
            Just("$join"),
            Just("$sort"),
            Just("$boolean"),
            Just("$length"),
        ];
        prop_oneof![
            (inner.clone(), ops, inner.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
            (funcs, inner.clone(), inner.clone()).prop_map(|(f, a, b)| format!("{f}({a}, {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("({a} ? {b} : {c})")),
            inner
                .clone()
                .prop_map(|a| format!("$map({a}, function($v, $i){{ $v & $i }})")),
            inner.prop_map(|a| format!("[{a}, {a}]^($)")),
        ]
    })
}

proptest! {
    #[test]
    fn parsing_any_text_never_panics(text in "\\PC{0,40}") {
        let _ = Expression::parse(&text);
    }

    #[test]
    fn parsing_operator_soup_never_panics(text in "[-+*/%.()\\[\\]{}$a-c0-9'\"?:;,&=<>!~^|@# ]{0,60}") {
        if let Ok(e) = Expression::parse(&text) {
            let _ = e.evaluate(Some(&json!({"a": [1, {"b": 2}], "b": "x"})), &Environment::default());
        }
    }

    #[test]
    fn evaluating_small_expressions_never_panics(text in expr()) {
        if let Ok(e) = Expression::parse(&text) {
            let _ = e.evaluate(Some(&json!({"a": [1, 2, {"b": "c"}], "b": 3})), &Environment::default());
        }
    }
}

#[test]
fn endless_tail_recursion_ends_in_an_error() {
    let started = std::time::Instant::now();
    assert_eq!(
        code_of("($inf := function(){ $inf() }; $inf())").as_deref(),
        Some("U1002")
    );
    println!("took {:?}", started.elapsed());
}

#[test]
fn deep_tail_recursion_runs_in_constant_depth() {
    let env = Environment::default();
    let e = Expression::parse(
        "($even := function($n){ $n = 0 ? true : $odd($n - 1) }; $odd := function($n){ $n = 0 ? false : $even($n - 1) }; $even(20000))",
    );
    assert_eq!(
        e.and_then(|e| e.evaluate(None, &env)),
        Ok(Some(json!(true)))
    );
}

#[test]
fn values_nested_beyond_any_stack_are_handled() {
    // Tail recursion builds a value 50 000 levels deep; dropping, comparing, printing and
    // returning it must neither overflow nor hang.
    let deep =
        "$f := function($n, $acc){ $n = 0 ? $acc : $f($n - 1, [[$acc]]) }; $d := $f(50000, 1)";
    let env = Environment::default();
    let run = |tail: &str| {
        Expression::parse(&format!("({deep}; {tail})"))
            .and_then(|e| e.evaluate(None, &env))
            .map_err(|e| e.code)
    };
    assert_eq!(run("$count($d)"), Ok(Some(json!(1))));
    assert_eq!(run("$d = $d"), Ok(Some(json!(false))));
    assert_eq!(run("$d").err().as_deref(), Some("U1003"));
    assert_eq!(run("$string($d)").err().as_deref(), Some("U1003"));
    assert!(run("$count($d.**)").is_ok());
    assert!(run("$count(**)").is_ok());
}
