//! A workload that misbehaves on request, for the host's tests.
//!
//! The payload is `{"tasks": [<task>, …], "planError": "…"?, "planTrap": true?}`; each task is
//! `{"mode": "...", …}` with modes `echo`, `error`, `trap`, `panic`, `spin`, `alloc` (`mb`, and
//! `holdMs` to keep it that long before returning),
//! `sleep` (`ms`), `burn` (`iterations`), `put` (`table`) and `log` (`message`), and the
//! sandbox probes of [`probes`], which answer what they obtained or `"denied": true`:
//! `readFile` (`path`), `listDir` (`path`), `env` (`name`), `connect` (`host`, `port`), `udp`
//! (`host`, `port`), `resolve` (`name`) and `clock`. Not shipped as a user workload:
//! `cargo xtask build-guests` puts it in `dist/` only for the tests.

mod probes;

use serde_json::Value;

wit_bindgen::generate!({ path: "../wit", world: "workload" });

use powersweep::workload::{dynamodb, logging};

struct Testbed;

impl Guest for Testbed {
    fn describe() -> String {
        "misbehaves on request (traps, spins, allocates, errs): for powersweep's own tests".into()
    }

    fn plan(payload: String) -> Result<Vec<String>, String> {
        let payload: Value = serde_json::from_str(&payload).map_err(|e| e.to_string())?;
        if let Some(message) = payload.get("planError").and_then(Value::as_str) {
            return Err(message.to_string());
        }
        if payload.get("planTrap").is_some() {
            std::process::abort();
        }
        let tasks = payload
            .get("tasks")
            .and_then(Value::as_array)
            .ok_or("no `tasks` array")?;
        Ok(tasks.iter().map(Value::to_string).collect())
    }

    fn run(task: String) -> Result<String, String> {
        let task: Value = serde_json::from_str(&task).map_err(|e| e.to_string())?;
        let number = |key: &str| task.get(key).and_then(Value::as_u64).unwrap_or(0);
        match task.get("mode").and_then(Value::as_str).unwrap_or("echo") {
            "echo" => Ok(task.to_string()),
            "error" => Err("the task failed on purpose".into()),
            "trap" => std::process::abort(),
            "panic" => panic!("the task panicked on purpose"),
            "spin" => spin(),
            "alloc" => {
                let mut held: Vec<Vec<u8>> = Vec::new();
                for _ in 0..number("mb") {
                    // Touch every page so the memory is really used, not just reserved.
                    held.push(vec![1u8; 1 << 20]);
                }
                std::thread::sleep(std::time::Duration::from_millis(number("holdMs")));
                Ok(format!("{{\"allocatedMb\":{}}}", held.len()))
            }
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_millis(number("ms")));
                Ok("{}".into())
            }
            "burn" => {
                let mut x = 0u64;
                for i in 0..number("iterations") {
                    x = core::hint::black_box(
                        x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i),
                    );
                }
                Ok(format!("{{\"x\":{x}}}"))
            }
            "put" => {
                let table = task.get("table").and_then(Value::as_str).unwrap_or("");
                let item = r#"{"pk":{"S":"testbed"},"rk":{"N":"0"}}"#;
                dynamodb::put_item(table, item).map_err(|e| format!("put-item failed: {e:?}"))?;
                Ok("{}".into())
            }
            "log" => {
                let message = task.get("message").and_then(Value::as_str).unwrap_or("");
                logging::log(logging::Level::Info, message);
                Ok("{}".into())
            }
            "readFile" => Ok(probes::read_file(&task).to_string()),
            "listDir" => Ok(probes::list_dir(&task).to_string()),
            "env" => Ok(probes::env(&task).to_string()),
            "connect" => Ok(probes::connect(&task).to_string()),
            "udp" => Ok(probes::udp(&task).to_string()),
            "resolve" => Ok(probes::resolve(&task).to_string()),
            "clock" => Ok(probes::clock().to_string()),
            other => Err(format!("unknown testbed mode `{other}`")),
        }
    }
}

fn spin() -> ! {
    let mut x = 0u64;
    loop {
        x = core::hint::black_box(x.wrapping_add(1));
    }
}

export!(Testbed);
