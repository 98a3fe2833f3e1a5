//! Errors of setting the host up and of loading a workload. Job failures are values
//! ([`crate::JobError`]), not these.

use std::path::PathBuf;

/// Why a workload could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// No component of that name in the guests folder.
    #[error("unknown workload `{name}`; available: {}", if available.is_empty() { "none".to_string() } else { available.join(", ") })]
    Unknown {
        /// The name asked for.
        name: String,
        /// The workloads that exist.
        available: Vec<String>,
    },
    /// The name could escape the guests folder or is otherwise unusable.
    #[error("invalid workload name `{0}`: use letters, digits, `-` and `_`")]
    BadName(String),
    /// The file is not WebAssembly at all.
    #[error("`{}` is not a WebAssembly file", path.display())]
    NotWasm {
        /// The file.
        path: PathBuf,
    },
    /// The file is WebAssembly but not a component implementing the world.
    #[error("`{}` does not implement the powersweep:workload/workload world: {reason}", path.display())]
    NotWorkload {
        /// The file.
        path: PathBuf,
        /// What wasmtime found wrong.
        reason: String,
    },
    /// A component built against another version of the WIT contract.
    #[error("`{}` was built against {package}@{found}, but this host runs {package}@{expected}: rebuild it with the WIT of this powersweep (`powersweep build`)", path.display(), package = crate::CONTRACT_PACKAGE, expected = crate::CONTRACT_VERSION)]
    ContractVersion {
        /// The file.
        path: PathBuf,
        /// The version of `powersweep:workload` the component imports (not
        /// [`crate::CONTRACT_VERSION`]).
        found: String,
    },
    /// Not a regular file, too large, or unreadable.
    #[error(transparent)]
    Read(#[from] powersweep_input::ReadError),
    /// Precompiled code outside a deployment package (see `HostConfig::trust_precompiled`).
    #[error("`{}` is precompiled native code, which is loaded only from a deployment package; give the component (.wasm)", path.display())]
    UntrustedPrecompiled {
        /// The file.
        path: PathBuf,
    },
    /// Setting up wasmtime failed (a host fault, not the workload's).
    #[error("setting up the wasm engine: {0}")]
    Engine(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The host's configuration asks for two things that exclude each other, or for a CPU
    /// share the throttle cannot give.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl LoadError {
    /// A wasmtime failure while building the engine or the linker.
    pub(crate) fn engine(e: wasmtime::Error) -> Self {
        LoadError::Engine(e.into())
    }
}

/// A host configuration that cannot be used: a variable of the Lambda environment that is set
/// but unusable, or settings that exclude each other.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A variable that must hold a whole number does not.
    #[error("{var} is not a whole number: `{value}`")]
    NotAnInteger {
        /// The variable.
        var: &'static str,
        /// What it holds.
        value: String,
        /// The parse error.
        #[source]
        source: std::num::ParseIntError,
    },
    /// A variable that must hold a number does not.
    #[error("{var} is not a number: `{value}`")]
    NotANumber {
        /// The variable.
        var: &'static str,
        /// What it holds.
        value: String,
        /// The parse error.
        #[source]
        source: std::num::ParseFloatError,
    },
    /// A thread count outside `1..=MAX_THREADS`.
    #[error("{var} must be a thread count from 1 to {most}, got `{value}`")]
    BadThreadCount {
        /// The variable.
        var: &'static str,
        /// What it holds.
        value: String,
        /// [`crate::MAX_THREADS`].
        most: usize,
    },
    /// A switch that must be `1`/`true` or `0`/`false`.
    #[error("{var} must be 1 or 0, got `{value}`")]
    NotASwitch {
        /// The variable.
        var: &'static str,
        /// What it holds.
        value: String,
    },
    /// An in-process CPU share that is not a positive number of vCPUs.
    #[error("CPU share must be a positive number of vCPUs, got {0}")]
    BadShare(f64),
    /// Metering with the in-process throttle: the throttle's pauses would be metered as waits.
    #[error(
        "metering and the in-process CPU throttle exclude each other: the throttle's pauses would be metered as waits"
    )]
    MeterWithThrottle,
}
