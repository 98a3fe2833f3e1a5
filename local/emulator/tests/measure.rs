//! Measurements for the closing note, not assertions: `cargo test -p powersweep-emulator
//! --release -- --ignored --nocapture measure`. Prints CPU-bound wall times per vCPU share and
//! CFS period (cgroup mode), and the fake runtime's cold start and a warm round trip.

use powersweep_emulator::{CpuModeChoice, Emulator, EmulatorConfig};
use serde_json::json;

use crate::util::{cgroups_or_skip, config, invoke, json, shutdown_clean, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints measurements; run by hand on an idle machine"]
async fn measure() {
    if !cgroups_or_skip("measure").await {
        return;
    }
    for period in [20_000u64, 100_000] {
        let emu = Emulator::start(EmulatorConfig {
            cfs_period_us: period,
            ..config(CpuModeChoice::Cgroup)
        })
        .await
        .unwrap();
        for mb in [442u32, 884, 1769] {
            let name = format!("m{mb}");
            emu.create_function(spec(&name, mb, 60)).unwrap();
            let warm = invoke(&emu, &name, json!({"mode": "echo"})).await;
            let _ = warm;
            let share = f64::from(mb) / 1769.0;
            for cpu_ms in [20u64, 50, 300] {
                let mut walls = Vec::new();
                for _ in 0..3 {
                    let out = invoke(&emu, &name, json!({"mode": "burn", "cpuMs": cpu_ms})).await;
                    walls.push(json(&out)["wallMs"].as_f64().unwrap());
                }
                walls.sort_by(f64::total_cmp);
                let ideal = cpu_ms as f64 / share;
                eprintln!(
                    "period {:>3} ms  {mb:>4} MB ({share:.2} vCPU)  {cpu_ms:>3} ms CPU: wall median {:>7.1} ms, ideal {ideal:>7.1} ms, ratio {:.2}",
                    period / 1000,
                    walls[1],
                    walls[1] / ideal
                );
            }
        }
        shutdown_clean(emu).await;
    }
    // Cold start and warm round trip of the fake runtime (in-process mode: no cgroup cost).
    for mode in [CpuModeChoice::InProcess, CpuModeChoice::Cgroup] {
        let emu = Emulator::start(config(mode)).await.unwrap();
        let mut inits = Vec::new();
        let mut warm = Vec::new();
        for i in 0..5 {
            let name = format!("c{i}");
            emu.create_function(spec(&name, 1769, 10)).unwrap();
            let cold = invoke(&emu, &name, json!({"mode": "echo"})).await;
            inits.push(cold.report.init_duration_ms.unwrap());
            for _ in 0..20 {
                let t = std::time::Instant::now();
                let out = invoke(&emu, &name, json!({"mode": "echo"})).await;
                let _ = out;
                warm.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        inits.sort_by(f64::total_cmp);
        warm.sort_by(f64::total_cmp);
        eprintln!(
            "{}: fake-runtime init (spawn → first next) median {:.2} ms (min {:.2}); warm invoke round trip median {:.3} ms (p90 {:.3})",
            emu.cpu_mode(),
            inits[inits.len() / 2],
            inits[0],
            warm[warm.len() / 2],
            warm[warm.len() * 9 / 10]
        );
        shutdown_clean(emu).await;
    }
}
