//! The request and response shapes of the function calls, as the Lambda API names them.
//! Data only.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

/// What `create_function` needs.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// The function's name (`[A-Za-z0-9-_]{1,64}`).
    pub name: String,
    /// The executable to start as the runtime (Lambda's `bootstrap`).
    pub bootstrap: PathBuf,
    /// The directory the bootstrap runs in, `LAMBDA_TASK_ROOT`.
    pub task_root: PathBuf,
    /// Memory in MB, 128–10,240.
    pub memory_mb: u32,
    /// Timeout in seconds, 1–900.
    pub timeout_s: u32,
    /// The function's own environment variables.
    pub environment: BTreeMap<String, String>,
    /// One of [`super::ARCHITECTURES`]; `None` is Lambda's default, `x86_64`.
    pub architecture: Option<String>,
}

/// A configuration change (`UpdateFunctionConfiguration`); `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ConfigUpdate {
    /// New memory size in MB.
    pub memory_mb: Option<u32>,
    /// New timeout in seconds.
    pub timeout_s: Option<u32>,
    /// New environment (replaces the whole map, as in Lambda).
    pub environment: Option<BTreeMap<String, String>>,
    /// New description.
    pub description: Option<String>,
}

/// `GetFunctionConfiguration`'s answer, in AWS's PascalCase when serialized.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConfiguration {
    /// The function's name.
    pub function_name: String,
    /// The ARN, qualified with the version for published versions.
    pub function_arn: String,
    /// Always `provided.al2023` (a custom runtime).
    pub runtime: String,
    /// Always `bootstrap`.
    pub handler: String,
    /// Memory in MB.
    pub memory_size: u32,
    /// Timeout in seconds.
    pub timeout: u32,
    /// `$LATEST` or the version number.
    pub version: String,
    /// Always `Active` (environments start on demand).
    pub state: String,
    /// `InProgress` for a while after an update, then `Successful`.
    pub last_update_status: String,
    /// ISO 8601 time of the last change.
    pub last_modified: String,
    /// Changes with every configuration change.
    pub revision_id: String,
    /// `{"Variables": {…}}`.
    pub environment: EnvironmentResponse,
    /// Free text; part of the configuration, so a new one lets `PublishVersion` publish.
    pub description: String,
    /// Always `Zip`.
    pub package_type: String,
    /// The architecture the function was created with (one of [`super::ARCHITECTURES`]).
    pub architectures: Vec<String>,
}

/// The `Environment` member of a configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentResponse {
    /// The function's own variables.
    pub variables: BTreeMap<String, String>,
}
