//! Resolving what a call names: a function name, a partial or full ARN, a version or an
//! alias qualifier. Must not change the registry.

use super::validate::check_name;
use super::{LATEST, Registry, Target};
use crate::error::LambdaApiError;

impl Registry {
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

    pub(super) fn not_found(&self, name: &str, qualifier: Option<&str>) -> LambdaApiError {
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
}
