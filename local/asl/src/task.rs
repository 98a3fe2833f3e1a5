//! Task handlers: the [`TaskHandler`] trait an embedder implements per resource ARN, the
//! [`TaskRegistry`] that maps ARNs to handlers, and [`TaskError`].
//!
//! Owns resource lookup only. It must not know any AWS service; the Lambda shapes live in
//! [`crate::lambda`].

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

/// The future a handler returns.
pub type TaskFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send + 'a>>;

/// How a task failed, as the service reports it: an error name (matched by `ErrorEquals`)
/// and a cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct TaskError {
    /// The error name, e.g. `Lambda.ResourceNotFoundException` or a function's `errorType`.
    pub error: String,
    /// Detail text (for a Lambda function error: the JSON error payload).
    pub cause: String,
}

impl TaskError {
    /// Builds a task error.
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> TaskError {
        TaskError {
            error: error.into(),
            cause: cause.into(),
        }
    }
}

/// Everything a handler gets for one attempt of a Task state.
#[derive(Debug, Clone)]
pub struct TaskRequest {
    /// The state's `Resource`, e.g. `arn:aws:states:::lambda:invoke`.
    pub resource: String,
    /// The effective parameters: the input after `InputPath` and `Parameters`.
    pub parameters: Value,
    /// The Task state's name.
    pub state_name: String,
    /// The execution's ARN.
    pub execution_arn: String,
    /// 0 for the first attempt, then 1, 2 … for retries.
    pub retry_count: u32,
    /// The state's `TimeoutSeconds`, if any (the engine enforces it too).
    pub timeout: Option<Duration>,
}

/// Runs the work behind one resource ARN.
///
/// Implement it directly, or wrap an async closure with [`handler_fn`].
pub trait TaskHandler: Send + Sync + 'static {
    /// Runs one attempt. `Err` fails the Task state with the given error name and cause,
    /// where `Retry` and `Catch` can see it.
    fn call(&self, request: TaskRequest) -> TaskFuture<'_>;
}

/// A [`TaskHandler`] made from an async closure; see [`handler_fn`].
pub struct FnHandler<F>(F);

impl<F> fmt::Debug for FnHandler<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnHandler")
    }
}

/// Wraps `async |TaskRequest| -> Result<Value, TaskError>` as a [`TaskHandler`].
pub fn handler_fn<F, Fut>(f: F) -> FnHandler<F>
where
    F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
{
    FnHandler(f)
}

impl<F, Fut> TaskHandler for FnHandler<F>
where
    F: Fn(TaskRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
{
    fn call(&self, request: TaskRequest) -> TaskFuture<'_> {
        Box::pin((self.0)(request))
    }
}

/// Resource ARN → handler.
///
/// A pattern ending in `*` matches every resource that starts with the rest
/// (`arn:aws:states:::aws-sdk:lambda:*`); the longest matching pattern wins, and an exact
/// match beats any pattern.
#[derive(Clone, Default)]
pub struct TaskRegistry {
    exact: HashMap<String, Arc<dyn TaskHandler>>,
    prefixes: Vec<(String, Arc<dyn TaskHandler>)>,
}

impl fmt::Debug for TaskRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<String> = self.exact.keys().cloned().collect();
        names.extend(self.prefixes.iter().map(|(p, _)| format!("{p}*")));
        f.debug_struct("TaskRegistry")
            .field("resources", &names)
            .finish()
    }
}

impl TaskRegistry {
    /// An empty registry: every Task state fails with `States.Runtime`.
    pub fn new() -> TaskRegistry {
        TaskRegistry::default()
    }

    /// Registers `handler` for a resource ARN or a `…*` pattern.
    pub fn register(
        &mut self,
        resource: impl Into<String>,
        handler: impl TaskHandler,
    ) -> &mut Self {
        self.register_arc(resource, Arc::new(handler))
    }

    /// Like [`TaskRegistry::register`] for a shared handler.
    pub fn register_arc(
        &mut self,
        resource: impl Into<String>,
        handler: Arc<dyn TaskHandler>,
    ) -> &mut Self {
        let resource = resource.into();
        match resource.strip_suffix('*') {
            Some(prefix) => {
                self.prefixes.retain(|(p, _)| p != prefix);
                self.prefixes.push((prefix.to_owned(), handler));
                self.prefixes
                    .sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
            }
            None => {
                self.exact.insert(resource, handler);
            }
        }
        self
    }

    /// Builder form of [`TaskRegistry::register`].
    pub fn with(mut self, resource: impl Into<String>, handler: impl TaskHandler) -> Self {
        self.register(resource, handler);
        self
    }

    /// The handler for a resource, if any.
    pub fn resolve(&self, resource: &str) -> Option<Arc<dyn TaskHandler>> {
        self.exact
            .get(resource)
            .or_else(|| {
                self.prefixes
                    .iter()
                    .find(|(p, _)| resource.starts_with(p.as_str()))
                    .map(|(_, h)| h)
            })
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_beats_prefix_and_longest_prefix_wins() {
        let h = |tag: &'static str| handler_fn(move |_| async move { Ok(Value::from(tag)) });
        let reg = TaskRegistry::new()
            .with("arn:aws:states:::*", h("any"))
            .with("arn:aws:states:::aws-sdk:lambda:*", h("sdk"))
            .with("arn:aws:states:::aws-sdk:lambda:invoke", h("exact"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let call = |r: &str| {
            let req = TaskRequest {
                resource: r.into(),
                parameters: Value::Null,
                state_name: "S".into(),
                execution_arn: String::new(),
                retry_count: 0,
                timeout: None,
            };
            rt.block_on(reg.resolve(r).unwrap().call(req)).unwrap()
        };
        assert_eq!(call("arn:aws:states:::aws-sdk:lambda:invoke"), "exact");
        assert_eq!(call("arn:aws:states:::aws-sdk:lambda:getFunction"), "sdk");
        assert_eq!(call("arn:aws:states:::sqs:sendMessage"), "any");
        assert!(
            reg.resolve("arn:aws:lambda:us-east-1:1:function:f")
                .is_none()
        );
    }
}
