//! The alias calls (`CreateAlias`, `UpdateAlias`, `GetAlias`, `DeleteAlias`): Lambda's
//! validation against the registry's functions and versions, then the alias table
//! (`crate::aliases`). Must not resolve aliases for invocation (that is `names.rs`).

use super::{LATEST, Registry};
use crate::aliases::AliasConfiguration;
use crate::error::LambdaApiError;

impl Registry {
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
