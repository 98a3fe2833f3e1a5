//! Work metering (`HostConfig::meter`) and the timings calibration uses (`Host::time_tasks`).

use super::support::{config, event, host_with, run};
use powersweep_host::{HostConfig, Sampling};
use powersweep_model::CallKind;
use serde_json::json;
use std::time::Duration;

fn sampling(budget_ms: u64, min_samples: usize, sample_ms: f64) -> Sampling {
    Sampling {
        budget: Duration::from_millis(budget_ms),
        min_samples,
        sample_ms,
        run_limit: Duration::from_secs(60),
    }
}

fn metered() -> HostConfig {
    HostConfig {
        meter: true,
        allowed_tables: vec!["t".into()],
        dry_io: true,
        ..config()
    }
}

#[test]
fn metered_work_is_the_same_every_run_and_absent_unless_asked() {
    let host = host_with(metered());
    let payload = json!({"iterations": 2000, "passwords": ["a", "b", "c"]});
    let first = run(&host, "pbkdf2", 1, payload.clone());
    let second = run(&host, "pbkdf2", 1, payload.clone());
    let threaded = run(&host, "pbkdf2", 2, payload.clone()).work.unwrap();
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let (a, b) = (first.work.unwrap(), second.work.unwrap());
    assert_eq!(a.tasks.len(), 3);
    let fuel =
        |w: &powersweep_model::JobWork| -> Vec<u64> { w.tasks.iter().map(|t| t.fuel()).collect() };
    assert_eq!(
        fuel(&a),
        fuel(&b),
        "deterministic guests burn the same fuel"
    );
    // On another thread's fresh instance a task's count differs by a few hundred units in
    // tens of millions (the allocator's state): far below any timing noise.
    for (x, y) in fuel(&a).iter().zip(fuel(&threaded)) {
        assert!(
            (*x as f64 - y as f64).abs() / (*x as f64) < 1e-4,
            "{x} vs {y}"
        );
    }
    assert!(
        a.tasks.iter().all(|t| t.fuel() > 1_000_000),
        "{:?}",
        fuel(&a)
    );
    assert!(a.plan.fuel() > 0);
    // Unmetered hosts report no work.
    let plain = run(&super::support::host(), "pbkdf2", 1, payload);
    assert!(plain.work.is_none());
    assert!(
        !serde_json::to_string(&plain).unwrap().contains("\"work\""),
        "the AWS wire format is unchanged"
    );
}

#[test]
fn host_calls_are_recorded_with_their_kind_and_waits() {
    let host = host_with(metered());
    let payload = json!({"tasks": [
        {"mode": "sleep", "ms": 30},
        {"mode": "put", "table": "t"},
        {"mode": "log", "message": "hello"},
    ]});
    let response = run(&host, "testbed", 1, payload);
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let work = response.work.unwrap();
    let kinds = |i: usize| -> Vec<(CallKind, f64)> {
        work.tasks[i]
            .steps
            .iter()
            .flat_map(|s| s.calls.iter().map(|c| (c.kind, c.wall_ms)))
            .collect()
    };
    let sleep = kinds(0);
    assert!(
        sleep
            .iter()
            .any(|(k, ms)| *k == CallKind::Wasi && *ms >= 29.0),
        "the sleep is a blocking WASI call: {sleep:?}"
    );
    assert!(
        kinds(1).iter().any(|(k, _)| *k == CallKind::PutItem),
        "{:?}",
        kinds(1)
    );
    assert!(
        kinds(2).iter().any(|(k, _)| *k == CallKind::Log),
        "{:?}",
        kinds(2)
    );
}

#[test]
fn metering_refuses_the_in_process_throttle() {
    let config = HostConfig {
        cpu_vcpus: Some(0.5),
        ..metered()
    };
    let err = powersweep_host::Host::new(config, super::support::runtime().handle().clone())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("exclude each other"), "{err}");
}

#[test]
fn calibration_timings_repeat_short_tasks_up_to_the_sample_length() {
    let host = host_with(HostConfig {
        dry_io: true,
        ..config()
    });
    let job = event(
        "pbkdf2",
        1,
        json!({"iterations": 100, "passwords": ["a", "b"]}),
    );
    let runs = host.time_tasks(&job, sampling(200, 6, 2.0), None).unwrap();
    assert!(runs.len() >= 6, "{}", runs.len());
    assert!(
        runs.iter().all(|r| r.repeats > 1),
        "100 iterations take well under 2 ms"
    );
    assert!(runs.iter().any(|r| r.task == 1));
    assert!(runs.iter().all(|r| r.reference_ms.is_none()));
    // A reference kernel runs after every sample, as often as it takes to fill one, and its
    // time per run is kept: a 100 µs spin gives about 0.1 ms.
    let mut calls = 0u32;
    let mut spin = || {
        calls += 1;
        let until = powersweep_host::thread_cpu_time() + Duration::from_micros(100);
        while powersweep_host::thread_cpu_time() < until {}
    };
    let runs = host
        .time_tasks(&job, sampling(100, 6, 2.0), Some(&mut spin))
        .unwrap();
    let per_run: Vec<f64> = runs.iter().filter_map(|r| r.reference_ms).collect();
    assert_eq!(per_run.len(), runs.len());
    assert!(
        per_run.iter().all(|&ms| (0.09..0.2).contains(&ms)),
        "{per_run:?}"
    );
    assert!(
        calls as usize > runs.len() * 20,
        "{calls} runs for {} samples",
        runs.len()
    );
    let empty = event("testbed", 1, json!({"tasks": []}));
    let err = host
        .time_tasks(&empty, sampling(10, 5, 1.0), None)
        .unwrap_err();
    assert!(err.message.contains("no tasks"), "{err}");
}

#[test]
fn a_slow_workload_is_timed_in_as_few_runs_as_the_model_needs() {
    let host = host_with(HostConfig {
        dry_io: true,
        ..config()
    });
    // Two tasks of a few ms each, against a 1 ms budget: each run is a sample by itself.
    let burn = json!({"mode": "burn", "iterations": 5_000_000});
    let job = event("testbed", 1, json!({"tasks": [burn, burn]}));
    let runs = host.time_tasks(&job, sampling(1, 2, 0.01), None).unwrap();
    assert!(runs.len() >= 2, "{runs:?}");
    assert!(runs.iter().all(|r| r.repeats == 1), "{runs:?}");
    assert!(runs.iter().all(|r| r.guest_ms > 0.0), "{runs:?}");
    // Obeyed and violated: a task that finishes inside the run limit is timed; one that
    // spins past the sampling's longest is stopped by the host.
    let spin = event("testbed", 1, json!({"tasks": [{"mode": "spin"}]}));
    let err = host
        .time_tasks(
            &spin,
            Sampling {
                run_limit: Duration::from_millis(200),
                ..sampling(1, 2, 0.01)
            },
            None,
        )
        .unwrap_err();
    assert!(err.message.contains("deadline exceeded"), "{err}");
}
