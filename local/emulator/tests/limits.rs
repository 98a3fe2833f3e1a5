//! Lambda's CPU and memory model, enforced: coarse properties only (never tight timings), in
//! cgroup mode where this machine allows cgroups; the in-process mode's hand-off to the host.

use powersweep_emulator::{CgroupVersion, CpuMode, CpuModeChoice};
use serde_json::json;

use crate::util::{cgroups_or_skip, emulator, invoke, json, shutdown_clean, spec};

/// Coarse and load-proof: a quota can only make a job slower, so 0.25 vCPU must take at least
/// twice its CPU time (ideal: 4×), and 1/8 vCPU at least twice as long as one vCPU (ideal: 8×,
/// leaving room for other load on the machine slowing the whole vCPU down).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fraction_of_a_vcpu_is_proportionally_slower() {
    if !cgroups_or_skip("a_fraction_of_a_vcpu_is_proportionally_slower").await {
        return;
    }
    let emu = emulator(CpuModeChoice::Cgroup).await;
    assert!(matches!(emu.cpu_mode(), CpuMode::Cgroup(_)));
    emu.create_function(spec("eighth", 221, 30)).unwrap();
    emu.create_function(spec("quarter", 442, 30)).unwrap();
    emu.create_function(spec("whole", 1769, 30)).unwrap();
    let burn = json!({"mode": "burn", "cpuMs": 300});
    // Warm all first so that init does not share the machine with the measurement.
    for f in ["eighth", "quarter", "whole"] {
        invoke(&emu, f, json!({"mode": "echo"})).await;
    }
    let mut wall = Vec::new();
    for f in ["eighth", "quarter", "whole"] {
        let out = invoke(&emu, f, burn.clone()).await;
        assert_eq!(out.function_error, None, "{}", out.log);
        wall.push(json(&out)["wallMs"].as_f64().unwrap());
    }
    let [eighth, quarter, whole] = wall[..] else {
        unreachable!()
    };
    eprintln!(
        "300 ms of CPU took: 1/8 vCPU {eighth:.0} ms, 1/4 vCPU {quarter:.0} ms, 1 vCPU {whole:.0} ms"
    );
    assert!(
        quarter >= 600.0,
        "0.25 vCPU ran 300 ms of CPU in {quarter} ms"
    );
    assert!(
        eighth >= 2.0 * whole,
        "1/8 vCPU {eighth} ms vs 1 vCPU {whole} ms"
    );
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceeding_memory_is_an_oom_function_error_and_next_is_cold() {
    if !cgroups_or_skip("exceeding_memory_is_an_oom_function_error_and_next_is_cold").await {
        return;
    }
    let emu = emulator(CpuModeChoice::Cgroup).await;
    emu.create_function(spec("oom", 128, 10)).unwrap();
    let ok = invoke(&emu, "oom", json!({"mode": "alloc", "mb": 16})).await;
    assert_eq!(ok.function_error, None, "{}", ok.log);
    assert!(ok.report.max_memory_used_mb >= 16, "{:?}", ok.report);
    let out = invoke(&emu, "oom", json!({"mode": "alloc", "mb": 400})).await;
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(
        json(&out)["errorType"],
        "Runtime.OutOfMemory",
        "{}",
        out.log
    );
    let next = invoke(&emu, "oom", json!({"mode": "echo"})).await;
    assert!(next.cold);
    assert_eq!(next.function_error, None);
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cgroup_mode_limits_the_environment_and_removes_its_cgroup() {
    if !cgroups_or_skip("cgroup_mode_limits_the_environment_and_removes_its_cgroup").await {
        return;
    }
    let emu = emulator(CpuModeChoice::Cgroup).await;
    emu.create_function(spec("cg", 884, 5)).unwrap();
    let out = invoke(&emu, "cg", json!({"mode": "echo"})).await;
    let v = json(&out);
    assert!(
        v["env"].get("POWERSWEEP_CPU_VCPUS").is_none(),
        "cgroup mode must not ask the host to throttle"
    );
    assert_eq!(v["cores"], 2.min(powersweep_emulator::host_cores()));
    assert_eq!(v["env"]["POWERSWEEP_VISIBLE_CORES"], "2");
    let pid = v["pid"].as_i64().unwrap();
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(cgroups.contains("powersweep-"), "{cgroups}");
    if emu.cpu_mode() == CpuMode::Cgroup(CgroupVersion::V1) {
        let cpu_line = cgroups
            .lines()
            .find(|l| l.split(':').nth(1) == Some("cpu"))
            .unwrap();
        let dir = format!("/sys/fs/cgroup/cpu{}", cpu_line.rsplit(':').next().unwrap());
        let quota: u64 = std::fs::read_to_string(format!("{dir}/cpu.cfs_quota_us"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let period: u64 = std::fs::read_to_string(format!("{dir}/cpu.cfs_period_us"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(period, 20_000);
        let want = (884.0 / 1769.0 * 20_000.0f64).round() as u64;
        assert_eq!(quota, want, "884 MB is (about) half a vCPU");
    }
    shutdown_clean(emu).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_mode_passes_the_share_and_creates_no_cgroup() {
    let emu = emulator(CpuModeChoice::InProcess).await;
    assert_eq!(emu.cpu_mode(), CpuMode::InProcess);
    assert_eq!(emu.cpu_mode().to_string(), "in-process");
    emu.create_function(spec("ip", 3538, 5)).unwrap();
    let out = invoke(&emu, "ip", json!({"mode": "echo"})).await;
    let v = json(&out);
    let vcpus: f64 = v["env"]["POWERSWEEP_CPU_VCPUS"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((vcpus - 2.0f64.min(powersweep_emulator::host_cores() as f64)).abs() < 1e-6);
    assert!(
        !std::fs::read_to_string(format!("/proc/{}/cgroup", v["pid"]))
            .unwrap()
            .contains("powersweep-")
    );
    assert!(!out.cpu.capped || powersweep_emulator::host_cores() < 2);
    shutdown_clean(emu).await;
}

/// A CPU quota the fake runtime read from its cgroup (`cpu.cfs_quota_us`, or `cpu.max`'s first
/// field), in µs per period.
fn quota(v: &serde_json::Value, key: &str) -> u64 {
    let text = v[key].as_str().unwrap_or_else(|| panic!("{key}: {v}"));
    text.split_whitespace().next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_runs_at_one_vcpu_and_invocations_at_the_share() {
    if !cgroups_or_skip("init_runs_at_one_vcpu_and_invocations_at_the_share").await {
        return;
    }
    let emu = emulator(CpuModeChoice::Cgroup).await;
    emu.create_function(spec("small", 221, 5)).unwrap();
    let out = invoke(&emu, "small", json!({"mode": "echo"})).await;
    let v = json(&out);
    // Period 20 ms: one vCPU is 20,000 µs; 221 MB is an eighth of one.
    assert_eq!(quota(&v, "initCpuQuota"), 20_000, "INIT at one vCPU: {v}");
    let want = (221.0 / 1769.0 * 20_000.0f64).round() as u64;
    assert_eq!(
        quota(&v, "cpuQuota"),
        want,
        "the invocation at 221/1769 vCPU: {v}"
    );
    // At or above one vCPU there is nothing to boost.
    emu.create_function(spec("big", 3538, 5)).unwrap();
    let v = json(&invoke(&emu, "big", json!({"mode": "echo"})).await);
    let two = (2.0f64.min(powersweep_emulator::host_cores() as f64) * 20_000.0) as u64;
    assert_eq!(quota(&v, "initCpuQuota"), two, "{v}");
    assert_eq!(quota(&v, "cpuQuota"), two, "{v}");
    shutdown_clean(emu).await;
}
