//! The sandbox: a guest reaches no file, environment variable, socket or DNS lookup, and
//! only the clocks WASI grants by design (issue 11, "Security").
//!
//! Each test has the testbed guest try one capability against something real on this
//! machine (a file with a secret, a variable set here, a listener opened here) and asserts
//! both the guest's answer and, where it can, the host side: the secret is absent from the
//! response, the listener accepted nothing. The guest tries the network twice: through Rust's
//! `std` (which on `wasm32-wasip1` refuses sockets without asking the host) and through
//! `wasi:sockets` directly, so a denial there is the host's own.
//!
//! A test binary of its own, not a module of `tests/host/`: it sets an environment variable,
//! which is sound only while no other thread of the process reads the environment.

use powersweep_host::{Host, HostConfig, JobEvent, JobResponse};
use serde_json::{Value, json};
use std::io::ErrorKind;
use std::net::{TcpListener, UdpSocket};
use std::sync::{Once, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// A variable set in this process: a guest must never see it.
const SECRET_VAR: &str = "POWERSWEEP_SANDBOX_SECRET";
const SECRET_VALUE: &str = "sandbox-secret-6f1c2a9e";

/// Sets [`SECRET_VAR`] once; every test calls it first.
fn setup() {
    static SET: Once = Once::new();
    SET.call_once(|| {
        // SAFETY: every test calls `setup` first, and `Once` makes the others wait until this
        // returns, so no thread of this process reads the environment while it changes.
        unsafe { std::env::set_var(SECRET_VAR, SECRET_VALUE) };
    });
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Runtime::new().expect("tokio runtime"))
}

fn host() -> Host {
    let config = HostConfig::new(powersweep_test_support::guests_dir());
    Host::new(config, runtime().handle().clone()).expect("host")
}

/// Runs the testbed with `tasks` on one thread and returns each task's answer.
fn probe(tasks: Vec<Value>) -> Vec<Value> {
    let count = tasks.len();
    let event = JobEvent {
        workload: "testbed".into(),
        threads: 1,
        payload: json!({ "tasks": tasks }),
        timeout_ms: None,
    };
    let response: JobResponse = host().run(&event);
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert_eq!(response.results.len(), count, "{:?}", response.results);
    response.results
}

fn denied(answer: &Value) -> bool {
    answer["denied"].as_bool() == Some(true)
}

#[test]
fn a_host_file_cannot_be_read_even_by_absolute_path() {
    setup();
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = "the content of a host file no guest may read: 3b7d0f";
    let file = dir.path().join("secret.txt");
    std::fs::write(&file, secret).expect("writing the secret");
    // The file is really there for anyone the host lets in.
    assert_eq!(
        std::fs::read_to_string(&file).expect("reading it back"),
        secret
    );
    let paths = [
        file.to_string_lossy().into_owned(),
        "/etc/passwd".into(),
        "/etc/hostname".into(),
        "/proc/self/environ".into(),
        "/proc/self/cmdline".into(),
        "secret.txt".into(),
        "../../../../etc/passwd".into(),
    ];
    let answers = probe(
        paths
            .iter()
            .map(|p| json!({"mode": "readFile", "path": p}))
            .collect(),
    );
    for (path, answer) in paths.iter().zip(&answers) {
        assert!(denied(answer), "{path}: {answer}");
        assert!(answer.get("content").is_none(), "{path}: {answer}");
    }
    let text = serde_json::to_string(&answers).expect("json");
    assert!(!text.contains(secret), "the secret leaked: {text}");
    assert!(!text.contains("root:"), "/etc/passwd leaked: {text}");
    assert!(
        !text.contains(SECRET_VALUE),
        "the environment leaked: {text}"
    );
}

#[test]
fn no_directory_can_be_listed() {
    setup();
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = "sandbox-marker-file-9d2e41";
    std::fs::write(dir.path().join(marker), "x").expect("writing the marker");
    let paths = [
        "/".to_string(),
        ".".into(),
        "/tmp".into(),
        "/proc".into(),
        dir.path().to_string_lossy().into_owned(),
    ];
    let answers = probe(
        paths
            .iter()
            .map(|p| json!({"mode": "listDir", "path": p}))
            .collect(),
    );
    for (path, answer) in paths.iter().zip(&answers) {
        assert!(denied(answer), "{path}: {answer}");
        assert!(answer.get("entries").is_none(), "{path}: {answer}");
    }
    let text = serde_json::to_string(&answers).expect("json");
    assert!(!text.contains(marker), "a host directory leaked: {text}");
}

#[test]
fn the_guest_sees_no_environment_variable_and_no_argument() {
    setup();
    assert_eq!(
        std::env::var(SECRET_VAR).as_deref(),
        Ok(SECRET_VALUE),
        "the test process itself must have the variable"
    );
    let answers = probe(vec![
        json!({"mode": "env", "name": SECRET_VAR}),
        json!({"mode": "env", "name": "PATH"}),
        json!({"mode": "env", "name": "AWS_SECRET_ACCESS_KEY"}),
    ]);
    for answer in &answers {
        // The host grants no variable at all (`WasiCtx::builder()` without `env`/`inherit_env`).
        assert_eq!(answer["count"], 0, "{answer}");
        assert_eq!(answer["names"], json!([]), "{answer}");
        assert!(answer["value"].is_null(), "{answer}");
        // Nor arguments (no `args`/`inherit_args`).
        assert_eq!(answer["args"], json!([]), "{answer}");
        assert!(denied(answer), "{answer}");
    }
    let text = serde_json::to_string(&answers).expect("json");
    assert!(!text.contains(SECRET_VALUE), "the secret leaked: {text}");
}

#[test]
fn no_tcp_connection_reaches_a_listener_on_this_machine() {
    setup();
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = listener.local_addr().expect("address").port();
    let answers = probe(vec![
        json!({"mode": "connect", "host": "127.0.0.1", "port": port}),
    ]);
    let answer = &answers[0];
    assert!(denied(answer), "{answer}");
    assert!(denied(&answer["std"]), "{answer}");
    // The host's own answer, not only std's on wasip1: `wasi:sockets` refused it.
    assert!(denied(&answer["wasi"]), "{answer}");
    assert!(answer["wasi"]["error"].is_string(), "{answer}");
    // And nothing arrived: the guest's sockets are closed by now, but a connection made would
    // still wait in the backlog.
    listener.set_nonblocking(true).expect("non-blocking");
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Ok((_, peer)) => panic!("the guest reached the listener from {peer}: {answer}"),
        Err(e) => panic!("accept failed oddly: {e}"),
    }
}

#[test]
fn no_udp_datagram_reaches_a_socket_on_this_machine() {
    setup();
    let socket = UdpSocket::bind("127.0.0.1:0").expect("udp socket");
    let port = socket.local_addr().expect("address").port();
    let answers = probe(vec![
        json!({"mode": "udp", "host": "127.0.0.1", "port": port}),
    ]);
    let answer = &answers[0];
    assert!(denied(answer), "{answer}");
    assert!(denied(&answer["std"]), "{answer}");
    assert!(denied(&answer["wasi"]), "{answer}");
    socket.set_nonblocking(true).expect("non-blocking");
    let mut buffer = [0u8; 64];
    match socket.recv_from(&mut buffer) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        Ok((n, peer)) => panic!("the guest sent {n} bytes from {peer}: {answer}"),
        Err(e) => panic!("recv failed oddly: {e}"),
    }
}

#[test]
fn dns_lookups_are_denied_even_for_localhost() {
    setup();
    // No IP literal here: `std` turns one into an address in the guest, without any lookup.
    let names = ["localhost", "example.com"];
    let answers = probe(
        names
            .iter()
            .map(|n| json!({"mode": "resolve", "name": n}))
            .collect(),
    );
    for (name, answer) in names.iter().zip(&answers) {
        assert!(denied(answer), "{name}: {answer}");
        assert!(denied(&answer["std"]), "{name}: {answer}");
        // `wasi:sockets/ip-name-lookup` refused before resolving anything.
        assert!(denied(&answer["wasi"]), "{name}: {answer}");
        assert!(
            answer["wasi"].get("addresses").is_none(),
            "{name}: {answer}"
        );
    }
}

/// WASI grants the wall and monotonic clocks by design (`state.rs`: clocks and randomness
/// only), so this checks that they work and tell the truth, not that they are denied.
#[test]
fn the_clocks_are_granted_and_the_wall_clock_agrees_with_the_host() {
    setup();
    let now_ms = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as i64
    };
    let before = now_ms();
    let answers = probe(vec![json!({"mode": "clock"})]);
    let after = now_ms();
    let answer = &answers[0];
    assert!(answer["wallError"].is_null(), "{answer}");
    let wall = answer["wallUnixMs"].as_i64().expect("a wall clock reading");
    // A sanity bound, not a timing assertion: the same clock, read during the job.
    assert!(
        (before - 5_000..=after + 5_000).contains(&wall),
        "guest wall clock {wall} vs host {before}..{after}"
    );
    assert!(answer["monotonicSleep5msNs"].is_u64(), "{answer}");
}
