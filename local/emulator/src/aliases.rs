//! Aliases of functions (`CreateAlias`, `UpdateAlias`, `GetAlias`, `DeleteAlias`): a name
//! that points at one published version, with Lambda's validation and error messages.
//!
//! Owns the alias table only. It must not know versions' configurations: the registry checks
//! that a version exists before pointing an alias at it, and resolves an alias to a version
//! before it runs anything.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{ErrorType, LambdaApiError};

/// Lambda's pattern for alias names, as its validation message spells it.
const NAME_PATTERN: &str = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";

/// `CreateAlias`'s and `GetAlias`'s answer, PascalCase when serialized.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasConfiguration {
    /// `arn:aws:lambda:…:function:<name>:<alias>`.
    pub alias_arn: String,
    /// The alias.
    pub name: String,
    /// The version it points at.
    pub function_version: String,
    /// Free text.
    pub description: String,
    /// Changes with every update.
    pub revision_id: String,
}

#[derive(Debug, Clone)]
struct Alias {
    version: String,
    description: String,
    revision_id: String,
}

/// Every alias of one emulator, by (function, alias).
#[derive(Debug, Default)]
pub(crate) struct Aliases {
    table: BTreeMap<(String, String), Alias>,
}

/// Lambda's rule for alias names: 1–128 of `[a-zA-Z0-9-_]`, not all digits.
pub(crate) fn check_name(alias: &str) -> Result<(), LambdaApiError> {
    let ok = (1..=128).contains(&alias.len())
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !alias.chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(LambdaApiError::new(
            ErrorType::Validation,
            format!(
                "1 validation error detected: Value '{alias}' at 'name' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}"
            ),
        ))
    }
}

impl Aliases {
    /// The version `alias` of `function` points at, if it is an alias.
    pub fn resolve(&self, function: &str, alias: &str) -> Option<&str> {
        self.table
            .get(&(function.to_owned(), alias.to_owned()))
            .map(|a| a.version.as_str())
    }

    /// The aliases pointing at `version` of `function`.
    pub fn pointing_at(&self, function: &str, version: &str) -> Vec<String> {
        self.table
            .iter()
            .filter(|((f, _), a)| f == function && a.version == version)
            .map(|((_, name), _)| name.clone())
            .collect()
    }

    /// Creates an alias; `arn` is the alias's ARN for messages and the answer.
    pub fn create(
        &mut self,
        function: &str,
        alias: &str,
        version: &str,
        description: &str,
        arn: String,
    ) -> Result<AliasConfiguration, LambdaApiError> {
        check_name(alias)?;
        let key = (function.to_owned(), alias.to_owned());
        if self.table.contains_key(&key) {
            return Err(LambdaApiError::conflict(format!(
                "Alias already exists: {arn}"
            )));
        }
        let entry = Alias {
            version: version.to_owned(),
            description: description.to_owned(),
            revision_id: uuid::Uuid::new_v4().to_string(),
        };
        self.table.insert(key, entry.clone());
        Ok(answer(alias, &entry, arn))
    }

    /// Points an alias elsewhere (`version`) and/or changes its description.
    pub fn update(
        &mut self,
        function: &str,
        alias: &str,
        version: Option<&str>,
        description: Option<&str>,
        arn: String,
    ) -> Result<AliasConfiguration, LambdaApiError> {
        let entry = self
            .table
            .get_mut(&(function.to_owned(), alias.to_owned()))
            .ok_or_else(|| LambdaApiError::not_found(format!("Alias not found: {arn}")))?;
        if let Some(v) = version {
            entry.version = v.to_owned();
        }
        if let Some(d) = description {
            entry.description = d.to_owned();
        }
        entry.revision_id = uuid::Uuid::new_v4().to_string();
        Ok(answer(alias, entry, arn))
    }

    /// One alias.
    pub fn get(
        &self,
        function: &str,
        alias: &str,
        arn: String,
    ) -> Result<AliasConfiguration, LambdaApiError> {
        self.table
            .get(&(function.to_owned(), alias.to_owned()))
            .map(|a| answer(alias, a, arn.clone()))
            .ok_or_else(|| LambdaApiError::not_found(format!("Alias not found: {arn}")))
    }

    /// Removes an alias; Lambda answers a missing one with success.
    pub fn delete(&mut self, function: &str, alias: &str) {
        self.table.remove(&(function.to_owned(), alias.to_owned()));
    }

    /// Removes every alias of a deleted function.
    pub fn forget(&mut self, function: &str) {
        self.table.retain(|(f, _), _| f != function);
    }
}

fn answer(alias: &str, entry: &Alias, arn: String) -> AliasConfiguration {
    AliasConfiguration {
        alias_arn: arn,
        name: alias.to_owned(),
        function_version: entry.version.clone(),
        description: entry.description.clone(),
        revision_id: entry.revision_id.clone(),
    }
}
