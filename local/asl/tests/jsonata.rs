//! The JSONata query language, end to end: `{% … %}` fields, `$states`, workflow variables
//! shared with JSONPath states, AWS's added functions, and AWS's errors.

use std::sync::Arc;

use powersweep_asl::{
    Engine, Outcome, StateMachine, TaskError, TaskRegistry, VirtualClock, handler_fn,
};
use serde_json::{Value, json};

async fn run_with(def: Value, tasks: TaskRegistry, input: Value) -> Outcome {
    let m = StateMachine::from_value(&def).expect("a valid definition");
    Engine::new(tasks)
        .with_clock(Arc::new(VirtualClock::new()))
        .run(&m, input)
        .await
}

async fn run(def: Value, input: Value) -> Outcome {
    run_with(def, TaskRegistry::new(), input).await
}

fn failed(outcome: Outcome) -> (String, String) {
    match outcome {
        Outcome::Failed { error, cause } => (error.unwrap_or_default(), cause.unwrap_or_default()),
        other => panic!("expected a failure: {other:?}"),
    }
}

#[tokio::test]
async fn output_and_assign_see_the_input_and_variables_cross_languages() {
    // A JSONPath machine whose states A and C switch to JSONata (the other way round is
    // refused: see `a_jsonpath_state_in_a_jsonata_machine_is_refused`).
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "QueryLanguage": "JSONata", "Assign": {"n": "{% $states.input.a * 2 %}"}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"n.$": "$n"}, "Next": "C"},
        "C": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"sum": "{% $states.input.n + $n %}", "lit": [1, "x"]}, "End": true}}});
    assert_eq!(
        run(def, json!({"a": 21})).await,
        Outcome::Succeeded(json!({"sum": 84, "lit": [1, "x"]}))
    );
}

#[tokio::test]
async fn choice_conditions_pick_the_rule_and_its_output() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Condition": "{% $states.input.x > 10 %}", "Next": "Big", "Output": {"size": "big"}}],
            "Default": "Small"},
        "Big": {"Type": "Succeed"},
        "Small": {"Type": "Pass", "Output": "{% 'small ' & $string($states.input.x) %}", "End": true}}});
    assert_eq!(
        run(def.clone(), json!({"x": 11})).await,
        Outcome::Succeeded(json!({"size": "big"}))
    );
    assert_eq!(
        run(def, json!({"x": 3})).await,
        Outcome::Succeeded(json!("small 3"))
    );
}

#[tokio::test]
async fn a_condition_that_is_not_a_boolean_is_aws_error() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.x %}", "Next": "D"}]},
        "D": {"Type": "Succeed"}}});
    let (error, cause) = failed(run(def, json!({"x": 1})).await);
    assert_eq!(error, "States.QueryEvaluationError");
    assert!(
        cause.contains("specified for the field 'Choices[0]/Condition' returned an unexpected result type. Expected 'boolean', but was 'number' for value: 1"),
        "{cause}"
    );
}

#[tokio::test]
async fn map_items_and_item_selector_with_the_item_in_the_context() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
        "M": {"Type": "Map", "Items": "{% $states.input.xs %}",
              "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}", "i": "{% $states.context.Map.Item.Index %}"},
              "ItemProcessor": {"StartAt": "P", "States": {
                  "P": {"Type": "Pass", "Output": "{% $states.input.v * 10 + $states.input.i %}", "End": true}}},
              "Output": {"all": "{% $states.result %}"}, "End": true}}});
    assert_eq!(
        run(def, json!({"xs": [1, 2, 3]})).await,
        Outcome::Succeeded(json!({"all": [10, 21, 32]}))
    );
}

#[tokio::test]
async fn items_that_are_not_an_array_fail_with_aws_words() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
        "M": {"Type": "Map", "Items": "{% 1 %}",
              "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Succeed"}}}, "End": true}}});
    let (error, cause) = failed(run(def, json!({})).await);
    assert_eq!(error, "States.QueryEvaluationError");
    assert!(
        cause.ends_with("The JSONata expression '1' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was 'number' for value: 1"),
        "{cause}"
    );
}

#[tokio::test]
async fn an_undefined_result_names_the_expression_and_the_field() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "State0", "States": {
        "State0": {"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}, "End": true}}});
    let (error, cause) = failed(run(def, json!({})).await);
    assert_eq!(error, "States.QueryEvaluationError");
    assert_eq!(
        cause,
        "An error occurred while executing the state 'State0' (entered at the event id #2). The JSONata expression '$doesNotExist' specified for the field 'Output/result' returned nothing (undefined)."
    );
}

#[tokio::test]
async fn task_arguments_result_and_catch_error_output() {
    let tasks = TaskRegistry::new()
        .with(
            "arn:double",
            handler_fn(
                |r| async move { Ok(json!({"n": r.parameters["n"].as_i64().unwrap_or(0) * 2})) },
            ),
        )
        .with(
            "arn:fail",
            handler_fn(|_| async { Err::<Value, _>(TaskError::new("Boom", "it broke")) }),
        );
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:double", "Arguments": {"n": "{% $states.input.a %}"},
              "Output": "{% $states.result.n %}", "Next": "F"},
        "F": {"Type": "Task", "Resource": "arn:fail",
              "Catch": [{"ErrorEquals": ["Boom"], "Next": "Done",
                         "Output": {"was": "{% $states.input %}", "error": "{% $states.errorOutput.Error %}"}}],
              "End": true},
        "Done": {"Type": "Succeed"}}});
    assert_eq!(
        run_with(def, tasks, json!({"a": 4})).await,
        Outcome::Succeeded(json!({"was": 8, "error": "Boom"}))
    );
}

#[tokio::test]
async fn aws_functions_are_there() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Output": {
            "chunks": "{% $partition([1,2,3], 2) %}",
            "range": "{% $range(0, 4, 2) %}",
            "parsed": "{% $parse('{\"k\": [true]}') %}",
            "hash": "{% $hash('abc', 'MD5') %}",
            "uuid": "{% $length($uuid()) %}"}, "End": true}}});
    assert_eq!(
        run(def, json!({})).await,
        Outcome::Succeeded(
            json!({"chunks": [[1, 2], [3]], "range": [0, 2, 4], "parsed": {"k": [true]},
            "hash": "900150983cd24fb0d6963f7d28e17f72", "uuid": 36})
        )
    );
}

#[test]
fn a_bad_expression_is_a_definition_error_at_its_field() {
    let err = StateMachine::from_value(&json!({"QueryLanguage": "JSONata", "StartAt": "A",
        "States": {"A": {"Type": "Pass", "Output": {"x": "{% 1 + %}"}, "End": true}}}))
    .unwrap_err();
    assert_eq!(err.location(), "/States/A/Output/x");
    assert!(
        err.to_string()
            .contains("the JSONata expression '1 +' is invalid"),
        "{err}"
    );
}

#[test]
fn a_jsonpath_state_in_a_jsonata_machine_is_refused() {
    let err = StateMachine::from_value(&json!({"QueryLanguage": "JSONata", "StartAt": "A",
        "States": {"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}}))
    .unwrap_err();
    assert_eq!(err.location(), "/States/A/QueryLanguage");
    assert!(err.to_string().contains("cannot use JSONPath"), "{err}");
}

#[tokio::test]
async fn task_timeout_seconds_as_an_expression() {
    let run_t = |t: Value| async move {
        let tasks = TaskRegistry::new().with(
            "arn:never",
            handler_fn(|_| std::future::pending::<Result<Value, TaskError>>()),
        );
        let def = json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:never", "TimeoutSeconds": "{% $states.input.t %}", "End": true}}});
        run_with(def, tasks, json!({"t": t})).await
    };
    assert_eq!(failed(run_t(json!(5)).await).0, "States.Timeout");
    let (error, cause) = failed(run_t(json!(0)).await);
    assert_eq!(error, "States.QueryEvaluationError");
    assert!(cause.contains("field 'TimeoutSeconds'"), "{cause}");
}

#[tokio::test]
async fn a_catchers_fields_are_named_under_its_index() {
    let tasks = TaskRegistry::new().with(
        "arn:fail",
        handler_fn(|_| async { Err::<Value, _>(TaskError::new("Boom", "it broke")) }),
    );
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:fail", "End": true, "Catch": [
            {"ErrorEquals": ["Other"], "Next": "D"},
            {"ErrorEquals": ["States.ALL"], "Next": "D", "Output": {"x": "{% $states.errorOutput.Nope %}"}}]},
        "D": {"Type": "Succeed"}}});
    let (error, cause) = failed(run_with(def, tasks, json!({})).await);
    assert_eq!(error, "States.QueryEvaluationError");
    assert!(
        cause.contains("specified for the field 'Catch[1]/Output/x' returned nothing (undefined)"),
        "{cause}"
    );
}
