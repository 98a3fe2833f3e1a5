//! The parsed form of an expression: what the parser builds and the evaluator walks. Paths
//! are already flattened into steps and predicates attached to the step they filter, as
//! jsonata-js's `processAST` does; this module holds data only, no behaviour.

use std::sync::Arc;

/// One node and the annotations JSONata can hang on any node.
#[derive(Debug, Clone)]
pub(crate) struct Expr {
    pub(crate) kind: Kind,
    /// Character offset in the expression text.
    pub(crate) pos: usize,
    /// `[…]` filters, applied to this node's result.
    pub(crate) filters: Vec<Expr>,
    /// `{…}` grouping applied to this node's (or path's) result.
    pub(crate) group: Option<Vec<(Expr, Expr)>>,
    /// `[]`: keep a singleton result as an array.
    pub(crate) keep_array: bool,
    /// `step@$name`: bind each result to `$name`, keeping the context (a tuple-stream step).
    pub(crate) focus: Option<String>,
    /// `step#$name`: bind each result's position to `$name` (a tuple-stream step).
    pub(crate) index: Option<String>,
    /// Set on a step whose input some later `%` refers to: the label (see [`Kind::Parent`])
    /// the step binds to its input in the tuple stream.
    pub(crate) ancestor: Option<usize>,
    /// A path or block step that yields tuples because a later `%` reaches into it.
    pub(crate) tuple: bool,
}

impl Expr {
    /// Whether this path step makes the path a tuple stream (`@`, `#`).
    pub(crate) fn is_tuple(&self) -> bool {
        self.focus.is_some()
            || self.index.is_some()
            || self.ancestor.is_some()
            || self.tuple
            || self
                .filters
                .iter()
                .any(|f| matches!(f.kind, Kind::IndexStage(_)))
    }

    pub(crate) fn new(kind: Kind, pos: usize) -> Expr {
        Expr {
            kind,
            pos,
            filters: Vec::new(),
            group: None,
            keep_array: false,
            focus: None,
            index: None,
            ancestor: None,
            tuple: false,
        }
    }
}

/// Binary operators with plain (non short-circuit) evaluation of both sides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    In,
    Range,
    And,
    Or,
}

/// A lambda's definition, shared by every closure made from it.
#[derive(Debug)]
pub(crate) struct LambdaDef {
    pub(crate) params: Vec<String>,
    pub(crate) signature: Option<String>,
    pub(crate) body: Expr,
}

/// `| pattern | update, delete |`: a function that copies its argument and changes it.
#[derive(Debug)]
pub(crate) struct TransformDef {
    pub(crate) pattern: Expr,
    pub(crate) update: Expr,
    pub(crate) delete: Option<Expr>,
}

/// One order-by term.
#[derive(Debug, Clone)]
pub(crate) struct SortTerm {
    pub(crate) descending: bool,
    pub(crate) expr: Expr,
}

/// What a node is.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Num(f64),
    Str(String),
    Bool(bool),
    Null,
    Regex(Arc<regex::Regex>),
    /// A field name (a path step).
    Name(String),
    /// `$name`; `""` is the context, `"$"` the root.
    Var(String),
    Wildcard,
    Descendants,
    /// `%`: before ancestry resolution a slot number, after it the label of the variable
    /// that the step producing the parent binds.
    Parent(usize),
    /// `a.b.c`: steps, each with its own filters.
    Path(Vec<Expr>),
    Neg(Box<Expr>),
    /// `[a, b]`; `cons` marks a constructor that must stay an array inside a path.
    Array {
        items: Vec<Expr>,
        cons: bool,
    },
    /// `{k: v}` with no left-hand side.
    Object(Vec<(Expr, Expr)>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Condition(Box<Expr>, Box<Expr>, Option<Box<Expr>>),
    Block(Vec<Expr>),
    Bind(String, Box<Expr>),
    Lambda(Arc<LambdaDef>),
    /// `f(args)`; `partial` when an argument is `?`.
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        partial: bool,
    },
    /// `?` as an argument of a partial application.
    Placeholder,
    /// `a ~> f`.
    Apply(Box<Expr>, Box<Expr>),
    /// `#$name` after a filter: a stage that numbers the tuples that got through.
    IndexStage(String),
    /// `^(…)` as a path step.
    Sort(Vec<SortTerm>),
    /// `| pattern | update, delete |`.
    Transform(Arc<TransformDef>),
}
