//! Where text meets the terminal: errors, and anything carrying a workload's or a service's
//! words, escaped by the one rule the results files share (`powersweep_analyzer::safe_text`).

pub use powersweep_analyzer::safe_text::escape;

/// Prints `error: <message>` on stderr, escaped and so on one line: the one way an error
/// reaches the terminal, whether it is ours or carries a workload's text.
pub fn print_error(message: &str) {
    eprintln!("error: {}", escape(message));
}
