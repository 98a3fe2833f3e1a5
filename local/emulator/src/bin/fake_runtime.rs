//! `fake-runtime`: a misbehaving Lambda runtime for the emulator's tests only, built on the real
//! `lambda_runtime` client (the client whose contract the emulator must honour).
//!
//! The event chooses what an invocation does (`{"mode": …}`):
//! `echo` (answers the event, pid, invocation count, context and chosen variables),
//! `sleep` {ms}, `burn` {cpuMs} (burns that much CPU time, answers the wall time), `alloc` {mb},
//! `crash` (exits mid-invocation), `error` (a handler error), `malformed` (posts a body that is
//! not JSON, then lets the client post its own answer, which the emulator refuses), `print`
//! {text}. With `FAKE_RUNTIME_NEVER_NEXT=1` in the function's environment it never calls
//! `next`; with `FAKE_RUNTIME_INIT_ERROR=1` it posts `/init/error` and exits.
//!
//! It must not be shipped or used outside tests.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

static INVOCATIONS: AtomicU64 = AtomicU64::new(0);

fn cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The CPUs this process may run on (`sched_getaffinity`), which is what Lambda's visible
/// cores are; std's `available_parallelism` also divides by a cgroup quota.
fn affinity_cores() -> usize {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills the set we own.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return 0;
        }
        libc::CPU_COUNT(&set) as usize
    }
}

/// Burn `cpu` of this thread's CPU time; returns the wall time it took.
fn burn(cpu: Duration) -> Duration {
    let wall = Instant::now();
    let start = cpu_time();
    let mut x: u64 = 1;
    while cpu_time() - start < cpu {
        for i in 0..10_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        }
        std::hint::black_box(x);
    }
    wall.elapsed()
}

/// POST a raw body to the Runtime API with a bare TCP request (bypassing the client).
fn raw_post(path: &str, body: &[u8]) -> std::io::Result<String> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").map_err(std::io::Error::other)?;
    let mut s = std::net::TcpStream::connect(&api)?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {api}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    s.write_all(body)?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    Ok(answer)
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let n = INVOCATIONS.fetch_add(1, Ordering::SeqCst) + 1;
    let (ev, ctx) = (event.payload, event.context);
    let mode = ev.get("mode").and_then(Value::as_str).unwrap_or("echo");
    let num = |k: &str| ev.get(k).and_then(Value::as_u64).unwrap_or(0);
    match mode {
        "echo" => {
            let vars: serde_json::Map<String, Value> = std::env::vars()
                .filter(|(k, _)| {
                    k.starts_with("AWS_")
                        || k.starts_with("LAMBDA_")
                        || k.starts_with("POWERSWEEP_")
                        || k.starts_with("FAKE_")
                        || k == "_HANDLER"
                        || k == "TZ"
                })
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            let parallelism = std::thread::available_parallelism().map_or(0, |n| n.get());
            Ok(json!({
                "event": ev,
                "pid": std::process::id(),
                "invocation": n,
                "cores": affinity_cores(),
                "initCpuQuota": INIT_CPU_QUOTA.get(),
                "cpuQuota": cpu_quota(),
                "availableParallelism": parallelism,
                "requestId": ctx.request_id,
                "deadlineMs": ctx.deadline,
                "functionArn": ctx.invoked_function_arn,
                "traceId": ctx.xray_trace_id,
                "env": vars,
            }))
        }
        "sleep" => {
            tokio::time::sleep(Duration::from_millis(num("ms"))).await;
            Ok(json!({"slept": num("ms"), "pid": std::process::id()}))
        }
        "burn" => {
            let cpu = Duration::from_millis(num("cpuMs"));
            let wall = tokio::task::spawn_blocking(move || burn(cpu)).await?;
            Ok(json!({"cpuMs": num("cpuMs"), "wallMs": wall.as_secs_f64() * 1000.0}))
        }
        "alloc" => {
            let mb = num("mb") as usize;
            let mut v: Vec<u8> = Vec::with_capacity(mb << 20);
            // Touch every page so it is really resident.
            for chunk in 0..(mb << 8) {
                v.push(0);
                v.resize((chunk + 1) << 12, 1);
            }
            let sum: u64 = v.iter().step_by(4096).map(|&b| u64::from(b)).sum();
            Ok(json!({"mb": mb, "pages": sum}))
        }
        "print" => {
            println!("{}", ev.get("text").and_then(Value::as_str).unwrap_or(""));
            eprintln!("stderr line");
            Ok(json!({"printed": true}))
        }
        "crash" => {
            println!("about to crash");
            std::process::exit(3);
        }
        "error" => Err("handler failed on purpose".into()),
        "malformed" => {
            let path = format!("/2018-06-01/runtime/invocation/{}/response", ctx.request_id);
            let status = raw_post(&path, b"{\"truncated\": ")?;
            Ok(json!({"rawStatus": status.lines().next().unwrap_or("")}))
        }
        other => Err(format!("unknown mode {other}").into()),
    }
}

/// The CPU quota of this process's cgroup when it started (INIT), for the tests of INIT's share.
static INIT_CPU_QUOTA: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// This process's CPU quota: v1 `cpu.cfs_quota_us`, or v2 `cpu.max`; `None` outside a cgroup.
fn cpu_quota() -> Option<String> {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let (root, path, file) = cgroups.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        if controllers.split(',').any(|c| c == "cpu") {
            Some(("/sys/fs/cgroup/cpu", path, "cpu.cfs_quota_us"))
        } else if controllers.is_empty() {
            Some(("/sys/fs/cgroup", path, "cpu.max"))
        } else {
            None
        }
    })?;
    let text = std::fs::read_to_string(format!("{root}{path}/{file}")).ok()?;
    Some(text.trim().to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    INIT_CPU_QUOTA.get_or_init(cpu_quota);
    if std::env::var_os("FAKE_RUNTIME_NEVER_NEXT").is_some() {
        println!("init forever");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    if std::env::var_os("FAKE_RUNTIME_INIT_ERROR").is_some() {
        let body = br#"{"errorType":"Fake.InitFailed","errorMessage":"init failed on purpose"}"#;
        raw_post("/2018-06-01/runtime/init/error", body)?;
        std::process::exit(1);
    }
    lambda_runtime::run(service_fn(handle)).await
}
