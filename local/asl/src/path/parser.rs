//! Text → [`JsonPath`]: a hand-written recursive-descent parser for Jayway's syntax.
//!
//! Owns syntax only; it must not look at JSON values. Nesting of filter expressions is capped
//! so that a hostile definition cannot overflow the stack.

use super::{CmpOp, Filter, JsonPath, Operand, PathError, Root, Segment};
use serde_json::Value;

/// How deep parentheses and nested filters may go.
const MAX_DEPTH: usize = 32;

pub(super) fn parse(text: &str) -> Result<JsonPath, PathError> {
    let err = |reason: &str| PathError {
        path: text.to_owned(),
        reason: reason.to_owned(),
    };
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
        depth: 0,
    };
    if !p.eat(b'$') {
        return Err(err("a path starts with `$`"));
    }
    let root = if p.eat(b'$') {
        Root::Context
    } else if p.peek().is_some_and(is_var_start) {
        let start = p.pos;
        while p.peek().is_some_and(is_var_char) {
            p.pos += 1;
        }
        Root::Variable(text[start..p.pos].to_owned())
    } else {
        Root::Input
    };
    let segments = p.segments(false).map_err(|r| err(&r))?;
    if p.pos != p.s.len() {
        return Err(err(&format!(
            "unexpected `{}` at offset {}",
            &text[p.pos..],
            p.pos
        )));
    }
    Ok(JsonPath {
        text: text.to_owned(),
        root,
        segments,
    })
}

fn is_var_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_var_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Characters that end a dot name. Jayway is generous (dashes, colons … are fine), but inside
/// a filter a name must stop before an operator.
fn ends_name(b: u8, in_filter: bool) -> bool {
    matches!(b, b'.' | b'[')
        || (in_filter
            && (b.is_ascii_whitespace()
                || matches!(
                    b,
                    b'<' | b'>' | b'=' | b'!' | b'&' | b'|' | b')' | b',' | b']'
                )))
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
}

type R<T> = Result<T, String>;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, lit: &str) -> bool {
        if self.s[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8) -> R<()> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(format!("expected `{}` at offset {}", b as char, self.pos))
        }
    }

    fn segments(&mut self, in_filter: bool) -> R<Vec<Segment>> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                Some(b'.') => {
                    self.pos += 1;
                    if self.eat(b'.') {
                        let sel = if self.peek() == Some(b'[') {
                            self.bracket()?
                        } else {
                            self.dot_selector(in_filter)?
                        };
                        out.push(Segment::Descendant(Box::new(sel)));
                    } else {
                        out.push(self.dot_selector(in_filter)?);
                    }
                }
                Some(b'[') => out.push(self.bracket()?),
                _ => return Ok(out),
            }
        }
    }

    fn dot_selector(&mut self, in_filter: bool) -> R<Segment> {
        if self.eat(b'*') {
            return Ok(Segment::Wildcard);
        }
        let start = self.pos;
        while self.peek().is_some_and(|b| !ends_name(b, in_filter)) {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(format!("empty name at offset {start}"));
        }
        Ok(Segment::Child(self.text[start..self.pos].to_owned()))
    }

    fn bracket(&mut self) -> R<Segment> {
        self.expect(b'[')?;
        self.skip_ws();
        let seg = match self.peek() {
            Some(b'*') => {
                self.pos += 1;
                Segment::Wildcard
            }
            Some(b'?') => {
                self.pos += 1;
                self.skip_ws();
                self.expect(b'(')?;
                let f = self.filter()?;
                self.skip_ws();
                self.expect(b')')?;
                Segment::Filter(Box::new(f))
            }
            Some(b'\'' | b'"') => {
                let mut names = vec![self.quoted_name()?];
                loop {
                    self.skip_ws();
                    if !self.eat(b',') {
                        break;
                    }
                    self.skip_ws();
                    names.push(self.quoted_name()?);
                }
                if names.len() == 1 {
                    Segment::Child(names.remove(0))
                } else {
                    Segment::Children(names)
                }
            }
            _ => self.index_or_slice()?,
        };
        self.skip_ws();
        self.expect(b']')?;
        Ok(seg)
    }

    fn index_or_slice(&mut self) -> R<Segment> {
        let first = self.opt_int()?;
        self.skip_ws();
        if self.peek() == Some(b':') {
            self.pos += 1;
            let end = self.opt_int()?;
            let step = if self.eat(b':') {
                self.opt_int()?
            } else {
                None
            };
            if step == Some(0) {
                return Err("slice step cannot be 0".into());
            }
            return Ok(Segment::Slice(first, end, step));
        }
        let first = first
            .ok_or_else(|| format!("expected an index, a name or `*` at offset {}", self.pos))?;
        let mut idx = vec![first];
        loop {
            self.skip_ws();
            if !self.eat(b',') {
                break;
            }
            self.skip_ws();
            idx.push(self.opt_int()?.ok_or("expected an index after `,`")?);
        }
        Ok(if idx.len() == 1 {
            Segment::Index(first)
        } else {
            Segment::Indexes(idx)
        })
    }

    fn opt_int(&mut self) -> R<Option<i64>> {
        self.skip_ws();
        let start = self.pos;
        self.eat(b'-');
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if start == self.pos {
            return Ok(None);
        }
        self.text[start..self.pos]
            .parse()
            .map(Some)
            .map_err(|_| format!("bad integer `{}`", &self.text[start..self.pos]))
    }

    /// A quoted name in brackets, `['…']` or `["…"]`. As Jayway (and so AWS) reads it, a
    /// backslash escapes only the enclosing quote; before anything else it is an ordinary
    /// character: AWS matched `$['Test\""Name"']` against the key `Test\""Name"`.
    fn quoted_name(&mut self) -> R<String> {
        self.quoted_with(false)
    }

    /// A quoted string literal in a filter, where a backslash escapes any character.
    fn quoted(&mut self) -> R<String> {
        self.quoted_with(true)
    }

    fn quoted_with(&mut self, escapes_any: bool) -> R<String> {
        let q = self.peek().ok_or("unexpected end")?;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let c = self.text[self.pos..]
                .chars()
                .next()
                .ok_or("unterminated string")?;
            self.pos += c.len_utf8();
            match c {
                '\\' => {
                    let n = self.text[self.pos..]
                        .chars()
                        .next()
                        .ok_or("unterminated string")?;
                    self.pos += n.len_utf8();
                    if !escapes_any && n as u32 != q as u32 {
                        out.push('\\');
                    }
                    out.push(n);
                }
                c if c as u32 == q as u32 => return Ok(out),
                c => out.push(c),
            }
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err("filter nested too deeply".into())
        } else {
            Ok(())
        }
    }

    fn filter(&mut self) -> R<Filter> {
        self.enter()?;
        let mut left = self.and()?;
        loop {
            self.skip_ws();
            if self.eat_str("||") {
                let right = self.and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                break;
            }
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> R<Filter> {
        let mut left = self.unary()?;
        loop {
            self.skip_ws();
            if self.eat_str("&&") {
                let right = self.unary()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn unary(&mut self) -> R<Filter> {
        self.skip_ws();
        if self.peek() == Some(b'!') && self.s.get(self.pos + 1) != Some(&b'=') {
            self.pos += 1;
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.eat(b'(') {
            let inner = self.filter()?;
            self.skip_ws();
            self.expect(b')')?;
            return Ok(inner);
        }
        let left = self.operand()?;
        self.skip_ws();
        let op = if self.eat_str("==") {
            CmpOp::Eq
        } else if self.eat_str("!=") {
            CmpOp::Ne
        } else if self.eat_str("<=") {
            CmpOp::Le
        } else if self.eat_str(">=") {
            CmpOp::Ge
        } else if self.eat_str("=~") {
            CmpOp::Matches
        } else if self.eat(b'<') {
            CmpOp::Lt
        } else if self.eat(b'>') {
            CmpOp::Gt
        } else if self.eat_str("nin ") {
            CmpOp::Nin
        } else if self.eat_str("in ") {
            CmpOp::In
        } else {
            return Ok(Filter::Exists(left));
        };
        let right = self.operand()?;
        Ok(Filter::Compare(left, op, right))
    }

    fn operand(&mut self) -> R<Operand> {
        self.skip_ws();
        match self.peek() {
            Some(b'@') => {
                self.pos += 1;
                Ok(Operand::Path {
                    relative: true,
                    segments: self.segments(true)?,
                })
            }
            Some(b'$') => {
                self.pos += 1;
                Ok(Operand::Path {
                    relative: false,
                    segments: self.segments(true)?,
                })
            }
            Some(b'\'' | b'"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            Some(b'/') => {
                self.pos += 1;
                let start = self.pos;
                while self.peek().is_some_and(|b| b != b'/') {
                    if self.peek() == Some(b'\\') {
                        self.pos += 1;
                    }
                    self.pos += 1;
                }
                let body = self
                    .text
                    .get(start..self.pos)
                    .ok_or("unterminated regex")?
                    .to_owned();
                self.expect(b'/')?;
                let mut flags = String::new();
                while let Some(b @ (b'i' | b'm' | b's' | b'x')) = self.peek() {
                    flags.push(b as char);
                    self.pos += 1;
                }
                let pattern = if flags.is_empty() {
                    format!("^(?:{body})$")
                } else {
                    format!("(?{flags})^(?:{body})$")
                };
                regex::Regex::new(&pattern)
                    .map(Operand::Regex)
                    .map_err(|e| format!("bad regex: {e}"))
            }
            Some(b'[') => {
                // A JSON-ish list literal for `in` / `nin`; single quotes are allowed.
                let start = self.pos;
                let mut depth = 0usize;
                let mut quote: Option<u8> = None;
                while let Some(b) = self.peek() {
                    self.pos += 1;
                    match (quote, b) {
                        (Some(_), b'\\') => self.pos += 1,
                        (Some(q), b) if b == q => quote = None,
                        (Some(_), _) => {}
                        (None, b'\'' | b'"') => quote = Some(b),
                        (None, b'[') => depth += 1,
                        (None, b']') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let raw = self.text.get(start..self.pos).ok_or("bad list")?;
                let json = raw.replace('\'', "\"");
                serde_json::from_str(&json)
                    .map(Operand::Literal)
                    .map_err(|_| format!("bad list literal `{raw}`"))
            }
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(|b| {
                    !b.is_ascii_whitespace()
                        && !matches!(b, b')' | b'&' | b'|' | b'<' | b'>' | b'=' | b'!' | b']')
                }) {
                    self.pos += 1;
                }
                let raw = &self.text[start..self.pos];
                match raw {
                    "" => Err(format!("expected an operand at offset {start}")),
                    "true" => Ok(Operand::Literal(Value::Bool(true))),
                    "false" => Ok(Operand::Literal(Value::Bool(false))),
                    "null" => Ok(Operand::Literal(Value::Null)),
                    _ => serde_json::from_str::<serde_json::Number>(raw)
                        .map(|n| Operand::Literal(Value::Number(n)))
                        .map_err(|_| format!("bad literal `{raw}`")),
                }
            }
        }
    }
}
