//! JSONata 2.0 (the query language of Step Functions' JSONata mode): an expression is parsed
//! once into an [`Expression`], then evaluated against an input with variables and extra
//! native functions from an [`Environment`].
//!
//! Must not know Step Functions: `$states`, AWS's added functions and its error names belong
//! to the engine (`powersweep-asl`), which binds and registers them here.
//!
//! ```
//! use powersweep_jsonata::{Environment, Expression};
//! use serde_json::json;
//!
//! let e = Expression::parse("$sum(Account.Order.Product.(Price * Quantity))").expect("parses");
//! let input = json!({"Account": {"Order": [{"Product": [{"Price": 2, "Quantity": 3}]}]}});
//! assert_eq!(e.evaluate(Some(&input), &Environment::default()), Ok(Some(json!(6))));
//! ```
//!
//! How it is built: `lexer` → `parser` (Pratt, to the tree in `ast`, `%` resolved by
//! `ancestry`) → `eval` (paths, operators, calls, tuple streams, transforms) over the values
//! of `value`, with the built-in library in `functions` (one registry; host functions
//! registered on the [`Environment`] shadow it by name).
//!
//! Evaluation is bounded, so a hostile expression ends in an [`Error`], never a hang, a panic
//! or a stack overflow: parse nesting (200, `U1001`), evaluation nesting (3000, `U1001`; tail
//! calls run in constant depth), total work (10 million steps, `U1002`), value nesting (2000,
//! `U1003`), sequence sizes (10 million items, `D2014`) and memory ([`MAX_EVALUATION_BYTES`]
//! held by one evaluation, `U1004`). Memory is counted only in a binary that installs
//! [`meter::MeteredAlloc`] as its global allocator; elsewhere only the allocations whose size
//! is known in advance (`$pad`, `$join`, `&`, `$string`, the result's JSON, …) are checked.
//! Each recursive step keeps a red zone of stack free and continues on a heap segment where
//! the caller's stack runs low (`stacker`), so any thread can evaluate, a tokio worker's
//! included. Codes not from jsonata-js: `U1002`, `U1003`, `U1004`, `INVALID_JSON`
//! ([`Expression::evaluate_json`]).

#![deny(missing_docs)]

mod ancestry;
mod ast;
mod error;
mod eval;
mod functions;
mod json_in;
mod lexer;
pub mod meter;
mod parser;
mod value;

pub use eval::MAX_EVALUATION_BYTES;

// This crate's own tests run with the memory limit counted, as a metered binary does.
#[cfg(test)]
#[global_allocator]
static ALLOC: meter::MeteredAlloc = meter::MeteredAlloc;

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A native function: its arguments (`None` is JSONata's `undefined`) to its result.
pub type NativeFn = Arc<dyn Fn(&[Option<Value>]) -> Result<Option<Value>, Error> + Send + Sync>;

/// Why an expression could not be parsed or evaluated: JSONata's error code (`S0201`,
/// `T2001`, … as jsonata-js names them), its message and where in the expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// jsonata-js's code for this error.
    pub code: String,
    /// One line for people.
    pub message: String,
    /// Character offset in the expression, when known.
    pub position: Option<usize>,
}

/// Variables and native functions an evaluation can see beside the built-in ones.
#[derive(Clone, Default)]
pub struct Environment {
    variables: HashMap<String, Value>,
    functions: HashMap<String, NativeFn>,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("variables", &self.variables)
            .field("functions", &self.functions.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Environment {
    /// Binds `$name` (without the `$`).
    pub fn bind(&mut self, name: &str, value: Value) {
        self.variables.insert(name.to_owned(), value);
    }

    /// Registers `$name(…)` (without the `$`); it shadows a built-in of that name.
    pub fn register(&mut self, name: &str, function: NativeFn) {
        self.functions.insert(name.to_owned(), function);
    }
}

/// Stack kept free below every recursive step (parse, evaluate, convert, compare); where
/// less is left, the step continues on a new heap segment of [`STACK_SEGMENT`]. The depth
/// limits bound the total; this is what makes a stack overflow impossible on any caller's
/// thread, a tokio worker's 2 MiB included, without a thread of its own.
pub(crate) const RED_ZONE: usize = 128 << 10;

/// Size of each stack segment added when the red zone is reached.
pub(crate) const STACK_SEGMENT: usize = 4 << 20;

/// Runs a recursive step with at least [`RED_ZONE`] of stack.
pub(crate) fn with_stack<T>(work: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, work)
}

/// A parsed expression.
#[derive(Debug, Clone)]
pub struct Expression {
    text: String,
    ast: Arc<ast::Expr>,
}

impl Expression {
    /// Parses `text`.
    ///
    /// # Errors
    /// A syntax error, with its code and position.
    pub fn parse(text: &str) -> Result<Expression, Error> {
        let ast = with_stack(|| parser::parse(text))?;
        Ok(Expression {
            text: text.to_owned(),
            ast: Arc::new(ast),
        })
    }

    /// The expression's text, as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Evaluates against `input` (`None`: no input), with `env`'s variables and functions.
    /// `Ok(None)` is JSONata's `undefined` (no result). Runs on the calling thread from start
    /// to end, which is what lets [`meter::MeteredAlloc`] count what it holds.
    ///
    /// # Errors
    /// An evaluation error (a type error, an unknown function, a limit reached), with its code.
    /// `U1004` when the evaluation would hold more than [`MAX_EVALUATION_BYTES`]: counted as
    /// it runs where the binary installs [`meter::MeteredAlloc`], otherwise only checked
    /// before the allocations whose size is known in advance.
    pub fn evaluate(
        &self,
        input: Option<&Value>,
        env: &Environment,
    ) -> Result<Option<Value>, Error> {
        with_stack(|| self.evaluate_here(input, env))
    }

    /// Like [`Expression::evaluate`], with the input given as JSON text (`None`: no input).
    /// Object keys keep their document order, which `$keys`, `$each`, `$spread` and `$string`
    /// show; `evaluate` sees `serde_json`'s sorted keys instead.
    ///
    /// # Errors
    /// `INVALID_JSON` when `input` is not JSON; otherwise as [`Expression::evaluate`].
    pub fn evaluate_json(
        &self,
        input: Option<&str>,
        env: &Environment,
    ) -> Result<Option<Value>, Error> {
        with_stack(|| {
            let input = match input {
                Some(text) => Some(
                    serde_json::from_str::<json_in::JsonVal>(text)
                        .map_err(|e| {
                            error::err("INVALID_JSON", format!("The input is not JSON: {e}"), None)
                        })?
                        .0,
                ),
                None => None,
            };
            self.evaluate_val(input, env)
        })
    }

    fn evaluate_here(
        &self,
        input: Option<&Value>,
        env: &Environment,
    ) -> Result<Option<Value>, Error> {
        self.evaluate_val(input.map(value::Val::from_json), env)
    }

    fn evaluate_val(
        &self,
        input: Option<value::Val>,
        env: &Environment,
    ) -> Result<Option<Value>, Error> {
        let mut ev = eval::Ev::new(env);
        let result = ev.run(&self.ast, input);
        let out = result.and_then(|r| {
            if let Some(v) = &r {
                // JSON holds a sub-value shared in many places once per place.
                ev.budget.reserve(value::json_bytes(v))?;
                value::check_finite(v)?;
            }
            Ok(r.and_then(|v| v.to_json()))
        });
        ev.release();
        out
    }
}
