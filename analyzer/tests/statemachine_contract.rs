//! The contract between `statemachine/powersweep.asl.json` and the analyzer: what the
//! state machine builds per sample and passes to the `Analyze` step is what the analyzer
//! reads, and every step that can fail after the original configuration was read routes
//! to an error row or to cleanup. It must not run the state machine (the local engine's
//! end-to-end tests do).

use std::collections::BTreeSet;
use std::path::PathBuf;

use powersweep_analyzer::{AnalyzerInput, Outcome, parse_samples};
use serde_json::{Map, Value, json};

fn definition() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../statemachine/powersweep.asl.json");
    let text = std::fs::read_to_string(&path).expect("read the state machine");
    serde_json::from_str(&text).expect("the state machine is JSON")
}

/// Every state, at any depth (Map ItemProcessors included), by name.
fn all_states(states: &Map<String, Value>, out: &mut Vec<(String, Value)>) {
    for (name, state) in states {
        out.push((name.clone(), state.clone()));
        if let Some(inner) = state
            .pointer("/ItemProcessor/States")
            .and_then(Value::as_object)
        {
            all_states(inner, out);
        }
    }
}

fn states() -> Vec<(String, Value)> {
    let def = definition();
    let mut out = Vec::new();
    all_states(def["States"].as_object().expect("States"), &mut out);
    out
}

fn state(name: &str) -> Value {
    states()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no state {name}"))
        .1
}

/// The keys a `Parameters` block produces (`key.$` produces `key`).
fn produced_keys(parameters: &Value) -> BTreeSet<String> {
    parameters
        .as_object()
        .expect("Parameters is an object")
        .keys()
        .map(|k| k.trim_end_matches(".$").to_owned())
        .collect()
}

#[test]
fn analyze_step_passes_only_fields_the_analyzer_reads() {
    let sent = produced_keys(&state("Analyze")["Parameters"]["Payload"]);
    let input: AnalyzerInput = serde_json::from_value(json!({"samples": []})).unwrap();
    let known: BTreeSet<String> = serde_json::to_value(&input)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let unknown: Vec<_> = sent.difference(&known).collect();
    assert!(unknown.is_empty(), "the analyzer ignores {unknown:?}");
    for needed in [
        "samples",
        "strategy",
        "balancedWeight",
        "discardTopBottom",
        "architecture",
        "architectures",
        "region",
    ] {
        assert!(sent.contains(needed), "Analyze does not pass {needed}");
    }
}

#[test]
fn sample_and_error_rows_parse_as_samples() {
    let plausible = |key: &str| match key {
        "memoryMb" => json!(1024),
        "architecture" => json!("arm64"),
        "threads" => json!(2),
        "durationMs" | "cpuMs" | "initMs" | "maxRssMb" => json!(12.5),
        "cold" => json!(true),
        "vcpus" => json!(2),
        "writtenItems" => json!(87),
        "report" => json!(
            "REPORT RequestId: r\tDuration: 13.01 ms\tBilled Duration: 40 ms\tMemory Size: 1024 MB\tMax Memory Used: 39 MB\tInit Duration: 26.40 ms\t"
        ),
        "errors" => json!([]),
        "error" => json!("Runtime.OutOfMemory"),
        "cause" => {
            json!({"Error": "Runtime.OutOfMemory", "Cause": "{\"errorType\":\"Runtime.OutOfMemory\"}"})
        }
        other => panic!("the state machine builds an unexpected sample field {other}"),
    };
    let build = |name: &str| -> Value {
        let keys = produced_keys(&state(name)["Parameters"]);
        Value::Object(keys.iter().map(|k| (k.clone(), plausible(k))).collect())
    };
    // Nested as the Sweep map nests them: versions → threads → repetitions.
    let samples = json!([[[build("Sample"), build("ErrorSample")]]]);
    let parsed = parse_samples(&samples).expect("the analyzer reads the state machine's samples");
    assert!(
        parsed
            .iter()
            .all(|s| s.architecture == Some(powersweep_analyzer::Architecture::Arm64)),
        "every sample names its function's architecture"
    );
    let Outcome::Ok(measured) = &parsed[0].outcome else {
        panic!("the sample is a failure: {:?}", parsed[0]);
    };
    assert!(measured.report.is_some(), "the REPORT line is not read");
    assert_eq!(
        parsed[0].written_items,
        Some(87),
        "writtenItems is not read"
    );
    assert!(matches!(parsed[1].outcome, Outcome::Failed { .. }));
    // A memory size that could not be published: one row per thread count.
    let unpublished = produced_keys(&state("UnpublishedRows")["ItemSelector"]);
    let row = Value::Object(
        unpublished
            .iter()
            .map(|k| (k.clone(), plausible(k)))
            .collect(),
    );
    let parsed = parse_samples(&json!([[row]])).expect("unpublished rows parse");
    assert!(matches!(parsed[0].outcome, Outcome::Failed { .. }));
    assert!(parsed[0].architecture.is_some());
}

#[test]
fn every_task_that_can_fail_mid_sweep_is_caught() {
    for (name, state) in states() {
        if state["Type"] != "Task" || name == "GetOriginalConfiguration" || name == "Plan" {
            // Before anything changed there is nothing to clean up.
            continue;
        }
        let catches_all = state["Catch"].as_array().is_some_and(|catchers| {
            catchers.iter().any(|c| {
                c["ErrorEquals"]
                    .as_array()
                    .is_some_and(|e| e.contains(&json!("States.ALL")))
            })
        });
        assert!(catches_all, "Task {name} has no Catch on States.ALL");
    }
}

/// Intrinsic functions fail at run time (`States.ArrayRange` past 1,000 items, for one),
/// and a Pass or Choice state cannot catch: between the first change to the function and
/// `Cleanup`, no top-level state may call one. `PlanRounds` once did, after the versions were
/// published, and `--repetitions 10000` left them behind on AWS.
#[test]
fn nothing_uncatchable_runs_between_the_first_change_and_cleanup() {
    let def = definition();
    let top = def["States"].as_object().expect("States");
    // Every path from PublishVersions to Cleanup, through Choices' branches too.
    let mut todo = vec!["PublishVersions".to_string()];
    let mut seen = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if name == "Cleanup" || !seen.insert(name.clone()) {
            continue;
        }
        let state = &top[&name];
        let catches = state["Catch"].as_array().is_some_and(|c| !c.is_empty());
        // A Map's ItemSelector indexes with States.ArrayGetItem the plan's own lists (its
        // indices come from the same plan), so only Pass and Choice states are held to it.
        let text = state.to_string();
        assert!(
            catches || !text.contains("States."),
            "{name} calls an intrinsic function and cannot catch its failure: {text}"
        );
        assert!(
            matches!(state["Type"].as_str(), Some("Task" | "Map" | "Parallel")) || !catches,
            "{name}"
        );
        let mut next: Vec<&str> = state["Next"].as_str().into_iter().collect();
        next.extend(state["Default"].as_str());
        for choice in state["Choices"].as_array().into_iter().flatten() {
            next.extend(choice["Next"].as_str());
        }
        assert!(!next.is_empty(), "{name} ends before Cleanup");
        todo.extend(next.into_iter().map(str::to_owned));
    }
    assert!(
        seen.contains("Sweep") && seen.contains("DryRunOutput"),
        "{seen:?}"
    );
}

#[test]
fn the_plan_step_gets_every_setting_the_planner_reads() {
    let defaults = &state("Defaults")["Parameters"]["defaults"];
    for option in [
        "dryRun",
        "onlyColdStarts",
        "sleepBetweenRunsMs",
        "allowedExceptions",
        "includeSamples",
        "autoOptimize",
    ] {
        assert!(defaults.get(option).is_some(), "no default for {option}");
    }
    assert_eq!(
        state("Plan")["Parameters"]["Payload"],
        json!({"plan.$": "$.config"})
    );
    // The defaults plus the required fields make a plan.
    let mut settings = defaults.clone();
    settings["memorySizes"] = json!([128]);
    settings["threads"] = json!([1]);
    let input: powersweep_analyzer::PlanInput =
        serde_json::from_value(settings).expect("the defaults are plan settings");
    let layout = powersweep_analyzer::plan(&input).expect("the defaults plan");
    assert_eq!(layout.invocations, 5);
}

#[test]
fn the_rounds_are_planned_before_anything_is_changed() {
    let def = definition();
    let top = def["States"].as_object().expect("States");
    let mut name = def["StartAt"].as_str().expect("StartAt").to_string();
    let mut before_change = Vec::new();
    while name != "PublishVersions" {
        before_change.push(name.clone());
        name = top[&name]["Next"].as_str().expect("Next").to_string();
    }
    assert!(
        before_change.contains(&"Plan".to_string()),
        "{before_change:?}"
    );
}

#[test]
fn invocations_retry_throttling_and_service_errors() {
    let invoke = state("Invoke");
    let retried: BTreeSet<&str> = invoke["Retry"]
        .as_array()
        .expect("Retry")
        .iter()
        .flat_map(|r| r["ErrorEquals"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    for error in [
        "Lambda.TooManyRequestsException",
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
    ] {
        assert!(retried.contains(error), "Invoke does not retry {error}");
    }
    assert_eq!(invoke["Parameters"]["Qualifier.$"], "$.version");
}

/// Every host function a sweep may change is restored, each on its own: one that cannot be
/// restored does not keep the others at the last swept size, and still fails the execution.
#[test]
fn every_function_is_restored_even_when_one_cannot_be() {
    let restore = state("RestoreMemory");
    assert_eq!(restore["ItemsPath"], "$.originals");
    let inner = &restore["ItemProcessor"]["States"]["Restore"];
    assert_eq!(inner["Catch"][0]["Next"], "NotRestored", "{inner}");
    assert_eq!(state("CheckRestores")["Next"], "DidRestoreFail");
    assert_eq!(
        state("DidRestoreFail")["Choices"][0]["Next"],
        "RestoreFailed"
    );
}

/// The functions are resolved by the planner before anything changes, and every later step
/// names the function from the versions or originals it carries, never from the settings.
#[test]
fn every_step_after_the_plan_names_its_function_from_the_plan() {
    for (name, state) in states() {
        let text = state.to_string();
        assert!(
            !text.contains("$.config.functionName"),
            "{name} reads the one function of the settings: {text}"
        );
    }
    assert_eq!(state("GetOriginals")["ItemsPath"], "$.plan.functions");
    let defaults = &state("Defaults")["Parameters"]["defaults"];
    assert_eq!(defaults["hostFunctions"]["x86_64"], "${HostFunctionName}");
    assert_eq!(
        defaults["hostFunctions"]["arm64"],
        "${HostFunctionArm64Name}"
    );
}

#[test]
fn only_the_documented_placeholders_are_used() {
    let text = definition().to_string();
    let placeholders: BTreeSet<&str> = text
        .match_indices("${")
        .filter_map(|(at, _)| text[at..].find('}').map(|end| &text[at..=at + end]))
        .collect();
    assert_eq!(
        placeholders,
        BTreeSet::from([
            "${AnalyzerFunctionArn}",
            "${HostFunctionArm64Name}",
            "${HostFunctionName}",
            "${ResultsBucketName}"
        ])
    );
}

/// The sweep's samples never sit in the execution's state: each round is a child execution
/// of a distributed Map whose results go to S3, and both the analysis and the dry run get
/// the analyzer to read them back.
#[test]
fn the_rounds_are_child_executions_whose_samples_go_to_s3() {
    let def = definition();
    let sweep = &def["States"]["Sweep"];
    assert_eq!(
        sweep["ItemProcessor"]["ProcessorConfig"]["Mode"],
        "DISTRIBUTED"
    );
    assert_eq!(
        sweep["ResultWriter"]["Resource"],
        "arn:aws:states:::s3:putObject"
    );
    assert_eq!(
        sweep["ResultWriter"]["Parameters"]["Bucket"],
        "${ResultsBucketName}"
    );
    assert_eq!(sweep["ResultPath"], "$.samples");
    for reader in ["Analyze", "DryRunOutput"] {
        let task = &def["States"][reader];
        assert_eq!(
            task["Parameters"]["FunctionName"], "${AnalyzerFunctionArn}",
            "{reader}"
        );
        assert!(
            task["Parameters"]["Payload"]
                .to_string()
                .contains("\"$.samples\""),
            "{reader}"
        );
    }
}
