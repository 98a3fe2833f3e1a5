//! AWS's quotas for Standard workflows, enforced by default with AWS's own error: 25,000
//! history events per execution (the last event the machine makes is 24,999, the failure is
//! 25,000), and one year per execution. Every case that once grew memory until killed ends in
//! bounded time. (Inline Maps' 40 iterations at once: `tests/engine.rs`.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use powersweep_asl::{
    Engine, EngineConfig, EventType, HISTORY_EVENTS_QUOTA, Outcome, StateMachine, TaskRegistry,
    VirtualClock,
};
use serde_json::{Value, json};

/// What every runaway case must end in, well within this.
const BOUND: Duration = Duration::from_secs(30);

fn engine(config: EngineConfig) -> Engine {
    Engine::new(TaskRegistry::new())
        .with_clock(Arc::new(VirtualClock::new()))
        .with_config(config)
}

/// Runs `def` with AWS's quotas and checks the execution ended as AWS ends it.
async fn ends_at_the_history_quota(def: &str, input: Value) {
    let started = Instant::now();
    let machine = StateMachine::parse(def).unwrap();
    let execution = engine(EngineConfig::default()).start(&machine, input);
    let history = execution.history().clone();
    let outcome = tokio::time::timeout(BOUND, execution.wait())
        .await
        .expect("ended in bounded time");
    assert_eq!(
        outcome,
        Outcome::Failed {
            error: Some("States.Runtime".into()),
            cause: Some(format!(
                "The execution reached the maximum number of history events ({HISTORY_EVENTS_QUOTA})."
            )),
        }
    );
    let events = history.snapshot();
    assert_eq!(events.len() as u64, HISTORY_EVENTS_QUOTA);
    let last = events.last().unwrap();
    assert_eq!(last.id, HISTORY_EVENTS_QUOTA);
    assert_eq!(last.event_type, EventType::ExecutionFailed);
    assert_eq!(last.previous_event_id, HISTORY_EVENTS_QUOTA - 1);
    assert!(started.elapsed() < BOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_choice_loop_through_wait_0_ends_at_the_quota() {
    let def = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":0,"Next":"C"},
        "C":{"Type":"Choice","Choices":[{"Variable":"$.x","IsPresent":false,"Next":"W"}],"Default":"D"},
        "D":{"Type":"Succeed"}}}"#;
    ends_at_the_history_quota(def, json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_with_a_hundred_million_attempts_ends_at_the_quota() {
    let def = r#"{"StartAt":"F","States":{"F":{"Type":"Parallel","Branches":[{"StartAt":"X",
        "States":{"X":{"Type":"Fail","Error":"Custom.Error"}}}],
        "Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":1,"MaxAttempts":99999999}],"End":true}}}"#;
    ends_at_the_history_quota(def, json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_map_of_maps_of_a_thousand_items_ends_at_the_quota() {
    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",
        "ItemSelector":{"items.$":"States.ArrayRange(1, 1000, 1)"},
        "ItemProcessor":{"StartAt":"N","States":{"N":{"Type":"Map","ItemsPath":"$.items",
            "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}},"End":true}}}"#;
    let items: Vec<u32> = (0..1000).collect();
    ends_at_the_history_quota(def, json!({"items": items})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_map_of_100000_items_ends_at_the_quota() {
    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map",
        "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}"#;
    ends_at_the_history_quota(def, json!(vec![0; 100_000])).await;
}

/// A loop of `n` rounds through a Pass and a Choice: 4 events a round.
fn counting_loop() -> StateMachine {
    StateMachine::parse(
        r#"{"StartAt":"Count","States":{
        "Count":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)","n.$":"$.n"},"Next":"Done?"},
        "Done?":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThanPath":"$.n","Next":"Count"}],"Default":"End"},
        "End":{"Type":"Succeed"}}}"#,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_can_be_lifted_for_local_runs() {
    let input = json!({"i": 0, "n": 7_500});
    let lifted = EngineConfig {
        max_history_events: None,
        ..EngineConfig::default()
    };
    let out = engine(lifted).run(&counting_loop(), input.clone()).await;
    assert_eq!(out, Outcome::Succeeded(json!({"i": 7_500, "n": 7_500})));
    // The violated side: the same 30,000-event run with AWS's quota.
    let out = engine(EngineConfig::default())
        .run(&counting_loop(), input)
        .await;
    assert!(
        matches!(&out, Outcome::Failed { error: Some(e), .. } if e == "States.Runtime"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifting_the_quotas_leaves_the_memory_bound_on_the_history() {
    let bounded = |max: u64| EngineConfig {
        max_history_events: None,
        payload_limit: None,
        max_execution_seconds: None,
        max_history_bytes: Some(max),
        ..EngineConfig::default()
    };
    // Obeyed: 100 rounds (404 events of ~100 bytes each) fit in 1 MiB.
    let out = engine(bounded(1 << 20))
        .run(&counting_loop(), json!({"i": 0, "n": 100}))
        .await;
    assert_eq!(out, Outcome::Succeeded(json!({"i": 100, "n": 100})));
    // Violated: a loop of a million rounds stops at the bound, with its name.
    let execution =
        engine(bounded(1 << 20)).start(&counting_loop(), json!({"i": 0, "n": 1_000_000}));
    let history = execution.history().clone();
    let out = execution.wait().await;
    let Outcome::Failed { error, cause } = &out else {
        panic!("{out:?}")
    };
    assert_eq!(error.as_deref(), Some("States.Runtime"));
    assert!(
        cause
            .as_deref()
            .is_some_and(|c| c.contains("1 MiB, powersweep's memory bound")),
        "{cause:?}"
    );
    assert_eq!(history.full(), Some(powersweep_asl::Full::Bytes(1 << 20)));
    assert!(history.len() < 40_000, "{} events kept", history.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_counts_every_event_to_the_last() {
    // 1 event to start, 4 a round, 2 for Succeed and 1 to end: 4n + 4. At n = 6,249 the
    // end is event 25,000 exactly; one round more and event 25,000 would be the machine's.
    let machine = counting_loop();
    let execution = engine(EngineConfig::default()).start(&machine, json!({"i": 0, "n": 6_249}));
    let history = execution.history().clone();
    let out = execution.wait().await;
    assert_eq!(out, Outcome::Succeeded(json!({"i": 6_249, "n": 6_249})));
    assert_eq!(history.last_id(), HISTORY_EVENTS_QUOTA);
    let out = engine(EngineConfig::default())
        .run(&machine, json!({"i": 0, "n": 6_250}))
        .await;
    assert!(
        matches!(&out, Outcome::Failed { error: Some(e), .. } if e == "States.Runtime"),
        "{out:?}"
    );
}

/// AWS's quota page: a Standard execution runs at most one year, then times out
/// (`States.Timeout`, an `ExecutionTimedOut` event). A wait past it ends at the year, also as
/// the last state; a shorter one passes; lifted, the long one passes too.
#[tokio::test]
async fn an_execution_ends_after_a_year() {
    let day = 24 * 60 * 60;
    let wait = |days: u64| {
        StateMachine::from_value(&json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": days * day, "End": true}}}))
        .expect("a valid definition")
    };
    let outcome = engine(EngineConfig::default())
        .run(&wait(400), json!({}))
        .await;
    assert_eq!(
        outcome,
        Outcome::Failed {
            error: Some("States.Timeout".into()),
            cause: Some("The execution timed out.".into())
        }
    );
    let execution = engine(EngineConfig::default()).start(&wait(400), json!({}));
    let history = execution.history().clone();
    execution.wait().await;
    let last = history.snapshot().pop().expect("events");
    assert_eq!(last.event_type.name(), "ExecutionTimedOut");
    let ok = engine(EngineConfig::default())
        .run(&wait(364), json!({}))
        .await;
    assert!(matches!(ok, Outcome::Succeeded(_)), "{ok:?}");
    let lifted = EngineConfig {
        max_execution_seconds: None,
        ..EngineConfig::default()
    };
    let ok = engine(lifted).run(&wait(400), json!({})).await;
    assert!(matches!(ok, Outcome::Succeeded(_)), "{ok:?}");
}
