//! `powersweep:workload/logging`: guest log lines into `tracing`, tagged with workload and task.

use crate::bindings::powersweep::workload::logging::{Host, Level};
use crate::state::GuestState;

/// Longer messages are cut: a guest must not be able to flood the log with one call.
const MAX_MESSAGE: usize = 8 * 1024;

impl Host for GuestState {
    fn log(&mut self, level: Level, message: String) {
        self.name_call(powersweep_model::CallKind::Log);
        let mut message = message;
        if message.len() > MAX_MESSAGE {
            let cut = (0..=MAX_MESSAGE)
                .rev()
                .find(|i| message.is_char_boundary(*i))
                .unwrap_or(0);
            message.truncate(cut);
            message.push_str("… (truncated)");
        }
        let (workload, task) = (&*self.workload, self.task);
        match level {
            Level::Trace => tracing::trace!(target: "guest", workload, task, "{message}"),
            Level::Debug => tracing::debug!(target: "guest", workload, task, "{message}"),
            Level::Info => tracing::info!(target: "guest", workload, task, "{message}"),
            Level::Warn => tracing::warn!(target: "guest", workload, task, "{message}"),
            Level::Error => tracing::error!(target: "guest", workload, task, "{message}"),
        }
    }
}
