//! Functions and their versions: configuration, `LastUpdateStatus`, publishing and deletion,
//! with Lambda's validation and error types. Names, ARNs and qualifiers resolve in
//! `names.rs`, alias calls in `alias_calls.rs` (the alias table is `crate::aliases`), the
//! API's request and response shapes are `shapes.rs`, Lambda's limits `validate.rs`.
//!
//! Owns configuration state only. It must not start or stop environments; it tells the invoker
//! which configuration to run (and a `generation` that changes whenever a configuration that
//! environments were started from changes, so stale warm environments are dropped).

mod alias_calls;
mod names;
mod shapes;
#[cfg(test)]
mod tests;
mod validate;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::aliases::Aliases;
use crate::error::LambdaApiError;

pub use shapes::{ConfigUpdate, EnvironmentResponse, FunctionConfiguration, FunctionSpec};
pub use validate::{ARCHITECTURES, TIMEOUT_RANGE_S};
use validate::{check_architecture, check_memory, check_name, check_timeout};

/// The qualifier of the unpublished, mutable version.
pub const LATEST: &str = "$LATEST";

/// One immutable configuration (a published version, or a snapshot of `$LATEST`).
#[derive(Debug, Clone)]
pub(crate) struct VersionConfig {
    pub bootstrap: PathBuf,
    pub task_root: PathBuf,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub environment: BTreeMap<String, String>,
    /// `$LATEST`'s description, copied into a version when published: the configuration
    /// `PublishVersion` compares.
    pub description: String,
    /// A published version's own `Description` (`PublishVersion`'s parameter): shown as the
    /// version's description, never compared.
    pub version_description: Option<String>,
    /// Fixed at creation (Lambda changes it only with the code).
    pub architecture: String,
    pub last_modified: String,
    pub revision_id: String,
    /// Unique per configuration; environments of another generation are not reused.
    pub generation: u64,
}

impl VersionConfig {
    fn same_settings(&self, other: &VersionConfig) -> bool {
        self.bootstrap == other.bootstrap
            && self.task_root == other.task_root
            && self.memory_mb == other.memory_mb
            && self.timeout_s == other.timeout_s
            && self.environment == other.environment
            && self.description == other.description
    }
}

#[derive(Debug)]
struct Function {
    latest: VersionConfig,
    versions: BTreeMap<u64, VersionConfig>,
    next_version: u64,
    update_until: Option<Instant>,
}

/// The resolved target of a call: function, version key, and the configuration to run.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub name: String,
    /// `$LATEST` or the version number.
    pub version: String,
    pub config: VersionConfig,
}

/// Every function of one emulator.
#[derive(Debug)]
pub(crate) struct Registry {
    functions: BTreeMap<String, Function>,
    region: String,
    account: String,
    update_delay: Duration,
    next_generation: u64,
    aliases: Aliases,
}

fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

impl Registry {
    pub fn new(region: String, account: String, update_delay: Duration) -> Self {
        Registry {
            functions: BTreeMap::new(),
            region,
            account,
            update_delay,
            next_generation: 1,
            aliases: Aliases::default(),
        }
    }

    fn generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    pub fn create(&mut self, spec: FunctionSpec) -> Result<FunctionConfiguration, LambdaApiError> {
        check_name(&spec.name)?;
        check_memory(spec.memory_mb)?;
        check_timeout(spec.timeout_s)?;
        let architecture = check_architecture(spec.architecture)?;
        if self.functions.contains_key(&spec.name) {
            return Err(LambdaApiError::conflict(format!(
                "Function already exist: {}",
                spec.name
            )));
        }
        let latest = VersionConfig {
            bootstrap: spec.bootstrap,
            task_root: spec.task_root,
            memory_mb: spec.memory_mb,
            timeout_s: spec.timeout_s,
            environment: spec.environment,
            description: String::new(),
            version_description: None,
            architecture,
            last_modified: now_iso(),
            revision_id: uuid::Uuid::new_v4().to_string(),
            generation: self.generation(),
        };
        self.functions.insert(
            spec.name.clone(),
            Function {
                latest,
                versions: BTreeMap::new(),
                next_version: 1,
                update_until: None,
            },
        );
        self.configuration(&spec.name, None)
    }

    fn in_progress(f: &Function) -> bool {
        f.update_until.is_some_and(|t| Instant::now() < t)
    }

    fn conflict(&self, name: &str) -> LambdaApiError {
        LambdaApiError::conflict(format!(
            "The operation cannot be performed at this time. An update is in progress for resource: {}",
            self.arn(name, None)
        ))
    }

    pub fn update(
        &mut self,
        function_name: &str,
        update: ConfigUpdate,
    ) -> Result<FunctionConfiguration, LambdaApiError> {
        let (name, q) = self.parse_name(function_name, None)?;
        if q.is_some() {
            return Err(LambdaApiError::invalid(
                "UpdateFunctionConfiguration applies to $LATEST only; pass an unqualified name",
            ));
        }
        let ConfigUpdate {
            memory_mb,
            timeout_s,
            environment,
            description,
        } = update;
        if let Some(mb) = memory_mb {
            check_memory(mb)?;
        }
        if let Some(s) = timeout_s {
            check_timeout(s)?;
        }
        let Some(f) = self.functions.get(&name) else {
            return Err(self.not_found(&name, None));
        };
        if Self::in_progress(f) {
            return Err(self.conflict(&name));
        }
        let generation = self.generation();
        let delay = self.update_delay;
        let f = self
            .functions
            .get_mut(&name)
            .ok_or_else(|| LambdaApiError::service("function vanished during update"))?;
        if let Some(mb) = memory_mb {
            f.latest.memory_mb = mb;
        }
        if let Some(s) = timeout_s {
            f.latest.timeout_s = s;
        }
        if let Some(env) = environment {
            f.latest.environment = env;
        }
        if let Some(d) = description {
            f.latest.description = d;
        }
        f.latest.last_modified = now_iso();
        f.latest.revision_id = uuid::Uuid::new_v4().to_string();
        f.latest.generation = generation;
        f.update_until = (!delay.is_zero()).then(|| Instant::now() + delay);
        self.configuration(&name, None)
    }

    pub fn configuration(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<FunctionConfiguration, LambdaApiError> {
        let (name, q) = self.parse_name(function_name, qualifier)?;
        let t = self.target(&name, q.as_deref())?;
        let f = self
            .functions
            .get(&name)
            .ok_or_else(|| self.not_found(&name, q.as_deref()))?;
        let latest = t.version == LATEST;
        let status = if latest && Self::in_progress(f) {
            "InProgress"
        } else {
            "Successful"
        };
        let arn = if latest {
            self.arn(&name, None)
        } else {
            self.arn(&name, Some(&t.version))
        };
        Ok(FunctionConfiguration {
            function_name: name,
            function_arn: arn,
            runtime: "provided.al2023".into(),
            handler: "bootstrap".into(),
            memory_size: t.config.memory_mb,
            timeout: t.config.timeout_s,
            version: t.version,
            state: "Active".into(),
            last_update_status: status.into(),
            last_modified: t.config.last_modified.clone(),
            revision_id: t.config.revision_id.clone(),
            environment: EnvironmentResponse {
                variables: t.config.environment.clone(),
            },
            description: t
                .config
                .version_description
                .clone()
                .unwrap_or_else(|| t.config.description.clone()),
            package_type: "Zip".into(),
            architectures: vec![t.config.architecture.clone()],
        })
    }

    /// `PublishVersion`; `description` labels the new version (not `$LATEST`).
    pub fn publish(
        &mut self,
        function_name: &str,
        description: Option<&str>,
    ) -> Result<FunctionConfiguration, LambdaApiError> {
        let (name, q) = self.parse_name(function_name, None)?;
        if q.is_some() {
            return Err(LambdaApiError::invalid(
                "PublishVersion takes an unqualified function name",
            ));
        }
        let Some(f) = self.functions.get(&name) else {
            return Err(self.not_found(&name, None));
        };
        if Self::in_progress(f) {
            return Err(self.conflict(&name));
        }
        // Lambda does not publish a new version when nothing changed since the last one.
        if let Some((n, v)) = f.versions.iter().next_back()
            && v.same_settings(&f.latest)
        {
            let n = n.to_string();
            return self.configuration(&name, Some(&n));
        }
        let generation = self.generation();
        let f = self
            .functions
            .get_mut(&name)
            .ok_or_else(|| LambdaApiError::service("function vanished during publish"))?;
        let n = f.next_version;
        f.next_version += 1;
        let mut config = f.latest.clone();
        config.generation = generation;
        config.version_description = description.map(str::to_owned);
        config.last_modified = now_iso();
        f.versions.insert(n, config);
        self.configuration(&name, Some(&n.to_string()))
    }

    /// Delete a function (no qualifier) or one version. Returns the version keys removed.
    pub fn delete(
        &mut self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, Vec<String>), LambdaApiError> {
        let (name, q) = self.parse_name(function_name, qualifier)?;
        let Some(f) = self.functions.get_mut(&name) else {
            return Err(self.not_found(&name, q.as_deref()));
        };
        match q.as_deref() {
            None => {
                let mut removed: Vec<String> = f.versions.keys().map(u64::to_string).collect();
                removed.push(LATEST.to_string());
                self.functions.remove(&name);
                self.aliases.forget(&name);
                Ok((name, removed))
            }
            Some(LATEST) => Err(LambdaApiError::invalid(
                "$LATEST version cannot be deleted without deleting the function.",
            )),
            Some(v) => {
                let aliases = self.aliases.pointing_at(&name, v);
                if !aliases.is_empty() {
                    return Err(LambdaApiError::conflict(format!(
                        "Unable to delete version because the following aliases reference it: [{}]",
                        aliases.join(", ")
                    )));
                }
                let Some(f) = self.functions.get_mut(&name) else {
                    return Err(self.not_found(&name, Some(v)));
                };
                match v.parse::<u64>().ok().and_then(|n| f.versions.remove(&n)) {
                    Some(_) => Ok((name, vec![v.to_string()])),
                    None => Err(self.not_found(&name, Some(v))),
                }
            }
        }
    }
}
