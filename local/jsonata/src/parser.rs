//! A Pratt (top-down operator precedence) parser from tokens to the [`Expr`] tree, doing
//! jsonata-js's `processAST` rewrites as it goes (paths flattened into steps, predicates
//! attached to their step). Must not evaluate anything; its recursion is bounded by
//! [`MAX_DEPTH`] so no input can overflow the stack.

use std::sync::Arc;

use crate::Error;
use crate::ast::{BinOp, Expr, Kind, LambdaDef, SortTerm, TransformDef};
use crate::error::{Result, err};
use crate::lexer::{Lexer, Tok};

/// Deepest nesting of sub-expressions the parser accepts.
pub(crate) const MAX_DEPTH: usize = 200;

/// Parses a whole expression.
pub(crate) fn parse(text: &str) -> Result<Expr> {
    let mut p = Parser {
        deferred: None,
        lex: Lexer::new(text),
        tok: Tok::End,
        pos: 0,
        depth: 0,
    };
    p.advance()?;
    let mut e = p.expression(0)?;
    if p.tok != Tok::End {
        return Err(err(
            "S0201",
            format!("Syntax error: {}", show(&p.tok)),
            Some(p.pos),
        ));
    }
    if let Some(problem) = p.deferred {
        return Err(problem);
    }
    crate::ancestry::resolve(&mut e)?;
    Ok(e)
}

struct Parser {
    /// A semantic error found while parsing, reported if the text parses to the end.
    deferred: Option<Error>,
    lex: Lexer,
    tok: Tok,
    pos: usize,
    depth: usize,
}

/// How a token prints in messages and in rebuilt signatures.
fn show(t: &Tok) -> String {
    match t {
        Tok::Op(o) => (*o).to_owned(),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Num(n) => n.to_string(),
        Tok::Bool(b) => b.to_string(),
        Tok::Null => "null".into(),
        Tok::Name(n) => n.clone(),
        Tok::Var(v) => format!("${v}"),
        Tok::Regex(p, f) => format!("/{p}/{f}"),
        Tok::End => "(end)".into(),
    }
}

/// Left binding power of a token in infix position (0: it ends an expression).
fn lbp(t: &Tok) -> u32 {
    match t {
        Tok::Op(o) => match *o {
            "[" | "(" | "@" | "#" => 80,
            "." => 75,
            "{" => 70,
            "*" | "/" | "%" => 60,
            "+" | "-" | "&" => 50,
            "=" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "~>" | "^" => 40,
            "and" => 30,
            "or" => 25,
            "?" | ".." => 20,
            ":=" => 10,
            _ => 0,
        },
        _ => 0,
    }
}

fn is_op(t: &Tok, op: &str) -> bool {
    matches!(t, Tok::Op(o) if *o == op)
}

impl Parser {
    fn advance(&mut self) -> Result<()> {
        let (t, p) = self.lex.next_token()?;
        self.tok = t;
        self.pos = p;
        Ok(())
    }

    fn expect(&mut self, op: &str) -> Result<()> {
        if is_op(&self.tok, op) {
            return self.advance();
        }
        if self.tok == Tok::End {
            return Err(err(
                "S0203",
                format!("Expected \"{op}\" before end of expression"),
                Some(self.pos),
            ));
        }
        Err(err(
            "S0202",
            format!("Expected \"{op}\", got \"{}\"", show(&self.tok)),
            Some(self.pos),
        ))
    }

    fn expression(&mut self, rbp: u32) -> Result<Expr> {
        crate::with_stack(|| self.expression_here(rbp))
    }

    fn expression_here(&mut self, rbp: u32) -> Result<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err("U1001", "Expression nests too deeply", Some(self.pos)));
        }
        let t = std::mem::replace(&mut self.tok, Tok::End);
        let pos = self.pos;
        self.advance()?;
        let mut left = self.nud(t, pos)?;
        while rbp < lbp(&self.tok) {
            let Tok::Op(op) = self.tok else { break };
            let pos = self.pos;
            self.advance()?;
            left = self.led(op, left, pos)?;
        }
        self.depth -= 1;
        Ok(left)
    }

    fn nud(&mut self, t: Tok, pos: usize) -> Result<Expr> {
        let kind = match t {
            Tok::Num(n) => Kind::Num(n),
            Tok::Str(s) => Kind::Str(s),
            Tok::Bool(b) => Kind::Bool(b),
            Tok::Null => Kind::Null,
            Tok::Regex(p, f) => Kind::Regex(Arc::new(compile_regex(&p, &f, pos)?)),
            Tok::Name(n) => Kind::Path(vec![Expr::new(Kind::Name(n), pos)]),
            Tok::Var(v) => Kind::Var(v),
            Tok::End => return Err(err("S0207", "Unexpected end of expression", Some(pos))),
            Tok::Op(op) => match op {
                "and" | "or" | "in" => Kind::Path(vec![Expr::new(Kind::Name(op.into()), pos)]),
                "-" => {
                    let e = self.expression(70)?;
                    match e.kind {
                        Kind::Num(n) if e.filters.is_empty() => Kind::Num(-n),
                        _ => Kind::Neg(Box::new(e)),
                    }
                }
                "*" => Kind::Wildcard,
                "**" => Kind::Descendants,
                "%" => Kind::Parent(0),
                "?" => Kind::Placeholder,
                "(" => {
                    let mut items = Vec::new();
                    while !is_op(&self.tok, ")") {
                        items.push(self.expression(0)?);
                        if !is_op(&self.tok, ";") {
                            break;
                        }
                        self.advance()?;
                    }
                    self.expect(")")?;
                    Kind::Block(items)
                }
                "[" => {
                    let items = self.list("]")?;
                    Kind::Array { items, cons: false }
                }
                "{" => Kind::Object(self.pairs()?),
                "|" => {
                    let pattern = self.expression(0)?;
                    self.expect("|")?;
                    let update = self.expression(0)?;
                    let delete = if is_op(&self.tok, ",") {
                        self.advance()?;
                        Some(self.expression(0)?)
                    } else {
                        None
                    };
                    self.expect("|")?;
                    Kind::Transform(Arc::new(TransformDef {
                        pattern,
                        update,
                        delete,
                    }))
                }
                _ => {
                    return Err(err(
                        "S0211",
                        format!("The symbol {op} cannot be used as a unary operator"),
                        Some(pos),
                    ));
                }
            },
        };
        Ok(Expr::new(kind, pos))
    }

    /// Comma-separated expressions up to `close` (consumed).
    fn list(&mut self, close: &str) -> Result<Vec<Expr>> {
        let mut items = Vec::new();
        if !is_op(&self.tok, close) {
            loop {
                items.push(self.expression(0)?);
                if !is_op(&self.tok, ",") {
                    break;
                }
                self.advance()?;
            }
        }
        self.expect(close)?;
        Ok(items)
    }

    /// `k: v, …}` after an opening `{`.
    fn pairs(&mut self) -> Result<Vec<(Expr, Expr)>> {
        let mut pairs = Vec::new();
        if !is_op(&self.tok, "}") {
            loop {
                let k = self.expression(0)?;
                self.expect(":")?;
                let v = self.expression(0)?;
                pairs.push((k, v));
                if !is_op(&self.tok, ",") {
                    break;
                }
                self.advance()?;
            }
        }
        self.expect("}")?;
        Ok(pairs)
    }

    fn led(&mut self, op: &'static str, left: Expr, pos: usize) -> Result<Expr> {
        let bin = |o: BinOp| Some(o);
        let binop = match op {
            "+" => bin(BinOp::Add),
            "-" => bin(BinOp::Sub),
            "*" => bin(BinOp::Mul),
            "/" => bin(BinOp::Div),
            "%" => bin(BinOp::Mod),
            "=" => bin(BinOp::Eq),
            "!=" => bin(BinOp::Ne),
            "<" => bin(BinOp::Lt),
            "<=" => bin(BinOp::Le),
            ">" => bin(BinOp::Gt),
            ">=" => bin(BinOp::Ge),
            "&" => bin(BinOp::Concat),
            "in" => bin(BinOp::In),
            ".." => bin(BinOp::Range),
            "and" => bin(BinOp::And),
            "or" => bin(BinOp::Or),
            _ => None,
        };
        if let Some(b) = binop {
            let rhs = self.expression(lbp(&Tok::Op(op)))?;
            return Ok(Expr::new(
                Kind::Binary(b, Box::new(left), Box::new(rhs)),
                pos,
            ));
        }
        match op {
            "." => {
                let rhs = self.expression(75)?;
                let (path, problem) = make_path(left, rhs, pos);
                if let Some(problem) = problem {
                    self.deferred.get_or_insert(problem);
                }
                Ok(path)
            }
            "[" => self.predicate(left, pos),
            "{" => {
                let pairs = self.pairs()?;
                let mut left = left;
                if left.group.is_some() {
                    return Err(err(
                        "S0210",
                        "Each step can only have one grouping expression",
                        Some(pos),
                    ));
                }
                left.group = Some(pairs);
                Ok(left)
            }
            "(" => self.call(left, pos),
            "@" | "#" => self.bind_step(op, left, pos),
            "^" => {
                self.expect("(")?;
                let mut terms = Vec::new();
                loop {
                    let mut descending = false;
                    if is_op(&self.tok, "<") {
                        self.advance()?;
                    } else if is_op(&self.tok, ">") {
                        descending = true;
                        self.advance()?;
                    }
                    terms.push(SortTerm {
                        descending,
                        expr: self.expression(0)?,
                    });
                    if !is_op(&self.tok, ",") {
                        break;
                    }
                    self.advance()?;
                }
                self.expect(")")?;
                let mut steps = into_steps(left);
                steps.push(Expr::new(Kind::Sort(terms), pos));
                Ok(Expr::new(Kind::Path(steps), pos))
            }
            "?" => {
                let then = self.expression(0)?;
                let otherwise = if is_op(&self.tok, ":") {
                    self.advance()?;
                    Some(Box::new(self.expression(0)?))
                } else {
                    None
                };
                Ok(Expr::new(
                    Kind::Condition(Box::new(left), Box::new(then), otherwise),
                    pos,
                ))
            }
            ":=" => {
                let (Kind::Var(name), true) = (left.kind, left.filters.is_empty()) else {
                    return Err(err(
                        "S0212",
                        "The left side of := must be a variable name (start with $)",
                        Some(left.pos),
                    ));
                };
                let rhs = self.expression(9)?;
                Ok(Expr::new(Kind::Bind(name, Box::new(rhs)), pos))
            }
            "~>" => {
                let rhs = self.expression(40)?;
                Ok(Expr::new(Kind::Apply(Box::new(left), Box::new(rhs)), pos))
            }
            _ => Err(err("S0201", format!("Syntax error: {op}"), Some(pos))),
        }
    }

    /// `step@$v` (focus) and `step#$i` (index): tuple-stream bindings on the last step.
    fn bind_step(&mut self, op: &str, left: Expr, pos: usize) -> Result<Expr> {
        let rhs = self.expression(80)?;
        let Kind::Var(name) = rhs.kind else {
            return Err(err(
                "S0214",
                format!("The right side of {op} must be a variable name (start with $)"),
                Some(rhs.pos),
            ));
        };
        let mut path = match left.kind {
            Kind::Path(_) if left.group.is_none() => left,
            _ if op == "@" => {
                let mut left = left;
                left.focus = Some(name);
                return Ok(left);
            }
            _ => Expr::new(Kind::Path(vec![left]), pos),
        };
        let Kind::Path(steps) = &mut path.kind else {
            return Err(err("S0201", "Syntax error", Some(pos)));
        };
        let Some(step) = steps.last_mut() else {
            return Err(err("S0201", "Syntax error", Some(pos)));
        };
        if op == "@" {
            if !step.filters.is_empty() {
                return Err(err(
                    "S0215",
                    "A context variable binding must precede any predicates on a step",
                    Some(pos),
                ));
            }
            if matches!(step.kind, Kind::Sort(_)) {
                return Err(err(
                    "S0216",
                    "A context variable binding must precede the 'order-by' clause on a step",
                    Some(pos),
                ));
            }
            step.focus = Some(name);
        } else if step.filters.is_empty() {
            step.index = Some(name);
        } else {
            step.filters.push(Expr::new(Kind::IndexStage(name), pos));
        }
        Ok(path)
    }

    fn predicate(&mut self, mut left: Expr, pos: usize) -> Result<Expr> {
        if is_op(&self.tok, "]") {
            self.advance()?;
            match &mut left.kind {
                Kind::Path(steps) if left.group.is_none() => {
                    if let Some(last) = steps.last_mut() {
                        last.keep_array = true;
                    }
                }
                _ => left.keep_array = true,
            }
            return Ok(left);
        }
        let pred = self.expression(0)?;
        self.expect("]")?;
        let target = match &mut left.kind {
            Kind::Path(steps) if left.group.is_none() => steps.last_mut(),
            _ => None,
        };
        let target = match target {
            Some(t) => t,
            None => &mut left,
        };
        if target.group.is_some() {
            return Err(err(
                "S0209",
                "A predicate cannot follow a grouping expression in a step",
                Some(pos),
            ));
        }
        target.filters.push(pred);
        Ok(left)
    }

    fn call(&mut self, left: Expr, pos: usize) -> Result<Expr> {
        let is_lambda = matches!(&left.kind, Kind::Path(s) if s.len() == 1
            && matches!(&s[0].kind, Kind::Name(n) if n == "function" || n == "λ")
            && s[0].filters.is_empty());
        if !is_lambda {
            let args = self.list(")")?;
            let partial = args.iter().any(|a| matches!(a.kind, Kind::Placeholder));
            return Ok(Expr::new(
                Kind::Call {
                    func: Box::new(left),
                    args,
                    partial,
                },
                pos,
            ));
        }
        let mut params = Vec::new();
        for a in self.list(")")? {
            match a.kind {
                Kind::Var(v) => params.push(v),
                _ => {
                    return Err(err(
                        "S0208",
                        "Parameter of function definition must be a variable name (start with $)",
                        Some(a.pos),
                    ));
                }
            }
        }
        let mut signature = None;
        if is_op(&self.tok, "<") {
            let mut depth = 1;
            let mut sig = String::from("<");
            while depth > 0 {
                self.advance()?;
                match &self.tok {
                    Tok::End | Tok::Op("{") => {
                        return Err(err(
                            "S0401",
                            "Unterminated function signature",
                            Some(self.pos),
                        ));
                    }
                    Tok::Op(">") => depth -= 1,
                    Tok::Op("<") => depth += 1,
                    _ => {}
                }
                sig.push_str(&show(&self.tok));
            }
            self.advance()?;
            crate::functions::signature::check(&sig, self.pos)?;
            signature = Some(sig);
        }
        self.expect("{")?;
        let body = self.expression(0)?;
        self.expect("}")?;
        Ok(Expr::new(
            Kind::Lambda(Arc::new(LambdaDef {
                params,
                signature,
                body,
            })),
            pos,
        ))
    }
}

/// A node as a list of path steps.
fn into_steps(e: Expr) -> Vec<Expr> {
    match e.kind {
        Kind::Path(steps) if e.group.is_none() && e.filters.is_empty() => steps,
        _ => vec![e],
    }
}

/// `left.right` as one path, with jsonata-js's step rules.
/// The error, if any, is reported only once the whole text has parsed (jsonata-js checks
/// steps after parsing, so a syntax error later in the text wins).
fn make_path(left: Expr, right: Expr, pos: usize) -> (Expr, Option<Error>) {
    let mut steps = into_steps(left);
    steps.extend(into_steps(right));
    let mut problem = None;
    for s in &mut steps {
        match &s.kind {
            Kind::Num(_) | Kind::Bool(_) | Kind::Null => {
                problem.get_or_insert_with(|| {
                    err(
                        "S0213",
                        "The literal value cannot be used as a step within a path expression",
                        Some(s.pos),
                    )
                });
            }
            Kind::Str(n) => s.kind = Kind::Name(n.clone()),
            _ => {}
        }
    }
    // An array constructor first or last in a path keeps its array shape (jsonata-js `consarray`).
    if let Some(Expr {
        kind: Kind::Array { cons, .. },
        ..
    }) = steps.first_mut()
    {
        *cons = true;
    }
    if let Some(Expr {
        kind: Kind::Array { cons, .. },
        ..
    }) = steps.last_mut()
    {
        *cons = true;
    }
    (Expr::new(Kind::Path(steps), pos), problem)
}

/// A regex literal with JSONata's flags (`i`, `m`; matching is always global).
pub(crate) fn compile_regex(pattern: &str, flags: &str, pos: usize) -> Result<regex::Regex> {
    let mut b = regex::RegexBuilder::new(pattern);
    for f in flags.chars() {
        match f {
            'i' => {
                b.case_insensitive(true);
            }
            'm' => {
                b.multi_line(true);
            }
            'g' | 's' => {}
            _ => {
                return Err(err(
                    "S0302",
                    format!("Unsupported regex flag: {f}"),
                    Some(pos),
                ));
            }
        }
    }
    b.size_limit(1 << 20).build().map_err(|e| {
        err(
            "S0302",
            format!("Invalid regular expression: {e}"),
            Some(pos),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        for text in [
            "a.b[0].c",
            "($x := 1; $x)",
            "(a; b)",
            "function($x){ $x * 2 }(3)",
            "[1..5]",
            "a ? b : c",
            "$f(?, 2)",
            "Account.Order^(>Price)",
            "a{b: c}",
            "$string(1) ~> $uppercase()",
        ] {
            assert!(parse(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        // On a small stack: the parser grows its own where it runs low (`with_stack`).
        let worker = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| parse(&"(".repeat(5000)).is_err());
        assert!(worker.is_ok_and(|w| w.join().unwrap_or(false)));
    }

    #[test]
    fn the_case_insensitive_flag_matches_other_cases() {
        // Once a definition error in the command: its build lacked regex's `unicode-case`.
        let re = compile_regex("abc", "i", 0).map_err(|e| e.to_string());
        assert!(re.is_ok_and(|re| re.is_match("xABCx")));
        assert!(compile_regex("abc", "x", 0).is_err());
    }
}
