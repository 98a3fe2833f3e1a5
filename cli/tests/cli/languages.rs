//! Workloads in Rust, Python and JavaScript: `powersweep new` + `powersweep build` + `invoke`
//! from an empty folder in each language, the shipped PBKDF2 workloads of each language
//! against Python's `hashlib.pbkdf2_hmac`, and bad components named in one line.
//!
//! The toolchains (componentize-py from PyPI, node and npm for componentize-js, Debian's or
//! rustup's wasm Rust) are prerequisites: missing, a test skips loudly, or fails under CI.

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};

fn powersweep(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_powersweep"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run powersweep")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn on_path(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the toolchain of `lang` is here; says so loudly (or fails under CI) when not.
fn toolchain(test: &str, lang: &str) -> bool {
    let missing = match lang {
        "python" => (!on_path("componentize-py"))
            .then_some("componentize-py (pip install componentize-py==0.25.1)"),
        "js" => (!on_path("npm") || !on_path("node")).then_some("node and npm"),
        _ => None,
    };
    match missing {
        Some(what) => {
            powersweep_test_support::prerequisite_missing(
                test,
                &format!("{what} is not installed"),
            );
            false
        }
        None => true,
    }
}

/// Builds the project `dir` into `guests`, asserting success.
fn build(project: &Path, guests: &Path) {
    let out = powersweep(
        &[
            "build",
            &project.to_string_lossy(),
            "--guests",
            &guests.to_string_lossy(),
        ],
        project.parent().expect("a parent"),
    );
    assert!(
        out.status.success(),
        "build {}: {}{}",
        project.display(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn invoke(guests: &Path, workload: &str, payload: &Value, threads: &str) -> Value {
    let out = powersweep(
        &[
            "invoke",
            "--in-process",
            "--guests",
            &guests.to_string_lossy(),
            "--workload",
            workload,
            "--threads",
            threads,
            "--payload",
            &payload.to_string(),
        ],
        guests,
    );
    assert!(out.status.success(), "{workload}: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON response")
}

/// A temporary folder holding a fresh project `name` in `lang`.
fn new_project(name: &str, lang: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = powersweep(&["new", name, "--lang", lang], dir.path());
    assert!(out.status.success(), "{lang}: {}", text(&out.stderr));
    dir
}

/// The one `error: …` line of a failed command.
fn the_error_line(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    errors[0].to_owned()
}

#[test]
fn new_build_and_invoke_from_an_empty_folder_in_each_language() {
    for lang in ["rust", "python", "js"] {
        if !toolchain(
            "new_build_and_invoke_from_an_empty_folder_in_each_language",
            lang,
        ) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let name = format!("primes-{lang}");
        let out = powersweep(&["new", &name, "--lang", lang], dir.path());
        assert!(out.status.success(), "{lang}: {}", text(&out.stderr));
        let guests = dir.path().join("guests");
        build(&dir.path().join(&name), &guests);
        let response = invoke(&guests, &name, &json!({"tasks": 3, "below": 1000}), "2");
        assert_eq!(response["errors"], json!([]), "{lang}: {response}");
        assert_eq!(
            response["results"],
            json!([{"primes": 168}, {"primes": 168}, {"primes": 168}]),
            "{lang}"
        );
        // A second `new` of the same name is refused, not merged.
        let again = powersweep(&["new", &name, "--lang", lang], dir.path());
        assert_eq!(again.status.code(), Some(1));
        assert!(text(&again.stderr).contains("exists already"));
    }
}

#[test]
fn pbkdf2_in_each_language_gives_the_keys_of_pythons_hashlib() {
    let root = powersweep_test_support::root();
    let guests = tempfile::tempdir().unwrap();
    std::fs::copy(
        powersweep_test_support::guests_dir().join("pbkdf2.wasm"),
        guests.path().join("pbkdf2.wasm"),
    )
    .unwrap();
    let mut workloads = vec!["pbkdf2".to_owned()];
    for (lang, project) in [("python", "pbkdf2-py"), ("js", "pbkdf2-js")] {
        if toolchain(
            "pbkdf2_in_each_language_gives_the_keys_of_pythons_hashlib",
            lang,
        ) {
            build(&root.join("guests").join(project), guests.path());
            workloads.push(project.to_owned());
        }
    }
    let passwords = ["password", "pässwörd", &"long".repeat(40)];
    for hash in ["sha512", "sha256"] {
        let payload = json!({"passwords": passwords, "iterations": 1000, "hash": hash,
                             "keyLength": 80, "salt": "NaCl"});
        let script = format!(
            "import hashlib\nfor p in {passwords:?}:\n    print(hashlib.pbkdf2_hmac('{hash}', p.encode(), b'NaCl', 1000, 80).hex())"
        );
        let native = Command::new("python3")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(native.status.success(), "{}", text(&native.stderr));
        let expected: Vec<String> = text(&native.stdout).lines().map(str::to_owned).collect();
        for workload in &workloads {
            let response = invoke(guests.path(), workload, &payload, "2");
            let keys: Vec<&str> = response["results"]
                .as_array()
                .unwrap_or_else(|| panic!("{workload}: {response}"))
                .iter()
                .map(|r| r["key"].as_str().unwrap_or(""))
                .collect();
            assert_eq!(keys, expected, "{workload} with {hash}");
        }
    }
}

/// A Python project whose component the host cannot run: its WIT dropped `run` (a missing
/// export) or moved to another version of the contract (its imports are not the host's).
#[test]
fn a_component_the_host_cannot_run_is_named_in_one_line() {
    if !toolchain(
        "a_component_the_host_cannot_run_is_named_in_one_line",
        "python",
    ) {
        return;
    }
    let dir = new_project("broken-py", "python");
    let project = dir.path().join("broken-py");
    let wit_path = project.join("wit/workload.wit");
    let wit = std::fs::read_to_string(&wit_path).unwrap();
    for (edit, named) in [
        (
            wit.replace(
                "package powersweep:workload@0.2.0;",
                "package powersweep:workload@0.1.0;",
            ),
            "built against powersweep:workload@0.1.0",
        ),
        (
            wit.replace(
                "export run: func(task: string) -> result<string, string>;",
                "",
            ),
            "run",
        ),
    ] {
        assert_ne!(edit, wit, "the edit applies");
        std::fs::write(&wit_path, &edit).unwrap();
        let out = powersweep(&["build", "broken-py", "--guests", "guests"], dir.path());
        let error = the_error_line(&out);
        assert!(error.contains(named), "`{named}` not named: {error}");
        assert!(!dir.path().join("guests/broken-py.wasm").exists());
    }
}

/// A JavaScript project built against another version of the contract: componentize-js
/// imports every interface of the world, so the host sees the version and asks for a rebuild.
#[test]
fn a_javascript_project_on_another_wit_version_is_named_in_one_line() {
    if !toolchain(
        "a_javascript_project_on_another_wit_version_is_named_in_one_line",
        "js",
    ) {
        return;
    }
    let dir = new_project("version-js", "js");
    let wit_path = dir.path().join("version-js/wit/workload.wit");
    let wit = std::fs::read_to_string(&wit_path).unwrap();
    let edit = wit.replace(
        "package powersweep:workload@0.2.0;",
        "package powersweep:workload@0.1.0;",
    );
    assert_ne!(edit, wit, "the edit applies");
    std::fs::write(&wit_path, edit).unwrap();
    let out = powersweep(&["build", "version-js", "--guests", "guests"], dir.path());
    let error = the_error_line(&out);
    assert!(
        error.contains("built against powersweep:workload@0.1.0"),
        "{error}"
    );
}

/// A JavaScript project that does not export `run`: componentize-js refuses it, and the
/// error line carries its reason rather than the end of its stack trace.
#[test]
fn a_javascript_project_without_an_export_is_named_in_one_line() {
    if !toolchain(
        "a_javascript_project_without_an_export_is_named_in_one_line",
        "js",
    ) {
        return;
    }
    let dir = new_project("broken-js", "js");
    let app = dir.path().join("broken-js/app.js");
    let source = std::fs::read_to_string(&app).unwrap();
    std::fs::write(&app, source.replace("export function run", "function run")).unwrap();
    let out = powersweep(&["build", "broken-js", "--guests", "guests"], dir.path());
    let error = the_error_line(&out);
    assert!(
        error.contains(r#"does not export a "run" function"#),
        "{error}"
    );
}

/// A Rust project that leaves out `run`: wit-bindgen's trait makes it a compile error, and
/// the error line is rustc's, naming the missing item. (A Rust component imports only the
/// interfaces it uses, so another version of the WIT is not an error while nothing imports.)
#[test]
fn a_rust_project_without_an_export_is_named_in_one_line() {
    let dir = new_project("broken-rs", "rust");
    let lib = dir.path().join("broken-rs/src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let without_run = source.replace(
        "    fn run(task: String) -> Result<String, String> {\n        job::run(&task)\n    }\n",
        "",
    );
    assert_ne!(without_run, source, "the edit applies");
    std::fs::write(&lib, without_run).unwrap();
    let out = powersweep(&["build", "broken-rs", "--guests", "guests"], dir.path());
    let error = the_error_line(&out);
    assert!(error.contains("missing: `run`"), "{error}");
}

#[test]
fn a_folder_that_is_no_project_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("nothing-here");
    std::fs::create_dir(&empty).unwrap();
    let out = powersweep(&["build", "nothing-here"], dir.path());
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not a workload project"), "{stderr}");
    let bad = powersweep(&["new", "Bad_Name", "--lang", "rust"], dir.path());
    assert!(text(&bad.stderr).contains("is not a workload name"));
}
