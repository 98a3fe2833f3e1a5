//! Loads an ASL definition, runs it on the local engine with a virtual clock, and prints
//! the history and the outcome. Also shows a definition error naming the field at fault.
//!
//! Run with `cargo run -p powersweep-asl --example run_definition`.

use std::sync::Arc;

use powersweep_asl::{
    Engine, Outcome, StateMachine, TaskError, TaskRegistry, VirtualClock, handler_fn,
};
use serde_json::json;

const DEFINITION: &str = r#"{
  "StartAt": "Fan out",
  "States": {
    "Fan out": {
      "Type": "Map",
      "ItemsPath": "$.sizes",
      "MaxConcurrency": 0,
      "ItemSelector": {"memory.$": "$$.Map.Item.Value"},
      "ItemProcessor": {"StartAt": "Measure", "States": {
        "Measure": {"Type": "Task", "Resource": "arn:local:measure",
                    "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 30}],
                    "End": true}}},
      "ResultPath": "$.rows",
      "Next": "Pause"
    },
    "Pause": {"Type": "Wait", "Seconds": 600, "Next": "Best"},
    "Best": {"Type": "Pass", "Parameters": {"fastest.$": "States.ArrayGetItem($.rows[?(@.ms < 100)].memory, 0)"}, "End": true}
  }
}"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // 1. Load and validate the definition.
    let machine = StateMachine::parse(DEFINITION)?;

    // 2. Register a handler for the one resource it uses.
    let tasks = TaskRegistry::new().with(
        "arn:local:measure",
        handler_fn(|req| async move {
            let memory = req.parameters["memory"]
                .as_u64()
                .ok_or_else(|| TaskError::new("BadInput", "memory"))?;
            if req.retry_count == 0 && memory == 512 {
                return Err(TaskError::new("Throttled", "try again"));
            }
            Ok(json!({"memory": memory, "ms": 100_000 / memory}))
        }),
    );

    // 3. Run it. The virtual clock makes the 10-minute Wait and the retry delay instant.
    let engine = Engine::new(tasks).with_clock(Arc::new(VirtualClock::new()));
    let execution = engine.start(&machine, json!({"sizes": [128, 512, 1024, 2048]}));
    let history = execution.history().clone();
    let outcome = execution.wait().await;
    for event in history.snapshot() {
        println!("{:>3} {}", event.id, event.event_type.name());
    }
    println!("outcome: {}", outcome.to_json());
    assert_eq!(outcome, Outcome::Succeeded(json!({"fastest": 1024})));

    // 4. A broken definition fails on load, naming the state and field.
    let err =
        StateMachine::parse(r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}"#)
            .unwrap_err();
    println!("definition error: {err}");
    assert_eq!(err.location(), "/States/A/Next");
    Ok(())
}
