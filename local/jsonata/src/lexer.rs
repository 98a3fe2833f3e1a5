//! Turns expression text into tokens. Decides only what the characters are (a number, a
//! string, a name, an operator, a regex); it must not know precedence or build any tree.

use crate::error::{Result, err};

/// One lexical token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An operator or punctuation, e.g. `.`, `:=`, `~>`.
    Op(&'static str),
    /// A string literal, escapes already resolved.
    Str(String),
    /// A number literal.
    Num(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// A field name (plain or back-quoted).
    Name(String),
    /// A variable without its `$` (`""` is `$`, `"$"` is `$$`).
    Var(String),
    /// A regex literal: pattern and flags.
    Regex(String, String),
    /// End of input.
    End,
}

/// Two-character operators first so that `:=` wins over `:`.
const OPS2: &[&str] = &["..", ":=", "!=", "<=", ">=", "**", "~>"];
const OPS1: &[&str] = &[
    ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?", "+", "-", "*", "/", "%", "|",
    "=", "<", ">", "^", "&", "!", "~",
];

/// The lexer: walks the characters once, producing tokens on demand.
pub(crate) struct Lexer {
    chars: Vec<char>,
    pos: usize,
    /// Whether the last token can end an operand: then `/` divides, else it starts a regex.
    after_operand: bool,
}

impl Lexer {
    pub(crate) fn new(text: &str) -> Lexer {
        Lexer {
            chars: text.chars().collect(),
            pos: 0,
            after_operand: false,
        }
    }

    fn peek(&self, off: usize) -> Option<char> {
        self.chars.get(self.pos + off).copied()
    }

    /// The next token and its start offset.
    pub(crate) fn next_token(&mut self) -> Result<(Tok, usize)> {
        let (tok, start) = self.scan()?;
        self.after_operand = match &tok {
            Tok::Op(o) => matches!(*o, ")" | "]" | "}" | "*" | "**" | "%"),
            Tok::End => false,
            _ => true,
        };
        Ok((tok, start))
    }

    fn skip_space_and_comments(&mut self) -> Result<()> {
        loop {
            while self.peek(0).is_some_and(char::is_whitespace) {
                self.pos += 1;
            }
            if self.peek(0) == Some('/') && self.peek(1) == Some('*') {
                let start = self.pos;
                self.pos += 2;
                loop {
                    match self.peek(0) {
                        None => {
                            return Err(err("S0106", "Comment has no closing tag", Some(start)));
                        }
                        Some('*') if self.peek(1) == Some('/') => {
                            self.pos += 2;
                            break;
                        }
                        Some(_) => self.pos += 1,
                    }
                }
            } else {
                return Ok(());
            }
        }
    }

    fn scan(&mut self) -> Result<(Tok, usize)> {
        self.skip_space_and_comments()?;
        let start = self.pos;
        let Some(c) = self.peek(0) else {
            return Ok((Tok::End, start));
        };
        if c == '/' && !self.after_operand {
            return self.regex(start);
        }
        if c == '"' || c == '\'' {
            return Ok((Tok::Str(self.string(c)?), start));
        }
        if c.is_ascii_digit() {
            return Ok((Tok::Num(self.number()?), start));
        }
        if c == '`' {
            self.pos += 1;
            let from = self.pos;
            while self.peek(0).is_some_and(|c| c != '`') {
                self.pos += 1;
            }
            if self.peek(0).is_none() {
                return Err(err(
                    "S0105",
                    "Quoted property name must be terminated with a backquote (`)",
                    Some(start),
                ));
            }
            let name: String = self.chars[from..self.pos].iter().collect();
            self.pos += 1;
            return Ok((Tok::Name(name), start));
        }
        for op in OPS2 {
            let mut it = op.chars();
            if it.next() == Some(c) && it.next() == self.peek(1) {
                // `..` must not swallow the start of `...`? JSONata has no such token; keep simple.
                self.pos += 2;
                return Ok((Tok::Op(op), start));
            }
        }
        if c == '!' {
            return Err(err("S0204", "Unknown operator: !", Some(start)));
        }
        for op in OPS1 {
            if op.starts_with(c) {
                self.pos += 1;
                return Ok((Tok::Op(op), start));
            }
        }
        if c == '$' {
            self.pos += 1;
            let name = self.name_chars();
            return Ok((Tok::Var(name), start));
        }
        let name = self.name_chars();
        let tok = match name.as_str() {
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            "null" => Tok::Null,
            "and" => Tok::Op("and"),
            "or" => Tok::Op("or"),
            "in" => Tok::Op("in"),
            _ => Tok::Name(name),
        };
        Ok((tok, start))
    }

    /// Name characters: anything up to whitespace or an operator character.
    fn name_chars(&mut self) -> String {
        let from = self.pos;
        while let Some(c) = self.peek(0) {
            if c.is_whitespace() || ".[]{}(),@#;:?+-*/%|=<>^&!~\"'`$".contains(c) {
                // `$` may start a variable's name only: `$$` is the root.
                if !(c == '$' && self.pos == from) {
                    break;
                }
            }
            self.pos += 1;
        }
        self.chars[from..self.pos].iter().collect()
    }

    fn number(&mut self) -> Result<f64> {
        let from = self.pos;
        let digits = |l: &mut Lexer| {
            while l.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                l.pos += 1;
            }
        };
        digits(self);
        // A `.` followed by a digit is a fraction; `1..5` is a range.
        if self.peek(0) == Some('.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            digits(self);
        }
        if matches!(self.peek(0), Some('e' | 'E')) {
            let sign = usize::from(matches!(self.peek(1), Some('+' | '-')));
            if self.peek(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1 + sign;
                digits(self);
            }
        }
        let text: String = self.chars[from..self.pos].iter().collect();
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            _ => Err(err(
                "S0102",
                format!("Number out of range: {text}"),
                Some(from),
            )),
        }
    }

    fn string(&mut self, quote: char) -> Result<String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek(0) else {
                return Err(err(
                    "S0101",
                    "String literal must be terminated by a matching quote",
                    Some(start),
                ));
            };
            self.pos += 1;
            if c == quote {
                return Ok(out);
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek(0) else {
                return Err(err(
                    "S0101",
                    "String literal must be terminated by a matching quote",
                    Some(start),
                ));
            };
            self.pos += 1;
            match e {
                '"' | '\\' | '/' | '\'' => out.push(e),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'u' => {
                    let hi = self.hex4()?;
                    if (0xD800..0xDC00).contains(&hi)
                        && self.peek(0) == Some('\\')
                        && self.peek(1) == Some('u')
                    {
                        self.pos += 2;
                        let lo = self.hex4()?;
                        let code =
                            0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
                        out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                    } else {
                        out.push(char::from_u32(hi).unwrap_or('\u{FFFD}'));
                    }
                }
                _ => {
                    return Err(err(
                        "S0103",
                        format!("Unsupported escape sequence: \\{e}"),
                        Some(self.pos),
                    ));
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let text: String = self.chars.iter().skip(self.pos).take(4).collect();
        if text.len() == 4 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            self.pos += 4;
            u32::from_str_radix(&text, 16).map_err(|_| {
                err(
                    "S0104",
                    "The escape sequence \\u must be followed by 4 hex digits",
                    Some(self.pos),
                )
            })
        } else {
            Err(err(
                "S0104",
                "The escape sequence \\u must be followed by 4 hex digits",
                Some(self.pos),
            ))
        }
    }

    fn regex(&mut self, start: usize) -> Result<(Tok, usize)> {
        self.pos += 1;
        let from = self.pos;
        let mut escaped = false;
        loop {
            let Some(c) = self.peek(0) else {
                return Err(err(
                    "S0302",
                    "No terminating / in regular expression",
                    Some(start),
                ));
            };
            if c == '/' && !escaped {
                break;
            }
            escaped = c == '\\' && !escaped;
            self.pos += 1;
        }
        let pattern: String = self.chars[from..self.pos].iter().collect();
        if pattern.is_empty() {
            return Err(err(
                "S0301",
                "Empty regular expressions are not allowed",
                Some(start),
            ));
        }
        self.pos += 1;
        let ff = self.pos;
        while self.peek(0).is_some_and(|c| c.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        let flags: String = self.chars[ff..self.pos].iter().collect();
        Ok((Tok::Regex(pattern, flags), start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<Tok> {
        let mut l = Lexer::new(text);
        let mut out = vec![];
        loop {
            match l.next_token() {
                Ok((Tok::End, _)) => return out,
                Ok((t, _)) => out.push(t),
                Err(e) => panic!("{e:?}"),
            }
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(
            all("a.b"),
            vec![Tok::Name("a".into()), Tok::Op("."), Tok::Name("b".into())]
        );
        assert_eq!(all("[1..5]").len(), 5);
        assert_eq!(
            all("$x := 'a\\n'"),
            vec![Tok::Var("x".into()), Tok::Op(":="), Tok::Str("a\n".into())]
        );
        assert_eq!(all("4/2"), vec![Tok::Num(4.0), Tok::Op("/"), Tok::Num(2.0)]);
        assert_eq!(all("/a.b/i"), vec![Tok::Regex("a.b".into(), "i".into())]);
        assert_eq!(all("$$"), vec![Tok::Var("$".into())]);
    }
}
