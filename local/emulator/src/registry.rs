//! Functions and their versions: configuration, `LastUpdateStatus`, publishing, deletion,
//! aliases (the table is `aliases.rs`), and name/ARN/qualifier resolution, with Lambda's
//! validation and error types.
//!
//! Owns configuration state only. It must not start or stop environments; it tells the invoker
//! which configuration to run (and a `generation` that changes whenever a configuration that
//! environments were started from changes, so stale warm environments are dropped).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::aliases::{AliasConfiguration, Aliases};
use crate::cpu_model::MEMORY_RANGE_MB;
use crate::error::LambdaApiError;

/// Lambda's timeout range, in seconds.
pub const TIMEOUT_RANGE_S: std::ops::RangeInclusive<u32> = 1..=900;

/// Lambda's instruction sets as its `Architectures` field names them; the first is Lambda's
/// default. A local function runs on this machine's CPU whatever it says; the name is what the
/// function reports, so that prices follow it as they do on AWS.
pub const ARCHITECTURES: [&str; 2] = ["x86_64", "arm64"];

/// The qualifier of the unpublished, mutable version.
pub const LATEST: &str = "$LATEST";

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
    /// One of [`ARCHITECTURES`]; `None` is Lambda's default, `x86_64`.
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
    /// The architecture the function was created with (one of [`ARCHITECTURES`]).
    pub architectures: Vec<String>,
}

/// The `Environment` member of a configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnvironmentResponse {
    /// The function's own variables.
    pub variables: BTreeMap<String, String>,
}

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

fn check_memory(mb: u32) -> Result<(), LambdaApiError> {
    if MEMORY_RANGE_MB.contains(&mb) {
        Ok(())
    } else {
        Err(LambdaApiError::invalid(format!(
            "'MemorySize' value {mb} failed to satisfy constraint: Member must have value between {} and {} MB",
            MEMORY_RANGE_MB.start(),
            MEMORY_RANGE_MB.end()
        )))
    }
}

fn check_timeout(s: u32) -> Result<(), LambdaApiError> {
    if TIMEOUT_RANGE_S.contains(&s) {
        Ok(())
    } else {
        Err(LambdaApiError::invalid(format!(
            "'Timeout' value {s} failed to satisfy constraint: Member must have value between {} and {} seconds",
            TIMEOUT_RANGE_S.start(),
            TIMEOUT_RANGE_S.end()
        )))
    }
}

/// The architecture a new function gets, with Lambda's validation message for another name.
fn check_architecture(architecture: Option<String>) -> Result<String, LambdaApiError> {
    match architecture {
        None => Ok(ARCHITECTURES[0].to_string()),
        Some(a) if ARCHITECTURES.contains(&a.as_str()) => Ok(a),
        Some(a) => Err(LambdaApiError::new(
            crate::error::ErrorType::Validation,
            format!(
                "1 validation error detected: Value '[{a}]' at 'architectures' failed to satisfy \
             constraint: Member must satisfy constraint: [Member must satisfy enum value set: \
             [{}]]",
                ARCHITECTURES.join(", ")
            ),
        )),
    }
}

fn check_name(name: &str) -> Result<(), LambdaApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(LambdaApiError::invalid(format!(
            "'FunctionName' {name:?} must match [a-zA-Z0-9-_]{{1,64}}"
        )))
    }
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

    /// `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
    pub fn arn(&self, name: &str, qualifier: Option<&str>) -> String {
        let base = format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.region, self.account
        );
        match qualifier {
            Some(q) => format!("{base}:{q}"),
            None => base,
        }
    }

    fn generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    fn not_found(&self, name: &str, qualifier: Option<&str>) -> LambdaApiError {
        LambdaApiError::not_found(format!("Function not found: {}", self.arn(name, qualifier)))
    }

    /// Split a name, partial ARN or full ARN, and reconcile its qualifier with `qualifier`.
    pub fn parse_name(
        &self,
        function_name: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, Option<String>), LambdaApiError> {
        let parts: Vec<&str> = function_name.split(':').collect();
        let (name, from_name) = match parts.as_slice() {
            [name] => (*name, None),
            [name, q] => (*name, Some(*q)),
            [_account, "function", name] => (*name, None),
            [_account, "function", name, q] => (*name, Some(*q)),
            ["arn", _, "lambda", _region, _account, "function", name] => (*name, None),
            ["arn", _, "lambda", _region, _account, "function", name, q] => (*name, Some(*q)),
            _ => {
                return Err(LambdaApiError::invalid(format!(
                    "invalid function name or ARN: {function_name}"
                )));
            }
        };
        check_name(name)?;
        let qualifier = qualifier.filter(|q| !q.is_empty());
        let q = match (from_name, qualifier) {
            (Some(a), Some(b)) if a != b => {
                return Err(LambdaApiError::invalid(
                    "The derived qualifier from the function name does not match the specified qualifier.",
                ));
            }
            (Some(a), _) => Some(a.to_string()),
            (None, b) => b.map(str::to_string),
        };
        Ok((name.to_string(), q))
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

    /// The configuration to run for `name` at `qualifier` (`None` = `$LATEST`; an alias runs
    /// the version it points at, and reports that version).
    pub fn target(&self, name: &str, qualifier: Option<&str>) -> Result<Target, LambdaApiError> {
        let f = self
            .functions
            .get(name)
            .ok_or_else(|| self.not_found(name, qualifier))?;
        let qualifier = match qualifier {
            Some(q) if q.parse::<u64>().is_err() && q != LATEST => Some(
                self.aliases
                    .resolve(name, q)
                    .ok_or_else(|| self.not_found(name, Some(q)))?,
            ),
            other => other,
        };
        match qualifier {
            None | Some(LATEST) => Ok(Target {
                name: name.to_string(),
                version: LATEST.to_string(),
                config: f.latest.clone(),
            }),
            Some(q) => {
                let config = q
                    .parse::<u64>()
                    .ok()
                    .and_then(|n| f.versions.get(&n))
                    .ok_or_else(|| self.not_found(name, Some(q)))?;
                Ok(Target {
                    name: name.to_string(),
                    version: q.to_string(),
                    config: config.clone(),
                })
            }
        }
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

    /// The function of an alias call (an unqualified name) and the alias's ARN.
    fn alias_target(
        &self,
        function_name: &str,
        alias: &str,
    ) -> Result<(String, String), LambdaApiError> {
        // Lambda validates the request before it looks anything up.
        crate::aliases::check_name(alias)?;
        let (name, q) = self.parse_name(function_name, None)?;
        if q.is_some() {
            return Err(LambdaApiError::invalid(
                "alias calls take an unqualified function name",
            ));
        }
        if !self.functions.contains_key(&name) {
            return Err(self.not_found(&name, None));
        }
        let arn = self.arn(&name, Some(alias));
        Ok((name, arn))
    }

    /// A version an alias may point at: `$LATEST` or a published one.
    fn check_version(&self, name: &str, version: &str) -> Result<(), LambdaApiError> {
        let numbered = !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit());
        if version != LATEST && !numbered {
            return Err(LambdaApiError::new(
                crate::error::ErrorType::Validation,
                format!(
                    "1 validation error detected: Value '{version}' at 'functionVersion' failed \
                     to satisfy constraint: Member must satisfy regular expression pattern: \
                     (\\$LATEST|[0-9]+)"
                ),
            ));
        }
        let known = version == LATEST
            || version.parse::<u64>().ok().is_some_and(|n| {
                self.functions
                    .get(name)
                    .is_some_and(|f| f.versions.contains_key(&n))
            });
        if known {
            Ok(())
        } else {
            Err(self.not_found(name, Some(version)))
        }
    }

    /// `CreateAlias`.
    pub fn create_alias(
        &mut self,
        function_name: &str,
        alias: &str,
        version: &str,
        description: &str,
    ) -> Result<AliasConfiguration, LambdaApiError> {
        let (name, arn) = self.alias_target(function_name, alias)?;
        self.check_version(&name, version)?;
        self.aliases.create(&name, alias, version, description, arn)
    }

    /// `UpdateAlias`.
    pub fn update_alias(
        &mut self,
        function_name: &str,
        alias: &str,
        version: Option<&str>,
        description: Option<&str>,
    ) -> Result<AliasConfiguration, LambdaApiError> {
        let (name, arn) = self.alias_target(function_name, alias)?;
        if let Some(v) = version {
            self.check_version(&name, v)?;
        }
        self.aliases.update(&name, alias, version, description, arn)
    }

    /// `GetAlias`.
    pub fn get_alias(
        &self,
        function_name: &str,
        alias: &str,
    ) -> Result<AliasConfiguration, LambdaApiError> {
        let (name, arn) = self.alias_target(function_name, alias)?;
        self.aliases.get(&name, alias, arn)
    }

    /// `DeleteAlias`.
    pub fn delete_alias(&mut self, function_name: &str, alias: &str) -> Result<(), LambdaApiError> {
        let (name, _) = self.alias_target(function_name, alias)?;
        self.aliases.delete(&name, alias);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorType;

    fn registry() -> Registry {
        Registry::new(
            "us-east-1".into(),
            "123456789012".into(),
            Duration::from_secs(60),
        )
    }

    fn spec(memory_mb: u32) -> FunctionSpec {
        FunctionSpec {
            name: "f".into(),
            bootstrap: "/bin/true".into(),
            task_root: "/".into(),
            memory_mb,
            timeout_s: 3,
            environment: BTreeMap::new(),
            architecture: None,
        }
    }

    #[test]
    fn a_function_reports_the_architecture_it_was_created_with() {
        let mut r = registry();
        assert_eq!(r.create(spec(128)).unwrap().architectures, ["x86_64"]);
        let arm = FunctionSpec {
            name: "g".into(),
            architecture: Some("arm64".into()),
            ..spec(128)
        };
        assert_eq!(r.create(arm).unwrap().architectures, ["arm64"]);
        let bad = FunctionSpec {
            name: "h".into(),
            architecture: Some("aarch64".into()),
            ..spec(128)
        };
        let e = r.create(bad).unwrap_err();
        assert_eq!(e.error_type, ErrorType::Validation);
        assert!(
            e.message.contains("Value '[aarch64]' at 'architectures'"),
            "{e}"
        );
    }

    #[test]
    fn memory_outside_lambda_range_is_invalid() {
        let mut r = registry();
        for mb in [0, 127, 10_241] {
            let e = r.create(spec(mb)).unwrap_err();
            assert_eq!(e.error_type, ErrorType::InvalidParameterValue, "{mb}");
        }
        r.create(spec(128)).unwrap();
        let e = r
            .update(
                "f",
                ConfigUpdate {
                    memory_mb: Some(20_000),
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert_eq!(e.error_type, ErrorType::InvalidParameterValue);
    }

    #[test]
    fn names_and_arns_resolve() {
        let r = registry();
        let p = |n: &str, q: Option<&str>| r.parse_name(n, q).map_err(|e| e.error_type);
        assert_eq!(p("f", None), Ok(("f".into(), None)));
        assert_eq!(p("f:3", None), Ok(("f".into(), Some("3".into()))));
        assert_eq!(
            p(
                "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
                None
            ),
            Ok(("f".into(), Some("$LATEST".into())))
        );
        assert_eq!(
            p("123456789012:function:f", Some("2")),
            Ok(("f".into(), Some("2".into())))
        );
        assert_eq!(p("f:1", Some("2")), Err(ErrorType::InvalidParameterValue));
    }

    #[test]
    fn update_in_progress_blocks_update_and_publish() {
        let mut r = registry();
        r.create(spec(128)).unwrap();
        let c = r
            .update(
                "f",
                ConfigUpdate {
                    memory_mb: Some(256),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(c.last_update_status, "InProgress");
        let e = r.update("f", ConfigUpdate::default()).unwrap_err();
        assert_eq!(e.error_type, ErrorType::ResourceConflict);
        assert_eq!(
            r.publish("f", None).unwrap_err().error_type,
            ErrorType::ResourceConflict
        );
    }

    #[test]
    fn an_alias_runs_its_version_and_protects_it_from_deletion() {
        let mut r = Registry::new("us-east-1".into(), "1".into(), Duration::ZERO);
        r.create(spec(128)).unwrap();
        r.publish("f", None).unwrap();
        let one = |description: &str| ConfigUpdate {
            description: Some(description.into()),
            ..Default::default()
        };
        r.update("f", one("second")).unwrap();
        let two = r.publish("f", Some("labelled")).unwrap();
        assert_eq!(two.version, "2", "a new description publishes");
        assert_eq!(two.description, "labelled");
        // A label of its own is not a change: nothing new to publish.
        assert_eq!(r.publish("f", Some("another label")).unwrap().version, "2");
        let a = r.create_alias("f", "live", "1", "").unwrap();
        assert_eq!(a.alias_arn, "arn:aws:lambda:us-east-1:1:function:f:live");
        assert_eq!(r.target("f", Some("live")).unwrap().version, "1");
        assert_eq!(
            r.create_alias("f", "live", "2", "").unwrap_err().error_type,
            ErrorType::ResourceConflict
        );
        r.update_alias("f", "live", Some("2"), None).unwrap();
        assert_eq!(r.configuration("f", Some("live")).unwrap().version, "2");
        assert_eq!(
            r.delete("f", Some("2")).unwrap_err().error_type,
            ErrorType::ResourceConflict
        );
        r.delete("f", Some("1")).unwrap();
        for bad in ["42", "no.dots", ""] {
            let e = r.create_alias("f", bad, "2", "").unwrap_err();
            assert_eq!(e.error_type, ErrorType::Validation, "{bad}");
            let e = r.create_alias("missing", bad, "2", "").unwrap_err();
            assert_eq!(
                e.error_type,
                ErrorType::Validation,
                "validated first: {bad}"
            );
        }
        let e = r.create_alias("f", "v", "two", "").unwrap_err();
        assert_eq!(e.error_type, ErrorType::Validation);
        assert_eq!(
            r.create_alias("f", "old", "9", "").unwrap_err().error_type,
            ErrorType::ResourceNotFound
        );
        assert_eq!(
            r.update_alias("f", "nope", Some("2"), None)
                .unwrap_err()
                .error_type,
            ErrorType::ResourceNotFound
        );
        assert_eq!(
            r.target("f", Some("nope")).unwrap_err().error_type,
            ErrorType::ResourceNotFound
        );
        r.delete_alias("f", "live").unwrap();
        r.delete("f", Some("2")).unwrap();
    }

    #[test]
    fn publish_reuses_an_unchanged_version_and_delete_removes_it() {
        let mut r = Registry::new("us-east-1".into(), "1".into(), Duration::ZERO);
        r.create(spec(128)).unwrap();
        assert_eq!(r.publish("f", None).unwrap().version, "1");
        assert_eq!(r.publish("f", None).unwrap().version, "1");
        r.update(
            "f",
            ConfigUpdate {
                memory_mb: Some(512),
                ..Default::default()
            },
        )
        .unwrap();
        let v2 = r.publish("f", None).unwrap();
        assert_eq!((v2.version.as_str(), v2.memory_size), ("2", 512));
        assert_eq!(r.configuration("f", Some("1")).unwrap().memory_size, 128);
        r.delete("f", Some("1")).unwrap();
        assert_eq!(
            r.target("f", Some("1")).unwrap_err().error_type,
            ErrorType::ResourceNotFound
        );
        assert_eq!(
            r.delete("f", Some("$LATEST")).unwrap_err().error_type,
            ErrorType::InvalidParameterValue
        );
        r.delete("f", None).unwrap();
        assert_eq!(
            r.configuration("f", None).unwrap_err().error_type,
            ErrorType::ResourceNotFound
        );
    }
}
