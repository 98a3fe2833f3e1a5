//! Load-time validation: each bad definition names the field at fault.

use crate::StateMachine;

macro_rules! rejects {
    ($name:ident, $def:expr, $loc:expr, $msg:expr) => {
        #[test]
        fn $name() {
            let err = StateMachine::parse($def).unwrap_err();
            assert_eq!(err.location(), $loc, "{err}");
            assert!(err.to_string().contains($msg), "{err}");
        }
    };
}

rejects!(not_json, "{", "", "not valid JSON");
rejects!(
    missing_start,
    r#"{"States":{"A":{"Type":"Succeed"}}}"#,
    "",
    "`StartAt`"
);
rejects!(
    unknown_start,
    r#"{"StartAt":"B","States":{"A":{"Type":"Succeed"}}}"#,
    "/StartAt",
    "unknown state `B`"
);
rejects!(
    unknown_next,
    r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Bar"}}}"#,
    "/States/A/Next",
    "unknown state `Bar`"
);
rejects!(
    no_transition,
    r#"{"StartAt":"A","States":{"A":{"Type":"Pass"}}}"#,
    "/States/A",
    "`Next` or `End"
);
rejects!(
    unreachable,
    r#"{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}"#,
    "/States/B",
    "cannot be reached"
);
rejects!(
    unknown_field,
    r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Foo":1}}}"#,
    "/States/A/Foo",
    "unknown field `Foo`"
);
rejects!(
    bad_path,
    r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"InputPath":"$.a["}}}"#,
    "/States/A/InputPath",
    "invalid JSONPath"
);
rejects!(
    bad_result_path,
    r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"ResultPath":"$.a[*]"}}}"#,
    "/States/A/ResultPath",
    "reference path"
);
rejects!(
    bad_intrinsic,
    r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Parameters":{"x.$":"States.Nope()"}}}}"#,
    "/States/A/Parameters/x.$",
    "unknown function"
);
rejects!(
    unknown_query_language,
    r#"{"QueryLanguage":"JMESPath","StartAt":"A","States":{"A":{"Type":"Succeed"}}}"#,
    "/QueryLanguage",
    "unknown QueryLanguage `JMESPath`"
);
rejects!(
    jsonata_field_in_a_jsonpath_state,
    r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Output":1}}}"#,
    "/States/A/Output",
    "`Output` is a JSONata field"
);
rejects!(
    jsonpath_field_in_a_jsonata_state,
    r#"{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","End":true,"InputPath":"$.a"}}}"#,
    "/States/A/InputPath",
    "unknown field `InputPath`"
);
rejects!(
    choice_two_ops,
    r#"{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.x","IsNull":true,"IsString":true,"Next":"A"}]}}}"#,
    "/States/A/Choices/0",
    "exactly one operator"
);
rejects!(
    nested_unknown,
    r#"{"StartAt":"M","States":{"M":{"Type":"Map","End":true,"ItemProcessor":{"StartAt":"X","States":{"X":{"Type":"Pass","Next":"Y"}}}}}}"#,
    "/States/M/ItemProcessor/States/X/Next",
    "unknown state `Y`"
);
rejects!(
    wait_two,
    r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Timestamp":"2020-01-01T00:00:00Z","End":true}}}"#,
    "/States/W",
    "exactly one"
);
rejects!(
    slash_in_name,
    r#"{"StartAt":"a/b","States":{"a/b":{"Type":"Pass","Next":"c"}}}"#,
    "/States/a~1b/Next",
    "unknown state `c`"
);

#[test]
fn loads_every_state_type() {
    let def = r#"{"StartAt":"P","States":{
        "P":{"Type":"Pass","Next":"T"},
        "T":{"Type":"Task","Resource":"arn:x","Next":"C","Retry":[{"ErrorEquals":["States.ALL"]}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"F"}]},
        "C":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.x","IsPresent":true},"Next":"W"}],"Default":"Par"},
        "W":{"Type":"Wait","Seconds":1,"Next":"Par"},
        "Par":{"Type":"Parallel","Branches":[{"StartAt":"S","States":{"S":{"Type":"Succeed"}}}],"Next":"M"},
        "M":{"Type":"Map","ItemProcessor":{"StartAt":"S2","States":{"S2":{"Type":"Succeed"}}},"Next":"Ok"},
        "Ok":{"Type":"Succeed"},
        "F":{"Type":"Fail","Error":"E"}}}"#;
    StateMachine::parse(def).unwrap();
}
