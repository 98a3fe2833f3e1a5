//! Progress of a long sweep on stderr: invocations done of total and the configuration now
//! running. Hidden when stderr is not a terminal (CI logs get the final table instead).

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar over invocations.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `total` invocations.
    pub fn new(total: u64) -> Self {
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} invocations  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Self { bar }
    }

    /// Invocations finished so far.
    pub fn set_done(&self, done: u64) {
        self.bar.set_position(done);
    }

    /// What is running now, e.g. "1024 MB × 2 threads".
    pub fn set_message(&self, message: impl Into<String>) {
        self.bar.set_message(message.into());
    }

    /// Removes the bar, leaving the terminal to the results.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
