//! Property tests: arbitrary definitions and inputs give an error or an outcome, never a
//! panic or a hang.

use std::sync::Arc;

use powersweep_asl::{Engine, EngineConfig, StateMachine, TaskRegistry, VirtualClock, handler_fn};
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        "[a-z$.\\[\\]*?@()'0-9 ,:{}-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}(\\.\\$)?", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Paths and intrinsic calls, valid and broken.
fn expr() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("$".to_owned()),
        "\\$(\\.[a-z]{1,2}|\\[[0-9*:,-]{1,4}\\]|\\.\\.[a-z]){0,4}",
        Just("$$.Execution.Input".to_owned()),
        Just("$$.Map.Item.Value".to_owned()),
        Just("$[?(@.a > 1)]".to_owned()),
        "States\\.(Format|Array|ArrayLength|StringSplit|MathAdd|JsonMerge|Hash|ArrayRange)\\((\\$\\.[a-z]|'[a-z{}]*'|[0-9]{1,3}|true)?(, ?(\\$\\.[a-z]|'[a-z{}]*'|-?[0-9]{1,3}))*\\)",
        "[$a-zS.()',]{0,16}",
    ]
}

fn state(names: Vec<String>) -> impl Strategy<Value = Value> {
    let next = prop::sample::select(names);
    (0..9u8, next, expr(), expr(), json_value(), any::<bool>()).prop_map(|(kind, next, e1, e2, v, end)| {
        let tr = if end { json!({"End": true}) } else { json!({"Next": next}) };
        let mut s = match kind {
            0 => json!({"Type": "Pass", "Result": v}),
            1 => json!({"Type": "Pass", "Parameters": {"a.$": e1, "b": v}, "ResultPath": e2}),
            2 => json!({"Type": "Choice", "Choices": [{"Variable": e1, "NumericGreaterThan": 1, "Next": next}], "Default": next}),
            3 => json!({"Type": "Wait", "SecondsPath": e1}),
            4 => json!({"Type": "Fail", "ErrorPath": e1, "CausePath": e2}),
            5 => json!({"Type": "Map", "ItemsPath": e1, "ItemSelector": {"x.$": e2}, "MaxConcurrency": 2,
                         "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}),
            6 => json!({"Type": "Task", "Resource": "arn:echo", "Parameters": {"p.$": e1},
                        "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": next}]}),
            7 => json!({"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "InputPath": e1, "End": true}}}]}),
            _ => json!({"Type": "Pass", "Assign": {"v.$": e1}, "OutputPath": e2}),
        };
        if let (Some(o), Some(t)) = (s.as_object_mut(), tr.as_object())
            && !matches!(kind, 2 | 4)
        {
            o.extend(t.clone());
        }
        s
    })
}

/// JSONata expressions, valid and broken, inside `{% %}`.
fn jsonata() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("$states.input".to_owned()),
        Just("$states.input.a".to_owned()),
        Just("$partition($states.input, 2)".to_owned()),
        Just("$range(0, 3, 1)".to_owned()),
        Just("$x".to_owned()),
        r#"[$a-z0-9.()\[\]{}:,'"&+*/<>=!?; -]{0,20}"#,
    ]
    .prop_map(|e| format!("{{% {e} %}}"))
}

/// JSONata states: each field a random expression.
fn jsonata_state(names: Vec<String>) -> impl Strategy<Value = Value> {
    let next = prop::sample::select(names);
    (0..6u8, next, jsonata(), jsonata(), any::<bool>()).prop_map(|(kind, next, e1, e2, end)| {
        let tr = if end { json!({"End": true}) } else { json!({"Next": next}) };
        let mut s = match kind {
            0 => json!({"Type": "Pass", "Output": {"a": e1}, "Assign": {"x": e2}}),
            1 => json!({"Type": "Choice", "Choices": [{"Condition": e1, "Next": next, "Output": e2}], "Default": next}),
            2 => json!({"Type": "Map", "Items": e1, "ItemSelector": {"v": e2},
                        "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}}),
            3 => json!({"Type": "Fail", "Error": e1, "Cause": e2}),
            4 => json!({"Type": "Task", "Resource": "arn:echo", "Arguments": e1, "Output": e2,
                        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": next, "Output": e1}]}),
            _ => json!({"Type": "Wait", "Seconds": e1, "Output": e2}),
        };
        if let (Some(o), Some(t)) = (s.as_object_mut(), tr.as_object())
            && !matches!(kind, 1 | 3)
        {
            o.extend(t.clone());
        }
        s
    })
}

fn jsonata_definition() -> impl Strategy<Value = Value> {
    (1usize..5).prop_flat_map(|n| {
        let names: Vec<String> = (0..n).map(|i| format!("S{i}")).collect();
        prop::collection::vec(jsonata_state(names.clone()), n).prop_map(move |states| {
            let states: serde_json::Map<String, Value> =
                names.iter().cloned().zip(states).collect();
            json!({"QueryLanguage": "JSONata", "StartAt": "S0", "States": states})
        })
    })
}

fn definition() -> impl Strategy<Value = Value> {
    (1usize..6).prop_flat_map(|n| {
        let names: Vec<String> = (0..n).map(|i| format!("S{i}")).collect();
        prop::collection::vec(state(names.clone()), n).prop_map(move |states| {
            let states: serde_json::Map<String, Value> =
                names.iter().cloned().zip(states).collect();
            json!({"StartAt": "S0", "States": states})
        })
    })
}

/// Runs a definition that parses, with an echo task and a transition cap.
fn run_if_valid(def: &Value, input: Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    if let Ok(machine) = StateMachine::from_value(def) {
        let tasks =
            TaskRegistry::new().with("arn:echo", handler_fn(|r| async move { Ok(r.parameters) }));
        let config = EngineConfig {
            max_transitions: Some(500),
            ..EngineConfig::default()
        };
        let engine = Engine::new(tasks)
            .with_clock(Arc::new(VirtualClock::new()))
            .with_config(config);
        rt.block_on(engine.run(&machine, input));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_definitions_never_panic(def in definition(), input in json_value()) {
        run_if_valid(&def, input);
    }

    #[test]
    fn arbitrary_jsonata_definitions_never_panic(def in jsonata_definition(), input in json_value()) {
        run_if_valid(&def, input);
    }

    #[test]
    fn arbitrary_text_never_panics_the_parser(text in "\\PC{0,200}") {
        let _ = StateMachine::parse(&text);
    }

    #[test]
    fn arbitrary_paths_never_panic(path in expr(), doc in json_value()) {
        if let Ok(p) = powersweep_asl::JsonPath::parse(&path) {
            let _ = p.query(&doc);
        }
    }
}
