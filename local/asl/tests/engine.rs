//! Whole executions: tasks, retry and catch, variables, Map concurrency, history.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use powersweep_asl::{
    Engine, EventType, Outcome, StateMachine, TaskError, TaskRegistry, VirtualClock, handler_fn,
    lambda,
};
use serde_json::{Value, json};

fn engine(tasks: TaskRegistry) -> Engine {
    Engine::new(tasks).with_clock(Arc::new(VirtualClock::new()))
}

async fn run(def: &str, tasks: TaskRegistry, input: Value) -> Outcome {
    let m = StateMachine::parse(def).unwrap();
    engine(tasks).run(&m, input).await
}

#[tokio::test]
async fn retry_then_catch_with_result_path() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let tasks = TaskRegistry::new().with(
        "arn:flaky",
        handler_fn(move |_| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                Err::<Value, _>(TaskError::new("Flaky", "always"))
            }
        }),
    );
    let def = r#"{"StartAt":"T","States":{
        "T":{"Type":"Task","Resource":"arn:flaky","Retry":[{"ErrorEquals":["Flaky"],"MaxAttempts":2,"IntervalSeconds":100,"BackoffRate":3}],
             "Catch":[{"ErrorEquals":["States.TaskFailed"],"ResultPath":"$.err","Next":"Done"}],"End":true},
        "Done":{"Type":"Pass","End":true}}}"#;
    let real = Instant::now();
    let out = run(def, tasks, json!({"a": 1})).await;
    assert!(
        real.elapsed() < Duration::from_secs(5),
        "virtual retries must not sleep"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        out,
        Outcome::Succeeded(json!({"a": 1, "err": {"Error": "Flaky", "Cause": "always"}}))
    );
}

#[tokio::test]
async fn all_does_not_catch_runtime() {
    let def = r#"{"StartAt":"P","States":{
        "P":{"Type":"Parallel","Branches":[{"StartAt":"X","States":{"X":{"Type":"Pass","OutputPath":"$.missing","End":true}}}],
             "Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],"End":true},
        "Caught":{"Type":"Succeed"}}}"#;
    match run(def, TaskRegistry::new(), json!({})).await {
        Outcome::Failed { error, .. } => assert_eq!(error.as_deref(), Some("States.Runtime")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn task_timeout_is_states_timeout() {
    let tasks = TaskRegistry::new().with(
        "arn:slow",
        handler_fn(|_| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(json!(1))
        }),
    );
    let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:slow","TimeoutSeconds":1,"End":true}}}"#;
    match run(def, tasks, json!({})).await {
        Outcome::Failed { error, .. } => assert_eq!(error.as_deref(), Some("States.Timeout")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn variables_scope_into_map_but_not_out() {
    let def = r#"{"StartAt":"Set","States":{
        "Set":{"Type":"Pass","Assign":{"x":1},"Next":"M"},
        "M":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"In","States":{
            "In":{"Type":"Pass","Assign":{"inner":2},"Parameters":{"x.$":"$x","item.$":"$"},"End":true}}},
            "ResultPath":"$.r","Next":"After"},
        "After":{"Type":"Choice","Choices":[{"Variable":"$inner","IsPresent":true,"Next":"Leak"}],"Default":"Ok"},
        "Leak":{"Type":"Fail","Error":"Leaked"},
        "Ok":{"Type":"Pass","OutputPath":"$.r","End":true}}}"#;
    let out = run(def, TaskRegistry::new(), json!({"items": [10, 20]})).await;
    // `$inner` is not defined outside the Map, so the Choice fails with States.Runtime: the
    // assignment did not leak. (AWS rejects such a definition at load time.)
    match out {
        Outcome::Failed { error, .. } => assert_eq!(error.as_deref(), Some("States.Runtime")),
        Outcome::Succeeded(v) => panic!("inner variable leaked: {v}"),
    }
}

/// A task `arn:work` that holds each call a few ms, and the most calls it ever had at once.
fn tracked_work() -> (TaskRegistry, Arc<AtomicUsize>) {
    let live = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (l, p) = (live.clone(), peak.clone());
    let tasks = TaskRegistry::new().with(
        "arn:work",
        handler_fn(move |req| {
            let (l, p) = (l.clone(), p.clone());
            async move {
                let now = l.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                l.fetch_sub(1, Ordering::SeqCst);
                Ok(req.parameters)
            }
        }),
    );
    (tasks, peak)
}

fn work_map(fields: &str) -> String {
    format!(
        r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map",{fields}"ItemProcessor":{{"StartAt":"T","States":{{
        "T":{{"Type":"Task","Resource":"arn:work","End":true}}}}}},"End":true}}}}}}"#
    )
}

#[tokio::test]
async fn map_respects_max_concurrency() {
    let (tasks, peak) = tracked_work();
    let items: Vec<i32> = (0..30).collect();
    let out = run(&work_map(r#""MaxConcurrency":3,"#), tasks, json!(items)).await;
    assert_eq!(out, Outcome::Succeeded(json!(items)));
    assert!(peak.load(Ordering::SeqCst) <= 3);
    assert!(
        peak.load(Ordering::SeqCst) >= 2,
        "items should run concurrently"
    );
}

/// AWS: "In this mode, the Map state supports up to 40 concurrent iterations."
#[tokio::test]
async fn an_inline_map_runs_at_most_40_iterations_at_once() {
    for fields in ["", r#""MaxConcurrency":0,"#, r#""MaxConcurrency":100,"#] {
        let (tasks, peak) = tracked_work();
        let items: Vec<i32> = (0..120).collect();
        let out = run(&work_map(fields), tasks, json!(items)).await;
        assert_eq!(out, Outcome::Succeeded(json!(items)), "{fields}");
        assert_eq!(peak.load(Ordering::SeqCst), 40, "{fields}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_item_map_with_the_quota_lifted() {
    // 40,000 events: past AWS's quota, so only with it lifted (see tests/quotas.rs).
    let def = r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemSelector":{"i.$":"$$.Map.Item.Index"},
        "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"double.$":"States.MathAdd($.i, $.i)"},"End":true}}},"End":true}}}"#;
    let items = vec![0; 10_000];
    let lifted = powersweep_asl::EngineConfig {
        max_history_events: None,
        ..Default::default()
    };
    let m = StateMachine::parse(def).unwrap();
    match engine(TaskRegistry::new())
        .with_config(lifted)
        .run(&m, json!(items))
        .await
    {
        Outcome::Succeeded(Value::Array(a)) => {
            assert_eq!(a.len(), 10_000);
            assert_eq!(a[9_999], json!({"double": 19_998}));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn deep_nesting_of_parallel_states() {
    // 20 Parallel states inside each other, each wrapping its branch's result in an array.
    let mut def =
        json!({"StartAt":"Leaf","States":{"Leaf":{"Type":"Pass","Result":"leaf","End":true}}});
    for _ in 0..20 {
        def = json!({"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[def],"End":true}}});
    }
    let m = StateMachine::from_value(&def).unwrap();
    let mut expected = json!("leaf");
    for _ in 0..20 {
        expected = json!([expected]);
    }
    assert_eq!(
        engine(TaskRegistry::new()).run(&m, json!({})).await,
        Outcome::Succeeded(expected)
    );
}

#[tokio::test]
async fn history_is_readable_while_running() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let rx = Arc::new(tokio::sync::Mutex::new(Some(rx)));
    let tasks = TaskRegistry::new().with(
        "arn:gate",
        handler_fn(move |_| {
            let rx = rx.clone();
            async move {
                if let Some(rx) = rx.lock().await.take() {
                    let _ = rx.await;
                }
                Ok(json!("done"))
            }
        }),
    );
    let m = StateMachine::parse(
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:gate","End":true}}}"#,
    )
    .unwrap();
    let exec = engine(tasks).start(&m, json!({}));
    let mut sub = exec.history().subscribe();
    while !exec
        .history()
        .snapshot()
        .iter()
        .any(|e| e.event_type == EventType::TaskStarted)
    {
        sub.changed().await.unwrap();
    }
    assert!(!exec.is_finished());
    tx.send(()).unwrap();
    let history = exec.history().clone();
    assert_eq!(exec.wait().await, Outcome::Succeeded(json!("done")));
    let names: Vec<String> = history
        .snapshot()
        .iter()
        .map(|e| e.event_type.name())
        .collect();
    assert_eq!(
        names,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let json = history.to_json();
    assert_eq!(json["events"][1]["stateEnteredEventDetails"]["name"], "T");
}

#[tokio::test]
async fn lambda_invoke_function_error_is_catchable_by_type() {
    let svc = lambda::lambda_fn(|r: lambda::InvokeRequest| async move {
        if r.payload["ok"] == true {
            Ok(json!({"n": 1}))
        } else {
            Err(lambda::FunctionError {
                error_type: "OutOfMemory".into(),
                error_message: "too big".into(),
            })
        }
    });
    let mut tasks = TaskRegistry::new();
    lambda::register_lambda(&mut tasks, Arc::new(svc));
    let def = r#"{"StartAt":"I","States":{"I":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
        "Parameters":{"FunctionName":"host:3","Payload.$":"$"},"ResultSelector":{"row.$":"$.Payload"},
        "Catch":[{"ErrorEquals":["OutOfMemory"],"ResultPath":"$.error","Next":"Err"}],"End":true},
        "Err":{"Type":"Pass","End":true}}}"#;
    assert_eq!(
        run(def, tasks.clone(), json!({"ok": true})).await,
        Outcome::Succeeded(json!({"row": {"n": 1}}))
    );
    let failed = run(def, tasks, json!({"ok": false})).await;
    let out = failed.output().unwrap();
    assert_eq!(out["error"]["Error"], "OutOfMemory");
    let cause: Value = serde_json::from_str(out["error"]["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(cause["errorMessage"], "too big");
}
