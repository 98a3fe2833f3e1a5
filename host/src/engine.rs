//! Every `wasmtime::Config` choice, in one place, and the epoch ticker that drives deadlines
//! and the CPU throttle. Must not know about jobs or workloads: callers say only when guests
//! run ([`Ticking::busy`]).

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
#[cfg(not(powersweep_precompiled_only))]
use wasmtime::OptLevel;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of deadlines and of the CPU throttle.
///
/// Why 5 ms: each tick is a timer wakeup costing ~10 µs on this VM. At 1 ms the ticker used
/// 10.6 ms of CPU per second of a job (measured from its thread's `schedstat`), 7% of a
/// 256 MB function's share, and inside a cgroup that comes out of the guests' CPU. At 5 ms
/// it is a fifth of that, and 5 ms is still finer than Lambda's 20 ms CPU period and than
/// any timeout anyone sets.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Component instances the pool holds: a job's threads (at most 64) plus its planner, and
/// room for a second job's instances while the first is being torn down.
const POOL_COMPONENT_INSTANCES: u32 = 160;
/// Each component instance is several core instances (the guest, the WASI adapter, shims).
const POOL_CORE_INSTANCES: u32 = 2000;

/// How often a parked ticker checks whether its engine is gone.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Builds the process's one `Engine` and starts its epoch ticker. With `meter`, guest code
/// consumes fuel (see `meter.rs`): slower, so only when work is to be metered.
pub fn build(meter: bool) -> wasmtime::Result<(Engine, Arc<Ticking>)> {
    let engine = Engine::new(&config(meter))?;
    let ticking = Arc::new(Ticking::default());
    start_ticker(&engine, ticking.clone());
    Ok((engine, ticking))
}

fn config(meter: bool) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.consume_fuel(meter);
    // Epochs, not fuel: fuel costs ~10-30% on every loop, epochs a check per loop back-edge,
    // and wall-clock deadlines are what Lambda enforces anyway.
    config.epoch_interruption(true);
    #[cfg(not(powersweep_precompiled_only))]
    config.cranelift_opt_level(OptLevel::Speed);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(POOL_COMPONENT_INSTANCES)
        .total_core_instances(POOL_CORE_INSTANCES)
        .total_memories(POOL_CORE_INSTANCES)
        .total_tables(POOL_CORE_INSTANCES);
    // The pool reserves address space up front so that instantiation is a few page-table
    // updates instead of mmap calls: the reason instantiation stays in microseconds.
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// Compiles a component ahead of time for this wasmtime and the engine [`build`] makes with
/// the same `meter` (the `.cwasm` files `cargo xtask package` ships, unmetered), for the
/// host's own architecture. A metered engine rejects unmetered code and the other way round.
///
/// # Errors
/// When the bytes are not a valid component.
#[cfg(not(powersweep_precompiled_only))]
pub fn precompile(bytes: &[u8], meter: bool) -> wasmtime::Result<Vec<u8>> {
    Engine::new(&config(meter))?.precompile_component(bytes)
}

/// Compiles a component ahead of time, unmetered, for the Lambda architecture `triple` names
/// (`x86_64-unknown-linux-gnu` or `aarch64-unknown-linux-gnu`) whichever machine this runs
/// on: the `.cwasm` a package for that architecture ships. Same configuration as [`build`],
/// so the host there accepts it, for the CPU features every Lambda host of that architecture
/// has (the baseline on arm64; [`LAMBDA_X86_64_FEATURES`] on x86_64), never the packaging
/// machine's own.
///
/// # Errors
/// When the triple is not one of Lambda's two architectures, or the bytes are not a component.
#[cfg(not(powersweep_precompiled_only))]
pub fn precompile_for_target(bytes: &[u8], triple: &str) -> wasmtime::Result<Vec<u8>> {
    let mut config = config(false);
    config.target(triple)?;
    if triple.starts_with("x86_64") {
        for flag in LAMBDA_X86_64_FEATURES {
            // SAFETY: wasmtime records these flags in the artifact and refuses to load it on
            // a CPU without them (the host then compiles the `.wasm`, see `Host::workload`),
            // so a wrong guess costs a cold start, never wrong code.
            unsafe {
                config.cranelift_flag_enable(flag);
            }
        }
    }
    Engine::new(&config)?.precompile_component(bytes)
}

/// The x86-64-v3 features (the AVX2 generation) that Lambda's x86_64 hosts have: AWS
/// announced AVX2 for Lambda in 2020. Code for the bare x86-64 baseline ran PBKDF2-SHA512
/// 1.116x slower here than code for this machine (median of 30 interleaved pairs), which
/// would tilt any arm64 against x86_64 comparison. AVX-512 is left out: not every Lambda x86
/// host has it.
#[cfg(not(powersweep_precompiled_only))]
const LAMBDA_X86_64_FEATURES: [&str; 11] = [
    "has_sse3",
    "has_ssse3",
    "has_sse41",
    "has_sse42",
    "has_popcnt",
    "has_avx",
    "has_avx2",
    "has_fma",
    "has_bmi1",
    "has_bmi2",
    "has_lzcnt",
];

/// Whether guests are running, so the ticker can sleep when none are.
///
/// Why: a warm environment waits between invocations (on Lambda it is frozen); ticking every
/// millisecond through that wait cost each idle local environment ~0.5% of a core, taken
/// from whichever environment the emulator was measuring.
#[derive(Debug, Default)]
pub struct Ticking {
    running: Mutex<usize>,
    wake: Condvar,
}

impl Ticking {
    /// Marks guests as running until the guard is dropped; the epoch advances meanwhile.
    pub fn busy(self: &Arc<Self>) -> Busy {
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.wake.notify_all();
        Busy(self.clone())
    }

    /// Returns at once while guests run; otherwise waits until some do, or [`IDLE_CHECK`].
    fn wait_for_guests(&self) {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self
            .wake
            .wait_timeout_while(running, IDLE_CHECK, |n| *n == 0);
    }
}

/// Guests run while this lives (see [`Ticking::busy`]).
#[derive(Debug)]
pub struct Busy(Arc<Ticking>);

impl Drop for Busy {
    fn drop(&mut self) {
        let mut running = self.0.running.lock().unwrap_or_else(|p| p.into_inner());
        *running = running.saturating_sub(1);
    }
}

/// Starts a background thread that advances the epoch every [`EPOCH_TICK`] while guests run,
/// for as long as the engine lives (it holds only a weak reference, so dropping the engine
/// ends it within [`IDLE_CHECK`]).
fn start_ticker(engine: &Engine, ticking: Arc<Ticking>) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
                ticking.wait_for_guests();
            }
        })
        .map(drop)
        .unwrap_or_else(|e| tracing::error!("no epoch ticker, deadlines will not fire: {e}"));
}
