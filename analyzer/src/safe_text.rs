//! Text from workloads and services made safe to show: control characters (escape
//! sequences, carriage returns, newlines) and bidirectional overrides written as escapes, so
//! that a workload's message can neither rewrite a terminal, nor break a one-line error or a
//! CSV row, nor reorder what a reader sees. One rule for the CLI's terminal and the results
//! files; must not be applied to JSON output (serde escapes it there).

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control or direction-changing character written as `\u{…}` (`\n`,
/// `\r` and `\t` as themselves, escaped).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// C0 and C1 controls and DEL, and the Unicode characters that reorder what follows them
/// (the "Trojan Source" overrides and isolates).
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_newlines_are_shown_not_obeyed() {
        assert_eq!(
            escape("red \u{1b}[31mtext\u{1b}[0m\r\nnext"),
            "red \\u{1b}[31mtext\\u{1b}[0m\\r\\nnext"
        );
        assert_eq!(
            escape("a\u{202e}b\u{7f}c\u{9b}"),
            "a\\u{202e}b\\u{7f}c\\u{9b}"
        );
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let text = "PBKDF2 — 8 passwords, ünïcode, tabs aside";
        assert!(matches!(escape(text), Cow::Borrowed(t) if t == text));
    }
}
