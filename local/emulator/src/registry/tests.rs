//! The registry's rules, each as a call sequence a user could make.

use super::*;
use crate::error::ErrorType;

fn registry() -> Registry {
    Registry::new(
        "us-east-1".into(),
        "123456789012".into(),
        Duration::from_secs(60),
    )
}

fn spec(memory_mb: u32) -> FunctionSpec {
    FunctionSpec {
        name: "f".into(),
        bootstrap: "/bin/true".into(),
        task_root: "/".into(),
        memory_mb,
        timeout_s: 3,
        environment: BTreeMap::new(),
        architecture: None,
    }
}

#[test]
fn a_function_reports_the_architecture_it_was_created_with() {
    let mut r = registry();
    assert_eq!(r.create(spec(128)).unwrap().architectures, ["x86_64"]);
    let arm = FunctionSpec {
        name: "g".into(),
        architecture: Some("arm64".into()),
        ..spec(128)
    };
    assert_eq!(r.create(arm).unwrap().architectures, ["arm64"]);
    let bad = FunctionSpec {
        name: "h".into(),
        architecture: Some("aarch64".into()),
        ..spec(128)
    };
    let e = r.create(bad).unwrap_err();
    assert_eq!(e.error_type, ErrorType::Validation);
    assert!(
        e.message.contains("Value '[aarch64]' at 'architectures'"),
        "{e}"
    );
}

#[test]
fn memory_outside_lambda_range_is_invalid() {
    let mut r = registry();
    for mb in [0, 127, 10_241] {
        let e = r.create(spec(mb)).unwrap_err();
        assert_eq!(e.error_type, ErrorType::InvalidParameterValue, "{mb}");
    }
    r.create(spec(128)).unwrap();
    let e = r
        .update(
            "f",
            ConfigUpdate {
                memory_mb: Some(20_000),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.error_type, ErrorType::InvalidParameterValue);
}

#[test]
fn names_and_arns_resolve() {
    let r = registry();
    let p = |n: &str, q: Option<&str>| r.parse_name(n, q).map_err(|e| e.error_type);
    assert_eq!(p("f", None), Ok(("f".into(), None)));
    assert_eq!(p("f:3", None), Ok(("f".into(), Some("3".into()))));
    assert_eq!(
        p(
            "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
            None
        ),
        Ok(("f".into(), Some("$LATEST".into())))
    );
    assert_eq!(
        p("123456789012:function:f", Some("2")),
        Ok(("f".into(), Some("2".into())))
    );
    assert_eq!(p("f:1", Some("2")), Err(ErrorType::InvalidParameterValue));
}

#[test]
fn update_in_progress_blocks_update_and_publish() {
    let mut r = registry();
    r.create(spec(128)).unwrap();
    let c = r
        .update(
            "f",
            ConfigUpdate {
                memory_mb: Some(256),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(c.last_update_status, "InProgress");
    let e = r.update("f", ConfigUpdate::default()).unwrap_err();
    assert_eq!(e.error_type, ErrorType::ResourceConflict);
    assert_eq!(
        r.publish("f", None).unwrap_err().error_type,
        ErrorType::ResourceConflict
    );
}

#[test]
fn an_alias_runs_its_version_and_protects_it_from_deletion() {
    let mut r = Registry::new("us-east-1".into(), "1".into(), Duration::ZERO);
    r.create(spec(128)).unwrap();
    r.publish("f", None).unwrap();
    let one = |description: &str| ConfigUpdate {
        description: Some(description.into()),
        ..Default::default()
    };
    r.update("f", one("second")).unwrap();
    let two = r.publish("f", Some("labelled")).unwrap();
    assert_eq!(two.version, "2", "a new description publishes");
    assert_eq!(two.description, "labelled");
    // A label of its own is not a change: nothing new to publish.
    assert_eq!(r.publish("f", Some("another label")).unwrap().version, "2");
    let a = r.create_alias("f", "live", "1", "").unwrap();
    assert_eq!(a.alias_arn, "arn:aws:lambda:us-east-1:1:function:f:live");
    assert_eq!(r.target("f", Some("live")).unwrap().version, "1");
    assert_eq!(
        r.create_alias("f", "live", "2", "").unwrap_err().error_type,
        ErrorType::ResourceConflict
    );
    r.update_alias("f", "live", Some("2"), None).unwrap();
    assert_eq!(r.configuration("f", Some("live")).unwrap().version, "2");
    assert_eq!(
        r.delete("f", Some("2")).unwrap_err().error_type,
        ErrorType::ResourceConflict
    );
    r.delete("f", Some("1")).unwrap();
    for bad in ["42", "no.dots", ""] {
        let e = r.create_alias("f", bad, "2", "").unwrap_err();
        assert_eq!(e.error_type, ErrorType::Validation, "{bad}");
        let e = r.create_alias("missing", bad, "2", "").unwrap_err();
        assert_eq!(
            e.error_type,
            ErrorType::Validation,
            "validated first: {bad}"
        );
    }
    let e = r.create_alias("f", "v", "two", "").unwrap_err();
    assert_eq!(e.error_type, ErrorType::Validation);
    assert_eq!(
        r.create_alias("f", "old", "9", "").unwrap_err().error_type,
        ErrorType::ResourceNotFound
    );
    assert_eq!(
        r.update_alias("f", "nope", Some("2"), None)
            .unwrap_err()
            .error_type,
        ErrorType::ResourceNotFound
    );
    assert_eq!(
        r.target("f", Some("nope")).unwrap_err().error_type,
        ErrorType::ResourceNotFound
    );
    r.delete_alias("f", "live").unwrap();
    r.delete("f", Some("2")).unwrap();
}

#[test]
fn publish_reuses_an_unchanged_version_and_delete_removes_it() {
    let mut r = Registry::new("us-east-1".into(), "1".into(), Duration::ZERO);
    r.create(spec(128)).unwrap();
    assert_eq!(r.publish("f", None).unwrap().version, "1");
    assert_eq!(r.publish("f", None).unwrap().version, "1");
    r.update(
        "f",
        ConfigUpdate {
            memory_mb: Some(512),
            ..Default::default()
        },
    )
    .unwrap();
    let v2 = r.publish("f", None).unwrap();
    assert_eq!((v2.version.as_str(), v2.memory_size), ("2", 512));
    assert_eq!(r.configuration("f", Some("1")).unwrap().memory_size, 128);
    r.delete("f", Some("1")).unwrap();
    assert_eq!(
        r.target("f", Some("1")).unwrap_err().error_type,
        ErrorType::ResourceNotFound
    );
    assert_eq!(
        r.delete("f", Some("$LATEST")).unwrap_err().error_type,
        ErrorType::InvalidParameterValue
    );
    r.delete("f", None).unwrap();
    assert_eq!(
        r.configuration("f", None).unwrap_err().error_type,
        ErrorType::ResourceNotFound
    );
}
