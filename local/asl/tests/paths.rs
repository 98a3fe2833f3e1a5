//! The type rules of the `*Path` fields and quoting in bracket notation, each case with the
//! behaviour AWS recorded (LocalStack's AWS-validated snapshots, `tests/aws/services/
//! stepfunctions/v2/…`) or documented (the Step Functions developer guide), named in the case.
//! Causes are compared whole: they are what a user reads.

use std::sync::Arc;

use powersweep_asl::{Engine, Outcome, StateMachine, TaskRegistry, VirtualClock};
use serde_json::{Value, json};

/// The prefix AWS puts before every runtime cause of a state entered at event 2.
fn at(state: &str, cause: &str) -> String {
    format!(
        "An error occurred while executing the state '{state}' (entered at the event id #2). {cause}"
    )
}

async fn run(definition: Value, input: Value) -> Outcome {
    let machine = StateMachine::from_value(&definition).expect("a valid definition");
    Engine::new(TaskRegistry::new())
        .with_clock(Arc::new(VirtualClock::new()))
        .run(&machine, input)
        .await
}

fn runtime(cause: String) -> Outcome {
    Outcome::Failed {
        error: Some("States.Runtime".into()),
        cause: Some(cause),
    }
}

fn wait_seconds_path() -> Value {
    json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.input.waitSeconds", "End": true}}})
}

/// test_wait.py `test_wait_secondspath` (recorded 2024-03-22), test_logs (missing path).
#[tokio::test]
async fn wait_seconds_path_takes_a_non_negative_integer() {
    for ok in [json!(0), json!(1)] {
        let input = json!({"input": {"waitSeconds": ok}});
        assert_eq!(
            run(wait_seconds_path(), input.clone()).await,
            Outcome::Succeeded(input)
        );
    }
    let cases = [
        (
            json!(-1),
            "The SecondsPath parameter references a negative value: $.input.waitSeconds == -1",
        ),
        (
            json!(1.5),
            "The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == 1.5",
        ),
        (
            json!(-1.5),
            "The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == -1.5",
        ),
    ];
    for (value, cause) in cases {
        let out = run(
            wait_seconds_path(),
            json!({"input": {"waitSeconds": value}}),
        )
        .await;
        assert_eq!(out, runtime(at("W", cause)), "{value}");
    }
    let out = run(wait_seconds_path(), json!({"input": {}})).await;
    assert_eq!(
        out,
        runtime(at(
            "W",
            "The SecondsPath parameter does not reference an input value: $.input.waitSeconds"
        ))
    );
}

/// test_wait.py `test_wait_timestamppath` with a far timestamp (recorded 2023-12-13): AWS
/// keeps a delay in 31 bits of seconds, and refuses a longer one at once.
#[tokio::test]
async fn a_wait_past_31_bits_of_seconds_is_too_long() {
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "TimestampPath": "$.at", "End": true}}});
    let far = (chrono::Utc::now() + chrono::Duration::days(24_856)).to_rfc3339();
    let out = run(def.clone(), json!({"at": far})).await;
    assert_eq!(out, runtime(at("W", "Wait state delay is too long.")));
    // A delay that fits is accepted; the execution then ends at AWS's one-year quota.
    let near = (chrono::Utc::now() + chrono::Duration::days(24_854)).to_rfc3339();
    match run(def, json!({"at": near})).await {
        Outcome::Failed { error, .. } => assert_eq!(error.as_deref(), Some("States.Timeout")),
        other => panic!("{other:?}"),
    }
}

fn map_with(field: &str, path: &str) -> Value {
    json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items", field: path,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "ResultPath": null, "End": true}}})
}

/// test_base_scenarios.py `test_map_state_config_distributed_*` and the assign templates
/// (recorded 2024-06-19 and 2024-11-14): numbers, and numbers given as strings, are accepted.
#[tokio::test]
async fn map_limits_take_numbers_and_numeric_strings() {
    for (field, value) in [
        ("MaxConcurrencyPath", json!(0)),
        ("MaxConcurrencyPath", json!("1")),
        ("ToleratedFailureCountPath", json!(1)),
        ("ToleratedFailureCountPath", json!("1")),
        ("ToleratedFailurePercentagePath", json!(1.1)),
        ("ToleratedFailurePercentagePath", json!("1")),
        ("ToleratedFailurePercentagePath", json!(100)),
    ] {
        let input = json!({"items": [1, 2], "limit": value});
        let out = run(map_with(field, "$.limit"), input.clone()).await;
        assert_eq!(out, Outcome::Succeeded(input), "{field} = {value}");
    }
}

#[tokio::test]
async fn map_limits_refuse_what_aws_refuses_with_its_words() {
    let cases = [
        (
            "MaxConcurrencyPath",
            json!({}),
            "The MaxConcurrencyPath field refers to value \"{}\" which is not a valid integer: $.limit",
        ),
        (
            "MaxConcurrencyPath",
            json!("NoNumber"),
            "The MaxConcurrencyPath field refers to value \"NoNumber\" which is not a valid integer: $.limit",
        ),
        (
            "ToleratedFailureCountPath",
            json!(-1),
            "ToleratedFailureCount cannot be negative.",
        ),
        (
            "ToleratedFailureCountPath",
            json!("NoNumber"),
            "The ToleratedFailureCountPath field refers to value \"NoNumber\" which is not a valid integer: $.limit",
        ),
        (
            "ToleratedFailurePercentagePath",
            json!(-1),
            "ToleratedFailurePercentage must be between 0 and 100.",
        ),
        (
            "ToleratedFailurePercentagePath",
            json!(100.1),
            "ToleratedFailurePercentage must be between 0 and 100.",
        ),
        (
            "ToleratedFailurePercentagePath",
            json!("NoNumber"),
            "The ToleratedFailurePercentagePath field refers to value \"NoNumber\" which is not a valid float: $.limit",
        ),
    ];
    for (field, value, cause) in cases {
        let out = run(
            map_with(field, "$.limit"),
            json!({"items": [1], "limit": value}),
        )
        .await;
        assert_eq!(out, runtime(at("M", cause)), "{field} = {value}");
    }
}

/// test_base_scenarios.py `test_escape_sequence_parsing[ESCAPE_SEQUENCES_JSONPATH]`
/// (recorded 2025-02-02): inside `['…']` a backslash before anything but the enclosing quote
/// is an ordinary character, and `"` needs no escape.
#[tokio::test]
async fn bracket_names_keep_a_backslash_that_escapes_nothing() {
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass",
        "Parameters": {"value.$": "$['Test\\\"\"Name\"']"}, "End": true}}});
    let out = run(def, json!({"Test\\\"\"Name\"": "Value\"\\"})).await;
    assert_eq!(out, Outcome::Succeeded(json!({"value": "Value\"\\"})));
}

/// The developer guide ("Reference paths"): a key with characters outside the shorthand
/// (spaces, punctuation) is reached in brackets, single- or double-quoted, and the quote that
/// delimits the name is escaped with a backslash (Jayway's rule).
#[tokio::test]
async fn bracket_names_reach_keys_with_any_character() {
    let input = json!({"a b": 1, "it's": 2, "x.y": {"q\"r": 3}});
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
        "space.$": "$['a b']",
        "apostrophe.$": "$['it\\'s']",
        "double.$": "$[\"it's\"]",
        "nested.$": "$['x.y']['q\"r']"}, "End": true}}});
    assert_eq!(
        run(def, input).await,
        Outcome::Succeeded(json!({"space": 1, "apostrophe": 2, "double": 2, "nested": 3}))
    );
}

/// The developer guide (Task state: "TimeoutSecondsPath … must select fields whose values
/// are positive integers"): a task that outlives the referenced seconds times out; a path to
/// 0, a negative or fractional number, or nothing, is a runtime error. A path to nothing has
/// AWS's recorded cause (test_base_scenarios.py `test_invalid_jsonpath`, 2025-01-02); no
/// recording has the others, so their words are ours and the error name is AWS's.
#[tokio::test]
async fn task_timeout_seconds_path_takes_a_positive_integer() {
    use powersweep_asl::{TaskError, handler_fn};
    let run_with = |input: Value| async move {
        let tasks = TaskRegistry::new().with(
            "arn:never",
            handler_fn(|_| std::future::pending::<Result<Value, TaskError>>()),
        );
        let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:never",
            "TimeoutSecondsPath": "$.t", "End": true}}});
        let machine = StateMachine::from_value(&def).expect("a valid definition");
        Engine::new(tasks)
            .with_clock(Arc::new(VirtualClock::new()))
            .run(&machine, input)
            .await
    };
    match run_with(json!({"t": 5})).await {
        Outcome::Failed { error, .. } => assert_eq!(error.as_deref(), Some("States.Timeout")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        run_with(json!({"int-literal": 0})).await,
        runtime(at("T", "Invalid path '$.t' : No results for path: $['t']"))
    );
    for bad in [json!({"t": 0}), json!({"t": -1}), json!({"t": 1.5})] {
        match run_with(bad.clone()).await {
            Outcome::Failed { error, cause } => {
                assert_eq!(error.as_deref(), Some("States.Runtime"), "{bad}");
                let cause = cause.unwrap_or_default();
                assert!(cause.contains("TimeoutSecondsPath"), "{bad}: {cause}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

/// HeartbeatSecondsPath takes what TimeoutSecondsPath takes (the developer guide: "must
/// select fields whose values are positive integers"), and a heartbeat must be shorter than
/// the timeout. A heartbeat is recorded (`heartbeatInSeconds`), not enforced: only activity
/// workers and callbacks send heartbeats, and no task here is one. A path to nothing has
/// AWS's recorded cause (as for TimeoutSecondsPath); no recording has the others, so their
/// words are ours and the error name is AWS's.
#[tokio::test]
async fn task_heartbeat_seconds_path_takes_a_positive_integer_below_the_timeout() {
    use powersweep_asl::handler_fn;
    let run_with = |input: Value| async move {
        let tasks =
            TaskRegistry::new().with("arn:echo", handler_fn(|r| async move { Ok(r.parameters) }));
        let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:echo",
            "HeartbeatSecondsPath": "$.h", "TimeoutSecondsPath": "$.t", "End": true}}});
        let machine = StateMachine::from_value(&def).expect("a valid definition");
        let execution = Engine::new(tasks)
            .with_clock(Arc::new(VirtualClock::new()))
            .start(&machine, input);
        let history = execution.history().clone();
        (execution.wait().await, history)
    };
    let (outcome, history) = run_with(json!({"h": 5, "t": 60})).await;
    assert!(matches!(outcome, Outcome::Succeeded(_)), "{outcome:?}");
    let scheduled = history
        .snapshot()
        .into_iter()
        .find(|e| e.event_type == powersweep_asl::EventType::TaskScheduled)
        .expect("a TaskScheduled event");
    let details = scheduled.details.to_string();
    assert!(details.contains("\"heartbeatInSeconds\":5"), "{details}");
    for bad in [
        json!({"h": 0, "t": 60}),
        json!({"h": -1, "t": 60}),
        json!({"h": 1.5, "t": 60}),
        json!({"h": 60, "t": 60}),
    ] {
        match run_with(bad.clone()).await.0 {
            Outcome::Failed { error, cause } => {
                assert_eq!(error.as_deref(), Some("States.Runtime"), "{bad}");
                let cause = cause.unwrap_or_default();
                assert!(cause.contains("eartbeat"), "{bad}: {cause}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert_eq!(
        run_with(json!({"t": 60})).await.0,
        runtime(at("T", "Invalid path '$.h' : No results for path: $['h']"))
    );
}

/// test_base_scenarios.py `test_illegal_escapes` (recorded 2025-02-02, both templates): inside
/// an intrinsic function's `'…'` literal a backslash may only precede `'`, `{`, `}` or `\`
/// (the developer guide, "Reserved characters in intrinsic functions"); AWS refuses the
/// definition when it precedes `"`.
#[test]
fn intrinsic_literals_take_only_the_four_reserved_escapes() {
    let pass = |expr: &str| {
        json!({"StartAt": "IntrinsicEscape", "States": {"IntrinsicEscape": {"Type": "Pass",
            "Parameters": {"parsed.$": expr}, "End": true}}})
    };
    for illegal in [
        r#"States.StringToJson('{"text":"An \"escaped double quote\" here"}')"#,
        r#"States.Format('He said, \"Hello, {}!\"', 'Test \"Name\" Here')"#,
        r"States.Format('a\nb')",
    ] {
        let err = StateMachine::from_value(&pass(illegal)).expect_err(illegal);
        let text = err.to_string();
        assert!(
            text.contains("/States/IntrinsicEscape/Parameters")
                && text.contains("is not an escape"),
            "{illegal}: {text}"
        );
    }
    for legal in [
        r"States.Format('it\'s \{\} and \\', 1)",
        r#"States.StringToJson('{"text":"no escapes"}')"#,
    ] {
        StateMachine::from_value(&pass(legal)).expect(legal);
    }
}

/// test_base_scenarios.py `test_wait_timestamp_invalid` (recorded 2024-12-27): a literal
/// `Timestamp` must be an RFC 3339 date-time with a `T` and an offset, else AWS refuses the
/// definition ("String does not match RFC3339 timestamp at /States/WaitUntil/Timestamp").
#[test]
fn a_literal_wait_timestamp_must_be_rfc3339() {
    let wait = |ts: &str| {
        json!({"StartAt": "WaitUntil", "States": {"WaitUntil": {"Type": "Wait",
            "Timestamp": ts, "End": true}}})
    };
    for bad in [
        "2016-12-05 21:29:29Z",
        "2016-12-05T21:29:29",
        "2016-13-05T21:29:29Z",
        "2016-12-05T25:29:29Z",
        "05-12-2016T21:29:29Z",
        "{% '2016-03-14T01:59:00Z' %}",
    ] {
        let err = StateMachine::from_value(&wait(bad)).expect_err(bad);
        assert!(
            err.to_string().contains("/States/WaitUntil/Timestamp"),
            "{bad}: {err}"
        );
    }
    for good in ["2016-03-14T01:59:00Z", "2016-03-14T01:59:00.123+01:00"] {
        StateMachine::from_value(&wait(good)).expect(good);
    }
}
