//! Where workloads are loaded from: precompiled code only from a deployment package, only
//! regular files, and one unusable component never stops the others.

use super::support::{host_with, run};
use powersweep_host::{HostConfig, LoadError};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

/// A guests folder holding the testbed component and, under its name, the precompiled code
/// of the pbkdf2 component: whoever loads the `.cwasm` runs pbkdf2 when asked for the testbed.
fn folder_with_a_planted_cwasm() -> tempfile::TempDir {
    let dist = powersweep_test_support::guests_dir();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(dist.join("testbed.wasm"), dir.path().join("testbed.wasm")).unwrap();
    let pbkdf2 = std::fs::read(dist.join("pbkdf2.wasm")).unwrap();
    let planted = powersweep_host::precompile(&pbkdf2, false).unwrap();
    std::fs::write(dir.path().join("testbed.cwasm"), planted).unwrap();
    dir
}

fn describe_testbed(dir: &Path, trust: bool) -> String {
    let config = HostConfig {
        trust_precompiled: trust,
        ..HostConfig::new(dir)
    };
    host_with(config).describe("testbed").unwrap()
}

#[test]
fn precompiled_code_in_a_users_folder_is_ignored() {
    let dir = folder_with_a_planted_cwasm();
    let described = describe_testbed(dir.path(), false);
    assert!(described.contains("misbehaves on request"), "{described}");
}

#[test]
fn precompiled_code_in_a_deployment_package_is_used() {
    // The violated side of the pair above: a trusted folder runs what its `.cwasm` holds.
    let dir = folder_with_a_planted_cwasm();
    let described = describe_testbed(dir.path(), true);
    assert!(!described.contains("misbehaves on request"), "{described}");
}

#[test]
fn a_cwasm_file_given_by_path_is_refused_outside_a_package() {
    let dir = folder_with_a_planted_cwasm();
    let host = host_with(HostConfig::new(dir.path()));
    let err = host
        .workload_from_file(&dir.path().join("testbed.cwasm"))
        .err()
        .expect("must refuse");
    assert!(
        matches!(err, LoadError::UntrustedPrecompiled { .. }),
        "{err}"
    );
}

#[test]
fn a_fifo_or_a_device_named_wasm_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.wasm");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.wasm")).unwrap();
    let host = host_with(HostConfig::new(dir.path()));
    let started = Instant::now();
    for name in ["fifo", "zero"] {
        let r = run(&host, name, 1, json!({}));
        assert!(
            r.errors[0].message.contains("is not a regular file"),
            "{name}: {}",
            r.errors[0].message
        );
    }
    // A read would block on the FIFO forever, and on /dev/zero until memory ran out.
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn one_unusable_component_does_not_stop_the_others() {
    let dist = powersweep_test_support::guests_dir();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(dist.join("testbed.wasm"), dir.path().join("testbed.wasm")).unwrap();
    std::fs::write(dir.path().join("broken.wasm"), b"\0asm\x0d\0\x01\0").unwrap();
    let host = host_with(HostConfig::new(dir.path()));

    let failed = host.preload_all();

    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "broken");
    let ok = run(&host, "testbed", 1, json!({"tasks": [{"mode": "echo"}]}));
    assert!(ok.errors.is_empty(), "{:?}", ok.errors);
    let bad = run(&host, "broken", 1, json!({}));
    assert!(
        bad.errors[0].message.contains("broken.wasm"),
        "{}",
        bad.errors[0].message
    );
}
