//! Run-away expressions stop at the memory limit (`U1004`) and the memory they reached is
//! measured. This binary installs the metered allocator, as the `powersweep` binary does; each
//! case runs alone in a child process of it, so that the process's high-water mark (VmHWM) is
//! the case's own and not that of tests running beside it.

use std::alloc::{GlobalAlloc, Layout};
use std::process::Command;
use std::time::Instant;

use powersweep_jsonata::meter::{self, MeteredAlloc};
use powersweep_jsonata::{Environment, Expression, MAX_EVALUATION_BYTES};
use serde_json::Value;

/// The metered allocator, refusing (the process then aborts) what would take this thread past
/// [`HARD_CAP`]: a regression fails the test instead of taking the machine down.
struct Capped;

const HARD_CAP: usize = 4 << 30;

fn refuses(more: usize) -> bool {
    let held = usize::try_from(meter::live_bytes()).unwrap_or(0);
    held.saturating_add(more) > HARD_CAP
}

// SAFETY: forwards to `MeteredAlloc` unchanged, or returns null, which `GlobalAlloc` allows.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if refuses(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's guarantees are passed on.
        unsafe { MeteredAlloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if refuses(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `alloc`.
        unsafe { MeteredAlloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `MeteredAlloc` with `layout`.
        unsafe { MeteredAlloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if refuses(new_size.saturating_sub(layout.size())) {
            return std::ptr::null_mut();
        }
        // SAFETY: as for `dealloc`.
        unsafe { MeteredAlloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Capped = Capped;

/// The most a case may reach: the limit, plus what the step that crosses it allocates at once
/// (a 10-million-item range is 240 MB).
const PEAK_BOUND: usize = MAX_EVALUATION_BYTES + MAX_EVALUATION_BYTES / 2;

/// VmHWM also counts the test binary itself and the harness.
const PROCESS_SLACK: usize = 64 << 20;

/// `$c` holds `$b` a thousand times, which holds `$a` a thousand times: 50 KB held, a
/// billion numbers once written out.
const SHARED: &str = "$a := [1..1000]; $b := $map([1..1000], function(){ $a }); $c := $map([1..1000], function(){ $b })";

/// (name, expression, expected outcome: an error code or the result's summary).
fn cases() -> Vec<(&'static str, String, &'static str)> {
    vec![
        // Reached 16.6 GB before the limit existed.
        (
            "map_of_ranges",
            "$map([1..1e7], function($v){ [1..1e7] })".into(),
            "U1004",
        ),
        // A 10^10-character string, one 10 KB string held a million times.
        (
            "join_of_one_string_held_many_times",
            "($s := $pad('', 10000, 'x'); $join($map([1..1000000], function(){ $s })))".into(),
            "U1004",
        ),
        (
            "string_doubled_each_call",
            "($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $f('x', 40))".into(),
            "U1004",
        ),
        ("pad_of_two_billion", "$pad('x', 2e9)".into(), "U1004"),
        (
            "string_of_a_shared_value",
            format!("({SHARED}; $string($c))"),
            "U1004",
        ),
        (
            "result_of_a_shared_value",
            format!("({SHARED}; $c)"),
            "U1004",
        ),
        // jsonata-js's own largest range still works.
        (
            "count_of_the_largest_range",
            "$count([1..1e7])".into(),
            "10000000",
        ),
        ("the_largest_range", "[1..1e7]".into(), "array of 10000000"),
    ]
}

const CASE_VAR: &str = "POWERSWEEP_JSONATA_MEMORY_CASE";

fn vm_hwm_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Starts the child's result line (libtest may have written on the line before it).
const RESULT: &str = "memory case result: ";

/// In the child: evaluates one case and prints [`RESULT`], the outcome, the peak it held and
/// the process's VmHWM (bytes).
fn run_case(name: &str) {
    let Some((_, text, _)) = cases().into_iter().find(|(n, ..)| *n == name) else {
        println!("\n{RESULT}unknown-case 0 0");
        return;
    };
    let env = Environment::default();
    meter::reset_peak();
    let start = meter::live_bytes();
    let result = Expression::parse(&text).and_then(|e| e.evaluate(None, &env));
    let peak = meter::peak_bytes() - start;
    let outcome = match &result {
        Ok(Some(Value::Array(items))) => format!("array of {}", items.len()),
        Ok(Some(v)) => v.to_string(),
        Ok(None) => "undefined".to_owned(),
        Err(e) => e.code.clone(),
    };
    if let Err(e) = &result {
        println!("\nmessage: {}", e.message);
    }
    drop(result);
    println!(
        "\n{RESULT}{} {peak} {}",
        outcome.replace(' ', "_"),
        vm_hwm_bytes()
    );
}

#[test]
fn runaway_evaluations_stop_at_the_memory_limit() {
    if let Ok(name) = std::env::var(CASE_VAR) {
        return run_case(&name);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let mut wrong = Vec::new();
    for (name, _, want) in cases() {
        let started = Instant::now();
        let out = Command::new(&exe)
            .args([
                "--exact",
                "runaway_evaluations_stop_at_the_memory_limit",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CASE_VAR, name)
            .output();
        let Ok(out) = out else {
            wrong.push(format!("{name}: the child did not start"));
            continue;
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.find(RESULT).map(|at| &l[at + RESULT.len()..]));
        let fields: Vec<&str> = line.map(|l| l.split(' ').collect()).unwrap_or_default();
        let [outcome, peak, hwm] = fields.as_slice() else {
            wrong.push(format!(
                "{name}: no result ({}), stderr: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        };
        let outcome = outcome.replace('_', " ");
        let (peak, hwm): (usize, usize) = (peak.parse().unwrap_or(0), hwm.parse().unwrap_or(0));
        #[allow(clippy::cast_precision_loss)]
        let mib = |b: usize| b as f64 / f64::from(1 << 20);
        println!(
            "{name}: {outcome}, peak held {:.1} MiB, VmHWM {:.1} MiB, {:.1?}",
            mib(peak),
            mib(hwm),
            started.elapsed()
        );
        if let Some(message) = stdout.lines().find_map(|l| l.strip_prefix("message: ")) {
            println!("  {message}");
        }
        if outcome != want {
            wrong.push(format!("{name}: {outcome}, expected {want}"));
        }
        if peak > PEAK_BOUND || peak == 0 {
            wrong.push(format!(
                "{name}: peak held {peak} bytes (bound {PEAK_BOUND})"
            ));
        }
        if hwm > PEAK_BOUND + PROCESS_SLACK || hwm == 0 {
            wrong.push(format!("{name}: VmHWM {hwm} bytes"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
