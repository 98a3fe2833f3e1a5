//! The Lambda Runtime API (version 2018-06-01) as one axum router per environment.
//!
//! Owns the HTTP contract only: paths, header names, status codes and bodies, and the hand-off
//! of events and answers through an [`EnvChannel`]. It must not start, time or kill processes;
//! the invoker (`emulator.rs`) and `environment.rs` do that. Handlers are thin wrappers over
//! `process_*` functions.
//!
//! Routing choice: every environment gets its **own port** (its own listener serving these
//! routes with its own channel), and its bootstrap gets `AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>`.
//! A path prefix per environment would need one port only, but `AWS_LAMBDA_RUNTIME_API` is
//! `host:port` by contract and `lambda_runtime` 1.x rejects `host:port/prefix` (it must be a URI
//! authority), so a prefix would only work with a non-standard `http://` value.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{mpsc, oneshot, watch};

/// Header: the invocation's request id.
pub const HEADER_REQUEST_ID: &str = "lambda-runtime-aws-request-id";
/// Header: the deadline as milliseconds since the Unix epoch (`lambda_runtime` panics without it).
pub const HEADER_DEADLINE_MS: &str = "lambda-runtime-deadline-ms";
/// Header: the ARN the caller invoked (with its qualifier).
pub const HEADER_FUNCTION_ARN: &str = "lambda-runtime-invoked-function-arn";
/// Header: the X-Ray trace id.
pub const HEADER_TRACE_ID: &str = "lambda-runtime-trace-id";
/// Header (from the runtime): the error type of a `/error` post.
pub const HEADER_ERROR_TYPE: &str = "lambda-runtime-function-error-type";

/// Lambda's limit for a synchronous response, in bytes: 6 MiB and 100 bytes, as AWS's own
/// runtime interface emulator has it (`MaxPayloadSize`, `lambda/interop/model.go`) and as
/// Lambda's `Function.ResponseSizeTooLarge` message states.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;

/// Lambda's limit for a synchronous request (the invocation payload), in bytes: 6 MiB
/// ("Request must be smaller than 6291456 bytes for the InvokeFunction operation").
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;

/// One event waiting for (or handed to) the runtime.
#[derive(Debug)]
pub(crate) struct Event {
    pub request_id: String,
    pub payload: Vec<u8>,
    pub deadline_ms: u64,
    pub function_arn: String,
    pub trace_id: String,
    pub reply: oneshot::Sender<Outcome>,
}

/// What the runtime answered for one event.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// `POST /{id}/response`.
    Response(Vec<u8>),
    /// `POST /{id}/error`, or a response the emulator refuses (too large).
    Error {
        /// `errorType`, from the body or the header.
        error_type: String,
        /// The error payload returned to the caller, `{errorType, errorMessage}`.
        payload: Vec<u8>,
    },
}

/// Where an environment's runtime is in its life.
#[derive(Debug, Clone)]
pub(crate) enum Lifecycle {
    /// The process runs its init and has not asked for an event yet.
    Starting,
    /// The first `next` came at this instant.
    Ready(Instant),
    /// The runtime posted `/init/error` with this payload.
    InitError {
        error_type: String,
        payload: Vec<u8>,
    },
}

/// The state one environment's routes share with its invoker.
#[derive(Debug)]
pub(crate) struct EnvChannel {
    events: tokio::sync::Mutex<mpsc::Receiver<Event>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    lifecycle: watch::Sender<Lifecycle>,
}

impl EnvChannel {
    /// A channel and the sender the invoker uses to hand it events. Dropping the sender ends
    /// every waiting `next` with 410 Gone.
    pub fn new() -> (Arc<Self>, mpsc::Sender<Event>) {
        let (tx, rx) = mpsc::channel(1);
        let channel = EnvChannel {
            events: tokio::sync::Mutex::new(rx),
            pending: Mutex::new(HashMap::new()),
            lifecycle: watch::Sender::new(Lifecycle::Starting),
        };
        (Arc::new(channel), tx)
    }

    /// Watch the runtime's lifecycle (first `next`, init error).
    pub fn lifecycle(&self) -> watch::Receiver<Lifecycle> {
        self.lifecycle.subscribe()
    }

    /// Forget the pending answer of `request_id` (after a timeout or a crash), so that a late
    /// post gets 400 instead of completing a dead invocation.
    pub fn forget(&self, request_id: &str) {
        self.pending_map().remove(request_id);
    }

    fn pending_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Outcome>>> {
        // A poisoned map is still a valid map: the panicking holder only inserted or removed.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Every Runtime API path, for one environment's channel.
pub(crate) fn routes() -> Router<Arc<EnvChannel>> {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/response",
            post(response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{request_id}/error",
            post(error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        // Accept more than the limit so that an oversized response becomes a function error
        // (as in Lambda) rather than a bare 413 the invocation never hears about.
        .layer(DefaultBodyLimit::max(MAX_RESPONSE_BYTES * 2))
}

async fn next(State(ch): State<Arc<EnvChannel>>) -> Response {
    process_next(&ch).await
}

async fn response(
    State(ch): State<Arc<EnvChannel>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    process_response(&ch, &request_id, body)
}

async fn error(
    State(ch): State<Arc<EnvChannel>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    process_error(&ch, &request_id, &headers, body)
}

async fn init_error(
    State(ch): State<Arc<EnvChannel>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    process_init_error(&ch, &headers, body)
}

/// Long-poll: mark the runtime ready (first call), then wait for the next live event.
pub(crate) async fn process_next(ch: &EnvChannel) -> Response {
    ch.lifecycle.send_if_modified(|state| {
        if matches!(state, Lifecycle::Starting) {
            *state = Lifecycle::Ready(Instant::now());
            true
        } else {
            false
        }
    });
    let mut events = ch.events.lock().await;
    loop {
        let Some(event) = events.recv().await else {
            return api_error(
                StatusCode::GONE,
                "EnvironmentShutdown",
                "the environment is shutting down",
            );
        };
        if event.reply.is_closed() {
            // The invoker gave up (timeout) before the runtime asked; skip it.
            continue;
        }
        let Event {
            request_id,
            payload,
            deadline_ms,
            function_arn,
            trace_id,
            reply,
        } = event;
        ch.pending_map().insert(request_id.clone(), reply);
        let mut resp = Response::new(axum::body::Body::from(payload));
        let headers = resp.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in [
            (HEADER_REQUEST_ID, request_id),
            (HEADER_DEADLINE_MS, deadline_ms.to_string()),
            (HEADER_FUNCTION_ARN, function_arn),
            (HEADER_TRACE_ID, trace_id),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        }
        return resp;
    }
}

/// `POST /{id}/response`: complete the invocation with the body as its payload.
pub(crate) fn process_response(ch: &EnvChannel, request_id: &str, body: Bytes) -> Response {
    let Some(reply) = ch.pending_map().remove(request_id) else {
        return invalid_request_id();
    };
    if body.len() > MAX_RESPONSE_BYTES {
        let message = format!(
            "Response payload size ({} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
            body.len()
        );
        let _ = reply.send(Outcome::Error {
            error_type: "Function.ResponseSizeTooLarge".into(),
            payload: error_payload("Function.ResponseSizeTooLarge", &message),
        });
        return api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &message,
        );
    }
    // The receiver may be gone (timed out meanwhile); the runtime still gets its 202.
    let _ = reply.send(Outcome::Response(body.to_vec()));
    accepted()
}

/// `POST /{id}/error`: complete the invocation with a function error.
pub(crate) fn process_error(
    ch: &EnvChannel,
    request_id: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let Some(reply) = ch.pending_map().remove(request_id) else {
        return invalid_request_id();
    };
    let (error_type, payload) = decode_error(headers, &body);
    let _ = reply.send(Outcome::Error {
        error_type,
        payload,
    });
    accepted()
}

/// `POST /init/error`: the runtime failed its init; the invoker discards the environment.
pub(crate) fn process_init_error(ch: &EnvChannel, headers: &HeaderMap, body: Bytes) -> Response {
    let (error_type, payload) = decode_error(headers, &body);
    ch.lifecycle.send_replace(Lifecycle::InitError {
        error_type,
        payload,
    });
    accepted()
}

/// Decode an error body as `{errorType, errorMessage}` (`lambda_runtime`'s `Diagnostic`). A body
/// that is not such an object is kept as the message, typed from the header or `Runtime.Unknown`.
fn decode_error(headers: &HeaderMap, body: &[u8]) -> (String, Vec<u8>) {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Diagnostic {
        error_type: String,
        #[serde(default)]
        error_message: String,
    }
    if let Ok(d) = serde_json::from_slice::<Diagnostic>(body) {
        return (
            d.error_type.clone(),
            error_payload(&d.error_type, &d.error_message),
        );
    }
    let error_type = headers
        .get(HEADER_ERROR_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty() && *s != "unhandled")
        .unwrap_or("Runtime.Unknown")
        .to_string();
    let message = String::from_utf8_lossy(body).into_owned();
    let payload = error_payload(&error_type, &message);
    (error_type, payload)
}

/// The `{errorType, errorMessage}` payload Lambda returns for a function error.
pub(crate) fn error_payload(error_type: &str, message: &str) -> Vec<u8> {
    serde_json::json!({ "errorType": error_type, "errorMessage": message })
        .to_string()
        .into_bytes()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"OK"}"#,
    )
        .into_response()
}

fn invalid_request_id() -> Response {
    api_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        "Invalid request ID",
    )
}

fn api_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        error_payload(error_type, message),
    )
        .into_response()
}

/// A fresh X-Ray trace header value: `Root=1-<epoch hex>-<24 hex>;Parent=<16 hex>;Sampled=0`.
pub(crate) fn new_trace_id() -> String {
    let secs = chrono::Utc::now().timestamp();
    let root = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &root[..24],
        &parent[..16]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_decode_as_diagnostics_or_fall_back() {
        let h = HeaderMap::new();
        let (t, p) = decode_error(&h, br#"{"errorType":"E","errorMessage":"m"}"#);
        assert_eq!(t, "E");
        let v: serde_json::Value = serde_json::from_slice(&p).unwrap();
        assert_eq!(v["errorMessage"], "m");
        let (t, p) = decode_error(&h, b"not json");
        assert_eq!(t, "Runtime.Unknown");
        let v: serde_json::Value = serde_json::from_slice(&p).unwrap();
        assert_eq!(v["errorMessage"], "not json");
    }

    #[test]
    fn trace_ids_have_the_xray_shape() {
        let t = new_trace_id();
        assert!(t.starts_with("Root=1-"));
        assert!(t.contains(";Parent=") && t.ends_with(";Sampled=0"));
    }
}
