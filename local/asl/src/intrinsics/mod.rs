//! Intrinsic functions (`States.Format(...)` …): parsing a call expression and evaluating it.
//!
//! Owns the call syntax (quoted strings with `\'`, `\{`, `\}`, `\\` escapes, numbers,
//! booleans, `null`, paths, nested calls). It must not resolve paths itself: the caller
//! passes a resolver, so that this module does not know about states, variables or context.

mod error;
mod registry;

use serde_json::Value;

use crate::path::JsonPath;

pub use error::CallSyntaxError;
pub(crate) use error::IntrinsicError;
pub(crate) use registry::{IntrinsicFn, digest_hex};

/// A parsed call such as `States.Format('{}', $.x)`.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) name: String,
    func: IntrinsicFn,
    args: Vec<Arg>,
}

/// One argument of a call.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// A literal; strings keep their raw (still escaped) text for `States.Format`.
    Literal(Value, Option<String>),
    Path(JsonPath),
    Call(Call),
}

/// An evaluated argument: its value, and for string literals the raw text.
pub(crate) struct ArgValue {
    pub(crate) value: Value,
    pub(crate) raw: Option<String>,
}

/// How deep calls may nest.
const MAX_DEPTH: usize = 16;

/// True when `s` looks like a call rather than a path.
pub(crate) fn is_call(s: &str) -> bool {
    s.trim_start().starts_with("States.")
}

impl Call {
    /// Parses a whole expression.
    pub(crate) fn parse(text: &str) -> Result<Call, CallSyntaxError> {
        let mut p = P {
            s: text,
            pos: 0,
            depth: 0,
        };
        let call = p.call()?;
        p.ws();
        if p.pos != text.len() {
            return Err(CallSyntaxError::Trailing(text[p.pos..].to_owned()));
        }
        Ok(call)
    }

    /// Evaluates the call; `resolve` gives the value of a path argument (its failure is
    /// [`IntrinsicError::Path`]).
    pub(crate) fn eval(
        &self,
        resolve: &dyn Fn(&JsonPath) -> Result<Value, IntrinsicError>,
    ) -> Result<Value, IntrinsicError> {
        let mut args = Vec::with_capacity(self.args.len());
        for a in &self.args {
            args.push(match a {
                Arg::Literal(v, raw) => ArgValue {
                    value: v.clone(),
                    raw: raw.clone(),
                },
                Arg::Path(p) => ArgValue {
                    value: resolve(p)?,
                    raw: None,
                },
                Arg::Call(c) => ArgValue {
                    value: c.eval(resolve)?,
                    raw: None,
                },
            });
        }
        (self.func)(&args).map_err(|e| IntrinsicError::In {
            name: self.name.clone(),
            source: Box::new(e),
        })
    }
}

struct P<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

impl P<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }

    fn call(&mut self) -> Result<Call, CallSyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(CallSyntaxError::TooDeep(MAX_DEPTH));
        }
        self.ws();
        let name_len = self.rest().find('(').ok_or(CallSyntaxError::NoArguments)?;
        let name = self.rest()[..name_len].trim().to_owned();
        let func = registry::lookup(&name).ok_or_else(|| CallSyntaxError::Unknown(name.clone()))?;
        self.pos += name_len + 1;
        let mut args = Vec::new();
        self.ws();
        if self.rest().starts_with(')') {
            self.pos += 1;
        } else {
            loop {
                args.push(self.arg()?);
                self.ws();
                match self.rest().chars().next() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(CallSyntaxError::Separator(name)),
                }
            }
        }
        self.depth -= 1;
        Ok(Call { name, func, args })
    }

    fn arg(&mut self) -> Result<Arg, CallSyntaxError> {
        self.ws();
        let rest = &self.s[self.pos..];
        if rest.starts_with('\'') {
            return self.string();
        }
        if rest.starts_with("States.") {
            return self.call().map(Arg::Call);
        }
        // A path or a bare literal runs to the next `,` or `)` outside brackets and quotes.
        let mut depth = 0i32;
        let mut quote = None;
        let mut end = rest.len();
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            if escaped {
                escaped = false;
                continue;
            }
            match (quote, c) {
                (Some(_), '\\') => escaped = true,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '[' | '(') => depth += 1,
                (None, ']') => depth -= 1,
                (None, ')') if depth > 0 => depth -= 1,
                (None, ',' | ')') if depth == 0 => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let token = rest[..end].trim();
        self.pos += end;
        if token.starts_with('$') {
            return Ok(Arg::Path(JsonPath::parse(token)?));
        }
        match token {
            "true" => Ok(Arg::Literal(Value::Bool(true), None)),
            "false" => Ok(Arg::Literal(Value::Bool(false), None)),
            "null" => Ok(Arg::Literal(Value::Null, None)),
            _ => serde_json::from_str::<serde_json::Number>(token)
                .map(|n| Arg::Literal(Value::Number(n), None))
                .map_err(|_| CallSyntaxError::Argument(token.to_owned())),
        }
    }

    fn string(&mut self) -> Result<Arg, CallSyntaxError> {
        self.pos += 1;
        let start = self.pos;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, n @ ('\'' | '{' | '}' | '\\'))) => out.push(n),
                    Some((_, n)) => return Err(CallSyntaxError::Escape(n)),
                    None => break,
                },
                '\'' => {
                    let raw = self.s[start..start + i].to_owned();
                    self.pos = start + i + 1;
                    return Ok(Arg::Literal(Value::String(out), Some(raw)));
                }
                c => out.push(c),
            }
        }
        Err(CallSyntaxError::Unterminated)
    }
}

#[cfg(test)]
mod tests;
