//! The Lambda shapes Step Functions uses, so that a Lambda implementation (the local
//! emulator, or a closure in a test) plugs into Task states.
//!
//! Owns the translation between Task parameters/results and [`LambdaService`] calls for
//! `arn:aws:states:::lambda:invoke` (the optimised integration, with its
//! `{ExecutedVersion, Payload, StatusCode, SdkHttpMetadata, SdkResponseMetadata}` envelope,
//! and `LogResult` when `LogType: Tail` asked for the log),
//! `arn:aws:states:::aws-sdk:lambda:*` (the SDK integration: PascalCase parameters passed
//! through, service errors named `Lambda.<ExceptionName>`), and plain function ARNs
//! (`arn:aws:lambda:…:function:…`, the legacy form: the result is the payload itself).
//! It must not run functions itself.
//!
//! # Plugging in a Lambda implementation
//! Implement [`LambdaService`] (or wrap a closure with [`lambda_fn`]) and call
//! [`register_lambda`]:
//! ```
//! use std::sync::Arc;
//! use powersweep_asl::{lambda, TaskRegistry};
//! let svc = lambda::lambda_fn(|req: lambda::InvokeRequest| async move {
//!     Ok::<_, lambda::FunctionError>(serde_json::json!({"echo": req.payload}))
//! });
//! let mut tasks = TaskRegistry::new();
//! lambda::register_lambda(&mut tasks, Arc::new(svc));
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::Utc;
use serde_json::{Value, json};

use crate::task::{TaskError, TaskFuture, TaskHandler, TaskRegistry, TaskRequest};

/// The future a [`LambdaService`] returns.
pub type LambdaFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ServiceError>> + Send + 'a>>;

/// One synchronous invocation (`InvocationType: RequestResponse`).
#[derive(Debug, Clone, PartialEq)]
pub struct InvokeRequest {
    /// The function name as given (a name, a partial or full ARN), without a `:qualifier`.
    pub function_name: String,
    /// The version or alias: from `Qualifier`, or split off `FunctionName`.
    pub qualifier: Option<String>,
    /// The event.
    pub payload: Value,
    /// `LogType` as given (`None` or `Tail`; the service validates it); `None` when absent.
    pub log_type: Option<String>,
}

/// What an invocation returned.
#[derive(Debug, Clone, PartialEq)]
pub struct InvokeResponse {
    /// The response payload; for a function error, the `{errorType, errorMessage, …}` object.
    pub payload: Value,
    /// The version that ran, e.g. `$LATEST` or `3`.
    pub executed_version: String,
    /// `Some("Unhandled")` (or `"Handled"`) when the function returned an error.
    pub function_error: Option<String>,
    /// With `LogType: Tail`, base64 of the last 4 KB of the invocation's log (`LogResult`).
    pub log_result: Option<String>,
}

/// A Lambda service error (the API call itself failed, e.g. the function does not exist).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{exception}: {message}")]
pub struct ServiceError {
    /// The exception name without prefix, e.g. `ResourceNotFoundException`.
    pub exception: String,
    /// The message.
    pub message: String,
    /// The HTTP status code, e.g. 404.
    pub status_code: u16,
}

/// A function's own error, as a handler written in Rust would return it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_type}: {error_message}")]
pub struct FunctionError {
    /// `errorType`.
    pub error_type: String,
    /// `errorMessage`.
    pub error_message: String,
}

/// What the engine needs from a Lambda implementation. The local emulator implements it.
///
/// - [`LambdaService::invoke`] runs one function synchronously. A *function* error is a
///   successful call with `function_error` set and the error object as payload; only a
///   *service* failure is `Err`.
/// - [`LambdaService::call`] handles every other API action used through
///   `arn:aws:states:::aws-sdk:lambda:<action>` (`PublishVersion`,
///   `UpdateFunctionConfiguration`, `GetFunctionConfiguration`, `DeleteFunction` …), with
///   the PascalCase request and response of the Lambda API. The default refuses every action.
pub trait LambdaService: Send + Sync + 'static {
    /// Invokes a function.
    fn invoke(&self, request: InvokeRequest) -> LambdaFuture<'_, InvokeResponse>;

    /// Calls another Lambda API action; `action` is PascalCase (`PublishVersion`).
    fn call(&self, action: &str, params: Value) -> LambdaFuture<'_, Value> {
        let _ = params;
        let err = ServiceError {
            exception: "InvalidRequestContentException".into(),
            message: format!("the local Lambda service does not implement {action}"),
            status_code: 400,
        };
        Box::pin(async move { Err(err) })
    }
}

/// A [`LambdaService`] made from a closure; see [`lambda_fn`].
pub struct LambdaFn<F>(F);

/// Wraps a plain handler, `async |InvokeRequest| -> Result<payload, FunctionError>`, as a
/// [`LambdaService`] that reports `$LATEST` (or the qualifier) as the executed version.
pub fn lambda_fn<F, Fut>(f: F) -> LambdaFn<F>
where
    F: Fn(InvokeRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, FunctionError>> + Send + 'static,
{
    LambdaFn(f)
}

impl<F, Fut> LambdaService for LambdaFn<F>
where
    F: Fn(InvokeRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, FunctionError>> + Send + 'static,
{
    fn invoke(&self, request: InvokeRequest) -> LambdaFuture<'_, InvokeResponse> {
        let executed_version = request
            .qualifier
            .clone()
            .filter(|q| q.chars().all(|c| c.is_ascii_digit()))
            .unwrap_or_else(|| "$LATEST".into());
        let fut = (self.0)(request);
        Box::pin(async move {
            Ok(match fut.await {
                Ok(payload) => InvokeResponse {
                    payload,
                    executed_version,
                    function_error: None,
                    log_result: None,
                },
                Err(e) => InvokeResponse {
                    payload: json!({"errorType": e.error_type, "errorMessage": e.error_message}),
                    executed_version,
                    function_error: Some("Unhandled".into()),
                    log_result: None,
                },
            })
        })
    }
}

/// Registers the three Lambda resource shapes backed by `service`:
/// `arn:aws:states:::lambda:invoke`, `arn:aws:states:::aws-sdk:lambda:*` and
/// `arn:aws:lambda:*` (a function ARN used directly as the resource).
pub fn register_lambda(tasks: &mut TaskRegistry, service: Arc<dyn LambdaService>) {
    tasks.register(
        "arn:aws:states:::lambda:invoke",
        LambdaInvoke(service.clone()),
    );
    tasks.register(
        "arn:aws:states:::aws-sdk:lambda:*",
        LambdaSdk(service.clone()),
    );
    tasks.register("arn:aws:lambda:*", LambdaArn(service));
}

/// Splits `name:qualifier` (also inside a full ARN) into its parts.
fn split_qualifier(name: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = name.split(':').collect();
    // arn:aws:lambda:region:acct:function:name[:qualifier] / acct:function:name[:q] / name[:q]
    let (base_len, has_q) = match parts.as_slice() {
        ["arn", ..] => (7, parts.len() == 8),
        [_, "function", ..] => (3, parts.len() == 4),
        _ => (1, parts.len() == 2),
    };
    if has_q {
        (
            parts[..base_len].join(":"),
            parts.get(base_len).map(|q| (*q).to_owned()),
        )
    } else {
        (name.to_owned(), None)
    }
}

fn invoke_request(params: &Value) -> Result<InvokeRequest, TaskError> {
    let name = params
        .get("FunctionName")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            TaskError::new(
                "States.Runtime",
                "the parameters of a Lambda invoke need a string `FunctionName`",
            )
        })?;
    let (function_name, mut qualifier) = split_qualifier(name);
    if let Some(q) = params.get("Qualifier").and_then(Value::as_str) {
        qualifier = Some(q.to_owned());
    }
    // The SDK integration passes Payload as a JSON string; the optimised one as JSON.
    let payload = match params.get("Payload") {
        None => json!({}),
        Some(Value::String(s)) => {
            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
        }
        Some(v) => v.clone(),
    };
    let log_type = match params.get("LogType") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    Ok(InvokeRequest {
        function_name,
        qualifier,
        payload,
        log_type,
    })
}

fn service_error(e: ServiceError) -> TaskError {
    TaskError::new(
        format!("Lambda.{}", e.exception),
        format!(
            "{} (Service: Lambda, Status Code: {}, Request ID: {})",
            e.message,
            e.status_code,
            uuid::Uuid::new_v4()
        ),
    )
}

/// A function error surfaces with its `errorType` as the error and the JSON payload text as
/// the cause, as Step Functions reports it.
fn function_error(resp: &InvokeResponse) -> TaskError {
    let error = resp
        .payload
        .get("errorType")
        .and_then(Value::as_str)
        .unwrap_or("Lambda.Unknown")
        .to_owned();
    TaskError::new(error, resp.payload.to_string())
}

struct LambdaInvoke(Arc<dyn LambdaService>);

impl TaskHandler for LambdaInvoke {
    fn call(&self, request: TaskRequest) -> TaskFuture<'_> {
        Box::pin(async move {
            let req = invoke_request(&request.parameters)?;
            let resp = self.0.invoke(req).await.map_err(service_error)?;
            if resp.function_error.is_some() {
                return Err(function_error(&resp));
            }
            let request_id = uuid::Uuid::new_v4().to_string();
            let date = Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            let len = resp.payload.to_string().len().to_string();
            let headers = json!({
                "Connection": "keep-alive",
                "Content-Length": len,
                "Content-Type": "application/json",
                "Date": date,
                "X-Amz-Executed-Version": resp.executed_version,
                "x-amzn-Remapped-Content-Length": "0",
                "x-amzn-RequestId": request_id,
            });
            let all_headers: serde_json::Map<String, Value> = headers
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), json!([v]))).collect())
                .unwrap_or_default();
            let mut out = json!({
                "ExecutedVersion": resp.executed_version,
                "Payload": resp.payload,
                "SdkHttpMetadata": {"AllHttpHeaders": all_headers, "HttpHeaders": headers, "HttpStatusCode": 200},
                "SdkResponseMetadata": {"RequestId": request_id},
                "StatusCode": 200,
            });
            if let (Some(log), Some(m)) = (resp.log_result, out.as_object_mut()) {
                m.insert("LogResult".into(), Value::String(log));
            }
            Ok(out)
        })
    }
}

struct LambdaSdk(Arc<dyn LambdaService>);

impl TaskHandler for LambdaSdk {
    fn call(&self, request: TaskRequest) -> TaskFuture<'_> {
        Box::pin(async move {
            let action = request.resource.rsplit(':').next().unwrap_or_default();
            // aws-sdk resources name the action in camelCase; the API uses PascalCase.
            let mut chars = action.chars();
            let pascal: String = chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
                .collect();
            if pascal == "Invoke" {
                let req = invoke_request(&request.parameters)?;
                let resp = self.0.invoke(req).await.map_err(service_error)?;
                let mut out = json!({
                    "ExecutedVersion": resp.executed_version,
                    "Payload": resp.payload.to_string(),
                    "StatusCode": 200,
                });
                if let (Some(fe), Some(m)) = (resp.function_error, out.as_object_mut()) {
                    m.insert("FunctionError".into(), Value::String(fe));
                }
                if let (Some(log), Some(m)) = (resp.log_result, out.as_object_mut()) {
                    m.insert("LogResult".into(), Value::String(log));
                }
                return Ok(out);
            }
            self.0
                .call(&pascal, request.parameters)
                .await
                .map_err(service_error)
        })
    }
}

struct LambdaArn(Arc<dyn LambdaService>);

impl TaskHandler for LambdaArn {
    fn call(&self, request: TaskRequest) -> TaskFuture<'_> {
        Box::pin(async move {
            let (function_name, qualifier) = split_qualifier(&request.resource);
            let req = InvokeRequest {
                function_name,
                qualifier,
                payload: request.parameters,
                log_type: None,
            };
            let resp = self.0.invoke(req).await.map_err(service_error)?;
            if resp.function_error.is_some() {
                return Err(function_error(&resp));
            }
            Ok(resp.payload)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifiers_split() {
        assert_eq!(split_qualifier("f"), ("f".into(), None));
        assert_eq!(split_qualifier("f:3"), ("f".into(), Some("3".into())));
        assert_eq!(
            split_qualifier("arn:aws:lambda:us-east-1:1:function:f"),
            ("arn:aws:lambda:us-east-1:1:function:f".into(), None)
        );
        assert_eq!(
            split_qualifier("arn:aws:lambda:us-east-1:1:function:f:prod"),
            (
                "arn:aws:lambda:us-east-1:1:function:f".into(),
                Some("prod".into())
            )
        );
        assert_eq!(
            split_qualifier("1:function:f:7"),
            ("1:function:f".into(), Some("7".into()))
        );
    }

    fn req(resource: &str, parameters: Value) -> TaskRequest {
        TaskRequest {
            resource: resource.into(),
            parameters,
            state_name: "S".into(),
            execution_arn: String::new(),
            retry_count: 0,
            timeout: None,
        }
    }

    #[tokio::test]
    async fn invoke_envelope_and_function_error() {
        let svc: Arc<dyn LambdaService> = Arc::new(lambda_fn(|r: InvokeRequest| async move {
            if r.payload["fail"] == true {
                Err(FunctionError {
                    error_type: "Boom".into(),
                    error_message: "it broke".into(),
                })
            } else {
                Ok(json!({"got": r.payload, "q": r.qualifier}))
            }
        }));
        let h = LambdaInvoke(svc.clone());
        let ok = h
            .call(req(
                "arn:aws:states:::lambda:invoke",
                json!({"FunctionName": "f:5", "Payload": {"a": 1}}),
            ))
            .await
            .unwrap();
        assert_eq!(ok["Payload"], json!({"got": {"a": 1}, "q": "5"}));
        assert_eq!(ok["StatusCode"], 200);
        assert_eq!(ok["ExecutedVersion"], "5");
        assert!(ok["SdkHttpMetadata"]["HttpHeaders"]["x-amzn-RequestId"].is_string());
        let err = h
            .call(req(
                "arn:aws:states:::lambda:invoke",
                json!({"FunctionName": "f", "Payload": {"fail": true}}),
            ))
            .await
            .unwrap_err();
        assert_eq!(err.error, "Boom");
        assert_eq!(
            serde_json::from_str::<Value>(&err.cause).unwrap()["errorMessage"],
            "it broke"
        );
    }

    #[tokio::test]
    async fn sdk_errors_are_prefixed() {
        let svc: Arc<dyn LambdaService> =
            Arc::new(lambda_fn(|_r: InvokeRequest| async move { Ok(json!(1)) }));
        let h = LambdaSdk(svc);
        let err = h
            .call(req(
                "arn:aws:states:::aws-sdk:lambda:publishVersion",
                json!({"FunctionName": "f"}),
            ))
            .await
            .unwrap_err();
        assert_eq!(err.error, "Lambda.InvalidRequestContentException");
        let ok = h
            .call(req(
                "arn:aws:states:::aws-sdk:lambda:invoke",
                json!({"FunctionName": "f", "Payload": "{}"}),
            ))
            .await
            .unwrap();
        assert_eq!(ok["Payload"], "1");
    }
}
