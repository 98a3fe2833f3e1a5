//! Every `wasmtime::Config` choice, in one place, and the epoch ticker that drives deadlines
//! and the CPU throttle. Must not know about jobs or workloads.

use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of deadlines and of the CPU throttle.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Component instances the pool holds: a job's threads (at most 64) plus its planner, and
/// room for a second job's instances while the first is being torn down.
const POOL_COMPONENT_INSTANCES: u32 = 160;
/// Each component instance is several core instances (the guest, the WASI adapter, shims).
const POOL_CORE_INSTANCES: u32 = 2000;

/// Builds the process's one `Engine`.
pub fn build() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Epochs, not fuel: fuel costs ~10-30% on every loop, epochs a check per loop back-edge,
    // and wall-clock deadlines are what Lambda enforces anyway.
    config.epoch_interruption(true);
    config.cranelift_opt_level(OptLevel::Speed);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(POOL_COMPONENT_INSTANCES)
        .total_core_instances(POOL_CORE_INSTANCES)
        .total_memories(POOL_CORE_INSTANCES)
        .total_tables(POOL_CORE_INSTANCES);
    // The pool reserves address space up front so that instantiation is a few page-table
    // updates instead of mmap calls: the reason instantiation stays in microseconds.
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config)?;
    start_ticker(&engine);
    Ok(engine)
}

/// Compiles a component ahead of time for this wasmtime and this engine configuration (the
/// `.cwasm` files `cargo xtask package` ships), for the host's own architecture.
///
/// # Errors
/// When the bytes are not a valid component.
pub fn precompile(bytes: &[u8]) -> wasmtime::Result<Vec<u8>> {
    build()?.precompile_component(bytes)
}

/// Starts a background thread that advances the epoch every [`EPOCH_TICK`] for as long as
/// the engine lives (it holds only a weak reference, so dropping the engine ends it).
fn start_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("epoch-ticker".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map(drop)
        .unwrap_or_else(|e| tracing::error!("no epoch ticker, deadlines will not fire: {e}"));
}
