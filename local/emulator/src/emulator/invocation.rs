//! One invocation on one environment: the event handed to the Runtime API, the wait for the
//! response (or error, crash, OOM kill, timeout), the modeled duration in the `model` mode,
//! and the REPORT line. Must not choose environments (`pools.rs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::cpu_model::CpuShare;
use crate::environment::{Environment, ExitInfo};
use crate::registry::Target;
use crate::report::{self, Report};
use crate::reuse::{Replay, ReuseKey};
use crate::runtime_api::{self, Event, Lifecycle, Outcome};

use super::{Inner, InvokeOutput, epoch_ms};

/// An invocation that ran past its timeout: the `Sandbox.Timedout` ending and Lambda's
/// timestamped log line saying so.
fn timed_out(request_id: &str, message: &str) -> (Ending, String) {
    let line = format!(
        "{} {request_id} {message}",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ")
    );
    let ending = Ending::FunctionError {
        error_type: "Sandbox.Timedout".into(),
        payload: runtime_api::error_payload("Sandbox.Timedout", message),
    };
    (ending, line)
}

/// One invocation on one environment.
pub(super) struct Run<'a> {
    pub(super) inner: &'a Inner,
    pub(super) env: &'a Arc<Environment>,
    pub(super) target: &'a Target,
    pub(super) invoked_arn: String,
    pub(super) cold: bool,
    pub(super) cpu: CpuShare,
}

/// How an invocation ended, before formatting.
enum Ending {
    Response(Vec<u8>),
    FunctionError {
        error_type: String,
        payload: Vec<u8>,
    },
}

impl Run<'_> {
    /// Run the invocation; returns the output and whether the environment may be reused.
    pub(super) async fn execute(self, payload: Vec<u8>) -> (InvokeOutput, bool) {
        let request_id = uuid::Uuid::new_v4().to_string();
        let timeout = Duration::from_secs(u64::from(self.target.config.timeout_s));
        let mut keep = true;
        let mut init = None;
        let ready = if self.cold {
            match self.wait_ready(&request_id).await {
                Ok(d) => {
                    init = Some(d);
                    Ok(())
                }
                Err(failure) => {
                    keep = false;
                    init = Some(self.env.started.elapsed());
                    Err(failure)
                }
            }
        } else {
            Ok(())
        };
        let pre_log = self.env.take_log();
        let key = self.reuse_key(&payload);
        let replay = key
            .as_ref()
            .filter(|_| !self.cold)
            .and_then(|k| self.inner.reuse.lookup(k, self.target.config.memory_mb));
        let (ending, duration, mut error_lines) = match (ready, &replay) {
            (Ok(()), Some(replay)) => (
                Ending::Response(replay.body.clone()),
                Duration::ZERO,
                vec![format!(
                    "{request_id} answered from {}: the same job, already run twice with the same work and no host calls",
                    replay.request_id
                )],
            ),
            (Ok(()), None) => {
                self.dispatch(&request_id, payload, timeout, &mut keep)
                    .await
            }
            (Err((ending, lines)), _) => (ending, Duration::ZERO, lines),
        };
        if let (Some(key), None) = (key, &replay) {
            self.record(key, &request_id, &ending);
        }
        let measured = duration;
        let replay_of = replay.as_ref().map(|r| r.request_id.as_str());
        let (ending, duration) = self.modeled(
            &request_id,
            ending,
            duration,
            timeout,
            replay_of,
            &mut error_lines,
        );
        let max_memory = self.env.max_memory_bytes();
        self.env.settle_output().await;
        let during = self.env.take_log();

        let mut report = Report::new(
            &request_id,
            duration,
            init,
            self.target.config.memory_mb,
            max_memory,
        );
        if self.inner.config.duration_model.is_some() && replay.is_none() {
            report.measured_duration_ms = Some(report::round2(measured.as_secs_f64() * 1e3));
        }
        let mut log = String::new();
        log.push_str(&pre_log);
        log.push_str(&report::start_line(&request_id, &self.target.version));
        log.push('\n');
        log.push_str(&during);
        for line in &error_lines {
            log.push_str(line);
            log.push('\n');
        }
        log.push_str(&report::end_line(&request_id));
        log.push('\n');
        log.push_str(&report.line());
        log.push('\n');

        let (function_error, error_type, payload) = match ending {
            Ending::Response(body) => (None, None, body),
            Ending::FunctionError {
                error_type,
                payload,
            } => (Some("Unhandled".to_string()), Some(error_type), payload),
        };
        let out = InvokeOutput {
            status_code: 200,
            executed_version: self.target.version.clone(),
            function_error,
            error_type,
            log_result: None,
            payload,
            report,
            log,
            cold: self.cold,
            cpu: self.cpu,
        };
        (out, keep)
    }

    /// The key of this event for work reuse, when the emulator reuses work.
    fn reuse_key(&self, payload: &[u8]) -> Option<ReuseKey> {
        let c = &self.target.config;
        self.inner.config.reuse_work.then(|| {
            ReuseKey::new(
                &c.bootstrap,
                &c.task_root,
                &c.environment,
                &c.architecture,
                payload,
            )
        })
    }

    /// Remembers how a real run ended for work reuse (a function error: never reuse).
    fn record(&self, key: ReuseKey, request_id: &str, ending: &Ending) {
        let Ending::Response(body) = ending else {
            self.inner
                .reuse
                .record(key, None, self.target.config.memory_mb, Replay::default());
            return;
        };
        let signature = self
            .inner
            .config
            .duration_model
            .as_ref()
            .and_then(|m| m.signature(body));
        let replay = Replay {
            body: body.clone(),
            request_id: request_id.to_string(),
        };
        self.inner
            .reuse
            .record(key, signature, self.target.config.memory_mb, replay);
    }

    /// In the `model` mode, a response's duration as the duration model computes it, and a
    /// timeout when that passes the function's; otherwise (or when the response cannot be
    /// modeled, which is logged) the measured one.
    fn modeled(
        &self,
        request_id: &str,
        ending: Ending,
        measured: Duration,
        timeout: Duration,
        replay_of: Option<&str>,
        lines: &mut Vec<String>,
    ) -> (Ending, Duration) {
        let (Some(model), Ending::Response(body)) = (&self.inner.config.duration_model, &ending)
        else {
            return (ending, measured);
        };
        let function = crate::duration_model::ModeledFunction {
            memory_mb: self.target.config.memory_mb,
            cpu: &self.cpu,
            architecture: &self.target.config.architecture,
        };
        match model.model(&function, body, replay_of) {
            Ok(modeled) if modeled.duration > timeout || modeled.stopped_at_deadline => {
                let message = if modeled.stopped_at_deadline {
                    format!(
                        "{} (the job reached its deadline on this machine and was stopped: the rest of its work cannot be modeled)",
                        report::timeout_message(timeout)
                    )
                } else {
                    format!(
                        "{} (modeled: the job would take {:.2} s on Lambda)",
                        report::timeout_message(timeout),
                        modeled.duration.as_secs_f64()
                    )
                };
                let (ending, line) = timed_out(request_id, &message);
                lines.push(line);
                (ending, timeout)
            }
            Ok(modeled) => (Ending::Response(modeled.payload), modeled.duration),
            Err(reason) => {
                lines.push(format!(
                    "{request_id} the duration model could not use this response ({reason}); Duration is the measured one"
                ));
                (ending, measured)
            }
        }
    }

    /// Wait for the first `next`; on failure, the ending and the log lines to add.
    async fn wait_ready(&self, request_id: &str) -> Result<Duration, (Ending, Vec<String>)> {
        let mut lifecycle = self.env.lifecycle();
        let mut exit = self.env.exit();
        let limit = self.inner.config.init_timeout;
        let ready = async {
            lifecycle
                .wait_for(|s| !matches!(s, Lifecycle::Starting))
                .await
                .map(|s| s.clone())
        };
        tokio::select! {
            biased;
            state = ready => match state {
                Ok(Lifecycle::Ready(at)) => {
                    self.env.end_init();
                    Ok(at.saturating_duration_since(self.env.started))
                }
                Ok(Lifecycle::InitError { error_type, payload }) => {
                    self.env.kill();
                    Err((Ending::FunctionError { error_type, payload }, vec![]))
                }
                Ok(Lifecycle::Starting) | Err(_) => Err(self.crashed(request_id, None)),
            },
            info = exit.wait_for(|e| e.is_some()) => {
                let info = info.ok().and_then(|i| *i);
                Err(self.crashed(request_id, info))
            }
            () = tokio::time::sleep(limit) => {
                self.env.kill();
                let message = format!(
                    "Init timed out after {:.2} seconds: the runtime never called next",
                    limit.as_secs_f64()
                );
                let line = format!(
                    "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: timeout",
                    limit.as_secs_f64() * 1000.0
                );
                Err((
                    Ending::FunctionError {
                        error_type: "Sandbox.Timedout".into(),
                        payload: runtime_api::error_payload("Sandbox.Timedout", &message),
                    },
                    vec![line],
                ))
            }
        }
    }

    /// The process died: an OOM kill or an exit.
    fn crashed(&self, request_id: &str, info: Option<ExitInfo>) -> (Ending, Vec<String>) {
        let how = info.map_or_else(|| "runtime lost".to_string(), |i| i.describe());
        let error_type = if self.env.oom_kills() > 0 {
            "Runtime.OutOfMemory"
        } else {
            "Runtime.ExitError"
        };
        let message = format!("RequestId: {request_id} Error: Runtime exited with error: {how}");
        let lines = vec![message.clone(), error_type.to_string()];
        (
            Ending::FunctionError {
                error_type: error_type.into(),
                payload: runtime_api::error_payload(error_type, &message),
            },
            lines,
        )
    }

    /// Hand the event over and wait for the answer, the process's death or the timeout.
    /// Returns the ending, the invocation's duration and log lines to add.
    async fn dispatch(
        &self,
        request_id: &str,
        payload: Vec<u8>,
        timeout: Duration,
        keep: &mut bool,
    ) -> (Ending, Duration, Vec<String>) {
        let (reply_tx, reply_rx) = oneshot::channel();
        let event = Event {
            request_id: request_id.to_string(),
            payload,
            deadline_ms: epoch_ms() + u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            function_arn: self.invoked_arn.clone(),
            trace_id: runtime_api::new_trace_id(),
            reply: reply_tx,
        };
        let mut exit = self.env.exit();
        let t0 = Instant::now();
        if self.env.send(event).await.is_err() {
            *keep = false;
            let info = *exit.borrow();
            let (ending, lines) = self.crashed(request_id, info);
            return (ending, t0.elapsed(), lines);
        }
        let (ending, lines) = tokio::select! {
            biased;
            outcome = reply_rx => match outcome {
                Ok(Outcome::Response(body)) => (Ending::Response(body), vec![]),
                Ok(Outcome::Error { error_type, payload }) => {
                    (Ending::FunctionError { error_type, payload }, vec![])
                }
                Err(_) => {
                    *keep = false;
                    let info = *self.env.exit().borrow();
                    self.crashed(request_id, info)
                }
            },
            info = exit.wait_for(|e| e.is_some()) => {
                *keep = false;
                let info = info.ok().and_then(|i| *i);
                self.crashed(request_id, info)
            }
            () = tokio::time::sleep(timeout) => {
                *keep = false;
                self.env.kill();
                let (ending, line) = timed_out(request_id, &report::timeout_message(timeout));
                (ending, vec![line])
            }
        };
        let duration = t0.elapsed();
        if !*keep {
            self.env.forget(request_id);
        }
        (ending, duration, lines)
    }
}
