//! Distributed Map: child executions with their own history and context, ItemReader,
//! ItemBatcher, ResultWriter (through an in-memory S3 handler), tolerated failures, and the
//! definition rules. The definitions follow the examples of AWS's pages on Distributed Map,
//! ItemReader, ItemBatcher and ResultWriter.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use powersweep_asl::{
    Engine, EventType, Outcome, StateMachine, TaskError, TaskRegistry, VirtualClock, handler_fn,
};
use serde_json::{Value, json};

/// An S3 of objects in memory, answering as the engine's S3 resources expect.
#[derive(Clone, Default)]
struct Objects(Arc<Mutex<BTreeMap<(String, String), String>>>);

impl Objects {
    fn put(&self, bucket: &str, key: &str, body: &str) {
        self.0
            .lock()
            .unwrap()
            .insert((bucket.into(), key.into()), body.into());
    }

    fn get(&self, bucket: &str, key: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap()
            .get(&(bucket.to_owned(), key.to_owned()))
            .cloned()
    }

    fn keys(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .keys()
            .map(|(_, k)| k.clone())
            .collect()
    }

    fn register(&self, tasks: TaskRegistry) -> TaskRegistry {
        let (get, put) = (self.clone(), self.clone());
        tasks
            .with(
                "arn:aws:states:::s3:getObject",
                handler_fn(move |r| {
                    let get = get.clone();
                    async move {
                        let (b, k) = (
                            r.parameters["Bucket"].as_str(),
                            r.parameters["Key"].as_str(),
                        );
                        match get.get(b.unwrap_or_default(), k.unwrap_or_default()) {
                            Some(body) => Ok(json!({ "Body": body })),
                            None => Err(TaskError::new(
                                "S3.NoSuchKey",
                                "The specified key does not exist.",
                            )),
                        }
                    }
                }),
            )
            .with(
                "arn:aws:states:::s3:putObject",
                handler_fn(move |r| {
                    let put = put.clone();
                    async move {
                        let p = &r.parameters;
                        put.put(
                            p["Bucket"].as_str().unwrap_or_default(),
                            p["Key"].as_str().unwrap_or_default(),
                            p["Body"].as_str().unwrap_or_default(),
                        );
                        Ok(json!({}))
                    }
                }),
            )
    }
}

async fn run(def: &str, tasks: TaskRegistry, input: Value) -> (Outcome, Vec<EventType>) {
    let m = StateMachine::parse(def).unwrap();
    let exec = Engine::new(tasks)
        .with_clock(Arc::new(VirtualClock::new()))
        .start_named(&m, "parent", input);
    let history = exec.history().clone();
    let out = exec.wait().await;
    let types = history.snapshot().iter().map(|e| e.event_type).collect();
    (out, types)
}

fn distributed(extra: &str, processor_states: &str) -> String {
    format!(
        r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map",{extra}
            "ItemProcessor":{{"ProcessorConfig":{{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"}},
              "StartAt":"P","States":{processor_states}}},"End":true}}}}}}"#
    )
}

#[tokio::test]
async fn children_get_their_item_their_own_context_and_results_come_in_item_order() {
    let def = distributed(
        r#""Label":"rows","ItemSelector":{"i.$":"$$.Map.Item.Index","v.$":"$$.Map.Item.Value","src.$":"$$.Map.Item.Source"},"#,
        r#"{"P":{"Type":"Pass","Parameters":{"item.$":"$","exec.$":"$$.Execution.Id","sm.$":"$$.StateMachine.Id"},"End":true}}"#,
    );
    let (out, events) = run(&def, TaskRegistry::new(), json!(["a", "b", "c"])).await;
    let Outcome::Succeeded(Value::Array(rows)) = out else {
        panic!("{out:?}")
    };
    assert_eq!(rows.len(), 3);
    for (i, row) in rows.iter().enumerate() {
        let v = ["a", "b", "c"][i];
        assert_eq!(row["item"], json!({"i": i, "v": v, "src": "STATE_DATA"}));
        let exec = row["exec"].as_str().unwrap();
        assert!(
            exec.contains(":execution:") && exec.contains("/rows:"),
            "a child's own ARN, named after the label: {exec}"
        );
        assert!(row["sm"].as_str().unwrap().ends_with("/rows"));
    }
    // The parent records the Map Run, never its children's states.
    assert!(events.contains(&EventType::MapRunStarted));
    assert!(events.contains(&EventType::MapRunSucceeded));
    assert!(!events.contains(&EventType::MapIterationStarted));
    assert_eq!(events.len(), 8, "{events:?}");
}

/// Obeyed/violated: 9,000 items of a three-state processor are ~45,000 events: past one
/// history's 25,000 inline, well inside when each item is a child with its own history.
#[tokio::test]
async fn each_child_has_its_own_history_quota() {
    let states = r#"{"P":{"Type":"Pass","Next":"Q"},"Q":{"Type":"Pass","Next":"R"},"R":{"Type":"Pass","End":true}}"#;
    let items: Vec<u32> = (0..9_000).collect();
    let (out, _) = run(
        &distributed(r#""MaxConcurrency":1000,"#, states),
        TaskRegistry::new(),
        json!(items),
    )
    .await;
    assert!(
        matches!(out, Outcome::Succeeded(Value::Array(ref a)) if a.len() == 9_000),
        "{out:?}"
    );
    let inline = distributed(r#""MaxConcurrency":1000,"#, states).replace(
        r#""Mode":"DISTRIBUTED","ExecutionType":"STANDARD""#,
        r#""Mode":"INLINE""#,
    );
    let (out, _) = run(&inline, TaskRegistry::new(), json!(items)).await;
    match out {
        Outcome::Failed { error, cause } => {
            assert_eq!(error.as_deref(), Some("States.Runtime"));
            assert!(cause.unwrap().contains("maximum number of history events"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_child_past_its_own_history_quota_fails_alone() {
    // One child loops on a Pass: its own history fills, the parent's does not.
    let states = r#"{"P":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":1,"Next":"P2"}],"Default":"Done"},
                     "P2":{"Type":"Pass","Next":"P"},"Done":{"Type":"Succeed"}}"#;
    let (out, _) = run(
        &distributed(r#""ToleratedFailureCount":1,"#, states),
        TaskRegistry::new(),
        json!([0, 1, 2]),
    )
    .await;
    let Outcome::Succeeded(Value::Array(rows)) = out else {
        panic!("{out:?}")
    };
    assert_eq!(rows[1]["Error"], "States.Runtime");
    assert_eq!(rows[0], 0);
}

#[tokio::test]
async fn item_batcher_groups_items_with_the_batch_input() {
    let def = distributed(
        r#""ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"run.$":"$.run"}},"ItemsPath":"$.items","#,
        r#"{"P":{"Type":"Pass","End":true}}"#,
    );
    let (out, _) = run(
        &def,
        TaskRegistry::new(),
        json!({"run": "r1", "items": [1, 2, 3, 4, 5]}),
    )
    .await;
    assert_eq!(
        out,
        Outcome::Succeeded(json!([
            {"BatchInput": {"run": "r1"}, "Items": [1, 2]},
            {"BatchInput": {"run": "r1"}, "Items": [3, 4]},
            {"BatchInput": {"run": "r1"}, "Items": [5]},
        ]))
    );
    // Bytes: `{"Items":[]}` is 12 bytes, each item 4 ("1000") plus a comma.
    let def = distributed(
        r#""ItemBatcher":{"MaxInputBytesPerBatch":22},"#,
        r#"{"P":{"Type":"Pass","End":true}}"#,
    );
    let (out, _) = run(&def, TaskRegistry::new(), json!([1000, 1001, 1002, 1003])).await;
    assert_eq!(
        out,
        Outcome::Succeeded(json!([{"Items": [1000, 1001]}, {"Items": [1002, 1003]}]))
    );
}

#[tokio::test]
async fn item_reader_reads_json_and_json_lines_objects_from_s3() {
    let s3 = Objects::default();
    s3.put("b", "items.json", r#"[{"n":1},{"n":2},{"n":3}]"#);
    s3.put("b", "items.jsonl", "{\"n\":1}\n{\"n\":2}\n\n{\"n\":3}\n");
    for (key, input_type) in [("items.json", "JSON"), ("items.jsonl", "JSONL")] {
        let def = distributed(
            &format!(
                r#""ItemReader":{{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{{"InputType":"{input_type}","MaxItems":2}},
                   "Parameters":{{"Bucket":"b","Key.$":"$.key"}}}},
                   "ItemSelector":{{"n.$":"$$.Map.Item.Value.n","src.$":"$$.Map.Item.Source"}},"#
            ),
            r#"{"P":{"Type":"Pass","End":true}}"#,
        );
        let (out, _) = run(&def, s3.register(TaskRegistry::new()), json!({"key": key})).await;
        let src = format!("S3://b/{key}");
        assert_eq!(
            out,
            Outcome::Succeeded(json!([{"n": 1, "src": src}, {"n": 2, "src": src}])),
            "{input_type}"
        );
    }
    // A missing object fails the state with S3's error.
    let def = distributed(
        r#""ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"none"}},"#,
        r#"{"P":{"Type":"Pass","End":true}}"#,
    );
    let (out, _) = run(&def, s3.register(TaskRegistry::new()), json!({})).await;
    assert!(
        matches!(out, Outcome::Failed { ref error, .. } if error.as_deref() == Some("S3.NoSuchKey")),
        "{out:?}"
    );
}

#[tokio::test]
async fn result_writer_writes_every_record_and_a_manifest() {
    let s3 = Objects::default();
    let def = distributed(
        r#""ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"results","Prefix":"runs"}},
           "ToleratedFailurePercentage":50,"#,
        r#"{"P":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":3,"Next":"Bad"}],"Default":"Good"},
            "Bad":{"Type":"Fail","Error":"Three","Cause":"no threes"},"Good":{"Type":"Pass","End":true}}"#,
    );
    let (out, _) = run(&def, s3.register(TaskRegistry::new()), json!([1, 2, 3, 4])).await;
    let Outcome::Succeeded(out) = out else {
        panic!("{out:?}")
    };
    assert!(out["MapRunArn"].as_str().unwrap().contains(":mapRun:"));
    assert_eq!(out["ResultWriterDetails"]["Bucket"], "results");
    let key = out["ResultWriterDetails"]["Key"].as_str().unwrap();
    assert!(
        key.starts_with("runs/") && key.ends_with("/manifest.json"),
        "{key}"
    );
    let manifest: Value = serde_json::from_str(&s3.get("results", key).unwrap()).unwrap();
    assert_eq!(manifest["MapRunArn"], out["MapRunArn"]);
    assert_eq!(manifest["DestinationBucket"], "results");
    let file = |status: &str| -> Vec<Value> {
        let files = manifest["ResultFiles"][status].as_array().unwrap();
        assert_eq!(files.len(), 1, "{status}: {files:?}");
        let text = s3
            .get("results", files[0]["Key"].as_str().unwrap())
            .unwrap();
        assert_eq!(files[0]["Size"], text.len());
        serde_json::from_str(&text).unwrap()
    };
    let succeeded = file("SUCCEEDED");
    let outputs: Vec<&str> = succeeded
        .iter()
        .map(|r| r["Output"].as_str().unwrap())
        .collect();
    let mut sorted = outputs.clone();
    sorted.sort();
    assert_eq!(sorted, ["1", "2", "4"]);
    assert!(
        succeeded
            .iter()
            .all(|r| r["Status"] == "SUCCEEDED" && r["Input"].is_string())
    );
    let failed = file("FAILED");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["Error"], "Three");
    assert_eq!(failed[0]["Input"], "3");
    assert_eq!(s3.keys().len(), 3);
}

/// Obeyed/violated: 3 of 10 items fail; 3 are tolerated, 2 are not.
#[tokio::test]
async fn tolerated_failures_obeyed_and_exceeded() {
    let states = r#"{"P":{"Type":"Choice","Choices":[{"Variable":"$","NumericLessThan":3,"Next":"Bad"}],"Default":"Good"},
        "Bad":{"Type":"Fail","Error":"Low"},"Good":{"Type":"Pass","End":true}}"#;
    let items: Vec<u32> = (0..10).collect();
    for (tolerated, ok) in [
        (r#""ToleratedFailureCount":3,"#, true),
        (r#""ToleratedFailureCount":2,"#, false),
        (r#""ToleratedFailurePercentage":30,"#, true),
        (r#""ToleratedFailurePercentage":29.9,"#, false),
    ] {
        let (out, events) = run(
            &distributed(tolerated, states),
            TaskRegistry::new(),
            json!(items),
        )
        .await;
        match out {
            Outcome::Succeeded(_) if ok => {}
            Outcome::Failed { error, .. } if !ok => {
                assert_eq!(
                    error.as_deref(),
                    Some("States.ExceedToleratedFailureThreshold")
                );
                assert!(events.contains(&EventType::MapRunFailed));
            }
            other => panic!("{tolerated}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_express_child_ends_at_five_minutes() {
    let def = distributed("", r#"{"P":{"Type":"Wait","Seconds":301,"End":true}}"#)
        .replace("STANDARD", "EXPRESS");
    let (out, _) = run(&def, TaskRegistry::new(), json!([1])).await;
    assert!(
        matches!(out, Outcome::Failed { ref error, .. } if error.as_deref() == Some("States.Timeout")),
        "{out:?}"
    );
    let def = distributed("", r#"{"P":{"Type":"Wait","Seconds":299,"End":true}}"#)
        .replace("STANDARD", "EXPRESS");
    let (out, _) = run(&def, TaskRegistry::new(), json!([1])).await;
    assert_eq!(out, Outcome::Succeeded(json!([1])));
}

#[tokio::test]
async fn jsonata_distributed_map_sees_the_item_source() {
    let def = r#"{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% $states.input.xs %}",
        "ItemSelector":{"v":"{% $states.context.Map.Item.Value %}","src":"{% $states.context.Map.Item.Source %}"},
        "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}"#;
    let (out, _) = run(def, TaskRegistry::new(), json!({"xs": [7]})).await;
    assert_eq!(
        out,
        Outcome::Succeeded(json!([{"v": 7, "src": "STATE_DATA"}]))
    );
}

#[test]
fn bad_distributed_definitions_are_refused() {
    let inline = r#""ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let dist = r#""ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let machine = |fields: &str| {
        format!(r#"{{"StartAt":"M","States":{{"M":{{"Type":"Map",{fields},"End":true}}}}}}"#)
    };
    let cases = [
        (
            format!(r#"{inline},"ItemBatcher":{{"MaxItemsPerBatch":2}}"#),
            "/States/M/ItemBatcher",
            "DISTRIBUTED",
        ),
        (
            format!(
                r#"{inline},"ResultWriter":{{"Resource":"arn:aws:states:::s3:putObject","Parameters":{{"Bucket":"b"}}}}"#
            ),
            "/States/M/ResultWriter",
            "DISTRIBUTED",
        ),
        (
            format!(r#"{dist},"ToleratedFailurePercentage":101"#),
            "/States/M/ToleratedFailurePercentage",
            "0 to 100",
        ),
        (
            format!(
                r#"{dist},"ResultWriter":{{"Resource":"arn:aws:states:::s3:putObject","Parameters":{{"Prefix":"p"}}}}"#
            ),
            "/States/M/ResultWriter/Parameters",
            "Bucket",
        ),
        (
            format!(r#"{dist},"ItemBatcher":{{"BatchInput":{{}}}}"#),
            "/States/M/ItemBatcher",
            "MaxItemsPerBatch",
        ),
        (
            format!(r#"{dist},"Label":"a label with spaces""#),
            "/States/M/Label",
            "Label",
        ),
        (
            format!(r#"{dist},"Label":"{}""#, "x".repeat(41)),
            "/States/M/Label",
            "40",
        ),
        (
            dist.replace(r#","ExecutionType":"STANDARD""#, ""),
            "/States/M/ItemProcessor/ProcessorConfig",
            "ExecutionType",
        ),
    ];
    for (fields, at, says) in cases {
        let err = StateMachine::parse(&machine(&fields)).expect_err(&fields);
        let text = err.to_string();
        assert!(text.contains(at) && text.contains(says), "{fields}: {text}");
    }
    // The same fields in DISTRIBUTED mode are accepted.
    StateMachine::parse(&machine(&format!(
        r#"{dist},"ItemBatcher":{{"MaxItemsPerBatch":2}},"Label":"rows","ToleratedFailurePercentage":100,
           "ResultWriter":{{"Resource":"arn:aws:states:::s3:putObject","Parameters":{{"Bucket":"b","Prefix":"p"}}}}"#
    )))
    .unwrap();
}
