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
/// 0, a negative or fractional number, or nothing, is a runtime error. No AWS recording has
/// this cause, so its words are ours; the error name is AWS's.
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
    for bad in [
        json!({"t": 0}),
        json!({"t": -1}),
        json!({"t": 1.5}),
        json!({}),
    ] {
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
/// workers and callbacks send heartbeats, and no task here is one. No AWS recording has
/// these causes, so their words are ours; the error name is AWS's.
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
        json!({"t": 60}),
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
}
