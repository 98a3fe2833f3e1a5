//! The REPORT of one invocation: the typed figures and Lambda's log line text (with the START,
//! END and timeout lines around it).
//!
//! Owns arithmetic and formatting only (billing rounds, MB conversion). It must not measure
//! anything: the invoker passes in the durations and the memory peak.

use std::time::Duration;

use serde::Serialize;

/// What Lambda's REPORT line says about one invocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The request id.
    pub request_id: String,
    /// Invocation time in ms, from handing the event to the runtime to its answer (or the kill).
    pub duration_ms: f64,
    /// Billed ms: duration plus, on a cold start, init (INIT is billed for custom runtimes),
    /// rounded up to the next 1 ms.
    pub billed_duration_ms: u64,
    /// On a cold start: from starting the process to its first `next`, in ms.
    pub init_duration_ms: Option<f64>,
    /// The function's memory size in MB.
    pub memory_size_mb: u32,
    /// The environment's peak memory in MB (cgroup peak, else the process's `VmHWM`), rounded up.
    pub max_memory_used_mb: u64,
    /// In the `model` CPU mode, the invocation's real (uncapped) time beside the modeled
    /// `duration_ms`; not part of Lambda's REPORT line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_duration_ms: Option<f64>,
}

impl Report {
    /// Build a report from measured durations; `init` is `Some` on a cold start.
    pub fn new(
        request_id: &str,
        duration: Duration,
        init: Option<Duration>,
        memory_size_mb: u32,
        max_memory_bytes: u64,
    ) -> Self {
        let duration_ms = round2(duration.as_secs_f64() * 1000.0);
        let init_duration_ms = init.map(|d| round2(d.as_secs_f64() * 1000.0));
        let billed = duration + init.unwrap_or_default();
        Report {
            request_id: request_id.to_string(),
            duration_ms,
            billed_duration_ms: billed_ms(billed),
            init_duration_ms,
            memory_size_mb,
            max_memory_used_mb: max_memory_bytes.div_ceil(1024 * 1024),
            measured_duration_ms: None,
        }
    }

    /// Lambda's REPORT line, tab-separated as in CloudWatch.
    pub fn line(&self) -> String {
        let mut s = format!(
            "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
            self.request_id,
            self.duration_ms,
            self.billed_duration_ms,
            self.memory_size_mb,
            self.max_memory_used_mb
        );
        if let Some(init) = self.init_duration_ms {
            s.push_str(&format!("Init Duration: {init:.2} ms\t"));
        }
        s
    }
}

/// Billed milliseconds: rounded up to the next whole ms, at least 1.
pub fn billed_ms(d: Duration) -> u64 {
    let nanos = d.as_nanos();
    (nanos.div_ceil(1_000_000) as u64).max(1)
}

pub(crate) fn round2(ms: f64) -> f64 {
    (ms * 100.0).round() / 100.0
}

/// Lambda's START line.
pub(crate) fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}")
}

/// Lambda's END line.
pub(crate) fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

/// Lambda's timeout message, used as the log line and the `errorMessage`.
pub(crate) fn timeout_message(timeout: Duration) -> String {
    format!("Task timed out after {:.2} seconds", timeout.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_rounds_up_to_one_ms_and_adds_init() {
        assert_eq!(billed_ms(Duration::from_micros(1)), 1);
        assert_eq!(billed_ms(Duration::from_micros(2001)), 3);
        assert_eq!(billed_ms(Duration::from_millis(5)), 5);
        let r = Report::new(
            "id",
            Duration::from_micros(10_400),
            Some(Duration::from_micros(20_300)),
            128,
            5 * 1024 * 1024 + 1,
        );
        assert_eq!(r.billed_duration_ms, 31);
        assert_eq!(r.max_memory_used_mb, 6);
        assert_eq!(r.duration_ms, 10.4);
    }

    #[test]
    fn report_line_matches_lambda() {
        let r = Report::new("abc", Duration::from_micros(2_360), None, 128, 39 << 20);
        assert_eq!(
            r.line(),
            "REPORT RequestId: abc\tDuration: 2.36 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 39 MB\t"
        );
        let r = Report::new(
            "abc",
            Duration::from_millis(2),
            Some(Duration::from_micros(135_530)),
            128,
            0,
        );
        assert!(r.line().ends_with("Init Duration: 135.53 ms\t"));
        assert_eq!(
            timeout_message(Duration::from_secs(3)),
            "Task timed out after 3.00 seconds"
        );
    }
}
